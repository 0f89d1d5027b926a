//! "Login with Zoho" for many users.
//!
//! Shows the browser flow with [`Client::begin_login`](zoho_oauth::Client::begin_login) and
//! [`Client::complete_login`](zoho_oauth::Client::complete_login): the authorization URL with a
//! random `state`, the redirect checked against it, the user learnt from Zoho's user info, and
//! two users' credentials stored side by side in one [`FileStore`](zoho_oauth::file_store::FileStore).
//! Each user then calls the CRM with their own token, and one logs out
//! ([`Client::revoke`](zoho_oauth::Client::revoke)). The emulator consents at once, so the
//! example plays the browser with a plain GET and takes the redirect's `Location`.
//!
//! Offline, against the bundled emulator:
//!
//! ```sh
//! cargo run -p zoho-oauth-examples --example web_login
//! ```
//!
//! Against real Zoho: register a redirect URI for your client (type "Server-based
//! Applications") in <https://api-console.zoho.com>. The example prints the authorization URL
//! twice; open it, log in (as two different users to see two credentials), and paste the address
//! the browser was sent to (the page itself need not load):
//!
//! ```sh
//! ZOHO_CLIENT_ID=1000.… ZOHO_CLIENT_SECRET=… ZOHO_DC=us \
//!   ZOHO_REDIRECT_URI=http://localhost:8080/callback \
//!   cargo run -p zoho-oauth-examples --example web_login
//! ```

fn main() -> std::process::ExitCode {
    zoho_oauth_examples::main(zoho_oauth_examples::web_login::run)
}

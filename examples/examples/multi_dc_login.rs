//! "Login with Zoho" for users of several data centres, with one client id.
//!
//! Shows [`ClientBuilder::allow_data_center`](zoho_oauth::ClientBuilder::allow_data_center)
//! (with the emulator, `allow_data_center_at`, which also gives the centre's origin),
//! [`Client::begin_login`](zoho_oauth::Client::begin_login) at the home data centre, the
//! redirect of a person whose account lives in the EU, and
//! [`Client::complete_login`](zoho_oauth::Client::complete_login) exchanging the code at the EU
//! accounts server: the credential is keyed at EU, and its API calls go to the EU `api_domain`.
//! A person homed in a data centre the application does not allow (IN here) is refused before
//! their code is exchanged.
//!
//! Offline, against the bundled emulator (US, EU and IN):
//!
//! ```sh
//! cargo run -p zoho-oauth-examples --example multi_dc_login
//! ```
//!
//! Against real Zoho: in <https://api-console.zoho.com> open your client's settings and enable
//! the other data centres ("Multi-DC"); if the console issued a secret per centre, pass it as
//! `ZOHO_CLIENT_SECRET_EU` (`_IN`, …). Log in as a user of any of them and paste the address
//! the browser was sent to:
//!
//! ```sh
//! ZOHO_CLIENT_ID=1000.… ZOHO_CLIENT_SECRET=… ZOHO_DC=us ZOHO_ALLOWED_DCS=eu,in \
//!   ZOHO_REDIRECT_URI=http://localhost:8080/callback \
//!   cargo run -p zoho-oauth-examples --example multi_dc_login
//! ```

fn main() -> std::process::ExitCode {
    zoho_oauth_examples::main(zoho_oauth_examples::multi_dc_login::run)
}

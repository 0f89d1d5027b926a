//! A gateway without a browser signs in with Zoho's device flow.
//!
//! Shows [`Client::device_login`](zoho_oauth::Client::device_login) (the user code and the
//! verification URL to show), [`Client::device_wait`](zoho_oauth::Client::device_wait) (polls
//! on Zoho's schedule until the person approves on their phone, following them to their data
//! centre) and the credential stored under the person's e-mail, then an access token and a call
//! to the CRM. Offline, the emulator's control API plays the person: it approves the code from
//! another thread once the device has started polling. The example shortens the 30-second poll
//! floor for the emulator only.
//!
//! Offline, against the bundled emulator (takes about two seconds):
//!
//! ```sh
//! cargo run -p zoho-oauth-examples --example device_login
//! ```
//!
//! Against real Zoho: register a client of the type "Non-browser Applications" in
//! <https://api-console.zoho.com>. The example prints a URL and a code; open the URL on any
//! device, sign in, enter the code and accept. Polls are 30 s apart, so the tokens come up to
//! half a minute after you accept. A person whose account lives in another data centre needs
//! `ZOHO_ALLOWED_DCS` (see `multi_dc_login`):
//!
//! ```sh
//! ZOHO_CLIENT_ID=1000.… ZOHO_CLIENT_SECRET=… ZOHO_DC=eu \
//!   cargo run -p zoho-oauth-examples --example device_login
//! ```

fn main() -> std::process::ExitCode {
    zoho_oauth_examples::main(zoho_oauth_examples::device_login::run)
}

//! A back-end job that acts as the organisation: no person, no refresh token.
//!
//! Shows [`Client::add_client_credentials`](zoho_oauth::Client::add_client_credentials) (the
//! job's name, the scope, the organisation's `soid`), the first access token asked for with the
//! client's own id and secret, a call to `GET /crm/v8/org`, and, an hour later (a `ManualClock`
//! jumps), a new token asked for the same way, not refreshed. A client that reaches several
//! organisations must name one: without `soid` Zoho answers `missing_org_info`, and the error
//! says to pass it.
//!
//! Offline, against the bundled emulator:
//!
//! ```sh
//! cargo run -p zoho-oauth-examples --example client_credentials
//! ```
//!
//! Against real Zoho: use a Self Client's id and secret (API console → Self Client), and the
//! CRM organisation's id (CRM → Setup → Company Details):
//!
//! ```sh
//! ZOHO_CLIENT_ID=1000.… ZOHO_CLIENT_SECRET=… ZOHO_DC=eu ZOHO_SOID=ZohoCRM.600001234 \
//!   cargo run -p zoho-oauth-examples --example client_credentials
//! ```

fn main() -> std::process::ExitCode {
    zoho_oauth_examples::main(zoho_oauth_examples::client_credentials::run)
}

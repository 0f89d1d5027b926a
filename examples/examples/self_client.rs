//! Self Client: exchange a grant token, store the tokens in SQLite, call the CRM.
//!
//! Shows [`Client::exchange_grant`](zoho_oauth::Client::exchange_grant) with a
//! [`SqliteStore`](zoho_oauth_sqlite::SqliteStore) (in a temporary directory here), a redacted
//! access token, and an authenticated `GET /crm/v8/users?type=CurrentUser` through
//! [`Client::request`](zoho_oauth::Client::request).
//!
//! Offline, against the bundled emulator:
//!
//! ```sh
//! cargo run -p zoho-oauth-examples --example self_client
//! ```
//!
//! Against real Zoho: in <https://api-console.zoho.com> open your Self Client, generate a code
//! with the scope `ZohoCRM.users.READ,aaaserver.profile.READ`, then within its lifetime:
//!
//! ```sh
//! ZOHO_CLIENT_ID=1000.… ZOHO_CLIENT_SECRET=… ZOHO_GRANT_TOKEN=1000.… ZOHO_DC=eu \
//!   ZOHO_USER=you@example.com cargo run -p zoho-oauth-examples --example self_client
//! ```

fn main() -> std::process::ExitCode {
    zoho_oauth_examples::main(zoho_oauth_examples::self_client::run)
}

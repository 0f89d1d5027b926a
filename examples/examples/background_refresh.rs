//! Background refresh: tokens renewed before they expire, by a thread of the client's own.
//!
//! Shows [`Client::start_background_refresh`](zoho_oauth::Client::start_background_refresh) and
//! [`BackgroundRefresher::stop`](zoho_oauth::BackgroundRefresher::stop). The refresher sleeps until
//! the earliest credential is due (its refresh margin before expiry), refreshes it, and sleeps
//! again. With the emulator, access tokens live 4 seconds, so the refresh comes after about 2; a
//! transport closure reports it on a channel, which the example waits on (bounded by the token's
//! expiry).
//!
//! Offline, against the bundled emulator:
//!
//! ```sh
//! cargo run -p zoho-oauth-examples --example background_refresh
//! ```
//!
//! Against real Zoho, tokens live an hour, so the example waits about 59 minutes for the refresh
//! (a grant token, or a refresh token you already have):
//!
//! ```sh
//! ZOHO_CLIENT_ID=1000.… ZOHO_CLIENT_SECRET=… ZOHO_REFRESH_TOKEN=1000.… ZOHO_DC=eu \
//!   RUST_LOG=zoho_oauth=debug cargo run -p zoho-oauth-examples --example background_refresh
//! ```

fn main() -> std::process::ExitCode {
    zoho_oauth_examples::main(zoho_oauth_examples::background_refresh::run)
}

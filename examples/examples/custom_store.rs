//! Your own token storage: implement `TokenStore`.
//!
//! Shows the whole [`TokenStore`](zoho_oauth::TokenStore) trait on a `HashMap` behind a `Mutex`:
//! token sets kept as their versioned bytes ([`TokenSet::encode`](zoho_oauth::core::TokenSet::encode)),
//! and a per-key refresh lock so that one thread refreshes a credential while the others wait.
//! Two clients sharing the store share the credential. Copy it for Redis, a key-value service
//! or your own database table.
//!
//! Offline, against the bundled emulator:
//!
//! ```sh
//! cargo run -p zoho-oauth-examples --example custom_store
//! ```
//!
//! Against real Zoho (a grant token, or a refresh token you already have):
//!
//! ```sh
//! ZOHO_CLIENT_ID=1000.… ZOHO_CLIENT_SECRET=… ZOHO_GRANT_TOKEN=1000.… ZOHO_DC=au \
//!   cargo run -p zoho-oauth-examples --example custom_store
//! ```

fn main() -> std::process::ExitCode {
    zoho_oauth_examples::main(zoho_oauth_examples::custom_store::run)
}

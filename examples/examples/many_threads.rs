//! Many threads, one refresh: 32 threads ask for a token the moment it expires.
//!
//! Shows that a [`Client`](zoho_oauth::Client) is shared by threads and refreshes each
//! credential single-flight: the first thread to find the token expired refreshes it while the
//! others wait for its result. A [`ManualClock`](zoho_oauth::ManualClock) jumps an hour ahead
//! instead of waiting for the token to expire. With the emulator, its counter shows the single
//! refresh request.
//!
//! Offline, against the bundled emulator:
//!
//! ```sh
//! cargo run -p zoho-oauth-examples --example many_threads
//! ```
//!
//! Against real Zoho (a grant token, or a refresh token you already have):
//!
//! ```sh
//! ZOHO_CLIENT_ID=1000.… ZOHO_CLIENT_SECRET=… ZOHO_REFRESH_TOKEN=1000.… ZOHO_DC=us \
//!   cargo run -p zoho-oauth-examples --example many_threads
//! ```

fn main() -> std::process::ExitCode {
    zoho_oauth_examples::main(zoho_oauth_examples::many_threads::run)
}

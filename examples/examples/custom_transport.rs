//! Bring your own HTTP client: a closure is a `Transport`.
//!
//! Shows how to plug any blocking HTTP client into a [`Client`](zoho_oauth::Client) without
//! writing a type: a closure from [`HttpRequest`](zoho_oauth::HttpRequest) to
//! [`HttpResponse`](zoho_oauth::HttpResponse). This one wraps a plain `ureq::Agent` (no redirects,
//! statuses returned as they are) and logs the method and URL of each request — never its
//! headers or body, which carry secrets.
//!
//! Offline, against the bundled emulator:
//!
//! ```sh
//! cargo run -p zoho-oauth-examples --example custom_transport
//! ```
//!
//! Against real Zoho (a grant token, or a refresh token you already have):
//!
//! ```sh
//! ZOHO_CLIENT_ID=1000.… ZOHO_CLIENT_SECRET=… ZOHO_GRANT_TOKEN=1000.… ZOHO_DC=in \
//!   cargo run -p zoho-oauth-examples --example custom_transport
//! ```

fn main() -> std::process::ExitCode {
    zoho_oauth_examples::main(zoho_oauth_examples::custom_transport::run)
}

//! A `no_std`, allocation-free, sans-IO implementation of Zoho's OAuth 2.0 dialect.
//!
//! This crate decides; it never does. It renders token requests into buffers you own, parses Zoho's
//! responses (HTTP-200 errors, the throttle, the `expires_in_sec` quirk, HTML from proxies) into typed
//! verdicts, and runs one state machine per credential that says when to refresh, when to back off and
//! when to ask for re-authorization. It opens no socket, reads no clock, touches no disk and never
//! allocates: time is an argument ([`Instant`]), bytes come in and go out through slices.
//!
//! **In scope:** Zoho's accounts protocol: data centres ([`region`]), the authorization URL and
//! redirect ([`authorize`]), token, refresh, revoke and user-info requests ([`request`]) and their
//! answers ([`response`]), the stored [`TokenSet`] ([`token`]) and the per-credential [`Machine`].
//! **Out of scope:** HTTP and TLS, clocks, randomness, storage, locking across processes and
//! threads: the `zoho-oauth` crate (std) and your firmware provide those and drive this one.
//!
//! # The driving loop
//!
//! 1. Make one [`Machine`] per credential (user × client × data centre × environment) from
//!    [`Credentials`] and a [`Config`] (the default follows Zoho's limits).
//! 2. Give it something to work with: [`Machine::restore`] a [`TokenSet`] from your store
//!    ([`TokenSet::decode`]), or [`Machine::set_grant`] a grant code (a Self Client code, or
//!    [`authorize::parse_redirect`] after the user came back from [`authorize::authorization_url`]).
//! 3. Call [`Machine::poll`] with the current time, and act on the answer:
//!    - [`Poll::Send`]: [`Machine::write_request`] into a buffer, send that request over HTTPS
//!      (never following redirects), then hand over the outcome with [`Machine::handle_response`]
//!      (status and whole body, plus a random `u32` for backoff jitter) or
//!      [`Machine::handle_transport_error`]. On `Ok`, save [`Machine::token`] to your store
//!      ([`TokenSet::encode`]). On `Err`, the [`response::Verdict`] says what happened and what to do;
//!      the machine has already scheduled its next step.
//!    - [`Poll::Wait`]: nothing to do until `until` ([`Machine::wake_at`] says the same).
//!    - [`Poll::NeedsAuthorization`]: a person must authorize again; back to step 2.
//!    - [`Poll::Empty`]: nothing was given yet; step 2.
//! 4. After every input (`restore`, `set_grant`, `force_refresh`, `handle_*`), poll again until it
//!    returns something other than `Send`: that is the machine's only invariant you must keep.
//! 5. For each API call take [`Machine::access_token`] (never expired; still the current token while
//!    a refresh is in flight or failing), send it as `Authorization: Zoho-oauthtoken …` to the
//!    token's `api_domain`; if [`response::classify_api`] says `InvalidToken`, call
//!    [`Machine::force_refresh`], run step 3 and retry once.
//!
//! # Example: a grant exchange and a refresh, from canned Zoho answers
//!
//! ```
//! use core::time::Duration;
//! use zoho_oauth_core::machine::WaitReason;
//! use zoho_oauth_core::{Config, Credentials, DataCenter, Event, Instant, Machine, Origin, Poll, RequestKind};
//!
//! let credentials = Credentials::new("1000.Q8WJ2V5ZK1L0", "5e3b9c0f2a", Origin::Zoho(DataCenter::Us))?;
//! let mut machine = Machine::new(credentials, Config::default());
//! let mut buf = [0u8; 2048];
//! let mut now = Instant::from_millis(1_700_000_000_000); // from your clock
//! let jitter = 0x9e37_79b9; // from your random source
//!
//! // Step 2: a Self Client grant code.
//! machine.set_grant("1000.6f1d0c9e.a1b2c3d4", None)?;
//!
//! // Step 3: the machine asks for the exchange; render it and send it.
//! assert_eq!(machine.poll(now), Poll::Send(RequestKind::Exchange));
//! let request = machine.write_request(&mut buf)?;
//! assert_eq!(request.url, "https://accounts.zoho.com/oauth/v2/token");
//! assert!(request.body.starts_with(b"grant_type=authorization_code&"));
//! // … your HTTPS client sends `request`; Zoho answers:
//! let answer = br#"{"access_token":"1000.7c4e.first","refresh_token":"1000.d2a9.refresh",
//!     "scope":"ZohoCRM.modules.ALL","api_domain":"https:\/\/www.zohoapis.com",
//!     "token_type":"Bearer","expires_in":3600}"#;
//! assert_eq!(machine.handle_response(now, 200, answer, jitter), Ok(Event::Exchanged));
//! // … save machine.token() to your store here.
//! assert_eq!(machine.access_token(now), Some("1000.7c4e.first"));
//! assert_eq!(machine.token().unwrap().api_domain, "https://www.zohoapis.com");
//!
//! // Step 4: nothing to do until a minute before expiry.
//! let due = now.saturating_add(Duration::from_secs(3600 - 60));
//! assert_eq!(machine.poll(now), Poll::Wait { until: Some(due), reason: WaitReason::Fresh });
//!
//! // Fifty-nine minutes later: the refresh is due, the current token still works meanwhile.
//! now = due;
//! assert_eq!(machine.poll(now), Poll::Send(RequestKind::Refresh));
//! assert_eq!(machine.access_token(now), Some("1000.7c4e.first"));
//! let request = machine.write_request(&mut buf)?;
//! assert!(request.body.starts_with(b"grant_type=refresh_token&"));
//! let answer = br#"{"access_token":"1000.0b8f.second","api_domain":"https://www.zohoapis.com",
//!     "token_type":"Bearer","expires_in":3600}"#;
//! assert_eq!(machine.handle_response(now, 200, answer, jitter), Ok(Event::Refreshed));
//! assert_eq!(machine.access_token(now), Some("1000.0b8f.second"));
//! // The refresh token is kept: Zoho sends it only once.
//! assert_eq!(machine.token().unwrap().refresh_token.as_ref().unwrap().expose(), "1000.d2a9.refresh");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Sizes
//!
//! Everything is inline and fixed-size (see [`cap`] for each capacity and why): on a 64-bit target
//! a `Machine` is 3,576 bytes and a `TokenSet` 1,472 (its encoding at most
//! [`TokenSet::MAX_ENCODED_LEN`], 1,408). `cargo test -p zoho-oauth-core --test sizes -- --nocapture`
//! prints the figures for the host.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod authorize;
pub mod device;
pub mod form;
#[cfg(feature = "embedded-io")]
pub mod http1;
pub mod machine;
pub mod pkce;
pub mod region;
pub mod request;
pub mod response;
mod scan;
pub mod secret;
pub mod time;
pub mod token;
pub mod url;

pub use machine::{Config, Credentials, Event, Machine, Poll, RequestKind};
pub use region::{DataCenter, Environment, Origin};
pub use request::{BufferTooSmall, Method, Request};
pub use response::{
    DEFAULT_ACCESS_TOKEN_LIFETIME, MAX_ACCESS_TOKEN_LIFETIME, MIN_ACCESS_TOKEN_LIFETIME,
};
pub use secret::Secret;
pub use time::Instant;
pub use token::TokenSet;

/// Capacities of every fixed-size field, in bytes. Zoho's tokens are about 70 characters
/// (`1000.` + 32 hex + `.` + 32 hex); every capacity leaves generous headroom so that a future,
/// longer format is an explicit [`secret::CapacityError`], never a silent truncation.
pub mod cap {
    /// Access token (Zoho: ~70 bytes).
    pub const ACCESS_TOKEN: usize = 256;
    /// Refresh token (Zoho: ~70 bytes).
    pub const REFRESH_TOKEN: usize = 256;
    /// Grant code (Zoho: ~70 bytes).
    pub const GRANT_CODE: usize = 256;
    /// Client id (Zoho: `1000.` + 30 characters).
    pub const CLIENT_ID: usize = 128;
    /// Client secret (Zoho: 42 hex characters).
    pub const CLIENT_SECRET: usize = 128;
    /// An origin or `api_domain` URL such as `https://www.zohoapis.com.au` or `http://127.0.0.1:65535`.
    pub const ORIGIN: usize = 128;
    /// A redirect URI registered in the API console.
    pub const REDIRECT_URI: usize = 512;
    /// The space-separated scope list a token response returns.
    pub const SCOPE: usize = 512;
    /// The `state` parameter of the authorization redirect.
    pub const STATE: usize = 128;
    /// The `soid` of a client-credentials grant (`ZohoCRM.<org id>`).
    pub const SOID: usize = 128;
    /// An e-mail address (RFC 5321 limit).
    pub const EMAIL: usize = 254;
    /// A display name in user info.
    pub const NAME: usize = 128;
    /// Mint times remembered for the rolling budget (Zoho: 10 per 10 minutes).
    pub const MINT_LOG: usize = 10;
}

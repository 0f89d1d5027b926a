//! The device flow: authorization for a device without a browser or keyboard (a gateway, a
//! kiosk, firmware). The device shows a short code; a person approves it from any browser;
//! meanwhile the device polls Zoho until the tokens come.
//!
//! Zoho's dialect of RFC 8628: `POST /oauth/v3/device/code` and `/oauth/v3/device/token`,
//! `verification_url` (not `verification_uri`), the device code sent as `code`, `interval` and
//! `expires_in` in seconds or milliseconds (both are accepted: an `interval` above 1,000 or an
//! `expires_in` above 86,400 is milliseconds), a poll at most every 30 seconds, and `other_dc`
//! when the person's account lives in another data centre.
//!
//! # The driving loop
//!
//! 1. Render [`initiation_request`] into a buffer, send it, and parse the answer with
//!    [`parse_initiation`]: a [`DeviceAuthorization`].
//! 2. Show its `user_code` and `verification_url` to the person.
//! 3. Make a [`DeviceFlow`] from it with the current time (and a [`DeviceConfig`]; the default
//!    follows Zoho's 30-second rule).
//! 4. Call [`DeviceFlow::poll`] with the current time and act on the answer:
//!    - [`DevicePoll::Send`]: [`DeviceFlow::write_request`] into a buffer, send it (never following
//!      redirects), then hand over the answer with [`DeviceFlow::handle_response`] or
//!      [`DeviceFlow::handle_transport_error`]. On [`PollAnswer::Granted`], store the tokens. On
//!      [`PollAnswer::OtherDataCenter`], point the following polls at that centre with
//!      [`DeviceFlow::set_accounts`].
//!    - [`DevicePoll::Wait`]: nothing to do until `until`.
//!    - [`DevicePoll::Done`]: the flow is over; [`DeviceEnd`] says how.
//! 5. Poll again after every input, until `Done`.
//!
//! The flow never sends two polls within [`DeviceConfig::poll_floor`] nor at or past the codes'
//! expiry, and nothing the server says makes it poll faster: `slow_down` (and the throttle)
//! lengthen the interval by [`DeviceConfig::slow_down_step`] (RFC 8628's 5 seconds by default),
//! and every wait is counted from when the previous answer arrived (or the poll was sent, if the
//! clock went back), so a slow answer cannot bring two polls closer at Zoho's end.
//!
//! # Example: a device authorized by a person whose account is in Europe
//!
//! ```
//! use core::time::Duration;
//! use zoho_oauth_core::authorize::{AccessType, Prompt};
//! use zoho_oauth_core::device::{self, DeviceConfig, DeviceEnd, DeviceFlow, DevicePoll, PollAnswer};
//! use zoho_oauth_core::{DataCenter, Instant, Origin};
//!
//! let us = Origin::Zoho(DataCenter::Us);
//! let mut buf = [0u8; 1024];
//! let mut now = Instant::from_millis(1_700_000_000_000);
//!
//! // Step 1: ask for the codes.
//! let request = device::initiation_request(
//!     &mut buf, &us, "1000.ID", &["ZohoCRM.modules.ALL"], AccessType::Offline, Some(Prompt::Consent))?;
//! assert_eq!(request.url, "https://accounts.zoho.com/oauth/v3/device/code");
//! let answer = br#"{"user_code":"AB12CD34","device_code":"1004.71c4b3d0.3a141ff0",
//!     "verification_url":"https:\/\/accounts.zoho.com\/oauth\/v3\/device","interval":30,"expires_in":300}"#;
//! let authorization = device::parse_initiation(200, answer)?;
//!
//! // Step 2: show the code.
//! assert_eq!(authorization.user_code, "AB12CD34");
//! assert_eq!(authorization.verification_url, "https://accounts.zoho.com/oauth/v3/device");
//!
//! // Steps 3 and 4: poll every 30 s.
//! let mut flow = DeviceFlow::new(now, us, &authorization, DeviceConfig::default());
//! let first = now.saturating_add(Duration::from_secs(30));
//! assert_eq!(flow.poll(now), DevicePoll::Wait { until: Some(first) });
//! now = first;
//! assert_eq!(flow.poll(now), DevicePoll::Send);
//! let request = flow.write_request(&mut buf, "1000.ID", "s3cret")?;
//! assert_eq!(request.url, "https://accounts.zoho.com/oauth/v3/device/token");
//! let pending = br#"{"error":"authorization_pending"}"#;
//! assert_eq!(flow.handle_response(now, 200, pending), Ok(PollAnswer::Pending));
//!
//! // The person approved, from an account in the EU data centre.
//! now = now.saturating_add(Duration::from_secs(30));
//! assert_eq!(flow.poll(now), DevicePoll::Send);
//! let other = br#"{"error":"other_dc","user_location":"eu"}"#;
//! assert_eq!(flow.handle_response(now, 200, other), Ok(PollAnswer::OtherDataCenter(DataCenter::Eu)));
//! flow.set_accounts(Origin::Zoho(DataCenter::Eu));
//!
//! now = now.saturating_add(Duration::from_secs(30));
//! assert_eq!(flow.poll(now), DevicePoll::Send);
//! let request = flow.write_request(&mut buf, "1000.ID", "s3cret")?;
//! assert_eq!(request.url, "https://accounts.zoho.eu/oauth/v3/device/token");
//! let tokens = br#"{"access_token":"1000.a1","refresh_token":"1000.r1","api_domain":"https://www.zohoapis.eu",
//!     "token_type":"Bearer","expires_in":3600}"#;
//! let Ok(PollAnswer::Granted(grant)) = flow.handle_response(now, 200, tokens) else { panic!() };
//! assert_eq!(grant.refresh_token.unwrap().expose(), "1000.r1");
//! assert_eq!(flow.poll(now), DevicePoll::Done(DeviceEnd::Granted));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::time::Duration;

use crate::authorize::{AccessType, Prompt};
use crate::cap;
use crate::machine::MachineError;
use crate::region::{DataCenter, Origin};
use crate::request::{render_form, scope_parts, BufferTooSmall, Part, Request};
use crate::response::{
    bounded_value, check_domain_chars, diagnostic_text, error_verdict, fill_text, is_failure,
    loose_value, parse_object, scan_object, secret, text_value, token_answer, trim_start, Call,
    Fault, Malformed, ReAuthReason, TokenGrant, Verdict,
};
use crate::scan::Str;
use crate::secret::Secret;
use crate::time::Instant;

/// Zoho's rule: at most one poll per 30 seconds, whatever `interval` says.
pub const DEFAULT_POLL_FLOOR: Duration = Duration::from_secs(30);

/// How much each `slow_down` lengthens the interval by default: RFC 8628's 5 seconds.
pub const DEFAULT_SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// How long the codes live when the initiation answer has no `expires_in`: Zoho's documented
/// validity of a user code, five minutes.
pub const DEFAULT_CODE_LIFETIME: Duration = Duration::from_secs(300);

/// Capacity of a user code (Zoho's are about 8 characters).
pub const USER_CODE_CAP: usize = 64;

/// Capacity of the verification URL.
pub const VERIFICATION_URL_CAP: usize = 256;

const CODE_PATH: &str = "/oauth/v3/device/code";
const TOKEN_PATH: &str = "/oauth/v3/device/token";

/// Above this, an `interval` is milliseconds.
const INTERVAL_MS_ABOVE: u64 = 1_000;
/// Above this, an `expires_in` of the initiation is milliseconds.
const EXPIRES_MS_ABOVE: u64 = 86_400;

/// Render the initiation: `POST {accounts}/oauth/v3/device/code` with the form body
/// `grant_type=device_request&client_id=…&scope=A,B&access_type=…[&prompt=consent]`.
///
/// `AccessType::Offline` asks for a refresh token; `Some(Prompt::Consent)` shows the consent
/// screen again, so that a person who approved this client before gets a new refresh token.
/// Parse the answer with [`parse_initiation`]. On [`BufferTooSmall`] the buffer is untouched.
pub fn initiation_request<'b>(
    buf: &'b mut [u8],
    accounts: &Origin,
    client_id: &str,
    scopes: &[&str],
    access_type: AccessType,
    prompt: Option<Prompt>,
) -> Result<Request<'b>, BufferTooSmall> {
    render_form(
        buf,
        &[Part::Raw(accounts.as_str()), Part::Raw(CODE_PATH)],
        |f| {
            f(Part::Raw("grant_type=device_request&client_id="));
            f(Part::Enc(client_id));
            f(Part::Raw("&scope="));
            scope_parts(scopes, f);
            f(Part::Raw("&access_type="));
            f(Part::Raw(access_type.as_str()));
            if let Some(prompt) = prompt {
                f(Part::Raw("&prompt="));
                f(Part::Raw(prompt.as_str()));
            }
        },
    )
}

/// Render a poll: `POST {accounts}/oauth/v3/device/token` with the form body
/// `grant_type=device_token&client_id=…&client_secret=…&code=<device code>`.
///
/// [`DeviceFlow::write_request`] calls this at the right times; call it directly only to drive
/// the flow yourself. Parse the answer with [`parse_poll`]. On [`BufferTooSmall`] the buffer is
/// untouched.
pub fn poll_request<'b>(
    buf: &'b mut [u8],
    accounts: &Origin,
    client_id: &str,
    client_secret: &str,
    device_code: &str,
) -> Result<Request<'b>, BufferTooSmall> {
    render_form(
        buf,
        &[Part::Raw(accounts.as_str()), Part::Raw(TOKEN_PATH)],
        |f| {
            f(Part::Raw("grant_type=device_token&client_id="));
            f(Part::Enc(client_id));
            f(Part::Raw("&client_secret="));
            f(Part::Enc(client_secret));
            f(Part::Raw("&code="));
            f(Part::Enc(device_code));
        },
    )
}

/// The answer to the initiation: what to show the person, and the secret to poll with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceAuthorization {
    /// The code the person enters on the verification page (valid about five minutes).
    pub user_code: heapless::String<USER_CODE_CAP>,
    /// The code the device polls with. A secret: it is redeemed for the tokens.
    pub device_code: Secret<{ cap::GRANT_CODE }>,
    /// Where the person goes, in any browser (`verification_url`, or RFC 8628's
    /// `verification_uri`).
    pub verification_url: heapless::String<VERIFICATION_URL_CAP>,
    /// The poll interval Zoho asked for, in either unit, normalised; `None` when it said none.
    /// [`DeviceFlow`] never polls faster than its floor whatever this says.
    pub interval: Option<Duration>,
    /// How long the codes live, normalised; [`DEFAULT_CODE_LIFETIME`] when Zoho said nothing.
    pub expires_in: Duration,
}

/// Parse the answer to [`initiation_request`].
///
/// `user_code`, `device_code` and `verification_url` are required. `interval` above 1,000 and
/// `expires_in` above 86,400 are milliseconds, else seconds. The codes and the URL must be free of
/// control characters and blanks (they are shown on a screen or sent back): anything else is
/// [`Malformed::ForbiddenCharacter`]. Errors (`invalid_client`, the throttle, HTML from a proxy)
/// are verdicts as for token calls.
///
/// ```
/// use core::time::Duration;
/// use zoho_oauth_core::device::parse_initiation;
///
/// // One version of Zoho's page gives milliseconds.
/// let body = br#"{"user_code":"AB12CD34","device_code":"1004.71c4.3a14","verification_url":"https://accounts.zoho.com/oauth/v3/device","interval":30000,"expires_in":300000}"#;
/// let authorization = parse_initiation(200, body).unwrap();
/// assert_eq!(authorization.interval, Some(Duration::from_secs(30)));
/// assert_eq!(authorization.expires_in, Duration::from_secs(300));
/// ```
pub fn parse_initiation(status: u16, body: &[u8]) -> Result<DeviceAuthorization, Verdict> {
    let f = parse_object(status, body, scan_initiation)?;
    if let Some(error) = f.error {
        return Err(error_verdict(status, Call::DeviceCode, error, f.status));
    }
    if f.status.is_some_and(is_failure) {
        return Err(Verdict::Throttled);
    }
    let (Some(device_code), Some(user_code), Some(url)) = (
        present(f.device_code),
        present(f.user_code),
        present(f.verification_url),
    ) else {
        if status >= 500 {
            return Err(Verdict::Retryable(Fault::ServerError { status }));
        }
        let missing = match (f.device_code, f.user_code) {
            (None, _) => "device_code",
            (_, None) => "user_code",
            _ => "verification_url",
        };
        return Err(Verdict::Malformed(Malformed::MissingField(missing)));
    };
    let mut authorization = DeviceAuthorization {
        user_code: heapless::String::new(),
        device_code: secret("device_code", device_code)?,
        verification_url: heapless::String::new(),
        interval: f.interval.map(|v| normalise(v, INTERVAL_MS_ABOVE)),
        expires_in: f
            .expires_in
            .map_or(DEFAULT_CODE_LIFETIME, |v| normalise(v, EXPIRES_MS_ABOVE)),
    };
    fill_text(&mut authorization.user_code, "user_code", user_code)?;
    check_domain_chars("user_code", &authorization.user_code)?;
    fill_text(&mut authorization.verification_url, "verification_url", url)?;
    check_domain_chars("verification_url", &authorization.verification_url)?;
    Ok(authorization)
}

/// `raw` unless it is absent or empty.
fn present(raw: Option<Str<'_>>) -> Option<Str<'_>> {
    raw.filter(|r| !r.raw.is_empty())
}

/// `value` in seconds, or in milliseconds when it is above `ms_above`.
fn normalise(value: u64, ms_above: u64) -> Duration {
    if value > ms_above {
        Duration::from_millis(value)
    } else {
        Duration::from_secs(value)
    }
}

/// The fields of an initiation answer, still JSON-escaped.
#[derive(Default)]
struct InitiationFields<'a> {
    user_code: Option<Str<'a>>,
    device_code: Option<Str<'a>>,
    verification_url: Option<Str<'a>>,
    interval: Option<u64>,
    expires_in: Option<u64>,
    error: Option<&'a str>,
    status: Option<&'a str>,
}

fn scan_initiation(body: &[u8]) -> Result<InitiationFields<'_>, Verdict> {
    let mut f = InitiationFields::default();
    scan_object(body, |key, value| {
        match key {
            b"user_code" => f.user_code = text_value("user_code", value)?,
            b"device_code" => f.device_code = text_value("device_code", value)?,
            // Zoho's name wins over RFC 8628's when both come.
            b"verification_url" => f.verification_url = text_value("verification_url", value)?,
            b"verification_uri" if f.verification_url.is_none() => {
                f.verification_url = text_value("verification_uri", value)?
            }
            b"interval" => f.interval = bounded_value("interval", value)?,
            b"expires_in" => f.expires_in = bounded_value("expires_in", value)?,
            b"error" => f.error = text_value("error", value)?.map(|s| s.raw),
            b"status" => f.status = loose_value(value).map(|s| s.raw),
            _ => {}
        }
        Ok(())
    })?;
    Ok(f)
}

/// What a poll answered, short of an error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
// No allocator to box the grant into; it is returned once, by value, like `parse_token`'s.
#[allow(clippy::large_enum_variant)]
pub enum PollAnswer {
    /// The person approved: the usual token answer (`refresh_token` only with
    /// [`AccessType::Offline`]). The lifetime is checked as for every token answer.
    Granted(TokenGrant),
    /// `authorization_pending`: the person has not approved yet; keep polling.
    Pending,
    /// `slow_down`: two polls came within 30 seconds; the interval was lengthened.
    SlowDown,
    /// `other_dc`: the person's account lives in this data centre; send the following polls to
    /// its accounts server ([`DeviceFlow::set_accounts`]).
    OtherDataCenter(DataCenter),
}

/// Parse the answer to a poll ([`poll_request`]); decided by the body, whatever the status.
///
/// `authorization_pending`, `slow_down` and `other_dc` are answers ([`PollAnswer`]);
/// `access_denied` is [`ReAuthReason::DeviceAccessDenied`], `expired` (and `invalid_code`)
/// [`ReAuthReason::DeviceCodeExpired`]. An `other_dc` whose `user_location` is not a code of
/// [`DataCenter::from_location`] is [`Verdict::UnknownDataCenter`]. HTML, a 5xx, a cut body are
/// [`Verdict::Retryable`]; a token answer is checked as by
/// [`parse_token`](crate::response::parse_token).
///
/// ```
/// use zoho_oauth_core::device::{parse_poll, PollAnswer};
/// use zoho_oauth_core::response::{ReAuthReason, Verdict};
///
/// assert_eq!(parse_poll(200, br#"{"error":"slow_down"}"#), Ok(PollAnswer::SlowDown));
/// assert_eq!(
///     parse_poll(400, br#"{"error":"access_denied"}"#),
///     Err(Verdict::ReAuthorize(ReAuthReason::DeviceAccessDenied))
/// );
/// assert!(matches!(
///     parse_poll(200, br#"{"error":"other_dc","user_location":"evil.example"}"#),
///     Err(Verdict::UnknownDataCenter { .. })
/// ));
/// ```
pub fn parse_poll(status: u16, body: &[u8]) -> Result<PollAnswer, Verdict> {
    let f = crate::response::token_fields(status, body)?;
    match f.error {
        Some("authorization_pending") => Ok(PollAnswer::Pending),
        Some("slow_down") => Ok(PollAnswer::SlowDown),
        Some("access_denied") => Err(Verdict::ReAuthorize(ReAuthReason::DeviceAccessDenied)),
        Some("expired") => Err(Verdict::ReAuthorize(ReAuthReason::DeviceCodeExpired)),
        // Rare: read the body again for the one field the token scan skips.
        Some("other_dc") => other_data_center(body),
        _ => token_answer(Call::DevicePoll, status, &f).map(PollAnswer::Granted),
    }
}

/// The data centre an `other_dc` answer names, through the data-centre table only.
fn other_data_center(body: &[u8]) -> Result<PollAnswer, Verdict> {
    let mut location = None;
    scan_object(trim_start(body), |key, value| {
        if key == b"user_location" {
            location = text_value("user_location", value)?;
        }
        Ok(())
    })?;
    let raw = location
        .filter(|l| !l.raw.is_empty())
        .ok_or(Verdict::Malformed(Malformed::MissingField("user_location")))?;
    // Cut at 16 bytes for the message: longer than any location code, refused either way.
    let text: heapless::String<16> = diagnostic_text(raw.raw);
    DataCenter::from_location(&text)
        .ok()
        .map(PollAnswer::OtherDataCenter)
        .ok_or(Verdict::UnknownDataCenter { location: text })
}

/// How a [`DeviceFlow`] paces its polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceConfig {
    /// Never two polls closer than this, whatever `interval` says. Zoho's rule is 30 s
    /// ([`DEFAULT_POLL_FLOOR`]); shorten it only against a test server.
    pub poll_floor: Duration,
    /// How much each `slow_down` (or throttle) answer lengthens the interval
    /// ([`DEFAULT_SLOW_DOWN_STEP`], RFC 8628's 5 s).
    pub slow_down_step: Duration,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        Self {
            poll_floor: DEFAULT_POLL_FLOOR,
            slow_down_step: DEFAULT_SLOW_DOWN_STEP,
        }
    }
}

/// What [`DeviceFlow::poll`] asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum DevicePoll {
    /// Send a poll now: [`DeviceFlow::write_request`], then hand its answer over.
    Send,
    /// Nothing to do until `until` (`None`: until the poll in flight is answered).
    Wait {
        /// When to call [`DeviceFlow::poll`] again.
        until: Option<Instant>,
    },
    /// The flow is over.
    Done(DeviceEnd),
}

/// How a device flow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceEnd {
    /// The tokens came ([`PollAnswer::Granted`]).
    Granted,
    /// The person refused ([`ReAuthReason::DeviceAccessDenied`]).
    Denied,
    /// The codes expired before the person approved: Zoho said `expired`, or the time passed
    /// `expires_in`. Start again for a new user code.
    Expired,
    /// Zoho refused the flow itself (a bad client, an unknown data centre, a token that does not
    /// fit): the verdict [`DeviceFlow::handle_response`] returned says why.
    Refused,
}

/// The sans-IO poller of one device authorization: says when to poll, renders the polls,
/// follows the answers. Time is an argument; see the [module docs](self) for the loop.
#[derive(Clone, Debug)]
pub struct DeviceFlow {
    device_code: Secret<{ cap::GRANT_CODE }>,
    accounts: Origin,
    config: DeviceConfig,
    /// The current wait between polls: never below the floor, only ever lengthened.
    interval: Duration,
    expires_at: Instant,
    /// The earliest time the next poll may go.
    next_poll: Instant,
    /// When the poll in flight was sent.
    in_flight: Option<Instant>,
    end: Option<DeviceEnd>,
}

impl DeviceFlow {
    /// Start polling for `authorization`, received at `now` from `accounts`. The first poll goes
    /// one interval after `now` (the person needs that long to type the code anyway).
    pub fn new(
        now: Instant,
        accounts: Origin,
        authorization: &DeviceAuthorization,
        config: DeviceConfig,
    ) -> Self {
        let interval = authorization
            .interval
            .unwrap_or(Duration::ZERO)
            .max(config.poll_floor);
        Self {
            device_code: authorization.device_code.clone(),
            accounts,
            config,
            interval,
            expires_at: now.saturating_add(authorization.expires_in),
            next_poll: now.saturating_add(interval),
            in_flight: None,
            end: None,
        }
    }

    /// What to do at `now`. `Send` marks a poll in flight: render it with
    /// [`write_request`](Self::write_request) and hand its outcome to
    /// [`handle_response`](Self::handle_response) or
    /// [`handle_transport_error`](Self::handle_transport_error) before polling again.
    pub fn poll(&mut self, now: Instant) -> DevicePoll {
        if let Some(end) = self.end {
            return DevicePoll::Done(end);
        }
        if self.in_flight.is_some() {
            return DevicePoll::Wait { until: None };
        }
        if now >= self.expires_at {
            self.end = Some(DeviceEnd::Expired);
            return DevicePoll::Done(DeviceEnd::Expired);
        }
        if now < self.next_poll {
            return DevicePoll::Wait {
                until: Some(self.next_poll.min(self.expires_at)),
            };
        }
        self.in_flight = Some(now);
        DevicePoll::Send
    }

    /// Render the poll that [`poll`](Self::poll) asked for into `buf` (512 bytes are plenty),
    /// addressed to the current [`accounts`](Self::accounts). Only between `Send` and its
    /// `handle_*`; may be called again (a retry with a larger buffer).
    pub fn write_request<'b>(
        &self,
        buf: &'b mut [u8],
        client_id: &str,
        client_secret: &str,
    ) -> Result<Request<'b>, MachineError> {
        if self.in_flight.is_none() {
            return Err(MachineError::NotInFlight);
        }
        poll_request(
            buf,
            &self.accounts,
            client_id,
            client_secret,
            self.device_code.expose(),
        )
        .map_err(MachineError::Buffer)
    }

    /// Hand over the answer to the poll in flight (HTTP status and whole body), received at
    /// `now`. Only after `Send`; otherwise `Err(Verdict::NotInFlight)` and nothing changes.
    ///
    /// `slow_down` and the throttle lengthen the interval; a transport or server fault, or an
    /// answer that is not Zoho's, keeps polling (until the codes expire); `access_denied` and
    /// `expired` end the flow, as do the verdicts that polling again cannot fix (a bad client, an
    /// unknown data centre).
    pub fn handle_response(
        &mut self,
        now: Instant,
        status: u16,
        body: &[u8],
    ) -> Result<PollAnswer, Verdict> {
        let Some(sent) = self.in_flight.take() else {
            return Err(Verdict::NotInFlight);
        };
        let answer = parse_poll(status, body);
        match &answer {
            Ok(PollAnswer::Granted(_)) => self.end = Some(DeviceEnd::Granted),
            Ok(PollAnswer::SlowDown) | Err(Verdict::Throttled) => {
                self.interval = self.interval.saturating_add(self.config.slow_down_step);
            }
            Ok(_) | Err(Verdict::Retryable(_) | Verdict::Malformed(_)) => {}
            Err(Verdict::ReAuthorize(ReAuthReason::DeviceAccessDenied)) => {
                self.end = Some(DeviceEnd::Denied);
            }
            Err(Verdict::ReAuthorize(ReAuthReason::DeviceCodeExpired)) => {
                self.end = Some(DeviceEnd::Expired);
            }
            Err(_) => self.end = Some(DeviceEnd::Refused),
        }
        self.schedule(sent, now);
        answer
    }

    /// Report that the poll in flight got no answer (connection refused, reset, timeout): the
    /// next poll waits a whole interval. Returns `Verdict::Retryable(Fault::Transport)`, or
    /// [`Verdict::NotInFlight`] (and nothing changes) when no poll was in flight.
    pub fn handle_transport_error(&mut self, now: Instant) -> Verdict {
        let Some(sent) = self.in_flight.take() else {
            return Verdict::NotInFlight;
        };
        self.schedule(sent, now);
        Verdict::Retryable(Fault::Transport)
    }

    /// The next poll: one interval after the answer came (or after the poll went, if the clock
    /// went back), so that polls never come closer than the interval, even at Zoho's end.
    fn schedule(&mut self, sent: Instant, now: Instant) {
        self.next_poll = sent.max(now).saturating_add(self.interval);
    }

    /// Send the following polls to `accounts`: after [`PollAnswer::OtherDataCenter`], that data
    /// centre's origin (`Origin::Zoho(dc)`). The pacing is unchanged.
    pub fn set_accounts(&mut self, accounts: Origin) {
        self.accounts = accounts;
    }

    /// Where the polls go.
    pub fn accounts(&self) -> &Origin {
        &self.accounts
    }

    /// The current wait between polls (never below the floor; lengthened by `slow_down`).
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// When the codes expire: no poll goes at or after this.
    pub fn expires_at(&self) -> Instant {
        self.expires_at
    }

    /// How the flow ended, once it did.
    pub fn end(&self) -> Option<DeviceEnd> {
        self.end
    }
}

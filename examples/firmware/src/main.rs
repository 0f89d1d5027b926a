//! The driving loop of `zoho-oauth-core` on a bare-metal Cortex-M4F: no heap, no OS, no clock
//! of its own, a byte stream for the network, a small screen, and one flash page for the token.
//!
//! At boot the firmware reads the flash page. When it holds no credential (erased flash is
//! 0xFF) the device authorizes itself with Zoho's device flow:
//!
//! 1. render the initiation, write it to the stream as HTTP/1, read and parse the answer;
//! 2. show the user code and the verification URL on the screen (the `display` callback);
//! 3. poll, paced by [`DeviceFlow`] with the time from the RTC, until the person approves
//!    (`authorization_pending`, `slow_down`, `other_dc` are followed on the way);
//! 4. turn the granted answer into a [`TokenSet`], encode it and program the flash page.
//!
//! Then (or at once, when the page held a credential) the refresh loop keeps the access token
//! fresh: poll the [`Machine`], sleep until it says, refresh, save the page.
//!
//! What a real board adds is marked `BOARD:` — the RTC and its alarm, the TLS socket, the RNG,
//! the screen and the flash driver. Here they are stand-ins (canned Zoho answers, a clock that
//! jumps to the next alarm, a flash page in RAM), so that this builds and links for
//! `thumbv7em-none-eabihf` and shows the code size of the whole client; the host tests at the
//! end run the same code over the stand-ins:
//!
//! ```text
//! cargo build --release --target thumbv7em-none-eabihf --manifest-path examples/firmware/Cargo.toml
//! cargo test --manifest-path examples/firmware/Cargo.toml
//! ```
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![deny(unsafe_code)]

use core::convert::Infallible;
use core::hint::black_box;

use zoho_oauth_core::authorize::{AccessType, Prompt};
use zoho_oauth_core::device::{self, DeviceConfig, DeviceEnd, DeviceFlow, DevicePoll, PollAnswer};
use zoho_oauth_core::response::Verdict;
use zoho_oauth_core::token::GrantKind;
use zoho_oauth_core::{
    http1, Config, Credentials, DataCenter, Environment, Instant, Machine, Origin, Poll, Request,
    TokenSet,
};

/// Provisioned at the factory (BOARD: read from a protected OTP/config area, never from code).
const CLIENT_ID: &str = "1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR";
const CLIENT_SECRET: &str = "4b3c1f0e9d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";

/// The data centre the device asks first (the client is registered there). A person whose
/// account lives elsewhere is followed there (`other_dc`); the page remembers where.
const HOME: DataCenter = DataCenter::Eu;

/// What the device asks the person to grant.
const SCOPES: &[&str] = &["ZohoIoT.modules.ALL"];

/// A rendered request: Zoho's are about 300 bytes; this holds the longest the capacities allow.
const REQUEST_BUF: usize = 1024;
/// An HTTP response, head and body; the encoded token set is built here too before it is
/// programmed (so no third buffer).
const RESPONSE_BUF: usize = 2048;
/// One flash page (BOARD: your part's page size).
const PAGE_SIZE: usize = 2048;

// Saving cannot fail for want of room: checked here, at build time.
const _: () = assert!(TokenSet::MAX_ENCODED_LEN <= RESPONSE_BUF);
const _: () = assert!(LEN_BYTES + TokenSet::MAX_ENCODED_LEN <= PAGE_SIZE);

/// The stand-in gives up after this many passes of the refresh loop without a mint (BOARD: the
/// loop runs forever).
const MAX_PASSES: u32 = 16;

/// What one boot came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// A refresh minted an access token and the page was saved. The stand-in stops there; a
    /// board carries on with its work and the next refresh.
    Refreshed,
    /// The device flow ended without tokens: the person said no, the codes expired, or Zoho
    /// refused the flow (BOARD: say so on the screen; start again on a button press).
    NotAuthorized(DeviceEnd),
    /// The initiation got no usable answer (BOARD: retry after a while).
    Unreachable,
    /// Zoho refused the stored refresh token: the page was erased, so the next boot shows a new
    /// user code.
    NeedsAuthorization,
    /// The provisioned client id or secret is not valid, or a request does not fit
    /// [`REQUEST_BUF`]: a build to fix, not a state to retry.
    Misconfigured,
    /// The stand-in's bound on the refresh loop ([`MAX_PASSES`]) was reached.
    GaveUp,
}

/// BOARD: the real-time clock, in ms since the Unix epoch, and its alarm.
struct Rtc {
    now_ms: u64,
}

impl Rtc {
    fn now(&self) -> Instant {
        Instant::from_millis(self.now_ms)
    }

    /// BOARD: set the RTC alarm to `until` and sleep (WFI). The stand-in jumps its clock.
    fn sleep_until(&mut self, until: Instant) {
        self.now_ms = self.now_ms.max(until.as_millis());
    }
}

/// BOARD: the hardware RNG (the machine spreads its retries with it). The stand-in is xorshift32.
struct Rng {
    state: u32,
}

impl Rng {
    fn next(&mut self) -> u32 {
        let mut x = self.state | 1;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        x
    }
}

/// BOARD: the flash page that holds the credential, and its driver (erase, program). The
/// stand-in keeps the page in RAM.
///
/// The page holds the encoded token set behind its length (`u16`, little-endian), because
/// [`TokenSet::decode`] takes exactly what `encode` wrote and the rest of the page stays erased.
/// An erased page reads as length 0xFFFF: no credential.
struct Flash {
    page: [u8; PAGE_SIZE],
}

/// The length in front of the encoded token set.
const LEN_BYTES: usize = 2;

impl Flash {
    /// A page as it leaves the factory: erased.
    fn erased() -> Self {
        Self {
            page: [0xFF; PAGE_SIZE],
        }
    }

    /// The encoded credential on the page; `None` when the page is erased (or its length is not
    /// one this page can hold).
    fn credential(&self) -> Option<&[u8]> {
        let (len, rest) = self.page.split_first_chunk::<LEN_BYTES>()?;
        rest.get(..usize::from(u16::from_le_bytes(*len)))
    }

    fn erase(&mut self) {
        self.page.fill(0xFF);
    }

    /// Erase, then program `bytes` behind their length (they fit: asserted at build time).
    fn program(&mut self, bytes: &[u8]) {
        self.erase();
        let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        let (head, rest) = self.page.split_at_mut(LEN_BYTES);
        head.copy_from_slice(&len.to_le_bytes());
        for (cell, byte) in rest.iter_mut().zip(bytes) {
            *cell = *byte;
        }
    }
}

/// BOARD: the write half of a TLS socket. The stand-in swallows the bytes.
struct Socket {
    sent: usize,
    /// What was written, for the host tests.
    #[cfg(test)]
    wire: std::vec::Vec<u8>,
}

impl embedded_io::ErrorType for Socket {
    type Error = Infallible;
}

impl embedded_io::Write for Socket {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        black_box(buf);
        self.sent += buf.len();
        #[cfg(test)]
        self.wire.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// No answer came (connection refused or reset, a cut or unreadable response): the flows treat
/// it as a transport fault and retry on their schedule.
struct NoAnswer;

/// Everything the firmware needs from the hardware, in one place.
struct Board<'a> {
    rtc: Rtc,
    rng: Rng,
    flash: Flash,
    /// BOARD: the accounts server at the other end of the socket. The stand-in answers each
    /// connection with the next of these responses (raw HTTP/1 bytes), then closes at once.
    answers: &'a [&'a [u8]],
    next_answer: usize,
    /// `(time in ms, request bytes)` of every request written, for the host tests.
    #[cfg(test)]
    requests: std::vec::Vec<(u64, std::vec::Vec<u8>)>,
}

impl<'a> Board<'a> {
    fn new(now_ms: u64, seed: u32, flash: Flash, answers: &'a [&'a [u8]]) -> Self {
        Self {
            rtc: Rtc { now_ms },
            rng: Rng { state: seed },
            flash,
            answers,
            next_answer: 0,
            #[cfg(test)]
            requests: std::vec::Vec::new(),
        }
    }

    /// One request on a fresh connection (HTTP/1.1, `Connection: close`): write `request`, read
    /// the response into `buf`, return its status and body.
    fn exchange<'b>(
        &mut self,
        request: &Request<'_>,
        buf: &'b mut [u8],
    ) -> Result<(u16, &'b [u8]), NoAnswer> {
        let (host, _path) = http1::host_and_path(request.url).ok_or(NoAnswer)?;
        // BOARD: open TLS to `host`:443, checking its certificate for `host`.
        let mut tx = Socket {
            sent: 0,
            #[cfg(test)]
            wire: std::vec::Vec::new(),
        };
        let written = http1::write_request(&mut tx, request, host);
        black_box(tx.sent);
        #[cfg(test)]
        self.requests.push((self.rtc.now_ms, tx.wire));
        if written.is_err() {
            return Err(NoAnswer);
        }
        // BOARD: the read half of the socket. Past the script the server closes at once.
        let answer = self.answers.get(self.next_answer).copied().unwrap_or(b"");
        self.next_answer += 1;
        let mut rx: &[u8] = black_box(answer);
        http1::read_response(&mut rx, buf).map_err(|_| NoAnswer)
    }

    /// Encode `token` into `buf` (RAM) and program it into the flash page.
    fn save(&mut self, token: &TokenSet, buf: &mut [u8]) {
        // Cannot fail: `buf` holds `MAX_ENCODED_LEN` (asserted at build time).
        if let Ok(bytes) = token.encode(buf) {
            self.flash.program(bytes);
        }
    }
}

/// The caller-owned buffers, shared by every request of both flows.
struct Buffers {
    request: [u8; REQUEST_BUF],
    response: [u8; RESPONSE_BUF],
}

/// How a device authorization failed.
enum Unauthorized {
    /// The flow ended without tokens.
    Ended(DeviceEnd),
    /// The initiation got no usable answer.
    Unreachable,
    /// A request did not fit [`REQUEST_BUF`].
    Misconfigured,
}

/// The device flow: ask for a user code, show it, poll until the person approves. Returns the
/// credential and the accounts server it belongs to.
fn authorize_device(
    board: &mut Board<'_>,
    bufs: &mut Buffers,
    display: &mut impl FnMut(&str, &str),
) -> Result<(TokenSet, DataCenter), Unauthorized> {
    // 1. The initiation. `prompt=consent`, so that a person who approved this client before
    //    still gets a new refresh token.
    let home = Origin::Zoho(HOME);
    let request = device::initiation_request(
        &mut bufs.request,
        &home,
        CLIENT_ID,
        SCOPES,
        AccessType::Offline,
        Some(Prompt::Consent),
    )
    .map_err(|_| Unauthorized::Misconfigured)?;
    let (status, body) = board
        .exchange(&request, &mut bufs.response)
        .map_err(|_| Unauthorized::Unreachable)?;
    let authorization = match device::parse_initiation(status, body) {
        Ok(authorization) => authorization,
        Err(verdict) if verdict.is_retryable() => return Err(Unauthorized::Unreachable),
        Err(_) => return Err(Unauthorized::Ended(DeviceEnd::Refused)),
    };

    // 2. Show the code (BOARD: the screen).
    display(
        authorization.user_code.as_str(),
        authorization.verification_url.as_str(),
    );

    // 3. Poll when the flow says, from the data centre that holds the person's account.
    let mut dc = HOME;
    let mut flow = DeviceFlow::new(
        board.rtc.now(),
        home,
        &authorization,
        DeviceConfig::default(),
    );
    drop(authorization); // the device code lives on in the flow only
    loop {
        let now = board.rtc.now();
        match flow.poll(now) {
            // (`None` only while a poll is in flight, which this loop never leaves.)
            DevicePoll::Wait { until } => board.rtc.sleep_until(until.unwrap_or(now)),
            DevicePoll::Done(end) => return Err(Unauthorized::Ended(end)),
            DevicePoll::Send => {
                let Ok(request) = flow.write_request(&mut bufs.request, CLIENT_ID, CLIENT_SECRET)
                else {
                    return Err(Unauthorized::Misconfigured);
                };
                let answer = board.exchange(&request, &mut bufs.response);
                let now = board.rtc.now();
                let answer = match answer {
                    Ok((status, body)) => flow.handle_response(now, status, body),
                    Err(NoAnswer) => Err(flow.handle_transport_error(now)),
                };
                match answer {
                    Ok(PollAnswer::Granted(grant)) => {
                        // 4. The credential, if its api_domain is one Zoho's table gives `dc`.
                        let token = TokenSet::from_grant(grant, now, GrantKind::Device)
                            .map_err(|_| Unauthorized::Ended(DeviceEnd::Refused))?;
                        Origin::Zoho(dc)
                            .trusted_api_domain(dc, Environment::Production, &token.api_domain)
                            .map_err(|_| Unauthorized::Ended(DeviceEnd::Refused))?;
                        return Ok((token, dc));
                    }
                    Ok(PollAnswer::OtherDataCenter(other)) => {
                        dc = other;
                        flow.set_accounts(Origin::Zoho(other));
                    }
                    // Pending, slow_down, a fault: the flow has scheduled the next poll (or
                    // ended, which the next `poll` says).
                    Ok(_) | Err(_) => {}
                }
            }
        }
    }
}

/// The data centre a stored credential belongs to, from its `api_domain` (the core's one rule);
/// `HOME` when it names none.
fn data_centre_of(token: &TokenSet) -> DataCenter {
    Origin::Zoho(HOME)
        .region_of_api_domain(&token.api_domain, (HOME, Environment::Production))
        .map_or(HOME, |(dc, _env)| dc)
}

/// The refresh loop: sleep until the machine says, refresh, save the page.
fn keep_fresh(board: &mut Board<'_>, bufs: &mut Buffers, machine: &mut Machine) -> Outcome {
    for _ in 0..MAX_PASSES {
        let now = board.rtc.now();
        match machine.poll(now) {
            Poll::Send(_) => {}
            // Fresh, backing off, budget spent, throttled: sleep until then.
            Poll::Wait { until, .. } => {
                // BOARD: call Zoho's APIs with this until the machine wakes again.
                black_box(machine.access_token(now));
                board.rtc.sleep_until(until.unwrap_or(now));
                continue;
            }
            Poll::NeedsAuthorization { .. } | Poll::Empty => {
                board.flash.erase();
                return Outcome::NeedsAuthorization;
            }
        }

        let Ok(request) = machine.write_request(&mut bufs.request) else {
            return Outcome::Misconfigured;
        };
        let answer = board.exchange(&request, &mut bufs.response);
        let now = board.rtc.now();
        let jitter = board.rng.next();
        let outcome = match answer {
            Ok((status, body)) => machine.handle_response(now, status, body, jitter),
            Err(NoAnswer) => Err(machine.handle_transport_error(now, jitter)),
        };
        // Save a mint, and a throttle window (a reboot must honour it). Backoffs after faults
        // are not saved: they would wear the flash during an outage, and a reboot may retry.
        let save = match &outcome {
            Ok(_) => true,
            Err(verdict) => matches!(verdict, Verdict::Throttled),
        };
        if save {
            if let Some(token) = machine.token() {
                board.save(token, &mut bufs.response);
            }
        }
        if outcome.is_ok() {
            return Outcome::Refreshed;
        }
    }
    Outcome::GaveUp
}

/// One boot: the credential from the page, or a new one from the device flow; then the refresh
/// loop.
fn run(board: &mut Board<'_>, display: &mut impl FnMut(&str, &str)) -> Outcome {
    let mut bufs = Buffers {
        request: [0; REQUEST_BUF],
        response: [0; RESPONSE_BUF],
    };
    match credential(board, &mut bufs, display) {
        Ok((token, dc)) => refresh(board, &mut bufs, token, dc),
        Err(outcome) => outcome,
    }
}

/// The credential on the page; when there is none (an erased page, or one that does not
/// decode), a new one from the device flow, saved to the page.
// Not inlined, nor is `refresh`: the device flow's locals are gone before the machine is built
// (1.2 KB less stack than with both inlined into `run`, for 76 bytes of code).
#[inline(never)]
fn credential(
    board: &mut Board<'_>,
    bufs: &mut Buffers,
    display: &mut impl FnMut(&str, &str),
) -> Result<(TokenSet, DataCenter), Outcome> {
    if let Some(Ok(token)) = board.flash.credential().map(TokenSet::decode) {
        let dc = data_centre_of(&token);
        return Ok((token, dc));
    }
    match authorize_device(board, bufs, display) {
        Ok((token, dc)) => {
            board.save(&token, &mut bufs.response);
            Ok((token, dc))
        }
        Err(Unauthorized::Ended(end)) => Err(Outcome::NotAuthorized(end)),
        Err(Unauthorized::Unreachable) => Err(Outcome::Unreachable),
        Err(Unauthorized::Misconfigured) => Err(Outcome::Misconfigured),
    }
}

/// Hand the credential to the machine and keep it fresh.
#[inline(never)]
fn refresh(board: &mut Board<'_>, bufs: &mut Buffers, token: TokenSet, dc: DataCenter) -> Outcome {
    let Ok(credentials) = Credentials::new(CLIENT_ID, CLIENT_SECRET, Origin::Zoho(dc)) else {
        return Outcome::Misconfigured;
    };
    let mut machine = Machine::new(credentials, Config::default());
    machine.restore(token);
    keep_fresh(board, bufs, &mut machine)
}

/// What the accounts server answers, in order (BOARD: the network). Zoho decides by the body,
/// so the status varies; the framing varies too (length, chunked), as it does behind proxies.
mod canned {
    /// The initiation: the codes, with Zoho's escaped slashes.
    pub const INITIATION: &[u8] = concat!(
        "HTTP/1.1 200 OK\r\n",
        "Server: ZGS\r\n",
        "Content-Type: application/json;charset=UTF-8\r\n",
        "Content-Length: 209\r\n",
        "Cache-Control: no-store\r\n",
        "Connection: close\r\n",
        "\r\n",
        r#"{"user_code":"QW7K2PLM","device_code":"1004.71c4b3d036cbcc5ca5e6f26e4ac0ef11.3a141ff0e7fb15cbf8fc83113b10ec6e","verification_url":"https:\/\/accounts.zoho.eu\/oauth\/v3\/device","interval":30,"expires_in":300}"#,
    )
    .as_bytes();

    /// The person has not approved yet (a chunked body, in two chunks).
    pub const PENDING: &[u8] = concat!(
        "HTTP/1.1 200 OK\r\n",
        "Server: ZGS\r\n",
        "Content-Type: application/json;charset=UTF-8\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Connection: close\r\n",
        "\r\n",
        "10\r\n",
        r#"{"error":"author"#,
        "\r\n11\r\n",
        r#"ization_pending"}"#,
        "\r\n0\r\n\r\n",
    )
    .as_bytes();

    /// Two polls came too close (at Zoho's end): wait longer.
    pub const SLOW_DOWN: &[u8] = concat!(
        "HTTP/1.1 400 Bad Request\r\n",
        "Server: ZGS\r\n",
        "Content-Type: application/json;charset=UTF-8\r\n",
        "Content-Length: 21\r\n",
        "Connection: close\r\n",
        "\r\n",
        r#"{"error":"slow_down"}"#,
    )
    .as_bytes();

    /// Approved: the tokens.
    pub const GRANTED: &[u8] = concat!(
        "HTTP/1.1 200 OK\r\n",
        "Server: ZGS\r\n",
        "Content-Type: application/json;charset=UTF-8\r\n",
        "Content-Length: 287\r\n",
        "Cache-Control: no-store\r\n",
        "Pragma: no-cache\r\n",
        "Connection: close\r\n",
        "\r\n",
        r#"{"access_token":"1000.2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a.1c3e5a7c9e1b3d5f7a9c1e3b5d7f9a1c","refresh_token":"1000.9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b.3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d","scope":"ZohoIoT.modules.ALL","api_domain":"https://www.zohoapis.eu","token_type":"Bearer","expires_in":3600}"#,
    )
    .as_bytes();

    /// A refresh: a new access token (no refresh token: keep the old one).
    pub const REFRESHED: &[u8] = concat!(
        "HTTP/1.1 200 OK\r\n",
        "Server: ZGS\r\n",
        "Content-Type: application/json;charset=UTF-8\r\n",
        "Content-Length: 168\r\n",
        "Connection: close\r\n",
        "\r\n",
        r#"{"access_token":"1000.0f1e2d3c4b5a69788796a5b4c3d2e1f0.1f2e3d4c5b6a79889706b5c4d3e2f1a0","api_domain":"https://www.zohoapis.eu","token_type":"Bearer","expires_in":3600}"#,
    )
    .as_bytes();

    /// The first boot (a device flow and a refresh), then a second boot (a refresh).
    pub const SCRIPT: &[&[u8]] = &[
        INITIATION, PENDING, SLOW_DOWN, GRANTED, REFRESHED, REFRESHED,
    ];
}

/// The reset entry point (BOARD: use your runtime's `#[entry]`).
#[cfg(not(test))]
#[allow(unsafe_code)] // `no_mangle` is the only way to name the entry symbol without a runtime crate.
#[no_mangle]
pub extern "C" fn _start() -> ! {
    let now_ms = black_box(1_700_000_000_000u64); // BOARD: the RTC
    let seed = black_box(0x9E37_79B9u32); // BOARD: the hardware RNG
    let flash = Flash::erased(); // BOARD: the page as the last boot left it
    let mut board = Board::new(now_ms, seed, flash, black_box(canned::SCRIPT));
    // BOARD: draw "Go to <url> and enter <code>" on the screen.
    let mut display = |user_code: &str, url: &str| {
        black_box((user_code, url));
    };
    let first = run(&mut board, &mut display);
    // BOARD: a reset. The page written by the first boot carries the credential over.
    let second = run(&mut board, &mut display);
    black_box((first, second));
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOT: u64 = 1_700_000_000_000;
    const S: u64 = 1_000;

    /// What a boot showed on the screen.
    #[derive(Default)]
    struct Screen {
        shown: Vec<(String, String)>,
    }

    impl Screen {
        fn callback(&mut self) -> impl FnMut(&str, &str) + '_ {
            |code: &str, url: &str| self.shown.push((code.to_owned(), url.to_owned()))
        }
    }

    /// An HTTP/1 response with a correct `Content-Length`.
    fn http(status: &str, body: &str) -> &'static [u8] {
        let wire = format!(
            "HTTP/1.1 {status}\r\nServer: ZGS\r\nContent-Type: application/json;charset=UTF-8\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        Box::leak(wire.into_bytes().into_boxed_slice())
    }

    /// The request line and the form body of each request the board wrote, with its time.
    fn requests(board: &Board<'_>) -> Vec<(u64, String, String)> {
        board
            .requests
            .iter()
            .map(|(at, wire)| {
                let text = String::from_utf8(wire.clone()).unwrap();
                let (head, body) = text.split_once("\r\n\r\n").unwrap();
                let line = head.lines().next().unwrap().to_owned();
                let host = head.lines().find_map(|l| l.strip_prefix("Host: ")).unwrap();
                (*at, format!("{host} {line}"), body.to_owned())
            })
            .collect()
    }

    fn stored(board: &Board<'_>) -> TokenSet {
        TokenSet::decode(
            board
                .flash
                .credential()
                .expect("the page holds a credential"),
        )
        .unwrap()
    }

    #[test]
    fn erased_flash_runs_the_device_flow_shows_the_code_saves_the_credential_and_refreshes_it() {
        let mut board = Board::new(BOOT, 7, Flash::erased(), canned::SCRIPT);
        let mut screen = Screen::default();
        assert_eq!(run(&mut board, &mut screen.callback()), Outcome::Refreshed);

        assert_eq!(
            screen.shown,
            [(
                "QW7K2PLM".to_owned(),
                "https://accounts.zoho.eu/oauth/v3/device".to_owned()
            )]
        );
        let sent = requests(&board);
        let lines: Vec<_> = sent
            .iter()
            .map(|(at, line, _)| (at - BOOT, line.as_str()))
            .collect();
        let code = "accounts.zoho.eu POST /oauth/v3/device/code HTTP/1.1";
        let poll = "accounts.zoho.eu POST /oauth/v3/device/token HTTP/1.1";
        let refresh = "accounts.zoho.eu POST /oauth/v2/token HTTP/1.1";
        // Polls every 30 s; the slow_down adds 5 s; the refresh a minute before the hour is up.
        assert_eq!(
            lines,
            [
                (0, code),
                (30 * S, poll),
                (60 * S, poll),
                (95 * S, poll),
                (95 * S + 3540 * S, refresh)
            ]
        );
        assert_eq!(
            sent[0].2,
            "grant_type=device_request&client_id=1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR\
             &scope=ZohoIoT.modules.ALL&access_type=offline&prompt=consent"
        );
        assert!(sent[1].2.starts_with("grant_type=device_token&client_id="));
        assert!(sent[1].2.ends_with(
            "&code=1004.71c4b3d036cbcc5ca5e6f26e4ac0ef11.3a141ff0e7fb15cbf8fc83113b10ec6e"
        ));
        assert!(sent[4].2.contains(
            "&refresh_token=1000.9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b.3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d"
        ));

        let token = stored(&board);
        assert_eq!(token.grant, GrantKind::Device);
        assert_eq!(
            token.refresh_token.as_ref().unwrap().expose(),
            "1000.9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b.3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d"
        );
        assert_eq!(
            token.access_token.as_ref().unwrap().expose(),
            "1000.0f1e2d3c4b5a69788796a5b4c3d2e1f0.1f2e3d4c5b6a79889706b5c4d3e2f1a0"
        );
        assert_eq!(token.api_domain, "https://www.zohoapis.eu");
        assert_eq!(token.scope, "ZohoIoT.modules.ALL");
        assert_eq!(token.expires_at.as_millis(), BOOT + 3635 * S + 3600 * S);
    }

    #[test]
    fn a_reboot_reads_the_credential_back_from_the_page_and_shows_no_new_code() {
        let mut board = Board::new(BOOT, 7, Flash::erased(), canned::SCRIPT);
        let mut screen = Screen::default();
        assert_eq!(run(&mut board, &mut screen.callback()), Outcome::Refreshed);
        let first = requests(&board).len();

        assert_eq!(run(&mut board, &mut screen.callback()), Outcome::Refreshed);
        assert_eq!(
            screen.shown.len(),
            1,
            "one user code, at the first boot only"
        );
        let sent = requests(&board);
        assert_eq!(sent.len(), first + 1);
        let (at, line, body) = &sent[first];
        assert_eq!(line, "accounts.zoho.eu POST /oauth/v2/token HTTP/1.1");
        assert!(body.starts_with("grant_type=refresh_token&"));
        // The token minted at the first boot is refreshed a minute before it expires.
        assert_eq!(*at, BOOT + 3635 * S + 3540 * S);
    }

    #[test]
    fn the_version_1_page_of_an_earlier_firmware_refreshes_without_a_device_flow() {
        let mut flash = Flash::erased();
        flash.program(include_bytes!("flash_page.bin"));
        let answers: &[&[u8]] = &[canned::REFRESHED];
        let mut board = Board::new(BOOT, 7, flash, answers);
        let mut screen = Screen::default();
        assert_eq!(run(&mut board, &mut screen.callback()), Outcome::Refreshed);
        assert!(screen.shown.is_empty());
        let sent = requests(&board);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].0, BOOT,
            "the stored token had expired: refreshed at once"
        );
        let token = stored(&board);
        assert_eq!(
            token.grant,
            GrantKind::Unknown,
            "a version-1 page did not say"
        );
        assert_eq!(
            token.access_token.as_ref().unwrap().expose(),
            "1000.0f1e2d3c4b5a69788796a5b4c3d2e1f0.1f2e3d4c5b6a79889706b5c4d3e2f1a0"
        );
        assert_eq!(
            board.flash.credential().unwrap()[3],
            2,
            "saved again in encoding version 2"
        );
    }

    #[test]
    fn a_person_in_another_data_centre_is_polled_and_refreshed_there_also_after_a_reboot() {
        let granted_us = http(
            "200 OK",
            r#"{"access_token":"1000.a1","refresh_token":"1000.r1","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#,
        );
        let refreshed_us = http(
            "200 OK",
            r#"{"access_token":"1000.a2","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#,
        );
        let answers: &[&[u8]] = &[
            canned::INITIATION,
            http("200 OK", r#"{"error":"other_dc","user_location":"us"}"#),
            granted_us,
            refreshed_us,
            refreshed_us,
        ];
        let mut board = Board::new(BOOT, 7, Flash::erased(), answers);
        let mut screen = Screen::default();
        assert_eq!(run(&mut board, &mut screen.callback()), Outcome::Refreshed);
        assert_eq!(run(&mut board, &mut screen.callback()), Outcome::Refreshed);
        let hosts: Vec<_> = requests(&board)
            .into_iter()
            .map(|(_, line, _)| line.split(' ').next().unwrap().to_owned())
            .collect();
        assert_eq!(
            hosts,
            [
                "accounts.zoho.eu",
                "accounts.zoho.eu",
                "accounts.zoho.com",
                "accounts.zoho.com",
                "accounts.zoho.com"
            ]
        );
        assert_eq!(stored(&board).api_domain, "https://www.zohoapis.com");
    }

    #[test]
    fn a_grant_whose_api_domain_is_not_zohos_is_refused_and_not_saved() {
        let answers: &[&[u8]] = &[
            canned::INITIATION,
            http(
                "200 OK",
                r#"{"access_token":"1000.a1","refresh_token":"1000.r1","api_domain":"https://evil.example","token_type":"Bearer","expires_in":3600}"#,
            ),
        ];
        let mut board = Board::new(BOOT, 7, Flash::erased(), answers);
        let mut screen = Screen::default();
        assert_eq!(
            run(&mut board, &mut screen.callback()),
            Outcome::NotAuthorized(DeviceEnd::Refused)
        );
        assert!(board.flash.page.iter().all(|&b| b == 0xFF));
    }

    #[test]
    fn a_denial_ends_the_flow_and_leaves_the_page_erased() {
        let answers: &[&[u8]] = &[
            canned::INITIATION,
            canned::PENDING,
            http("400 Bad Request", r#"{"error":"access_denied"}"#),
        ];
        let mut board = Board::new(BOOT, 7, Flash::erased(), answers);
        let mut screen = Screen::default();
        assert_eq!(
            run(&mut board, &mut screen.callback()),
            Outcome::NotAuthorized(DeviceEnd::Denied)
        );
        assert_eq!(requests(&board).len(), 3);
        assert!(board.flash.page.iter().all(|&b| b == 0xFF));
    }

    #[test]
    fn a_silent_server_lets_the_codes_expire_polling_no_faster_than_every_30_seconds() {
        let answers: &[&[u8]] = &[canned::INITIATION];
        let mut board = Board::new(BOOT, 7, Flash::erased(), answers);
        let mut screen = Screen::default();
        assert_eq!(
            run(&mut board, &mut screen.callback()),
            Outcome::NotAuthorized(DeviceEnd::Expired)
        );
        let times: Vec<_> = requests(&board)
            .iter()
            .skip(1)
            .map(|(at, _, _)| (at - BOOT) / S)
            .collect();
        assert_eq!(times, [30, 60, 90, 120, 150, 180, 210, 240, 270]);
    }

    #[test]
    fn an_initiation_that_gets_no_answer_is_unreachable_and_shows_nothing() {
        let mut board = Board::new(BOOT, 7, Flash::erased(), &[]);
        let mut screen = Screen::default();
        assert_eq!(
            run(&mut board, &mut screen.callback()),
            Outcome::Unreachable
        );
        assert!(screen.shown.is_empty());
    }

    #[test]
    fn a_refused_refresh_token_erases_the_page_so_the_next_boot_asks_for_a_new_code() {
        let mut flash = Flash::erased();
        flash.program(include_bytes!("flash_page.bin"));
        let answers: &[&[u8]] = &[
            http("200 OK", r#"{"error":"invalid_code"}"#),
            canned::INITIATION,
            canned::GRANTED,
            canned::REFRESHED,
        ];
        let mut board = Board::new(BOOT, 7, flash, answers);
        let mut screen = Screen::default();
        assert_eq!(
            run(&mut board, &mut screen.callback()),
            Outcome::NeedsAuthorization
        );
        assert!(board.flash.page.iter().all(|&b| b == 0xFF));
        assert_eq!(run(&mut board, &mut screen.callback()), Outcome::Refreshed);
        assert_eq!(screen.shown.len(), 1);
        assert_eq!(stored(&board).grant, GrantKind::Device);
    }
}

//! The driving loop of `zoho-oauth-core` on a bare-metal Cortex-M4F: no heap, no OS, no clock
//! of its own, a byte stream for the network and one flash page for the token.
//!
//! What a real board adds is marked `BOARD:` — the RTC, the TLS socket, the RNG and the flash
//! driver. Here they are stand-ins (a canned response, a fixed time), so that this builds and
//! links for `thumbv7em-none-eabihf` and shows the code size of the whole client:
//!
//! ```text
//! cargo build --release --target thumbv7em-none-eabihf --manifest-path examples/firmware/Cargo.toml
//! ```
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::hint::black_box;

use zoho_oauth_core::machine::Event;
use zoho_oauth_core::{
    http1, Config, Credentials, DataCenter, Instant, Machine, Origin, Poll, TokenSet,
};

/// Provisioned at the factory (BOARD: read from a protected OTP/config area, never from code).
const CLIENT_ID: &str = "1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR";
const CLIENT_SECRET: &str = "4b3c1f0e9d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";
const PROVISIONED_REFRESH_TOKEN: &str =
    "1000.f9e8d7c6b5a4938271605f4e3d2c1b0a.9f8e7d6c5b4a3928170615f4e3d2c1b0";

/// The flash page holding the encoded `TokenSet` (BOARD: the real page; erased flash is 0xFF).
/// This one holds a token that expired at the boot time below, so the loop refreshes.
static FLASH_PAGE: &[u8] = include_bytes!("flash_page.bin");

/// What the accounts server answers (BOARD: the read half of the TLS socket).
static CANNED_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Server: ZGS\r\n\
Content-Type: application/json;charset=UTF-8\r\n\
Content-Length: 168\r\n\
Connection: close\r\n\
\r\n\
{\"access_token\":\"1000.0f1e2d3c4b5a69788796a5b4c3d2e1f0.1f2e3d4c5b6a79889706b5c4d3e2f1a0\",\"api_domain\":\"https://www.zohoapis.eu\",\"token_type\":\"Bearer\",\"expires_in\":3600}";

/// What one pass of the loop did, for the caller (and to keep the optimiser honest).
enum Step {
    /// Sleep until this time (ms since the epoch), or until woken by an event.
    Sleep(Option<u64>),
    /// A token was minted: this many bytes were written back to the flash page.
    Saved(usize),
    /// The request failed; the machine has scheduled a retry.
    Failed,
    /// The user must authorize again (or nothing was ever provisioned).
    NeedsAuthorization,
}

/// One pass of the driving loop at `now_ms`: poll, and on `Send` write the request, read the
/// response, hand it back, and save the token set.
fn step(machine: &mut Machine, now_ms: u64, jitter: u32, page_out: &mut [u8]) -> Step {
    let now = Instant::from_millis(now_ms);
    match machine.poll(now) {
        Poll::Send(_) => {}
        // Fresh, backing off, budget spent, throttled: sleep until then (or until an event).
        Poll::Wait { until, .. } => return Step::Sleep(until.map(Instant::as_millis)),
        Poll::NeedsAuthorization | Poll::Empty => return Step::NeedsAuthorization,
    }

    // 1. Render the request (2 KiB is plenty for Zoho's tokens).
    let mut request_buf = [0u8; 1024];
    let Ok(request) = machine.write_request(&mut request_buf) else {
        return Step::Failed;
    };
    let Some((host, _path)) = http1::host_and_path(request.url) else {
        return Step::Failed;
    };

    // 2. Send it. BOARD: open TLS to `host`:443 and write into the socket instead.
    let mut wire = [0u8; 1024];
    let mut socket_tx: &mut [u8] = &mut wire;
    if http1::write_request(&mut socket_tx, &request, host).is_err() {
        let _ = machine.handle_transport_error(now, jitter);
        return Step::Failed;
    }
    black_box(&wire);

    // 3. Read the answer into a caller buffer and hand it back.
    let mut socket_rx: &[u8] = black_box(CANNED_RESPONSE);
    let mut response_buf = [0u8; 2048];
    let outcome = match http1::read_response(&mut socket_rx, &mut response_buf) {
        Ok((status, body)) => machine.handle_response(now, status, body, jitter),
        Err(_) => Err(machine.handle_transport_error(now, jitter)),
    };

    // 4. On a mint, write the token set back to flash (it carries the mint budget too).
    match outcome {
        Ok(Event::Exchanged | Event::Refreshed) => match machine.token() {
            Some(token) => match token.encode(page_out) {
                Ok(bytes) => Step::Saved(bytes.len()),
                Err(_) => Step::Failed,
            },
            None => Step::Failed,
        },
        Err(verdict) if verdict.needs_reauthorization() => Step::NeedsAuthorization,
        Err(_) => Step::Failed,
    }
}

/// Boot: build the credentials, restore the token from flash, run one pass.
fn run(now_ms: u64, jitter: u32) -> Step {
    let Ok(credentials) = Credentials::new(CLIENT_ID, CLIENT_SECRET, Origin::Zoho(DataCenter::Eu))
    else {
        return Step::NeedsAuthorization;
    };
    let mut machine = Machine::new(credentials, Config::default());
    // Erased or foreign flash does not decode: start from the provisioned refresh token.
    let token = match TokenSet::decode(black_box(FLASH_PAGE)) {
        Ok(token) => token,
        Err(_) => match TokenSet::new(PROVISIONED_REFRESH_TOKEN) {
            Ok(token) => token,
            Err(_) => return Step::NeedsAuthorization,
        },
    };
    machine.restore(token);

    let mut page = [0xFFu8; TokenSet::MAX_ENCODED_LEN];
    step(&mut machine, now_ms, jitter, &mut page)
}

/// The reset entry point (BOARD: use your runtime's `#[entry]` and a real clock and RNG).
#[allow(unsafe_code)] // `no_mangle` is the only way to name the entry symbol without a runtime crate.
#[no_mangle]
pub extern "C" fn _start() -> ! {
    let now_ms = black_box(1_700_000_000_000u64); // BOARD: the RTC, in ms since the Unix epoch
    let jitter = black_box(0x9E37_79B9u32); // BOARD: the hardware RNG
    let code = match run(now_ms, jitter) {
        Step::Saved(n) => n as u32,
        Step::Sleep(until) => until.map_or(1, |t| t as u32),
        Step::Failed => 2,
        Step::NeedsAuthorization => 3,
    };
    black_box(code);
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

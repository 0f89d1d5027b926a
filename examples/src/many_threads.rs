//! The `many_threads` example: 32 threads ask for a token at the moment it expires; one refresh
//! is sent, and all of them get its token.

use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use zoho_oauth::{Clock, ManualClock, SystemClock};
use zoho_oauth_ureq::UreqTransport;

use crate::{Backend, Outcome};

/// How many threads ask at once.
pub const THREADS: usize = 32;

/// Runs the example against [`Backend::from_env`].
pub fn run() -> Outcome {
    run_on(&Backend::from_env()?)
}

/// Runs the example against `backend`.
pub fn run_on(backend: &Backend) -> Outcome {
    // A clock we can move, so that "an hour later" does not take an hour. Applications keep the
    // default system clock.
    let clock = ManualClock::new(SystemClock.now());
    let client = backend
        .builder(UreqTransport::new())
        .clock(clock.clone())
        .build()?;
    let user = backend.user();
    backend.sign_in(&client, &user)?;
    let old = client.access_token(&user)?;

    // An hour later the access token has expired, and every thread needs a new one at once.
    clock.advance(Duration::from_secs(3600));
    let start = Barrier::new(THREADS);
    let tokens = thread::scope(|s| {
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    client.access_token(&user) // `Client` is Sync: share it, or clone it
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a token thread panicked"))
            .collect::<Result<Vec<_>, _>>()
    })?;

    let all_same = tokens.iter().all(|t| *t == tokens[0]);
    let mut summary = format!(
        "{THREADS} threads asked at expiry; all got the same new token: {}",
        all_same && tokens[0] != old
    );
    if let Some(emu) = backend.emulator() {
        let refreshes = emu.counters().refresh_token_requests;
        summary += &format!("; Zoho (emulated) received {refreshes} refresh request(s)");
    }
    Ok(summary)
}

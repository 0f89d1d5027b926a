#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Criterion benchmarks of the async face (`zoho-oauth-tokio`): the hot path (a fresh cached
//! token, first poll and awaited on a runtime), and the fan-out at expiry — 10,000 tasks asking
//! at once, timed until the last one has its token — next to what it is a multiple of: one
//! emulator round trip (a refresh request over loopback HTTP) and one whole refresh through the
//! client (lock, load, request, save, release).
//!
//! ```sh
//! cargo bench -p zoho-oauth-benches --bench async_client
//! ```

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant as Monotonic};

use criterion::{criterion_group, criterion_main, Criterion};
use tokio::runtime::Runtime;
use tokio::sync::Barrier;
use zoho_oauth::core::Instant;
use zoho_oauth::{HttpRequest, ManualClock, MemoryStore, Method, TokenStore};
use zoho_oauth_emulator::{
    Config, DataCenter, Emulator, SelfClientCode, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
    DEFAULT_USER_EMAIL as USER,
};
use zoho_oauth_tokio::{Client, ReqwestTransport, Transport};

const START_MS: u64 = 1_700_000_000_000;
const HOUR: Duration = Duration::from_secs(3600);
const TASKS: usize = 10_000;

/// An emulator, a client on it holding one credential, and the clock they share.
struct Setup {
    emu: Emulator,
    clock: ManualClock,
    store: Arc<MemoryStore>,
    client: Client,
}

impl Setup {
    fn start(rt: &Runtime) -> Self {
        let emu = Emulator::start(Config {
            frozen_clock_ms: Some(START_MS),
            ..Config::default()
        })
        .unwrap();
        let clock = ManualClock::new(Instant::from_millis(START_MS));
        let store = Arc::new(MemoryStore::new());
        let builder = Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
            .accounts_origin(emu.base_url(DataCenter::Us))
            .clock(clock.clone())
            .store_arc(store.clone());
        let client = Client::build(builder, ReqwestTransport::new()).unwrap();
        let code = emu
            .mint_self_client_code(&SelfClientCode::default())
            .unwrap();
        rt.block_on(client.exchange_grant(USER, &code)).unwrap();
        Self {
            emu,
            clock,
            store,
            client,
        }
    }

    /// Let the access token expire, at the client and at the emulator; an hour also empties the
    /// mint budget's window, so every iteration may refresh.
    fn expire(&self) {
        self.clock.advance(HOUR);
        self.emu.advance_clock(HOUR);
    }
}

/// Spawn [`TASKS`] tasks asking for the token, release them together, and time until the last
/// one has it.
async fn at_once(client: &Client) -> Duration {
    let barrier = Arc::new(Barrier::new(TASKS + 1));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (client, barrier) = (client.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                client.access_token(USER).await
            })
        })
        .collect();
    // Every task is spawned (and most are parked at the barrier): release them together.
    barrier.wait().await;
    let started = Monotonic::now();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    started.elapsed()
}

fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    pin!(future).poll(&mut Context::from_waker(Waker::noop()))
}

fn hot_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = Setup::start(&rt);
    let client = &s.client;
    c.bench_function("tokio Client::access_token (fresh, first poll)", |b| {
        b.iter(|| match poll_once(client.access_token(black_box(USER))) {
            Poll::Ready(t) => t.map(|t| t.secret().len()),
            Poll::Pending => unreachable!("a fresh token is ready on the first poll"),
        })
    });
    // Awaited inside a task on the runtime, as an application calls it.
    c.bench_function("tokio Client::access_token (fresh, awaited)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Monotonic::now();
                for _ in 0..iters {
                    let token = client.access_token(black_box(USER)).await;
                    black_box(token.map(|t| t.secret().len()).unwrap());
                }
                started.elapsed()
            })
        })
    });
}

fn fan_out(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = Setup::start(&rt);
    let mut group = c.benchmark_group("expiry");
    group.sample_size(20);

    // One emulator round trip: a refresh request and its answer over loopback HTTP.
    let refresh_token = s
        .store
        .load(&s.client.key(USER))
        .unwrap()
        .and_then(|t| t.refresh_token)
        .unwrap();
    let url = format!("{}/oauth/v2/token", s.emu.base_url(DataCenter::Us));
    let body = format!(
        "grant_type=refresh_token&client_id={DEFAULT_CLIENT_ID}&client_secret={DEFAULT_CLIENT_SECRET}&refresh_token={}",
        refresh_token.expose()
    );
    let transport = ReqwestTransport::new();
    group.bench_function("one emulator round trip (refresh request)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                s.expire();
                let request = HttpRequest {
                    method: Method::Post,
                    url: &url,
                    headers: &[("Content-Type", "application/x-www-form-urlencoded")],
                    body: body.as_bytes(),
                    timeout: None,
                };
                let started = Monotonic::now();
                let response = rt.block_on(transport.send(&request)).unwrap();
                total += started.elapsed();
                assert_eq!(response.status, 200);
            }
            total
        })
    });

    group.bench_function("one refresh through the client (1 task at expiry)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                s.expire();
                let started = Monotonic::now();
                rt.block_on(s.client.access_token(USER)).unwrap();
                total += started.elapsed();
            }
            total
        })
    });

    // The same 10,000 tasks with a fresh token: what spawning, releasing and joining them costs
    // by itself, so that the difference is what the refresh and its waiters cost.
    for (name, expire) in [
        ("10,000 tasks, fresh token (spawn and join only)", false),
        ("10,000 tasks at expiry, until the last has its token", true),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    if expire {
                        s.expire();
                    }
                    let before = s.emu.counters().refresh_token_requests;
                    total += rt.block_on(at_once(&s.client));
                    let refreshed = s.emu.counters().refresh_token_requests - before;
                    assert_eq!(
                        refreshed,
                        u64::from(expire),
                        "one refresh at expiry, none before"
                    );
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, hot_path, fan_out);
criterion_main!(benches);

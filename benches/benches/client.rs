#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Criterion benchmarks of the std `Client`: the hot path (a fresh cached token, read by one and by
//! many threads) and a whole refresh through the client, over a canned in-process transport so
//! that no network time is measured.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use zoho_oauth::core::Instant;
use zoho_oauth::{
    Client, Clock, HttpRequest, HttpResponse, ManualClock, MemoryStore, SystemClock, TransportError,
};

const USER: &str = "ana@example.com";

/// Answers every token request like Zoho does, with a new access token each time.
fn canned_zoho() -> impl Fn(&HttpRequest<'_>) -> Result<HttpResponse, TransportError> {
    let n = AtomicU64::new(0);
    move |req: &HttpRequest<'_>| {
        let i = n.fetch_add(1, Ordering::Relaxed);
        let body = if req.body.starts_with(b"grant_type=authorization_code") {
            format!(
                r#"{{"access_token":"1000.{i:032x}.9f8e7d6c5b4a39281706f5e4d3c2b1a0","refresh_token":"1000.1a2b3c4d5e6f708192a3b4c5d6e7f809.9f8e7d6c5b4a39281706f5e4d3c2b1a0","scope":"ZohoCRM.modules.ALL","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}}"#
            )
        } else {
            format!(
                r#"{{"access_token":"1000.{i:032x}.0a1b2c3d4e5f60718293a4b5c6d7e8f9","scope":"ZohoCRM.modules.ALL","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}}"#
            )
        };
        Ok(HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: body.into_bytes(),
        })
    }
}

fn client() -> Client {
    client_with(SystemClock)
}

fn client_with(clock: impl Clock + 'static) -> Client {
    let client = Client::builder(
        "1000.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
        "0123456789abcdef0123456789abcdef0123456789",
    )
    .store(MemoryStore::new())
    .transport(canned_zoho())
    .clock(clock)
    .build()
    .unwrap();
    client.exchange_grant(USER, "1000.grant.code").unwrap();
    client
}

pub fn benches(c: &mut Criterion) {
    let client = client();
    c.bench_function("Client::access_token (fresh, 1 thread)", |b| {
        b.iter(|| {
            client
                .access_token(black_box(USER))
                .map(|t| t.secret().len())
        })
    });

    // Eight threads reading at once: the per-iteration time is for 8 × 10 000 reads.
    c.bench_function("Client::access_token (fresh, 8 threads x 10k)", |b| {
        let client = Arc::new(client.clone());
        b.iter(|| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let client = client.clone();
                    thread::spawn(move || {
                        let mut n = 0usize;
                        for _ in 0..10_000 {
                            n += client
                                .access_token(USER)
                                .map(|t| t.secret().len())
                                .unwrap_or(0);
                        }
                        n
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum::<usize>()
        })
    });

    c.bench_function(
        "Client::refresh (forced, canned transport, MemoryStore)",
        |b| {
            // A manual clock moved 61 s per refresh keeps within Zoho's 10 mints per 10 minutes, so
            // every iteration is a real refresh, not a refusal by the budget.
            let clock = ManualClock::new(Instant::from_millis(1_700_000_000_000));
            let client = client_with(clock.clone());
            b.iter(|| {
                clock.advance(Duration::from_secs(61));
                client
                    .refresh(USER, true)
                    .map(|t| t.token.secret().len())
                    .unwrap()
            })
        },
    );
}

criterion_group!(
    name = client_benches;
    config = Criterion::default();
    targets = benches
);
criterion_main!(client_benches);

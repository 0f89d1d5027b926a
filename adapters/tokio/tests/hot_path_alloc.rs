//! The async hot path allocates nothing and never waits: `Client::access_token` for a fresh cached
//! token completes on its first poll, counted by a global allocator wrapper. One test in its own
//! binary, so no other test's allocations count.
#![allow(unsafe_code)] // a counting `GlobalAlloc` needs `unsafe impl`; it only forwards to `System`.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use common::{Harness, USER};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards unchanged to `System`; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Poll `future` once with a waker that does nothing: the hot path must be ready at once.
fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    pin!(future).poll(&mut cx)
}

#[test]
fn a_fresh_cached_token_is_ready_on_the_first_poll_without_a_single_allocation() {
    let h = Harness::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let client = h.client();
    let first = runtime
        .block_on(client.exchange_grant(USER, &h.code()))
        .unwrap();
    // Warm up: the first read may build per-thread state (arc-swap's debt list).
    for _ in 0..16 {
        assert!(poll_once(client.access_token(USER)).is_ready());
    }

    COUNTING.store(true, Ordering::SeqCst);
    let mut same = 0usize;
    for _ in 0..10_000 {
        // No runtime is involved: a poll that returned `Pending` would need one.
        let Poll::Ready(token) = poll_once(client.access_token(USER)) else {
            panic!("the hot path waited");
        };
        if token.unwrap() == first {
            same += 1;
        }
    }
    COUNTING.store(false, Ordering::SeqCst);

    assert_eq!(same, 10_000, "every call served the cached token");
    // The emulator's and the runtime's threads are idle: the token is fresh and nothing is sent.
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), 0);
    assert_eq!(h.counters().refresh_token_requests, 0);
}

//! The hot path allocates nothing: `Client::access_token` for a fresh cached token, counted by a
//! global allocator wrapper. One test in its own binary, so no other test's allocations count.
#![allow(unsafe_code)] // a counting `GlobalAlloc` needs `unsafe impl`; it only forwards to `System`.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

#[test]
fn a_fresh_cached_token_is_served_without_a_single_allocation() {
    let h = Harness::start();
    let client = h.client();
    let first = client.exchange_grant(USER, &h.code()).unwrap();
    // Warm up: the first read may build per-thread state (arc-swap's debt list).
    for _ in 0..16 {
        drop(client.access_token(USER).unwrap());
    }

    COUNTING.store(true, Ordering::SeqCst);
    let mut same = 0usize;
    for _ in 0..10_000 {
        let token = client.access_token(USER).unwrap();
        if token == first {
            same += 1;
        }
    }
    COUNTING.store(false, Ordering::SeqCst);

    assert_eq!(same, 10_000, "every call served the cached token");
    // Other threads of the process (the emulator's runtime) may allocate while we count; the
    // emulator is idle here because the token is fresh and no request is sent.
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), 0);
    assert_eq!(h.counters().refresh_token_requests, 0);
}

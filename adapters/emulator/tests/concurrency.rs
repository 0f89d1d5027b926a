//! Concurrent token requests: in-flight accounting and per-token refresh counts, the evidence that
//! single-flight refresh tests rely on.

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::*;

#[test]
fn latency_makes_concurrent_refreshes_visibly_overlap() {
    let emu = Arc::new(start());
    let rt = text(&tokens(&emu), "refresh_token");
    emu.reset_counters();
    // Long enough that four requests released together are all inside at once.
    emu.set_latency(Duration::from_secs(2));
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (emu, rt, barrier) = (Arc::clone(&emu), rt.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                refresh(&emu, &rt).json()
            })
        })
        .collect();
    for thread in threads {
        assert!(thread.join().unwrap()["access_token"].is_string());
    }
    let counters = emu.counters();
    assert_eq!(counters.max_in_flight, 4);
    assert_eq!(counters.in_flight, 0);
    assert_eq!(counters.refreshes_per_token.get(&rt), Some(&4));
    assert_eq!(counters.refresh_token_requests, 4);
}

#[test]
fn sequential_refreshes_never_overlap() {
    let emu = start();
    let rt = text(&tokens(&emu), "refresh_token");
    for _ in 0..3 {
        refresh(&emu, &rt);
    }
    let counters = emu.counters();
    assert_eq!(counters.max_in_flight, 1);
    assert_eq!(counters.refreshes_per_token.get(&rt), Some(&3));
}

#[test]
fn resetting_counters_restarts_the_in_flight_maximum() {
    let emu = Arc::new(start());
    emu.set_latency(Duration::from_secs(1));
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (emu, barrier) = (Arc::clone(&emu), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                refresh(&emu, "x");
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(emu.counters().max_in_flight, 2);
    emu.reset_counters();
    assert_eq!(emu.counters().max_in_flight, 0);
}

//! The background refresher: refreshes before expiry, sleeps in between, stops when asked.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Harness, HttpTransport, TIMEOUT, USER};
use zoho_oauth::{HttpRequest, HttpResponse, TransportError};

/// A transport that reports every completed refresh request on a channel.
fn reporting(tx: mpsc::Sender<u16>) -> impl zoho_oauth::Transport {
    let inner = HttpTransport::new(TIMEOUT);
    let tx = Mutex::new(tx);
    move |req: &HttpRequest<'_>| -> Result<HttpResponse, TransportError> {
        let is_refresh = req
            .body
            .windows(24)
            .any(|w| w == b"grant_type=refresh_token");
        let resp = zoho_oauth::Transport::send(&inner, req);
        if is_refresh {
            let status = resp.as_ref().map_or(0, |r| r.status);
            let _ = tx.lock().unwrap().send(status);
        }
        resp
    }
}

#[test]
fn the_background_refresher_refreshes_before_expiry_so_callers_never_wait() {
    let h = Harness::start();
    let (tx, rx) = mpsc::channel();
    let client = h.builder().transport(reporting(tx)).build().unwrap();
    let old = client.exchange_grant(USER, &h.code()).unwrap();
    let refresher = client.start_background_refresh();
    assert!(refresher.is_running());

    // Not due yet: waking the refresher sends nothing.
    h.advance(Duration::from_secs(3000));
    refresher.wake();
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());

    // Inside the margin (60 s before expiry), the old token still valid for 30 s.
    h.advance(Duration::from_secs(570));
    refresher.wake();
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(200));
    // `refresh(.., false)` takes the credential's refresh lock, so it returns after the
    // background flight has published its token; it sends nothing itself.
    let new = client.refresh(USER, false).unwrap().token;
    assert_ne!(new, old);
    assert_eq!(client.access_token(USER).unwrap(), new);
    assert!(new.expires_at() > old.expires_at());
    assert_eq!(h.counters().refresh_token_requests, 1);
    refresher.stop();
}

#[test]
fn the_background_refresher_picks_up_credentials_stored_by_others() {
    let h = Harness::start();
    let writer = h.client();
    writer.exchange_grant(USER, &h.code()).unwrap();
    // Another client (process) on the same store, which has never seen the user.
    let (tx, rx) = mpsc::channel();
    let client = h.builder().transport(reporting(tx)).build().unwrap();
    let refresher = client.start_background_refresh();
    h.advance(Duration::from_secs(3600 - 10));
    refresher.wake();
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(200));
    drop(refresher); // Drop stops and joins.
    assert_eq!(h.counters().refresh_token_requests, 1);
}

#[test]
fn stopping_the_refresher_ends_its_thread() {
    let h = Harness::start();
    let client = Arc::new(h.client());
    let refresher = client.start_background_refresh();
    assert!(refresher.is_running());
    refresher.stop(); // joins: returning at all proves the thread ended
    assert_eq!(h.counters().token_requests, 0);
}

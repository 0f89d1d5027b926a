//! No secret ever reaches a log line, a `Debug` or a `Display`: a full flow is run with every
//! `tracing` event captured at TRACE level, then searched for every secret it handled.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{follow_authorization, Harness, USER};
use zoho_oauth::{Method, TokenStore};
use zoho_oauth_emulator::{Fault, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI};

/// A `MakeWriter` appending to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn a_full_flow_logs_no_secret_at_trace_level() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let h = Harness::start();
    let client = h.client();
    let mut secrets: Vec<String> = vec![DEFAULT_CLIENT_SECRET.to_owned()];
    let mut remember = |s: &str| {
        secrets.push(s.to_owned());
    };

    // Self Client exchange, with the grant code.
    let code = h.code();
    remember(&code);
    let token = client.exchange_grant(USER, &code).unwrap();
    remember(token.secret());
    let refresh = h.stored_refresh_token(&client, USER).unwrap();
    remember(&refresh);
    // A used code (an error path that echoes nothing).
    let _ = client.exchange_grant(USER, &code);
    tracing::info!(
        "client: {client:?}; token: {token:?} / {token}; header: {:?}",
        token.header_value().len()
    );

    // Refresh at expiry, a fault on the way, a forced refresh, an API call refused once.
    h.advance(Duration::from_secs(3600));
    h.emu.queue_fault(Fault::TruncatedBody, 1);
    let t = client.access_token(USER).unwrap();
    remember(t.secret());
    let t = client.refresh(USER, true).unwrap().token;
    remember(t.secret());
    h.emu.expire_access_tokens();
    let resp = client
        .request(USER, Method::Get, "/crm/v8/org", None)
        .unwrap();
    assert_eq!(resp.status, 200);
    tracing::info!("response: {resp:?}");
    let t = client.access_token(USER).unwrap();
    remember(t.secret());
    let info = client.user_info(USER).unwrap();
    tracing::info!("user info: {info:?}");
    let stored = h.store.load(&client.key(USER)).unwrap().unwrap();
    tracing::info!("stored: {stored:?}; status: {:?}", client.status().unwrap());

    // Browser login: the callback holds a code and the state.
    let login = client.begin_login(
        &["ZohoCRM.modules.ALL", "aaaserver.profile.READ"],
        DEFAULT_REDIRECT_URI,
    );
    let callback = follow_authorization(&login.url);
    let login_code = callback
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    remember(&login_code);
    tracing::info!("login: {login:?}");
    let t = client
        .complete_login(&login, &callback, Some("second@example.com"))
        .unwrap()
        .token;
    remember(t.secret());
    remember(
        &h.stored_refresh_token(&client, "second@example.com")
            .unwrap(),
    );
    let err = client.complete_login(&login, &callback, None).unwrap_err();
    tracing::info!("error: {err:?} / {err}");

    client.revoke(USER).unwrap();
    let err = client.access_token(USER).unwrap_err();
    tracing::info!("error: {err:?} / {err}");

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The capture works (so this test can fail), and it saw the whole flow.
    for expected in [
        "access token minted",
        "grant exchanged",
        "credential removed",
        "DEBUG",
    ] {
        assert!(log.contains(expected), "log lacks {expected:?}:\n{log}");
    }
    assert!(secrets.len() >= 10);
    for secret in &secrets {
        assert!(secret.len() >= 16, "a real secret: {secret:?}");
        assert!(
            !log.contains(secret.as_str()),
            "secret …{} leaked:\n{log}",
            &secret[secret.len() - 4..]
        );
    }
}

//! The worker's instruments: a [`TokenStore`] and a [`Transport`] that pass every call through to
//! the real ones and print an [`Event`](crate::protocol::Event) line at each
//! [`Checkpoint`] — and stop there when told to ([`Events::new`]'s `pause_at`), so that the harness
//! can SIGKILL the process at exactly that point. Also the clock that runs ahead ([`OffsetClock`]).
//!
//! They change nothing of what the library does: the store and the transport are the real ones,
//! called with the same arguments, in the same order.

use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use zoho_oauth::core::{form, Instant, TokenSet};
use zoho_oauth::{
    Clock, CredentialKey, HttpRequest, HttpResponse, LockWait, LockedCredential, StoreError,
    SystemClock, TokenStore, Transport, TransportError,
};

use crate::protocol::{now_us, Checkpoint};

/// Prints event lines on stdout and pauses at one checkpoint.
pub struct Events {
    pause_at: Option<Checkpoint>,
    paused: AtomicBool,
}

impl Events {
    /// Events that pause the first time `pause_at` is reached.
    pub fn new(pause_at: Option<Checkpoint>) -> Self {
        Self {
            pause_at,
            paused: AtomicBool::new(false),
        }
    }

    /// Prints `ev <µs> <checkpoint> <details…>`; at the pause checkpoint (the first time), then
    /// prints `paused <checkpoint>` and blocks until a line (or the end) comes on stdin.
    pub fn reach(&self, checkpoint: Checkpoint, details: &[&str]) {
        let mut line = format!("ev {} {checkpoint}", now_us());
        for d in details {
            line.push(' ');
            line.push_str(if d.is_empty() { "-" } else { d });
        }
        print_line(&line);
        if self.pause_at == Some(checkpoint) && !self.paused.swap(true, Ordering::SeqCst) {
            print_line(&format!("paused {checkpoint}"));
            let mut resume = String::new();
            let _ = io::stdin().lock().read_line(&mut resume);
        }
    }
}

/// One whole line on stdout, flushed: a line in the pipe outlives a SIGKILL that follows it.
pub fn print_line(line: &str) {
    let mut out = io::stdout().lock();
    // A closed stdout (the harness gone) leaves nothing to report to.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// A [`TokenStore`] that reports its lock's checkpoints.
pub struct TracedStore {
    inner: Box<dyn TokenStore>,
    events: Arc<Events>,
}

impl TracedStore {
    /// Reports the lock checkpoints of `inner` through `events`.
    pub fn new(inner: Box<dyn TokenStore>, events: Arc<Events>) -> Self {
        Self { inner, events }
    }
}

impl TokenStore for TracedStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        self.inner.load(key)
    }

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        self.inner.list()
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        self.inner.delete_all()
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let inner = self.inner.lock(key, wait)?;
        self.events.reach(Checkpoint::Locked, &[&key.user]);
        Ok(Box::new(TracedLock {
            inner: Some(inner),
            events: Arc::clone(&self.events),
            user: key.user.clone(),
        }))
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

struct TracedLock<'s> {
    /// `None` once released.
    inner: Option<Box<dyn LockedCredential + 's>>,
    events: Arc<Events>,
    user: String,
}

impl<'s> TracedLock<'s> {
    fn inner(&mut self) -> Result<&mut (dyn LockedCredential + 's), StoreError> {
        // Only `release` takes it, and it consumes the lock.
        self.inner
            .as_deref_mut()
            .ok_or_else(|| StoreError::Other("the traced lock was already released".into()))
    }
}

impl LockedCredential for TracedLock<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.inner()?.load()
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        self.events.reach(Checkpoint::Saving, &[&self.user]);
        self.inner()?.save(token)?;
        self.events.reach(Checkpoint::Saved, &[&self.user]);
        Ok(())
    }

    fn delete(&mut self) -> Result<bool, StoreError> {
        self.events.reach(Checkpoint::Deleting, &[&self.user]);
        let found = self.inner()?.delete()?;
        let found_text = if found { "found" } else { "absent" };
        self.events
            .reach(Checkpoint::Deleted, &[&self.user, found_text]);
        Ok(found)
    }

    fn check_writable(&mut self) -> Result<(), StoreError> {
        self.inner()?.check_writable()
    }

    fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        let inner = self
            .inner
            .take()
            .ok_or_else(|| StoreError::Other("the traced lock was already released".into()))?;
        self.events
            .reach(Checkpoint::Releasing, &[&self.user, "commit"]);
        let released = inner.release();
        let how = if released.is_ok() {
            "released"
        } else {
            "failed"
        };
        self.events.reach(Checkpoint::Unlocked, &[&self.user, how]);
        released
    }
}

impl Drop for TracedLock<'_> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            self.events
                .reach(Checkpoint::Releasing, &[&self.user, "rollback"]);
            drop(inner);
            self.events
                .reach(Checkpoint::Unlocked, &[&self.user, "dropped"]);
        }
    }
}

/// A [`Transport`] that reports each request and its answer, with the tokens they carry.
pub struct TracedTransport<T> {
    inner: T,
    events: Arc<Events>,
}

impl<T: Transport> TracedTransport<T> {
    /// Reports the requests `inner` sends through `events`.
    pub fn new(inner: T, events: Arc<Events>) -> Self {
        Self { inner, events }
    }
}

impl<T: Transport> Transport for TracedTransport<T> {
    fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, TransportError> {
        let (kind, token) = classify(request);
        self.events
            .reach(Checkpoint::Send, &[kind, token.as_deref().unwrap_or("-")]);
        let answer = self.inner.send(request);
        match &answer {
            Ok(response) => {
                let (refresh, access) = answered_tokens(&response.body);
                let status = response.status.to_string();
                self.events.reach(
                    Checkpoint::Answer,
                    &[
                        kind,
                        &status,
                        refresh.as_deref().unwrap_or("-"),
                        access.as_deref().unwrap_or("-"),
                    ],
                );
            }
            Err(_) => self
                .events
                .reach(Checkpoint::Answer, &[kind, "failed", "-", "-"]),
        }
        answer
    }
}

/// The kind of a request, and the token it presents: the refresh token of a refresh, the token
/// of a revoke.
fn classify(request: &HttpRequest<'_>) -> (&'static str, Option<String>) {
    let path = request.url.split('?').next().unwrap_or_default();
    let form = std::str::from_utf8(request.body).unwrap_or_default();
    if path.ends_with("/oauth/v2/token/revoke") {
        let token = form_value(form, "token")
            .or_else(|| form_value(request.url.split_once('?').map_or("", |q| q.1), "token"));
        return ("revoke", token);
    }
    if path.ends_with("/oauth/v2/token") {
        return match form_value(form, "grant_type").as_deref() {
            Some("refresh_token") => ("refresh", form_value(form, "refresh_token")),
            Some("authorization_code") => ("exchange", None),
            _ => ("token-other", None),
        };
    }
    ("api", None)
}

/// The `refresh_token` and `access_token` of a JSON answer, if it is one.
fn answered_tokens(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None);
    };
    let field = |name: &str| {
        json.get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace))
            .map(str::to_owned)
    };
    (field("refresh_token"), field("access_token"))
}

/// The decoded value of `name` in an `application/x-www-form-urlencoded` text (the core's form
/// decoding).
fn form_value(form: &str, name: &str) -> Option<String> {
    let decode = |text: &str| {
        let mut buf = vec![0; text.len()];
        form::decode_into(text, &mut buf).ok().map(str::to_owned)
    };
    form::pairs(form).find_map(|(k, v)| (decode(k)? == name).then(|| decode(v)).flatten())
}

/// The system clock, `offset` ahead: a worker started an hour ahead sees every token stored an
/// hour ago as expired, as the emulator does after its clock is advanced by the same hour.
#[derive(Clone, Copy, Debug)]
pub struct OffsetClock(pub Duration);

impl Clock for OffsetClock {
    fn now(&self) -> Instant {
        SystemClock.now().saturating_add(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoho_oauth::Method;

    fn request<'a>(url: &'a str, body: &'a [u8]) -> HttpRequest<'a> {
        HttpRequest {
            method: Method::Post,
            url,
            headers: &[],
            body,
            timeout: None,
        }
    }

    #[test]
    fn requests_are_told_apart_with_the_token_they_present() {
        let refresh = request(
            "http://127.0.0.1:1/oauth/v2/token",
            b"grant_type=refresh_token&client_id=1000.A&client_secret=s&refresh_token=1000.r%2Ex",
        );
        assert_eq!(classify(&refresh), ("refresh", Some("1000.r.x".into())));
        let exchange = request(
            "http://127.0.0.1:1/oauth/v2/token",
            b"grant_type=authorization_code&code=1000.c",
        );
        assert_eq!(classify(&exchange), ("exchange", None));
        let revoke = request("http://127.0.0.1:1/oauth/v2/token/revoke", b"token=1000.r");
        assert_eq!(classify(&revoke), ("revoke", Some("1000.r".into())));
        let in_query = request("http://127.0.0.1:1/oauth/v2/token/revoke?token=1000.q", b"");
        assert_eq!(classify(&in_query), ("revoke", Some("1000.q".into())));
        assert_eq!(
            classify(&request("http://127.0.0.1:1/crm/v8/org", b"")),
            ("api", None)
        );
    }

    #[test]
    fn the_tokens_of_an_answer_are_read_from_its_json() {
        let body = br#"{"access_token":"1000.a","refresh_token":"1000.r","expires_in":3600}"#;
        assert_eq!(
            answered_tokens(body),
            (Some("1000.r".into()), Some("1000.a".into()))
        );
        assert_eq!(
            answered_tokens(br#"{"error":"invalid_code"}"#),
            (None, None)
        );
        assert_eq!(answered_tokens(b"<html>"), (None, None));
    }

    #[test]
    fn the_offset_clock_runs_ahead_of_the_system_clock() {
        let ahead = OffsetClock(Duration::from_secs(3600)).now();
        let now = SystemClock.now();
        assert!(ahead >= now.saturating_add(Duration::from_secs(3599)));
    }
}

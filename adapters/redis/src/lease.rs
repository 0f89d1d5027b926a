//! The refresh lock: a lease per credential, taken with `SET NX PX`, renewed while held, released
//! only by its owner, and the fenced loads, saves and deletes made under it.
//!
//! ```text
//!  lock ──SET lease NX PX──▶ held ──every lease/3: RENEW (ours? PEXPIRE)──┐
//!   │ taken by another:          │ ▲                                       │
//!   │ SUBSCRIBE unlocked, wait   │ └───────────────────────────────────────┘
//!   │ for a release message or   │ load / save / delete: one script each, acting only while
//!   │ the holder's PTTL, retry   │ the lease key still holds our value (else LeaseLost)
//!   ▼                            ▼
//!  Busy (after the wait)        release / drop: RELEASE (ours? DEL + PUBLISH unlocked)
//! ```
//!
//! The lease value is `<128-bit random token in hex> <pid>@<host>`: the token makes it ours alone,
//! the rest names the holder in [`StoreError::Busy`]. A holder that dies stops renewing, so its
//! lease expires and the next waiter takes the lock; a holder that stalls past its lease (a
//! paused VM, Redis unreachable) finds the lease gone or someone else's and its writes refused.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use redis::{Connection, RedisError, Value};
use zoho_oauth::core::TokenSet;
use zoho_oauth::{CredentialKey, LockBusy, LockWait, LockedCredential, StoreError};

use crate::conn::db;
use crate::names::Names;
use crate::scripts;
use crate::store::Inner;

/// `<pid>@<host>`: who holds a lease, for [`StoreError::Busy`].
pub(crate) fn owner() -> &'static str {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER.get_or_init(|| format!("{}@{}", std::process::id(), zoho_oauth::store::host_name()))
}

/// A fresh lease value: a random token no other holder has, then our [`owner`].
fn lease_value() -> Result<String, StoreError> {
    let mut token = [0u8; 16];
    getrandom::fill(&mut token).map_err(|e| {
        StoreError::Other(format!(
            "the operating system's random source failed ({e}), so no lock lease could be made: retry"
        ))
    })?;
    let mut value = String::with_capacity(64);
    for b in token {
        value.push_str(&format!("{b:02x}"));
    }
    value.push(' ');
    value.push_str(owner());
    Ok(value)
}

/// The holder named in a lease value (`None` for a value this crate did not write).
fn holder_of(value: &[u8]) -> Option<String> {
    let value = std::str::from_utf8(value).ok()?;
    let (_, holder) = value.split_once(' ')?;
    (!holder.is_empty()).then(|| holder.to_owned())
}

/// What one try to take the lease found.
enum Attempt {
    Taken,
    Held {
        holder: Option<String>,
        /// The holder's remaining lease in ms (`-1`: no expiry, `-2`: gone meanwhile).
        pttl: i64,
    },
}

fn attempt(
    con: &mut Connection,
    names: &Names,
    value: &str,
    lease_ms: u64,
) -> Result<Attempt, StoreError> {
    let reply: Vec<Value> = scripts::ACQUIRE
        .key(&names.lock)
        .arg(value)
        .arg(lease_ms)
        .invoke(con)
        .map_err(db)?;
    match reply.as_slice() {
        [Value::Int(1)] => Ok(Attempt::Taken),
        [Value::Int(0), held, Value::Int(pttl)] => Ok(Attempt::Held {
            holder: match held {
                Value::BulkString(b) => holder_of(b),
                _ => None,
            },
            pttl: *pttl,
        }),
        _ => Err(unexpected("taking the lock")),
    }
}

fn unexpected(doing: &str) -> StoreError {
    StoreError::Database(format!(
        "Redis answered {doing} with a reply this store never asks for: check that the URL points at a Redis server (or Valkey)"
    ))
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Take the lease of `key`, waiting as `wait` says.
pub(crate) fn lock(
    inner: &Arc<Inner>,
    key: &CredentialKey,
    wait: LockWait,
) -> Result<Locked, StoreError> {
    let started = Instant::now();
    // A year stands for "as long as it takes" (`Instant + Duration::MAX` would overflow).
    let deadline = started + wait.limit().min(Duration::from_secs(365 * 24 * 3600));
    let names = inner.layout.names(key);
    let value = lease_value()?;
    let lease_ms = ms(inner.lease);
    let mut con = inner.pool.get()?;
    let busy = |holder: Option<String>| -> StoreError {
        let busy = LockBusy::new(inner.describe.clone(), key, started.elapsed());
        match holder {
            Some(h) => busy.held_by(h),
            None => busy,
        }
        .into()
    };
    match attempt(&mut con, &names, &value, lease_ms)? {
        Attempt::Taken => return Locked::start(inner, key, names, value, con),
        Attempt::Held { holder, .. } if Instant::now() >= deadline => {
            inner.pool.put(con);
            return Err(busy(holder));
        }
        Attempt::Held { .. } => {}
    }
    // Wait for a release message on a connection of its own (a subscribed connection can do
    // nothing else), or for the holder's lease to run out, whichever comes first. Subscribing
    // before the next try means no release between the try and the wait goes unheard.
    let mut sub_con = inner.pool.open()?;
    let mut sub = sub_con.as_pubsub();
    sub.subscribe(&names.unlocked).map_err(db)?;
    loop {
        let (holder, pttl) = match attempt(&mut con, &names, &value, lease_ms)? {
            Attempt::Taken => {
                drop(sub);
                return Locked::start(inner, key, names, value, con);
            }
            Attempt::Held { holder, pttl } => (holder, pttl),
        };
        let now = Instant::now();
        if now >= deadline {
            drop(sub);
            inner.pool.put(con);
            return Err(busy(holder));
        }
        if pttl == -2 {
            continue;
        }
        let mut pause = deadline - now;
        if let Ok(left) = u64::try_from(pttl) {
            // The lease ends then unless renewed: look again at that moment.
            pause = pause.min(Duration::from_millis(left + 1));
        }
        sub.set_read_timeout(Some(pause.max(Duration::from_millis(1))))
            .map_err(db)?;
        match sub.get_message() {
            Ok(_) => {}
            Err(e) if e.is_timeout() => {}
            Err(e) => return Err(db(e)),
        }
    }
}

/// The thread that renews a held lease every `renew_every` until told to stop.
struct Renewer {
    /// Dropping it stops the thread at once (the thread waits on its receiver).
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Renewer {
    fn spawn(
        inner: Arc<Inner>,
        lock_key: String,
        value: String,
        lost: Arc<AtomicBool>,
    ) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("zoho-oauth-redis-lease".into())
            .spawn(move || {
                let lease_ms = ms(inner.lease);
                let mut con: Option<Connection> = None;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(inner.renew_every) {
                    let mut c = match con.take().map_or_else(|| inner.pool.get(), Ok) {
                        Ok(c) => c,
                        // Redis unreachable: try again next period (the lease lasts three).
                        Err(_) => continue,
                    };
                    let renewed: Result<i64, RedisError> = scripts::RENEW
                        .key(&lock_key)
                        .arg(&value)
                        .arg(lease_ms)
                        .invoke(&mut c);
                    match renewed {
                        Ok(1) => con = Some(c),
                        Ok(_) => {
                            // Expired (and maybe taken): renewing can never make it ours again.
                            lost.store(true, Ordering::SeqCst);
                            inner.pool.put(c);
                            return;
                        }
                        Err(_) => {}
                    }
                }
                if let Some(c) = con {
                    inner.pool.put(c);
                }
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stop renewing; returns once the thread has ended (no renewal runs after this).
    fn stop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Renewer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A held lease: the refresh lock of one credential.
pub(crate) struct Locked {
    inner: Arc<Inner>,
    key: CredentialKey,
    names: Names,
    value: String,
    /// `None` after a failed command (it may hold half a reply) until the next one is opened.
    con: Option<Connection>,
    renewer: Renewer,
    /// Set by the renewer when it found the lease no longer ours.
    lost: Arc<AtomicBool>,
    released: bool,
}

impl Locked {
    fn start(
        inner: &Arc<Inner>,
        key: &CredentialKey,
        names: Names,
        value: String,
        con: Connection,
    ) -> Result<Self, StoreError> {
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = match Renewer::spawn(
            inner.clone(),
            names.lock.clone(),
            value.clone(),
            lost.clone(),
        ) {
            Ok(r) => r,
            Err(e) => {
                let mut con = con;
                let _: Result<i64, _> = scripts::RELEASE
                    .key(&names.lock)
                    .arg(&value)
                    .arg(&names.unlocked)
                    .invoke(&mut con);
                return Err(StoreError::Io(e));
            }
        };
        Ok(Self {
            inner: inner.clone(),
            key: key.clone(),
            names,
            value,
            con: Some(con),
            renewer,
            lost,
            released: false,
        })
    }

    fn lease_lost(&self) -> StoreError {
        self.lost.store(true, Ordering::SeqCst);
        StoreError::LeaseLost(format!(
            "the {} ms lease on {} in {} ran out without renewal (this process stalled or could not reach Redis) and may be held by another process",
            ms(self.inner.lease),
            self.key,
            self.inner.describe
        ))
    }

    /// Run one fenced script; a failed connection is not reused.
    fn run<T>(
        &mut self,
        op: impl FnOnce(&mut Connection, &Names, &str) -> Result<T, RedisError>,
    ) -> Result<T, StoreError> {
        if self.released {
            return Err(StoreError::Other(format!(
                "the refresh lock of {} was already released: take it again",
                self.key
            )));
        }
        if self.lost.load(Ordering::SeqCst) {
            return Err(self.lease_lost());
        }
        let mut con = match self.con.take() {
            Some(c) => c,
            None => self.inner.pool.get()?,
        };
        let out = op(&mut con, &self.names, &self.value);
        match out {
            Ok(v) => {
                self.con = Some(con);
                Ok(v)
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    fn failed(&self, e: RedisError) -> StoreError {
        match e.code() {
            Some("WRONGTYPE") => StoreError::Corrupt(format!(
                "the Redis key {} of {} is not a string value; delete it and authorize again",
                self.names.cred, self.key
            )),
            _ => db(e),
        }
    }

    fn unlock(&mut self) -> Result<(), StoreError> {
        self.renewer.stop();
        self.released = true;
        let mut con = match self.con.take() {
            Some(c) => c,
            None => self.inner.pool.get()?,
        };
        let released: Result<i64, RedisError> = scripts::RELEASE
            .key(&self.names.lock)
            .arg(&self.value)
            .arg(&self.names.unlocked)
            .invoke(&mut con);
        match released {
            // 0: the lease had already run out; what was saved under it is stored all the same.
            Ok(_) => {
                self.inner.pool.put(con);
                Ok(())
            }
            Err(e) => Err(StoreError::Database(format!(
                "the refresh lock of {} could not be released ({}); what was saved under it is stored, and the lock frees itself within {} ms",
                self.key,
                e,
                ms(self.inner.lease)
            ))),
        }
    }
}

impl LockedCredential for Locked {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        let reply: Vec<Value> =
            self.run(|c, n, v| scripts::LOAD.key(&n.lock).key(&n.cred).arg(v).invoke(c))?;
        let mut reply = reply.into_iter();
        match (reply.next(), reply.next(), reply.next()) {
            (Some(Value::Int(0)), None, None) => Err(self.lease_lost()),
            (Some(Value::Int(1)), None, None) => Ok(None),
            (Some(Value::Int(1)), Some(Value::BulkString(bytes)), None) => {
                let bytes = zeroize::Zeroizing::new(bytes);
                zoho_oauth::store::decode_token(&self.key, &bytes).map(Some)
            }
            _ => Err(unexpected("a locked load")),
        }
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        let bytes = zoho_oauth::store::encode_token(&self.key, token)?;
        let saved: i64 = self.run(|c, n, v| {
            scripts::SAVE
                .key(&n.lock)
                .key(&n.cred)
                .arg(v)
                .arg(bytes.as_slice())
                .invoke(c)
        })?;
        match saved {
            1 => Ok(()),
            _ => Err(self.lease_lost()),
        }
    }

    fn delete(&mut self) -> Result<bool, StoreError> {
        let deleted: i64 =
            self.run(|c, n, v| scripts::DELETE.key(&n.lock).key(&n.cred).arg(v).invoke(c))?;
        match deleted {
            -1 => Err(self.lease_lost()),
            n => Ok(n > 0),
        }
    }

    /// Renew the lease now: it is still ours (else [`StoreError::LeaseLost`]) and the server
    /// takes writes from us (a read-only replica answers [`StoreError::ReadOnly`]).
    fn check_writable(&mut self) -> Result<(), StoreError> {
        let lease_ms = ms(self.inner.lease);
        let renewed: i64 =
            self.run(|c, n, v| scripts::RENEW.key(&n.lock).arg(v).arg(lease_ms).invoke(c))?;
        match renewed {
            1 => Ok(()),
            _ => Err(self.lease_lost()),
        }
    }

    fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        self.unlock()
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        if !self.released {
            // Free it now rather than after the lease; if Redis cannot be reached, the lease
            // runs out by itself.
            let _ = self.unlock();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_value_is_a_random_token_then_the_owner() {
        let (a, b) = (lease_value().unwrap(), lease_value().unwrap());
        assert_ne!(a, b, "two leases never share a token");
        let (token, holder) = a.split_once(' ').unwrap();
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(holder, owner());
        assert_eq!(holder_of(a.as_bytes()).as_deref(), Some(owner()));
    }

    #[test]
    fn the_owner_is_this_process_id_at_a_host_name() {
        let (pid, host) = owner().split_once('@').unwrap();
        assert_eq!(pid, std::process::id().to_string());
        assert!(!host.is_empty() && host.chars().all(|c| c.is_ascii_graphic()));
    }

    #[test]
    fn a_lease_value_of_another_shape_names_no_holder() {
        assert_eq!(holder_of(b"garbage"), None);
        assert_eq!(holder_of(b"token "), None);
        assert_eq!(holder_of(&[0xff, b' ', b'x']), None);
    }
}

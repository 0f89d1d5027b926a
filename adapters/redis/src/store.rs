//! `RedisStore`: one string value per credential under a prefix, and a renewed lease per
//! credential as the refresh lock.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::Connection;
use zoho_oauth::core::TokenSet;
use zoho_oauth::{CredentialKey, LockWait, LockedCredential, StoreError, TokenStore};

use crate::conn::{db, Pool};
use crate::lease;
use crate::names::{Layout, DEFAULT_PREFIX};

/// How long [`TokenStore::delete_all`] waits for each held lock (as `FileStore` does).
const DELETE_ALL_WAIT: Duration = Duration::from_secs(60);

/// Keys asked of `SCAN` per round trip.
const SCAN_COUNT: u32 = 1000;

/// What every handle on one store shares (the lease renewers too).
pub(crate) struct Inner {
    pub(crate) pool: Pool,
    pub(crate) layout: Layout,
    pub(crate) lease: Duration,
    pub(crate) renew_every: Duration,
    pub(crate) describe: String,
}

/// A [`TokenStore`] on a Redis server, shared by every process and machine that connects to it
/// with the same prefix. See the [crate documentation](crate) for the lease and the key layout.
pub struct RedisStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for RedisStore {
    // `describe` carries no password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("store", &self.inner.describe)
            .field("lease", &self.inner.lease)
            .finish_non_exhaustive()
    }
}

/// Options of a [`RedisStore`], from [`RedisStore::builder`].
#[derive(Clone)]
pub struct RedisStoreBuilder {
    url: String,
    prefix: Option<String>,
    lease: Duration,
    io_timeout: Duration,
}

impl fmt::Debug for RedisStoreBuilder {
    // The URL may carry a password: show nothing of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("prefix", &self.prefix)
            .field("lease", &self.lease)
            .field("io_timeout", &self.io_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStoreBuilder {
    /// The prefix of every key this store writes (default `zoho-oauth`, or the URL's
    /// `?prefix=`): applications sharing one Redis database keep apart with prefixes of their own.
    /// Not empty, no spaces or control characters.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// How long the refresh lock outlives a holder that stopped renewing it (default
    /// [`RedisStore::DEFAULT_LEASE`], at least 30 ms). A held lock is renewed every third of
    /// this, so a holder survives two missed renewals; a crashed holder blocks the credential for
    /// at most this long.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long to wait for the server to connect, take a command or answer one (default 5 s).
    pub fn io_timeout(mut self, timeout: Duration) -> Self {
        self.io_timeout = timeout;
        self
    }

    /// Connect and check that the server answers.
    ///
    /// Fails with [`StoreError::Other`] for a malformed URL or option, and
    /// [`StoreError::Database`] when the server cannot be reached or refuses the password.
    pub fn connect(self) -> Result<RedisStore, StoreError> {
        if self.lease < Duration::from_millis(30) {
            return Err(StoreError::Other(format!(
                "a Redis lock lease of {} ms is too short to renew: choose 30 ms or more (default {} s)",
                self.lease.as_millis(),
                RedisStore::DEFAULT_LEASE.as_secs()
            )));
        }
        if self.io_timeout.is_zero() {
            return Err(StoreError::Other(
                "a Redis I/O timeout of zero would wait forever: choose a positive one (default 5 s)"
                    .into(),
            ));
        }
        let prefix = match self.prefix {
            Some(p) => p,
            None => url_prefix(&self.url)?.unwrap_or_else(|| DEFAULT_PREFIX.to_owned()),
        };
        let layout = Layout::new(&prefix).map_err(StoreError::Other)?;
        let pool = Pool::new(&self.url, self.io_timeout)?;
        let mut describe = pool.describe();
        if prefix != DEFAULT_PREFIX {
            describe.push(if describe.contains('?') { '&' } else { '?' });
            describe.push_str("prefix=");
            describe.push_str(&query_encode(&prefix));
        }
        let inner = Inner {
            pool,
            layout,
            lease: self.lease,
            renew_every: self.lease / 3,
            describe,
        };
        inner
            .pool
            .with(|c| redis::cmd("PING").query::<String>(c).map(drop).map_err(db))?;
        Ok(RedisStore {
            inner: Arc::new(inner),
        })
    }
}

impl RedisStore {
    /// The default lease of the refresh lock: 10 s, renewed every 3⅓ s.
    ///
    /// Long enough that a holder survives two missed renewals (a GC-less process rarely stalls
    /// for seconds; a stall past the lease costs only a refused save, never a lost one), short
    /// enough that a crashed holder frees the credential well within the client's default 30 s
    /// lock wait, so its fleet carries on rather than reporting `Busy`. A holder may keep the
    /// lock far longer (a slow token request of up to a minute): renewal, not the lease, covers
    /// that.
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

    /// Connect to `url` with the default options (the prefix from the URL's `?prefix=`, else
    /// `zoho-oauth`): `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?prefix=NAME]`,
    /// `redis+unix:///PATH?db=N`, or `rediss://…` with the `tls` feature.
    ///
    /// Fails with [`StoreError::Other`] for a malformed URL and [`StoreError::Database`] when the
    /// server cannot be reached or refuses the password.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        Self::builder(url).connect()
    }

    /// A store on `url` with options: prefix, lease, I/O timeout.
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: None,
            lease: Self::DEFAULT_LEASE,
            io_timeout: Duration::from_secs(5),
        }
    }

    /// The prefix of every key of this store.
    pub fn prefix(&self) -> &str {
        self.inner.layout.prefix()
    }

    /// The lease of the refresh lock.
    pub fn lease(&self) -> Duration {
        self.inner.lease
    }

    /// The Redis key holding the token of `key` (for operators: `redis-cli GET`, `TTL`, …).
    pub fn token_key(&self, key: &CredentialKey) -> String {
        self.inner.layout.names(key).cred
    }

    /// The Redis key holding the lease of `key`'s refresh lock while someone holds it (its value
    /// is `<token> <pid>@<host>`).
    pub fn lease_key(&self, key: &CredentialKey) -> String {
        self.inner.layout.names(key).lock
    }

    /// The channel a release of `key`'s lock is published on; its subscribers are the processes
    /// waiting for that lock (`PUBSUB NUMSUB`).
    pub fn release_channel(&self, key: &CredentialKey) -> String {
        self.inner.layout.names(key).unlocked
    }

    /// The keys matching `pattern`, each once.
    fn scan(con: &mut Connection, pattern: &str) -> Result<BTreeSet<Vec<u8>>, StoreError> {
        let mut found = BTreeSet::new();
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query(con)
                .map_err(db)?;
            found.extend(keys);
            if next == 0 {
                return Ok(found);
            }
            cursor = next;
        }
    }

    fn stray(name: &[u8]) -> StoreError {
        StoreError::Corrupt(format!(
            "the Redis key {:?} is under this store's prefix but was not written by it; delete it (redis-cli DEL) or choose another prefix",
            String::from_utf8_lossy(name)
        ))
    }
}

impl TokenStore for RedisStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        let name = self.inner.layout.names(key).cred;
        let bytes: Option<Vec<u8>> = self.inner.pool.with(|c| {
            redis::cmd("GET")
                .arg(&name)
                .query(c)
                .map_err(|e| match e.code() {
                    Some("WRONGTYPE") => StoreError::Corrupt(format!(
                        "the Redis key {name} of {key} is not a string value; delete it and authorize again"
                    )),
                    _ => db(e),
                })
        })?;
        match bytes {
            None => Ok(None),
            Some(bytes) => {
                let bytes = zeroize::Zeroizing::new(bytes);
                zoho_oauth::store::decode_token(key, &bytes).map(Some)
            }
        }
    }

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        let names = self
            .inner
            .pool
            .with(|c| Self::scan(c, &self.inner.layout.pattern(false)))?;
        let keys = names
            .iter()
            .map(|name| {
                self.inner
                    .layout
                    .parse(name, false)
                    .ok_or_else(|| Self::stray(name))
            })
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(keys.into_iter().collect())
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        let (tokens, leases) = self.inner.pool.with(|c| {
            let tokens = Self::scan(c, &self.inner.layout.pattern(false))?;
            let leases = Self::scan(c, &self.inner.layout.pattern(true))?;
            Ok((tokens, leases))
        })?;
        // Held leases too: their holder may be about to save a credential not stored yet.
        let mut keys = BTreeSet::new();
        let mut strays = Vec::new();
        for name in &tokens {
            match self.inner.layout.parse(name, false) {
                Some(key) => {
                    keys.insert(key);
                }
                None => strays.push(name),
            }
        }
        keys.extend(
            leases
                .iter()
                .filter_map(|n| self.inner.layout.parse(n, true)),
        );
        for key in &keys {
            let mut locked = self.lock(key, LockWait::AtMost(DELETE_ALL_WAIT))?;
            locked.delete()?;
            locked.release()?;
        }
        // Not credentials, so no holder can be using them; they are under our prefix all the same.
        if !strays.is_empty() {
            self.inner.pool.with(|c| {
                redis::cmd("DEL")
                    .arg(strays.as_slice())
                    .query::<i64>(c)
                    .map(drop)
                    .map_err(db)
            })?;
        }
        Ok(())
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        Ok(Box::new(lease::lock(&self.inner, key, wait)?))
    }

    fn describe(&self) -> String {
        self.inner.describe.clone()
    }
}

/// The `prefix` query parameter of `url`, percent-decoded.
fn url_prefix(url: &str) -> Result<Option<String>, StoreError> {
    let Some((_, query)) = url.split_once('?') else {
        return Ok(None);
    };
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("prefix=") {
            return query_decode(value).map(Some).ok_or_else(|| {
                StoreError::Other(
                    "the prefix in the Redis URL is not valid percent-encoded UTF-8: write ?prefix=NAME"
                        .into(),
                )
            });
        }
    }
    Ok(None)
}

fn query_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn query_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_may_name_the_prefix_percent_encoded() {
        assert_eq!(url_prefix("redis://h/0").unwrap(), None);
        assert_eq!(
            url_prefix("redis://h/0?prefix=billing%3Azoho").unwrap(),
            Some("billing:zoho".into())
        );
        assert_eq!(
            url_prefix("redis+unix:///run/redis.sock?db=2&prefix=a#x").unwrap(),
            Some("a".into())
        );
        assert!(url_prefix("redis://h/0?prefix=%ff").is_err());
    }

    #[test]
    fn an_encoded_prefix_decodes_to_itself() {
        for p in ["zoho-oauth", "billing:zoho", "a b&c=d%e", "zoë"] {
            assert_eq!(query_decode(&query_encode(p)).as_deref(), Some(p));
        }
    }

    #[test]
    fn a_lease_too_short_to_renew_is_refused_before_connecting() {
        let e = RedisStore::builder("redis://127.0.0.1:1/0")
            .lease(Duration::from_millis(10))
            .connect()
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Other(ref why) if why.contains("30 ms")),
            "{e}"
        );
    }
}

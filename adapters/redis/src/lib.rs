//! A Redis [`TokenStore`](zoho_oauth::TokenStore) for `zoho-oauth`: one refresh per credential
//! across a fleet of processes and machines that share a Redis server.
//!
//! [`RedisStore`] keeps each credential (user × client × data centre × environment) as one string
//! value, the core's versioned [`TokenSet`](zoho_oauth::core::TokenSet) encoding
//! ([`encode_token`](zoho_oauth::store::encode_token): tokens, expiry, `api_domain`, scope, the
//! mint budget and the machine's hold), under keys named by a configurable prefix so that several
//! applications can share one Redis database:
//!
//! ```text
//! <prefix>:cred:<user>:<client id>:<dc>:<env>       the token set
//! <prefix>:lock:<user>:<client id>:<dc>:<env>       the lease, while someone holds the lock
//! <prefix>:unlocked:<user>:<client id>:<dc>:<env>   channel: the lease was released
//! ```
//!
//! (each part percent-encoded but for `A-Z a-z 0-9 - . _ ~ @ +`; the default prefix is
//! `zoho-oauth`).
//!
//! **The refresh lock is a lease.** [`lock`](zoho_oauth::TokenStore::lock) sets the lease key
//! with `SET NX PX` to a random token and the holder's `pid@host`; a background thread renews it
//! every third of the lease while it is held (a holder may sit on the lock for a minute-long token
//! request); only the owner removes it, through a Lua compare-and-delete that also wakes the
//! waiters (who subscribe to the release channel, and otherwise look again when the holder's lease
//! would end). A holder that crashes stops renewing: the lock is free after the lease
//! ([`RedisStore::DEFAULT_LEASE`], 10 s). A holder that stalls past its lease loses it: its
//! loads, saves and deletes are Lua scripts that act only while the lease key still holds its
//! token, and otherwise fail with [`StoreError::LeaseLost`](zoho_oauth::StoreError::LeaseLost)
//! without writing — the fence that keeps a late holder from overwriting a newer save or bringing
//! back a revoked credential. A lock still held after the caller's [`LockWait`](zoho_oauth::LockWait)
//! is [`StoreError::Busy`](zoho_oauth::StoreError::Busy) naming the store and the holder.
//!
//! Saves are written at once (there is no transaction to roll back): a save through a lock that
//! is dropped without `release` is kept.
//!
//! Out of scope: Redis Cluster (the lease and the token of a key would need one hash slot) and
//! failover (Redis replicates asynchronously, so a lease taken on a primary that dies before
//! replicating it is lost; the Redlock algorithm over several primaries is not implemented). TLS
//! (`rediss://`) needs the `tls` feature (rustls with the webpki roots).
//!
//! ```no_run
//! use zoho_oauth::core::{DataCenter, Environment};
//! use zoho_oauth::{CredentialKey, LockWait, TokenStore};
//! use zoho_oauth_redis::RedisStore;
//!
//! let store = RedisStore::connect("redis://cache.internal:6379/0?prefix=billing")?;
//! let key = CredentialKey::new("ana@example.com", "1000.ABC", DataCenter::Eu, Environment::Production);
//! // Other processes refreshing this credential wait here (at most 30 s, then `Busy`).
//! let mut locked = store.lock(&key, LockWait::AtMost(std::time::Duration::from_secs(30)))?;
//! if let Some(token) = locked.load()? {
//!     // …refresh if still needed, then:
//!     locked.save(&token)?; // refused (LeaseLost) if the lease ran out meanwhile
//! }
//! locked.release()?;
//! # Ok::<(), zoho_oauth::StoreError>(())
//! ```

mod conn;
mod lease;
mod names;
mod scripts;
mod store;

pub use names::DEFAULT_PREFIX;
pub use store::{RedisStore, RedisStoreBuilder};

//! A credential kept in Redis and changed under its lease, as every process of a fleet does it.
//!
//! ```text
//! cargo run -p zoho-oauth-redis --example redis_store [-- redis://HOST[:PORT][/DB][?prefix=NAME]]
//! ```
//!
//! The default URL is `redis://127.0.0.1:6379/0?prefix=zoho-oauth-example`; the example writes
//! one credential under that prefix and deletes it at the end.

use std::time::Duration;

use zoho_oauth::core::{DataCenter, Environment, TokenSet};
use zoho_oauth::{CredentialKey, LockWait, TokenStore};
use zoho_oauth_redis::RedisStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0?prefix=zoho-oauth-example".into());
    let store = RedisStore::connect(&url)?;
    println!("store: {}", store.describe());
    let key = CredentialKey::new(
        "ana@example.com",
        "1000.EXAMPLECLIENT",
        DataCenter::Us,
        Environment::Production,
    );

    // Lock, load, change, save, release: the one way to change a stored credential.
    let mut locked = store.lock(&key, LockWait::AtMost(Duration::from_secs(30)))?;
    let token = match locked.load()? {
        Some(token) => token,
        None => {
            TokenSet::new("1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef")?
        }
    };
    locked.save(&token)?;

    // Another process (here a second connection) finds the lock held, and is told by whom.
    let other = RedisStore::connect(&url)?;
    match other.lock(&key, LockWait::NoWait) {
        Err(busy) => println!("a second holder: {busy}"),
        Ok(_) => return Err("the lock was taken twice".into()),
    }
    locked.release()?;

    println!("stored under the Redis key {}", store.token_key(&key));
    println!("credentials: {}", store.list()?.len());
    let mut locked = store.lock(&key, LockWait::AtMost(Duration::from_secs(30)))?;
    locked.delete()?;
    locked.release()?;
    Ok(())
}

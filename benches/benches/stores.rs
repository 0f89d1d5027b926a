#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Criterion benchmarks of the stores: what one refresh costs in storage — take the refresh lock,
//! load, save, release — a plain load, and a `NoWait` lock meeting a held lock (`Busy`). File and SQLite stores write through to disk (fsync);
//! the database and Redis stores run when their local server is reachable and are skipped otherwise.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use zoho_oauth::core::{DataCenter, Environment, Instant, Secret, TokenSet};
use zoho_oauth::{CredentialKey, FileStore, LockWait, StoreError, TokenStore};
use zoho_oauth_sqlite::SqliteStore;

fn key() -> CredentialKey {
    CredentialKey::new(
        "ana@example.com",
        "1000.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
        DataCenter::Us,
        Environment::Production,
    )
}

fn token() -> TokenSet {
    let mut t =
        TokenSet::new("1000.1a2b3c4d5e6f708192a3b4c5d6e7f809.9f8e7d6c5b4a39281706f5e4d3c2b1a0")
            .unwrap();
    t.access_token = Some(
        Secret::new(
            "access_token",
            "1000.0a1b2c3d4e5f60718293a4b5c6d7e8f9.9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        )
        .unwrap(),
    );
    t.issued_at = Instant::from_millis(1_700_000_000_000);
    t.expires_at = t.issued_at.saturating_add(Duration::from_secs(3600));
    t.api_domain.push_str("https://www.zohoapis.com").unwrap();
    t.scope.push_str("ZohoCRM.modules.ALL").unwrap();
    t
}

/// The lock wait of every benchmark: nothing else holds the lock.
const WAIT: LockWait = LockWait::AtMost(Duration::from_secs(10));

/// Save or (with `None`) delete under the lock, the only way the trait allows.
fn change(store: &dyn TokenStore, token: Option<&TokenSet>) -> Result<(), StoreError> {
    let mut locked = store.lock(&key(), WAIT)?;
    match token {
        Some(t) => locked.save(t)?,
        None => drop(locked.delete()?),
    }
    locked.release()
}

fn bench_store(c: &mut Criterion, name: &str, store: &dyn TokenStore) {
    let key = key();
    let token = token();
    change(store, Some(&token)).unwrap();
    c.bench_function(&format!("{name}: lock + load + save + release"), |b| {
        b.iter(|| {
            let mut locked = store.lock(&key, WAIT).unwrap();
            let loaded = locked.load().unwrap();
            locked.save(black_box(&token)).unwrap();
            locked.release().unwrap();
            loaded.is_some()
        })
    });
    c.bench_function(&format!("{name}: load"), |b| {
        b.iter(|| store.load(black_box(&key)).unwrap().is_some())
    });
    // What a caller that can serve a still-valid token pays to learn that another holds the
    // lock (the holder's lookup included, where the store names it).
    let held = store.lock(&key, WAIT).unwrap();
    c.bench_function(
        &format!("{name}: lock with NoWait while held (Busy)"),
        |b| {
            b.iter(|| {
                let busy = store.lock(black_box(&key), LockWait::NoWait);
                assert!(matches!(busy, Err(StoreError::Busy(_))));
            })
        },
    );
    drop(held);
}

pub fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let file = FileStore::open(dir.path().join("tokens.zot")).unwrap();
    bench_store(c, "FileStore", &file);
    let sqlite = SqliteStore::open(dir.path().join("tokens.sqlite3")).unwrap();
    bench_store(c, "SqliteStore", &sqlite);
    match zoho_oauth_postgres::PostgresStore::connect("postgres://postgres@127.0.0.1:5432/test") {
        Ok(pg) => {
            bench_store(c, "PostgresStore", &pg);
            let _ = change(&pg, None);
        }
        Err(e) => eprintln!("PostgresStore skipped: {e}"),
    }
    match zoho_oauth_mysql::MysqlStore::connect("mysql://root@127.0.0.1:3306/test") {
        Ok(my) => {
            bench_store(c, "MysqlStore", &my);
            let _ = change(&my, None);
        }
        Err(e) => eprintln!("MysqlStore skipped: {e}"),
    }
    // A prefix of its own, so that the benchmark never meets another program's keys.
    match zoho_oauth_redis::RedisStore::builder("redis://127.0.0.1:6379/0")
        .prefix("zoho-oauth-bench")
        .connect()
    {
        Ok(redis) => {
            bench_store(c, "RedisStore", &redis);
            let _ = change(&redis, None);
        }
        Err(e) => eprintln!("RedisStore skipped: {e}"),
    }
}

criterion_group!(
    name = store_benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(4));
    targets = benches
);
criterion_main!(store_benches);

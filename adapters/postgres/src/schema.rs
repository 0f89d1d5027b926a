//! The versioned schema: created or migrated on connect, refused when newer than this version.

use postgres::Client;
use zoho_oauth::StoreError;

use crate::store::db;

/// The schema version this version of the crate writes (the row of `zoho_oauth_schema`).
pub const SCHEMA_VERSION: i32 = 1;

/// `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    // 1: one row per credential; `token` is TokenSet::encode's bytes.
    "CREATE TABLE zoho_oauth_credentials (
        user_name   text        NOT NULL,
        client_id   text        NOT NULL,
        data_center text        NOT NULL,
        environment text        NOT NULL,
        token       bytea       NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_name, client_id, data_center, environment)
    )",
];

/// Bring the schema of the connection's current schema to [`SCHEMA_VERSION`], serialised with other
/// processes by an advisory lock (waited for at most 60 s); a newer schema is refused and left as
/// it is. A current schema is only read: a read-only user or session connects as well.
pub(crate) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass(quote_ident(current_schema()) || '.zoho_oauth_schema') IS NOT NULL",
            &[],
        )
        .and_then(|row| row.try_get(0))
        .map_err(db)?;
    if exists {
        let found: Option<i32> = client
            .query_one("SELECT max(version) FROM zoho_oauth_schema", &[])
            .and_then(|row| row.try_get(0))
            .map_err(db)?;
        match found {
            Some(SCHEMA_VERSION) => return Ok(()),
            Some(v) if v > SCHEMA_VERSION => return Err(future(v)),
            _ => {}
        }
    }
    let mut tx = client.transaction().map_err(db)?;
    tx.batch_execute("SET LOCAL lock_timeout = '60s'")
        .map_err(db)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(current_schema()::text || ':zoho_oauth_schema', 0))",
        &[],
    )
    .map_err(db)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS zoho_oauth_schema (version integer NOT NULL)")
        .map_err(db)?;
    let found: Option<i32> = tx
        .query_one("SELECT max(version) FROM zoho_oauth_schema", &[])
        .and_then(|row| row.try_get(0))
        .map_err(db)?;
    let found = found.unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(future(found));
    }
    if found < 0 {
        return Err(StoreError::Corrupt(format!(
            "zoho_oauth_schema holds version {found}"
        )));
    }
    for migration in &MIGRATIONS[found as usize..] {
        tx.batch_execute(migration).map_err(db)?;
    }
    if found < SCHEMA_VERSION {
        tx.execute("DELETE FROM zoho_oauth_schema", &[])
            .map_err(db)?;
        tx.execute(
            "INSERT INTO zoho_oauth_schema (version) VALUES ($1)",
            &[&SCHEMA_VERSION],
        )
        .map_err(db)?;
    }
    tx.commit().map_err(db)
}

fn future(found: i32) -> StoreError {
    StoreError::FutureVersion(format!(
        "the PostgreSQL schema is at version {found}, this program knows up to {SCHEMA_VERSION}"
    ))
}

//! The versioned schema: what version 1 looks like, and the migrations that get any older file
//! there.

use rusqlite::{Connection, OptionalExtension};
use zoho_oauth::StoreError;

use crate::error::store_error;

/// The schema version this crate writes (`PRAGMA user_version`) and the newest it opens.
pub const SCHEMA_VERSION: u32 = 1;

/// `PRAGMA application_id` of our files: "ZOAU".
pub(crate) const APPLICATION_ID: i32 = 0x5A4F_4155;

/// `MIGRATIONS[n]` takes a file from version `n` to `n + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    // 0 -> 1: one row per credential; the token is TokenSet::encode (versioned on its own).
    "CREATE TABLE credentials (
        user        TEXT    NOT NULL,
        client_id   TEXT    NOT NULL,
        data_center TEXT    NOT NULL,
        environment TEXT    NOT NULL,
        token       BLOB    NOT NULL,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (user, client_id, data_center, environment)
    ) WITHOUT ROWID;",
];

/// The version and owner marks of the open file.
fn marks(conn: &Connection) -> Result<(u32, i32), StoreError> {
    conn.query_row(
        "SELECT (SELECT user_version FROM pragma_user_version),
                (SELECT application_id FROM pragma_application_id)",
        [],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i32>(1)?)),
    )
    .map(|(v, id)| (u32::try_from(v).unwrap_or(u32::MAX), id))
    .map_err(store_error)
}

/// What [`inspect`] found in an open file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// Ours, at [`SCHEMA_VERSION`].
    Current,
    /// Ours at an older version, or a new empty file: [`migrate`] brings it up.
    NeedsUpgrade,
}

/// Check, without writing anything (no pragma that writes, no journal mode change), that the
/// file `conn` opened is ours or empty. Refuses a newer schema ([`StoreError::FutureVersion`]),
/// another application's database and a non-empty database without our marks
/// ([`StoreError::Corrupt`]); a file that is not a database at all fails here too.
///
/// The marks and the tables are read in one read transaction (which writes nothing): read apart,
/// another process's [`migrate`] committing between the two reads made a new file look like a
/// foreign one (no marks, yet a `credentials` table) to a process opening it at the same moment.
pub(crate) fn inspect(conn: &Connection) -> Result<Found, StoreError> {
    conn.execute_batch("BEGIN DEFERRED").map_err(store_error)?;
    let result = inspect_in_snapshot(conn);
    let ended = conn.execute_batch("COMMIT").map_err(store_error);
    let found = result?;
    ended?;
    Ok(found)
}

fn inspect_in_snapshot(conn: &Connection) -> Result<Found, StoreError> {
    let (version, app) = marks(conn)?;
    if check((version, app))? {
        return Ok(Found::Current);
    }
    if version == 0 && app == 0 {
        refuse_foreign_tables(conn)?;
    }
    Ok(Found::NeedsUpgrade)
}

/// Bring a file that [`inspect`] accepted to [`SCHEMA_VERSION`]. Safe when many processes open
/// a new file at once: the upgrade runs under `BEGIN IMMEDIATE` and re-reads the marks inside it.
pub(crate) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(store_error)?;
    let result = upgrade(conn);
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = conn.execute_batch(end).map_err(store_error);
    result.and(ended)
}

/// `Ok(true)` when the file is ours and current, `Ok(false)` when it needs an upgrade.
fn check((version, app): (u32, i32)) -> Result<bool, StoreError> {
    if version > SCHEMA_VERSION {
        return Err(StoreError::FutureVersion(format!(
            "schema version {version}, this program reads up to {SCHEMA_VERSION}"
        )));
    }
    if app != APPLICATION_ID && app != 0 {
        return Err(StoreError::Corrupt(format!(
            "the database belongs to another application (application_id {app:#x})"
        )));
    }
    Ok(version == SCHEMA_VERSION && app == APPLICATION_ID)
}

/// A database without our marks must hold nothing at all.
fn refuse_foreign_tables(conn: &Connection) -> Result<(), StoreError> {
    let foreign: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(store_error)?;
    match foreign {
        Some(table) => Err(StoreError::Corrupt(format!(
            "the database already holds other data (e.g. {table:?}) and no zoho-oauth schema version; use a file of its own"
        ))),
        None => Ok(()),
    }
}

fn upgrade(conn: &Connection) -> Result<(), StoreError> {
    let (version, app) = marks(conn)?;
    if check((version, app))? {
        return Ok(()); // another process upgraded it first
    }
    if version == 0 && app == 0 {
        refuse_foreign_tables(conn)?;
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        conn.execute_batch(sql).map_err(store_error)?;
        tracing::info!(from, to = from + 1, "token store schema migrated");
    }
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(store_error)?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(store_error)?;
    Ok(())
}

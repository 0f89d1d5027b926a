//! The schema: the SDKs' `oauthtoken` table (created with exactly their shape when missing) plus
//! our versioned additions, migrated on connect and refused when newer than this version.

use mysql::prelude::Queryable;
use mysql::PooledConn;
use zoho_oauth::StoreError;

use crate::store::db;

/// The schema version this version of the crate writes (the row of `zoho_oauth_schema`).
pub const SCHEMA_VERSION: u32 = 1;

/// The table of the SDKs' `DBStore`, as their documentation creates it.
const SDK_TABLE: &str = "CREATE TABLE IF NOT EXISTS oauthtoken (
    id varchar(10) NOT NULL,
    user_name varchar(255),
    client_id varchar(255),
    client_secret varchar(255),
    refresh_token varchar(255),
    access_token varchar(255),
    grant_token varchar(255),
    expiry_time varchar(20),
    redirect_url varchar(255),
    api_domain varchar(255),
    primary key (id)
)";

// The columns this store reads or writes (the SDKs' ten); an `oauthtoken` without one of them is
// not the SDKs'.
use zoho_oauth::sdk::rows::COLUMNS as SDK_COLUMNS;

/// Version 1: our columns, appended after the SDKs' ten (they read rows by position).
const V1_COLUMNS: [(&str, &str); 4] = [
    ("zo_key", "binary(32) NULL"),
    ("zo_dc", "varchar(8) NULL"),
    ("zo_env", "varchar(16) NULL"),
    ("zo_state", "blob NULL"),
];

/// Bring the database of `conn` to [`SCHEMA_VERSION`]. MySQL cannot roll DDL back, so every step
/// checks what exists and a migration cut short resumes; `GET_LOCK` keeps processes that connect
/// at the same moment from migrating twice.
pub(crate) fn migrate(conn: &mut PooledConn) -> Result<(), StoreError> {
    // A current schema is only read: a user that may not write (or create) connects too.
    let recorded: Option<i64> = conn
        .query_first(
            "SELECT COUNT(*) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'zoho_oauth_schema'",
        )
        .map_err(db)?;
    if recorded.unwrap_or(0) > 0 {
        let found: Option<Option<u32>> = conn
            .query_first("SELECT MAX(version) FROM zoho_oauth_schema")
            .map_err(db)?;
        match found.flatten() {
            Some(SCHEMA_VERSION) => return Ok(()),
            Some(v) if v > SCHEMA_VERSION => return Err(future(v)),
            _ => {}
        }
    }
    let got: Option<Option<i64>> = conn
        .query_first("SELECT GET_LOCK(CONCAT('zoho_oauth:', MD5(DATABASE())), 60)")
        .map_err(db)?;
    if got.flatten() != Some(1) {
        return Err(StoreError::Database(
            "another process kept the schema migration lock for 60 s: retry, or look for a stuck migration".into(),
        ));
    }
    let out = migrate_locked(conn);
    let released = conn
        .query_drop("DO RELEASE_LOCK(CONCAT('zoho_oauth:', MD5(DATABASE())))")
        .map_err(db);
    out.and(released)
}

fn migrate_locked(conn: &mut PooledConn) -> Result<(), StoreError> {
    conn.query_drop("CREATE TABLE IF NOT EXISTS zoho_oauth_schema (version int NOT NULL)")
        .map_err(db)?;
    let found: Option<Option<u32>> = conn
        .query_first("SELECT MAX(version) FROM zoho_oauth_schema")
        .map_err(db)?;
    let found = found.flatten().unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(future(found));
    }
    conn.query_drop(SDK_TABLE).map_err(db)?;
    let columns: Vec<String> = conn
        .query(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'oauthtoken'",
        )
        .map_err(db)?;
    let has = |name: &str| columns.iter().any(|c| c.eq_ignore_ascii_case(name));
    // SDKs before api_domain wrote 9 columns: the column is added where the newer SDKs read it
    // (position 10, before ours); the older SDKs read the first nine and never see it.
    if !has("api_domain") && SDK_COLUMNS[..9].iter().all(|c| has(c)) {
        conn.query_drop(
            "ALTER TABLE oauthtoken ADD COLUMN api_domain varchar(255) NULL AFTER redirect_url",
        )
        .map_err(db)?;
        tracing::info!("added api_domain to a 9-column oauthtoken table");
        return migrate_locked(conn);
    }
    if let Some(missing) = SDK_COLUMNS.iter().find(|c| !has(c)) {
        return Err(StoreError::Corrupt(format!(
            "the table oauthtoken has no column {missing}, so it is not the one of the Zoho SDKs v5 and later \
             (older SDKs had user_mail and 9 columns)"
        )));
    }
    if found >= 1 {
        return Ok(());
    }
    let add: Vec<String> = V1_COLUMNS
        .iter()
        .filter(|(name, _)| !has(name))
        .map(|(name, ty)| format!("ADD COLUMN {name} {ty}"))
        .collect();
    if !add.is_empty() {
        conn.query_drop(format!("ALTER TABLE oauthtoken {}", add.join(", ")))
            .map_err(db)?;
    }
    let indexed: Option<i64> = conn
        .query_first(
            "SELECT COUNT(*) FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'oauthtoken' AND INDEX_NAME = 'zo_key'",
        )
        .map_err(db)?;
    if indexed.unwrap_or(0) == 0 {
        conn.query_drop("ALTER TABLE oauthtoken ADD UNIQUE INDEX zo_key (zo_key)")
            .map_err(db)?;
    }
    conn.query_drop(
        "CREATE TABLE IF NOT EXISTS zoho_oauth_lock (zo_key binary(32) NOT NULL PRIMARY KEY) ENGINE=InnoDB",
    )
    .map_err(db)?;
    conn.query_drop("DELETE FROM zoho_oauth_schema")
        .map_err(db)?;
    conn.exec_drop(
        "INSERT INTO zoho_oauth_schema (version) VALUES (?)",
        (SCHEMA_VERSION,),
    )
    .map_err(db)
}

fn future(found: u32) -> StoreError {
    StoreError::FutureVersion(format!(
        "the oauthtoken schema is at version {found}, this program knows up to {SCHEMA_VERSION}"
    ))
}

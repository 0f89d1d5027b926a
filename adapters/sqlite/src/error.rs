//! SQLite errors as [`StoreError`]s: a file that is not a database, or a damaged one, is `Corrupt`.

use rusqlite::ErrorCode;
use zoho_oauth::StoreError;

/// Whether `e` means another connection holds the write lock (after the busy timeout), so that
/// trying again later can succeed. A stale read snapshot (`SQLITE_BUSY_SNAPSHOT`) never will.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    let snapshot = e
        .sqlite_error()
        .is_some_and(|f| f.extended_code == rusqlite::ffi::SQLITE_BUSY_SNAPSHOT);
    !snapshot
        && matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        )
}

/// Translate a SQLite error. Its text names statements and codes, never bound values, so it
/// carries no secret.
pub(crate) fn store_error(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            StoreError::Corrupt("the file is not a SQLite database".into())
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt(format!("the SQLite database is damaged ({e})"))
        }
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly(format!(
            "the SQLite database is read-only for this process ({e})"
        )),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Database(format!(
            "the SQLite database stayed locked by another connection past the busy timeout ({e}); retry, or stop a stuck process"
        )),
        _ => StoreError::Database(e.to_string()),
    }
}

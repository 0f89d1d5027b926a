//! `import csv:PATH` and `export csv:PATH`: the official SDKs' CSV token file, both ways
//! (`csv:-` is stdin/stdout).

use std::path::Path;

use serde_json::json;
use zoho_oauth::core::Origin;
use zoho_oauth::sdk::csv;
use zoho_oauth::sdk::rows::RowContext;
use zoho_oauth::{Clock, Replaced, SystemClock};

use crate::context::Ctx;
use crate::exit::CliError;
use crate::{input, out};

/// The path of a `csv:PATH` target.
fn csv_path(target: &str) -> Result<&str, CliError> {
    match target.strip_prefix("csv:") {
        Some(p) if !p.is_empty() => Ok(p),
        _ => Err(CliError::usage(
            format!("`{target}` is not a csv:PATH target"),
            "write csv:PATH (the official SDKs' token file), or csv:- for stdin/stdout",
        )),
    }
}

fn csv_error(path: &str, e: csv::CsvError) -> CliError {
    let what = format!("{path}: {e}");
    match e {
        csv::CsvError::Io(_) => CliError::other(what, "check the path and its permissions"),
        _ => CliError::usage(
            what,
            "fix the file (see the line named above) and import again",
        ),
    }
}

/// Where a token file is read from: a file (read twice) or standard input (read once, kept).
enum Source {
    File(std::path::PathBuf),
    Stdin(String),
}

impl Source {
    fn open(&self, path: &str) -> Result<Box<dyn std::io::Read + '_>, CliError> {
        Ok(match self {
            Self::Stdin(text) => Box::new(text.as_bytes()),
            Self::File(p) => Box::new(std::fs::File::open(p).map_err(|e| {
                CliError::usage(
                    format!("cannot open {path}: {e}"),
                    "check the path after csv:",
                )
            })?),
        })
    }
}

/// Import the official SDKs' token file: every row is mapped by the library's one SDK-row rule
/// (keyed by its `api_domain`'s data centre, or the configured one when it says none) and checked
/// first — a file with a bad row imports nothing, and every bad row is reported by line — then each
/// is installed through the client's locked cycle (`Client::install`). The file is streamed twice
/// rather than held in memory.
pub fn import(ctx: &Ctx, target: &str) -> Result<(), CliError> {
    let path = csv_path(target)?;
    let source = if path == "-" {
        Source::Stdin(input::read_stdin("token file")?)
    } else {
        Source::File(path.into())
    };
    let origin = match &ctx.settings.accounts_url {
        Some(url) => Origin::custom(url).map_err(|e| {
            CliError::usage(
                format!("the accounts URL {url:?} is not an origin: {e}"),
                "give scheme, host and port, e.g. http://127.0.0.1:8080",
            )
        })?,
        None => Origin::Zoho(ctx.settings.data_center),
    };
    let row_ctx = || RowContext {
        origin: &origin,
        configured: (ctx.settings.data_center, ctx.settings.environment),
        now: SystemClock.now(),
    };
    // Pass 1: every row checked, nothing stored.
    let mut bad = Vec::new();
    for row in csv::import(source.open(path)?, row_ctx()) {
        let row = row.map_err(|e| csv_error(path, e))?;
        let why = match &row.outcome {
            Err(why) => Some(why.to_string()),
            Ok(r) => input::user_name(&r.key.user, "the user_name column")
                .and_then(|()| input::token_text(input::CLIENT_ID, &r.key.client_id))
                .err()
                .map(|e| e.what),
        };
        if let Some(why) = why {
            out::warn(format!("{path}: line {}: {why}", row.line), None);
            bad.push(row.line);
        }
    }
    if !bad.is_empty() {
        return Err(CliError::usage(
            format!(
                "{} row(s) of {path} cannot be imported (line {}); nothing was imported",
                bad.len(),
                bad.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "fix or delete those rows (see the warnings above) and import again",
        ));
    }
    // Pass 2: install each.
    let client = ctx.client()?;
    // The refresh token each user had before, to say what an import replaces.
    let before: Vec<(String, String)> = client
        .status()?
        .into_iter()
        .map(|s| (s.user, s.hint))
        .collect();
    let configured = ctx.settings.client_id.as_deref();
    let mut users = Vec::new();
    let mut replaced_users = Vec::new();
    let mut other_clients = Vec::new();
    for row in csv::import(source.open(path)?, row_ctx()) {
        let row = row.map_err(|e| csv_error(path, e))?;
        let line = row.line;
        let Ok(r) = row.outcome else {
            // The file changed between the passes.
            return Err(CliError::usage(
                format!("{path}: line {line} changed while it was imported"),
                "import the file again once nothing else writes it",
            ));
        };
        for note in &r.notes {
            out::note(format!("note: line {line}: {note}"));
        }
        let new = r.token.hint().to_owned();
        let added = client.install(r.key.clone(), r.token).map_err(|e| {
            let e = CliError::from(e);
            CliError::new(
                e.class,
                format!(
                    "line {line}: saving {} failed ({} row(s) before it were imported): {}",
                    r.key,
                    users.len(),
                    e.what
                ),
                e.todo,
            )
        })?;
        let old = before
            .iter()
            .find(|(u, _)| *u == r.key.user && r.key.client_id == configured.unwrap_or(""))
            .map(|(_, h)| h.as_str());
        match added.replaced {
            Replaced::Nothing => {}
            Replaced::Damaged => out::note(format!(
                "note: line {line}: replaced the damaged entry of {}",
                r.key.user
            )),
            _ => {
                let what = match old {
                    Some(old) if old == new => "the same refresh token was stored already".to_owned(),
                    Some(old) => format!("refresh token …{old} replaced by …{new}; the old one stays valid at Zoho until revoked"),
                    None => "it stays valid at Zoho until revoked".to_owned(),
                };
                out::note(format!(
                    "note: line {line}: replaced the stored credential of {} ({what})",
                    r.key.user
                ));
                replaced_users.push(r.key.user.clone());
            }
        }
        if configured.is_some_and(|c| c != r.key.client_id)
            && !other_clients.contains(&r.key.client_id)
        {
            other_clients.push(r.key.client_id.clone());
        }
        let differs = match (&ctx.settings.client_secret, &r.client_secret) {
            (Some(mine), Some(theirs)) => {
                configured == Some(r.key.client_id.as_str()) && !theirs.ct_eq(mine)
            }
            _ => false,
        };
        if differs {
            out::warn(
                format!("line {line}: the file's client secret differs from the configured one"),
                Some("the configured secret is the one used; check which is current in the API console"),
            );
        }
        users.push(r.key.user);
    }
    tracing::info!(count = users.len(), "imported SDK token file");
    if ctx.json {
        out::json(&json!({
            "imported": users.len(),
            "users": users,
            "replaced": replaced_users,
            "other_client_ids": other_clients,
        }));
    } else {
        out::line(format!(
            "imported {} credential(s) from {path} into {}: {}",
            users.len(),
            ctx.settings.store.display(),
            users.join(", ")
        ));
        if !other_clients.is_empty() {
            out::note(format!(
                "note: some rows belong to other client ids ({}); use --client-id to work with them",
                other_clients.join(", ")
            ));
        }
    }
    Ok(())
}

/// Write every credential of the configured client as an SDK token file (mode 0600 whatever the
/// file was before: it holds the client secret and refresh tokens). A damaged entry is skipped
/// with a warning naming it; the others are written.
pub fn export(ctx: &Ctx, target: &str) -> Result<(), CliError> {
    let path = csv_path(target)?;
    let (client_id, client_secret) = ctx.settings.client()?;
    let store = ctx.store()?;
    let store_err = |e: zoho_oauth::StoreError| CliError::from(zoho_oauth::Error::Store(e));
    let mut keys: Vec<_> = store
        .list()
        .map_err(store_err)?
        .into_iter()
        .filter(|k| {
            k.client_id == client_id
                && k.data_center == ctx.settings.data_center
                && k.environment == ctx.settings.environment
                && ctx.settings.user.as_ref().is_none_or(|u| &k.user == u)
        })
        .collect();
    keys.sort();
    let mut tokens = Vec::new();
    let mut damaged = Vec::new();
    for key in keys {
        match store.load(&key) {
            Ok(Some(t)) => tokens.push((key, t)),
            Ok(None) => {}
            Err(zoho_oauth::StoreError::Corrupt(why)) => {
                out::warn(
                    format!("skipped the damaged entry of {}: {why}", key.user),
                    Some(&format!(
                        "delete it with `zoho-oauth delete --user {}`",
                        key.user
                    )),
                );
                damaged.push(key.user);
            }
            Err(e) => return Err(store_err(e)),
        }
    }
    let rows: Vec<_> = tokens
        .iter()
        .map(|(k, t)| (k.clone(), t, client_secret))
        .collect();
    if path == "-" {
        let mut text = zeroize::Zeroizing::new(Vec::new());
        csv::export(&mut *text, &rows).map_err(|e| csv_error(path, e))?;
        out::data(&text);
    } else {
        write_private(Path::new(path), |file| {
            csv::export(file, &rows).map_err(|e| csv_error(path, e))
        })?;
    }
    let users: Vec<&str> = tokens.iter().map(|(k, _)| k.user.as_str()).collect();
    if ctx.json && path != "-" {
        out::json(&json!({
            "exported": users.len(),
            "users": users,
            "path": path,
            "skipped_damaged": damaged,
        }));
    } else {
        out::note(format!(
            "exported {} credential(s) of {} {} to {path} (it holds secrets: keep it private)",
            users.len(),
            ctx.settings.data_center,
            ctx.settings.environment
        ));
    }
    Ok(())
}

/// Write `path` through a temporary file beside it, created with mode 0600, then renamed over
/// it: the file ends up private whatever mode an existing one had, and a failed write leaves
/// the old file as it was.
fn write_private(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let fail = |e: &dyn std::fmt::Display| {
        CliError::usage(
            format!("cannot write {}: {e}", path.display()),
            "check the path after csv: and the directory's permissions",
        )
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // tempfile creates its files with mode 0600 on Unix.
    let mut temp = tempfile::Builder::new()
        .prefix(".zoho-oauth-export-")
        .tempfile_in(dir)
        .map_err(|e| fail(&e))?;
    write(temp.as_file_mut())?;
    temp.as_file().sync_all().map_err(|e| fail(&e))?;
    temp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

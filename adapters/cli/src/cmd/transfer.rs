//! `import csv:PATH` and `export csv:PATH`: the official SDKs' CSV token file, both ways
//! (`csv:-` is stdin/stdout).

use std::io::Write;
use std::path::Path;

use serde_json::json;
use zoho_oauth::csv;

use crate::context::Ctx;
use crate::exit::CliError;
use crate::out;

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

/// Save every row of the token file in the store, keyed with the configured data centre and environment.
pub fn import(ctx: &Ctx, target: &str) -> Result<(), CliError> {
    let path = csv_path(target)?;
    let records = if path == "-" {
        csv::import(
            std::io::stdin().lock(),
            ctx.settings.data_center,
            ctx.settings.environment,
        )
    } else {
        let file = std::fs::File::open(path).map_err(|e| {
            CliError::usage(
                format!("cannot open {path}: {e}"),
                "check the path after csv:",
            )
        })?;
        csv::import(file, ctx.settings.data_center, ctx.settings.environment)
    }
    .map_err(|e| csv_error(path, e))?;
    let store = ctx.store()?;
    let configured = ctx.settings.client_id.as_deref();
    let mut users = Vec::new();
    let mut other_clients = Vec::new();
    for r in &records {
        store.save(&r.key, &r.token).map_err(|e| {
            CliError::other(
                format!("saving {} failed: {e}", r.key),
                "check the store and import again",
            )
        })?;
        if configured.is_some_and(|c| c != r.key.client_id)
            && !other_clients.contains(&r.key.client_id)
        {
            other_clients.push(r.key.client_id.clone());
        }
        if ctx.settings.client_secret.as_deref().is_some_and(|s| {
            configured == Some(r.key.client_id.as_str()) && s != r.client_secret.as_str()
        }) {
            out::warn(format!(
                "line {}: the file's client secret differs from the configured one",
                r.line
            ));
        }
        users.push(r.key.user.clone());
    }
    tracing::info!(count = records.len(), "imported SDK token file");
    if ctx.json {
        out::json(
            &json!({ "imported": records.len(), "users": users, "other_client_ids": other_clients }),
        );
    } else {
        println!(
            "imported {} credential(s) from {path} into {} as {} {}: {}",
            records.len(),
            ctx.settings.store.display(),
            ctx.settings.data_center,
            ctx.settings.environment,
            users.join(", ")
        );
        if !other_clients.is_empty() {
            out::note(format!(
                "note: some rows belong to other client ids ({}); use --client-id to work with them",
                other_clients.join(", ")
            ));
        }
    }
    Ok(())
}

/// Write every credential of the configured client as an SDK token file.
pub fn export(ctx: &Ctx, target: &str) -> Result<(), CliError> {
    let path = csv_path(target)?;
    let (client_id, client_secret) = ctx.settings.client()?;
    let store = ctx.store()?;
    let store_err = |e: zoho_oauth::StoreError| {
        CliError::other(format!("reading the store failed: {e}"), "check the store")
    };
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
    for key in keys {
        if let Some(t) = store.load(&key).map_err(store_err)? {
            tokens.push((key, t));
        }
    }
    let rows: Vec<_> = tokens
        .iter()
        .map(|(k, t)| (k.clone(), t, client_secret))
        .collect();
    if path == "-" {
        let mut stdout = std::io::stdout().lock();
        csv::export(&mut stdout, &rows).map_err(|e| csv_error(path, e))?;
        let _ = stdout.flush();
    } else {
        let file = create_private(Path::new(path)).map_err(|e| {
            CliError::usage(
                format!("cannot create {path}: {e}"),
                "check the path after csv:",
            )
        })?;
        csv::export(file, &rows).map_err(|e| csv_error(path, e))?;
    }
    let users: Vec<&str> = tokens.iter().map(|(k, _)| k.user.as_str()).collect();
    if ctx.json && path != "-" {
        out::json(&json!({ "exported": users.len(), "users": users, "path": path }));
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

/// Create (or truncate) a file readable by its owner only: it will hold tokens and the client secret.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

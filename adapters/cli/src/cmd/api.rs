//! `api METHOD PATH [--data JSON]`: an authenticated call at the token's api_domain, refreshed and
//! retried once on a 401 `INVALID_TOKEN`.

use serde_json::json;
use zoho_oauth::core::Method;
use zoho_oauth::{Error, TransportError};

use crate::args::ApiArgs;
use crate::context::Ctx;
use crate::exit::{Class, CliError};
use crate::out;
use crate::spinner::while_waiting;

/// Make the call; print the body (or, with `--json`, status and body) on stdout.
pub fn run(ctx: &Ctx, args: &ApiArgs) -> Result<(), CliError> {
    let method = parse_method(&args.method)?;
    let max_body = parse_size(&args.max_body)?;
    if args.path.chars().any(out::is_unsafe) {
        return Err(CliError::usage(
            format!(
                "the API path \"{}\" holds a line break or another control character",
                args.path
            ),
            "give a path such as /crm/v8/users (percent-encode special characters in the query)",
        ));
    }
    let body = args.data.as_deref().map(read_data).transpose()?;
    if body.is_some() && matches!(method, Method::Get | Method::Delete) {
        return Err(CliError::usage(
            format!("--data was given with {}", method.as_str()),
            "send a body with POST, PUT or PATCH, or drop --data",
        ));
    }
    if !(args.path.starts_with('/')
        || args.path.starts_with("https://")
        || args.path.starts_with("http://"))
    {
        return Err(CliError::usage(
            format!("`{}` is neither a path nor a URL", args.path),
            "give a path starting with / (e.g. /crm/v8/users) or an absolute URL at the api_domain",
        ));
    }
    let client = ctx.client_reading(ctx.store()?, Some(max_body))?;
    let user = ctx.user(&client)?;
    let response = while_waiting("calling the API", || {
        client.request(&user, method, &args.path, body.as_deref().map(str::as_bytes))
    })
    .map_err(|e| match e {
        Error::Transport(TransportError::TooLarge { limit }) => CliError::other(
            format!("the API's answer is larger than {limit} bytes, the most this command reads"),
            "ask for less (Zoho's list APIs page with per_page and page), or raise --max-body (e.g. --max-body 64M)",
        ),
        other => other.into(),
    })?;
    let status = response.status;
    if ctx.json {
        let body = serde_json::from_slice::<serde_json::Value>(&response.body)
            .unwrap_or_else(|_| json!(String::from_utf8_lossy(&response.body)));
        out::json(&json!({ "status": status, "body": body }));
    } else {
        // The body is this command's data, byte for byte into a pipe (like curl): pipe it to jq.
        // On a terminal its control characters are escaped.
        let mut body = response.body.clone();
        if !body.is_empty() && !body.ends_with(b"\n") {
            body.push(b'\n');
        }
        out::data(&body);
    }
    match status {
        200..=299 => Ok(()),
        401 => Err(CliError::new(
            Class::ReAuthorize,
            "the API refused the access token (HTTP 401) even after a refresh",
            "check the token's scopes and environment, or authorize again with `zoho-oauth login`",
        )),
        429 => Err(CliError::new(
            Class::Throttled,
            "the API is rate limiting this account (HTTP 429)",
            "wait a minute and retry; see Zoho's API limits for your edition",
        )),
        500..=599 => Err(CliError::new(
            Class::Network,
            format!("the API failed (HTTP {status})"),
            "retry later; check Zoho's status page if it persists",
        )),
        _ => Err(CliError::other(
            format!("the API answered HTTP {status}"),
            "read the response body above for Zoho's explanation",
        )),
    }
}

/// A size in bytes: `1048576`, `512K`, `16M` (binary units).
fn parse_size(text: &str) -> Result<usize, CliError> {
    let bad = || {
        CliError::usage(
            format!("--max-body `{text}` is not a size"),
            "write a number of bytes, optionally with K or M: 512K, 16M",
        )
    };
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&t[..i], t[i..].trim()),
        None => (t, ""),
    };
    let n: usize = digits.parse().map_err(|_| bad())?;
    let factor = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        _ => return Err(bad()),
    };
    n.checked_mul(factor).filter(|&b| b > 0).ok_or_else(bad)
}

/// `GET`, `POST`, `PUT`, `PATCH` or `DELETE` (any case).
fn parse_method(text: &str) -> Result<Method, CliError> {
    Method::from_name(text).ok_or_else(|| {
        CliError::usage(
            format!("the method `{text}` is not supported"),
            "use GET, POST, PUT, PATCH or DELETE",
        )
    })
}

/// The `--data` value: inline JSON, `@FILE`, or `-` for stdin; it must be valid JSON.
fn read_data(data: &str) -> Result<String, CliError> {
    let text = if data == "-" {
        crate::input::read_stdin("--data")?
    } else if let Some(path) = data.strip_prefix('@') {
        std::fs::read_to_string(path).map_err(|e| {
            CliError::usage(
                format!("cannot read --data file {path}: {e}"),
                "check the path after @",
            )
        })?
    } else {
        data.to_owned()
    };
    serde_json::from_str::<serde_json::Value>(&text).map_err(|e| {
        CliError::usage(
            format!("--data is not valid JSON: {e}"),
            "quote the JSON for your shell, e.g. --data '{\"data\":[{\"Last_Name\":\"Doe\"}]}'",
        )
    })?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_methods_of_zoho_apis_are_accepted_in_any_case() {
        assert_eq!(parse_method("get").unwrap(), Method::Get);
        assert_eq!(parse_method("POST").unwrap(), Method::Post);
        assert_eq!(parse_method("put").unwrap(), Method::Put);
        assert_eq!(parse_method("Patch").unwrap(), Method::Patch);
        assert_eq!(parse_method("DELETE").unwrap(), Method::Delete);
        assert_eq!(parse_method("HEAD").unwrap_err().class, Class::Usage);
    }

    #[test]
    fn body_sizes_take_binary_units() {
        assert_eq!(parse_size("16M").unwrap(), 16 << 20);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        for bad in ["", "0", "12G", "M", "-1"] {
            assert_eq!(parse_size(bad).unwrap_err().class, Class::Usage, "{bad}");
        }
    }

    #[test]
    fn data_must_be_json() {
        assert!(read_data("{\"a\":1}").is_ok());
        assert_eq!(read_data("{a:1}").unwrap_err().class, Class::Usage);
    }
}

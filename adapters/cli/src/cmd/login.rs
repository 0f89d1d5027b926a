//! `login`: "Login with Zoho" through a loopback redirect listener.
//!
//! Prints the authorization URL (and opens a browser unless `--no-browser`), then waits for the
//! redirect. A redirect that does not carry this login's `state` gets an error page and is ignored:
//! only the real one, or the timeout, ends the wait. The code is exchanged at the redirect's
//! validated accounts server, and the user is learned from `/oauth/user/info`.

use std::process::{Command, Stdio};

use zoho_oauth::core::authorize::{self, RedirectError};
use zoho_oauth::core::token::GrantKind;
use zoho_oauth::{Error, LoginOptions};

use crate::args::LoginArgs;
use crate::cmd::exchange::{report, Learned};
use crate::context::Ctx;
use crate::exit::CliError;
use crate::listener::{Listener, Outcome, RedirectTarget};
use crate::spinner::Spinner;
use crate::{human, out};

/// The scope needed to learn who logged in.
const PROFILE_SCOPE: &str = "aaaserver.profile.READ";

/// Run the browser login, or the device login with `--device`.
pub fn run(ctx: &Ctx, args: &LoginArgs) -> Result<(), CliError> {
    if args.device {
        return crate::cmd::device::run(ctx, args);
    }
    let timeout = human::parse_duration(&args.timeout)
        .map_err(|e| CliError::usage(format!("bad --timeout: {e}"), "e.g. --timeout 5m"))?;
    let target = match &args.redirect_uri {
        Some(uri) => RedirectTarget::parse(uri)?,
        None => RedirectTarget::loopback(args.port),
    };
    let scopes = scopes(ctx, &args.scope)?;
    let client = ctx.client()?;
    let listener = Listener::bind(&target)?;
    // PKCE is on unless --no-pkce (the library's default; --pkce only says so).
    let options = LoginOptions::default().pkce(!args.no_pkce);
    let login = client.begin_login_with(&scopes, &listener.redirect_uri, options);
    out::note("Open this URL in a browser, sign in to Zoho and allow access:");
    out::note("");
    out::note(&login.url);
    out::note("");
    out::note(format!(
        "Waiting for the redirect to {} (up to {}; Ctrl-C to cancel)…",
        listener.redirect_uri,
        human::duration(timeout)
    ));
    if !args.no_browser {
        if let Err(e) = open_browser(&login.url) {
            out::note(format!(
                "note: could not open a browser ({e}); open the URL above yourself"
            ));
        }
    }
    let user = ctx.settings.user.as_deref();
    let store = ctx.settings.store.display();
    let waiting = Spinner::start("waiting for the browser to come back from Zoho");
    let exchanged = listener.wait(timeout, |query| {
        if !authorize::carries_state(query, &login.state) {
            // Not ours (a stale tab, a forged link): even an `error=` must not end this login.
            return Outcome::Ignore(
                "This redirect does not carry the state of the login in progress, so it was ignored. \
                 Finish the login from the URL printed in the terminal.",
            );
        }
        match client.complete_login(&login, query, user) {
            Ok(done) => {
                let page = format!(
                    "zoho-oauth signed in {} and stored the credential in {store}.",
                    done.key.user
                );
                Outcome::Done(done, page)
            }
            Err(Error::Redirect(RedirectError::StateMismatch | RedirectError::MissingState)) => {
                Outcome::Ignore("This redirect does not belong to the login in progress; it was ignored.")
            }
            Err(e) => Outcome::Fail(e.into()),
        }
    })?;
    drop(waiting);
    let how = if user.is_some() {
        Learned::Given
    } else {
        Learned::FromUserInfo
    };
    report(
        ctx,
        &exchanged.key,
        &exchanged.token,
        &how,
        GrantKind::AuthorizationCode,
    );
    Ok(())
}

/// The scopes of `--scope` (split at commas and blanks), with `aaaserver.profile.READ` added when
/// no `--user` names the credential (to learn who signed in); a usage error when there are none
/// or one holds a control character.
pub fn scopes<'a>(ctx: &Ctx, text: &'a str) -> Result<Vec<&'a str>, CliError> {
    let mut scopes: Vec<&str> = text.split([',', ' ']).filter(|s| !s.is_empty()).collect();
    if scopes.is_empty() {
        return Err(CliError::usage(
            "--scope is empty",
            "name the scopes, e.g. --scope ZohoCRM.modules.ALL",
        ));
    }
    if ctx.settings.user.is_none() && !scopes.iter().any(|s| s.eq_ignore_ascii_case(PROFILE_SCOPE))
    {
        scopes.push(PROFILE_SCOPE);
    }
    if let Some(bad) = scopes.iter().find(|s| s.chars().any(out::is_unsafe)) {
        return Err(CliError::usage(
            format!("the scope \"{bad}\" holds a control character"),
            "name the scopes, e.g. --scope ZohoCRM.modules.ALL,ZohoCRM.users.READ",
        ));
    }
    Ok(scopes)
}

/// Ask the desktop to open `url`; failing is only worth a note.
fn open_browser(url: &str) -> std::io::Result<()> {
    let mut command = if cfg!(target_os = "macos") {
        Command::new("open")
    } else if cfg!(windows) {
        let mut c = Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        Command::new("xdg-open")
    };
    let mut child = command
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    // Reap it in the background; its exit status does not matter.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

//! `login --device`: the device flow. Zoho gives a user code and a verification URL; the person
//! opens the URL on any device (a QR code of it is drawn on a terminal), enters the code and
//! approves; meanwhile this polls on the library's schedule — never more than once per 30 s
//! against Zoho, slowing down when told, following `other_dc` to the person's data centre when
//! it is allowed — and stores the credential under its owner.
//!
//! A denial or an expired code exits 3 saying to start again; a person whose account lives in a
//! data centre that is not allowed is refused before any secret is sent there (exit 2).

use std::time::SystemTime;

use zoho_oauth::core::token::GrantKind;
use zoho_oauth::{DeviceLogin, DeviceOptions};

use crate::args::LoginArgs;
use crate::cmd::exchange::{report, Learned};
use crate::cmd::login::scopes;
use crate::context::Ctx;
use crate::exit::CliError;
use crate::qr::{self, Paint};
use crate::spinner::{while_waiting, Spinner};
use crate::{human, out};

/// Run the device login.
pub fn run(ctx: &Ctx, args: &LoginArgs) -> Result<(), CliError> {
    let scopes = scopes(ctx, &args.scope)?;
    let client = ctx.client()?;
    let mut login = while_waiting("asking Zoho for a device code", || {
        client.device_login(&scopes, DeviceOptions::default())
    })?;
    show(&login);
    let user = ctx.settings.user.as_deref();
    let waiting = Spinner::start(format!(
        "waiting for code {} to be approved (it expires {})",
        login.user_code,
        human::relative(login.expires_at, SystemTime::now())
    ));
    let done = client.device_wait(&mut login, user);
    drop(waiting);
    let done = done?;
    let how = match (user, done.source) {
        (Some(_), _) => Learned::Given,
        (None, Some(source)) => Learned::from(source),
        (None, None) => Learned::FromUserInfo,
    };
    report(ctx, &done.key, &done.token, &how, GrantKind::Device);
    Ok(())
}

/// Tell the person what to do, on stderr (stdout carries only the result): the URL, the code,
/// the QR code of the URL when stderr is a terminal, and until when.
fn show(login: &DeviceLogin) {
    out::note("To sign in, open this page on any device (phone, laptop) and enter the code:");
    out::note("");
    out::note(format!("  verification URL: {}", login.verification_url));
    out::note(format!("  code: {}", login.user_code));
    out::note("");
    if out::stderr_is_live_terminal() {
        let paint = if out::no_color() {
            Paint::LightBlocks
        } else {
            Paint::BlackOnWhite
        };
        // Whatever the URL holds, it is drawn as modules, never printed as text.
        if let Some(lines) = qr::lines(&login.verification_url, paint) {
            for line in lines {
                eprintln!("  {line}");
            }
            out::note("");
        }
    }
    out::note(format!(
        "The code expires at {} ({}). Waiting for the approval (Ctrl-C to cancel)…",
        human::clock_time(login.expires_at),
        human::relative(login.expires_at, SystemTime::now())
    ));
}

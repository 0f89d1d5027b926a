//! `zoho-oauth login --device` against the emulator: the URL and code are printed (a QR code of
//! the URL on a terminal), the person approves or denies through the emulator's HTTP control API
//! (the verification page's effect), and the CLI polls on the library's schedule: it slows down
//! when told, follows `other_dc` to an allowed data centre, stores the person's credential and
//! exits 0; a denial or an expired code exits 3 saying to start again; a person homed in a data
//! centre that is not allowed is refused before anything is sent there.
//!
//! The tests shorten the CLI's poll floor with the hidden `--device-poll-floor` (allowed only
//! against a loopback accounts origin) and the emulator's interval: only a `slow_down` costs the
//! RFC's 5 seconds.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::dcs::EU_USER;
use common::{lines, wait_until, Spawned, World, USER};
use zoho_oauth_emulator::Limits;

/// The emulator's device limits for the tests: it asks for no interval (the CLI's floor rules)
/// and answers `slow_down` to polls closer than `floor`.
fn limits(floor: Duration) -> Limits {
    Limits {
        device_poll_interval: Duration::ZERO,
        device_poll_floor: floor,
        ..Limits::default()
    }
}

/// `login --device` polling every 200 ms, as a child whose stderr is read line by line; returns
/// it with the verification URL and the user code it printed.
fn start(cmd: &mut std::process::Command, extra: &[&str]) -> (Spawned, String, String) {
    let s = Spawned::start(
        cmd.args(["login", "--device", "--device-poll-floor", "200ms"])
            .args(extra),
    );
    let value = |prefix: &str| {
        let (line, _) = s.stderr_line(Duration::from_secs(30), |l| {
            l.trim_start().starts_with(prefix)
        });
        line.trim_start()[prefix.len()..].trim().to_owned()
    };
    let url = value("verification URL: ");
    let code = value("code: ");
    assert!(!code.is_empty());
    (s, url, code)
}

#[test]
fn a_device_login_slows_down_follows_other_dc_and_stores_the_persons_credential_there() {
    let w = World::multi_dc(limits(Duration::from_secs(1)));
    let (s, url, code) = start(&mut w.cmd_allowing_eu(), &["--json"]);
    assert_eq!(url, format!("{}/oauth/v3/device", w.base()));
    // Two polls 200 ms apart: the emulator's 1 s floor answers the second with slow_down.
    wait_until(Duration::from_secs(30), "a poll answered slow_down", || {
        w.device_polls("slow_down") >= 1
    });
    w.person("approve", &code, EU_USER);
    let (exit, stdout, stderr) = s.finish(Duration::from_secs(60));
    assert_eq!(exit, 0, "{stderr}");
    assert!(
        !stderr.contains('█') && !stderr.contains('▀'),
        "no QR code off a terminal: {stderr}"
    );
    let stored: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        common::keys(&stored),
        common::STORED.iter().copied().collect::<BTreeSet<_>>()
    );
    assert_eq!(stored["user"], EU_USER);
    assert_eq!(stored["user_source"], "user_info");
    assert_eq!(stored["data_center"], "eu");
    assert_eq!(stored["grant"], "device");
    assert_eq!(stored["api_domain"], w.eu_base());
    assert_eq!(w.device_polls("other_dc"), 1, "{:?}", w.emu.counters());
    assert_eq!(w.device_polls("success"), 1);
    assert_eq!(w.emu.counters().device_approvals, 1);

    // The person's credential is used like any other: the token, the API at EU, the status.
    let token = w
        .cmd_allowing_eu()
        .args(["token", "--user", EU_USER])
        .output()
        .unwrap();
    assert!(token.status.success(), "{token:?}");
    let api = common::run(w.cmd_allowing_eu().args([
        "api",
        "GET",
        "/crm/v8/users?type=CurrentUser",
        "--user",
        EU_USER,
    ]))
    .ok();
    assert!(api.stdout.contains(EU_USER), "{api:#?}");
    let status = common::run(w.cmd_allowing_eu().args(["status", "--json"]))
        .ok()
        .json();
    assert_eq!(status[0]["user"], EU_USER);
    assert_eq!(status[0]["data_center"], "eu");
    assert_eq!(status[0]["grant"], "device");
}

#[test]
fn a_person_homed_in_a_data_centre_that_is_not_allowed_is_refused_before_anything_is_sent_there() {
    let w = World::multi_dc(limits(Duration::ZERO));
    // EU's secret and URL are configured, but EU is not in the allowed list.
    let mut cmd = w.cmd();
    cmd.env("ZOHO_CLIENT_SECRET_EU", common::dcs::EU_SECRET)
        .env("ZOHO_ACCOUNTS_URL_EU", w.eu_base());
    let (s, _, code) = start(&mut cmd, &[]);
    w.person("approve", &code, EU_USER);
    let (exit, stdout, stderr) = s.finish(Duration::from_secs(60));
    assert_eq!(exit, 2, "{stderr}");
    assert!(stdout.is_empty());
    let err: Vec<&str> = lines(&stderr)
        .into_iter()
        .skip_while(|l| !l.starts_with("error: "))
        .collect();
    assert_eq!(err.len(), 2, "{stderr}");
    assert!(err[0].contains("data centre eu"), "{stderr}");
    assert!(err[1].contains("--allowed-dcs eu"), "{stderr}");
    assert!(err[1].contains("ZOHO_CLIENT_SECRET_EU"), "{stderr}");
    // Every poll went to the home centre, the last one answered other_dc; none to EU.
    let c = w.emu.counters();
    assert_eq!(w.device_polls("other_dc"), 1, "{c:?}");
    assert_eq!(w.device_polls("success"), 0, "{c:?}");
    assert_eq!(
        c.device_token_requests,
        c.device_polls.values().sum::<u64>(),
        "{c:?}"
    );
    let status = w.run(&["status", "--json"]).ok().json();
    assert_eq!(status, serde_json::json!([]));
}

#[test]
fn a_denied_device_login_exits_3_saying_to_start_again_and_stores_nothing() {
    let w = World::with_config(zoho_oauth_emulator::Config {
        limits: limits(Duration::ZERO),
        ..zoho_oauth_emulator::Config::default()
    });
    let (s, _, code) = start(&mut w.cmd(), &[]);
    wait_until(Duration::from_secs(30), "a first pending poll", || {
        w.device_polls("authorization_pending") >= 1
    });
    w.person("deny", &code, USER);
    let (exit, _, stderr) = s.finish(Duration::from_secs(60));
    assert_eq!(exit, 3, "{stderr}");
    assert!(stderr.contains("denied"), "{stderr}");
    assert!(stderr.contains("start the device flow again"), "{stderr}");
    assert_eq!(w.device_polls("access_denied"), 1);
    let status = w.run(&["status", "--json"]).ok().json();
    assert_eq!(status, serde_json::json!([]));
}

#[test]
fn an_expired_device_code_exits_3_saying_to_start_again_without_polling_past_its_expiry() {
    let w = World::with_config(zoho_oauth_emulator::Config {
        limits: Limits {
            device_code_lifetime: Duration::from_secs(2),
            ..limits(Duration::ZERO)
        },
        ..zoho_oauth_emulator::Config::default()
    });
    let (s, _, _) = start(&mut w.cmd(), &[]);
    let (exit, _, stderr) = s.finish(Duration::from_secs(60));
    assert_eq!(exit, 3, "{stderr}");
    assert!(stderr.contains("expired"), "{stderr}");
    assert!(stderr.contains("start the device flow again"), "{stderr}");
    assert!(w.device_polls("authorization_pending") >= 1);
    assert_eq!(
        w.device_polls("expired"),
        0,
        "no poll at or past the expiry"
    );
}

#[test]
fn a_device_poll_floor_under_30_s_is_refused_against_zohos_own_servers() {
    let w = World::new();
    let run = common::run(
        w.bare()
            .env("ZOHO_CLIENT_ID", zoho_oauth_emulator::DEFAULT_CLIENT_ID)
            .env(
                "ZOHO_CLIENT_SECRET",
                zoho_oauth_emulator::DEFAULT_CLIENT_SECRET,
            )
            .args(["login", "--device", "--device-poll-floor", "5s"]),
    )
    .code(2);
    assert!(
        run.stderr.contains("shorter than Zoho's 30 s rule"),
        "{run:#?}"
    );
    assert_eq!(w.emu.counters().device_code_requests, 0);
}

/// The QR code a terminal shows: the modules of the lines drawn by `login --device`, `true` for
/// dark. `coloured`: drawn black on white (dark modules are the blocks), else with `NO_COLOR`
/// (light modules are the blocks).
fn qr_modules(shown: &str, coloured: bool) -> Vec<Vec<bool>> {
    const ON_WHITE: &str = "\x1b[30;107m";
    let mut rows = Vec::new();
    for line in shown.split(['\r', '\n']) {
        let Some(drawn) = line.strip_prefix("  ") else {
            continue;
        };
        let drawn = if coloured {
            match drawn.strip_prefix(ON_WHITE) {
                Some(d) => d.trim_end_matches("\x1b[0m"),
                None => continue,
            }
        } else {
            drawn
        };
        let halves: Option<Vec<(bool, bool)>> = drawn
            .chars()
            .map(|c| match c {
                ' ' => Some((false, false)),
                '▀' => Some((true, false)),
                '▄' => Some((false, true)),
                '█' => Some((true, true)),
                _ => None,
            })
            .collect();
        let Some(halves) = halves.filter(|h| coloured || h.iter().any(|&(t, b)| t || b)) else {
            continue;
        };
        if halves.len() < 21 {
            continue;
        }
        let dark = |drawn: bool| drawn == coloured;
        rows.push(halves.iter().map(|&(t, _)| dark(t)).collect());
        rows.push(halves.iter().map(|&(_, b)| dark(b)).collect());
    }
    rows
}

/// Decode a QR code from its modules, drawn 4 pixels per module on white.
fn decode(modules: &[Vec<bool>]) -> String {
    const SCALE: usize = 4;
    let height = modules.len() * SCALE;
    let width = modules[0].len() * SCALE;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
            match modules[y / SCALE].get(x / SCALE) {
                Some(true) => 0,
                _ => 255,
            }
        });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code is shown");
    grids[0].decode().expect("the QR code decodes").1
}

#[cfg(unix)]
#[test]
fn on_a_terminal_the_qr_code_of_the_verification_url_is_shown_and_reads_back_with_and_without_colours(
) {
    for coloured in [true, false] {
        let w = World::with_config(zoho_oauth_emulator::Config {
            limits: limits(Duration::ZERO),
            ..zoho_oauth_emulator::Config::default()
        });
        let mut cmd = w.cmd();
        cmd.args(["login", "--device", "--device-poll-floor", "200ms"]);
        if !coloured {
            cmd.env("NO_COLOR", "1");
        }
        let Some(term) = common::Terminal::start(&cmd) else {
            return;
        };
        term.wait_for("Waiting for the approval", Duration::from_secs(30));
        let shown = term.shown();
        let code = shown
            .split(['\r', '\n'])
            .find_map(|l| l.trim_start().strip_prefix("code: "))
            .expect("the code is shown")
            .trim()
            .to_owned();
        w.person("deny", &code, USER);
        let (exit, _) = term.finish(Duration::from_secs(60));
        assert_eq!(exit, 3, "{shown}");
        let modules = qr_modules(&shown, coloured);
        assert!(!modules.is_empty(), "a QR code is drawn: {shown:?}");
        assert_eq!(
            decode(&modules),
            format!("{}/oauth/v3/device", w.base()),
            "coloured: {coloured}"
        );
    }
}

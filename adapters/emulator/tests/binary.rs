//! The `zoho-oauth-emulator` binary: prints where it listens, serves, and stops when stdin closes.

mod common;

use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const BINARY: &str = env!("CARGO_BIN_EXE_zoho-oauth-emulator");

/// Waits for the child to exit, killing it (and failing) after ten seconds.
fn exit_status(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the emulator did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The URL following `label` in the banner line of a data centre.
fn origin_of(line: &str) -> String {
    let start = line.find("http://").expect("a URL");
    line[start..].split_whitespace().next().unwrap().to_owned()
}

/// Starts the binary with `args`, stdin and stdout piped; returns it and its banner's lines.
fn spawn(args: &[&str]) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = Command::new(BINARY)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

#[test]
fn the_binary_prints_its_origins_serves_and_stops_when_stdin_closes() {
    let (mut child, mut lines) = spawn(&["--dc", "us,eu"]);
    let mut us = None;
    let mut eu = None;
    let mut credentials = false;
    while us.is_none() || eu.is_none() || !credentials {
        let line = lines.next().expect("more banner").unwrap();
        if line.trim_start().starts_with("us:") {
            us = Some(origin_of(&line));
        } else if line.trim_start().starts_with("eu:") {
            eu = Some(origin_of(&line));
        } else if line.contains(zoho_oauth_emulator::DEFAULT_CLIENT_SECRET) {
            credentials = true;
        }
    }
    let (us, eu) = (us.unwrap(), eu.unwrap());
    assert_ne!(us, eu);

    let code = text(&post_empty(&format!("{eu}/_emulator/codes")).json(), "code");
    let json = exchange_at(&eu, &code).json();
    assert_eq!(
        json["api_domain"],
        eu.as_str(),
        "the default client is registered at every DC"
    );

    drop(child.stdin.take());
    assert!(exit_status(&mut child).success());
}

#[test]
fn the_binary_shows_the_consent_page_when_asked() {
    let (mut child, mut lines) = spawn(&["--consent-page"]);
    let us = loop {
        let line = lines.next().expect("more banner").unwrap();
        if line.trim_start().starts_with("us:") {
            break origin_of(&line);
        }
    };
    let consent = get(&format!("{us}/_emulator/consent"), None).json();
    assert_eq!(consent["auto"], false);
    drop(child.stdin.take());
    assert!(exit_status(&mut child).success());
}

#[test]
fn the_binary_explains_a_bad_argument() {
    let output = Command::new(BINARY)
        .args(["--dc", "mars"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`mars` is not a Zoho data centre"),
        "{stderr}"
    );
}

#[test]
fn the_binary_prints_help() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("--port"));
}

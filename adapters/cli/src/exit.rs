//! Failures of the tool and their exit codes: one line saying what happened, one saying what to do.

use std::fmt;
use std::time::SystemTime;

use zoho_oauth::core::response::Verdict;
use zoho_oauth::{Error, ErrorKind};

use crate::human;

/// The class of a failure, which decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Usage or bad input: exit 2.
    Usage,
    /// A new grant or login is needed: exit 3.
    ReAuthorize,
    /// Throttled by Zoho or by the local mint budget: exit 4.
    Throttled,
    /// Network or server failure: exit 5.
    Network,
    /// Anything else: exit 1.
    Other,
}

impl Class {
    /// The process exit code of this class.
    pub fn code(self) -> u8 {
        match self {
            Class::Usage => 2,
            Class::ReAuthorize => 3,
            Class::Throttled => 4,
            Class::Network => 5,
            Class::Other => 1,
        }
    }
}

/// A failure ready to be reported: what happened, what to do, and the exit code.
#[derive(Debug)]
pub struct CliError {
    /// Decides the exit code.
    pub class: Class,
    /// What happened (one line, no secret).
    pub what: String,
    /// What to do about it (one line).
    pub todo: String,
}

impl CliError {
    /// A failure of `class`.
    pub fn new(class: Class, what: impl Into<String>, todo: impl Into<String>) -> Self {
        Self {
            class,
            what: what.into(),
            todo: todo.into(),
        }
    }

    /// A usage error (exit 2).
    pub fn usage(what: impl Into<String>, todo: impl Into<String>) -> Self {
        Self::new(Class::Usage, what, todo)
    }

    /// Anything else (exit 1).
    pub fn other(what: impl Into<String>, todo: impl Into<String>) -> Self {
        Self::new(Class::Other, what, todo)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}\n  hint: {}", self.what, self.todo)
    }
}

impl std::error::Error for CliError {}

/// What to do after a library error (the library's own text says what happened).
fn hint(e: &Error) -> String {
    match e {
        Error::Throttled { retry_at, local } => format!(
            "retry {} (at {}); {}",
            human::relative(*retry_at, SystemTime::now()),
            human::clock_time(*retry_at),
            if *local {
                "the local budget keeps Zoho from throttling (and evicting) this credential"
            } else {
                "asking earlier may prolong Zoho's block"
            }
        ),
        Error::UnknownUser { known, .. } if known.is_empty() => {
            "no credential is stored: run `zoho-oauth exchange --grant-token CODE` or `zoho-oauth login`"
                .to_owned()
        }
        Error::UnknownUser { known, .. } => {
            format!("use --user with one of: {}", known.join(", "))
        }
        Error::Zoho(Verdict::TooManyGrantCodes) => "after that wait, run `zoho-oauth exchange --grant-token CODE` with a new grant token from the API console (or `zoho-oauth login`); codes generated meanwhile are refused too".to_owned(),
        Error::Zoho(Verdict::BadClient { .. }) => "check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and --dc: a client exists only in the data centre it was registered in (unless multi-DC is enabled)".to_owned(),
        Error::Zoho(Verdict::MissingScope) => "authorize again including the scope aaaserver.profile.READ, or name the user with --user".to_owned(),
        Error::Redirect(_) => "run `zoho-oauth login` again and finish it in the browser it opens".to_owned(),
        Error::UntrustedApiDomain(_) => "check --accounts-url / ZOHO_ACCOUNTS_URL: it must be Zoho's accounts server or a loopback emulator".to_owned(),
        Error::DataCenterMismatch { .. } => "set --dc and --environment to where the credential was issued".to_owned(),
        Error::Store(_) => "check the store's path and permissions (--store / ZOHO_OAUTH_STORE)".to_owned(),
        _ => match e.kind() {
            ErrorKind::Usage => "check the flags, environment and config file (`zoho-oauth --help`)".to_owned(),
            ErrorKind::ReAuthorize => "generate a new grant token in the API console and run `zoho-oauth exchange --grant-token CODE`, or run `zoho-oauth login`".to_owned(),
            ErrorKind::Throttled => "wait for the throttle window (up to 10 minutes) and retry".to_owned(),
            ErrorKind::Network => "check the network, proxy, --dc and --accounts-url, then retry".to_owned(),
            _ => "rerun with -vv for details".to_owned(),
        },
    }
}

/// The class of a library error.
pub fn class_of(e: &Error) -> Class {
    if matches!(e, Error::UnknownUser { .. }) {
        // No credential for this user: it has to be authorized (first time or again).
        return Class::ReAuthorize;
    }
    match e.kind() {
        ErrorKind::Usage => Class::Usage,
        ErrorKind::ReAuthorize => Class::ReAuthorize,
        ErrorKind::Throttled => Class::Throttled,
        ErrorKind::Network => Class::Network,
        _ => Class::Other,
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        let class = class_of(&e);
        let todo = hint(&e);
        // The library's Display says what happened and often what to do after a `;`: keep the
        // first part as "what" so the hint line is not said twice.
        let text = e.to_string();
        let what = text.split("; ").next().unwrap_or(&text).to_owned();
        CliError::new(class, what, todo)
    }
}

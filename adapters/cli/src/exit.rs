//! Failures of the tool and their exit codes: one line saying what happened, one saying what to do.
//!
//! A library error is printed as the library words it ([`Error::what`], [`Error::todo`]): the
//! CLI maps it to an exit code and never rewrites it.

use std::fmt;

use zoho_oauth::{Error, ErrorKind, StoreError};

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
    /// A store failure (its message may not name the store).
    pub about_store: bool,
}

impl CliError {
    /// A failure of `class`.
    pub fn new(class: Class, what: impl Into<String>, todo: impl Into<String>) -> Self {
        Self {
            class,
            what: what.into(),
            todo: todo.into(),
            about_store: false,
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

impl CliError {
    /// Name the store in a store failure that does not name it already (e.g. a permission error
    /// on its lock file): `in token store file:/path (lock file /path.lock): …`.
    pub fn naming_store(mut self, store: &str) -> Self {
        if self.about_store && !self.what.contains(store) {
            self.what = format!("in token store {store}: {}", self.what);
        }
        self
    }
}

impl fmt::Display for CliError {
    /// The two lines as printed (without colours): `error: what` and `  hint: todo`, each with
    /// its control characters escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "error: {}\n  hint: {}",
            crate::out::clean(&self.what),
            crate::out::clean(&self.todo)
        )
    }
}

impl std::error::Error for CliError {}

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
    /// The library's own two lines, unchanged: what happened ([`Error::what`]) and what to do
    /// ([`Error::todo`]).
    fn from(e: Error) -> Self {
        let mut err = CliError::new(class_of(&e), e.what(), e.todo());
        if let Error::DataCenterNotAllowed { found } = &e {
            // The library says "allow it in the client's settings": here those are named.
            err.todo = format!(
                "allow it with --allowed-dcs {found} (or ZOHO_ALLOWED_DCS, or allowed_dcs in the config file), with {} if the API console issued a secret for it; or sign in with an account of an allowed data centre",
                crate::config::dc_variable(crate::config::SECRET_VARIABLE, *found)
            );
        }
        err.about_store = matches!(
            &e,
            Error::Store(s) if !matches!(s, StoreError::Busy(_))
        ) || matches!(&e, Error::NotSaved { .. });
        err
    }
}

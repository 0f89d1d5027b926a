//! Data centres and environments: which Zoho region a port emulates, and where an environment's API lives.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A Zoho data centre, named by the location code Zoho puts in its authorization redirect.
///
/// Each emulated data centre gets its own loopback port, which is both its accounts origin and its
/// API domain (see [`Environment`] for how environments share that port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataCenter {
    /// United States (`accounts.zoho.com`).
    Us,
    /// Europe (`accounts.zoho.eu`).
    Eu,
    /// India (`accounts.zoho.in`).
    In,
    /// Australia (`accounts.zoho.com.au`).
    Au,
    /// Japan (`accounts.zoho.jp`).
    Jp,
    /// Canada (`accounts.zohocloud.ca`).
    Ca,
    /// Saudi Arabia (`accounts.zoho.sa`).
    Sa,
    /// United Kingdom (`accounts.zoho.uk`).
    Uk,
    /// China (`accounts.zoho.com.cn`).
    Cn,
}

impl DataCenter {
    /// Every data centre Zoho runs, in the order of Zoho's documentation.
    pub const ALL: [DataCenter; 9] = [
        DataCenter::Us,
        DataCenter::Eu,
        DataCenter::In,
        DataCenter::Au,
        DataCenter::Jp,
        DataCenter::Ca,
        DataCenter::Sa,
        DataCenter::Uk,
        DataCenter::Cn,
    ];

    /// The location code Zoho sends in the `location` parameter of its redirect (`us`, `eu`, …).
    #[must_use]
    pub fn location(self) -> &'static str {
        match self {
            DataCenter::Us => "us",
            DataCenter::Eu => "eu",
            DataCenter::In => "in",
            DataCenter::Au => "au",
            DataCenter::Jp => "jp",
            DataCenter::Ca => "ca",
            DataCenter::Sa => "sa",
            DataCenter::Uk => "uk",
            DataCenter::Cn => "cn",
        }
    }
}

impl fmt::Display for DataCenter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.location())
    }
}

/// The text given to [`DataCenter::from_str`] is no Zoho location code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDataCenter(pub String);

impl fmt::Display for UnknownDataCenter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a Zoho data centre: use one of us, eu, in, au, jp, ca, sa, uk, cn",
            self.0
        )
    }
}

impl std::error::Error for UnknownDataCenter {}

impl FromStr for DataCenter {
    type Err = UnknownDataCenter;

    /// Parses a location code, case-insensitively (`"us"`, `"EU"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        DataCenter::ALL
            .into_iter()
            .find(|dc| dc.location().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownDataCenter(s.to_owned()))
    }
}

/// A Zoho environment. Tokens belong to one data centre **and** one environment.
///
/// All environments of a data centre share its port; the environment is a path prefix of the API
/// domain: production is the port's root (`http://127.0.0.1:PORT`), sandbox is
/// `http://127.0.0.1:PORT/sandbox` and developer is `http://127.0.0.1:PORT/developer`. The accounts
/// endpoints (`/oauth/...`) are the same for all three, as at Zoho; the environment of a credential
/// is chosen when its grant code is made.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// `https://www.zohoapis.<tld>` at Zoho; the port's root here.
    #[default]
    Production,
    /// `https://sandbox.zohoapis.<tld>` at Zoho; `/sandbox` here.
    Sandbox,
    /// `https://developer.zohoapis.<tld>` at Zoho; `/developer` here.
    Developer,
}

impl Environment {
    /// The three environments.
    pub const ALL: [Environment; 3] = [
        Environment::Production,
        Environment::Sandbox,
        Environment::Developer,
    ];

    /// The path prefix of this environment's API domain on its data centre's port (empty for production).
    #[must_use]
    pub fn path_prefix(self) -> &'static str {
        match self {
            Environment::Production => "",
            Environment::Sandbox => "/sandbox",
            Environment::Developer => "/developer",
        }
    }

    /// The lower-case name used in JSON and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
            Environment::Developer => "developer",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_codes_parse_case_insensitively_and_round_trip() {
        for dc in DataCenter::ALL {
            assert_eq!(dc.location().parse::<DataCenter>(), Ok(dc));
            assert_eq!(dc.location().to_uppercase().parse::<DataCenter>(), Ok(dc));
        }
        assert!("mars".parse::<DataCenter>().is_err());
    }
}

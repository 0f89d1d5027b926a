//! Zoho's data centres and environments: where the accounts server and the APIs of a token live.
//!
//! Tokens belong to one data centre **and** one environment; using them elsewhere fails. The
//! `accounts-server` of an authorization redirect must be checked against this table before any
//! secret is sent to it, so the table is closed: a custom origin (the emulator, a test server)
//! exists only when the caller configures one explicitly.

use core::fmt;

use crate::cap;

/// One of Zoho's nine data centres.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataCenter {
    /// United States, `accounts.zoho.com`.
    Us,
    /// Europe, `accounts.zoho.eu`.
    Eu,
    /// India, `accounts.zoho.in`.
    In,
    /// Australia, `accounts.zoho.com.au`.
    Au,
    /// Japan, `accounts.zoho.jp`.
    Jp,
    /// Canada, `accounts.zohocloud.ca`.
    Ca,
    /// Saudi Arabia, `accounts.zoho.sa`.
    Sa,
    /// United Kingdom, `accounts.zoho.uk`.
    Uk,
    /// China, `accounts.zoho.com.cn` (operated separately).
    Cn,
}

/// The environment of an organisation: tokens of one are refused by the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Environment {
    /// Live data, `https://www.zohoapis.<tld>`.
    #[default]
    Production,
    /// Sandbox copy, `https://sandbox.zohoapis.<tld>`.
    Sandbox,
    /// Developer edition, `https://developer.zohoapis.<tld>`.
    Developer,
}

/// Where the accounts calls of a credential go: a Zoho data centre, or a custom origin configured
/// explicitly (the bundled emulator, a test double). Never inferred from untrusted input.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The accounts server of this data centre.
    Zoho(DataCenter),
    /// An explicitly configured origin such as `http://127.0.0.1:40123` (no trailing slash).
    Custom(heapless::String<{ cap::ORIGIN }>),
}

/// A data-centre or environment name that is not one of Zoho's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegionError {
    /// Not a known data centre code or accounts server.
    UnknownDataCenter,
    /// Not `production`, `sandbox` or `developer`.
    UnknownEnvironment,
    /// A custom origin that is not `http(s)://host[:port]` or is longer than [`cap::ORIGIN`].
    BadOrigin,
}

impl fmt::Display for RegionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownDataCenter => f.write_str(
                "unknown Zoho data centre: use one of us, eu, in, au, jp, ca, sa, uk, cn",
            ),
            Self::UnknownEnvironment => {
                f.write_str("unknown environment: use production, sandbox or developer")
            }
            Self::BadOrigin => f.write_str(
                "bad custom accounts origin: give scheme, host and optional port, e.g. http://127.0.0.1:8080",
            ),
        }
    }
}

impl core::error::Error for RegionError {}

impl DataCenter {
    /// All nine, in a stable order.
    pub const ALL: [DataCenter; 9] = [
        Self::Us,
        Self::Eu,
        Self::In,
        Self::Au,
        Self::Jp,
        Self::Ca,
        Self::Sa,
        Self::Uk,
        Self::Cn,
    ];

    /// The `location` code Zoho puts in the redirect: `us eu in au jp ca sa uk cn`.
    pub const fn location_code(self) -> &'static str {
        match self {
            Self::Us => "us",
            Self::Eu => "eu",
            Self::In => "in",
            Self::Au => "au",
            Self::Jp => "jp",
            Self::Ca => "ca",
            Self::Sa => "sa",
            Self::Uk => "uk",
            Self::Cn => "cn",
        }
    }

    /// The top-level domain of this centre's API hosts (`com`, `eu`, `com.au`, …): the
    /// independent table the tests check [`DataCenter::api_domain`] against.
    #[cfg(test)]
    const fn api_tld(self) -> &'static str {
        match self {
            Self::Us => "com",
            Self::Eu => "eu",
            Self::In => "in",
            Self::Au => "com.au",
            Self::Jp => "jp",
            Self::Ca => "ca",
            Self::Sa => "sa",
            Self::Uk => "uk",
            Self::Cn => "com.cn",
        }
    }

    /// The accounts origin, e.g. `https://accounts.zoho.com` (no trailing slash).
    pub const fn accounts_origin(self) -> &'static str {
        match self {
            Self::Us => "https://accounts.zoho.com",
            Self::Eu => "https://accounts.zoho.eu",
            Self::In => "https://accounts.zoho.in",
            Self::Au => "https://accounts.zoho.com.au",
            Self::Jp => "https://accounts.zoho.jp",
            Self::Ca => "https://accounts.zohocloud.ca",
            Self::Sa => "https://accounts.zoho.sa",
            Self::Uk => "https://accounts.zoho.uk",
            Self::Cn => "https://accounts.zoho.com.cn",
        }
    }

    /// The API origin for `env`, e.g. `https://sandbox.zohoapis.eu`.
    pub const fn api_domain(self, env: Environment) -> &'static str {
        use Environment::*;
        match (self, env) {
            (Self::Us, Production) => "https://www.zohoapis.com",
            (Self::Us, Sandbox) => "https://sandbox.zohoapis.com",
            (Self::Us, Developer) => "https://developer.zohoapis.com",
            (Self::Eu, Production) => "https://www.zohoapis.eu",
            (Self::Eu, Sandbox) => "https://sandbox.zohoapis.eu",
            (Self::Eu, Developer) => "https://developer.zohoapis.eu",
            (Self::In, Production) => "https://www.zohoapis.in",
            (Self::In, Sandbox) => "https://sandbox.zohoapis.in",
            (Self::In, Developer) => "https://developer.zohoapis.in",
            (Self::Au, Production) => "https://www.zohoapis.com.au",
            (Self::Au, Sandbox) => "https://sandbox.zohoapis.com.au",
            (Self::Au, Developer) => "https://developer.zohoapis.com.au",
            (Self::Jp, Production) => "https://www.zohoapis.jp",
            (Self::Jp, Sandbox) => "https://sandbox.zohoapis.jp",
            (Self::Jp, Developer) => "https://developer.zohoapis.jp",
            (Self::Ca, Production) => "https://www.zohoapis.ca",
            (Self::Ca, Sandbox) => "https://sandbox.zohoapis.ca",
            (Self::Ca, Developer) => "https://developer.zohoapis.ca",
            (Self::Sa, Production) => "https://www.zohoapis.sa",
            (Self::Sa, Sandbox) => "https://sandbox.zohoapis.sa",
            (Self::Sa, Developer) => "https://developer.zohoapis.sa",
            (Self::Uk, Production) => "https://www.zohoapis.uk",
            (Self::Uk, Sandbox) => "https://sandbox.zohoapis.uk",
            (Self::Uk, Developer) => "https://developer.zohoapis.uk",
            (Self::Cn, Production) => "https://www.zohoapis.com.cn",
            (Self::Cn, Sandbox) => "https://sandbox.zohoapis.com.cn",
            (Self::Cn, Developer) => "https://developer.zohoapis.com.cn",
        }
    }

    /// Parse a location code (`us`, `EU`, …; ASCII case-insensitive).
    pub fn from_location(code: &str) -> Result<Self, RegionError> {
        Self::ALL
            .into_iter()
            .find(|dc| dc.location_code().eq_ignore_ascii_case(code))
            .ok_or(RegionError::UnknownDataCenter)
    }

    /// Parse an `accounts-server` URL such as `https://accounts.zoho.eu` or `HTTPS://Accounts.Zoho.EU/`
    /// (any host case, with or without one trailing slash). Only `https` is accepted.
    pub fn from_accounts_server(url: &str) -> Result<Self, RegionError> {
        let url = url.strip_suffix('/').unwrap_or(url);
        Self::ALL
            .into_iter()
            .find(|dc| dc.accounts_origin().eq_ignore_ascii_case(url))
            .ok_or(RegionError::UnknownDataCenter)
    }

    /// Parse an `api_domain` such as `https://www.zohoapis.com.au` back to its data centre and
    /// environment (any host case, optional trailing slash).
    pub fn from_api_domain(url: &str) -> Result<(Self, Environment), RegionError> {
        let url = url.strip_suffix('/').unwrap_or(url);
        for dc in Self::ALL {
            for env in Environment::ALL {
                if dc.api_domain(env).eq_ignore_ascii_case(url) {
                    return Ok((dc, env));
                }
            }
        }
        Err(RegionError::UnknownDataCenter)
    }
}

impl Environment {
    /// All three, in a stable order.
    pub const ALL: [Environment; 3] = [Self::Production, Self::Sandbox, Self::Developer];

    /// `production`, `sandbox` or `developer`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Sandbox => "sandbox",
            Self::Developer => "developer",
        }
    }

    /// Parse a name (ASCII case-insensitive); `prod` and `dev` are accepted too.
    pub fn from_name(name: &str) -> Result<Self, RegionError> {
        match name {
            n if n.eq_ignore_ascii_case("production") || n.eq_ignore_ascii_case("prod") => {
                Ok(Self::Production)
            }
            n if n.eq_ignore_ascii_case("sandbox") => Ok(Self::Sandbox),
            n if n.eq_ignore_ascii_case("developer") || n.eq_ignore_ascii_case("dev") => {
                Ok(Self::Developer)
            }
            _ => Err(RegionError::UnknownEnvironment),
        }
    }
}

impl fmt::Display for DataCenter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.location_code())
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Origin {
    /// An explicitly configured custom origin (`http(s)://host[:port]`, no path; one trailing slash
    /// is dropped). This is the only way to point the client away from Zoho's table.
    pub fn custom(url: &str) -> Result<Self, RegionError> {
        let url = url.strip_suffix('/').unwrap_or(url);
        match crate::url::parse(url) {
            Ok(u) if u.rest.is_empty() => {}
            _ => return Err(RegionError::BadOrigin),
        }
        let mut s = heapless::String::new();
        s.push_str(url).map_err(|_| RegionError::BadOrigin)?;
        Ok(Self::Custom(s))
    }

    /// The origin as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Zoho(dc) => dc.accounts_origin(),
            Self::Custom(s) => s.as_str(),
        }
    }

    /// Whether `accounts_server` (from an authorization redirect, percent-decoded) is this origin
    /// or, for a Zoho origin, any data centre in the table (multi-DC clients are redirected to the
    /// user's own centre). A custom origin accepts only itself.
    pub fn accepts_accounts_server(&self, accounts_server: &str) -> Option<Origin> {
        match self {
            Self::Zoho(_) => DataCenter::from_accounts_server(accounts_server)
                .ok()
                .map(Self::Zoho),
            Self::Custom(s) => {
                let a = accounts_server.strip_suffix('/').unwrap_or(accounts_server);
                if a.eq_ignore_ascii_case(s) {
                    Some(self.clone())
                } else {
                    None
                }
            }
        }
    }
}

/// Why an `api_domain` from a token answer (or a stored row) is not one this client sends
/// access tokens to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustError {
    /// A Zoho API domain, but of another data centre or environment than the credential's.
    Mismatch {
        /// The credential's data centre and environment.
        expected: (DataCenter, Environment),
        /// Those of the `api_domain`.
        found: (DataCenter, Environment),
    },
    /// Neither a Zoho API domain nor, with a custom accounts origin, a loopback URL.
    Untrusted,
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mismatch { expected, found } => write!(
                f,
                "the api_domain belongs to {} {}, not {} {} as configured: \
                 configure the data centre and environment the credential was issued in",
                found.0, found.1, expected.0, expected.1
            ),
            Self::Untrusted => f.write_str(
                "the api_domain is not a Zoho API domain (nor loopback, with a custom accounts origin): \
                 access tokens are never sent there; check the accounts origin",
            ),
        }
    }
}

impl core::error::Error for TrustError {}

impl Origin {
    /// Where API calls with a token issued through this accounts origin for `dc`/`env` go (no
    /// trailing slash), given the `api_domain` the answer said (`said`, empty when nothing):
    ///
    /// - a Zoho API domain must be of `dc` and `env` ([`TrustError::Mismatch`] otherwise);
    /// - a loopback URL (path allowed, e.g. the emulator's `/sandbox`) only with a custom origin;
    /// - nothing said: `dc`'s API domain for `env`, or the custom origin itself;
    /// - anything else is [`TrustError::Untrusted`].
    ///
    /// ```
    /// use zoho_oauth_core::{DataCenter, Environment, Origin};
    /// use zoho_oauth_core::region::TrustError;
    ///
    /// let eu = Origin::Zoho(DataCenter::Eu);
    /// let prod = Environment::Production;
    /// assert_eq!(eu.trusted_api_domain(DataCenter::Eu, prod, "https://www.zohoapis.eu/"), Ok("https://www.zohoapis.eu"));
    /// assert_eq!(eu.trusted_api_domain(DataCenter::Eu, prod, ""), Ok("https://www.zohoapis.eu"));
    /// assert_eq!(eu.trusted_api_domain(DataCenter::Eu, prod, "https://evil.example"), Err(TrustError::Untrusted));
    /// ```
    #[inline]
    pub fn trusted_api_domain<'a>(
        &'a self,
        dc: DataCenter,
        env: Environment,
        said: &'a str,
    ) -> Result<&'a str, TrustError> {
        let said = said.strip_suffix('/').unwrap_or(said);
        if said.is_empty() {
            return Ok(match self {
                Self::Zoho(_) => dc.api_domain(env),
                Self::Custom(o) => o.as_str(),
            });
        }
        match self.classify_api_domain(said)? {
            Some(found) if found == (dc, env) => Ok(said),
            Some(found) => Err(TrustError::Mismatch {
                expected: (dc, env),
                found,
            }),
            None => Ok(said),
        }
    }

    /// The data centre and environment a stored token belongs to, from its `api_domain`: a Zoho
    /// API domain says it; an empty one (older SDKs wrote none) or, with a custom origin, a
    /// loopback one means `configured`; anything else cannot be keyed
    /// ([`TrustError::Untrusted`]). The one rule for rows of the official SDKs' token file and
    /// their `oauthtoken` table alike.
    #[inline]
    pub fn region_of_api_domain(
        &self,
        said: &str,
        configured: (DataCenter, Environment),
    ) -> Result<(DataCenter, Environment), TrustError> {
        let said = said.strip_suffix('/').unwrap_or(said);
        if said.is_empty() {
            return Ok(configured);
        }
        Ok(self.classify_api_domain(said)?.unwrap_or(configured))
    }

    /// `Some(region)` for a Zoho API domain, `None` for loopback under a custom origin.
    #[inline(always)]
    fn classify_api_domain(
        &self,
        said: &str,
    ) -> Result<Option<(DataCenter, Environment)>, TrustError> {
        if let Ok(found) = DataCenter::from_api_domain(said) {
            return Ok(Some(found));
        }
        match self {
            Self::Custom(_) if loopback_url(said) => Ok(None),
            _ => Err(TrustError::Untrusted),
        }
    }
}

#[inline(never)]
fn loopback_url(said: &str) -> bool {
    crate::url::parse(said).is_ok_and(|u| u.host.is_loopback())
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern crate std;
    use std::format;
    use std::string::String;

    /// `s` with every other ASCII letter upper-cased.
    fn mixed_case(s: &str) -> String {
        s.chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    }

    #[test]
    fn api_domains_follow_the_environment_prefix_and_data_centre_tld() {
        for dc in DataCenter::ALL {
            for (env, prefix) in Environment::ALL
                .into_iter()
                .zip(["www", "sandbox", "developer"])
            {
                assert_eq!(
                    dc.api_domain(env),
                    format!("https://{prefix}.zohoapis.{}", dc.api_tld())
                );
            }
        }
    }

    #[test]
    fn every_api_domain_parses_back_in_any_case_with_or_without_a_trailing_slash() {
        for dc in DataCenter::ALL {
            for env in Environment::ALL {
                let d = dc.api_domain(env);
                assert_eq!(DataCenter::from_api_domain(d), Ok((dc, env)));
                assert_eq!(DataCenter::from_api_domain(&format!("{d}/")), Ok((dc, env)));
                assert_eq!(
                    DataCenter::from_api_domain(&d.to_ascii_uppercase()),
                    Ok((dc, env))
                );
                assert_eq!(DataCenter::from_api_domain(&mixed_case(d)), Ok((dc, env)));
            }
        }
    }

    #[test]
    fn every_accounts_origin_parses_back_in_any_case_with_or_without_a_trailing_slash() {
        for dc in DataCenter::ALL {
            let o = dc.accounts_origin();
            assert!(o.starts_with("https://accounts.") && !o.ends_with('/'));
            assert_eq!(DataCenter::from_accounts_server(o), Ok(dc));
            assert_eq!(DataCenter::from_accounts_server(&format!("{o}/")), Ok(dc));
            assert_eq!(
                DataCenter::from_accounts_server(&o.to_ascii_uppercase()),
                Ok(dc)
            );
            assert_eq!(DataCenter::from_accounts_server(&mixed_case(o)), Ok(dc));
            assert_eq!(
                Origin::Zoho(DataCenter::Us).accepts_accounts_server(&format!("{o}/")),
                Some(Origin::Zoho(dc))
            );
        }
    }

    #[test]
    fn lookalike_and_non_https_accounts_servers_are_refused() {
        for bad in [
            "https://accounts.zoho.com.evil.example",
            "https://accounts.zoho.com.evil.example/",
            "https://evil.example/https://accounts.zoho.com",
            "https://accounts.zoho.com@evil.example",
            "https://accounts.zoho.com:443",
            "https://accounts.zoho.com//",
            "https://accounts.zoho.com/oauth",
            "http://accounts.zoho.com",
            "accounts.zoho.com",
            " https://accounts.zoho.com",
            "https://accounts.zoho.co",
            "",
        ] {
            assert_eq!(
                DataCenter::from_accounts_server(bad),
                Err(RegionError::UnknownDataCenter),
                "{bad}"
            );
            assert_eq!(
                Origin::Zoho(DataCenter::Us).accepts_accounts_server(bad),
                None,
                "{bad}"
            );
        }
        assert!(DataCenter::from_api_domain("https://www.zohoapis.com.evil.example").is_err());
    }

    #[test]
    fn location_codes_are_the_nine_data_centres_in_any_case() {
        let codes: std::vec::Vec<&str> =
            DataCenter::ALL.iter().map(|d| d.location_code()).collect();
        assert_eq!(
            codes,
            ["us", "eu", "in", "au", "jp", "ca", "sa", "uk", "cn"]
        );
        for dc in DataCenter::ALL {
            assert_eq!(DataCenter::from_location(dc.location_code()), Ok(dc));
            assert_eq!(
                DataCenter::from_location(&dc.location_code().to_ascii_uppercase()),
                Ok(dc)
            );
            assert_eq!(format!("{dc}"), dc.location_code());
        }
        for bad in ["", "usa", "com", "de", " us"] {
            assert_eq!(
                DataCenter::from_location(bad),
                Err(RegionError::UnknownDataCenter)
            );
        }
    }

    #[test]
    fn environment_names_parse_with_their_short_forms() {
        for env in Environment::ALL {
            assert_eq!(Environment::from_name(env.name()), Ok(env));
            assert_eq!(
                Environment::from_name(&env.name().to_ascii_uppercase()),
                Ok(env)
            );
        }
        assert_eq!(Environment::from_name("prod"), Ok(Environment::Production));
        assert_eq!(Environment::from_name("DEV"), Ok(Environment::Developer));
        assert_eq!(
            Environment::from_name("staging"),
            Err(RegionError::UnknownEnvironment)
        );
    }

    #[test]
    fn a_custom_origin_is_scheme_host_and_port_only() {
        let o = Origin::custom("http://127.0.0.1:40123/").unwrap();
        assert_eq!(o.as_str(), "http://127.0.0.1:40123");
        assert_eq!(
            Origin::custom("https://auth.test").unwrap().as_str(),
            "https://auth.test"
        );
        for bad in [
            "ftp://host",
            "127.0.0.1:80",
            "http://",
            "http://host/path",
            "http://host?x",
            "http://user@host",
            "http://ho st",
            "http://host#f",
            "http://hóst",
        ] {
            assert_eq!(Origin::custom(bad), Err(RegionError::BadOrigin), "{bad}");
        }
        let long = format!("http://{}", "a".repeat(cap::ORIGIN));
        assert_eq!(Origin::custom(&long), Err(RegionError::BadOrigin));
    }

    #[test]
    fn a_custom_origin_accepts_only_itself() {
        let o = Origin::custom("http://127.0.0.1:40123").unwrap();
        assert_eq!(
            o.accepts_accounts_server("http://127.0.0.1:40123"),
            Some(o.clone())
        );
        assert_eq!(
            o.accepts_accounts_server("HTTP://127.0.0.1:40123/"),
            Some(o.clone())
        );
        for other in [
            "http://127.0.0.1:40124",
            "https://127.0.0.1:40123",
            "http://127.0.0.1:401234",
            "https://accounts.zoho.com",
            "http://127.0.0.1:40123.evil.example",
        ] {
            assert_eq!(o.accepts_accounts_server(other), None, "{other}");
        }
    }

    #[test]
    fn region_errors_say_what_to_do() {
        for e in [
            RegionError::UnknownDataCenter,
            RegionError::UnknownEnvironment,
            RegionError::BadOrigin,
        ] {
            let s = format!("{e}");
            assert!(
                s.contains(':') && s.contains("use") || s.contains("give"),
                "{s}"
            );
        }
    }
}

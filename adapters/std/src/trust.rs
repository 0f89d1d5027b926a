//! Which `api_domain`s a client sends access tokens to: its own data centre and environment, or
//! loopback when a custom accounts origin is configured.

use std::net::{Ipv4Addr, Ipv6Addr};

use zoho_oauth_core::{DataCenter, Environment, Origin};

use crate::error::Error;

/// The `api_domain` (no trailing slash) that API calls with a token from `accounts` go to, given
/// what the token response said (`said`, empty when nothing).
///
/// - A Zoho accounts origin: `said` must be a Zoho API domain of the configured data centre and
///   environment ([`Error::DataCenterMismatch`] otherwise); nothing said → the configured one.
/// - A custom origin: `said` must be loopback, or a Zoho API domain (of the configured centre
///   and environment); nothing said → the custom origin itself.
pub(crate) fn api_domain(
    accounts: &Origin,
    dc: DataCenter,
    env: Environment,
    said: &str,
) -> Result<String, Error> {
    let said = said.strip_suffix('/').unwrap_or(said);
    if said.is_empty() {
        return Ok(match accounts {
            Origin::Zoho(_) => dc.api_domain(env).to_owned(),
            Origin::Custom(o) => o.as_str().to_owned(),
        });
    }
    match DataCenter::from_api_domain(said) {
        Ok((found_dc, found_env)) if (found_dc, found_env) == (dc, env) => Ok(said.to_owned()),
        Ok((found_dc, found_env)) => Err(Error::DataCenterMismatch {
            expected_data_center: dc,
            expected_environment: env,
            found: format!("{found_dc} {found_env} ({said})"),
        }),
        Err(_) if matches!(accounts, Origin::Custom(_)) && is_loopback_origin(said) => {
            Ok(said.to_owned())
        }
        Err(_) => Err(Error::UntrustedApiDomain(said.to_owned())),
    }
}

/// `http(s)://host[:port][/path]` whose host is `localhost`, `127.0.0.0/8` or `[::1]`, with no
/// user info, query or fragment (the emulator serves sandbox APIs under `/sandbox`).
pub(crate) fn is_loopback_origin(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    if authority.is_empty() || rest.contains(['?', '#', '@', '\\']) {
        return false;
    }
    let host = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, port)) if port.is_empty() || valid_port(port) => {
                return h.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
            }
            _ => return false,
        }
    } else {
        match authority.split_once(':') {
            Some((h, port)) if valid_port(port) => h,
            Some(_) => return false,
            None => authority,
        }
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

fn valid_port(port: &str) -> bool {
    let port = port.strip_prefix(':').unwrap_or(port);
    !port.is_empty() && port.parse::<u16>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom() -> Origin {
        Origin::custom("http://127.0.0.1:9000").unwrap()
    }

    #[test]
    fn loopback_origins_are_recognised_and_look_alikes_are_not() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "https://localhost:1",
            "http://LOCALHOST",
            "http://[::1]:443",
            "http://[::1]",
            "http://127.0.0.1:8080/sandbox",
        ] {
            assert!(is_loopback_origin(ok), "{ok}");
        }
        for bad in [
            "http://128.0.0.1",
            "http://localhost.evil.com",
            "http://127.0.0.1.evil.com",
            "http://user@127.0.0.1",
            "http://127.0.0.1/x?y",
            "http://evil.example/127.0.0.1",
            "http://127.0.0.1:notaport",
            "ftp://127.0.0.1",
            "http://[::2]",
            "http://",
            "127.0.0.1",
        ] {
            assert!(!is_loopback_origin(bad), "{bad}");
        }
    }

    #[test]
    fn a_zoho_origin_accepts_only_its_own_data_centre_and_environment() {
        let us = Origin::Zoho(DataCenter::Us);
        let prod = Environment::Production;
        assert_eq!(
            api_domain(&us, DataCenter::Us, prod, "https://www.zohoapis.com/").unwrap(),
            "https://www.zohoapis.com"
        );
        assert_eq!(
            api_domain(&us, DataCenter::Us, prod, "").unwrap(),
            "https://www.zohoapis.com"
        );
        let err = api_domain(&us, DataCenter::Us, prod, "https://www.zohoapis.eu").unwrap_err();
        assert!(matches!(err, Error::DataCenterMismatch { .. }));
        assert!(err.to_string().contains("data-centre/environment mismatch"));
        let err =
            api_domain(&us, DataCenter::Us, prod, "https://sandbox.zohoapis.com").unwrap_err();
        assert!(matches!(err, Error::DataCenterMismatch { .. }));
        let err = api_domain(&us, DataCenter::Us, prod, "http://127.0.0.1:9000").unwrap_err();
        assert!(matches!(err, Error::UntrustedApiDomain(_)));
        let err = api_domain(&us, DataCenter::Us, prod, "https://evil.example").unwrap_err();
        assert!(matches!(err, Error::UntrustedApiDomain(_)));
    }

    #[test]
    fn a_custom_origin_trusts_loopback_and_zoho_domains_only() {
        let prod = Environment::Production;
        assert_eq!(
            api_domain(&custom(), DataCenter::Us, prod, "http://127.0.0.1:9000").unwrap(),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            api_domain(&custom(), DataCenter::Us, prod, "").unwrap(),
            "http://127.0.0.1:9000"
        );
        assert!(api_domain(&custom(), DataCenter::Us, prod, "https://www.zohoapis.com").is_ok());
        assert!(matches!(
            api_domain(&custom(), DataCenter::Us, prod, "https://attacker.example"),
            Err(Error::UntrustedApiDomain(_))
        ));
        assert!(matches!(
            api_domain(&custom(), DataCenter::Us, prod, "https://www.zohoapis.jp"),
            Err(Error::DataCenterMismatch { .. })
        ));
    }
}

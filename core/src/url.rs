//! The one URL and authority parser of the project: scheme, host, port, and what follows.
//!
//! Every decision that depends on *where* a URL points is made on what this parser returns: which
//! URLs a transport may send to at all ([`transport_policy`]: HTTPS anywhere, plain HTTP only to
//! loopback), whether an `api_domain` is loopback (for a custom accounts origin, see
//! [`crate::region`]), and whether a login's redirect URI can be served on this machine. It is
//! deliberately strict: user info (`user@host`), backslashes, percent-encoded or empty hosts,
//! control characters and blanks are refused, so that the host checked is the host dialled.
//!
//! ```
//! use zoho_oauth_core::url::{self, Host, Scheme};
//!
//! let u = url::parse("http://127.0.0.1:8765/callback?x=1")?;
//! assert_eq!((u.scheme, u.port, u.rest), (Scheme::Http, Some(8765), "/callback?x=1"));
//! assert!(u.host.is_loopback());
//! assert_eq!(u.origin(), "http://127.0.0.1:8765");
//! assert!(url::parse("http://127.0.0.1.evil.example/").is_ok_and(|u| !u.host.is_loopback()));
//! assert!(url::transport_policy("http://accounts.zoho.com/oauth/v2/token").is_err());
//! # Ok::<(), url::UrlError>(())
//! ```

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

/// `http` or `https` (ASCII case-insensitive on input).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP: only ever allowed to loopback hosts.
    Http,
    /// HTTPS.
    Https,
}

/// The host of a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host<'a> {
    /// A domain name as written (letters, digits, `-`, `.`, `_`).
    Domain(&'a str),
    /// An IPv4 literal.
    V4(Ipv4Addr),
    /// A bracketed IPv6 literal (`[::1]`).
    V6(Ipv6Addr),
}

impl Host<'_> {
    /// `localhost` (any case), `127.0.0.0/8` or `[::1]`: this machine, never a network.
    /// `localhost.` and `127.0.0.1.example` are not.
    pub fn is_loopback(&self) -> bool {
        match self {
            Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
            Host::V4(ip) => ip.is_loopback(),
            Host::V6(ip) => ip.is_loopback(),
        }
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::V4(ip) => ip.fmt(f),
            Host::V6(ip) => write!(f, "[{ip}]"),
        }
    }
}

/// A parsed absolute `http(s)` URL, borrowing the text it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Url<'a> {
    /// The scheme.
    pub scheme: Scheme,
    /// The host.
    pub host: Host<'a>,
    /// The port, when one is written.
    pub port: Option<u16>,
    /// Everything after the authority: empty, or starting with `/`, `?` or `#`.
    pub rest: &'a str,
    /// The whole URL as given.
    text: &'a str,
}

impl<'a> Url<'a> {
    /// `scheme://host[:port]` exactly as written (no trailing slash).
    pub fn origin(&self) -> &'a str {
        &self.text[..self.text.len() - self.rest.len()]
    }

    /// The path, query and fragment as written (`rest`), or `/` when empty.
    pub fn path_and_query(&self) -> &'a str {
        if self.rest.is_empty() {
            "/"
        } else {
            self.rest
        }
    }

    /// The port written, or the scheme's default (80, 443).
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(match self.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        })
    }
}

/// Why a URL was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// Not `http://…` or `https://…`.
    Scheme,
    /// `user[:password]@host`: never sent anywhere (a classic way to disguise a host).
    UserInfo,
    /// No host, or a host with characters a host cannot have.
    Host,
    /// A port that is not a number from 1 to 65535.
    Port,
    /// A control character, a blank or a backslash somewhere in the URL.
    Character,
    /// Plain `http` to a host that is not loopback ([`transport_policy`] only).
    PlainHttp,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Scheme => "the URL is not an absolute http:// or https:// URL: give the scheme and host",
            Self::UserInfo => "the URL carries user info (user@host): remove it, credentials never go into URLs",
            Self::Host => "the URL has no valid host: give a domain name, an IPv4 address or a bracketed IPv6 address",
            Self::Port => "the URL's port is not a number from 1 to 65535",
            Self::Character => "the URL holds a blank, a control character or a backslash: percent-encode it or remove it",
            Self::PlainHttp => "plain http is allowed only to loopback hosts (127.0.0.1, localhost, [::1]): use https",
        })
    }
}

impl core::error::Error for UrlError {}

/// Parse an absolute `http(s)` URL. See the [module docs](self) for what is refused.
pub fn parse(text: &str) -> Result<Url<'_>, UrlError> {
    if text
        .bytes()
        .any(|b| b <= b' ' || b == 0x7f || b == b'\\' || !b.is_ascii())
    {
        return Err(UrlError::Character);
    }
    let (scheme, after) = split_scheme(text).ok_or(UrlError::Scheme)?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    if authority.contains('@') {
        return Err(UrlError::UserInfo);
    }
    let (host, port) = split_host_port(authority)?;
    Ok(Url {
        scheme,
        host,
        port,
        rest,
        text,
    })
}

/// What a transport may send to: any `https` URL, and `http` only to a loopback host (secrets
/// must never cross a network in clear text). Transports call this before touching the network;
/// a refusal is a configuration error, never a network failure to retry.
pub fn transport_policy(text: &str) -> Result<Url<'_>, UrlError> {
    let url = parse(text)?;
    match url.scheme {
        Scheme::Https => Ok(url),
        Scheme::Http if url.host.is_loopback() => Ok(url),
        Scheme::Http => Err(UrlError::PlainHttp),
    }
}

fn split_scheme(text: &str) -> Option<(Scheme, &str)> {
    let (scheme, after) = text.split_once("://")?;
    let scheme = if scheme.eq_ignore_ascii_case("https") {
        Scheme::Https
    } else if scheme.eq_ignore_ascii_case("http") {
        Scheme::Http
    } else {
        return None;
    };
    Some((scheme, after))
}

fn split_host_port(authority: &str) -> Result<(Host<'_>, Option<u16>), UrlError> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (ip, after) = inner.split_once(']').ok_or(UrlError::Host)?;
        let ip: Ipv6Addr = ip.parse().map_err(|_| UrlError::Host)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(UrlError::Host)?),
        };
        (Host::V6(ip), port)
    } else {
        let (name, port) = match authority.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (authority, None),
        };
        (domain_or_v4(name)?, port)
    };
    let port = match port {
        None => None,
        Some(p) => Some(parse_port(p)?),
    };
    Ok((host, port))
}

fn domain_or_v4(name: &str) -> Result<Host<'_>, UrlError> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(UrlError::Host);
    }
    // All digits and dots: an IPv4 literal, which must then be a valid one (no `127.1`, no
    // `0127.0.0.1`): a lenient resolver could read such text as another address.
    if name.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return name.parse().map(Host::V4).map_err(|_| UrlError::Host);
    }
    Ok(Host::Domain(name))
}

fn parse_port(p: &str) -> Result<u16, UrlError> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::Port);
    }
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(UrlError::Port),
        Ok(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;

    #[test]
    fn loopback_hosts_are_recognised_and_look_alikes_are_not() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "https://localhost:1",
            "http://LOCALHOST",
            "http://[::1]:443",
            "http://[::1]",
            "http://127.0.0.1:8080/sandbox",
        ] {
            assert!(parse(ok).unwrap().host.is_loopback(), "{ok}");
        }
        for not in [
            "http://128.0.0.1",
            "http://localhost.evil.com",
            "http://127.0.0.1.evil.com",
            "http://evil.example/127.0.0.1",
            "http://[::2]",
            "http://localhost.",
        ] {
            assert!(!parse(not).unwrap().host.is_loopback(), "{not}");
        }
    }

    #[test]
    fn disguised_or_broken_urls_are_refused() {
        for (bad, why) in [
            ("http://user@127.0.0.1/", UrlError::UserInfo),
            ("http://127.0.0.1@evil.example/", UrlError::UserInfo),
            ("http://127.0.0.1:notaport", UrlError::Port),
            ("http://127.0.0.1:0", UrlError::Port),
            ("http://127.0.0.1:65536", UrlError::Port),
            ("http://127.0.0.1:", UrlError::Port),
            ("ftp://127.0.0.1", UrlError::Scheme),
            ("127.0.0.1", UrlError::Scheme),
            ("//evil.example/x", UrlError::Scheme),
            ("http://", UrlError::Host),
            ("http:///path", UrlError::Host),
            ("http://127.1/", UrlError::Host),
            ("http://0127.0.0.1/", UrlError::Host),
            ("http://ex%41mple.com/", UrlError::Host),
            ("http://[::1/", UrlError::Host),
            ("http://[::1]x/", UrlError::Host),
            ("http://a b/", UrlError::Character),
            ("http://a\\b/", UrlError::Character),
            ("http://a/\r\nX: y", UrlError::Character),
            ("http://é.example/", UrlError::Character),
        ] {
            assert_eq!(parse(bad), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn origin_and_rest_split_where_the_authority_ends() {
        let u = parse("HTTPS://WWW.zohoapis.com?x=/y").unwrap();
        assert_eq!(u.scheme, Scheme::Https);
        assert_eq!(u.origin(), "HTTPS://WWW.zohoapis.com");
        assert_eq!(u.rest, "?x=/y");
        assert_eq!(u.port_or_default(), 443);
        let u = parse("http://[::1]:9000").unwrap();
        assert_eq!((u.origin(), u.path_and_query()), ("http://[::1]:9000", "/"));
        assert_eq!(u.host.to_string(), "[::1]");
    }

    #[test]
    fn plain_http_goes_only_to_loopback() {
        assert!(transport_policy("https://accounts.zoho.eu/oauth/v2/token").is_ok());
        assert!(transport_policy("http://127.0.0.1:9/oauth/v2/token").is_ok());
        for bad in [
            "http://accounts.zoho.com/oauth/v2/token",
            "http://10.0.0.1/",
            "http://127.0.0.1.nip.io/",
        ] {
            assert_eq!(transport_policy(bad), Err(UrlError::PlainHttp), "{bad}");
        }
    }
}

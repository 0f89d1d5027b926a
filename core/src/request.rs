//! Render the accounts-server requests (grant exchange, refresh, client credentials, revoke, user
//! info) into a caller buffer; the device flow's two requests are in [`device`](crate::device).
//!
//! Secrets travel in the form body, never in the URL. A buffer that is too small gives
//! [`BufferTooSmall`] with the exact size needed and is left untouched, so the caller can grow it and retry.
//! Each function renders one request; which one to send when is the [`Machine`](crate::Machine)'s
//! decision (exchange, refresh) or the caller's (client credentials, revoke, user info).

use core::fmt;

use crate::form;
use crate::region::Origin;

/// The HTTP method of a request. Token requests use `GET` and `POST`; Zoho's resource APIs
/// (CRM and the rest) also take `PUT`, `PATCH` and `DELETE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// Every method, in a stable order.
    pub const ALL: [Method; 5] = [Self::Get, Self::Post, Self::Put, Self::Patch, Self::Delete];

    /// `"GET"`, `"POST"`, `"PUT"`, `"PATCH"` or `"DELETE"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// Parse a method name, ASCII case-insensitive.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }
}

/// The buffer given for rendering is too small; nothing was written to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferTooSmall {
    /// The size in bytes that would have been enough.
    pub required: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "buffer too small: {} bytes are needed, give a buffer at least that large and call again",
            self.required
        )
    }
}

impl core::error::Error for BufferTooSmall {}

/// The form content type used by every token request.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// A request rendered into a caller buffer: everything a transport needs to send it.
///
/// `url` never contains a secret. `authorization`, when present, is the whole header value
/// (`Zoho-oauthtoken 1000.…`) and must be sent as the `Authorization` header.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Request<'b> {
    /// `GET` or `POST`.
    pub method: Method,
    /// The absolute URL, e.g. `https://accounts.zoho.com/oauth/v2/token`.
    pub url: &'b str,
    /// `Content-Type` header value, when there is a body.
    pub content_type: Option<&'static str>,
    /// `Authorization` header value, when the request carries an access token.
    pub authorization: Option<&'b str>,
    /// The body (empty for `GET`).
    pub body: &'b [u8],
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body holds the client secret and tokens, the header an access token: their shape
        // only.
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("content_type", &self.content_type)
            .field("authorization", &self.authorization.map(|_| "<redacted>"))
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// One piece of a rendered URL, body or header: copied as is, or percent-encoded.
#[derive(Clone, Copy)]
pub(crate) enum Part<'a> {
    /// Copied byte for byte.
    Raw(&'a str),
    /// Percent-encoded with [`form::encode_into`].
    Enc(&'a str),
}

impl Part<'_> {
    /// The rendered length in bytes.
    pub(crate) fn len(self) -> usize {
        match self {
            Part::Raw(s) => s.len(),
            Part::Enc(s) => form::encoded_len(s),
        }
    }

    /// Render into the start of `out`, which must hold at least [`Part::len`] bytes (callers
    /// check the total first); returns the number of bytes written.
    pub(crate) fn write(self, out: &mut [u8]) -> usize {
        let n = self.len();
        let dst = &mut out[..n];
        match self {
            Part::Raw(s) => dst.copy_from_slice(s.as_bytes()),
            Part::Enc(s) => {
                // `dst` is exactly `encoded_len(s)` long, so this cannot fail.
                let _ = form::encode_into(s, dst);
            }
        }
        n
    }
}

fn parts_len(parts: &[Part<'_>]) -> usize {
    parts.iter().map(|p| p.len()).sum()
}

/// Write `parts` into `out`, which is at least `parts_len(parts)` long (checked by the caller).
fn write_parts(parts: &[Part<'_>], out: &mut [u8]) {
    let mut at = 0;
    for part in parts {
        at += part.write(&mut out[at..]);
    }
}

/// Bytes copied from `&str`s and percent-encoded ASCII are always UTF-8.
pub(crate) fn text(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

/// Render `url` and the form body that `body` feeds, part by part, into `buf`, or leave it
/// untouched: for bodies whose number of parts varies (scope lists, optional parameters).
/// `body` is called twice, once to measure and once to write, and must feed the same parts.
pub(crate) fn render_form<'b, 'p>(
    buf: &'b mut [u8],
    url: &[Part<'_>],
    body: impl Fn(&mut dyn FnMut(Part<'p>)),
) -> Result<Request<'b>, BufferTooSmall> {
    let url_len = parts_len(url);
    let mut body_len = 0;
    body(&mut |part| body_len += part.len());
    let required = url_len + body_len;
    if buf.len() < required {
        return Err(BufferTooSmall { required });
    }
    let (url_buf, rest) = buf.split_at_mut(url_len);
    let body_buf = &mut rest[..body_len];
    write_parts(url, url_buf);
    let mut at = 0;
    body(&mut |part| at += part.write(&mut body_buf[at..]));
    Ok(Request {
        method: Method::Post,
        url: text(url_buf),
        content_type: Some(FORM_CONTENT_TYPE),
        authorization: None,
        body: body_buf,
    })
}

/// Feed a scope list to `f` the way Zoho takes it: comma-separated, each scope percent-encoded
/// (so that a scope holding `,` or `&` cannot add another).
pub(crate) fn scope_parts<'a>(scopes: &[&'a str], f: &mut dyn FnMut(Part<'a>)) {
    for (i, scope) in scopes.iter().enumerate() {
        if i > 0 {
            f(Part::Raw(","));
        }
        f(Part::Enc(scope));
    }
}

/// Render `url`, `body` and `authorization` into `buf` (in that order), or leave it untouched.
fn render<'b>(
    buf: &'b mut [u8],
    method: Method,
    url: &[Part<'_>],
    body: &[Part<'_>],
    authorization: &[Part<'_>],
) -> Result<Request<'b>, BufferTooSmall> {
    let (url_len, body_len, auth_len) = (parts_len(url), parts_len(body), parts_len(authorization));
    let required = url_len + body_len + auth_len;
    if buf.len() < required {
        return Err(BufferTooSmall { required });
    }
    let (url_buf, rest) = buf.split_at_mut(url_len);
    let (body_buf, rest) = rest.split_at_mut(body_len);
    let auth_buf = &mut rest[..auth_len];
    write_parts(url, url_buf);
    write_parts(body, body_buf);
    write_parts(authorization, auth_buf);
    Ok(Request {
        method,
        url: text(url_buf),
        content_type: (method == Method::Post).then_some(FORM_CONTENT_TYPE),
        authorization: (!authorization.is_empty()).then(|| text(auth_buf)),
        body: body_buf,
    })
}

pub(crate) const TOKEN_PATH: &str = "/oauth/v2/token";
const REVOKE_PATH: &str = "/oauth/v2/token/revoke";
const USER_INFO_PATH: &str = "/oauth/user/info";
const AUTH_SCHEME: &str = "Zoho-oauthtoken ";

/// Render the grant exchange: `POST {accounts}/oauth/v2/token` with the form body
/// `grant_type=authorization_code&client_id=…&client_secret=…&code=…[&redirect_uri=…][&code_verifier=…]`.
///
/// `redirect_uri` must be the one the code was issued for (omit it for Self Client codes).
/// `code_verifier` is the PKCE verifier ([`CodeVerifier::expose`](crate::pkce::CodeVerifier::expose))
/// when the authorization URL carried its challenge. On [`BufferTooSmall`] the buffer is untouched.
///
/// ```
/// use zoho_oauth_core::{request, DataCenter, Origin};
///
/// let mut buf = [0u8; 512];
/// let req = request::exchange(&mut buf, &Origin::Zoho(DataCenter::Eu), "1000.ID", "s3cret", "1000.code", None, None).unwrap();
/// assert_eq!(req.url, "https://accounts.zoho.eu/oauth/v2/token");
/// assert_eq!(req.body, b"grant_type=authorization_code&client_id=1000.ID&client_secret=s3cret&code=1000.code");
/// ```
pub fn exchange<'b>(
    buf: &'b mut [u8],
    accounts: &Origin,
    client_id: &str,
    client_secret: &str,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<Request<'b>, BufferTooSmall> {
    let (uri_key, uri) = match redirect_uri {
        Some(uri) => ("&redirect_uri=", uri),
        None => ("", ""),
    };
    let (verifier_key, verifier) = match code_verifier {
        Some(v) => ("&code_verifier=", v),
        None => ("", ""),
    };
    render(
        buf,
        Method::Post,
        &[Part::Raw(accounts.as_str()), Part::Raw(TOKEN_PATH)],
        &[
            Part::Raw("grant_type=authorization_code&client_id="),
            Part::Enc(client_id),
            Part::Raw("&client_secret="),
            Part::Enc(client_secret),
            Part::Raw("&code="),
            Part::Enc(code),
            Part::Raw(uri_key),
            Part::Enc(uri),
            Part::Raw(verifier_key),
            Part::Enc(verifier),
        ],
        &[],
    )
}

/// Render a client-credentials request (a Self Client without a refresh token, for back-end
/// jobs): `POST {accounts}/oauth/v2/token` with the form body
/// `grant_type=client_credentials&client_id=…&client_secret=…&scope=A,B[&soid=…]`.
///
/// `soid` names the organisation (`<service>.<org id>`, e.g. `ZohoCRM.600001234`); it is required
/// when the client reaches several organisations or portals, else Zoho answers
/// [`Verdict::MissingOrgInfo`](crate::response::Verdict::MissingOrgInfo). Parse the answer with
/// [`parse_token`](crate::response::parse_token) and
/// [`Flow::ClientCredentials`](crate::response::Flow::ClientCredentials): it has no refresh token;
/// when the access token expires, send this request again (each answer mints a new token, and
/// Zoho's limits on minting apply). On [`BufferTooSmall`] the buffer is untouched.
///
/// ```
/// use zoho_oauth_core::response::{parse_token, Flow};
/// use zoho_oauth_core::{request, DataCenter, Origin};
///
/// let mut buf = [0u8; 512];
/// let us = Origin::Zoho(DataCenter::Us);
/// let scopes = ["ZohoCRM.modules.ALL", "ZohoCRM.settings.READ"];
/// let req = request::client_credentials(&mut buf, &us, "1000.ID", "s3cret", &scopes, Some("ZohoCRM.600001234"))?;
/// assert_eq!(req.url, "https://accounts.zoho.com/oauth/v2/token");
/// assert_eq!(
///     req.body,
///     b"grant_type=client_credentials&client_id=1000.ID&client_secret=s3cret\
///       &scope=ZohoCRM.modules.ALL,ZohoCRM.settings.READ&soid=ZohoCRM.600001234"
/// );
/// // … send it; Zoho answers an access token alone:
/// let answer = br#"{"access_token":"1000.c1c2","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#;
/// let grant = parse_token(Flow::ClientCredentials, 200, answer).unwrap();
/// assert!(grant.refresh_token.is_none());
/// # Ok::<(), zoho_oauth_core::BufferTooSmall>(())
/// ```
pub fn client_credentials<'b>(
    buf: &'b mut [u8],
    accounts: &Origin,
    client_id: &str,
    client_secret: &str,
    scopes: &[&str],
    soid: Option<&str>,
) -> Result<Request<'b>, BufferTooSmall> {
    render_form(
        buf,
        &[Part::Raw(accounts.as_str()), Part::Raw(TOKEN_PATH)],
        |f| {
            f(Part::Raw("grant_type=client_credentials&client_id="));
            f(Part::Enc(client_id));
            f(Part::Raw("&client_secret="));
            f(Part::Enc(client_secret));
            f(Part::Raw("&scope="));
            scope_parts(scopes, f);
            if let Some(soid) = soid {
                f(Part::Raw("&soid="));
                f(Part::Enc(soid));
            }
        },
    )
}

/// Render a refresh: `POST {accounts}/oauth/v2/token` with the form body
/// `grant_type=refresh_token&client_id=…&client_secret=…&refresh_token=…`.
///
/// On [`BufferTooSmall`] the buffer is untouched.
pub fn refresh<'b>(
    buf: &'b mut [u8],
    accounts: &Origin,
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
) -> Result<Request<'b>, BufferTooSmall> {
    render(
        buf,
        Method::Post,
        &[Part::Raw(accounts.as_str()), Part::Raw(TOKEN_PATH)],
        &[
            Part::Raw("grant_type=refresh_token&client_id="),
            Part::Enc(client_id),
            Part::Raw("&client_secret="),
            Part::Enc(client_secret),
            Part::Raw("&refresh_token="),
            Part::Enc(refresh_token),
        ],
        &[],
    )
}

/// Render a revocation: `POST {accounts}/oauth/v2/token/revoke` with the form body `token=…`.
/// Revoking a refresh token also kills every access token minted from it.
///
/// On [`BufferTooSmall`] the buffer is untouched.
pub fn revoke<'b>(
    buf: &'b mut [u8],
    accounts: &Origin,
    refresh_token: &str,
) -> Result<Request<'b>, BufferTooSmall> {
    render(
        buf,
        Method::Post,
        &[Part::Raw(accounts.as_str()), Part::Raw(REVOKE_PATH)],
        &[Part::Raw("token="), Part::Enc(refresh_token)],
        &[],
    )
}

/// Render a user-info call: `GET {accounts}/oauth/user/info` with
/// `Authorization: Zoho-oauthtoken <access_token>` (needs the scope `aaaserver.profile.READ`).
///
/// On [`BufferTooSmall`] the buffer is untouched.
pub fn user_info<'b>(
    buf: &'b mut [u8],
    accounts: &Origin,
    access_token: &str,
) -> Result<Request<'b>, BufferTooSmall> {
    render(
        buf,
        Method::Get,
        &[Part::Raw(accounts.as_str()), Part::Raw(USER_INFO_PATH)],
        &[],
        &[Part::Raw(AUTH_SCHEME), Part::Raw(access_token)],
    )
}

/// The `Authorization` header value for Zoho's APIs: `Zoho-oauthtoken <access_token>`.
///
/// On [`BufferTooSmall`] the buffer is untouched.
///
/// ```
/// let mut buf = [0u8; 64];
/// let h = zoho_oauth_core::request::authorization_header(&mut buf, "1000.abc.def").unwrap();
/// assert_eq!(h, "Zoho-oauthtoken 1000.abc.def");
/// ```
pub fn authorization_header<'b>(
    buf: &'b mut [u8],
    access_token: &str,
) -> Result<&'b str, BufferTooSmall> {
    let parts = [Part::Raw(AUTH_SCHEME), Part::Raw(access_token)];
    let required = parts_len(&parts);
    if buf.len() < required {
        return Err(BufferTooSmall { required });
    }
    let out = &mut buf[..required];
    write_parts(&parts, out);
    Ok(text(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::DataCenter;
    use proptest::prelude::*;

    extern crate std;
    use std::string::String;
    use std::vec::Vec;
    use std::{format, vec};

    const CLIENT_ID: &str = "1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR";
    const SECRET: &str = "4b3c1f0e9d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";
    const CODE: &str = "1000.6f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f.5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";
    const REFRESH: &str = "1000.8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d.2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b";

    /// Decode a form body into (key, value) pairs.
    fn decoded_pairs(body: &[u8]) -> Vec<(String, String)> {
        let body = core::str::from_utf8(body).unwrap();
        form::pairs(body)
            .map(|(k, v)| {
                let (mut kb, mut vb) = (vec![0u8; k.len()], vec![0u8; v.len()]);
                (
                    String::from(form::decode_into(k, &mut kb).unwrap()),
                    String::from(form::decode_into(v, &mut vb).unwrap()),
                )
            })
            .collect()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (String::from(*k), String::from(*v)))
            .collect()
    }

    /// Each request kind rendered into `buf`, by name.
    fn render_all<'b>(
        kind: usize,
        buf: &'b mut [u8],
        o: &Origin,
        secret: &str,
        code: &str,
    ) -> Result<Request<'b>, BufferTooSmall> {
        match kind {
            0 => exchange(
                buf,
                o,
                CLIENT_ID,
                secret,
                code,
                Some("http://127.0.0.1:8765/cb"),
                None,
            ),
            1 => exchange(buf, o, CLIENT_ID, secret, code, None, None),
            2 => refresh(buf, o, CLIENT_ID, secret, code),
            3 => revoke(buf, o, code),
            4 => exchange(buf, o, CLIENT_ID, secret, "1000.c", None, Some(code)),
            5 => client_credentials(buf, o, CLIENT_ID, secret, &["A.b", "C.d"], Some(code)),
            _ => user_info(buf, o, code),
        }
    }

    /// Every kind [`render_all`] knows; the form-body ones are all but the last.
    const KINDS: usize = 7;
    const FORM_KINDS: usize = KINDS - 1;

    #[test]
    fn exchange_posts_the_grant_in_the_form_body() {
        let mut buf = [0u8; 1024];
        let o = Origin::Zoho(DataCenter::Us);
        let r = exchange(
            &mut buf,
            &o,
            CLIENT_ID,
            SECRET,
            CODE,
            Some("https://app.example/cb?x=1"),
            None,
        )
        .unwrap();
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.url, "https://accounts.zoho.com/oauth/v2/token");
        assert_eq!(r.content_type, Some(FORM_CONTENT_TYPE));
        assert_eq!(r.authorization, None);
        assert_eq!(
            decoded_pairs(r.body),
            owned(&[
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("code", CODE),
                ("redirect_uri", "https://app.example/cb?x=1"),
            ])
        );
        assert!(core::str::from_utf8(r.body)
            .unwrap()
            .ends_with("&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1"));
    }

    #[test]
    fn a_pkce_exchange_carries_the_code_verifier_last() {
        let mut buf = [0u8; 1024];
        let o = Origin::Zoho(DataCenter::Us);
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let r = exchange(
            &mut buf,
            &o,
            CLIENT_ID,
            SECRET,
            CODE,
            Some("http://127.0.0.1/cb"),
            Some(verifier),
        )
        .unwrap();
        assert_eq!(
            decoded_pairs(r.body),
            owned(&[
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("code", CODE),
                ("redirect_uri", "http://127.0.0.1/cb"),
                ("code_verifier", verifier),
            ])
        );
    }

    #[test]
    fn client_credentials_posts_the_scopes_comma_separated_and_the_soid() {
        let mut buf = [0u8; 1024];
        let o = Origin::Zoho(DataCenter::Eu);
        let r = client_credentials(
            &mut buf,
            &o,
            CLIENT_ID,
            SECRET,
            &["ZohoCRM.modules.ALL", "ZohoCRM.settings.READ"],
            Some("ZohoCRM.600001234"),
        )
        .unwrap();
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.url, "https://accounts.zoho.eu/oauth/v2/token");
        assert_eq!(r.content_type, Some(FORM_CONTENT_TYPE));
        assert_eq!(
            decoded_pairs(r.body),
            owned(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("scope", "ZohoCRM.modules.ALL,ZohoCRM.settings.READ"),
                ("soid", "ZohoCRM.600001234"),
            ])
        );
    }

    #[test]
    fn client_credentials_without_soid_omits_it_and_a_scope_cannot_inject_one() {
        let mut buf = [0u8; 1024];
        let o = Origin::Zoho(DataCenter::Us);
        let r = client_credentials(&mut buf, &o, CLIENT_ID, SECRET, &["A,B&soid=x"], None).unwrap();
        let body = core::str::from_utf8(r.body).unwrap();
        assert!(body.ends_with("&scope=A%2CB%26soid%3Dx"), "{body}");
        assert_eq!(decoded_pairs(r.body).len(), 4);
    }

    #[test]
    fn a_self_client_exchange_has_no_redirect_uri() {
        let mut buf = [0u8; 1024];
        let o = Origin::Zoho(DataCenter::In);
        let r = exchange(&mut buf, &o, CLIENT_ID, SECRET, CODE, None, None).unwrap();
        assert_eq!(r.url, "https://accounts.zoho.in/oauth/v2/token");
        let keys: Vec<String> = decoded_pairs(r.body).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["grant_type", "client_id", "client_secret", "code"]);
    }

    #[test]
    fn refresh_posts_the_refresh_token_in_the_form_body() {
        let mut buf = [0u8; 1024];
        let o = Origin::custom("http://127.0.0.1:40123").unwrap();
        let r = refresh(&mut buf, &o, CLIENT_ID, SECRET, REFRESH).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:40123/oauth/v2/token");
        assert_eq!(r.method, Method::Post);
        assert_eq!(
            decoded_pairs(r.body),
            owned(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("refresh_token", REFRESH),
            ])
        );
    }

    #[test]
    fn revoke_posts_the_token_to_the_revoke_endpoint() {
        let mut buf = [0u8; 256];
        let o = Origin::Zoho(DataCenter::Au);
        let r = revoke(&mut buf, &o, REFRESH).unwrap();
        assert_eq!(r.url, "https://accounts.zoho.com.au/oauth/v2/token/revoke");
        assert_eq!(r.method, Method::Post);
        assert_eq!(decoded_pairs(r.body), owned(&[("token", REFRESH)]));
    }

    #[test]
    fn user_info_is_a_get_with_the_zoho_authorization_header() {
        let mut buf = [0u8; 256];
        let o = Origin::Zoho(DataCenter::Ca);
        let r = user_info(&mut buf, &o, "1000.aaa.bbb").unwrap();
        assert_eq!(r.method, Method::Get);
        assert_eq!(r.url, "https://accounts.zohocloud.ca/oauth/user/info");
        assert_eq!(r.authorization, Some("Zoho-oauthtoken 1000.aaa.bbb"));
        assert_eq!(r.content_type, None);
        assert!(r.body.is_empty());
    }

    #[test]
    fn a_too_small_buffer_is_left_untouched_and_the_required_size_is_exact() {
        let o = Origin::Zoho(DataCenter::Eu);
        for kind in 0..KINDS {
            let mut big = [0u8; 1024];
            let expected_len = {
                let r = render_all(kind, &mut big, &o, SECRET, CODE).unwrap();
                r.url.len() + r.body.len() + r.authorization.map_or(0, str::len)
            };
            let mut small = vec![0xAAu8; expected_len - 1];
            let err = render_all(kind, &mut small, &o, SECRET, CODE).unwrap_err();
            assert_eq!(
                err,
                BufferTooSmall {
                    required: expected_len
                },
                "kind {kind}"
            );
            assert!(
                small.iter().all(|&b| b == 0xAA),
                "kind {kind}: buffer was written"
            );
            let mut exact = vec![0xAAu8; err.required];
            let again = render_all(kind, &mut exact, &o, SECRET, CODE).unwrap();
            let mut big2 = [0u8; 1024];
            assert_eq!(
                again,
                render_all(kind, &mut big2, &o, SECRET, CODE).unwrap()
            );
        }
    }

    #[test]
    fn authorization_header_reports_the_size_and_leaves_a_short_buffer_untouched() {
        let token = "1000.aaa.bbb";
        let mut small = [0xAAu8; 27];
        assert_eq!(
            authorization_header(&mut small, token),
            Err(BufferTooSmall { required: 28 })
        );
        assert_eq!(small, [0xAA; 27]);
        let mut exact = [0u8; 28];
        assert_eq!(
            authorization_header(&mut exact, token).unwrap(),
            format!("Zoho-oauthtoken {token}")
        );
    }

    fn awkward() -> impl Strategy<Value = String> {
        // Weighted towards the bytes form encoding must get right.
        prop::collection::vec(
            prop_oneof![
                3 => prop::sample::select(vec!['&', '+', '=', '%', ' ', '?', '#', '/', 'é', '€', '😀', '\n']),
                2 => any::<char>(),
                2 => prop::char::range('a', 'z'),
            ],
            0..40,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    proptest! {
        #[test]
        fn secrets_with_any_bytes_round_trip_through_the_form_body(secret in awkward(), code in awkward()) {
            let mut buf = vec![0u8; 4096];
            let o = Origin::Zoho(DataCenter::Jp);
            let r = exchange(&mut buf, &o, CLIENT_ID, &secret, &code, Some("http://localhost/cb"), None).unwrap();
            let got = decoded_pairs(r.body);
            prop_assert_eq!(got.len(), 5);
            prop_assert_eq!(&got[2], &(String::from("client_secret"), secret.clone()));
            prop_assert_eq!(&got[3], &(String::from("code"), code.clone()));
            let mut buf = vec![0u8; 4096];
            let r = refresh(&mut buf, &o, CLIENT_ID, &secret, &code).unwrap();
            let got = decoded_pairs(r.body);
            prop_assert_eq!(&got[2], &(String::from("client_secret"), secret));
            prop_assert_eq!(&got[3], &(String::from("refresh_token"), code));
        }

        #[test]
        fn secrets_never_appear_in_the_url(secret in "[a-f0-9]{8,42}", token in "1000\\.[a-f0-9]{8,32}\\.[a-f0-9]{8,32}", kind in 0usize..FORM_KINDS) {
            let o = Origin::Zoho(DataCenter::Sa);
            let mut buf = vec![0u8; 4096];
            let r = render_all(kind, &mut buf, &o, &secret, &token).unwrap();
            prop_assert!(!r.url.contains(&secret));
            prop_assert!(!r.url.contains(&token));
            prop_assert!(!r.url.contains('?'));
            prop_assert!(r.authorization.is_none());
            let body = core::str::from_utf8(r.body).unwrap();
            prop_assert!(body.contains(&token));
        }

        #[test]
        fn any_buffer_size_either_fits_exactly_or_is_untouched(len in 0usize..400, kind in 0usize..KINDS) {
            let o = Origin::Zoho(DataCenter::Uk);
            let mut buf = vec![0x55u8; len];
            match render_all(kind, &mut buf, &o, SECRET, CODE) {
                Ok(r) => {
                    let used = r.url.len() + r.body.len() + r.authorization.map_or(0, str::len);
                    prop_assert!(used <= len);
                }
                Err(BufferTooSmall { required }) => {
                    prop_assert!(required > len);
                    prop_assert!(buf.iter().all(|&b| b == 0x55));
                }
            }
        }
    }
}

//! "Login with Zoho": the authorization URL, and the checked parse of the redirect that comes back.
//!
//! Call [`authorization_url`] and send the user's browser there; when the browser comes back to
//! the redirect URI, call [`parse_redirect`] (a loopback listener may first filter with
//! [`carries_state`]), then exchange the code at [`Callback::accounts`]. A public client (desktop,
//! mobile) adds PKCE: see [`pkce`](crate::pkce).
//!
//! The redirect is untrusted input. Its `state` must equal the one the login started with
//! (compared in constant time), and its `accounts-server` must be one of Zoho's data centres, or
//! exactly the custom origin the caller configured, before the grant code and the client secret
//! are sent there: otherwise a forged redirect could steer the client secret to an attacker's host.
//!
//! ```
//! use zoho_oauth_core::authorize::{self, AccessType, AuthorizeParams, Prompt};
//! use zoho_oauth_core::{DataCenter, Origin};
//!
//! let us = Origin::Zoho(DataCenter::Us);
//! let params = AuthorizeParams {
//!     client_id: "1000.ABC",
//!     redirect_uri: "http://127.0.0.1:8765/callback",
//!     scopes: &["ZohoCRM.modules.ALL", "aaaserver.profile.READ"],
//!     access_type: AccessType::Offline,
//!     prompt: Some(Prompt::Consent),
//!     state: "k3y",
//!     code_challenge: None, // a public client adds its PKCE challenge: see `pkce`
//! };
//! let mut buf = [0u8; 512];
//! let url = authorize::authorization_url(&mut buf, &us, &params).unwrap();
//! assert!(url.starts_with("https://accounts.zoho.com/oauth/v2/auth?response_type=code&client_id=1000.ABC"));
//!
//! // The browser comes back to the redirect URI:
//! let back = "http://127.0.0.1:8765/callback?code=1000.6f3c&location=eu\
//!             &accounts-server=https%3A%2F%2Faccounts.zoho.eu&state=k3y";
//! let cb = authorize::parse_redirect(back, "k3y", &us).unwrap();
//! assert_eq!(cb.accounts, Origin::Zoho(DataCenter::Eu)); // exchange the code at the user's centre
//! assert_eq!(cb.code.expose(), "1000.6f3c");
//! ```

use core::fmt;

use zeroize::Zeroize;

use crate::cap;
use crate::form::{self, FormError};
use crate::pkce::CodeChallenge;
use crate::region::{DataCenter, Origin};
use crate::request::{scope_parts, text, BufferTooSmall, Part};
use crate::secret::{ct_eq, CapacityError, Secret};

/// Whether Zoho should issue a refresh token with the code (`access_type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccessType {
    /// `offline`: the exchange returns a refresh token. What a long-running client needs.
    #[default]
    Offline,
    /// `online`: an access token only (one hour, no refresh).
    Online,
}

impl AccessType {
    /// `"offline"` or `"online"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Offline => "offline",
            Self::Online => "online",
        }
    }
}

/// The `prompt` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// `consent`: always show the consent screen. Zoho issues a refresh token on every
    /// `offline` grant only with it; without it a user who already consented gets none.
    Consent,
}

impl Prompt {
    /// `"consent"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Consent => "consent",
        }
    }
}

/// What goes into the authorization URL.
#[derive(Clone, Copy, Debug)]
pub struct AuthorizeParams<'a> {
    /// The client id from the API console (`1000.…`).
    pub client_id: &'a str,
    /// The redirect URI registered for the client, exactly as registered.
    pub redirect_uri: &'a str,
    /// Scopes such as `ZohoCRM.modules.ALL`; sent comma-separated.
    pub scopes: &'a [&'a str],
    /// `offline` to get a refresh token.
    pub access_type: AccessType,
    /// `Some(Prompt::Consent)` to force the consent screen.
    pub prompt: Option<Prompt>,
    /// An unguessable value bound to this login attempt, checked by [`parse_redirect`].
    pub state: &'a str,
    /// The PKCE challenge of the verifier kept for the exchange
    /// ([`CodeVerifier::challenge`](crate::pkce::CodeVerifier::challenge)): adds
    /// `code_challenge=…&code_challenge_method=S256`. `None` for a confidential (server) client.
    pub code_challenge: Option<&'a CodeChallenge>,
}

/// Feed the parts of the authorization URL, in order, to `f`.
fn url_parts<'a>(accounts: &'a Origin, p: &AuthorizeParams<'a>, mut f: impl FnMut(Part<'a>)) {
    f(Part::Raw(accounts.as_str()));
    f(Part::Raw("/oauth/v2/auth?response_type=code&client_id="));
    f(Part::Enc(p.client_id));
    f(Part::Raw("&scope="));
    scope_parts(p.scopes, &mut f);
    f(Part::Raw("&redirect_uri="));
    f(Part::Enc(p.redirect_uri));
    f(Part::Raw("&access_type="));
    f(Part::Raw(p.access_type.as_str()));
    if let Some(prompt) = p.prompt {
        f(Part::Raw("&prompt="));
        f(Part::Raw(prompt.as_str()));
    }
    if let Some(challenge) = p.code_challenge {
        f(Part::Raw("&code_challenge="));
        f(Part::Raw(challenge.as_str()));
        f(Part::Raw("&code_challenge_method="));
        f(Part::Raw(CodeChallenge::METHOD));
    }
    f(Part::Raw("&state="));
    f(Part::Enc(p.state));
}

/// Render the URL to open in the user's browser:
/// `{accounts}/oauth/v2/auth?response_type=code&client_id=…&scope=A,B&redirect_uri=…&access_type=offline[&prompt=consent][&code_challenge=…&code_challenge_method=S256]&state=…`.
///
/// Every value is percent-encoded. On [`BufferTooSmall`] the buffer is untouched.
pub fn authorization_url<'b>(
    buf: &'b mut [u8],
    accounts: &Origin,
    params: &AuthorizeParams<'_>,
) -> Result<&'b str, BufferTooSmall> {
    let mut required = 0;
    url_parts(accounts, params, |part| required += part.len());
    if buf.len() < required {
        return Err(BufferTooSmall { required });
    }
    let out = &mut buf[..required];
    let mut at = 0;
    url_parts(accounts, params, |part| at += part.write(&mut out[at..]));
    Ok(text(out))
}

/// A checked authorization redirect: the grant code and where to exchange it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    /// The single-use grant code (valid for about two minutes).
    pub code: Secret<{ cap::GRANT_CODE }>,
    /// The accounts server to exchange the code at: the user's data centre (from a trusted
    /// `accounts-server` or `location`), or the configured origin.
    pub accounts: Origin,
    /// The `location` code of the redirect, when it named a known data centre.
    pub location: Option<DataCenter>,
}

/// The authorization redirect was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectError {
    /// The redirect carries an `error` parameter: the user declined (or Zoho refused) the grant.
    Denied {
        /// Zoho's `error` value, decoded (cut at 64 bytes).
        error: heapless::String<64>,
    },
    /// The `state` differs from the one this login started with.
    StateMismatch,
    /// The redirect has no `state`.
    MissingState,
    /// The redirect has no (or an empty) `code`.
    MissingCode,
    /// The `accounts-server` is not one of Zoho's data centres nor the configured custom origin.
    UntrustedAccountsServer,
    /// Not valid percent-encoding or UTF-8, or a parameter given twice.
    BadEncoding,
    /// The code or the state is longer than its capacity.
    TooLong(CapacityError),
}

impl RedirectError {
    /// What happened, without the advice ([`RedirectError::todo`]): one line, no secret.
    /// `Display` writes both, joined by `": "`.
    pub fn what(&self) -> RedirectWhat<'_> {
        RedirectWhat(self)
    }

    /// What to do about it, in one line.
    pub fn todo(&self) -> &'static str {
        match self {
            Self::Denied { .. } => "start the login again and approve access",
            Self::StateMismatch | Self::UntrustedAccountsServer => "start the login again",
            Self::MissingState => "start the login from the URL this client generated",
            Self::MissingCode => "pass the whole redirect URL or query string",
            Self::BadEncoding => "copy the whole redirect URL again",
            Self::TooLong(_) => "pass the redirect URL exactly as the browser shows it",
        }
    }
}

/// What a [`RedirectError`] says happened ([`RedirectError::what`]).
#[derive(Debug)]
pub struct RedirectWhat<'a>(&'a RedirectError);

impl fmt::Display for RedirectWhat<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            RedirectError::Denied { error } => {
                write!(f, "authorization was not granted (error: {error})")
            }
            RedirectError::StateMismatch => f.write_str(
                "the redirect's state does not match this login attempt (a forged or stale redirect)",
            ),
            RedirectError::MissingState => f.write_str("the redirect has no state parameter"),
            RedirectError::MissingCode => f.write_str("the redirect has no grant code"),
            RedirectError::UntrustedAccountsServer => f.write_str(
                "the redirect names an accounts-server that is neither a Zoho data centre nor the configured origin; the client secret was not sent there",
            ),
            RedirectError::BadEncoding => {
                f.write_str("the redirect query is badly encoded or repeats a parameter")
            }
            RedirectError::TooLong(e) => write!(f, "redirect parameter too long: {e}"),
        }
    }
}

impl fmt::Display for RedirectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what(), self.todo())
    }
}

impl core::error::Error for RedirectError {}

impl From<FormError> for RedirectError {
    fn from(_: FormError) -> Self {
        Self::BadEncoding
    }
}

/// The query part of `input`: after the first `?` when what precedes it is a URL or nothing
/// (no `=` or `&` in it), else all of `input`; without any `#fragment`.
fn query_of(input: &str) -> &str {
    let input = input.split_once('#').map_or(input, |(q, _)| q);
    match input.split_once('?') {
        Some((before, after)) if !before.contains(['=', '&']) => after,
        _ => input,
    }
}

/// Remember `value` for a parameter, refusing a second occurrence (parameter pollution).
fn once<'q>(slot: &mut Option<&'q str>, value: &'q str) -> Result<(), RedirectError> {
    if slot.replace(value).is_some() {
        return Err(RedirectError::BadEncoding);
    }
    Ok(())
}

/// Percent-decode `raw` into `out`; a value longer than `out` is [`RedirectError::TooLong`].
fn decode_field<'b>(
    field: &'static str,
    raw: &str,
    out: &'b mut [u8],
) -> Result<&'b str, RedirectError> {
    let capacity = out.len();
    form::decode_into(raw, out).map_err(|e| match e {
        FormError::BufferTooSmall { required } => RedirectError::TooLong(CapacityError {
            field,
            capacity,
            actual: required,
        }),
        _ => RedirectError::BadEncoding,
    })
}

/// Whether the redirect `query` (as [`parse_redirect`] takes it) carries exactly `expected_state`
/// (compared in constant time), whatever else it says. A loopback listener uses it to ignore
/// redirects that do not belong to the login in progress — a stale tab, a forged link, even one
/// carrying `error=` — before handing the real one to [`parse_redirect`].
pub fn carries_state(query: &str, expected_state: &str) -> bool {
    let mut state_buf = [0u8; cap::STATE];
    form::pairs(query_of(query)).any(|(raw_key, value)| {
        raw_key == "state"
            && form::decode_into(value, &mut state_buf)
                .is_ok_and(|state| ct_eq(state.as_bytes(), expected_state.as_bytes()))
    })
}

/// The data centre a redirect's `location` parameter names, if it names a known one. Only for
/// wording a refusal: [`parse_redirect`] decides where a code may be exchanged. (A client whose
/// data centres are emulated at custom origins cannot tell an emulated centre's origin from a
/// stranger's, but can say which centre the redirect claims to come from.)
pub fn redirect_location(query: &str) -> Option<DataCenter> {
    let mut buf = [0u8; 8];
    form::pairs(query_of(query))
        .find(|(raw_key, _)| *raw_key == "location")
        .and_then(|(_, value)| form::decode_into(value, &mut buf).ok())
        .and_then(|code| DataCenter::from_location(code).ok())
}

/// Parse and check the redirect of an authorization.
///
/// `query` is the query string (`code=…&state=…`), with or without a leading `?`, or the whole
/// redirect URL. Checks, in order: an `error` parameter gives [`RedirectError::Denied`] (even
/// with a code); `state` must be present and equal `expected_state` (constant time); `code` must
/// be present; `accounts-server`, when present, must be accepted by
/// [`Origin::accepts_accounts_server`] for `configured`. Without `accounts-server`, a Zoho
/// `configured` origin follows a valid `location` code, a custom one stays itself.
pub fn parse_redirect(
    query: &str,
    expected_state: &str,
    configured: &Origin,
) -> Result<Callback, RedirectError> {
    let (mut code, mut state, mut server, mut location, mut error) = (None, None, None, None, None);
    for (raw_key, value) in form::pairs(query_of(query)) {
        let mut key_buf = [0u8; 16];
        let key = match form::decode_into(raw_key, &mut key_buf) {
            Ok(k) => k,
            Err(FormError::BufferTooSmall { .. }) => continue, // not a key we know
            Err(e) => return Err(e.into()),
        };
        match key {
            "code" => once(&mut code, value)?,
            "state" => once(&mut state, value)?,
            "accounts-server" => once(&mut server, value)?,
            "location" => once(&mut location, value)?,
            "error" => once(&mut error, value)?,
            _ => {}
        }
    }

    if let Some(raw) = error {
        let mut buf = [0u8; 256];
        let decoded = form::decode_into(raw, &mut buf).unwrap_or(raw);
        let mut error = heapless::String::new();
        for c in decoded.chars() {
            if error.push(c).is_err() {
                break;
            }
        }
        return Err(RedirectError::Denied { error });
    }

    let raw_state = state.ok_or(RedirectError::MissingState)?;
    let mut state_buf = [0u8; cap::STATE];
    let state = decode_field("state", raw_state, &mut state_buf)?;
    if !ct_eq(state.as_bytes(), expected_state.as_bytes()) {
        return Err(RedirectError::StateMismatch);
    }

    let location = match location {
        Some(raw) => {
            let mut buf = [0u8; 8];
            match form::decode_into(raw, &mut buf) {
                Ok(code) => DataCenter::from_location(code).ok(),
                Err(FormError::BufferTooSmall { .. }) => None,
                Err(e) => return Err(e.into()),
            }
        }
        None => None,
    };

    let accounts = match server {
        Some(raw) => {
            let mut buf = [0u8; cap::ORIGIN];
            let server = match form::decode_into(raw, &mut buf) {
                Ok(s) => s,
                // Longer than any origin we could accept.
                Err(FormError::BufferTooSmall { .. }) => {
                    return Err(RedirectError::UntrustedAccountsServer)
                }
                Err(e) => return Err(e.into()),
            };
            configured
                .accepts_accounts_server(server)
                .ok_or(RedirectError::UntrustedAccountsServer)?
        }
        None => match (configured, location) {
            (Origin::Zoho(_), Some(dc)) => Origin::Zoho(dc),
            _ => configured.clone(),
        },
    };

    let raw_code = code
        .filter(|c| !c.is_empty())
        .ok_or(RedirectError::MissingCode)?;
    let mut code_buf = [0u8; cap::GRANT_CODE];
    let code = decode_field("code", raw_code, &mut code_buf)
        .and_then(|c| Secret::new("code", c).map_err(RedirectError::TooLong));
    code_buf.zeroize();
    Ok(Callback {
        code: code?,
        accounts,
        location,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    extern crate std;
    use std::string::String;
    use std::vec::Vec;
    use std::{format, vec};

    const CODE: &str = "1000.6f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f.5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";
    const US: Origin = Origin::Zoho(DataCenter::Us);

    fn eu_redirect(state: &str) -> String {
        format!(
            "code={CODE}&location=eu&accounts-server=https%3A%2F%2Faccounts.zoho.eu&state={state}"
        )
    }

    fn params<'a>(scopes: &'a [&'a str], state: &'a str) -> AuthorizeParams<'a> {
        AuthorizeParams {
            client_id: "1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR",
            redirect_uri: "http://127.0.0.1:8765/callback",
            scopes,
            access_type: AccessType::Offline,
            prompt: Some(Prompt::Consent),
            state,
            code_challenge: None,
        }
    }

    #[test]
    fn the_authorization_url_has_every_parameter_encoded() {
        let mut buf = [0u8; 1024];
        let p = params(&["ZohoCRM.modules.ALL", "aaaserver.profile.READ"], "a b&c");
        let url = authorization_url(&mut buf, &Origin::Zoho(DataCenter::Eu), &p).unwrap();
        assert_eq!(
            url,
            "https://accounts.zoho.eu/oauth/v2/auth?response_type=code\
             &client_id=1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR\
             &scope=ZohoCRM.modules.ALL,aaaserver.profile.READ\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback\
             &access_type=offline&prompt=consent&state=a%20b%26c"
        );
    }

    #[test]
    fn a_pkce_challenge_adds_the_challenge_and_the_s256_method_before_the_state() {
        let verifier =
            crate::pkce::CodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        let challenge = verifier.challenge();
        let mut p = params(&["ZohoCRM.modules.ALL"], "s");
        p.code_challenge = Some(&challenge);
        let mut buf = [0u8; 1024];
        let url = authorization_url(&mut buf, &US, &p).unwrap();
        assert!(
            url.ends_with(
                "&prompt=consent&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
                 &code_challenge_method=S256&state=s"
            ),
            "{url}"
        );
        assert!(!url.contains("plain") && !url.contains(verifier.expose()));
        p.code_challenge = None;
        let url = authorization_url(&mut buf, &US, &p).unwrap();
        assert!(!url.contains("code_challenge"), "{url}");
    }

    #[test]
    fn online_access_without_prompt_omits_prompt() {
        let mut buf = [0u8; 1024];
        let mut p = params(&["ZohoCRM.users.READ"], "s");
        p.access_type = AccessType::Online;
        p.prompt = None;
        let url = authorization_url(&mut buf, &US, &p).unwrap();
        assert!(url.contains("&access_type=online&state=s"), "{url}");
        assert!(!url.contains("prompt"));
    }

    #[test]
    fn a_scope_containing_a_comma_or_ampersand_cannot_inject_another_one() {
        let mut buf = [0u8; 1024];
        let p = params(&["A,B", "C&scope=D"], "s");
        let url = authorization_url(&mut buf, &US, &p).unwrap();
        assert!(url.contains("&scope=A%2CB,C%26scope%3DD&"), "{url}");
    }

    #[test]
    fn a_short_buffer_gets_the_exact_size_and_is_untouched() {
        let p = params(&["ZohoCRM.modules.ALL"], "xyz");
        let mut big = [0u8; 1024];
        let len = authorization_url(&mut big, &US, &p).unwrap().len();
        let mut small = vec![0xAAu8; len - 1];
        assert_eq!(
            authorization_url(&mut small, &US, &p),
            Err(BufferTooSmall { required: len })
        );
        assert!(small.iter().all(|&b| b == 0xAA));
        let mut exact = vec![0u8; len];
        assert!(authorization_url(&mut exact, &US, &p).is_ok());
    }

    #[test]
    fn a_zoho_redirect_to_another_data_centre_is_followed() {
        let cb = parse_redirect(&eu_redirect("abc"), "abc", &US).unwrap();
        assert_eq!(cb.code.expose(), CODE);
        assert_eq!(cb.accounts, Origin::Zoho(DataCenter::Eu));
        assert_eq!(cb.location, Some(DataCenter::Eu));
    }

    #[test]
    fn a_full_url_or_a_leading_question_mark_is_accepted() {
        let q = eu_redirect("abc");
        for input in [
            format!("http://127.0.0.1:8765/callback?{q}"),
            format!("?{q}"),
            format!("/callback?{q}#frag"),
            q.clone(),
        ] {
            let cb = parse_redirect(&input, "abc", &US).unwrap();
            assert_eq!(cb.code.expose(), CODE, "{input}");
            assert_eq!(cb.accounts, Origin::Zoho(DataCenter::Eu), "{input}");
        }
    }

    #[test]
    fn an_accounts_server_in_another_case_or_with_a_trailing_slash_is_accepted() {
        for server in [
            "https%3A%2F%2FACCOUNTS.Zoho.EU",
            "https%3A%2F%2Faccounts.zoho.eu%2F",
            "https%3a%2f%2faccounts.zoho.eu/",
            "https://accounts.zoho.eu",
        ] {
            let q = format!("code={CODE}&accounts-server={server}&state=abc");
            let cb = parse_redirect(&q, "abc", &US).unwrap();
            assert_eq!(cb.accounts, Origin::Zoho(DataCenter::Eu), "{server}");
            assert_eq!(cb.location, None);
        }
    }

    #[test]
    fn an_attacker_accounts_server_is_refused() {
        for server in [
            "https%3A%2F%2Faccounts.zoho.com.evil.example",
            "https%3A%2F%2Fevil.example",
            "http%3A%2F%2Faccounts.zoho.com",
            "https%3A%2F%2Faccounts.zoho.com%40evil.example",
            "https%3A%2F%2Faccounts.zoho.com%2F..%2F",
            "",
        ] {
            let q = format!("code={CODE}&location=us&accounts-server={server}&state=abc");
            assert_eq!(
                parse_redirect(&q, "abc", &US),
                Err(RedirectError::UntrustedAccountsServer),
                "{server}"
            );
        }
        let long = format!(
            "code=c&state=abc&accounts-server={}",
            "a".repeat(4 * cap::ORIGIN)
        );
        assert_eq!(
            parse_redirect(&long, "abc", &US),
            Err(RedirectError::UntrustedAccountsServer)
        );
    }

    #[test]
    fn a_custom_origin_accepts_only_itself_as_accounts_server() {
        let emu = Origin::custom("http://127.0.0.1:40123").unwrap();
        let ok = format!("code={CODE}&accounts-server=http%3A%2F%2F127.0.0.1%3A40123&state=s");
        assert_eq!(parse_redirect(&ok, "s", &emu).unwrap().accounts, emu);
        let zoho = format!("code={CODE}&accounts-server=https%3A%2F%2Faccounts.zoho.com&state=s");
        assert_eq!(
            parse_redirect(&zoho, "s", &emu),
            Err(RedirectError::UntrustedAccountsServer)
        );
        // No accounts-server: a custom origin stays itself whatever the location says.
        let loc = format!("code={CODE}&location=eu&state=s");
        let cb = parse_redirect(&loc, "s", &emu).unwrap();
        assert_eq!((cb.accounts, cb.location), (emu, Some(DataCenter::Eu)));
    }

    #[test]
    fn without_accounts_server_a_zoho_origin_follows_the_location_code() {
        let cb = parse_redirect(&format!("code={CODE}&location=AU&state=s"), "s", &US).unwrap();
        assert_eq!(cb.accounts, Origin::Zoho(DataCenter::Au));
        let cb = parse_redirect(&format!("code={CODE}&location=mars&state=s"), "s", &US).unwrap();
        assert_eq!((cb.accounts, cb.location), (US, None));
        let cb = parse_redirect(&format!("code={CODE}&state=s"), "s", &US).unwrap();
        assert_eq!(cb.accounts, US);
    }

    #[test]
    fn state_must_be_present_and_equal() {
        assert_eq!(
            parse_redirect(&eu_redirect("abd"), "abc", &US),
            Err(RedirectError::StateMismatch)
        );
        assert_eq!(
            parse_redirect(&eu_redirect("ab"), "abc", &US),
            Err(RedirectError::StateMismatch)
        );
        assert_eq!(
            parse_redirect(&format!("code={CODE}&location=us"), "abc", &US),
            Err(RedirectError::MissingState)
        );
        // The state is compared after decoding.
        assert!(parse_redirect(&eu_redirect("a%20b+c%26"), "a b c&", &US).is_ok());
    }

    #[test]
    fn only_a_redirect_with_the_exact_state_carries_it() {
        let state = "0123456789abcdef0123456789abcdef";
        assert!(carries_state(&format!("code=x&state={state}"), state));
        assert!(carries_state(
            &format!("http://127.0.0.1:8765/callback?error=access_denied&state={state}"),
            state
        ));
        assert!(!carries_state("code=x&state=0123", state));
        assert!(!carries_state("error=access_denied", state));
        assert!(!carries_state("", state));
        assert!(!carries_state(&format!("code=x&state={state}0"), state));
    }

    #[test]
    fn an_error_parameter_is_a_denial_even_with_a_code() {
        let q = format!("error=access_denied&code={CODE}&state=abc");
        assert_eq!(
            parse_redirect(&q, "abc", &US),
            Err(RedirectError::Denied {
                error: heapless::String::try_from("access_denied").unwrap()
            })
        );
        let long = format!("state=abc&error={}", "x%20".repeat(100));
        match parse_redirect(&long, "abc", &US) {
            Err(RedirectError::Denied { error }) => assert_eq!(error.len(), 64),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_or_empty_code_is_reported() {
        assert_eq!(
            parse_redirect("state=abc&location=us", "abc", &US),
            Err(RedirectError::MissingCode)
        );
        assert_eq!(
            parse_redirect("code=&state=abc", "abc", &US),
            Err(RedirectError::MissingCode)
        );
    }

    #[test]
    fn bad_escapes_and_repeated_parameters_are_refused() {
        assert_eq!(
            parse_redirect("code=1000.%zz&state=abc", "abc", &US),
            Err(RedirectError::BadEncoding)
        );
        assert_eq!(
            parse_redirect("code=1000.%FF&state=abc", "abc", &US),
            Err(RedirectError::BadEncoding)
        );
        let twice = format!(
            "code={CODE}&state=abc&accounts-server=https%3A%2F%2Faccounts.zoho.eu\
             &accounts-server=https%3A%2F%2Fevil.example"
        );
        assert_eq!(
            parse_redirect(&twice, "abc", &US),
            Err(RedirectError::BadEncoding)
        );
    }

    #[test]
    fn an_oversized_code_is_too_long_not_truncated() {
        let q = format!("code={}&state=abc", "a".repeat(cap::GRANT_CODE + 1));
        assert_eq!(
            parse_redirect(&q, "abc", &US),
            Err(RedirectError::TooLong(CapacityError {
                field: "code",
                capacity: cap::GRANT_CODE,
                actual: cap::GRANT_CODE + 1
            }))
        );
    }

    #[test]
    fn the_callback_debug_never_shows_the_code() {
        let cb = parse_redirect(&eu_redirect("abc"), "abc", &US).unwrap();
        let shown = format!("{cb:?}");
        assert!(!shown.contains(CODE), "{shown}");
    }

    #[test]
    fn every_error_says_what_to_do() {
        let all = [
            RedirectError::Denied {
                error: heapless::String::new(),
            },
            RedirectError::StateMismatch,
            RedirectError::MissingState,
            RedirectError::MissingCode,
            RedirectError::UntrustedAccountsServer,
            RedirectError::BadEncoding,
        ];
        for e in all {
            let s = format!("{e}");
            assert!(s.contains(": "), "{s}");
        }
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec!['&', '+', '=', '%', ' ', '?', '#', 'é', '😀']),
                any::<char>(),
            ],
            1..30,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    fn enc(s: &str) -> String {
        let mut out = vec![0u8; form::encoded_len(s)];
        form::encode_into(s, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    proptest! {
        #[test]
        fn any_state_and_code_round_trip_through_a_redirect(state in any_text(), code in any_text()) {
            let q = format!("code={}&state={}", enc(&code), enc(&state));
            let cb = parse_redirect(&q, &state, &US).unwrap();
            prop_assert_eq!(cb.code.expose(), code.as_str());
            let wrong: String = state.chars().chain(core::iter::once('x')).collect();
            prop_assert_eq!(parse_redirect(&q, &wrong, &US), Err(RedirectError::StateMismatch));
        }

        #[test]
        fn the_authorization_url_state_is_what_the_redirect_checks(state in any_text(), scopes in prop::collection::vec("[A-Za-z.]{1,20}", 0..4)) {
            let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
            let p = params(&scope_refs, &state);
            let mut buf = vec![0u8; 4096];
            let url = authorization_url(&mut buf, &US, &p).unwrap();
            let (_, query) = url.split_once('?').unwrap();
            let mut raw_state = None;
            for (k, v) in form::pairs(query) {
                if k == "state" { raw_state = Some(v); }
                prop_assert!(!k.is_empty());
            }
            let mut out = vec![0u8; 4096];
            prop_assert_eq!(form::decode_into(raw_state.unwrap(), &mut out).unwrap(), state.as_str());
        }

        #[test]
        fn parsing_arbitrary_input_never_panics(input in any::<String>(), state in any::<String>()) {
            let _ = parse_redirect(&input, &state, &US);
        }
    }
}

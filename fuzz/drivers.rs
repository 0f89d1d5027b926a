//! The bodies of the fuzz targets, shared by the cargo-fuzz binaries (`fuzz_targets/*.rs`) and
//! the stable replay test `core/tests/fuzz_corpus_replay.rs`, which include this file by path.
//!
//! Each driver calls public functions of `zoho-oauth-core` and panics only when an invariant
//! fails; any input that is merely invalid must be refused with an error.
#![allow(dead_code)] // each fuzz binary uses one driver

use core::time::Duration;

use zoho_oauth_core::authorize::{self, AccessType, AuthorizeParams, Prompt};
use zoho_oauth_core::form;
use zoho_oauth_core::machine::{State, WaitReason};
use zoho_oauth_core::pkce::CodeVerifier;
use zoho_oauth_core::response::{self, ApiVerdict, Fault, Flow, ReAuthReason, Revocation, Verdict};
use zoho_oauth_core::secret::is_token_text;
use zoho_oauth_core::token::{age_known, GrantKind, MintLog, PauseReason, CLOCK_SKEW_TOLERANCE};
use zoho_oauth_core::{
    Config, Credentials, DataCenter, Event, Instant, Machine, Origin, Poll, RequestKind, TokenSet,
    MAX_ACCESS_TOKEN_LIFETIME, MIN_ACCESS_TOKEN_LIFETIME,
};

/// Reads the fuzzer's bytes as a stream of small decisions; past the end every read is zero, so
/// any input is a complete script.
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    /// Up to `n` bytes.
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A length byte, then that many bytes.
    fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte());
        self.take(n)
    }

    fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }
}

/// How long `value` displays, counted without allocating (fuzzing runs this millions of times).
fn display_len(value: &impl core::fmt::Display) -> usize {
    struct Count(usize);
    impl core::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut count = Count(0);
    core::fmt::write(&mut count, format_args!("{value}")).expect("Display does not fail");
    count.0
}

/// The first two bytes as the HTTP status (big-endian), the rest as the body.
pub fn status_and_body(data: &[u8]) -> (u16, &[u8]) {
    let mut input = Input::new(data);
    (input.u16(), input.rest())
}

/// A parser's refusal displays as something, carries the response's own status if any, and is
/// never the machine's misuse verdict.
fn check_refusal(verdict: &Verdict, status: u16) {
    assert!(display_len(verdict) > 0, "{verdict:?} displays as nothing");
    if let Verdict::Retryable(Fault::ServerError { status: s } | Fault::Html { status: s }) =
        verdict
    {
        assert_eq!(
            *s, status,
            "a fault names another status than the response's"
        );
    }
    assert_ne!(
        *verdict,
        Verdict::NotInFlight,
        "a parser answered with the machine's misuse verdict"
    );
}

/// The first two bytes are the HTTP status (big-endian), the rest the body; every flow.
///
/// A grant has a non-empty access token; the tokens are visible ASCII and `api_domain` has no
/// control character or blank (they go into header lines); every error displays.
pub fn parse_token(data: &[u8]) {
    let (status, body) = status_and_body(data);
    for flow in [Flow::Exchange, Flow::Refresh, Flow::ClientCredentials] {
        match response::parse_token(flow, status, body) {
            Ok(grant) => {
                let access = grant.access_token.expose();
                assert!(!access.is_empty(), "a grant without an access token");
                assert!(
                    is_token_text(access.as_bytes()),
                    "an access token unfit for a header"
                );
                if let Some(refresh) = &grant.refresh_token {
                    assert!(
                        !refresh.is_empty() && is_token_text(refresh.expose().as_bytes()),
                        "a refresh token unfit for a header"
                    );
                }
                if let Some(domain) = &grant.api_domain {
                    assert!(
                        !domain.chars().any(|c| c.is_control() || c.is_whitespace()),
                        "an api_domain with a control character or a blank"
                    );
                }
            }
            Err(verdict) => check_refusal(&verdict, status),
        }
    }
}

/// The input is the redirect; the expected state is `abc`; a Zoho and a custom configuration.
pub fn parse_redirect(data: &[u8]) {
    let Ok(query) = core::str::from_utf8(data) else {
        return;
    };
    let us = Origin::Zoho(DataCenter::Us);
    let custom = Origin::custom("http://127.0.0.1:40123").expect("valid origin");
    match authorize::parse_redirect(query, "abc", &us) {
        Ok(cb) => {
            assert!(
                matches!(cb.accounts, Origin::Zoho(_)),
                "a Zoho configuration left Zoho"
            );
            assert!(!cb.code.is_empty());
            assert!(
                authorize::carries_state(query, "abc"),
                "accepted a redirect that does not carry the state"
            );
        }
        Err(e) => assert!(display_len(&e) > 0, "{e:?} displays as nothing"),
    }
    if let Ok(cb) = authorize::parse_redirect(query, "abc", &custom) {
        assert_eq!(cb.accounts, custom, "a custom configuration went elsewhere");
    }
}

/// Decode the input as one component and as pairs; whatever decodes re-encodes and decodes back.
pub fn form_decode(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let mut out = vec![0u8; text.len()];
    let mut again = vec![0u8; text.len() * 3 + 1];
    let mut back = vec![0u8; text.len() + 1];
    for piece in core::iter::once(text).chain(form::pairs(text).flat_map(|(k, v)| [k, v])) {
        let Ok(decoded) = form::decode_into(piece, &mut out) else {
            continue;
        };
        assert!(decoded.len() <= piece.len());
        let n = form::encode_into(decoded, &mut again).expect("3 bytes per byte suffice");
        assert_eq!(n, form::encoded_len(decoded));
        let reencoded = core::str::from_utf8(&again[..n]).expect("encoding is ASCII");
        assert_eq!(form::decode_into(reencoded, &mut back), Ok(decoded));
    }
}

/// Whatever decodes as a `TokenSet` encodes to bytes that decode to the same set and encode
/// identically.
pub fn token_decode(data: &[u8]) {
    let Ok(token) = TokenSet::decode(data) else {
        return;
    };
    let mut first = vec![0u8; TokenSet::MAX_ENCODED_LEN];
    let first = token.encode(&mut first).expect("MAX_ENCODED_LEN suffices");
    let again = TokenSet::decode(first).expect("an encoding decodes");
    assert_eq!(again, token);
    let mut second = vec![0u8; TokenSet::MAX_ENCODED_LEN];
    assert_eq!(again.encode(&mut second).expect("fits"), first);
}

/// The first two bytes are the HTTP status, the rest the body of a revoke answer.
///
/// `Ok` only for a JSON object: `Revoked` only when it says `success`, `AlreadyGone` only when it
/// names `invalid_token` or `invalid_code`; every error displays and names the response's own
/// status.
pub fn parse_revoke(data: &[u8]) {
    let (status, body) = status_and_body(data);
    match response::parse_revoke(status, body) {
        Ok(revocation) => {
            // (A UTF-8 byte order mark may precede it.)
            assert_eq!(
                body.strip_prefix(b"\xEF\xBB\xBF")
                    .unwrap_or(body)
                    .trim_ascii_start()
                    .first(),
                Some(&b'{'),
                "a revoke succeeded without a JSON object"
            );
            let lower = body.to_ascii_lowercase();
            let names = |word: &[u8]| lower.windows(word.len()).any(|w| w == word);
            match revocation {
                Revocation::Revoked => {
                    assert!(names(b"success"), "revoked without a success status")
                }
                Revocation::AlreadyGone => assert!(
                    names(b"invalid_token") || names(b"invalid_code"),
                    "already gone without invalid_token or invalid_code"
                ),
                _ => {}
            }
        }
        Err(verdict) => check_refusal(&verdict, status),
    }
}

/// The first two bytes are the HTTP status, the rest the body of a user-info answer.
///
/// `Ok` only with a `ZUID`; every error displays and names the response's own status.
pub fn parse_user_info(data: &[u8]) {
    let (status, body) = status_and_body(data);
    match response::parse_user_info(status, body) {
        Ok(info) => assert!(
            body.windows(4).any(|w| w == b"ZUID"),
            "user info without a ZUID field: {info:?}"
        ),
        Err(verdict) => check_refusal(&verdict, status),
    }
}

/// The first two bytes are the HTTP status, the rest the body of a resource-API answer.
///
/// 2xx and 3xx are `Ok`, only a 401 can be `InvalidToken`, and only when the body names one of
/// Zoho's invalid-token codes.
pub fn classify_api(data: &[u8]) {
    let (status, body) = status_and_body(data);
    let verdict = response::classify_api(status, body);
    if (200..400).contains(&status) {
        assert_eq!(verdict, ApiVerdict::Ok);
    } else if verdict == ApiVerdict::InvalidToken {
        assert_eq!(status, 401, "a token verdict on a non-401");
        let lower = body.to_ascii_lowercase();
        assert!(
            [&b"invalid_token"[..], b"invalid_oauthtoken"]
                .iter()
                .any(|code| lower.windows(code.len()).any(|w| w == *code)),
            "InvalidToken without an invalid-token code in the body"
        );
    } else {
        assert_eq!(verdict, ApiVerdict::Other);
    }
}

/// Split the input into the fields of an authorization URL (separated by `0xff`), render it, and
/// parse the query back: every value comes back exactly, and a redirect carrying the state and
/// a code parses to that code.
pub fn authorization_url(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.byte();
    let mut fields = input
        .rest()
        .split(|b| *b == 0xff)
        .map(|f| core::str::from_utf8(f).ok());
    let (Some(Some(client_id)), Some(Some(redirect_uri)), Some(Some(state)), Some(Some(code))) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return;
    };
    let scopes: Vec<&str> = fields.map_while(|f| f).collect();
    let accounts = match flags % 4 {
        0 => Origin::Zoho(DataCenter::Us),
        1 => Origin::Zoho(DataCenter::Cn),
        2 => Origin::custom("http://127.0.0.1:40123").expect("valid origin"),
        _ => Origin::custom("https://accounts.example.test").expect("valid origin"),
    };
    // Bit 4 adds a PKCE challenge (of a verifier made from the code's bytes, padded to 32).
    let mut random = [0x5Au8; 32];
    for (r, c) in random.iter_mut().zip(code.bytes()) {
        *r ^= c;
    }
    let challenge = CodeVerifier::from_random(&random)
        .expect("32 bytes make a verifier")
        .challenge();
    let params = AuthorizeParams {
        client_id,
        redirect_uri,
        scopes: &scopes,
        access_type: if flags & 4 == 0 {
            AccessType::Offline
        } else {
            AccessType::Online
        },
        prompt: (flags & 8 != 0).then_some(Prompt::Consent),
        state,
        code_challenge: (flags & 16 != 0).then_some(&challenge),
    };
    let mut small = vec![0xAAu8; usize::from(flags >> 4) * 8];
    let url = match authorize::authorization_url(&mut small, &accounts, &params) {
        Ok(url) => url.to_owned(),
        Err(e) => {
            assert!(e.required > small.len());
            assert!(small.iter().all(|b| *b == 0xAA), "a refused render wrote");
            let mut buf = vec![0u8; e.required];
            let url = authorize::authorization_url(&mut buf, &accounts, &params)
                .expect("the required size suffices");
            assert_eq!(url.len(), e.required, "the required size is not the size");
            url.to_owned()
        }
    };
    let prefix = format!("{}/oauth/v2/auth?", accounts.as_str());
    let query = url
        .strip_prefix(&prefix)
        .expect("the URL starts at the accounts server");
    assert!(
        !query.contains(['#', ' ']),
        "a raw fragment or blank in the URL"
    );

    let decode = |raw: &str| {
        let mut out = vec![0u8; raw.len()];
        form::decode_into(raw, &mut out)
            .expect("what we encoded decodes")
            .to_owned()
    };
    let pairs: Vec<(&str, &str)> = form::pairs(query).collect();
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
    let mut expected_keys = vec![
        "response_type",
        "client_id",
        "scope",
        "redirect_uri",
        "access_type",
    ];
    if params.prompt.is_some() {
        expected_keys.push("prompt");
    }
    if params.code_challenge.is_some() {
        expected_keys.extend(["code_challenge", "code_challenge_method"]);
    }
    expected_keys.push("state");
    assert_eq!(
        keys, expected_keys,
        "a value leaked into the query structure"
    );
    let value = |key: &str| pairs.iter().find(|(k, _)| *k == key).expect("present").1;
    assert_eq!(decode(value("client_id")), client_id);
    assert_eq!(decode(value("redirect_uri")), redirect_uri);
    assert_eq!(decode(value("state")), state);
    assert_eq!(value("access_type"), params.access_type.as_str());
    if let Some(challenge) = params.code_challenge {
        assert_eq!(value("code_challenge"), challenge.as_str());
        assert_eq!(value("code_challenge_method"), "S256");
    }
    let raw_scopes = value("scope");
    let back: Vec<String> = if raw_scopes.is_empty() {
        Vec::new()
    } else {
        raw_scopes.split(',').map(decode).collect()
    };
    // An empty list and a list of one empty scope render alike.
    if scopes != [""] {
        assert_eq!(back, scopes, "scopes did not come back");
    }

    // The redirect Zoho sends back to this login.
    let enc = |s: &str| {
        let mut out = vec![0u8; form::encoded_len(s)];
        form::encode_into(s, &mut out).expect("sized");
        String::from_utf8(out).expect("ASCII")
    };
    let redirect = format!("?code={}&state={}", enc(code), enc(state));
    assert!(authorize::carries_state(&redirect, state) || state.len() > 128);
    match authorize::parse_redirect(&redirect, state, &accounts) {
        Ok(cb) => {
            assert_eq!(cb.code.expose(), code, "the code did not come back");
            assert_eq!(
                cb.accounts, accounts,
                "the redirect moved the accounts server"
            );
        }
        Err(authorize::RedirectError::MissingCode) => assert!(code.is_empty()),
        Err(authorize::RedirectError::TooLong(e)) => assert!(e.actual > e.capacity),
        Err(e) => panic!("our own redirect was refused: {e:?}"),
    }
}

#[cfg(feature = "embedded-io")]
#[allow(unused_imports)] // each fuzz binary uses one driver
pub use stream::http1_read;

#[cfg(feature = "embedded-io")]
mod stream {
    use super::Input;
    use zoho_oauth_core::http1::{self, Http1Error};

    /// The connection reset at the end of the data, when the script asks for it.
    #[derive(Debug, PartialEq, Eq)]
    pub struct Reset;

    impl core::fmt::Display for Reset {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("connection reset")
        }
    }

    impl core::error::Error for Reset {}

    impl embedded_io::Error for Reset {
        fn kind(&self) -> embedded_io::ErrorKind {
            embedded_io::ErrorKind::ConnectionReset
        }
    }

    /// A stream handing out `data` in pieces of the scripted sizes (cycled; empty: all at once).
    struct Pieces<'a> {
        data: &'a [u8],
        sizes: &'a [u8],
        next: usize,
        reset_at_end: bool,
    }

    impl embedded_io::ErrorType for Pieces<'_> {
        type Error = Reset;
    }

    impl embedded_io::Read for Pieces<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Reset> {
            assert!(
                !buf.is_empty(),
                "a read into no room: its Ok(0) would look like the end of the stream"
            );
            if self.data.is_empty() && self.reset_at_end {
                return Err(Reset);
            }
            let size = match self.sizes {
                [] => usize::MAX,
                sizes => usize::from(sizes[self.next % sizes.len()].max(1)),
            };
            self.next += 1;
            let n = size.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    type Outcome = Result<(u16, Vec<u8>), Http1Error<Reset>>;

    fn read(wire: &[u8], sizes: &[u8], reset_at_end: bool, buf_len: usize) -> Outcome {
        let mut stream = Pieces {
            data: wire,
            sizes,
            next: 0,
            reset_at_end,
        };
        let mut buf = vec![0u8; buf_len];
        let outcome = http1::read_response(&mut stream, &mut buf).map(|(s, b)| (s, b.to_vec()));
        if let Ok((status, _)) = &outcome {
            assert!(
                (100..600).contains(status),
                "status {status} is no HTTP class"
            );
            assert!(
                !(100..200).contains(status) || *status == 101,
                "an interim response returned as final"
            );
        }
        if let Err(e) = &outcome {
            assert!(super::display_len(e) > 0, "{e:?} displays as nothing");
        }
        outcome
    }

    /// Read an HTTP/1.x response from a stream that hands it out in fuzzer-chosen pieces.
    ///
    /// Byte 0: bit 0 resets the connection at the end of the data, bit 1 selects a well-formed
    /// response built from the rest of the input (else the rest is the wire itself). Bytes 1–2:
    /// the buffer size. Byte 3: how many read sizes follow (at most 15), then those sizes.
    ///
    /// Raw wire: the outcome does not depend on where the reads split the stream (it equals one
    /// read of everything). Built response: the body comes back exactly whenever the whole
    /// response fits the buffer (a body read until the connection closes is lost to a reset
    /// instead), and a smaller buffer can only make it `TooLarge`.
    pub fn http1_read(data: &[u8]) {
        let mut input = Input::new(data);
        let flags = input.byte();
        let reset_at_end = flags & 1 != 0;
        let buf_len = usize::from(input.u16() % 4097);
        let n_sizes = usize::from(input.byte() % 16);
        let sizes = input.take(n_sizes);
        if flags & 2 == 0 {
            let wire = input.rest();
            let split = read(wire, sizes, reset_at_end, buf_len);
            let whole = read(wire, &[], reset_at_end, buf_len);
            assert_eq!(
                split, whole,
                "the outcome depends on how the reads were split"
            );
            return;
        }
        let (wire, status, body, until_close) = build(&mut input);
        let fits = read(&wire, sizes, reset_at_end, wire.len().max(1));
        if until_close && reset_at_end {
            // Only the end of the stream ends such a body: a reset instead is a failure.
            assert_eq!(
                fits,
                Err(Http1Error::Io(Reset)),
                "a reset taken for the end of a body"
            );
            return;
        }
        assert_eq!(
            fits,
            Ok((status, body.clone())),
            "a well-formed response did not read back"
        );
        match read(&wire, sizes, reset_at_end, buf_len) {
            Ok(got) => assert_eq!(got, (status, body), "a smaller buffer changed the body"),
            Err(Http1Error::TooLarge { limit, required }) => {
                assert_eq!(limit, buf_len);
                if let Some(required) = required {
                    assert!(required > buf_len, "TooLarge asks for less than it had");
                }
            }
            Err(e) => panic!("a well-formed response failed in a small buffer: {e:?}"),
        }
    }

    /// A well-formed response from the script: interim responses, a status, a framing with its
    /// header spelling, chunk sizes, extensions and trailers, and the body (the rest).
    fn build(input: &mut Input<'_>) -> (Vec<u8>, u16, Vec<u8>, bool) {
        let shape = input.byte();
        let status = [200u16, 400, 401, 500, 502, 429, 201, 100][usize::from(shape % 8)];
        let status = if status == 100 { 200 } else { status };
        let interim = usize::from((shape >> 3) % 4);
        let framing = input.byte();
        let n_chunks = usize::from(input.byte() % 8);
        let chunk_sizes: Vec<usize> = (0..n_chunks)
            .map(|_| usize::from(input.byte()).max(1))
            .collect();
        let body = input.rest().to_vec();

        let mut wire = Vec::new();
        for i in 0..interim {
            wire.extend_from_slice(match i % 3 {
                0 => b"HTTP/1.1 100 Continue\r\n\r\n".as_slice(),
                1 => b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
                _ => b"HTTP/1.1 102 Processing\r\n\r\n",
            });
        }
        wire.extend_from_slice(format!("HTTP/1.1 {status} Whatever\r\n").as_bytes());
        wire.extend_from_slice(b"Server: ZGS\r\nContent-Type: application/json;charset=UTF-8\r\n");
        match framing % 4 {
            0 => {
                let name = ["Content-Length", "content-length", "CONTENT-LENGTH"]
                    [usize::from(framing / 4 % 3)];
                wire.extend_from_slice(format!("{name}: {}\r\n\r\n", body.len()).as_bytes());
                wire.extend_from_slice(&body);
            }
            1 | 2 => {
                if framing % 4 == 2 {
                    // Chunked overrides a Content-Length (RFC 9112 §6.3).
                    wire.extend_from_slice(b"Content-Length: 3\r\n");
                }
                let coding = ["chunked", "Chunked", "gzip, chunked"][usize::from(framing / 4 % 3)];
                wire.extend_from_slice(format!("Transfer-Encoding: {coding}\r\n\r\n").as_bytes());
                let mut rest = body.as_slice();
                let mut sizes = chunk_sizes.iter().cycle();
                while !rest.is_empty() {
                    let n = sizes.next().copied().unwrap_or(rest.len()).min(rest.len());
                    let ext = if framing & 16 != 0 { ";name=value" } else { "" };
                    let size = if framing & 32 != 0 {
                        format!("{n:X}")
                    } else {
                        format!("{n:x}")
                    };
                    wire.extend_from_slice(format!("{size}{ext}\r\n").as_bytes());
                    wire.extend_from_slice(&rest[..n]);
                    wire.extend_from_slice(b"\r\n");
                    rest = &rest[n..];
                }
                wire.extend_from_slice(b"0\r\n");
                if framing & 64 != 0 {
                    wire.extend_from_slice(b"X-Zoho-Trailer: 1\r\nX-Other: two\r\n");
                }
                wire.extend_from_slice(b"\r\n");
            }
            _ => {
                wire.extend_from_slice(b"Connection: close\r\n\r\n");
                wire.extend_from_slice(&body);
            }
        }
        (wire, status, body, framing % 4 == 3)
    }
}

type RefreshToken = zoho_oauth_core::Secret<{ zoho_oauth_core::cap::REFRESH_TOKEN }>;

/// What a generated Zoho answer must do to the machine.
enum Expect {
    /// A success: this access token (and refresh token), living this long.
    Grant {
        access: String,
        refresh: Option<String>,
        lifetime: Duration,
    },
    /// An error of any kind.
    Refusal,
    /// Not known in advance (arbitrary bytes, odd statuses).
    Unknown,
}

const CLIENT_SECRET: &str = "4b3c1f0e9d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";
const REFRESH_TOKEN: &str =
    "1000.f9e8d7c6b5a4938271605f4e3d2c1b0a.9f8e7d6c5b4a3928170615f4e3d2c1b0";
const FOREIGN_REFRESH_TOKEN: &str =
    "1000.0a1b2c3d4e5f60718293a4b5c6d7e8f9.a0b1c2d3e4f5061728394a5b6c7d8e9f";
const GRANT_CODE: &str = "1000.6f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f.5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";

/// `expires_in` values worth trying: Zoho's hour, the edges of the margin clamp, zero, huge.
const LIFETIMES: &[u64] = &[
    3600,
    1,
    0,
    2,
    60,
    119,
    120,
    121,
    600,
    86_400,
    4_294_967_295,
    u64::MAX,
];

/// A Zoho-shaped answer chosen by the script; `serial` makes every minted access token unique.
fn zoho_answer(input: &mut Input<'_>, serial: u32) -> (u16, Vec<u8>, Expect) {
    let kind = input.byte();
    let pick = input.byte();
    let access = format!(
        "1000.{serial:032x}.{:032x}",
        u64::from(serial).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    );
    let lifetime_s = LIFETIMES[usize::from(pick) % LIFETIMES.len()];
    let domain = [
        "https://www.zohoapis.com",
        "https:\\/\\/www.zohoapis.eu",
        "https://www.zohoapis.com.cn",
    ][usize::from(pick >> 4) % 3];
    // A lifetime outside Zoho's range is refused (`Verdict::LifetimeOutOfRange`).
    let grant = |refresh: Option<&str>, lifetime: Duration| {
        if (MIN_ACCESS_TOKEN_LIFETIME..=MAX_ACCESS_TOKEN_LIFETIME).contains(&lifetime) {
            Expect::Grant {
                access: access.clone(),
                refresh: refresh.map(str::to_owned),
                lifetime,
            }
        } else {
            Expect::Refusal
        }
    };
    match kind % 14 {
        // An exchange's answer, with the refresh token.
        0 => (
            200,
            format!(r#"{{"access_token":"{access}","refresh_token":"{REFRESH_TOKEN}","scope":"ZohoCRM.modules.ALL","api_domain":"{domain}","token_type":"Bearer","expires_in":{lifetime_s}}}"#).into_bytes(),
            grant(Some(REFRESH_TOKEN), Duration::from_secs(lifetime_s)),
        ),
        // A refresh's answer (or an online grant's).
        1 => (
            200,
            format!(r#"{{"access_token":"{access}","api_domain":"{domain}","token_type":"Bearer","expires_in":{lifetime_s}}}"#).into_bytes(),
            grant(None, Duration::from_secs(lifetime_s)),
        ),
        // Old servers: `expires_in` in milliseconds beside `expires_in_sec`.
        2 => (
            200,
            format!(r#"{{"access_token":"{access}","expires_in_sec":{lifetime_s},"expires_in":{},"token_type":"Bearer"}}"#, lifetime_s.saturating_mul(1000)).into_bytes(),
            grant(None, Duration::from_millis(lifetime_s.saturating_mul(1000))),
        ),
        // No lifetime at all: an hour.
        3 => (
            200,
            format!("{{\r\n  \"access_token\": \"{access}\",\r\n  \"token_type\": \"Bearer\"\r\n}}").into_bytes(),
            grant(None, Duration::from_secs(3600)),
        ),
        4 => (200, br#"{"error":"invalid_code"}"#.to_vec(), Expect::Refusal),
        5 => (
            if pick & 1 == 0 { 400 } else { 200 },
            if pick & 2 == 0 {
                br#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#.to_vec()
            } else {
                "{\"error\":\"拒绝访问\",\"error_description\":\"您的请求过多，请稍后再试。\",\"status\":\"failure\"}".as_bytes().to_vec()
            },
            Expect::Refusal,
        ),
        6 => (
            200,
            [&br#"{"error":"invalid_client"}"#[..], br#"{"error":"invalid_client_secret"}"#][usize::from(pick & 1)].to_vec(),
            Expect::Refusal,
        ),
        7 => (200, br#"{"error":"access_denied"}"#.to_vec(), Expect::Refusal),
        8 => (
            [502, 503, 500, 200][usize::from(pick % 4)],
            b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>".to_vec(),
            Expect::Refusal,
        ),
        // A success cut short somewhere.
        9 => {
            let body = format!(r#"{{"access_token":"{access}","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}}"#);
            let cut = usize::from(pick) % body.len();
            (200, body.as_bytes()[..cut].to_vec(), Expect::Refusal)
        }
        10 => ([200, 500][usize::from(pick & 1)], b" \r\n".to_vec(), Expect::Refusal),
        // Header injection through the answer: never accepted.
        11 => (
            200,
            match pick % 3 {
                0 => format!(r#"{{"access_token":"{access}","api_domain":"https://www.zohoapis.com\r\nSet-Cookie: a=b","expires_in":3600}}"#),
                1 => r#"{"access_token":"1000.abc def","expires_in":3600}"#.to_owned(),
                _ => r#"{"access_token":"1000.\u00e9t\u00e9","expires_in":3600}"#.to_owned(),
            }
            .into_bytes(),
            Expect::Refusal,
        ),
        12 => (
            400,
            [&br#"{"error":"unsupported_grant_type"}"#[..], br#"{"error":"invalid_redirect_uri"}"#, br#"{"error":"invalid_token"}"#][usize::from(pick % 3)].to_vec(),
            Expect::Refusal,
        ),
        // Anything at all, with any status.
        _ => {
            let status = u16::from(pick) * 3;
            (status, input.chunk().to_vec(), Expect::Unknown)
        }
    }
}

/// The driver's own record of what the machine was told, to check it against the rules.
struct Model {
    config: Config,
    now: Instant,
    in_flight: Option<RequestKind>,
    /// Whether the flight began after the last `restore` (a restore mid-flight swaps the budget).
    flight_after_restore: bool,
    /// How many mints of the log were more than `CLOCK_SKEW_TOLERANCE` ahead when the request in
    /// flight was decided: the machine leaves them out (their real time is unknown), so each may
    /// cost one mint over the budget in a window that holds it.
    future_mints_at_send: usize,
    /// When the request in flight was sent.
    sent_at: Instant,
    /// `force_refresh` was called and no mint has happened since (an over-approximation).
    maybe_forced: bool,
    /// No request may go out before this (a backoff's shortest delay, or the throttle's wait).
    quiet_until: Option<Instant>,
    /// The longest that pause can be (`throttle_wait` or `backoff_max`): a pause ending further
    /// ahead than that plus `CLOCK_SKEW_TOLERANCE` was recorded by a clock running ahead (or the
    /// clock stepped back since), and the machine deliberately disregards it (`Config::pause_at`).
    quiet_longest: Duration,
    /// `invalid_code` on a refresh and nothing given since: no refresh may go out.
    refresh_refused: bool,
    /// The access token last handed out, its issue time and its expiry: handed out until then
    /// unless replaced (or the clock moved so far back that its age is unknown).
    current: Option<(String, Instant, Instant)>,
    /// Mint times of the current refresh token (from the token set after a restore or an
    /// exchange, then every refresh), remembered as `MintLog` remembers them: ordered, at most
    /// `cap::MINT_LOG`, the oldest forgotten first (after a clock stepped back, mints recorded
    /// ahead of it can push out older ones that its windows hold again, as `MintLog::in_window`
    /// documents).
    mints: Vec<u64>,
    /// The secrets that must never show in `Debug` or `Display`.
    secrets: Vec<String>,
    /// The end of the last `Wait` the machine gave, to jump there.
    last_until: Option<Instant>,
    tally: Tally,
}

impl Model {
    fn refresh_token(m: &Machine) -> Option<RefreshToken> {
        m.token().and_then(|t| t.refresh_token.clone())
    }

    /// After a mint, a restore or an exchange: the token the machine now hands out.
    fn adopt_current(&mut self, m: &Machine) {
        self.current = m.token().and_then(|t| {
            t.access_token
                .as_ref()
                .filter(|a| !a.is_empty())
                .map(|a| (a.expose().to_owned(), t.issued_at, t.expires_at))
        });
    }

    fn adopt_mints(&mut self, m: &Machine) {
        self.mints = m
            .token()
            .map(|t| t.mints.iter().map(Instant::as_millis).collect())
            .unwrap_or_default();
    }

    /// Poll, checking the answer against `wake_at` and the rules.
    fn poll(&mut self, m: &mut Machine) -> Poll {
        let now = self.now;
        let wake = m.wake_at(now);
        let poll = m.poll(now);
        match poll {
            Poll::Send(_) => assert_eq!(wake, Some(now), "wake_at disagrees with poll"),
            Poll::Wait { until, .. } => assert_eq!(wake, until, "wake_at disagrees with poll"),
            Poll::NeedsAuthorization { .. } | Poll::Empty => assert_eq!(wake, None),
        }
        if self.in_flight.is_some() {
            assert_eq!(
                poll,
                Poll::Wait {
                    until: None,
                    reason: WaitReason::InFlight
                },
                "a second request while one is in flight"
            );
            return poll;
        }
        if let Poll::Wait { until, reason } = poll {
            assert_ne!(reason, WaitReason::InFlight, "in flight with nothing sent");
            let until = until.expect("a wait with nothing in flight has an end");
            assert!(until > now, "a wait that is already over: a busy loop");
            self.last_until = Some(until);
            if reason == WaitReason::BudgetSpent {
                self.tally.budget_waits += 1;
            }
        }
        if let Poll::Send(kind) = poll {
            if let Some(q) = self.quiet_until {
                // The machine judges by the end it recorded (at or after `q`, the shortest).
                let recorded = m.hold().pause.map_or(q, |(until, _)| until.max(q));
                let disregarded = recorded
                    > now
                        .saturating_add(self.quiet_longest)
                        .saturating_add(CLOCK_SKEW_TOLERANCE);
                assert!(
                    now >= q || disregarded,
                    "sent during a backoff or throttle pause"
                );
            }
            if kind == RequestKind::Refresh {
                assert!(
                    !self.refresh_refused,
                    "refreshed with a refused refresh token"
                );
            }
            if kind != RequestKind::Exchange {
                // A client-credentials credential is asked for again, never refreshed: it has
                // no refresh token; a refresh token is always refreshed.
                let token = m.token().expect("a mint needs a token set");
                assert_eq!(
                    kind == RequestKind::ClientCredentials,
                    token.grant == GrantKind::ClientCredentials,
                    "{kind:?} for a {:?} credential",
                    token.grant
                );
                assert_eq!(
                    token.refresh_token.is_none(),
                    token.grant == GrantKind::ClientCredentials,
                    "a refresh token where none belongs, or none where one does"
                );
                self.check_refresh_is_due(m);
                self.check_budget_left();
            }
            self.in_flight = Some(kind);
            self.sent_at = now;
            self.flight_after_restore = true;
            let skew = u64::try_from(CLOCK_SKEW_TOLERANCE.as_millis()).expect("small");
            let ahead = now.as_millis().saturating_add(skew);
            self.future_mints_at_send = self.mints.iter().filter(|&&t| t > ahead).count();
            self.check_request(m, kind);
        }
        if self.quiet_until.is_some_and(|q| now >= q) {
            self.quiet_until = None;
        }
        if let Poll::NeedsAuthorization { reason } = poll {
            assert_eq!(
                Some(reason),
                m.hold().reauthorize,
                "asked for authorization for another reason than the one recorded"
            );
            self.tally.needs_authorization += 1;
        }
        poll
    }

    /// A refresh (or a client-credentials request) for a token that still works goes out only
    /// when forced or in the last `margin + refresh_spread` of its life, and never in the first
    /// half of it. (The spread, new with `Config::refresh_spread`, widens the margin by a share
    /// fixed per credential.)
    fn check_refresh_is_due(&self, m: &Machine) {
        let token = m.token().expect("a refresh needs a token");
        if self.maybe_forced || token.access_token(self.now).is_none() {
            return;
        }
        let (now, issued, expires) = (
            self.now.as_millis(),
            token.issued_at.as_millis(),
            token.expires_at.as_millis(),
        );
        let margin = u64::try_from(
            self.config
                .refresh_margin
                .saturating_add(self.config.refresh_spread)
                .as_millis(),
        )
        .unwrap_or(u64::MAX);
        assert!(
            now.saturating_sub(issued) >= expires.saturating_sub(issued) / 2,
            "refreshed in the first half of the token's life"
        );
        assert!(
            now >= expires.saturating_sub(margin),
            "refreshed before the margin"
        );
    }

    /// The request renders; a short buffer is refused untouched with the size that suffices.
    fn check_request(&self, m: &Machine, kind: RequestKind) {
        let mut small = [0xAAu8; 64];
        let required = match m.write_request(&mut small) {
            Ok(_) => 64,
            Err(zoho_oauth_core::machine::MachineError::Buffer(e)) => {
                assert!(small.iter().all(|b| *b == 0xAA), "a refused render wrote");
                e.required
            }
            Err(e) => panic!("in flight but no request: {e:?}"),
        };
        let mut buf = vec![0u8; required];
        let request = m
            .write_request(&mut buf)
            .expect("the required size suffices");
        let grant_type: &[u8] = match kind {
            RequestKind::Exchange => b"grant_type=authorization_code&",
            RequestKind::Refresh => b"grant_type=refresh_token&",
            RequestKind::ClientCredentials => b"grant_type=client_credentials&",
        };
        assert!(request.body.starts_with(grant_type), "the wrong request");
        if kind == RequestKind::ClientCredentials {
            let token = m.token().expect("a client-credentials token set");
            let body = core::str::from_utf8(request.body).expect("a form is ASCII");
            assert!(
                !body.contains("refresh_token"),
                "a client-credentials request sent a refresh token"
            );
            assert!(
                body.contains(&format!("&scope={}", token.scope))
                    || token
                        .scope
                        .contains(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != ','),
                "a client-credentials request without the credential's scopes"
            );
            if !token.soid.is_empty() {
                assert!(
                    body.ends_with(&format!("&soid={}", token.soid)),
                    "the soid was lost"
                );
            }
        }
        assert!(
            !self
                .secrets
                .iter()
                .any(|s| request.url.contains(s.as_str())),
            "a secret in the URL"
        );
    }

    /// The rules that hold after every step.
    fn check(&self, m: &Machine, before: Option<RefreshToken>, replaced: bool) {
        let now = self.now;
        if let Some(access) = m.access_token(now) {
            let token = m.token().expect("an access token belongs to a token set");
            assert!(
                now < token.expires_at,
                "an expired access token was handed out"
            );
            assert_eq!(Some(access), token.access_token(now));
        }
        // Stale-while-revalidate: the token handed out stays until it expires or is replaced.
        // (Unless its age became unknown: minted more than `CLOCK_SKEW_TOLERANCE` after `now`,
        // i.e. the clock stepped back or ran ahead at the mint. New with the clock-skew rule.)
        if let Some((access, issued_at, expires_at)) = &self.current {
            if now < *expires_at && age_known(*issued_at, now) {
                assert_eq!(
                    m.access_token(now),
                    Some(access.as_str()),
                    "a working access token was withdrawn before its expiry"
                );
            }
        }
        if let Some(refresh) = before {
            let kept = &m.token().expect("the refresh token was lost").refresh_token;
            if !replaced {
                assert!(
                    kept.as_ref() == Some(&refresh),
                    "the refresh token changed without a new one"
                );
            }
        }
        if let Some(token) = m.token() {
            if token.grant == GrantKind::ClientCredentials {
                assert!(
                    token.refresh_token.is_none(),
                    "a client-credentials credential gained a refresh token"
                );
            }
        }
        assert_eq!(
            matches!(m.state(), State::InFlight(_)),
            self.in_flight.is_some(),
            "state() disagrees about the request in flight"
        );
    }

    fn window_and_budget(&self) -> (u64, usize) {
        (
            u64::try_from(self.config.budget_window.as_millis()).unwrap_or(u64::MAX),
            self.config.budget_mints.clamp(1, 10),
        )
    }

    /// A refresh goes out only while fewer than the budget of mints are in the rolling window
    /// (as the machine counts them: `t + window > now`, so after the clock stepped back, mints
    /// "in the future" count too — up to `CLOCK_SKEW_TOLERANCE` ahead of `now`; mints further
    /// ahead have an unknown real time and are left out, a rule new with the clock-skew work).
    fn check_budget_left(&self) {
        let (window, budget) = self.window_and_budget();
        let now = self.now.as_millis();
        let skew = u64::try_from(CLOCK_SKEW_TOLERANCE.as_millis()).expect("small");
        let recent = self
            .mints
            .iter()
            .filter(|&&t| t.saturating_add(window) > now && t <= now.saturating_add(skew))
            .count();
        assert!(
            recent < budget,
            "a refresh sent with {recent} mints in the window, the budget is {budget}"
        );
    }

    /// Record a refresh at `now`. When the machine decided its budget with this history (no
    /// restore swapped the token set while the refresh was in flight) and the clock did not step
    /// back while it was in flight, no rolling window that holds the new mint holds more mints
    /// than the budget. (A mint answered at a clock stepped back before the sending is dated
    /// earlier than the decision: windows by that clock may then hold one more, while by Zoho's
    /// clock the budget held.)
    fn record_mint(&mut self) {
        let mint = self.now.as_millis();
        // As `MintLog::record` does: mints recorded further ahead of this one than
        // `CLOCK_SKEW_TOLERANCE` were recorded by a clock running ahead and are forgotten.
        let skew = u64::try_from(CLOCK_SKEW_TOLERANCE.as_millis()).expect("small");
        self.mints.retain(|&t| t <= mint.saturating_add(skew));
        let pos = self
            .mints
            .iter()
            .rposition(|&t| t <= mint)
            .map_or(0, |i| i + 1);
        if self.mints.len() >= zoho_oauth_core::cap::MINT_LOG {
            if pos == 0 {
                return; // older than everything kept
            }
            self.mints.remove(0);
            self.mints.insert(pos - 1, mint);
        } else {
            self.mints.insert(pos, mint);
        }
        if !self.flight_after_restore || self.now < self.sent_at {
            return;
        }
        let (window, budget) = self.window_and_budget();
        // Every window (end - window, end] that holds the new mint, as the machine counts it.
        let inside = |t: u64, end: u64| t <= end && t.saturating_add(window) > end;
        let allowed = budget + self.future_mints_at_send;
        for &end in self.mints.iter().filter(|&&end| inside(mint, end)) {
            let count = self.mints.iter().filter(|&&t| inside(t, end)).count();
            assert!(
                count <= allowed,
                "{count} mints within one window, the budget is {budget} (+{} left out as \
                 recorded ahead of the clock)",
                self.future_mints_at_send
            );
        }
    }

    /// What an error does: the pause it starts, and a refused refresh token.
    fn after_error(&mut self, verdict: &Verdict, kind: RequestKind) {
        let text = format!("{verdict} {verdict:?}");
        assert!(
            !self.secrets.iter().any(|s| text.contains(s.as_str())),
            "a secret in an error"
        );
        let now = self.now;
        match verdict {
            Verdict::ReAuthorize(ReAuthReason::RefreshTokenRevoked) => {
                assert_eq!(kind, RequestKind::Refresh);
                self.refresh_refused = true;
                self.tally.refresh_refused += 1;
            }
            Verdict::ReAuthorize(_) => {}
            Verdict::Throttled | Verdict::TooManyGrantCodes => {
                self.tally.throttled += 1;
                self.quiet_until = Some(now.saturating_add(self.config.throttle_wait));
                self.quiet_longest = self.config.throttle_wait;
            }
            _ => {
                let shortest = self.config.backoff_initial.min(self.config.backoff_max) / 2;
                let shortest =
                    Duration::from_millis(u64::try_from(shortest.as_millis()).unwrap_or(u64::MAX));
                self.quiet_until = Some(now.saturating_add(shortest));
                self.quiet_longest = self.config.backoff_max;
                self.tally.backed_off += 1;
            }
        }
    }
}

/// A machine configuration from the script: the default (Zoho's limits), or any values.
fn config(input: &mut Input<'_>) -> Config {
    let choice = input.byte();
    if choice < 128 {
        return Config::default();
    }
    let secs = |b: u8| Duration::from_secs(u64::from(b) * u64::from(b));
    Config {
        // The spread comes from the choice byte itself, so that older scripts keep their layout.
        refresh_spread: secs(choice & 0x3f),
        refresh_margin: secs(input.byte()),
        budget_mints: usize::from(input.byte() % 13),
        budget_window: secs(input.byte()),
        backoff_initial: Duration::from_millis(u64::from(input.u16())),
        backoff_max: secs(input.byte()),
        throttle_wait: secs(input.byte()),
    }
}

/// A token set to restore, chosen by the script.
fn token_to_restore(
    input: &mut Input<'_>,
    m: &Machine,
    now: Instant,
    serial: u32,
) -> Option<TokenSet> {
    let choice = input.byte();
    let arg = input.byte();
    let offset = Duration::from_secs(u64::from(arg) * u64::from(arg));
    let current = m.token().cloned();
    Some(match choice % 8 {
        // What the store holds is what the machine holds.
        0 => current?,
        // The store lost the access token.
        1 => {
            let mut t = current?;
            t.access_token = None;
            t
        }
        // Another process refreshed: a new access token, one more mint.
        2 => {
            let mut t = current?;
            t.access_token = Some(
                zoho_oauth_core::Secret::new(
                    "access_token",
                    &format!("1000.elsewhere{serial:08x}.{arg:02x}"),
                )
                .expect("fits"),
            );
            t.issued_at = now;
            t.expires_at = now.saturating_add(Duration::from_secs(3600));
            t.mints.record(now);
            t
        }
        // Another process re-authorized: a different refresh token with its own budget.
        3 => {
            let mut t = TokenSet::new(FOREIGN_REFRESH_TOKEN).expect("fits");
            if arg & 1 == 0 {
                t.access_token = Some(
                    zoho_oauth_core::Secret::new(
                        "access_token",
                        &format!("1000.foreign{serial:08x}"),
                    )
                    .expect("fits"),
                );
                t.issued_at = now.saturating_sub(offset);
                t.expires_at = t.issued_at.saturating_add(Duration::from_secs(3600));
            }
            let mut mints = MintLog::default();
            for i in 0..u64::from(arg % 12) {
                mints.record(now.saturating_sub(Duration::from_secs(i * u64::from(arg))));
            }
            t.mints = mints;
            t
        }
        // A store holding an access token that could not go into a header line.
        4 => {
            let mut t = current.unwrap_or_else(|| TokenSet::new(REFRESH_TOKEN).expect("fits"));
            t.access_token = Some(
                zoho_oauth_core::Secret::new("access_token", "1000.abc\r\nX-Injected: 1")
                    .expect("fits"),
            );
            t.expires_at = now.saturating_add(offset);
            t
        }
        // A clock that disagrees: the current token issued in the future or expired long ago.
        5 => {
            let mut t = current?;
            if arg & 1 == 0 {
                t.issued_at = now.saturating_add(offset);
                t.expires_at = t.issued_at.saturating_add(Duration::from_secs(3600));
            } else {
                t.expires_at = now.saturating_sub(offset);
            }
            t
        }
        // A client-credentials credential (no refresh token: asked for again when due), with
        // or without a `soid`, sometimes with an access token already.
        7 => {
            let soid = ["ZohoCRM.600001234", ""][usize::from(arg & 1)];
            let mut t =
                TokenSet::client_credentials("ZohoCRM.modules.ALL,ZohoCRM.settings.READ", soid)
                    .expect("fits");
            if arg & 2 != 0 {
                t.access_token = Some(
                    zoho_oauth_core::Secret::new(
                        "access_token",
                        &format!("1000.client{serial:08x}"),
                    )
                    .expect("fits"),
                );
                t.issued_at = now.saturating_sub(offset);
                t.expires_at = t.issued_at.saturating_add(Duration::from_secs(3600));
                t.mints.record(t.issued_at);
            }
            t
        }
        // Through the store's byte encoding.
        _ => {
            let t = current?;
            let mut buf = vec![0u8; TokenSet::MAX_ENCODED_LEN];
            let bytes = t.encode(&mut buf).expect("fits");
            let back = TokenSet::decode(bytes).expect("an encoding decodes");
            assert_eq!(back, t, "a token set changed through its encoding");
            back
        }
    })
}

/// Drive a [`Machine`] with an arbitrary sequence of events, checking the rules of
/// ARCHITECTURE.md ("Rules the machine guarantees") after every step: at most one request in
/// flight, never an access token at or past its expiry, stale-while-revalidate, a refresh due no
/// earlier than `margin` before expiry nor in the first half of the lifetime, no more mints per
/// window than the budget, pauses honoured, a refused refresh token not sent again, and no error
/// path dropping the refresh token; plus `wake_at` agreeing with `poll`, requests rendering, and
/// no secret in `Debug` or an error.
///
/// Byte 0 picks the configuration (below 128: the default; else the next bytes set it), byte 1
/// the starting clock; then each byte is an operation followed by its arguments.
pub fn machine(data: &[u8]) {
    let _ = machine_tally(data);
}

/// What a machine script made happen, so that the replay test can tell that the seeds reach
/// every path.
#[derive(Debug, Default)]
pub struct Tally {
    pub exchanged: usize,
    pub refreshed: usize,
    /// Client-credentials mints.
    pub minted: usize,
    pub refresh_refused: usize,
    pub throttled: usize,
    pub backed_off: usize,
    pub budget_waits: usize,
    pub needs_authorization: usize,
    pub restores: usize,
}

/// [`machine`], counting what happened.
pub fn machine_tally(data: &[u8]) -> Tally {
    let mut input = Input::new(data);
    let config = config(&mut input);
    let start = match input.byte() % 4 {
        0 | 1 => 1_700_000_000_000,
        2 => 0,
        _ => u64::MAX - 4_000_000_000,
    };
    let mut credentials = Credentials::new(
        "1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR",
        CLIENT_SECRET,
        Origin::Zoho(DataCenter::Us),
    )
    .expect("fits");
    if start == 0 {
        credentials = credentials
            .with_redirect_uri("http://127.0.0.1:8765/callback")
            .expect("fits");
    }
    let mut m = Machine::new(credentials, config);
    let mut model = Model {
        config,
        now: Instant::from_millis(start),
        in_flight: None,
        flight_after_restore: false,
        future_mints_at_send: 0,
        sent_at: Instant::from_millis(start),
        maybe_forced: false,
        quiet_until: None,
        quiet_longest: Duration::ZERO,
        refresh_refused: false,
        current: None,
        mints: Vec::new(),
        secrets: vec![
            CLIENT_SECRET.to_owned(),
            REFRESH_TOKEN.to_owned(),
            FOREIGN_REFRESH_TOKEN.to_owned(),
            GRANT_CODE.to_owned(),
        ],
        last_until: None,
        tally: Tally::default(),
    };
    let mut serial = 0u32;
    while !input.is_empty() {
        let before = Model::refresh_token(&m);
        let mut replaced = false;
        let op = input.byte();
        match op % 13 {
            // Time passes: seconds, quadratic so small steps are common (up to ~18 h).
            0 => {
                let s = u64::from(input.byte());
                model.now = model.now.saturating_add(Duration::from_secs(s * s));
            }
            // Time passes by milliseconds.
            1 => {
                model.now = model
                    .now
                    .saturating_add(Duration::from_millis(u64::from(input.u16())))
            }
            // Time jumps to an edge: an expiry, a refresh due time, the end of a wait, ±1 ms.
            2 => {
                let arg = input.byte();
                let token = m.token();
                let edge = match arg % 4 {
                    0 => token.map(|t| t.expires_at),
                    1 => token.map(|t| config.refresh_due(t)),
                    2 => model.last_until,
                    _ => model.quiet_until,
                };
                if let Some(edge) = edge {
                    model.now = match arg / 4 % 3 {
                        0 => edge,
                        1 => edge.saturating_sub(Duration::from_millis(1)),
                        _ => edge.saturating_add(Duration::from_millis(1)),
                    };
                }
            }
            // The clock steps back.
            3 => {
                let s = u64::from(input.byte());
                model.now = model.now.saturating_sub(Duration::from_secs(s * s));
            }
            4 => {
                let _ = model.poll(&mut m);
            }
            // Poll until the machine stops asking to send, answering each with a Zoho answer.
            5 => {
                for _ in 0..4 {
                    if !matches!(model.poll(&mut m), Poll::Send(_)) {
                        break;
                    }
                    serial += 1;
                    let (status, body, expect) = zoho_answer(&mut input, serial);
                    replaced |= answer(&mut m, &mut model, status, &body, &expect, input.u32());
                }
            }
            // One answer, to whatever is (or is not) in flight.
            6 => {
                serial += 1;
                let (status, body, expect) = zoho_answer(&mut input, serial);
                replaced |= answer(&mut m, &mut model, status, &body, &expect, input.u32());
            }
            7 => {
                let jitter = input.u32();
                let verdict = m.handle_transport_error(model.now, jitter);
                match model.in_flight.take() {
                    Some(kind) => {
                        assert_eq!(verdict, Verdict::Retryable(Fault::Transport));
                        model.after_error(&verdict, kind);
                    }
                    None => assert_eq!(verdict, Verdict::NotInFlight),
                }
            }
            8 => {
                m.force_refresh();
                model.maybe_forced = true;
            }
            9 => {
                let arg = input.byte();
                let code = match arg % 4 {
                    0 | 1 => GRANT_CODE.to_owned(),
                    2 => format!("1000.{serial:08x}.grant"),
                    _ => "x".repeat(300),
                };
                let redirect = (arg & 4 != 0).then_some("http://127.0.0.1:8765/callback");
                if m.set_grant(&code, redirect).is_ok() {
                    model.quiet_until = None;
                } else {
                    assert!(code.len() > 256, "a grant code that fits was refused");
                }
            }
            10 => {
                if let Some(token) = token_to_restore(&mut input, &m, model.now, serial) {
                    let injected = token
                        .access_token
                        .as_ref()
                        .is_some_and(|a| !is_token_text(a.expose().as_bytes()));
                    let other_refresh_token = m
                        .token()
                        .is_some_and(|t| t.refresh_token != token.refresh_token);
                    m.restore(token);
                    // A restore of another credential forgets the request in flight: its answer
                    // belongs to neither.
                    if other_refresh_token {
                        model.in_flight = None;
                    }
                    if injected {
                        assert!(
                            m.token().expect("restored").access_token.is_none(),
                            "restore kept an access token unfit for a header"
                        );
                    }
                    replaced = true;
                    model.tally.restores += 1;
                    model.refresh_refused = false;
                    model.flight_after_restore = false;
                    model.adopt_current(&m);
                    model.adopt_mints(&m);
                    // The wait state travels with the token set: the restored one's pause is the
                    // one that holds now (as the machine honours it: not one recorded by a clock
                    // far ahead).
                    let pause = config.pause_at(m.hold(), model.now);
                    model.quiet_until = pause.map(|(until, _)| until);
                    model.quiet_longest = match pause {
                        Some((_, PauseReason::Throttled)) => config.throttle_wait,
                        _ => config.backoff_max,
                    };
                }
            }
            // Nothing to do before wake_at; no secret in Debug.
            11 => {
                if let Some(t) = m.wake_at(model.now) {
                    assert!(t >= model.now, "wake_at in the past");
                }
                let debug = format!("{m:?}");
                for secret in &model.secrets {
                    assert!(!debug.contains(secret.as_str()), "a secret in Debug");
                }
                if let Some(a) = m.token().and_then(|t| t.access_token.as_ref()) {
                    if a.len() > 8 {
                        assert!(
                            !format!("{a:?}").contains(a.expose()),
                            "an access token in Debug"
                        );
                    }
                }
            }
            // Calls out of turn change nothing.
            _ => {
                if model.in_flight.is_none() {
                    let mut buf = [0u8; 2048];
                    assert!(
                        m.write_request(&mut buf).is_err(),
                        "a request with nothing in flight"
                    );
                    assert_eq!(
                        m.handle_response(
                            model.now,
                            200,
                            br#"{"access_token":"1000.x","expires_in":3600}"#,
                            0
                        ),
                        Err(Verdict::NotInFlight)
                    );
                }
            }
        }
        model.check(&m, before, replaced);
    }
    model.tally
}

/// Hand an answer to the machine and check it against what it must do. Returns whether the
/// refresh token may have been replaced (a successful exchange).
fn answer(
    m: &mut Machine,
    model: &mut Model,
    status: u16,
    body: &[u8],
    expect: &Expect,
    jitter: u32,
) -> bool {
    let had_token = m.token().is_some();
    let result = m.handle_response(model.now, status, body, jitter);
    let Some(kind) = model.in_flight.take() else {
        assert_eq!(
            result,
            Err(Verdict::NotInFlight),
            "an answer with nothing in flight was used"
        );
        return false;
    };
    match &result {
        Ok(event) => {
            assert!(
                !matches!(expect, Expect::Refusal),
                "a refusal was taken as a grant"
            );
            assert_eq!(
                *event,
                match kind {
                    RequestKind::Exchange => Event::Exchanged,
                    RequestKind::Refresh => Event::Refreshed,
                    RequestKind::ClientCredentials => Event::Minted,
                }
            );
            model.maybe_forced = false;
            model.quiet_until = None;
            let token = m.token().expect("a grant leaves a token");
            if let (
                200,
                Expect::Grant {
                    access,
                    refresh,
                    lifetime,
                },
            ) = (status, expect)
            {
                assert_eq!(
                    token.access_token.as_ref().map(|a| a.expose()),
                    Some(access.as_str())
                );
                assert_eq!(
                    token.expires_at,
                    model.now.saturating_add(*lifetime),
                    "wrong expiry"
                );
                if let (Some(refresh), RequestKind::Exchange) = (refresh, kind) {
                    assert_eq!(
                        token.refresh_token.as_ref().map(|r| r.expose()),
                        Some(refresh.as_str())
                    );
                }
            }
            model.adopt_current(m);
            match event {
                Event::Refreshed => {
                    model.tally.refreshed += 1;
                    model.record_mint();
                }
                Event::Minted => {
                    model.tally.minted += 1;
                    model.record_mint();
                    assert!(
                        token.refresh_token.is_none()
                            && token.grant == GrantKind::ClientCredentials,
                        "a client-credentials mint for a credential with a refresh token"
                    );
                }
                Event::Exchanged => {
                    model.tally.exchanged += 1;
                    model.refresh_refused = false;
                    model.adopt_mints(m);
                }
            }
            kind == RequestKind::Exchange
        }
        Err(verdict) => {
            if status == 200 {
                match (expect, kind) {
                    (Expect::Grant { refresh: None, .. }, RequestKind::Exchange) if !had_token => {
                        assert_eq!(*verdict, Verdict::ReAuthorize(ReAuthReason::NoRefreshToken));
                    }
                    (Expect::Grant { .. }, _) => panic!("a grant was refused: {verdict:?}"),
                    _ => {}
                }
            }
            model.after_error(verdict, kind);
            false
        }
    }
}

/// `text` with every letter and digit changed (`a`→`b`, `z`→`a`, `9`→`0`), same length.
fn twin_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='y' | 'A'..='Y' | '0'..='8' => char::from(c as u8 + 1),
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            other => other,
        })
        .collect()
}

/// Base64url without padding, written here rather than taken from the crate under test.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// RFC 7636's verifier alphabet.
fn is_verifier_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// PKCE: the input as random bytes for `CodeVerifier::from_random` and as a saved verifier for
/// `CodeVerifier::new`.
///
/// A verifier from 32–96 bytes is their base64url (43–128 characters of the RFC 7636 alphabet)
/// and is taken back by `new`; any other length is refused with that length. `new` accepts
/// exactly the RFC 7636 verifiers. Every challenge is base64url-no-pad of the SHA-256 of the
/// verifier (43 characters); the authorization URL carries it with `code_challenge_method=S256`
/// and never the verifier; the exchange carries the verifier; `Debug` never shows it.
pub fn pkce(data: &[u8]) {
    use sha2::{Digest, Sha256};
    use zoho_oauth_core::pkce::{PkceError, MAX_RANDOM_BYTES, MIN_RANDOM_BYTES};

    let check = |verifier: &CodeVerifier| {
        let text = verifier.expose();
        assert!(
            (43..=128).contains(&text.len()),
            "a verifier of {} characters",
            text.len()
        );
        assert!(
            text.bytes().all(is_verifier_char),
            "a verifier outside the RFC 7636 alphabet"
        );
        let challenge = verifier.challenge();
        assert_eq!(
            challenge.as_str(),
            base64url(&Sha256::digest(text.as_bytes())),
            "the challenge is not BASE64URL(SHA256(verifier))"
        );
        assert_eq!(challenge.as_str().len(), 43);
        assert_eq!(challenge.to_string(), challenge.as_str());
        if text.len() > 8 {
            assert!(
                !format!("{verifier:?}").contains(text),
                "a verifier in Debug"
            );
        }
        // The authorization URL carries the challenge, never the verifier.
        let us = Origin::Zoho(DataCenter::Us);
        let params = AuthorizeParams {
            client_id: "1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR",
            redirect_uri: "http://127.0.0.1:8765/callback",
            scopes: &["ZohoCRM.modules.ALL"],
            access_type: AccessType::Offline,
            prompt: None,
            state: "k3y",
            code_challenge: Some(&challenge),
        };
        let mut buf = [0u8; 1024];
        let url = authorize::authorization_url(&mut buf, &us, &params).expect("1 KiB suffices");
        let carried = format!(
            "&code_challenge={}&code_challenge_method=S256&",
            challenge.as_str()
        );
        assert!(
            url.contains(&carried),
            "the URL does not carry the challenge"
        );
        assert!(!url.contains(text), "the verifier in the authorization URL");
        // The exchange carries the verifier.
        let mut buf = [0u8; 2048];
        let req = zoho_oauth_core::request::exchange(
            &mut buf,
            &us,
            "1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR",
            CLIENT_SECRET,
            GRANT_CODE,
            Some("http://127.0.0.1:8765/callback"),
            Some(text),
        )
        .expect("2 KiB suffice");
        assert!(
            req.body
                .ends_with(format!("&code_verifier={text}").as_bytes()),
            "the exchange does not end with the verifier"
        );
    };

    match CodeVerifier::from_random(data) {
        Ok(verifier) => {
            assert!((MIN_RANDOM_BYTES..=MAX_RANDOM_BYTES).contains(&data.len()));
            assert_eq!(
                verifier.expose(),
                base64url(data),
                "the verifier is not base64url of the bytes"
            );
            assert_eq!(CodeVerifier::new(verifier.expose()), Ok(verifier.clone()));
            check(&verifier);
        }
        Err(e) => {
            assert!(
                !(MIN_RANDOM_BYTES..=MAX_RANDOM_BYTES).contains(&data.len()),
                "{e:?}"
            );
            assert_eq!(e, PkceError::RandomLength { given: data.len() });
            assert!(display_len(&e) > 0);
        }
    }
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let valid = (43..=128).contains(&text.len()) && text.bytes().all(is_verifier_char);
    match CodeVerifier::new(text) {
        Ok(verifier) => {
            assert!(valid, "a verifier outside RFC 7636 was taken back");
            assert_eq!(verifier.expose(), text);
            check(&verifier);
        }
        Err(e) => {
            assert!(!valid, "an RFC 7636 verifier was refused");
            assert_eq!(e, PkceError::BadVerifier);
        }
    }
}

/// The device code the device driver's generated answers carry.
const DEVICE_CODE: &str = "1004.71c4b3d036cbcc5ca5e6f26e4ac0ef11.3a141ff0e7fb15cbf8fc83113b10ec6e";

/// A device-flow poll answer chosen by the script, and what it must be read as.
enum DeviceExpect {
    Granted,
    Pending,
    SlowDown,
    Throttled,
    OtherDc(DataCenter),
    ForeignDc,
    Denied,
    Expired,
    /// A fault: the flow keeps polling.
    Fault,
    /// Not known in advance.
    Unknown,
}

fn device_answer(input: &mut Input<'_>, serial: u32) -> (u16, Vec<u8>, DeviceExpect) {
    let kind = input.byte();
    let pick = input.byte();
    let status = if pick & 1 == 0 { 200 } else { 400 };
    let dc = DataCenter::ALL[usize::from(pick >> 1) % DataCenter::ALL.len()];
    match kind % 12 {
        0 => (status, br#"{"error":"authorization_pending"}"#.to_vec(), DeviceExpect::Pending),
        1 => (status, br#"{"error":"slow_down"}"#.to_vec(), DeviceExpect::SlowDown),
        2 => (
            200,
            format!(r#"{{"access_token":"1000.{serial:08x}.device","refresh_token":"1000.{serial:08x}.refresh","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}}"#).into_bytes(),
            DeviceExpect::Granted,
        ),
        // `user_location` in any case.
        3 => {
            let code = dc.location_code();
            let code = if pick & 0x80 != 0 { code.to_ascii_uppercase() } else { code.to_owned() };
            (status, format!(r#"{{"error":"other_dc","user_location":"{code}"}}"#).into_bytes(), DeviceExpect::OtherDc(dc))
        }
        4 => {
            let foreign = ["accounts.evil.example", "https://accounts.zoho.eu", "eu ", "xx", "e\\u0075", ""][usize::from(pick >> 1) % 6];
            let expect = if foreign == "e\\u0075" { DeviceExpect::OtherDc(DataCenter::Eu) } else if foreign.is_empty() { DeviceExpect::Unknown } else { DeviceExpect::ForeignDc };
            (status, format!(r#"{{"error":"other_dc","user_location":"{foreign}"}}"#).into_bytes(), expect)
        }
        5 => (status, br#"{"error":"access_denied"}"#.to_vec(), DeviceExpect::Denied),
        6 => (status, br#"{"error":"expired"}"#.to_vec(), DeviceExpect::Expired),
        7 => (
            status,
            br#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#.to_vec(),
            DeviceExpect::Throttled,
        ),
        8 => (
            [502, 503, 500, 200][usize::from(pick % 4)],
            b"<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>".to_vec(),
            DeviceExpect::Fault,
        ),
        9 => {
            let body = br#"{"error":"authorization_pending"}"#;
            (200, body[..usize::from(pick) % body.len()].to_vec(), DeviceExpect::Fault)
        }
        10 => (status, br#"{"error":"invalid_client"}"#.to_vec(), DeviceExpect::Unknown),
        _ => (u16::from(pick) * 3, input.chunk().to_vec(), DeviceExpect::Unknown),
    }
}

/// The device flow. Byte 0 picks what to fuzz:
///
/// - `% 4 == 0`: the rest is status + body of an initiation answer (`parse_initiation`): a
///   success has non-empty codes and URL free of controls and blanks, and an interval and
///   expiry read in seconds up to 1,000 s / 86,400 s and in milliseconds above.
/// - `% 4 == 1`: the rest is status + body of a poll answer (`parse_poll`): `other_dc` only to a
///   data centre of the table, named by the body's `user_location`; a grant checked as a token
///   answer; every refusal displays.
/// - `% 4 == 2`: an initiation built from the script in both unit conventions, which must read
///   the same.
/// - else: a `DeviceFlow` driven by arbitrary times and answers: never two polls within the
///   floor (nor within the interval of the previous answer), never a poll at or past the
///   expiry, `slow_down` and the throttle lengthen the interval by the step, the interval never
///   shrinks below the floor, `other_dc` moves only to a table data centre (a foreign location
///   is refused and moves nothing), an ended flow stays ended.
pub fn device(data: &[u8]) {
    use zoho_oauth_core::device;
    let mut input = Input::new(data);
    let mode = input.byte();
    match mode % 4 {
        0 => {
            let (status, body) = status_and_body(input.rest());
            match device::parse_initiation(status, body) {
                Ok(a) => {
                    assert!(!a.user_code.is_empty() && !a.verification_url.is_empty());
                    assert!(!a.device_code.is_empty());
                    for text in [
                        a.user_code.as_str(),
                        a.verification_url.as_str(),
                        a.device_code.expose(),
                    ] {
                        assert!(
                            !text.chars().any(|c| c.is_control() || c.is_whitespace()),
                            "a control character or blank in {text:?}"
                        );
                    }
                    if let Some(i) = a.interval {
                        assert!(i.subsec_millis() == 0 || i > Duration::from_millis(1000));
                    }
                    let debug = format!("{a:?}");
                    // Judged against the same answer with another device code of that length: a
                    // code that spells part of what is shown (a field name, the user code, the
                    // URL) shows there as often.
                    let code = a.device_code.expose();
                    let twin = device::DeviceAuthorization {
                        device_code: zoho_oauth_core::Secret::new("device_code", &twin_text(code))
                            .expect("the same length fits"),
                        ..a.clone()
                    };
                    if code.len() > 8 {
                        assert!(
                            debug.matches(code).count()
                                <= format!("{twin:?}").matches(code).count(),
                            "a device code in Debug"
                        );
                    }
                }
                Err(verdict) => check_refusal(&verdict, status),
            }
        }
        1 => {
            let (status, body) = status_and_body(input.rest());
            match device::parse_poll(status, body) {
                Ok(device::PollAnswer::OtherDataCenter(dc)) => {
                    assert!(DataCenter::ALL.contains(&dc));
                    let lower = String::from_utf8_lossy(body).to_ascii_lowercase();
                    assert!(lower.contains("other_dc"), "other_dc without other_dc");
                }
                Ok(device::PollAnswer::Granted(grant)) => {
                    assert!(is_token_text(grant.access_token.expose().as_bytes()));
                    if let Some(r) = &grant.refresh_token {
                        assert!(is_token_text(r.expose().as_bytes()));
                    }
                    if let Some(domain) = &grant.api_domain {
                        assert!(!domain.chars().any(|c| c.is_control() || c.is_whitespace()));
                    }
                }
                Ok(_) => {}
                Err(verdict) => check_refusal(&verdict, status),
            }
        }
        2 => {
            let interval = u64::from(input.u16() % 1001);
            let expires = u64::from(input.u32() % 86_401);
            let seconds = format!(
                r#"{{"user_code":"QW7K2PLM","device_code":"{DEVICE_CODE}","verification_url":"https:\/\/accounts.zoho.com\/oauth\/v3\/device","interval":{interval},"expires_in":{expires}}}"#
            );
            let millis = format!(
                r#"{{"user_code":"QW7K2PLM","device_code":"{DEVICE_CODE}","verification_url":"https://accounts.zoho.com/oauth/v3/device","interval":{},"expires_in":{}}}"#,
                interval * 1000,
                expires * 1000
            );
            let s = device::parse_initiation(200, seconds.as_bytes()).expect("seconds parse");
            assert_eq!(s.interval, Some(Duration::from_secs(interval)));
            assert_eq!(s.expires_in, Duration::from_secs(expires));
            let m = device::parse_initiation(200, millis.as_bytes()).expect("milliseconds parse");
            // Milliseconds are recognised only above the thresholds: 1 s and 86.4 s read as
            // 1,000 s and 86,400 s.
            if interval > 1 {
                assert_eq!(m.interval, s.interval, "the units of interval disagree");
            }
            if expires > 86 {
                assert_eq!(
                    m.expires_in, s.expires_in,
                    "the units of expires_in disagree"
                );
            }
            assert_eq!(m.user_code, s.user_code);
            assert_eq!(m.verification_url, s.verification_url);
        }
        _ => device_flow(&mut input),
    }
}

fn device_flow(input: &mut Input<'_>) {
    use zoho_oauth_core::device::{
        self, DeviceConfig, DeviceEnd, DeviceFlow, DevicePoll, PollAnswer,
    };
    let setup = input.byte();
    let config = if setup & 1 == 0 {
        DeviceConfig::default()
    } else {
        DeviceConfig {
            poll_floor: Duration::from_millis(u64::from(input.u16()) * 10),
            slow_down_step: Duration::from_millis(u64::from(input.u16()) * 10),
        }
    };
    let start = [1_700_000_000_000u64, 0, u64::MAX - 4_000_000_000][usize::from(setup >> 1) % 3];
    let interval_raw = u64::from(input.u16());
    let expires_raw = u64::from(input.u32() % 200_000_000);
    let body = format!(
        r#"{{"user_code":"QW7K2PLM","device_code":"{DEVICE_CODE}","verification_url":"https://accounts.zoho.com/oauth/v3/device","interval":{interval_raw},"expires_in":{expires_raw}}}"#
    );
    let authorization = device::parse_initiation(200, body.as_bytes()).expect("a valid initiation");
    let mut now = Instant::from_millis(start);
    let us = Origin::Zoho(DataCenter::Us);
    let mut flow = DeviceFlow::new(now, us.clone(), &authorization, config);
    let expires_at = now.saturating_add(authorization.expires_in);
    assert_eq!(flow.expires_at(), expires_at);
    assert!(
        flow.interval() >= config.poll_floor,
        "an interval below the floor"
    );
    let mut interval = flow.interval();
    let mut accounts = us;
    // The earliest a poll may go: the floor after the previous one, and the interval after the
    // previous answer (or the start).
    let mut earliest = now.saturating_add(interval);
    let mut last_sent: Option<Instant> = None;
    let mut in_flight: Option<Instant> = None;
    let mut ended: Option<DeviceEnd> = None;
    let mut serial = 0u32;
    while !input.is_empty() {
        match input.byte() % 8 {
            0 => {
                let s = u64::from(input.byte());
                now = now.saturating_add(Duration::from_secs(s * s));
            }
            1 => now = now.saturating_add(Duration::from_millis(u64::from(input.u16()))),
            2 => {
                let s = u64::from(input.byte());
                now = now.saturating_sub(Duration::from_secs(s * s));
            }
            // Onto an edge: the earliest poll, the expiry, ±1 ms.
            3 => {
                let arg = input.byte();
                let edge = if arg & 1 == 0 { earliest } else { expires_at };
                now = match arg / 2 % 3 {
                    0 => edge,
                    1 => edge.saturating_sub(Duration::from_millis(1)),
                    _ => edge.saturating_add(Duration::from_millis(1)),
                };
            }
            // Poll, and answer a Send at once (or later, op 5/6).
            4 | 5 => {
                let poll = flow.poll(now);
                match (poll, ended) {
                    (DevicePoll::Done(end), Some(e)) => {
                        assert_eq!(end, e, "an ended flow changed its end")
                    }
                    (_, Some(e)) => panic!("an ended flow ({e:?}) answered {poll:?}"),
                    (DevicePoll::Done(DeviceEnd::Expired), None) => {
                        assert!(in_flight.is_none());
                        assert!(now >= expires_at, "expired before the expiry");
                        ended = Some(DeviceEnd::Expired);
                    }
                    (DevicePoll::Done(end), None) => panic!("ended ({end:?}) without an answer"),
                    (DevicePoll::Wait { until: None }, _) => {
                        assert!(
                            in_flight.is_some(),
                            "waiting for an answer with none in flight"
                        )
                    }
                    (DevicePoll::Wait { until: Some(until) }, _) => {
                        assert!(in_flight.is_none(), "a wait with an end while in flight");
                        assert!(until > now, "a wait that is already over");
                        assert!(until <= expires_at, "a wait past the expiry");
                        assert!(now < expires_at);
                    }
                    (DevicePoll::Send, None) => {
                        assert!(in_flight.is_none(), "two polls in flight");
                        assert!(now < expires_at, "a poll at or past the expiry");
                        assert!(now >= earliest, "a poll before the interval was over");
                        if let Some(prev) = last_sent {
                            assert!(
                                now >= prev.saturating_add(config.poll_floor),
                                "two polls within the floor"
                            );
                        }
                        in_flight = Some(now);
                        last_sent = Some(now);
                        let mut small = [0xAAu8; 32];
                        assert!(flow
                            .write_request(&mut small, "1000.ID", CLIENT_SECRET)
                            .is_err());
                        assert!(small.iter().all(|b| *b == 0xAA), "a refused render wrote");
                        let mut buf = [0u8; 1024];
                        let req = flow
                            .write_request(&mut buf, "1000.ID", CLIENT_SECRET)
                            .expect("1 KiB suffices");
                        assert_eq!(
                            req.url,
                            format!("{}/oauth/v3/device/token", accounts.as_str())
                        );
                        assert!(req.body.starts_with(b"grant_type=device_token&"));
                        assert!(!req.url.contains(CLIENT_SECRET) && !req.url.contains(DEVICE_CODE));
                    }
                }
                if poll == DevicePoll::Send && input.byte() & 1 == 0 {
                    serial += 1;
                    device_answer_to(
                        &mut flow,
                        input,
                        serial,
                        now,
                        &mut in_flight,
                        &mut interval,
                        &mut earliest,
                        &mut accounts,
                        &mut ended,
                        config,
                    );
                }
            }
            6 => {
                serial += 1;
                device_answer_to(
                    &mut flow,
                    input,
                    serial,
                    now,
                    &mut in_flight,
                    &mut interval,
                    &mut earliest,
                    &mut accounts,
                    &mut ended,
                    config,
                );
            }
            _ => {
                let verdict = flow.handle_transport_error(now);
                match in_flight.take() {
                    Some(sent) => {
                        assert_eq!(verdict, Verdict::Retryable(Fault::Transport));
                        earliest = sent.max(now).saturating_add(interval);
                    }
                    None => assert_eq!(verdict, Verdict::NotInFlight),
                }
            }
        }
        assert_eq!(
            flow.interval(),
            interval,
            "the interval changed without slow_down"
        );
        assert_eq!(flow.accounts(), &accounts, "the accounts server moved");
        assert_eq!(flow.end(), ended);
        let debug = format!("{flow:?}");
        assert!(!debug.contains(DEVICE_CODE), "the device code in Debug");
    }
    let _ = PollAnswer::Pending;
}

#[allow(clippy::too_many_arguments)]
fn device_answer_to(
    flow: &mut zoho_oauth_core::device::DeviceFlow,
    input: &mut Input<'_>,
    serial: u32,
    now: Instant,
    in_flight: &mut Option<Instant>,
    interval: &mut Duration,
    earliest: &mut Instant,
    accounts: &mut Origin,
    ended: &mut Option<zoho_oauth_core::device::DeviceEnd>,
    config: zoho_oauth_core::device::DeviceConfig,
) {
    use zoho_oauth_core::device::{DeviceEnd, PollAnswer};
    let (status, body, expect) = device_answer(input, serial);
    let result = flow.handle_response(now, status, &body);
    let Some(sent) = in_flight.take() else {
        assert_eq!(
            result,
            Err(Verdict::NotInFlight),
            "an answer with nothing in flight was used"
        );
        return;
    };
    if let Err(verdict) = &result {
        assert!(display_len(verdict) > 0);
        let text = format!("{verdict} {verdict:?}");
        assert!(
            !text.contains(CLIENT_SECRET) && !text.contains(DEVICE_CODE),
            "a secret in an error"
        );
    }
    match (&result, &expect) {
        (Ok(PollAnswer::Granted(_)), DeviceExpect::Granted | DeviceExpect::Unknown) => {
            *ended = Some(DeviceEnd::Granted)
        }
        (Ok(PollAnswer::Pending), DeviceExpect::Pending | DeviceExpect::Unknown) => {}
        (Ok(PollAnswer::SlowDown), DeviceExpect::SlowDown | DeviceExpect::Unknown)
        | (Err(Verdict::Throttled), DeviceExpect::Throttled | DeviceExpect::Unknown) => {
            let longer = interval.saturating_add(config.slow_down_step);
            *interval = longer;
        }
        (Ok(PollAnswer::OtherDataCenter(dc)), DeviceExpect::OtherDc(want)) => {
            assert_eq!(dc, want, "other_dc moved to another data centre than named");
            *accounts = Origin::Zoho(*dc);
            flow.set_accounts(accounts.clone());
        }
        (Ok(PollAnswer::OtherDataCenter(dc)), DeviceExpect::Unknown) => {
            assert!(DataCenter::ALL.contains(dc));
            *accounts = Origin::Zoho(*dc);
            flow.set_accounts(accounts.clone());
        }
        (
            Err(Verdict::UnknownDataCenter { .. }),
            DeviceExpect::ForeignDc | DeviceExpect::Unknown,
        ) => *ended = Some(DeviceEnd::Refused),
        (
            Err(Verdict::ReAuthorize(ReAuthReason::DeviceAccessDenied)),
            DeviceExpect::Denied | DeviceExpect::Unknown,
        ) => *ended = Some(DeviceEnd::Denied),
        (
            Err(Verdict::ReAuthorize(ReAuthReason::DeviceCodeExpired)),
            DeviceExpect::Expired | DeviceExpect::Unknown,
        ) => *ended = Some(DeviceEnd::Expired),
        (
            Err(Verdict::Retryable(_) | Verdict::Malformed(_)),
            DeviceExpect::Fault | DeviceExpect::Unknown,
        ) => {}
        (Err(_), DeviceExpect::Unknown) => *ended = Some(DeviceEnd::Refused),
        (result, _) => panic!("a device answer read as {result:?}"),
    }
    if let Ok(PollAnswer::OtherDataCenter(_)) | Err(Verdict::UnknownDataCenter { .. }) = &result {
    } else {
        assert!(
            !matches!(expect, DeviceExpect::OtherDc(_)),
            "other_dc not recognised"
        );
    }
    *earliest = sent.max(now).saturating_add(*interval);
}

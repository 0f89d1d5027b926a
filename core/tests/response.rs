//! Response parsing against recorded, Zoho-shaped bodies: one verdict per answer.

use core::time::Duration;

use zoho_oauth_core::response::{
    classify_api, parse_revoke, parse_token, parse_user_info, ApiVerdict, BadClientKind, Fault,
    Flow, ForbiddenChar, Malformed, ReAuthReason, Revocation, Verdict, MAX_BODY,
};
use zoho_oauth_core::{cap, secret::CapacityError};
use zoho_oauth_core::{
    DEFAULT_ACCESS_TOKEN_LIFETIME, MAX_ACCESS_TOKEN_LIFETIME, MIN_ACCESS_TOKEN_LIFETIME,
};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $name
        ))
        .as_slice()
    };
}

const BOTH_FLOWS: [Flow; 2] = [Flow::Exchange, Flow::Refresh];
const EVERY_FLOW: [Flow; 3] = [Flow::Exchange, Flow::Refresh, Flow::ClientCredentials];

#[test]
fn an_exchange_success_yields_every_field() {
    let grant = parse_token(Flow::Exchange, 200, fixture!("exchange_success.json")).unwrap();
    assert_eq!(
        grant.access_token.expose(),
        "1000.8c6a1f0e2b7d4c9aa0f3e5d7b9c1a2e4.5f6d7c8b9a0e1f2d3c4b5a6978e0f1d2"
    );
    assert_eq!(
        grant.refresh_token.as_ref().map(|t| t.expose()),
        Some("1000.77b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9.8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b")
    );
    assert_eq!(
        grant.api_domain.as_deref(),
        Some("https://www.zohoapis.com")
    );
    assert_eq!(
        grant.scope.as_deref(),
        Some("ZohoCRM.modules.ALL ZohoCRM.settings.ALL aaaserver.profile.READ")
    );
    assert_eq!(grant.expires_in, Duration::from_secs(3600));
}

#[test]
fn a_pretty_printed_success_parses_like_a_compact_one() {
    let grant = parse_token(
        Flow::Exchange,
        200,
        fixture!("exchange_success_pretty.json"),
    )
    .unwrap();
    assert_eq!(grant.api_domain.as_deref(), Some("https://www.zohoapis.jp"));
    assert!(grant.refresh_token.is_some());
}

#[test]
fn escaped_slashes_in_api_domain_are_unescaped() {
    let grant = parse_token(
        Flow::Exchange,
        200,
        fixture!("exchange_success_escaped.json"),
    )
    .unwrap();
    assert_eq!(grant.api_domain.as_deref(), Some("https://www.zohoapis.eu"));
}

#[test]
fn every_json_escape_is_unescaped_including_surrogate_pairs() {
    let body = br#"{"access_token":"1000.a\/b\\c\"d\u0041","scope":"a\/b\\c\"d\u0041\u00e9\ud83d\ude00\n\t\r\b\f","expires_in":60}"#;
    let grant = parse_token(Flow::Refresh, 200, body).unwrap();
    assert_eq!(grant.access_token.expose(), "1000.a/b\\c\"dA");
    assert_eq!(
        grant.scope.as_deref(),
        Some("a/b\\c\"dAé😀\n\t\r\u{8}\u{c}")
    );
}

fn forbidden(field: &'static str, found: ForbiddenChar) -> Verdict {
    Verdict::Malformed(Malformed::ForbiddenCharacter { field, found })
}

#[test]
fn a_token_with_a_line_break_is_refused_since_it_would_inject_a_header() {
    for flow in BOTH_FLOWS {
        assert_eq!(
            parse_token(flow, 200, fixture!("refresh_access_token_crlf.json")).unwrap_err(),
            forbidden("access_token", ForbiddenChar::LineBreak)
        );
    }
    assert_eq!(
        parse_token(
            Flow::Exchange,
            200,
            fixture!("exchange_refresh_token_crlf.json")
        )
        .unwrap_err(),
        forbidden("refresh_token", ForbiddenChar::LineBreak)
    );
    // Raw, unescaped line breaks inside the string too.
    let raw = b"{\"access_token\":\"1000.ab\r\nX-Evil: 1\",\"expires_in\":3600}";
    assert_eq!(
        parse_token(Flow::Refresh, 200, raw).unwrap_err(),
        forbidden("access_token", ForbiddenChar::LineBreak)
    );
}

#[test]
fn a_token_with_a_space_or_a_control_character_is_refused() {
    assert_eq!(
        parse_token(
            Flow::Refresh,
            200,
            fixture!("refresh_access_token_space.json")
        )
        .unwrap_err(),
        forbidden("access_token", ForbiddenChar::Blank)
    );
    for (escape, found) in [
        ("\\t", ForbiddenChar::Control),
        ("\\u0000", ForbiddenChar::Control),
        ("\\u007f", ForbiddenChar::Control),
        ("\\u0020", ForbiddenChar::Blank),
        ("\\n", ForbiddenChar::LineBreak),
    ] {
        let body = format!("{{\"access_token\":\"1000.ab{escape}cd\"}}");
        assert_eq!(
            parse_token(Flow::Refresh, 200, body.as_bytes()).unwrap_err(),
            forbidden("access_token", found),
            "{body}"
        );
    }
}

#[test]
fn a_token_with_a_non_ascii_character_is_refused_raw_or_escaped() {
    assert_eq!(
        parse_token(
            Flow::Refresh,
            200,
            fixture!("refresh_access_token_non_ascii.json")
        )
        .unwrap_err(),
        forbidden("access_token", ForbiddenChar::NonAscii)
    );
    let escaped = br#"{"access_token":"1000.ab","refresh_token":"1000.\u00e9","expires_in":3600}"#;
    assert_eq!(
        parse_token(Flow::Exchange, 200, escaped).unwrap_err(),
        forbidden("refresh_token", ForbiddenChar::NonAscii)
    );
}

#[test]
fn an_api_domain_with_a_line_break_or_a_blank_is_refused() {
    assert_eq!(
        parse_token(Flow::Refresh, 200, fixture!("refresh_api_domain_crlf.json")).unwrap_err(),
        forbidden("api_domain", ForbiddenChar::LineBreak)
    );
    for (domain, found) in [
        ("https://www.zohoapis.com ", ForbiddenChar::Blank),
        ("https://www.zohoapis.com\\u00a0", ForbiddenChar::Blank),
        ("https://www.zohoapis.com\\u0000", ForbiddenChar::Control),
        ("https://www.zohoapis.com\\u0085", ForbiddenChar::Control),
    ] {
        let body = format!("{{\"access_token\":\"1000.ab\",\"api_domain\":\"{domain}\"}}");
        assert_eq!(
            parse_token(Flow::Refresh, 200, body.as_bytes()).unwrap_err(),
            forbidden("api_domain", found),
            "{body}"
        );
    }
    // Non-ASCII that is neither control nor blank is not an injection.
    let idn = r#"{"access_token":"1000.ab","api_domain":"https://www.zohoapis.com\u00e9"}"#;
    assert_eq!(
        parse_token(Flow::Refresh, 200, idn.as_bytes())
            .unwrap()
            .api_domain
            .as_deref(),
        Some("https://www.zohoapis.comé")
    );
}

#[test]
fn a_forbidden_character_says_what_it_is_but_not_the_token() {
    let verdict = parse_token(
        Flow::Refresh,
        200,
        fixture!("refresh_access_token_crlf.json"),
    )
    .unwrap_err();
    let text = verdict.to_string();
    assert_eq!(
        text,
        "Zoho answered a token with characters a token cannot have: access_token holds a line \
         break (CR or LF): this is not a Zoho answer: check proxies and the accounts server"
    );
    assert!(!text.contains("1000.") && !text.contains("X-Forwarded-For"));
    assert!(!verdict.is_retryable() && !verdict.needs_reauthorization());
}

#[test]
fn every_visible_ascii_character_may_be_in_a_token() {
    let visible: String = (0x21u8..=0x7e).map(char::from).collect();
    let escaped = visible.replace('\\', "\\\\").replace('"', "\\\"");
    let body = format!("{{\"access_token\":\"{escaped}\",\"refresh_token\":\"{escaped}\"}}");
    let grant = parse_token(Flow::Exchange, 200, body.as_bytes()).unwrap();
    assert_eq!(grant.access_token.expose(), visible);
    assert_eq!(grant.refresh_token.unwrap().expose(), visible);
}

#[test]
fn a_bad_escape_is_malformed_not_a_panic() {
    for body in [
        &br#"{"access_token":"1000.\x41"}"#[..],
        br#"{"access_token":"1000.\ud83d"}"#,
        br#"{"access_token":"1000.\u12"}"#,
        br#"{"access_token":"x","scope":"\q"}"#,
    ] {
        let verdict = parse_token(Flow::Refresh, 200, body).unwrap_err();
        assert!(matches!(verdict, Verdict::Malformed(_)), "{verdict:?}");
    }
}

#[test]
fn a_refresh_success_has_no_refresh_token() {
    let grant = parse_token(Flow::Refresh, 200, fixture!("refresh_success.json")).unwrap();
    assert!(grant.refresh_token.is_none());
    assert_eq!(grant.scope.as_deref(), Some("ZohoCRM.modules.ALL"));
}

#[test]
fn a_success_without_api_domain_or_scope_leaves_them_unknown() {
    let grant = parse_token(Flow::Refresh, 200, fixture!("refresh_success_minimal.json")).unwrap();
    assert_eq!(grant.api_domain, None);
    assert_eq!(grant.scope, None);
    assert_eq!(grant.expires_in, Duration::from_secs(3600));
}

#[test]
fn with_expires_in_sec_present_expires_in_is_milliseconds() {
    let grant = parse_token(
        Flow::Refresh,
        200,
        fixture!("refresh_success_expires_in_sec.json"),
    )
    .unwrap();
    assert_eq!(grant.expires_in, Duration::from_secs(3600));
    let odd = br#"{"access_token":"1000.x","expires_in_sec":1800,"expires_in":1800000}"#;
    assert_eq!(
        parse_token(Flow::Refresh, 200, odd).unwrap().expires_in,
        Duration::from_secs(1800)
    );
}

#[test]
fn without_expires_in_sec_expires_in_is_seconds() {
    let body = br#"{"access_token":"1000.x","expires_in":1800}"#;
    assert_eq!(
        parse_token(Flow::Refresh, 200, body).unwrap().expires_in,
        Duration::from_secs(1800)
    );
}

#[test]
fn a_missing_expires_in_means_one_hour() {
    let grant = parse_token(
        Flow::Refresh,
        200,
        fixture!("refresh_success_no_expires_in.json"),
    )
    .unwrap();
    assert_eq!(grant.expires_in, Duration::from_secs(3600));
    assert_eq!(grant.api_domain.as_deref(), Some("https://www.zohoapis.in"));
}

#[test]
fn an_online_exchange_is_a_success_without_refresh_token() {
    let grant = parse_token(
        Flow::Exchange,
        200,
        fixture!("exchange_online_no_refresh_token.json"),
    )
    .unwrap();
    assert!(grant.refresh_token.is_none());
    assert_eq!(
        grant.api_domain.as_deref(),
        Some("https://www.zohoapis.com.au")
    );
}

#[test]
fn unknown_fields_of_any_type_are_ignored() {
    let body = br#"{"x":{"y":[1,{"z":null}],"w":"}"},"access_token":"1000.x","n":-1.5e3,"b":true,"nul":null,"api_domain":null}"#;
    let grant = parse_token(Flow::Refresh, 200, body).unwrap();
    assert_eq!(grant.access_token.expose(), "1000.x");
    assert_eq!(grant.api_domain, None);
}

#[test]
fn invalid_code_on_exchange_means_the_grant_was_used_or_expired() {
    for status in [200, 400] {
        assert_eq!(
            parse_token(Flow::Exchange, status, fixture!("error_invalid_code.json")).unwrap_err(),
            Verdict::ReAuthorize(ReAuthReason::GrantUsedOrExpired)
        );
    }
}

#[test]
fn invalid_code_on_refresh_means_the_refresh_token_was_revoked() {
    let verdict = parse_token(Flow::Refresh, 200, fixture!("error_invalid_code.json")).unwrap_err();
    assert_eq!(
        verdict,
        Verdict::ReAuthorize(ReAuthReason::RefreshTokenRevoked)
    );
    assert!(verdict.needs_reauthorization());
    assert!(!verdict.is_retryable());
}

#[test]
fn invalid_client_hints_at_the_wrong_data_centre() {
    let verdict =
        parse_token(Flow::Exchange, 200, fixture!("error_invalid_client.json")).unwrap_err();
    assert_eq!(
        verdict,
        Verdict::BadClient {
            error: BadClientKind::InvalidClient,
            wrong_data_center_hint: true
        }
    );
    assert_eq!(
        verdict.to_string(),
        "Zoho does not know this client at this data centre: check the data centre (accounts server) \
         matches where the client was registered, or enable multi-DC in the API console"
    );
}

#[test]
fn invalid_client_secret_is_a_bad_client_without_the_data_centre_hint() {
    assert_eq!(
        parse_token(
            Flow::Refresh,
            200,
            fixture!("error_invalid_client_secret.json")
        )
        .unwrap_err(),
        Verdict::BadClient {
            error: BadClientKind::InvalidClientSecret,
            wrong_data_center_hint: false
        }
    );
}

#[test]
fn other_oauth_errors_are_bad_requests_carrying_zohos_text() {
    let cases = [
        (
            fixture!("error_invalid_redirect_uri.json"),
            "invalid_redirect_uri",
        ),
        (
            fixture!("error_unsupported_grant_type.json"),
            "unsupported_grant_type",
        ),
        (fixture!("error_invalid_token.json"), "invalid_token"),
        (&br#"{"error":"some_new_code"}"#[..], "some_new_code"),
    ];
    for (body, text) in cases {
        for flow in BOTH_FLOWS {
            match parse_token(flow, 200, body).unwrap_err() {
                Verdict::BadRequest(t) => assert_eq!(t, text),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}

#[test]
fn access_denied_on_an_exchange_is_too_many_grant_codes_whatever_the_status() {
    for body in [
        fixture!("error_access_denied.json"),
        br#"{"error":"access_denied"}"#.as_slice(),
    ] {
        for status in [200, 400] {
            let verdict = parse_token(Flow::Exchange, status, body).unwrap_err();
            assert_eq!(verdict, Verdict::TooManyGrantCodes);
            // Neither the same request later nor a new grant at once: wait, then a new code.
            assert!(!verdict.is_retryable() && !verdict.needs_reauthorization());
        }
    }
}

#[test]
fn too_many_grant_codes_says_what_happened_and_what_to_do() {
    let text = parse_token(Flow::Exchange, 200, fixture!("error_access_denied.json"))
        .unwrap_err()
        .to_string();
    assert!(
        text.starts_with("Zoho refuses more than 10 grant codes per 10 minutes for this client"),
        "{text}"
    );
    assert!(
        text.contains("wait up to 10 minutes, then generate a new code"),
        "{text}"
    );
}

#[test]
fn access_denied_on_a_refresh_is_the_throttle() {
    assert_eq!(
        parse_token(Flow::Refresh, 200, fixture!("error_access_denied.json")).unwrap_err(),
        Verdict::Throttled
    );
}

#[test]
fn access_denied_outside_token_calls_stays_a_bad_request() {
    match parse_revoke(400, fixture!("error_access_denied.json")).unwrap_err() {
        Verdict::BadRequest(t) => assert_eq!(t, "access_denied"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_overlong_unknown_error_text_is_cut_at_a_character_boundary() {
    let body = "{\"error\":\"".to_owned() + &"é".repeat(100) + "\"}";
    match parse_token(Flow::Refresh, 200, body.as_bytes()).unwrap_err() {
        Verdict::BadRequest(t) => assert_eq!(t.as_str(), "é".repeat(32)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_throttle_is_recognised_with_status_200_or_400_in_any_language() {
    for body in [
        fixture!("throttle_en.json"),
        fixture!("throttle_zh.json"),
        fixture!("throttle_zh_escaped.json"),
    ] {
        for status in [200, 400] {
            for flow in BOTH_FLOWS {
                let verdict = parse_token(flow, status, body).unwrap_err();
                assert_eq!(verdict, Verdict::Throttled);
                assert!(verdict.is_retryable() && !verdict.needs_reauthorization());
            }
        }
    }
}

#[test]
fn a_429_in_a_rate_limiters_own_words_is_the_throttle() {
    assert_eq!(
        parse_token(Flow::Refresh, 429, b"Too Many Requests").unwrap_err(),
        Verdict::Throttled
    );
}

#[test]
fn html_is_a_retryable_fault_whatever_the_status() {
    for body in [fixture!("html_502.html"), fixture!("html_maintenance.html")] {
        for status in [200, 400, 401, 502, 503] {
            assert_eq!(
                parse_token(Flow::Refresh, status, body).unwrap_err(),
                Verdict::Retryable(Fault::Html { status })
            );
        }
    }
}

#[test]
fn a_5xx_without_zoho_json_is_a_server_error() {
    for body in [
        &b"Service Unavailable"[..],
        b"",
        b"{\"message\":\"upstream timed out\"}",
        b"{\"acc",
    ] {
        for status in [500, 502, 503, 504] {
            assert_eq!(
                parse_token(Flow::Refresh, status, body).unwrap_err(),
                Verdict::Retryable(Fault::ServerError { status })
            );
        }
    }
}

#[test]
fn a_5xx_carrying_invalid_code_is_still_decided_by_the_body() {
    assert_eq!(
        parse_token(Flow::Refresh, 500, fixture!("error_invalid_code.json")).unwrap_err(),
        Verdict::ReAuthorize(ReAuthReason::RefreshTokenRevoked)
    );
}

#[test]
fn every_cut_of_a_success_body_is_truncated_never_reauthorize() {
    let body = fixture!("exchange_success.json");
    for len in 1..body.len() {
        let verdict = parse_token(Flow::Refresh, 200, &body[..len]).unwrap_err();
        assert_eq!(
            verdict,
            Verdict::Retryable(Fault::Truncated),
            "cut at {len}"
        );
    }
}

#[test]
fn an_empty_or_blank_body_is_retryable_empty() {
    for body in [&b""[..], b"  \r\n\t "] {
        assert_eq!(
            parse_token(Flow::Refresh, 200, body).unwrap_err(),
            Verdict::Retryable(Fault::Empty)
        );
    }
}

#[test]
fn a_body_larger_than_max_body_is_refused_unparsed() {
    let mut body = fixture!("refresh_success.json").to_vec();
    body.resize(MAX_BODY + 1, b' ');
    assert_eq!(
        parse_token(Flow::Refresh, 200, &body).unwrap_err(),
        Verdict::Retryable(Fault::Oversized)
    );
    body.truncate(MAX_BODY);
    assert!(parse_token(Flow::Refresh, 200, &body).is_ok());
}

#[test]
fn json_that_is_not_a_zoho_answer_is_malformed() {
    let cases = [
        (&b"[1,2]"[..], Malformed::NotJson),
        (b"\"text\"", Malformed::NotJson),
        (b"Bad Request", Malformed::NotJson),
        (b"{}", Malformed::MissingField("access_token")),
        (
            b"{\"token_type\":\"Bearer\"}",
            Malformed::MissingField("access_token"),
        ),
        (
            b"{\"access_token\":\"\"}",
            Malformed::MissingField("access_token"),
        ),
        (
            b"{\"access_token\":42}",
            Malformed::WrongType("access_token"),
        ),
        (
            b"{\"access_token\":\"x\",\"expires_in\":\"3600\"}",
            Malformed::WrongType("expires_in"),
        ),
        (
            b"{\"access_token\":\"x\",\"expires_in\":-1}",
            Malformed::WrongType("expires_in"),
        ),
        (b"{\"access_token\":\"x\"} trailing", Malformed::NotJson),
        (b"{\"access_token\":\"x\",}", Malformed::NotJson),
    ];
    for (body, expected) in cases {
        assert_eq!(
            parse_token(Flow::Refresh, 200, body).unwrap_err(),
            Verdict::Malformed(expected),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn a_field_longer_than_its_capacity_is_too_long_never_truncated() {
    let long = "a".repeat(cap::ACCESS_TOKEN + 1);
    let body = format!("{{\"access_token\":\"{long}\"}}");
    assert_eq!(
        parse_token(Flow::Refresh, 200, body.as_bytes()).unwrap_err(),
        Verdict::TooLong(CapacityError {
            field: "access_token",
            capacity: cap::ACCESS_TOKEN,
            actual: cap::ACCESS_TOKEN + 1
        })
    );
    let exact = "a".repeat(cap::ACCESS_TOKEN);
    let body = format!("{{\"access_token\":\"{exact}\"}}");
    assert_eq!(
        parse_token(Flow::Refresh, 200, body.as_bytes())
            .unwrap()
            .access_token
            .expose(),
        exact
    );

    // Escapes count after unescaping: 129 characters written as `\/`.
    let body = format!(
        "{{\"access_token\":\"x\",\"api_domain\":\"{}\"}}",
        "\\/".repeat(cap::ORIGIN + 1)
    );
    assert_eq!(
        parse_token(Flow::Refresh, 200, body.as_bytes()).unwrap_err(),
        Verdict::TooLong(CapacityError {
            field: "api_domain",
            capacity: cap::ORIGIN,
            actual: cap::ORIGIN + 1
        })
    );
    let body = format!(
        "{{\"access_token\":\"\\/{}\"}}",
        "b".repeat(cap::ACCESS_TOKEN)
    );
    assert!(matches!(
        parse_token(Flow::Refresh, 200, body.as_bytes()).unwrap_err(),
        Verdict::TooLong(CapacityError {
            field: "access_token",
            ..
        })
    ));
}

#[test]
fn revoke_success_is_revoked() {
    assert_eq!(
        parse_revoke(200, fixture!("revoke_success.json")),
        Ok(Revocation::Revoked)
    );
}

#[test]
fn revoke_of_a_token_zoho_no_longer_knows_is_already_gone_not_a_refusal() {
    for status in [200, 400] {
        assert_eq!(
            parse_revoke(status, fixture!("revoke_invalid_token.json")),
            Ok(Revocation::AlreadyGone)
        );
        // With `"status":"failure"` beside it: still the token, not the throttle.
        assert_eq!(
            parse_revoke(status, fixture!("revoke_invalid_token_failure.json")),
            Ok(Revocation::AlreadyGone)
        );
    }
    assert_eq!(
        parse_revoke(400, fixture!("error_invalid_code.json")),
        Ok(Revocation::AlreadyGone)
    );
}

#[test]
fn a_revoke_refused_for_another_reason_is_a_verdict() {
    assert_eq!(
        parse_revoke(400, fixture!("error_invalid_client.json")),
        Err(Verdict::BadClient {
            error: BadClientKind::InvalidClient,
            wrong_data_center_hint: true
        })
    );
}

#[test]
fn revoke_faults_and_throttle_are_classified_like_token_answers() {
    assert_eq!(
        parse_revoke(400, fixture!("throttle_en.json")),
        Err(Verdict::Throttled)
    );
    assert_eq!(
        parse_revoke(502, fixture!("html_502.html")),
        Err(Verdict::Retryable(Fault::Html { status: 502 }))
    );
    assert_eq!(
        parse_revoke(200, b""),
        Err(Verdict::Retryable(Fault::Empty))
    );
    assert_eq!(
        parse_revoke(200, b"{}"),
        Err(Verdict::Malformed(Malformed::MissingField("status")))
    );
}

#[test]
fn user_info_reads_zuid_as_a_number_and_the_names() {
    let info = parse_user_info(200, fixture!("user_info.json")).unwrap();
    assert_eq!(info.zuid, 748291045);
    assert_eq!(info.email, "ada.lovelace@example.com");
    assert_eq!(info.first_name, "Ada");
    assert_eq!(info.last_name, "Lovelace");
    assert_eq!(info.display_name, "Ada Lovelace");
}

#[test]
fn user_info_without_names_keeps_them_empty_but_requires_zuid() {
    let info = parse_user_info(200, br#"{"ZUID":1,"Email":"a@b.c"}"#).unwrap();
    assert_eq!((info.zuid, info.first_name.as_str()), (1, ""));
    assert_eq!(
        parse_user_info(200, br#"{"Email":"a@b.c"}"#).unwrap_err(),
        Verdict::Malformed(Malformed::MissingField("ZUID"))
    );
    assert_eq!(
        parse_user_info(200, br#"{"ZUID":"1"}"#).unwrap_err(),
        Verdict::Malformed(Malformed::WrongType("ZUID"))
    );
}

#[test]
fn user_info_without_the_profile_scope_is_missing_scope() {
    let verdict = parse_user_info(401, fixture!("user_info_invalid_scope.json")).unwrap_err();
    assert_eq!(verdict, Verdict::MissingScope);
    assert!(verdict.to_string().contains("aaaserver.profile.READ"));
}

#[test]
fn user_info_with_a_refused_token_asks_for_a_refresh() {
    assert_eq!(
        parse_user_info(401, fixture!("user_info_invalid_token.json")).unwrap_err(),
        Verdict::InvalidAccessToken
    );
}

#[test]
fn an_api_401_invalid_token_asks_for_a_refresh() {
    assert_eq!(
        classify_api(401, fixture!("api_crm_invalid_token.json")),
        ApiVerdict::InvalidToken
    );
    assert_eq!(
        classify_api(401, fixture!("api_invalid_oauthtoken.json")),
        ApiVerdict::InvalidToken
    );
    assert_eq!(
        classify_api(401, fixture!("user_info_invalid_token.json")),
        ApiVerdict::InvalidToken
    );
}

#[test]
fn other_api_answers_are_not_token_problems() {
    assert_eq!(classify_api(200, b"{\"data\":[]}"), ApiVerdict::Ok);
    assert_eq!(classify_api(204, b""), ApiVerdict::Ok);
    assert_eq!(
        classify_api(401, fixture!("api_crm_scope_mismatch.json")),
        ApiVerdict::Other
    );
    assert_eq!(
        classify_api(401, fixture!("api_books_not_authorized.json")),
        ApiVerdict::Other
    );
    assert_eq!(
        classify_api(401, fixture!("html_502.html")),
        ApiVerdict::Other
    );
    // The same body with another status is not about the token.
    assert_eq!(
        classify_api(400, fixture!("api_crm_invalid_token.json")),
        ApiVerdict::Other
    );
}

#[test]
fn every_verdict_says_what_happened_and_what_to_do() {
    let verdicts = [
        Verdict::Retryable(Fault::Transport),
        Verdict::Retryable(Fault::ServerError { status: 503 }),
        Verdict::Retryable(Fault::Html { status: 502 }),
        Verdict::Retryable(Fault::Truncated),
        Verdict::Retryable(Fault::Empty),
        Verdict::Retryable(Fault::Oversized),
        Verdict::Throttled,
        Verdict::ReAuthorize(ReAuthReason::GrantUsedOrExpired),
        Verdict::ReAuthorize(ReAuthReason::RefreshTokenRevoked),
        Verdict::ReAuthorize(ReAuthReason::NoRefreshToken),
        Verdict::ReAuthorize(ReAuthReason::DeviceCodeExpired),
        Verdict::ReAuthorize(ReAuthReason::DeviceAccessDenied),
        Verdict::LifetimeOutOfRange {
            found: Duration::ZERO,
            min: MIN_ACCESS_TOKEN_LIFETIME,
            max: MAX_ACCESS_TOKEN_LIFETIME,
        },
        Verdict::MissingOrgInfo,
        Verdict::UnknownDataCenter {
            location: "mars".try_into().unwrap(),
        },
        Verdict::BadClient {
            error: BadClientKind::InvalidClient,
            wrong_data_center_hint: false,
        },
        Verdict::BadClient {
            error: BadClientKind::InvalidClientSecret,
            wrong_data_center_hint: false,
        },
        Verdict::BadRequest("invalid_redirect_uri".try_into().unwrap()),
        Verdict::MissingScope,
        Verdict::InvalidAccessToken,
        Verdict::Malformed(Malformed::NotJson),
        forbidden("refresh_token", ForbiddenChar::NonAscii),
        Verdict::TooLong(CapacityError {
            field: "scope",
            capacity: 512,
            actual: 600,
        }),
        Verdict::NotInFlight,
    ];
    for v in verdicts {
        let text = v.to_string();
        // "what happened: what to do"
        assert!(text.contains(": "), "{text}");
        assert!(
            !text.contains("Retryable") && !text.contains("Verdict"),
            "{text}"
        );
    }
    let online = Verdict::ReAuthorize(ReAuthReason::NoRefreshToken).to_string();
    assert!(
        online.contains("access_type=online")
            && online.contains("access_type=offline")
            && online.contains("prompt=consent"),
        "{online}"
    );
}

#[test]
fn a_lifetime_of_zero_is_refused_with_the_accepted_range() {
    let verdict =
        parse_token(Flow::Refresh, 200, fixture!("refresh_expires_in_zero.json")).unwrap_err();
    assert_eq!(
        verdict,
        Verdict::LifetimeOutOfRange {
            found: Duration::ZERO,
            min: Duration::from_secs(1),
            max: Duration::from_secs(86_400),
        }
    );
    assert_eq!(
        verdict.to_string(),
        "the access token's lifetime of 0 s is outside the accepted 1 s to 86400 s, so it was \
         refused: check that the accounts server is Zoho's (its tokens live 3600 s) and that no proxy \
         rewrites its answers"
    );
    assert!(!verdict.is_retryable() && !verdict.needs_reauthorization());
}

#[test]
fn an_absurdly_long_lifetime_is_refused_without_overflow() {
    for flow in EVERY_FLOW {
        assert_eq!(
            parse_token(flow, 200, fixture!("refresh_expires_in_u64_max.json")).unwrap_err(),
            Verdict::LifetimeOutOfRange {
                found: Duration::from_secs(u64::MAX),
                min: MIN_ACCESS_TOKEN_LIFETIME,
                max: MAX_ACCESS_TOKEN_LIFETIME,
            }
        );
    }
    // Beyond u64: saturated, refused as out of range rather than as the wrong type.
    let huge = br#"{"access_token":"1000.ab","expires_in":99999999999999999999999999}"#;
    assert!(matches!(
        parse_token(Flow::Refresh, 200, huge),
        Err(Verdict::LifetimeOutOfRange { found, .. }) if found == Duration::from_secs(u64::MAX)
    ));
    // In milliseconds (with expires_in_sec): u64::MAX ms.
    let ms = br#"{"access_token":"1000.ab","expires_in_sec":1,"expires_in":18446744073709551615}"#;
    assert!(matches!(
        parse_token(Flow::Refresh, 200, ms),
        Err(Verdict::LifetimeOutOfRange { found, .. }) if found == Duration::from_millis(u64::MAX)
    ));
}

#[test]
fn lifetimes_are_bounded_after_unit_normalisation() {
    let parse = |fields: &str| {
        let body = format!(r#"{{"access_token":"1000.ab",{fields}}}"#);
        parse_token(Flow::Refresh, 200, body.as_bytes()).map(|g| g.expires_in)
    };
    let out_of_range = |found| {
        Err(Verdict::LifetimeOutOfRange {
            found,
            min: MIN_ACCESS_TOKEN_LIFETIME,
            max: MAX_ACCESS_TOKEN_LIFETIME,
        })
    };
    assert_eq!(parse(r#""expires_in":1"#), Ok(Duration::from_secs(1)));
    assert_eq!(
        parse(r#""expires_in":86400"#),
        Ok(Duration::from_secs(86_400))
    );
    assert_eq!(
        parse(r#""expires_in":86401"#),
        out_of_range(Duration::from_secs(86_401))
    );
    // Milliseconds sent without `expires_in_sec` read as seconds: 41 days, refused.
    assert_eq!(
        parse(r#""expires_in":3600000"#),
        out_of_range(Duration::from_secs(3_600_000))
    );
    // The old dialect: milliseconds, bounded the same.
    assert_eq!(
        parse(r#""expires_in_sec":3600,"expires_in":3600000"#),
        Ok(Duration::from_secs(3600))
    );
    assert_eq!(
        parse(r#""expires_in_sec":0,"expires_in":999"#),
        out_of_range(Duration::from_millis(999))
    );
    assert_eq!(parse(r#""expires_in_sec":0"#), out_of_range(Duration::ZERO));
    assert_eq!(
        parse(r#""token_type":"Bearer""#),
        Ok(DEFAULT_ACCESS_TOKEN_LIFETIME)
    );
    assert_eq!(DEFAULT_ACCESS_TOKEN_LIFETIME, Duration::from_secs(3600));
    assert!((MIN_ACCESS_TOKEN_LIFETIME..=MAX_ACCESS_TOKEN_LIFETIME)
        .contains(&DEFAULT_ACCESS_TOKEN_LIFETIME));
    let shown = Verdict::LifetimeOutOfRange {
        found: Duration::from_millis(999),
        min: MIN_ACCESS_TOKEN_LIFETIME,
        max: MAX_ACCESS_TOKEN_LIFETIME,
    }
    .to_string();
    assert!(shown.contains("lifetime of 999 ms"), "{shown}");
}

#[test]
fn a_client_credentials_success_has_no_refresh_token_and_that_is_normal() {
    let grant = parse_token(
        Flow::ClientCredentials,
        200,
        fixture!("client_credentials_success.json"),
    )
    .unwrap();
    assert!(grant.refresh_token.is_none());
    assert_eq!(
        grant.api_domain.as_deref(),
        Some("https://www.zohoapis.com")
    );
    assert_eq!(grant.expires_in, Duration::from_secs(3600));
}

#[test]
fn missing_org_info_says_to_pass_soid() {
    for status in [200, 400] {
        let verdict = parse_token(
            Flow::ClientCredentials,
            status,
            fixture!("error_missing_org_info.json"),
        )
        .unwrap_err();
        assert_eq!(verdict, Verdict::MissingOrgInfo);
        let text = verdict.to_string();
        assert!(
            text.contains("soid") && text.contains("ZohoCRM.600001234"),
            "{text}"
        );
        assert!(!verdict.is_retryable() && !verdict.needs_reauthorization());
    }
}

#[test]
fn client_credentials_never_ask_for_reauthorization() {
    // Nothing was authorized: a stray invalid_code is Zoho refusing the request.
    assert_eq!(
        parse_token(
            Flow::ClientCredentials,
            200,
            fixture!("error_invalid_code.json")
        ),
        Err(Verdict::BadRequest("invalid_code".try_into().unwrap()))
    );
    // Too many tokens minted: the throttle, as on a refresh.
    assert_eq!(
        parse_token(
            Flow::ClientCredentials,
            200,
            fixture!("error_access_denied.json")
        ),
        Err(Verdict::Throttled)
    );
    assert_eq!(
        parse_token(Flow::ClientCredentials, 200, fixture!("throttle_zh.json")),
        Err(Verdict::Throttled)
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// JSON whitespace, sometimes none.
    fn ws() -> impl Strategy<Value = String> {
        "[ \t\r\n]{0,2}"
    }

    /// A JSON string literal with every kind of escape, non-ASCII and JSON punctuation inside.
    fn json_string() -> impl Strategy<Value = String> {
        r#""([a-zA-Z0-9 é😀{}\[\],:]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4}){0,8}""#
    }

    /// Any JSON value, nested up to four deep, with whitespace between its tokens.
    fn json_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            r"-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?",
            json_string(),
        ];
        leaf.prop_recursive(4, 48, 4, |inner| {
            prop_oneof![
                proptest::collection::vec((ws(), inner.clone(), ws()), 0..4).prop_map(|items| {
                    let items: Vec<String> =
                        items.iter().map(|(a, v, b)| format!("{a}{v}{b}")).collect();
                    format!("[{}]", items.join(","))
                }),
                proptest::collection::vec((ws(), json_string(), ws(), ws(), inner, ws()), 0..4)
                    .prop_map(|entries| {
                        let entries: Vec<String> = entries
                            .iter()
                            .map(|(a, k, b, c, v, d)| format!("{a}{k}{b}:{c}{v}{d}"))
                            .collect();
                        format!("{{{}}}", entries.join(","))
                    }),
            ]
        })
    }

    /// A token answer with `value` under an unknown key before and after the known ones.
    fn answer_around(value: &str, ws: &str) -> String {
        format!(
            "{{{ws}\"x\"{ws}:{ws}{value}{ws},\"access_token\":\"1000.ab\",\"expires_in\":60,\"y\":{value}}}{ws}"
        )
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256)) {
            for flow in BOTH_FLOWS {
                let _ = parse_token(flow, status, &body);
            }
            let _ = parse_revoke(status, &body);
            let _ = parse_user_info(status, &body);
            let _ = classify_api(status, &body);
        }

        #[test]
        fn json_shaped_noise_never_panics(body in r#"\{("[a-z_]{0,12}":("[^"]{0,8}"|[0-9]{1,3}|null|\{\}|\[\]),?){0,6}\}?"#) {
            for flow in BOTH_FLOWS {
                let _ = parse_token(flow, 200, body.as_bytes());
            }
        }

        #[test]
        fn only_an_invalid_code_error_asks_for_reauthorization(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let verdict = parse_token(Flow::Refresh, status, &body);
            if matches!(verdict, Err(Verdict::ReAuthorize(_))) {
                prop_assert!(body.windows(12).any(|w| w == b"invalid_code"));
            }
        }

        #[test]
        fn any_json_value_under_an_unknown_key_is_skipped(value in json_value(), ws in ws()) {
            let body = answer_around(&value, &ws);
            let grant = parse_token(Flow::Refresh, 200, body.as_bytes());
            prop_assert!(grant.is_ok(), "{body}: {grant:?}");
            let grant = grant.unwrap();
            prop_assert_eq!(grant.access_token.expose(), "1000.ab");
            prop_assert_eq!(grant.expires_in, Duration::from_secs(60));
        }

        #[test]
        fn every_cut_of_a_valid_answer_is_truncated(value in json_value()) {
            let body = answer_around(&value, "");
            for cut in 1..body.len() {
                prop_assert_eq!(
                    parse_token(Flow::Refresh, 200, &body.as_bytes()[..cut]),
                    Err(Verdict::Retryable(Fault::Truncated)),
                    "{}", String::from_utf8_lossy(&body.as_bytes()[..cut])
                );
            }
        }

        #[test]
        fn a_known_text_field_of_another_type_is_the_wrong_type(value in json_value()) {
            prop_assume!(!value.starts_with('"') && value != "null");
            let body = format!("{{\"access_token\":\"1000.ab\",\"scope\":{value}}}");
            prop_assert_eq!(
                parse_token(Flow::Refresh, 200, body.as_bytes()),
                Err(Verdict::Malformed(Malformed::WrongType("scope")))
            );
        }

        #[test]
        fn a_body_broken_after_a_valid_value_is_not_json(value in json_value(), junk in "[\\]}:a-df-zA-DF-Z]") {
            // Junk right after a complete value (nothing that could continue a number): never
            // valid, never a cut.
            let body = format!("{{\"x\":{value}{junk},\"access_token\":\"1000.ab\"}}");
            prop_assert_eq!(
                parse_token(Flow::Refresh, 200, body.as_bytes()),
                Err(Verdict::Malformed(Malformed::NotJson)),
                "{}", body
            );
        }

        #[test]
        fn a_success_cut_anywhere_is_retryable(cut in 1usize..200, status in prop_oneof![Just(200u16), Just(400), Just(502)]) {
            let body = fixture!("exchange_success_escaped.json");
            let cut = cut.min(body.len() - 1);
            let verdict = parse_token(Flow::Exchange, status, &body[..cut]).unwrap_err();
            prop_assert!(verdict.is_retryable() && !verdict.needs_reauthorization(), "{verdict:?}");
        }
    }
}

//! The device flow: its two requests, its two answers (recorded, Zoho-shaped fixtures) and the
//! pacing of `DeviceFlow`, as scenarios and as properties.

use core::time::Duration;

use zoho_oauth_core::authorize::{AccessType, Prompt};
use zoho_oauth_core::device::{
    self, initiation_request, parse_initiation, parse_poll, poll_request, DeviceAuthorization,
    DeviceConfig, DeviceEnd, DeviceFlow, DevicePoll, PollAnswer, DEFAULT_CODE_LIFETIME,
    DEFAULT_POLL_FLOOR,
};
use zoho_oauth_core::machine::MachineError;
use zoho_oauth_core::response::{BadClientKind, Fault, Malformed, ReAuthReason, Verdict};
use zoho_oauth_core::{form, BufferTooSmall, DataCenter, Instant, Method, Origin};

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

const CLIENT_ID: &str = "1004.JNB00640KVIR87109F4XV941E2SY22";
const SECRET: &str = "215734b0b2ca5f80f058a4be261e29cbbda609c2b6";
const DEVICE_CODE: &str = "1004.71c4b3d036cbcc5ca5e6f26e4ac0ef11.3a141ff0e7fb15cbf8fc83113b10ec6e";
const US: Origin = Origin::Zoho(DataCenter::Us);
const T0: Instant = Instant::from_millis(1_700_000_000_000);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn at(d: Duration) -> Instant {
    T0.saturating_add(d)
}

/// Decode a form body into (key, value) pairs.
fn pairs(body: &[u8]) -> Vec<(String, String)> {
    let body = core::str::from_utf8(body).unwrap();
    form::pairs(body)
        .map(|(k, v)| {
            let (mut kb, mut vb) = (vec![0u8; k.len()], vec![0u8; v.len()]);
            (
                form::decode_into(k, &mut kb).unwrap().to_owned(),
                form::decode_into(v, &mut vb).unwrap().to_owned(),
            )
        })
        .collect()
}

fn owned(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn authorization() -> DeviceAuthorization {
    parse_initiation(200, fixture!("device_code_success.json")).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Requests

#[test]
fn the_initiation_posts_client_id_grant_type_scopes_access_type_and_prompt() {
    let mut buf = [0u8; 512];
    let r = initiation_request(
        &mut buf,
        &US,
        CLIENT_ID,
        &["ZohoCRM.modules.ALL", "aaaserver.profile.READ"],
        AccessType::Offline,
        Some(Prompt::Consent),
    )
    .unwrap();
    assert_eq!(r.method, Method::Post);
    assert_eq!(r.url, "https://accounts.zoho.com/oauth/v3/device/code");
    assert_eq!(r.authorization, None);
    assert_eq!(
        core::str::from_utf8(r.body).unwrap(),
        "grant_type=device_request&client_id=1004.JNB00640KVIR87109F4XV941E2SY22\
         &scope=ZohoCRM.modules.ALL,aaaserver.profile.READ&access_type=offline&prompt=consent"
    );
}

#[test]
fn an_online_initiation_without_prompt_omits_prompt() {
    let mut buf = [0u8; 512];
    let r = initiation_request(
        &mut buf,
        &Origin::Zoho(DataCenter::In),
        CLIENT_ID,
        &["A,B&prompt=consent"],
        AccessType::Online,
        None,
    )
    .unwrap();
    assert_eq!(r.url, "https://accounts.zoho.in/oauth/v3/device/code");
    assert_eq!(
        pairs(r.body),
        owned(&[
            ("grant_type", "device_request"),
            ("client_id", CLIENT_ID),
            ("scope", "A,B&prompt=consent"),
            ("access_type", "online"),
        ])
    );
}

#[test]
fn a_poll_sends_the_device_code_as_code_with_the_client_secret_in_the_body() {
    let mut buf = [0u8; 512];
    let r = poll_request(&mut buf, &US, CLIENT_ID, SECRET, DEVICE_CODE).unwrap();
    assert_eq!(r.url, "https://accounts.zoho.com/oauth/v3/device/token");
    assert!(!r.url.contains(SECRET) && !r.url.contains(DEVICE_CODE));
    assert_eq!(
        pairs(r.body),
        owned(&[
            ("grant_type", "device_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("code", DEVICE_CODE),
        ])
    );
}

#[test]
fn a_too_small_buffer_gets_the_exact_size_and_is_untouched() {
    let mut big = [0u8; 512];
    let needed = {
        let r = poll_request(&mut big, &US, CLIENT_ID, SECRET, DEVICE_CODE).unwrap();
        r.url.len() + r.body.len()
    };
    let mut small = vec![0xAAu8; needed - 1];
    assert_eq!(
        poll_request(&mut small, &US, CLIENT_ID, SECRET, DEVICE_CODE),
        Err(BufferTooSmall { required: needed })
    );
    assert!(small.iter().all(|&b| b == 0xAA));
    let mut exact = vec![0u8; needed];
    assert!(poll_request(&mut exact, &US, CLIENT_ID, SECRET, DEVICE_CODE).is_ok());

    let scopes = ["ZohoCRM.modules.ALL"];
    let needed = {
        let r = initiation_request(&mut big, &US, CLIENT_ID, &scopes, AccessType::Offline, None)
            .unwrap();
        r.url.len() + r.body.len()
    };
    let mut small = vec![0xAAu8; needed - 1];
    assert_eq!(
        initiation_request(
            &mut small,
            &US,
            CLIENT_ID,
            &scopes,
            AccessType::Offline,
            None
        ),
        Err(BufferTooSmall { required: needed })
    );
    assert!(small.iter().all(|&b| b == 0xAA));
}

// ---------------------------------------------------------------------------------------------
// The initiation answer

#[test]
fn an_initiation_answer_in_seconds_gives_codes_url_interval_and_lifetime() {
    let a = authorization();
    assert_eq!(a.user_code, "QW7K2PLM");
    assert_eq!(a.device_code.expose(), DEVICE_CODE);
    assert_eq!(
        a.verification_url,
        "https://accounts.zoho.com/oauth/v3/device"
    );
    assert_eq!(a.interval, Some(secs(30)));
    assert_eq!(a.expires_in, secs(300));
    // The device code is a secret.
    assert!(!format!("{a:?}").contains(DEVICE_CODE));
}

#[test]
fn an_initiation_answer_in_milliseconds_gives_the_same_durations() {
    let a = parse_initiation(200, fixture!("device_code_success_ms.json")).unwrap();
    assert_eq!(a.interval, Some(secs(30)));
    assert_eq!(a.expires_in, secs(300));
}

#[test]
fn units_switch_to_milliseconds_above_1000_for_interval_and_86400_for_expires_in() {
    let parse = |interval: u64, expires_in: u64| {
        let body = format!(
            r#"{{"user_code":"A","device_code":"1004.x","verification_url":"https://accounts.zoho.com/oauth/v3/device","interval":{interval},"expires_in":{expires_in}}}"#
        );
        let a = parse_initiation(200, body.as_bytes()).unwrap();
        (a.interval.unwrap(), a.expires_in)
    };
    assert_eq!(parse(1000, 86_400), (secs(1000), secs(86_400)));
    assert_eq!(
        parse(1001, 86_401),
        (Duration::from_millis(1001), Duration::from_millis(86_401))
    );
    assert_eq!(parse(5, 600), (secs(5), secs(600)));
    // Beyond u64 saturates, never overflows.
    let huge = r#"{"user_code":"A","device_code":"1004.x","verification_url":"u","interval":99999999999999999999999,"expires_in":99999999999999999999999}"#;
    let a = parse_initiation(200, huge.as_bytes()).unwrap();
    assert_eq!(a.interval, Some(Duration::from_millis(u64::MAX)));
    assert_eq!(a.expires_in, Duration::from_millis(u64::MAX));
}

#[test]
fn without_interval_or_expires_in_the_defaults_apply() {
    let body = br#"{"user_code":"A","device_code":"1004.x","verification_uri":"https://accounts.zoho.com/oauth/v3/device"}"#;
    let a = parse_initiation(200, body).unwrap();
    assert_eq!(a.interval, None);
    assert_eq!(a.expires_in, DEFAULT_CODE_LIFETIME);
    // RFC 8628's name is accepted when Zoho's is absent.
    assert_eq!(
        a.verification_url,
        "https://accounts.zoho.com/oauth/v3/device"
    );
}

#[test]
fn an_initiation_answer_missing_a_code_or_the_url_is_malformed() {
    for (body, field) in [
        (
            &br#"{"user_code":"A","verification_url":"u"}"#[..],
            "device_code",
        ),
        (
            br#"{"device_code":"1004.x","verification_url":"u"}"#,
            "user_code",
        ),
        (
            br#"{"device_code":"1004.x","user_code":"A"}"#,
            "verification_url",
        ),
    ] {
        assert_eq!(
            parse_initiation(200, body),
            Err(Verdict::Malformed(Malformed::MissingField(field)))
        );
    }
}

#[test]
fn a_user_code_or_url_with_a_control_character_is_refused() {
    for body in [
        &br#"{"user_code":"A\u001b[2J","device_code":"1004.x","verification_url":"u"}"#[..],
        br#"{"user_code":"A","device_code":"1004.x","verification_url":"https://a\r\nb"}"#,
        br#"{"user_code":"A","device_code":"1004.x y","verification_url":"u"}"#,
    ] {
        assert!(
            matches!(
                parse_initiation(200, body),
                Err(Verdict::Malformed(Malformed::ForbiddenCharacter { .. }))
            ),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn initiation_errors_are_verdicts_like_token_answers() {
    assert_eq!(
        parse_initiation(200, fixture!("error_invalid_client.json")),
        Err(Verdict::BadClient {
            error: BadClientKind::InvalidClient,
            wrong_data_center_hint: true
        })
    );
    assert_eq!(
        parse_initiation(400, fixture!("throttle_zh.json")),
        Err(Verdict::Throttled)
    );
    assert_eq!(
        parse_initiation(502, fixture!("html_502.html")),
        Err(Verdict::Retryable(Fault::Html { status: 502 }))
    );
    let body = fixture!("device_code_success.json");
    for cut in 1..body.len() {
        assert_eq!(
            parse_initiation(200, &body[..cut]),
            Err(Verdict::Retryable(Fault::Truncated)),
            "cut at {cut}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The poll answers

#[test]
fn every_poll_answer_of_zohos_page_is_told_apart() {
    for status in [200, 400] {
        assert_eq!(
            parse_poll(status, fixture!("device_poll_authorization_pending.json")),
            Ok(PollAnswer::Pending)
        );
        assert_eq!(
            parse_poll(status, fixture!("device_poll_slow_down.json")),
            Ok(PollAnswer::SlowDown)
        );
        assert_eq!(
            parse_poll(status, fixture!("device_poll_access_denied.json")),
            Err(Verdict::ReAuthorize(ReAuthReason::DeviceAccessDenied))
        );
        assert_eq!(
            parse_poll(status, fixture!("device_poll_expired.json")),
            Err(Verdict::ReAuthorize(ReAuthReason::DeviceCodeExpired))
        );
        assert_eq!(
            parse_poll(status, fixture!("device_poll_other_dc.json")),
            Ok(PollAnswer::OtherDataCenter(DataCenter::Eu))
        );
    }
    // An unknown device code: only a new flow helps.
    assert_eq!(
        parse_poll(400, fixture!("error_invalid_code.json")),
        Err(Verdict::ReAuthorize(ReAuthReason::DeviceCodeExpired))
    );
}

#[test]
fn a_poll_success_is_a_token_answer() {
    let Ok(PollAnswer::Granted(grant)) = parse_poll(200, fixture!("device_poll_success.json"))
    else {
        panic!("not granted")
    };
    assert!(grant.refresh_token.is_some());
    assert_eq!(grant.api_domain.as_deref(), Some("https://www.zohoapis.eu"));
    assert_eq!(grant.expires_in, secs(3600));
    // Its lifetime is bounded like every token answer's.
    let zero = br#"{"access_token":"1000.a","expires_in":0}"#;
    assert!(matches!(
        parse_poll(200, zero),
        Err(Verdict::LifetimeOutOfRange { .. })
    ));
}

#[test]
fn other_dc_follows_only_the_data_centre_table() {
    for dc in DataCenter::ALL {
        for code in [
            dc.location_code().to_owned(),
            dc.location_code().to_uppercase(),
        ] {
            let body = format!(r#"{{"error":"other_dc","user_location":"{code}"}}"#);
            assert_eq!(
                parse_poll(200, body.as_bytes()),
                Ok(PollAnswer::OtherDataCenter(dc))
            );
        }
    }
    assert_eq!(
        parse_poll(200, fixture!("device_poll_other_dc_foreign.json")),
        Err(Verdict::UnknownDataCenter {
            location: "accounts.evil.ex".try_into().unwrap()
        })
    );
    for foreign in ["", " eu", "eu ", "usa", "https://accounts.zoho.eu", "de"] {
        let body = format!(r#"{{"error":"other_dc","user_location":"{foreign}"}}"#);
        assert!(
            parse_poll(200, body.as_bytes()).is_err(),
            "{foreign:?} was followed"
        );
    }
    assert_eq!(
        parse_poll(200, br#"{"error":"other_dc"}"#),
        Err(Verdict::Malformed(Malformed::MissingField("user_location")))
    );
    assert_eq!(
        parse_poll(200, br#"{"error":"other_dc","user_location":7}"#),
        Err(Verdict::Malformed(Malformed::WrongType("user_location")))
    );
}

#[test]
fn html_5xx_and_cut_poll_answers_are_retryable() {
    assert_eq!(
        parse_poll(502, fixture!("html_502.html")),
        Err(Verdict::Retryable(Fault::Html { status: 502 }))
    );
    assert_eq!(
        parse_poll(200, fixture!("html_maintenance.html")),
        Err(Verdict::Retryable(Fault::Html { status: 200 }))
    );
    assert_eq!(
        parse_poll(503, b"Service Unavailable"),
        Err(Verdict::Retryable(Fault::ServerError { status: 503 }))
    );
    for body in [
        fixture!("device_poll_success.json"),
        fixture!("device_poll_other_dc.json"),
        fixture!("device_poll_authorization_pending.json"),
    ] {
        for cut in 1..body.len() {
            let verdict = parse_poll(200, &body[..cut]).unwrap_err();
            assert_eq!(
                verdict,
                Verdict::Retryable(Fault::Truncated),
                "cut at {cut}"
            );
        }
    }
    assert_eq!(
        parse_poll(200, fixture!("throttle_en.json")),
        Err(Verdict::Throttled)
    );
}

// ---------------------------------------------------------------------------------------------
// DeviceFlow scenarios

fn flow_with(interval: Option<Duration>, expires_in: Duration, config: DeviceConfig) -> DeviceFlow {
    let mut a = authorization();
    a.interval = interval;
    a.expires_in = expires_in;
    DeviceFlow::new(T0, US, &a, config)
}

#[test]
fn the_first_poll_waits_one_interval_and_never_less_than_the_30_second_floor() {
    let mut flow = flow_with(Some(secs(5)), secs(300), DeviceConfig::default());
    assert_eq!(flow.interval(), DEFAULT_POLL_FLOOR);
    assert_eq!(
        flow.poll(T0),
        DevicePoll::Wait {
            until: Some(at(secs(30)))
        }
    );
    assert_eq!(
        flow.poll(at(secs(29))),
        DevicePoll::Wait {
            until: Some(at(secs(30)))
        }
    );
    assert_eq!(flow.poll(at(secs(30))), DevicePoll::Send);
    // In flight: nothing until the answer is handed over.
    assert_eq!(flow.poll(at(secs(31))), DevicePoll::Wait { until: None });
    // A longer interval from Zoho is kept.
    let flow = flow_with(Some(secs(45)), secs(300), DeviceConfig::default());
    assert_eq!(flow.interval(), secs(45));
}

#[test]
fn the_next_poll_waits_an_interval_after_the_answer_arrived() {
    let mut flow = flow_with(Some(secs(30)), secs(300), DeviceConfig::default());
    assert_eq!(flow.poll(at(secs(30))), DevicePoll::Send);
    // A slow answer: 10 s on the way.
    let pending = fixture!("device_poll_authorization_pending.json");
    assert_eq!(
        flow.handle_response(at(secs(40)), 200, pending),
        Ok(PollAnswer::Pending)
    );
    assert_eq!(
        flow.poll(at(secs(40))),
        DevicePoll::Wait {
            until: Some(at(secs(70)))
        }
    );
    assert_eq!(flow.poll(at(secs(70))), DevicePoll::Send);
}

#[test]
fn slow_down_lengthens_the_interval_by_the_step_each_time() {
    let config = DeviceConfig {
        poll_floor: secs(30),
        slow_down_step: secs(5),
    };
    let mut flow = flow_with(Some(secs(30)), secs(600), config);
    let mut now = at(secs(30));
    for n in 1..=3u64 {
        assert_eq!(flow.poll(now), DevicePoll::Send);
        assert_eq!(
            flow.handle_response(now, 400, fixture!("device_poll_slow_down.json")),
            Ok(PollAnswer::SlowDown)
        );
        assert_eq!(flow.interval(), secs(30 + 5 * n));
        let next = now.saturating_add(flow.interval());
        assert_eq!(flow.poll(now), DevicePoll::Wait { until: Some(next) });
        now = next;
    }
    // The throttle is a louder slow_down.
    assert_eq!(flow.poll(now), DevicePoll::Send);
    assert_eq!(
        flow.handle_response(now, 200, fixture!("throttle_zh.json")),
        Err(Verdict::Throttled)
    );
    assert_eq!(flow.interval(), secs(50));
    assert_eq!(flow.end(), None);
}

#[test]
fn other_dc_points_the_following_polls_at_the_users_data_centre() {
    let mut flow = flow_with(Some(secs(30)), secs(300), DeviceConfig::default());
    let mut buf = [0u8; 512];
    assert_eq!(flow.poll(at(secs(30))), DevicePoll::Send);
    let url = flow.write_request(&mut buf, CLIENT_ID, SECRET).unwrap().url;
    assert_eq!(url, "https://accounts.zoho.com/oauth/v3/device/token");
    let Ok(PollAnswer::OtherDataCenter(dc)) =
        flow.handle_response(at(secs(30)), 200, fixture!("device_poll_other_dc.json"))
    else {
        panic!("no data centre")
    };
    flow.set_accounts(Origin::Zoho(dc));
    assert_eq!(flow.accounts(), &Origin::Zoho(DataCenter::Eu));
    // Still paced: the other centre is polled one interval later.
    assert_eq!(
        flow.poll(at(secs(30))),
        DevicePoll::Wait {
            until: Some(at(secs(60)))
        }
    );
    assert_eq!(flow.poll(at(secs(60))), DevicePoll::Send);
    let request = flow.write_request(&mut buf, CLIENT_ID, SECRET).unwrap();
    assert_eq!(
        request.url,
        "https://accounts.zoho.eu/oauth/v3/device/token"
    );
    assert!(pairs(request.body).contains(&("code".to_owned(), DEVICE_CODE.to_owned())));
    let answer = flow.handle_response(at(secs(60)), 200, fixture!("device_poll_success.json"));
    assert!(matches!(answer, Ok(PollAnswer::Granted(_))));
    assert_eq!(
        flow.poll(at(secs(61))),
        DevicePoll::Done(DeviceEnd::Granted)
    );
}

#[test]
fn a_foreign_user_location_ends_the_flow_without_another_poll() {
    let mut flow = flow_with(None, secs(300), DeviceConfig::default());
    assert_eq!(flow.poll(at(secs(30))), DevicePoll::Send);
    assert!(matches!(
        flow.handle_response(
            at(secs(30)),
            200,
            fixture!("device_poll_other_dc_foreign.json")
        ),
        Err(Verdict::UnknownDataCenter { .. })
    ));
    assert_eq!(flow.accounts(), &US);
    assert_eq!(
        flow.poll(at(secs(90))),
        DevicePoll::Done(DeviceEnd::Refused)
    );
}

#[test]
fn no_poll_goes_at_or_after_expiry() {
    let mut flow = flow_with(Some(secs(30)), secs(50), DeviceConfig::default());
    assert_eq!(flow.poll(at(secs(30))), DevicePoll::Send);
    let pending = fixture!("device_poll_authorization_pending.json");
    assert_eq!(
        flow.handle_response(at(secs(31)), 200, pending),
        Ok(PollAnswer::Pending)
    );
    // The next poll would be at 61 s, after expiry at 50 s: wait for the expiry instead.
    assert_eq!(
        flow.poll(at(secs(31))),
        DevicePoll::Wait {
            until: Some(at(secs(50)))
        }
    );
    assert_eq!(
        flow.poll(at(secs(50))),
        DevicePoll::Done(DeviceEnd::Expired)
    );
    assert_eq!(
        flow.poll(at(secs(61))),
        DevicePoll::Done(DeviceEnd::Expired)
    );
    // A late first poll at expiry is not sent either.
    let mut flow = flow_with(Some(secs(30)), secs(300), DeviceConfig::default());
    assert_eq!(
        flow.poll(at(secs(300))),
        DevicePoll::Done(DeviceEnd::Expired)
    );
}

#[test]
fn denial_expiry_and_refusals_end_the_flow_with_their_reason() {
    for (body, verdict, end) in [
        (
            fixture!("device_poll_access_denied.json"),
            Verdict::ReAuthorize(ReAuthReason::DeviceAccessDenied),
            DeviceEnd::Denied,
        ),
        (
            fixture!("device_poll_expired.json"),
            Verdict::ReAuthorize(ReAuthReason::DeviceCodeExpired),
            DeviceEnd::Expired,
        ),
        (
            fixture!("error_invalid_client_secret.json"),
            Verdict::BadClient {
                error: BadClientKind::InvalidClientSecret,
                wrong_data_center_hint: false,
            },
            DeviceEnd::Refused,
        ),
    ] {
        let mut flow = flow_with(None, secs(300), DeviceConfig::default());
        assert_eq!(flow.poll(at(secs(30))), DevicePoll::Send);
        assert_eq!(flow.handle_response(at(secs(30)), 400, body), Err(verdict));
        assert_eq!(flow.poll(at(secs(200))), DevicePoll::Done(end));
        assert_eq!(flow.end(), Some(end));
    }
}

#[test]
fn faults_keep_polling_one_interval_later() {
    let mut flow = flow_with(None, secs(300), DeviceConfig::default());
    assert_eq!(flow.poll(at(secs(30))), DevicePoll::Send);
    assert_eq!(
        flow.handle_transport_error(at(secs(35))),
        Verdict::Retryable(Fault::Transport)
    );
    assert_eq!(
        flow.poll(at(secs(35))),
        DevicePoll::Wait {
            until: Some(at(secs(65)))
        }
    );
    assert_eq!(flow.poll(at(secs(65))), DevicePoll::Send);
    assert_eq!(
        flow.handle_response(at(secs(65)), 502, fixture!("html_502.html")),
        Err(Verdict::Retryable(Fault::Html { status: 502 }))
    );
    assert_eq!(flow.poll(at(secs(95))), DevicePoll::Send);
    assert_eq!(flow.interval(), DEFAULT_POLL_FLOOR);
}

#[test]
fn answers_and_requests_outside_a_poll_in_flight_are_misuse_and_change_nothing() {
    let mut flow = flow_with(None, secs(300), DeviceConfig::default());
    let mut buf = [0u8; 512];
    assert_eq!(
        flow.write_request(&mut buf, CLIENT_ID, SECRET).unwrap_err(),
        MachineError::NotInFlight
    );
    let pending = fixture!("device_poll_authorization_pending.json");
    assert_eq!(
        flow.handle_response(T0, 200, pending),
        Err(Verdict::NotInFlight)
    );
    assert_eq!(flow.handle_transport_error(T0), Verdict::NotInFlight);
    assert_eq!(
        flow.poll(T0),
        DevicePoll::Wait {
            until: Some(at(secs(30)))
        }
    );
    // A buffer too small is reported, and the poll stays in flight for a retry.
    assert_eq!(flow.poll(at(secs(30))), DevicePoll::Send);
    let mut small = [0u8; 8];
    assert!(matches!(
        flow.write_request(&mut small, CLIENT_ID, SECRET),
        Err(MachineError::Buffer(BufferTooSmall { .. }))
    ));
    assert!(flow.write_request(&mut buf, CLIENT_ID, SECRET).is_ok());
}

#[test]
fn the_flow_never_shows_the_device_code() {
    let flow = flow_with(None, secs(300), DeviceConfig::default());
    let shown = format!("{flow:?}");
    assert!(!shown.contains(DEVICE_CODE), "{shown}");
}

// ---------------------------------------------------------------------------------------------
// Properties

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// What the server (or the network) answers to one poll.
    #[derive(Clone, Debug)]
    enum Answer {
        Pending,
        SlowDown,
        OtherDc(String),
        Foreign(String),
        Granted,
        Denied,
        Expired,
        Throttle,
        Html,
        Cut(usize),
        Transport,
        BadClient,
    }

    fn answer() -> impl Strategy<Value = Answer> {
        let known = prop::sample::select(DataCenter::ALL.to_vec()).prop_flat_map(|dc| {
            let code = dc.location_code();
            prop_oneof![Just(code.to_owned()), Just(code.to_uppercase())]
        });
        prop_oneof![
            8 => Just(Answer::Pending),
            3 => Just(Answer::SlowDown),
            2 => known.prop_map(Answer::OtherDc),
            2 => "[a-z.:/ ]{1,20}"
                .prop_filter("not a location code", |s| DataCenter::from_location(s).is_err())
                .prop_map(Answer::Foreign),
            1 => Just(Answer::Granted),
            1 => Just(Answer::Denied),
            1 => Just(Answer::Expired),
            2 => Just(Answer::Throttle),
            2 => Just(Answer::Html),
            2 => (1usize..30).prop_map(Answer::Cut),
            2 => Just(Answer::Transport),
            1 => Just(Answer::BadClient),
        ]
    }

    /// One step of the driver: how long until it polls, and what comes back if it sends.
    #[derive(Clone, Debug)]
    struct Step {
        /// Jump to the wake-up the flow asked for (else advance by `advance_ms`).
        to_wake_up: bool,
        advance_ms: u64,
        /// How long the answer takes; sometimes the clock steps back meanwhile.
        latency_ms: i64,
        answer: Answer,
    }

    fn step() -> impl Strategy<Value = Step> {
        (
            prop::bool::weighted(0.7),
            0u64..90_000,
            prop_oneof![6 => 0i64..5_000, 1 => -20_000i64..0],
            answer(),
        )
            .prop_map(|(to_wake_up, advance_ms, latency_ms, answer)| Step {
                to_wake_up,
                advance_ms,
                latency_ms,
                answer,
            })
    }

    fn body(answer: &Answer) -> Option<(u16, Vec<u8>)> {
        let json = |s: &str| Some((400, s.as_bytes().to_vec()));
        match answer {
            Answer::Pending => json(r#"{"error":"authorization_pending"}"#),
            Answer::SlowDown => json(r#"{"error":"slow_down"}"#),
            Answer::OtherDc(l) | Answer::Foreign(l) => Some((
                200,
                format!(r#"{{"error":"other_dc","user_location":"{l}"}}"#).into_bytes(),
            )),
            Answer::Granted => Some((200, fixture!("device_poll_success.json").to_vec())),
            Answer::Denied => json(r#"{"error":"access_denied"}"#),
            Answer::Expired => json(r#"{"error":"expired"}"#),
            Answer::Throttle => Some((200, fixture!("throttle_en.json").to_vec())),
            Answer::Html => Some((502, fixture!("html_502.html").to_vec())),
            Answer::Cut(n) => {
                let full = fixture!("device_poll_success.json");
                Some((200, full[..(*n).min(full.len() - 1)].to_vec()))
            }
            Answer::Transport => None,
            Answer::BadClient => Some((200, fixture!("error_invalid_client.json").to_vec())),
        }
    }

    /// What one run of the driver saw.
    #[derive(Debug, Default)]
    struct Trace {
        floor: Duration,
        /// The interval the server asked for at the start, if any.
        initial_server_interval: Option<Duration>,
        /// The interval the flow started with.
        initial_interval: Duration,
        expires_at: Option<Instant>,
        /// Each poll sent: when, and the interval the flow set after its answer.
        sends: Vec<(Instant, Duration)>,
        /// Each wake-up asked for: when it was asked, and until when.
        waits: Vec<(Instant, Instant)>,
        /// Each answer: the interval before and after it, and whether it was a slow-down.
        intervals: Vec<(Duration, Duration, bool)>,
        /// Each foreign `other_dc`: the outcome, the origin before and after, the flow's state after.
        foreign: Vec<(Result<PollAnswer, Verdict>, Origin, Origin, DevicePoll)>,
        /// Each known `other_dc`: the location sent and the answer.
        followed: Vec<(String, Result<PollAnswer, Verdict>)>,
    }

    /// Drive a flow through `steps` as a caller would, recording what it did.
    fn drive(
        config: DeviceConfig,
        server_interval: Option<Duration>,
        expires_in: Duration,
        steps: &[Step],
    ) -> Trace {
        let mut flow = flow_with(server_interval, expires_in, config);
        let mut trace = Trace {
            floor: config.poll_floor,
            initial_server_interval: server_interval,
            initial_interval: flow.interval(),
            expires_at: Some(flow.expires_at()),
            ..Trace::default()
        };
        let mut now = T0;
        let mut wake = None;
        let mut buf = [0u8; 512];
        for step in steps {
            now = match (step.to_wake_up, wake) {
                (true, Some(until)) => until,
                _ => now.saturating_add(Duration::from_millis(step.advance_ms)),
            };
            match flow.poll(now) {
                DevicePoll::Done(_) => break,
                DevicePoll::Wait { until } => {
                    let until = until.expect("nothing is in flight between steps");
                    trace.waits.push((now, until));
                    wake = Some(until);
                }
                DevicePoll::Send => {
                    let request = flow.write_request(&mut buf, CLIENT_ID, SECRET).unwrap();
                    assert_eq!(
                        request.url,
                        format!("{}/oauth/v3/device/token", flow.accounts())
                    );
                    let before = flow.interval();
                    let accounts_before = flow.accounts().clone();
                    let answered_at = if step.latency_ms >= 0 {
                        now.saturating_add(Duration::from_millis(step.latency_ms as u64))
                    } else {
                        now.saturating_sub(Duration::from_millis(step.latency_ms.unsigned_abs()))
                    };
                    let outcome = match body(&step.answer) {
                        Some((status, body)) => flow.handle_response(answered_at, status, &body),
                        None => Err(flow.handle_transport_error(answered_at)),
                    };
                    let slowed = matches!(step.answer, Answer::SlowDown | Answer::Throttle);
                    trace.intervals.push((before, flow.interval(), slowed));
                    trace.sends.push((now, flow.interval()));
                    match &step.answer {
                        Answer::Foreign(_) => {
                            let state = flow.poll(answered_at.max(now));
                            trace.foreign.push((
                                outcome,
                                accounts_before,
                                flow.accounts().clone(),
                                state,
                            ));
                        }
                        Answer::OtherDc(code) => {
                            if let Ok(PollAnswer::OtherDataCenter(dc)) = &outcome {
                                flow.set_accounts(Origin::Zoho(*dc));
                            }
                            trace.followed.push((code.clone(), outcome));
                        }
                        _ => {}
                    }
                    // The clock is the driver's: it may have gone back with the answer.
                    now = answered_at.max(now);
                    wake = None;
                }
            }
        }
        trace
    }

    fn config() -> impl Strategy<Value = DeviceConfig> {
        (1u64..60, 1u64..20).prop_map(|(floor, step)| DeviceConfig {
            poll_floor: Duration::from_secs(floor),
            slow_down_step: Duration::from_secs(step),
        })
    }

    fn server_interval() -> impl Strategy<Value = Option<Duration>> {
        prop_oneof![
            Just(None),
            (0u64..120).prop_map(|s| Some(Duration::from_secs(s))),
            (1_001u64..200_000).prop_map(|ms| Some(Duration::from_millis(ms))),
        ]
    }

    fn run() -> impl Strategy<Value = Trace> {
        (
            config(),
            server_interval(),
            (1u64..900).prop_map(Duration::from_secs),
            prop::collection::vec(step(), 1..60),
        )
            .prop_map(|(config, interval, expires_in, steps)| {
                drive(config, interval, expires_in, &steps)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn never_two_polls_within_the_floor_nor_within_the_interval_set_before(trace in run()) {
            for pair in trace.sends.windows(2) {
                let ((previous, interval), (next, _)) = (pair[0], pair[1]);
                let gap = next.saturating_duration_since(previous);
                prop_assert!(next > previous);
                prop_assert!(gap >= trace.floor, "polls {gap:?} apart, floor {:?}", trace.floor);
                prop_assert!(gap >= interval, "polls {gap:?} apart, interval {interval:?}");
            }
        }

        #[test]
        fn never_a_poll_nor_a_wake_up_past_expiry(trace in run()) {
            let expires_at = trace.expires_at.unwrap();
            for (at, _) in &trace.sends {
                prop_assert!(*at < expires_at, "a poll at or past expiry");
            }
            for (asked, until) in &trace.waits {
                prop_assert!(until > asked && *until <= expires_at);
            }
        }

        #[test]
        fn the_server_never_shortens_the_interval(trace in run()) {
            prop_assert!(trace.initial_interval >= trace.floor);
            prop_assert!(trace.initial_interval >= trace.initial_server_interval.unwrap_or_default());
            for (before, after, slowed) in &trace.intervals {
                prop_assert!(after >= before, "{before:?} became {after:?}");
                prop_assert!(after >= &trace.floor);
                // Only a slow-down (or the throttle) lengthens it.
                prop_assert_eq!(after > before, *slowed);
            }
        }

        #[test]
        fn a_foreign_user_location_is_refused_and_never_followed(trace in run()) {
            for (outcome, before, after, state) in &trace.foreign {
                prop_assert!(matches!(outcome, Err(Verdict::UnknownDataCenter { .. })), "{outcome:?}");
                prop_assert_eq!(before, after);
                prop_assert_eq!(*state, DevicePoll::Done(DeviceEnd::Refused));
            }
            for (code, outcome) in &trace.followed {
                let dc = DataCenter::from_location(code).unwrap();
                prop_assert_eq!(outcome, &Ok(PollAnswer::OtherDataCenter(dc)));
            }
        }
    }
}

/// The module's items stay reachable by their documented paths.
#[test]
fn the_documented_constants_are_zohos_figures() {
    assert_eq!(device::DEFAULT_POLL_FLOOR, secs(30));
    assert_eq!(device::DEFAULT_SLOW_DOWN_STEP, secs(5));
    assert_eq!(DEFAULT_CODE_LIFETIME, secs(300));
    assert_eq!(DeviceConfig::default().poll_floor, DEFAULT_POLL_FLOOR);
}

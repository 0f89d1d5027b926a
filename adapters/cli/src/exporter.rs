//! `watch --metrics-addr`: the library's metrics in Prometheus text format at `/metrics`.
//!
//! The library records through the `metrics` facade (see `zoho_oauth`'s telemetry: token
//! requests by kind and outcome, throttles, requests in flight, lock waits, store latency, and
//! per credential the seconds until its access token expires and the mints left). This module
//! installs the maintained Prometheus recorder (`metrics-exporter-prometheus`) and serves its
//! rendering with tiny_http, the small HTTP/1 server `login` already uses: the exporter's own
//! listener would bring hyper and a tokio runtime, and could not report the port it got for
//! `--metrics-addr 127.0.0.1:0`.
//!
//! The library sets a credential's gauges when it refreshes or serves it. A watcher sharing a
//! store with others sees credentials it never refreshes itself, and "seconds until expiry"
//! changes every second: so [`Exporter::update`] sets both gauges from the store's status on every
//! reload. Labels never carry a secret: `user` (an e-mail, which `--no-user-label` drops), `dc`,
//! `env`. Without the user label there is one series per data centre and environment, and it
//! shows the credential closest to trouble (the soonest expiry, the fewest mints left).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;
use tiny_http::{Header, Response, Server};
use zoho_oauth::CredentialStatus;

use crate::exit::CliError;

/// Seconds until an access token expires (also set by the library when it mints or serves one).
const EXPIRY: &str = zoho_oauth::metric_names::ACCESS_TOKEN_EXPIRY;
/// New access tokens the rolling mint budget still allows (also set by the library).
const BUDGET: &str = zoho_oauth::metric_names::MINT_BUDGET_LEFT;
/// Requests on the wire: kept alive by every tick so that the idle timeout never drops it.
const IN_FLIGHT: &str = zoho_oauth::metric_names::IN_FLIGHT;

/// A gauge nobody set for this long is dropped from the page: the gauges of a credential deleted
/// while `watch` runs disappear instead of showing a frozen value forever.
const GAUGE_IDLE: Duration = Duration::from_secs(300);

/// Histogram buckets for lock waits and store operations, in seconds: from a local SQLite write
/// (about a millisecond) to a lock held by another process for the length of a slow refresh.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

/// The installed recorder and the HTTP server that renders it.
pub struct Exporter {
    handle: PrometheusHandle,
    server: Arc<Server>,
    user_label: bool,
    /// `http://HOST:PORT/metrics`, with the port the server got.
    pub url: String,
}

impl Exporter {
    /// Install the Prometheus recorder for this process and serve it at `addr` (`HOST:PORT`;
    /// port 0 picks a free one). Call it before the client records anything.
    pub fn start(addr: &str, user_label: bool) -> Result<Self, CliError> {
        let server = Server::http(addr).map_err(|e| {
            CliError::usage(
                format!("cannot serve metrics on {addr}: {e}"),
                "pass --metrics-addr HOST:PORT with a free port on this machine, e.g. 127.0.0.1:9464",
            )
        })?;
        let bound = server
            .server_addr()
            .to_ip()
            .map_or_else(|| addr.to_owned(), |a| a.to_string());
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &BUCKETS)
            .and_then(|b| {
                b.idle_timeout(MetricKindMask::GAUGE, Some(GAUGE_IDLE))
                    .install_recorder()
            })
            .map_err(|e| {
                CliError::other(
                    format!("cannot set up the metrics recorder: {e}"),
                    "please report this bug, with the output of -vv",
                )
            })?;
        zoho_oauth::describe_metrics();
        let server = Arc::new(server);
        let serving = Arc::clone(&server);
        let rendering = handle.clone();
        std::thread::Builder::new()
            .name("zoho-oauth-metrics".into())
            .spawn(move || serve(&serving, &rendering))
            .map_err(|e| {
                CliError::other(
                    format!("cannot start the metrics server: {e}"),
                    "free some system resources and run it again",
                )
            })?;
        Ok(Self {
            handle,
            server,
            user_label,
            url: format!("http://{bound}/metrics"),
        })
    }

    /// Set every credential's gauges from `status` (read from the store at `now`).
    pub fn update(&self, status: &[CredentialStatus], now: SystemTime) {
        let rows = status.iter().filter(|s| s.damaged.is_none()).map(|s| Row {
            user: &s.user,
            dc: s.data_center.location_code(),
            env: s.environment.name(),
            expires_at: s.access_expires_at,
            mints_left: s.mints_left,
        });
        for (labels, (expiry, budget)) in gauges(rows, now, self.user_label) {
            if let Some(seconds) = expiry {
                metrics::gauge!(EXPIRY, &labels).set(seconds);
            }
            metrics::gauge!(BUDGET, &labels).set(budget as f64);
        }
    }

    /// Once a tick: keep the process-wide gauges alive and let the recorder drop idle series.
    pub fn tick(&self) {
        metrics::gauge!(IN_FLIGHT).increment(0.0);
        self.handle.run_upkeep();
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// What the gauges show of one credential.
struct Row<'a> {
    user: &'a str,
    dc: &'static str,
    env: &'static str,
    expires_at: Option<SystemTime>,
    mints_left: usize,
}

/// One series' labels (`user`, `dc`, `env`) and its values: seconds until expiry (none without an
/// access token), mints left.
type Series = BTreeMap<[(&'static str, String); 3], (Option<f64>, usize)>;

/// The gauge values of `rows` at `now`: one series per credential, or without the user label
/// one per data centre and environment holding the soonest expiry and the fewest mints left.
fn gauges<'a>(rows: impl Iterator<Item = Row<'a>>, now: SystemTime, user_label: bool) -> Series {
    let mut series = Series::new();
    for r in rows {
        let user = if user_label {
            r.user.to_owned()
        } else {
            String::new()
        };
        let labels = [
            ("user", user),
            ("dc", r.dc.to_owned()),
            ("env", r.env.to_owned()),
        ];
        let expiry = r.expires_at.map(|at| {
            at.duration_since(now)
                .unwrap_or(Duration::ZERO)
                .as_secs_f64()
        });
        series
            .entry(labels)
            .and_modify(|(e, b)| {
                *e = match (*e, expiry) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                *b = (*b).min(r.mints_left);
            })
            .or_insert((expiry, r.mints_left));
    }
    series
}

/// Answer scrapes until the server is unblocked: `/metrics` renders, anything else is a 404.
fn serve(server: &Server, handle: &PrometheusHandle) {
    for request in server.incoming_requests() {
        let path = request.url().split('?').next().unwrap_or_default();
        let (status, body, kind) = if path == "/metrics" {
            (
                200,
                handle.render(),
                "text/plain; version=0.0.4; charset=utf-8",
            )
        } else {
            (
                404,
                "zoho-oauth watch serves its metrics at /metrics\n".to_owned(),
                "text/plain; charset=utf-8",
            )
        };
        let mut response = Response::from_string(body).with_status_code(status);
        if let Ok(h) = Header::from_bytes("Content-Type", kind) {
            response = response.with_header(h);
        }
        if let Err(e) = request.respond(response) {
            tracing::debug!(error = %e, "could not answer a metrics scrape");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(1_700_000_000);

    fn row(
        user: &'static str,
        dc: &'static str,
        expires_in: Option<u64>,
        mints_left: usize,
    ) -> Row<'static> {
        Row {
            user,
            dc,
            env: "production",
            expires_at: expires_in.map(|s| SystemTime::UNIX_EPOCH + NOW + Duration::from_secs(s)),
            mints_left,
        }
    }

    fn labels(user: &str, dc: &str) -> [(&'static str, String); 3] {
        [
            ("user", user.to_owned()),
            ("dc", dc.to_owned()),
            ("env", "production".to_owned()),
        ]
    }

    fn rows() -> Vec<Row<'static>> {
        vec![
            row("a@example.com", "us", Some(3000), 9),
            row("b@example.com", "us", Some(40), 10),
            row("c@example.com", "us", None, 3),
            row("d@example.com", "eu", Some(600), 10),
        ]
    }

    #[test]
    fn with_the_user_label_every_credential_has_its_own_series() {
        let now = SystemTime::UNIX_EPOCH + NOW;
        let g = gauges(rows().into_iter(), now, true);
        assert_eq!(g.len(), 4);
        assert_eq!(g[&labels("a@example.com", "us")], (Some(3000.0), 9));
        assert_eq!(g[&labels("c@example.com", "us")], (None, 3));
    }

    #[test]
    fn without_the_user_label_a_series_shows_the_credential_closest_to_trouble() {
        let now = SystemTime::UNIX_EPOCH + NOW;
        let g = gauges(rows().into_iter(), now, false);
        assert_eq!(g.len(), 2, "{g:?}");
        assert_eq!(g[&labels("", "us")], (Some(40.0), 3));
        assert_eq!(g[&labels("", "eu")], (Some(600.0), 10));
    }

    #[test]
    fn an_expired_access_token_shows_zero_seconds_left() {
        let later = SystemTime::UNIX_EPOCH + NOW + Duration::from_secs(5000);
        let g = gauges(rows().into_iter(), later, true);
        assert_eq!(g[&labels("a@example.com", "us")].0, Some(0.0));
    }
}

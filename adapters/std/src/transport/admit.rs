//! `Admitted`: the per-request rules every HTTP transport applies around its client's call —
//! the URL policy before anything touches the network, the request's budget, which budget a
//! timeout names, the body limit, and the one log line (never a path, header or body).

use std::time::{Duration, Instant};

use zoho_oauth_core::url;

use super::{BoundedBody, HttpRequest, HttpResponse, Method, TransportError, TransportSettings};

/// A request the project's rules let through, made by [`TransportSettings::admit`]: where it
/// goes (for the log), how long it may take, how large its answer may be, when it started. Hand
/// the client's outcome to [`finish`](Self::finish).
#[derive(Debug)]
#[must_use = "pass the outcome of the request to `finish`"]
pub struct Admitted {
    method: Method,
    /// The host only: paths and queries may carry parameters.
    host: String,
    budget: Duration,
    connect_timeout: Duration,
    read_timeout: Duration,
    max_body: usize,
    started: Instant,
}

/// Which of a transport's budgets ran out, for [`Admitted::timed_out`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Budget {
    /// Setting up the connection (DNS, TCP, proxy, TLS).
    Connect,
    /// Waiting for the response headers or body.
    Read,
    /// The whole request ([`Admitted::budget`]).
    Whole,
}

impl TransportSettings {
    /// Applies the rules that come before sending `request`: the project's one URL policy
    /// ([`TransportError::check_url`]) and the request's budget
    /// ([`budget_for`](Self::budget_for)), and starts the request's clock.
    ///
    /// # Errors
    ///
    /// [`TransportError::Refused`] for a URL the policy refuses (never retried);
    /// [`TransportError::Timeout`] when the caller's deadline has already passed. Either way
    /// nothing was sent.
    pub fn admit(&self, request: &HttpRequest<'_>) -> Result<Admitted, TransportError> {
        let host = url::transport_policy(request.url)
            .map_err(super::refused)?
            .host
            .to_string();
        let budget = self.budget_for(request.timeout);
        if budget.is_zero() {
            // The caller's deadline has passed: nothing would come back in time.
            return Err(TransportError::Timeout(budget));
        }
        Ok(Admitted {
            method: request.method,
            host,
            budget,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            max_body: self.max_body(),
            started: Instant::now(),
        })
    }
}

impl Admitted {
    /// The whole-request budget of this request: the transport's timeout, or the caller's
    /// remaining deadline when shorter. Give it to the HTTP client.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// How long the request has run.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The timeout error naming the configured budget that ran out (never more than the
    /// request's [`budget`](Self::budget)).
    pub fn timed_out(&self, which: Budget) -> TransportError {
        TransportError::Timeout(match which {
            Budget::Connect => self.connect_timeout.min(self.budget),
            Budget::Read => self.read_timeout.min(self.budget),
            Budget::Whole => self.budget,
        })
    }

    /// The response body to fill, within the transport's limit; `declared` is the
    /// `Content-Length`, if any.
    ///
    /// # Errors
    ///
    /// [`TransportError::TooLarge`] when the declared length is over the limit.
    pub fn body(&self, declared: Option<u64>) -> Result<BoundedBody, TransportError> {
        BoundedBody::new(declared, self.max_body)
    }

    /// The error for an answer larger than the transport's limit, for a client that found so
    /// itself.
    pub fn too_large(&self) -> TransportError {
        TransportError::TooLarge {
            limit: self.max_body,
        }
    }

    /// Logs the outcome at `debug` (method, host, status or error, body length, time taken:
    /// never the path, headers or body) and returns it.
    pub fn finish(
        self,
        outcome: Result<HttpResponse, TransportError>,
    ) -> Result<HttpResponse, TransportError> {
        let elapsed_ms = self.elapsed().as_millis() as u64;
        let (method, host) = (self.method.as_str(), self.host.as_str());
        match &outcome {
            Ok(r) => tracing::debug!(
                method,
                host,
                status = r.status,
                body_len = r.body.len(),
                elapsed_ms,
                "http response"
            ),
            Err(e) => tracing::debug!(method, host, error = %e, elapsed_ms, "http request failed"),
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str, timeout: Option<Duration>) -> HttpRequest<'_> {
        HttpRequest {
            method: Method::Get,
            url,
            headers: &[],
            body: &[],
            timeout,
        }
    }

    #[test]
    fn urls_the_policy_refuses_are_refused_before_sending() {
        let settings = TransportSettings::default();
        for url in [
            "http://accounts.zoho.com/oauth/v2/token",
            "http://127.0.0.1@evil.example/",
            "ftp://accounts.zoho.com/",
        ] {
            let err = settings.admit(&get(url, None)).unwrap_err();
            assert!(matches!(err, TransportError::Refused(_)), "{url}: {err:?}");
        }
        assert!(settings
            .admit(&get("http://127.0.0.1:9/oauth/v2/token", None))
            .is_ok());
    }

    #[test]
    fn a_deadline_already_passed_is_a_timeout_before_sending() {
        let settings = TransportSettings::default();
        let err = settings
            .admit(&get("https://accounts.zoho.com/", Some(Duration::ZERO)))
            .unwrap_err();
        assert_eq!(err, TransportError::Timeout(Duration::ZERO));
    }

    #[test]
    fn a_timeout_names_the_budget_that_ran_out_within_the_requests_budget() {
        let settings = TransportSettings::default(); // 10 s connect, 30 s read, 60 s whole
        let at_ease = settings
            .admit(&get("https://accounts.zoho.com/", None))
            .unwrap();
        assert_eq!(
            [Budget::Connect, Budget::Read, Budget::Whole].map(|b| at_ease.timed_out(b)),
            [10, 30, 60].map(|s| TransportError::Timeout(Duration::from_secs(s)))
        );
        let hurried = settings
            .admit(&get(
                "https://accounts.zoho.com/",
                Some(Duration::from_secs(20)),
            ))
            .unwrap();
        assert_eq!(hurried.budget(), Duration::from_secs(20));
        assert_eq!(
            [Budget::Connect, Budget::Read, Budget::Whole].map(|b| hurried.timed_out(b)),
            [10, 20, 20].map(|s| TransportError::Timeout(Duration::from_secs(s)))
        );
    }
}

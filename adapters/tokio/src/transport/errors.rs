//! Translating reqwest's errors into the `TransportError` the engine understands.

use std::error::Error as _;

use zoho_oauth::transport::{Admitted, Budget};
use zoho_oauth::TransportError;

/// Map a reqwest error to a [`TransportError`], naming the budget of `admitted` that ran out
/// (reqwest tells a connect timeout from the others, not a read timeout from the whole
/// request's). The text never holds a URL, header or body.
pub(crate) fn map_error(err: reqwest::Error, admitted: &Admitted) -> TransportError {
    let err = err.without_url();
    if err.is_timeout() {
        return admitted.timed_out(if err.is_connect() {
            Budget::Connect
        } else {
            Budget::Whole
        });
    }
    if err.is_connect() {
        return TransportError::Connect(causes(&err));
    }
    if err.is_builder() {
        return TransportError::Refused("the request cannot be built".to_owned());
    }
    if err.is_body() || err.is_decode() {
        return TransportError::Io(format!(
            "the connection broke while the body was read ({})",
            causes(&err)
        ));
    }
    TransportError::Io(causes(&err))
}

/// The error and its causes, innermost last (`error sending request: client error (Connect):
/// tcp connect error: Connection refused`): reqwest's own text alone rarely says what broke.
fn causes(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

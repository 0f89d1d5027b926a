//! Hostile response bodies, generated frame by frame: 50 MB, endless, or one byte per second.
//!
//! None is ever held in memory whole: a frame is produced only when hyper is ready to send it,
//! so a client that stops reading stops the generator (TCP back-pressure), and dropping the
//! runtime at shutdown drops them mid-stream.

use std::convert::Infallible;
use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The largest frame a generated body sends at once.
const CHUNK: usize = 64 * 1024;
static FILLER: [u8; CHUNK] = [b'A'; CHUNK];

/// A JSON-looking body: `head`, then filler bytes (a fixed number, or forever), then `tail`.
#[derive(Debug)]
pub(crate) struct Generated {
    head: Option<&'static [u8]>,
    /// `None`: filler forever (the body is sent chunked, having no length).
    filler_left: Option<u64>,
    tail: Option<&'static [u8]>,
    exact_len: Option<u64>,
}

impl Generated {
    /// A body of exactly `total` bytes: `head`, filler, `tail`.
    pub(crate) fn sized(head: &'static [u8], total: u64, tail: &'static [u8]) -> Self {
        let fixed = (head.len() + tail.len()) as u64;
        Generated {
            head: Some(head),
            filler_left: Some(total.saturating_sub(fixed)),
            tail: Some(tail),
            exact_len: Some(total.max(fixed)),
        }
    }

    /// A body that starts with `head` and never ends.
    pub(crate) fn endless(head: &'static [u8]) -> Self {
        Generated {
            head: Some(head),
            filler_left: None,
            tail: None,
            exact_len: None,
        }
    }
}

impl Body for Generated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(head) = this.head.take() {
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(head)))));
        }
        let take = match this.filler_left {
            None => CHUNK,
            Some(0) => 0,
            Some(left) => usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK)),
        };
        if take > 0 {
            if let Some(left) = &mut this.filler_left {
                *left -= take as u64;
            }
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&FILLER[..take])))));
        }
        Poll::Ready(
            this.tail
                .take()
                .map(|tail| Ok(Frame::data(Bytes::from_static(tail)))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.head.is_none() && self.filler_left == Some(0) && self.tail.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        self.exact_len
            .map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}

/// A body of known length sent one byte per `interval` (real time, on purpose: it is the
/// client's wall-clock timeouts that it tests).
#[derive(Debug)]
pub(crate) struct Drip {
    bytes: Bytes,
    next: usize,
    interval: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl Drip {
    /// `bytes`, the first at once, each next one `interval` later.
    pub(crate) fn new(bytes: Bytes, interval: Duration) -> Self {
        Drip {
            bytes,
            next: 0,
            interval,
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }
    }
}

impl Body for Drip {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.next >= this.bytes.len() {
            return Poll::Ready(None);
        }
        if this.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let byte = this.bytes.slice(this.next..=this.next);
        this.next += 1;
        let at = Instant::now() + this.interval;
        this.sleep.as_mut().reset(at);
        Poll::Ready(Some(Ok(Frame::data(byte))))
    }

    fn is_end_stream(&self) -> bool {
        self.next >= self.bytes.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.bytes.len() - self.next) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut body: Generated, limit: u64) -> (u64, Vec<u8>) {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut total = 0u64;
        let mut last = Vec::new();
        while total < limit {
            match Pin::new(&mut body).poll_frame(&mut cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let data = frame.into_data().unwrap_or_default();
                    total += data.len() as u64;
                    last = data.to_vec();
                }
                _ => break,
            }
        }
        (total, last)
    }

    #[test]
    fn a_sized_body_sends_exactly_its_length_and_ends_with_its_tail() {
        let body = Generated::sized(b"{\"a\":\"", 200_000, b"\"}");
        assert_eq!(body.size_hint().exact(), Some(200_000));
        let (total, last) = drain(body, u64::MAX);
        assert_eq!(total, 200_000);
        assert_eq!(last, b"\"}");
    }

    #[test]
    fn an_endless_body_has_no_length_and_keeps_going() {
        let body = Generated::endless(b"{");
        assert_eq!(body.size_hint().exact(), None);
        let (total, _) = drain(body, 10_000_000);
        assert!(total >= 10_000_000);
    }
}

//! The transport under axum: a loopback listener whose connections a handler can cut, reset or truncate.
//!
//! HTTP stays axum's and hyper's job; this layer only decides what reaches the socket, so that the
//! emulator can misbehave below HTTP the way a proxy or an outage does.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

// Action 0 (the default) leaves the connection alone.
const CLOSE: u8 = 1;
const RESET: u8 = 2;
const TRUNCATE: u8 = 3;
const ENDLESS_HEADERS: u8 = 4;

/// What [`ConnControl::endless_headers`] sends: a status line, then this block of header lines
/// over and over.
const FLOOD_STATUS: &[u8] = b"HTTP/1.1 200 OK\r\n";
const FLOOD_LINE: &[u8] =
    b"X-Emulator-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

/// The handle a request handler gets (as `ConnectInfo`) on the connection it is answering.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnControl(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    action: AtomicU8,
    keep_body_bytes: AtomicUsize,
}

impl ConnControl {
    /// The connection will be closed (FIN) before any byte of the response is written.
    pub(crate) fn close_without_response(&self) {
        self.0.action.store(CLOSE, Ordering::SeqCst);
    }

    /// The connection will be reset (RST) before any byte of the response is written.
    pub(crate) fn reset(&self) {
        self.0.action.store(RESET, Ordering::SeqCst);
    }

    /// Instead of the response, a status line and then header lines forever: the head never ends.
    pub(crate) fn endless_headers(&self) {
        self.0.action.store(ENDLESS_HEADERS, Ordering::SeqCst);
    }

    /// The response's head and only `keep` bytes of its body will be written, then the connection closes.
    pub(crate) fn truncate_body_after(&self, keep: usize) {
        self.0.keep_body_bytes.store(keep, Ordering::SeqCst);
        self.0.action.store(TRUNCATE, Ordering::SeqCst);
    }
}

/// A `TcpListener` whose connections obey their [`ConnControl`].
pub(crate) struct FaultListener(pub(crate) TcpListener);

impl Listener for FaultListener {
    type Io = FaultIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    // Token responses are small; send them at once.
                    let _ = stream.set_nodelay(true);
                    let io = FaultIo {
                        inner: stream,
                        control: ConnControl::default(),
                        boundary: Boundary::default(),
                        flood_sent: 0,
                    };
                    return (io, addr);
                }
                Err(e) if is_connection_error(&e) => {}
                // Out of file descriptors and the like: wait for some to be released.
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

impl Connected<IncomingStream<'_, FaultListener>> for ConnControl {
    fn connect_info(stream: IncomingStream<'_, FaultListener>) -> Self {
        stream.io().control.clone()
    }
}

/// One accepted connection.
pub(crate) struct FaultIo {
    inner: TcpStream,
    control: ConnControl,
    /// Where the response stands relative to its head, while truncating.
    boundary: Boundary,
    /// Bytes of the endless head written so far.
    flood_sent: u64,
}

impl FaultIo {
    /// The next bytes of the endless head: the rest of the status line, or of the current header line.
    fn flood_chunk(&self) -> &'static [u8] {
        let status = FLOOD_STATUS.len() as u64;
        if self.flood_sent < status {
            return &FLOOD_STATUS[usize::try_from(self.flood_sent).unwrap_or(0)..];
        }
        let offset = (self.flood_sent - status) % FLOOD_LINE.len() as u64;
        &FLOOD_LINE[usize::try_from(offset).unwrap_or(0)..]
    }
}

const HEAD_END: &[u8; 4] = b"\r\n\r\n";

/// Tracks the end of an HTTP response head (`\r\n\r\n`) and the body bytes written after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Boundary {
    head_match: u8,
    body_written: usize,
}

impl Boundary {
    /// Walks over `buf`, stopping before the first body byte beyond `keep`; returns the bytes walked.
    fn advance(&mut self, buf: &[u8], keep: usize) -> usize {
        for (i, &byte) in buf.iter().enumerate() {
            if usize::from(self.head_match) == HEAD_END.len() {
                if self.body_written >= keep {
                    return i;
                }
                self.body_written += 1;
                continue;
            }
            self.head_match = if byte == HEAD_END[usize::from(self.head_match)] {
                self.head_match + 1
            } else if byte == b'\r' {
                1
            } else {
                0
            };
        }
        buf.len()
    }
}

impl AsyncRead for FaultIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.control.0.action.load(Ordering::SeqCst) {
            CLOSE => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "emulated fault: connection closed without a response",
            ))),
            RESET => {
                // A zero linger turns the close that follows this error into a RST.
                let _ = self.inner.set_zero_linger();
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "emulated fault: connection reset",
                )))
            }
            TRUNCATE => {
                let keep = self.control.0.keep_body_bytes.load(Ordering::SeqCst);
                let mut probe = self.boundary;
                let allowed = probe.advance(buf, keep);
                if allowed == 0 {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "emulated fault: body truncated",
                    )));
                }
                let this = &mut *self;
                match Pin::new(&mut this.inner).poll_write(cx, &buf[..allowed]) {
                    Poll::Ready(Ok(n)) => {
                        this.boundary.advance(&buf[..n], keep);
                        Poll::Ready(Ok(n))
                    }
                    other => other,
                }
            }
            ENDLESS_HEADERS => {
                // hyper's response is swallowed; one piece of the endless head goes out per poll,
                // then the task yields, so that a fast reader cannot starve the other connections.
                let this = &mut *self;
                let chunk = this.flood_chunk();
                match Pin::new(&mut this.inner).poll_write(cx, chunk) {
                    Poll::Ready(Ok(n)) => {
                        this.flood_sent += n as u64;
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                    Poll::Pending => Poll::Pending,
                }
            }
            _ => Pin::new(&mut self.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_lets_the_head_and_the_kept_body_bytes_through() {
        let response = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789";
        let head = response.len() - 10;
        assert_eq!(Boundary::default().advance(response, 4), head + 4);
    }

    #[test]
    fn truncation_finds_the_head_end_across_writes() {
        let mut boundary = Boundary::default();
        assert_eq!(boundary.advance(b"HTTP/1.1 200 OK\r\nx: y\r\n\r", 2), 24);
        assert_eq!(boundary.advance(b"\nabcdef", 2), 3);
        assert_eq!(boundary.advance(b"cdef", 2), 0);
    }
}

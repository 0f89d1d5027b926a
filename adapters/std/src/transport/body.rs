//! `BoundedBody`: a response body collected within the transport's limit, never holding more.
//!
//! `read_to_end` (and `Vec::extend` in a loop) doubles its buffer: a body one byte over a 1 MiB
//! limit would leave a 2 MiB buffer (and 3 MiB live during the last copy). Here the buffer starts
//! at the declared length when there is one, grows by doubling but never past the limit, and a
//! body declared or found larger than the limit is refused as soon as that is known, before its
//! bytes are read. It is fed by a blocking reader ([`read_from`](BoundedBody::read_from)) or by
//! the chunks of an async client ([`push`](BoundedBody::push)).

use std::io::{self, Read};

use super::TransportError;

/// The first allocation when the length is not declared: a Zoho answer is a few hundred bytes.
const FIRST_CHUNK: usize = 1024;

/// A response body being received, refused with [`TransportError::TooLarge`] once it is known
/// to exceed its limit.
///
/// ```
/// use zoho_oauth::transport::BoundedBody;
/// use zoho_oauth::TransportError;
///
/// let mut body = BoundedBody::new(None, 8)?;
/// body.push(b"{\"a\":")?;
/// assert_eq!(body.push(b"1234}"), Err(TransportError::TooLarge { limit: 8 }));
/// assert!(BoundedBody::new(Some(9), 8).is_err(), "a declared length over the limit");
/// # Ok::<(), TransportError>(())
/// ```
#[derive(Debug)]
pub struct BoundedBody {
    bytes: Vec<u8>,
    limit: usize,
}

impl BoundedBody {
    /// Starts a body of at most `limit` bytes; `declared` is the `Content-Length`, if any.
    ///
    /// # Errors
    ///
    /// [`TransportError::TooLarge`] when the declared length is over the limit: nothing needs to
    /// be read to know the answer is refused.
    pub fn new(declared: Option<u64>, limit: usize) -> Result<Self, TransportError> {
        let declared = declared.map(|len| usize::try_from(len).unwrap_or(usize::MAX));
        if declared.is_some_and(|len| len > limit) {
            return Err(TransportError::TooLarge { limit });
        }
        Ok(Self {
            bytes: Vec::with_capacity(declared.unwrap_or(FIRST_CHUNK).min(limit)),
            limit,
        })
    }

    /// Appends the next part of the body.
    ///
    /// # Errors
    ///
    /// [`TransportError::TooLarge`] when the body would pass the limit; the part is not kept.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TransportError> {
        let len = self.bytes.len() + chunk.len();
        if len > self.limit {
            return Err(TransportError::TooLarge { limit: self.limit });
        }
        if len > self.bytes.capacity() {
            let grown = self
                .bytes
                .capacity()
                .saturating_mul(2)
                .clamp(len, self.limit);
            self.bytes.reserve_exact(grown - self.bytes.len());
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// Reads the rest of the body from `reader` to its end. `read_error` translates the reader's
    /// failure (a timeout, a broken connection) into the client's [`TransportError`].
    ///
    /// # Errors
    ///
    /// [`TransportError::TooLarge`] within one read of passing the limit, or `read_error`'s
    /// answer.
    pub fn read_from(
        mut self,
        reader: &mut impl Read,
        read_error: impl FnOnce(io::Error) -> TransportError,
    ) -> Result<Vec<u8>, TransportError> {
        let mut chunk = [0u8; 8 * 1024];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => return Ok(self.bytes),
                Ok(n) => self.push(&chunk[..n])?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(e)),
            }
        }
    }

    /// The body received so far (all of it, once the client has seen its end).
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader of `len` bytes of `x`, handed out `step` bytes at a time.
    struct Dribble {
        left: usize,
        step: usize,
        reads: usize,
    }

    impl Read for Dribble {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.left.min(self.step).min(buf.len());
            buf[..n].fill(b'x');
            self.left -= n;
            self.reads += 1;
            Ok(n)
        }
    }

    fn dribble(len: usize) -> Dribble {
        Dribble {
            left: len,
            step: 1000,
            reads: 0,
        }
    }

    fn read_within(
        reader: &mut impl Read,
        declared: Option<u64>,
        max: usize,
    ) -> Result<Vec<u8>, TransportError> {
        BoundedBody::new(declared, max)?.read_from(reader, |e| TransportError::Io(e.to_string()))
    }

    #[test]
    fn a_body_at_the_limit_is_kept_whole_in_a_buffer_no_larger_than_the_limit() {
        let max = 100_000;
        let body = read_within(&mut dribble(max), None, max).unwrap();
        assert_eq!(body.len(), max);
        assert!(body.capacity() <= max, "capacity {}", body.capacity());
    }

    #[test]
    fn pushed_chunks_grow_the_buffer_no_larger_than_the_limit() {
        let max = 100_000;
        let mut body = BoundedBody::new(None, max).unwrap();
        for _ in 0..max / 1000 {
            body.push(&[b'x'; 1000]).unwrap();
        }
        assert_eq!(
            body.push(b"x"),
            Err(TransportError::TooLarge { limit: max })
        );
        let bytes = body.into_bytes();
        assert_eq!(bytes.len(), max, "the refused chunk was not kept");
        assert!(bytes.capacity() <= max, "capacity {}", bytes.capacity());
    }

    #[test]
    fn a_body_over_the_limit_is_refused_once_the_limit_is_passed() {
        let max = 100_000;
        let mut endless = dribble(usize::MAX);
        assert_eq!(
            read_within(&mut endless, None, max),
            Err(TransportError::TooLarge { limit: max })
        );
        // It stopped reading within one read of the limit.
        assert_eq!(endless.reads, max / 1000 + 1);
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_without_reading() {
        let mut body = dribble(50 << 20);
        assert_eq!(
            read_within(&mut body, Some(50 << 20), 1 << 20),
            Err(TransportError::TooLarge { limit: 1 << 20 })
        );
        assert_eq!(body.reads, 0);
    }

    #[test]
    fn a_declared_length_sizes_the_buffer_once() {
        let body = read_within(&mut dribble(5_000), Some(5_000), 1 << 20).unwrap();
        assert_eq!((body.len(), body.capacity()), (5_000, 5_000));
    }

    #[test]
    fn a_body_shorter_than_declared_is_returned_for_the_client_to_judge() {
        // The HTTP layer reports a cut body as an error; this type only bounds memory.
        let body = read_within(&mut dribble(10), Some(5_000), 1 << 20).unwrap();
        assert_eq!(body.len(), 10);
    }

    #[test]
    fn reader_errors_are_translated_by_the_client() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::ErrorKind::ConnectionReset.into())
            }
        }
        let err = BoundedBody::new(None, 10)
            .unwrap()
            .read_from(&mut Broken, |e| {
                assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
                TransportError::Io("reset".to_owned())
            })
            .unwrap_err();
        assert_eq!(err, TransportError::Io("reset".to_owned()));
    }
}

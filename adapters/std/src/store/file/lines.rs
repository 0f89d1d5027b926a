//! Reading a store file one line at a time, in bounded memory that is wiped when dropped (the
//! lines hold tokens).

use std::fs::File;
use std::io::{self, Read};

use zeroize::Zeroizing;

/// What [`Lines::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// A whole line, now in [`Lines::line`] (without its `\n`).
    Line,
    /// The file ends inside a line (no `\n`): a cut-short copy.
    CutShort,
    /// A line longer than the limit: not a store of ours.
    TooLong,
    /// The end of the file, after a whole line.
    End,
}

/// The lines of a file (or, for the fuzz entry point, of any byte source), each at most `limit`
/// bytes (`\n` included).
pub(super) struct Lines<R = File> {
    file: R,
    limit: usize,
    chunk: Zeroizing<Vec<u8>>,
    start: usize,
    end: usize,
    line: Zeroizing<Vec<u8>>,
    /// The 1-based number of the line in [`Lines::line`].
    number: usize,
}

impl<R: Read> Lines<R> {
    /// Read `file` from where it is.
    pub(super) fn new(file: R, limit: usize) -> Self {
        Self {
            file,
            limit,
            chunk: Zeroizing::new(vec![0; 16 * 1024]),
            start: 0,
            end: 0,
            line: Zeroizing::new(Vec::new()),
            number: 0,
        }
    }

    /// The line found by the last [`Lines::next`] that returned [`Next::Line`].
    pub(super) fn line(&self) -> &[u8] {
        &self.line
    }

    /// The number of the line [`Lines::next`] last looked at (1-based).
    pub(super) fn number(&self) -> usize {
        self.number
    }

    /// Read the next line.
    pub(super) fn next(&mut self) -> io::Result<Next> {
        // Overwritten in place; the whole buffer is wiped on drop.
        self.line.clear();
        self.number += 1;
        loop {
            let pending = &self.chunk[self.start..self.end];
            let (part, found) = match pending.iter().position(|&b| b == b'\n') {
                Some(at) => (&pending[..at], true),
                None => (pending, false),
            };
            if self.line.len() + part.len() + usize::from(found) > self.limit {
                return Ok(Next::TooLong);
            }
            self.line.extend_from_slice(part);
            self.start += part.len() + usize::from(found);
            if found {
                return Ok(Next::Line);
            }
            let read = loop {
                match self.file.read(&mut self.chunk) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            (self.start, self.end) = (0, read);
            if read == 0 {
                return Ok(if self.line.is_empty() {
                    Next::End
                } else {
                    Next::CutShort
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, Write};

    use super::*;

    fn lines_of(bytes: &[u8], limit: usize) -> Vec<(Next, Vec<u8>)> {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        file.rewind().unwrap();
        let mut lines = Lines::new(file, limit);
        let mut out = Vec::new();
        loop {
            let next = lines.next().unwrap();
            let stop = next != Next::Line;
            out.push((next, lines.line().to_vec()));
            if stop {
                return out;
            }
        }
    }

    #[test]
    fn lines_are_split_at_newlines_across_chunk_boundaries() {
        let long = vec![b'x'; 40_000];
        let mut bytes = b"first\n\n".to_vec();
        bytes.extend_from_slice(&long);
        bytes.extend_from_slice(b"\nlast\n");
        let got = lines_of(&bytes, 64 * 1024);
        assert_eq!(
            got,
            vec![
                (Next::Line, b"first".to_vec()),
                (Next::Line, vec![]),
                (Next::Line, long),
                (Next::Line, b"last".to_vec()),
                (Next::End, vec![]),
            ]
        );
    }

    #[test]
    fn a_missing_final_newline_is_cut_short_and_a_long_line_too_long() {
        assert_eq!(lines_of(b"a\nbc", 10).last().unwrap().0, Next::CutShort);
        assert_eq!(
            lines_of(b"a\n0123456789\n", 10).last().unwrap().0,
            Next::TooLong
        );
        assert_eq!(lines_of(b"a\n012345678\n", 10).last().unwrap().0, Next::End);
        assert_eq!(lines_of(b"", 10), vec![(Next::End, vec![])]);
    }
}

//! A single-pass scanner of one JSON object: its entries in order, nested values skipped by the
//! full JSON grammar, strings borrowed from the body still escaped.
//!
//! The one JSON reader of the crate: every accounts answer (token, revoke, user info, API errors,
//! device flow) goes through it. Written for the token responses on the hot path of every refresh
//! (see [`parse_token`](crate::response::parse_token)): the body's UTF-8 is validated once,
//! strings are searched eight bytes at a time, and nothing is copied. What it accepts:
//!
//! - one object, surrounded by JSON whitespace only;
//! - keys and values by RFC 8259: strings with every escape checked (`\"` `\\` `\/` `\b` `\f`
//!   `\n` `\r` `\t`, `\u` with four hex digits), numbers by the number grammar, `true`, `false`,
//!   `null`, and objects and arrays nested up to [`MAX_DEPTH`] deep (no recursion, so no stack
//!   to exhaust);
//! - leniently, like the serde-json-core it replaced, raw control characters inside strings and lone
//!   UTF-16 surrogates in `\u` escapes: the caller refuses those where they matter (tokens,
//!   unescaping).
//!
//! Invalid UTF-8 in a string is a syntax error; input that ends too early is [`ScanError::Eof`],
//! so that a cut body is told apart from one that was never JSON.

/// How deep objects and arrays may nest inside the scanned object.
pub(crate) const MAX_DEPTH: u32 = 128;

/// `0x01` in every byte of a word, for the byte-parallel tests.
const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
/// `0x80` in every byte of a word: where those tests put their flags.
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Why the scan stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScanError {
    /// The input ended inside the object: it was cut short.
    Eof,
    /// Not JSON, or not one object (trailing data, nesting deeper than [`MAX_DEPTH`]).
    Syntax,
}

/// A JSON string's content as it is in the body: still escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Str<'a> {
    /// The bytes between the quotes.
    pub raw: &'a str,
    /// Whether `raw` holds a backslash escape (else it is the value itself).
    pub escaped: bool,
}

/// An entry's value, as far as the caller cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// A string.
    Str(Str<'a>),
    /// A number that is a non-negative integer and fits a `u64` (`0`, `3600`).
    Int(u64),
    /// A non-negative integer too large for a `u64`: callers that bound a value refuse it as
    /// out of range rather than as the wrong type.
    BigInt,
    /// `null`.
    Null,
    /// Any other number, a boolean, an object or an array (skipped).
    Other,
}

/// Walks the entries of one JSON object.
pub(crate) struct Scanner<'a> {
    bytes: &'a [u8],
    /// The longest valid UTF-8 prefix of `bytes`: strings are sliced from it, so that each is
    /// validated by one check of its end instead of a pass over its bytes.
    text: &'a str,
    pos: usize,
    /// Whether an entry was read (a `,` must come before the next one).
    after_entry: bool,
    /// Whether the closing `}` was read.
    done: bool,
}

impl<'a> Scanner<'a> {
    /// Start at the `{` that `body` begins with.
    pub(crate) fn new(body: &'a [u8]) -> Result<Self, ScanError> {
        let text = match core::str::from_utf8(body) {
            Ok(text) => text,
            // Only a prefix is text: a string reaching past it is refused when it ends.
            Err(e) => body
                .get(..e.valid_up_to())
                .and_then(|valid| core::str::from_utf8(valid).ok())
                .unwrap_or(""),
        };
        match body.first() {
            Some(b'{') => Ok(Self {
                bytes: body,
                text,
                pos: 1,
                after_entry: false,
                done: false,
            }),
            Some(_) => Err(ScanError::Syntax),
            None => Err(ScanError::Eof),
        }
    }

    /// The next entry: its key (raw, still escaped) and its value; `None` after the closing
    /// `}`, once only whitespace was found to follow it. Always inlined: each parser's loop
    /// then keeps the entry in registers (out of line it cost a tenth more per token answer).
    #[inline(always)]
    pub(crate) fn next_entry(&mut self) -> Result<Option<(&'a [u8], Value<'a>)>, ScanError> {
        if self.done {
            return Ok(None);
        }
        let mut c = self.peek_non_ws()?;
        if self.after_entry {
            match c {
                b',' => {
                    self.pos += 1;
                    c = self.peek_non_ws()?;
                }
                b'}' => return self.close(),
                _ => return Err(ScanError::Syntax),
            }
        } else if c == b'}' {
            return self.close();
        }
        if c != b'"' {
            return Err(ScanError::Syntax);
        }
        self.pos += 1;
        let key = self.string()?.raw.as_bytes();
        self.colon()?;
        let value = self.value()?;
        self.after_entry = true;
        Ok(Some((key, value)))
    }

    /// Read the closing `}`: only whitespace may follow.
    fn close(&mut self) -> Result<Option<(&'a [u8], Value<'a>)>, ScanError> {
        self.pos += 1;
        self.done = true;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return Err(ScanError::Syntax);
        }
        Ok(None)
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte that is not whitespace, left unread.
    #[inline]
    fn peek_non_ws(&mut self) -> Result<u8, ScanError> {
        self.skip_ws();
        self.bytes.get(self.pos).copied().ok_or(ScanError::Eof)
    }

    #[inline]
    fn colon(&mut self) -> Result<(), ScanError> {
        if self.peek_non_ws()? != b':' {
            return Err(ScanError::Syntax);
        }
        self.pos += 1;
        Ok(())
    }

    /// One value: a scalar, or a nested object or array skipped whole.
    #[inline]
    fn value(&mut self) -> Result<Value<'a>, ScanError> {
        let c = self.peek_non_ws()?;
        if let b'{' | b'[' = c {
            return self.skip_nested().map(|()| Value::Other);
        }
        self.pos += 1;
        self.scalar(c)
    }

    /// A scalar whose first byte `c` was read.
    #[inline]
    fn scalar(&mut self, c: u8) -> Result<Value<'a>, ScanError> {
        match c {
            b'"' => self.string().map(Value::Str),
            b'n' => self.literal(b"ull").map(|()| Value::Null),
            b't' => self.literal(b"rue").map(|()| Value::Other),
            b'f' => self.literal(b"alse").map(|()| Value::Other),
            b'-' | b'0'..=b'9' => self.number(c),
            _ => Err(ScanError::Syntax),
        }
    }

    fn literal(&mut self, rest: &[u8]) -> Result<(), ScanError> {
        for want in rest {
            match self.bytes.get(self.pos) {
                Some(b) if b == want => self.pos += 1,
                Some(_) => return Err(ScanError::Syntax),
                None => return Err(ScanError::Eof),
            }
        }
        Ok(())
    }

    /// A number by the JSON grammar, whose first byte `first` (`-` or a digit) was read; its
    /// value when it is a non-negative integer fitting `u64`, [`Value::BigInt`] when it is one
    /// that does not.
    fn number(&mut self, first: u8) -> Result<Value<'a>, ScanError> {
        let negative = first == b'-';
        let lead = if negative {
            match self.bytes.get(self.pos) {
                Some(&d @ b'0'..=b'9') => {
                    self.pos += 1;
                    d
                }
                Some(_) => return Err(ScanError::Syntax),
                None => return Err(ScanError::Eof),
            }
        } else {
            first
        };
        let mut value = Some(u64::from(lead - b'0'));
        // After a leading zero, another digit is left for the caller to refuse.
        if lead != b'0' {
            while let Some(&d @ b'0'..=b'9') = self.bytes.get(self.pos) {
                value = value
                    .and_then(|v| v.checked_mul(10))
                    .and_then(|v| v.checked_add(u64::from(d - b'0')));
                self.pos += 1;
            }
        }
        let mut integer = !negative;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            self.digits()?;
            integer = false;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            self.digits()?;
            integer = false;
        }
        Ok(match value {
            Some(v) if integer => Value::Int(v),
            None if integer => Value::BigInt,
            _ => Value::Other,
        })
    }

    /// One or more digits.
    fn digits(&mut self) -> Result<(), ScanError> {
        match self.bytes.get(self.pos) {
            Some(b'0'..=b'9') => {}
            Some(_) => return Err(ScanError::Syntax),
            None => return Err(ScanError::Eof),
        }
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        Ok(())
    }

    /// The rest of a string whose opening quote was read.
    #[inline(always)]
    fn string(&mut self) -> Result<Str<'a>, ScanError> {
        let start = self.pos;
        let mut escaped = false;
        loop {
            self.pos = find_quote_or_backslash(self.bytes, self.pos);
            match self.bytes.get(self.pos) {
                Some(b'"') => break,
                Some(_) => {
                    self.escape()?;
                    escaped = true;
                }
                None => return Err(ScanError::Eof),
            }
        }
        let end = self.pos;
        self.pos += 1;
        // `None` when the string reaches past the valid UTF-8 prefix.
        let raw = self.text.get(start..end).ok_or(ScanError::Syntax)?;
        Ok(Str { raw, escaped })
    }

    /// One escape, at its backslash.
    fn escape(&mut self) -> Result<(), ScanError> {
        match self.bytes.get(self.pos + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 2,
            Some(b'u') => {
                for i in 2..6 {
                    match self.bytes.get(self.pos + i) {
                        Some(h) if h.is_ascii_hexdigit() => {}
                        Some(_) => return Err(ScanError::Syntax),
                        None => return Err(ScanError::Eof),
                    }
                }
                self.pos += 6;
            }
            Some(_) => return Err(ScanError::Syntax),
            None => return Err(ScanError::Eof),
        }
        Ok(())
    }

    /// Skip the object or array at `pos`, nested ones included, without recursion: one bit per
    /// level says whether it is an object.
    fn skip_nested(&mut self) -> Result<(), ScanError> {
        let mut objects: u128 = 0;
        let mut depth = 0u32;
        // Whether the next thing is an element (else a `,` or the closing bracket).
        let mut want_element = true;
        // Whether that element may instead be the closing bracket (right after the opening one).
        let mut may_close = false;
        loop {
            let c = self.peek_non_ws()?;
            let in_object = objects & 1 == 1;
            let closer = if in_object { b'}' } else { b']' };
            if depth > 0 && c == closer && (may_close || !want_element) {
                self.pos += 1;
                objects >>= 1;
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
                want_element = false;
                may_close = false;
                continue;
            }
            if !want_element {
                if c != b',' {
                    return Err(ScanError::Syntax);
                }
                self.pos += 1;
                want_element = true;
                continue;
            }
            may_close = false;
            if depth > 0 && in_object {
                if c != b'"' {
                    return Err(ScanError::Syntax);
                }
                self.pos += 1;
                self.string()?;
                self.colon()?;
            }
            match self.peek_non_ws()? {
                open @ (b'{' | b'[') => {
                    if depth == MAX_DEPTH {
                        return Err(ScanError::Syntax);
                    }
                    self.pos += 1;
                    objects = objects << 1 | u128::from(open == b'{');
                    depth += 1;
                    may_close = true;
                }
                c => {
                    self.pos += 1;
                    self.scalar(c)?;
                    want_element = false;
                }
            }
        }
    }
}

/// The high bit of each byte of `word` that is not visible ASCII (below `!` 0x21 or above `~`
/// 0x7E); `0` when all eight are. A carry or borrow starts only at a flagged byte and can only
/// add flags above it, so the result is zero exactly when every byte is visible.
pub(crate) fn invisible_bytes(word: u64) -> u64 {
    // Below 0x21: subtracting 0x21 borrows into the high bit of a byte that had it clear.
    let below = word.wrapping_sub(ONES * 0x21) & !word;
    // Above 0x7E: the high bit is set already, or adding 1 sets it (0x7F).
    let above = word | word.wrapping_add(ONES);
    (below | above) & HIGHS
}

/// The index of the first `"` or `\` in `bytes` from `from`, or `bytes.len()`. Eight bytes at a
/// time: a byte equal to the sought one becomes zero after the XOR, and the classic zero-byte
/// test flags it; its lowest flag is always a true one, and that is the one taken.
#[inline(always)]
fn find_quote_or_backslash(bytes: &[u8], from: usize) -> usize {
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    if from >= bytes.len() {
        return bytes.len();
    }
    let mut at = from;
    // `at <= bytes.len()` throughout, so the subtraction cannot wrap.
    while bytes.len() - at >= 8 {
        let Some(chunk) = bytes
            .get(at..at + 8)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
        else {
            break;
        };
        let word = u64::from_le_bytes(chunk);
        let (q, b) = (word ^ QUOTES, word ^ BACKSLASHES);
        let found = (q.wrapping_sub(ONES) & !q | b.wrapping_sub(ONES) & !b) & HIGHS;
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&b) = bytes.get(at) {
        if b == b'"' || b == b'\\' {
            return at;
        }
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn entries(body: &[u8]) -> Result<usize, ScanError> {
        let mut scanner = Scanner::new(body)?;
        let mut n = 0;
        while scanner.next_entry()?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    #[test]
    fn the_search_finds_the_first_quote_or_backslash_at_every_offset() {
        for len in 0..40 {
            for at in 0..=len {
                for (sought, other) in [(b'"', b'\\'), (b'\\', b'"')] {
                    let mut bytes = [b'a'; 40];
                    // A 0x80 byte and the other sought byte after the first match may not mislead.
                    bytes[..len]
                        .iter_mut()
                        .for_each(|b| *b = 0x80 | (*b & 0x7f));
                    if at < len {
                        bytes[at] = sought;
                        if at + 1 < len {
                            bytes[at + 1] = other;
                        }
                    }
                    for from in 0..=at {
                        assert_eq!(find_quote_or_backslash(&bytes[..len], from), at);
                    }
                }
            }
        }
    }

    #[test]
    fn invisible_bytes_is_zero_exactly_when_every_byte_is_visible() {
        let visible = |b: u8| (0x21..=0x7e).contains(&b);
        for b in 0..=255u8 {
            for at in 0..8 {
                for fill in [b'!', b'~', b'a'] {
                    let mut bytes = [fill; 8];
                    bytes[at] = b;
                    let word = u64::from_le_bytes(bytes);
                    assert_eq!(invisible_bytes(word) == 0, visible(b), "{b:#x} at {at}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn invisible_bytes_agrees_with_a_byte_loop(
            // Mostly visible bytes, so that both answers come up.
            bytes in proptest::array::uniform8(proptest::prop_oneof![
                8 => 0x21u8..=0x7e,
                1 => proptest::num::u8::ANY,
            ]),
        ) {
            let all_visible = bytes.iter().all(|b| (0x21..=0x7e).contains(b));
            let word = u64::from_le_bytes(bytes);
            proptest::prop_assert_eq!(invisible_bytes(word) == 0, all_visible);
        }

        #[test]
        fn the_search_agrees_with_a_byte_loop(
            bytes in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(b'"'),
                proptest::strategy::Just(b'\\'),
                proptest::num::u8::ANY,
            ], 0..40),
            from in 0usize..48,
        ) {
            let expected = bytes
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, b)| **b == b'"' || **b == b'\\')
                .map_or(bytes.len(), |(i, _)| i);
            proptest::prop_assert_eq!(find_quote_or_backslash(&bytes, from), expected);
        }
    }

    #[test]
    fn values_are_told_apart() {
        let body = br#"{"s":"a\"b","i":3600,"z":0,"n":null,"neg":-1,"f":1.5,"e":1e3,"big":18446744073709551616,"t":true,"o":{"a":[1,{}]},"a":[]}"#;
        let mut s = Scanner::new(body).unwrap();
        let mut got = [Value::Null; 11];
        for slot in &mut got {
            *slot = s.next_entry().unwrap().unwrap().1;
        }
        assert_eq!(s.next_entry(), Ok(None));
        assert_eq!(
            got,
            [
                Value::Str(Str {
                    raw: "a\\\"b",
                    escaped: true
                }),
                Value::Int(3600),
                Value::Int(0),
                Value::Null,
                Value::Other,
                Value::Other,
                Value::Other,
                Value::BigInt,
                Value::Other,
                Value::Other,
                Value::Other,
            ]
        );
    }

    #[test]
    fn nesting_is_skipped_up_to_the_limit_and_refused_beyond() {
        let nest = |depth: usize| {
            let mut body: Vec<u8> = b"{\"x\":".to_vec();
            body.extend(core::iter::repeat_n(b'[', depth));
            body.extend(core::iter::repeat_n(b']', depth));
            body.push(b'}');
            body
        };
        assert_eq!(entries(&nest(MAX_DEPTH as usize)), Ok(1));
        assert_eq!(
            entries(&nest(MAX_DEPTH as usize + 1)),
            Err(ScanError::Syntax)
        );
        assert_eq!(entries(&nest(100_000)), Err(ScanError::Syntax));
    }

    #[test]
    fn grammar_errors_are_syntax_and_cuts_are_eof() {
        for bad in [
            &br#"{"x":[1,]}"#[..],
            br#"{"x":[1 2]}"#,
            br#"{"x":{"a"}}"#,
            br#"{"x":{"a":1,}}"#,
            br#"{"x":{1:2}}"#,
            br#"{"x":[}"#,
            br#"{"x":{]}"#,
            br#"{"x":[1]]}"#,
            br#"{"x":01}"#,
            br#"{"x":1.}"#,
            br#"{"x":1e}"#,
            br#"{"x":-}"#,
            br#"{"x":+1}"#,
            br#"{"x":.5}"#,
            br#"{"x":tru}"#,
            br#"{"x":nul1}"#,
            br#"{"x":"\x"}"#,
            br#"{"x":"\u12g4"}"#,
            br#"{"x":1,}"#,
            br#"{"x":1 "y":2}"#,
            br#"{"x" 1}"#,
            br#"{x:1}"#,
            br#"{"x":1}}"#,
            br#"{"x":1} x"#,
            b"{\"x\":\"\xff\"}",
            b"{\"\xc3\":1}",
        ] {
            assert_eq!(
                entries(bad),
                Err(ScanError::Syntax),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let good = b"{\"x\" : [ 1 , -0.5e+3 , {\"a\":\"\\u00e9\\n\"} , [ ] , { } ] ,\r\n\"y\":\"\xc3\xa9\"}  \n";
        assert_eq!(entries(good), Ok(2));
        for cut in 1..good.len() - 3 {
            assert_eq!(entries(&good[..cut]), Err(ScanError::Eof), "cut at {cut}");
        }
    }
}

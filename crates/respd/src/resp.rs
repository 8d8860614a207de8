//! The RESP2 request parser: incremental, bounded, and as forgiving or as strict as Redis 7.0.
//!
//! A client sends either a *multibulk* request (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every client
//! library sends) or an *inline* one (`GET k\r\n`, what a human types into `telnet`). Bytes arrive
//! in whatever pieces TCP delivers; [`Parser::feed`] appends them and [`Parser::next_command`] hands
//! out complete commands one by one, remembering how far it got inside a half-received one, so a
//! 100 MB argument arriving in 64 KB reads is scanned once and not 1,600 times.
//!
//! ```text
//!   buf: *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhel|lo\r\n*1\r\n$4\r\nPING\r\n
//!        └ multibulk=3 ┘ └ args=[SET, k] ┘ └ bulk=5: wait for 5+2 bytes ┘
//! ```
//!
//! Limits (Redis's `networking.c`, checked against 7.0.15 by hand): a bulk longer than
//! `proto-max-bulk-len` (512 MB) or negative is `Protocol error: invalid bulk length`; a multibulk
//! count that is not a number or exceeds `INT_MAX` is `invalid multibulk length`; a header line of more
//! than 64 KB with no newline is `too big mbulk count string` / `too big bulk count string`, an inline
//! line of more than 64 KB `too big inline request`. After a protocol error Redis replies once and
//! closes the connection; so does the server. Memory is bounded by what the client actually sent: no
//! length from the wire is used to reserve more than [`PREALLOC_ARGS`] slots or [`PREALLOC_BULK`] bytes.
//!
//! ## How the real system differs
//! Redis reads into one `querybuf` per client and, for arguments over 32 KB, makes the buffer itself
//! the argument to avoid a copy. Here every argument is copied once into its own `Vec<u8>`.

/// Redis's `PROTO_INLINE_MAX_SIZE`: the longest header or inline line without a newline.
pub const INLINE_MAX: usize = 64 * 1024;
/// Redis's default `proto-max-bulk-len`.
pub const MAX_BULK_LEN: i64 = 512 * 1024 * 1024;
/// Redis 7.0 accepts multibulk counts up to `INT_MAX` (older versions stopped at 1024*1024).
pub const MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;
/// At most this many argument slots are reserved up front, whatever count the client announced.
pub const PREALLOC_ARGS: usize = 1024;
/// At most this many bytes are reserved up front for one bulk argument.
pub const PREALLOC_BULK: usize = 64 * 1024;

/// A request Redis would reject with `-ERR Protocol error: ...` and then close the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Protocol error: {0}")]
pub struct ProtocolError(pub String);

impl ProtocolError {
    /// The error reply Redis sends before closing.
    pub fn reply_line(&self) -> Vec<u8> {
        format!("-ERR {self}\r\n").into_bytes()
    }
}

/// An incremental RESP2 request parser (see the module docs).
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    pos: usize,
    /// Arguments still expected by the current multibulk request (0: between requests).
    multibulk: usize,
    /// Length of the bulk argument being received, once its `$n` header was read.
    bulk: Option<usize>,
    args: Vec<Vec<u8>>,
}

impl Parser {
    pub fn new() -> Self {
        Parser::default()
    }

    /// Appends bytes read from the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet part of a returned command.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete command, `Ok(None)` when more bytes are needed. Empty requests (`*0`, `*-1`,
    /// blank inline lines) are skipped as Redis skips them.
    pub fn next_command(&mut self) -> Result<Option<Vec<Vec<u8>>>, ProtocolError> {
        loop {
            if self.multibulk == 0 {
                let Some(&first) = self.buf.get(self.pos) else {
                    return Ok(None);
                };
                let argv = if first == b'*' {
                    match self.multibulk_header()? {
                        None => return Ok(None),
                        Some(0) => continue,
                        Some(n) => {
                            self.multibulk = n;
                            self.args = Vec::with_capacity(n.min(PREALLOC_ARGS));
                            continue;
                        }
                    }
                } else {
                    match self.inline()? {
                        None => return Ok(None),
                        Some(argv) => argv,
                    }
                };
                if argv.is_empty() {
                    continue;
                }
                return Ok(Some(argv));
            }
            // Inside a multibulk request.
            let len = match self.bulk {
                Some(len) => len,
                None => match self.bulk_header()? {
                    None => return Ok(None),
                    Some(len) => {
                        self.bulk = Some(len);
                        len
                    }
                },
            };
            // Redis skips the two bytes after the payload without looking at them.
            if self.buf.len() - self.pos < len + 2 {
                return Ok(None);
            }
            let mut arg = Vec::with_capacity(len.min(PREALLOC_BULK));
            arg.extend_from_slice(&self.buf[self.pos..self.pos + len]);
            self.pos += len + 2;
            self.bulk = None;
            self.args.push(arg);
            self.multibulk -= 1;
            if self.multibulk == 0 {
                return Ok(Some(std::mem::take(&mut self.args)));
            }
        }
    }

    /// The line starting at `pos` up to `\r` (Redis looks for `\r` in multibulk headers).
    fn header_line(&self, too_big: &str) -> Result<Option<(usize, usize)>, ProtocolError> {
        let rest = &self.buf[self.pos..];
        match rest.iter().position(|&b| b == b'\r') {
            Some(cr) if cr + 1 < rest.len() => Ok(Some((self.pos, self.pos + cr))),
            Some(_) => Ok(None),
            None if rest.len() > INLINE_MAX => Err(ProtocolError(too_big.into())),
            None => Ok(None),
        }
    }

    fn multibulk_header(&mut self) -> Result<Option<usize>, ProtocolError> {
        let Some((start, cr)) = self.header_line("too big mbulk count string")? else {
            return Ok(None);
        };
        let n = parse_i64(&self.buf[start + 1..cr])
            .filter(|&n| n <= MAX_MULTIBULK_LEN)
            .ok_or_else(|| ProtocolError("invalid multibulk length".into()))?;
        self.pos = cr + 2;
        Ok(Some(n.max(0) as usize))
    }

    fn bulk_header(&mut self) -> Result<Option<usize>, ProtocolError> {
        let Some((start, cr)) = self.header_line("too big bulk count string")? else {
            return Ok(None);
        };
        if self.buf[start] != b'$' {
            return Err(ProtocolError(format!(
                "expected '$', got '{}'",
                self.buf[start] as char
            )));
        }
        let n = parse_i64(&self.buf[start + 1..cr])
            .filter(|&n| (0..=MAX_BULK_LEN).contains(&n))
            .ok_or_else(|| ProtocolError("invalid bulk length".into()))?;
        self.pos = cr + 2;
        Ok(Some(n as usize))
    }

    fn inline(&mut self) -> Result<Option<Vec<Vec<u8>>>, ProtocolError> {
        let rest = &self.buf[self.pos..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > INLINE_MAX {
                return Err(ProtocolError("too big inline request".into()));
            }
            return Ok(None);
        };
        let mut line = &rest[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let argv =
            split_args(line).ok_or_else(|| ProtocolError("unbalanced quotes in request".into()))?;
        self.pos += nl + 1;
        Ok(Some(argv))
    }
}

/// Redis's `string2ll`: an optional `-`, digits, no `+`, no spaces, no leading zeros.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(s).ok()?;
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
        || text == "-0"
    {
        return None;
    }
    text.parse().ok()
}

/// Redis's `sdssplitargs`: splits an inline line on spaces, honouring "double" quotes with `\n`,
/// `\xHH`-style escapes and 'single' quotes. `None` for unbalanced quotes (or a closing quote not
/// followed by a space).
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            let c = line.get(i).copied();
            if inq {
                match c {
                    None => return None,
                    Some(b'\\') if line.get(i + 1) == Some(&b'x') => {
                        let hex = line.get(i + 2..i + 4).and_then(|h| {
                            std::str::from_utf8(h)
                                .ok()
                                .and_then(|h| u8::from_str_radix(h, 16).ok())
                        });
                        if let Some(b) = hex {
                            cur.push(b);
                            i += 3;
                        } else {
                            cur.push(b'\\');
                        }
                    }
                    Some(b'\\') if i + 1 < line.len() => {
                        i += 1;
                        cur.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        if line.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(b) => cur.push(b),
                }
            } else if insq {
                match c {
                    None => return None,
                    Some(b'\\') if line.get(i + 1) == Some(&b'\'') => {
                        i += 1;
                        cur.push(b'\'');
                    }
                    Some(b'\'') => {
                        if line.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(b) => cur.push(b),
                }
            } else {
                match c {
                    None => break,
                    Some(b) if b.is_ascii_whitespace() => break,
                    Some(b'"') => inq = true,
                    Some(b'\'') => insq = true,
                    Some(b) => cur.push(b),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut p = Parser::new();
        p.feed(input);
        let mut out = Vec::new();
        while let Some(c) = p.next_command()? {
            out.push(c);
        }
        Ok(out)
    }

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_and_inline_requests_parse_alike() {
        let got = all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nSET k \"a b\"\r\n*0\r\n\r\nPING\n").unwrap();
        assert_eq!(
            got,
            vec![v(&["GET", "k"]), v(&["SET", "k", "a b"]), v(&["PING"])]
        );
    }

    #[test]
    fn a_command_split_at_every_byte_still_parses() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
        let mut p = Parser::new();
        let mut got = Vec::new();
        for b in input {
            p.feed(&[*b]);
            while let Some(c) = p.next_command().unwrap() {
                got.push(c);
            }
        }
        assert_eq!(got, vec![v(&["SET", "k", "hello"])]);
    }

    // The error texts Redis 7.0.15 sends (observed with a raw socket).
    #[test]
    fn protocol_errors_use_redis_texts() {
        let err = |i: &[u8]| all(i).unwrap_err().0;
        assert_eq!(err(b"*2147483648\r\n"), "invalid multibulk length");
        assert_eq!(err(b"*x\r\n"), "invalid multibulk length");
        assert_eq!(err(b"*1\r\n$536870913\r\n"), "invalid bulk length");
        assert_eq!(err(b"*1\r\n$-1\r\n"), "invalid bulk length");
        assert_eq!(err(b"*1\r\n+foo\r\n"), "expected '$', got '+'");
        assert_eq!(err(b"PING \"a\r\n"), "unbalanced quotes in request");
        assert_eq!(err(&[b'a'; INLINE_MAX + 1]), "too big inline request");
    }

    // A huge announced length reserves nothing until the bytes arrive.
    #[test]
    fn announced_lengths_do_not_allocate() {
        let mut p = Parser::new();
        p.feed(b"*2000000\r\n$536870912\r\nab");
        assert_eq!(p.next_command().unwrap(), None);
        assert!(p.args.capacity() <= PREALLOC_ARGS);
    }

    #[test]
    fn string2ll_rules() {
        assert_eq!(parse_i64(b"12"), Some(12));
        assert_eq!(parse_i64(b"-3"), Some(-3));
        for bad in [
            &b"+1"[..],
            b"01",
            b"",
            b"-",
            b" 1",
            b"-0",
            b"99999999999999999999",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn split_args_handles_quotes_and_escapes() {
        assert_eq!(
            split_args(b"set \"a\\x41\\n\" 'it\\'s'").unwrap(),
            vec![b"set".to_vec(), b"aA\n".to_vec(), b"it's".to_vec()]
        );
        assert_eq!(split_args(b"a \"b\"c"), None);
        assert_eq!(split_args(b"'open"), None);
    }
}

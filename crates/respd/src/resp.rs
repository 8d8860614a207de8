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
//! length from the wire is used to reserve more than [`PREALLOC_ARGS`] argument slots, and a bulk
//! argument is copied out only once all of its bytes have arrived.
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
///
/// The argument vectors are reused from one command to the next: [`Parser::next_argv`] lends the
/// current command's arguments, and the next command overwrites them in place, so a pipeline of a
/// million `SET`s allocates its argument buffers once per connection, not once per command.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    pos: usize,
    /// Arguments still expected by the current multibulk request (0: between requests).
    multibulk: usize,
    /// Length of the bulk argument being received, once its `$n` header was read.
    bulk: Option<usize>,
    /// Argument slots; the first `argc` hold the command being received or just returned. Slots past
    /// `argc` keep their allocations for the next command.
    args: Vec<Vec<u8>>,
    argc: usize,
}

/// How much room [`Parser::read_buf`] makes for one socket read (Redis's `PROTO_IOBUF_LEN`).
pub const READ_CHUNK: usize = 16 * 1024;
/// A query buffer or argument slot larger than this is released once it is no longer needed, so a
/// client that once sent a 100 MB value does not keep 100 MB for the rest of its connection.
pub const KEEP_CAPACITY: usize = 1024 * 1024;

impl Parser {
    pub fn new() -> Self {
        Parser::default()
    }

    /// Appends bytes read from the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(bytes);
    }

    /// The buffer to read the socket into, with at least [`READ_CHUNK`] bytes of spare capacity:
    /// append to it (tokio's `read_buf` does) instead of calling [`Parser::feed`], saving a copy.
    pub fn read_buf(&mut self) -> &mut Vec<u8> {
        self.compact();
        self.buf.reserve(READ_CHUNK);
        &mut self.buf
    }

    /// Drops consumed bytes once they are at least half of the buffer (so each byte moves at most
    /// once on average), and gives back the memory of a buffer that held one huge request.
    fn compact(&mut self) {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        if self.buf.is_empty() && self.buf.capacity() > KEEP_CAPACITY {
            self.buf = Vec::new();
        }
    }

    /// Bytes received but not yet part of a returned command.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete command as owned vectors, `Ok(None)` when more bytes are needed. A
    /// convenience over [`Parser::next_argv`] for tests.
    pub fn next_command(&mut self) -> Result<Option<Vec<Vec<u8>>>, ProtocolError> {
        Ok(self.next_argv()?.map(<[Vec<u8>]>::to_vec))
    }

    /// The next complete command, lent until the next call; `Ok(None)` when more bytes are needed.
    /// Empty requests (`*0`, `*-1`, blank inline lines) are skipped as Redis skips them.
    pub fn next_argv(&mut self) -> Result<Option<&[Vec<u8>]>, ProtocolError> {
        loop {
            if self.multibulk == 0 {
                let Some(&first) = self.buf.get(self.pos) else {
                    return Ok(None);
                };
                if first == b'*' {
                    match self.multibulk_header()? {
                        None => return Ok(None),
                        Some(0) => continue,
                        Some(n) => {
                            self.start_command(n);
                            continue;
                        }
                    }
                }
                match self.inline()? {
                    None => return Ok(None),
                    Some(argv) if argv.is_empty() => continue,
                    Some(argv) => {
                        self.argc = argv.len();
                        self.args = argv;
                        return Ok(Some(&self.args[..self.argc]));
                    }
                }
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
            let payload = &self.buf[self.pos..self.pos + len];
            match self.args.get_mut(self.argc) {
                Some(slot) => {
                    slot.clear();
                    slot.extend_from_slice(payload);
                }
                None => self.args.push(payload.to_vec()),
            }
            self.argc += 1;
            self.pos += len + 2;
            self.bulk = None;
            self.multibulk -= 1;
            if self.multibulk == 0 {
                return Ok(Some(&self.args[..self.argc]));
            }
        }
    }

    /// Begins a multibulk request of `n` arguments: reuses the slots of the previous command, but
    /// reserves no more than [`PREALLOC_ARGS`] of them on the client's word and releases slots that
    /// grew beyond [`KEEP_CAPACITY`] or beyond [`PREALLOC_ARGS`] in number.
    fn start_command(&mut self, n: usize) {
        self.multibulk = n;
        self.argc = 0;
        self.args.truncate(PREALLOC_ARGS);
        if self.args.capacity() > 4 * PREALLOC_ARGS {
            self.args.shrink_to(PREALLOC_ARGS);
        }
        for slot in &mut self.args {
            if slot.capacity() > KEEP_CAPACITY {
                *slot = Vec::new();
            }
        }
        let want = n.min(PREALLOC_ARGS);
        if self.args.capacity() < want {
            self.args.reserve(want - self.args.len());
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

/// Redis's `string2ll`: an optional `-`, digits, no `+`, no spaces, no leading zeros, no `-0`,
/// and nothing outside `i64`.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits {
        [] => return None,
        [b'0'] if negative => return None,
        [b'0', _, ..] => return None,
        _ => {}
    }
    let mut magnitude: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
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

    // Slots are reused, but a command never sees a longer previous command's arguments, and a slot
    // or buffer that once held a huge argument is given back.
    #[test]
    fn reused_slots_hold_only_the_current_command() {
        let mut p = Parser::new();
        let big = vec![b'x'; 2 * KEEP_CAPACITY];
        let mut input = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", big.len()).into_bytes();
        input.extend_from_slice(&big);
        input.extend_from_slice(b"\r\n");
        p.feed(&input);
        assert_eq!(p.next_argv().unwrap().map(|a| a.len()), Some(3));
        p.feed(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        assert_eq!(
            p.next_command().unwrap(),
            Some(vec![b"GET".to_vec(), b"k".to_vec()])
        );
        assert!(p.args.iter().all(|a| a.capacity() <= KEEP_CAPACITY));
        p.read_buf();
        assert!(p.buf.capacity() <= KEEP_CAPACITY + READ_CHUNK);
    }

    #[test]
    fn string2ll_rules() {
        assert_eq!(parse_i64(b"12"), Some(12));
        assert_eq!(parse_i64(b"-3"), Some(-3));
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"+1"[..],
            b"01",
            b"",
            b"-",
            b" 1",
            b"-0",
            b"99999999999999999999",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"1 ",
            b"--1",
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

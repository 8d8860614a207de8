//! Writing replies: straight into the connection's output buffer, in RESP2 or RESP3.
//!
//! A command's handler does not build a reply value and then serialise it; it appends the encoded
//! reply to [`Client::out`], which after the whole batch goes to the socket in one write, as Redis's
//! `addReply*` functions append to the client's reply buffer. A `GET` therefore copies the stored
//! value once, into the buffer, and an integer is formatted on the stack.
//!
//! The protocol is per connection: `HELLO 3` switches it, and a few reply types then change.
//!
//! | reply | RESP2 | RESP3 |
//! |---|---|---|
//! | missing value (`GET` of no key, `ZSCORE` of no member) | `$-1` | `_` |
//! | a score (`ZSCORE`, `ZINCRBY`, `ZADD INCR`) | `$3\r\n2.5` | `,2.5` |
//! | `WITHSCORES`, `ZPOPMIN n` | flat `*4`: member, score, member, score | `*2` of `*2` pairs |
//! | `HELLO`, `CONFIG GET` | flat array of keys and values | `%n` map |
//! | `INFO` | bulk string | `=n\r\ntxt:` verbatim string |
//!
//! (Checked against Redis 7.0.15 with a raw socket; `tests/resp3.rs` compares the two servers.)

use zset::command::Reply;

/// A connection's protocol, as chosen by `HELLO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Proto {
    #[default]
    Resp2,
    Resp3,
}

impl Proto {
    pub fn number(self) -> i64 {
        match self {
            Proto::Resp2 => 2,
            Proto::Resp3 => 3,
        }
    }
}

/// One connection's state as the commands see it: protocol, identity, and the replies not yet
/// written to the socket.
#[derive(Debug, Default)]
pub struct Client {
    pub proto: Proto,
    /// `CLIENT ID` and `HELLO`'s `id`: the connection's number since the server started.
    pub id: u64,
    /// `CLIENT SETNAME` / `HELLO ... SETNAME`.
    pub name: Option<Vec<u8>>,
    /// Encoded replies waiting for the batch's one write.
    pub out: Vec<u8>,
}

/// Appends `n` in decimal.
pub fn push_int(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}

fn header(out: &mut Vec<u8>, kind: u8, n: usize) {
    out.push(kind);
    push_int(out, n as i64);
    out.extend_from_slice(b"\r\n");
}

impl Client {
    pub fn new(id: u64) -> Self {
        Client {
            id,
            ..Client::default()
        }
    }

    pub fn resp3(&self) -> bool {
        self.proto == Proto::Resp3
    }

    pub fn simple(&mut self, s: &str) {
        self.out.push(b'+');
        self.out.extend_from_slice(s.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn ok(&mut self) {
        self.out.extend_from_slice(b"+OK\r\n");
    }

    /// An error reply; `msg` starts with its code (`ERR`, `WRONGTYPE`, `NOPROTO`).
    pub fn error(&mut self, msg: &str) {
        self.out.push(b'-');
        self.out.extend_from_slice(msg.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.out.push(b':');
        push_int(&mut self.out, n);
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn bulk(&mut self, b: &[u8]) {
        header(&mut self.out, b'$', b.len());
        self.out.extend_from_slice(b);
        self.out.extend_from_slice(b"\r\n");
    }

    /// The absent value: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        self.out
            .extend_from_slice(if self.resp3() { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The absent array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        self.out
            .extend_from_slice(if self.resp3() { b"_\r\n" } else { b"*-1\r\n" });
    }

    pub fn array(&mut self, n: usize) {
        header(&mut self.out, b'*', n);
    }

    /// A map of `pairs` entries: `%n` in RESP3, a flat array of `2n` in RESP2.
    pub fn map(&mut self, pairs: usize) {
        if self.resp3() {
            header(&mut self.out, b'%', pairs);
        } else {
            header(&mut self.out, b'*', 2 * pairs);
        }
    }

    /// A score as Redis formats it (`zset::format_double`): a bulk string in RESP2, a double in RESP3.
    /// `text` is what the sorted-set code already formatted.
    pub fn double_text(&mut self, text: &[u8]) {
        if self.resp3() {
            self.out.push(b',');
            self.out.extend_from_slice(text);
            self.out.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// Text for humans (`INFO`): a bulk string in RESP2, a verbatim string tagged `txt` in RESP3.
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3() {
            header(&mut self.out, b'=', text.len() + 4);
            self.out.extend_from_slice(b"txt:");
            self.out.extend_from_slice(text);
            self.out.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// A reply built by `zset::command::run`, in RESP2 terms: a nil becomes `_` under RESP3.
    /// Scores inside it are plain bulk strings here; [`Client::zset_reply`] knows where they are.
    pub fn reply(&mut self, r: &Reply) {
        match r {
            Reply::Simple(s) => self.simple(s),
            Reply::Error(e) => self.error(e),
            Reply::Integer(n) => self.int(*n),
            Reply::Bulk(None) => self.null(),
            Reply::Bulk(Some(b)) => self.bulk(b),
            Reply::Array(None) => self.null_array(),
            Reply::Array(Some(items)) => {
                self.array(items.len());
                for it in items {
                    self.reply(it);
                }
            }
        }
    }

    /// A sorted-set command's reply, with its scores typed for the connection's protocol.
    /// `shape` says where the scores are (see [`ScoreShape::of`]).
    pub fn zset_reply(&mut self, shape: ScoreShape, r: &Reply) {
        if !self.resp3() {
            return self.reply(r);
        }
        match (shape, r) {
            (ScoreShape::Score, Reply::Bulk(Some(text))) => self.double_text(text),
            (ScoreShape::Pairs, Reply::Array(Some(items))) if items.len() % 2 == 0 => {
                self.array(items.len() / 2);
                for pair in items.chunks(2) {
                    self.array(2);
                    self.member_and_score(pair);
                }
            }
            (ScoreShape::PopPairs, Reply::Array(Some(items))) if items.len() % 2 == 0 => {
                self.array(items.len());
                for pair in items.chunks(2) {
                    self.member_and_score(pair);
                }
            }
            _ => self.reply(r),
        }
    }
}

impl Client {
    fn member_and_score(&mut self, pair: &[Reply]) {
        self.reply(&pair[0]);
        match &pair[1] {
            Reply::Bulk(Some(text)) => self.double_text(text),
            other => self.reply(other),
        }
    }
}

/// Where a sorted-set reply carries scores, which RESP3 sends as doubles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreShape {
    /// No scores (counts, ranks, members only).
    None,
    /// The reply itself is one score or nil: `ZSCORE`, `ZINCRBY`, `ZADD ... INCR`.
    Score,
    /// Member, score, member, score...: `ZRANGE ... WITHSCORES` and friends. RESP3 nests each pair.
    Pairs,
    /// `ZPOPMIN`/`ZPOPMAX`: pairs when a count was given, one flat pair without a count.
    PopPairs,
}

impl ScoreShape {
    /// The shape of the reply to `argv`, a sorted-set command (name in any case).
    pub fn of(argv: &[Vec<u8>]) -> ScoreShape {
        let name = argv[0].as_slice();
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        // Options come after the key, min and max.
        let withscores = || {
            argv.iter()
                .skip(4)
                .any(|a| a.eq_ignore_ascii_case(b"WITHSCORES"))
        };
        // ZADD's flags come first; the first argument that is not a flag starts the score/member pairs.
        let zadd_incr = || {
            argv.iter()
                .skip(2)
                .take_while(|a| {
                    ["NX", "XX", "GT", "LT", "CH", "INCR"]
                        .iter()
                        .any(|f| a.eq_ignore_ascii_case(f.as_bytes()))
                })
                .any(|a| a.eq_ignore_ascii_case(b"INCR"))
        };
        if is("zscore") || is("zincrby") || (is("zadd") && zadd_incr()) {
            ScoreShape::Score
        } else if ["zrange", "zrevrange", "zrangebyscore", "zrevrangebyscore"]
            .into_iter()
            .any(is)
            && withscores()
        {
            ScoreShape::Pairs
        } else if is("zpopmin") || is("zpopmax") {
            if argv.len() > 2 {
                ScoreShape::Pairs
            } else {
                ScoreShape::PopPairs
            }
        } else {
            ScoreShape::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn integers_are_formatted_without_allocating() {
        for n in [0, 7, -7, 10, 1234567890, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            push_int(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }

    #[test]
    fn nulls_and_maps_follow_the_protocol() {
        let mut c = Client::new(1);
        c.null();
        c.map(1);
        c.proto = Proto::Resp3;
        c.null();
        c.map(1);
        assert_eq!(c.out, b"$-1\r\n*2\r\n_\r\n%1\r\n");
    }

    // Counterexample included: under RESP2 the same reply stays a flat array of bulk strings.
    #[test]
    fn scores_become_doubles_only_under_resp3() {
        let r = Reply::Array(Some(vec![
            Reply::Bulk(Some(b"a".to_vec())),
            Reply::Bulk(Some(b"1.5".to_vec())),
        ]));
        let argv = v(&["ZRANGE", "k", "0", "-1", "WITHSCORES"]);
        let shape = ScoreShape::of(&argv);
        assert_eq!(shape, ScoreShape::Pairs);
        let mut c = Client::new(1);
        c.zset_reply(shape, &r);
        assert_eq!(c.out, b"*2\r\n$1\r\na\r\n$3\r\n1.5\r\n");
        let mut c = Client::new(1);
        c.proto = Proto::Resp3;
        c.zset_reply(shape, &r);
        assert_eq!(c.out, b"*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n");
        // ZPOPMIN without a count: one flat pair, as Redis 7.0 sends it.
        let mut c = Client::new(1);
        c.proto = Proto::Resp3;
        c.zset_reply(ScoreShape::of(&v(&["ZPOPMIN", "k"])), &r);
        assert_eq!(c.out, b"*2\r\n$1\r\na\r\n,1.5\r\n");
    }

    #[test]
    fn shapes_follow_the_arguments() {
        let shape = |args: &[&str]| ScoreShape::of(&v(args));
        assert_eq!(shape(&["zadd", "k", "incr", "1", "m"]), ScoreShape::Score);
        assert_eq!(shape(&["ZADD", "k", "1", "m"]), ScoreShape::None);
        // A member called "incr" is not the INCR flag.
        assert_eq!(shape(&["ZADD", "k", "1", "incr"]), ScoreShape::None);
        assert_eq!(shape(&["ZRANGEBYLEX", "k", "-", "+"]), ScoreShape::None);
        assert_eq!(shape(&["ZRANGE", "k", "0", "1"]), ScoreShape::None);
        assert_eq!(shape(&["ZPOPMAX", "k", "2"]), ScoreShape::Pairs);
        assert_eq!(shape(&["zpopmin", "k"]), ScoreShape::PopPairs);
        assert_eq!(shape(&["ZSCORE", "k", "m"]), ScoreShape::Score);
    }
}

//! RESP3 (`HELLO 3`) against the real Redis: the same commands sent to `lab serve` and to Redis
//! 7.0 over raw sockets after `HELLO 3` must get byte-identical replies: nulls as `_`, scores as
//! `,` doubles, `WITHSCORES` and `ZPOPMIN n` as nested pairs, `CONFIG GET` as a `%` map, `INFO` as
//! a `=` verbatim string. `HELLO`'s own reply and errors are compared too (the connection id
//! masked, as it differs between servers).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use catalog::testing::needed;
use respd::{Handle, Mode};

const T: Duration = Duration::from_secs(5);
/// The real Redis's keys live under `lab:<scope>:`, deleted before and after; one scope per test,
/// as the tests run in parallel and each cleans its own scope.
const FIXED: &str = "redis-04-resp3-fixed";
const SEEDED: &str = "redis-04-resp3-seeded";

/// The length of the first complete RESP2/RESP3 value in `buf`, `None` if more bytes are needed.
fn complete_len(buf: &[u8]) -> Option<usize> {
    let line_end = buf.windows(2).position(|w| w == b"\r\n")?;
    let after = line_end + 2;
    let n = || -> Option<i64> { std::str::from_utf8(&buf[1..line_end]).ok()?.parse().ok() };
    match buf[0] {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => match n()? {
            len if len < 0 => Some(after),
            len => {
                let end = after + len as usize + 2;
                (buf.len() >= end).then_some(end)
            }
        },
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let count = n()?;
            let items = match buf[0] {
                b'%' | b'|' => 2 * count.max(0),
                _ => count.max(0),
            };
            let mut at = after;
            for _ in 0..items {
                at += complete_len(&buf[at..])?;
            }
            Some(at)
        }
        _ => panic!("not RESP: {:?}", String::from_utf8_lossy(buf)),
    }
}

#[test]
fn complete_len_waits_for_whole_values() {
    assert_eq!(complete_len(b"_\r\n"), Some(3));
    assert_eq!(complete_len(b"$3\r\nabc\r\n+x"), Some(9));
    assert_eq!(complete_len(b"%1\r\n$1\r\na\r\n,1.5\r\n"), Some(17));
    // Counterexamples: a bulk, a map and a nested array missing their last bytes.
    assert_eq!(complete_len(b"$3\r\nab"), None);
    assert_eq!(complete_len(b"%1\r\n$1\r\na\r\n"), None);
    assert_eq!(complete_len(b"*2\r\n*2\r\n:1\r\n:2\r\n"), None);
}

/// A raw connection that sends commands and reads exactly one reply per command.
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    fn connect(host: &str, port: u16) -> Raw {
        let stream = TcpStream::connect((host, port)).expect("connect");
        stream.set_read_timeout(Some(T)).unwrap();
        stream.set_write_timeout(Some(T)).unwrap();
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.stream.write_all(&req).expect("write");
        loop {
            if !self.buf.is_empty()
                && let Some(n) = complete_len(&self.buf)
            {
                return self.buf.drain(..n).collect();
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("read a reply");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// `HELLO`'s reply with the value after `id` replaced by `:ID`.
fn mask_id(reply: &[u8]) -> Vec<u8> {
    let marker = b"$2\r\nid\r\n:";
    let Some(at) = reply.windows(marker.len()).position(|w| w == marker) else {
        return reply.to_vec();
    };
    let start = at + marker.len();
    let end = start
        + reply[start..]
            .iter()
            .position(|&b| b == b'\r')
            .expect("id line");
    [&reply[..start], b"ID", &reply[end..]].concat()
}

#[test]
fn masking_changes_only_the_id() {
    let a = mask_id(b"%2\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:289\r\n");
    let b = mask_id(b"%2\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:7\r\n");
    assert_eq!(a, b);
    // Counterexample: a different proto survives the mask.
    assert_ne!(a, mask_id(b"%2\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:7\r\n"));
}

fn real_redis(scope: &str) -> Option<(servers::RedisLab, Raw)> {
    let lab = servers::redis_target()
        .map_err(|e| e.to_string())
        .and_then(|t| servers::RedisLab::connect(&t, scope).map_err(|e| e.to_string()));
    let lab = needed("real Redis", lab)?;
    let raw = Raw::connect(&lab.target().host, lab.target().port);
    Some((lab, raw))
}

/// The commands compared, `{k}` standing for the sorted set's key and `{s}` for a string key.
const SCRIPT: &[&str] = &[
    "HELLO 3",
    "HELLO",
    "ZADD {k} 1 a 2.5 b inf c -0.1 d 1e300 e",
    "ZSCORE {k} b",
    "ZSCORE {k} c",
    "ZSCORE {k} e",
    "ZSCORE {k} nope",
    "ZSCORE {k}:missing x",
    "ZINCRBY {k} 1 a",
    "ZADD {k} INCR 0.5 a",
    "ZADD {k} NX INCR 1 a",
    "ZADD {k} XX CH 3 b 4 f",
    "ZRANGE {k} 0 -1",
    "ZRANGE {k} 0 -1 WITHSCORES",
    "ZRANGE {k} (1 +inf BYSCORE WITHSCORES LIMIT 0 2",
    "ZRANGE {k} 0 -1 REV WITHSCORES",
    "ZRANGEBYSCORE {k} -inf +inf WITHSCORES",
    "ZREVRANGEBYSCORE {k} +inf 2 WITHSCORES",
    "ZREVRANGE {k} 0 1 WITHSCORES",
    "ZRANGEBYLEX {k} - +",
    "ZRANK {k} b",
    "ZRANK {k} zz",
    "ZREVRANK {k} b",
    "ZCARD {k}",
    "ZCOUNT {k} 0 3",
    "ZPOPMIN {k}",
    "ZPOPMAX {k} 2",
    "ZPOPMIN {k} 1",
    "ZPOPMIN {k}:missing",
    "ZPOPMIN {k}:missing 2",
    "ZREM {k} a b zz",
    "GET {s}",
    "SET {s} v",
    "GET {s}",
    "SET {s} w GET",
    "SET {s}:new v XX",
    "TYPE {s}",
    "TYPE {k}:missing",
    "OBJECT ENCODING {k}:missing",
    "OBJECT ENCODING {s}",
    "EXISTS {s} {k}:missing",
    "GET {k}",
    "ECHO x",
    "PING",
    "CONFIG GET zset-max-listpack-entries",
    "HELLO 4",
    "HELLO 3 foo",
    "HELLO 03",
    "HELLO 2",
    "GET {k}:missing",
    "ZSCORE {k} d",
    "ZRANGE {k} 0 -1 WITHSCORES",
    "HELLO 3",
    "GET {k}:missing",
    "DEL {k} {s}",
];

#[test]
fn resp3_replies_match_the_real_redis() {
    let Some((lab, mut redis)) = real_redis(FIXED) else {
        return;
    };
    let (k, s) = (lab.key("z"), lab.key("s"));
    let server = Handle::start(Mode::Single, 0, 1).expect("start lab serve");
    let mut ours = Raw::connect("127.0.0.1", server.addr().port());
    for line in SCRIPT {
        let line = line.replace("{k}", &k).replace("{s}", &s);
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let theirs = mask_id(&redis.call(&args));
        let mine = mask_id(&ours.call(&args));
        assert_eq!(
            String::from_utf8_lossy(&mine),
            String::from_utf8_lossy(&theirs),
            "{line}"
        );
    }
    // INFO differs in content; under RESP3 both send a verbatim string of text.
    for raw in [&mut redis, &mut ours] {
        let info = raw.call(&[b"INFO", b"server"]);
        assert!(
            info.starts_with(b"="),
            "{:?}",
            String::from_utf8_lossy(&info)
        );
        let text_at = info.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
        assert!(info[text_at..].starts_with(b"txt:# Server\r\n"));
    }
    drop(lab);
}

/// Seeded random sorted-set traffic under RESP3: scores with fractions, infinities and ties, and
/// every command whose reply carries scores.
#[test]
fn seeded_sorted_set_traffic_matches_under_resp3() {
    let Some((lab, mut redis)) = real_redis(SEEDED) else {
        return;
    };
    let k = lab.key("rnd");
    let server = Handle::start(Mode::Shared, 0, 2).expect("start lab serve");
    let mut ours = Raw::connect("127.0.0.1", server.addr().port());
    for raw in [&mut redis, &mut ours] {
        raw.call(&[b"HELLO", b"3"]);
        raw.call(&[b"DEL", k.as_bytes()]);
    }
    let mut x: u64 = 0x5EED_0003;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let scores = ["0", "1", "1.5", "-2.25", "inf", "-inf", "3e10", "0.1"];
    for i in 0..400 {
        let member = format!("m{}", next(30));
        let score = scores[next(scores.len() as u64) as usize];
        let count = (next(4) + 1).to_string();
        let line: Vec<&str> = match next(8) {
            0 | 1 => vec!["ZADD", &k, score, &member],
            2 => vec!["ZINCRBY", &k, "0.5", &member],
            3 => vec!["ZSCORE", &k, &member],
            4 => vec!["ZRANGE", &k, "0", "-1", "WITHSCORES"],
            5 => vec!["ZRANGEBYSCORE", &k, "-inf", "+inf", "WITHSCORES"],
            6 => vec!["ZPOPMIN", &k, &count],
            _ => vec!["ZPOPMAX", &k],
        };
        let args: Vec<&[u8]> = line.iter().map(|a| a.as_bytes()).collect();
        let theirs = redis.call(&args);
        let mine = ours.call(&args);
        assert_eq!(
            String::from_utf8_lossy(&mine),
            String::from_utf8_lossy(&theirs),
            "command #{i}: {line:?}"
        );
    }
    drop(lab);
}

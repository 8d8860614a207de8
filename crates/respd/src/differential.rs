//! Differential checks of `lab serve` against Redis 7.0: the scripts, the seeded command
//! generator, a raw RESP2 client and the rule that decides whether two replies agree. Shared by
//! `tests/expiry.rs` and the redis-03/redis-05 demos, so the test and the demo check the same thing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Read/write timeout of every [`Raw`] call.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The length of the first complete RESP2 value in `buf`, `None` if more bytes are needed.
pub fn complete_len(buf: &[u8]) -> Option<usize> {
    let line_end = buf.windows(2).position(|w| w == b"\r\n")?;
    let after = line_end + 2;
    let n = || -> Option<i64> { std::str::from_utf8(&buf[1..line_end]).ok()?.parse().ok() };
    match buf[0] {
        b'+' | b'-' | b':' => Some(after),
        b'$' => match n()? {
            len if len < 0 => Some(after),
            len => {
                let end = after + len as usize + 2;
                (buf.len() >= end).then_some(end)
            }
        },
        b'*' => {
            let mut at = after;
            for _ in 0..n()?.max(0) {
                at += complete_len(&buf[at..])?;
            }
            Some(at)
        }
        _ => panic!("not RESP2: {:?}", String::from_utf8_lossy(buf)),
    }
}

/// A raw RESP2 connection: one request, one reply, as text.
#[derive(Debug)]
pub struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    /// Connects to `127.0.0.1:port`.
    pub fn connect(port: u16) -> std::io::Result<Raw> {
        let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(Raw {
            stream,
            buf: Vec::new(),
        })
    }

    /// Sends one command and reads its reply, as RESP2 text. Panics on I/O errors (tests and
    /// demos treat a dead connection as a failure).
    pub fn call(&mut self, args: &[&str]) -> String {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.stream.write_all(&req).expect("write");
        loop {
            if !self.buf.is_empty()
                && let Some(n) = complete_len(&self.buf)
            {
                let reply: Vec<u8> = self.buf.drain(..n).collect();
                return String::from_utf8_lossy(&reply).into_owned();
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("read a reply");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// [`Raw::call`] with the arguments of a space-separated line.
    pub fn line(&mut self, line: &str) -> String {
        let args: Vec<&str> = line.split(' ').collect();
        self.call(&args)
    }

    pub fn int(&mut self, line: &str) -> i64 {
        let r = self.line(line);
        r.strip_prefix(':')
            .and_then(|n| n.trim_end().parse().ok())
            .unwrap_or_else(|| panic!("{line}: not an integer reply: {r:?}"))
    }

    /// A numeric field of `INFO section`.
    pub fn info_field(&mut self, section: &str, field: &str) -> u64 {
        let info = self.call(&["INFO", section]);
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in {info}"))
    }
}

/// Whether two replies to `command` agree: identical, or for TTL-like commands two non-negative
/// integers within the time that may pass between the servers.
pub fn replies_agree(command: &str, ours: &str, theirs: &str) -> bool {
    if ours == theirs {
        return true;
    }
    let slack = match command.to_ascii_uppercase().as_str() {
        "TTL" => 1,
        "PTTL" => 1500,
        "OBJECT" => 1,
        _ => return false,
    };
    let int = |r: &str| r.strip_prefix(':')?.trim_end().parse::<i64>().ok();
    match (int(ours), int(theirs)) {
        (Some(a), Some(b)) => a >= 0 && b >= 0 && (a - b).abs() <= slack,
        _ => false,
    }
}

/// The fixed script; `{k}`, `{s}`, `{z}` are keys, `{far_s}`/`{far_ms}` an absolute time about
/// 11 days ahead.
pub const EXPIRY_SCRIPT: &[&str] = &[
    "SET {k} v EX 1000",
    "TTL {k}",
    "PTTL {k}",
    "SET {k} v EX 0",
    "SET {k} v EX -1",
    "SET {k} v EX abc",
    "SET {k} v PX 0",
    "SET {k} v EXAT 0",
    "SET {k} v EX 9223372036854775",
    "SET {k} v PX 9223372036854775807",
    "SET {k} v EX 10 PX 10",
    "SET {k} v EX 10 KEEPTTL",
    "SET {k} v KEEPTTL EX 10",
    "SET {k} v EX",
    "SET {k} v NX XX",
    "SET {k} v EX abc NX XX",
    "SET {k} v EX 1 EXAT 5",
    "SET {k} v PERSIST",
    "TTL {k}",
    "SET {k} v2 KEEPTTL",
    "TTL {k}",
    "GET {k}",
    "SET {k} v3",
    "TTL {k}",
    "SET {k} v PXAT {far_ms}",
    "PTTL {k}",
    "SET {k} v EXAT {far_s}",
    "TTL {k}",
    "SET {k} v EX 922337203685477",
    "TTL {k}",
    "SET {k} v PXAT 9223372036854775807",
    "PTTL {k}",
    "SET {k} v EX 100",
    "EXPIRE {k} 100 NX",
    "EXPIRE {k} 200 XX",
    "EXPIREAT {k} {far_s} GT",
    "TTL {k}",
    "EXPIREAT {k} {far_s} GT",
    "EXPIREAT {k} {far_s} LT",
    "PEXPIREAT {k} {far_ms} LT",
    "EXPIRE {k} 100 NX XX",
    "EXPIRE {k} 100 GT LT",
    "EXPIRE {k} 100 NX GT",
    "EXPIRE {k} 100 xx lt",
    "EXPIRE {k} 100 FOO",
    "EXPIRE {k} abc",
    "EXPIRE {k} abc FOO",
    "EXPIRE {k} 9223372036854775807",
    "PEXPIRE {k} 9223372036854775807",
    "EXPIRE {k} -9223372036854775808",
    "EXPIREAT {k} 9223372036854775807",
    "PEXPIREAT {k} 9223372036854775807",
    "PTTL {k}",
    "PERSIST {k}",
    "PERSIST {k}",
    "TTL {k}",
    "EXPIREAT {k} {far_s} GT",
    "EXPIREAT {k} {far_s} LT",
    "TTL {k}",
    "EXPIRE {k}:missing 10",
    "TTL {k}:missing",
    "PTTL {k}:missing",
    "PERSIST {k}:missing",
    "EXPIRE {k} 0",
    "EXISTS {k}",
    "SET {k} v",
    "EXPIRE {k} -5",
    "EXISTS {k}",
    "SET {k} v",
    "PEXPIREAT {k} 1",
    "GET {k}",
    "SET {k} v PXAT 1",
    "GET {k}",
    "EXISTS {k}",
    "TTL {k}",
    "SET {k} v EXAT 1 GET",
    "TYPE {k}",
    "SET {k} v GET EX 10",
    "SET {k} w GET EX 10",
    "SET {k} x NX GET",
    "SET {k} x XX GET PX 5000",
    "PTTL {k}",
    "ZADD {z} 1 a",
    "EXPIRE {z} 100",
    "TTL {z}",
    "SET {z} v GET",
    "TTL {z}",
    "SET {z} v NX",
    "ZADD {z} 2 b",
    "SET {z} v XX KEEPTTL",
    "TTL {z}",
    "TYPE {z}",
    "INCR {s}",
    "EXPIRE {s} 100",
    "INCR {s}",
    "TTL {s}",
    "SET {s} 50000 KEEPTTL",
    "TTL {s}",
    "OBJECT FREQ {s}",
    "OBJECT FREQ {k}:missing",
    "OBJECT IDLETIME {s}",
    "OBJECT IDLETIME {k}:missing",
    "OBJECT FOO {s}",
    "OBJECT FREQ",
    "OBJECT ENCODING {s}",
    "DEL {k} {s} {z} {k}:missing",
    "TTL {s}",
];

/// A seeded xorshift, so a failing sequence can be replayed.
#[derive(Debug, Clone)]
pub struct Seq(pub u64);

impl Seq {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// One random command over the keys `keys`: its outcome does not depend on which millisecond a
/// server runs it in (see the module docs).
pub fn random_expiry_command(seq: &mut Seq, keys: &[String], far_s: i64) -> String {
    let k = &keys[seq.below(keys.len() as u64) as usize];
    // Absolute deadlines: past (delete), or one of three far-future instants.
    let abs_s = [1, far_s, far_s + 1000, far_s - 1000][seq.below(4) as usize];
    let set_opts = [
        "",
        "EX 1000",
        "PX 2500000",
        "KEEPTTL",
        "NX",
        "XX",
        "GET",
        "NX EX 300",
        "XX KEEPTTL",
        "GET EX 700",
        "EX 0",
        "PX -5",
        "EX 5 PX 5",
        "KEEPTTL PX 9",
        "EXAT 1",
    ];
    match seq.below(14) {
        0 | 1 => format!("SET {k} v{} {}", seq.below(9), seq.pick(&set_opts))
            .trim_end()
            .to_string(),
        2 => format!(
            "EXPIRE {k} {} {}",
            seq.pick(&["100", "1000", "20000", "-1", "0", "x"]),
            seq.pick(&["", "NX", "XX", "NX XX", "FOO"])
        )
        .trim_end()
        .to_string(),
        3 => format!(
            "PEXPIRE {k} {} {}",
            seq.pick(&["150000", "2500000", "-100"]),
            seq.pick(&["", "NX", "XX"])
        )
        .trim_end()
        .to_string(),
        4 => format!(
            "EXPIREAT {k} {abs_s} {}",
            seq.pick(&["", "NX", "XX", "GT", "LT", "GT LT", "XX GT", "XX LT"])
        )
        .trim_end()
        .to_string(),
        5 => format!(
            "PEXPIREAT {k} {}{} {}",
            abs_s,
            seq.pick(&["000", "500"]),
            seq.pick(&["", "GT", "LT", "NX"])
        )
        .trim_end()
        .to_string(),
        6 => format!("TTL {k}"),
        7 => format!("PTTL {k}"),
        8 => format!("PERSIST {k}"),
        9 => format!("GET {k}"),
        10 => format!("EXISTS {k}"),
        11 => format!("INCR {k}"),
        12 => format!("TYPE {k}"),
        _ => format!("DEL {k}"),
    }
}

/// Commands whose replies depend on server-wide settings, sent to a throw-away redis-server and
/// to lab serve: CONFIG SET/GET of the eviction and expiry settings (with their errors), OBJECT
/// FREQ under `lfu-log-factor 0` (every access adds exactly 1), each OBJECT subcommand's error
/// under the other policy family, and the INFO counters the script leaves behind.
pub const SETTINGS_SCRIPT: &[&str] = &[
    "CONFIG SET maxmemory-policy foo",
    "CONFIG SET maxmemory-policy allkeys-lrm",
    "CONFIG SET maxmemory-samples 0",
    "CONFIG SET maxmemory-samples abc",
    "CONFIG SET maxmemory-samples 5.5",
    "CONFIG SET lfu-log-factor -1",
    "CONFIG SET lfu-decay-time -1",
    "CONFIG SET hz abc",
    "CONFIG SET active-expire-effort 0",
    "CONFIG SET active-expire-effort 11",
    "CONFIG SET maxmemory abc",
    "CONFIG SET maxmemory -1",
    "CONFIG SET maxmemory 1.5mb",
    "CONFIG SET maxmemory 100mb",
    "CONFIG GET maxmemory",
    "CONFIG SET maxmemory 3kb",
    "CONFIG GET maxmemory",
    "CONFIG SET maxmemory 2G",
    "CONFIG GET maxmemory",
    "CONFIG SET maxmemory 0",
    "CONFIG SET hz 0",
    "CONFIG GET hz",
    "CONFIG SET hz 600",
    "CONFIG GET hz",
    "CONFIG SET hz 10",
    "CONFIG SET active-expire-effort 4",
    "CONFIG GET active-expire-effort",
    "CONFIG SET active-expire-effort 1",
    "CONFIG SET maxmemory-samples 10 maxmemory-policy bad",
    "CONFIG GET maxmemory-samples",
    "CONFIG SET maxmemory-policy VOLATILE-TTL",
    "CONFIG GET maxmemory-policy",
    "CONFIG SET maxmemory-policy allkeys-lru",
    "SET {k} v",
    "OBJECT FREQ {k}",
    "OBJECT IDLETIME {k}",
    "CONFIG SET lfu-log-factor 0",
    "CONFIG GET lfu-log-factor",
    "CONFIG SET maxmemory-policy allkeys-lfu",
    "OBJECT IDLETIME {k}",
    "OBJECT IDLETIME {k}:missing",
    "SET {n} v",
    "OBJECT FREQ {n}",
    "GET {n}",
    "GET {n}",
    "OBJECT FREQ {n}",
    "EXISTS {n}",
    "TYPE {n}",
    "TTL {n}",
    "OBJECT FREQ {n}",
    "SET {n} w",
    "OBJECT FREQ {n}",
    "SET {n} x GET",
    "OBJECT FREQ {n}",
    "EXPIRE {n} 1000",
    "PERSIST {n}",
    "OBJECT FREQ {n}",
    "SET {n} 100000",
    "INCR {n}",
    "OBJECT FREQ {n}",
    "ZADD {z} 1 a",
    "OBJECT FREQ {z}",
    "ZSCORE {z} a",
    "ZADD {z} 2 b",
    "ZRANK {z} b",
    "OBJECT FREQ {z}",
    "GET {k}:missing",
    "CONFIG SET maxmemory-policy volatile-lfu",
    "OBJECT FREQ {n}",
    "CONFIG SET maxmemory-policy noeviction",
    "OBJECT FREQ {n}",
    "CONFIG SET maxmemory-policy volatile-random",
    "OBJECT FREQ {n}",
    "DEBUG SET-ACTIVE-EXPIRE 0",
    "DBSIZE",
    "SET {x} v PXAT 1",
    "DBSIZE",
    "GET {x}",
    "DBSIZE",
    "DEBUG SET-ACTIVE-EXPIRE 1",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_agree_only_within_the_slack() {
        assert!(replies_agree("TTL", ":1000\r\n", ":999\r\n"));
        assert!(replies_agree("PTTL", ":99999\r\n", ":99100\r\n"));
        assert!(replies_agree("GET", "$1\r\nv\r\n", "$1\r\nv\r\n"));
        // Counterexamples: a bigger gap, a -1 against a -2, any difference outside the TTL commands.
        assert!(!replies_agree("TTL", ":1000\r\n", ":998\r\n"));
        assert!(!replies_agree("TTL", ":-1\r\n", ":-2\r\n"));
        assert!(!replies_agree("EXPIRE", ":1\r\n", ":0\r\n"));
        assert!(!replies_agree("PTTL", ":5\r\n", "-ERR x\r\n"));
    }

    #[test]
    fn complete_len_waits_for_whole_values() {
        assert_eq!(complete_len(b"$3\r\nabc\r\n+x"), Some(9));
        assert_eq!(complete_len(b"*2\r\n:1\r\n:2\r\n"), Some(12));
        // Counterexamples: a bulk and an array missing their last bytes.
        assert_eq!(complete_len(b"$3\r\nab"), None);
        assert_eq!(complete_len(b"*2\r\n:1\r\n"), None);
    }
}

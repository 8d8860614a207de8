//! What one command costs inside the server, without sockets: a pipeline of 1M commands fed to
//! `run_batch` in 16 KB reads (parse + lookup + execute + reply encoding + commandstats).
//! `RANGE=100` keeps every key in cache; `ONLY=SET` runs one test.
//! `cargo run --release -p respd --example exec_cost`.
use std::time::Instant;

fn packed(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn main() {
    let n = 1_000_000usize;
    let range: u64 = std::env::var("RANGE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100_000);
    let mut x: u64 = 12345;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % range
    };
    let mut db = respd::Db::new(respd::Mode::Single, 0);
    let mut client = respd::reply::Client::new(1);
    for name in ["SET", "GET", "ZADD", "ZRANK"] {
        if std::env::var("ONLY").is_ok_and(|o| !o.split(',').any(|o| o == name)) {
            continue;
        }
        let mut input = Vec::new();
        for _ in 0..n {
            let k = format!("key:{:012}", rnd());
            let m = format!("element:{:012}", rnd());
            let s = rnd().to_string();
            match name {
                "SET" => packed(&mut input, &[b"SET", k.as_bytes(), b"xxx"]),
                "GET" => packed(&mut input, &[b"GET", k.as_bytes()]),
                "ZADD" => packed(
                    &mut input,
                    &[b"ZADD", b"myzset", s.as_bytes(), m.as_bytes()],
                ),
                _ => packed(&mut input, &[b"ZRANK", b"myzset", m.as_bytes()]),
            }
        }
        let t = Instant::now();
        let mut bytes = 0;
        let mut p = respd::resp::Parser::new();
        for chunk in input.chunks(16 * 1024) {
            p.feed(chunk);
            respd::server::run_batch(&mut db, &mut p, &mut client);
            bytes += client.out.len();
            client.out.clear();
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("{name}: {ns:.0} ns/command ({bytes} reply bytes)");
    }
}

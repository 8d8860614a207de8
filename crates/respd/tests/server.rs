//! The server over real sockets: the `redis` crate, raw TCP, both execution modes, bad input,
//! a client vanishing mid-command, and `redis-benchmark` when it is installed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use catalog::testing::ci;
use respd::{Handle, Mode};
use servers::redis;

const T: Duration = Duration::from_secs(5);

fn start(mode: Mode) -> Handle {
    Handle::start(mode, 0, 2).expect("start the server")
}

fn client(h: &Handle) -> redis::Connection {
    let c = redis::Client::open(h.url())
        .unwrap()
        .get_connection_with_timeout(T)
        .unwrap();
    c.set_read_timeout(Some(T)).unwrap();
    c.set_write_timeout(Some(T)).unwrap();
    c
}

fn raw(h: &Handle) -> TcpStream {
    let s = TcpStream::connect_timeout(&h.addr(), T).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    s.set_write_timeout(Some(T)).unwrap();
    s
}

/// Sends `input`, then reads until `want` bytes arrived or the server closed.
fn exchange(s: &mut TcpStream, input: &[u8], want: usize) -> Vec<u8> {
    s.write_all(input).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while out.len() < want {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read failed after {:?}: {e}", String::from_utf8_lossy(&out)),
        }
    }
    out
}

/// After a protocol error the server closes: a read returns 0 (EOF) before the timeout.
fn closed(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(s.read(&mut buf), Ok(0))
}

#[test]
fn the_redis_crate_works_unchanged_in_both_modes() {
    for mode in [Mode::Single, Mode::Shared] {
        let h = start(mode);
        let mut c = client(&h);
        let pong: String = redis::cmd("PING").query(&mut c).unwrap();
        assert_eq!(pong, "PONG");
        let _: () = redis::cmd("SET")
            .arg("k")
            .arg(b"bin\0\r\nary")
            .query(&mut c)
            .unwrap();
        let v: Vec<u8> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
        assert_eq!(v, b"bin\0\r\nary");
        let t: String = redis::cmd("TYPE").arg("k").query(&mut c).unwrap();
        assert_eq!(t, "string");
        let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(n, 1);
        let e = redis::cmd("GET").query::<()>(&mut c).unwrap_err();
        assert!(
            e.to_string()
                .contains("wrong number of arguments for 'get' command"),
            "{e}"
        );
        let info: String = redis::cmd("INFO").arg("server").query(&mut c).unwrap();
        assert!(
            info.contains(&format!("respd_mode:{}", mode.name())),
            "{info}"
        );
    }
}

// Pipelining: many commands in one write, replies in order, in one go.
#[test]
fn a_pipeline_in_one_write_gets_every_reply_in_order() {
    for mode in [Mode::Single, Mode::Shared] {
        let h = start(mode);
        let mut s = raw(&h);
        let mut input = Vec::new();
        let mut want = Vec::new();
        for i in 0..200 {
            input.extend_from_slice(b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
            want.extend_from_slice(format!(":{}\r\n", i + 1).as_bytes());
        }
        input.extend_from_slice(b"ECHO hi\r\n");
        want.extend_from_slice(b"$2\r\nhi\r\n");
        assert_eq!(exchange(&mut s, &input, want.len()), want);
    }
}

// Redis's model: however many clients send at once, one thread executes every command. In shared
// mode the commands run on the runtime's workers.
#[test]
fn single_mode_executes_every_command_on_one_thread() {
    for (mode, most) in [(Mode::Single, 1), (Mode::Shared, 2)] {
        let h = start(mode);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let clients: Vec<_> = (0..6)
            .map(|_| {
                let mut c = client(&h);
                let barrier = std::sync::Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..200 {
                        let _: i64 = redis::cmd("INCR").arg("n").query(&mut c).unwrap();
                    }
                })
            })
            .collect();
        for t in clients {
            t.join().unwrap();
        }
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query(&mut client(&h))
            .unwrap();
        let threads: usize = info
            .lines()
            .find_map(|l| l.strip_prefix("respd_executor_threads:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no respd_executor_threads in {info}"));
        assert!((1..=most).contains(&threads), "{mode:?}: {threads} threads");
        if mode == Mode::Single {
            assert_eq!(threads, 1);
        }
    }
}

#[test]
fn bad_input_gets_redis_replies_and_only_that_connection_closes() {
    let h = start(Mode::Single);
    let mut other = client(&h);
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"*1\r\n$536870913\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*x\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n+foo\r\n",
            b"-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"PING \"a\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        // The PING before the error is answered first, as Redis does.
        (
            b"PING\r\n*-5x\r\n",
            b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
        ),
    ];
    for (input, want) in cases {
        let mut s = raw(&h);
        assert_eq!(exchange(&mut s, input, want.len()), *want);
        assert!(closed(&mut s), "connection left open after {input:?}");
    }
    let mut s = raw(&h);
    let want = b"-ERR unknown command 'foo', with args beginning with: 'bar' \r\n";
    assert_eq!(exchange(&mut s, b"foo bar\r\n", want.len()), want);
    let pong: String = redis::cmd("PING").query(&mut other).unwrap();
    assert_eq!(pong, "PONG");
}

// A client that announces a 100-byte value and vanishes after 3 bytes leaves no trace: the key is
// not written, and other clients carry on.
#[test]
fn a_client_disconnecting_mid_command_does_not_affect_others() {
    for mode in [Mode::Single, Mode::Shared] {
        let h = start(mode);
        let mut other = client(&h);
        {
            let mut s = raw(&h);
            s.write_all(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$100\r\nabc")
                .unwrap();
        }
        // Also one that announces an absurd argument count and leaves.
        {
            let mut s = raw(&h);
            s.write_all(b"*2000000000\r\n$3\r\nSET\r\n").unwrap();
        }
        let _: () = redis::cmd("SET")
            .arg("whole")
            .arg("yes")
            .query(&mut other)
            .unwrap();
        let exists: i64 = redis::cmd("EXISTS").arg("half").query(&mut other).unwrap();
        assert_eq!(exists, 0);
        let v: String = redis::cmd("GET").arg("whole").query(&mut other).unwrap();
        assert_eq!(v, "yes");
    }
}

/// The `requests per second` of one test in `redis-benchmark -q` output, e.g. `SET: 51020.41 requests per second, ...`.
fn rps(output: &str, test: &str) -> Option<f64> {
    output
        .split(['\r', '\n'])
        .rev()
        .find_map(|l| l.trim().strip_prefix(&format!("{test}: ")))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

#[test]
fn rps_parsing() {
    let out = "SET: rps=0.0\rSET: 51020.41 requests per second, p50=0.5 msec\nGET: 1.5 requests per second\n";
    assert_eq!(rps(out, "SET"), Some(51020.41));
    assert_eq!(rps(out, "GET"), Some(1.5));
    assert_eq!(rps(out, "ZADD"), None);
}

#[test]
fn redis_benchmark_runs_against_the_server() {
    let h = start(Mode::Single);
    let child = std::process::Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &h.addr().port().to_string()])
        .args(["-t", "set,get", "-n", "2000", "-c", "10", "-q"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(!ci(), "CI=true and redis-benchmark cannot run: {e}");
            println!("SKIPPED: redis-benchmark not found ({e})");
            return;
        }
    };
    // A hung benchmark must not hang the suite: give it 60 s, then kill it and fail.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("poll redis-benchmark").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("redis-benchmark did not finish within 60 s against lab serve");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child
        .wait_with_output()
        .expect("collect redis-benchmark output");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "redis-benchmark failed: {text}");
    for test in ["SET", "GET"] {
        let r = rps(&text, test).unwrap_or_else(|| panic!("no {test} rate in {text:?}"));
        assert!(r > 0.0, "{test}: {r}");
    }
}

/// Runs `redis-cli` against the server with `args`, killing it after 30 s; `None` when it is not
/// installed (a failure under CI=true).
fn redis_cli(h: &Handle, args: &[&str]) -> Option<String> {
    let port = h.addr().port().to_string();
    let child = std::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(!ci(), "CI=true and redis-cli cannot run: {e}");
            println!("SKIPPED: redis-cli not found ({e})");
            return None;
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("poll redis-cli").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("redis-cli {args:?} did not finish within 30 s against lab serve");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("collect redis-cli output");
    assert!(out.status.success(), "redis-cli {args:?} failed: {out:?}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn redis_cli_works_unchanged() {
    for mode in [Mode::Single, Mode::Shared] {
        let h = start(mode);
        let Some(pong) = redis_cli(&h, &["ping"]) else {
            return;
        };
        assert_eq!(pong.trim(), "PONG");
        let added = redis_cli(&h, &["zadd", "board", "1", "a", "2.5", "b"]).unwrap();
        assert_eq!(added.trim(), "2");
        let range = redis_cli(&h, &["zrange", "board", "0", "-1", "withscores"]).unwrap();
        assert_eq!(range.lines().collect::<Vec<_>>(), ["a", "1", "b", "2.5"]);
        let encoding = redis_cli(&h, &["object", "encoding", "board"]).unwrap();
        assert_eq!(encoding.trim(), "listpack");
        let wrong = redis_cli(&h, &["get", "board"]).unwrap();
        assert!(wrong.starts_with("WRONGTYPE"), "{wrong}");
    }
}

//! Expiry and eviction in `lab serve`, against the real Redis 7.0 (redis-03, redis-05).
//!
//! - Differential: the same commands — a fixed script and seeded random sequences of SET with
//!   its expire options, EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with NX/XX/GT/LT, TTL/PTTL, PERSIST,
//!   OBJECT FREQ/IDLETIME and their errors — go to `lab serve` and to Redis over raw sockets; the
//!   replies must be identical, except that a TTL may differ by the time that passed between the
//!   two servers (1 s for TTL, 1.5 s for PTTL and OBJECT IDLETIME's 1 s). Relative deadlines are
//!   only combined with NX/XX (GT/LT against them would depend on which millisecond each server
//!   ran in); GT/LT get absolute deadlines.
//! - On the shared Redis only keys under `lab:<scope>:` are used, and no setting is changed. What
//!   needs server-wide settings (maxmemory-policy, lfu-log-factor, hz, CONFIG SET errors, DBSIZE,
//!   INFO counters, active expiry) runs against a throw-away `redis-server`
//!   ([`cache::scratch::ScratchRedis`]).
//! - Eviction in `lab serve` under each policy family: allkeys-lru takes the older keys,
//!   noeviction answers with Redis's OOM error, volatile-* only takes keys with a TTL,
//!   volatile-ttl the soonest deadline, allkeys-lfu the least used keys.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cache::scratch::ScratchRedis;
use catalog::testing::needed;
use respd::differential::{
    EXPIRY_SCRIPT, Raw, SETTINGS_SCRIPT, Seq, random_expiry_command, replies_agree,
};
use respd::{Handle, Mode};

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Sends `line` to both and requires agreeing replies.
fn both(ours: &mut Raw, theirs: &mut Raw, line: &str) {
    let command = line.split(' ').next().unwrap_or_default();
    let (a, b) = (ours.line(line), theirs.line(line));
    assert!(
        replies_agree(command, &a, &b),
        "{line}\n  lab serve: {a:?}\n  redis:     {b:?}"
    );
}

fn shared_redis(scope: &str) -> Option<(servers::RedisLab, Raw)> {
    let lab = servers::redis_target()
        .map_err(|e| e.to_string())
        .and_then(|t| servers::RedisLab::connect(&t, scope).map_err(|e| e.to_string()));
    let lab = needed("real Redis", lab)?;
    let raw = Raw::connect(lab.target().port).expect("connect to Redis");
    Some((lab, raw))
}

fn scratch_redis(scope: &str) -> Option<(ScratchRedis, Raw)> {
    let s = needed("a throw-away redis-server", ScratchRedis::start(scope))?;
    let raw = Raw::connect(s.port()).expect("connect to redis-server");
    Some((s, raw))
}

fn lab_serve() -> (Handle, Raw) {
    let h = Handle::start(Mode::Single, 0, 1).expect("start lab serve");
    let raw = Raw::connect(h.addr().port()).expect("connect to lab serve");
    (h, raw)
}

#[test]
fn expiry_replies_match_the_real_redis() {
    let Some((lab, mut redis)) = shared_redis("redis-05-respd-fixed") else {
        return;
    };
    let (_server, mut ours) = lab_serve();
    let far_ms = unix_ms() + 1_000_000_000;
    let far_s = far_ms / 1000;
    for line in EXPIRY_SCRIPT {
        let line = line
            .replace("{k}", &lab.key("k"))
            .replace("{s}", &lab.key("s"))
            .replace("{z}", &lab.key("z"))
            .replace("{far_ms}", &far_ms.to_string())
            .replace("{far_s}", &far_s.to_string());
        both(&mut ours, &mut redis, &line);
    }
    drop(lab);
}

#[test]
fn seeded_expiry_sequences_match_the_real_redis() {
    let Some((lab, mut redis)) = shared_redis("redis-05-respd-seeded") else {
        return;
    };
    let (_server, mut ours) = lab_serve();
    let keys: Vec<String> = (0..4).map(|i| lab.key(&format!("k{i}"))).collect();
    let far_s = unix_ms() / 1000 + 1_000_000;
    for seed in [0x5EED_0005u64, 0xE_C0DE, 42] {
        let mut seq = Seq(seed);
        for i in 0..250 {
            let line = random_expiry_command(&mut seq, &keys, far_s);
            let command = line.split(' ').next().unwrap_or_default().to_string();
            let (a, b) = (ours.line(&line), redis.line(&line));
            assert!(
                replies_agree(&command, &a, &b),
                "seed {seed:#x}, command #{i}: {line}\n  lab serve: {a:?}\n  redis:     {b:?}"
            );
        }
    }
    drop(lab);
}

#[test]
fn settings_lfu_counters_and_counters_match_a_scratch_redis() {
    let Some((scratch, mut redis)) = scratch_redis("redis-03-respd") else {
        return;
    };
    let (_server, mut ours) = lab_serve();
    for raw in [&mut ours, &mut redis] {
        raw.line("CONFIG SET active-expire-effort 1");
        // The counters below are compared, so both start from zero.
        raw.line("CONFIG RESETSTAT");
    }
    for line in SETTINGS_SCRIPT {
        let line = line
            .replace("{k}", &scratch.key("k"))
            .replace("{n}", &scratch.key("n"))
            .replace("{z}", &scratch.key("z"))
            .replace("{x}", &scratch.key("x"));
        both(&mut ours, &mut redis, &line);
    }
    for field in [
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
    ] {
        let (a, b) = (
            ours.info_field("stats", field),
            redis.info_field("stats", field),
        );
        assert_eq!(a, b, "INFO {field}: lab serve {a}, redis {b}");
    }
}

/// Polls `DBSIZE` until it is `want` or `limit` passes; the final size. The servers' timers do the
/// work, this only watches (a timeout as a safety net, not an ordering).
fn dbsize_reaches(raw: &mut Raw, want: i64, limit: Duration) -> i64 {
    let deadline = Instant::now() + limit;
    loop {
        let n = raw.int("DBSIZE");
        if n == want || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// Active expiry: keys with a passed deadline that nobody touches still count in DBSIZE, and
// then the hz timer's cycle removes them, counting expired_keys, in lab serve as in Redis.
#[test]
fn untouched_expired_keys_are_removed_by_the_timer_in_both() {
    let Some((scratch, mut redis)) = scratch_redis("redis-05-respd-active") else {
        return;
    };
    let (_server, mut ours) = lab_serve();
    for raw in [&mut ours, &mut redis] {
        raw.line("CONFIG RESETSTAT");
        for i in 0..10 {
            raw.call(&["SET", &scratch.key(&format!("keep{i}")), "v"]);
        }
        for i in 0..200 {
            raw.call(&["SET", &scratch.key(&format!("gone{i}")), "v", "PX", "50"]);
        }
        assert_eq!(raw.int("DBSIZE"), 210, "nothing expired yet");
    }
    for (name, raw) in [("lab serve", &mut ours), ("redis", &mut redis)] {
        let left = dbsize_reaches(raw, 10, Duration::from_secs(10));
        assert_eq!(left, 10, "{name}: the timer left {left} keys");
        assert_eq!(raw.info_field("stats", "expired_keys"), 200, "{name}");
    }
}

/// `n` keys `prefix<i>` of `value_len` bytes each.
fn fill(raw: &mut Raw, prefix: &str, n: usize, value_len: usize, extra: &[&str]) -> Vec<String> {
    let value = "x".repeat(value_len);
    (0..n)
        .map(|i| {
            let key = format!("{prefix}{i:03}");
            let mut args = vec!["SET", key.as_str(), value.as_str()];
            args.extend_from_slice(extra);
            let r = raw.call(&args);
            assert_eq!(r, "+OK\r\n", "SET {key}");
            key
        })
        .collect()
}

fn existing(raw: &mut Raw, keys: &[String]) -> Vec<bool> {
    keys.iter()
        .map(|k| raw.call(&["EXISTS", k]) == ":1\r\n")
        .collect()
}

/// Waits until lab serve's LRU clock (1 s resolution) has moved past `key`'s last access, so
/// keys touched from now on are strictly younger.
fn next_lru_second(raw: &mut Raw, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while raw.call(&["OBJECT", "IDLETIME", key]) == ":0\r\n" {
        assert!(Instant::now() < deadline, "the LRU clock did not move");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// allkeys-lru with samples covering the keyspace: filling past maxmemory evicts the keys written
// a second earlier, never the newer ones, and INFO evicted_keys counts them.
#[test]
fn allkeys_lru_evicts_the_older_keys() {
    let (_server, mut s) = lab_serve();
    s.line("CONFIG SET maxmemory-policy allkeys-lru maxmemory-samples 64");
    let old = fill(&mut s, "old", 30, 100, &[]);
    let per_key = s.info_field("memory", "used_memory") / 30;
    s.line(&format!("CONFIG SET maxmemory {}", per_key * 40));
    next_lru_second(&mut s, &old[29]);
    let new = fill(&mut s, "new", 25, 100, &[]);
    let old_kept = existing(&mut s, &old).iter().filter(|&&k| k).count();
    assert!(
        existing(&mut s, &new).iter().all(|&k| k),
        "a new key was evicted"
    );
    assert!(old_kept <= 16, "{old_kept} old keys kept: too few evicted");
    assert_eq!(
        s.info_field("stats", "evicted_keys"),
        (30 - old_kept) as u64
    );
    assert!(s.info_field("memory", "used_memory") <= per_key * 41);
}

// noeviction: once over maxmemory, SET and INCR get Redis's OOM error; GET and DEL still run,
// and after DEL there is room again.
#[test]
fn noeviction_refuses_writes_with_the_oom_error() {
    let (_server, mut s) = lab_serve();
    let keys = fill(&mut s, "k", 10, 100, &[]);
    s.line("CONFIG SET maxmemory 500");
    let oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    assert_eq!(s.line("SET other v"), oom);
    assert_eq!(s.line("INCR counter"), oom);
    assert_eq!(s.line("ZADD z 1 a"), oom);
    assert!(s.call(&["GET", &keys[0]]).starts_with("$100"));
    let mut del = vec!["DEL"];
    del.extend(keys.iter().map(String::as_str));
    assert_eq!(s.call(&del), ":10\r\n");
    assert_eq!(s.line("SET other v"), "+OK\r\n");
    assert_eq!(s.info_field("stats", "evicted_keys"), 0);
}

// volatile-lru and volatile-random evict only keys with a TTL; when none is left, writes get OOM.
#[test]
fn volatile_policies_evict_only_keys_with_a_ttl() {
    for policy in ["volatile-lru", "volatile-random", "volatile-lfu"] {
        let (_server, mut s) = lab_serve();
        let plain = fill(&mut s, "plain", 10, 100, &[]);
        let timed = fill(&mut s, "timed", 10, 100, &["EX", "1000"]);
        let used = s.info_field("memory", "used_memory");
        s.line(&format!(
            "CONFIG SET maxmemory-policy {policy} maxmemory {used}"
        ));
        let mut refused_at = None;
        for i in 0..30 {
            let r = s.call(&["SET", &format!("more{i:02}"), &"y".repeat(100)]);
            if r.starts_with("-OOM") {
                refused_at = Some(i);
                break;
            }
        }
        assert!(
            existing(&mut s, &plain).iter().all(|&k| k),
            "{policy}: a key without TTL was evicted"
        );
        assert!(
            existing(&mut s, &timed).iter().all(|&k| !k),
            "{policy}: keys with a TTL left while writes failed"
        );
        assert!(refused_at.is_some(), "{policy}: never ran out of victims");
        assert_eq!(s.info_field("stats", "evicted_keys"), 10, "{policy}");
    }
}

// volatile-ttl: the key with the soonest deadline goes first.
#[test]
fn volatile_ttl_evicts_the_soonest_deadline_first() {
    let (_server, mut s) = lab_serve();
    s.line("CONFIG SET maxmemory-policy volatile-ttl maxmemory-samples 64");
    let value = "z".repeat(100);
    for (key, ttl) in [("late", "5000"), ("soon", "100"), ("middle", "1000")] {
        s.call(&["SET", key, &value, "EX", ttl]);
    }
    let used = s.info_field("memory", "used_memory");
    s.line(&format!("CONFIG SET maxmemory {used}"));
    s.call(&["SET", "new1", &value]);
    s.line("PING");
    assert_eq!(s.line("EXISTS soon"), ":0\r\n");
    assert_eq!(s.line("EXISTS middle late"), ":2\r\n");
    s.call(&["SET", "new2", &value]);
    s.line("PING");
    assert_eq!(s.line("EXISTS middle"), ":0\r\n");
    assert_eq!(s.line("EXISTS late"), ":1\r\n");
}

// allkeys-lfu with lfu-log-factor 0 (every access counts): the keys read five times survive;
// the victims are keys at the initial counter (never-read old keys, or a new key before its read).
#[test]
fn allkeys_lfu_keeps_the_frequently_used_keys() {
    let (_server, mut s) = lab_serve();
    s.line("CONFIG SET maxmemory-policy allkeys-lfu lfu-log-factor 0 maxmemory-samples 64");
    let hot = fill(&mut s, "hot", 10, 100, &[]);
    let cold = fill(&mut s, "cold", 10, 100, &[]);
    for _ in 0..5 {
        for k in &hot {
            s.call(&["GET", k]);
        }
    }
    let used = s.info_field("memory", "used_memory");
    s.line(&format!("CONFIG SET maxmemory {used}"));
    let new: Vec<String> = (0..8).map(|i| format!("new{i}")).collect();
    for k in &new {
        s.call(&["SET", k, &"n".repeat(100)]);
        s.call(&["GET", k]);
    }
    assert!(existing(&mut s, &hot).iter().all(|&k| k), "a hot key went");
    let gone = existing(&mut s, &cold)
        .into_iter()
        .chain(existing(&mut s, &new))
        .filter(|&k| !k)
        .count() as u64;
    assert!(gone >= 7, "only {gone} evicted");
    assert_eq!(s.info_field("stats", "evicted_keys"), gone);
}

// The hz timer also runs in shared mode, as a task on the multi-threaded runtime that takes the
// keyspace's lock for one tick; with DEBUG SET-ACTIVE-EXPIRE 0 it leaves expired keys alone.
#[test]
fn the_timer_expires_keys_in_shared_mode_too() {
    let h = Handle::start(Mode::Shared, 0, 2).expect("start lab serve");
    let mut s = Raw::connect(h.addr().port()).expect("connect to lab serve");
    s.line("DEBUG SET-ACTIVE-EXPIRE 0");
    for i in 0..50 {
        s.call(&["SET", &format!("k{i}"), "v", "PXAT", "1"]);
    }
    // Several ticks at hz 100 with the cycle off: nothing removed.
    s.line("CONFIG SET hz 100");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(s.int("DBSIZE"), 50);
    s.line("DEBUG SET-ACTIVE-EXPIRE 1");
    assert_eq!(dbsize_reaches(&mut s, 0, Duration::from_secs(10)), 0);
    assert_eq!(s.info_field("stats", "expired_keys"), 50);
}

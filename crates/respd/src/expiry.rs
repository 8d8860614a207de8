//! Keys with a time to live, as Redis 7.0 expires them (redis-05, 「Redis的过期策略」).
//!
//! A key's deadline is an absolute Unix time in milliseconds kept in a second table, `expires`,
//! beside the keyspace, as Redis keeps `db->expires` beside `db->dict`. Two ways remove a key
//! whose deadline has passed:
//!
//! - **lazily**, on access: every command that looks a key up first calls
//!   [`Db::expire_if_needed`] (Redis's `expireIfNeeded`), which deletes it and counts
//!   `expired_keys`; the command then sees no key;
//! - **actively**, on the server's `hz` timer: [`Db::active_expire_cycle`] samples keys of
//!   `expires` ([`cache::expire::CycleParams`]: 20 per loop at `active-expire-effort` 1), deletes
//!   the expired ones, and loops again while more than the acceptable share of the sample was stale
//!   ([`cache::expire::should_repeat`]), within 25% of a tick.
//!
//! Until one of the two happens, an expired key still takes memory and still counts in `DBSIZE`.
//!
//! ```text
//!   SET k v PX 100 ─► map[k] = v, expires[k] = now+100
//!   t+150: DBSIZE = 1 (nobody touched k) ─► GET k ─► expireIfNeeded: deleted, expired_keys+1 ─► nil
//!   or, with no GET: the next tick's cycle samples k ─► deleted
//! ```
//!
//! The parsing rules (which argument errors come first, the overflow checks, `NX|XX|GT|LT`) are
//! the pure functions below, each checked against Redis 7.0.15's replies in `tests/expiry.rs`.
//!
//! ## How the real system differs
//! Redis's cycle walks `expires` bucket by bucket with a cursor it keeps between calls; here the
//! sample is `keys_per_loop` random keys of the table ([`crate::table::KeyTable::random`]). Redis also runs a *fast* cycle before each event-loop sleep; here
//! only the slow cycle runs, on the timer. Time is read from the system clock when a command needs
//! it; Redis 7.0 reads it the same way (`mstime()`), 7.2 caches one time per command.

use std::time::{SystemTime, UNIX_EPOCH};

use cache::expire::{CycleParams, should_repeat};

use crate::db::Db;
use crate::resp::parse_i64;

/// Redis's reply to an expire time that is not positive (SET) or that overflows.
pub fn invalid_expire_error(command: &str) -> String {
    format!("ERR invalid expire time in '{command}' command")
}

pub const NOT_AN_INTEGER: &str = "ERR value is not an integer or out of range";

/// The wall clock in Unix milliseconds.
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `EXPIRE`'s optional flags (Redis 7.0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpireFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
}

/// `parseExtendedExpireArgumentsOrReply`: every option is read first, then the incompatible pairs
/// are refused (NX with any other first, then GT with LT).
pub fn parse_expire_flags(args: &[Vec<u8>]) -> Result<ExpireFlags, String> {
    let mut f = ExpireFlags::default();
    for a in args {
        if a.eq_ignore_ascii_case(b"NX") {
            f.nx = true;
        } else if a.eq_ignore_ascii_case(b"XX") {
            f.xx = true;
        } else if a.eq_ignore_ascii_case(b"GT") {
            f.gt = true;
        } else if a.eq_ignore_ascii_case(b"LT") {
            f.lt = true;
        } else {
            return Err(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(a)
            ));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err("ERR NX and XX, GT or LT options at the same time are not compatible".into());
    }
    if f.gt && f.lt {
        return Err("ERR GT and LT options at the same time are not compatible".into());
    }
    Ok(f)
}

/// The absolute deadline (Unix ms) `EXPIRE`-family arguments ask for: `arg` in seconds or
/// milliseconds, added to `base` (now for EXPIRE/PEXPIRE, 0 for the `AT` forms). Negative results
/// are allowed (the key is then deleted); overflow is refused as Redis refuses it.
pub fn expire_deadline(command: &str, arg: &[u8], seconds: bool, base: i64) -> Result<i64, String> {
    let mut when = parse_i64(arg).ok_or_else(|| NOT_AN_INTEGER.to_string())?;
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(invalid_expire_error(command));
        }
        when *= 1000;
    }
    if when > i64::MAX - base {
        return Err(invalid_expire_error(command));
    }
    Ok(when + base)
}

/// Whether `EXPIRE`'s flags let a key whose current deadline is `current` (`None`: no TTL) get
/// the deadline `when`. GT treats "no TTL" as infinite (so it never passes); LT passes then.
pub fn expire_flags_allow(f: ExpireFlags, current: Option<i64>, when: i64) -> bool {
    if f.nx && current.is_some() {
        return false;
    }
    if f.xx && current.is_none() {
        return false;
    }
    if f.gt && current.is_none_or(|c| when <= c) {
        return false;
    }
    if f.lt && current.is_some_and(|c| when >= c) {
        return false;
    }
    true
}

/// The unit and base of `SET`'s expire option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetExpire {
    Ex,
    Px,
    Exat,
    Pxat,
}

/// `getExpireMillisecondsOrReply`: the value must be a positive integer, and the result must not
/// overflow once converted and (for EX/PX) added to now.
pub fn set_deadline(kind: SetExpire, arg: &[u8], now: i64) -> Result<i64, String> {
    let mut ms = parse_i64(arg).ok_or_else(|| NOT_AN_INTEGER.to_string())?;
    let seconds = matches!(kind, SetExpire::Ex | SetExpire::Exat);
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(invalid_expire_error("set"));
    }
    if seconds {
        ms *= 1000;
    }
    if matches!(kind, SetExpire::Ex | SetExpire::Px) {
        if ms > i64::MAX - now {
            return Err(invalid_expire_error("set"));
        }
        ms += now;
    }
    Ok(ms)
}

/// `SET`'s options after the value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetOptions<'a> {
    pub nx: bool,
    pub xx: bool,
    pub get: bool,
    pub keepttl: bool,
    pub expire: Option<(SetExpire, &'a [u8])>,
}

/// `parseExtendedStringArgumentsOrReply` for `SET`: an option is accepted only when it does not
/// clash with one already seen (NX/XX, KEEPTTL/any expire, two different expire units), and an
/// expire option needs a following argument; anything else is `ERR syntax error`. The expire value
/// itself is parsed later ([`set_deadline`]), so a syntax error wins over a bad number.
pub fn parse_set_options(args: &[Vec<u8>]) -> Result<SetOptions<'_>, &'static str> {
    let mut o = SetOptions::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_slice();
        let next = args.get(i + 1);
        let unit = |name: &[u8], kind| a.eq_ignore_ascii_case(name).then_some(kind);
        let kind = unit(b"EX", SetExpire::Ex)
            .or_else(|| unit(b"PX", SetExpire::Px))
            .or_else(|| unit(b"EXAT", SetExpire::Exat))
            .or_else(|| unit(b"PXAT", SetExpire::Pxat));
        if a.eq_ignore_ascii_case(b"NX") && !o.xx {
            o.nx = true;
        } else if a.eq_ignore_ascii_case(b"XX") && !o.nx {
            o.xx = true;
        } else if a.eq_ignore_ascii_case(b"GET") {
            o.get = true;
        } else if a.eq_ignore_ascii_case(b"KEEPTTL") && o.expire.is_none() {
            o.keepttl = true;
        } else if let Some(kind) = kind
            && !o.keepttl
            && o.expire.is_none_or(|(k, _)| k == kind)
            && let Some(v) = next
        {
            o.expire = Some((kind, v.as_slice()));
            i += 1;
        } else {
            return Err("ERR syntax error");
        }
        i += 1;
    }
    Ok(o)
}

/// `TTL`/`PTTL`'s reply from a deadline: milliseconds left (never below 0), or seconds rounded to
/// the nearest (`(ms + 500) / 1000`).
pub fn ttl_reply(deadline: i64, now: i64, in_ms: bool) -> i64 {
    let left = (deadline - now).max(0);
    if in_ms { left } else { (left + 500) / 1000 }
}

impl Db {
    /// `expireIfNeeded`: deletes `key` if its deadline has passed; true if it did.
    /// Free when no key has a TTL (one length check).
    pub fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        if self.expires.is_empty() {
            return false;
        }
        match self.expires.get(key) {
            Some(&when) if when <= unix_ms() => {
                self.delete_key(key);
                self.stats.expired_keys += 1;
                true
            }
            _ => false,
        }
    }

    /// The deadline of `key`, if it has one.
    pub fn deadline(&self, key: &[u8]) -> Option<i64> {
        if self.expires.is_empty() {
            return None;
        }
        self.expires.get(key).copied()
    }

    /// Gives `key` (which must exist) the deadline `when`.
    pub(crate) fn set_deadline(&mut self, key: &[u8], when: i64) {
        if let Some(slot) = self.expires.get_mut(key) {
            *slot = when;
        } else {
            self.expires.insert(key.to_vec(), when);
            self.used += crate::memory::EXPIRE_OVERHEAD + key.len();
        }
    }

    /// Removes `key`'s deadline; true if it had one.
    pub(crate) fn remove_deadline(&mut self, key: &[u8]) -> bool {
        if self.expires.is_empty() {
            return false;
        }
        let had = self.expires.remove(key).is_some();
        if had {
            self.used -= crate::memory::EXPIRE_OVERHEAD + key.len();
        }
        had
    }

    /// One slow `activeExpireCycle` on the `hz` timer: loops of `keys_per_loop` random keys of
    /// `expires`, again while the stale share of a loop is above the acceptable percentage, until
    /// the time budget (25% of a tick at effort 1) is spent. Returns the keys it deleted.
    pub fn active_expire_cycle(&mut self) -> u64 {
        let params = CycleParams::for_effort(self.evict.active_expire_effort);
        let budget = std::time::Duration::from_micros(params.slow_time_limit_us(self.evict.hz));
        let start = std::time::Instant::now();
        let mut deleted = 0;
        while !self.expires.is_empty() {
            let now = unix_ms();
            let n = params.keys_per_loop.min(self.expires.len() as u64);
            let (mut sampled, mut expired) = (0, 0);
            for _ in 0..n {
                if self.expires.is_empty() {
                    break;
                }
                let (key, &when) = self.expires.random(&mut self.rng).expect("not empty");
                sampled += 1;
                if when <= now {
                    let key = key.clone();
                    self.delete_key(&key);
                    self.stats.expired_keys += 1;
                    expired += 1;
                }
            }
            deleted += expired;
            if !should_repeat(sampled, expired, params.acceptable_stale) || start.elapsed() > budget
            {
                break;
            }
        }
        deleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn expire_flags_follow_redis() {
        let f = |a: &[&str]| parse_expire_flags(&v(a));
        assert!(f(&["nx"]).unwrap().nx);
        assert!(f(&["NX", "XX"]).unwrap_err().starts_with("ERR NX and XX"));
        assert!(f(&["GT", "LT"]).unwrap_err().starts_with("ERR GT and LT"));
        assert_eq!(f(&["FOO"]).unwrap_err(), "ERR Unsupported option FOO");
        let gt = ExpireFlags {
            gt: true,
            ..ExpireFlags::default()
        };
        let lt = ExpireFlags {
            lt: true,
            ..ExpireFlags::default()
        };
        // GT: no TTL is infinite, so GT never passes; LT always passes then.
        assert!(!expire_flags_allow(gt, None, 10));
        assert!(expire_flags_allow(lt, None, 10));
        assert!(expire_flags_allow(gt, Some(5), 10));
        // Counterexamples: equal deadlines pass neither.
        assert!(!expire_flags_allow(gt, Some(10), 10));
        assert!(!expire_flags_allow(lt, Some(10), 10));
    }

    #[test]
    fn deadlines_refuse_overflow_like_redis() {
        assert_eq!(expire_deadline("expire", b"10", true, 1000), Ok(11_000));
        assert_eq!(expire_deadline("expire", b"-5", true, 1000), Ok(-4000));
        assert!(expire_deadline("expire", b"9223372036854775807", true, 0).is_err());
        assert!(expire_deadline("pexpire", b"9223372036854775807", false, 1).is_err());
        assert_eq!(
            expire_deadline("expire", b"x", true, 0),
            Err(NOT_AN_INTEGER.into())
        );
        assert!(set_deadline(SetExpire::Ex, b"0", 1).is_err());
        assert!(set_deadline(SetExpire::Ex, b"9223372036854775", 1_700_000_000_000).is_err());
        assert!(set_deadline(SetExpire::Ex, b"922337203685477", 1_700_000_000_000).is_ok());
        assert_eq!(
            set_deadline(SetExpire::Pxat, b"9223372036854775807", 5),
            Ok(i64::MAX)
        );
    }

    #[test]
    fn set_options_clash_as_in_redis() {
        let ok = |a: &[&str]| parse_set_options(&v(a)).is_ok();
        assert!(ok(&["EX", "10", "NX", "GET"]));
        assert!(ok(&["EX", "1", "EX", "2"]));
        // Counterexamples: each is a syntax error in Redis 7.0.15.
        for bad in [
            &["EX", "10", "PX", "10"][..],
            &["EX", "10", "KEEPTTL"],
            &["KEEPTTL", "EX", "10"],
            &["NX", "XX"],
            &["EX"],
            &["PERSIST"],
        ] {
            assert!(!ok(bad), "{bad:?}");
        }
    }

    #[test]
    fn ttl_rounds_to_the_nearest_second() {
        assert_eq!(ttl_reply(10_499, 0, false), 10);
        assert_eq!(ttl_reply(10_500, 0, false), 11);
        assert_eq!(ttl_reply(5, 10, true), 0);
    }
}

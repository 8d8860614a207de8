//! A model of the single-instance Redis lock (redis-08): `SET key token NX PX ttl` to take it, and
//! a compare-and-delete (a Lua script in Redis) to release it. Run under the injected clock, so "the
//! lock expired while its holder was paused" is one `advance_ms` away.
//!
//! ```text
//!   t=0    A: SET lock a NX PX 100   → OK        (A holds the lock until t=100)
//!   t=150  (A paused: GC, swap, slow I/O; the lock expired at t=100)
//!   t=150  B: SET lock b NX PX 100   → OK        (B holds the lock)
//!   t=160  A resumes, "releases":  DEL lock        → 1: B's lock is gone   ✗ unsafe
//!                                  release(lock, a) → 0: token b ≠ a, kept ✓ safe
//!   t=161  C: SET lock c NX PX 100   → OK after A's DEL: B and C both "hold" it
//! ```
//!
//! The token makes the release safe; it does not make the lock safe: A still ran its critical
//! section after its lock expired. Fencing tokens (a number that grows with each acquisition,
//! checked by the resource) are the fix the Redis distributed-lock page points to.
//!
//! ## How the real system differs
//! Redis expires the key by wall clock (lazily on access and by the active cycle); here expiry is
//! lazy on every call under the injected clock, with Redis's rule (expired when `now > deadline`).

use std::collections::HashMap;

use crate::clock::Clock;

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct LockTable {
    clock: Clock,
    /// key → (token, absolute deadline in ms).
    locks: HashMap<String, (String, u64)>,
}

impl LockTable {
    pub fn new(clock: Clock) -> Self {
        LockTable {
            clock,
            locks: HashMap::new(),
        }
    }

    fn expire(&mut self, key: &str) {
        let now = self.clock.now_ms();
        if self.locks.get(key).is_some_and(|(_, d)| now > *d) {
            self.locks.remove(key);
        }
    }

    /// `SET key token NX PX ttl_ms`: true ("OK") when the key was free.
    pub fn set_nx_px(&mut self, key: &str, token: &str, ttl_ms: u64) -> bool {
        self.expire(key);
        if self.locks.contains_key(key) {
            return false;
        }
        let deadline = self.clock.now_ms() + ttl_ms;
        self.locks
            .insert(key.to_string(), (token.to_string(), deadline));
        true
    }

    /// `GET key`: the current holder's token.
    pub fn holder(&mut self, key: &str) -> Option<String> {
        self.expire(key);
        self.locks.get(key).map(|(t, _)| t.clone())
    }

    /// `DEL key`: deletes whoever's lock it is.
    pub fn del(&mut self, key: &str) -> bool {
        self.expire(key);
        self.locks.remove(key).is_some()
    }

    /// The Lua release: delete only if the value is still `token`.
    pub fn release(&mut self, key: &str, token: &str) -> bool {
        self.expire(key);
        if self.locks.get(key).is_some_and(|(t, _)| t == token) {
            self.locks.remove(key);
            true
        } else {
            false
        }
    }
}

/// One step of a lock schedule: who does what, at which time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `(client, ttl_ms)`: `SET lock <client> NX PX <ttl_ms>`.
    Acquire(&'static str, u64),
    /// Plain DEL by a client.
    Del(&'static str),
    /// Compare-and-delete with the client's token.
    Release(&'static str),
    /// Time passes.
    Wait(u64),
}

/// Runs a schedule on a fresh lock table (clock at 0); each step with its reply (`Wait` → true).
pub fn run_schedule(steps: &[Step]) -> Vec<(Step, bool)> {
    let clock = Clock::at(0);
    let mut t = LockTable::new(clock.clone());
    steps
        .iter()
        .map(|&s| {
            let reply = match s {
                Step::Acquire(c, ttl) => t.set_nx_px("lock", c, ttl),
                Step::Del(_) => t.del("lock"),
                Step::Release(c) => t.release("lock", c),
                Step::Wait(ms) => {
                    clock.advance_ms(ms);
                    true
                }
            };
            (s, reply)
        })
        .collect()
}

/// Mutual exclusion broken: some acquisition succeeded while another client's lock was still
/// within its TTL and that client had not released it. (A holder whose TTL ran out no longer
/// counts — that hazard is the pause, not the release.)
pub fn double_grant(steps: &[Step]) -> bool {
    let clock = Clock::at(0);
    let mut t = LockTable::new(clock.clone());
    // Clients granted the lock, with the deadline of their grant, until they release it.
    let mut granted: Vec<(&'static str, u64)> = Vec::new();
    for &s in steps {
        match s {
            Step::Acquire(c, ttl) => {
                if t.set_nx_px("lock", c, ttl) {
                    let now = clock.now_ms();
                    if granted.iter().any(|&(h, d)| h != c && now <= d) {
                        return true;
                    }
                    granted.push((c, now + ttl));
                }
            }
            Step::Del(c) => {
                t.del("lock");
                granted.retain(|(h, _)| *h != c);
            }
            Step::Release(c) => {
                t.release("lock", c);
                granted.retain(|(h, _)| *h != c);
            }
            Step::Wait(ms) => clock.advance_ms(ms),
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use Step::*;

    const UNSAFE: &[Step] = &[
        Acquire("a", 100),
        Wait(150),
        Acquire("b", 100),
        Wait(10),
        Del("a"),
        Acquire("c", 100),
    ];
    const SAFE: &[Step] = &[
        Acquire("a", 100),
        Wait(150),
        Acquire("b", 100),
        Wait(10),
        Release("a"),
        Acquire("c", 100),
    ];

    #[test]
    fn a_plain_del_releases_someone_elses_lock() {
        // The phenomenon: A's DEL after its lock expired removes B's lock, and C gets in while
        // B's lock should still be valid.
        let trace = run_schedule(UNSAFE);
        let replies: Vec<bool> = trace.iter().map(|(_, r)| *r).collect();
        assert_eq!(replies, vec![true, true, true, true, true, true]);
        assert!(double_grant(UNSAFE));
        // Counterexample: the token-checked release refuses, and C waits.
        let trace = run_schedule(SAFE);
        let replies: Vec<bool> = trace.iter().map(|(_, r)| *r).collect();
        assert_eq!(replies, vec![true, true, true, true, false, false]);
        assert!(!double_grant(SAFE));
    }

    #[test]
    fn expiry_is_strictly_after_the_deadline() {
        let clock = Clock::at(0);
        let mut t = LockTable::new(clock.clone());
        assert!(t.set_nx_px("l", "a", 100));
        clock.advance_ms(100);
        assert!(
            !t.set_nx_px("l", "b", 100),
            "at the deadline it still holds"
        );
        clock.advance_ms(1);
        assert!(t.set_nx_px("l", "b", 100));
        assert_eq!(t.holder("l").as_deref(), Some("b"));
    }
}

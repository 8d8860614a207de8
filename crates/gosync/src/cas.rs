//! Compare-and-swap: "set it to `new`, but only if it is still `old`", in one atomic step, and the
//! retry loop built on it.
//!
//! Interview question go-29 (「Go中CAS是怎么回事」). Go's `atomic.CompareAndSwapInt64(&x, old, new)`
//! (and `atomic.Int64.CompareAndSwap`) is the compiler intrinsic for `internal/runtime/atomic`'s
//! `Cas64`, which on amd64 is one `LOCK CMPXCHGQ`; Rust's `AtomicU64::compare_exchange` is the
//! same instruction on x86-64. A CAS never blocks: it either swaps or reports the value it found.
//! Anything can be made atomic with it by retrying:
//!
//! ```text
//!   loop {
//!       old := x.Load()                      read
//!       new := f(old)                        compute (any pure function of old)
//!       if x.CompareAndSwap(old, new) break  publish, only if nobody wrote in between
//!       retries++                            somebody did: read again
//!   }
//! ```
//!
//! The invariant: every successful swap replaced exactly the value its thread read, so no update
//! is lost, however many retries happen. One thread alone never retries (nobody writes in between);
//! with two threads running at once, some swaps fail and are retried ([`cas_increment`] counts them).
//!
//! Worked example (the `go-29/stale-expected-value-fails` demo replays it with two threads):
//! ```text
//!   x = 0
//!   A: old = load() = 0
//!                           B: x.fetch_add(1)        x = 1
//!   A: CAS(0 → 1) fails, finds 1
//!   A: CAS(1 → 2) succeeds                           x = 2, both increments kept
//! ```
//!
//! **Strong and weak.** Rust offers `compare_exchange` and `compare_exchange_weak`. The weak one
//! may fail even when the value matched. On LL/SC machines (ARM without LSE atomics, RISC-V,
//! POWER) it is a single load-linked/store-conditional attempt, and the store can fail after an
//! interrupt or cache traffic. The strong one loops inside to hide that. Inside a retry loop,
//! weak is the right choice: a spurious failure only costs one more iteration. Go exposes only the
//! strong form. On x86-64 both are one `LOCK CMPXCHG`, so weak never fails spuriously there.
//!
//! **ABA.** CAS compares values, not history: if x went 0 → 1 → 0 between a load and a CAS, the
//! CAS succeeds. For a counter that is harmless; for a lock-free stack whose head pointer was
//! popped, freed and pushed again, it corrupts the stack. The usual fix is a version tag next to
//! the value, swapped together ([`Tagged`]).
//!
//! ## How the real system differs
//! Go's CAS is always sequentially consistent; Rust asks for an ordering on success and on
//! failure (`AcqRel`/`Relaxed` here, enough for a counter). Go's garbage collector keeps a popped
//! node alive while any goroutine still holds a pointer to it, which removes the use-after-free
//! form of ABA, though not the "same value, different history" form shown here.

use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

/// Which compare-and-swap the retry loop uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `compare_exchange`: fails only when the value differs (Go's `CompareAndSwap`).
    Strong,
    /// `compare_exchange_weak`: may also fail spuriously (on LL/SC machines).
    Weak,
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Strong => "compare_exchange",
            Flavor::Weak => "compare_exchange_weak",
        }
    }
}

/// One CAS attempt.
fn cas(counter: &AtomicU64, old: u64, new: u64, flavor: Flavor) -> Result<u64, u64> {
    match flavor {
        Flavor::Strong => counter.compare_exchange(old, new, Ordering::AcqRel, Ordering::Relaxed),
        Flavor::Weak => {
            counter.compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Relaxed)
        }
    }
}

/// The CAS retry loop, incrementing by one. Returns the number of failed swaps (retries).
pub fn cas_increment(counter: &AtomicU64, flavor: Flavor) -> u32 {
    let mut retries = 0;
    let mut current = counter.load(Ordering::Relaxed);
    loop {
        match cas(counter, current, current + 1, flavor) {
            Ok(_) => return retries,
            Err(actual) => {
                current = actual;
                retries += 1;
            }
        }
    }
}

/// What a run of CAS increments observed. Field names match `go/cmd/go29-cas`'s JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
pub struct CasRun {
    pub threads: u64,
    pub rounds: u64,
    pub rounds_with_retries: u64,
    #[serde(rename = "final")]
    pub final_count: u64,
    pub expected: u64,
    pub retries: u64,
    /// Summed over the rounds: how long all threads were running at the same time, and how long
    /// the rounds lasted from the first start to the last finish (ns). Their ratio says how much
    /// chance the threads had to collide.
    pub overlap_ns: u64,
    pub span_ns: u64,
}

impl CasRun {
    /// Failed swaps per successful increment.
    pub fn retry_rate(&self) -> f64 {
        self.retries as f64 / self.expected.max(1) as f64
    }

    /// The share of the run during which all threads were running together (0 to 1).
    pub fn overlap(&self) -> f64 {
        self.overlap_ns as f64 / self.span_ns.max(1) as f64
    }
}

/// For one round of threads that ran from `spans[i].0` to `spans[i].1`: (how long all of them ran
/// at once, first start to last finish), in ns.
pub fn overlap_of(spans: &[(Instant, Instant)]) -> (u64, u64) {
    let (Some(first), Some(last_start), Some(first_end), Some(last)) = (
        spans.iter().map(|s| s.0).min(),
        spans.iter().map(|s| s.0).max(),
        spans.iter().map(|s| s.1).min(),
        spans.iter().map(|s| s.1).max(),
    ) else {
        return (0, 0);
    };
    let ns = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    (
        ns(first_end.saturating_duration_since(last_start)),
        ns(last.saturating_duration_since(first)),
    )
}

/// A barrier that spins instead of parking: every thread arrives and busy-waits until all have
/// arrived, so all leave within a few hundred nanoseconds of each other. A parking barrier wakes
/// its sleepers through the kernel (and, on a VM, the hypervisor), which can take longer than a
/// whole round of 100 000 increments. Every 1 024 spins it yields, so it also finishes on one CPU.
#[derive(Debug)]
pub struct SpinBarrier {
    n: usize,
    arrived: AtomicU64,
}

impl SpinBarrier {
    pub fn new(n: usize) -> Self {
        SpinBarrier {
            n,
            arrived: AtomicU64::new(0),
        }
    }

    /// Arrives and waits for the others. One-shot: make a new barrier for each round.
    pub fn wait(&self) {
        self.arrived.fetch_add(1, Ordering::AcqRel);
        let mut spins = 0u32;
        while self.arrived.load(Ordering::Acquire) < self.n as u64 {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(1024) {
                thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

/// Runs rounds of `threads` threads, released together by a [`SpinBarrier`], each doing `each` CAS
/// increments of one counter: at least `min_rounds`, then more until some swap failed, at most
/// `max_rounds`. On a loaded machine two threads do not overlap in every round, hence the rounds.
pub fn cas_rounds(
    threads: usize,
    each: u64,
    min_rounds: u64,
    max_rounds: u64,
    flavor: Flavor,
) -> CasRun {
    let counter = AtomicU64::new(0);
    let mut run = CasRun {
        threads: threads as u64,
        ..CasRun::default()
    };
    while run.rounds < max_rounds && (run.rounds < min_rounds || run.retries == 0) {
        run.rounds += 1;
        let barrier = SpinBarrier::new(threads);
        let per_thread: Vec<(u64, (Instant, Instant))> = thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        let start = Instant::now();
                        let retries = (0..each)
                            .map(|_| u64::from(cas_increment(&counter, flavor)))
                            .sum::<u64>();
                        (retries, (start, Instant::now()))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let retries: u64 = per_thread.iter().map(|t| t.0).sum();
        let spans: Vec<(Instant, Instant)> = per_thread.iter().map(|t| t.1).collect();
        let (overlap, span) = overlap_of(&spans);
        if retries > 0 {
            run.rounds_with_retries += 1;
        }
        run.retries += retries;
        run.overlap_ns += overlap;
        run.span_ns += span;
    }
    run.final_count = counter.into_inner();
    run.expected = run.rounds * threads as u64 * each;
    run
}

/// The claims of go-29 that a run breaks (empty when it keeps them all): the count is exact, a
/// lone thread never retries (with the strong CAS), and two threads released together do retry.
pub fn cas_broken(run: &CasRun, flavor: Flavor) -> Vec<String> {
    let mut out = Vec::new();
    if run.final_count != run.expected {
        out.push(format!(
            "{} threads: final count {} but {} increments were made",
            run.threads, run.final_count, run.expected
        ));
    }
    if run.threads == 1 && flavor == Flavor::Strong && run.retries != 0 {
        out.push(format!(
            "a lone thread's strong CAS failed {} times with nobody else writing",
            run.retries
        ));
    }
    if run.threads > 1 && run.retries == 0 {
        out.push(format!(
            "{} threads never made a swap fail in {} rounds: did they ever run at the same time?",
            run.threads, run.rounds
        ));
    }
    out
}

/// Runs `a_read`, then `b` on another thread, then `a_rest` with what `a_read` returned: the
/// interleaving "A reads, B writes, A swaps" fixed with channels, not timing.
pub fn interleave<T, R>(
    a_read: impl FnOnce() -> T,
    b: impl FnOnce() + Send,
    a_rest: impl FnOnce(T) -> R,
) -> R {
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    thread::scope(|s| {
        s.spawn(move || {
            if go_rx.recv().is_ok() {
                b();
                let _ = done_tx.send(());
            }
        });
        let seen = a_read();
        let _ = go_tx.send(());
        // If B panicked, its sender is gone and recv fails; the scope re-raises the panic.
        let _ = done_rx.recv();
        a_rest(seen)
    })
}

/// The lost race replayed: A reads 0, B increments, A's CAS with the stale 0 fails and reports 1;
/// A retries with 1 and succeeds. Returns (first attempt, second attempt, final value).
pub fn stale_replay() -> (Result<u64, u64>, Result<u64, u64>, u64) {
    let x = AtomicU64::new(0);
    interleave(
        || x.load(Ordering::Relaxed),
        || {
            x.fetch_add(1, Ordering::Relaxed);
        },
        |old| {
            let first = x.compare_exchange(old, old + 1, Ordering::AcqRel, Ordering::Relaxed);
            let seen = first.unwrap_or_else(|actual| actual);
            let second = x.compare_exchange(seen, seen + 1, Ordering::AcqRel, Ordering::Relaxed);
            (first, second, x.load(Ordering::Relaxed))
        },
    )
}

/// A 32-bit value with a 32-bit version, swapped together in one `u64`: every write bumps the
/// version, so a CAS notices A → B → A.
#[derive(Debug, Default)]
pub struct Tagged(AtomicU64);

impl Tagged {
    pub fn pack(version: u32, value: u32) -> u64 {
        (u64::from(version) << 32) | u64::from(value)
    }

    pub fn unpack(word: u64) -> (u32, u32) {
        ((word >> 32) as u32, word as u32)
    }

    pub fn load(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Writes `value` with the next version; returns the new word.
    pub fn store(&self, value: u32) -> u64 {
        let mut cur = self.load();
        loop {
            let new = Self::pack(Self::unpack(cur).0.wrapping_add(1), value);
            match self
                .0
                .compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return new,
                Err(now) => cur = now,
            }
        }
    }

    /// CAS on value and version together: fails if anyone wrote since `seen` was loaded.
    pub fn compare_and_set(&self, seen: u64, value: u32) -> bool {
        let new = Self::pack(Self::unpack(seen).0.wrapping_add(1), value);
        self.0
            .compare_exchange(seen, new, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// ABA replayed: A reads 0, B writes 1 then 0, A tries to swap 0 → 10. Returns whether the plain
/// CAS succeeded and whether the tagged CAS succeeded.
pub fn aba_replay() -> (bool, bool) {
    let plain = AtomicU64::new(0);
    let plain_ok = interleave(
        || plain.load(Ordering::Relaxed),
        || {
            plain.store(1, Ordering::Relaxed);
            plain.store(0, Ordering::Relaxed);
        },
        |old| {
            plain
                .compare_exchange(old, 10, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        },
    );
    let tagged = Tagged::default();
    let tagged_ok = interleave(
        || tagged.load(),
        || {
            tagged.store(1);
            tagged.store(0);
        },
        |seen| tagged.compare_and_set(seen, 10),
    );
    (plain_ok, tagged_ok)
}

/// Adds 1 unless the counter has reached `cap`, with a CAS loop: something `fetch_add` cannot do
/// (it would overshoot and need undoing). Returns whether this call added.
pub fn increment_below(counter: &AtomicU64, cap: u64) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |v| {
            (v < cap).then_some(v + 1)
        })
        .is_ok()
}

/// `threads` threads released together each try `each` capped increments. Returns (final value,
/// successful calls).
pub fn capped_count(threads: usize, each: u64, cap: u64) -> (u64, u64) {
    let counter = AtomicU64::new(0);
    let barrier = Barrier::new(threads);
    let ok: u64 = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    (0..each).filter(|_| increment_below(&counter, cap)).count() as u64
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .sum()
    });
    (counter.into_inner(), ok)
}

/// What `go/cmd/go29-cas` prints.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct GoCas {
    pub go_version: String,
    pub gomaxprocs: u32,
    pub num_cpu: u32,
    pub each: u64,
    pub min_rounds: u64,
    pub max_rounds: u64,
    pub one: CasRun,
    pub two: CasRun,
    pub add_final: u64,
    pub add_expected: u64,
}

/// The instructions `go tool objdump` must show for the two functions on amd64.
pub const AMD64_CAS: &str = "LOCK CMPXCHGQ";
pub const AMD64_ADD: &str = "LOCK XADDQ";

/// The instructions of a `go tool objdump` listing, one per line, as Go's disassembler spells them
/// (`LOCK CMPXCHGQ BX, 0(SI)`). A listing line is tab-separated: file:line, address, bytes,
/// instruction.
pub fn objdump_instructions(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l
                .split('\t')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .collect();
            (fields.len() >= 4).then(|| fields[3..].join(" "))
        })
        .collect()
}

/// Whether some instruction starts with `want` (e.g. `LOCK CMPXCHGQ`).
pub fn has_instruction(instructions: &[String], want: &str) -> bool {
    instructions.iter().any(|i| i.starts_with(want))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_thread_never_retries_and_two_threads_keep_every_increment() {
        let one = cas_rounds(1, 10_000, 1, 1, Flavor::Strong);
        assert_eq!(cas_broken(&one, Flavor::Strong), Vec::<String>::new());
        let two = cas_rounds(2, 20_000, 1, 200, Flavor::Weak);
        assert_eq!(two.final_count, two.expected);
    }

    #[test]
    fn cas_broken_catches_a_lost_increment_a_lone_retry_and_no_contention() {
        let run = |threads, final_count, retries| CasRun {
            threads,
            rounds: 1,
            rounds_with_retries: u64::from(retries > 0),
            final_count,
            expected: 100,
            retries,
            ..CasRun::default()
        };
        assert!(cas_broken(&run(1, 100, 0), Flavor::Strong).is_empty());
        assert!(cas_broken(&run(2, 100, 3), Flavor::Strong).is_empty());
        assert_eq!(cas_broken(&run(2, 99, 3), Flavor::Strong).len(), 1);
        assert_eq!(cas_broken(&run(1, 100, 2), Flavor::Strong).len(), 1);
        // A weak CAS may fail spuriously, so a lone weak retry is no broken claim.
        assert!(cas_broken(&run(1, 100, 2), Flavor::Weak).is_empty());
        assert_eq!(cas_broken(&run(2, 100, 0), Flavor::Weak).len(), 1);
    }

    #[test]
    fn overlap_is_the_time_all_threads_ran_together() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + std::time::Duration::from_millis(ms);
        let ms = 1_000_000;
        assert_eq!(
            overlap_of(&[(at(0), at(10)), (at(4), at(12))]),
            (6 * ms, 12 * ms)
        );
        // One after the other: no overlap at all.
        assert_eq!(overlap_of(&[(at(0), at(5)), (at(5), at(9))]), (0, 9 * ms));
        assert_eq!(overlap_of(&[]), (0, 0));
    }

    #[test]
    fn a_stale_expected_value_fails_and_reports_the_current_one() {
        assert_eq!(stale_replay(), (Err(1), Ok(1), 2));
    }

    #[test]
    fn plain_cas_misses_aba_and_a_version_tag_catches_it() {
        assert_eq!(aba_replay(), (true, false));
        assert_eq!(Tagged::unpack(Tagged::pack(7, 3)), (7, 3));
    }

    #[test]
    fn a_capped_counter_stops_exactly_at_the_cap() {
        assert_eq!(capped_count(4, 1_000, 2_500), (2_500, 2_500));
        let c = AtomicU64::new(5);
        assert!(!increment_below(&c, 5));
        assert!(increment_below(&c, 6));
    }

    #[test]
    fn objdump_lines_are_read_into_instructions() {
        let l = "TEXT main.casIncrement(SB) /x/main.go\n  main.go:60\t\t0x4c7140\t\t31c9\t\t\tXORL CX, CX\t\t\n  type.go:124\t\t0x4c7158\t\tf0480fb11e\t\tLOCK CMPXCHGQ BX, 0(SI)\t\n";
        let ins = objdump_instructions(l);
        assert_eq!(ins, vec!["XORL CX, CX", "LOCK CMPXCHGQ BX, 0(SI)"]);
        assert!(has_instruction(&ins, AMD64_CAS));
        assert!(!has_instruction(&ins, AMD64_ADD));
    }
}

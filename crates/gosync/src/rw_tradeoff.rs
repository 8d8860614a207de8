//! When a reader-writer lock pays off (go-18): the same work under Go's `RWMutex` and Go's `Mutex`
//! (the ports [`GoRwMutex`] and [`GoMutex`]) on two workloads. std's `RwLock` and `Mutex` implement
//! [`ReadWriteLock`] too (the unit tests use them).
//!
//! ```text
//!   read-heavy (1 write in 100, each read section waits ~100 µs while holding the read lock):
//!     Mutex:    A[read]B[read]A[read]B[read]…      one reader at a time → 2 × N sections long
//!     RWMutex:  A[read]A[read]A[read]…             readers wait side by side → ~N sections
//!               B[read]B[read]B[read]…
//!   write-heavy (9 writes in 10, each section a counter increment):
//!     both serialise every write, and Go's RWMutex Lock/Unlock is Mutex Lock/Unlock plus two more
//!     atomic adds on readerCount (and a parked OS thread for each reader behind a writer)
//! ```
//!
//! A long read section *waits* (a sleep standing for a disk or network read made under the lock)
//! rather than computes. That makes the read-heavy claim a property of the lock and not of the
//! machine: two computing readers overlap only when two CPUs are free, and on a shared CI machine
//! they often are not, while two waiting readers overlap on any number of CPUs. The gain for
//! computing readers is the same overlap plus a free CPU per reader (go-14's subject).
//!
//! The mechanism is also counted apart from the clock: every read section counts itself in an
//! atomic `inside` counter and records the maximum. Under a reader-writer lock it reaches 2 (both
//! threads reading at once); under a mutex it stays 1.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex, PoisonError, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::mutex::GoMutex;
use crate::rwmutex::GoRwMutex;

/// Threads taking the lock: one per CPU of the 2-vCPU machine the lab targets.
pub const THREADS: usize = 2;
/// How long one read section of the read-heavy workload waits while holding the read lock.
pub const READ_SECTION: Duration = Duration::from_micros(100);
/// Runs of each lock per attempt; an attempt compares medians.
pub const RUNS: usize = 5;
/// Attempts before a demo gives up on its claim (timing on a shared VM is noisy).
pub const ATTEMPTS: usize = 5;
/// The read-heavy claim: the reader-writer lock finishes the same work at least this many times
/// faster than the mutex (2× is the ideal with two threads and no writes).
pub const MIN_READ_SPEEDUP: f64 = 1.5;
/// The write-heavy claim: the reader-writer lock takes at least this fraction of the mutex's time
/// (it is not more than 5% faster; in practice it is slower).
pub const MIN_WRITE_RATIO: f64 = 0.95;

/// A mix of reads and writes for each thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Workload {
    pub name: &'static str,
    /// Operations per thread.
    pub ops: u32,
    /// `writes` of every `of` operations take the write lock.
    pub writes: u32,
    pub of: u32,
    /// Whether a read section waits [`READ_SECTION`] (otherwise it just reads the counter).
    pub long_reads: bool,
}

impl Workload {
    /// Whether thread `t`'s operation `i` is a write. Threads are offset so that their writes do not
    /// come in lock step.
    pub fn is_write(&self, t: usize, i: u32) -> bool {
        (i + t as u32 * self.of / 2) % self.of < self.writes
    }

    /// Writes all threads do together.
    pub fn total_writes(&self) -> u64 {
        (0..THREADS)
            .map(|t| (0..self.ops).filter(|&i| self.is_write(t, i)).count() as u64)
            .sum()
    }
}

pub const READ_HEAVY: Workload = Workload {
    name: "read-heavy",
    ops: 300,
    writes: 1,
    of: 100,
    long_reads: true,
};

pub const WRITE_HEAVY: Workload = Workload {
    name: "write-heavy",
    ops: 20_000,
    writes: 9,
    of: 10,
    long_reads: false,
};

/// A lock with a shared and an exclusive side; a mutex gives the same exclusive lock for both.
pub trait ReadWriteLock: Sync {
    fn read<R>(&self, f: impl FnOnce() -> R) -> R;
    fn write<R>(&self, f: impl FnOnce() -> R) -> R;
}

impl ReadWriteLock for GoMutex {
    fn read<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.lock();
        f()
    }
    fn write<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.lock();
        f()
    }
}

impl ReadWriteLock for GoRwMutex {
    fn read<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.rlock();
        f()
    }
    fn write<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.lock();
        f()
    }
}

impl ReadWriteLock for Mutex<()> {
    fn read<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.lock().unwrap_or_else(PoisonError::into_inner);
        f()
    }
    fn write<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.lock().unwrap_or_else(PoisonError::into_inner);
        f()
    }
}

impl ReadWriteLock for RwLock<()> {
    fn read<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.read().unwrap_or_else(PoisonError::into_inner);
        f()
    }
    fn write<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.write().unwrap_or_else(PoisonError::into_inner);
        f()
    }
}

/// A long read section: the thread waits [`READ_SECTION`] without using a CPU.
fn long_read() {
    thread::sleep(READ_SECTION);
}

/// One run of a workload on one lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Run {
    pub elapsed: Duration,
    /// Most read sections in progress at the same moment.
    pub max_readers_inside: usize,
    /// Read sections that began while another read section was in progress.
    pub overlapped_reads: u64,
    pub reads: u64,
    /// The counter the writes incremented with a separate load and store.
    pub count: u64,
}

/// Runs `w` on `lock` with [`THREADS`] threads, each doing `w.ops` operations.
pub fn run<L: ReadWriteLock>(lock: &L, w: Workload) -> Run {
    let threads = THREADS;
    let counter = AtomicU64::new(0);
    let inside = AtomicUsize::new(0);
    let max_inside = AtomicUsize::new(0);
    let overlapped = AtomicU64::new(0);
    let reads = AtomicU64::new(0);
    let start = Barrier::new(threads + 1);
    let elapsed = thread::scope(|s| {
        for t in 0..threads {
            let (counter, inside, max_inside, overlapped, reads, start) =
                (&counter, &inside, &max_inside, &overlapped, &reads, &start);
            s.spawn(move || {
                start.wait();
                let mut sink = 0u64;
                for i in 0..w.ops {
                    if w.is_write(t, i) {
                        lock.write(|| {
                            let v = counter.load(Ordering::Relaxed);
                            counter.store(v + 1, Ordering::Relaxed);
                        });
                    } else {
                        sink ^= lock.read(|| {
                            let before = inside.fetch_add(1, Ordering::SeqCst);
                            max_inside.fetch_max(before + 1, Ordering::SeqCst);
                            if before > 0 {
                                overlapped.fetch_add(1, Ordering::Relaxed);
                            }
                            let v = counter.load(Ordering::Relaxed);
                            if w.long_reads {
                                long_read();
                            }
                            inside.fetch_sub(1, Ordering::SeqCst);
                            v
                        });
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                }
                black_box(sink);
            });
        }
        start.wait();
        Instant::now()
    })
    .elapsed();
    Run {
        elapsed,
        max_readers_inside: max_inside.into_inner(),
        overlapped_reads: overlapped.into_inner(),
        reads: reads.into_inner(),
        count: counter.into_inner(),
    }
}

/// The median of `runs` by elapsed time (the upper middle one for an even count).
pub fn median(runs: &[Run]) -> Run {
    let mut v = runs.to_vec();
    v.sort_by_key(|r| r.elapsed);
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// A mutex and a reader-writer lock compared on one workload: the medians of [`RUNS`]
/// alternating runs each, plus the largest reader overlap any run saw.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Comparison {
    pub mutex: Run,
    pub rw: Run,
    pub mutex_max_readers_inside: usize,
    pub rw_max_readers_inside: usize,
}

impl Comparison {
    /// How many times longer the mutex took than the reader-writer lock.
    pub fn speedup(&self) -> f64 {
        speedup(self.mutex.elapsed, self.rw.elapsed)
    }
}

/// `mutex / rw`: above 1 when the reader-writer lock is faster.
pub fn speedup(mutex: Duration, rw: Duration) -> f64 {
    mutex.as_secs_f64() / rw.as_secs_f64().max(1e-12)
}

/// Runs `w` [`RUNS`] times on fresh locks made by `mutex` and `rw`, alternating them so that a
/// burst of load elsewhere hits both.
pub fn compare<M: ReadWriteLock, R: ReadWriteLock>(
    w: Workload,
    mutex: impl Fn() -> M,
    rw: impl Fn() -> R,
) -> Comparison {
    // A warm-up, not counted: the first run pays for thread start-up and a cold CPU.
    run(&mutex(), w);
    let (mut ms, mut rs) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ms.push(run(&mutex(), w));
        rs.push(run(&rw(), w));
    }
    let most = |v: &[Run]| v.iter().map(|r| r.max_readers_inside).max().unwrap_or(0);
    Comparison {
        mutex: median(&ms),
        rw: median(&rs),
        mutex_max_readers_inside: most(&ms),
        rw_max_readers_inside: most(&rs),
    }
}

/// The read-heavy claim: the reader-writer lock did the work at least [`MIN_READ_SPEEDUP`]× faster.
pub fn rw_wins_read_heavy(mutex: Duration, rw: Duration) -> bool {
    speedup(mutex, rw) >= MIN_READ_SPEEDUP
}

/// The write-heavy claim: the reader-writer lock gained nothing, `rw / mutex ≥` [`MIN_WRITE_RATIO`].
pub fn rw_gains_nothing_write_heavy(mutex: Duration, rw: Duration) -> bool {
    rw.as_secs_f64() / mutex.as_secs_f64().max(1e-12) >= MIN_WRITE_RATIO
}

/// The mechanism, apart from the clock: readers were inside together under the reader-writer lock
/// (all [`THREADS`] of them) and never under the mutex.
pub fn readers_shared_only_the_rw_lock(mutex_max_inside: usize, rw_max_inside: usize) -> bool {
    mutex_max_inside == 1 && rw_max_inside == THREADS
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: fn(u64) -> Duration = Duration::from_micros;

    #[test]
    fn read_heavy_needs_a_real_speedup() {
        assert!(rw_wins_read_heavy(US(2000), US(1000)), "2× is the ideal");
        assert!(rw_wins_read_heavy(US(1510), US(1000)));
        assert!(
            !rw_wins_read_heavy(US(1300), US(1000)),
            "1.3× is not overlap"
        );
        assert!(!rw_wins_read_heavy(US(1000), US(1500)), "rw slower");
    }

    #[test]
    fn write_heavy_rejects_a_real_gain() {
        assert!(rw_gains_nothing_write_heavy(US(1000), US(1800)));
        assert!(
            rw_gains_nothing_write_heavy(US(1000), US(960)),
            "4% is noise"
        );
        assert!(
            !rw_gains_nothing_write_heavy(US(1000), US(900)),
            "10% faster"
        );
    }

    #[test]
    fn the_mechanism_needs_overlap_under_rw_and_none_under_the_mutex() {
        assert!(readers_shared_only_the_rw_lock(1, 2));
        assert!(!readers_shared_only_the_rw_lock(1, 1), "readers never met");
        assert!(
            !readers_shared_only_the_rw_lock(2, 2),
            "the mutex let two in"
        );
    }

    #[test]
    fn writes_are_spread_over_the_mix() {
        assert_eq!(READ_HEAVY.total_writes(), 2 * 300 / 100);
        assert_eq!(WRITE_HEAVY.total_writes(), 2 * 20_000 * 9 / 10);
        assert!(READ_HEAVY.is_write(0, 0) && !READ_HEAVY.is_write(1, 0));
    }

    #[test]
    fn median_takes_the_middle_run() {
        let r = |us| Run {
            elapsed: US(us),
            ..Run::default()
        };
        assert_eq!(median(&[r(5), r(1), r(9)]).elapsed, US(5));
        assert_eq!(median(&[]).elapsed, Duration::ZERO);
    }

    /// Every lock keeps every write and counts its readers; a mutex never lets two readers in.
    #[test]
    fn every_lock_keeps_every_write_and_the_mutexes_admit_one_reader() {
        let w = Workload {
            ops: 2_000,
            writes: 1,
            of: 2,
            long_reads: false,
            name: "test",
        };
        let go_m = run(&GoMutex::new(), w);
        let std_m = run(&Mutex::new(()), w);
        let go_rw = run(&GoRwMutex::new(), w);
        let std_rw = run(&RwLock::new(()), w);
        for r in [go_m, std_m, go_rw, std_rw] {
            assert_eq!(r.count, w.total_writes(), "{r:?}");
            assert_eq!(r.reads, 2 * 2_000 - w.total_writes(), "{r:?}");
            assert!((1..=THREADS).contains(&r.max_readers_inside), "{r:?}");
        }
        assert_eq!((go_m.max_readers_inside, std_m.max_readers_inside), (1, 1));
        assert_eq!((go_m.overlapped_reads, std_m.overlapped_reads), (0, 0));
    }

    /// Waiting readers meet under both reader-writer locks on any machine, and finish well before
    /// the mutexes do.
    #[test]
    fn waiting_readers_overlap_under_both_reader_writer_locks() {
        let w = Workload {
            ops: 40,
            ..READ_HEAVY
        };
        let ports = compare(w, GoMutex::new, GoRwMutex::new);
        let std = compare(w, || Mutex::new(()), || RwLock::new(()));
        for c in [ports, std] {
            assert!(
                readers_shared_only_the_rw_lock(
                    c.mutex_max_readers_inside,
                    c.rw_max_readers_inside
                ),
                "{c:?}"
            );
            assert!(
                c.rw.overlapped_reads > 0 && c.mutex.overlapped_reads == 0,
                "{c:?}"
            );
        }
    }
}

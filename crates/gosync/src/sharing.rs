//! Sharing one variable between threads without a mutex: five ways, each checked for an exact
//! answer under real concurrency.
//!
//! Interview question go-02 (「Golang中除了加Mutex锁以外还有哪些方式安全读写共享变量」). The idea:
//! a shared variable is safe when every access is ordered after the previous write (Go's memory
//! model calls it "synchronized before"). A mutex is one way to get that order. These are the
//! others:
//!
//! ```text
//!   way            who touches the data                   what orders the accesses
//!   atomics        every thread, one instruction each     the atomic op itself (lock xadd on x86)
//!   channel owner  one thread only; others send requests  the send → receive, reply → return
//!   Once/OnceLock  the winner writes once, all read       "f returned" before "any Do returned"
//!   confinement    each thread its own shard; merged      the join: thread end before join returns
//!                  after join
//!   RWMutex        readers together, writers alone        RUnlock → Lock, Unlock → RLock
//! ```
//!
//! The invariant each demo asserts: the answer is exact (N threads × M increments = N·M, every
//! request saw its own state, the initializer ran once, the merged shards equal a sequential
//! count). The counterexample is a load followed by a separate store with no synchronization:
//! two threads read the same value and one increment is lost ([`racy_count`]).
//!
//! A worked example of the lost update, two threads, counter at 7:
//! ```text
//!   A: v = load() = 7            B: v = load() = 7
//!   A: store(v + 1) → 8          B: store(v + 1) → 8      two increments, counter +1
//! ```
//!
//! ## How the real system differs
//! - In Go, `counter++` from two goroutines is a *data race*: the program is undefined in the
//!   memory model's sense, and `go run -race` reports it. Our counterexample uses relaxed atomic
//!   loads and stores, which are not a data race in Rust (it has no `unsafe` here): the update is
//!   lost in the same way, but the compiler may not invent or tear values.
//! - A goroutine has no public id, so the Go program cannot record who touched the owner's map; it
//!   relies on the race detector to catch any other access. Here the owner records thread ids.
//! - Go's `sync.Once` marks itself done even if `f` panics; `OnceLock::get_or_init` leaves it
//!   uninitialized for the next caller (see go-18 for the port [`GoOnce`], which follows Go).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, Condvar, Mutex, OnceLock, PoisonError};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crate::once::GoOnce;

/// Threads (goroutines) per way, increments each.
pub const THREADS: usize = 4;
pub const EACH: u64 = 20_000;
/// Load-then-store increments per thread in the counterexample (each yields between the two).
pub const RACY_EACH: u64 = 1_000;
/// Requests each client sends the channel owner.
pub const REQUESTS: u64 = 2_000;
/// Threads racing on one Once/OnceLock.
pub const ONCE_CALLERS: usize = 8;
/// Buckets of the confinement count.
pub const BUCKETS: usize = 16;
/// How long a reader waits inside its read section for the other reader before giving up.
pub const MEET_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `f(i)` on `n` threads released together by a barrier; returns their results in order.
fn together<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(n);
    thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, f) = (&barrier, &f);
                s.spawn(move || {
                    barrier.wait();
                    f(i)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Atomics, and the counterexample

/// `threads` × `each` increments with one atomic read-modify-write each (`fetch_add`, Go's
/// `atomic.AddInt64`). Returns the final count.
pub fn atomic_count(threads: usize, each: u64) -> u64 {
    let n = AtomicU64::new(0);
    together(threads, |_| {
        for _ in 0..each {
            n.fetch_add(1, Ordering::Relaxed);
        }
    });
    n.into_inner()
}

/// The same increments as a load, then a separate store, with a `yield_now` in between so that
/// another thread gets to run inside the window (on one CPU as on two). Returns the final count,
/// which falls short of `threads × each` by the number of lost updates.
pub fn racy_count(threads: usize, each: u64) -> u64 {
    let n = AtomicU64::new(0);
    together(threads, |_| {
        for _ in 0..each {
            let v = n.load(Ordering::Relaxed);
            thread::yield_now();
            n.store(v + 1, Ordering::Relaxed);
        }
    });
    n.into_inner()
}

/// Increments lost: how far `got` falls short of `expected` (0 when none was lost).
pub fn lost_updates(expected: u64, got: u64) -> u64 {
    expected.saturating_sub(got)
}

// ---------------------------------------------------------------------------------------------
// A channel-owned map

/// A value that remembers every thread that touched it: the evidence that only its owner did.
#[derive(Debug, Default)]
pub struct Touched<T> {
    value: T,
    touched_by: HashSet<ThreadId>,
}

impl<T> Touched<T> {
    pub fn new(value: T) -> Self {
        Touched {
            value,
            touched_by: HashSet::new(),
        }
    }

    /// The only way in; records the calling thread.
    pub fn get_mut(&mut self) -> &mut T {
        self.touched_by.insert(thread::current().id());
        &mut self.value
    }

    pub fn touched_by(&self) -> &HashSet<ThreadId> {
        &self.touched_by
    }
}

/// What a client asks the owner: add `delta` to `key`, reply with the new value.
#[derive(Debug)]
struct Add {
    key: &'static str,
    delta: u64,
    reply: crossbeam_channel::Sender<u64>,
}

/// What [`channel_owned`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedReport {
    pub clients: usize,
    pub requests: u64,
    /// The key's value when the owner stopped.
    pub count: u64,
    /// Every reply any client got, sorted.
    pub replies: Vec<u64>,
    /// Threads that touched the map.
    pub touched_by: HashSet<ThreadId>,
    pub owner: ThreadId,
    pub client_ids: Vec<ThreadId>,
}

/// One thread owns a `HashMap`; `clients` threads, released together, each send it `requests`
/// "add 1 to `hits`" requests and wait for the new value on their own reply channel.
pub fn channel_owned(clients: usize, requests: u64) -> OwnedReport {
    let (tx, rx) = crossbeam_channel::bounded::<Add>(64);
    thread::scope(|s| {
        let owner = s.spawn(move || {
            let mut map = Touched::new(HashMap::<&'static str, u64>::new());
            // The loop ends when every client has dropped its sender.
            for req in rx {
                let v = map.get_mut().entry(req.key).or_insert(0);
                *v += req.delta;
                // A client that went away cannot get its reply; the count is still right.
                let _ = req.reply.send(*v);
            }
            let count = map.get_mut().get("hits").copied().unwrap_or(0);
            (count, map.touched_by().clone(), thread::current().id())
        });
        let per_client = together(clients, |_| {
            let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
            let mut got = Vec::with_capacity(requests as usize);
            for _ in 0..requests {
                let sent = tx.send(Add {
                    key: "hits",
                    delta: 1,
                    reply: reply_tx.clone(),
                });
                if sent.is_err() {
                    break; // the owner is gone; the report will show missing replies
                }
                match reply_rx.recv() {
                    Ok(v) => got.push(v),
                    Err(_) => break,
                }
            }
            (thread::current().id(), got)
        });
        drop(tx);
        let (count, touched_by, owner) = owner
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        let mut replies: Vec<u64> = per_client.iter().flat_map(|(_, r)| r.clone()).collect();
        replies.sort_unstable();
        OwnedReport {
            clients,
            requests,
            count,
            replies,
            touched_by,
            owner,
            client_ids: per_client.into_iter().map(|(id, _)| id).collect(),
        }
    })
}

/// True when `replies` is exactly 1, 2, …, n: every request saw the state left by all earlier
/// requests and by no later one, i.e. the owner served them one at a time.
pub fn replies_are_one_to_n(replies: &[u64], n: u64) -> bool {
    replies.len() as u64 == n && replies.iter().zip(1..).all(|(r, k)| *r == k)
}

/// What is wrong with an [`OwnedReport`] (empty when the owner served every request alone).
pub fn owned_broken(r: &OwnedReport) -> Vec<String> {
    let n = r.clients as u64 * r.requests;
    let mut out = Vec::new();
    if r.count != n {
        out.push(format!("the owner counted {} of {n} requests", r.count));
    }
    if !replies_are_one_to_n(&r.replies, n) {
        out.push(format!(
            "the {} replies are not exactly 1..={n} (two requests saw the same state, or one was lost)",
            r.replies.len()
        ));
    }
    let others: Vec<_> = r.touched_by.iter().filter(|t| **t != r.owner).collect();
    if !others.is_empty() || !r.touched_by.contains(&r.owner) {
        out.push(format!(
            "the map was touched by {} thread(s) other than its owner",
            others.len()
        ));
    }
    if r.client_ids.contains(&r.owner) {
        out.push("a client ran on the owner's thread".into());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Once

/// What [`once_lock_race`] or [`go_once_race`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnceReport {
    pub callers: usize,
    /// Times the initializer ran.
    pub runs: usize,
    /// What each caller read after its call returned.
    pub seen: Vec<Option<String>>,
    /// Callers that returned before the initializer had finished.
    pub returned_early: usize,
}

/// `callers` threads, released together, each ask a `std::sync::OnceLock` for a value whose
/// initializer is slow (it yields 100 times), and report what they read.
pub fn once_lock_race(callers: usize) -> OnceReport {
    let cell = OnceLock::<String>::new();
    let runs = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    let seen = together(callers, |i| {
        let v = cell.get_or_init(|| slow_init(i, &runs, &finished));
        (Some(v.clone()), finished.load(Ordering::Acquire))
    });
    once_report(callers, &runs, seen)
}

/// The same race on the lab's port of Go's `sync.Once` ([`GoOnce`]): `call_once` runs `f`, and the
/// callers then read the value `f` published.
pub fn go_once_race(callers: usize) -> OnceReport {
    let once = GoOnce::new();
    let value = OnceLock::<String>::new(); // written only inside `f`, read after `call_once`
    let runs = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    let seen = together(callers, |i| {
        once.call_once(|| {
            let _ = value.set(slow_init(i, &runs, &finished));
        });
        (value.get().cloned(), finished.load(Ordering::Acquire))
    });
    once_report(callers, &runs, seen)
}

/// The initializer: counts its runs, takes a while (yields, so other callers pile up), and marks
/// itself finished just before it returns.
fn slow_init(caller: usize, runs: &AtomicUsize, finished: &AtomicBool) -> String {
    runs.fetch_add(1, Ordering::SeqCst);
    for _ in 0..100 {
        thread::yield_now();
    }
    finished.store(true, Ordering::Release);
    format!("made by caller {caller}")
}

fn once_report(
    callers: usize,
    runs: &AtomicUsize,
    seen: Vec<(Option<String>, bool)>,
) -> OnceReport {
    OnceReport {
        callers,
        runs: runs.load(Ordering::SeqCst),
        returned_early: seen.iter().filter(|(_, done)| !done).count(),
        seen: seen.into_iter().map(|(v, _)| v).collect(),
    }
}

/// What is wrong with a [`OnceReport`] (empty when it ran once and everyone saw its value).
pub fn once_broken(r: &OnceReport) -> Vec<String> {
    let mut out = Vec::new();
    if r.runs != 1 {
        out.push(format!(
            "the initializer ran {} times for {} callers",
            r.runs, r.callers
        ));
    }
    let first = r.seen.first().cloned().flatten();
    if first.is_none() || r.seen.iter().any(|s| *s != first) || r.seen.len() != r.callers {
        out.push(format!("callers saw different values: {:?}", r.seen));
    }
    if r.returned_early > 0 {
        out.push(format!(
            "{} caller(s) returned before the initializer finished",
            r.returned_early
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Confinement

/// The input both Rust and Go count: `x = x·6364136223846793005 + 1442695040888963407` from
/// `x = 1`, `n` values (Knuth's MMIX LCG; wrapping 64-bit arithmetic on both sides).
pub fn lcg(n: usize) -> Vec<u64> {
    let mut x: u64 = 1;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            x
        })
        .collect()
}

/// The bucket of a value: its top 4 bits.
pub fn bucket_of(v: u64) -> usize {
    (v >> 60) as usize
}

/// The count done by one thread, for comparison.
pub fn sequential_buckets(data: &[u64]) -> [u64; BUCKETS] {
    let mut b = [0; BUCKETS];
    for v in data {
        b[bucket_of(*v)] += 1;
    }
    b
}

/// Each of `threads` threads counts its own shard of `data` into its own buckets (nothing shared
/// while they run); the buckets are merged after every thread has been joined.
pub fn confined_buckets(data: &[u64], threads: usize) -> [u64; BUCKETS] {
    let shard = data.len().div_ceil(threads.max(1)).max(1);
    let shards: Vec<&[u64]> = data.chunks(shard).collect();
    let per_thread = together(shards.len(), |i| sequential_buckets(shards[i]));
    let mut merged = [0; BUCKETS];
    for b in per_thread {
        for (m, c) in merged.iter_mut().zip(b) {
            *m += c;
        }
    }
    merged
}

// ---------------------------------------------------------------------------------------------
// RWMutex: readers share

/// A one-shot meeting point with a timeout: `arrive` returns true once `n` threads are inside
/// together, false if that did not happen within the timeout. A thread that gives up leaves, so an
/// exclusive lock (one thread inside at a time) can never make the meeting happen.
#[derive(Debug)]
pub struct Meeting {
    n: usize,
    state: Mutex<(usize, bool)>, // (inside now, met)
    cv: Condvar,
}

impl Meeting {
    pub fn new(n: usize) -> Self {
        Meeting {
            n,
            state: Mutex::new((0, false)),
            cv: Condvar::new(),
        }
    }

    pub fn arrive(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        g.0 += 1;
        if g.0 == self.n {
            g.1 = true;
            self.cv.notify_all();
        }
        while !g.1 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            g = self
                .cv
                .wait_timeout(g, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        g.0 -= 1;
        g.1
    }
}

/// Two readers take the lock with `read` (whatever it is) and, while holding it, wait for each
/// other at a [`Meeting`]. True when both met inside: the lock let two readers in together.
pub fn readers_meet<G>(read: impl Fn() -> G + Sync, timeout: Duration) -> bool {
    let meeting = Meeting::new(2);
    together(2, |_| {
        let _held = read();
        meeting.arrive(timeout)
    })
    .into_iter()
    .all(|met| met)
}

/// Of `threads` threads released together, the even-numbered ones each do `each` load-then-store
/// increments under `write`, and the odd-numbered ones each read `each` times under `read`.
/// Returns the final count, which is exact only if `write` excludes everyone else.
pub fn rw_count<R, W>(
    threads: usize,
    each: u64,
    read: impl Fn() -> R + Sync,
    write: impl Fn() -> W + Sync,
) -> u64 {
    let n = AtomicU64::new(0);
    together(threads, |i| {
        for _ in 0..each {
            if i % 2 == 0 {
                let _w = write();
                let v = n.load(Ordering::Relaxed);
                n.store(v + 1, Ordering::Relaxed);
            } else {
                let _r = read();
                std::hint::black_box(n.load(Ordering::Relaxed));
            }
        }
    });
    n.into_inner()
}

// ---------------------------------------------------------------------------------------------
// The Go side

/// What `go/cmd/go02-sharing` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct GoSharing {
    pub go_version: String,
    pub gomaxprocs: u32,
    pub num_cpu: u32,
    pub race_enabled: bool,
    pub mode: String,
    pub threads: u64,
    pub each: u64,
    pub requests: u64,
    pub atomic_count: u64,
    pub channel_count: u64,
    pub channel_replies_one_to_n: bool,
    pub once_callers: u64,
    pub once_runs: u64,
    pub once_same_value: bool,
    pub shard_buckets: Option<Vec<u64>>,
    pub sequential_buckets: Option<Vec<u64>>,
    pub rw_readers_met: bool,
    pub rw_writes: u64,
    pub rw_writes_expected: u64,
    pub racy_count: u64,
    pub racy_expected: u64,
}

/// What a `go run -race` of the program came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RaceRun {
    /// Exit 0; stdout and stderr.
    Clean { stdout: String, stderr: String },
    /// The race detector reported a race (its report, or the end of it).
    Race(String),
    /// `-race` cannot work here (no cgo, no C compiler, unsupported platform).
    Unavailable(String),
    /// Failed for another reason.
    Failed(String),
}

/// Sorts the outcome of `go run -race …` by what its stderr says.
pub fn classify_race_run(result: Result<gotool::Output, gotool::GoError>) -> RaceRun {
    match result {
        Ok(out) if out.stderr.contains("DATA RACE") => RaceRun::Race(out.stderr),
        Ok(out) => RaceRun::Clean {
            stdout: out.stdout,
            stderr: out.stderr,
        },
        Err(gotool::GoError::Failed { stderr, .. }) => {
            if stderr.contains("DATA RACE") || stderr.contains("data race(s)") {
                RaceRun::Race(stderr)
            } else if race_unavailable(&stderr) {
                RaceRun::Unavailable(stderr)
            } else {
                RaceRun::Failed(stderr)
            }
        }
        Err(e) => RaceRun::Failed(e.to_string()),
    }
}

/// The messages `go` prints when `-race` cannot be used on this machine.
fn race_unavailable(stderr: &str) -> bool {
    stderr.contains("-race requires cgo")
        || stderr.contains("-race is not supported")
        || (stderr.contains("C compiler") && stderr.contains("not found"))
}

/// What is wrong with the Go program's safe run (empty when every way was exact).
pub fn go_broken(g: &GoSharing, stderr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            out.push(what);
        }
    };
    need(g.race_enabled, "the binary was not built with -race".into());
    need(g.mode == "safe", format!("mode {:?}, not \"safe\"", g.mode));
    need(
        !stderr.contains("DATA RACE"),
        "the race detector reported a race".into(),
    );
    need(
        g.atomic_count == g.threads * g.each,
        format!(
            "atomics: {} of {} increments",
            g.atomic_count,
            g.threads * g.each
        ),
    );
    need(
        g.channel_count == g.threads * g.requests && g.channel_replies_one_to_n,
        format!(
            "channel owner: count {} of {}, replies one to n: {}",
            g.channel_count,
            g.threads * g.requests,
            g.channel_replies_one_to_n
        ),
    );
    need(
        g.once_runs == 1 && g.once_same_value,
        format!(
            "Once: f ran {}× for {} callers, same value: {}",
            g.once_runs, g.once_callers, g.once_same_value
        ),
    );
    let shards = g.shard_buckets.clone().unwrap_or_default();
    need(
        shards.len() == BUCKETS
            && Some(&shards) == g.sequential_buckets.as_ref()
            && shards.iter().sum::<u64>() == g.threads * g.each,
        format!(
            "confinement: merged {:?} vs sequential {:?}",
            g.shard_buckets, g.sequential_buckets
        ),
    );
    need(
        g.rw_readers_met,
        "RWMutex: the two readers were never inside together".into(),
    );
    need(
        g.rw_writes == g.rw_writes_expected && g.rw_writes > 0,
        format!(
            "RWMutex: {} of {} writes kept",
            g.rw_writes, g.rw_writes_expected
        ),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_add_keeps_every_increment() {
        assert_eq!(atomic_count(4, 10_000), 40_000);
    }

    /// The lost update: a load and a separate store let another thread's increment in between.
    #[test]
    fn load_then_store_loses_updates() {
        let lost = lost_updates(4 * 500, racy_count(4, 500));
        assert!(
            lost > 0,
            "no update lost in 2 000 yielding load/store pairs"
        );
    }

    #[test]
    fn lost_updates_counts_the_shortfall() {
        assert_eq!(lost_updates(100, 100), 0);
        assert_eq!(lost_updates(100, 93), 7);
        assert_eq!(lost_updates(100, 120), 0);
    }

    #[test]
    fn the_channel_owner_serves_every_request_alone() {
        let r = channel_owned(3, 300);
        assert_eq!(owned_broken(&r), Vec::<String>::new());
    }

    #[test]
    fn owned_broken_catches_duplicate_replies_and_a_second_toucher() {
        let mut r = channel_owned(2, 10);
        r.replies[1] = r.replies[0]; // two requests saw the same state
        r.touched_by.insert(r.client_ids[0]);
        let broken = owned_broken(&r);
        assert_eq!(broken.len(), 2, "{broken:?}");
        assert!(!replies_are_one_to_n(&[1, 2, 2], 3));
        assert!(replies_are_one_to_n(&[1, 2, 3], 3));
        assert!(!replies_are_one_to_n(&[1, 2], 3));
    }

    #[test]
    fn once_cells_run_the_initializer_once() {
        assert_eq!(once_broken(&once_lock_race(8)), Vec::<String>::new());
        assert_eq!(once_broken(&go_once_race(8)), Vec::<String>::new());
    }

    #[test]
    fn once_broken_catches_two_runs_and_an_early_return() {
        let r = OnceReport {
            callers: 2,
            runs: 2,
            seen: vec![Some("a".into()), Some("b".into())],
            returned_early: 1,
        };
        assert_eq!(once_broken(&r).len(), 3);
    }

    #[test]
    fn confined_shards_merge_to_the_sequential_count() {
        let data = lcg(10_001);
        let seq = sequential_buckets(&data);
        assert_eq!(confined_buckets(&data, 4), seq);
        assert_eq!(seq.iter().sum::<u64>(), 10_001);
        // The LCG's first value, worked by hand: 1·a + c.
        assert_eq!(lcg(1), vec![7_806_831_264_735_756_412]);
    }

    #[test]
    fn readers_meet_inside_a_read_lock_but_not_inside_a_mutex() {
        let rw = std::sync::RwLock::new(());
        assert!(readers_meet(|| rw.read(), Duration::from_secs(5)));
        // The counterexample: with an exclusive lock the second reader cannot get in.
        let m = Mutex::new(());
        assert!(!readers_meet(|| m.lock(), Duration::from_millis(100)));
    }

    #[test]
    fn classify_tells_a_race_from_a_missing_cgo() {
        let failed = |s: &str| {
            Err(gotool::GoError::Failed {
                args: "run -race".into(),
                status: "non-zero exit".into(),
                stderr: s.into(),
            })
        };
        assert!(matches!(
            classify_race_run(failed("WARNING: DATA RACE\n…\nexit status 66")),
            RaceRun::Race(_)
        ));
        assert!(matches!(
            classify_race_run(failed(
                "go: -race requires cgo; enable cgo by setting CGO_ENABLED=1"
            )),
            RaceRun::Unavailable(_)
        ));
        assert!(matches!(
            classify_race_run(failed("main.go:3: syntax error")),
            RaceRun::Failed(_)
        ));
        assert!(matches!(
            classify_race_run(Ok(gotool::Output {
                stdout: "{}".into(),
                stderr: String::new(),
                success: true
            })),
            RaceRun::Clean { .. }
        ));
    }

    #[test]
    fn go_broken_catches_a_race_report_and_a_short_count() {
        let good = GoSharing {
            race_enabled: true,
            mode: "safe".into(),
            threads: 2,
            each: 4,
            requests: 3,
            atomic_count: 8,
            channel_count: 6,
            channel_replies_one_to_n: true,
            once_runs: 1,
            once_same_value: true,
            shard_buckets: Some(vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8]),
            sequential_buckets: Some(vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8]),
            rw_readers_met: true,
            rw_writes: 5,
            rw_writes_expected: 5,
            ..GoSharing::default()
        };
        assert_eq!(go_broken(&good, ""), Vec::<String>::new());
        assert_eq!(go_broken(&good, "WARNING: DATA RACE").len(), 1);
        let short = GoSharing {
            atomic_count: 7,
            race_enabled: false,
            ..good
        };
        assert_eq!(go_broken(&short, "").len(), 2);
    }
}

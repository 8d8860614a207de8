//! The GPM scheduler: Gs run by Ms (OS threads) that must hold a P (a processor) to run Go code.
//!
//! Answers go-13 (「Go的GPM如何调度」), go-46 (goroutines and kernel threads are M:N) and, with
//! [`crate::gm`] next to it, go-47 (why P). It runs real closures on real threads.
//!
//! ```text
//!                         global run queue (sched.lock)   ◄── Gosched, preemption, spills,
//!                         ┌──┬──┬──┐                          G back from a syscall with no P
//!                         │G │G │G │
//!                         └──┴──┴──┘
//!         P0                    ▲ 1/61 ticks, or when local is empty      P1
//!   runnext ┌──┐           ─────┘─────                              runnext ┌──┐
//!   local   ├──┼──┬──┬──┐ ◄─── steal half ──── (P1 has nothing) ─── local   └──┘
//!   (256)   │G │G │G │G │                                                    │
//!           └──┴──┴──┴──┘                                                    │
//!             │                                                              │
//!             M0 (OS thread) ── runs G                              M1 (OS thread)
//!              └─ blocks in a syscall: P0 stays behind; sysmon hands P0 to M2
//! ```
//!
//! # The rules, each in one function
//! - `Shared::runqput`: a new G goes to the spawning P's `runnext`; the G it displaces goes to
//!   the tail of the local queue; a full local queue (256) moves half of itself plus the new G to
//!   the global queue.
//! - `Shared::find_runnable`: every 61st schedule tick a P looks at the global queue first (so
//!   two Gs that keep re-spawning each other through `runnext` cannot starve it); then `runnext`,
//!   then the local queue, then a batch from the global queue, then stealing half of a random
//!   victim's local queue, then the P goes idle and its M sleeps.
//! - `Shared::steal`: half (rounded up) of the victim's local queue, from its head.
//! - `Shared::sysmon_pass`: the monitor sets a G's preempt flag once it has run 10 ms (the G stops
//!   at its next step), and retakes a P whose M has been in a syscall longer than
//!   [`Config::retake_after`] and hands it to a spare M (or a new one).
//!
//! # Invariants
//! - A G is in exactly one place: a `runnext`, a local queue, the global queue, or an M's hands
//!   (running or in a syscall). The proptest in `tests/sched.rs` checks each G finishes once.
//! - Only the M holding a P pushes to that P's local queue; others only take from it (stealing).
//! - A P goes idle only under `sched.lock` after seeing the global queue empty, and every push to
//!   the global queue happens under the same lock and wakes an idle P: no G is stranded.
//!
//! # How the real system differs
//! - Go's local queue is a lock-free ring (`runqput`/`runqget`/`runqgrab` with atomic head and
//!   tail); here it is a `VecDeque` behind a per-P mutex that only the owner and thieves take.
//! - Go preempts a running goroutine asynchronously since 1.14 (sysmon sends a signal, the
//!   handler injects a call to the scheduler at almost any instruction); before that, and here,
//!   preemption was cooperative: the flag is checked at function prologues (here: between steps).
//! - Go retakes a P from a syscall after one sysmon tick (20 µs to 10 ms, adaptive) and hands it
//!   off only if there is work; here after [`Config::retake_after`] (1 ms), same condition.
//! - Go keeps idle Ms, spinning Ms and the network poller; here Ms sleep on a channel, there is no
//!   netpoller, no GC, no timers and no `LockOSThread`.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::{Condvar, Mutex};

use crate::report::{CountedMutex, Counters, GRecord, LockStats, Report, bump};
use crate::task::{Body, Step, Task, TaskCtx};
use crate::trace::{Event, EventKind, Source};

/// How a run is set up. [`Config::new`] gives Go's constants.
#[derive(Debug, Clone)]
pub struct Config {
    /// GOMAXPROCS: how many Ps.
    pub procs: usize,
    /// Record every event (for small runs).
    pub trace: bool,
    /// Capacity of a P's local run queue (Go: 256).
    pub local_capacity: usize,
    /// Every this many schedule ticks a P checks the global queue first (Go: 61).
    pub global_every: u64,
    /// The time slice: the monitor preempts a G that has run longer (Go: 10 ms, `forcePreemptNS`).
    pub preempt_after: Duration,
    /// The monitor retakes a P whose M has been in a syscall longer than this.
    pub retake_after: Duration,
    /// How often the monitor looks.
    pub sysmon_tick: Duration,
    /// Seeds the random order in which a P tries its steal victims.
    pub seed: u64,
}

impl Config {
    pub fn new(procs: usize) -> Config {
        Config {
            procs: procs.max(1),
            trace: false,
            local_capacity: 256,
            global_every: 61,
            preempt_after: Duration::from_millis(10),
            retake_after: Duration::from_millis(1),
            sysmon_tick: Duration::from_micros(500),
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }

    pub fn traced(mut self) -> Config {
        self.trace = true;
        self
    }
}

/// A G: the task plus what the scheduler knows about it.
struct G {
    id: u64,
    parent: Option<u64>,
    body: Body,
    steps: u64,
    ps: Vec<usize>,
    ms: Vec<usize>,
}

impl G {
    fn ran_on(&mut self, p: Option<usize>, m: usize) {
        if let Some(p) = p
            && self.ps.last() != Some(&p)
        {
            self.ps.push(p);
        }
        if self.ms.last() != Some(&m) {
            self.ms.push(m);
        }
    }
}

/// A P's run queues.
#[derive(Default)]
struct LocalQueue {
    runnext: Option<G>,
    q: VecDeque<G>,
}

impl LocalQueue {
    fn len(&self) -> usize {
        self.q.len() + usize::from(self.runnext.is_some())
    }
}

const P_IDLE: u8 = 0;
const P_RUNNING: u8 = 1;
const P_SYSCALL: u8 = 2;

/// A processor: the right to run Go code, and a local run queue.
struct P {
    /// `P_IDLE`, `P_RUNNING`, or `P_SYSCALL` (its M is blocked in a syscall; the monitor may take
    /// it with a compare-and-swap, racing the M that wants it back).
    status: AtomicU8,
    local: CountedMutex<LocalQueue>,
    /// Schedules done on this P (not counting `runnext` runs, which inherit the time slice).
    schedtick: AtomicU64,
    /// Set by the monitor; the running G stops at its next step.
    preempt: AtomicBool,
    /// When the current G started running, ns since the run began.
    run_start: AtomicU64,
    /// Bumped each time a G starts on this P, so the monitor does not flag the next G for the
    /// previous one's time.
    run_seq: AtomicU64,
    syscall_start: AtomicU64,
    /// The M holding (or last holding) the P, for the trace.
    m: AtomicUsize,
}

/// What `sched.lock` protects.
struct Global {
    runq: VecDeque<G>,
    idle_ps: Vec<usize>,
    idle_ms: Vec<(usize, Sender<Option<Wake>>)>,
    shutdown: bool,
    next_m: usize,
}

/// What an M is woken with: a P, and whether it should start by looking for work to steal.
#[derive(Debug, Clone, Copy)]
struct Wake {
    p: usize,
    /// Woken by `wakep`: the M owns one count of `Shared::spinning`.
    spinning: bool,
}

pub(crate) struct Shared {
    cfg: Config,
    start: Instant,
    ps: Vec<P>,
    sched: CountedMutex<Global>,
    /// The global queue's length, readable without the lock (Go: `sched.runqsize`).
    global_len: AtomicUsize,
    idle_p_count: AtomicUsize,
    /// Ms looking for work to steal. At most one is woken at a time for new work.
    spinning: AtomicUsize,
    /// Gs not finished yet. The run ends when it reaches 0.
    live: AtomicUsize,
    next_g: AtomicU64,
    counters: Counters,
    trace: Option<Mutex<Vec<Event>>>,
    finished: Mutex<Vec<GRecord>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    done: (Mutex<bool>, Condvar),
}

/// Runs `roots` (and everything they spawn) to completion on `cfg.procs` Ps, and reports.
pub fn run(cfg: Config, roots: Vec<Task>) -> Report {
    let procs = cfg.procs.max(1);
    let ps = (0..procs)
        .map(|_| P {
            status: AtomicU8::new(P_IDLE),
            local: CountedMutex::new(LocalQueue::default()),
            schedtick: AtomicU64::new(0),
            preempt: AtomicBool::new(false),
            run_start: AtomicU64::new(0),
            run_seq: AtomicU64::new(0),
            syscall_start: AtomicU64::new(0),
            m: AtomicUsize::new(usize::MAX),
        })
        .collect();
    let sh = Arc::new(Shared {
        trace: cfg.trace.then(|| Mutex::new(Vec::new())),
        cfg: Config { procs, ..cfg },
        start: Instant::now(),
        ps,
        sched: CountedMutex::new(Global {
            runq: VecDeque::new(),
            idle_ps: (1..procs).rev().collect(),
            idle_ms: Vec::new(),
            shutdown: false,
            next_m: 0,
        }),
        global_len: AtomicUsize::new(0),
        idle_p_count: AtomicUsize::new(procs - 1),
        spinning: AtomicUsize::new(0),
        live: AtomicUsize::new(roots.len()),
        next_g: AtomicU64::new(1),
        counters: Counters::default(),
        finished: Mutex::new(Vec::new()),
        threads: Mutex::new(Vec::new()),
        done: (Mutex::new(roots.is_empty()), Condvar::new()),
    });
    if !roots.is_empty() {
        // The roots start in P0's local queue, like the main goroutine on the first P.
        {
            let mut local = sh.ps[0].local.lock();
            for t in roots {
                let g = sh.new_g(t, None);
                local.q.push_back(g);
            }
        }
        sh.ps[0].status.store(P_RUNNING, Ordering::SeqCst);
        let m0 = {
            let mut s = sh.sched.lock();
            s.next_m += 1;
            s.next_m - 1
        };
        sh.spawn_m(m0, Some(0), false);
        if sh.live.load(Ordering::SeqCst) > 1 {
            sh.wakep();
        }
        let monitor = {
            let sh = Arc::clone(&sh);
            thread::spawn(move || sh.sysmon())
        };
        let mut done = sh.done.0.lock();
        while !*done {
            sh.done.1.wait(&mut done);
        }
        drop(done);
        let _ = monitor.join();
        loop {
            let next = sh.threads.lock().pop();
            match next {
                Some(h) => {
                    let _ = h.join();
                }
                None => break,
            }
        }
    }
    let elapsed = sh.start.elapsed();
    let local_locks = sh.ps.iter().fold(LockStats::default(), |acc, p| {
        let s = p.local.stats();
        LockStats {
            acquisitions: acc.acquisitions + s.acquisitions,
            contended: acc.contended + s.contended,
        }
    });
    let stats = sh.counters.snapshot(sh.sched.stats(), local_locks);
    Report {
        procs,
        elapsed,
        stats,
        finished: std::mem::take(&mut *sh.finished.lock()),
        events: sh
            .trace
            .as_ref()
            .map(|t| std::mem::take(&mut *t.lock()))
            .unwrap_or_default(),
    }
}

/// A tiny xorshift for the steal order (no dependency, reproducible per seed and M).
fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

/// The other Ps in a random order: who a P tries to steal from, and in which order.
pub(crate) fn victim_order(procs: usize, me: usize, rng: &mut u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..procs).filter(|&p| p != me).collect();
    for i in (1..v.len()).rev() {
        let j = (xorshift(rng) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

/// How many Gs a thief takes from a local queue of `len`: half, rounded up (Go's `runqgrab`).
pub fn steal_count(len: usize) -> usize {
    len - len / 2
}

/// How many Gs an empty P takes from a global queue of `len` (Go's `globrunqget`): its fair share
/// plus one, no more than half a local queue.
pub fn global_batch(len: usize, procs: usize, local_capacity: usize) -> usize {
    len.min(len / procs.max(1) + 1)
        .min(local_capacity / 2)
        .max(usize::from(len > 0))
}

/// Whether the schedule at `tick` looks at the global queue before the local one.
pub fn fairness_tick(tick: u64, every: u64) -> bool {
    every > 0 && tick.is_multiple_of(every)
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn ev(&self, p: Option<usize>, m: Option<usize>, g: Option<u64>, kind: EventKind) {
        if let Some(t) = &self.trace {
            let at = self.start.elapsed();
            t.lock().push(Event { at, p, m, g, kind });
        }
    }

    fn new_g(&self, t: Task, parent: Option<u64>) -> G {
        bump(&self.counters.tasks);
        G {
            id: self.next_g.fetch_add(1, Ordering::Relaxed),
            parent,
            body: t.body,
            steps: 0,
            ps: Vec::new(),
            ms: Vec::new(),
        }
    }

    /// Starts an OS thread as M `id`, holding `p` (or none: it sleeps until woken).
    fn spawn_m(self: &Arc<Self>, id: usize, p: Option<usize>, spinning: bool) {
        bump(&self.counters.ms_created);
        self.ev(p, Some(id), None, EventKind::NewM);
        let (tx, rx) = crossbeam_channel::bounded(1);
        let sh = Arc::clone(self);
        let h = thread::Builder::new()
            .name(format!("gpm-m{id}"))
            .spawn(move || sh.m_main(id, p, spinning, tx, rx))
            .expect("spawn an M thread");
        self.threads.lock().push(h);
    }

    /// Gives P `p` to an idle M, or to a new one. Called with `sched` held (`s`).
    fn startm_locked(self: &Arc<Self>, s: &mut Global, p: usize, spinning: bool) -> usize {
        self.ps[p].status.store(P_RUNNING, Ordering::SeqCst);
        if let Some((m, tx)) = s.idle_ms.pop() {
            let _ = tx.send(Some(Wake { p, spinning }));
            m
        } else {
            let m = s.next_m;
            s.next_m += 1;
            self.spawn_m(m, Some(p), spinning);
            m
        }
    }

    /// If a P is idle and nobody is already looking for work, wake an M with that P to look.
    fn wakep(self: &Arc<Self>) {
        if self.idle_p_count.load(Ordering::SeqCst) == 0 {
            return;
        }
        if self
            .spinning
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return;
        }
        let mut s = self.sched.lock();
        match s.idle_ps.pop() {
            Some(p) if !s.shutdown => {
                self.idle_p_count.fetch_sub(1, Ordering::SeqCst);
                // The woken M starts out spinning (it owns the spinning count taken above).
                self.startm_locked(&mut s, p, true);
            }
            other => {
                if let Some(p) = other {
                    s.idle_ps.push(p);
                }
                self.spinning.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// A new or displaced G goes to P `p`: `runnext` when `next`, else the local tail; a full
    /// local queue moves half of itself plus the G to the global queue.
    fn runqput(self: &Arc<Self>, p: usize, m: usize, g: G, next: bool, spawner: Option<u64>) {
        let mut local = self.ps[p].local.lock();
        let mut g = g;
        if next {
            let child = g.id;
            let kicked = local.runnext.replace(g);
            self.ev(
                Some(p),
                Some(m),
                spawner,
                EventKind::Spawn {
                    child,
                    kicked: kicked.as_ref().map(|k| k.id),
                },
            );
            match kicked {
                Some(k) => g = k,
                None => return,
            }
        }
        if local.q.len() < self.cfg.local_capacity {
            local.q.push_back(g);
            return;
        }
        let half = local.q.len() / 2;
        let mut batch: Vec<G> = local.q.drain(..half).collect();
        drop(local);
        batch.push(g);
        let n = batch.len();
        bump(&self.counters.spills);
        self.ev(Some(p), Some(m), None, EventKind::Spill { n });
        self.globrunqput(batch);
    }

    /// Puts Gs on the global queue and wakes an idle P to take them.
    fn globrunqput(self: &Arc<Self>, gs: Vec<G>) {
        {
            let mut s = self.sched.lock();
            bump(&self.counters.runq_locked);
            self.global_len.fetch_add(gs.len(), Ordering::SeqCst);
            s.runq.extend(gs);
        }
        self.wakep();
    }

    /// Takes half of `victim`'s local queue into `thief`'s, returning one G to run.
    fn steal(&self, thief: usize, victim: usize, m: usize) -> Option<G> {
        let mut grabbed: Vec<G> = {
            let mut v = self.ps[victim].local.lock();
            let n = steal_count(v.q.len());
            v.q.drain(..n).collect()
        };
        let g = grabbed.pop()?;
        bump(&self.counters.steals);
        self.counters
            .stolen
            .fetch_add(grabbed.len() as u64 + 1, Ordering::Relaxed);
        if self.trace.is_some() {
            let mut gs: Vec<u64> = grabbed.iter().map(|g| g.id).collect();
            gs.push(g.id);
            self.ev(
                Some(thief),
                Some(m),
                None,
                EventKind::Steal { from: victim, gs },
            );
        }
        if !grabbed.is_empty() {
            self.ps[thief].local.lock().q.extend(grabbed);
        }
        Some(g)
    }

    fn any_local_work(&self) -> bool {
        self.ps.iter().any(|p| p.local.lock().len() > 0)
    }

    /// A spinning M found work: if it was the last spinner, wake another in case there is more.
    fn reset_spinning(self: &Arc<Self>, spinning: &mut bool) {
        if *spinning {
            *spinning = false;
            if self.spinning.fetch_sub(1, Ordering::SeqCst) == 1 {
                self.wakep();
            }
        }
    }

    /// Go's `schedule` + `findRunnable`: the next G for the M holding `*p`. Returns `None` after
    /// putting the P on the idle list (the M then sleeps). May change `*p` (an M that gave up its
    /// P re-acquires one if work appeared meanwhile).
    fn find_runnable(
        self: &Arc<Self>,
        m: usize,
        p: &mut usize,
        spinning: &mut bool,
        rng: &mut u64,
    ) -> Option<(G, Source)> {
        loop {
            let pp = &self.ps[*p];
            let tick = pp.schedtick.load(Ordering::Relaxed);
            if fairness_tick(tick, self.cfg.global_every)
                && self.global_len.load(Ordering::SeqCst) > 0
            {
                let mut s = self.sched.lock();
                bump(&self.counters.runq_locked);
                let g = s.runq.pop_front();
                if g.is_some() {
                    self.global_len.fetch_sub(1, Ordering::SeqCst);
                }
                drop(s);
                bump(&self.counters.global_checks);
                self.ev(
                    Some(*p),
                    Some(m),
                    None,
                    EventKind::GlobalCheck {
                        tick,
                        found: g.as_ref().map(|g| g.id),
                    },
                );
                if let Some(g) = g {
                    self.reset_spinning(spinning);
                    return Some((g, Source::GlobalFairness));
                }
            }
            {
                let mut local = pp.local.lock();
                let got = match local.runnext.take() {
                    Some(g) => Some((g, Source::Runnext)),
                    None => local.q.pop_front().map(|g| (g, Source::Local)),
                };
                drop(local);
                if let Some(found) = got {
                    self.reset_spinning(spinning);
                    return Some(found);
                }
            }
            if self.global_len.load(Ordering::SeqCst) > 0 {
                let mut s = self.sched.lock();
                bump(&self.counters.runq_locked);
                let n = global_batch(s.runq.len(), self.cfg.procs, self.cfg.local_capacity);
                let mut batch: VecDeque<G> = s.runq.drain(..n).collect();
                self.global_len.fetch_sub(n, Ordering::SeqCst);
                drop(s);
                if let Some(g) = batch.pop_front() {
                    bump(&self.counters.global_gets);
                    self.ev(Some(*p), Some(m), None, EventKind::GlobalGet { n });
                    if !batch.is_empty() {
                        pp.local.lock().q.extend(batch);
                    }
                    self.reset_spinning(spinning);
                    return Some((g, Source::Global));
                }
            }
            // Steal: become a spinning M, try every other P in a random order, a few rounds.
            if self.cfg.procs > 1 {
                if !*spinning {
                    *spinning = true;
                    self.spinning.fetch_add(1, Ordering::SeqCst);
                }
                for _ in 0..4 {
                    for victim in victim_order(self.cfg.procs, *p, rng) {
                        if let Some(g) = self.steal(*p, victim, m) {
                            self.reset_spinning(spinning);
                            return Some((g, Source::Stolen));
                        }
                    }
                }
            }
            // Nothing anywhere: give the P back, unless the global queue filled meanwhile.
            {
                let mut s = self.sched.lock();
                if !s.runq.is_empty() {
                    continue;
                }
                pp.status.store(P_IDLE, Ordering::SeqCst);
                s.idle_ps.push(*p);
                self.idle_p_count.fetch_add(1, Ordering::SeqCst);
            }
            self.ev(Some(*p), Some(m), None, EventKind::PIdle);
            if *spinning {
                *spinning = false;
                self.spinning.fetch_sub(1, Ordering::SeqCst);
                // Work may have been queued after we looked and before we stopped spinning,
                // by a spawner that saw us spinning and so woke nobody: look once more.
                if self.any_local_work() {
                    let mut s = self.sched.lock();
                    if let Some(q) = s.idle_ps.pop() {
                        self.idle_p_count.fetch_sub(1, Ordering::SeqCst);
                        self.ps[q].status.store(P_RUNNING, Ordering::SeqCst);
                        drop(s);
                        *p = q;
                        continue;
                    }
                }
            }
            return None;
        }
    }

    /// The M has no P: sleep until woken with one. `None` means the run is over.
    fn stopm(
        &self,
        m: usize,
        tx: &Sender<Option<Wake>>,
        rx: &Receiver<Option<Wake>>,
    ) -> Option<Wake> {
        {
            let mut s = self.sched.lock();
            if s.shutdown {
                return None;
            }
            s.idle_ms.push((m, tx.clone()));
        }
        match rx.recv() {
            Ok(Some(w)) => Some(w),
            _ => None,
        }
    }

    fn m_main(
        self: Arc<Self>,
        m: usize,
        mut p: Option<usize>,
        mut spinning: bool,
        tx: Sender<Option<Wake>>,
        rx: Receiver<Option<Wake>>,
    ) {
        let mut rng = self.cfg.seed ^ ((m as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
        if rng == 0 {
            rng = 1;
        }
        loop {
            let mut pid = match p {
                Some(pid) => pid,
                None => match self.stopm(m, &tx, &rx) {
                    Some(w) => {
                        spinning = w.spinning;
                        w.p
                    }
                    None => return,
                },
            };
            self.ps[pid].m.store(m, Ordering::Relaxed);
            match self.find_runnable(m, &mut pid, &mut spinning, &mut rng) {
                Some((g, from)) => p = self.execute(m, pid, g, from),
                None => p = None,
            }
        }
    }

    /// Runs G `g` on P `p` until it yields, is preempted, finishes, or comes back from a syscall
    /// to find no P. Returns the P the M still holds.
    fn execute(self: &Arc<Self>, m: usize, mut p: usize, mut g: G, from: Source) -> Option<usize> {
        let c = &self.counters;
        bump(match from {
            Source::Runnext => &c.runs_runnext,
            Source::Local => &c.runs_local,
            Source::GlobalFairness => &c.runs_fairness,
            Source::Global => &c.runs_global,
            Source::Stolen => &c.runs_stolen,
            Source::AfterSyscall | Source::GmQueue => &c.runs_local,
        });
        // A G taken from runnext inherits the time slice: the tick does not advance.
        if from != Source::Runnext {
            self.ps[p].schedtick.fetch_add(1, Ordering::Relaxed);
        }
        self.begin_run(p, m, &mut g, from);
        loop {
            let mut spawned = Vec::new();
            let step = {
                let mut cx = TaskCtx {
                    g: g.id,
                    p: Some(p),
                    m,
                    spawned: &mut spawned,
                };
                catch_unwind(AssertUnwindSafe(|| (g.body)(&mut cx)))
            };
            g.steps += 1;
            bump(&c.steps);
            if !spawned.is_empty() {
                for t in spawned {
                    self.live.fetch_add(1, Ordering::SeqCst);
                    let child = self.new_g(t, Some(g.id));
                    self.runqput(p, m, child, true, Some(g.id));
                }
                self.wakep();
            }
            match step {
                Ok(Step::Continue) => {
                    if self.ps[p].preempt.swap(false, Ordering::SeqCst) {
                        c.stop_running();
                        bump(&c.preemptions);
                        self.ev(Some(p), Some(m), Some(g.id), EventKind::Preempted);
                        self.globrunqput(vec![g]);
                        return Some(p);
                    }
                }
                Ok(Step::Yield) => {
                    c.stop_running();
                    bump(&c.yields);
                    self.ev(Some(p), Some(m), Some(g.id), EventKind::Yield);
                    self.globrunqput(vec![g]);
                    return Some(p);
                }
                Ok(Step::Done) => {
                    c.stop_running();
                    self.ev(Some(p), Some(m), Some(g.id), EventKind::Done);
                    self.finish(g, false);
                    return Some(p);
                }
                Err(_) => {
                    c.stop_running();
                    bump(&c.panics);
                    self.ev(Some(p), Some(m), Some(g.id), EventKind::Panicked);
                    self.finish(g, true);
                    return Some(p);
                }
                Ok(Step::Syscall(f)) => {
                    c.stop_running();
                    bump(&c.syscalls);
                    let pp = &self.ps[p];
                    pp.syscall_start.store(self.now_ns(), Ordering::SeqCst);
                    self.ev(Some(p), Some(m), Some(g.id), EventKind::EnterSyscall);
                    pp.status.store(P_SYSCALL, Ordering::SeqCst);
                    let _ = catch_unwind(AssertUnwindSafe(f));
                    match self.exitsyscall(m, p, &g) {
                        Some(q) => {
                            p = q;
                            self.begin_run(p, m, &mut g, Source::AfterSyscall);
                        }
                        None => {
                            self.globrunqput(vec![g]);
                            return None;
                        }
                    }
                }
            }
        }
    }

    fn begin_run(&self, p: usize, m: usize, g: &mut G, from: Source) {
        let pp = &self.ps[p];
        pp.m.store(m, Ordering::Relaxed);
        pp.preempt.store(false, Ordering::SeqCst);
        pp.run_seq.fetch_add(1, Ordering::SeqCst);
        pp.run_start.store(self.now_ns(), Ordering::SeqCst);
        self.counters.start_running();
        g.ran_on(Some(p), m);
        self.ev(Some(p), Some(m), Some(g.id), EventKind::Run { from });
    }

    /// Back from a syscall: the old P if the monitor left it, else any idle P, else none.
    fn exitsyscall(self: &Arc<Self>, m: usize, p: usize, g: &G) -> Option<usize> {
        if self.ps[p]
            .status
            .compare_exchange(P_SYSCALL, P_RUNNING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            bump(&self.counters.syscall_fast_exits);
            self.ev(Some(p), Some(m), Some(g.id), EventKind::ExitSyscallFast);
            return Some(p);
        }
        let mut s = self.sched.lock();
        if let Some(q) = s.idle_ps.pop() {
            self.idle_p_count.fetch_sub(1, Ordering::SeqCst);
            self.ps[q].status.store(P_RUNNING, Ordering::SeqCst);
            drop(s);
            self.ev(Some(q), Some(m), Some(g.id), EventKind::ExitSyscallOtherP);
            return Some(q);
        }
        drop(s);
        self.ev(None, Some(m), Some(g.id), EventKind::ExitSyscallNoP);
        None
    }

    fn finish(&self, g: G, panicked: bool) {
        self.finished.lock().push(GRecord {
            id: g.id,
            parent: g.parent,
            steps: g.steps,
            ps: g.ps,
            ms: g.ms,
            panicked,
        });
        if self.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            let mut s = self.sched.lock();
            s.shutdown = true;
            for (_, tx) in s.idle_ms.drain(..) {
                let _ = tx.send(None);
            }
            drop(s);
            *self.done.0.lock() = true;
            self.done.1.notify_all();
        }
    }

    /// The monitor thread: one pass every `sysmon_tick` until the run ends.
    fn sysmon(self: Arc<Self>) {
        let mut seen: Vec<(u64, u64)> = vec![(u64::MAX, 0); self.ps.len()];
        loop {
            {
                let mut done = self.done.0.lock();
                if *done {
                    return;
                }
                self.done.1.wait_for(&mut done, self.cfg.sysmon_tick);
                if *done {
                    return;
                }
            }
            self.sysmon_pass(&mut seen);
        }
    }

    /// One look at every P: preempt a G past its time slice; retake a P stuck in a syscall.
    fn sysmon_pass(self: &Arc<Self>, seen: &mut [(u64, u64)]) {
        let now = self.now_ns();
        for (i, pp) in self.ps.iter().enumerate() {
            match pp.status.load(Ordering::SeqCst) {
                P_RUNNING => {
                    let seq = pp.run_seq.load(Ordering::SeqCst);
                    let start = pp.run_start.load(Ordering::SeqCst);
                    if seen[i].0 != seq {
                        seen[i] = (seq, start);
                        continue;
                    }
                    if now.saturating_sub(seen[i].1) > self.cfg.preempt_after.as_nanos() as u64
                        && !pp.preempt.swap(true, Ordering::SeqCst)
                    {
                        bump(&self.counters.preempt_requests);
                        self.ev(
                            Some(i),
                            Some(pp.m.load(Ordering::Relaxed)),
                            None,
                            EventKind::PreemptRequest,
                        );
                    }
                }
                P_SYSCALL => {
                    let since = now.saturating_sub(pp.syscall_start.load(Ordering::SeqCst));
                    let has_work =
                        pp.local.lock().len() > 0 || self.global_len.load(Ordering::SeqCst) > 0;
                    if since > self.cfg.retake_after.as_nanos() as u64
                        && (has_work || since > self.cfg.preempt_after.as_nanos() as u64)
                        && pp
                            .status
                            .compare_exchange(P_SYSCALL, P_IDLE, Ordering::SeqCst, Ordering::SeqCst)
                            .is_ok()
                    {
                        self.handoffp(i);
                    }
                }
                _ => {}
            }
        }
    }

    /// Go's `handoffp`: give a retaken P to an M if there is work for it, else park it idle.
    fn handoffp(self: &Arc<Self>, p: usize) {
        let from_m = self.ps[p].m.load(Ordering::Relaxed);
        bump(&self.counters.handoffs);
        let mut s = self.sched.lock();
        let work = !s.runq.is_empty() || self.ps[p].local.lock().len() > 0;
        if work && !s.shutdown {
            let to = self.startm_locked(&mut s, p, false);
            drop(s);
            self.ev(
                Some(p),
                None,
                None,
                EventKind::Handoff {
                    from_m,
                    to_m: Some(to),
                },
            );
        } else {
            s.idle_ps.push(p);
            self.idle_p_count.fetch_add(1, Ordering::SeqCst);
            drop(s);
            self.ev(
                Some(p),
                None,
                None,
                EventKind::Handoff { from_m, to_m: None },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thief_takes_half_rounded_up() {
        assert_eq!(steal_count(8), 4);
        assert_eq!(steal_count(7), 4);
        assert_eq!(steal_count(1), 1, "a lone G can be stolen");
        assert_eq!(steal_count(0), 0);
        assert_ne!(steal_count(8), 8, "taking everything is not stealing half");
    }

    #[test]
    fn an_empty_p_takes_a_fair_share_of_the_global_queue() {
        assert_eq!(global_batch(10, 2, 256), 6);
        assert_eq!(
            global_batch(1000, 1, 256),
            128,
            "at most half a local queue"
        );
        assert_eq!(global_batch(1, 4, 256), 1);
        assert_eq!(global_batch(0, 4, 256), 0);
    }

    #[test]
    fn the_fairness_check_comes_every_61st_tick() {
        let ticks: Vec<u64> = (1..200).filter(|&t| fairness_tick(t, 61)).collect();
        assert_eq!(ticks, vec![61, 122, 183]);
        assert!(!fairness_tick(60, 61));
    }

    #[test]
    fn victims_are_every_other_p_once() {
        let mut rng = 42;
        let mut orders = std::collections::HashSet::new();
        for _ in 0..50 {
            let mut v = victim_order(4, 2, &mut rng);
            orders.insert(v.clone());
            v.sort_unstable();
            assert_eq!(v, vec![0, 1, 3]);
        }
        assert!(orders.len() > 1, "the order is random, not fixed");
    }
}

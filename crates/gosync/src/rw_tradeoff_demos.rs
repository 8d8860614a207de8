//! The go-18 demos of [`crate::rw_tradeoff`]: a reader-writer lock wins when reads are long and
//! can overlap, and loses when writes dominate; Go's `sync.RWMutex` and `sync.Mutex` agree
//! (`go/cmd/go18-rwtradeoff`).

use std::time::Duration;

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::mutex::GoMutex;
use crate::rw_tradeoff::{
    self, ATTEMPTS, CLEAR_CAPACITY, Comparison, MIN_READ_SPEEDUP, MIN_WRITE_RATIO, READ_HEAVY,
    READ_SECTION, RUNS, ReadVerdict, THREADS, WRITE_HEAVY, Workload,
};
use crate::rwmutex::GoRwMutex;

/// The Go side of the comparison.
pub const GO_PROGRAM: &str = "cmd/go18-rwtradeoff";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn workload_line(w: &Workload) -> String {
    let reads = if w.long_reads {
        format!("each read ~{} µs of arithmetic", READ_SECTION.as_micros())
    } else {
        "each section one counter load (+ store for writes)".to_string()
    };
    format!(
        "{}: {THREADS} threads × {} ops, {} in {} writes, {reads}; median of {RUNS} runs",
        w.name, w.ops, w.writes, w.of
    )
}

fn comparison_lines(label: (&str, &str), c: &Comparison) -> [String; 2] {
    let line = |name: &str, r: &rw_tradeoff::Run, most: usize| {
        format!(
            "  {name:<18} {:>8.2} ms, at most {most} reader(s) inside at once, {:>4} of {} reads \
             began beside another",
            ms(r.elapsed),
            r.overlapped_reads,
            r.reads
        )
    };
    [
        line(label.0, &c.mutex, c.mutex_max_readers_inside),
        line(label.1, &c.rw, c.rw_max_readers_inside),
    ]
}

fn say_comparison(ctx: &mut Ctx<'_>, label: (&str, &str), c: &Comparison) {
    for l in comparison_lines(label, c) {
        ctx.say(l);
    }
    ctx.say(format!("  {} / {} = {:.2}", label.0, label.1, c.speedup()));
}

const PORTS: (&str, &str) = ("GoMutex", "GoRwMutex");

pub const READ_HEAVY_WINS: Demo = Demo {
    name: "go-18/rwmutex-wins-when-reads-are-long",
    claim: "With 2 threads doing ~10 µs read sections (1 write in 200), Go's RWMutex (ported) lets \
            both readers in at once (2 inside vs 1 under Mutex) and finishes the same work ≥ 1.3× \
            faster than Mutex (2× is the ideal; if another process holds a CPU, at least half the \
            gain unlocked threads get; with no room for two threads at all, only the overlap is \
            asserted and the timing is reported as inconclusive)",
    needs: Need::Nothing,
    run: read_heavy_wins,
};

fn read_heavy_wins(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    if let Some(why) = rw_tradeoff::parallelism_missing(rw_tradeoff::cpus()) {
        return Err(DemoError::Unavailable(why));
    }
    ctx.say(workload_line(&READ_HEAVY));
    ctx.say(format!(
        "{} xorshift steps take {} µs in this build",
        rw_tradeoff::read_section_steps(),
        READ_SECTION.as_micros()
    ));
    let mut refuted = Vec::new();
    let mut busy = Vec::new();
    for attempt in 1..=ATTEMPTS {
        ctx.say(format!("attempt {attempt}:"));
        let ports = rw_tradeoff::compare(READ_HEAVY, GoMutex::new, GoRwMutex::new);
        ctx.say(capacity_line(&ports));
        say_comparison(ctx, PORTS, &ports);
        {
            let (label, c) = (PORTS, &ports);
            check!(
                rw_tradeoff::readers_shared_only_the_rw_lock(
                    c.mutex_max_readers_inside,
                    c.rw_max_readers_inside
                ),
                "{}: at most {} reader(s) inside at once, {}: {} (want 1 and {THREADS})",
                label.0,
                c.mutex_max_readers_inside,
                label.1,
                c.rw_max_readers_inside
            );
            check!(
                c.mutex.count == READ_HEAVY.total_writes()
                    && c.rw.count == READ_HEAVY.total_writes(),
                "{label:?} lost writes: {} and {} of {}",
                c.mutex.count,
                c.rw.count,
                READ_HEAVY.total_writes()
            );
        }
        let v = rw_tradeoff::read_heavy_verdict(
            ports.mutex.elapsed,
            ports.rw.elapsed,
            ports.capacity(),
            ports.min_capacity,
        );
        let what = format!(
            "attempt {attempt}: GoRwMutex only {:.2}× faster than GoMutex (unlocked threads: {:.2}×, \
             worst run {:.2}×)",
            ports.speedup(),
            ports.capacity(),
            ports.min_capacity
        );
        match v {
            ReadVerdict::Shown => {
                ctx.say(format!(
                    "readers overlapped: GoRwMutex did the work {:.2}× faster than GoMutex \
                     (required: {:.2}×, with unlocked threads {:.2}× faster than one)",
                    ports.speedup(),
                    rw_tradeoff::required_speedup(ports.capacity()).unwrap_or(MIN_READ_SPEEDUP),
                    ports.capacity()
                ));
                return Ok(());
            }
            ReadVerdict::Refuted => refuted.push(what),
            ReadVerdict::Inconclusive => busy.push(what),
        }
    }
    check!(
        refuted.is_empty(),
        "with room for two threads, a reader-writer lock was not ≥ {MIN_READ_SPEEDUP}× faster: {}",
        refuted.join("; ")
    );
    // Every attempt asserted the overlap (2 readers inside under the RWMutex, 1 under the Mutex);
    // only the timing could not be judged, because the machine gave no room for two threads.
    ctx.say(format!(
        "timing inconclusive: in {ATTEMPTS} attempts other processes kept the CPUs too busy (in \
         some run two unlocked threads were < {CLEAR_CAPACITY}× faster than one), so only the \
         overlap was asserted: {}",
        busy.join("; ")
    ));
    Ok(())
}

fn capacity_line(c: &Comparison) -> String {
    format!(
        "  control, no lock: 1 thread {:.2} ms, {THREADS} threads {:.2} ms ({:.2}×, worst run {:.2}×, \
         {} CPUs)",
        ms(c.alone.elapsed),
        ms(c.free.elapsed),
        c.capacity(),
        c.min_capacity,
        rw_tradeoff::cpus()
    )
}

pub const WRITE_HEAVY_LOSES: Demo = Demo {
    name: "go-18/rwmutex-loses-when-writes-dominate",
    claim: "With 2 threads doing 9 writes in 10 on short sections, Go's RWMutex (ported) gains \
            nothing over Mutex: its time is ≥ 0.95× Mutex's, and in practice longer, since its Lock \
            is a Mutex lock plus more atomic work",
    needs: Need::Nothing,
    run: write_heavy_loses,
};

fn write_heavy_loses(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say(workload_line(&WRITE_HEAVY));
    let mut ratios = Vec::new();
    for attempt in 1..=ATTEMPTS {
        ctx.say(format!("attempt {attempt}:"));
        let c = rw_tradeoff::compare(WRITE_HEAVY, GoMutex::new, GoRwMutex::new);
        say_comparison(ctx, PORTS, &c);
        check!(
            c.mutex.count == WRITE_HEAVY.total_writes() && c.rw.count == WRITE_HEAVY.total_writes(),
            "lost writes: {} and {} of {}",
            c.mutex.count,
            c.rw.count,
            WRITE_HEAVY.total_writes()
        );
        let ratio = 1.0 / c.speedup();
        if rw_tradeoff::rw_gains_nothing_write_heavy(c.mutex.elapsed, c.rw.elapsed) {
            ctx.say(format!(
                "no gain: GoRwMutex time / GoMutex time = {ratio:.2} (≥ {MIN_WRITE_RATIO} required)"
            ));
            return Ok(());
        }
        ratios.push(ratio);
    }
    check!(
        false,
        "in {ATTEMPTS} attempts GoRwMutex beat GoMutex on a write-heavy load (RW/Mutex time \
         {ratios:.2?}; need ≥ {MIN_WRITE_RATIO})"
    );
    Ok(())
}

/// What `go/cmd/go18-rwtradeoff` prints.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoTradeoff {
    pub go_version: String,
    pub gomaxprocs: u32,
    pub num_cpu: u32,
    pub threads: usize,
    pub runs: usize,
    pub section_us: u64,
    pub section_steps: u64,
    pub results: Vec<GoWorkload>,
}

/// One workload under no lock, `sync.Mutex` and `sync.RWMutex` (medians of the runs).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoWorkload {
    pub workload: GoWorkloadSpec,
    pub alone: GoRun,
    pub free: GoRun,
    pub mutex: GoRun,
    pub rw: GoRun,
    pub mutex_max_readers_inside: usize,
    pub rw_max_readers_inside: usize,
    pub total_writes: u64,
    /// Every run's elapsed time without a lock, one goroutine and all of them, in run order.
    pub alone_runs_ns: Vec<u64>,
    pub free_runs_ns: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct GoWorkloadSpec {
    pub name: String,
    pub ops: u32,
    pub writes: u32,
    pub of: u32,
    pub long_reads: bool,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct GoRun {
    pub elapsed_ns: u64,
    pub max_readers_inside: usize,
    pub overlapped_reads: u64,
    pub reads: u64,
    pub count: u64,
}

impl From<GoRun> for rw_tradeoff::Run {
    fn from(g: GoRun) -> Self {
        rw_tradeoff::Run {
            elapsed: Duration::from_nanos(g.elapsed_ns),
            max_readers_inside: g.max_readers_inside,
            overlapped_reads: g.overlapped_reads,
            reads: g.reads,
            count: g.count,
        }
    }
}

impl GoWorkload {
    fn comparison(&self) -> Comparison {
        Comparison {
            alone: self.alone.into(),
            free: self.free.into(),
            mutex: self.mutex.into(),
            rw: self.rw.into(),
            mutex_max_readers_inside: self.mutex_max_readers_inside,
            rw_max_readers_inside: self.rw_max_readers_inside,
            min_capacity: rw_tradeoff::min_capacity(
                &nanos(&self.alone_runs_ns),
                &nanos(&self.free_runs_ns),
            ),
        }
    }

    fn same_as(&self, w: &Workload) -> bool {
        let s = &self.workload;
        (s.name.as_str(), s.ops, s.writes, s.of, s.long_reads)
            == (w.name, w.ops, w.writes, w.of, w.long_reads)
    }
}

fn nanos(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|n| Duration::from_nanos(*n)).collect()
}

fn run_go_tradeoff(ctx: &Ctx<'_>) -> Result<GoTradeoff, DemoError> {
    let go = ctx.go()?;
    let (r, w) = (READ_HEAVY, WRITE_HEAVY);
    let args = [
        format!("-threads={THREADS}"),
        format!("-runs={RUNS}"),
        format!("-section-us={}", READ_SECTION.as_micros()),
        format!("-read-ops={}", r.ops),
        format!("-read-writes={}", r.writes),
        format!("-read-of={}", r.of),
        format!("-write-ops={}", w.ops),
        format!("-write-writes={}", w.writes),
        format!("-write-of={}", w.of),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Ok(go.run_json(GO_PROGRAM, &args)?)
}

fn go_result<'r>(rep: &'r GoTradeoff, w: &Workload) -> Result<&'r GoWorkload, DemoError> {
    rep.results
        .iter()
        .find(|g| g.same_as(w))
        .ok_or_else(|| DemoError::Broken(format!("the Go program did not run {w:?}")))
}

pub const GO_TRADEOFF: Demo = Demo {
    name: "go-18/go-agrees-on-the-rwmutex-tradeoff",
    claim: "Go's real sync.RWMutex vs sync.Mutex on the same two workloads: 2 readers inside at once \
            vs 1 and ≥ 1.3× faster on the read-heavy one (same rule as the port, including \
            \"inconclusive\" when the machine gives no room for two goroutines), no gain (time ≥ \
            0.95× Mutex's) on the write-heavy one",
    needs: Need::Go,
    run: go_tradeoff,
};

const GO_LOCKS: (&str, &str) = ("Go sync.Mutex", "Go sync.RWMutex");

fn go_tradeoff(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    if let Some(why) = rw_tradeoff::parallelism_missing(rw_tradeoff::cpus()) {
        return Err(DemoError::Unavailable(why));
    }
    let mut refuted = Vec::new();
    let mut busy = Vec::new();
    let mut write_ratios = Vec::new();
    let mut read_shown = false;
    let mut write_shown = false;
    for attempt in 1..=ATTEMPTS {
        let rep = run_go_tradeoff(ctx)?;
        ctx.say(format!(
            "attempt {attempt}: {} (GOMAXPROCS {}, {} CPUs), {} goroutines, median of {} runs, \
             {} xorshift steps take {} µs",
            rep.go_version,
            rep.gomaxprocs,
            rep.num_cpu,
            rep.threads,
            rep.runs,
            rep.section_steps,
            rep.section_us
        ));
        check!(
            rep.threads == THREADS && rep.runs == RUNS,
            "the Go program ran {} goroutines × {} runs, not {THREADS} × {RUNS}",
            rep.threads,
            rep.runs
        );
        let read = go_result(&rep, &READ_HEAVY)?;
        let write = go_result(&rep, &WRITE_HEAVY)?;
        for (w, g) in [(&READ_HEAVY, read), (&WRITE_HEAVY, write)] {
            let c = g.comparison();
            ctx.say(workload_line(w));
            if w.long_reads {
                ctx.say(capacity_line(&c));
            }
            say_comparison(ctx, GO_LOCKS, &c);
            check_eq!(
                (c.mutex.count, c.rw.count),
                (g.total_writes, g.total_writes),
                "Go: writes kept under Mutex and RWMutex"
            );
        }
        let rc = read.comparison();
        check!(
            rw_tradeoff::readers_shared_only_the_rw_lock(
                rc.mutex_max_readers_inside,
                rc.rw_max_readers_inside
            ),
            "Go: at most {} reader(s) inside at once under Mutex, {} under RWMutex (want 1 and \
             {THREADS})",
            rc.mutex_max_readers_inside,
            rc.rw_max_readers_inside
        );
        let wc = write.comparison();
        write_ratios.push(1.0 / wc.speedup());
        write_shown |= rw_tradeoff::rw_gains_nothing_write_heavy(wc.mutex.elapsed, wc.rw.elapsed);
        let what = format!(
            "attempt {attempt}: RWMutex only {:.2}× faster (unlocked goroutines: {:.2}×, worst run \
             {:.2}×)",
            rc.speedup(),
            rc.capacity(),
            rc.min_capacity
        );
        match rw_tradeoff::read_heavy_verdict(
            rc.mutex.elapsed,
            rc.rw.elapsed,
            rc.capacity(),
            rc.min_capacity,
        ) {
            ReadVerdict::Shown => read_shown = true,
            ReadVerdict::Refuted => refuted.push(what),
            ReadVerdict::Inconclusive => busy.push(what),
        }
        if read_shown && write_shown {
            ctx.say(format!(
                "Go agrees: RWMutex {:.2}× faster on the read-heavy load, RWMutex/Mutex time {:.2} \
                 on the write-heavy one",
                rc.speedup(),
                1.0 / wc.speedup()
            ));
            return Ok(());
        }
    }
    check!(
        write_shown,
        "Go: RWMutex beat Mutex on the write-heavy load in every attempt (RW/Mutex time \
         {write_ratios:.2?}; need ≥ {MIN_WRITE_RATIO})"
    );
    check!(
        refuted.is_empty(),
        "Go: with room for two goroutines, RWMutex was not ≥ {MIN_READ_SPEEDUP}× faster: {}",
        refuted.join("; ")
    );
    // As in the Rust demo: the overlap and the write-heavy result were asserted; only the
    // read-heavy timing could not be judged on a machine without room for two goroutines.
    ctx.say(format!(
        "Go's read-heavy timing inconclusive: in {ATTEMPTS} attempts other processes kept the CPUs \
         too busy (in some run two unlocked goroutines were < {CLEAR_CAPACITY}× faster than one), \
         so only the overlap and the write-heavy result were asserted: {}",
        busy.join("; ")
    ));
    Ok(())
}

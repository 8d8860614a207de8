//! The go-18 demos of [`crate::rw_tradeoff`]: a reader-writer lock wins when reads are long and
//! can overlap, and loses when writes dominate; Go's `sync.RWMutex` and `sync.Mutex` agree
//! (`go/cmd/go18-rwtradeoff`).

use std::time::Duration;

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::mutex::GoMutex;
use crate::rw_tradeoff::{
    self, ATTEMPTS, Comparison, MIN_READ_SPEEDUP, MIN_WRITE_RATIO, READ_HEAVY, READ_SECTION, RUNS,
    THREADS, WRITE_HEAVY, Workload,
};
use crate::rwmutex::GoRwMutex;

/// The Go side of the comparison.
pub const GO_PROGRAM: &str = "cmd/go18-rwtradeoff";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn workload_line(w: &Workload) -> String {
    let reads = if w.long_reads {
        format!(
            "each read waits ~{} µs holding the read lock",
            READ_SECTION.as_micros()
        )
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
    claim: "With 2 threads whose read sections wait ~100 µs under the lock (1 write in 100), Go's \
            RWMutex (ported) lets both readers in at once (2 inside vs 1 under Mutex) and finishes \
            the same work ≥ 1.5× faster than Mutex (2× is the ideal)",
    needs: Need::Nothing,
    run: read_heavy_wins,
};

/// Checks one read-heavy comparison: the overlap, every write kept, and the speedup.
fn check_read_heavy(label: (&str, &str), c: &Comparison) -> Result<(), DemoError> {
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
        c.mutex.count == c.rw.count && c.rw.count == READ_HEAVY.total_writes(),
        "{label:?} lost writes: {} and {} of {}",
        c.mutex.count,
        c.rw.count,
        READ_HEAVY.total_writes()
    );
    check!(
        rw_tradeoff::rw_wins_read_heavy(c.mutex.elapsed, c.rw.elapsed),
        "{} was only {:.2}× faster than {} (want ≥ {MIN_READ_SPEEDUP}×)",
        label.1,
        c.speedup(),
        label.0
    );
    Ok(())
}

fn read_heavy_wins(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say(workload_line(&READ_HEAVY));
    let ports = rw_tradeoff::compare(READ_HEAVY, GoMutex::new, GoRwMutex::new);
    say_comparison(ctx, PORTS, &ports);
    check_read_heavy(PORTS, &ports)?;
    ctx.say(format!(
        "readers overlapped: GoRwMutex did the work {:.2}× faster than GoMutex (≥ {MIN_READ_SPEEDUP}× \
         required)",
        ports.speedup()
    ));
    Ok(())
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
    pub results: Vec<GoWorkload>,
}

/// One workload under `sync.Mutex` and `sync.RWMutex` (medians of the runs).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoWorkload {
    pub workload: GoWorkloadSpec,
    pub mutex: GoRun,
    pub rw: GoRun,
    pub mutex_max_readers_inside: usize,
    pub rw_max_readers_inside: usize,
    pub total_writes: u64,
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
            mutex: self.mutex.into(),
            rw: self.rw.into(),
            mutex_max_readers_inside: self.mutex_max_readers_inside,
            rw_max_readers_inside: self.rw_max_readers_inside,
        }
    }

    fn same_as(&self, w: &Workload) -> bool {
        let s = &self.workload;
        (s.name.as_str(), s.ops, s.writes, s.of, s.long_reads)
            == (w.name, w.ops, w.writes, w.of, w.long_reads)
    }
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
            vs 1 and ≥ 1.5× faster on the read-heavy one, no gain (time ≥ 0.95× Mutex's) on the \
            write-heavy one",
    needs: Need::Go,
    run: go_tradeoff,
};

const GO_LOCKS: (&str, &str) = ("Go sync.Mutex", "Go sync.RWMutex");

fn go_tradeoff(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    // The counts are asserted on every attempt; only a missed timing is retried, since one run of
    // the Go program is a few milliseconds per lock on the write-heavy mix.
    let mut missed = Vec::new();
    for attempt in 1..=ATTEMPTS {
        let rep = run_go_tradeoff(ctx)?;
        ctx.say(format!(
            "attempt {attempt}: {} (GOMAXPROCS {}, {} CPUs), {} goroutines, median of {} runs, \
             read sections wait {} µs",
            rep.go_version, rep.gomaxprocs, rep.num_cpu, rep.threads, rep.runs, rep.section_us
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
            ctx.say(workload_line(w));
            say_comparison(ctx, GO_LOCKS, &g.comparison());
            check_eq!(
                g.total_writes,
                w.total_writes(),
                "Go: writes in the {} mix",
                w.name
            );
            check_eq!(
                (g.mutex.count, g.rw.count),
                (g.total_writes, g.total_writes),
                "Go: writes kept under Mutex and RWMutex ({})",
                w.name
            );
        }
        let (rc, wc) = (read.comparison(), write.comparison());
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
        let read_ok = rw_tradeoff::rw_wins_read_heavy(rc.mutex.elapsed, rc.rw.elapsed);
        let write_ok = rw_tradeoff::rw_gains_nothing_write_heavy(wc.mutex.elapsed, wc.rw.elapsed);
        if read_ok && write_ok {
            ctx.say(format!(
                "Go agrees: RWMutex {:.2}× faster on the read-heavy load (≥ {MIN_READ_SPEEDUP}× \
                 required), RWMutex/Mutex time {:.2} on the write-heavy one (≥ {MIN_WRITE_RATIO})",
                rc.speedup(),
                1.0 / wc.speedup()
            ));
            return Ok(());
        }
        missed.push(format!(
            "attempt {attempt}: read-heavy speedup {:.2}, write-heavy RW/Mutex time {:.2}",
            rc.speedup(),
            1.0 / wc.speedup()
        ));
    }
    check!(
        false,
        "Go: want RWMutex ≥ {MIN_READ_SPEEDUP}× faster on the read-heavy mix and RW/Mutex time ≥ \
         {MIN_WRITE_RATIO} on the write-heavy one; {}",
        missed.join("; ")
    );
    Ok(())
}

//! `lab bench channels`: the crossbeam-channel benchmark matrix, run for the Rust channels a user
//! would pick and for real Go channels, in one process run, as ns per message with ratios to Go.
//!
//! Shapes (as in crossbeam's suite): `seq` (one thread sends all, then receives all), `spsc`, `mpsc`
//! (4 senders), `mpmc` (4 and 4), `select_rx` (4 senders on 4 channels, one receiver selecting),
//! `select_both` (4 senders and 4 receivers, all selecting). Kinds: `bounded(0)` (rendezvous),
//! `bounded(1)`, `bounded(N)` (room for every message) and `unbounded`. A cell an implementation cannot
//! express (std has no mpmc or select, tokio has no capacity 0, Go has no unbounded channel) is marked
//! as such, not measured.
//!
//! ## How the real system differs
//! Go hands a value to a parked goroutine with a user-space switch; the Rust channels here park OS
//! threads on futexes, and on an idle 2-vCPU guest waking the other vCPU goes through the hypervisor.
//! That is why rendezvous (`bounded(0)`) costs microseconds in Rust and ~150 ns in Go on these machines
//! (see `shared/reference/measured-baselines.md`), while buffered shapes favour the Rust channels.

use std::time::Instant;

use catalog::{BenchCtx, BenchReport, BenchSuite, DemoError, Stats};

/// `lab bench channels`.
pub const SUITE: BenchSuite = BenchSuite {
    name: "channels",
    about: "the crossbeam-channel matrix (seq/spsc/mpsc/mpmc/select x capacity): this crate's channel, crossbeam, std, flume, tokio and Go, ns/msg",
    questions: &["go-10", "go-20", "go-38"],
    run,
};

const THREADS: usize = 4;
const SHAPES: [&str; 6] = ["seq", "spsc", "mpsc", "mpmc", "select_rx", "select_both"];
const KINDS: [&str; 4] = ["bounded(0)", "bounded(1)", "bounded(N)", "unbounded"];

/// What a channel implementation must offer for the shapes without select.
trait Flavor {
    const NAME: &'static str;
    type Tx: Clone + Send;
    type Rx: Send;
    /// `None` when the implementation cannot make this kind.
    fn make(capacity: Option<usize>) -> Option<(Self::Tx, Self::Rx)>;
    fn send(tx: &Self::Tx, v: usize);
    fn recv(rx: &Self::Rx);
    /// A second receiving handle; `None` when the channel has a single consumer.
    fn share_rx(rx: &Self::Rx) -> Option<Self::Rx>;
}

/// This crate's channel, built like Go's `hchan` (`crate::chan`).
struct GoSemantics;
impl Flavor for GoSemantics {
    const NAME: &'static str = "gochan::chan (this crate)";
    type Tx = crate::chan::Chan<usize>;
    type Rx = crate::chan::Chan<usize>;
    fn make(capacity: Option<usize>) -> Option<(Self::Tx, Self::Rx)> {
        // Like Go, no unbounded channel.
        let c = crate::chan::Chan::new(capacity?);
        Some((c.clone(), c))
    }
    fn send(tx: &Self::Tx, v: usize) {
        let _ = tx.send(v);
    }
    fn recv(rx: &Self::Rx) {
        let _ = rx.recv();
    }
    fn share_rx(rx: &Self::Rx) -> Option<Self::Rx> {
        Some(rx.clone())
    }
}

/// The select shapes for this crate's `Select` (Go's `selectgo` algorithm).
fn gochan_select(shape: &str, capacity: Option<usize>, n: usize) -> Option<f64> {
    use crate::chan::{Chan, Select};
    let per = n / THREADS;
    let chans: Vec<Chan<usize>> = (0..THREADS)
        .map(|_| capacity.map(Chan::new))
        .collect::<Option<_>>()?;
    let recv_any = |chans: &[Chan<usize>]| {
        chans
            .iter()
            .fold(Select::new(), |sel, c| sel.recv(c, |_| ()))
            .run()
    };
    let start = Instant::now();
    match shape {
        "select_rx" => std::thread::scope(|s| {
            for c in &chans {
                s.spawn(move || (0..per).for_each(|i| GoSemantics::send(c, i)));
            }
            (0..per * THREADS).for_each(|_| recv_any(&chans));
        }),
        "select_both" => std::thread::scope(|s| {
            for _ in 0..THREADS {
                let chans = &chans;
                s.spawn(move || {
                    for i in 0..per {
                        chans
                            .iter()
                            .fold(Select::new(), |sel, c| sel.send(c, i, |_| ()))
                            .run();
                    }
                });
                s.spawn(move || (0..per).for_each(|_| recv_any(chans)));
            }
        }),
        _ => return None,
    }
    Some(start.elapsed().as_nanos() as f64 / (per * THREADS) as f64)
}

/// crossbeam-channel and flume share one API shape (`bounded`/`unbounded`, cloneable receivers).
macro_rules! mpmc_flavor {
    ($flavor:ident, $name:literal, $krate:ident) => {
        struct $flavor;
        impl Flavor for $flavor {
            const NAME: &'static str = $name;
            type Tx = $krate::Sender<usize>;
            type Rx = $krate::Receiver<usize>;
            fn make(capacity: Option<usize>) -> Option<(Self::Tx, Self::Rx)> {
                Some(match capacity {
                    Some(c) => $krate::bounded(c),
                    None => $krate::unbounded(),
                })
            }
            fn send(tx: &Self::Tx, v: usize) {
                let _ = tx.send(v);
            }
            fn recv(rx: &Self::Rx) {
                let _ = rx.recv();
            }
            fn share_rx(rx: &Self::Rx) -> Option<Self::Rx> {
                Some(rx.clone())
            }
        }
    };
}

mpmc_flavor!(Crossbeam, "crossbeam-channel", crossbeam_channel);
mpmc_flavor!(Flume, "flume", flume);

struct StdMpsc;
impl Flavor for StdMpsc {
    const NAME: &'static str = "std::sync::mpsc";
    type Tx = std::sync::mpsc::SyncSender<usize>;
    type Rx = std::sync::mpsc::Receiver<usize>;
    fn make(capacity: Option<usize>) -> Option<(Self::Tx, Self::Rx)> {
        // `channel()` (unbounded) has a different sender type; `sync_channel(usize::MAX)` would
        // try to reserve that much, so std's unbounded kind is measured as not expressible here.
        capacity.map(std::sync::mpsc::sync_channel)
    }
    fn send(tx: &Self::Tx, v: usize) {
        let _ = tx.send(v);
    }
    fn recv(rx: &Self::Rx) {
        let _ = rx.recv();
    }
    fn share_rx(_: &Self::Rx) -> Option<Self::Rx> {
        None
    }
}

/// Wall time per message of one run of `shape`, or `None` when the flavor cannot run it.
fn run_shape<F: Flavor>(shape: &str, capacity: Option<usize>, n: usize) -> Option<f64> {
    let per = n / THREADS;
    let start = Instant::now();
    match shape {
        "seq" => {
            if capacity.is_some_and(|c| c < n) {
                return None; // would deadlock: nobody receives until all are sent
            }
            let (tx, rx) = F::make(capacity)?;
            for i in 0..n {
                F::send(&tx, i);
            }
            for _ in 0..n {
                F::recv(&rx);
            }
        }
        "spsc" => {
            let (tx, rx) = F::make(capacity)?;
            std::thread::scope(|s| {
                s.spawn(move || (0..n).for_each(|i| F::send(&tx, i)));
                (0..n).for_each(|_| F::recv(&rx));
            });
        }
        "mpsc" => {
            let (tx, rx) = F::make(capacity)?;
            std::thread::scope(|s| {
                for _ in 0..THREADS {
                    let tx = tx.clone();
                    s.spawn(move || (0..per).for_each(|i| F::send(&tx, i)));
                }
                (0..per * THREADS).for_each(|_| F::recv(&rx));
            });
        }
        "mpmc" => {
            let (tx, rx) = F::make(capacity)?;
            let receivers: Vec<F::Rx> = (0..THREADS)
                .map(|_| F::share_rx(&rx))
                .collect::<Option<_>>()?;
            std::thread::scope(|s| {
                for r in receivers {
                    let tx = tx.clone();
                    s.spawn(move || (0..per).for_each(|i| F::send(&tx, i)));
                    s.spawn(move || (0..per).for_each(|_| F::recv(&r)));
                }
            });
        }
        _ => return None,
    }
    Some(start.elapsed().as_nanos() as f64 / n as f64)
}

/// The select shapes for crossbeam (dynamic `Select`), which std cannot express.
fn crossbeam_select(shape: &str, capacity: Option<usize>, n: usize) -> Option<f64> {
    let per = n / THREADS;
    let chans: Vec<_> = (0..THREADS)
        .map(|_| Crossbeam::make(capacity))
        .collect::<Option<_>>()?;
    let (txs, rxs): (Vec<_>, Vec<_>) = chans.into_iter().unzip();
    let recv_any = |rxs: &[crossbeam_channel::Receiver<usize>]| {
        let mut sel = crossbeam_channel::Select::new();
        for r in rxs {
            sel.recv(r);
        }
        let op = sel.select();
        let i = op.index();
        let _ = op.recv(&rxs[i]);
    };
    let start = Instant::now();
    match shape {
        "select_rx" => std::thread::scope(|s| {
            for tx in &txs {
                s.spawn(move || (0..per).for_each(|i| Crossbeam::send(tx, i)));
            }
            (0..per * THREADS).for_each(|_| recv_any(&rxs));
        }),
        "select_both" => std::thread::scope(|s| {
            for _ in 0..THREADS {
                let (txs, rxs) = (&txs, &rxs);
                s.spawn(move || {
                    for i in 0..per {
                        let mut sel = crossbeam_channel::Select::new();
                        for t in txs {
                            sel.send(t);
                        }
                        let op = sel.select();
                        let k = op.index();
                        let _ = op.send(&txs[k], i);
                    }
                });
                s.spawn(move || (0..per).for_each(|_| recv_any(rxs)));
            }
        }),
        _ => return None,
    }
    Some(start.elapsed().as_nanos() as f64 / (per * THREADS) as f64)
}

/// tokio's mpsc, driven the way it is meant to be: tasks on a 2-worker runtime (GOMAXPROCS's peer).
fn tokio_shape(shape: &str, capacity: Option<usize>, n: usize) -> Option<f64> {
    // tokio's bounded channel needs capacity >= 1, and it is single-consumer without select macros
    // over many receivers in these shapes.
    if capacity == Some(0) || !matches!(shape, "spsc" | "mpsc" | "seq") {
        return None;
    }
    if shape == "seq" && capacity.is_some_and(|c| c < n) {
        return None;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .ok()?;
    let senders = if shape == "mpsc" { THREADS } else { 1 };
    let per = n / senders;
    let start = Instant::now();
    rt.block_on(async move {
        match capacity {
            Some(c) => {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<usize>(c);
                if shape == "seq" {
                    for i in 0..n {
                        let _ = tx.send(i).await;
                    }
                    for _ in 0..n {
                        let _ = rx.recv().await;
                    }
                    return;
                }
                for _ in 0..senders {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        for i in 0..per {
                            let _ = tx.send(i).await;
                        }
                    });
                }
                drop(tx);
                for _ in 0..per * senders {
                    let _ = rx.recv().await;
                }
            }
            None => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
                if shape == "seq" {
                    for i in 0..n {
                        let _ = tx.send(i);
                    }
                    for _ in 0..n {
                        let _ = rx.recv().await;
                    }
                    return;
                }
                for _ in 0..senders {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        for i in 0..per {
                            let _ = tx.send(i);
                        }
                    });
                }
                drop(tx);
                for _ in 0..per * senders {
                    let _ = rx.recv().await;
                }
            }
        }
    });
    Some(start.elapsed().as_nanos() as f64 / (per * senders) as f64)
}

/// Messages per run for a kind: hand-off kinds move 10x fewer (each message is a thread wake-up).
fn messages(total: usize, kind: &str) -> usize {
    let n = if matches!(kind, "bounded(0)" | "bounded(1)") {
        total / 10
    } else {
        total
    };
    (n / THREADS * THREADS).max(THREADS)
}

fn capacity(kind: &str, n: usize) -> Option<usize> {
    match kind {
        "bounded(0)" => Some(0),
        "bounded(1)" => Some(1),
        "bounded(N)" => Some(n),
        _ => None,
    }
}

#[derive(Debug, serde::Deserialize)]
struct GoReport {
    go_version: String,
    results: Vec<GoResult>,
}

#[derive(Debug, serde::Deserialize)]
struct GoResult {
    shape: String,
    kind: String,
    ns_per_msg: Vec<f64>,
}

fn scenario(shape: &str, kind: &str) -> String {
    format!("{shape} {kind}")
}

fn run(ctx: &mut BenchCtx<'_>) -> Result<BenchReport, DemoError> {
    let total: usize = if ctx.quick { 100_000 } else { 1_000_000 };
    let runs = ctx.runs();
    let mut report = BenchReport::new("channels", "ns/msg", "Go");

    let (total_arg, runs_arg) = (total.to_string(), runs.to_string());
    let go: Option<GoReport> = ctx.run_go(
        &mut report,
        "cmd/bench-channels",
        &["-messages", &total_arg, "-runs", &runs_arg],
    )?;

    for shape in SHAPES {
        for kind in KINDS {
            if shape == "seq" && matches!(kind, "bounded(0)" | "bounded(1)") {
                continue; // one thread sending everything first would deadlock: nobody can run it
            }
            let sc = scenario(shape, kind);
            let n = messages(total, kind);
            match &go {
                _ if kind == "unbounded" => report.skip(&sc, "Go", "Go has no unbounded channel"),
                Some(rep) => match rep
                    .results
                    .iter()
                    .find(|r| r.shape == shape && r.kind == kind)
                {
                    Some(r) => report.push(&sc, "Go", Stats::of(&r.ns_per_msg)),
                    None => report.skip(&sc, "Go", "not expressible (would deadlock)"),
                },
                None => report.skip(&sc, "Go", "skipped: go not found"),
            }
            let cap = capacity(kind, n);
            let mut measure = |name: &str, f: &dyn Fn() -> Option<f64>| {
                ctx.step(&format!("{name}: {sc}"));
                let samples: Option<Vec<f64>> = (0..runs).map(|_| f()).collect();
                match samples {
                    Some(s) => report.push(&sc, name, Stats::of(&s)),
                    None => report.skip(&sc, name, "not expressible"),
                }
            };
            let select = shape.starts_with("select");
            measure(GoSemantics::NAME, &|| {
                if select {
                    gochan_select(shape, cap, n)
                } else {
                    run_shape::<GoSemantics>(shape, cap, n)
                }
            });
            measure(Crossbeam::NAME, &|| {
                if select {
                    crossbeam_select(shape, cap, n)
                } else {
                    run_shape::<Crossbeam>(shape, cap, n)
                }
            });
            measure(StdMpsc::NAME, &|| {
                if select {
                    None
                } else {
                    run_shape::<StdMpsc>(shape, cap, n)
                }
            });
            // flume's `Selector` is left out: in these shapes (selecting senders against selecting
            // receivers, capacity 0 and 1) runs with flume 0.12 hung, so it gets no select rows.
            measure(Flume::NAME, &|| {
                if select {
                    None
                } else {
                    run_shape::<Flume>(shape, cap, n)
                }
            });
            measure("tokio::sync::mpsc", &|| tokio_shape(shape, cap, n));
        }
    }
    if let Some(rep) = &go {
        report.notes.push(format!(
            "Go {} with GOMAXPROCS = number of CPUs",
            rep.go_version
        ));
    }
    report.notes.push(format!(
        "{total} messages per run ({} for bounded(0) and bounded(1)), median of {runs} runs; {THREADS} senders/receivers in the multi shapes",
        total / 10
    ));
    report.notes.push(
        "flume has no select rows: its Selector hung in these shapes (selecting senders against selecting receivers at capacity 0 and 1) with flume 0.12".into(),
    );
    report.compute_ratios();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flavor_moves_every_message_in_every_shape_it_can_express() {
        for shape in ["seq", "spsc", "mpsc", "mpmc"] {
            for kind in KINDS {
                let n = messages(400, kind);
                let cap = capacity(kind, n);
                assert!(
                    run_shape::<Crossbeam>(shape, cap, n).is_some()
                        || shape == "seq" && cap.is_some_and(|c| c < n)
                );
                let _ = run_shape::<Flume>(shape, cap, n);
                let _ = run_shape::<StdMpsc>(shape, cap, n);
                let _ = tokio_shape(shape, cap, n);
            }
        }
        for kind in KINDS {
            let n = messages(400, kind);
            if kind != "unbounded" {
                assert!(gochan_select("select_rx", capacity(kind, n), n).is_some());
                assert!(gochan_select("select_both", capacity(kind, n), n).is_some());
                assert!(run_shape::<GoSemantics>("mpmc", capacity(kind, n), n).is_some());
            }
            assert!(crossbeam_select("select_rx", capacity(kind, n), n).is_some());
            assert!(crossbeam_select("select_both", capacity(kind, n), n).is_some());
        }
    }

    #[test]
    fn what_cannot_be_expressed_is_reported_not_measured() {
        assert!(
            run_shape::<StdMpsc>("mpmc", Some(8), 8).is_none(),
            "std has one consumer"
        );
        assert!(
            run_shape::<Crossbeam>("seq", Some(1), 8).is_none(),
            "seq on capacity 1 deadlocks"
        );
        assert!(
            tokio_shape("spsc", Some(0), 8).is_none(),
            "tokio has no capacity 0"
        );
        assert!(run_shape::<StdMpsc>("spsc", None, 8).is_none());
    }
}

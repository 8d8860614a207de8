//! go-04 (「Golang并发机制以及它所使用的CSP并发模型」): a pipeline of sequential processes that share
//! nothing and talk only over channels, the way Hoare's CSP and Go's goroutines do.
//!
//! Each stage is one OS thread that owns its state and its channel ends. A [`Packet`] is *moved*
//! from stage to stage; whoever holds it may change it without a lock, because nobody else can see
//! it (each stage appends its name to the packet's `route`). Closing is the only shutdown signal:
//! the generator stops after `n` values and drops its sender, the next stage's receive then reports
//! "disconnected" (Go: the `range` over a closed channel ends), it logs its exit and drops its own
//! sender, and so on down the line.
//!
//! ```text
//!   linear:   generator ──► square ──► keep-even ──► sink
//!
//!   fan-out/fan-in:                ┌► worker-0 ──► merge-0 ─┐
//!             generator ──► square ┼► worker-1 ──► merge-1 ─┼──► sink
//!                                  └► worker-2 ──► merge-2 ─┘
//!   (the workers share one receiver, like goroutines ranging over one channel; each merge-j
//!    forwards worker-j's output into the one channel the sink reads)
//! ```
//!
//! The invariant checked by [`exit_order_violations`]: a stage exits only after every stage
//! upstream of it exited, because it can only see "disconnected" once all senders are gone, and
//! each stage logs its exit *before* dropping its sender. [`route_violations`] checks that every
//! packet travelled along the graph's edges, one owner at a time.
//!
//! Worked example, `n = 6`: the linear pipeline emits `4, 16, 36` in that order and the exit log
//! reads `generator, square, keep-even, sink`. The fan-out run emits `2, 5, 10, 17, 26, 37` in
//! some order (the order of a fan-in is not defined), with 6 packets spread over the workers.
//!
//! ## How the real system differs
//! - A goroutine is a few KiB of stack scheduled by the Go runtime; a stage here is an OS thread.
//!   Go's pipeline uses unbuffered channels; so does this one (`bounded(0)`), so each hand-off is a
//!   rendezvous in both.
//! - Go would let two goroutines share a variable anyway (the race detector catches it at run
//!   time); here the stage functions take their channel ends by value and capture nothing shared,
//!   so the compiler refuses sharing. The route check is a run-time echo of that.
//! - Go closes a channel explicitly with `close(out)`; a crossbeam channel closes when its last
//!   `Sender` is dropped.

use std::collections::BTreeMap;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};

/// One value travelling through the pipeline, owned by exactly one stage at a time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Packet {
    /// 1-based position in the generator's output.
    pub seq: u64,
    pub value: u64,
    /// The stages that held this packet, in order. Each appends its own name, lock-free.
    pub route: Vec<String>,
}

/// What a stage reports when its input closed and it is about to close its output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Exit {
    pub stage: String,
    /// Packets this stage handled: state the stage owned, reported by message, never shared.
    pub handled: u64,
}

/// Everything one run of a pipeline produced.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Run {
    /// What the sink received, in arrival order.
    pub output: Vec<Packet>,
    /// Exit reports, in the order they were sent on the log channel.
    pub exits: Vec<Exit>,
    pub spawned: usize,
    /// Threads (goroutines, in Go) that were joined (waited for) before the run returned.
    pub joined: usize,
}

/// Builds a pipeline stage by stage; [`Stages::finish`] runs the sink on the calling thread.
#[derive(Debug)]
pub struct Stages {
    log_tx: Sender<Exit>,
    log_rx: Receiver<Exit>,
    threads: Vec<JoinHandle<()>>,
    /// stage → the stages that feed it, for the exit-order and route checks.
    upstream: BTreeMap<String, Vec<String>>,
}

impl Default for Stages {
    fn default() -> Self {
        Self::new()
    }
}

impl Stages {
    pub fn new() -> Self {
        let (log_tx, log_rx) = unbounded();
        Stages {
            log_tx,
            log_rx,
            threads: Vec::new(),
            upstream: BTreeMap::new(),
        }
    }

    /// The graph built so far: each stage with the stages that feed it.
    pub fn graph(&self) -> BTreeMap<String, Vec<String>> {
        self.upstream.clone()
    }

    /// A stage reading `input` and writing what `step` returns; `None` drops the packet.
    fn stage(
        &mut self,
        name: &str,
        feeds: &[&str],
        input: Receiver<Packet>,
        step: impl Fn(u64) -> Option<u64> + Send + 'static,
    ) -> Receiver<Packet> {
        let (out, rx) = bounded(0);
        let log = self.log_tx.clone();
        let me = name.to_string();
        self.add(name, feeds);
        self.threads.push(std::thread::spawn(move || {
            let mut handled = 0;
            // `for p in input` ends when every sender of `input` is gone: Go's `for p := range in`.
            for mut p in input {
                handled += 1;
                if let Some(v) = step(p.value) {
                    p.value = v;
                    p.route.push(me.clone());
                    if out.send(p).is_err() {
                        break;
                    }
                }
            }
            // Log first, close second: so the next stage's exit is logged after ours.
            let _ = log.send(Exit { stage: me, handled });
            drop(out);
        }));
        rx
    }

    fn add(&mut self, name: &str, feeds: &[&str]) {
        self.upstream.insert(
            name.to_string(),
            feeds.iter().map(|s| s.to_string()).collect(),
        );
    }

    /// Emits `1..=n`, then closes its output.
    pub fn generator(&mut self, n: u64) -> Receiver<Packet> {
        let (out, rx) = bounded(0);
        let log = self.log_tx.clone();
        self.add("generator", &[]);
        self.threads.push(std::thread::spawn(move || {
            let mut handled = 0;
            for seq in 1..=n {
                let p = Packet {
                    seq,
                    value: seq,
                    route: vec!["generator".into()],
                };
                if out.send(p).is_err() {
                    break;
                }
                handled += 1;
            }
            let _ = log.send(Exit {
                stage: "generator".into(),
                handled,
            });
            drop(out);
        }));
        rx
    }

    pub fn square(&mut self, input: Receiver<Packet>, from: &str) -> Receiver<Packet> {
        self.stage("square", &[from], input, |v| Some(v * v))
    }

    pub fn keep_even(&mut self, input: Receiver<Packet>, from: &str) -> Receiver<Packet> {
        self.stage("keep-even", &[from], input, |v| (v % 2 == 0).then_some(v))
    }

    /// `workers` stages `worker-<j>` sharing one receiver, each adding 1, each with its own output.
    pub fn fan_out(
        &mut self,
        input: Receiver<Packet>,
        from: &str,
        workers: usize,
    ) -> Vec<Receiver<Packet>> {
        (0..workers)
            .map(|j| {
                let name = format!("worker-{j}");
                self.stage(&name, &[from], input.clone(), |v| Some(v + 1))
            })
            .collect()
    }

    /// One forwarder `merge-<j>` per input, all writing into one channel. The merged channel
    /// closes when the last forwarder drops its sender (Go: a WaitGroup, then `close(out)`).
    pub fn fan_in(&mut self, inputs: Vec<Receiver<Packet>>) -> Receiver<Packet> {
        let (out, rx) = bounded(0);
        for (j, input) in inputs.into_iter().enumerate() {
            let name = format!("merge-{j}");
            let feed = format!("worker-{j}");
            self.add(&name, &[&feed]);
            let out = out.clone();
            let log = self.log_tx.clone();
            self.threads.push(std::thread::spawn(move || {
                let mut handled = 0;
                for mut p in input {
                    handled += 1;
                    p.route.push(name.clone());
                    if out.send(p).is_err() {
                        break;
                    }
                }
                let _ = log.send(Exit {
                    stage: name,
                    handled,
                });
                drop(out);
            }));
        }
        rx
    }

    /// Drains `input` on the calling thread (the sink, fed by `from`), joins every stage, and
    /// returns what happened.
    pub fn finish(mut self, input: Receiver<Packet>, from: &[&str]) -> Run {
        self.add("sink", from);
        let mut output = Vec::new();
        for mut p in input {
            p.route.push("sink".into());
            output.push(p);
        }
        let _ = self.log_tx.send(Exit {
            stage: "sink".into(),
            handled: output.len() as u64,
        });
        let spawned = self.threads.len();
        let joined = self
            .threads
            .drain(..)
            .map(JoinHandle::join)
            .filter(Result::is_ok)
            .count();
        drop(self.log_tx);
        Run {
            output,
            exits: self.log_rx.iter().collect(),
            spawned,
            joined,
        }
    }
}

/// generator → square → keep-even → sink.
pub fn linear(n: u64) -> (Run, BTreeMap<String, Vec<String>>) {
    let mut s = Stages::new();
    let g = s.generator(n);
    let sq = s.square(g, "generator");
    let ev = s.keep_even(sq, "square");
    let graph = {
        let mut g = s.graph();
        g.insert("sink".into(), vec!["keep-even".into()]);
        g
    };
    (s.finish(ev, &["keep-even"]), graph)
}

/// generator → square → `workers` × (worker-j → merge-j) → sink.
pub fn fan_out_fan_in(n: u64, workers: usize) -> (Run, BTreeMap<String, Vec<String>>) {
    let mut s = Stages::new();
    let g = s.generator(n);
    let sq = s.square(g, "generator");
    let outs = s.fan_out(sq, "square", workers);
    let merged = s.fan_in(outs);
    let merges: Vec<String> = (0..workers).map(|j| format!("merge-{j}")).collect();
    let from: Vec<&str> = merges.iter().map(String::as_str).collect();
    let mut graph = s.graph();
    graph.insert(
        "sink".into(),
        merges.iter().map(|m| m.to_string()).collect(),
    );
    (s.finish(merged, &from), graph)
}

/// What the linear pipeline must emit, computed without threads: the even squares of `1..=n`.
pub fn expected_linear(n: u64) -> Vec<u64> {
    (1..=n).map(|x| x * x).filter(|v| v % 2 == 0).collect()
}

/// What the fan-out pipeline must emit, as a sorted list: `x² + 1` for `x` in `1..=n`.
pub fn expected_fan_out(n: u64) -> Vec<u64> {
    (1..=n).map(|x| x * x + 1).collect()
}

/// Every stage whose exit was logged before the exit of a stage feeding it, or never logged.
/// Empty means: the pipeline shut down in dependency order.
pub fn exit_order_violations(
    exits: &[String],
    upstream: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let pos = |s: &str| exits.iter().position(|e| e == s);
    let mut bad = Vec::new();
    for (stage, feeds) in upstream {
        let Some(me) = pos(stage) else {
            bad.push(format!("{stage} never exited"));
            continue;
        };
        for f in feeds {
            match pos(f) {
                Some(p) if p < me => {}
                Some(_) => bad.push(format!("{stage} exited before {f}, which feeds it")),
                None => bad.push(format!("{f} (feeding {stage}) never exited")),
            }
        }
    }
    bad
}

/// Every hop of a packet's route that is not an edge of the graph. Empty means each packet moved
/// from owner to owner along the channels, starting at the generator and ending at the sink.
pub fn route_violations(
    packets: &[Packet],
    upstream: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut bad = Vec::new();
    for p in packets {
        if p.route.first().map(String::as_str) != Some("generator")
            || p.route.last().map(String::as_str) != Some("sink")
        {
            bad.push(format!("packet {} route {:?}", p.seq, p.route));
            continue;
        }
        for hop in p.route.windows(2) {
            let ok = upstream
                .get(&hop[1])
                .is_some_and(|feeds| feeds.contains(&hop[0]));
            if !ok {
                bad.push(format!(
                    "packet {}: {} → {} is no channel",
                    p.seq, hop[0], hop[1]
                ));
            }
        }
    }
    bad
}

/// The values sorted (a fan-in's order is not defined; its content is).
pub fn sorted_values(packets: &[Packet]) -> Vec<u64> {
    let mut v: Vec<u64> = packets.iter().map(|p| p.value).collect();
    v.sort_unstable();
    v
}

/// Exit names in log order.
pub fn exit_names(run: &Run) -> Vec<String> {
    run.exits.iter().map(|e| e.stage.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn linear_pipeline_keeps_order_and_closes_front_to_back() {
        let (run, g) = linear(20);
        let values: Vec<u64> = run.output.iter().map(|p| p.value).collect();
        assert_eq!(values, expected_linear(20));
        assert_eq!(
            exit_names(&run),
            names(&["generator", "square", "keep-even", "sink"])
        );
        assert!(exit_order_violations(&exit_names(&run), &g).is_empty());
        assert!(route_violations(&run.output, &g).is_empty());
        assert_eq!((run.spawned, run.joined), (3, 3));
    }

    #[test]
    fn fan_out_fan_in_keeps_content() {
        let (run, g) = fan_out_fan_in(30, 3);
        assert_eq!(sorted_values(&run.output), expected_fan_out(30));
        assert!(exit_order_violations(&exit_names(&run), &g).is_empty());
        assert!(route_violations(&run.output, &g).is_empty());
        assert_eq!((run.spawned, run.joined), (8, 8));
    }

    #[test]
    fn exit_order_check_flags_a_stage_that_exits_before_its_feeder() {
        let g = graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"])]);
        assert!(exit_order_violations(&names(&["a", "b", "c"]), &g).is_empty());
        // Counterexample: b closed while a was still running.
        assert_eq!(exit_order_violations(&names(&["b", "a", "c"]), &g).len(), 1);
        // Counterexample: c never exited.
        assert_eq!(exit_order_violations(&names(&["a", "b"]), &g).len(), 1);
    }

    #[test]
    fn route_check_flags_a_hop_without_a_channel() {
        let g = graph(&[
            ("generator", &[]),
            ("square", &["generator"]),
            ("sink", &["square"]),
        ]);
        let ok = Packet {
            seq: 1,
            value: 1,
            route: names(&["generator", "square", "sink"]),
        };
        assert!(route_violations(std::slice::from_ref(&ok), &g).is_empty());
        // Counterexample: a packet that skipped `square` (reached the sink some other way).
        let skipped = Packet {
            route: names(&["generator", "sink"]),
            ..ok
        };
        assert_eq!(route_violations(&[skipped], &g).len(), 1);
    }
}

//! Trace mode: what the scheduler did, event by event, and a readable rendering for small runs.
//!
//! Go's own tools for this are `GODEBUG=schedtrace=1000,scheddetail=1` (a periodic dump of every
//! P's run queue) and `go tool trace`. The trace here is finer and smaller: one line per decision.
//!
//! ```text
//!     µs  P   M   G    event
//!     12  P0  M0  G1   run (from runnext)
//!     15  P0  M0  G1   spawn G2 → runnext
//!     31  P1  M1  -    steal 4 G from P0: G3 G4 G5 G6
//!    940  P0  M0  G1   enter syscall (P0 left behind)
//!   1990  P0  -   -    hand-off: sysmon took P0 from M0 (in syscall) and gave it to M1
//! ```

use std::fmt::Write as _;
use std::time::Duration;

/// Where the G a P is about to run came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The P's `runnext` slot: the G spawned last by the G that ran before it.
    Runnext,
    /// The head of the P's local run queue.
    Local,
    /// The global run queue, taken by the every-61st-tick fairness check.
    GlobalFairness,
    /// The global run queue, because the local one was empty.
    Global,
    /// Stolen from another P's local run queue.
    Stolen,
    /// The G's own M got a P back after a system call.
    AfterSyscall,
    /// The GM scheduler's one global queue (no P).
    GmQueue,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Runnext => "runnext",
            Source::Local => "local queue",
            Source::GlobalFairness => "global queue, tick check",
            Source::Global => "global queue",
            Source::Stolen => "stolen",
            Source::AfterSyscall => "its syscall's return",
            Source::GmQueue => "the one global queue",
        }
    }
}

/// One scheduling decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// The P starts running the G.
    Run { from: Source },
    /// The G spawned `child`; it went into the P's `runnext` (and `kicked`, the previous
    /// occupant, to the tail of the local queue).
    Spawn { child: u64, kicked: Option<u64> },
    /// The G called `Gosched`: it went to the global queue.
    Yield,
    /// The monitor saw the G run longer than its time slice and set its preempt flag.
    PreemptRequest,
    /// The G stopped at its next yield point because of that flag; it went to the global queue.
    Preempted,
    /// The G returned.
    Done,
    /// The G's step panicked; the G is finished.
    Panicked,
    /// This P took `gs` (half of `from`'s local queue).
    Steal { from: usize, gs: Vec<u64> },
    /// The every-`tick`-th schedule looked at the global queue first.
    GlobalCheck { tick: u64, found: Option<u64> },
    /// The local queue was empty: `n` G moved from the global queue to this P.
    GlobalGet { n: usize },
    /// The local queue was full: `n` G (half of it plus the new one) moved to the global queue.
    Spill { n: usize },
    /// The G entered a blocking system call; its M keeps no P while in it.
    EnterSyscall,
    /// The call returned and the M took its old P straight back.
    ExitSyscallFast,
    /// The call returned, the old P was gone, the M took this idle P.
    ExitSyscallOtherP,
    /// The call returned with no P free: the G went to the global queue and the M to sleep.
    ExitSyscallNoP,
    /// The monitor retook the P from an M blocked in a system call and gave it to `to_m`
    /// (`None`: nothing to run, the P went idle).
    Handoff { from_m: usize, to_m: Option<usize> },
    /// A new M (OS thread) was started.
    NewM,
    /// The P found nothing to run and went idle.
    PIdle,
}

/// One line of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Since the run started.
    pub at: Duration,
    pub p: Option<usize>,
    pub m: Option<usize>,
    pub g: Option<u64>,
    pub kind: EventKind,
}

impl Event {
    fn describe(&self) -> String {
        match &self.kind {
            EventKind::Run { from } => format!("run (from {})", from.label()),
            EventKind::Spawn { child, kicked } => match kicked {
                Some(k) => format!("spawn G{child} → runnext (G{k} moves to the local queue)"),
                None => format!("spawn G{child} → runnext"),
            },
            EventKind::Yield => "Gosched → global queue".into(),
            EventKind::PreemptRequest => "sysmon: time slice used up, preempt flag set".into(),
            EventKind::Preempted => "preempted at a yield point → global queue".into(),
            EventKind::Done => "done".into(),
            EventKind::Panicked => "panicked (reported, G finished)".into(),
            EventKind::Steal { from, gs } => {
                format!("steal {} G from P{from}: {}", gs.len(), g_list(gs))
            }
            EventKind::GlobalCheck { tick, found } => match found {
                Some(g) => format!("tick {tick}: fairness check of the global queue → G{g}"),
                None => format!("tick {tick}: fairness check of the global queue → empty"),
            },
            EventKind::GlobalGet { n } => {
                format!("local queue empty: took {n} G from the global queue")
            }
            EventKind::Spill { n } => format!("local queue full: moved {n} G to the global queue"),
            EventKind::EnterSyscall => "enter syscall (the P stays behind)".into(),
            EventKind::ExitSyscallFast => "exit syscall: took its P straight back".into(),
            EventKind::ExitSyscallOtherP => "exit syscall: P was taken, got this idle P".into(),
            EventKind::ExitSyscallNoP => "exit syscall: no P free → global queue, M sleeps".into(),
            EventKind::Handoff { from_m, to_m } => match to_m {
                Some(to) => format!(
                    "hand-off: sysmon took the P from M{from_m} (in syscall), gave it to M{to}"
                ),
                None => format!(
                    "hand-off: sysmon took the P from M{from_m} (in syscall); nothing to run, P idle"
                ),
            },
            EventKind::NewM => "new M (OS thread)".into(),
            EventKind::PIdle => "nothing to run: P goes idle".into(),
        }
    }
}

/// `G2 G3 G4`, or `G2 G3 G4 G5 … G76` for a long list.
fn g_list(gs: &[u64]) -> String {
    let name = |g: &u64| format!("G{g}");
    if gs.len() <= 10 {
        gs.iter().map(name).collect::<Vec<_>>().join(" ")
    } else {
        let head: Vec<String> = gs[..4].iter().map(name).collect();
        format!("{} … G{}", head.join(" "), gs[gs.len() - 1])
    }
}

fn slot(prefix: &str, v: Option<impl std::fmt::Display>) -> String {
    match v {
        Some(v) => format!("{prefix}{v}"),
        None => "-".into(),
    }
}

/// One line per event: time in µs, P, M, G, what happened.
pub fn render(events: &[Event]) -> String {
    let mut out = String::from("      µs  P    M    G     event\n");
    for e in events {
        let _ = writeln!(
            out,
            "{:>8}  {:<4} {:<4} {:<5} {}",
            e.at.as_micros(),
            slot("P", e.p),
            slot("M", e.m),
            slot("G", e.g),
            e.describe()
        );
    }
    out
}

/// Which Gs one P ran, in order (from the `Run` events): the P's timeline.
pub fn runs_on(events: &[Event], p: usize) -> Vec<u64> {
    events
        .iter()
        .filter(|e| e.p == Some(p) && matches!(e.kind, EventKind::Run { .. }))
        .filter_map(|e| e.g)
        .collect()
}

/// How many times consecutive runs in `timeline` switch from one G to another.
pub fn switches(timeline: &[u64]) -> usize {
    timeline.windows(2).filter(|w| w[0] != w[1]).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_count_changes_of_g_not_runs() {
        assert_eq!(switches(&[1, 2, 1, 2]), 3);
        assert_eq!(
            switches(&[1, 1, 1, 2, 2]),
            1,
            "runs of one G are no alternation"
        );
        assert_eq!(switches(&[7]), 0);
    }

    #[test]
    fn render_names_the_p_m_and_g() {
        let e = Event {
            at: Duration::from_micros(31),
            p: Some(1),
            m: Some(1),
            g: None,
            kind: EventKind::Steal {
                from: 0,
                gs: vec![3, 4],
            },
        };
        let text = render(&[e]);
        assert!(
            text.contains("P1   M1   -     steal 2 G from P0: G3 G4"),
            "{text}"
        );
    }
}

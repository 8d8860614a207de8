//! What `select` is for: waiting on several channel operations at once, with a timeout or without
//! waiting at all, and choosing fairly when more than one is ready.
//!
//! Answers **go-24 「Go的select可以用于什么」** (what can Go's select be used for?). Four uses, each a
//! demo here on [`Select`] (a port of `selectgo` from `runtime/select.go`) and checked against real
//! Go by `go/cmd/go24-select`:
//!
//! 1. **Multiplexing**: one loop serves several input channels until all are closed. A closed
//!    channel is always ready, so the loop switches its case off by setting the channel to nil
//!    (never ready): the Go idiom, here `chans[i] = Chan::nil()`.
//! 2. **Timeouts**: `case <-time.After(d)` ([`Select::after`]) fires only if no other case became
//!    ready within `d`; a value that arrives while the select is parked wins.
//! 3. **Non-blocking operations**: with `default` ([`Select::default_case`]) a select never parks;
//!    without one, and with nothing ready, it parks on *every* channel at once.
//! 4. **Fair choice**: when several cases are ready, each is chosen with probability `1/k`.
//!    [`uniformity`] is the chi-square test that decides it; the same test rejects a biased
//!    distribution such as `tokio::select!` with `biased;`, which always takes the first branch.
//!
//! # The invariant
//!
//! Among the cases ready when `select` looks, the chosen one is uniformly random. `selectgo` gets
//! there by shuffling the cases into a random **poll order** (Go: an inside-out Fisher–Yates with
//! `cheaprandn`; nil channels left out) and taking the first ready case in that order. It locks the
//! channels in a separate **lock order**, sorted by channel address, so two selects sharing
//! channels cannot deadlock.
//!
//! ```text
//!   select { case <-a: ... case <-b: ... case <-c: ... }        a and c ready, b empty
//!
//!   pollorder (random):  c, b, a     → pass 1 polls c first: ready, take it
//!   lockorder (by addr): a, b, c     → lock a, b, c; unlock c, b, a
//!
//!   nothing ready, no default:
//!   pass 2  enqueue one sudog per case, all pointing at the same parked goroutine
//!            a.recvq ─► sudog ┐
//!            b.recvq ─► sudog ├─► G (parked, waitReasonSelect)
//!            c.recvq ─► sudog ┘
//!   pass 3  the first channel to complete a sudog wakes G; G locks everything again and takes its
//!           other sudogs off the queues
//! ```
//!
//! # Worked example
//!
//! With 4 channels of capacity 1 kept full (refilled after each receive) and 20 000 selects, each
//! case should win about 5 000 times. The chi-square statistic `Σ (observed − 5000)² / 5000` has 3
//! degrees of freedom; [`uniformity`] calls the counts uniform below 21.108, the 99.99 % quantile,
//! so a fair select fails the test about once in 10 000 runs, while a select that always took
//! case 0 scores 60 000.
//!
//! # How the real system differs
//!
//! - `time.After` in Go is a channel fed by a runtime timer; [`Select::after`] is a deadline on the
//!   parked thread's wait, so there is no timer object to leak or to Reset. Go 1.23
//!   changed timers (unreferenced ones are collected; their channels behave as unbuffered), but
//!   only for a main module whose `go.mod` says `go 1.23` or later; `go-24/go-timer-channels-since-1-23`
//!   measures both behaviours.
//! - Go's random source is the per-M `cheaprand`; [`Select`] uses its own small generator. Both
//!   are uniform enough for the test above; neither is cryptographic.
//! - A parked Go select is one goroutine with several sudogs; here it is one OS thread with several
//!   sudogs sharing a parker. The wake-up costs a futex call instead of a scheduler switch.
//! - `select {}` parks a goroutine forever and Go reports a deadlock if nothing else can run; here
//!   the thread simply parks forever.

use std::thread;
use std::time::{Duration, Instant};

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use serde::{Deserialize, Serialize};

use crate::buffering::{PARK_DEADLINE, until};
use crate::chan::{Chan, RecvError, Select};

/// Always-ready cases in the fairness measurement.
pub const K: usize = 4;
/// Selects in the fairness measurement: 5 000 expected per case, a few hundred milliseconds in a
/// debug build.
pub const N: usize = 20_000;
/// Values each of the three multiplexed producers sends.
pub const PER: u32 = 1_000;
/// Producers in the multiplexing demo.
pub const PRODUCERS: usize = 3;
/// The timeout of the nothing-ready select.
pub const TIMEOUT: Duration = Duration::from_millis(20);
/// The Go program of the `go-24/go-*` demos.
pub const GO_PROGRAM: &str = "cmd/go24-select";

/// Chi-square critical values at significance 1e-4 for 1 to 10 degrees of freedom (k = 2 to 11
/// cases), computed from the regularized incomplete gamma function.
const CRITICAL_1E4: [f64; 10] = [
    15.137, 18.421, 21.108, 23.513, 25.745, 27.856, 29.878, 31.828, 33.720, 35.564,
];

/// Pearson's chi-square statistic of `counts` against the uniform distribution over its cells.
pub fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    if counts.is_empty() || total == 0 {
        return 0.0;
    }
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

/// The verdict of [`uniformity`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Uniformity {
    pub statistic: f64,
    /// The threshold for `counts.len() - 1` degrees of freedom at significance 1e-4.
    pub critical: f64,
    pub uniform: bool,
}

/// Whether `counts` (how often each of k cases was chosen) are consistent with a uniform choice:
/// the chi-square statistic stays below the 1e-4 critical value. `None` for fewer than 2 or more
/// than 11 cases, or no observations.
pub fn uniformity(counts: &[u64]) -> Option<Uniformity> {
    let df = counts.len().checked_sub(1).filter(|&d| d >= 1)?;
    let critical = *CRITICAL_1E4.get(df - 1)?;
    if counts.iter().sum::<u64>() == 0 {
        return None;
    }
    let statistic = chi_square(counts);
    Some(Uniformity {
        statistic,
        critical,
        uniform: statistic < critical,
    })
}

/// How often each of `k` always-ready cases was chosen over `n` selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fairness {
    pub k: usize,
    pub n: usize,
    pub counts: Vec<u64>,
}

impl Fairness {
    fn shares(&self) -> String {
        let shares: Vec<String> = self
            .counts
            .iter()
            .map(|&c| format!("{:.1}%", 100.0 * c as f64 / self.n.max(1) as f64))
            .collect();
        format!("{:?} = {}", self.counts, shares.join(" / "))
    }
}

/// `k` channels of capacity 1, each holding a value, selected on `n` times; the chosen channel is
/// refilled at once, so every case is ready at every select.
pub fn shares_gochan(k: usize, n: usize) -> Result<Fairness, String> {
    let chans: Vec<Chan<u8>> = (0..k).map(|_| Chan::new(1)).collect();
    for c in &chans {
        c.try_send(0).map_err(|e| format!("fill: {e}"))?;
    }
    let mut counts = vec![0u64; k];
    for _ in 0..n {
        let mut sel = Select::new();
        for (i, c) in chans.iter().enumerate() {
            sel = sel.recv(c, move |_| i);
        }
        let i = sel.run();
        counts[i] += 1;
        chans[i].try_send(0).map_err(|e| format!("refill: {e}"))?;
    }
    Ok(Fairness { k, n, counts })
}

/// The same measurement with `crossbeam_channel::Select`, documented to pick randomly.
pub fn shares_crossbeam(k: usize, n: usize) -> Result<Fairness, String> {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..k).map(|_| crossbeam_channel::bounded::<u8>(1)).unzip();
    for tx in &txs {
        tx.try_send(0).map_err(|e| format!("fill: {e}"))?;
    }
    let mut counts = vec![0u64; k];
    for _ in 0..n {
        let mut sel = crossbeam_channel::Select::new();
        for rx in &rxs {
            sel.recv(rx);
        }
        let op = sel.select();
        let i = op.index();
        op.recv(&rxs[i]).map_err(|e| format!("recv: {e}"))?;
        counts[i] += 1;
        txs[i].try_send(0).map_err(|e| format!("refill: {e}"))?;
    }
    Ok(Fairness { k, n, counts })
}

/// [`shares_crossbeam`] on a freshly spawned thread. crossbeam's select shuffles with a
/// thread-local xorshift that starts from a fixed seed, so every fresh thread makes the same
/// sequence of choices.
pub fn shares_crossbeam_fresh_thread(k: usize, n: usize) -> Result<Fairness, String> {
    thread::scope(|s| {
        s.spawn(|| shares_crossbeam(k, n))
            .join()
            .map_err(|_| "the measuring thread panicked".to_string())?
    })
}

/// The same measurement with four `tokio::sync::mpsc` channels of capacity 1 and `tokio::select!`,
/// `biased;` (poll the branches top to bottom) or not (start at a random branch).
pub fn shares_tokio(n: usize, biased: bool) -> Result<Fairness, String> {
    use tokio::sync::mpsc;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    rt.block_on(async {
        let (t0, mut r0) = mpsc::channel::<u8>(1);
        let (t1, mut r1) = mpsc::channel::<u8>(1);
        let (t2, mut r2) = mpsc::channel::<u8>(1);
        let (t3, mut r3) = mpsc::channel::<u8>(1);
        let txs = [t0, t1, t2, t3];
        for tx in &txs {
            tx.try_send(0).map_err(|e| format!("fill: {e}"))?;
        }
        let mut counts = vec![0u64; 4];
        for _ in 0..n {
            let i: usize = if biased {
                tokio::select! {
                    biased;
                    _ = r0.recv() => 0,
                    _ = r1.recv() => 1,
                    _ = r2.recv() => 2,
                    _ = r3.recv() => 3,
                }
            } else {
                tokio::select! {
                    _ = r0.recv() => 0,
                    _ = r1.recv() => 1,
                    _ = r2.recv() => 2,
                    _ = r3.recv() => 3,
                }
            };
            counts[i] += 1;
            txs[i].try_send(0).map_err(|e| format!("refill: {e}"))?;
        }
        Ok(Fairness { k: 4, n, counts })
    })
}

/// The one rule of the multiplexing demo: given the `(producer, value)` pairs in the order a
/// consumer received them, where producer `p` sent `0, 1, ..., per-1`, count the values that were
/// not the next one expected from their producer (duplicates, gaps, reordering) plus producers
/// whose sequence ended early. Zero means every value arrived exactly once, in order per producer.
pub fn order_violations(log: &[(usize, u32)], producers: usize, per: u32) -> usize {
    let mut next = vec![0u32; producers];
    let mut violations = 0;
    for &(p, v) in log {
        match next.get_mut(p) {
            Some(n) => {
                if v != *n {
                    violations += 1;
                }
                *n = v.saturating_add(1);
            }
            None => violations += 1,
        }
    }
    violations + next.iter().filter(|&&n| n != per).count()
}

/// What one multiplexing loop saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multiplexed {
    pub received: usize,
    pub violations: usize,
    pub close_notifications: usize,
}

/// One select loop over `producers` unbuffered channels, each fed `0..per` by its own thread and
/// then closed. A case whose channel reports closed is switched off by replacing the channel with
/// [`Chan::nil`]; the loop ends when every channel is nil.
pub fn multiplex(producers: usize, per: u32) -> Result<Multiplexed, String> {
    enum Step {
        Got(usize, Result<u32, RecvError>),
        Stuck,
    }
    let inputs: Vec<Chan<u32>> = (0..producers).map(|_| Chan::new(0)).collect();
    thread::scope(|s| {
        for ch in &inputs {
            let ch = ch.clone();
            s.spawn(move || {
                for v in 0..per {
                    if ch.send(v).is_err() {
                        return;
                    }
                }
                let _ = ch.close();
            });
        }
        // The loop's own handles: these are the "variables" set to nil as producers finish.
        let mut chans: Vec<Chan<u32>> = inputs.clone();
        let mut log = Vec::with_capacity(producers * per as usize);
        let mut closes = 0;
        let mut live = producers;
        while live > 0 {
            let mut sel = Select::new();
            for (i, c) in chans.iter().enumerate() {
                sel = sel.recv(c, move |r| Step::Got(i, r));
            }
            // A safety net only: a lost value or close would otherwise hang the loop.
            match sel.after(PARK_DEADLINE, || Step::Stuck).run() {
                Step::Got(i, Ok(v)) => log.push((i, v)),
                Step::Got(i, Err(RecvError::Closed)) => {
                    chans[i] = Chan::nil();
                    closes += 1;
                    live -= 1;
                }
                Step::Stuck => {
                    for c in &inputs {
                        let _ = c.close();
                    }
                    return Err(format!(
                        "no input ready for {PARK_DEADLINE:?} with {live} producers live"
                    ));
                }
            }
        }
        Ok(Multiplexed {
            received: log.len(),
            violations: order_violations(&log, producers, per),
            close_notifications: closes,
        })
    })
}

/// Next to a channel holding 100 values, a closed channel that is *not* set to nil: how many of
/// 100 selects chose the closed one. (Each should with probability 1/2.)
pub fn closed_case_fires() -> Result<usize, String> {
    let closed: Chan<u32> = Chan::new(0);
    closed.close().map_err(|e| e.to_string())?;
    let full: Chan<u32> = Chan::new(100);
    for v in 0..100 {
        full.try_send(v).map_err(|e| format!("fill: {e}"))?;
    }
    Ok((0..100)
        .filter(|_| {
            Select::new()
                .recv(&closed, |_| true)
                .recv(&full, |_| false)
                .run()
        })
        .count())
}

/// With a default: a receive from an empty channel and a send to a full one are both refused, and
/// the refused send leaves the full channel as it was.
pub fn default_taken() -> bool {
    let empty: Chan<u32> = Chan::new(1);
    let full: Chan<u32> = Chan::new(1);
    if full.try_send(1).is_err() {
        return false;
    }
    Select::new()
        .recv(&empty, |_| false)
        .send(&full, 2, |_| false)
        .default_case(|| true)
        .run()
        && full.len() == 1
}

/// Whether a nil channel's receive or send case was chosen over a default.
pub fn nil_case_ready() -> bool {
    let nil: Chan<u32> = Chan::nil();
    Select::new()
        .recv(&nil, |_| true)
        .send(&nil, 1, |_| true)
        .default_case(|| false)
        .run()
}

/// Whether a select with no default returns at once on a closed channel, reporting it closed.
pub fn closed_case_ready() -> bool {
    let c: Chan<u32> = Chan::new(0);
    if c.close().is_err() {
        return false;
    }
    Select::new()
        .recv(&c, |r| r == Err(RecvError::Closed))
        .after(PARK_DEADLINE, || false) // safety net only
        .run()
}

/// A select on an empty channel with a timeout of `d`: did the timeout fire, and not before `d`?
pub fn timeout_when_nothing_ready(d: Duration) -> (bool, bool) {
    let empty: Chan<u32> = Chan::new(0);
    let start = Instant::now();
    Select::new()
        .recv(&empty, |_| (false, false))
        .after(d, || (true, start.elapsed() >= d))
        .run()
}

/// A select with a value ready *and* a timeout takes the value (the timeout cannot be ready yet).
pub fn ready_value_beats_timeout(d: Duration) -> bool {
    let ch: Chan<u32> = Chan::new(1);
    if ch.try_send(5).is_err() {
        return false;
    }
    Select::new()
        .recv(&ch, |r| r == Ok(5))
        .after(d, || false)
        .run()
}

/// A thread parks in a select with a long timeout; once it is seen parked, a value is sent. Did
/// the value win, and how long did the select take?
pub fn send_while_parked_beats_timeout() -> Result<(bool, Duration), String> {
    let ch: Chan<u32> = Chan::new(0);
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            let start = Instant::now();
            let got = Select::new()
                .recv(&ch, |r| r == Ok(42))
                .after(10 * PARK_DEADLINE, || false)
                .run();
            (got, start.elapsed())
        });
        if let Err(e) = until("the select parked", || ch.waiting().0 == 1) {
            let _ = ch.close();
            return Err(e);
        }
        ch.send(42).map_err(|e| format!("send: {e}"))?;
        waiter
            .join()
            .map_err(|_| "the select thread panicked".to_string())
    })
}

/// What [`parked_select`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedSelect {
    /// Both channels had the select's waiter queued before anything was sent (pass 2).
    pub queued_on_both: bool,
    /// The select had not returned at that point.
    pub still_running: bool,
    /// The case it returned with, `"b:7"` when the send on `b` woke it.
    pub woken_with: String,
    /// Afterwards no waiter is left on either channel: the one on `a` was withdrawn (pass 3).
    pub withdrawn_from_a: bool,
}

/// A thread selects on two empty unbuffered channels `a` and `b` with no default and no timeout.
/// Once both channels show a queued receiver, 7 is sent on `b`.
pub fn parked_select() -> Result<ParkedSelect, String> {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    let (a, b): (Chan<u32>, Chan<u32>) = (Chan::new(0), Chan::new(0));
    let returned = AtomicBool::new(false);
    thread::scope(|s| {
        let selector = s.spawn(|| {
            let got = Select::new()
                .recv(&a, |r| format!("a:{}", r.map_or(-1, i64::from)))
                .recv(&b, |r| format!("b:{}", r.map_or(-1, i64::from)))
                .run();
            returned.store(true, SeqCst);
            got
        });
        let queued = until("the select queued on a and b", || {
            a.waiting().0 == 1 && b.waiting().0 == 1
        });
        if let Err(e) = queued {
            let _ = a.close();
            return Err(e);
        }
        let still_running = !returned.load(SeqCst);
        b.send(7).map_err(|e| format!("send on b: {e}"))?;
        let woken_with = selector
            .join()
            .map_err(|_| "the select thread panicked".to_string())?;
        Ok(ParkedSelect {
            queued_on_both: true,
            still_running,
            woken_with,
            withdrawn_from_a: a.waiting() == (0, 0) && b.waiting() == (0, 0),
        })
    })
}

/// The select observations compared with Go, field for field (the Go program prints the same
/// names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Semantics {
    /// With `default`, an empty receive and a full send are refused and `default` runs.
    pub default_taken_when_nothing_ready: bool,
    /// A nil channel's case was chosen over a default.
    pub nil_channel_case_ready: bool,
    /// A closed channel's case is ready: a select with no default returns at once, "closed".
    pub closed_channel_case_ready: bool,
    pub timeout_fired_when_nothing_ready: bool,
    pub timeout_waited_at_least_its_duration: bool,
    /// A value sent to a select parked with a long timeout wins.
    pub send_while_parked_beats_timeout: bool,
    /// A select with nothing ready and no default parks, and a send on its second channel wakes it
    /// with that case.
    pub parked_select_woken_by_the_send: bool,
    pub multiplex_received: usize,
    pub multiplex_order_violations: usize,
    pub multiplex_close_notifications: usize,
    /// A closed channel not set to nil was chosen more than once in 100 selects.
    pub closed_case_refires_unless_nilled: bool,
}

impl Semantics {
    /// What go-24's answer predicts, with `per` values from each of the three producers.
    pub fn predicted(per: u32) -> Semantics {
        Semantics {
            default_taken_when_nothing_ready: true,
            nil_channel_case_ready: false,
            closed_channel_case_ready: true,
            timeout_fired_when_nothing_ready: true,
            timeout_waited_at_least_its_duration: true,
            send_while_parked_beats_timeout: true,
            parked_select_woken_by_the_send: true,
            multiplex_received: PRODUCERS * per as usize,
            multiplex_order_violations: 0,
            multiplex_close_notifications: PRODUCERS,
            closed_case_refires_unless_nilled: true,
        }
    }

    /// Every field as `(name, value)` under its JSON name, sorted by name.
    pub fn fields(&self) -> Vec<(String, serde_json::Value)> {
        let mut fields: Vec<_> = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
            _ => Vec::new(),
        };
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields
    }
}

/// The fields on which two observations disagree, as `field: ours vs theirs`, found by walking the
/// serialized fields so that a new field is compared without touching this function.
pub fn differences(ours: &Semantics, theirs: &Semantics) -> Vec<String> {
    ours.fields()
        .into_iter()
        .zip(theirs.fields())
        .filter(|((_, a), (_, b))| a != b)
        .map(|((field, a), (_, b))| format!("{field}: ours {a} vs theirs {b}"))
        .collect()
}

/// Makes every [`Semantics`] observation on [`Chan`] and [`Select`].
pub fn observe(per: u32) -> Result<Semantics, String> {
    let (fired, waited) = timeout_when_nothing_ready(TIMEOUT);
    let (beat, _) = send_while_parked_beats_timeout()?;
    let parked = parked_select()?;
    let mux = multiplex(PRODUCERS, per)?;
    Ok(Semantics {
        default_taken_when_nothing_ready: default_taken(),
        nil_channel_case_ready: nil_case_ready(),
        closed_channel_case_ready: closed_case_ready(),
        timeout_fired_when_nothing_ready: fired,
        timeout_waited_at_least_its_duration: waited,
        send_while_parked_beats_timeout: beat,
        parked_select_woken_by_the_send: parked.woken_with == "b:7",
        multiplex_received: mux.received,
        multiplex_order_violations: mux.violations,
        multiplex_close_notifications: mux.close_notifications,
        closed_case_refires_unless_nilled: closed_case_fires()? > 1,
    })
}

/// What `go24-select -part=select` prints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoSelectReport {
    pub go_version: String,
    pub semantics: Semantics,
    pub fairness: Fairness,
}

/// One GODEBUG setting as measured by `go24-select -part=timers`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimerMode {
    /// The GODEBUG the measuring process ran with; empty for the go.mod default.
    pub godebug: String,
    /// `cap(time.After(time.Hour))`.
    pub chan_cap: usize,
    /// A 1 ms timer expired unread, then `Reset(time.Hour)`: a tick was still there to receive.
    pub stale_tick_after_reset: bool,
    /// Heap bytes still live after GC per un-stopped, unreferenced `time.After(time.Hour)`.
    pub retained_bytes_per_timer: f64,
}

/// What `go24-select -part=timers` prints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoTimersReport {
    pub go_version: String,
    pub modes: Vec<TimerMode>,
}

/// The `go` line of a go.mod file as (major, minor): `go 1.22` and `go 1.22.0` give (1, 22).
pub fn go_mod_version(go_mod: &str) -> Option<(u32, u32)> {
    let line = go_mod.lines().find_map(|l| l.trim().strip_prefix("go "))?;
    parse_version(line.trim())
}

/// `1.26.8`, `go1.26.8 linux/amd64` or `1.22` as (major, minor).
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let v = v.split_whitespace().next()?;
    let v = v.strip_prefix("go").unwrap_or(v);
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?;
    let digits = minor
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(minor.len());
    let minor = minor[..digits].parse().ok()?;
    Some((major, minor))
}

/// The Go 1.23 rule: timer channels are synchronous (capacity 0 as seen by the program, no stale
/// tick after Reset/Stop, unreferenced timers collectable) when the toolchain is 1.23 or later and
/// either `GODEBUG` says `asynctimerchan=0` or, without a setting, the main module's go.mod says
/// `go 1.23` or later. `asynctimerchan=1` restores the old buffered behaviour, until Go 1.27, which
/// (per `doc/godebug.md`) removes the setting, leaving only synchronous channels. A `godebug` line
/// in go.mod would also count; the lab's go.mod has none, so it is not read.
pub fn sync_timer_chans(godebug: &str, module_go: (u32, u32), toolchain: (u32, u32)) -> bool {
    if toolchain < (1, 23) {
        return false;
    }
    if toolchain >= SETTING_REMOVED {
        return true;
    }
    let setting = godebug
        .split(',')
        .filter_map(|kv| kv.trim().strip_prefix("asynctimerchan="))
        .next_back();
    match setting {
        Some("1") => false,
        Some("0") => true,
        _ => module_go >= (1, 23),
    }
}

/// The toolchain that no longer has `asynctimerchan`.
pub const SETTING_REMOVED: (u32, u32) = (1, 27);

/// Bytes per timer above which un-stopped timers are taken to be kept alive. A timer and its
/// channel take a few hundred bytes; a collected one leaves nothing.
pub const RETAINED_BYTES: f64 = 64.0;

/// Whether a measurement shows unreferenced timers staying alive.
pub fn retains_timers(bytes_per_timer: f64) -> bool {
    bytes_per_timer >= RETAINED_BYTES
}

/// What [`sync_timer_chans`] predicts for one measured mode: a list of mismatches.
pub fn timer_mode_mismatches(m: &TimerMode, sync: bool) -> Vec<String> {
    let mut out = Vec::new();
    let want_cap = if sync { 0 } else { 1 };
    if m.chan_cap != want_cap {
        out.push(format!("chan_cap {} (expected {want_cap})", m.chan_cap));
    }
    if m.stale_tick_after_reset == sync {
        out.push(format!(
            "stale_tick_after_reset {} (expected {})",
            m.stale_tick_after_reset, !sync
        ));
    }
    if retains_timers(m.retained_bytes_per_timer) == sync {
        out.push(format!(
            "retained {:.1} B per timer (expected {} {RETAINED_BYTES} B)",
            m.retained_bytes_per_timer,
            if sync { "<" } else { ">=" }
        ));
    }
    out
}

pub const MULTIPLEX: Demo = Demo {
    name: "go-24/multiplex-until-every-input-closes",
    claim: "One select loop serves three producers until all have closed, receiving every value \
            exactly once and in order per producer, when each closed case is switched off by setting \
            its channel to nil; left on, a closed case keeps firing.",
    needs: Need::Nothing,
    run: multiplex_demo,
};

fn multiplex_demo(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say(format!(
        "{PRODUCERS} producer threads, each sends 0..{PER} on its own unbuffered channel, then closes it"
    ));
    let m = multiplex(PRODUCERS, PER).map_err(DemoError::Broken)?;
    ctx.say(format!(
        "one select loop received {} values, {} out of order or missing, {} close notifications",
        m.received, m.violations, m.close_notifications
    ));
    check_eq!(
        m,
        Multiplexed {
            received: PRODUCERS * PER as usize,
            violations: 0,
            close_notifications: PRODUCERS,
        },
        "what the multiplexing loop saw"
    );
    let fires = closed_case_fires().map_err(DemoError::Broken)?;
    ctx.say(format!(
        "without the nil idiom: a closed channel next to one holding 100 values won {fires} of 100 selects"
    ));
    check!(
        fires > 1,
        "a closed channel left in the select fired only {fires} times in 100; closed channels \
         should always be ready"
    );
    Ok(())
}

pub const TIMEOUT_DEMO: Demo = Demo {
    name: "go-24/timeout-fires-only-when-nothing-is-ready",
    claim: "A select's timeout fires, no earlier than its duration, only when no other case is \
            ready; a ready value, or one sent while the select is parked, wins.",
    needs: Need::Nothing,
    run: timeout_demo,
};

fn timeout_demo(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let start = Instant::now();
    let (fired, waited) = timeout_when_nothing_ready(TIMEOUT);
    ctx.say(format!(
        "empty channel, after({TIMEOUT:?}): timeout fired {fired}, after {:?} (≥ {TIMEOUT:?}: {waited})",
        start.elapsed()
    ));
    check!(fired, "the timeout did not fire with nothing ready");
    check!(waited, "the timeout fired before {TIMEOUT:?}");
    let ready = ready_value_beats_timeout(TIMEOUT);
    ctx.say(format!(
        "a value already buffered, after({TIMEOUT:?}): the value was taken: {ready}"
    ));
    check!(
        ready,
        "a ready value lost to a timeout that had not expired"
    );
    let (beat, took) = send_while_parked_beats_timeout().map_err(DemoError::Broken)?;
    ctx.say(format!(
        "select parked with after({:?}); a send once it was seen parked won: {beat}, select took {took:?}",
        10 * PARK_DEADLINE
    ));
    check!(beat, "the value sent to a parked select did not win");
    check!(
        took < 10 * PARK_DEADLINE,
        "the parked select returned only after its timeout"
    );
    Ok(())
}

pub const DEFAULT_DEMO: Demo = Demo {
    name: "go-24/default-makes-select-non-blocking",
    claim: "With a default, a select never waits: an empty receive, a full send and nil channels all \
            fall through to default, while a ready or closed channel's case is still taken.",
    needs: Need::Nothing,
    run: default_demo,
};

fn default_demo(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let d = default_taken();
    ctx.say(format!(
        "recv from empty + send to full, with default: default ran and the full channel kept its one value: {d}"
    ));
    check!(
        d,
        "a select with default did not fall through, or changed the full channel"
    );
    let nil = nil_case_ready();
    ctx.say(format!(
        "recv from and send to a nil channel, with default: a nil case was chosen: {nil}"
    ));
    check!(!nil, "a nil channel's case was chosen");
    let ready: Chan<u32> = Chan::new(1);
    let mut taken = 0;
    for v in 0..100 {
        ready
            .try_send(v)
            .map_err(|e| DemoError::Broken(e.to_string()))?;
        taken += usize::from(
            Select::new()
                .recv(&ready, |r| r == Ok(v))
                .default_case(|| false)
                .run(),
        );
    }
    ctx.say(format!(
        "a channel holding a value, with default: its case was taken {taken} of 100 times"
    ));
    check_eq!(taken, 100, "selects that took the ready case over default");
    let closed: Chan<u32> = Chan::new(0);
    closed
        .close()
        .map_err(|e| DemoError::Broken(e.to_string()))?;
    let got = Select::new()
        .recv(&closed, |r| format!("{r:?}"))
        .default_case(|| "default".to_string())
        .run();
    ctx.say(format!("a closed channel, with default: {got}"));
    check_eq!(
        got,
        "Err(Closed)",
        "a closed channel is ready, so its case beats default"
    );
    Ok(())
}

pub const PARKS_DEMO: Demo = Demo {
    name: "go-24/no-ready-case-parks-on-every-channel",
    claim: "A select with no ready case and no default parks, queued on every one of its channels at \
            once; a send on one of them wakes it with that case, and its waiter on the other channel \
            is withdrawn.",
    needs: Need::Nothing,
    run: parks_demo,
};

fn parks_demo(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let p = parked_select().map_err(DemoError::Broken)?;
    ctx.say(format!(
        "select over empty a and b: queued on both {}, still running {}",
        p.queued_on_both, p.still_running
    ));
    ctx.say(format!(
        "send 7 on b → the select returned {:?}; no waiter left on a or b: {}",
        p.woken_with, p.withdrawn_from_a
    ));
    check!(
        p.still_running,
        "the select returned before anything was sent"
    );
    check_eq!(
        p.woken_with.as_str(),
        "b:7",
        "the case that woke the select"
    );
    check!(
        p.withdrawn_from_a,
        "the select's waiter stayed queued on the channel that did not fire"
    );
    Ok(())
}

pub const UNIFORM_DEMO: Demo = Demo {
    name: "go-24/ready-cases-are-chosen-uniformly",
    claim: "With 4 always-ready cases over 20 000 selects, gochan's select, crossbeam's Select and \
            tokio::select! without `biased` each choose every case about 1/4 of the time (chi-square \
            below the 1e-4 critical value 21.108); crossbeam's pseudo-random choices repeat exactly \
            on every fresh thread.",
    needs: Need::Nothing,
    run: uniform_demo,
};

fn judge(ctx: &Ctx<'_>, side: &str, f: &Fairness) -> Result<(), DemoError> {
    let u = uniformity(&f.counts)
        .ok_or_else(|| DemoError::Broken(format!("{side}: no verdict for {:?}", f.counts)))?;
    ctx.say(format!(
        "{side:<28} {}   chi² = {:.2} (uniform below {:.3})",
        f.shares(),
        u.statistic,
        u.critical
    ));
    check_eq!(
        f.counts.iter().sum::<u64>(),
        f.n as u64,
        "{side}: selects counted"
    );
    check!(
        u.uniform,
        "{side}: chi² = {:.2} ≥ {:.3}: the choice among ready cases is not uniform ({:?})",
        u.statistic,
        u.critical,
        f.counts
    );
    Ok(())
}

fn uniform_demo(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say(format!(
        "{K} channels of capacity 1 kept full; {N} selects; how often each case was chosen:"
    ));
    let gochan = shares_gochan(K, N).map_err(DemoError::Broken)?;
    judge(ctx, "gochan Select", &gochan)?;
    let crossbeam = shares_crossbeam_fresh_thread(K, N).map_err(DemoError::Broken)?;
    judge(ctx, "crossbeam_channel::Select", &crossbeam)?;
    let tokio = shares_tokio(N, false).map_err(DemoError::Broken)?;
    judge(ctx, "tokio::select!", &tokio)?;
    let again = shares_crossbeam_fresh_thread(K, N).map_err(DemoError::Broken)?;
    ctx.say(format!(
        "crossbeam again, on another fresh thread: {:?} (its generator starts from a fixed seed)",
        again.counts
    ));
    check_eq!(
        again.counts,
        crossbeam.counts,
        "crossbeam's choices on two fresh threads"
    );
    Ok(())
}

pub const BIASED_DEMO: Demo = Demo {
    name: "go-24/tokio-biased-always-takes-the-first",
    claim: "tokio::select! with `biased;` takes the first ready branch every time (20 000 of 20 000), \
            and the uniformity test that Go's select passes rejects it.",
    needs: Need::Nothing,
    run: biased_demo,
};

fn biased_demo(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let f = shares_tokio(N, true).map_err(DemoError::Broken)?;
    let u = uniformity(&f.counts)
        .ok_or_else(|| DemoError::Broken(format!("no verdict for {:?}", f.counts)))?;
    ctx.say(format!(
        "tokio::select! {{ biased; ... }}  {}   chi² = {:.0} (uniform below {:.3})",
        f.shares(),
        u.statistic,
        u.critical
    ));
    check_eq!(
        f.counts,
        vec![N as u64, 0, 0, 0],
        "biased select: how often each branch won"
    );
    check!(
        !u.uniform,
        "the uniformity test accepted an always-first distribution"
    );
    ctx.say("biased polls in source order: cheaper, and useful for priorities (a shutdown branch");
    ctx.say("first), but a busy first branch starves the rest. Go has no such mode.");
    Ok(())
}

pub const GO_AGREES: Demo = Demo {
    name: "go-24/go-agrees",
    claim: "Go's select makes the same observations as gochan's (default, nil and closed channels, \
            timeouts, parking, multiplexing), and its choice among 4 ready cases passes the same \
            uniformity test.",
    needs: Need::Go,
    run: go_agrees,
};

fn go_agrees(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let args = [
        "-part=select".to_string(),
        format!("-k={K}"),
        format!("-n={N}"),
        format!("-per={PER}"),
        format!("-timeout-ms={}", TIMEOUT.as_millis()),
    ];
    ctx.say(format!(
        "go run ./{GO_PROGRAM} {}   ({})",
        args.join(" "),
        go.version
    ));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let theirs: GoSelectReport = go.run_json(GO_PROGRAM, &args)?;
    let ours = observe(PER).map_err(DemoError::Broken)?;
    let predicted = Semantics::predicted(PER);
    let width = predicted
        .fields()
        .iter()
        .map(|(f, _)| f.len())
        .max()
        .unwrap_or(0);
    ctx.say(format!(
        "{:width$}  {:>9}  {:>9}  {:>9}",
        "field", "predicted", "gochan", "go"
    ));
    for ((field, p), ((_, o), (_, g))) in predicted
        .fields()
        .into_iter()
        .zip(ours.fields().into_iter().zip(theirs.semantics.fields()))
    {
        let (p, o, g) = (p.to_string(), o.to_string(), g.to_string());
        ctx.say(format!("{field:width$}  {p:>9}  {o:>9}  {g:>9}"));
    }
    for (side, s) in [("predicted", predicted), ("gochan", ours)] {
        let diff = differences(&s, &theirs.semantics);
        check!(
            diff.is_empty(),
            "{side} and Go disagree (ours = {side}, theirs = Go): {}",
            diff.join("; ")
        );
    }
    check_eq!(
        (theirs.fairness.k, theirs.fairness.n),
        (K, N),
        "Go's fairness run (k, n)"
    );
    judge(ctx, "Go select", &theirs.fairness)?;
    let gochan = shares_gochan(K, N).map_err(DemoError::Broken)?;
    judge(ctx, "gochan Select", &gochan)
}

pub const GO_TIMERS: Demo = Demo {
    name: "go-24/go-timer-channels-since-1-23",
    claim: "Real Go timers follow the Go 1.23 rule: with asynctimerchan=0 a timer channel shows \
            capacity 0, Reset leaves no stale tick and an un-stopped time.After is collected; with \
            asynctimerchan=1, or a go.mod older than go 1.23 (this lab's go/go.mod), capacity 1, a \
            stale tick, and every time.After kept alive until it fires.",
    needs: Need::Go,
    run: go_timers,
};

fn go_timers(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let go_mod_path = go.module_dir.join("go.mod");
    let go_mod = std::fs::read_to_string(&go_mod_path)
        .map_err(|e| DemoError::Broken(format!("{}: {e}", go_mod_path.display())))?;
    let module_go = go_mod_version(&go_mod)
        .ok_or_else(|| DemoError::Broken("go.mod has no `go` line".into()))?;
    let toolchain = parse_version(&go.version)
        .ok_or_else(|| DemoError::Broken(format!("cannot parse {:?}", go.version)))?;
    ctx.say(format!(
        "go run ./{GO_PROGRAM} -part=timers   ({}; go/go.mod says go {}.{})",
        go.version, module_go.0, module_go.1
    ));
    let rep: GoTimersReport = go.run_json(GO_PROGRAM, &["-part=timers"])?;
    check_eq!(rep.modes.len(), 3, "GODEBUG settings measured");
    for m in &rep.modes {
        let sync = sync_timer_chans(&m.godebug, module_go, toolchain);
        let label = if m.godebug.is_empty() {
            "(go.mod default)"
        } else {
            m.godebug.as_str()
        };
        ctx.say(format!(
            "GODEBUG {label:<18} cap(time.After(..)) = {}, stale tick after Reset: {:<5}, \
             {:>6.1} B live per un-stopped time.After  → {} timer channels",
            m.chan_cap,
            m.stale_tick_after_reset,
            m.retained_bytes_per_timer,
            if sync {
                "synchronous"
            } else {
                "buffered (old)"
            }
        ));
        let bad = timer_mode_mismatches(m, sync);
        check!(
            bad.is_empty(),
            "GODEBUG {label}: the Go 1.23 rule predicts {} channels, but: {}",
            if sync { "synchronous" } else { "buffered" },
            bad.join("; ")
        );
    }
    let sync_modes = rep
        .modes
        .iter()
        .filter(|m| sync_timer_chans(&m.godebug, module_go, toolchain))
        .count();
    // Until the setting is removed, the three settings must show both behaviours.
    check!(
        toolchain >= SETTING_REMOVED || (sync_modes >= 1 && sync_modes < rep.modes.len()),
        "expected both behaviours among the measured settings, got {sync_modes} synchronous of {}",
        rep.modes.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uniformity_test_accepts_even_counts_and_rejects_bias() {
        let even = uniformity(&[5007, 4996, 4982, 5015]).unwrap();
        assert!(even.uniform, "{even:?}");
        assert_eq!(even.critical, 21.108);
        // Counterexamples: everything on case 0, and a milder 30/23/23/23 bias.
        let first = uniformity(&[20_000, 0, 0, 0]).unwrap();
        assert!(!first.uniform);
        assert_eq!(first.statistic, 60_000.0);
        assert!(!uniformity(&[6_000, 4_667, 4_667, 4_666]).unwrap().uniform);
        assert_eq!(uniformity(&[5]), None);
        assert_eq!(uniformity(&[0, 0]), None);
        assert_eq!(uniformity(&[1; 12]), None);
    }

    #[test]
    fn chi_square_matches_a_hand_computation() {
        // Expected 10 each: (12-10)²/10 + (8-10)²/10 = 0.8.
        assert!((chi_square(&[12, 8]) - 0.8).abs() < 1e-12);
    }

    #[test]
    fn gochan_select_chooses_uniformly() {
        // Phenomenon: among ready cases, selectgo's random poll order gives each a 1/k share.
        let f = shares_gochan(3, 6_000).unwrap();
        assert!(uniformity(&f.counts).unwrap().uniform, "{f:?}");
    }

    #[test]
    fn order_violations_catch_duplicates_gaps_and_missing_tails() {
        let good = [(0, 0), (1, 0), (0, 1), (1, 1)];
        assert_eq!(order_violations(&good, 2, 2), 0);
        // Counterexamples.
        assert_eq!(order_violations(&[(0, 0), (0, 0), (0, 1)], 1, 2), 1); // duplicate
        assert_eq!(order_violations(&[(0, 1), (0, 0)], 1, 2), 3); // reordered, ends early
        assert_eq!(order_violations(&[(0, 0)], 2, 1), 1); // producer 1 never heard from
        assert_eq!(order_violations(&[(5, 0)], 1, 0), 1); // an unknown producer
    }

    #[test]
    fn a_multiplexing_loop_ends_when_every_input_is_nil() {
        let m = multiplex(3, 200).unwrap();
        assert_eq!(
            m,
            Multiplexed {
                received: 600,
                violations: 0,
                close_notifications: 3
            }
        );
    }

    #[test]
    fn select_semantics_match_the_prediction() {
        let ours = observe(100).unwrap();
        assert_eq!(
            differences(&ours, &Semantics::predicted(100)),
            Vec::<String>::new()
        );
        // Counterexample: a select that waited with a default would be reported.
        let wrong = Semantics {
            default_taken_when_nothing_ready: false,
            ..ours
        };
        assert_eq!(
            differences(&wrong, &ours),
            ["default_taken_when_nothing_ready: ours false vs theirs true"]
        );
    }

    #[test]
    fn tokio_biased_always_takes_the_first_branch() {
        assert_eq!(shares_tokio(500, true).unwrap().counts, [500, 0, 0, 0]);
    }

    #[test]
    fn the_timer_rule_follows_godebug_then_go_mod() {
        let lab = (1, 22);
        let new = (1, 26);
        assert!(!sync_timer_chans("", lab, new));
        assert!(sync_timer_chans("asynctimerchan=0", lab, new));
        assert!(!sync_timer_chans("asynctimerchan=1", (1, 23), new));
        assert!(sync_timer_chans("", (1, 23), new));
        assert!(sync_timer_chans("http2debug=1,asynctimerchan=0", lab, new));
        // Counterexample: an old toolchain has only the old behaviour, whatever is asked.
        assert!(!sync_timer_chans("asynctimerchan=0", (1, 23), (1, 22)));
        // And from Go 1.27 on, the old behaviour is gone.
        assert!(sync_timer_chans("asynctimerchan=1", lab, (1, 27)));
    }

    #[test]
    fn timer_mismatches_flag_each_wrong_observation() {
        let old = TimerMode {
            godebug: String::new(),
            chan_cap: 1,
            stale_tick_after_reset: true,
            retained_bytes_per_timer: 267.0,
        };
        assert!(timer_mode_mismatches(&old, false).is_empty());
        // Counterexample: judged as synchronous, all three observations are wrong.
        assert_eq!(timer_mode_mismatches(&old, true).len(), 3);
    }

    #[test]
    fn versions_parse() {
        assert_eq!(go_mod_version("module gmrlab\n\ngo 1.22\n"), Some((1, 22)));
        assert_eq!(go_mod_version("module x\ngo 1.23.0\n"), Some((1, 23)));
        assert_eq!(go_mod_version("module x\n"), None);
        assert_eq!(parse_version("go1.26.8 linux/amd64"), Some((1, 26)));
        assert_eq!(parse_version("go1.23rc1"), Some((1, 23)));
    }

    #[test]
    fn the_go_programs_json_parses() {
        let json = r#"{"go_version":"go1.26.8","semantics":{"default_taken_when_nothing_ready":true,
            "nil_channel_case_ready":false,"closed_channel_case_ready":true,
            "timeout_fired_when_nothing_ready":true,"timeout_waited_at_least_its_duration":true,
            "send_while_parked_beats_timeout":true,"parked_select_woken_by_the_send":true,
            "multiplex_received":3000,"multiplex_order_violations":0,"multiplex_close_notifications":3,
            "closed_case_refires_unless_nilled":true},"fairness":{"k":4,"n":20000,
            "counts":[5007,4996,4982,5015]}}"#;
        let r: GoSelectReport = serde_json::from_str(json).unwrap();
        assert_eq!(r.semantics, Semantics::predicted(1000));
        let missing = json.replacen(r#""nil_channel_case_ready":false,"#, "", 1);
        assert!(serde_json::from_str::<GoSelectReport>(&missing).is_err());
    }
}

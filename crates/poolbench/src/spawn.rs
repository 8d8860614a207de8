//! What one task costs to start and to keep: spawn + join of many trivial tasks, and the memory of
//! many parked tasks, for OS threads, tokio tasks, rayon jobs and processes. The Go side is
//! `go/cmd/bench-pool` (goroutines).
//!
//! ```text
//!   spawn + join:  start ──spawn 0..n (each marks seen[i])──► join all ──► ns / n
//!   memory:        RSS₀ ──spawn n, each parks──► all parked? ──► RSS₁ ──► (RSS₁ − RSS₀) / n
//! ```
//!
//! ## How the real system differs
//! Go reports its own accounting (`runtime.MemStats`: stack and heap spans in use), which counts
//! exactly the goroutines' stacks and descriptors. Rust has no such accounting for threads, so the
//! thread and tokio rows read the kernel's resident set (`VmRSS`), which counts the pages touched,
//! at page granularity, and also anything else the process allocated meanwhile. glibc keeps up to
//! 40 MiB of exited threads' stacks for reuse, so a thread run after an earlier one may find its
//! stack already resident; the rows take the median of several runs and stay rough, to a few KiB.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::procfs;
use crate::work::Seen;

/// Spawns `n` OS threads that each mark their slot, then joins them all. Returns ns per task.
pub fn threads(n: usize, seen: &Seen) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n).map(|i| s.spawn(move || seen.mark(i))).collect();
        for h in handles {
            let _ = h.join(); // a panicked task leaves its slot at 0: the verdict reports it
        }
    });
    start.elapsed().as_nanos() as f64 / n.max(1) as f64
}

/// CPU time this process has used so far, all its threads together, including threads that have
/// exited (`CLOCK_PROCESS_CPUTIME_ID`, nanosecond resolution).
pub fn process_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        t.tv_sec.max(0) as u64,
        t.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// CPU time of this process's reaped children (`cutime + cstime` in `/proc/self/stat`), in clock
/// ticks of 10 ms (`USER_HZ` is 100 on Linux); `None` without `/proc`.
pub fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    children_cpu_from_stat(&stat)
}

/// Fields 16 and 17 of a `/proc/<pid>/stat` line (after the parenthesised command name, which may
/// itself contain spaces and parentheses).
pub fn children_cpu_from_stat(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name, so fields 16 and 17 are at 13 and 14.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// [`threads`] measured in CPU time instead of wall time: the CPU the whole process spent per
/// thread started, run and joined. Unlike wall time it does not grow while the new threads wait
/// for a CPU that other processes hold.
pub fn threads_cpu(n: usize, seen: &Seen) -> f64 {
    let before = process_cpu();
    threads(n, seen);
    (process_cpu() - before).as_nanos() as f64 / n.max(1) as f64
}

/// [`processes`] measured in CPU time: this process's own (fork/exec/wait) plus its children's, per
/// process. The children's part comes in 10 ms ticks, so use enough processes (100 or more) for
/// the total to be many ticks.
pub fn processes_cpu(n: usize, seen: &Seen) -> std::io::Result<f64> {
    let no_proc = || std::io::Error::other("/proc/self/stat is not readable");
    let (own, kids) = (process_cpu(), children_cpu().ok_or_else(no_proc)?);
    processes(n, seen)?;
    let spent = (process_cpu() - own) + (children_cpu().ok_or_else(no_proc)? - kids);
    Ok(spent.as_nanos() as f64 / n.max(1) as f64)
}

/// Spawns `n` tokio tasks on `rt` (a multi-thread runtime) and awaits them all.
pub fn tokio_tasks(rt: &tokio::runtime::Runtime, n: usize, seen: &Arc<Seen>) -> f64 {
    let start = Instant::now();
    rt.block_on(async {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let seen = Arc::clone(seen);
                tokio::spawn(async move { seen.mark(i) })
            })
            .collect();
        for h in handles {
            let _ = h.await;
        }
    });
    start.elapsed().as_nanos() as f64 / n.max(1) as f64
}

/// Spawns `n` jobs into a rayon scope on `pool`; the scope returns when all have run.
pub fn rayon_jobs(pool: &rayon::ThreadPool, n: usize, seen: &Seen) -> f64 {
    let start = Instant::now();
    pool.scope(|s| {
        for i in 0..n {
            s.spawn(move |_| seen.mark(i));
        }
    });
    start.elapsed().as_nanos() as f64 / n.max(1) as f64
}

/// Spawns `n` trivial tasks on the project's GPM scheduler (crate `gpm`) with `procs` Ps from one
/// root task, and waits until all have finished. The wall time includes starting and stopping the
/// scheduler's threads, amortised over `n`.
pub fn gpm_tasks(procs: usize, n: usize, seen: &std::sync::Arc<Seen>) -> f64 {
    let start = Instant::now();
    let marks = std::sync::Arc::clone(seen);
    let _ = gpm::workloads::spawn_and_join(procs, n, move |i| marks.mark(i));
    start.elapsed().as_nanos() as f64 / n.max(1) as f64
}

/// Starts `n` processes of `/bin/true` (fork + exec + exit), then waits for them all. A process
/// marks its slot when it exited successfully.
pub fn processes(n: usize, seen: &Seen) -> std::io::Result<f64> {
    let start = Instant::now();
    let children = (0..n)
        .map(|_| Command::new("/bin/true").spawn())
        .collect::<std::io::Result<Vec<_>>>()?;
    for (i, mut c) in children.into_iter().enumerate() {
        if c.wait()?.success() {
            seen.mark(i);
        }
    }
    Ok(start.elapsed().as_nanos() as f64 / n.max(1) as f64)
}

/// Memory per parked task, in bytes: resident (`VmRSS`) and reserved (`VmSize`) deltas divided by
/// the number of tasks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerTask {
    pub resident: f64,
    pub reserved: f64,
    /// OS threads the process gained while the tasks were parked.
    pub threads_added: i64,
}

fn delta(after: Option<u64>, before: Option<u64>, n: usize) -> Option<f64> {
    Some((after? as f64 - before? as f64) / n.max(1) as f64)
}

/// Starts `n` OS threads with std's default stack size (2 MiB unless `RUST_MIN_STACK` says
/// otherwise), each parked on a channel, and reads the process's memory with all of them parked.
pub fn parked_threads(n: usize) -> Option<PerTask> {
    let (rss0, vm0, t0) = (procfs::rss_bytes(), procfs::vm_bytes(), procfs::threads());
    let (started_tx, started_rx) = crossbeam_channel::unbounded::<()>();
    let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(0);
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (started, release) = (started_tx.clone(), release_rx.clone());
            std::thread::spawn(move || {
                let _ = started.send(());
                let _ = release.recv(); // returns when the sender is dropped
            })
        })
        .collect();
    for _ in 0..n {
        started_rx.recv().ok()?;
    }
    let (rss1, vm1, t1) = (procfs::rss_bytes(), procfs::vm_bytes(), procfs::threads());
    drop(release_tx);
    for h in handles {
        let _ = h.join();
    }
    Some(PerTask {
        resident: delta(rss1, rss0, n)?,
        reserved: delta(vm1, vm0, n)?,
        threads_added: t1? as i64 - t0? as i64,
    })
}

/// Starts `n` tokio tasks on `rt`, each parked on a `watch` channel, and reads the process's
/// memory with all of them parked. Includes the task's `JoinHandle` (8 bytes) kept by the caller.
pub fn parked_tokio_tasks(rt: &tokio::runtime::Runtime, n: usize) -> Option<PerTask> {
    rt.block_on(async {
        let (rss0, vm0, t0) = (procfs::rss_bytes(), procfs::vm_bytes(), procfs::threads());
        let (release_tx, release_rx) = tokio::sync::watch::channel(false);
        let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (mut release, started) = (release_rx.clone(), started_tx.clone());
                tokio::spawn(async move {
                    let _ = started.send(());
                    drop(started);
                    let _ = release.changed().await;
                })
            })
            .collect();
        for _ in 0..n {
            started_rx.recv().await?;
        }
        let (rss1, vm1, t1) = (procfs::rss_bytes(), procfs::vm_bytes(), procfs::threads());
        let _ = release_tx.send(true);
        for h in handles {
            let _ = h.await;
        }
        Some(PerTask {
            resident: delta(rss1, rss0, n)?,
            reserved: delta(vm1, vm0, n)?,
            threads_added: t1? as i64 - t0? as i64,
        })
    })
}

/// A multi-thread tokio runtime with `workers` worker threads, for the tokio rows.
pub fn tokio_runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
}

/// A rayon pool with `workers` threads, for the rayon rows.
pub fn rayon_pool(workers: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new().num_threads(workers).build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::verdict;

    #[test]
    fn every_spawner_runs_each_task_once() {
        let rt = tokio_runtime(2).unwrap();
        let pool = rayon_pool(2).unwrap();
        let s = Seen::new(50);
        assert!(threads(50, &s) > 0.0);
        verdict("threads", &s, None, None).unwrap();
        let s = Arc::new(Seen::new(500));
        tokio_tasks(&rt, 500, &s);
        verdict("tokio", &s, None, None).unwrap();
        let s = Seen::new(500);
        rayon_jobs(&pool, 500, &s);
        verdict("rayon", &s, None, None).unwrap();
        let s = Seen::new(3);
        processes(3, &s).unwrap();
        verdict("processes", &s, None, None).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn parked_threads_show_up_as_threads() {
        // Other tests run threads at the same time, so only a lower bound on the count is safe.
        let t = parked_threads(20).unwrap();
        assert!(t.threads_added >= 1, "{t:?}");
        let rt = tokio_runtime(2).unwrap();
        let k = parked_tokio_tasks(&rt, 1000).unwrap();
        assert!(k.reserved.is_finite(), "{k:?}");
    }

    #[test]
    fn children_cpu_reads_fields_16_and_17_past_an_odd_name() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
        // stime cutime cstime ...
        let line = "42 (a) b (c)) S 1 42 42 0 -1 4194560 10 20 0 0 7 3 250 50 20 0 1 0";
        assert_eq!(
            children_cpu_from_stat(line),
            Some(Duration::from_millis(3_000))
        );
        assert_eq!(
            children_cpu_from_stat("42 (x) S 1 2"),
            None,
            "too few fields"
        );
        assert_eq!(children_cpu_from_stat("no parenthesis"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn cpu_clocks_move_forward_with_work() {
        let before = process_cpu();
        let mut x = 1u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        assert!(process_cpu() > before, "{x}");
        assert!(children_cpu().is_some());
    }
}

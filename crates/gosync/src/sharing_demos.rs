//! The demos of go-02 (safe sharing without a Mutex), registered in [`crate::topic`]. Each asserts
//! a claim of `docs/go/go-02.md`; the mechanisms are in [`crate::sharing`], and
//! `go/cmd/go02-sharing` is their Go side, run under the race detector.

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::rwmutex::GoRwMutex;
use crate::sharing::{self, GoSharing, RaceRun};

/// The Go program the Go demos run.
pub const GO_PROGRAM: &str = "./cmd/go02-sharing";

pub const ATOMICS: Demo = Demo {
    name: "go-02/atomic-add-is-exact-load-then-store-is-not",
    claim: "4 threads × 20 000 atomic fetch_adds (Go's atomic.AddInt64) end at exactly 80 000; the \
            same threads doing a load, then a separate store, lose updates",
    needs: Need::Nothing,
    run: atomics,
};

/// Runs of the counterexample before the demo gives up on seeing a lost update.
const RACY_ATTEMPTS: usize = 3;

fn atomics(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let expected = sharing::THREADS as u64 * sharing::EACH;
    let got = sharing::atomic_count(sharing::THREADS, sharing::EACH);
    ctx.say(format!(
        "fetch_add:        {} threads × {} = {got} (expected {expected})",
        sharing::THREADS,
        sharing::EACH
    ));
    check_eq!(got, expected, "the atomic counter");

    let racy_expected = sharing::THREADS as u64 * sharing::RACY_EACH;
    let mut lost = 0;
    for attempt in 1..=RACY_ATTEMPTS {
        let racy = sharing::racy_count(sharing::THREADS, sharing::RACY_EACH);
        lost = sharing::lost_updates(racy_expected, racy);
        ctx.say(format!(
            "load; yield; store: {} threads × {} = {racy}, {lost} increments lost (attempt {attempt})",
            sharing::THREADS,
            sharing::RACY_EACH
        ));
        if lost > 0 {
            break;
        }
    }
    check!(
        lost > 0,
        "no update was lost in {RACY_ATTEMPTS} runs of {racy_expected} load-then-store increments"
    );
    ctx.say("two threads read the same value and both wrote value + 1: one increment vanished");
    Ok(())
}

pub const CHANNEL_OWNER: Demo = Demo {
    name: "go-02/channel-owner-serves-every-request-alone",
    claim: "One thread owns a HashMap and 4 clients send it 2 000 \"add 1\" requests each over a \
            channel: the count is exactly 8 000, the replies are exactly 1..=8 000, and no thread \
            but the owner ever touched the map",
    needs: Need::Nothing,
    run: channel_owner,
};

fn channel_owner(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let r = sharing::channel_owned(sharing::THREADS, sharing::REQUESTS);
    let n = r.clients as u64 * r.requests;
    ctx.say(format!(
        "{} clients × {} requests: owner's count {}",
        r.clients, r.requests, r.count
    ));
    ctx.say(format!(
        "replies sorted: {:?} … {:?} ({} of them; exactly 1..={n}: {})",
        r.replies.first(),
        r.replies.last(),
        r.replies.len(),
        sharing::replies_are_one_to_n(&r.replies, n)
    ));
    ctx.say(format!(
        "threads that touched the map: {} (the owner: {})",
        r.touched_by.len(),
        r.touched_by.contains(&r.owner)
    ));
    let broken = sharing::owned_broken(&r);
    check!(broken.is_empty(), "{}", broken.join("; "));
    Ok(())
}

pub const ONCE: Demo = Demo {
    name: "go-02/once-runs-the-initializer-exactly-once",
    claim: "8 threads racing on a OnceLock (and on the port of Go's sync.Once): the initializer \
            runs once, no caller returns before it finished, and all 8 read the same value",
    needs: Need::Nothing,
    run: once,
};

fn once(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    for (what, r) in [
        (
            "std OnceLock::get_or_init",
            sharing::once_lock_race(sharing::ONCE_CALLERS),
        ),
        (
            "GoOnce::call_once (Go's Once)",
            sharing::go_once_race(sharing::ONCE_CALLERS),
        ),
    ] {
        ctx.say(format!(
            "{what}: initializer ran {}× for {} callers, {} returned early, value {:?}",
            r.runs,
            r.callers,
            r.returned_early,
            r.seen.first().cloned().flatten().unwrap_or_default()
        ));
        let broken = sharing::once_broken(&r);
        check!(broken.is_empty(), "{what}: {}", broken.join("; "));
    }
    Ok(())
}

pub const CONFINEMENT: Demo = Demo {
    name: "go-02/confined-shards-merge-exactly",
    claim: "4 threads each count their own shard of 80 000 values into their own buckets, sharing \
            nothing; merged after join, the buckets equal a one-thread count",
    needs: Need::Nothing,
    run: confinement,
};

fn confinement(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let data = sharing::lcg(sharing::THREADS * sharing::EACH as usize);
    let merged = sharing::confined_buckets(&data, sharing::THREADS);
    let seq = sharing::sequential_buckets(&data);
    ctx.say(format!("merged shards:  {merged:?}"));
    ctx.say(format!("one thread:     {seq:?}"));
    check_eq!(merged, seq, "the merged buckets");
    check_eq!(
        merged.iter().sum::<u64>(),
        data.len() as u64,
        "values counted"
    );
    Ok(())
}

pub const RW_READERS: Demo = Demo {
    name: "go-02/rwmutex-readers-share-the-lock",
    claim: "Two readers are inside std's RwLock, parking_lot's RwLock and the port of Go's RWMutex \
            at the same time (they meet inside the read section), and writes under the write lock \
            are all kept",
    needs: Need::Nothing,
    run: rw_readers,
};

fn rw_readers(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let timeout = sharing::MEET_TIMEOUT;
    let (each, threads) = (sharing::EACH / 10, sharing::THREADS);
    let writes = threads.div_ceil(2) as u64 * each;

    let std_rw = std::sync::RwLock::new(());
    let pl_rw = parking_lot::RwLock::new(());
    let go_rw = GoRwMutex::new();
    let rows: [(&str, bool, u64); 3] = [
        (
            "std::sync::RwLock",
            sharing::readers_meet(|| std_rw.read(), timeout),
            sharing::rw_count(threads, each, || std_rw.read(), || std_rw.write()),
        ),
        (
            "parking_lot::RwLock",
            sharing::readers_meet(|| pl_rw.read(), timeout),
            sharing::rw_count(threads, each, || pl_rw.read(), || pl_rw.write()),
        ),
        (
            "GoRwMutex (Go's RWMutex)",
            sharing::readers_meet(|| go_rw.rlock(), timeout),
            sharing::rw_count(threads, each, || go_rw.rlock(), || go_rw.lock()),
        ),
    ];
    for (what, met, count) in rows {
        ctx.say(format!(
            "{what:<26} 2 readers inside together: {met}; writes kept {count} of {writes}"
        ));
        check!(
            met,
            "{what}: the two readers did not meet inside the read lock within {timeout:?}"
        );
        check_eq!(count, writes, "{what}: writes kept");
    }
    ctx.say("for contrast, a Mutex admits one \"reader\" at a time (the unit test shows they never meet)");
    Ok(())
}

fn run_race(ctx: &Ctx<'_>, args: &[&str]) -> Result<RaceRun, DemoError> {
    let go = ctx.go()?;
    let mut all = vec!["run", "-race", GO_PROGRAM];
    all.extend_from_slice(args);
    ctx.say(format!("{}: go {}", go.version, all.join(" ")));
    let outcome = sharing::classify_race_run(go.go(&all));
    if let RaceRun::Unavailable(why) = &outcome {
        return Err(DemoError::Unavailable(format!(
            "skipped: go run -race does not work here (it needs cgo and a C compiler): {}",
            why.trim()
        )));
    }
    Ok(outcome)
}

pub const GO_SAFE: Demo = Demo {
    name: "go-02/go-every-way-is-exact-and-race-free",
    claim: "Under go run -race, Go's atomics, a channel-owned map, sync.Once, confinement and \
            sync.RWMutex each give the exact answer, and the race detector reports nothing",
    needs: Need::Go,
    run: go_safe,
};

fn go_safe(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let (threads, each, requests) = (
        sharing::THREADS.to_string(),
        sharing::EACH.to_string(),
        sharing::REQUESTS.to_string(),
    );
    let outcome = run_race(
        ctx,
        &["-threads", &threads, "-each", &each, "-requests", &requests],
    )?;
    let (stdout, stderr) = match outcome {
        RaceRun::Clean { stdout, stderr } => (stdout, stderr),
        RaceRun::Race(report) => {
            return Err(DemoError::Claim(format!(
                "the race detector reported a race in the safe ways: {}",
                report.trim()
            )));
        }
        RaceRun::Failed(why) | RaceRun::Unavailable(why) => {
            return Err(DemoError::Broken(why));
        }
    };
    let g: GoSharing = serde_json::from_str(stdout.trim())
        .map_err(|e| DemoError::Broken(format!("cannot read the Go program's JSON: {e}")))?;
    ctx.say(format!(
        "GOMAXPROCS {}, race detector on: {}, exit status 0",
        g.gomaxprocs, g.race_enabled
    ));
    ctx.say(format!(
        "atomics {} of {}; channel owner {} of {} (replies 1..=n: {}); Once ran {}× for {}, same value: {}",
        g.atomic_count,
        g.threads * g.each,
        g.channel_count,
        g.threads * g.requests,
        g.channel_replies_one_to_n,
        g.once_runs,
        g.once_callers,
        g.once_same_value
    ));
    ctx.say(format!(
        "confinement buckets {:?}; RWMutex readers met: {}, writes {} of {}",
        g.shard_buckets.as_deref().unwrap_or_default(),
        g.rw_readers_met,
        g.rw_writes,
        g.rw_writes_expected
    ));
    check_eq!(
        (g.threads, g.each, g.requests),
        (sharing::THREADS as u64, sharing::EACH, sharing::REQUESTS),
        "the Go program ran the same sizes"
    );
    let broken = sharing::go_broken(&g, &stderr);
    check!(broken.is_empty(), "Go: {}", broken.join("; "));
    // The same input counted by Rust: both sides generate it with the same LCG.
    let rust =
        sharing::sequential_buckets(&sharing::lcg(sharing::THREADS * sharing::EACH as usize));
    check_eq!(
        g.shard_buckets.unwrap_or_default(),
        rust.to_vec(),
        "Go's merged buckets vs Rust's count of the same input"
    );
    ctx.say("every way exact, no race reported, and Go's buckets equal Rust's");
    Ok(())
}

pub const GO_RACY: Demo = Demo {
    name: "go-02/go-race-detector-flags-a-plain-counter",
    claim: "The counterexample: goroutines doing counter++ on a plain int64 make go run -race \
            print WARNING: DATA RACE and exit non-zero, so the clean run above is evidence",
    needs: Need::Go,
    run: go_racy,
};

fn go_racy(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    match run_race(ctx, &["-racy"])? {
        RaceRun::Race(report) => {
            let first = report
                .lines()
                .find(|l| l.contains("DATA RACE") || l.contains("data race"))
                .unwrap_or("");
            ctx.say(format!("stderr: {}", first.trim()));
            ctx.say("the detector caught the unsynchronized counter");
            Ok(())
        }
        RaceRun::Clean { stdout, .. } => Err(DemoError::Claim(format!(
            "go run -race ran the plain counter without reporting a race: {}",
            stdout.trim()
        ))),
        RaceRun::Failed(why) | RaceRun::Unavailable(why) => Err(DemoError::Broken(why)),
    }
}

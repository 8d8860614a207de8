//! The demos of go-29 (CAS in Go), registered in [`crate::topic`]. Each asserts a claim of
//! `docs/go/go-29.md`; the mechanisms are in [`crate::cas`], and `go/cmd/go29-cas` is their Go
//! side.

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::cas::{self, CasRun, Flavor, GoCas};

/// The Go program the Go demos run.
pub const GO_PROGRAM: &str = "cmd/go29-cas";
/// Increments per thread per round.
pub const EACH: u64 = 100_000;
/// Rounds of the contended run at least, and at most (it stops once a swap failed).
pub const MIN_ROUNDS: u64 = 5;
pub const MAX_ROUNDS: u64 = 100;

fn run_line(label: &str, r: &CasRun) -> String {
    let overlap = if r.threads > 1 {
        format!(", ran together {:.0}% of the time", r.overlap() * 100.0)
    } else {
        String::new()
    };
    format!(
        "{label}: {} thread(s), {} round(s) ({} with retries), final {} of {}, {} retries ({:.4}% of increments){overlap}",
        r.threads,
        r.rounds,
        r.rounds_with_retries,
        r.final_count,
        r.expected,
        r.retries,
        r.retry_rate() * 100.0
    )
}

pub const LONE: Demo = Demo {
    name: "go-29/a-lone-cas-loop-never-retries",
    claim: "With one thread, 100 000 CAS increments (compare_exchange) succeed at the first try: \
            nobody writes between the load and the swap",
    needs: Need::Nothing,
    run: lone,
};

fn lone(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let strong = cas::cas_rounds(1, EACH, 1, 1, Flavor::Strong);
    ctx.say(run_line("compare_exchange     ", &strong));
    let broken = cas::cas_broken(&strong, Flavor::Strong);
    check!(broken.is_empty(), "{}", broken.join("; "));
    let weak = cas::cas_rounds(1, EACH, 1, 1, Flavor::Weak);
    ctx.say(run_line("compare_exchange_weak", &weak));
    check_eq!(weak.final_count, weak.expected, "the weak loop's count");
    if cfg!(target_arch = "x86_64") {
        // Both are one LOCK CMPXCHG on x86-64: a weak CAS cannot fail spuriously here.
        check_eq!(weak.retries, 0, "spurious weak failures on x86-64");
        ctx.say("on x86-64 the weak CAS is the same instruction, so it never failed either");
    }
    Ok(())
}

pub const CONTENDED: Demo = Demo {
    name: "go-29/contended-cas-retries-but-loses-nothing",
    claim: "Two threads released together, 100 000 CAS increments each per round: some swaps fail \
            and are retried, and the final count is still exact (strong and weak)",
    needs: Need::Nothing,
    run: contended,
};

fn contended(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say(format!(
        "rounds: at least {MIN_ROUNDS}, then until a swap failed, at most {MAX_ROUNDS}"
    ));
    for flavor in [Flavor::Strong, Flavor::Weak] {
        let r = cas::cas_rounds(2, EACH, MIN_ROUNDS, MAX_ROUNDS, flavor);
        ctx.say(run_line(&format!("{:<21}", flavor.name()), &r));
        let broken = cas::cas_broken(&r, flavor);
        check!(
            broken.is_empty(),
            "{}: {}",
            flavor.name(),
            broken.join("; ")
        );
    }
    ctx.say("every failed swap was retried with the value it found: retries cost time, not counts");
    Ok(())
}

pub const STALE: Demo = Demo {
    name: "go-29/stale-expected-value-fails",
    claim: "A reads 0, B increments, A's CAS(0 → 1) fails and hands back the current 1; A's retry \
            CAS(1 → 2) succeeds and both increments are kept",
    needs: Need::Nothing,
    run: stale,
};

fn stale(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let (first, second, last) = cas::stale_replay();
    ctx.say("A: old = load() = 0; B: fetch_add(1) (A waits for it on a channel)");
    ctx.say(format!("A: compare_exchange(0, 1) = {first:?}"));
    ctx.say(format!("A: compare_exchange(1, 2) = {second:?}"));
    ctx.say(format!("final value {last}"));
    check_eq!(first, Err(1), "the CAS with the stale expected value");
    check_eq!(
        second,
        Ok(1),
        "the retry with the value the failure handed back"
    );
    check_eq!(last, 2, "the final value");
    Ok(())
}

pub const ABA: Demo = Demo {
    name: "go-29/cas-compares-values-not-history",
    claim: "ABA: A reads 0, B writes 1 then 0, and A's CAS(0 → 10) succeeds anyway; with a version \
            tag swapped together with the value, the same CAS fails",
    needs: Need::Nothing,
    run: aba,
};

fn aba(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let (plain, tagged) = cas::aba_replay();
    ctx.say("A: reads 0; B: stores 1, then 0; A: CAS(0 → 10)");
    ctx.say(format!(
        "plain AtomicU64:            CAS succeeded = {plain}"
    ));
    ctx.say(format!(
        "value + version in one u64: CAS succeeded = {tagged}"
    ));
    check!(
        plain,
        "the plain CAS failed although the value was back to 0"
    );
    check!(!tagged, "the tagged CAS succeeded although B wrote twice");
    Ok(())
}

pub const CAPPED: Demo = Demo {
    name: "go-29/cas-loop-does-what-add-cannot",
    claim: "A CAS loop can make any update atomic: 4 threads try 10 000 \"add 1 unless at 25 000\" \
            each, and the counter stops at exactly 25 000 with exactly 25 000 successes",
    needs: Need::Nothing,
    run: capped,
};

fn capped(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let (threads, each, cap) = (4, 10_000, 25_000);
    let (value, ok) = cas::capped_count(threads, each, cap);
    ctx.say(format!(
        "{threads} threads × {each} tries, cap {cap}: final {value}, successful tries {ok}"
    ));
    check_eq!((value, ok), (cap, cap), "(final value, successes)");
    ctx.say("fetch_add cannot check the cap and add in one step; the CAS loop can");
    Ok(())
}

fn run_go(ctx: &Ctx<'_>) -> Result<GoCas, DemoError> {
    let go = ctx.go()?;
    let args = [
        format!("-each={EACH}"),
        format!("-min-rounds={MIN_ROUNDS}"),
        format!("-max-rounds={MAX_ROUNDS}"),
        "-procs=2".to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report: GoCas = go.run_json(GO_PROGRAM, &args)?;
    ctx.say(format!(
        "{} (GOMAXPROCS {}, {} CPUs)",
        report.go_version, report.gomaxprocs, report.num_cpu
    ));
    Ok(report)
}

pub const GO_CONTENDED: Demo = Demo {
    name: "go-29/go-cas-retries-only-under-contention",
    claim: "Go's atomic.Int64 CompareAndSwap loop: one goroutine never retries; two goroutines on 2 \
            Ps do, and both counts are exact, as in the Rust loop",
    needs: Need::Go,
    run: go_contended,
};

fn go_contended(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let g = run_go(ctx)?;
    ctx.say(run_line("Go, 1 goroutine ", &g.one));
    ctx.say(run_line("Go, 2 goroutines", &g.two));
    check_eq!(g.each, EACH, "the Go program's increments per goroutine");
    check!(
        g.gomaxprocs >= 2,
        "GOMAXPROCS is {}: two goroutines cannot run at the same time",
        g.gomaxprocs
    );
    check_eq!(
        (g.one.threads, g.two.threads),
        (1, 2),
        "goroutines in the two runs"
    );
    let mut broken = cas::cas_broken(&g.one, Flavor::Strong);
    broken.extend(cas::cas_broken(&g.two, Flavor::Strong));
    check!(broken.is_empty(), "Go: {}", broken.join("; "));
    check_eq!(g.add_final, g.add_expected, "Go's atomic Add count");
    let rust = cas::cas_rounds(2, EACH, MIN_ROUNDS, MAX_ROUNDS, Flavor::Strong);
    ctx.say(run_line("Rust, 2 threads ", &rust));
    let broken = cas::cas_broken(&rust, Flavor::Strong);
    check!(broken.is_empty(), "Rust: {}", broken.join("; "));
    ctx.say("both: retries appear only with a second writer, and no increment is lost");
    Ok(())
}

pub const GO_INSTRUCTIONS: Demo = Demo {
    name: "go-29/go-compiles-cas-to-lock-cmpxchg",
    claim: "On amd64 the Go compiler turns atomic.Int64.CompareAndSwap into one inlined LOCK \
            CMPXCHGQ and Add into one LOCK XADDQ, with no call (go tool objdump of go/cmd/go29-cas)",
    needs: Need::Go,
    run: go_instructions,
};

fn go_instructions(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    if !go.version.contains("amd64") {
        return Err(DemoError::Unavailable(format!(
            "skipped: this check reads amd64 instructions, and the toolchain is {}",
            go.version
        )));
    }
    let bin = std::env::temp_dir().join(format!("gmr-lab-go29-cas-{}", std::process::id()));
    let bin_s = bin.to_string_lossy().into_owned();
    go.go(&["build", "-o", &bin_s, &format!("./{GO_PROGRAM}")])?;
    let listing = |func: &str| go.go(&["tool", "objdump", "-s", func, &bin_s]);
    let (cas_listing, add_listing) = (
        listing("^main.casIncrement$"),
        listing("^main.addIncrement$"),
    );
    let _ = std::fs::remove_file(&bin);
    let (cas_listing, add_listing) = (cas_listing?.stdout, add_listing?.stdout);
    for (func, listing, want) in [
        ("main.casIncrement", &cas_listing, cas::AMD64_CAS),
        ("main.addIncrement", &add_listing, cas::AMD64_ADD),
    ] {
        let ins = cas::objdump_instructions(listing);
        ctx.say(format!("{func}:"));
        for i in &ins {
            ctx.say(format!("    {i}"));
        }
        check!(
            cas::has_instruction(&ins, want),
            "{func} has no {want} in its disassembly"
        );
        check!(
            !cas::has_instruction(&ins, "CALL"),
            "{func} calls a function: the atomic was not inlined"
        );
    }
    ctx.say(
        "no CALL: both atomics are compiler intrinsics, inlined as one locked instruction each",
    );
    Ok(())
}

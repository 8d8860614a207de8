//! The demos of go-16, asserting the claims of `docs/go/go-16.md` with [`crate::roles`] and, for
//! the Go side, `go/cmd/go16-roles`.

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::roles::{self, FutureReport, MutexReport, SignalReport};

pub const GO_PROGRAM: &str = "cmd/go16-roles";
pub const THREADS: usize = 4;
pub const EACH: u64 = 2000;
pub const WAITERS: usize = 8;
/// Goroutines the Go program parks to measure their cost.
pub const GOROUTINES: usize = 10_000;
/// OS threads parked for the same measurement on the Rust side (fewer: they cost more).
pub const OS_THREADS: usize = 1000;

pub const MUTEX: Demo = Demo {
    name: "go-16/channel-of-one-is-a-mutex",
    claim: "a channel of capacity 1 used as send = lock, receive = unlock lets one thread in at a \
            time: 4 threads × 2000 racy load+store increments lose nothing",
    needs: Need::Nothing,
    run: mutex,
};

fn mutex(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let r = roles::channel_as_mutex(THREADS, EACH, 1);
    ctx.say(format!(
        "capacity 1: {} of {} increments kept, at most {} inside at once",
        r.count, r.expected, r.max_inside
    ));
    check!(roles::excludes(&r), "the channel did not exclude: {r:?}");
    let sem = roles::channel_as_mutex(THREADS, EACH, THREADS);
    ctx.say(format!(
        "for contrast, capacity {THREADS} (a semaphore): {} of {} kept, at most {} inside at once",
        sem.count, sem.expected, sem.max_inside
    ));
    Ok(())
}

pub const SIGNAL: Demo = Demo {
    name: "go-16/close-wakes-every-waiter-a-send-wakes-one",
    claim: "with 8 threads blocked receiving on one channel, one send wakes exactly one of them \
            and closing the channel wakes the other 7 (they see 'closed', not a value)",
    needs: Need::Nothing,
    run: signal,
};

fn signal(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let r = roles::send_then_close(WAITERS).map_err(DemoError::Broken)?;
    ctx.say(format!(
        "{} waiters: {} got the sent value, {} woke because the channel closed",
        r.waiters, r.got_value, r.saw_closed
    ));
    check!(roles::one_send_one_waker(&r), "unexpected wake-ups: {r:?}");
    Ok(())
}

pub const FUTURE: Demo = Demo {
    name: "go-16/buffered-channel-of-one-is-a-future",
    claim: "a producer sends its one result into a channel of capacity 1 and finishes before \
            anyone receives; the consumer gets the value later, and a second receive finds the \
            channel closed (a one-shot future)",
    needs: Need::Nothing,
    run: future,
};

fn future(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let r = roles::future(|| 6 * 7);
    ctx.say(format!("{r:?}"));
    check_eq!(
        r,
        FutureReport {
            producer_done_before_receive: true,
            value: 42,
            second_receive_closed: true
        },
        "the future's life"
    );
    Ok(())
}

/// What `go/cmd/go16-roles` prints.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoReport {
    pub go_version: String,
    pub gomaxprocs: u32,
    pub mutex: MutexReport,
    pub signal: SignalReport,
    pub future: FutureReport,
    pub cheap: GoCheap,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct GoCheap {
    pub n: usize,
    pub num_goroutine_before: usize,
    pub num_goroutine_parked: usize,
    pub num_goroutine_after: usize,
    pub stack_inuse_delta: u64,
    pub stack_bytes_per_goroutine: f64,
    pub sys_bytes_per_goroutine: f64,
    pub spawn_ns_per_goroutine: f64,
}

fn run_go(ctx: &Ctx<'_>) -> Result<GoReport, DemoError> {
    let go = ctx.go()?;
    let args = [
        format!("-n={GOROUTINES}"),
        format!("-goroutines={THREADS}"),
        format!("-each={EACH}"),
        format!("-waiters={WAITERS}"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r: GoReport = go.run_json(GO_PROGRAM, &args)?;
    ctx.say(format!("{} (GOMAXPROCS {})", r.go_version, r.gomaxprocs));
    Ok(r)
}

pub const GO_ROLES: Demo = Demo {
    name: "go-16/go-channels-play-the-same-roles",
    claim: "Go's real channels give the same observations as the Rust ones: a capacity-1 channel \
            excludes, one send wakes one waiter and close wakes the rest, a buffered channel of \
            one is a one-shot future",
    needs: Need::Go,
    run: go_roles,
};

fn go_roles(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let g = run_go(ctx)?;
    ctx.say(format!("Go mutex:  {:?}", g.mutex));
    ctx.say(format!("Go signal: {:?}", g.signal));
    ctx.say(format!("Go future: {:?}", g.future));
    check!(
        roles::excludes(&g.mutex),
        "Go's channel did not exclude: {:?}",
        g.mutex
    );
    check!(
        roles::one_send_one_waker(&g.signal),
        "Go's wake-ups: {:?}",
        g.signal
    );
    let rust = (
        roles::channel_as_mutex(THREADS, EACH, 1),
        roles::send_then_close(WAITERS).map_err(DemoError::Broken)?,
        roles::future(|| 6 * 7),
    );
    check_eq!(
        (g.mutex, g.signal, g.future),
        rust,
        "Go's observations vs Rust's"
    );
    Ok(())
}

pub const GO_CHEAP: Demo = Demo {
    name: "go-16/goroutines-start-with-a-few-kib-of-stack",
    claim: "10,000 goroutines parked on a channel raise runtime.NumGoroutine by exactly 10,000 and \
            StackInuse by 2–16 KiB each (2 KiB on go1.26), and spawning one is cheaper than \
            spawning an OS thread, whose stack reserves 2 MiB",
    needs: Need::Go,
    run: go_cheap,
};

fn go_cheap(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let g = run_go(ctx)?;
    let c = g.cheap;
    ctx.say(format!(
        "Go: {} goroutines parked; NumGoroutine {} → {} → {}; StackInuse +{} bytes = {:.0} bytes \
         each; Sys +{:.0} bytes each; {:.0} ns to start each",
        c.n,
        c.num_goroutine_before,
        c.num_goroutine_parked,
        c.num_goroutine_after,
        c.stack_inuse_delta,
        c.stack_bytes_per_goroutine,
        c.sys_bytes_per_goroutine,
        c.spawn_ns_per_goroutine
    ));
    let t = roles::spawn_threads(OS_THREADS);
    ctx.say(format!(
        "Rust: {} OS threads parked; {:.0} ns to start each; resident memory +{} each \
         (2 MiB of stack reserved each, std's default)",
        t.n,
        t.spawn_ns_per,
        t.rss_bytes_per
            .map_or("unknown".to_string(), |b| format!("{b:.0} bytes"))
    ));
    check_eq!(
        c.num_goroutine_parked - c.num_goroutine_before,
        c.n,
        "goroutines counted by runtime.NumGoroutine"
    );
    check_eq!(
        c.num_goroutine_after,
        c.num_goroutine_before,
        "goroutines left after the release"
    );
    check!(
        roles::stack_is_a_few_kib(c.stack_bytes_per_goroutine),
        "stack per goroutine {:.0} bytes is not a few KiB",
        c.stack_bytes_per_goroutine
    );
    check!(
        c.spawn_ns_per_goroutine < t.spawn_ns_per,
        "starting a goroutine ({:.0} ns) was not cheaper than starting a thread ({:.0} ns)",
        c.spawn_ns_per_goroutine,
        t.spawn_ns_per
    );
    if let Some(rss) = t.rss_bytes_per {
        ctx.say(format!(
            "resident memory per thread / stack per goroutine = {:.1}×",
            rss / c.stack_bytes_per_goroutine
        ));
    }
    Ok(())
}

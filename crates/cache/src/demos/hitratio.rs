//! redis-03 · the hit-ratio table: a cache-aside client replaying seeded Zipf traces on the model
//! and on a throw-away real `redis-server`, under allkeys-lru and allkeys-lfu with 1, 3, 5 and 10
//! samples, at the same number of resident keys ([`crate::hitratio`]).

use catalog::{Ctx, Demo, DemoError, Need, check};

use crate::hitratio::{self, TraceSpec};
use crate::policy::MaxmemoryPolicy;
use crate::scratch::ScratchRedis;

/// Keys in the trace's key space, requests per replay, resident keys.
pub const KEYS: usize = 10_000;
pub const REQUESTS: usize = 40_000;
pub const RESIDENT: usize = 1_000;
/// Model replays per cell (different sampling seeds), averaged.
pub const MODEL_SEEDS: u64 = 3;
/// The tolerance, in percentage points.
pub const POINTS: f64 = 1.0;

pub const HIT_RATIO_REAL: Demo = Demo {
    name: "redis-03/hit-ratio-matches-real-redis",
    claim: "A cache-aside client replaying seeded Zipf traces (10,000 keys, 40,000 requests, s = 0.9 \
            and 1.2) gets the same hit ratio from the model as from a real redis-server 7.0 holding \
            the same number of keys (about 1,000), under allkeys-lru and allkeys-lfu with 1, 3, 5 \
            and 10 samples: every one of the 16 cells within 1 percentage point (model: mean of 3 \
            sampling seeds)",
    needs: Need::Redis,
    run: hit_ratio_real,
};

fn hit_ratio_real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ScratchRedis::start("redis-03")?;
    ctx.say(format!(
        "scratch redis-server on 127.0.0.1:{}; {KEYS} keys, {REQUESTS} requests per replay, \
         maxmemory for ~{RESIDENT} keys (bytes per key measured first)",
        r.port()
    ));
    // A first replay, not counted (see `hitratio::warm_up`).
    hitratio::warm_up(&mut r, KEYS, RESIDENT)?;
    ctx.say("   s  policy        samples  real     model    diff (points)  resident");
    let mut misses = Vec::new();
    for (i, s) in [0.9, 1.2].into_iter().enumerate() {
        let trace = TraceSpec {
            keys: KEYS,
            s,
            requests: REQUESTS,
            seed: 42 + i as u64,
        }
        .trace();
        for (name, policy) in [
            ("allkeys-lru", MaxmemoryPolicy::AllkeysLru),
            ("allkeys-lfu", MaxmemoryPolicy::AllkeysLfu),
        ] {
            for samples in [10usize, 5, 3, 1] {
                let real = hitratio::real_run(&mut r, name, samples, RESIDENT, &trace)?;
                let model = hitratio::model_ratio_like(&real, policy, samples, &trace, MODEL_SEEDS);
                let diff = (model - real.ratio()) * 100.0;
                ctx.say(format!(
                    "{s:>4}  {name:<12}  {samples:>7}  {:>6.2}%  {:>6.2}%  {diff:>+13.2}  {:>8}",
                    real.ratio() * 100.0,
                    model * 100.0,
                    real.resident
                ));
                if !hitratio::within_points(model, real.ratio(), POINTS) {
                    misses.push(format!("s={s} {name} samples={samples}: {diff:+.2} points"));
                }
            }
        }
    }
    check!(
        misses.is_empty(),
        "model and real hit ratios more than {POINTS} point apart: {}",
        misses.join("; ")
    );
    ctx.say(format!("all 16 cells within {POINTS} percentage point"));
    Ok(())
}

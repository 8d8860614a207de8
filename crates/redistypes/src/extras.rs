//! The "extra" types are built on the core ones: bitmaps and HyperLogLogs are strings, geo indexes
//! are sorted sets.
//!
//! ```text
//!   bitmap   dau:06-01  bit i = user i was active        0000 0101 0000 … 1   (STRLEN = max id / 8 + 1)
//!   HLL      uv         16384 six-bit registers           ≤ 12,304 bytes for any number of items,
//!                                                         standard error 1.04 / √16384 = 0.81 %
//!   geo      cities     zset, score = 52-bit geohash       GEODIST, GEOSEARCH … BYRADIUS
//! ```

use catalog::{Ctx, DemoError, check, check_eq};
use servers::redis;

use crate::encoding::HLL_DENSE_BYTES;
use crate::session::Session;

/// The Earth radius Redis's geo code uses, in metres (`EARTH_RADIUS_IN_METERS` in `geohash_helper.c`).
pub const EARTH_RADIUS_M: f64 = 6_372_797.560856;

/// HyperLogLog registers in Redis (2^14).
pub const HLL_REGISTERS: f64 = 16384.0;

/// The standard error of a HyperLogLog with `registers` registers: 1.04 / √m.
pub fn hll_standard_error(registers: f64) -> f64 {
    1.04 / registers.sqrt()
}

/// True when `estimate` is within `tolerance` (a fraction, 0.02 = 2 %) of `truth`.
pub fn within_relative(estimate: f64, truth: f64, tolerance: f64) -> bool {
    if truth == 0.0 {
        return estimate == 0.0;
    }
    ((estimate - truth) / truth).abs() <= tolerance
}

/// The bytes `SETBIT` grows a bitmap to when its highest set bit is `max_offset`.
pub fn bitmap_bytes(max_offset: u64) -> u64 {
    max_offset / 8 + 1
}

/// Great-circle (haversine) distance in metres between two (longitude, latitude) points in
/// degrees, on a sphere of [`EARTH_RADIUS_M`].
pub fn great_circle_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let u = ((lat2 - lat1) / 2.0).sin();
    let v = ((lon2 - lon1) / 2.0).sin();
    2.0 * EARTH_RADIUS_M * (u * u + lat1.cos() * lat2.cos() * v * v).sqrt().asin()
}

/// The members within `radius_m` of `from`, nearest first, as `GEOSEARCH ... BYRADIUS ... ASC`
/// answers.
pub fn within_radius(places: &[(&str, f64, f64)], from: (f64, f64), radius_m: f64) -> Vec<String> {
    let mut near: Vec<(f64, &str)> = places
        .iter()
        .map(|(name, lon, lat)| (great_circle_m(from, (*lon, *lat)), *name))
        .filter(|(d, _)| *d <= radius_m)
        .collect();
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    near.into_iter().map(|(_, n)| n.to_string()).collect()
}

/// (name, longitude, latitude) of the cities in the geo part.
const CITIES: [(&str, f64, f64); 3] = [
    ("beijing", 116.4074, 39.9042),
    ("shanghai", 121.4737, 31.2304),
    ("tianjin", 117.2008, 39.0842),
];

/// Distinct visitors fed to the HyperLogLog.
const HLL_ITEMS: usize = 10_000;
const HLL_BATCH: usize = 1_000;
/// How far PFCOUNT may be from the truth here: well over twice the standard error.
const HLL_TOLERANCE: f64 = 0.02;
/// How far GEODIST may be from the haversine distance: geohash cells are under a metre, so 0.5 % is
/// generous.
const GEO_TOLERANCE: f64 = 0.005;

pub(crate) fn bitmap_hyperloglog_and_geo(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut s = Session::open(ctx)?;

    s.say("1) Bitmap: daily active users, one bit per user id.");
    let (day1, day2) = (s.key("dau:2024-06-01"), s.key("dau:2024-06-02"));
    let mut previous = Vec::new();
    for id in [5u64, 42, 42, 1000, 7] {
        previous.push(s.run::<i64>(redis::cmd("SETBIT").arg(&day1).arg(id).arg(1))?);
    }
    check_eq!(
        previous,
        [0, 0, 1, 0, 0],
        "SETBIT replies (the bit's old value)"
    );
    let active: i64 = s.run(redis::cmd("BITCOUNT").arg(&day1))?;
    check_eq!(active, 4, "BITCOUNT: distinct active users on day 1");
    let (was, wasnt): (i64, i64) = (
        s.run(redis::cmd("GETBIT").arg(&day1).arg(42))?,
        s.run(redis::cmd("GETBIT").arg(&day1).arg(43))?,
    );
    check_eq!((was, wasnt), (1, 0), "GETBIT 42 and 43");
    let bytes: u64 = s.run(redis::cmd("STRLEN").arg(&day1))?;
    check_eq!(
        bytes,
        bitmap_bytes(1000),
        "STRLEN: the bitmap covers bit 1000"
    );
    for id in [7u64, 42, 99] {
        s.run::<i64>(redis::cmd("SETBIT").arg(&day2).arg(id).arg(1))?;
    }
    let both = s.key("dau:both-days");
    s.run::<i64>(
        redis::cmd("BITOP")
            .arg("AND")
            .arg(&both)
            .arg(&day1)
            .arg(&day2),
    )?;
    let retained: i64 = s.run(redis::cmd("BITCOUNT").arg(&both))?;
    check_eq!(retained, 2, "users active on both days (7 and 42)");
    let ty = s.type_of(&day1)?;
    check_eq!(ty.as_str(), "string", "TYPE of a bitmap");

    s.say(format!(
        "2) HyperLogLog: {HLL_ITEMS} distinct visitors, counted in at most {HLL_DENSE_BYTES} bytes."
    ));
    let uv = s.key("uv:hll");
    let visitors: Vec<String> = (1..=HLL_ITEMS).map(|i| format!("user:{i}")).collect();
    let mut changed = 0;
    for batch in visitors.chunks(HLL_BATCH) {
        changed += s.quiet::<i64>(redis::cmd("PFADD").arg(&uv).arg(batch))?;
    }
    s.say(format!(
        "> PFADD {uv} user:1 … user:{HLL_ITEMS} ({} batches of {HLL_BATCH})  → {changed} batches changed registers",
        HLL_ITEMS / HLL_BATCH
    ));
    let estimate: u64 = s.run(redis::cmd("PFCOUNT").arg(&uv))?;
    let error = (estimate as f64 - HLL_ITEMS as f64) / HLL_ITEMS as f64;
    s.say(format!(
        "   estimate {estimate} for {HLL_ITEMS}: off by {:+.2} % (standard error {:.2} %)",
        error * 100.0,
        hll_standard_error(HLL_REGISTERS) * 100.0
    ));
    check!(
        within_relative(estimate as f64, HLL_ITEMS as f64, HLL_TOLERANCE),
        "PFCOUNT {estimate} is more than {} % away from {HLL_ITEMS}",
        HLL_TOLERANCE * 100.0
    );
    let again: i64 = s.run(redis::cmd("PFADD").arg(&uv).arg(&visitors[..HLL_BATCH]))?;
    check_eq!(
        again,
        0,
        "PFADD of visitors already counted (0 = no register changed)"
    );
    let estimate_again: u64 = s.run(redis::cmd("PFCOUNT").arg(&uv))?;
    check_eq!(
        estimate_again,
        estimate,
        "PFCOUNT after re-adding old visitors"
    );
    let size: usize = s.run(redis::cmd("STRLEN").arg(&uv))?;
    check!(
        size <= HLL_DENSE_BYTES,
        "the HyperLogLog takes {size} bytes, more than a dense one ({HLL_DENSE_BYTES})"
    );
    let ty = s.type_of(&uv)?;
    check_eq!(ty.as_str(), "string", "TYPE of a HyperLogLog");

    s.say("3) Geo: positions in a sorted set; distances and radius searches.");
    let cities = s.key("cities");
    let mut geoadd = redis::cmd("GEOADD");
    geoadd.arg(&cities);
    for (name, lon, lat) in CITIES {
        geoadd.arg(lon).arg(lat).arg(name);
    }
    let added: i64 = s.run(&geoadd)?;
    check_eq!(added, 3, "GEOADD of three cities");
    let km: f64 = s.run(
        redis::cmd("GEODIST")
            .arg(&cities)
            .arg("beijing")
            .arg("shanghai")
            .arg("km"),
    )?;
    let truth_km = great_circle_m((CITIES[0].1, CITIES[0].2), (CITIES[1].1, CITIES[1].2)) / 1000.0;
    s.say(format!(
        "   haversine from the same coordinates: {truth_km:.1} km"
    ));
    check!(
        within_relative(km, truth_km, GEO_TOLERANCE),
        "GEODIST says {km} km, the great-circle distance is {truth_km:.1} km"
    );
    let beijing = (CITIES[0].1, CITIES[0].2);
    for radius_km in [200, 1200] {
        let found: Vec<String> = s.run(
            redis::cmd("GEOSEARCH")
                .arg(&cities)
                .arg("FROMMEMBER")
                .arg("beijing")
                .arg("BYRADIUS")
                .arg(radius_km)
                .arg("km")
                .arg("ASC"),
        )?;
        check_eq!(
            found,
            within_radius(&CITIES, beijing, radius_km as f64 * 1000.0),
            "cities within {radius_km} km of Beijing, nearest first"
        );
    }
    let ty = s.type_of(&cities)?;
    check_eq!(ty.as_str(), "zset", "TYPE of a geo index");
    let by_hash: Vec<String> = s.run(redis::cmd("ZRANGE").arg(&cities).arg(0).arg(-1))?;
    check_eq!(by_hash.len(), CITIES.len(), "ZRANGE works on a geo key");
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hll_error_is_0_81_percent() {
        let e = hll_standard_error(HLL_REGISTERS);
        assert!((e - 0.008125).abs() < 1e-9, "{e}");
    }

    #[test]
    fn tolerance_is_relative_and_two_sided() {
        assert!(within_relative(10_089.0, 10_000.0, 0.02));
        assert!(within_relative(9_800.0, 10_000.0, 0.02));
        // Counterexamples: just outside on either side.
        assert!(!within_relative(10_201.0, 10_000.0, 0.02));
        assert!(!within_relative(9_799.0, 10_000.0, 0.02));
        assert!(within_relative(0.0, 0.0, 0.02));
        assert!(!within_relative(1.0, 0.0, 0.02));
    }

    #[test]
    fn a_bitmap_covers_its_highest_bit() {
        assert_eq!(bitmap_bytes(0), 1);
        assert_eq!(bitmap_bytes(7), 1);
        assert_eq!(bitmap_bytes(8), 2);
        assert_eq!(bitmap_bytes(1000), 126);
    }

    #[test]
    fn beijing_to_shanghai_is_about_1068_km() {
        let d = great_circle_m((116.4074, 39.9042), (121.4737, 31.2304)) / 1000.0;
        assert!((d - 1067.6).abs() < 1.0, "{d}");
        // Counterexample: swapping longitude and latitude gives a very different distance.
        let swapped = great_circle_m((39.9042, 116.4074), (31.2304, 121.4737)) / 1000.0;
        assert!(!within_relative(swapped, d, GEO_TOLERANCE), "{swapped}");
    }

    #[test]
    fn radius_search_is_nearest_first() {
        let beijing = (116.4074, 39.9042);
        assert_eq!(
            within_radius(&CITIES, beijing, 200_000.0),
            ["beijing", "tianjin"]
        );
        assert_eq!(
            within_radius(&CITIES, beijing, 1_200_000.0),
            ["beijing", "tianjin", "shanghai"]
        );
        assert!(within_radius(&CITIES, (0.0, 0.0), 1_000.0).is_empty());
    }
}

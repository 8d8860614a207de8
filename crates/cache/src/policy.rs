//! The eight `maxmemory-policy` values of Redis 7.0, with Redis's names, parsing and error text.
//!
//! | policy | candidates | ranked by |
//! |---|---|---|
//! | `volatile-lru` | keys with a TTL | estimated idle time (24-bit clock) |
//! | `allkeys-lru` | all keys | estimated idle time |
//! | `volatile-lfu` | keys with a TTL | 255 − decayed LFU counter |
//! | `allkeys-lfu` | all keys | 255 − decayed LFU counter |
//! | `volatile-random` | keys with a TTL | one random key |
//! | `allkeys-random` | all keys | one random key |
//! | `volatile-ttl` | keys with a TTL | soonest expire time |
//! | `noeviction` (default) | none: writes that need memory fail with OOM | — |
//!
//! The `volatile-*` policies behave like `noeviction` when no key has a TTL. The `*-lrm` policies
//! of the Redis 8.6 documentation do not exist in 7.0 and are refused, as 7.0 refuses them.

use std::fmt;
use std::str::FromStr;

/// See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MaxmemoryPolicy {
    VolatileLru,
    AllkeysLru,
    VolatileLfu,
    AllkeysLfu,
    VolatileRandom,
    AllkeysRandom,
    VolatileTtl,
    #[default]
    NoEviction,
}

/// What a policy ranks candidates by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranking {
    Lru,
    Lfu,
    Ttl,
    Random,
    None,
}

/// The order Redis 7.0 lists the names in its CONFIG SET error (`maxmemory_policy_enum`).
pub const ALL: [MaxmemoryPolicy; 8] = [
    MaxmemoryPolicy::VolatileLru,
    MaxmemoryPolicy::VolatileLfu,
    MaxmemoryPolicy::VolatileRandom,
    MaxmemoryPolicy::VolatileTtl,
    MaxmemoryPolicy::AllkeysLru,
    MaxmemoryPolicy::AllkeysLfu,
    MaxmemoryPolicy::AllkeysRandom,
    MaxmemoryPolicy::NoEviction,
];

impl MaxmemoryPolicy {
    pub fn name(self) -> &'static str {
        use MaxmemoryPolicy::*;
        match self {
            VolatileLru => "volatile-lru",
            AllkeysLru => "allkeys-lru",
            VolatileLfu => "volatile-lfu",
            AllkeysLfu => "allkeys-lfu",
            VolatileRandom => "volatile-random",
            AllkeysRandom => "allkeys-random",
            VolatileTtl => "volatile-ttl",
            NoEviction => "noeviction",
        }
    }

    /// `MAXMEMORY_FLAG_ALLKEYS`: candidates come from the whole keyspace, not only keys with a TTL.
    pub fn all_keys(self) -> bool {
        use MaxmemoryPolicy::*;
        matches!(self, AllkeysLru | AllkeysLfu | AllkeysRandom)
    }

    pub fn ranking(self) -> Ranking {
        use MaxmemoryPolicy::*;
        match self {
            VolatileLru | AllkeysLru => Ranking::Lru,
            VolatileLfu | AllkeysLfu => Ranking::Lfu,
            VolatileRandom | AllkeysRandom => Ranking::Random,
            VolatileTtl => Ranking::Ttl,
            NoEviction => Ranking::None,
        }
    }

    /// `MAXMEMORY_FLAG_LFU`: the 24-bit field holds an LFU counter, not an access time.
    pub fn is_lfu(self) -> bool {
        self.ranking() == Ranking::Lfu
    }

    /// The error `CONFIG SET maxmemory-policy <bad>` returns in Redis 7.0.
    pub fn config_set_error() -> String {
        let names: Vec<&str> = ALL.iter().map(|p| p.name()).collect();
        format!(
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: {}",
            names.join(", ")
        )
    }
}

impl fmt::Display for MaxmemoryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown policy name; displays as Redis's CONFIG SET error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPolicy(pub String);

impl fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&MaxmemoryPolicy::config_set_error())
    }
}

impl std::error::Error for UnknownPolicy {}

impl FromStr for MaxmemoryPolicy {
    type Err = UnknownPolicy;
    /// Case-insensitive, as Redis's enum configs are.
    fn from_str(s: &str) -> Result<Self, UnknownPolicy> {
        ALL.iter()
            .copied()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownPolicy(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_get_redis_error() {
        for p in ALL {
            assert_eq!(p.name().parse::<MaxmemoryPolicy>(), Ok(p));
            assert_eq!(p.name().to_uppercase().parse::<MaxmemoryPolicy>(), Ok(p));
        }
        for bad in ["allkeys-lrm", "lru", "", "allkeys_lru"] {
            let e = bad.parse::<MaxmemoryPolicy>().unwrap_err();
            assert!(e.to_string().ends_with("allkeys-random, noeviction"), "{e}");
        }
        assert_eq!(MaxmemoryPolicy::default(), MaxmemoryPolicy::NoEviction);
        assert_eq!(ALL.len(), 8);
    }

    #[test]
    fn flags() {
        assert!(MaxmemoryPolicy::AllkeysLfu.all_keys() && MaxmemoryPolicy::AllkeysLfu.is_lfu());
        assert!(!MaxmemoryPolicy::VolatileTtl.all_keys());
        assert!(!MaxmemoryPolicy::NoEviction.all_keys());
        assert_eq!(MaxmemoryPolicy::VolatileRandom.ranking(), Ranking::Random);
    }
}

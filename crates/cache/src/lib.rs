//! Caches as Redis builds them, and the ways caches fail.
//!
//! - **redis-03** (Redis的LRU具体实现): an exact LRU ([`lru`]) as the yardstick; Redis's
//!   approximation — a 24-bit access clock per key ([`lruclock`]), `maxmemory-samples` keys drawn
//!   with `dictGetSomeKeys` ([`dict`]) into a 16-entry eviction pool ([`pool`]) — and LFU's 8-bit
//!   logarithmic counter with decay ([`lfu`]); the eight `maxmemory-policy` values ([`policy`]), all
//!   in one model keyspace ([`keyspace`]). Redis's own LRU experiment runs on the model and on a
//!   real `redis-server` ([`experiment`], [`scratch`]).
//! - **redis-05** (过期策略): lazy expiry on access ([`keyspace::Keyspace::get`]) and the active
//!   expire cycle of `expire.c` ([`expire`]) under an injected [`clock`].
//! - **redis-06/07/08** (雪崩, 穿透, 并发竞争): a slow database ([`slowdb`]), singleflight
//!   ([`singleflight`]), a Bloom filter ([`bloom`]) and the `SET NX PX` lock ([`lock`]), driven
//!   against the real Redis by the demos.
//!
//! ```text
//!            GET k ─► expireIfNeeded ─► touch (LRU clock / LFU counter)
//!   client ─┤
//!            SET k ─► over maxkeys? ─► sample N keys ─► pool (16, by idle) ─► evict best live key
//!                                        (dictGetSomeKeys)                      (skip ghosts)
//!   cron (hz) ─► activeExpireCycle: 20 keys/loop, again while > 10% expired, ≤ 25% of a tick
//! ```
//!
//! Every model reads time from an injected [`clock::Clock`] and randomness from a seeded
//! [`rng::Rng`], so each demo and test replays exactly.
//!
//! ## How the real system differs
//! The model counts keys where Redis counts bytes (`maxmemory`), keeps one database instead of
//! sixteen, rehashes its dict at once instead of incrementally, and has no replicas, AOF or
//! lazy-free thread. Each module's documentation ends with its own differences.

pub mod bench;
pub mod bloom;
pub mod clock;
pub mod demos;
pub mod dict;
pub mod experiment;
pub mod expire;
pub mod hash;
pub mod hitratio;
pub mod keyspace;
pub mod lfu;
pub mod lock;
pub mod lru;
pub mod lruclock;
pub mod policy;
pub mod pool;
pub mod rng;
pub mod scratch;
pub mod singleflight;
pub mod slowdb;
pub mod zipf;

pub use demos::topic;

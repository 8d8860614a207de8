//! Redis's LRU experiment (the one behind the pictures on Redis's eviction page, `utils/lru/` in
//! the Redis tree): fill the cache with N keys, access them in order so that key 0 is the least
//! recently used and key N−1 the most, then add new keys until N/2 have been evicted. True LRU
//! evicts exactly the older half; a sampled LRU evicts *mostly* old keys, and the more samples,
//! the closer it gets.
//!
//! ```text
//!   age order (oldest → newest)                       new keys
//!   ░░░░░░░░░░░░░░░░░░░░▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓▓   ████████████   exact LRU: older half gone
//!   ░░░░░░░░▓░░░░▓░░▓░░░▓▓░▓▓▓░▓▓▓▓▓▓▓▓▓▓▓▓▓   ████████████   5 samples: some old survive,
//!   ░ evicted  ▓ kept  █ new (kept)                            some younger ones go
//! ```
//!
//! "Access in order" is done by *setting* each key's last-access time: the model with
//! [`Keyspace::set_idle_secs`], the real server with `RESTORE … IDLETIME secs` — key i gets an idle
//! time of `N − i + 5` seconds. Redis's clock has one-second resolution, so really touching 3000
//! keys in order would give most of them the same age (Redis's own script asks you to recompile with
//! a 1 ms clock); `IDLETIME` writes the same 24-bit field a touch would, one second apart per key.
//!
//! [`Outcome`] holds who survived; [`Outcome::evicted_by_age`] bins eviction rates by age, which is
//! what [`agreement`] compares between the model and the real server. [`svg`] draws the panels.

use crate::clock::Clock;
use crate::keyspace::{Config, Keyspace};
use crate::lru::Lru;
use crate::policy::MaxmemoryPolicy;

/// Seconds of idle time added to every original key, so the newest original key is clearly older
/// than the keys added afterwards.
pub const IDLE_OFFSET_SECS: u64 = 5;

/// Who survived one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub label: String,
    /// Original keys in age order (index 0 = least recently used): still present?
    pub kept_old: Vec<bool>,
    /// Keys added afterwards, in insertion order: still present?
    pub kept_new: Vec<bool>,
}

impl Outcome {
    pub fn n(&self) -> usize {
        self.kept_old.len()
    }

    pub fn evicted_old(&self) -> usize {
        self.kept_old.iter().filter(|k| !**k).count()
    }

    pub fn evicted_new(&self) -> usize {
        self.kept_new.iter().filter(|k| !**k).count()
    }

    /// Share of the older half (the keys true LRU evicts) that was evicted.
    pub fn oldest_half_evicted(&self) -> f64 {
        let half = self.n() / 2;
        let ev = self.kept_old[..half].iter().filter(|k| !**k).count();
        ev as f64 / half.max(1) as f64
    }

    /// Eviction rate of the original keys in `bins` equal age groups (0 = oldest).
    pub fn evicted_by_age(&self, bins: usize) -> Vec<f64> {
        let n = self.n();
        (0..bins)
            .map(|b| {
                let (lo, hi) = (b * n / bins, (b + 1) * n / bins);
                let ev = self.kept_old[lo..hi].iter().filter(|k| !**k).count();
                ev as f64 / (hi - lo).max(1) as f64
            })
            .collect()
    }

    /// `test-lru.rb`'s error score, in percent: each older-half key that survived and each
    /// newer-half key that was evicted counts, weighted by how far from the middle it is.
    /// 0 for true LRU, about 50 for random eviction.
    pub fn lru_error_percent(&self) -> f64 {
        let n = self.n();
        let half = n as f64 / 2.0;
        let (mut err, mut max) = (0.0, 0.0);
        for (i, &kept) in self.kept_old.iter().enumerate() {
            let w = ((i as f64 + 0.5) - half).abs() / half;
            max += w;
            let older = (i as f64 + 0.5) < half;
            if (older && kept) || (!older && !kept) {
                err += w;
            }
        }
        if max == 0.0 { 0.0 } else { err * 100.0 / max }
    }
}

/// The experiment with the exact LRU of [`crate::lru`].
pub fn run_exact(n: usize) -> Outcome {
    let mut lru = Lru::new(n);
    for i in 0..n as u64 {
        lru.put(i, ());
    }
    let mut evicted = 0;
    let mut added = 0u64;
    while evicted < n / 2 {
        if lru.put(n as u64 + added, ()).is_some() {
            evicted += 1;
        }
        added += 1;
    }
    Outcome {
        label: "exact LRU (model)".into(),
        kept_old: (0..n as u64).map(|i| lru.contains(&i)).collect(),
        kept_new: (0..added).map(|j| lru.contains(&(n as u64 + j))).collect(),
    }
}

/// The experiment on the model keyspace under `allkeys-lru` with `samples` samples.
pub fn run_sampled(n: usize, samples: usize, seed: u64) -> Outcome {
    run_policy(n, MaxmemoryPolicy::AllkeysLru, samples, seed)
}

/// The experiment on the model keyspace under any `allkeys-*` policy.
pub fn run_policy(n: usize, policy: MaxmemoryPolicy, samples: usize, seed: u64) -> Outcome {
    let cfg = Config {
        policy,
        maxkeys: n,
        samples,
        ..Config::default()
    };
    let mut ks = Keyspace::new(cfg, Clock::at(1_700_000_000_000), seed);
    for i in 0..n as u64 {
        // Room for exactly n keys: no eviction while filling.
        let _ = ks.set(i);
        ks.set_idle_secs(&i, n as u64 - i + IDLE_OFFSET_SECS);
    }
    let mut added = 0u64;
    while ks.stats.evicted_keys < (n / 2) as u64 {
        let _ = ks.set(n as u64 + added);
        added += 1;
    }
    Outcome {
        label: match policy {
            MaxmemoryPolicy::AllkeysLru => format!("{samples} samples (model)"),
            other => format!("{other} (model)"),
        },
        kept_old: (0..n as u64).map(|i| ks.contains_raw(&i)).collect(),
        kept_new: (0..added)
            .map(|j| ks.contains_raw(&(n as u64 + j)))
            .collect(),
    }
}

/// Element-wise mean of several runs' age-binned eviction rates.
pub fn mean_by_age(runs: &[Outcome], bins: usize) -> Vec<f64> {
    let mut acc = vec![0.0; bins];
    for r in runs {
        for (a, v) in acc.iter_mut().zip(r.evicted_by_age(bins)) {
            *a += v;
        }
    }
    acc.iter().map(|a| a / runs.len().max(1) as f64).collect()
}

/// Do the model's (mean) and the real server's age-binned eviction rates agree within `tol`
/// (absolute) in every bin? Returns the largest difference, or which bin differs.
pub fn agreement(model: &[f64], real: &[f64], tol: f64) -> Result<f64, String> {
    if model.len() != real.len() {
        return Err(format!("{} bins vs {}", model.len(), real.len()));
    }
    let mut worst: f64 = 0.0;
    for (i, (m, r)) in model.iter().zip(real).enumerate() {
        let d = (m - r).abs();
        if d > tol {
            return Err(format!(
                "age group {} of {}: model evicts {:.1}%, real {:.1}% (more than {:.0} points apart)",
                i + 1,
                model.len(),
                m * 100.0,
                r * 100.0,
                tol * 100.0
            ));
        }
        worst = worst.max(d);
    }
    Ok(worst)
}

/// Draws the runs side by side like the figure on Redis's eviction page: one square per key, in
/// age order then the added keys; light grey = evicted, dark grey = kept, green = added and kept,
/// red = added and evicted.
pub fn svg(runs: &[Outcome], cols: usize) -> String {
    let cell = 4usize;
    let gap = 1usize;
    let pitch = cell + gap;
    let cols = cols.max(1);
    let panel_w = cols * pitch + 20;
    let rows_of = |o: &Outcome| (o.n() + o.kept_new.len()).div_ceil(cols);
    let max_rows = runs.iter().map(rows_of).max().unwrap_or(0);
    let panel_h = max_rows * pitch + 60;
    let width = panel_w * runs.len().max(1);
    let mut s = String::new();
    s.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n",
        panel_h + 30
    ));
    s.push_str("<style>.e{fill:#d9d9d9}.k{fill:#555}.n{fill:#2ca02c}.x{fill:#d62728}</style>\n");
    s.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    for (p, o) in runs.iter().enumerate() {
        let x0 = p * panel_w + 10;
        s.push_str(&format!(
            "<text x=\"{x0}\" y=\"16\" font-weight=\"bold\">{}</text>\n",
            xml_escape(&o.label)
        ));
        s.push_str(&format!(
            "<text x=\"{x0}\" y=\"32\">older half evicted {:.1}%, error {:.1}%</text>\n",
            o.oldest_half_evicted() * 100.0,
            o.lru_error_percent()
        ));
        let cells = o
            .kept_old
            .iter()
            .map(|&k| if k { "k" } else { "e" })
            .chain(o.kept_new.iter().map(|&k| if k { "n" } else { "x" }));
        for (i, class) in cells.enumerate() {
            let (r, c) = (i / cols, i % cols);
            s.push_str(&format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{cell}\" height=\"{cell}\" class=\"{class}\"/>\n",
                x0 + c * pitch,
                44 + r * pitch
            ));
        }
    }
    s.push_str(&format!(
        "<text x=\"10\" y=\"{}\">light grey: evicted · dark grey: kept · green: added later, kept · red: added later, evicted. Oldest first, row by row.</text>\n",
        panel_h + 20
    ));
    s.push_str("</svg>\n");
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `target/lab/` of this workspace (or of `CARGO_TARGET_DIR`), created if needed.
pub fn lab_output_dir() -> std::io::Result<std::path::PathBuf> {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => std::path::PathBuf::from(t),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
    };
    let dir = target.join("lab");
    std::fs::create_dir_all(&dir)?;
    Ok(dir.canonicalize().unwrap_or(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_lru_evicts_exactly_the_older_half() {
        let o = run_exact(1000);
        assert_eq!(o.evicted_old(), 500);
        assert_eq!(o.oldest_half_evicted(), 1.0);
        assert_eq!(o.lru_error_percent(), 0.0);
        assert_eq!(o.evicted_new(), 0);
        assert_eq!(o.kept_new.len(), 500);
    }

    #[test]
    fn more_samples_get_closer_to_true_lru() {
        let e1 = run_sampled(2000, 1, 1).lru_error_percent();
        let e5 = run_sampled(2000, 5, 1).lru_error_percent();
        let e10 = run_sampled(2000, 10, 1).lru_error_percent();
        assert!(e1 > e5 && e5 > e10 && e10 > 0.0, "{e1} {e5} {e10}");
        // One sample and no memory of earlier samples would be random eviction: ~50% error. The
        // pool keeps the best candidates across evictions, so even one sample does better.
        assert!(e1 < 50.0);
    }

    #[test]
    fn agreement_flags_a_bin_that_differs() {
        assert!(agreement(&[0.9, 0.5], &[0.85, 0.52], 0.1).is_ok());
        assert!(agreement(&[0.9, 0.5], &[0.6, 0.5], 0.1).is_err());
        assert!(agreement(&[0.9], &[0.9, 0.1], 0.1).is_err());
    }

    #[test]
    fn svg_has_one_square_per_key() {
        let o = run_exact(100);
        let s = svg(&[o], 20);
        assert_eq!(s.matches("<rect x=").count(), 150);
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
    }
}

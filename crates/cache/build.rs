//! Records the versions of the cache crates `lab bench cache` compares with (from the workspace's
//! Cargo.lock), so the report can print them next to the numbers.

fn main() {
    let lock = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let mut found = Vec::new();
    let mut name: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("[[package]]") {
            name = None;
        } else if let Some(v) = line.strip_prefix("name = ") {
            name = Some(v.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ")
            && let Some(n) = name.as_deref()
            && ["lru", "quick_cache", "moka"].contains(&n)
        {
            found.push(format!("{n} {}", v.trim_matches('"')));
        }
    }
    // Another crate in the workspace may lock an older version too; the newest is the one the
    // workspace dependency (the bench's) resolves to.
    found.sort_by_key(|s| {
        let (n, v) = s.split_once(' ').unwrap_or((s.as_str(), ""));
        let nums: Vec<u64> = v.split('.').map(|x| x.parse().unwrap_or(0)).collect();
        (n.to_string(), nums)
    });
    let mut newest: Vec<String> = Vec::new();
    for f in found {
        let name = f.split(' ').next().unwrap_or("").to_string();
        if newest
            .last()
            .is_some_and(|l| l.split(' ').next() == Some(name.as_str()))
        {
            newest.pop();
        }
        newest.push(f);
    }
    println!("cargo:rustc-env=CACHE_BENCH_CRATES={}", newest.join(", "));
}

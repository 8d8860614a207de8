//! Turns `docs/questions.tsv` and the answer pages under `docs/<section>/<id>.md` into Rust data, so
//! the binary is self-contained and a question's status is computed from the files that exist.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let docs = manifest
        .join("../../docs")
        .canonicalize()
        .expect("docs/ next to crates/");
    let tsv = docs.join("questions.tsv");
    println!("cargo:rerun-if-changed={}", tsv.display());
    println!("cargo:rerun-if-changed={}", docs.display());

    let text = std::fs::read_to_string(&tsv).expect("read docs/questions.tsv");
    let mut out = String::from("pub(crate) static QUESTIONS: &[Question] = &[\n");
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols.len() == 6,
            "docs/questions.tsv line {}: expected 6 tab-separated columns, found {}",
            n + 1,
            cols.len()
        );
        let section = match cols[1] {
            "go" => "Go",
            "mysql" => "Mysql",
            "redis" => "Redis",
            "net" => "Net",
            other => panic!(
                "docs/questions.tsv line {}: unknown section {other:?}",
                n + 1
            ),
        };
        writeln!(
            out,
            "    Question {{ id: {:?}, section: Section::{section}, title_zh: {:?}, title_en: {:?}, shown_by: {:?}, oracle: {:?} }},",
            cols[0], cols[2], cols[3], cols[4], cols[5]
        )
        .unwrap();
    }
    out.push_str("];\n\npub(crate) static PAGES: &[Page] = &[\n");

    let mut pages: Vec<PathBuf> = Vec::new();
    for section in std::fs::read_dir(&docs).expect("read docs/") {
        let section = section.unwrap().path();
        if !section.is_dir() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", section.display());
        for page in std::fs::read_dir(&section).unwrap() {
            let page = page.unwrap().path();
            if page.extension().is_some_and(|e| e == "md") {
                pages.push(page);
            }
        }
    }
    pages.sort();
    for page in pages {
        println!("cargo:rerun-if-changed={}", page.display());
        let id = page.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = relative(&page, &docs);
        writeln!(
            out,
            "    Page {{ id: {id:?}, path: {rel:?}, text: include_str!({:?}) }},",
            page.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    // The compiler that built the lab, for `lab doctor` and benchmark reports.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LAB_RUSTC_VERSION={version}");

    // The versions of the crates the benchmarks compare, from the workspace's Cargo.lock, so a
    // benchmark report says which crossbeam or tokio it measured.
    let lock = manifest.join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let versions = std::fs::read_to_string(&lock)
        .map(|text| locked_versions(&text, BENCHED_CRATES))
        .unwrap_or_default();
    println!("cargo:rustc-env=LAB_CRATE_VERSIONS={versions}");

    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("generated.rs");
    std::fs::write(dest, out).unwrap();
}

/// The crates whose versions a benchmark report records.
const BENCHED_CRATES: &[&str] = &[
    "crossbeam-channel",
    "flume",
    "tokio",
    "parking_lot",
    "redis",
    "mysql_async",
    "criterion",
    "crossbeam-skiplist",
    "skiplist",
    "rayon",
    "threadpool",
    "lru",
    "quick_cache",
    "moka",
];

/// `name=version` pairs, comma-separated, for the `wanted` packages found in a Cargo.lock. A package
/// locked at two versions is listed twice.
fn locked_versions(lock: &str, wanted: &[&str]) -> String {
    let mut found = Vec::new();
    let mut name: Option<&str> = None;
    for line in lock.lines() {
        if line.starts_with("[[package]]") {
            name = None;
        } else if let Some(v) = line.strip_prefix("name = ") {
            name = Some(v.trim_matches('"'));
        } else if let Some(v) = line.strip_prefix("version = ")
            && let Some(n) = name.filter(|n| wanted.contains(n))
        {
            found.push(format!("{n}={}", v.trim_matches('"')));
        }
    }
    found.sort();
    found.join(",")
}

fn relative(page: &Path, docs: &Path) -> String {
    format!("docs/{}", page.strip_prefix(docs).unwrap().display())
}

//! The catalog must be the seed's question list, and everything that names a demo must name one
//! that exists.

use std::collections::HashSet;
use std::path::PathBuf;

use catalog::testing::ci;
use catalog::{Registry, Section, Status};

fn registry() -> Registry {
    gmr_lab::registry()
}

/// `../shared/seed/` beside the checkout: present in CI and on the developers' machines, absent in a
/// user's clone (then the in-repo copy, `docs/questions.tsv`, is all there is to check).
fn seed_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seed");
    dir.is_dir().then_some(dir)
}

#[test]
fn the_catalog_is_the_seed_list() {
    let Some(seed) = seed_dir() else {
        assert!(
            !ci(),
            "CI=true but ../shared/seed is missing: cannot compare the catalog with the seed"
        );
        eprintln!("skipped: ../shared/seed not found; only the in-repo copy is checked");
        return;
    };
    let text =
        std::fs::read_to_string(seed.join("questions.tsv")).expect("read seed questions.tsv");
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
        .collect();
    let qs = catalog::questions();
    assert_eq!(
        qs.len(),
        rows.len(),
        "number of questions differs from the seed"
    );
    assert_eq!(qs.len(), 101);
    for (q, row) in qs.iter().zip(&rows) {
        assert_eq!(q.id, row[0], "ids differ or are out of order");
        assert_eq!(q.section.name(), row[1], "{}: section", q.id);
        assert_eq!(
            q.title_zh, row[2],
            "{}: the Chinese title must be verbatim",
            q.id
        );
        assert_eq!(q.title_en, row[3], "{}: English title", q.id);
        assert_eq!(q.oracle, row[5], "{}: oracle", q.id);
    }
}

#[test]
fn chinese_titles_appear_verbatim_in_the_seed_document() {
    let Some(seed) = seed_dir() else {
        assert!(!ci(), "CI=true but ../shared/seed is missing");
        return;
    };
    let mut doc = String::new();
    for entry in std::fs::read_dir(&seed).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "txt") {
            doc.push_str(&std::fs::read_to_string(p).unwrap());
        }
    }
    for q in catalog::questions() {
        assert!(
            doc.lines()
                .any(|l| l.trim_start_matches("- ").trim() == q.title_zh),
            "{}: {:?} is not a line of the seed document",
            q.id,
            q.title_zh
        );
    }
}

#[test]
fn ids_are_unique_numbered_and_match_their_section() {
    let mut seen = HashSet::new();
    for s in Section::ALL {
        let ids: Vec<&str> = catalog::questions()
            .iter()
            .filter(|q| q.section == s)
            .map(|q| q.id)
            .collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(*id, format!("{}-{:02}", s.name(), i + 1));
            assert!(seen.insert(*id), "{id} twice");
        }
    }
    assert_eq!(seen.len(), 101);
}

#[test]
fn every_page_belongs_to_a_question_and_names_only_real_demos() {
    let reg = registry();
    for page in catalog::pages() {
        let q = catalog::question(page.id)
            .unwrap_or_else(|| panic!("{}: no question has id {:?}", page.path, page.id));
        assert_eq!(
            page.path,
            format!("docs/{}/{}.md", q.section, q.id),
            "a page lives in its section's folder"
        );
        let title = page
            .title()
            .unwrap_or_else(|| panic!("{}: no `# ` heading", page.path));
        assert_eq!(
            title,
            format!("{} · {}", q.id, q.title_zh),
            "{}: the first heading is `# <id> · <verbatim Chinese title>`",
            page.path
        );
        let last_section = page.text.lines().rfind(|l| l.starts_with("## "));
        assert_eq!(
            last_section,
            Some("## Check yourself"),
            "{}: a page ends with its self-check",
            page.path
        );
        for name in page.demo_refs() {
            assert!(
                reg.demo(name).is_some(),
                "{} names demo `{name}`, which does not exist",
                page.path
            );
        }
        for d in reg.demos_for(q.id) {
            assert!(
                page.demo_refs().contains(&d.name),
                "{} does not mention its demo `{}`",
                page.path,
                d.name
            );
        }
    }
}

#[test]
fn every_demo_and_bench_belongs_to_a_question() {
    let reg = registry();
    let mut names = HashSet::new();
    for d in reg.demos() {
        assert!(names.insert(d.name), "demo {} registered twice", d.name);
        assert!(
            catalog::question(d.question()).is_some(),
            "demo {} belongs to no question",
            d.name
        );
        let (_, slug) = d.name.split_once('/').expect("name is <id>/<slug>");
        assert!(
            !slug.is_empty()
                && slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "demo {}: slug must be lowercase-with-dashes",
            d.name
        );
        assert!(
            !d.claim.trim().is_empty(),
            "demo {} states no claim",
            d.name
        );
    }
    let mut suites = HashSet::new();
    for b in reg.benches() {
        assert!(
            suites.insert(b.name),
            "bench suite {} registered twice",
            b.name
        );
        assert!(
            !b.questions.is_empty(),
            "bench suite {} backs no question",
            b.name
        );
        for q in b.questions {
            assert!(
                catalog::question(q).is_some(),
                "bench {} names unknown question {q}",
                b.name
            );
        }
    }
}

#[test]
fn the_first_four_topics_are_verified_against_the_real_systems() {
    let reg = registry();
    for id in ["go-03", "go-06", "redis-01", "mysql-02"] {
        let q = catalog::question(id).unwrap();
        assert_eq!(reg.status(q), Status::Verified, "{id}");
    }
}

#[test]
fn status_is_derived_from_what_exists() {
    let reg = registry();
    for q in catalog::questions() {
        let status = reg.status(q);
        let has_page = catalog::page(q.id).is_some();
        let demos = reg.demos_for(q.id);
        match status {
            Status::NoPage => assert!(!has_page),
            Status::Answered => assert!(has_page && demos.is_empty()),
            Status::Demo | Status::Verified => assert!(has_page && !demos.is_empty()),
        }
    }
}

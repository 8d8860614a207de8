use serde::Serialize;

/// The four parts of the question list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    Go,
    Mysql,
    Redis,
    Net,
}

impl Section {
    pub const ALL: [Section; 4] = [Section::Go, Section::Mysql, Section::Redis, Section::Net];

    pub fn name(self) -> &'static str {
        match self {
            Section::Go => "go",
            Section::Mysql => "mysql",
            Section::Redis => "redis",
            Section::Net => "net",
        }
    }

    pub fn parse(s: &str) -> Option<Section> {
        Section::ALL
            .into_iter()
            .find(|sec| sec.name().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One interview question, as the seed lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Question {
    /// `go-01` … `net-18`.
    pub id: &'static str,
    pub section: Section,
    /// The seed's title, verbatim (including its punctuation quirks).
    pub title_zh: &'static str,
    pub title_en: &'static str,
    /// How the lab can show the answer, from the seed's planning column.
    pub shown_by: &'static str,
    /// The real system that is the judge of the answer ("Go", "Redis", "MySQL/MariaDB", ...).
    pub oracle: &'static str,
}

/// An answer page, embedded at build time from `docs/<section>/<id>.md`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub id: &'static str,
    /// Path relative to the repository root, for messages and links.
    pub path: &'static str,
    pub text: &'static str,
}

impl Page {
    /// Demo names the page refers to: every `` `go-03/some-demo` `` in backticks.
    pub fn demo_refs(&self) -> Vec<&'static str> {
        self.text
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|s| looks_like_demo_name(s))
            .collect()
    }

    /// The first `# ` heading.
    pub fn title(&self) -> Option<&'static str> {
        self.text
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .map(str::trim)
    }
}

/// `section-NN/slug` with a lowercase, dash-separated slug.
pub(crate) fn looks_like_demo_name(s: &str) -> bool {
    let Some((id, slug)) = s.split_once('/') else {
        return false;
    };
    let id_ok = id.split_once('-').is_some_and(|(sec, n)| {
        Section::parse(sec).is_some() && n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit())
    });
    id_ok
        && !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// How far the lab has got with a question, computed from what exists, never typed by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No answer page yet.
    NoPage,
    /// An answer page, but nothing that runs.
    Answered,
    /// A page and at least one demo asserting its claims.
    Demo,
    /// A page and a demo that checks the claims against the real system (Go, Redis, MySQL).
    Verified,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::NoPage => "no page yet",
            Status::Answered => "answered",
            Status::Demo => "demo",
            Status::Verified => "verified",
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/generated.rs"));

/// All questions, in the seed's order.
pub fn questions() -> &'static [Question] {
    QUESTIONS
}

/// The question with exactly this id.
pub fn question(id: &str) -> Option<&'static Question> {
    QUESTIONS.iter().find(|q| q.id == id)
}

/// The answer page of a question, if it has one.
pub fn page(id: &str) -> Option<&'static Page> {
    PAGES.iter().find(|p| p.id == id)
}

/// Every embedded page, including any whose id is not a question (the tests catch those).
pub fn pages() -> &'static [Page] {
    PAGES
}

/// Accepts the spellings people type (`go-3`, `GO03`, `redis1`) for an existing id.
pub fn resolve_id(input: &str) -> Option<&'static Question> {
    let s = input.trim().to_ascii_lowercase();
    if let Some(q) = question(&s) {
        return Some(q);
    }
    let split = s.find(|c: char| c.is_ascii_digit())?;
    let (sec, num) = s.split_at(split);
    let sec = Section::parse(sec.trim_end_matches(['-', '_', ' ']))?;
    let n: u32 = num.parse().ok()?;
    question(&format!("{}-{n:02}", sec.name()))
}

/// The ids nearest to a mistyped one, best first.
pub fn closest_ids(input: &str, n: usize) -> Vec<&'static str> {
    let s = input.trim().to_ascii_lowercase();
    let mut scored: Vec<(usize, &'static str)> = QUESTIONS
        .iter()
        .map(|q| (strsim::levenshtein(&s, q.id), q.id))
        .collect();
    scored.sort();
    scored.into_iter().take(n).map(|(_, id)| id).collect()
}

/// Questions matching every word of a query, in either language, best first.
///
/// A word matches the id, either title, the planning column or the answer page; a match in a title
/// weighs most. Chinese has no spaces, so each word is matched as a substring.
pub fn search(query: &str) -> Vec<&'static Question> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| w.to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<(u32, usize, &'static Question)> = Vec::new();
    for (i, q) in QUESTIONS.iter().enumerate() {
        let titles = format!("{} {} {}", q.id, q.title_zh, q.title_en).to_lowercase();
        let shown = q.shown_by.to_lowercase();
        let body = page(q.id)
            .map(|p| p.text.to_lowercase())
            .unwrap_or_default();
        let mut score = 0;
        let mut all = true;
        for w in &words {
            if titles.contains(w.as_str()) {
                score += 10;
            } else if shown.contains(w.as_str()) {
                score += 3;
            } else if body.contains(w.as_str()) {
                score += 1;
            } else {
                all = false;
                break;
            }
        }
        if all {
            hits.push((score, i, q));
        }
    }
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    hits.into_iter().map(|(_, _, q)| q).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_resolved_from_common_typos() {
        assert_eq!(resolve_id("go-3").map(|q| q.id), Some("go-03"));
        assert_eq!(resolve_id("GO03").map(|q| q.id), Some("go-03"));
        assert_eq!(resolve_id(" redis1 ").map(|q| q.id), Some("redis-01"));
        assert_eq!(resolve_id("net-18").map(|q| q.id), Some("net-18"));
        assert_eq!(resolve_id("go-99"), None);
        assert_eq!(resolve_id(""), None);
        assert_eq!(resolve_id("-"), None);
        assert_eq!(resolve_id("go-99999999999999999999"), None);
    }

    #[test]
    fn unknown_ids_get_neighbours() {
        let near = closest_ids("redis-12", 3);
        assert_eq!(near.len(), 3);
        assert!(
            near.contains(&"redis-11") || near.contains(&"redis-10"),
            "{near:?}"
        );
    }

    #[test]
    fn search_works_in_both_languages() {
        let zh: Vec<_> = search("跳表").iter().map(|q| q.id).collect();
        assert_eq!(zh.first(), Some(&"redis-11"), "{zh:?}");
        let en: Vec<_> = search("skip list").iter().map(|q| q.id).collect();
        assert!(en.contains(&"redis-11"), "{en:?}");
        assert!(search("   ").is_empty());
        assert!(search("no-such-word-anywhere-xyz").is_empty());
    }

    #[test]
    fn demo_names_are_recognised() {
        assert!(looks_like_demo_name(
            "go-03/unbuffered-send-needs-a-receiver"
        ));
        assert!(!looks_like_demo_name("go-3/x"));
        assert!(!looks_like_demo_name("go-03/"));
        assert!(!looks_like_demo_name("lab run go-03"));
        assert!(!looks_like_demo_name("xx-03/a"));
    }
}

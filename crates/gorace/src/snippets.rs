//! The racy counter and its three fixes as Rust source: the programs rustc is asked to judge.
//!
//! Each [`Snippet`] is a whole program (`src/snippets/*.rs`, pulled in with `include_str!`). The
//! same text is used three times, so the three can never drift apart:
//!
//! - as a doctest on its constant below: ```` ```compile_fail,E0499 ```` for a racy one, a plain
//!   runnable block for a fix. `cargo test` runs them;
//! - by the demos `go-09/rustc-rejects-the-racy-counter` and `go-09/rustc-accepts-the-three-fixes`,
//!   which hand it to a real `rustc` and assert the error codes, or the exact count printed;
//! - on the answer page `docs/go/go-09.md`, which quotes some of them (a test checks the quote is
//!   verbatim).
//!
//! Every racy snippet is Go's `counter++` from four goroutines, written the ways a newcomer to Rust
//! would try it. Each is refused for a different reason, and none of the reasons is "this is a data
//! race": rustc knows nothing about races. It refuses aliasing (`&mut` twice), a borrow that may
//! outlive its owner, and types that are not `Send`/`Sync`. Those rules leave no way to write the
//! race without `unsafe`.
//!
//! A note on the doctests: rustdoc checks the error code of a `compile_fail` block only on a
//! nightly compiler; on stable it checks only that compilation fails. The demo is what checks the
//! codes on any toolchain.

/// How many threads each snippet starts, and how many increments each thread makes.
pub const THREADS: u64 = 4;
/// See [`THREADS`].
pub const EACH: u64 = 100_000;
/// What a correct program prints: every increment counted.
pub const COUNT: u64 = THREADS * EACH;

/// What rustc must do with a snippet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Compilation fails, and these error codes are among the errors.
    Rejected { codes: &'static [&'static str] },
    /// It compiles, runs, exits 0 and prints [`COUNT`].
    CountsExactly,
}

/// One whole Rust program and what rustc is expected to make of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snippet {
    /// File stem under `src/snippets/`, also the name the demos print.
    pub name: &'static str,
    /// The attempt, or the fix, in a few words.
    pub what: &'static str,
    /// Why rustc refuses it, or why the fix is accepted.
    pub why: &'static str,
    pub code: &'static str,
    pub expect: Expect,
}

/// Go's racy counter with `std::thread::spawn`, capturing `counter` by reference.
///
/// Refused twice: the closure must be `'static` but borrows a local (E0373), and four closures would
/// hold `&mut counter` at once (E0499).
#[doc = concat!("```compile_fail,E0373\n", include_str!("snippets/spawn_mut.rs"), "```")]
pub const SPAWN_MUT: Snippet = Snippet {
    name: "spawn_mut",
    what: "thread::spawn closures that all do `counter += 1` on a local",
    why: "a spawned thread may outlive `main`'s stack frame (E0373), and `&mut counter` cannot be \
          lent to four closures at once (E0499)",
    code: include_str!("snippets/spawn_mut.rs"),
    expect: Expect::Rejected {
        codes: &["E0373", "E0499"],
    },
};

/// The same with `std::thread::scope`: the lifetime problem is gone, the aliasing one stays.
#[doc = concat!("```compile_fail,E0499\n", include_str!("snippets/scope_mut.rs"), "```")]
pub const SCOPE_MUT: Snippet = Snippet {
    name: "scope_mut",
    what: "scoped threads that all do `counter += 1` on a local",
    why: "scoped threads may borrow, but a `&mut` is exclusive: only one closure can hold \
          `&mut counter` (E0499). This is the data-race rule itself",
    code: include_str!("snippets/scope_mut.rs"),
    expect: Expect::Rejected { codes: &["E0499"] },
};

/// Shared ownership with `Rc` and shared mutation with `Cell`, both single-threaded types.
#[doc = concat!("```compile_fail,E0277\n", include_str!("snippets/rc_cell.rs"), "```")]
pub const RC_CELL: Snippet = Snippet {
    name: "rc_cell",
    what: "an Rc<Cell<u64>> cloned into each spawned thread",
    why: "`Rc<Cell<u64>>` is not `Send`: `thread::spawn` requires its closure to be `Send` (E0277)",
    code: include_str!("snippets/rc_cell.rs"),
    expect: Expect::Rejected { codes: &["E0277"] },
};

/// A `Cell` shared by reference among scoped threads.
#[doc = concat!("```compile_fail,E0277\n", include_str!("snippets/scope_cell.rs"), "```")]
pub const SCOPE_CELL: Snippet = Snippet {
    name: "scope_cell",
    what: "a Cell<u64> shared by reference with scoped threads",
    why: "`&Cell<u64>` is `Send` only if `Cell<u64>` is `Sync`, and it is not (E0277)",
    code: include_str!("snippets/scope_cell.rs"),
    expect: Expect::Rejected { codes: &["E0277"] },
};

/// A global, like Go's package-level `var counter int`.
#[doc = concat!("```compile_fail,E0594\n", include_str!("snippets/static_plain.rs"), "```")]
pub const STATIC_PLAIN: Snippet = Snippet {
    name: "static_plain",
    what: "a plain `static COUNTER: u64` incremented from spawned threads",
    why: "a `static` is immutable: nothing may assign to it (E0594)",
    code: include_str!("snippets/static_plain.rs"),
    expect: Expect::Rejected { codes: &["E0594"] },
};

/// A global with interior mutability.
#[doc = concat!("```compile_fail,E0277\n", include_str!("snippets/static_cell.rs"), "```")]
pub const STATIC_CELL: Snippet = Snippet {
    name: "static_cell",
    what: "a `static COUNTER: Cell<u64>` incremented from spawned threads",
    why: "every thread can reach a `static`, so its type must be `Sync`; `Cell<u64>` is not (E0277)",
    code: include_str!("snippets/static_cell.rs"),
    expect: Expect::Rejected { codes: &["E0277"] },
};

/// A mutable global: the only way to Go's program is through `unsafe`.
#[doc = concat!("```compile_fail,E0133\n", include_str!("snippets/static_mut.rs"), "```")]
pub const STATIC_MUT: Snippet = Snippet {
    name: "static_mut",
    what: "a `static mut COUNTER: u64` incremented from spawned threads",
    why: "touching a `static mut` is unsafe (E0133): the race is possible only where the programmer \
          writes `unsafe` and takes the blame",
    code: include_str!("snippets/static_mut.rs"),
    expect: Expect::Rejected { codes: &["E0133"] },
};

/// Fix 1: the counter lives inside a `Mutex`, shared with `Arc`.
#[doc = concat!("```\n", include_str!("snippets/fix_mutex.rs"), "```")]
pub const FIX_MUTEX: Snippet = Snippet {
    name: "fix_mutex",
    what: "Arc<Mutex<u64>>: lock, add, unlock",
    why: "`Mutex<u64>` is `Sync` and `Arc<Mutex<u64>>` is `Send`; the data is reachable only \
          through the guard",
    code: include_str!("snippets/fix_mutex.rs"),
    expect: Expect::CountsExactly,
};

/// Fix 2: an atomic counter, shared by reference among scoped threads.
#[doc = concat!("```\n", include_str!("snippets/fix_atomic.rs"), "```")]
pub const FIX_ATOMIC: Snippet = Snippet {
    name: "fix_atomic",
    what: "AtomicU64::fetch_add from scoped threads",
    why: "`AtomicU64` is `Sync`: every access is an atomic instruction, so sharing `&AtomicU64` \
          is allowed",
    code: include_str!("snippets/fix_atomic.rs"),
    expect: Expect::CountsExactly,
};

/// Fix 3: one thread owns the counter; the others send it increments.
#[doc = concat!("```\n", include_str!("snippets/fix_channel.rs"), "```")]
pub const FIX_CHANNEL: Snippet = Snippet {
    name: "fix_channel",
    what: "an owner thread fed over std::sync::mpsc",
    why: "the counter is moved into one thread and never shared; `Sender<u64>` is `Send`",
    code: include_str!("snippets/fix_channel.rs"),
    expect: Expect::CountsExactly,
};

/// The racy attempts, each of which rustc must refuse.
pub const RACY: &[Snippet] = &[
    SPAWN_MUT,
    SCOPE_MUT,
    RC_CELL,
    SCOPE_CELL,
    STATIC_PLAIN,
    STATIC_CELL,
    STATIC_MUT,
];

/// The three fixes, each of which must compile and count exactly.
pub const FIXES: &[Snippet] = &[FIX_MUTEX, FIX_ATOMIC, FIX_CHANNEL];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_snippet_counts_with_the_same_threads_and_increments() {
        for s in RACY.iter().chain(FIXES) {
            assert!(
                s.code.contains("in 0..4") || s.code.contains("(0..4)"),
                "{}: 4 threads",
                s.name
            );
            assert!(s.code.contains("0..100_000"), "{}: 100_000 each", s.name);
            assert!(s.code.contains("fn main()"), "{}: a whole program", s.name);
        }
        assert_eq!(COUNT, 400_000);
    }

    #[test]
    fn names_are_unique_and_match_the_files() {
        let mut names: Vec<&str> = RACY.iter().chain(FIXES).map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RACY.len() + FIXES.len());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/snippets");
        for s in RACY.iter().chain(FIXES) {
            let on_disk = std::fs::read_to_string(dir.join(format!("{}.rs", s.name))).unwrap();
            assert_eq!(on_disk, s.code, "{}", s.name);
        }
    }

    #[test]
    fn the_page_quotes_its_snippets_verbatim() {
        let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/go/go-09.md");
        let page = std::fs::read_to_string(page).unwrap();
        for s in [SCOPE_MUT, FIX_ATOMIC] {
            assert!(
                page.contains(&format!("```rust\n{}```", s.code)),
                "docs/go/go-09.md must quote src/snippets/{}.rs verbatim",
                s.name
            );
        }
    }

    #[test]
    fn racy_snippets_expect_rejection_and_fixes_expect_a_count() {
        assert!(
            RACY.iter()
                .all(|s| matches!(s.expect, Expect::Rejected { codes } if !codes.is_empty()))
        );
        assert!(FIXES.iter().all(|s| s.expect == Expect::CountsExactly));
    }
}

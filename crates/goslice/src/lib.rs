//! Go slices and their Rust analogues.
//!
//! - [`nil_vs_empty`]: go-06, 「Go中对nil的Slice和空Slice的处理是一致的吗」. A nil slice and an empty
//!   one agree on everything that reads only the length, and differ wherever nil-ness is asked
//!   (`== nil`, `reflect.DeepEqual`, `%#v`, JSON `null` vs `[]`). The analogue is
//!   `Option<Vec<T>>`: `None` vs `Some(Vec::new())`; the real `go` toolchain checks the table.

pub mod nil_vs_empty;

use catalog::{Demo, Topic};

static DEMOS: &[Demo] = &[
    nil_vs_empty::NIL_AND_EMPTY_DIFFER_ONLY_IN_NIL_AND_JSON,
    nil_vs_empty::GO_AGREES,
    nil_vs_empty::STDLIB_NIL_OR_EMPTY,
];

/// This crate's demos and benchmarks, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "goslice",
        demos: DEMOS,
        benches: &[],
    }
}

//! A nil slice and an empty slice are the same length and behave the same until someone asks
//! "is it nil?": `== nil`, `reflect.DeepEqual`, `%#v` and `encoding/json` (`null` vs `[]`).
//!
//! Interview question go-06: 「Go中对nil的Slice和空Slice的处理是一致的吗」 (are a nil slice and an empty
//! slice handled the same way?).
//!
//! ## The slice header
//! A Go slice value is three words: a data pointer, a length and a capacity. A nil slice is the
//! zero value of those three words. An empty slice has length and capacity 0 too, but its pointer is
//! set: `[]int{}` and `make([]int, 0)` ask the allocator for zero bytes, and `mallocgc` answers every
//! zero-byte request with the address of one shared variable, `runtime.zerobase`. (That is for a
//! slice that escapes to the heap, as the Go program's do; one kept on the stack points at a
//! zero-size stack slot instead, still not nil.)
//!
//! ```text
//!   var s []int              []int{}  /  make([]int, 0)
//!   ┌──────┬─────┬─────┐     ┌──────┬─────┬─────┐
//!   │ nil  │ 0   │ 0   │     │  ●   │ 0   │ 0   │
//!   └──────┴─────┴─────┘     └──┼───┴─────┴─────┘
//!    ptr    len   cap            ▼
//!                          &runtime.zerobase  (shared by every zero-size allocation)
//!
//!   Rust analogue
//!   None::<Vec<i64>>         Some(Vec::new())  /  Some(Vec::with_capacity(0))
//!   (no Vec at all)          ┌──────────┬─────┬─────┐
//!                            │ dangling │ 0   │ 0   │   NonNull::dangling(): aligned, never
//!                            └──────────┴─────┴─────┘   dereferenced, no allocation
//! ```
//!
//! Everything that only reads `len` (and `cap`) cannot tell the two apart: `len`, `cap`, `range`,
//! `append`, `fmt.Print`, `slices.Equal`, and indexing (which panics on both). What reads the pointer
//! can: `s == nil`, `reflect.DeepEqual` (it checks nil-ness before contents), `%#v`, and
//! `encoding/json`, which writes `null` for nil and `[]` for empty, and whose `omitzero` option (Go
//! 1.24) drops only the nil one.
//!
//! ## The analogue
//! Rust has no nil slice: a `Vec<T>` is always a vector, and `Vec::new()` (like
//! `Vec::with_capacity(0)`) does not allocate. "Absent" is a separate type, `Option<Vec<T>>`, so
//! the analogue of a nil slice is `None` and of an empty one `Some(Vec::new())`. [`rust_table`]
//! makes every observation the Go program `go/cmd/go06-nilslice` makes, through the Go-like
//! operations in this module ([`len`], [`sprint`], [`push`], …), and [`differences`] compares the
//! two tables property by property.
//!
//! The invariant the demos check: on both sides, the three values agree on exactly the properties in
//! [`SAME_FOR_ALL_THREE`] and differ on exactly those in [`NIL_DIFFERS`]; and each property's value
//! is the same in Go and in Rust.
//!
//! ## Worked example
//! ```text
//!                     Go nil        Go []int{}       Rust None     Rust Some(vec![])
//!   len, cap          0, 0          0, 0             0, 0          0, 0
//!   == nil            true          false            is_none()     is_none() false
//!   json.Marshal      null          []               null          []
//!   fmt.Sprint        []            []               []            []
//!   append(s, 1)      len 1         len 1            len 1         len 1
//!   s[0]              panics        panics           first(): None first(): None
//! ```
//!
//! ## How the real system differs
//! - Go's nil-ness is a property of one type; Rust's is a second type. In Go any `[]T` may be nil,
//!   so every consumer must be ready for both; in Rust a plain `Vec<T>` cannot be absent and
//!   `serde_json::from_str::<Vec<i64>>("null")` is an error, where Go quietly decodes `null` to nil.
//! - Indexing past the end panics in Go (recoverable with `recover`). The analogue reads with
//!   `first()`/`get(0)` and gets `None`; Rust's `v[0]` would panic too, but `None[0]` does not even
//!   compile. The tables record *that* there is no element 0 on both sides, and *how* each language
//!   reports it separately, as [`Row::index0_failure`], which is never compared across languages.
//! - Go's empty slice points at `runtime.zerobase`, a real variable; Rust's empty `Vec` points at
//!   `NonNull::dangling()`, the type's alignment used as an address. Both are "a non-null address
//!   that owns no memory", shared by all empty values of the type.

use std::fmt::Write as _;

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use serde::{Deserialize, Serialize};

/// The Go program that makes the same observations.
pub const GO_PROGRAM: &str = "cmd/go06-nilslice";

/// The first version of `encoding/json` that honours the `omitzero` struct tag option.
pub const OMITZERO_SINCE: (u32, u32) = (1, 24);

/// One of the three values the question is about, as each language writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value {
    /// The name both tables use for it.
    pub name: &'static str,
    pub go: &'static str,
    pub rust: &'static str,
}

/// The three values, in the order both tables list them.
pub const VALUES: [Value; 3] = [
    Value {
        name: "nil",
        go: "var s []int",
        rust: "None",
    },
    Value {
        name: "empty-literal",
        go: "[]int{}",
        rust: "Some(Vec::new())",
    },
    Value {
        name: "make-0",
        go: "make([]int, 0)",
        rust: "Some(Vec::with_capacity(0))",
    },
];

/// The Rust value that stands for each of [`VALUES`]. Go's `[]int{}` and `make([]int, 0)` are both
/// non-nil with nothing allocated; so are `Vec::new()` and `Vec::with_capacity(0)`.
pub fn rust_value(name: &str) -> Option<Option<Vec<i64>>> {
    match name {
        "nil" => Some(None),
        "empty-literal" => Some(Some(Vec::new())),
        "make-0" => Some(Some(Vec::with_capacity(0))),
        _ => None,
    }
}

/// What one value shows. Field names match the Go program's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Which of [`VALUES`].
    pub value: String,
    pub len: usize,
    pub cap: usize,
    /// Go `s == nil`; Rust `s.is_none()`.
    pub is_nil: bool,
    /// Whether the header's data pointer is null. A Rust `None` has no pointer, which counts as null.
    pub data_ptr_is_nil: bool,
    /// `json.Marshal(s)`; `serde_json::to_string(&s)`.
    pub json: String,
    /// `fmt.Sprint(s)`; [`sprint`].
    pub text: String,
    /// Iterations of `for range s`; of `for x in s.iter().flatten()`.
    pub iterations: usize,
    /// `len(append(s, 1))`; length after [`push`].
    pub len_after_append: usize,
    /// Whether the result of the append is still nil.
    pub nil_after_append: bool,
    /// Whether element 0 exists.
    pub index0_exists: bool,
    /// `struct{ Items []int }` encoded.
    pub field_json: String,
    /// The same with `json:",omitempty"`; serde `skip_serializing_if` absent-or-empty.
    pub field_json_omitempty: String,
    /// The same with `json:",omitzero"` (Go 1.24+); serde `skip_serializing_if = "Option::is_none"`.
    pub field_json_omitzero: String,
    /// How the language reports that there is no element 0: Go panics, the analogue returns `None`.
    /// Language-specific, so never compared across languages.
    pub index0_failure: String,
    /// `%#v` in Go, `{:?}` in Rust: spelled differently by each language, so not compared across
    /// languages; [`Pair::same_debug_text`] compares which values print alike.
    pub debug_text: String,
}

/// Two of the values compared with each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    pub a: String,
    pub b: String,
    /// `reflect.DeepEqual(a, b)`; `a == b` on `Option<Vec<i64>>`.
    pub deep_equal: bool,
    /// `slices.Equal(a, b)` (element-wise, nil-blind); [`contents`]`(a) == contents(b)`.
    pub contents_equal: bool,
    pub same_debug_text: bool,
    /// Whether both headers hold the same data pointer (both null, or both the shared sentinel).
    pub same_data_ptr: bool,
}

/// What decoding a JSON document leaves in the slice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decoded {
    pub input: String,
    /// What the target held before decoding: `nil`, `[7]`, or `zero` for a fresh struct.
    pub start: String,
    pub is_nil: bool,
    pub len: usize,
}

/// Every observation, for one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub rows: Vec<Row>,
    pub pairs: Vec<Pair>,
    pub decoded: Vec<Decoded>,
}

/// What a Go expression that produces "nothing" returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Produced {
    pub expr: String,
    pub is_nil: bool,
    pub len: usize,
}

/// What `go/cmd/go06-nilslice` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoReport {
    /// `runtime.Version()`, e.g. `go1.26.8`.
    pub go_version: String,
    pub table: Table,
    /// Go-only: which standard-library calls and slicing expressions keep or lose nil-ness.
    pub producers: Vec<Produced>,
}

// ---------------------------------------------------------------------------------------------------
// Go's slice operations, written for the analogue `Option<Vec<i64>>`.
// ---------------------------------------------------------------------------------------------------

/// The elements, whether or not there is a vector: what `len`, `range` and `fmt` see in Go.
pub fn contents(s: &Option<Vec<i64>>) -> &[i64] {
    s.as_deref().unwrap_or_default()
}

/// Go's `len(s)`.
pub fn len(s: &Option<Vec<i64>>) -> usize {
    contents(s).len()
}

/// Go's `cap(s)`: 0 with no vector.
pub fn cap(s: &Option<Vec<i64>>) -> usize {
    s.as_ref().map_or(0, Vec::capacity)
}

/// Go's `s == nil`.
pub fn is_nil(s: &Option<Vec<i64>>) -> bool {
    s.is_none()
}

/// The data pointer as an address; 0 with no vector (a nil slice's pointer).
pub fn data_addr(s: &Option<Vec<i64>>) -> usize {
    s.as_ref().map_or(0, |v| v.as_ptr().addr())
}

/// `fmt.Sprint(s)`: elements separated by spaces in brackets, `[]` for nil and empty alike.
pub fn sprint(s: &Option<Vec<i64>>) -> String {
    let mut out = String::from("[");
    for (i, x) in contents(s).iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{x}");
    }
    out.push(']');
    out
}

/// `s = append(s, x)`: appending to "nothing" creates the vector, as Go's append allocates a backing
/// array for a nil slice.
pub fn push(s: &mut Option<Vec<i64>>, x: i64) {
    s.get_or_insert_with(Vec::new).push(x);
}

/// Element 0 if there is one. Go's `s[0]` panics where this returns `None`.
pub fn first(s: &Option<Vec<i64>>) -> Option<i64> {
    contents(s).first().copied()
}

/// serde's spelling of `omitempty`: leave the field out when it is absent or empty.
fn absent_or_empty(s: &Option<Vec<i64>>) -> bool {
    contents(s).is_empty()
}

/// `struct{ Items []int }`.
#[derive(Debug, Serialize, Deserialize)]
struct Plain {
    #[serde(rename = "Items")]
    items: Option<Vec<i64>>,
}

/// `struct{ Items []int \`json:",omitempty"\` }`.
#[derive(Debug, Serialize)]
struct WithOmitempty {
    #[serde(rename = "Items", skip_serializing_if = "absent_or_empty")]
    items: Option<Vec<i64>>,
}

/// `struct{ Items []int \`json:",omitzero"\` }`: Go omits the zero value, which for a slice is nil.
#[derive(Debug, Serialize)]
struct WithOmitzero {
    #[serde(rename = "Items", skip_serializing_if = "Option::is_none")]
    items: Option<Vec<i64>>,
}

/// Makes every observation the Go program makes on one value.
pub fn observe(name: &str, s: &Option<Vec<i64>>) -> Result<Row, serde_json::Error> {
    let mut grown = s.clone();
    push(&mut grown, 1);
    let element = first(s);
    Ok(Row {
        value: name.to_string(),
        len: len(s),
        cap: cap(s),
        is_nil: is_nil(s),
        data_ptr_is_nil: data_addr(s) == 0,
        json: serde_json::to_string(s)?,
        text: sprint(s),
        iterations: s.iter().flatten().count(),
        len_after_append: len(&grown),
        nil_after_append: is_nil(&grown),
        index0_exists: element.is_some(),
        field_json: serde_json::to_string(&Plain { items: s.clone() })?,
        field_json_omitempty: serde_json::to_string(&WithOmitempty { items: s.clone() })?,
        field_json_omitzero: serde_json::to_string(&WithOmitzero { items: s.clone() })?,
        index0_failure: match element {
            Some(_) => String::new(),
            None => "None: first() found no element".to_string(),
        },
        debug_text: format!("{s:?}"),
    })
}

/// Compares two values the ways the Go program does.
pub fn compare(a: (&str, &Option<Vec<i64>>), b: (&str, &Option<Vec<i64>>)) -> Pair {
    Pair {
        a: a.0.to_string(),
        b: b.0.to_string(),
        deep_equal: a.1 == b.1,
        contents_equal: contents(a.1) == contents(b.1),
        same_debug_text: format!("{:?}", a.1) == format!("{:?}", b.1),
        same_data_ptr: data_addr(a.1) == data_addr(b.1),
    }
}

/// `json.Unmarshal(input, &s)` with `s` starting as `start`: in the analogue, decoding makes a new
/// value, which replaces whatever was there, as Go's decoder sets a slice to nil on `null`.
fn decode_top(
    input: &str,
    start: Option<Vec<i64>>,
    start_name: &str,
) -> Result<Decoded, serde_json::Error> {
    let mut s = start;
    // clone_from keeps the old Vec's buffer when both sides are Some, as Go's decoder reuses the
    // backing array, and drops it for None, as Go sets the slice to nil.
    s.clone_from(&serde_json::from_str(input)?);
    Ok(Decoded {
        input: input.to_string(),
        start: start_name.to_string(),
        is_nil: is_nil(&s),
        len: len(&s),
    })
}

/// `json.Unmarshal(input, &p)` into a fresh `struct{ Items []int }`; a missing field stays nil/None.
fn decode_field(input: &str) -> Result<Decoded, serde_json::Error> {
    let p: Plain = serde_json::from_str(input)?;
    Ok(Decoded {
        input: input.to_string(),
        start: "zero".to_string(),
        is_nil: is_nil(&p.items),
        len: len(&p.items),
    })
}

/// The whole table for the Rust analogue, in the Go program's order.
pub fn rust_table() -> Result<Table, serde_json::Error> {
    let values: Vec<(&str, Option<Vec<i64>>)> = VALUES
        .iter()
        .filter_map(|v| rust_value(v.name).map(|s| (v.name, s)))
        .collect();
    let mut rows = Vec::new();
    for (name, s) in &values {
        rows.push(observe(name, s)?);
    }
    let mut pairs = Vec::new();
    for (i, (a, sa)) in values.iter().enumerate() {
        for (b, sb) in values.iter().skip(i + 1) {
            pairs.push(compare((a, sa), (b, sb)));
        }
    }
    let decoded = vec![
        decode_top("null", None, "nil")?,
        decode_top("[]", None, "nil")?,
        decode_top("null", Some(vec![7]), "[7]")?,
        decode_field(r#"{"Items":null}"#)?,
        decode_field(r#"{"Items":[]}"#)?,
        decode_field("{}")?,
    ];
    Ok(Table {
        rows,
        pairs,
        decoded,
    })
}

// ---------------------------------------------------------------------------------------------------
// Deciding functions.
// ---------------------------------------------------------------------------------------------------

/// One column of a [`Row`], by name.
#[derive(Debug, Clone, Copy)]
pub struct Property {
    pub name: &'static str,
    pub read: fn(&Row) -> String,
    /// False when each language spells the value its own way (the panic message, `%#v`): such a
    /// property is compared within a language (which values agree) but never Go against Rust.
    pub across_languages: bool,
}

/// Every property of a [`Row`] except its name (a unit test checks that none is missing).
pub const PROPERTIES: [Property; 15] = [
    Property {
        name: "len",
        read: |r| r.len.to_string(),
        across_languages: true,
    },
    Property {
        name: "cap",
        read: |r| r.cap.to_string(),
        across_languages: true,
    },
    Property {
        name: "is_nil",
        read: |r| r.is_nil.to_string(),
        across_languages: true,
    },
    Property {
        name: "data_ptr_is_nil",
        read: |r| r.data_ptr_is_nil.to_string(),
        across_languages: true,
    },
    Property {
        name: "json",
        read: |r| r.json.clone(),
        across_languages: true,
    },
    Property {
        name: "text",
        read: |r| r.text.clone(),
        across_languages: true,
    },
    Property {
        name: "iterations",
        read: |r| r.iterations.to_string(),
        across_languages: true,
    },
    Property {
        name: "len_after_append",
        read: |r| r.len_after_append.to_string(),
        across_languages: true,
    },
    Property {
        name: "nil_after_append",
        read: |r| r.nil_after_append.to_string(),
        across_languages: true,
    },
    Property {
        name: "index0_exists",
        read: |r| r.index0_exists.to_string(),
        across_languages: true,
    },
    Property {
        name: "field_json",
        read: |r| r.field_json.clone(),
        across_languages: true,
    },
    Property {
        name: "field_json_omitempty",
        read: |r| r.field_json_omitempty.clone(),
        across_languages: true,
    },
    Property {
        name: "field_json_omitzero",
        read: |r| r.field_json_omitzero.clone(),
        across_languages: true,
    },
    Property {
        name: "index0_failure",
        read: |r| r.index0_failure.clone(),
        across_languages: false,
    },
    Property {
        name: "debug_text",
        read: |r| r.debug_text.clone(),
        across_languages: false,
    },
];

/// The properties on which nil, `[]int{}` and `make([]int, 0)` all agree (the page's claim).
pub const SAME_FOR_ALL_THREE: [&str; 9] = [
    "len",
    "cap",
    "text",
    "iterations",
    "len_after_append",
    "nil_after_append",
    "index0_exists",
    "field_json_omitempty",
    "index0_failure",
];

/// The properties on which the nil value stands apart from the two empty ones (the page's claim).
pub const NIL_DIFFERS: [&str; 6] = [
    "is_nil",
    "data_ptr_is_nil",
    "json",
    "field_json",
    "field_json_omitzero",
    "debug_text",
];

/// Which properties have one value across all rows, and which do not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Agreement {
    pub same: Vec<&'static str>,
    pub differ: Vec<&'static str>,
}

/// Sorts [`PROPERTIES`] by whether every row of `rows` shows the same value.
pub fn agreement(rows: &[Row]) -> Agreement {
    let mut out = Agreement::default();
    for p in &PROPERTIES {
        let mut values = rows.iter().map(p.read);
        let first = values.next();
        if values.all(|v| Some(&v) == first.as_ref()) {
            out.same.push(p.name);
        } else {
            out.differ.push(p.name);
        }
    }
    out
}

/// Whether a Go version (`go1.26.8`, `devel go1.27-abc …`) honours `json:",omitzero"`. A version
/// the lab cannot read is assumed recent, so the field is compared and any mismatch is reported.
pub fn honours_omitzero(go_version: &str) -> bool {
    let Some(rest) = go_version.split("go1.").nth(1) else {
        return true;
    };
    let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
    match minor.parse::<u32>() {
        Ok(m) => (1, m) >= OMITZERO_SINCE,
        Err(_) => true,
    }
}

/// Every place where the Go table and the Rust table disagree, one sentence each, naming the value
/// and the property. Properties named in `skip` and those spelled per language are not compared.
pub fn differences(rust: &Table, go: &Table, skip: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let names = |rows: &[Row]| rows.iter().map(|r| r.value.clone()).collect::<Vec<_>>();
    if names(&rust.rows) != names(&go.rows) {
        out.push(format!(
            "the tables list different values: Rust {:?}, Go {:?}",
            names(&rust.rows),
            names(&go.rows)
        ));
    }
    for r in &rust.rows {
        let Some(g) = go.rows.iter().find(|g| g.value == r.value) else {
            continue;
        };
        for p in PROPERTIES
            .iter()
            .filter(|p| p.across_languages && !skip.contains(&p.name))
        {
            let (rv, gv) = ((p.read)(r), (p.read)(g));
            if rv != gv {
                out.push(format!("{}.{}: Rust {rv}, Go {gv}", r.value, p.name));
            }
        }
    }

    let key = |p: &Pair| (p.a.clone(), p.b.clone());
    if rust.pairs.iter().map(key).collect::<Vec<_>>()
        != go.pairs.iter().map(key).collect::<Vec<_>>()
    {
        out.push("the tables compare different pairs".to_string());
    }
    for r in &rust.pairs {
        let Some(g) = go.pairs.iter().find(|g| key(g) == key(r)) else {
            continue;
        };
        let fields = [
            ("deep_equal", r.deep_equal, g.deep_equal),
            ("contents_equal", r.contents_equal, g.contents_equal),
            ("same_debug_text", r.same_debug_text, g.same_debug_text),
            ("same_data_ptr", r.same_data_ptr, g.same_data_ptr),
        ];
        for (name, rv, gv) in fields {
            if rv != gv {
                out.push(format!("{} vs {}: {name}: Rust {rv}, Go {gv}", r.a, r.b));
            }
        }
    }

    if rust.decoded.len() != go.decoded.len() {
        out.push(format!(
            "the tables decode {} and {} documents",
            rust.decoded.len(),
            go.decoded.len()
        ));
    }
    for (r, g) in rust.decoded.iter().zip(&go.decoded) {
        if r != g {
            out.push(format!(
                "decoding {} into {}: Rust is_nil={} len={}, Go (input {}, start {}) is_nil={} len={}",
                r.input, r.start, r.is_nil, r.len, g.input, g.start, g.is_nil, g.len
            ));
        }
    }
    out
}

/// What the page claims Go's standard library and slicing return for "nothing": (expression,
/// is nil, len). Nil in, nil out for `append` and `slices.Clone`; `regexp`'s `FindAll*` say "no
/// match" with nil; `strings.Fields` builds an empty non-nil slice; `strings.Split("", ",")` is not
/// empty at all.
pub const GO_PRODUCERS: [(&str, bool, usize); 8] = [
    ("append(nilSlice, []int{}...)", true, 0),
    ("nilSlice[:0]", true, 0),
    ("[]int{}[:0]", false, 0),
    ("slices.Clone(nilSlice)", true, 0),
    ("slices.Clone([]int{})", false, 0),
    (
        r#"regexp.MustCompile("z").FindAllString("abc", -1)"#,
        true,
        0,
    ),
    (r#"strings.Fields("")"#, false, 0),
    (r#"strings.Split("", ",")"#, false, 1),
];

/// Where what Go produced differs from [`GO_PRODUCERS`], one sentence each.
pub fn producer_mismatches(expected: &[(&str, bool, usize)], got: &[Produced]) -> Vec<String> {
    let mut out = Vec::new();
    for (expr, is_nil, len) in expected {
        match got.iter().find(|p| p.expr == *expr) {
            None => out.push(format!("Go did not report `{expr}`")),
            Some(p) if (p.is_nil, p.len) != (*is_nil, *len) => out.push(format!(
                "`{expr}`: expected nil={is_nil} len={len}, Go says nil={} len={}",
                p.is_nil, p.len
            )),
            Some(_) => {}
        }
    }
    out
}

/// Rust's own answer to "nil or empty?" for a plain `Vec`: what it encodes to, whether `null`
/// decodes into it, and its capacity when new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainVec {
    pub json: String,
    pub null_decodes: bool,
    pub capacity: usize,
}

/// Observes a plain `Vec<i64>`: it has no nil state, so it always encodes as `[]` and refuses `null`.
pub fn plain_vec() -> Result<PlainVec, serde_json::Error> {
    let v: Vec<i64> = Vec::new();
    Ok(PlainVec {
        json: serde_json::to_string(&v)?,
        null_decodes: serde_json::from_str::<Vec<i64>>("null").is_ok(),
        capacity: v.capacity(),
    })
}

// ---------------------------------------------------------------------------------------------------
// Printing.
// ---------------------------------------------------------------------------------------------------

/// One value's properties, one per line; with `other`, Rust and Go side by side, `≠` on mismatches.
fn row_lines(rust: &Row, go: Option<&Row>) -> Vec<String> {
    PROPERTIES
        .iter()
        .map(|p| {
            let rv = (p.read)(rust);
            match go {
                None => format!("  {:<22} {rv}", p.name),
                Some(g) => {
                    let gv = (p.read)(g);
                    let mark = if !p.across_languages {
                        "  (spelled per language)"
                    } else if rv == gv {
                        ""
                    } else {
                        "  ≠"
                    };
                    format!("  {:<22} {rv:<34} {gv}{mark}", p.name)
                }
            }
        })
        .collect()
}

fn pair_line(p: &Pair) -> String {
    format!(
        "deep_equal={} contents_equal={} same_debug_text={} same_data_ptr={}",
        p.deep_equal, p.contents_equal, p.same_debug_text, p.same_data_ptr
    )
}

fn decoded_line(d: &Decoded) -> String {
    format!("{:<16} into {:<5}", d.input, d.start)
}

fn decoded_result(d: &Decoded) -> String {
    format!("nil={:<5} len={}", d.is_nil, d.len)
}

fn value_of(name: &str) -> Value {
    VALUES
        .iter()
        .copied()
        .find(|v| v.name == name)
        .unwrap_or(Value {
            name: "?",
            go: "?",
            rust: "?",
        })
}

// ---------------------------------------------------------------------------------------------------
// Demos.
// ---------------------------------------------------------------------------------------------------

/// The analogue's table, checked against the page's claim.
pub const NIL_AND_EMPTY_DIFFER_ONLY_IN_NIL_AND_JSON: Demo = Demo {
    name: "go-06/nil-and-empty-differ-only-in-nil-and-json",
    claim: "None and Some(vec![]) (Go's nil and empty slices) agree on len, cap, printing, iteration, \
            append and indexing; they differ only where nil-ness is asked: == nil, equality, the data \
            pointer, {:?}/%#v and JSON (null vs [])",
    needs: Need::Nothing,
    run: nil_and_empty_differ_only_in_nil_and_json,
};

fn broken(e: serde_json::Error) -> DemoError {
    DemoError::Broken(format!("serde_json: {e}"))
}

fn nil_and_empty_differ_only_in_nil_and_json(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let table = rust_table().map_err(broken)?;
    for row in &table.rows {
        let v = value_of(&row.value);
        ctx.say(format!("{} — Rust `{}` (Go `{}`)", v.name, v.rust, v.go));
        for line in row_lines(row, None) {
            ctx.say(line);
        }
    }
    let split = agreement(&table.rows);
    ctx.say(format!("same for all three: {}", split.same.join(", ")));
    ctx.say(format!("nil stands apart:   {}", split.differ.join(", ")));
    check_eq!(
        split.same,
        SAME_FOR_ALL_THREE.to_vec(),
        "properties on which None and Some(vec![]) agree"
    );
    check_eq!(
        split.differ,
        NIL_DIFFERS.to_vec(),
        "properties on which None stands apart"
    );
    let json: Vec<&str> = table.rows.iter().map(|r| r.json.as_str()).collect();
    check_eq!(
        json,
        ["null", "[]", "[]"],
        "serde_json of None, Some(Vec::new()), Some(Vec::with_capacity(0))"
    );
    check!(
        table
            .rows
            .iter()
            .all(|r| r.index0_failure.starts_with("None")),
        "reading element 0 must give None, not panic: {:?}",
        table
            .rows
            .iter()
            .map(|r| &r.index0_failure)
            .collect::<Vec<_>>()
    );

    for p in &table.pairs {
        ctx.say(format!("{} vs {}: {}", p.a, p.b, pair_line(p)));
        let involves_nil = p.a == "nil" || p.b == "nil";
        check_eq!(
            p.deep_equal,
            !involves_nil,
            "{} == {} (Go's reflect.DeepEqual)",
            p.a,
            p.b
        );
        check!(
            p.contents_equal,
            "{} and {} must have equal contents (Go's slices.Equal)",
            p.a,
            p.b
        );
    }
    for d in &table.decoded {
        ctx.say(format!(
            "decode {} → {}",
            decoded_line(d),
            decoded_result(d)
        ));
    }
    let nil_inputs: Vec<&str> = table
        .decoded
        .iter()
        .filter(|d| d.is_nil)
        .map(|d| d.input.as_str())
        .collect();
    check_eq!(
        nil_inputs,
        vec!["null", "null", r#"{"Items":null}"#, "{}"],
        "the documents that decode to None"
    );

    let plain = plain_vec().map_err(broken)?;
    ctx.say(format!(
        "a plain Vec<i64>: Vec::new() encodes as {}, capacity {}, and \"null\" decodes into it: {}",
        plain.json, plain.capacity, plain.null_decodes
    ));
    check_eq!(
        plain,
        PlainVec {
            json: "[]".into(),
            null_decodes: false,
            capacity: 0
        },
        "a plain Vec has no nil state and Vec::new() allocates nothing"
    );
    Ok(())
}

/// The real Go program's table against the analogue's.
pub const GO_AGREES: Demo = Demo {
    name: "go-06/go-agrees-with-the-rust-analogue",
    claim: "Go's nil, []int{} and make([]int, 0) show the same len, cap, == nil, JSON, fmt, range, \
            append, indexing, DeepEqual and json.Unmarshal results as None, Some(Vec::new()) and \
            Some(Vec::with_capacity(0))",
    needs: Need::Go,
    run: go_agrees,
};

fn go_agrees(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let report: GoReport = go.run_json(GO_PROGRAM, &[])?;
    let rust = rust_table().map_err(broken)?;
    ctx.say(format!("{} ({})", report.go_version, go.version));

    for r in &rust.rows {
        let v = value_of(&r.value);
        let g = report.table.rows.iter().find(|g| g.value == r.value);
        ctx.say(format!("{:<24} {:<34} Go", format!("{}:", v.name), "Rust"));
        ctx.say(format!("  {:<22} {:<34} {}", "written", v.rust, v.go));
        for line in row_lines(r, g) {
            ctx.say(line);
        }
    }
    for r in &rust.pairs {
        ctx.say(format!("{} vs {}:", r.a, r.b));
        ctx.say(format!("  Rust {}", pair_line(r)));
        if let Some(g) = report.table.pairs.iter().find(|g| g.a == r.a && g.b == r.b) {
            ctx.say(format!("  Go   {}", pair_line(g)));
        }
    }
    for (r, g) in rust.decoded.iter().zip(&report.table.decoded) {
        ctx.say(format!(
            "decode {}  Rust {}  Go {}",
            decoded_line(r),
            decoded_result(r),
            decoded_result(g)
        ));
    }

    let mut skip = Vec::new();
    if !honours_omitzero(&report.go_version) {
        ctx.say(format!(
            "{} predates omitzero (Go 1.24): field_json_omitzero not compared",
            report.go_version
        ));
        skip.push("field_json_omitzero");
    }
    let diffs = differences(&rust, &report.table, &skip);
    check!(
        diffs.is_empty(),
        "Go and the Rust analogue disagree:\n{}",
        diffs.join("\n")
    );
    check!(
        report
            .table
            .rows
            .iter()
            .all(|r| r.index0_failure.contains("index out of range")),
        "Go's s[0] on every value should panic with index out of range: {:?}",
        report
            .table
            .rows
            .iter()
            .map(|r| &r.index0_failure)
            .collect::<Vec<_>>()
    );
    ctx.say("every compared property agrees; Go panics on s[0] where the analogue returns None");
    Ok(())
}

/// Go-only: which expressions keep nil-ness and which make an empty slice.
pub const STDLIB_NIL_OR_EMPTY: Demo = Demo {
    name: "go-06/stdlib-returns-nil-or-empty",
    claim: "append and slices.Clone keep a nil slice nil, regexp's FindAll returns nil for no match, \
            strings.Fields(\"\") returns an empty non-nil slice, strings.Split(\"\", \",\") returns one \
            empty string",
    needs: Need::Go,
    run: stdlib_nil_or_empty,
};

fn stdlib_nil_or_empty(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let report: GoReport = go.run_json(GO_PROGRAM, &[])?;
    for p in &report.producers {
        ctx.say(format!("{:<52} nil={:<5} len={}", p.expr, p.is_nil, p.len));
    }
    let wrong = producer_mismatches(&GO_PRODUCERS, &report.producers);
    check!(
        wrong.is_empty(),
        "Go's library does not do what the page says:\n{}",
        wrong.join("\n")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `go run ./cmd/go06-nilslice` printed with go1.26.8 (rows and pairs only), kept to test
    /// the comparison without a Go toolchain.
    const GO_OUTPUT: &str = r#"{
      "go_version": "go1.26.8",
      "table": {
        "rows": [
          {"value": "nil", "len": 0, "cap": 0, "is_nil": true, "data_ptr_is_nil": true,
           "json": "null", "text": "[]", "iterations": 0, "len_after_append": 1,
           "nil_after_append": false, "index0_exists": false, "field_json": "{\"Items\":null}",
           "field_json_omitempty": "{}", "field_json_omitzero": "{}",
           "index0_failure": "panic: runtime error: index out of range [0] with length 0",
           "debug_text": "[]int(nil)"},
          {"value": "empty-literal", "len": 0, "cap": 0, "is_nil": false, "data_ptr_is_nil": false,
           "json": "[]", "text": "[]", "iterations": 0, "len_after_append": 1,
           "nil_after_append": false, "index0_exists": false, "field_json": "{\"Items\":[]}",
           "field_json_omitempty": "{}", "field_json_omitzero": "{\"Items\":[]}",
           "index0_failure": "panic: runtime error: index out of range [0] with length 0",
           "debug_text": "[]int{}"},
          {"value": "make-0", "len": 0, "cap": 0, "is_nil": false, "data_ptr_is_nil": false,
           "json": "[]", "text": "[]", "iterations": 0, "len_after_append": 1,
           "nil_after_append": false, "index0_exists": false, "field_json": "{\"Items\":[]}",
           "field_json_omitempty": "{}", "field_json_omitzero": "{\"Items\":[]}",
           "index0_failure": "panic: runtime error: index out of range [0] with length 0",
           "debug_text": "[]int{}"}
        ],
        "pairs": [
          {"a": "nil", "b": "empty-literal", "deep_equal": false, "contents_equal": true,
           "same_debug_text": false, "same_data_ptr": false},
          {"a": "nil", "b": "make-0", "deep_equal": false, "contents_equal": true,
           "same_debug_text": false, "same_data_ptr": false},
          {"a": "empty-literal", "b": "make-0", "deep_equal": true, "contents_equal": true,
           "same_debug_text": true, "same_data_ptr": true}
        ],
        "decoded": [
          {"input": "null", "start": "nil", "is_nil": true, "len": 0},
          {"input": "[]", "start": "nil", "is_nil": false, "len": 0},
          {"input": "null", "start": "[7]", "is_nil": true, "len": 0},
          {"input": "{\"Items\":null}", "start": "zero", "is_nil": true, "len": 0},
          {"input": "{\"Items\":[]}", "start": "zero", "is_nil": false, "len": 0},
          {"input": "{}", "start": "zero", "is_nil": true, "len": 0}
        ]
      },
      "producers": [
        {"expr": "append(nilSlice, []int{}...)", "is_nil": true, "len": 0},
        {"expr": "nilSlice[:0]", "is_nil": true, "len": 0},
        {"expr": "[]int{}[:0]", "is_nil": false, "len": 0},
        {"expr": "slices.Clone(nilSlice)", "is_nil": true, "len": 0},
        {"expr": "slices.Clone([]int{})", "is_nil": false, "len": 0},
        {"expr": "regexp.MustCompile(\"z\").FindAllString(\"abc\", -1)", "is_nil": true, "len": 0},
        {"expr": "strings.Fields(\"\")", "is_nil": false, "len": 0},
        {"expr": "strings.Split(\"\", \",\")", "is_nil": false, "len": 1}
      ]
    }"#;

    fn go_report() -> GoReport {
        serde_json::from_str(GO_OUTPUT).expect("the recorded Go output parses")
    }

    fn rust() -> Table {
        rust_table().expect("the analogue's table encodes")
    }

    // A nil slice encodes as null and an empty one as []: the one difference most programs meet.
    #[test]
    fn none_encodes_as_null_and_some_empty_as_brackets() {
        let t = rust();
        let json: Vec<&str> = t.rows.iter().map(|r| r.json.as_str()).collect();
        assert_eq!(json, ["null", "[]", "[]"]);
        let field: Vec<&str> = t.rows.iter().map(|r| r.field_json.as_str()).collect();
        assert_eq!(
            field,
            [r#"{"Items":null}"#, r#"{"Items":[]}"#, r#"{"Items":[]}"#]
        );
    }

    // omitempty looks at the length, so it cannot tell nil from empty; omitzero looks at the zero
    // value, which for a slice is nil, so it drops only nil.
    #[test]
    fn omitempty_drops_both_and_omitzero_drops_only_nil() {
        let t = rust();
        assert!(t.rows.iter().all(|r| r.field_json_omitempty == "{}"));
        let omitzero: Vec<&str> = t
            .rows
            .iter()
            .map(|r| r.field_json_omitzero.as_str())
            .collect();
        assert_eq!(omitzero, ["{}", r#"{"Items":[]}"#, r#"{"Items":[]}"#]);
    }

    // Appending to nothing makes a vector, as append allocates for a nil slice.
    #[test]
    fn append_to_nil_makes_a_non_nil_slice() {
        let mut s = None;
        push(&mut s, 1);
        assert_eq!(s, Some(vec![1]));
        assert_eq!(sprint(&s), "[1]");
        push(&mut s, 2);
        assert_eq!(sprint(&s), "[1 2]");
    }

    // Empty vectors share the dangling sentinel address, as Go's empty slices share zerobase.
    #[test]
    fn empty_vectors_share_one_sentinel_address_and_none_has_none() {
        let a = Some(Vec::new());
        let b = Some(Vec::with_capacity(0));
        assert_eq!(data_addr(&a), data_addr(&b));
        assert_ne!(data_addr(&a), 0);
        assert_eq!(data_addr(&None), 0);
        assert_eq!(cap(&a), 0);
    }

    #[test]
    fn the_analogue_splits_properties_as_the_page_claims() {
        let split = agreement(&rust().rows);
        assert_eq!(split.same, SAME_FOR_ALL_THREE);
        assert_eq!(split.differ, NIL_DIFFERS);
    }

    #[test]
    fn go_splits_properties_the_same_way() {
        let split = agreement(&go_report().table.rows);
        assert_eq!(split.same, SAME_FOR_ALL_THREE);
        assert_eq!(split.differ, NIL_DIFFERS);
    }

    // Counterexample: if nil printed differently, `text` would move to the "differ" side.
    #[test]
    fn agreement_notices_a_property_that_splits() {
        let mut rows = rust().rows;
        rows[0].text = "<nil>".into();
        let split = agreement(&rows);
        assert!(split.differ.contains(&"text"));
        assert!(!split.same.contains(&"text"));
    }

    #[test]
    fn every_row_field_is_a_property() {
        // 16 fields in Row, one of them the name.
        let names: Vec<&str> = PROPERTIES.iter().map(|p| p.name).collect();
        let json = serde_json::to_value(&rust().rows[0]).expect("a row encodes");
        let keys: Vec<&str> = json
            .as_object()
            .expect("a row is an object")
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "value")
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(sorted, keys);
    }

    #[test]
    fn the_recorded_go_output_matches_the_analogue() {
        assert_eq!(
            differences(&rust(), &go_report().table, &[]),
            Vec::<String>::new()
        );
    }

    // Counterexample: a Go table where nil encoded as [] (as if nil and empty were the same) and
    // DeepEqual said nil equals empty must be reported, field by field.
    #[test]
    fn a_wrong_go_table_is_reported_as_different() {
        let mut go = go_report().table;
        go.rows[0].json = "[]".into();
        go.pairs[0].deep_equal = true;
        go.decoded[0].is_nil = false;
        let diffs = differences(&rust(), &go, &[]);
        assert_eq!(diffs.len(), 3, "{diffs:#?}");
        assert!(
            diffs[0].contains("nil.json: Rust null, Go []"),
            "{diffs:#?}"
        );
        assert!(
            diffs[1].contains("nil vs empty-literal: deep_equal"),
            "{diffs:#?}"
        );
        assert!(diffs[2].starts_with("decoding null into nil"), "{diffs:#?}");
    }

    #[test]
    fn a_missing_value_or_pair_is_reported() {
        let mut go = go_report().table;
        go.rows.pop();
        go.pairs.pop();
        go.decoded.pop();
        let diffs = differences(&rust(), &go, &[]);
        assert_eq!(diffs.len(), 3, "{diffs:#?}");
    }

    #[test]
    fn language_specific_spellings_are_not_compared_but_skips_are_honoured() {
        // Go says "panic: …" and "[]int(nil)"; Rust says "None…" and "None": not a difference.
        let go = go_report().table;
        assert_ne!(go.rows[0].debug_text, rust().rows[0].debug_text);
        assert!(differences(&rust(), &go, &[]).is_empty());
        // An old Go that ignored omitzero would encode nil as {"Items":null}; skipped, it passes.
        let mut old = go;
        old.rows[0].field_json_omitzero = r#"{"Items":null}"#.into();
        assert_eq!(differences(&rust(), &old, &[]).len(), 1);
        assert!(differences(&rust(), &old, &["field_json_omitzero"]).is_empty());
    }

    #[test]
    fn omitzero_arrived_in_go_1_24() {
        assert!(honours_omitzero("go1.26.8"));
        assert!(honours_omitzero("go1.24"));
        assert!(honours_omitzero("devel go1.27-abcdef Tue"));
        assert!(!honours_omitzero("go1.23.4"));
        assert!(!honours_omitzero("go1.22.0"));
        assert!(honours_omitzero("weird"));
    }

    #[test]
    fn the_recorded_go_producers_match_the_page() {
        assert!(producer_mismatches(&GO_PRODUCERS, &go_report().producers).is_empty());
    }

    // Counterexample: if strings.Fields("") returned nil, the check must say so.
    #[test]
    fn a_wrong_producer_is_reported() {
        let mut got = go_report().producers;
        got[6].is_nil = true;
        got.pop();
        let wrong = producer_mismatches(&GO_PRODUCERS, &got);
        assert_eq!(wrong.len(), 2, "{wrong:#?}");
        assert!(wrong[0].contains("strings.Fields"), "{wrong:#?}");
        assert!(wrong[1].contains("did not report"), "{wrong:#?}");
    }

    #[test]
    fn a_plain_vec_cannot_be_null() {
        let p = plain_vec().expect("encodes");
        assert_eq!(p.json, "[]");
        assert!(!p.null_decodes);
        assert_eq!(p.capacity, 0);
    }

    #[test]
    fn decoding_null_replaces_a_full_slice_with_nil() {
        let d = decode_top("null", Some(vec![7]), "[7]").expect("decodes");
        assert!(d.is_nil);
        let d = decode_top("[]", None, "nil").expect("decodes");
        assert!(!d.is_nil);
        assert_eq!(d.len, 0);
    }
}

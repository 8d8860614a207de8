//! `Send` and `Sync`: the two marker traits that turn "no data races" into a type check.
//!
//! - `T: Send`: a `T` may be *moved* to another thread. `thread::spawn` requires its closure, and
//!   so everything the closure captures by value, to be `Send + 'static`.
//! - `T: Sync`: a `&T` may be *shared* with other threads (`T: Sync` exactly when `&T: Send`).
//!   Scoped threads that borrow `counter` need `counter`'s type to be `Sync`, and so does a
//!   `static`.
//!
//! Both are auto traits: the compiler derives them from a type's fields. `Cell` and `RefCell` opt
//! out of `Sync` because they mutate through `&self` without synchronization. `Rc` opts out of
//! both because its reference count is a plain integer. `Mutex<T>` and the atomics opt in,
//! because every access goes through a lock or an atomic instruction.
//!
//! [`is_send!`](crate::is_send) and [`is_sync!`](crate::is_sync) read the compiler's answer for a
//! concrete type into a `bool`, so a demo can print the table and compare it with the one on the
//! answer page. The trick is method resolution. The call is made on `&&Probe<T>`, where a method of
//! a trait implemented only for `&Probe<T>` with `T: Send` matches first. When the bound does not
//! hold, resolution goes on to the fallback implemented for every `Probe<T>`. It works for concrete
//! types only, and that is all the table needs.

use std::marker::PhantomData;

/// A zero-sized stand-in for a `T`, so that types which cannot be built (or are not `Sized`)
/// can still be asked about.
#[derive(Debug)]
pub struct Probe<T: ?Sized>(pub PhantomData<T>);

/// Answers "yes": implemented for `&Probe<T>` only when `T: Send`.
pub trait SendYes {
    fn send(&self) -> bool {
        true
    }
}
impl<T: ?Sized + Send> SendYes for &Probe<T> {}

/// Answers "no": the fallback, implemented for every `Probe<T>`.
pub trait SendNo {
    fn send(&self) -> bool {
        false
    }
}
impl<T: ?Sized> SendNo for Probe<T> {}

/// Answers "yes": implemented for `&Probe<T>` only when `T: Sync`.
pub trait SyncYes {
    fn sync(&self) -> bool {
        true
    }
}
impl<T: ?Sized + Sync> SyncYes for &Probe<T> {}

/// Answers "no": the fallback, implemented for every `Probe<T>`.
pub trait SyncNo {
    fn sync(&self) -> bool {
        false
    }
}
impl<T: ?Sized> SyncNo for Probe<T> {}

/// Whether the compiler considers the (concrete) type `Send`.
#[macro_export]
macro_rules! is_send {
    ($t:ty) => {{
        #[allow(unused_imports)]
        use $crate::traits::{SendNo as _, SendYes as _};
        (&&$crate::traits::Probe::<$t>(::std::marker::PhantomData)).send()
    }};
}

/// Whether the compiler considers the (concrete) type `Sync`.
#[macro_export]
macro_rules! is_sync {
    ($t:ty) => {{
        #[allow(unused_imports)]
        use $crate::traits::{SyncNo as _, SyncYes as _};
        (&&$crate::traits::Probe::<$t>(::std::marker::PhantomData)).sync()
    }};
}

/// One row of the table: a type, what the answer page says about it, and what the compiler says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub ty: &'static str,
    /// The page's claim: (Send, Sync).
    pub expected: (bool, bool),
    /// The compiler's answer: (Send, Sync).
    pub actual: (bool, bool),
}

impl Row {
    /// What threads may do with a value of this type, from its `Send`/`Sync`.
    pub fn verdict(&self) -> &'static str {
        verdict(self.actual)
    }
}

/// The rule the compiler applies, in words: a `T` may be moved into `thread::spawn` when it is
/// `Send`, and shared by reference (scoped threads, a `static`) when it is `Sync`.
pub fn verdict((send, sync): (bool, bool)) -> &'static str {
    match (send, sync) {
        (true, true) => "move it to a thread, or share it by reference",
        (true, false) => "move it to one thread; never share it",
        (false, true) => "share it by reference; never move it away from its thread",
        (false, false) => "keep it on the thread that made it",
    }
}

/// Every type the page's table lists, with the page's claim and the compiler's answer.
pub fn table() -> Vec<Row> {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::sync::atomic::AtomicU64;
    use std::sync::{Arc, Mutex, MutexGuard, mpsc};
    macro_rules! row {
        ($t:ty, $send:expr, $sync:expr) => {
            Row {
                ty: stringify!($t),
                expected: ($send, $sync),
                actual: (is_send!($t), is_sync!($t)),
            }
        };
    }
    vec![
        row!(u64, true, true),
        row!(Cell<u64>, true, false),
        row!(RefCell<u64>, true, false),
        row!(Rc<Cell<u64>>, false, false),
        row!(Arc<Cell<u64>>, false, false),
        row!(Mutex<u64>, true, true),
        row!(Arc<Mutex<u64>>, true, true),
        row!(MutexGuard<'static, u64>, false, true),
        row!(AtomicU64, true, true),
        row!(mpsc::Sender<u64>, true, true),
        row!(mpsc::Receiver<u64>, true, false),
    ]
}

/// The rows where the compiler disagrees with the page.
pub fn disagreements(rows: &[Row]) -> Vec<Row> {
    rows.iter()
        .copied()
        .filter(|r| r.actual != r.expected)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    #[test]
    fn the_probe_says_yes_and_no() {
        assert!(is_send!(u64) && is_sync!(u64));
        // The counterexamples: the probe can answer "no".
        assert!(!is_send!(Rc<Cell<u64>>));
        assert!(!is_sync!(Cell<u64>));
        assert!(is_send!(Cell<u64>));
        assert!(!is_send!(*const u8) && !is_sync!(*const u8));
        assert!(is_sync!(str) && is_send!([u8]));
    }

    #[test]
    fn the_page_table_matches_the_compiler() {
        let rows = table();
        assert!(
            disagreements(&rows).is_empty(),
            "{:?}",
            disagreements(&rows)
        );
    }

    #[test]
    fn a_wrong_claim_is_reported() {
        let wrong = Row {
            ty: "Rc<Cell<u64>>",
            expected: (true, false),
            actual: (is_send!(Rc<Cell<u64>>), is_sync!(Rc<Cell<u64>>)),
        };
        assert_eq!(disagreements(&[wrong]), vec![wrong]);
        assert_eq!(wrong.verdict(), "keep it on the thread that made it");
    }
}

//! The lab as a library: the registry of every topic crate, for the `lab` binary and the tests.

use catalog::Registry;

/// Every topic crate the lab is built with. A new topic crate adds one line here; a new question
/// in an existing crate adds nothing here.
pub fn registry() -> Registry {
    Registry::new(vec![
        gochan::topic(),
        goslice::topic(),
        gosync::topic(),
        gorace::topic(),
        redistypes::topic(),
        acid::topic(),
        csp::topic(),
        goroutines::topic(),
        poolbench::topic(),
        gpm::topic(),
        zset::topic(),
        respd::topic(),
        cache::topic(),
        mvcc::topic(),
    ])
}

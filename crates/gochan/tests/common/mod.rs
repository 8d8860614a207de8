//! Helpers shared by the channel test binaries: wait for parked parties instead of sleeping.

use std::thread;

use gochan::chan::Chan;

/// Yields until `n` receivers are parked on `ch`.
pub fn until_receivers<T>(ch: &Chan<T>, n: usize) {
    while ch.waiting().0 < n {
        thread::yield_now();
    }
}

/// Yields until `n` senders are parked on `ch`.
pub fn until_senders<T>(ch: &Chan<T>, n: usize) {
    while ch.waiting().1 < n {
        thread::yield_now();
    }
}

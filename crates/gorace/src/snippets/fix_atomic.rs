use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

fn main() {
    let counter = AtomicU64::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..100_000 {
                    counter.fetch_add(1, Ordering::Relaxed); // one indivisible read-modify-write
                }
            });
        }
    });
    println!("{}", counter.load(Ordering::Relaxed));
}

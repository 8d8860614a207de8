use std::cell::Cell;
use std::thread;

fn main() {
    let counter = Cell::new(0u64);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..100_000 {
                    counter.set(counter.get() + 1); // a plain load and store through `&Cell`
                }
            });
        }
    });
    println!("{}", counter.get());
}

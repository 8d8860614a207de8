use std::cell::Cell;
use std::thread;

static COUNTER: Cell<u64> = Cell::new(0); // a static is shared by every thread: it must be Sync

fn main() {
    let handles: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(|| {
                for _ in 0..100_000 {
                    COUNTER.set(COUNTER.get() + 1);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    println!("{}", COUNTER.get());
}

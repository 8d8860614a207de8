use std::thread;

static COUNTER: u64 = 0;

fn main() {
    let handles: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(|| {
                for _ in 0..100_000 {
                    COUNTER += 1; // a global, as in Go's `var counter int`
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    println!("{COUNTER}");
}

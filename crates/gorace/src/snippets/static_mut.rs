use std::thread;

static mut COUNTER: u64 = 0;

fn main() {
    let handles: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(|| {
                for _ in 0..100_000 {
                    COUNTER += 1; // allowed only inside `unsafe`: the programmer's promise
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    println!("{}", COUNTER);
}

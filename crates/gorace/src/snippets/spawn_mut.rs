use std::thread;

fn main() {
    let mut counter: u64 = 0;
    let mut handles = Vec::new();
    for _ in 0..4 {
        handles.push(thread::spawn(|| {
            for _ in 0..100_000 {
                counter += 1; // every thread writes the one `counter` on main's stack
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    println!("{counter}");
}

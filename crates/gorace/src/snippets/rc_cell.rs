use std::cell::Cell;
use std::rc::Rc;
use std::thread;

fn main() {
    let counter = Rc::new(Cell::new(0u64));
    let mut handles = Vec::new();
    for _ in 0..4 {
        let counter = Rc::clone(&counter);
        handles.push(thread::spawn(move || {
            for _ in 0..100_000 {
                counter.set(counter.get() + 1); // Rc's count and the Cell, both unsynchronized
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    println!("{}", counter.get());
}

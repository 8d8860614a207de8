use std::sync::mpsc;
use std::thread;

fn main() {
    let (tx, rx) = mpsc::channel::<u64>();
    let owner = thread::spawn(move || {
        let mut counter = 0u64; // only this thread ever touches the counter
        for delta in rx {
            counter += delta;
        }
        counter
    });
    let mut handles = Vec::new();
    for _ in 0..4 {
        let tx = tx.clone();
        handles.push(thread::spawn(move || {
            for _ in 0..100_000 {
                tx.send(1).unwrap();
            }
        }));
    }
    drop(tx); // with every sender gone, the owner's loop ends once the queue is empty
    for h in handles {
        h.join().unwrap();
    }
    println!("{}", owner.join().unwrap());
}

//! A select that sends must find a select that receives, and the other way round, also when both
//! sides are parked selects on rendezvous channels (Go's selectgo wakes a parked select's waiter).

use gochan::chan::{Chan, Select};

fn select_both(capacity: usize, per: usize) {
    let chans: Vec<Chan<usize>> = (0..4).map(|_| Chan::new(capacity)).collect();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let chans = &chans;
            s.spawn(move || {
                for i in 0..per {
                    chans
                        .iter()
                        .fold(Select::new(), |sel, c| sel.send(c, i, |r| r.is_ok()))
                        .run();
                }
            });
            s.spawn(move || {
                for _ in 0..per {
                    chans
                        .iter()
                        .fold(Select::new(), |sel, c| sel.recv(c, |r| r.is_ok()))
                        .run();
                }
            });
        }
    });
}

#[test]
fn selecting_senders_meet_selecting_receivers_on_rendezvous_channels() {
    select_both(0, 200);
}

#[test]
fn selecting_senders_meet_selecting_receivers_on_buffered_channels() {
    select_both(1, 200);
    select_both(8, 200);
}

//! Scenario tests of `gochan::chan`: the send/receive paths of `runtime/chan.go`, close, nil
//! channels and `select`. No sleeps: a test that needs a thread to be parked first waits for the
//! channel to report it in `waiting()`.

mod common;
use common::{until_receivers, until_senders};

use std::collections::VecDeque;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use gochan::chan::{Chan, CloseError, RecvError, Select, SendError, TryRecvError, TrySendError};
use proptest::prelude::*;

// A buffered channel accepts `cap` values without a receiver, then a non-blocking send reports full.
#[test]
fn buffered_channel_accepts_cap_values_then_is_full() {
    let ch = Chan::new(3);
    for i in 0..3 {
        assert_eq!(ch.try_send(i), Ok(()));
    }
    assert_eq!(ch.len(), 3);
    assert_eq!(ch.cap(), 3);
    assert_eq!(ch.try_send(9), Err(TrySendError::Full(9)));
    assert_eq!((ch.recv(), ch.recv(), ch.recv()), (Ok(0), Ok(1), Ok(2)));
    assert_eq!(ch.try_recv(), Err(TryRecvError::Empty));
}

// Capacity 0 is a rendezvous: with nobody receiving a non-blocking send fails; with a receiver parked
// it succeeds.
#[test]
fn unbuffered_send_needs_a_parked_receiver() {
    let ch = Chan::new(0);
    assert_eq!(ch.try_send(1), Err(TrySendError::Full(1)));
    thread::scope(|s| {
        let rx = s.spawn(|| ch.recv());
        until_receivers(&ch, 1);
        assert_eq!(ch.try_send(7), Ok(()));
        assert_eq!(rx.join().unwrap(), Ok(7));
    });
}

// A send that finds a parked receiver hands the value straight to it: the buffer never holds it.
#[test]
fn send_to_a_parked_receiver_bypasses_the_buffer() {
    let ch = Chan::new(4);
    thread::scope(|s| {
        let rx = s.spawn(|| ch.recv());
        until_receivers(&ch, 1);
        ch.send(5).unwrap();
        assert_eq!(ch.len(), 0, "the value went to the receiver, not into buf");
        assert_eq!(rx.join().unwrap(), Ok(5));
    });
}

// A receive from a full buffer with a parked sender takes the head and moves the sender's value into
// the freed slot at the tail, so FIFO order holds and the sender is released.
#[test]
fn recv_from_full_buffer_refills_the_tail_from_a_parked_sender() {
    let ch = Chan::new(2);
    ch.send(1).unwrap();
    ch.send(2).unwrap();
    thread::scope(|s| {
        let tx = s.spawn(|| ch.send(3));
        until_senders(&ch, 1);
        assert_eq!(ch.recv(), Ok(1));
        assert_eq!(ch.len(), 2, "the sender's value took the freed slot");
        assert_eq!(ch.waiting(), (0, 0));
        assert_eq!(tx.join().unwrap(), Ok(()));
    });
    assert_eq!((ch.recv(), ch.recv()), (Ok(2), Ok(3)));
}

// Parked senders are served first come, first served.
#[test]
fn parked_senders_are_woken_in_fifo_order() {
    let ch = Chan::new(0);
    thread::scope(|s| {
        for i in 0..4 {
            until_senders(&ch, i);
            let ch = &ch;
            s.spawn(move || ch.send(i).unwrap());
        }
        until_senders(&ch, 4);
        let got: Vec<_> = (0..4).map(|_| ch.recv().unwrap()).collect();
        assert_eq!(got, vec![0, 1, 2, 3]);
    });
}

// close wakes every parked receiver (they report closed) and every parked sender (they get their
// value back: Go would panic).
#[test]
fn close_wakes_all_waiters() {
    let rx_side: Chan<u32> = Chan::new(0);
    let tx_side: Chan<u32> = Chan::new(0);
    thread::scope(|s| {
        let receivers: Vec<_> = (0..4).map(|_| s.spawn(|| rx_side.recv())).collect();
        let senders: Vec<_> = (0..3)
            .map(|i| {
                let tx_side = &tx_side;
                s.spawn(move || tx_side.send(i))
            })
            .collect();
        until_receivers(&rx_side, 4);
        until_senders(&tx_side, 3);
        rx_side.close().unwrap();
        tx_side.close().unwrap();
        for r in receivers {
            assert_eq!(r.join().unwrap(), Err(RecvError::Closed));
        }
        let mut returned: Vec<u32> = senders
            .into_iter()
            .map(|h| h.join().unwrap().unwrap_err().0)
            .collect();
        returned.sort_unstable();
        assert_eq!(returned, vec![0, 1, 2]);
    });
    assert_eq!(rx_side.waiting(), (0, 0));
}

// After close, receives drain what is buffered and only then report closed.
#[test]
fn receives_drain_the_buffer_after_close() {
    let ch = Chan::new(3);
    ch.send("a").unwrap();
    ch.send("b").unwrap();
    ch.close().unwrap();
    assert_eq!(ch.recv(), Ok("a"));
    assert_eq!(ch.try_recv(), Ok("b"));
    assert_eq!(ch.recv(), Err(RecvError::Closed));
    assert_eq!(ch.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(ch.iter().count(), 0);
}

// Sending on a closed channel, closing twice and closing nil are errors (Go panics).
#[test]
fn send_on_closed_and_double_close_are_errors() {
    let ch = Chan::new(1);
    ch.close().unwrap();
    assert_eq!(ch.send(1), Err(SendError(1)));
    assert_eq!(ch.try_send(2), Err(TrySendError::Closed(2)));
    assert_eq!(ch.close(), Err(CloseError::AlreadyClosed));
    assert_eq!(Chan::<i32>::nil().close(), Err(CloseError::Nil));
}

// A nil channel is never ready: non-blocking operations fail, select skips its cases.
#[test]
fn nil_channel_is_never_ready() {
    let nil: Chan<i32> = Chan::nil();
    assert!(nil.is_nil());
    assert_eq!(nil.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(nil.try_recv(), Err(TryRecvError::Empty));
    assert_eq!((nil.len(), nil.cap()), (0, 0));
    let ready = Chan::new(1);
    for _ in 0..200 {
        ready.send(1).unwrap();
        let which = Select::new()
            .recv(&nil, |_| "nil recv")
            .send(&nil, 3, |_| "nil send")
            .recv(&ready, |_| "ready")
            .run();
        assert_eq!(which, "ready");
    }
    let which = Select::new()
        .recv(&nil, |_| "nil")
        .default_case(|| "default")
        .run();
    assert_eq!(which, "default");
    let which = Select::new()
        .send(&nil, 1, |_| "nil")
        .after(Duration::from_millis(1), || "timeout")
        .run();
    assert_eq!(which, "timeout");
}

// select with default takes default when nothing is ready, and a ready case otherwise.
#[test]
fn select_default_runs_only_when_nothing_is_ready() {
    let a: Chan<i32> = Chan::new(0);
    let b: Chan<i32> = Chan::new(1);
    let got = Select::new()
        .recv(&a, |_| 1)
        .recv(&b, |_| 2)
        .default_case(|| 0)
        .run();
    assert_eq!(got, 0);
    b.send(5).unwrap();
    let got = Select::new()
        .recv(&a, |_| 1)
        .recv(&b, |v| v.unwrap() * 10)
        .default_case(|| 0)
        .run();
    assert_eq!(got, 50);
}

// select with a timeout gives up after the deadline and leaves no sudog behind.
#[test]
fn select_timeout_fires_and_dequeues_its_waiters() {
    let a: Chan<i32> = Chan::new(0);
    let b: Chan<i32> = Chan::new(0);
    let got = Select::new()
        .recv(&a, |_| "a")
        .send(&b, 1, |_| "b")
        .after(Duration::from_millis(5), || "timeout")
        .run();
    assert_eq!(got, "timeout");
    assert_eq!(a.waiting(), (0, 0));
    assert_eq!(b.waiting(), (0, 0));
}

// A blocked select parks on every channel; the first one to fire wins and the select's other
// sudogs are removed.
#[test]
fn blocked_select_is_woken_by_one_channel_and_leaves_the_others_clean() {
    let a: Chan<i32> = Chan::new(0);
    let b: Chan<i32> = Chan::new(0);
    let c: Chan<i32> = Chan::new(0);
    thread::scope(|s| {
        let sel = s.spawn(|| {
            Select::new()
                .recv(&a, |v| ("a", v.unwrap()))
                .recv(&b, |v| ("b", v.unwrap()))
                .send(&c, 9, |r| ("c", r.map(|()| 0).unwrap()))
                .run()
        });
        until_receivers(&b, 1);
        b.send(42).unwrap();
        assert_eq!(sel.join().unwrap(), ("b", 42));
    });
    // The select removed its entries from a and c after waking.
    assert_eq!(
        (a.waiting(), b.waiting(), c.waiting()),
        ((0, 0), (0, 0), (0, 0))
    );
    assert_eq!(c.try_recv(), Err(TryRecvError::Empty));
}

// A blocked select's send case is completed by a receiver, and close wakes a select.
#[test]
fn blocked_select_send_is_taken_by_a_receiver_and_close_wakes_a_select() {
    let a: Chan<i32> = Chan::new(0);
    let b: Chan<i32> = Chan::new(0);
    thread::scope(|s| {
        let sel = s.spawn(|| {
            Select::new()
                .send(&a, 11, |r| r.is_ok())
                .recv(&b, |_| false)
                .run()
        });
        until_senders(&a, 1);
        assert_eq!(a.recv(), Ok(11));
        assert!(sel.join().unwrap());

        let sel = s.spawn(|| Select::new().recv(&a, |v| v).recv(&b, |v| v).run());
        until_receivers(&b, 1);
        b.close().unwrap();
        assert_eq!(sel.join().unwrap(), Err(RecvError::Closed));
    });
}

// A select may name one channel twice (Go's selectgo locks it once); it must not deadlock.
#[test]
fn select_on_the_same_channel_twice() {
    let ch: Chan<i32> = Chan::new(1);
    let first = Select::new()
        .recv(&ch, |_| "recv")
        .send(&ch, 1, |_| "send")
        .run();
    assert_eq!(first, "send");
    let second = Select::new()
        .send(&ch, 2, |_| "send")
        .recv(&ch, |_| "recv")
        .run();
    assert_eq!(second, "recv");
}

// Go's spec: "If one or more of the communications can proceed, a single one that can proceed is
// chosen via a uniform pseudo-random selection." Four always-ready (closed) channels, 20 000 selects:
// each is expected 5 000 times with a standard deviation of about 61; the window 4 000..6 000 is
// more than 16 deviations wide on each side, while a biased choice (say always the first ready case)
// lands far outside.
#[test]
fn select_chooses_uniformly_among_ready_cases() {
    let chans: Vec<Chan<()>> = (0..4).map(|_| Chan::new(0)).collect();
    for c in &chans {
        c.close().unwrap();
    }
    let mut counts = [0u32; 4];
    for _ in 0..20_000 {
        let i = Select::new()
            .recv(&chans[0], |_| 0)
            .recv(&chans[1], |_| 1)
            .recv(&chans[2], |_| 2)
            .recv(&chans[3], |_| 3)
            .run();
        counts[i] += 1;
    }
    assert!(is_roughly_uniform(&counts, 20_000), "counts {counts:?}");
    // The rule can fail: an always-first choice is rejected.
    assert!(!is_roughly_uniform(&[20_000, 0, 0, 0], 20_000));
}

/// Every bucket within ±20% of its share.
fn is_roughly_uniform(counts: &[u32], total: u32) -> bool {
    let share = f64::from(total) / counts.len() as f64;
    counts
        .iter()
        .all(|&c| (f64::from(c) - share).abs() <= 0.2 * share)
}

// Many producers and consumers on one channel: every value is delivered exactly once.
#[test]
fn every_value_is_delivered_exactly_once_under_contention() {
    for cap in [0, 1, 7] {
        let ch: Chan<u32> = Chan::new(cap);
        let start = Barrier::new(6);
        let mut received: Vec<u32> = thread::scope(|s| {
            let producers: Vec<_> = (0..3u32)
                .map(|p| {
                    let (ch, start) = (&ch, &start);
                    s.spawn(move || {
                        start.wait();
                        for i in 0..500 {
                            ch.send(p * 1000 + i).unwrap();
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..3)
                .map(|_| {
                    let (ch, start) = (&ch, &start);
                    s.spawn(move || {
                        start.wait();
                        ch.iter().collect::<Vec<_>>()
                    })
                })
                .collect();
            for p in producers {
                p.join().unwrap();
            }
            // Every send has completed, so closing now loses nothing: consumers drain and stop.
            ch.close().unwrap();
            consumers
                .into_iter()
                .flat_map(|c| c.join().unwrap())
                .collect()
        });
        received.sort_unstable();
        let expected: Vec<u32> = (0..3u32)
            .flat_map(|p| (0..500).map(move |i| p * 1000 + i))
            .collect();
        assert_eq!(received, expected, "cap {cap}");
    }
}

// A select of several threads, each both sending and receiving, never loses or duplicates a value
// and never deadlocks (locks are taken in address order).
#[test]
fn concurrent_selects_over_shared_channels_lose_nothing() {
    let a: Chan<u32> = Chan::new(0);
    let b: Chan<u32> = Chan::new(2);
    let total: u32 = thread::scope(|s| {
        for t in 0..2u32 {
            let (a, b) = (&a, &b);
            s.spawn(move || {
                for i in 0..400 {
                    let v = t * 1000 + i;
                    Select::new().send(a, v, |_| ()).send(b, v, |_| ()).run();
                }
            });
        }
        let takers: Vec<_> = (0..2)
            .map(|_| {
                let (a, b) = (&a, &b);
                s.spawn(move || {
                    let mut sum = 0u32;
                    for _ in 0..400 {
                        sum += Select::new()
                            .recv(a, |v| v.unwrap())
                            .recv(b, |v| v.unwrap())
                            .run();
                    }
                    sum
                })
            })
            .collect();
        takers.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let expected: u32 = (0..2u32)
        .flat_map(|t| (0..400).map(move |i| t * 1000 + i))
        .sum();
    assert_eq!(total, expected);
    assert_eq!((a.waiting(), b.waiting(), b.len()), ((0, 0), (0, 0), 0));
}

// The buffered path is a FIFO queue of capacity `cap` that refuses sends once closed. Checked
// against a `VecDeque` model on random single-threaded sequences.
#[derive(Debug, Clone)]
enum Op {
    Send(u8),
    Recv,
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(Op::Send),
        4 => Just(Op::Recv),
        1 => Just(Op::Close),
    ]
}

proptest! {
    #[test]
    fn single_threaded_behaviour_matches_a_vecdeque(cap in 0usize..5, ops in prop::collection::vec(op(), 0..60)) {
        let ch = Chan::new(cap);
        let mut model: VecDeque<u8> = VecDeque::new();
        let mut closed = false;
        for op in ops {
            match op {
                Op::Send(v) => {
                    let expected = if closed {
                        Err(TrySendError::Closed(v))
                    } else if model.len() == cap {
                        Err(TrySendError::Full(v))
                    } else {
                        model.push_back(v);
                        Ok(())
                    };
                    prop_assert_eq!(ch.try_send(v), expected);
                }
                Op::Recv => {
                    let expected = match model.pop_front() {
                        Some(v) => Ok(v),
                        None if closed => Err(TryRecvError::Closed),
                        None => Err(TryRecvError::Empty),
                    };
                    prop_assert_eq!(ch.try_recv(), expected);
                }
                Op::Close => {
                    let expected = if closed { Err(CloseError::AlreadyClosed) } else { Ok(()) };
                    closed = true;
                    prop_assert_eq!(ch.close(), expected);
                }
            }
            prop_assert_eq!(ch.len(), model.len());
            prop_assert_eq!(ch.is_closed(), closed);
        }
    }
}

// Clones are handles to one channel, like copies of a Go chan value.
#[test]
fn clones_share_one_channel() {
    let a = Chan::new(1);
    let b = a.clone();
    a.send(1).unwrap();
    assert_eq!(b.recv(), Ok(1));
    let c = Arc::new(b);
    assert_eq!(c.cap(), 1);
}

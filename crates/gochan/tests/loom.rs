//! loom models of the channel's hand-offs: every interleaving of the threads below (up to a bound
//! on preemptions) is run, and each must deliver what the Go semantics promise, without deadlock
//! and without leaking a sudog or a parker.
//!
//! The channel code is the crate's own, built against loom's `Arc`, `Mutex` and `Condvar` (see
//! `src/chan/sync.rs`). Run with
//!
//! ```text
//! RUSTFLAGS="--cfg gochan_loom" CARGO_TARGET_DIR=target/loom cargo test -p gochan --release --test loom
//! ```
//!
//! (`gochan_loom`, not `loom`: with `--cfg loom` some dependencies switch to their own loom mode
//! and do not build.) `LOOM_MAX_PREEMPTIONS` overrides the bound of 3 used here.
//!
//! Each model has at most three threads. A value that could be lost or delivered twice would show
//! up as a failed assertion; a waiter that nobody wakes, as loom's deadlock report.
#![cfg(gochan_loom)]

use gochan::chan::{Chan, RecvError, Select, SendError};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use loom::thread;

/// Runs `f` under loom with at most three preemptions per execution (unless `LOOM_MAX_PREEMPTIONS`
/// says otherwise), and reports how many executions loom explored.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    // A plain std counter: loom does not model it, it only counts the executions.
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&runs);
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    let name = std::thread::current().name().unwrap_or("model").to_string();
    eprintln!(
        "{name}: {} executions explored",
        runs.load(std::sync::atomic::Ordering::Relaxed)
    );
}

// Unbuffered send and receive meet: whichever arrives first parks, the other completes it, and
// the value arrives.
#[test]
fn unbuffered_rendezvous_delivers_the_value() {
    model(|| {
        let ch = Chan::new(0);
        let tx = ch.clone();
        let sender = thread::spawn(move || tx.send(7));
        assert_eq!(ch.recv(), Ok(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(ch.waiting(), (0, 0));
    });
}

// Capacity 1, two senders, one receiver: the buffer, direct hand-offs and parked senders together
// lose nothing, and one sender's values arrive in the order it sent them.
#[test]
fn buffered_two_senders_lose_nothing_and_keep_per_sender_order() {
    model(|| {
        let ch = Chan::new(1);
        let (a, b) = (ch.clone(), ch.clone());
        let sender_a = thread::spawn(move || {
            a.send(1).unwrap();
            a.send(2).unwrap();
        });
        let sender_b = thread::spawn(move || b.send(10).unwrap());
        let got: Vec<i32> = (0..3).map(|_| ch.recv().unwrap()).collect();
        sender_a.join().unwrap();
        sender_b.join().unwrap();
        let mut sorted = got.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [1, 2, 10], "received {got:?}");
        let pos = |v| got.iter().position(|&x| x == v);
        assert!(pos(1) < pos(2), "sender A's values out of order: {got:?}");
        assert_eq!(ch.snapshot().map(|s| s.qcount), Some(0));
    });
}

// close while a receiver waits (or before it arrives): it comes back with Closed, never hangs.
#[test]
fn close_wakes_a_parked_receiver_with_closed() {
    model(|| {
        let ch: Chan<i32> = Chan::new(0);
        let rx = ch.clone();
        let receiver = thread::spawn(move || rx.recv());
        ch.close().unwrap();
        assert_eq!(receiver.join().unwrap(), Err(RecvError::Closed));
        assert_eq!(ch.waiting(), (0, 0));
    });
}

// close while a sender waits on a full buffer: the sender gets its own value back, and the
// buffered value is still received after the close.
#[test]
fn close_hands_a_parked_sender_its_value_back() {
    model(|| {
        let ch = Chan::new(1);
        ch.send(1).unwrap();
        let tx = ch.clone();
        let sender = thread::spawn(move || tx.send(2));
        ch.close().unwrap();
        assert_eq!(sender.join().unwrap(), Err(SendError(2)));
        assert_eq!(ch.recv(), Ok(1), "the buffered value survives close");
        assert_eq!(ch.recv(), Err(RecvError::Closed));
    });
}

// A select receiving from two unbuffered channels, each with a sender: exactly one case completes,
// and the other sender's value is left with its sender, still there to be received afterwards.
#[test]
fn select_completes_exactly_one_of_two_ready_cases() {
    model(|| {
        let (a, b) = (Chan::new(0), Chan::new(0));
        let (ta, tb) = (a.clone(), b.clone());
        let sender_a = thread::spawn(move || ta.send(1));
        let sender_b = thread::spawn(move || tb.send(2));
        let (got, other) = Select::new()
            .recv(&a, |v| (v, &b))
            .recv(&b, |v| (v, &a))
            .run();
        let got = got.unwrap();
        // If the select had taken both values, this receive would wait forever (a deadlock loom
        // reports).
        let rest = other.recv().unwrap();
        let mut both = [got, rest];
        both.sort_unstable();
        assert_eq!(both, [1, 2]);
        assert_eq!(sender_a.join().unwrap(), Ok(()));
        assert_eq!(sender_b.join().unwrap(), Ok(()));
        assert_eq!((a.waiting(), b.waiting()), ((0, 0), (0, 0)));
    });
}

// A select sending on one channel while also waiting on an idle one, against a plain receiver:
// the send completes, the receiver gets the value, and the idle case's waiter is withdrawn.
#[test]
fn select_send_meets_a_receiver_and_withdraws_its_other_case() {
    model(|| {
        let ch = Chan::new(0);
        let idle: Chan<i32> = Chan::new(0);
        let rx = ch.clone();
        let receiver = thread::spawn(move || rx.recv());
        let which = Select::new()
            .send(&ch, 5, |r| r.map(|()| "sent"))
            .recv(&idle, |_| Ok("idle"))
            .run();
        assert_eq!(which.map_err(|e| e.0), Ok("sent"));
        assert_eq!(receiver.join().unwrap(), Ok(5));
        assert_eq!(idle.waiting(), (0, 0), "the losing waiter was withdrawn");
        assert_eq!(ch.waiting(), (0, 0));
    });
}

// A select that names one channel twice locks it once; exactly one of the two cases receives the
// sender's value, and neither waiter is left behind.
#[test]
fn select_naming_one_channel_twice() {
    model(|| {
        let ch = Chan::new(0);
        let tx = ch.clone();
        let sender = thread::spawn(move || tx.send(9));
        let (case, got) = Select::new()
            .recv(&ch, |v| (0, v))
            .recv(&ch, |v| (1, v))
            .run();
        assert!(case == 0 || case == 1);
        assert_eq!(got, Ok(9));
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(ch.waiting(), (0, 0));
    });
}

// A select that sends and receives on the same unbuffered channel never pairs with itself; an
// outside receiver takes its send.
#[test]
fn select_sending_and_receiving_on_one_channel_does_not_meet_itself() {
    model(|| {
        let ch = Chan::new(0);
        let rx = ch.clone();
        let receiver = thread::spawn(move || rx.recv());
        let which = Select::new()
            .send(&ch, 3, |_| "sent")
            .recv(&ch, |_| "received")
            .run();
        assert_eq!(which, "sent");
        assert_eq!(receiver.join().unwrap(), Ok(3));
        assert_eq!(ch.waiting(), (0, 0));
    });
}

// A select with a timeout racing a sender (under loom the timer may fire at any moment): either the
// value arrives through the select, or the select times out and the value is still with its
// sender, received afterwards. Never lost, never twice.
#[test]
fn select_timeout_races_a_sender_without_losing_the_value() {
    model(|| {
        let ch = Chan::new(0);
        let tx = ch.clone();
        let sender = thread::spawn(move || tx.send(4));
        let got = Select::new()
            .recv(&ch, |v| v.ok())
            .after(std::time::Duration::from_millis(1), || None)
            .run();
        let value = match got {
            Some(v) => v,
            None => ch.recv().unwrap(),
        };
        assert_eq!(value, 4);
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(ch.waiting(), (0, 0));
    });
}

// go-10, the happens-before edge: a plain (Relaxed) write made before a send is visible to the
// receiver once its receive returned, because both went through the channel's lock. loom lets a
// Relaxed load return any value not ruled out by happens-before, so without that edge it would
// find an execution that reads 0 (see the next model).
#[test]
fn a_write_before_the_send_is_visible_after_the_receive() {
    model(|| {
        let data = Arc::new(AtomicUsize::new(0));
        let ch = Chan::new(0);
        let (tx, written) = (ch.clone(), Arc::clone(&data));
        let sender = thread::spawn(move || {
            written.store(42, Relaxed);
            tx.send(()).unwrap();
        });
        ch.recv().unwrap();
        assert_eq!(data.load(Relaxed), 42);
        sender.join().unwrap();
    });
}

// The counterexample that shows the model above can fail: the same hand-off through a Relaxed flag
// instead of the channel. loom finds the execution where the flag is seen but the data is not.
#[test]
#[should_panic(expected = "not published")]
fn without_the_channel_a_relaxed_flag_does_not_publish_the_write() {
    model(|| {
        let data = Arc::new(AtomicUsize::new(0));
        let ready = Arc::new(AtomicBool::new(false));
        let (written, flag) = (Arc::clone(&data), Arc::clone(&ready));
        let writer = thread::spawn(move || {
            written.store(42, Relaxed);
            flag.store(true, Relaxed);
        });
        if ready.load(Relaxed) {
            assert_eq!(data.load(Relaxed), 42, "not published");
        }
        writer.join().unwrap();
    });
}

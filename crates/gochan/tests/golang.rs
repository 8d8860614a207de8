//! Ports of Go's channel test programs (`test/chan/*.go` in golang/go) to `gochan::chan`, one module
//! per Go file, each linking to the original. Written from what each program checks, not translated
//! line by line. Where the Go program relies on goroutines leaking at exit, the port shuts its threads
//! down by closing channels, so every test joins what it started (except `select3`'s operations on the nil
//! channel, which by definition never return).

mod common;
use common::{until_receivers, until_senders};

use std::thread;

use gochan::chan::{Chan, Select};

/// <https://github.com/golang/go/blob/master/test/chan/doubleselect.go>
///
/// One sender selects over four unbuffered channels; four forwarders each drain one of them into a
/// shared output. If a select could ever complete two of its cases, a value would arrive twice.
mod doubleselect {
    use super::*;
    use std::collections::HashSet;

    /// Go runs 100 000; each hand-off here is an OS-thread wake-up, so fewer keep the test fast.
    const ITERATIONS: u32 = 20_000;

    fn sender(n: u32, chans: &[Chan<u32>; 4]) {
        for i in 0..n {
            Select::new()
                .send(&chans[0], i, |r| r.unwrap())
                .send(&chans[1], i, |r| r.unwrap())
                .send(&chans[2], i, |r| r.unwrap())
                .send(&chans[3], i, |r| r.unwrap())
                .run();
        }
        for c in chans {
            c.close().unwrap();
        }
    }

    fn forward(from: &Chan<u32>, to: &Chan<u32>) {
        for v in from.iter() {
            to.send(v).unwrap();
        }
    }

    #[test]
    fn no_value_is_delivered_twice() {
        let chans: [Chan<u32>; 4] = std::array::from_fn(|_| Chan::new(0));
        let out: Chan<u32> = Chan::new(0);
        let seen = thread::scope(|s| {
            s.spawn(|| sender(ITERATIONS, &chans));
            let forwarders: Vec<_> = chans
                .iter()
                .map(|c| {
                    let out = &out;
                    s.spawn(move || forward(c, out))
                })
                .collect();
            s.spawn(|| {
                for f in forwarders {
                    f.join().unwrap();
                }
                out.close().unwrap();
            });
            let mut seen = HashSet::new();
            for v in out.iter() {
                assert!(seen.insert(v), "got duplicate value {v}");
            }
            seen
        });
        assert_eq!(seen.len(), ITERATIONS as usize);
    }
}

/// <https://github.com/golang/go/blob/master/test/chan/fifo.go>
///
/// Values come out of a buffered channel in the order they went in, and parked senders on an
/// unbuffered channel are served in the order they arrived.
mod fifo {
    use super::*;

    const N: u32 = 10;

    #[test]
    fn asynchronous_fifo() {
        let ch = Chan::new(N as usize);
        for i in 0..N {
            ch.send(i).unwrap();
        }
        for i in 0..N {
            assert_eq!(ch.recv(), Ok(i));
        }
    }

    // Go builds a chain of goroutines: link i waits for its turn on `inp`, then receives from the
    // shared channel and expects the value i, then passes the turn on. The i-th receive must get
    // the i-th send.
    fn link(shared: &Chan<u32>, expected: u32, inp: &Chan<()>, out: &Chan<()>) {
        inp.recv().unwrap();
        assert_eq!(shared.recv(), Ok(expected), "link {expected}");
        out.send(()).unwrap();
    }

    #[test]
    fn synchronous_fifo() {
        let shared: Chan<u32> = Chan::new(0);
        let turns: Vec<Chan<()>> = (0..=N).map(|_| Chan::new(0)).collect();
        thread::scope(|s| {
            for i in 0..N as usize {
                let (shared, inp, out) = (&shared, &turns[i], &turns[i + 1]);
                s.spawn(move || link(shared, i as u32, inp, out));
            }
            turns[0].send(()).unwrap();
            for i in 0..N {
                shared.send(i).unwrap();
            }
            turns[N as usize].recv().unwrap();
        });
    }
}

/// <https://github.com/golang/go/blob/master/test/chan/nonblock.go>
///
/// Non-blocking send and receive (`select` with `default`) on channels of several element types,
/// unbuffered and with a buffer of one: an empty channel never yields a value, a non-blocking send
/// succeeds once a receiver is waiting (or the buffer has room), and a non-blocking receive succeeds
/// once a sender is waiting. Go retries with short sleeps; this port waits until the peer is parked.
mod nonblock {
    use super::*;
    use std::fmt::Debug;

    fn check<T: Clone + PartialEq + Debug + Send + Sync>(buffer: usize, first: T, second: T) {
        let ch: Chan<T> = Chan::new(buffer);

        // Nothing to receive yet.
        let got = Select::new()
            .recv(&ch, |_| "received")
            .default_case(|| "default")
            .run();
        assert_eq!(got, "default", "receive from empty channel");

        thread::scope(|s| {
            // A receiver is (or will be) waiting: a non-blocking send gets through.
            let receiver = s.spawn(|| ch.recv().unwrap());
            if buffer == 0 {
                until_receivers(&ch, 1);
            }
            let sent = Select::new()
                .send(&ch, first.clone(), |r| r.is_ok())
                .default_case(|| false)
                .run();
            assert!(
                sent,
                "non-blocking send with a receiver waiting or room in the buffer"
            );
            assert_eq!(receiver.join().unwrap(), first);

            // A sender is waiting (or has filled the buffer): a non-blocking receive gets its value.
            let sender = s.spawn(|| ch.send(second.clone()).unwrap());
            if buffer == 0 {
                until_senders(&ch, 1);
            } else {
                while ch.is_empty() {
                    thread::yield_now();
                }
            }
            let got = Select::new()
                .recv(&ch, |v| v.ok())
                .default_case(|| None)
                .run();
            assert_eq!(got, Some(second.clone()));
            sender.join().unwrap();
        });
    }

    #[test]
    fn unbuffered_and_buffered_channels_of_several_types() {
        for buffer in [0, 1] {
            check::<i32>(buffer, 123, 234);
            check::<i64>(buffer, 123_456, 234_567);
            check::<bool>(buffer, true, false);
            check::<u16>(buffer, 0xffff, 1);
            check::<String>(buffer, "hello".into(), "hel".into());
        }
    }
}

/// <https://github.com/golang/go/blob/master/test/chan/select.go>
///
/// A select with send cases evaluates every send expression each time it runs, even for a nil
/// channel; a case is switched off by setting its channel to nil; with every case off, `default`
/// runs. Go counts the evaluations (`counter == 10`) and checks which bits arrived.
mod select {
    use super::*;

    struct Values {
        counter: u32,
        shift: u32,
    }

    impl Values {
        fn get(&mut self) -> u32 {
            self.counter += 1;
            1 << self.shift
        }
    }

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Chosen {
        A,
        B,
        Default,
    }

    /// Sends on `a` and `b` until both are switched off (each after one successful send); returns
    /// how many sends succeeded.
    fn send(vals: &mut Values, a: &Chan<u32>, b: &Chan<u32>) -> u32 {
        let nil = Chan::nil();
        let (mut a, mut b) = (a, b);
        let mut sent = 0;
        loop {
            // Both expressions are evaluated before the select chooses, as in Go.
            let (va, vb) = (vals.get(), vals.get());
            let chosen = Select::new()
                .send(a, va, |r| r.map(|()| Chosen::A).unwrap_or(Chosen::Default))
                .send(b, vb, |r| r.map(|()| Chosen::B).unwrap_or(Chosen::Default))
                .default_case(|| Chosen::Default)
                .run();
            match chosen {
                Chosen::A => a = &nil,
                Chosen::B => b = &nil,
                Chosen::Default => return sent,
            }
            sent += 1;
            vals.shift += 1;
        }
    }

    #[test]
    fn send_expressions_are_evaluated_and_nil_cases_are_skipped() {
        let mut vals = Values {
            counter: 0,
            shift: 0,
        };
        let a = Chan::new(1);
        let b = Chan::new(1);
        assert_eq!(send(&mut vals, &a, &b), 2);
        let (av, bv) = (a.recv().unwrap(), b.recv().unwrap());
        assert_eq!(av | bv, 3, "one case got bit 0, the other bit 1");
        assert_eq!(send(&mut vals, &a, &Chan::nil()), 1);
        assert_eq!(vals.counter, 10);
    }
}

/// <https://github.com/golang/go/blob/master/test/chan/sieve1.go>
///
/// The concurrent prime sieve: a generator feeds 2, 3, 4, ... into a chain of filters, one thread
/// per prime found so far, each dropping the multiples of its prime. The first 25 primes must come
/// out in order. Go's program leaves its goroutines blocked at exit; here closing `primes` makes each
/// stage's next send fail, and each stage then closes its input so the stage before it stops too.
mod sieve1 {
    use super::*;

    fn generate(ch: &Chan<u32>) {
        let mut i = 2;
        while ch.send(i).is_ok() {
            i += 1;
        }
    }

    fn filter(inp: &Chan<u32>, out: &Chan<u32>, prime: u32) {
        while let Ok(i) = inp.recv() {
            if i % prime != 0 && out.send(i).is_err() {
                break;
            }
        }
        let _ = inp.close();
    }

    fn sieve(primes: &Chan<u32>) {
        thread::scope(|s| {
            let mut ch: Chan<u32> = Chan::new(0);
            {
                let ch = ch.clone();
                s.spawn(move || generate(&ch));
            }
            while let Ok(prime) = ch.recv() {
                if primes.send(prime).is_err() {
                    break;
                }
                let next: Chan<u32> = Chan::new(0);
                let (inp, out) = (ch.clone(), next.clone());
                s.spawn(move || filter(&inp, &out, prime));
                ch = next;
            }
            let _ = ch.close();
        });
    }

    #[test]
    fn first_primes_in_order() {
        let expected = [
            2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83,
            89, 97,
        ];
        let primes: Chan<u32> = Chan::new(0);
        thread::scope(|s| {
            s.spawn(|| sieve(&primes));
            for p in expected {
                assert_eq!(primes.recv(), Ok(p));
            }
            primes.close().unwrap();
        });
    }
}

/// <https://github.com/golang/go/blob/master/test/chan/select6.go>
///
/// Go issue 2075: a select that lost on one channel left that channel's wait queue corrupted when it
/// was the last waiter, so later receivers on it never woke. Here the bad ordering is forced rather
/// than hoped for: a plain receiver parks on `c1` first, then the select parks on `c1` and `c2` (last
/// in `c1`'s queue), then `c2` fires. Both later sends on `c1` must find a receiver.
mod select6 {
    use super::*;

    #[test]
    fn a_lost_select_case_leaves_the_wait_queue_intact() {
        let c1: Chan<bool> = Chan::new(0);
        let c2: Chan<bool> = Chan::new(0);
        let c3: Chan<bool> = Chan::new(0);
        thread::scope(|s| {
            s.spawn(|| c1.recv().unwrap());
            until_receivers(&c1, 1);
            let selector = s.spawn(|| {
                let from_c2 = Select::new().recv(&c1, |_| false).recv(&c2, |_| true).run();
                assert!(from_c2, "nobody sent on c1 yet");
                c3.send(true).unwrap();
                c1.recv().unwrap();
            });
            until_receivers(&c1, 2);
            s.spawn(|| c2.send(true).unwrap());
            c3.recv().unwrap();
            c1.send(true).unwrap();
            c1.send(true).unwrap();
            selector.join().unwrap();
        });
    }
}

/// <https://github.com/golang/go/blob/master/test/chan/select7.go>
///
/// Every combination of three ways to receive (plain, one-case select, two-case select) with three
/// ways to send (plain, one-case select, two-case select) hands the value over and returns, the value
/// being discarded by the receiver. Go yields with `runtime.Gosched` to let the receiver park first;
/// this port waits until it has.
mod select7 {
    use super::*;

    fn recv1(c: &Chan<i32>) {
        c.recv().unwrap();
    }

    fn recv2(c: &Chan<i32>) {
        Select::new().recv(c, |v| v.unwrap()).run();
    }

    fn recv3(c: &Chan<i32>) {
        let c2 = Chan::new(0);
        Select::new()
            .recv(c, |v| v.unwrap())
            .recv(&c2, |v| v.unwrap())
            .run();
    }

    fn send1(c: &Chan<i32>) {
        c.send(1).unwrap();
    }

    fn send2(c: &Chan<i32>) {
        Select::new().send(c, 1, |r| r.unwrap()).run();
    }

    fn send3(c: &Chan<i32>) {
        let c2 = Chan::new(0);
        Select::new()
            .send(c, 1, |r| r.unwrap())
            .send(&c2, 1, |r| r.unwrap())
            .run();
    }

    #[test]
    fn every_send_form_meets_every_receive_form() {
        let receivers: [fn(&Chan<i32>); 3] = [recv1, recv2, recv3];
        let senders: [fn(&Chan<i32>); 3] = [send1, send2, send3];
        for recv in receivers {
            for send in senders {
                let c = Chan::new(0);
                thread::scope(|s| {
                    s.spawn(|| recv(&c));
                    until_receivers(&c, 1);
                    send(&c);
                });
                assert_eq!(c.waiting(), (0, 0));
            }
        }
    }
}

/// <https://github.com/golang/go/blob/master/test/chan/goroutines.go>
///
/// A chain of goroutines, each forwarding one value from its right neighbour to its left one, all
/// parked on unbuffered channels until a value enters at the far right. Go starts 10 000
/// goroutines; this port starts 200 OS threads.
mod goroutines {
    use super::*;

    const N: usize = 200;

    #[test]
    fn a_value_passes_down_a_chain_of_parked_threads() {
        let links: Vec<Chan<i32>> = (0..=N).map(|_| Chan::new(0)).collect();
        thread::scope(|s| {
            for pair in links.windows(2) {
                let (left, right) = (&pair[0], &pair[1]);
                s.spawn(move || left.send(right.recv().unwrap()).unwrap());
            }
            s.spawn(|| links[N].send(1).unwrap());
            assert_eq!(links[0].recv(), Ok(1));
        });
    }
}

/// <https://github.com/golang/go/blob/master/test/chan/select3.go>
///
/// Which operations block and which never do: nil channels block (and are never chosen by a
/// `select`), a buffered send with room and any receive from a closed channel never block, a send to
/// a closed channel is an error (Go panics), `select {}` and a `select` of nil cases block, a
/// `default` makes any `select` non-blocking, and a `select` that sends and receives on the same
/// unbuffered channel cannot pair with itself.
///
/// Go decides "blocked" by racing the operation against a 0.1 s sleep. Where a channel is involved
/// this port decides it exactly instead: the operation is blocked when its waiter is parked on the
/// channel (`waiting()`), and the test then unblocks it and joins the thread. Only operations on the
/// nil channel (and `select {}`) can never be unblocked; for those the thread is checked to be still
/// running after a grace period and is then left parked, as Go leaves its goroutine.
mod select3 {
    use super::*;
    use gochan::chan::{RecvError, TryRecvError, TrySendError};
    use std::sync::mpsc;
    use std::time::Duration;

    /// Runs `f` on a detached thread and reports whether it is still running after `grace`. Only for
    /// operations that can never finish (they involve no channel that could be observed).
    fn still_running_after(grace: Duration, f: impl FnOnce() + Send + 'static) -> bool {
        let (done_tx, done_rx) = mpsc::channel();
        thread::spawn(move || {
            f();
            let _ = done_tx.send(());
        });
        done_rx.recv_timeout(grace).is_err()
    }

    const GRACE: Duration = Duration::from_millis(100);

    #[test]
    fn the_grace_period_check_can_tell_both_ways() {
        assert!(!still_running_after(GRACE, || {}));
        let gate = Chan::<()>::new(0);
        let g = gate.clone();
        assert!(still_running_after(GRACE, move || {
            let _ = g.recv();
        }));
        gate.close().unwrap();
    }

    #[test]
    fn plain_operations_on_the_nil_channel_block_forever() {
        assert!(still_running_after(GRACE, || {
            let _ = Chan::<i32>::nil().send(7);
        }));
        assert!(still_running_after(GRACE, || {
            let _ = Chan::<i32>::nil().recv();
        }));
    }

    #[test]
    fn a_select_never_chooses_a_nil_case() {
        let nil = Chan::<i32>::nil();
        let took = Select::new()
            .send(&nil, 7, |_| "send")
            .default_case(|| "default")
            .run();
        assert_eq!(took, "default");
        let took = Select::new()
            .recv(&nil, |_| "recv")
            .default_case(|| "default")
            .run();
        assert_eq!(took, "default");
    }

    #[test]
    fn a_buffered_send_with_room_completes_without_a_receiver() {
        let ch = Chan::new(1);
        ch.send(7).unwrap();
        assert_eq!(ch.len(), 1);
    }

    #[test]
    fn receives_from_a_closed_channel_never_block() {
        let closed = Chan::<i32>::new(0);
        closed.close().unwrap();
        for _ in 0..10 {
            assert_eq!(closed.recv(), Err(RecvError::Closed));
            assert_eq!(closed.try_recv(), Err(TryRecvError::Closed));
        }
    }

    #[test]
    fn sending_to_a_closed_channel_is_an_error() {
        let closed = Chan::new(0);
        closed.close().unwrap();
        assert_eq!(closed.send(7).map_err(|e| e.0), Err(7));
        assert!(matches!(closed.try_send(7), Err(TrySendError::Closed(7))));
        let got = Select::new().send(&closed, 7, |r| r.map_err(|e| e.0)).run();
        assert_eq!(got, Err(7));
    }

    #[test]
    fn a_receive_with_nothing_to_take_parks_until_a_sender_comes() {
        let ch = Chan::new(0);
        thread::scope(|s| {
            let r = s.spawn(|| ch.recv());
            until_receivers(&ch, 1);
            ch.send(1).unwrap();
            assert_eq!(r.join().unwrap(), Ok(1));
        });
    }

    #[test]
    fn an_empty_select_and_a_select_of_nil_cases_block_forever() {
        assert!(still_running_after(GRACE, || Select::<()>::new().run()));
        assert!(still_running_after(GRACE, || {
            let nil = Chan::<i32>::nil();
            Select::new().recv(&nil, |_| ()).run();
        }));
        assert!(still_running_after(GRACE, || {
            let nil = Chan::<i32>::nil();
            Select::new().send(&nil, 7, |_| ()).run();
        }));
        assert!(still_running_after(GRACE, || {
            let nil = Chan::<i32>::nil();
            Select::new().recv(&nil, |_| ()).send(&nil, 7, |_| ()).run();
        }));
    }

    #[test]
    fn a_select_on_a_channel_that_is_not_ready_parks_on_it() {
        let ch = Chan::new(0);
        thread::scope(|s| {
            let r = s.spawn(|| Select::new().recv(&ch, |v| v).run());
            until_receivers(&ch, 1);
            ch.send(5).unwrap();
            assert_eq!(r.join().unwrap(), Ok(5));
        });
    }

    #[test]
    fn a_default_makes_a_select_non_blocking() {
        let nil = Chan::<i32>::nil();
        assert_eq!(Select::<&str>::new().default_case(|| "d").run(), "d");
        let not_ready = Chan::<i32>::new(0);
        let took = Select::new()
            .recv(&nil, |_| "nil")
            .recv(&not_ready, |_| "ch")
            .default_case(|| "d")
            .run();
        assert_eq!(took, "d");
        assert_eq!(
            not_ready.waiting(),
            (0, 0),
            "a default select leaves no waiter"
        );
    }

    #[test]
    fn ready_cases_are_taken_instead_of_default() {
        let ch = Chan::new(1);
        let took = Select::new()
            .send(&ch, 7, |r| r.is_ok())
            .default_case(|| false)
            .run();
        assert!(took, "a buffered channel with room is ready to send");
        let got = Select::new()
            .recv(&ch, |v| v)
            .default_case(|| Err(RecvError::Closed))
            .run();
        assert_eq!(got, Ok(7), "a buffered value is ready to receive");
    }

    #[test]
    fn closed_channels_in_a_select_behave_like_plain_operations() {
        let closed = Chan::<i32>::new(0);
        closed.close().unwrap();
        assert_eq!(
            Select::new().recv(&closed, |v| v).run(),
            Err(RecvError::Closed)
        );
    }

    #[test]
    fn a_select_does_not_pair_its_send_with_its_own_receive() {
        let ch = Chan::new(0);
        thread::scope(|s| {
            let sel = s.spawn(|| {
                Select::new()
                    .send(&ch, 1, |_| "sent")
                    .recv(&ch, |_| "received")
                    .run()
            });
            // Both of the select's waiters are parked on the same channel, and neither completed
            // the other.
            while ch.waiting() != (1, 1) {
                thread::yield_now();
            }
            assert_eq!(
                ch.recv(),
                Ok(1),
                "an outside receiver takes the select's send"
            );
            assert_eq!(sel.join().unwrap(), "sent");
            assert_eq!(
                ch.waiting(),
                (0, 0),
                "the losing receive waiter was withdrawn"
            );
        });
    }
}

/// Channel tests from <https://github.com/golang/go/blob/master/src/runtime/chan_test.go> that
/// apply to a channel between OS threads (the ones about stack shrinking, the garbage collector or
/// the scheduler do not).
mod runtime_chan_test {
    use super::*;
    use gochan::chan::TryRecvError;

    /// `TestMultiConsumer`: 23 workers drain a buffered queue (some yield in the middle, to mix up
    /// the order) and forward into a results channel; the feeder closes the queue, waits for the
    /// workers, then closes the results. Nothing is lost or duplicated: count and sum both match.
    /// Fewer iterations than Go's 271 828, so a debug build stays quick.
    #[test]
    fn many_consumers_lose_and_duplicate_nothing() {
        const WORKERS: usize = 23;
        const ITERS: usize = 20_000;
        const PRIMES: [u64; 10] = [2, 3, 7, 11, 13, 17, 19, 23, 27, 31];
        let queue = Chan::new(WORKERS * 3);
        let results = Chan::new(WORKERS * 3);
        let (count, sum, expect) = thread::scope(|s| {
            let workers: Vec<_> = (0..WORKERS)
                .map(|w| {
                    let (queue, results) = (&queue, &results);
                    s.spawn(move || {
                        for v in queue.iter() {
                            if PRIMES[w % PRIMES.len()] == v {
                                thread::yield_now();
                            }
                            results.send(v).unwrap();
                        }
                    })
                })
                .collect();
            let feeder = s.spawn(|| {
                let mut expect = 0;
                for i in 0..ITERS {
                    let v = PRIMES[i % PRIMES.len()];
                    expect += v;
                    queue.send(v).unwrap();
                }
                queue.close().unwrap();
                for w in workers {
                    w.join().unwrap();
                }
                results.close().unwrap();
                expect
            });
            let (mut count, mut sum) = (0, 0);
            for v in results.iter() {
                count += 1;
                sum += v;
            }
            (count, sum, feeder.join().unwrap())
        });
        assert_eq!((count, sum), (ITERS, expect));
    }

    /// `TestPseudoRandomSend`: a `select` with two ready send cases (`1` and `0`) on one channel,
    /// unbuffered and buffered; over 100 selects both values must show up more than 10 times.
    #[test]
    fn a_select_between_two_sends_picks_both() {
        const N: usize = 100;
        for cap in [0, N] {
            let ch = Chan::new(cap);
            let got = thread::scope(|s| {
                let r = s.spawn(|| {
                    (0..N)
                        .map(|_| {
                            thread::yield_now();
                            ch.recv().unwrap()
                        })
                        .collect::<Vec<u8>>()
                });
                for _ in 0..N {
                    Select::new()
                        .send(&ch, 1, |r| r.unwrap())
                        .send(&ch, 0, |r| r.unwrap())
                        .run();
                }
                r.join().unwrap()
            });
            let ones = got.iter().filter(|&&v| v == 1).count();
            let zeros = N - ones;
            assert!(
                ones > N / 10 && zeros > N / 10,
                "cap {cap}: {zeros} zeros and {ones} ones is not pseudo-random"
            );
        }
    }

    /// `TestNonblockRecvRace`: a channel holding one value is closed while another thread tries a
    /// non-blocking receive. Whichever happens first, the channel is ready (a value, or closed), so
    /// the non-blocking receive must never report "empty".
    #[test]
    fn a_non_blocking_receive_racing_close_is_always_ready() {
        for _ in 0..2_000 {
            let ch = Chan::new(1);
            ch.send(1).unwrap();
            let seen = thread::scope(|s| {
                let r = s.spawn(|| ch.try_recv());
                ch.close().unwrap();
                let _ = ch.recv();
                r.join().unwrap()
            });
            assert_ne!(seen, Err(TryRecvError::Empty));
        }
    }

    /// `TestSelfSelect`: two threads each run `select { case c <- p: case v := <-c: }` on one
    /// channel, 1 000 times. On an unbuffered channel a select must never receive its own value (it
    /// cannot pair with itself); with a buffer it may, and nothing deadlocks either way.
    #[test]
    fn selects_that_send_and_receive_on_one_channel_never_pair_with_themselves() {
        for cap in [0, 10] {
            let ch = Chan::new(cap);
            thread::scope(|s| {
                for me in 0..2u8 {
                    let ch = &ch;
                    s.spawn(move || {
                        for _ in 0..1_000 {
                            let received = Select::new()
                                .send(ch, me, |r| {
                                    r.unwrap();
                                    None
                                })
                                .recv(ch, |v| Some(v.unwrap()))
                                .run();
                            if cap == 0 {
                                assert_ne!(
                                    received,
                                    Some(me),
                                    "an unbuffered select received its own value"
                                );
                            }
                        }
                    });
                }
            });
        }
    }
}

// Command go03-rendezvous answers go-03 (is an unbuffered channel's send/receive synchronous?) with
// real Go channels, and prints what it observed as one JSON document.
//
// It makes the same observations as crates/gochan/src/rendezvous.rs, under the same field names:
//
//   - a non-blocking send (select with default) with nobody receiving, on capacity 0 and 1;
//   - a non-blocking receive on an empty unbuffered channel;
//   - over -rounds rounds, ordering evidence without sleeps: each side publishes a counter of its
//     arrivals just before it blocks, and the other side reads it just after its operation returned.
//     Round k (0-based) is the peer's (k+1)-th event, so it had happened when the counter read
//     exceeds k.
//
// Standard library only. Run: cd go && go run ./cmd/go03-rendezvous
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
)

// observations mirrors the Rust struct gochan::rendezvous::Observations field for field.
type observations struct {
	UnbufferedSendAlone                         bool   `json:"unbuffered_send_alone"`
	BufferedSendAlone                           bool   `json:"buffered_send_alone"`
	UnbufferedRecvAlone                         bool   `json:"unbuffered_recv_alone"`
	Rounds                                      uint32 `json:"rounds"`
	SendsCompletedAfterReceiverArrived          uint32 `json:"sends_completed_after_receiver_arrived"`
	BufferedSendsCompletedBeforeReceiverArrived uint32 `json:"buffered_sends_completed_before_receiver_arrived"`
	RecvsCompletedAfterSenderArrived            uint32 `json:"recvs_completed_after_sender_arrived"`
	ReceiversArrivedBeforeSendCompleted         uint32 `json:"receivers_arrived_before_send_completed"`
}

// hadHappened is the rule that decides a round: the peer's event for round k is its (k+1)-th.
func hadHappened(round, counterSeen uint32) bool {
	return counterSeen > round
}

func count(seen []uint32, happened bool) uint32 {
	var n uint32
	for i, s := range seen {
		if hadHappened(uint32(i), s) == happened {
			n++
		}
	}
	return n
}

// sendAlone reports whether a non-blocking send on a fresh channel of the given capacity goes
// through with nobody receiving.
func sendAlone(capacity int) bool {
	ch := make(chan uint32, capacity)
	select {
	case ch <- 1:
		return true
	default:
		return false
	}
}

// recvAlone reports whether a non-blocking receive on a fresh unbuffered channel gets a value with
// nobody sending.
func recvAlone() bool {
	ch := make(chan uint32)
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// unbufferedSendRounds: the receiver counts its arrival and then blocks in <-ch; the sender reads
// that counter right after ch <- v returns.
func unbufferedSendRounds(rounds uint32) []uint32 {
	ch := make(chan uint32)
	var arrivals atomic.Uint32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for round := uint32(0); round < rounds; round++ {
			arrivals.Store(round + 1)
			<-ch
		}
	}()
	seen := make([]uint32, 0, rounds)
	for round := uint32(0); round < rounds; round++ {
		ch <- round
		seen = append(seen, arrivals.Load())
	}
	<-done
	return seen
}

// gatedBufferedSendRounds: capacity 1, and the receiver may only arrive once the sender, after its
// send returned and after reading the arrival counter, opens the gate.
func gatedBufferedSendRounds(rounds uint32) []uint32 {
	ch := make(chan uint32, 1)
	gate := make(chan struct{})
	var arrivals atomic.Uint32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for round := uint32(0); round < rounds; round++ {
			<-gate
			arrivals.Store(round + 1)
			<-ch
		}
	}()
	seen := make([]uint32, 0, rounds)
	for round := uint32(0); round < rounds; round++ {
		ch <- round
		seen = append(seen, arrivals.Load())
		gate <- struct{}{}
	}
	<-done
	return seen
}

// unbufferedRecvRounds: the sender counts its arrival before ch <- v and its completion after; the
// receiver reads completions before <-ch and arrivals after it returns. It returns both readings.
func unbufferedRecvRounds(rounds uint32) (arrivalsAfterRecv, completionsBeforeRecv []uint32) {
	ch := make(chan uint32)
	var arrivals, completions atomic.Uint32
	go func() {
		for round := uint32(0); round < rounds; round++ {
			arrivals.Store(round + 1)
			ch <- round
			completions.Store(round + 1)
		}
	}()
	for round := uint32(0); round < rounds; round++ {
		completed := completions.Load()
		if v := <-ch; v != round {
			break // out of order: the short record fails the counts
		}
		completionsBeforeRecv = append(completionsBeforeRecv, completed)
		arrivalsAfterRecv = append(arrivalsAfterRecv, arrivals.Load())
	}
	return arrivalsAfterRecv, completionsBeforeRecv
}

func main() {
	rounds := flag.Uint("rounds", 2000, "rounds of each ordering experiment")
	flag.Parse()
	if *rounds == 0 || *rounds > 1<<24 {
		fmt.Fprintln(os.Stderr, "go03-rendezvous: -rounds must be between 1 and 16777216")
		os.Exit(2)
	}
	n := uint32(*rounds)

	arrivalsAfterRecv, completionsBeforeRecv := unbufferedRecvRounds(n)
	obs := observations{
		UnbufferedSendAlone:                sendAlone(0),
		BufferedSendAlone:                  sendAlone(1),
		UnbufferedRecvAlone:                recvAlone(),
		Rounds:                             n,
		SendsCompletedAfterReceiverArrived: count(unbufferedSendRounds(n), true),
		BufferedSendsCompletedBeforeReceiverArrived: count(gatedBufferedSendRounds(n), false),
		RecvsCompletedAfterSenderArrived:            count(arrivalsAfterRecv, true),
		ReceiversArrivedBeforeSendCompleted:         count(completionsBeforeRecv, false),
	}
	out, err := json.Marshal(obs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go03-rendezvous:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

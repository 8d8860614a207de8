// Command go20-buffered answers go-20 (are channels synchronous or asynchronous?) with real Go
// channels: for each capacity it measures how far a sender can run ahead of a receiver that has
// not started, and prints one JSON document.
//
// It makes the same observations as crates/gochan/src/buffering.rs, under the same field names,
// for every capacity given with -caps:
//
//   - sends_without_receiver: non-blocking sends (select with default) that go through on a fresh
//     channel before the first one takes default;
//   - len_when_full: len(ch) at that moment;
//   - sends_before_sender_parked: a goroutine makes capacity+1 blocking sends and counts each one
//     that returned; once the runtime reports it parked in "chan send" (runtime.Stack), the count
//     is read. No sleeps: the goroutine's state is polled, with a deadline as a safety net only;
//   - received: one receive releases the parked sender, then the channel is closed and drained
//     with for-range; the values in the order they came out.
//
// And once, for -close-cap: the channel is filled, one more sender parks on it, the channel is
// closed (the parked sender panics with "send on closed channel", recovered and reported), and what
// is left is drained with for-range.
//
// Standard library only. Run: cd go && go run ./cmd/go20-buffered
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"gmrlab/internal/goprobe"
)

// deadline bounds every wait for a goroutine to park. It is a safety net, not a way to order
// anything: the waits end as soon as the runtime reports the state.
const deadline = 5 * time.Second

// runAhead mirrors the Rust struct gochan::buffering::RunAhead field for field.
type runAhead struct {
	Cap                     int   `json:"cap"`
	SendsWithoutReceiver    int   `json:"sends_without_receiver"`
	LenWhenFull             int   `json:"len_when_full"`
	SendsBeforeSenderParked int   `json:"sends_before_sender_parked"`
	Received                []int `json:"received"`
}

// closeDrain mirrors gochan::buffering::CloseDrain.
type closeDrain struct {
	Cap                int   `json:"cap"`
	ParkedSenderFailed bool  `json:"parked_sender_failed"`
	LenAfterClose      int   `json:"len_after_close"`
	Drained            []int `json:"drained"`
}

type report struct {
	GoVersion string     `json:"go_version"`
	Caps      []runAhead `json:"caps"`
	Close     closeDrain `json:"close"`
}

// sendsWithoutReceiver counts the non-blocking sends that go through on a fresh channel of the
// given capacity with nobody receiving, and returns that count and len(ch) afterwards.
func sendsWithoutReceiver(capacity int) (sent, length int) {
	ch := make(chan int, capacity)
	// The bound only stops a runaway loop; a channel that never refuses is reported as such.
	for sent < capacity+100 {
		select {
		case ch <- sent:
			sent++
			continue
		default:
		}
		break
	}
	return sent, len(ch)
}

// sendAll makes n blocking sends of 0, 1, ..., n-1 and counts each one after it returned.
func sendAll(ch chan<- int, n int, completed *atomic.Int64, done chan<- struct{}) {
	defer close(done)
	for i := 0; i < n; i++ {
		ch <- i
		completed.Add(1)
	}
}

// waitParked polls until parkedIn holds, or the deadline passes.
func waitParked(fn, state string) error {
	stop := time.Now().Add(deadline)
	for !goprobe.ParkedIn(fn, state) {
		if time.Now().After(stop) {
			return fmt.Errorf("no goroutine in %s parked in %q within %v", fn, state, deadline)
		}
		runtime.Gosched()
	}
	return nil
}

// observe measures one capacity.
func observe(capacity int) (runAhead, error) {
	r := runAhead{Cap: capacity}
	r.SendsWithoutReceiver, r.LenWhenFull = sendsWithoutReceiver(capacity)

	ch := make(chan int, capacity)
	var completed atomic.Int64
	done := make(chan struct{})
	go sendAll(ch, capacity+1, &completed, done)
	if err := waitParked("main.sendAll", "chan send"); err != nil {
		return r, err
	}
	r.SendsBeforeSenderParked = int(completed.Load())
	r.Received = append(r.Received, <-ch) // releases the parked sender
	<-done
	close(ch)
	for v := range ch {
		r.Received = append(r.Received, v)
	}
	return r, nil
}

// sendOneMore makes one blocking send and reports whether it panicked.
func sendOneMore(ch chan<- int, v int, failed chan<- bool) {
	defer func() { failed <- recover() != nil }()
	ch <- v
}

// closeWhileSenderParked fills a channel, parks one more sender on it, closes it and drains it.
func closeWhileSenderParked(capacity int) (closeDrain, error) {
	r := closeDrain{Cap: capacity, Drained: []int{}}
	ch := make(chan int, capacity)
	for i := 0; i < capacity; i++ {
		ch <- i
	}
	failed := make(chan bool)
	go sendOneMore(ch, capacity, failed)
	parked := waitParked("main.sendOneMore", "chan send")
	close(ch) // also releases the sender if the wait timed out
	r.ParkedSenderFailed = <-failed
	if parked != nil {
		return r, parked
	}
	r.LenAfterClose = len(ch)
	for v := range ch {
		r.Drained = append(r.Drained, v)
	}
	return r, nil
}

func parseCaps(s string) ([]int, error) {
	var caps []int
	for _, f := range strings.Split(s, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 0 || c > 1<<16 {
			return nil, errors.New("-caps must be a comma-separated list of capacities in 0..65536")
		}
		caps = append(caps, c)
	}
	return caps, nil
}

func main() {
	capsFlag := flag.String("caps", "0,1,3,10", "comma-separated channel capacities to measure")
	closeCap := flag.Int("close-cap", 2, "capacity of the close-while-a-sender-is-parked experiment")
	flag.Parse()
	if *closeCap < 0 || *closeCap > 1<<16 {
		fmt.Fprintln(os.Stderr, "go20-buffered: -close-cap must be in 0..65536")
		os.Exit(2)
	}
	caps, err := parseCaps(*capsFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go20-buffered:", err)
		os.Exit(2)
	}
	rep := report{GoVersion: runtime.Version()}
	for _, c := range caps {
		r, err := observe(c)
		if err != nil {
			fmt.Fprintln(os.Stderr, "go20-buffered:", err)
			os.Exit(1)
		}
		rep.Caps = append(rep.Caps, r)
	}
	rep.Close, err = closeWhileSenderParked(*closeCap)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go20-buffered:", err)
		os.Exit(1)
	}
	out, err := json.Marshal(rep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go20-buffered:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

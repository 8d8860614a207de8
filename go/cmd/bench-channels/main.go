// Command bench-channels times Go channels in the shapes of the crossbeam-channel benchmark suite
// (seq, spsc, mpsc, mpmc, select_rx, select_both) for capacities 0, 1 and N, so `lab bench channels`
// can set the Rust channels beside them. It prints one JSON document: ns per message for each run.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// threads is the number of senders (and receivers) in the multi-party shapes, as in crossbeam's suite.
const threads = 4

type result struct {
	Shape    string    `json:"shape"`
	Kind     string    `json:"kind"`
	NsPerMsg []float64 `json:"ns_per_msg"`
}

type report struct {
	GoVersion  string   `json:"go_version"`
	GOMAXPROCS int      `json:"gomaxprocs"`
	Messages   int      `json:"messages"`
	Results    []result `json:"results"`
}

// seq: one goroutine sends every message, then receives them all (needs room for all of them).
func seq(capacity, msgs int) {
	ch := make(chan int, capacity)
	for i := 0; i < msgs; i++ {
		ch <- i
	}
	for i := 0; i < msgs; i++ {
		<-ch
	}
}

// spsc: one sender, one receiver.
func spsc(capacity, msgs int) {
	ch := make(chan int, capacity)
	done := make(chan struct{})
	go func() {
		for i := 0; i < msgs; i++ {
			ch <- i
		}
		close(done)
	}()
	for i := 0; i < msgs; i++ {
		<-ch
	}
	<-done
}

// mpsc: `threads` senders share the messages, one receiver.
func mpsc(capacity, msgs int) {
	ch := make(chan int, capacity)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < msgs/threads; i++ {
				ch <- i
			}
		}()
	}
	for i := 0; i < msgs/threads*threads; i++ {
		<-ch
	}
	wg.Wait()
}

// mpmc: `threads` senders and `threads` receivers.
func mpmc(capacity, msgs int) {
	ch := make(chan int, capacity)
	var wg sync.WaitGroup
	per := msgs / threads
	for t := 0; t < threads; t++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				ch <- i
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				<-ch
			}
		}()
	}
	wg.Wait()
}

func makeChans(capacity int) [threads]chan int {
	var chans [threads]chan int
	for i := range chans {
		chans[i] = make(chan int, capacity)
	}
	return chans
}

// selectRx: each sender has its own channel; one receiver selects over all of them.
func selectRx(capacity, msgs int) {
	chans := makeChans(capacity)
	var wg sync.WaitGroup
	per := msgs / threads
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(ch chan int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				ch <- i
			}
		}(chans[t])
	}
	for i := 0; i < per*threads; i++ {
		select {
		case <-chans[0]:
		case <-chans[1]:
		case <-chans[2]:
		case <-chans[3]:
		}
	}
	wg.Wait()
}

// selectBoth: `threads` senders each select over all channels to send, `threads` receivers select to receive.
func selectBoth(capacity, msgs int) {
	chans := makeChans(capacity)
	var wg sync.WaitGroup
	per := msgs / threads
	for t := 0; t < threads; t++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				select {
				case chans[0] <- i:
				case chans[1] <- i:
				case chans[2] <- i:
				case chans[3] <- i:
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				select {
				case <-chans[0]:
				case <-chans[1]:
				case <-chans[2]:
				case <-chans[3]:
				}
			}
		}()
	}
	wg.Wait()
}

func main() {
	msgs := flag.Int("messages", 1_000_000, "messages per run (rendezvous shapes use a tenth)")
	runs := flag.Int("runs", 5, "repetitions of each measurement")
	flag.Parse()
	if *msgs < threads || *runs <= 0 {
		fmt.Fprintf(os.Stderr, "messages must be at least %d and runs positive\n", threads)
		os.Exit(2)
	}
	shapes := []struct {
		name string
		f    func(capacity, msgs int)
	}{
		{"seq", seq}, {"spsc", spsc}, {"mpsc", mpsc}, {"mpmc", mpmc},
		{"select_rx", selectRx}, {"select_both", selectBoth},
	}
	kinds := []struct {
		name     string
		capacity int
	}{
		{"bounded(0)", 0}, {"bounded(1)", 1}, {"bounded(N)", *msgs},
	}
	rep := report{GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), Messages: *msgs}
	for _, s := range shapes {
		for _, k := range kinds {
			if s.name == "seq" && k.capacity < *msgs {
				continue // seq needs room for every message: it would deadlock
			}
			n := *msgs
			if k.capacity <= 1 {
				n = *msgs / 10 // each message is a hand-off between goroutines: slower, fewer needed
			}
			n = n / threads * threads
			r := result{Shape: s.name, Kind: k.name}
			for i := 0; i < *runs; i++ {
				capacity := k.capacity
				if k.name == "bounded(N)" {
					capacity = n
				}
				start := time.Now()
				s.f(capacity, n)
				r.NsPerMsg = append(r.NsPerMsg, float64(time.Since(start).Nanoseconds())/float64(n))
			}
			rep.Results = append(rep.Results, r)
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

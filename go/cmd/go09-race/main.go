// Command go09-race answers go-09 (how to solve a data race in Go). It counts with several
// goroutines released together, in one of five ways chosen by -variant, and prints what it counted
// as one JSON document:
//
//   - racy:    every goroutine does counter++ on one shared variable with no synchronization. That
//     is a data race (two unsynchronized accesses to one location, at least one a write). Built
//     with -race, the program still prints its count, but the race detector reports
//     "WARNING: DATA RACE" on stderr and the process exits with status 66. Built without -race,
//     increments can be lost.
//   - mutex:   the increment happens inside sync.Mutex Lock/Unlock.
//   - atomic:  the counter is an atomic.Uint64 and the increment is one Add.
//   - channel: one goroutine owns the counter; the others send it increments over a channel.
//   - interleaved: two goroutines each do v := counter, then counter = v + 1, in the order
//     A reads, B reads, A writes, B writes, forced with channels. One update is lost every time,
//     yet -race reports nothing: the channel operations order every access, so there is no data
//     race, only a race condition. (-goroutines and -each do not apply: 2 goroutines, 1 each.)
//
// -attempts repeats the count (up to that many times) and stops at the first attempt whose count is
// not the expected one, so a racy run without -race can show a lost update without a longer loop.
// race_enabled says whether the binary was built with -race (a build tag, see race_on.go).
//
// Standard library only. Run: cd go && go run -race ./cmd/go09-race -variant=racy
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// report mirrors the Rust struct gorace::go_side::GoCount field for field.
type report struct {
	GoVersion   string   `json:"go_version"`
	Gomaxprocs  int      `json:"gomaxprocs"`
	NumCPU      int      `json:"num_cpu"`
	RaceEnabled bool     `json:"race_enabled"`
	Variant     string   `json:"variant"`
	Goroutines  int      `json:"goroutines"`
	Each        int      `json:"each"`
	Expected    uint64   `json:"expected"`
	Counts      []uint64 `json:"counts"`
	ElapsedNs   []int64  `json:"elapsed_ns"`
	// PeakRSSKiB is the process's peak resident memory (VmHWM in /proc/self/status, Linux only;
	// 0 elsewhere). Unlike runtime.MemStats it includes the race detector's shadow memory.
	PeakRSSKiB uint64 `json:"peak_rss_kib"`
}

// peakRSSKiB reads VmHWM from /proc/self/status, or 0 when it cannot.
func peakRSSKiB() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kib
			}
		}
	}
	return 0
}

// release runs body once on each of n new goroutines, released together, and waits for them.
// Each goroutine announces itself and then waits, yielding its P, until all n have announced, so
// that when the bodies start every goroutine is already running or runnable: the bodies overlap
// in time as far as GOMAXPROCS allows. The atomic counter orders only the starts; inside body the
// goroutines are as unsynchronized as body makes them.
func release(n int, body func()) {
	var arrived atomic.Int32
	var done sync.WaitGroup
	for range n {
		done.Add(1)
		go func() {
			defer done.Done()
			arrived.Add(1)
			for arrived.Load() < int32(n) {
				runtime.Gosched()
			}
			body()
		}()
	}
	done.Wait()
}

// racy is the bug: a plain read-modify-write of a shared variable from several goroutines.
func racy(goroutines, each int) uint64 {
	var counter uint64
	release(goroutines, func() {
		for range each {
			counter++
		}
	})
	return counter
}

// withMutex is fix 1: only the goroutine holding mu touches counter.
func withMutex(goroutines, each int) uint64 {
	var mu sync.Mutex
	var counter uint64
	release(goroutines, func() {
		for range each {
			mu.Lock()
			counter++
			mu.Unlock()
		}
	})
	return counter
}

// withAtomic is fix 2: the increment is one indivisible hardware operation.
func withAtomic(goroutines, each int) uint64 {
	var counter atomic.Uint64
	release(goroutines, func() {
		for range each {
			counter.Add(1)
		}
	})
	return counter.Load()
}

// withOwner is fix 3: "share memory by communicating". Only the owner goroutine ever touches
// counter; the others send it increments. Closing the channel after the senders finished ends
// the owner's loop, and the result comes back over a second channel.
func withOwner(goroutines, each int) uint64 {
	incs := make(chan uint64, 128)
	result := make(chan uint64)
	go func() {
		var counter uint64
		for d := range incs {
			counter += d
		}
		result <- counter
	}()
	release(goroutines, func() {
		for range each {
			incs <- 1
		}
	})
	close(incs)
	return <-result
}

// interleaved loses an update without a data race. The main goroutine tells goroutine A or B to
// take its next step (read, then write) and waits for it to finish, in the order A, B, A, B. Each
// handoff is a channel operation, so every access happens before the next one: the race detector
// sees nothing to report, and the count is 1 where 2 was meant.
func interleaved(_, _ int) uint64 {
	var counter uint64
	steps := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	done := make(chan struct{})
	for g := range 2 {
		go func() {
			<-steps[g]
			v := counter
			done <- struct{}{}
			<-steps[g]
			counter = v + 1
			done <- struct{}{}
		}()
	}
	for _, g := range []int{0, 1, 0, 1} {
		steps[g] <- struct{}{}
		<-done
	}
	return counter
}

func main() {
	variant := flag.String("variant", "racy", "racy, mutex, atomic, channel or interleaved")
	goroutines := flag.Int("goroutines", 4, "goroutines incrementing together")
	each := flag.Int("each", 100000, "increments per goroutine")
	attempts := flag.Int("attempts", 1, "repeat up to this many times, stopping at a wrong count")
	flag.Parse()

	count := map[string]func(int, int) uint64{
		"racy":        racy,
		"mutex":       withMutex,
		"atomic":      withAtomic,
		"channel":     withOwner,
		"interleaved": interleaved,
	}[*variant]
	if *variant == "interleaved" {
		*goroutines, *each = 2, 1
	}
	if count == nil || *goroutines < 1 || *each < 1 || *attempts < 1 {
		fmt.Fprintf(os.Stderr, "usage: go09-race -variant=racy|mutex|atomic|channel|interleaved [-goroutines N] [-each N] [-attempts N]\n")
		os.Exit(2)
	}

	r := report{
		GoVersion:   runtime.Version(),
		Gomaxprocs:  runtime.GOMAXPROCS(0),
		NumCPU:      runtime.NumCPU(),
		RaceEnabled: raceEnabled,
		Variant:     *variant,
		Goroutines:  *goroutines,
		Each:        *each,
		Expected:    uint64(*goroutines) * uint64(*each),
	}
	for range *attempts {
		t := time.Now()
		c := count(*goroutines, *each)
		r.ElapsedNs = append(r.ElapsedNs, time.Since(t).Nanoseconds())
		r.Counts = append(r.Counts, c)
		if c != r.Expected {
			break
		}
	}
	r.PeakRSSKiB = peakRSSKiB()
	out, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

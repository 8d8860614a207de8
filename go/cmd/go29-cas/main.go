// Command go29-cas answers go-29 (what is CAS in Go?) with real Go: it increments an atomic.Int64
// with a CompareAndSwap retry loop and counts the failed swaps, and prints what it observed as one
// JSON document.
//
// It makes the same observations as crates/gosync/src/cas.rs, under the same field names:
//
//   - one goroutine does -each CAS increments: nobody else writes, so no swap ever fails;
//   - two goroutines (on -procs Ps, 2 by default) are released together, -each increments each,
//     for -min-rounds rounds, and then round after round until at least one swap failed (at most
//     -max-rounds rounds: on a busy machine the two may not overlap in every round). The final
//     count must still be exactly rounds × 2 × each: a failed swap is retried, never lost;
//   - for comparison, two goroutines doing atomic Add (one locked instruction, nothing to retry).
//
// Each run also reports how long its goroutines were all running at the same time (overlap_ns) out
// of how long the rounds lasted (span_ns): on a busy machine two goroutines may run one after the
// other, and then no swap can fail.
//
// casIncrement and addIncrement are kept out of line so that `go tool objdump -s main.casIncrement`
// shows the instruction the compiler emits for CompareAndSwap (LOCK CMPXCHGQ on amd64), and
// `-s main.addIncrement` the one for Add (LOCK XADDQ).
//
// Standard library only. Run: cd go && go run ./cmd/go29-cas
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// run mirrors the Rust struct gosync::cas::CasRun field for field.
type run struct {
	Goroutines        int    `json:"threads"`
	Rounds            int    `json:"rounds"`
	RoundsWithRetries int    `json:"rounds_with_retries"`
	Final             int64  `json:"final"`
	Expected          int64  `json:"expected"`
	Retries           uint64 `json:"retries"`
	OverlapNs         int64  `json:"overlap_ns"`
	SpanNs            int64  `json:"span_ns"`
}

type report struct {
	GoVersion  string `json:"go_version"`
	Gomaxprocs int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
	Each       int    `json:"each"`
	MinRounds  int    `json:"min_rounds"`
	MaxRounds  int    `json:"max_rounds"`
	One        run    `json:"one"`
	Two        run    `json:"two"`
	AddFinal   int64  `json:"add_final"`
	AddExpect  int64  `json:"add_expected"`
}

// casIncrement is the retry loop: read, compute, publish only if nobody wrote in between. It
// returns how many swaps failed.
//
//go:noinline
func casIncrement(c *atomic.Int64) uint64 {
	var retries uint64
	for {
		old := c.Load()
		if c.CompareAndSwap(old, old+1) {
			return retries
		}
		retries++
	}
}

//go:noinline
func addIncrement(c *atomic.Int64) {
	c.Add(1)
}

// yieldAfter: how long a goroutine waiting for the others spins before it starts to yield its P.
const yieldAfter = 5 * time.Millisecond

// together runs f on n goroutines released at the same moment and waits for all of them. The
// goroutines release each other: each arrives and spins until all have arrived, so none waits for
// a wake-up through the scheduler. Spinning, not yielding, for the first yieldAfter leaves an idle
// P time to steal the other goroutine; after that it yields every 1024 spins, so that it also
// finishes when both share one P. It
// returns how long all n were running at once and how long from the first start to the last
// finish (each goroutine reads the clock itself when it starts and ends).
func together(n int, f func()) (overlap, span time.Duration) {
	var arrived atomic.Int32
	var done sync.WaitGroup
	began := make([]time.Time, n)
	ended := make([]time.Time, n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			arrived.Add(1)
			t0 := time.Now()
			for spins := 1; arrived.Load() < int32(n); spins++ {
				if spins%1024 == 0 && time.Since(t0) > yieldAfter {
					runtime.Gosched()
				}
			}
			began[i] = time.Now()
			f()
			ended[i] = time.Now()
		}()
	}
	done.Wait()
	first, lastStart, firstEnd, last := began[0], began[0], ended[0], ended[0]
	for i := 1; i < n; i++ {
		first, lastStart = minTime(first, began[i]), maxTime(lastStart, began[i])
		firstEnd, last = minTime(firstEnd, ended[i]), maxTime(last, ended[i])
	}
	return max(firstEnd.Sub(lastStart), 0), last.Sub(first)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// casRounds runs at least minRounds rounds of n goroutines × each CAS increments on one counter,
// then more until some round saw a failed swap, but never more than maxRounds.
func casRounds(n, each, minRounds, maxRounds int) run {
	var c atomic.Int64
	var retries atomic.Uint64
	r := run{Goroutines: n}
	for r.Rounds < maxRounds && (r.Rounds < minRounds || retries.Load() == 0) {
		r.Rounds++
		before := retries.Load()
		overlap, span := together(n, func() {
			var mine uint64
			for j := 0; j < each; j++ {
				mine += casIncrement(&c)
			}
			retries.Add(mine)
		})
		r.OverlapNs += overlap.Nanoseconds()
		r.SpanNs += span.Nanoseconds()
		if retries.Load() > before {
			r.RoundsWithRetries++
		}
	}
	r.Final = c.Load()
	r.Expected = int64(r.Rounds * n * each)
	r.Retries = retries.Load()
	return r
}

func main() {
	each := flag.Int("each", 100000, "increments per goroutine per round")
	minRounds := flag.Int("min-rounds", 10, "rounds of the 2-goroutine run at least")
	maxRounds := flag.Int("max-rounds", 100, "rounds of the 2-goroutine run before giving up on seeing a retry")
	procs := flag.Int("procs", 2, "GOMAXPROCS for the run")
	flag.Parse()
	if *each <= 0 || *minRounds <= 0 || *maxRounds < *minRounds || *procs <= 0 {
		fmt.Fprintln(os.Stderr, "each, min-rounds and procs must be positive, max-rounds at least min-rounds")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)

	rep := report{
		GoVersion:  runtime.Version(),
		Gomaxprocs: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
		Each:       *each,
		MinRounds:  *minRounds,
		MaxRounds:  *maxRounds,
		One:        casRounds(1, *each, 1, 1),
		Two:        casRounds(2, *each, *minRounds, *maxRounds),
	}
	var a atomic.Int64
	together(2, func() {
		for j := 0; j < *each; j++ {
			addIncrement(&a)
		}
	})
	rep.AddFinal, rep.AddExpect = a.Load(), int64(2**each)
	out, err := json.Marshal(rep)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

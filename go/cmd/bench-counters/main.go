// Command bench-counters measures a shared counter incremented by several goroutines, three ways:
// atomic add, a compare-and-swap retry loop, and sync.Mutex. It prints one JSON document with the
// ns/op of each run, for `lab bench counters` to set beside the Rust figures.
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

type result struct {
	Technique string    `json:"technique"`
	Threads   int       `json:"threads"`
	NsPerOp   []float64 `json:"ns_per_op"`
	Final     int64     `json:"final"`
}

type report struct {
	GoVersion  string   `json:"go_version"`
	GOMAXPROCS int      `json:"gomaxprocs"`
	OpsPerG    int      `json:"ops_per_goroutine"`
	Results    []result `json:"results"`
}

// run starts `threads` goroutines that each call op `ops` times, released together, and returns the
// wall time per operation.
func run(threads, ops int, op func()) float64 {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(threads)
	done.Add(threads)
	for i := 0; i < threads; i++ {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			for j := 0; j < ops; j++ {
				op()
			}
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(threads*ops)
}

func main() {
	ops := flag.Int("ops", 1_000_000, "increments per goroutine")
	runs := flag.Int("runs", 5, "repetitions of each measurement")
	flag.Parse()
	if *ops <= 0 || *runs <= 0 {
		fmt.Fprintln(os.Stderr, "ops and runs must be positive")
		os.Exit(2)
	}

	rep := report{GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), OpsPerG: *ops}
	for _, threads := range []int{1, 2} {
		var a int64
		r := result{Technique: "atomic add", Threads: threads}
		for i := 0; i < *runs; i++ {
			r.NsPerOp = append(r.NsPerOp, run(threads, *ops, func() { atomic.AddInt64(&a, 1) }))
		}
		r.Final = atomic.LoadInt64(&a)
		rep.Results = append(rep.Results, r)

		var c int64
		r = result{Technique: "CAS loop", Threads: threads}
		for i := 0; i < *runs; i++ {
			r.NsPerOp = append(r.NsPerOp, run(threads, *ops, func() {
				for {
					old := atomic.LoadInt64(&c)
					if atomic.CompareAndSwapInt64(&c, old, old+1) {
						return
					}
				}
			}))
		}
		r.Final = atomic.LoadInt64(&c)
		rep.Results = append(rep.Results, r)

		var mu sync.Mutex
		var m int64
		r = result{Technique: "mutex", Threads: threads}
		for i := 0; i < *runs; i++ {
			r.NsPerOp = append(r.NsPerOp, run(threads, *ops, func() {
				mu.Lock()
				m++
				mu.Unlock()
			}))
		}
		r.Final = m
		rep.Results = append(rep.Results, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Command bench-counters measures a shared counter updated by several goroutines, five ways: atomic
// add, a compare-and-swap retry loop, sync.Mutex, sync.RWMutex under a read-heavy load (1 write in
// 10 operations), and a counter owned by one goroutine that the others send increments to over a
// channel. It prints one JSON document with the ns/op of each run, for `lab bench counters` to set
// beside the Rust figures.
//
// Each goroutine runs its whole loop inside one function (no call through a func value per
// operation), as the Rust side does with generics. The goroutines of a run release each other with
// a spinning gate and read the clock themselves; a run lasts from the first start to the last
// finish. For each technique the count accumulates over the runs, so "final" must equal
// runs × goroutines × (operations that write, per goroutine).
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

// channelCap is the owner's channel capacity; the Rust rows use the same bound.
const channelCap = 1024

// writeEvery: in the read-heavy scenario, operation j of a goroutine writes when j%writeEvery == 0.
const writeEvery = 10

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
	ChanOpsPer int      `json:"channel_ops_per_goroutine"`
	ChannelCap int      `json:"channel_cap"`
	WriteEvery int      `json:"write_every"`
	Results    []result `json:"results"`
}

// yieldAfter: how long a goroutine waiting at the gate spins before it starts to yield its P.
const yieldAfter = 5 * time.Millisecond

// gate releases n goroutines together without the scheduler: each arrives and spins until all
// have arrived, so none waits to be woken (a wake-up can take longer than a short run). Spinning
// without yielding for the first yieldAfter leaves an idle P time to steal a waiting goroutine;
// after that it yields every 1024 spins, so that more goroutines than Ps still get through.
type gate struct {
	n       int32
	arrived atomic.Int32
}

func (g *gate) wait() {
	g.arrived.Add(1)
	t0 := time.Now()
	for spins := 1; g.arrived.Load() < g.n; spins++ {
		if spins%1024 == 0 && time.Since(t0) > yieldAfter {
			runtime.Gosched()
		}
	}
}

// span is the time from the first start to the last end.
func span(began, ended []time.Time) time.Duration {
	first, last := began[0], ended[0]
	for i := range began {
		if began[i].Before(first) {
			first = began[i]
		}
		if ended[i].After(last) {
			last = ended[i]
		}
	}
	return last.Sub(first)
}

// run starts `threads` goroutines that each call body once, released together, and returns the
// wall time per operation (ops operations per goroutine) from the first start to the last finish;
// each goroutine reads the clock itself, as the Rust side does.
func run(threads, ops int, body func()) float64 {
	g := gate{n: int32(threads)}
	began, ended := make([]time.Time, threads), make([]time.Time, threads)
	var done sync.WaitGroup
	done.Add(threads)
	for i := 0; i < threads; i++ {
		go func() {
			defer done.Done()
			g.wait()
			began[i] = time.Now()
			body()
			ended[i] = time.Now()
		}()
	}
	done.Wait()
	return float64(span(began, ended).Nanoseconds()) / float64(threads*ops)
}

// sink keeps the read-heavy scenario's reads from being optimised away.
var sink atomic.Int64

// channelRun: one owner goroutine sums what `threads` senders send it, ops each; the time runs
// from the first start until the owner has received the last increment.
func channelRun(threads, ops int, total *int64) float64 {
	ch := make(chan int64, channelCap)
	owned := make(chan int64)
	g := gate{n: int32(threads + 1)}
	began, ended := make([]time.Time, threads+1), make([]time.Time, threads+1)
	go func() {
		g.wait()
		began[threads] = time.Now()
		var n int64 // the owner's alone: nobody else touches it
		for d := range ch {
			n += d
		}
		ended[threads] = time.Now()
		owned <- n
	}()
	var done sync.WaitGroup
	done.Add(threads)
	for i := 0; i < threads; i++ {
		go func() {
			defer done.Done()
			g.wait()
			began[i] = time.Now()
			for j := 0; j < ops; j++ {
				ch <- 1
			}
			ended[i] = time.Now()
		}()
	}
	done.Wait()
	close(ch)
	*total += <-owned
	return float64(span(began, ended).Nanoseconds()) / float64(threads*ops)
}

func main() {
	ops := flag.Int("ops", 1_000_000, "operations per goroutine")
	chanOps := flag.Int("chan-ops", 250_000, "increments each goroutine sends the channel owner")
	runs := flag.Int("runs", 5, "repetitions of each measurement")
	flag.Parse()
	if *ops <= 0 || *chanOps <= 0 || *runs <= 0 {
		fmt.Fprintln(os.Stderr, "ops, chan-ops and runs must be positive")
		os.Exit(2)
	}

	rep := report{
		GoVersion:  runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		OpsPerG:    *ops,
		ChanOpsPer: *chanOps,
		ChannelCap: channelCap,
		WriteEvery: writeEvery,
	}
	n := *ops
	for _, threads := range []int{1, 2} {
		var a int64
		r := result{Technique: "atomic add", Threads: threads}
		for i := 0; i < *runs; i++ {
			r.NsPerOp = append(r.NsPerOp, run(threads, n, func() {
				for j := 0; j < n; j++ {
					atomic.AddInt64(&a, 1)
				}
			}))
		}
		r.Final = atomic.LoadInt64(&a)
		rep.Results = append(rep.Results, r)

		var c int64
		r = result{Technique: "CAS loop", Threads: threads}
		for i := 0; i < *runs; i++ {
			r.NsPerOp = append(r.NsPerOp, run(threads, n, func() {
				for j := 0; j < n; j++ {
					for {
						old := atomic.LoadInt64(&c)
						if atomic.CompareAndSwapInt64(&c, old, old+1) {
							break
						}
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
			r.NsPerOp = append(r.NsPerOp, run(threads, n, func() {
				for j := 0; j < n; j++ {
					mu.Lock()
					m++
					mu.Unlock()
				}
			}))
		}
		r.Final = m
		rep.Results = append(rep.Results, r)

		var rw sync.RWMutex
		var w int64
		r = result{Technique: "RWMutex read-heavy", Threads: threads}
		for i := 0; i < *runs; i++ {
			r.NsPerOp = append(r.NsPerOp, run(threads, n, func() {
				var seen int64
				for j := 0; j < n; j++ {
					if j%writeEvery == 0 {
						rw.Lock()
						w++
						rw.Unlock()
					} else {
						rw.RLock()
						seen += w
						rw.RUnlock()
					}
				}
				sink.Add(seen)
			}))
		}
		r.Final = w
		rep.Results = append(rep.Results, r)

		var owned int64
		r = result{Technique: "channel-owned counter", Threads: threads}
		for i := 0; i < *runs; i++ {
			r.NsPerOp = append(r.NsPerOp, channelRun(threads, *chanOps, &owned))
		}
		r.Final = owned
		rep.Results = append(rep.Results, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

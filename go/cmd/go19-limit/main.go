// Command go19-limit answers go-19 (how to limit the number of goroutines) with two standard
// answers, and prints what it observed as one JSON document:
//
//   - a buffered channel as a token bucket: a goroutine per job, at most cap inside at once;
//     with every token taken, a non-blocking send (select with default) is refused;
//   - a worker pool: cap goroutines on a bounded job channel; runtime.NumGoroutine rises by
//     exactly cap however many jobs are queued; a full job channel refuses a non-blocking send
//     (backpressure); a job that panics is recovered in the worker and reported, and the
//     worker keeps going.
//
// The Rust side is crates/csp/src/limit_demos.rs, with the same field names.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"gmrlab/internal/goprobe"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

type report struct {
	GoVersion        string `json:"go_version"`
	Cap              int    `json:"cap"`
	Jobs             int    `json:"jobs"`
	TokenPeak        int64  `json:"token_peak"`
	TokenRefusedFull bool   `json:"token_refused_full"`
	PoolPeak         int64  `json:"pool_peak"`
	PoolExtraTasks   int    `json:"pool_extra_tasks"`
	PoolOutcomes     int    `json:"pool_outcomes"`
	PoolRefusedFull  bool   `json:"pool_refused_full"`
	PoolPanics       int    `json:"pool_panics"`
	PoolLiveAfter    int64  `json:"pool_live_after_panic"`
}

type outcome struct {
	panicked bool
}

func main() {
	capacity := flag.Int("cap", 4, "the limit")
	jobs := flag.Int("jobs", 100, "jobs to run")
	flag.Parse()
	r := report{GoVersion: runtime.Version(), Cap: *capacity, Jobs: *jobs}

	// 1. A buffered channel as a token bucket.
	var t goprobe.Tracker
	sem := make(chan struct{}, *capacity)
	var wg sync.WaitGroup
	for range *jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Enter()
			goprobe.Work()
			t.Leave()
		}()
	}
	wg.Wait()
	r.TokenPeak = t.Peak()
	for range *capacity {
		sem <- struct{}{}
	}
	select {
	case sem <- struct{}{}:
	default:
		r.TokenRefusedFull = true
	}

	// 2. A worker pool.
	before := runtime.NumGoroutine()
	var pt goprobe.Tracker
	var live atomic.Int64
	queue := make(chan func(), 2)
	results := make(chan outcome, *jobs+2)
	var workers sync.WaitGroup
	started := make(chan struct{}, *capacity)
	for range *capacity {
		workers.Add(1)
		go func() {
			defer workers.Done()
			live.Add(1)
			defer live.Add(-1)
			started <- struct{}{}
			for job := range queue {
				func() {
					defer func() {
						if recover() != nil {
							results <- outcome{panicked: true}
						}
					}()
					job()
					results <- outcome{}
				}()
			}
		}()
	}
	for range *capacity {
		<-started
	}
	r.PoolExtraTasks = runtime.NumGoroutine() - before
	for range *jobs {
		queue <- func() { pt.Enter(); goprobe.Work(); pt.Leave() }
	}
	queue <- func() { panic("on purpose") }
	for range *jobs + 1 {
		o := <-results
		r.PoolOutcomes++
		if o.panicked {
			r.PoolPanics++
		}
	}
	r.PoolPeak = pt.Peak()
	r.PoolLiveAfter = live.Load()
	// Backpressure: every worker held at a gate, the queue filled, one more is refused.
	gate := make(chan struct{})
	holding := make(chan struct{})
	for range *capacity {
		queue <- func() { holding <- struct{}{}; <-gate }
	}
	for range *capacity {
		<-holding
	}
	for len(queue) < cap(queue) {
		queue <- func() {}
	}
	select {
	case queue <- func() {}:
	default:
		r.PoolRefusedFull = true
	}
	close(gate)
	close(queue)
	workers.Wait()

	out, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

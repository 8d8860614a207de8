// Command go26-waitgroup answers go-26 (how the main goroutine waits for the others) with the
// real sync.WaitGroup, and prints what it observed as one JSON document.
//
// It makes the observations of crates/csp/src/demos_count.rs:
//   - Add(n) before starting n workers: after Wait, all n have finished;
//   - Add(1) inside each worker (the classic mistake): with every worker held at a gate before its
//     Add, Wait sees a zero counter and returns at once, with none finished;
//   - Done without Add panics, and the panic's message.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

type report struct {
	GoVersion            string `json:"go_version"`
	Workers              int    `json:"workers"`
	FinishedAfterWait    int64  `json:"finished_after_wait"`
	EarlyWaitFinished    int64  `json:"early_wait_finished"`
	EarlyWaitLateArrived int64  `json:"early_wait_late_arrived"`
	NegativePanic        string `json:"negative_panic"`
}

func negativePanic() (msg string) {
	defer func() { msg = fmt.Sprint(recover()) }()
	var wg sync.WaitGroup
	wg.Done()
	return ""
}

func main() {
	workers := flag.Int("workers", 8, "workers to start")
	flag.Parse()
	r := report{GoVersion: runtime.Version(), Workers: *workers}

	var wg sync.WaitGroup
	var finished atomic.Int64
	wg.Add(*workers)
	for range *workers {
		go func() {
			defer wg.Done()
			finished.Add(1)
		}()
	}
	wg.Wait()
	r.FinishedAfterWait = finished.Load()

	// The mistake: Add inside the goroutine. The gate makes the bad interleaving certain.
	var late sync.WaitGroup
	var lateFinished atomic.Int64
	var really sync.WaitGroup
	really.Add(*workers)
	gate := make(chan struct{})
	for range *workers {
		go func() {
			defer really.Done()
			<-gate
			late.Add(1)
			defer late.Done()
			lateFinished.Add(1)
		}()
	}
	late.Wait() // returns at once: nobody has called Add yet
	r.EarlyWaitFinished = lateFinished.Load()
	close(gate)
	really.Wait()
	r.EarlyWaitLateArrived = lateFinished.Load()

	r.NegativePanic = negativePanic()

	out, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

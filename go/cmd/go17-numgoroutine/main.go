// Command go17-numgoroutine answers go-17 (how to count live goroutines) with the real
// runtime.NumGoroutine, and prints what it observed as one JSON document.
//
// It makes the observations of crates/csp/src/demos_count.rs: the count before starting n
// goroutines, while all n are parked on a channel, and after they were released and exited; and
// the same for n goroutines that panic and recover.
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

type report struct {
	GoVersion   string `json:"go_version"`
	N           int    `json:"n"`
	Before      int    `json:"before"`
	During      int    `json:"during"`
	After       int    `json:"after"`
	PanicDuring int    `json:"panic_during"`
	PanicAfter  int    `json:"panic_after"`
}

// settle polls NumGoroutine until it equals want (goroutines that called Done may not have
// exited yet) or the safety deadline passes, and returns the last count seen.
func settle(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n == want || time.Now().After(deadline) {
			return n
		}
		runtime.Gosched()
	}
}

func main() {
	n := flag.Int("n", 10, "goroutines to start")
	flag.Parse()
	r := report{GoVersion: runtime.Version(), N: *n}

	r.Before = runtime.NumGoroutine()
	release := make(chan struct{})
	var started, exited sync.WaitGroup
	started.Add(*n)
	exited.Add(*n)
	for range *n {
		go func() {
			defer exited.Done()
			started.Done()
			<-release
		}()
	}
	started.Wait()
	r.During = runtime.NumGoroutine()
	close(release)
	exited.Wait()
	r.After = settle(r.Before)

	// Goroutines that end by a recovered panic leave the count too.
	gate := make(chan struct{})
	var parked sync.WaitGroup
	parked.Add(*n)
	for range *n {
		go func() {
			defer func() { _ = recover() }()
			parked.Done()
			<-gate
			panic("on purpose")
		}()
	}
	parked.Wait()
	r.PanicDuring = runtime.NumGoroutine()
	close(gate)
	r.PanicAfter = settle(r.Before)

	out, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

// Command go23-defer answers go-23 (how defer works). It runs small functions that each show one
// rule of defer and prints what happened as one JSON document; crates/goroutines/src/defer.rs makes
// the same observations with Rust's Drop guards, under the same field names where they correspond.
//
//   - deferred calls run last-in first-out;
//   - a deferred call's arguments are evaluated when the defer statement runs, a closure reads its
//     variables when it finally runs;
//   - a deferred closure can change a named result after `return` set it, but not an unnamed one;
//   - defers in a loop run when the function returns, not at the end of each iteration;
//   - recover stops a panic only when called directly by a deferred function;
//   - defers run while panicking and on runtime.Goexit, but not on os.Exit (shown by running this
//     program again as a child process with -mode=exit, and with -mode=return as the control);
//   - what a defer costs, in ns per call, as a side note.
//
// Standard library only. Run: cd go && go run ./cmd/go23-defer
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"gmrlab/internal/goprobe"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

type goexitReport struct {
	DeferredRan  bool `json:"deferred_ran"`
	AfterRan     bool `json:"after_ran"`
	RecoverSawIt bool `json:"recover_saw_it"`
}

type exitReport struct {
	Mode        string `json:"mode"`
	ExitCode    int    `json:"exit_code"`
	BeforeRan   bool   `json:"before_ran"`
	DeferredRan bool   `json:"deferred_ran"`
}

type cost struct {
	Iterations       int     `json:"iterations"`
	NsPlain          float64 `json:"ns_plain"`
	NsDefer          float64 `json:"ns_defer"`
	NsDeferInLoop    float64 `json:"ns_defer_in_loop"`
	NsDeferOverPlain float64 `json:"ns_defer_over_plain"`
}

type report struct {
	GoVersion              string       `json:"go_version"`
	Lifo                   []int        `json:"lifo"`
	ArgsAtDefer            int          `json:"args_at_defer"`
	ClosureSeesLater       int          `json:"closure_sees_later"`
	NamedResult            int          `json:"named_result"`
	UnnamedResult          int          `json:"unnamed_result"`
	Loop                   []string     `json:"loop"`
	RunsOnPanic            bool         `json:"runs_on_panic"`
	RecoverDirectInDefer   bool         `json:"recover_direct_in_defer"`
	RecoverInHelperOfDefer bool         `json:"recover_in_helper_of_defer"`
	RecoverOutsidePanic    bool         `json:"recover_outside_panic"`
	Goexit                 goexitReport `json:"goexit"`
	OsExit                 exitReport   `json:"os_exit"`
	Return                 exitReport   `json:"return"`
	Cost                   cost         `json:"cost"`
}

func lifo() (order []int) {
	func() {
		for _, k := range []int{1, 2, 3} {
			defer func(k int) { order = append(order, k) }(k)
		}
	}()
	return order
}

func argsAtDefer() (seen int) {
	func() {
		x := 1
		defer func(v int) { seen = v }(x) // v is copied now
		x = 2
		_ = x
	}()
	return seen
}

func closureSeesLater() (seen int) {
	func() {
		x := 1
		defer func() { seen = x }() // x is read when the closure runs
		x = 2
	}()
	return seen
}

func namedResult() (r int) {
	defer func() { r *= 2 }()
	return 3 // sets r = 3, then the deferred closure doubles it
}

func unnamedResult() int {
	r := 3
	defer func() { r *= 2 }()
	return r // the result (3) is copied out before the closure runs
}

func loop() (events []string) {
	func() {
		for i := range 3 {
			defer func() { events = append(events, fmt.Sprint(i)) }()
		}
		events = append(events, "loop-done")
	}()
	return events
}

func runsOnPanic() (ran bool) {
	defer func() { _ = recover() }()
	defer func() { ran = true }()
	panic("boom")
}

func recoverDirect() (stopped bool) {
	func() {
		defer func() { stopped = recover() != nil }()
		panic("boom")
	}()
	return stopped
}

func helperRecovers() bool { return recover() != nil }

// recoverInHelper: the deferred function calls a helper that calls recover; that recover returns
// nil (it is not called directly by the deferred function), so the outer recover must stop it.
func recoverInHelper() (helperStopped bool) {
	defer func() { _ = recover() }()
	func() {
		defer func() { helperStopped = helperRecovers() }()
		panic("boom")
	}()
	return helperStopped
}

func goexit() (r goexitReport) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			r.DeferredRan = true
			r.RecoverSawIt = recover() != nil
		}()
		runtime.Goexit()
		r.AfterRan = true
	}()
	<-done
	return r
}

// child runs this program again in the given mode and reads what it printed and its exit code.
func child(mode string) exitReport {
	r := exitReport{Mode: mode, ExitCode: -1}
	out, _, code, err := goprobe.RunSelf("-mode=" + mode)
	if err != nil {
		return r
	}
	r.ExitCode = code
	r.BeforeRan = strings.Contains(out, "before")
	r.DeferredRan = strings.Contains(out, "deferred")
	return r
}

var (
	mu      sync.Mutex
	counter int
)

//go:noinline
func plain() {
	mu.Lock()
	counter++
	mu.Unlock()
}

//go:noinline
func withDefer() {
	mu.Lock()
	defer mu.Unlock() // open-coded since Go 1.14: inlined at each return
	counter++
}

//go:noinline
func withDeferInLoop() {
	for range 1 {
		mu.Lock()
		defer mu.Unlock() // in a loop: a defer record on the stack, run by the runtime
	}
	counter++
}

func nsPerCall(f func(), n int) float64 {
	best := 0.0
	for range 3 {
		start := time.Now()
		for range n {
			f()
		}
		ns := float64(time.Since(start).Nanoseconds()) / float64(n)
		if best == 0 || ns < best {
			best = ns
		}
	}
	return best
}

func measure(n int) cost {
	c := cost{Iterations: n, NsPlain: nsPerCall(plain, n), NsDefer: nsPerCall(withDefer, n),
		NsDeferInLoop: nsPerCall(withDeferInLoop, n)}
	c.NsDeferOverPlain = c.NsDefer - c.NsPlain
	return c
}

func main() {
	mode := flag.String("mode", "report", "report | exit | return")
	iterations := flag.Int("iterations", 1_000_000, "calls per cost measurement")
	flag.Parse()
	switch *mode {
	case "exit":
		defer fmt.Println("deferred")
		fmt.Println("before")
		os.Exit(3)
	case "return":
		defer fmt.Println("deferred")
		fmt.Println("before")
		return
	}
	r := report{
		GoVersion:              runtime.Version(),
		Lifo:                   lifo(),
		ArgsAtDefer:            argsAtDefer(),
		ClosureSeesLater:       closureSeesLater(),
		NamedResult:            namedResult(),
		UnnamedResult:          unnamedResult(),
		Loop:                   loop(),
		RunsOnPanic:            runsOnPanic(),
		RecoverDirectInDefer:   recoverDirect(),
		RecoverInHelperOfDefer: recoverInHelper(),
		RecoverOutsidePanic:    recover() != nil,
		Goexit:                 goexit(),
		OsExit:                 child("exit"),
		Return:                 child("return"),
		Cost:                   measure(*iterations),
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

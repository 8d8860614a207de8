// Command go48-exit answers go-48 (how to leave a goroutine midway). It runs one worker per way of
// stopping and prints a table as one JSON document, row for row like
// crates/goroutines/src/exit.rs:
//
//   - return:         the worker returns on its own condition at step -stop-at;
//   - cancel:         the worker checks ctx.Err() before each step; main cancels at step -stop-at;
//   - blocked-cancel: the worker is blocked in a select on a work channel and ctx.Done();
//   - goexit:         the worker calls runtime.Goexit at step -stop-at;
//   - panic:          the worker panics at step -stop-at and recovers in a deferred function;
//   - ignores-cancel: the worker never looks at ctx, so cancelling it changes nothing.
//
// Every worker has a deferred cleanup; the table says whether it ran. Main and worker meet on
// channels at the stop point, so the table is the same on every run.
//
// Two ways of ending that take the whole program down are run as child processes (this program
// again with -mode): runtime.Goexit in the main goroutine, and a panic nobody recovers.
//
// Standard library only. Run: cd go && go run ./cmd/go48-exit
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"gmrlab/internal/goprobe"
	"os"
	"runtime"
	"strings"
)

type row struct {
	Case       string `json:"case"`
	StepsDone  uint32 `json:"steps_done"`
	CleanupRan bool   `json:"cleanup_ran"`
	Ended      string `json:"ended"`
}

type childReport struct {
	Mode           string `json:"mode"`
	ExitCode       int    `json:"exit_code"`
	MainDeferRan   bool   `json:"main_defer_ran"`
	WorkerFinished bool   `json:"worker_finished"`
	AfterRan       bool   `json:"after_ran"`
	Stderr         string `json:"stderr"`
}

type report struct {
	GoVersion        string      `json:"go_version"`
	Total            uint32      `json:"total"`
	StopAt           uint32      `json:"stop_at"`
	Rows             []row       `json:"rows"`
	GoexitMain       childReport `json:"goexit_main"`
	PanicUnrecovered childReport `json:"panic_unrecovered"`
}

var cases = []string{"return", "cancel", "blocked-cancel", "goexit", "panic", "ignores-cancel"}

func runCase(c string, total, stopAt uint32) row {
	r := row{Case: c}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reached := make(chan struct{})
	ack := make(chan struct{})
	work := make(chan int) // nobody ever sends on it
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				r.Ended = "panicked"
			}
		}()
		defer func() { r.CleanupRan = true }()
		for range total {
			if c == "cancel" && ctx.Err() != nil {
				r.Ended = "cancelled"
				return
			}
			r.StepsDone++
			if r.StepsDone != stopAt {
				continue
			}
			switch c {
			case "return":
				r.Ended = "returned"
				return
			case "goexit":
				r.Ended = "goexit"
				runtime.Goexit()
			case "panic":
				panic("boom")
			case "cancel", "ignores-cancel":
				reached <- struct{}{}
				<-ack
			case "blocked-cancel":
				reached <- struct{}{}
				select {
				case <-work:
				case <-ctx.Done():
					r.Ended = "cancelled"
					return
				}
			}
		}
		r.Ended = "completed"
	}()
	switch c {
	case "cancel", "ignores-cancel":
		<-reached
		cancel()
		close(ack)
	case "blocked-cancel":
		<-reached
		cancel()
	}
	<-done
	return r
}

func child(mode string) childReport {
	r := childReport{Mode: mode, ExitCode: -1}
	out, stderr, code, err := goprobe.RunSelf("-mode=" + mode)
	if err != nil {
		r.Stderr = err.Error()
		return r
	}
	r.ExitCode = code
	r.MainDeferRan = strings.Contains(out, "main deferred")
	r.WorkerFinished = strings.Contains(out, "worker finished")
	r.AfterRan = strings.Contains(out, "after")
	// The first line is enough: the runtime's message, without the goroutine dump.
	r.Stderr, _, _ = strings.Cut(stderr, "\n")
	return r
}

// goexitMain: main calls runtime.Goexit. Its defers run, the other goroutines keep running, and
// when the last of them ends the runtime reports a fatal error.
func goexitMain() {
	defer fmt.Println("main deferred")
	release := make(chan struct{})
	go func() {
		<-release
		fmt.Println("worker finished")
	}()
	close(release)
	runtime.Goexit()
	fmt.Println("after")
}

// panicUnrecovered: a goroutine panics and nobody recovers: the whole program dies with exit
// status 2, and main's deferred call does not run.
func panicUnrecovered() {
	defer fmt.Println("main deferred")
	// Never closed: only the panic can end this program. (Closing it in the goroutine's defer
	// would race: deferred calls run while the panic unwinds, so main could print "after"
	// before the runtime kills the process.)
	never := make(chan struct{})
	go func() {
		panic("boom")
	}()
	<-never
	fmt.Println("after")
}

func main() {
	mode := flag.String("mode", "report", "report | goexit-main | panic-unrecovered")
	total := flag.Uint("total", 10, "steps of work each worker would do")
	stopAt := flag.Uint("stop-at", 4, "step at which each worker is stopped")
	flag.Parse()
	switch *mode {
	case "goexit-main":
		goexitMain()
		return
	case "panic-unrecovered":
		panicUnrecovered()
		return
	}
	r := report{GoVersion: runtime.Version(), Total: uint32(*total), StopAt: uint32(*stopAt)}
	for _, c := range cases {
		r.Rows = append(r.Rows, runCase(c, r.Total, r.StopAt))
	}
	r.GoexitMain = child("goexit-main")
	r.PanicUnrecovered = child("panic-unrecovered")
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

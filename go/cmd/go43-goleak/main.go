// Command go43-goleak answers go-43 (detecting goroutine leaks) and go-35 (why Go functions leak)
// with the real runtime, and prints what it observed as one JSON document.
//
// The detector is goleak's idea written with the standard library only: list every goroutine
// from runtime.Stack(buf, true) before the code under test, then poll the list until every
// goroutine that was not there before has ended or a grace period passes; whatever is left is a
// leak, reported by its first non-runtime function and its wait reason ("chan send", ...).
//
//	-part=detector (go-43): a clean fan-out passes; a goroutine stuck sending is reported.
//	-part=leaks    (go-35): three leaks (a sender nobody receives from, a ticker loop nobody
//	                stops, a producer whose consumer left), each leaky and fixed.
//
// Every leaked goroutine is released at the end of its scenario, so scenarios do not pile up.
// The Rust side is crates/csp/src/tasks.rs and crates/csp/src/leaks.rs.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"
)

type goroutine struct {
	ID    string `json:"id"`
	State string `json:"state"`
	Func  string `json:"func"`
}

var header = regexp.MustCompile(`^goroutine (\d+) \[([^\],]+)`)

// goroutines lists every goroutine but the caller, keyed by id.
func goroutines() map[string]goroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := map[string]goroutine{}
	for i, block := range bytes.Split(buf, []byte("\n\n")) {
		lines := strings.Split(string(block), "\n")
		m := header.FindStringSubmatch(lines[0])
		if m == nil || i == 0 { // the first block is the calling goroutine
			continue
		}
		g := goroutine{ID: m[1], State: m[2]}
		for _, l := range lines[1:] {
			if l == "" || strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "runtime.") {
				continue
			}
			g.Func = l[:strings.LastIndex(l, "(")]
			break
		}
		all[g.ID] = g
	}
	return all
}

// verifyNone waits up to grace for every goroutine not in before to end, and returns the rest.
func verifyNone(before map[string]goroutine, grace time.Duration) []goroutine {
	deadline := time.Now().Add(grace)
	for {
		var leaked []goroutine
		for id, g := range goroutines() {
			if _, ok := before[id]; !ok {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			sort.Slice(leaked, func(i, j int) bool { return leaked[i].Func < leaked[j].Func })
			return leaked
		}
		time.Sleep(time.Millisecond) // polling interval, not an ordering
	}
}

const grace = 100 * time.Millisecond

type scenario struct {
	Name        string      `json:"name"`
	Leaked      []goroutine `json:"leaked"`
	FixedLeaked []goroutine `json:"fixed_leaked"`
}

// check runs f, lists what it left behind, then calls cleanup and confirms nothing is left.
func check(f func() (cleanup func())) []goroutine {
	before := goroutines()
	cleanup := f()
	leaked := verifyNone(before, grace)
	cleanup()
	if rest := verifyNone(before, 5*time.Second); len(rest) != 0 {
		fmt.Fprintln(os.Stderr, "cleanup left goroutines behind:", rest)
		os.Exit(1)
	}
	if leaked == nil {
		leaked = []goroutine{}
	}
	return leaked
}

// firstOf asks replicas and returns the first answer. With an unbuffered channel the slower
// replicas block forever on their send; with a buffer of len(replicas) they all finish.
func firstOf(replicas int, buffered bool) (int, chan int) {
	capacity := 0
	if buffered {
		capacity = replicas
	}
	answers := make(chan int, capacity)
	for i := range replicas {
		go func() { answers <- i }()
	}
	return <-answers, answers
}

func blockedSender(fixed bool) func() {
	_, answers := firstOf(3, fixed)
	return func() {
		for {
			select {
			case <-answers:
			case <-time.After(50 * time.Millisecond):
				return
			}
		}
	}
}

func forgottenTicker(fixed bool) func() {
	stop := make(chan struct{})
	ready := make(chan struct{})
	go func() {
		ticker := time.NewTicker(time.Millisecond)
		defer ticker.Stop()
		close(ready)
		for {
			select {
			case <-ticker.C:
			case <-stop:
				return
			}
		}
	}()
	<-ready
	if fixed {
		close(stop) // what `defer cancel()` in the caller does
		return func() {}
	}
	return func() { close(stop) }
}

func abandonedProducer(fixed bool) func() {
	ctx, cancel := context.WithCancel(context.Background())
	items := make(chan int)
	go func() {
		// Only for the clean-up below: the leaky producer has no way to stop, so the scenario
		// ends it by closing its channel and swallowing the "send on closed channel" panic.
		defer func() { _ = recover() }()
		for i := 0; ; i++ {
			if fixed {
				select {
				case items <- i:
				case <-ctx.Done():
					return
				}
			} else {
				items <- i
			}
		}
	}()
	for range 5 {
		<-items
	}
	if fixed {
		cancel()
		return func() {}
	}
	return func() {
		cancel()
		close(items)
	}
}

func main() {
	part := flag.String("part", "detector", "detector (go-43) or leaks (go-35)")
	flag.Parse()
	out := map[string]any{"go_version": runtime.Version(), "part": *part}
	switch *part {
	case "detector":
		out["clean"] = check(func() func() {
			done := make(chan int)
			for i := range 4 {
				go func() { done <- i }()
			}
			for range 4 {
				<-done
			}
			return func() {}
		})
		out["leaky"] = check(func() func() { return blockedSender(false) })
	case "leaks":
		var ss []scenario
		for _, s := range []struct {
			name string
			f    func(bool) func()
		}{
			{"blocked-sender", blockedSender},
			{"forgotten-ticker", forgottenTicker},
			{"abandoned-producer", abandonedProducer},
		} {
			ss = append(ss, scenario{
				Name:        s.name,
				Leaked:      check(func() func() { return s.f(false) }),
				FixedLeaked: check(func() func() { return s.f(true) }),
			})
		}
		out["scenarios"] = ss
	default:
		fmt.Fprintln(os.Stderr, "unknown -part", *part)
		os.Exit(2)
	}
	b, err := json.Marshal(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(b))
}

// Command go24-select answers go-24 (what is select for?) with Go's real select statement, and
// prints what it observed as one JSON document.
//
// -part=select (the default) makes the observations of crates/gochan/src/selecting.rs under the
// same field names: default and nil/closed channels, a timeout that fires only when nothing is
// ready, a parked select woken by a send, a loop multiplexing three producers until all have
// closed (switching each closed case off by setting its channel to nil), and the share of each of
// -k always-ready cases over -n selects (the runtime's random poll order).
//
// -part=timers measures the Go 1.23 timer change: it runs itself again (-part=timer-mode) with no
// GODEBUG (the go.mod default), with asynctimerchan=0 and with asynctimerchan=1, and reports for
// each the capacity a timer channel shows, whether a stale tick survives Reset, and how many heap
// bytes each un-stopped time.After(time.Hour) keeps alive after a GC.
//
// No sleeps order anything: a goroutine is known to be parked when runtime.Stack reports its
// state, polled with a deadline as a safety net only.
//
// Standard library only. Run: cd go && go run ./cmd/go24-select [-part=timers]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"gmrlab/internal/goprobe"
)

// deadline bounds every wait; it is a safety net, never the thing that orders events.
const deadline = 5 * time.Second

// semantics mirrors the Rust struct gochan::selecting::Semantics field for field.
type semantics struct {
	DefaultTakenWhenNothingReady    bool `json:"default_taken_when_nothing_ready"`
	NilChannelCaseReady             bool `json:"nil_channel_case_ready"`
	ClosedChannelCaseReady          bool `json:"closed_channel_case_ready"`
	TimeoutFiredWhenNothingReady    bool `json:"timeout_fired_when_nothing_ready"`
	TimeoutWaitedAtLeastItsDuration bool `json:"timeout_waited_at_least_its_duration"`
	SendWhileParkedBeatsTimeout     bool `json:"send_while_parked_beats_timeout"`
	ParkedSelectWokenByTheSend      bool `json:"parked_select_woken_by_the_send"`
	MultiplexReceived               int  `json:"multiplex_received"`
	MultiplexOrderViolations        int  `json:"multiplex_order_violations"`
	MultiplexCloseNotifications     int  `json:"multiplex_close_notifications"`
	ClosedCaseRefiresUnlessNilled   bool `json:"closed_case_refires_unless_nilled"`
}

// fairness mirrors gochan::selecting::Fairness.
type fairness struct {
	K      int      `json:"k"`
	N      int      `json:"n"`
	Counts []uint64 `json:"counts"`
}

type selectReport struct {
	GoVersion string    `json:"go_version"`
	Semantics semantics `json:"semantics"`
	Fairness  fairness  `json:"fairness"`
}

// timerMode mirrors gochan::selecting::TimerMode.
type timerMode struct {
	Godebug               string  `json:"godebug"`
	ChanCap               int     `json:"chan_cap"`
	StaleTickAfterReset   bool    `json:"stale_tick_after_reset"`
	RetainedBytesPerTimer float64 `json:"retained_bytes_per_timer"`
}

type timersReport struct {
	GoVersion string      `json:"go_version"`
	Modes     []timerMode `json:"modes"`
}

func waitParked(fn, state string) bool {
	stop := time.Now().Add(deadline)
	for !goprobe.ParkedIn(fn, state) {
		if time.Now().After(stop) {
			return false
		}
		runtime.Gosched()
	}
	return true
}

// defaultTaken: a receive from an empty channel and a send to a full one, with a default.
func defaultTaken() bool {
	empty := make(chan int, 1)
	full := make(chan int, 1)
	full <- 1
	select {
	case <-empty:
		return false
	case full <- 2:
		return false
	default:
		return len(full) == 1
	}
}

// nilCaseReady: a nil channel's case next to a default.
func nilCaseReady() bool {
	var nilc chan int
	select {
	case <-nilc:
		return true
	case nilc <- 1:
		return true
	default:
		return false
	}
}

// closedCaseReady: a select with no default on a closed channel returns at once, ok == false.
func closedCaseReady() bool {
	c := make(chan int)
	close(c)
	select {
	case _, ok := <-c:
		return !ok
	case <-time.After(deadline): // safety net only
		return false
	}
}

// timeoutWhenNothingReady: nothing ever arrives, so the timer's case is chosen, after d.
func timeoutWhenNothingReady(d time.Duration) (fired, waited bool) {
	empty := make(chan int)
	start := time.Now()
	select {
	case <-empty:
		return false, false
	case <-time.After(d):
		return true, time.Since(start) >= d
	}
}

func selectWithTimeout(ch chan int, out chan<- bool) {
	select {
	case v := <-ch:
		out <- v == 42
	case <-time.After(10 * deadline):
		out <- false
	}
}

// sendBeatsTimeout: a value sent after the select parked wins over a long timeout.
func sendBeatsTimeout() bool {
	ch := make(chan int)
	out := make(chan bool)
	go selectWithTimeout(ch, out)
	if !waitParked("main.selectWithTimeout", "select") {
		return false
	}
	ch <- 42
	return <-out
}

func selectTwo(a, b chan int, out chan<- string) {
	select {
	case v := <-a:
		out <- fmt.Sprintf("a:%d", v)
	case v := <-b:
		out <- fmt.Sprintf("b:%d", v)
	}
}

// parkedSelectWoken: a select with no ready case and no default parks; a send on b wakes it with
// b's case.
func parkedSelectWoken() bool {
	a, b := make(chan int), make(chan int)
	out := make(chan string)
	go selectTwo(a, b, out)
	if !waitParked("main.selectTwo", "select") {
		return false
	}
	b <- 7
	return <-out == "b:7"
}

func produce(ch chan<- int, per int) {
	for i := 0; i < per; i++ {
		ch <- i
	}
	close(ch)
}

// multiplex serves three producers from one select loop until all three have closed. A closed
// channel's case is switched off by setting the channel to nil. It returns the values received,
// how many arrived out of order (or were missing), and how many close notifications it handled.
func multiplex(per int) (received, violations, closes int) {
	a, b, c := make(chan int), make(chan int), make(chan int)
	go produce(a, per)
	go produce(b, per)
	go produce(c, per)
	var next [3]int
	record := func(i, v int) {
		received++
		if v != next[i] {
			violations++
		}
		next[i] = v + 1
	}
	for live := 3; live > 0; {
		select {
		case v, ok := <-a:
			if !ok {
				a, live, closes = nil, live-1, closes+1
				continue
			}
			record(0, v)
		case v, ok := <-b:
			if !ok {
				b, live, closes = nil, live-1, closes+1
				continue
			}
			record(1, v)
		case v, ok := <-c:
			if !ok {
				c, live, closes = nil, live-1, closes+1
				continue
			}
			record(2, v)
		}
	}
	for _, n := range next {
		if n != per {
			violations++
		}
	}
	return received, violations, closes
}

// closedRefires: next to a channel with values, a closed channel that is not set to nil keeps
// being chosen.
func closedRefires() bool {
	closed := make(chan int)
	close(closed)
	full := make(chan int, 100)
	for i := 0; i < 100; i++ {
		full <- i
	}
	fires := 0
	for i := 0; i < 100; i++ {
		select {
		case <-closed:
			fires++
		case <-full:
		}
	}
	return fires > 1
}

// shares runs n selects over k (1..4) always-ready cases: each channel has capacity 1 and is
// refilled right after its value was taken. Unused cases have nil channels, which selectgo leaves
// out of its poll order.
func shares(k, n int) []uint64 {
	var chans [4]chan int
	for i := 0; i < k; i++ {
		chans[i] = make(chan int, 1)
		chans[i] <- 0
	}
	counts := make([]uint64, k)
	for i := 0; i < n; i++ {
		var chosen int
		select {
		case <-chans[0]:
			chosen = 0
		case <-chans[1]:
			chosen = 1
		case <-chans[2]:
			chosen = 2
		case <-chans[3]:
			chosen = 3
		}
		counts[chosen]++
		chans[chosen] <- 0
	}
	return counts
}

func runSelect(k, n, per int, timeout time.Duration) selectReport {
	fired, waited := timeoutWhenNothingReady(timeout)
	received, violations, closes := multiplex(per)
	return selectReport{
		GoVersion: runtime.Version(),
		Semantics: semantics{
			DefaultTakenWhenNothingReady:    defaultTaken(),
			NilChannelCaseReady:             nilCaseReady(),
			ClosedChannelCaseReady:          closedCaseReady(),
			TimeoutFiredWhenNothingReady:    fired,
			TimeoutWaitedAtLeastItsDuration: waited,
			SendWhileParkedBeatsTimeout:     sendBeatsTimeout(),
			ParkedSelectWokenByTheSend:      parkedSelectWoken(),
			MultiplexReceived:               received,
			MultiplexOrderViolations:        violations,
			MultiplexCloseNotifications:     closes,
			ClosedCaseRefiresUnlessNilled:   closedRefires(),
		},
		Fairness: fairness{K: k, N: n, Counts: shares(k, n)},
	}
}

var sink <-chan time.Time

// retainedPerTimer: heap bytes still in use, after GC, per un-stopped time.After(time.Hour)
// whose channel nobody references any more.
func retainedPerTimer(n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		sink = time.After(time.Hour)
	}
	sink = nil
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// staleTick: a 1 ms timer expires unread; after Reset(time.Hour), is a tick still there to read?
// The wait is for the timer's own deadline (the clock is the subject here), and with a buffered
// timer channel also for the runtime to have delivered the tick into the buffer.
func staleTick() bool {
	start := time.Now()
	t := time.NewTimer(time.Millisecond)
	for time.Since(start) < 3*time.Millisecond {
		runtime.Gosched()
	}
	if cap(t.C) > 0 {
		for len(t.C) == 0 && time.Since(start) < deadline {
			runtime.Gosched()
		}
	}
	t.Reset(time.Hour)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	default:
		return false
	}
}

func timerModeHere(timers int) timerMode {
	return timerMode{
		Godebug:               os.Getenv("GODEBUG"),
		ChanCap:               cap(time.After(time.Hour)),
		StaleTickAfterReset:   staleTick(),
		RetainedBytesPerTimer: retainedPerTimer(timers),
	}
}

// runTimers measures each GODEBUG setting in a fresh process, since the setting is read at start.
func runTimers(timers int) (timersReport, error) {
	rep := timersReport{GoVersion: runtime.Version()}
	exe, err := os.Executable()
	if err != nil {
		return rep, err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	for _, godebug := range []string{"", "asynctimerchan=0", "asynctimerchan=1"} {
		cmd := exec.Command(exe, "-part=timer-mode", fmt.Sprintf("-timers=%d", timers))
		cmd.Env = env
		if godebug != "" {
			cmd.Env = append(append([]string{}, env...), "GODEBUG="+godebug)
		}
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return rep, fmt.Errorf("GODEBUG=%q: %w", godebug, err)
		}
		var m timerMode
		if err := json.Unmarshal(out, &m); err != nil {
			return rep, fmt.Errorf("GODEBUG=%q: %w", godebug, err)
		}
		rep.Modes = append(rep.Modes, m)
	}
	return rep, nil
}

func main() {
	part := flag.String("part", "select", "select, timers, or timer-mode (one GODEBUG setting, used by timers)")
	k := flag.Int("k", 4, "always-ready cases in the fairness measurement (1..4)")
	n := flag.Int("n", 20000, "selects in the fairness measurement")
	per := flag.Int("per", 1000, "values each of the three multiplexed producers sends")
	timeoutMs := flag.Int("timeout-ms", 20, "the timeout of the nothing-ready select")
	timers := flag.Int("timers", 50000, "un-stopped time.After timers created to measure what they retain")
	flag.Parse()
	if *k < 1 || *k > 4 || *n < 1 || *per < 1 || *timeoutMs < 1 || *timers < 1 {
		fmt.Fprintln(os.Stderr, "go24-select: need 1 <= -k <= 4 and positive -n, -per, -timeout-ms, -timers")
		os.Exit(2)
	}

	var doc any
	switch *part {
	case "select":
		doc = runSelect(*k, *n, *per, time.Duration(*timeoutMs)*time.Millisecond)
	case "timers":
		rep, err := runTimers(*timers)
		if err != nil {
			fmt.Fprintln(os.Stderr, "go24-select:", err)
			os.Exit(1)
		}
		doc = rep
	case "timer-mode":
		doc = timerModeHere(*timers)
	default:
		fmt.Fprintln(os.Stderr, "go24-select: -part must be select, timers or timer-mode")
		os.Exit(2)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go24-select:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

// Command go05-patterns answers go-05 (common concurrency patterns) by running the same four
// scenarios as crates/csp/src/patterns_demos.rs and printing what it observed as one JSON
// document:
//
//   - errgroup: 3 quick tasks, 4 slow ones (10 s unless cancelled) and one that fails with
//     "boom" once the quick ones are done; wait returns the first error, the context's cause is
//     that error, the slow ones see the cancel;
//   - errgroup limit: 3 held tasks fill a limit of 3, tryGo is refused, 20 tasks never exceed 3;
//   - fan-out/fan-in: two generators merged, squared by 4 workers, each value once; an endless
//     generator -> square pipeline read 5 times and cancelled;
//   - first response wins: one fast contender, 3 slow ones that see the race's cancel.
//
// golang.org/x/sync/errgroup is not in the standard library, and this module uses the standard
// library only, so the group below is a small equivalent written with sync.WaitGroup, sync.Once,
// a buffered channel as the limit and context.WithCancelCause. Each scenario ends by waiting for
// runtime.NumGoroutine to return to its value before the scenario (the leak check).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"gmrlab/internal/goprobe"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

const (
	slow       = 10 * time.Second
	grace      = 5 * time.Second
	quick      = 3
	slowTasks  = 4
	limit      = 3
	limitTasks = 20
	fanValues  = 1000
	fanWorkers = 4
	contenders = 4
)

// group is the errgroup equivalent: the first error is kept (once) and cancels the context with
// that error as the cause; wait cancels it too; an optional limit makes goFn block and tryGo fail.
type group struct {
	wg     sync.WaitGroup
	once   sync.Once
	err    error
	cancel context.CancelCauseFunc
	sem    chan struct{}
}

func withContext(parent context.Context) (*group, context.Context) {
	ctx, cancel := context.WithCancelCause(parent)
	return &group{cancel: cancel}, ctx
}

func (g *group) setLimit(n int) { g.sem = make(chan struct{}, n) }

func (g *group) run(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if g.sem != nil {
			defer func() { <-g.sem }()
		}
		if err := f(); err != nil {
			g.once.Do(func() {
				g.err = err
				if g.cancel != nil {
					g.cancel(err)
				}
			})
		}
	}()
}

func (g *group) goFn(f func() error) {
	if g.sem != nil {
		g.sem <- struct{}{}
	}
	g.run(f)
}

func (g *group) tryGo(f func() error) bool {
	if g.sem != nil {
		select {
		case g.sem <- struct{}{}:
		default:
			return false
		}
	}
	g.run(f)
	return true
}

func (g *group) wait() error {
	g.wg.Wait()
	if g.cancel != nil {
		g.cancel(g.err)
	}
	return g.err
}

// leaked waits up to grace for the goroutine count to fall back to before and returns the excess.
func leaked(before int) int {
	end := time.Now().Add(grace)
	for runtime.NumGoroutine() > before && time.Now().Before(end) {
		runtime.Gosched()
		time.Sleep(time.Millisecond) // a safety-net poll, not an ordering
	}
	return max(runtime.NumGoroutine()-before, 0)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

type errgroupObs struct {
	QuickFinished int     `json:"quick_finished"`
	SlowFinished  int     `json:"slow_finished"`
	SlowSawCancel int     `json:"slow_saw_cancel"`
	FirstErr      string  `json:"first_err"`
	Cause         string  `json:"cause"`
	WaitMs        float64 `json:"wait_ms"`
	Leaked        int     `json:"leaked"`
}

func observeErrgroup() errgroupObs {
	before := runtime.NumGoroutine()
	start := time.Now()
	g, ctx := withContext(context.Background())
	var quickN, slowFin, slowSaw atomic.Int64
	quickDone := make(chan struct{}, quick)
	for range quick {
		g.goFn(func() error {
			quickN.Add(1)
			quickDone <- struct{}{}
			return nil
		})
	}
	for range slowTasks {
		g.goFn(func() error {
			t := time.NewTimer(slow)
			defer t.Stop()
			select {
			case <-ctx.Done():
				slowSaw.Add(1)
				return ctx.Err()
			case <-t.C:
				slowFin.Add(1)
				return nil
			}
		})
	}
	g.goFn(func() error {
		for range quick {
			<-quickDone
		}
		return errors.New("boom")
	})
	o := errgroupObs{}
	if err := g.wait(); err != nil {
		o.FirstErr = err.Error()
	}
	o.WaitMs = ms(time.Since(start))
	o.QuickFinished = int(quickN.Load())
	o.SlowFinished = int(slowFin.Load())
	o.SlowSawCancel = int(slowSaw.Load())
	if c := context.Cause(ctx); c != nil {
		o.Cause = c.Error()
	}
	o.Leaked = leaked(before)
	return o
}

type limitObs struct {
	Limit         int   `json:"limit"`
	InsideWhenFul int64 `json:"inside_when_full"`
	TryRefused    bool  `json:"try_refused_when_full"`
	Peak          int64 `json:"peak"`
	Ran           int   `json:"ran"`
	Leaked        int   `json:"leaked"`
}

func observeLimit() limitObs {
	before := runtime.NumGoroutine()
	g := &group{}
	g.setLimit(limit)
	var t goprobe.Tracker
	var ran atomic.Int64
	gate := make(chan struct{})
	entered := make(chan struct{}, limit)
	for range limit {
		g.goFn(func() error {
			t.Enter()
			entered <- struct{}{}
			<-gate
			t.Leave()
			ran.Add(1)
			return nil
		})
	}
	for range limit {
		<-entered
	}
	o := limitObs{Limit: limit, InsideWhenFul: t.Inside()}
	o.TryRefused = !g.tryGo(func() error { return nil })
	close(gate)
	for range limitTasks - limit {
		g.goFn(func() error {
			t.Enter()
			goprobe.Work()
			t.Leave()
			ran.Add(1)
			return nil
		})
	}
	_ = g.wait()
	o.Peak = t.Peak()
	o.Ran = int(ran.Load())
	o.Leaked = leaked(before)
	return o
}

type fanObs struct {
	Values       int      `json:"values"`
	Delivered    int      `json:"delivered"`
	Distinct     int      `json:"distinct"`
	Exact        bool     `json:"exact"`
	PipelineHead []uint64 `json:"pipeline_head"`
	Leaked       int      `json:"leaked"`
}

// generate sends from, from+1, ... up to to-1 (forever if endless) until ctx is done.
func generate(ctx context.Context, from, to uint64, endless bool, buf int) <-chan uint64 {
	out := make(chan uint64, buf)
	go func() {
		defer close(out)
		for v := from; endless || v < to; v++ {
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// fanOut: workers goroutines read in, send f(v) to one output closed after the last one ends.
func fanOut(ctx context.Context, in <-chan uint64, workers int, f func(uint64) uint64) <-chan uint64 {
	out := make(chan uint64, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var v uint64
				var ok bool
				select {
				case v, ok = <-in:
					if !ok {
						return
					}
				case <-ctx.Done():
					return
				}
				select {
				case out <- f(v):
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	return out
}

// merge is fan-in: one forwarding goroutine per input.
func merge(ctx context.Context, ins ...<-chan uint64) <-chan uint64 {
	out := make(chan uint64, len(ins))
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range in {
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	return out
}

func observeFan() fanObs {
	before := runtime.NumGoroutine()
	bg := context.Background()
	half := uint64(fanValues / 2)
	merged := merge(bg, generate(bg, 0, half, false, 8), generate(bg, half, fanValues, false, 8))
	var out []uint64
	for v := range fanOut(bg, merged, fanWorkers, func(x uint64) uint64 { return x * x }) {
		out = append(out, v)
	}
	o := fanObs{Values: fanValues, Delivered: len(out)}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	seen := map[uint64]bool{}
	for _, v := range out {
		seen[v] = true
	}
	o.Distinct = len(seen)
	o.Exact = len(out) == fanValues
	for i, v := range out {
		if v != uint64(i*i) {
			o.Exact = false
		}
	}
	ctx, cancel := context.WithCancel(bg)
	squares := fanOut(ctx, generate(ctx, 0, 0, true, 0), 1, func(x uint64) uint64 { return x * x })
	for range 5 {
		o.PipelineHead = append(o.PipelineHead, <-squares)
	}
	cancel()
	o.Leaked = leaked(before)
	return o
}

type raceObs struct {
	Contenders      int     `json:"contenders"`
	Winner          string  `json:"winner"`
	LosersSawCancel int     `json:"losers_saw_cancel"`
	LosersFinished  int     `json:"losers_finished"`
	RaceMs          float64 `json:"race_ms"`
	Leaked          int     `json:"leaked"`
}

func observeRace() raceObs {
	before := runtime.NumGoroutine()
	var saw, finished atomic.Int64
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	// Room for every answer: a loser's late send never blocks (an unbuffered channel would
	// leak every loser).
	answers := make(chan string, contenders)
	go func() { answers <- "fast" }()
	for i := 1; i < contenders; i++ {
		go func() {
			t := time.NewTimer(slow)
			defer t.Stop()
			select {
			case <-ctx.Done():
				saw.Add(1)
			case <-t.C:
				finished.Add(1)
				answers <- fmt.Sprintf("slow-%d", i)
			}
		}()
	}
	o := raceObs{Contenders: contenders, Winner: <-answers}
	cancel()
	o.RaceMs = ms(time.Since(start))
	o.Leaked = leaked(before)
	o.LosersSawCancel = int(saw.Load())
	o.LosersFinished = int(finished.Load())
	return o
}

type report struct {
	GoVersion string      `json:"go_version"`
	Errgroup  errgroupObs `json:"errgroup"`
	Limit     limitObs    `json:"limit"`
	Fan       fanObs      `json:"fan"`
	Race      raceObs     `json:"race"`
}

func main() {
	r := report{
		GoVersion: runtime.Version(),
		Errgroup:  observeErrgroup(),
		Limit:     observeLimit(),
		Fan:       observeFan(),
		Race:      observeRace(),
	}
	out, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

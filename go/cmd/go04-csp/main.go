// Command go04-csp answers go-04 (Go's concurrency mechanism and the CSP model): it runs the same
// pipelines as crates/goroutines/src/pipeline.rs with goroutines and unbuffered channels, and
// prints what it observed as one JSON document, field for field like the Rust `Run`.
//
//   - linear: generator -> square -> keep-even -> sink
//   - fan-out/fan-in: generator -> square -> worker-0..k (sharing one input channel, each adding 1)
//     -> merge-0..k (forwarding into one channel) -> sink
//
// Each stage owns the packet it holds and appends its name to the packet's route; each stage logs
// its exit on a log channel before it closes its output, so the log shows the shutdown order.
// Closing the generator's output is the only stop signal.
//
// Standard library only. Run: cd go && go run ./cmd/go04-csp -n 20 -workers 3
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
)

type packet struct {
	Seq   uint64   `json:"seq"`
	Value uint64   `json:"value"`
	Route []string `json:"route"`
}

type exit struct {
	Stage   string `json:"stage"`
	Handled uint64 `json:"handled"`
}

type run struct {
	Output  []packet `json:"output"`
	Exits   []exit   `json:"exits"`
	Spawned int      `json:"spawned"`
	Joined  int      `json:"joined"`
}

type report struct {
	GoVersion string `json:"go_version"`
	N         uint64 `json:"n"`
	Workers   int    `json:"workers"`
	Linear    run    `json:"linear"`
	FanOut    run    `json:"fan_out"`
}

// stages keeps the log channel and counts the goroutines it starts, to wait for all of them.
type stages struct {
	log     chan exit
	wg      sync.WaitGroup
	spawned int
}

func newStages() *stages { return &stages{log: make(chan exit, 64)} }

func (s *stages) spawn(f func()) {
	s.spawned++
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

func (s *stages) generator(n uint64) <-chan packet {
	out := make(chan packet)
	s.spawn(func() {
		var handled uint64
		for seq := uint64(1); seq <= n; seq++ {
			out <- packet{Seq: seq, Value: seq, Route: []string{"generator"}}
			handled++
		}
		s.log <- exit{"generator", handled}
		close(out)
	})
	return out
}

// stage forwards what step returns (ok=false drops the packet) and closes out when in closes.
func (s *stages) stage(name string, in <-chan packet, step func(uint64) (uint64, bool)) <-chan packet {
	out := make(chan packet)
	s.spawn(func() {
		var handled uint64
		for p := range in {
			handled++
			if v, ok := step(p.Value); ok {
				p.Value = v
				p.Route = append(p.Route, name)
				out <- p
			}
		}
		s.log <- exit{name, handled}
		close(out)
	})
	return out
}

func (s *stages) fanIn(ins []<-chan packet) <-chan packet {
	out := make(chan packet)
	var forwarders sync.WaitGroup
	for j, in := range ins {
		name := fmt.Sprintf("merge-%d", j)
		forwarders.Add(1)
		s.spawn(func() {
			defer forwarders.Done()
			var handled uint64
			for p := range in {
				handled++
				p.Route = append(p.Route, name)
				out <- p
			}
			s.log <- exit{name, handled}
		})
	}
	// The merged channel closes once every forwarder is done (Rust: the last Sender dropped).
	go func() {
		forwarders.Wait()
		close(out)
	}()
	return out
}

func (s *stages) finish(in <-chan packet) run {
	var r run
	for p := range in {
		p.Route = append(p.Route, "sink")
		r.Output = append(r.Output, p)
	}
	s.log <- exit{"sink", uint64(len(r.Output))}
	s.wg.Wait()
	r.Spawned = s.spawned
	r.Joined = s.spawned
	close(s.log)
	for e := range s.log {
		r.Exits = append(r.Exits, e)
	}
	return r
}

func square(v uint64) (uint64, bool)   { return v * v, true }
func keepEven(v uint64) (uint64, bool) { return v, v%2 == 0 }
func addOne(v uint64) (uint64, bool)   { return v + 1, true }

func linear(n uint64) run {
	s := newStages()
	return s.finish(s.stage("keep-even", s.stage("square", s.generator(n), square), keepEven))
}

func fanOutFanIn(n uint64, workers int) run {
	s := newStages()
	sq := s.stage("square", s.generator(n), square)
	outs := make([]<-chan packet, workers)
	for j := range workers {
		outs[j] = s.stage(fmt.Sprintf("worker-%d", j), sq, addOne)
	}
	return s.finish(s.fanIn(outs))
}

func main() {
	n := flag.Uint64("n", 20, "values the generator emits")
	workers := flag.Int("workers", 3, "workers in the fan-out stage")
	flag.Parse()
	r := report{
		GoVersion: runtime.Version(),
		N:         *n,
		Workers:   *workers,
		Linear:    linear(*n),
		FanOut:    fanOutFanIn(*n, *workers),
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

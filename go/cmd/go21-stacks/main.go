// Command go21-stacks observes how a goroutine differs from an OS thread, for the go-21 demos of
// `lab run go-21`. It prints one JSON document:
//
//   - parked: -n goroutines parked at once, StackInuse per goroutine (the starting stack);
//   - deep: -deep-n goroutines that each recursed -depth frames before parking, StackInuse per
//     goroutine (the stack grew by copying), and after they returned to a shallow frame and a GC,
//     how much of it the GC shrank back;
//   - threads: the OS threads of the process with the parked goroutines alive (M:N);
//   - pingpong: two goroutines hand a token back and forth over unbuffered channels under
//     GOMAXPROCS=1, with the OS context switches of every thread of the process counted
//     (/proc/self/task/*/status) before and after.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

type report struct {
	GoVersion      string  `json:"go_version"`
	GOMAXPROCS     int     `json:"gomaxprocs"`
	Parked         int     `json:"parked"`
	StackPerParked float64 `json:"stack_bytes_per_parked"`
	ThreadsParked  int     `json:"os_threads_with_parked"`
	NumGoroutine   int     `json:"num_goroutine_with_parked"`
	Deep           int     `json:"deep"`
	Depth          int     `json:"depth"`
	StackPerDeep   float64 `json:"stack_bytes_per_deep"`
	StackAfterGC   float64 `json:"stack_bytes_per_deep_after_return_and_gc"`
	RoundTrips     int     `json:"round_trips"`
	PingPongNs     float64 `json:"ns_per_round_trip"`
	CtxSwitches    int     `json:"os_context_switches"`
}

func statusField(path, key string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), key+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// contextSwitches sums voluntary and involuntary switches over every thread of the process.
func contextSwitches() int {
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	total := 0
	for _, t := range tasks {
		total += statusField(t, "voluntary_ctxt_switches") + statusField(t, "nonvoluntary_ctxt_switches")
	}
	return total
}

func stackInuse() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.StackInuse)
}

// descend recurses n frames, each with a 128-byte local array, then signals and parks on `park`;
// after `park` is closed it returns and parks again, shallow, on `stop`.
func descend(n int, reached *sync.WaitGroup, park <-chan struct{}) byte {
	var buf [128]byte
	buf[n%128] = byte(n)
	if n == 0 {
		reached.Done()
		<-park
		return buf[0]
	}
	return descend(n-1, reached, park) + buf[(n+1)%128]
}

func main() {
	n := flag.Int("n", 10_000, "goroutines parked with a fresh stack")
	deep := flag.Int("deep-n", 1_000, "goroutines that recurse before parking")
	depth := flag.Int("depth", 1_000, "recursion depth")
	trips := flag.Int("round-trips", 100_000, "ping-pong round trips")
	flag.Parse()
	rep := report{GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), Parked: *n, Deep: *deep, Depth: *depth, RoundTrips: *trips}

	// Fresh stacks.
	runtime.GC()
	before := stackInuse()
	release := make(chan struct{})
	var started, done sync.WaitGroup
	started.Add(*n)
	done.Add(*n)
	for i := 0; i < *n; i++ {
		go func() {
			started.Done()
			<-release
			done.Done()
		}()
	}
	started.Wait()
	rep.StackPerParked = (stackInuse() - before) / float64(*n)
	rep.ThreadsParked = statusField("/proc/self/status", "Threads")
	rep.NumGoroutine = runtime.NumGoroutine()
	close(release)
	done.Wait()

	// Grown stacks, then shrunk by the GC once the goroutines are shallow again.
	runtime.GC()
	before = stackInuse()
	park, stop := make(chan struct{}), make(chan struct{})
	var reached, shallow, finished sync.WaitGroup
	reached.Add(*deep)
	shallow.Add(*deep)
	finished.Add(*deep)
	var sink sync.Mutex
	total := 0
	for i := 0; i < *deep; i++ {
		go func() {
			b := descend(*depth, &reached, park)
			shallow.Done()
			<-stop
			sink.Lock()
			total += int(b)
			sink.Unlock()
			finished.Done()
		}()
	}
	reached.Wait()
	rep.StackPerDeep = (stackInuse() - before) / float64(*deep)
	close(park)
	shallow.Wait()
	// Each GC may halve a stack that uses under a quarter of its size.
	for i := 0; i < 8; i++ {
		runtime.GC()
	}
	rep.StackAfterGC = (stackInuse() - before) / float64(*deep)
	close(stop)
	finished.Wait()

	// User-space switches: one P, two goroutines taking turns.
	prev := runtime.GOMAXPROCS(1)
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	sw0 := contextSwitches()
	t0 := time.Now()
	for i := 0; i < *trips; i++ {
		ping <- i
		<-pong
	}
	rep.PingPongNs = float64(time.Since(t0).Nanoseconds()) / float64(*trips)
	rep.CtxSwitches = contextSwitches() - sw0
	close(ping)
	<-pong
	runtime.GOMAXPROCS(prev)

	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

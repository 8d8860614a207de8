// Command go13-sched observes Go's real scheduler for go-13 (GPM), go-14 (concurrency vs
// parallelism), go-46 (goroutines vs kernel threads) and go-47 (why P), and prints one JSON
// document. crates/gpm makes the same observations on its own scheduler.
//
//   - m_to_n: many goroutines parked on a channel, next to the number of OS threads.
//   - syscalls: goroutines blocked in raw read(2) calls on pipes (not the netpoller): each holds an
//     M, the Ps are handed off, and the thread count grows.
//   - running: the same CPU-bound work with GOMAXPROCS=1 and 2; the most goroutines the runtime
//     reports in the running state (never above GOMAXPROCS) and the wall time.
//   - schedtrace: a child run of this program under GODEBUG=schedtrace, parsed: one local run
//     queue per P next to the one global queue.
//
// Standard library only, Linux only (/proc/self/status, pipe2). Run: cd go && go run ./cmd/go13-sched
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type mToN struct {
	Goroutines int `json:"goroutines"`
	Threads    int `json:"threads"`
}

type syscalls struct {
	Blockers      int  `json:"blockers"`
	ThreadsBefore int  `json:"threads_before"`
	ThreadsDuring int  `json:"threads_during"`
	AllBlocked    bool `json:"all_blocked"`
}

type running struct {
	Gomaxprocs int     `json:"gomaxprocs"`
	Workers    int     `json:"workers"`
	MaxRunning uint64  `json:"max_running"`
	ElapsedMs  float64 `json:"elapsed_ms"`
}

type schedtrace struct {
	Lines       int `json:"lines"`
	Gomaxprocs  int `json:"gomaxprocs"`
	LocalQueues int `json:"local_queues"`
	MaxLocal    int `json:"max_local"`
	MaxGlobal   int `json:"max_global"`
	MaxThreads  int `json:"max_threads"`
}

type report struct {
	GoVersion  string     `json:"go_version"`
	NumCPU     int        `json:"num_cpu"`
	Gomaxprocs int        `json:"gomaxprocs"`
	MToN       mToN       `json:"m_to_n"`
	Syscalls   syscalls   `json:"syscalls"`
	Running    []running  `json:"running"`
	Schedtrace schedtrace `json:"schedtrace"`
}

// threads reads the kernel's thread count for this process.
func threads() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Threads:") {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "Threads:")))
			return n
		}
	}
	return -1
}

func observeMToN(n int) mToN {
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
		}()
	}
	out := mToN{Goroutines: runtime.NumGoroutine(), Threads: threads()}
	close(release)
	wg.Wait()
	return out
}

func observeSyscalls(k int) syscalls {
	out := syscalls{Blockers: k, ThreadsBefore: threads()}
	fds := make([][2]int, k)
	for i := range fds {
		if err := syscall.Pipe(fds[i][:]); err != nil {
			fmt.Fprintln(os.Stderr, "pipe:", err)
			os.Exit(1)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < k; i++ {
		wg.Add(1)
		go func(fd int) {
			defer wg.Done()
			buf := make([]byte, 1)
			syscall.Read(fd, buf) // a raw blocking read: the M blocks in the kernel
		}(fds[i][0])
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		n := threads()
		if n > out.ThreadsDuring {
			out.ThreadsDuring = n
		}
		if n >= out.ThreadsBefore+k-1 || time.Now().After(deadline) {
			out.AllBlocked = n >= out.ThreadsBefore+k-1
			break
		}
		time.Sleep(time.Millisecond)
	}
	for i := range fds {
		syscall.Write(fds[i][1], []byte{1})
	}
	wg.Wait()
	for i := range fds {
		syscall.Close(fds[i][0])
		syscall.Close(fds[i][1])
	}
	return out
}

func spin(n int) uint64 {
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + uint64(i)
	}
	return x
}

var sink uint64

func observeRunning(procs, workers, work int) running {
	prev := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(prev)
	sample := []metrics.Sample{{Name: "/sched/goroutines/running:goroutines"}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := make(chan struct{})
	start := time.Now()
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := spin(work)
			mu.Lock()
			sink += x
			mu.Unlock()
		}()
	}
	var maxRunning uint64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-done:
				return
			default:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > maxRunning {
				maxRunning = sample[0].Value.Uint64()
			}
			runtime.Gosched()
		}
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	<-sampled
	return running{Gomaxprocs: procs, Workers: workers, MaxRunning: maxRunning, ElapsedMs: float64(elapsed.Microseconds()) / 1e3}
}

var (
	schedLine = regexp.MustCompile(`^SCHED .*gomaxprocs=(\d+) .*threads=(\d+) .*runqueue=(\d+) \[([\d ]*)\]`)
)

func observeSchedtrace() schedtrace {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "executable:", err)
		os.Exit(1)
	}
	cmd := exec.Command(self, "-child")
	cmd.Env = append(os.Environ(), "GODEBUG=schedtrace=10", "GOMAXPROCS=2")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err, stderr.String())
		os.Exit(1)
	}
	var out schedtrace
	for _, line := range strings.Split(stderr.String(), "\n") {
		m := schedLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		out.Lines++
		out.Gomaxprocs, _ = strconv.Atoi(m[1])
		t, _ := strconv.Atoi(m[2])
		g, _ := strconv.Atoi(m[3])
		out.MaxThreads = max(out.MaxThreads, t)
		out.MaxGlobal = max(out.MaxGlobal, g)
		locals := strings.Fields(m[4])
		out.LocalQueues = len(locals)
		for _, l := range locals {
			n, _ := strconv.Atoi(l)
			out.MaxLocal = max(out.MaxLocal, n)
		}
	}
	return out
}

// child keeps both Ps busy with many short goroutines for about 80 ms, so schedtrace has run
// queues to show.
func child() {
	deadline := time.Now().Add(80 * time.Millisecond)
	for time.Now().Before(deadline) {
		var wg sync.WaitGroup
		for i := 0; i < 500; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sink2 := spin(20000)
				_ = sink2
			}()
		}
		wg.Wait()
	}
}

func main() {
	isChild := flag.Bool("child", false, "run the busy child for schedtrace")
	goroutines := flag.Int("goroutines", 10000, "parked goroutines for m_to_n")
	blockers := flag.Int("blockers", 6, "goroutines blocked in read(2)")
	work := flag.Int("work", 20000000, "spin iterations per worker")
	flag.Parse()
	if *isChild {
		child()
		return
	}
	r := report{
		GoVersion:  runtime.Version(),
		NumCPU:     runtime.NumCPU(),
		Gomaxprocs: runtime.GOMAXPROCS(0),
	}
	r.MToN = observeMToN(*goroutines)
	r.Syscalls = observeSyscalls(*blockers)
	for _, procs := range []int{1, 2} {
		r.Running = append(r.Running, observeRunning(procs, 2, *work))
	}
	r.Schedtrace = observeSchedtrace()
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

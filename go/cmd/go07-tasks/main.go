// Command go07-tasks observes what separates a goroutine, an OS thread and a process, for the
// go-07 demos of `lab run go-07`. It prints one JSON document:
//
//   - memory: a goroutine's write to a package variable is seen by main (one address space); a
//     child process (this program re-executed) writes 42 to the same variable and main still reads
//     its own value (the child had its own copy);
//   - many: -n goroutines parked at once, with runtime.MemStats deltas and the OS threads it took;
//   - spawn: ns per goroutine for a spawn + join of -n goroutines.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// shared is the variable both the goroutine and the child process write.
var shared int64

const childEnv = "GO07_CHILD"

type memoryResult struct {
	Address          string `json:"address"`
	GoroutineWrote   int64  `json:"goroutine_wrote"`
	MainSawGoroutine int64  `json:"main_saw_goroutine_write"`
	ChildAddress     string `json:"child_address"`
	ChildWrote       int64  `json:"child_wrote"`
	ChildSaw         int64  `json:"child_saw"`
	ChildPid         int    `json:"child_pid"`
	MainPid          int    `json:"main_pid"`
	MainSawAfter     int64  `json:"main_saw_after_child"`
}

type manyResult struct {
	Goroutines    int     `json:"goroutines"`
	NumGoroutine  int     `json:"num_goroutine"`
	BytesPerG     float64 `json:"bytes_per_goroutine"`
	StackPerG     float64 `json:"stack_bytes_per_goroutine"`
	TotalMiB      float64 `json:"total_mib"`
	ThreadsBefore int     `json:"os_threads_before"`
	ThreadsParked int     `json:"os_threads_parked"`
	SysMiB        float64 `json:"sys_mib"`
}

type report struct {
	GoVersion  string       `json:"go_version"`
	GOMAXPROCS int          `json:"gomaxprocs"`
	Memory     memoryResult `json:"memory"`
	Many       manyResult   `json:"many"`
	SpawnNs    float64      `json:"spawn_ns_per_goroutine"`
	SpawnCPUNs float64      `json:"spawn_cpu_ns_per_goroutine"`
}

// osThreads is the Threads line of /proc/self/status (0 where there is no /proc).
func osThreads() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

func addr() string { return fmt.Sprintf("%p", &shared) }

func child() {
	shared = 42
	json.NewEncoder(os.Stdout).Encode(map[string]any{"address": addr(), "saw": shared, "pid": os.Getpid()})
}

func memory() (memoryResult, error) {
	r := memoryResult{Address: addr(), MainPid: os.Getpid(), GoroutineWrote: 7}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { shared = 7; wg.Done() }()
	wg.Wait()
	r.MainSawGoroutine = shared

	exe, err := os.Executable()
	if err != nil {
		return r, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		return r, err
	}
	var c struct {
		Address string `json:"address"`
		Saw     int64  `json:"saw"`
		Pid     int    `json:"pid"`
	}
	if err := json.Unmarshal(out, &c); err != nil {
		return r, err
	}
	r.ChildAddress, r.ChildWrote, r.ChildSaw, r.ChildPid = c.Address, 42, c.Saw, c.Pid
	r.MainSawAfter = shared
	return r, nil
}

func many(n int) manyResult {
	r := manyResult{Goroutines: n, ThreadsBefore: osThreads()}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	release := make(chan struct{})
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-release
			done.Done()
		}()
	}
	started.Wait()
	runtime.ReadMemStats(&after)
	r.NumGoroutine = runtime.NumGoroutine()
	r.ThreadsParked = osThreads()
	used := float64(after.StackInuse+after.HeapInuse) - float64(before.StackInuse+before.HeapInuse)
	r.BytesPerG = used / float64(n)
	r.StackPerG = (float64(after.StackInuse) - float64(before.StackInuse)) / float64(n)
	r.TotalMiB = used / (1 << 20)
	r.SysMiB = float64(after.Sys) / (1 << 20)
	close(release)
	done.Wait()
	return r
}

// cpuTime is the CPU this process has used so far, every thread together (getrusage).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spawn starts n goroutines that each call wg.Done and waits for all of them. It returns the wall
// time and the CPU time (all threads, GC included) per goroutine, in ns.
func spawn(n int) (wall, cpu float64) {
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go wg.Done()
	}
	wg.Wait()
	wall = float64(time.Since(start).Nanoseconds()) / float64(n)
	cpu = float64((cpuTime() - cpu0).Nanoseconds()) / float64(n)
	return wall, cpu
}

func main() {
	if os.Getenv(childEnv) == "1" {
		child()
		return
	}
	n := flag.Int("n", 100_000, "goroutines parked at once, and spawned + joined")
	flag.Parse()
	mem, err := memory()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child process:", err)
		os.Exit(1)
	}
	rep := report{
		GoVersion:  runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Memory:     mem,
		Many:       many(*n),
	}
	rep.SpawnNs, rep.SpawnCPUNs = spawn(*n)
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

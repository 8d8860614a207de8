// Command bench-pool measures what a goroutine costs and what a channel-fed goroutine pool costs per
// job, for `lab bench pool` to set beside the Rust figures (OS threads, tokio, rayon, threadpool,
// a crossbeam-fed pool). It prints one JSON document.
//
// Every figure checks its own result: each task or job increments its own slot of a `seen` array,
// and a run whose slots are not all exactly 1 is reported as not exactly-once (a benchmark that lost
// a job measures a bug). The heavy jobs also report an order-independent checksum (the XOR of every
// job's result) that the Rust side recomputes with the same xorshift loop.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spin is the heavy job: `iters` rounds of xorshift64 from a seed. The Rust side
// (crates/poolbench/src/work.rs) runs the same rounds, so both sides agree on the checksum.
func spin(seed uint64, iters int) uint64 {
	x := (seed + 1) * 0x9E3779B97F4A7C15 // odd multiplier: distinct seeds give distinct starts
	for i := 0; i < iters; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

type spawnResult struct {
	Tasks     int       `json:"tasks"`
	NsPerTask []float64 `json:"ns_per_task"`
	Once      bool      `json:"exactly_once"`
}

type memoryResult struct {
	Tasks int `json:"tasks"`
	// (StackInuse + HeapInuse) delta per parked goroutine, one figure per run.
	BytesPerTask []float64 `json:"bytes_per_task"`
	// StackInuse delta alone per parked goroutine.
	StackPerTask []float64 `json:"stack_bytes_per_task"`
}

type poolResult struct {
	Scenario  string    `json:"scenario"`
	Jobs      int       `json:"jobs"`
	Workers   int       `json:"workers"`
	QueueCap  int       `json:"queue_cap"`
	NsPerJob  []float64 `json:"ns_per_job"`
	Once      bool      `json:"exactly_once"`
	Checksum  uint64    `json:"checksum"`
	HeavyIter int       `json:"heavy_iters"`
}

type cpuResult struct {
	Workers    int       `json:"workers"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	Items      int       `json:"items"`
	NsPerItem  []float64 `json:"ns_per_item"`
	Once       bool      `json:"exactly_once"`
}

type report struct {
	GoVersion  string       `json:"go_version"`
	GOMAXPROCS int          `json:"gomaxprocs"`
	NumCPU     int          `json:"num_cpu"`
	Spawn      spawnResult  `json:"spawn"`
	Memory     memoryResult `json:"memory"`
	Pools      []poolResult `json:"pools"`
	CPU        []cpuResult  `json:"cpu"`
}

// allOnce reports whether every slot was hit exactly once.
func allOnce(seen []atomic.Int32) bool {
	for i := range seen {
		if seen[i].Load() != 1 {
			return false
		}
	}
	return true
}

// spawnJoin starts n goroutines that each mark their slot, waits for all, and returns ns per task.
func spawnJoin(n int) (float64, bool) {
	seen := make([]atomic.Int32, n)
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			seen[i].Add(1)
			wg.Done()
		}()
	}
	wg.Wait()
	ns := float64(time.Since(start).Nanoseconds()) / float64(n)
	return ns, allOnce(seen)
}

// parkedMemory starts n more goroutines that block on `release`, reading the memory statistics
// before and after. Returns (stack+heap) and stack bytes per goroutine. The caller keeps every batch
// parked until the last measurement: a batch started after an earlier one had exited would reuse
// the dead goroutines' descriptors and stacks and measure almost nothing.
func parkedMemory(n int, release chan struct{}, done *sync.WaitGroup) (float64, float64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var started sync.WaitGroup
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
	total := float64(after.StackInuse+after.HeapInuse) - float64(before.StackInuse+before.HeapInuse)
	stack := float64(after.StackInuse) - float64(before.StackInuse)
	return total / float64(n), stack / float64(n)
}

// pool runs jobs 0..n through a channel of capacity queueCap read by `workers` goroutines; job i
// marks seen[i] and, when iters > 0, computes spin(i, iters). Returns ns per job (from the first send
// to the last worker's exit) and the XOR of the results.
func pool(n, workers, queueCap, iters int, seen []atomic.Int32) (float64, uint64) {
	jobs := make(chan int, queueCap)
	sums := make([]uint64, workers)
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			defer wg.Done()
			var acc uint64
			for i := range jobs {
				seen[i].Add(1)
				if iters > 0 {
					acc ^= spin(uint64(i), iters)
				}
			}
			sums[w] = acc
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	ns := float64(time.Since(start).Nanoseconds()) / float64(n)
	var x uint64
	for _, s := range sums {
		x ^= s
	}
	return ns, x
}

func main() {
	spawnN := flag.Int("spawn", 100_000, "goroutines per spawn+join run")
	memN := flag.Int("mem", 100_000, "parked goroutines for the memory figure")
	tiny := flag.Int("tiny", 1_000_000, "tiny jobs per pool run")
	heavy := flag.Int("heavy", 10_000, "heavy jobs per pool run")
	iters := flag.Int("iters", 6_000, "xorshift rounds per heavy job")
	workers := flag.Int("workers", runtime.NumCPU(), "pool workers")
	queueCap := flag.Int("queue", 1024, "pool channel capacity")
	cpuItems := flag.Int("cpu-items", 2_000, "heavy items in the concurrency-vs-parallelism runs")
	runs := flag.Int("runs", 5, "repetitions of each measurement")
	flag.Parse()
	for _, v := range []int{*spawnN, *memN, *tiny, *heavy, *iters, *workers, *queueCap, *cpuItems, *runs} {
		if v <= 0 {
			fmt.Fprintln(os.Stderr, "every count must be positive")
			os.Exit(2)
		}
	}
	procs := runtime.GOMAXPROCS(0)
	rep := report{GoVersion: runtime.Version(), GOMAXPROCS: procs, NumCPU: runtime.NumCPU()}

	rep.Spawn = spawnResult{Tasks: *spawnN, Once: true}
	for r := 0; r < *runs; r++ {
		ns, ok := spawnJoin(*spawnN)
		rep.Spawn.NsPerTask = append(rep.Spawn.NsPerTask, ns)
		rep.Spawn.Once = rep.Spawn.Once && ok
	}

	rep.Memory = memoryResult{Tasks: *memN}
	release, parked := make(chan struct{}), &sync.WaitGroup{}
	for r := 0; r < min(*runs, 3); r++ {
		total, stack := parkedMemory(*memN, release, parked)
		rep.Memory.BytesPerTask = append(rep.Memory.BytesPerTask, total)
		rep.Memory.StackPerTask = append(rep.Memory.StackPerTask, stack)
	}
	close(release)
	parked.Wait()

	for _, sc := range []struct {
		name  string
		n     int
		iters int
	}{{"tiny", *tiny, 0}, {"heavy", *heavy, *iters}} {
		res := poolResult{Scenario: sc.name, Jobs: sc.n, Workers: *workers, QueueCap: *queueCap, Once: true, HeavyIter: sc.iters}
		for r := 0; r < *runs; r++ {
			seen := make([]atomic.Int32, sc.n)
			ns, sum := pool(sc.n, *workers, *queueCap, sc.iters, seen)
			res.NsPerJob = append(res.NsPerJob, ns)
			res.Once = res.Once && allOnce(seen)
			res.Checksum = sum
		}
		rep.Pools = append(rep.Pools, res)
	}

	// Concurrency vs parallelism: the same heavy items with 1 worker, then 2 workers sharing one P
	// (concurrent, not parallel), then 2 workers on 2 Ps (parallel, when the machine has 2 CPUs).
	for _, c := range []struct{ workers, procs int }{{1, 1}, {2, 1}, {2, 2}} {
		runtime.GOMAXPROCS(c.procs)
		res := cpuResult{Workers: c.workers, GOMAXPROCS: c.procs, Items: *cpuItems, Once: true}
		for r := 0; r < *runs; r++ {
			seen := make([]atomic.Int32, *cpuItems)
			ns, _ := pool(*cpuItems, c.workers, *queueCap, *iters, seen)
			res.NsPerItem = append(res.NsPerItem, ns)
			res.Once = res.Once && allOnce(seen)
		}
		rep.CPU = append(rep.CPU, res)
	}
	runtime.GOMAXPROCS(procs)

	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

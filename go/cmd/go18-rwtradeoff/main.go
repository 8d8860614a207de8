// Command go18-rwtradeoff answers part of go-18 (which locks Go has): when does sync.RWMutex pay
// off against sync.Mutex? It runs the same two workloads as crates/gosync/src/rw_tradeoff.rs and
// prints what it measured as one JSON document:
//
//   - read-heavy: -threads goroutines each do -read-ops operations, -read-writes in -read-of of
//     them writes, every read section waiting -section-us while it holds the read lock (a sleep
//     standing for I/O done under the lock), so readers can overlap on any number of CPUs;
//   - write-heavy: -write-ops operations each, -write-writes in -write-of of them writes, every
//     section a counter load (and store for a write).
//
// For each workload it reports the median elapsed time of -runs runs under sync.Mutex and
// sync.RWMutex, and the most read sections in progress at once under each lock.
//
// Standard library only. Run: cd go && go run ./cmd/go18-rwtradeoff
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type workload struct {
	Name      string `json:"name"`
	Ops       uint32 `json:"ops"`
	Writes    uint32 `json:"writes"`
	Of        uint32 `json:"of"`
	LongReads bool   `json:"long_reads"`
}

func (w workload) isWrite(t int, i uint32) bool {
	return (i+uint32(t)*w.Of/2)%w.Of < w.Writes
}

// run is one run of a workload under one lock.
type run struct {
	ElapsedNs        int64  `json:"elapsed_ns"`
	MaxReadersInside uint32 `json:"max_readers_inside"`
	OverlappedReads  uint64 `json:"overlapped_reads"`
	Reads            uint64 `json:"reads"`
	Count            uint64 `json:"count"`
}

// result mirrors the Rust struct gosync::rw_tradeoff_demos::GoWorkload.
type result struct {
	Workload              workload `json:"workload"`
	Mutex                 run      `json:"mutex"`
	Rw                    run      `json:"rw"`
	MutexMaxReadersInside uint32   `json:"mutex_max_readers_inside"`
	RwMaxReadersInside    uint32   `json:"rw_max_readers_inside"`
	TotalWrites           uint64   `json:"total_writes"`
}

type report struct {
	GoVersion  string   `json:"go_version"`
	Gomaxprocs int      `json:"gomaxprocs"`
	NumCPU     int      `json:"num_cpu"`
	Threads    int      `json:"threads"`
	Runs       int      `json:"runs"`
	SectionUs  int64    `json:"section_us"`
	Results    []result `json:"results"`
}

// rwLocker is the shared and exclusive side of a lock; a Mutex gives its one lock for both.
type rwLocker interface {
	rlock()
	runlock()
	lock()
	unlock()
}

type mutexLock struct{ m sync.Mutex }

func (l *mutexLock) rlock()   { l.m.Lock() }
func (l *mutexLock) runlock() { l.m.Unlock() }
func (l *mutexLock) lock()    { l.m.Lock() }
func (l *mutexLock) unlock()  { l.m.Unlock() }

type rwLock struct{ m sync.RWMutex }

func (l *rwLock) rlock()   { l.m.RLock() }
func (l *rwLock) runlock() { l.m.RUnlock() }
func (l *rwLock) lock()    { l.m.Lock() }
func (l *rwLock) unlock()  { l.m.Unlock() }

var sink atomic.Uint64

// wait blocks the goroutine's thread in nanosleep(2) for d. time.Sleep would park the goroutine
// on the runtime's timers instead, whose wake-up here comes ~1 ms late for a 100 µs sleep, while
// the Rust side's thread::sleep is this same nanosleep.
func wait(d time.Duration) {
	ts := syscall.NsecToTimespec(d.Nanoseconds())
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

func runOn(l rwLocker, w workload, section time.Duration, threads int) run {
	var counter, overlapped, reads atomic.Uint64
	var inside, maxInside atomic.Uint32
	var ready, done sync.WaitGroup
	// Every goroutine is running (yielding in a loop) before the start, so each sits on its own P;
	// parked on a channel, both would be readied onto one P and the second could wait for the
	// first to be preempted.
	var start atomic.Bool
	ready.Add(threads)
	done.Add(threads)
	for t := 0; t < threads; t++ {
		go func(t int) {
			defer done.Done()
			ready.Done()
			for !start.Load() {
				runtime.Gosched()
			}
			var local uint64
			for i := uint32(0); i < w.Ops; i++ {
				if w.isWrite(t, i) {
					l.lock()
					counter.Store(counter.Load() + 1)
					l.unlock()
					continue
				}
				l.rlock()
				before := inside.Add(1) - 1
				for {
					m := maxInside.Load()
					if before+1 <= m || maxInside.CompareAndSwap(m, before+1) {
						break
					}
				}
				if before > 0 {
					overlapped.Add(1)
				}
				v := counter.Load()
				if w.LongReads {
					wait(section)
				}
				local ^= v
				inside.Add(^uint32(0))
				l.runlock()
				reads.Add(1)
			}
			sink.Add(local)
		}(t)
	}
	ready.Wait()
	began := time.Now()
	start.Store(true)
	done.Wait()
	return run{
		ElapsedNs:        time.Since(began).Nanoseconds(),
		MaxReadersInside: maxInside.Load(),
		OverlappedReads:  overlapped.Load(),
		Reads:            reads.Load(),
		Count:            counter.Load(),
	}
}

func median(runs []run) run {
	rs := append([]run(nil), runs...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].ElapsedNs < rs[j].ElapsedNs })
	return rs[len(rs)/2]
}

func most(rs []run) uint32 {
	var m uint32
	for _, r := range rs {
		if r.MaxReadersInside > m {
			m = r.MaxReadersInside
		}
	}
	return m
}

func compare(w workload, section time.Duration, threads, runs int) result {
	// A warm-up, not counted: the first run pays for goroutine start-up and a cold CPU.
	runOn(&mutexLock{}, w, section, threads)
	var mu, rw []run
	for i := 0; i < runs; i++ {
		mu = append(mu, runOn(&mutexLock{}, w, section, threads))
		rw = append(rw, runOn(&rwLock{}, w, section, threads))
	}
	var writes uint64
	for t := 0; t < threads; t++ {
		for i := uint32(0); i < w.Ops; i++ {
			if w.isWrite(t, i) {
				writes++
			}
		}
	}
	r := result{
		Workload:              w,
		MutexMaxReadersInside: most(mu),
		RwMaxReadersInside:    most(rw),
		TotalWrites:           writes,
	}
	r.Mutex, r.Rw = median(mu), median(rw)
	return r
}

func main() {
	threads := flag.Int("threads", 2, "goroutines taking the lock")
	runs := flag.Int("runs", 5, "runs per lock; the median is reported")
	sectionUs := flag.Int64("section-us", 100, "wait in one long read section, µs")
	readOps := flag.Uint("read-ops", 300, "read-heavy: operations per goroutine")
	readWrites := flag.Uint("read-writes", 1, "read-heavy: writes per -read-of operations")
	readOf := flag.Uint("read-of", 100, "read-heavy: see -read-writes")
	writeOps := flag.Uint("write-ops", 20000, "write-heavy: operations per goroutine")
	writeWrites := flag.Uint("write-writes", 9, "write-heavy: writes per -write-of operations")
	writeOf := flag.Uint("write-of", 10, "write-heavy: see -write-writes")
	flag.Parse()
	if *threads < 1 || *runs < 1 || *readOf < 1 || *writeOf < 1 {
		fmt.Fprintln(os.Stderr, "threads, runs, read-of and write-of must be at least 1")
		os.Exit(2)
	}

	section := time.Duration(*sectionUs) * time.Microsecond
	workloads := []workload{
		{Name: "read-heavy", Ops: uint32(*readOps), Writes: uint32(*readWrites), Of: uint32(*readOf), LongReads: true},
		{Name: "write-heavy", Ops: uint32(*writeOps), Writes: uint32(*writeWrites), Of: uint32(*writeOf), LongReads: false},
	}
	rep := report{
		GoVersion:  runtime.Version(),
		Gomaxprocs: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
		Threads:    *threads,
		Runs:       *runs,
		SectionUs:  *sectionUs,
	}
	for _, w := range workloads {
		rep.Results = append(rep.Results, compare(w, section, *threads, *runs))
	}
	out, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

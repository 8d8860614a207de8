// Command go37-mutex answers go-37 (how Go's locks are implemented) and go-18 (which locks Go
// has) with Go's real sync package, and prints what it observed as one JSON document.
//
// It makes the same observations as crates/gosync/src/kinds.rs and crates/gosync/src/starvation.rs,
// under the same field names:
//
//   - each kind of lock doing the one thing that defines it: Mutex (no lost update), RWMutex
//     (readers inside together; TryRLock refused and a later reader queued behind a waiting
//     writer), Once (one run for racing callers; done even after f panics), a spin lock built on
//     atomic.Bool, and Cond (Wait releases the lock while waiting);
//   - the starvation workload: a hog goroutine re-locks a Mutex in a tight loop, holding it for
//     -hold-us each time, while a victim goroutine locks it -rounds times (arriving while the hog
//     holds it) and records its longest wait. Go's Mutex switches to starvation mode after a
//     waiter waited 1 ms, so the victim's worst wait stays bounded.
//
// Standard library only. Run: cd go && go run ./cmd/go37-mutex
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

const (
	counterGoroutines = 4
	counterEach       = 20000
	readers           = 4
	onceCallers       = 8
	deadline          = 5 * time.Second
)

// lockKinds mirrors the Rust struct gosync::kinds::LockKinds field for field.
type lockKinds struct {
	MutexCount                    uint64 `json:"mutex_count"`
	MutexExpected                 uint64 `json:"mutex_expected"`
	RwReaders                     uint32 `json:"rw_readers"`
	RwMaxOverlap                  uint32 `json:"rw_max_overlap"`
	RwTryRlockRefusedBehindWriter bool   `json:"rw_try_rlock_refused_behind_writer"`
	RwWriterBeforeNewReader       bool   `json:"rw_writer_before_new_reader"`
	OnceCallers                   uint32 `json:"once_callers"`
	OnceRuns                      uint32 `json:"once_runs"`
	OnceDoneAfterPanic            bool   `json:"once_done_after_panic"`
	SpinCount                     uint64 `json:"spin_count"`
	SpinTryRefusedWhileHeld       bool   `json:"spin_try_refused_while_held"`
	CondWaitReleasedLock          bool   `json:"cond_wait_released_lock"`
}

// victim is one run of the starvation workload.
type victim struct {
	MaxWaitNs         int64  `json:"max_wait_ns"`
	RoundsWhileHogRan uint32 `json:"rounds_while_hog_ran"`
	HogRounds         uint64 `json:"hog_rounds"`
}

type starvation struct {
	HoldUs     int64    `json:"hold_us"`
	Rounds     uint32   `json:"rounds"`
	GapUs      int64    `json:"gap_us"`
	HogLimitMs int64    `json:"hog_limit_ms"`
	BoundMs    int64    `json:"bound_ms"`
	Attempts   []victim `json:"attempts"`
}

type report struct {
	GoVersion  string     `json:"go_version"`
	Gomaxprocs int        `json:"gomaxprocs"`
	NumCPU     int        `json:"num_cpu"`
	Kinds      lockKinds  `json:"kinds"`
	Starvation starvation `json:"starvation"`
}

// countWith runs load+store increments of a plain counter inside lock/unlock.
func countWith(lock, unlock func()) uint64 {
	var counter uint64
	var wg sync.WaitGroup
	for range counterGoroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range counterEach {
				lock()
				counter++
				unlock()
			}
		}()
	}
	wg.Wait()
	return counter
}

// readerOverlap: each reader, once inside, waits (bounded) until all have arrived.
func readerOverlap(rw *sync.RWMutex) uint32 {
	var inside, arrived, maxSeen atomic.Uint32
	bump := func(v uint32) {
		for {
			m := maxSeen.Load()
			if v <= m || maxSeen.CompareAndSwap(m, v) {
				return
			}
		}
	}
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rw.RLock()
			defer rw.RUnlock()
			bump(inside.Add(1))
			arrived.Add(1)
			start := time.Now()
			for arrived.Load() < readers && time.Since(start) < deadline {
				runtime.Gosched()
			}
			bump(inside.Load())
			inside.Add(^uint32(0))
		}()
	}
	wg.Wait()
	return maxSeen.Load()
}

// writerPreference: a reader holds the lock and a writer waits. TryRLock must then fail, and a
// reader arriving now gets in only after the writer.
func writerPreference(rw *sync.RWMutex) (refused, writerFirst bool) {
	var order atomic.Uint32
	var wAt, rAt uint32
	var wg sync.WaitGroup
	rw.RLock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		rw.Lock()
		wAt = order.Add(1)
		rw.Unlock()
	}()
	// Go does not expose readerCount; TryRLock fails exactly when a writer is pending or holding.
	start := time.Now()
	for time.Since(start) < deadline {
		if !rw.TryRLock() {
			refused = true
			break
		}
		rw.RUnlock()
		runtime.Gosched()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		rw.RLock()
		rAt = order.Add(1)
		rw.RUnlock()
	}()
	rw.RUnlock()
	wg.Wait()
	return refused, wAt == 1 && rAt == 2
}

func onceRuns() uint32 {
	var once sync.Once
	var runs atomic.Uint32
	var start, wg sync.WaitGroup
	start.Add(1)
	for range onceCallers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			once.Do(func() { runs.Add(1) })
		}()
	}
	start.Done()
	wg.Wait()
	return runs.Load()
}

func onceDoneAfterPanic() bool {
	var once sync.Once
	panicked := false
	func() {
		defer func() { panicked = recover() != nil }()
		once.Do(func() { panic("f panics on purpose") })
	}()
	secondRan := false
	once.Do(func() { secondRan = true })
	return panicked && !secondRan
}

// spinLock is a lock built from one atomic.Bool. It yields after a run of failed attempts, so a
// holder that lost its P can run again.
type spinLock struct{ held atomic.Bool }

func (s *spinLock) tryLock() bool { return s.held.CompareAndSwap(false, true) }
func (s *spinLock) lock() {
	for i := 1; !s.tryLock(); i++ {
		if i%64 == 0 {
			runtime.Gosched()
		}
	}
}
func (s *spinLock) unlock() { s.held.Store(false) }

// condWaitReleases: the signaller can Lock while the waiter is inside Wait only if Wait released it.
func condWaitReleases() bool {
	var mu sync.Mutex
	c := sync.NewCond(&mu)
	waiting, ready := false, false
	done := make(chan struct{})
	go func() {
		mu.Lock()
		waiting = true
		for !ready {
			c.Wait()
		}
		mu.Unlock()
		close(done)
	}()
	for {
		mu.Lock()
		if waiting {
			ready = true
			c.Signal()
			mu.Unlock()
			break
		}
		mu.Unlock()
		runtime.Gosched()
	}
	<-done
	return true
}

func busyFor(d time.Duration) {
	start := time.Now()
	for time.Since(start) < d {
	}
}

// gapBefore matches Workload::gap_before on the Rust side.
func gapBefore(gap time.Duration, i uint32) time.Duration {
	return gap + time.Duration(i*37%101)*time.Microsecond
}

func victimMaxWait(hold, gap, hogLimit time.Duration, rounds uint32) victim {
	var mu sync.Mutex
	var stop, holding atomic.Bool
	var hogRunning atomic.Bool
	hogRunning.Store(true)
	var out victim
	var start, wg sync.WaitGroup
	start.Add(1)
	wg.Add(2)
	go func() {
		defer wg.Done()
		start.Wait()
		began := time.Now()
		for !stop.Load() && time.Since(began) < hogLimit {
			mu.Lock()
			holding.Store(true)
			busyFor(hold)
			holding.Store(false)
			mu.Unlock()
			out.HogRounds++
		}
		hogRunning.Store(false)
	}()
	go func() {
		defer wg.Done()
		start.Wait()
		var maxWait time.Duration
		for i := range rounds {
			busyFor(gapBefore(gap, i))
			for !holding.Load() && hogRunning.Load() {
			}
			t := time.Now()
			mu.Lock()
			maxWait = max(maxWait, time.Since(t))
			if hogRunning.Load() {
				out.RoundsWhileHogRan++
			}
			mu.Unlock()
		}
		stop.Store(true)
		out.MaxWaitNs = maxWait.Nanoseconds()
	}()
	start.Done()
	wg.Wait()
	return out
}

func main() {
	holdUs := flag.Int64("hold-us", 100, "how long the hog holds the mutex each time (µs)")
	rounds := flag.Uint("rounds", 100, "how many times the victim locks")
	gapUs := flag.Int64("gap-us", 150, "the victim's base busy gap between rounds (µs)")
	hogLimitMs := flag.Int64("hog-limit-ms", 300, "the hog stops after this long (ms)")
	boundMs := flag.Int64("bound-ms", 50, "stop retrying once the victim's worst wait is below this (ms)")
	attempts := flag.Int("attempts", 3, "runs of the starvation workload at most")
	flag.Parse()

	var rw sync.RWMutex
	refused, writerFirst := writerPreference(&rw)
	var mu sync.Mutex
	var spin spinLock
	spin.lock()
	spinRefused := !spin.tryLock()
	spin.unlock()
	r := report{
		GoVersion:  runtime.Version(),
		Gomaxprocs: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
		Kinds: lockKinds{
			MutexCount:                    countWith(mu.Lock, mu.Unlock),
			MutexExpected:                 counterGoroutines * counterEach,
			RwReaders:                     readers,
			RwMaxOverlap:                  readerOverlap(&rw),
			RwTryRlockRefusedBehindWriter: refused,
			RwWriterBeforeNewReader:       writerFirst,
			OnceCallers:                   onceCallers,
			OnceRuns:                      onceRuns(),
			OnceDoneAfterPanic:            onceDoneAfterPanic(),
			SpinCount:                     countWith(spin.lock, spin.unlock),
			SpinTryRefusedWhileHeld:       spinRefused,
			CondWaitReleasedLock:          condWaitReleases(),
		},
		Starvation: starvation{
			HoldUs:     *holdUs,
			Rounds:     uint32(*rounds),
			GapUs:      *gapUs,
			HogLimitMs: *hogLimitMs,
			BoundMs:    *boundMs,
		},
	}
	for range *attempts {
		v := victimMaxWait(time.Duration(*holdUs)*time.Microsecond, time.Duration(*gapUs)*time.Microsecond,
			time.Duration(*hogLimitMs)*time.Millisecond, uint32(*rounds))
		r.Starvation.Attempts = append(r.Starvation.Attempts, v)
		if v.MaxWaitNs < *boundMs*int64(time.Millisecond) {
			break
		}
	}
	out, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

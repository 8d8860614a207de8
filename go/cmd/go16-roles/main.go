// Command go16-roles answers go-16 (what goroutines and channels are for) with real goroutines and
// channels, and prints one JSON document whose fields match crates/goroutines/src/roles.rs:
//
//   - a channel of capacity 1 as a mutex (send = lock, receive = unlock) around a racy counter;
//   - a channel as a signal: one send wakes exactly one of N waiting receivers, close wakes the rest;
//   - a channel as a future: a producer sends its one result into a buffer of 1 and exits, the
//     consumer receives later, a second receive finds the channel closed;
//   - goroutines are cheap: -n goroutines parked on a channel, with runtime.NumGoroutine and
//     runtime.MemStats.StackInuse read before and after.
//
// Standard library only. Run: cd go && go run ./cmd/go16-roles -n 10000
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

type mutexReport struct {
	Count     uint64 `json:"count"`
	Expected  uint64 `json:"expected"`
	MaxInside uint64 `json:"max_inside"`
}

type signalReport struct {
	Waiters   uint64 `json:"waiters"`
	GotValue  uint64 `json:"got_value"`
	SawClosed uint64 `json:"saw_closed"`
}

type futureReport struct {
	ProducerDoneBeforeReceive bool   `json:"producer_done_before_receive"`
	Value                     uint64 `json:"value"`
	SecondReceiveClosed       bool   `json:"second_receive_closed"`
}

type cheap struct {
	N                      int     `json:"n"`
	NumGoroutineBefore     int     `json:"num_goroutine_before"`
	NumGoroutineParked     int     `json:"num_goroutine_parked"`
	NumGoroutineAfter      int     `json:"num_goroutine_after"`
	StackInuseDelta        uint64  `json:"stack_inuse_delta"`
	StackBytesPerGoroutine float64 `json:"stack_bytes_per_goroutine"`
	SysBytesPerGoroutine   float64 `json:"sys_bytes_per_goroutine"`
	SpawnNsPerGoroutine    float64 `json:"spawn_ns_per_goroutine"`
}

type report struct {
	GoVersion  string       `json:"go_version"`
	Gomaxprocs int          `json:"gomaxprocs"`
	Mutex      mutexReport  `json:"mutex"`
	Signal     signalReport `json:"signal"`
	Future     futureReport `json:"future"`
	Cheap      cheap        `json:"cheap"`
}

func channelAsMutex(goroutines int, each uint64) mutexReport {
	lock := make(chan struct{}, 1)
	var counter, inside, maxInside atomic.Uint64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				lock <- struct{}{}
				now := inside.Add(1)
				for {
					m := maxInside.Load()
					if now <= m || maxInside.CompareAndSwap(m, now) {
						break
					}
				}
				v := counter.Load() // a racy increment: only the channel keeps it exact
				counter.Store(v + 1)
				inside.Add(^uint64(0))
				<-lock
			}
		}()
	}
	wg.Wait()
	return mutexReport{counter.Load(), uint64(goroutines) * each, maxInside.Load()}
}

func sendThenClose(waiters int) signalReport {
	ch := make(chan uint64)
	var arrived atomic.Int64
	var got, closed atomic.Uint64
	var wg sync.WaitGroup
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arrived.Add(1)
			if _, ok := <-ch; ok {
				got.Add(1)
			} else {
				closed.Add(1)
			}
		}()
	}
	start := time.Now()
	for arrived.Load() < int64(waiters) && time.Since(start) < 10*time.Second {
		runtime.Gosched()
	}
	ch <- 42
	close(ch)
	wg.Wait()
	return signalReport{uint64(waiters), got.Load(), closed.Load()}
}

func future() futureReport {
	result := make(chan uint64, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		result <- 6 * 7
		close(result)
	}()
	<-done // the producer has finished before anyone receives
	v := <-result
	_, ok := <-result
	return futureReport{true, v, !ok}
}

func goroutinesAreCheap(n int) cheap {
	var before, parked runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := cheap{N: n, NumGoroutineBefore: runtime.NumGoroutine()}
	release := make(chan struct{})
	var started, finished sync.WaitGroup
	start := time.Now()
	for range n {
		started.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			started.Done()
			<-release
		}()
	}
	started.Wait()
	c.SpawnNsPerGoroutine = float64(time.Since(start).Nanoseconds()) / float64(n)
	runtime.ReadMemStats(&parked)
	c.NumGoroutineParked = runtime.NumGoroutine()
	c.StackInuseDelta = parked.StackInuse - before.StackInuse
	c.StackBytesPerGoroutine = float64(c.StackInuseDelta) / float64(n)
	c.SysBytesPerGoroutine = float64(parked.Sys-before.Sys) / float64(n)
	close(release)
	finished.Wait()
	// Done runs just before a goroutine exits, so a few may still be on their way out: wait
	// (bounded) until the count is back.
	start = time.Now()
	for runtime.NumGoroutine() > c.NumGoroutineBefore && time.Since(start) < 5*time.Second {
		runtime.Gosched()
	}
	c.NumGoroutineAfter = runtime.NumGoroutine()
	return c
}

func main() {
	n := flag.Int("n", 10000, "goroutines to park for the cost measurement")
	goroutines := flag.Int("goroutines", 4, "goroutines sharing the channel mutex")
	each := flag.Uint64("each", 2000, "increments per goroutine")
	waiters := flag.Int("waiters", 8, "receivers waiting for the signal")
	flag.Parse()
	r := report{
		GoVersion:  runtime.Version(),
		Gomaxprocs: runtime.GOMAXPROCS(0),
		Mutex:      channelAsMutex(*goroutines, *each),
		Signal:     sendThenClose(*waiters),
		Future:     future(),
		Cheap:      goroutinesAreCheap(*n),
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Command go02-sharing answers go-02 (besides a Mutex, how can goroutines share a variable safely?)
// with real Go, one way at a time, and prints what it observed as one JSON document. It is meant to
// run under the race detector: `go run -race ./cmd/go02-sharing`.
//
// It makes the same observations as crates/gosync/src/sharing.rs, under the same field names:
//
//   - atomics: -threads goroutines, released together, each do -each atomic.Int64 Adds; the total
//     must be exactly threads × each;
//   - a channel-owned map: one goroutine owns a map and is the only one to touch it; the others send
//     it -requests "add 1" requests each and wait for the new value on a reply channel. The replies,
//     sorted, must be exactly 1, 2, …, threads × requests: each request saw its own state;
//   - sync.Once: -once-callers goroutines race on one Once; f runs once and every caller sees the
//     same value, written by f before Do returned;
//   - confinement: each goroutine counts its own shard of a fixed pseudo-random input into its own
//     buckets; the buckets are merged after all have finished and must match a sequential count;
//   - sync.RWMutex: two readers are inside the read lock at the same time (each waits, bounded,
//     inside its read section for the other to arrive), and writes under Lock are all kept.
//
// With -racy it instead runs the counterexample: goroutines do counter++ on a plain int64 with no
// synchronization. Under -race the detector reports "WARNING: DATA RACE" and the exit status is 66.
//
// Standard library only. Run: cd go && go run -race ./cmd/go02-sharing
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// buckets is the number of buckets the confinement count uses; bucketOf picks one from the top
// bits of a value.
const buckets = 16

// report mirrors the Rust struct gosync::sharing::GoSharing field for field.
type report struct {
	GoVersion   string `json:"go_version"`
	Gomaxprocs  int    `json:"gomaxprocs"`
	NumCPU      int    `json:"num_cpu"`
	RaceEnabled bool   `json:"race_enabled"`
	Mode        string `json:"mode"`
	Threads     int    `json:"threads"`
	Each        int    `json:"each"`
	Requests    int    `json:"requests"`

	AtomicCount int64 `json:"atomic_count"`

	ChannelCount         int64 `json:"channel_count"`
	ChannelRepliesOneToN bool  `json:"channel_replies_one_to_n"`

	OnceCallers   int  `json:"once_callers"`
	OnceRuns      int  `json:"once_runs"`
	OnceSameValue bool `json:"once_same_value"`

	ShardBuckets []uint64 `json:"shard_buckets"`
	SeqBuckets   []uint64 `json:"sequential_buckets"`

	RwReadersMet      bool  `json:"rw_readers_met"`
	RwWrites          int64 `json:"rw_writes"`
	RwWritesExpected  int64 `json:"rw_writes_expected"`
	RacyCount         int64 `json:"racy_count"`
	RacyExpected      int64 `json:"racy_expected"`
	RwReadersTimeoutS int   `json:"rw_readers_timeout_s"`
}

// release starts n goroutines running f(i) and lets them all go at once; it returns when all are done.
func release(n int, f func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			f(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}

func atomics(threads, each int) int64 {
	var n atomic.Int64
	release(threads, func(int) {
		for j := 0; j < each; j++ {
			n.Add(1)
		}
	})
	return n.Load()
}

type addRequest struct {
	key   string
	delta int64
	reply chan int64
}

// channelOwned: the owner goroutine is the only code that touches m. Everyone else asks it.
func channelOwned(threads, requests int) (int64, bool) {
	reqs := make(chan addRequest)
	final := make(chan int64)
	go func() {
		m := map[string]int64{}
		for r := range reqs {
			m[r.key] += r.delta
			r.reply <- m[r.key]
		}
		final <- m["hits"]
	}()
	replies := make([][]int64, threads)
	release(threads, func(i int) {
		reply := make(chan int64)
		for j := 0; j < requests; j++ {
			reqs <- addRequest{key: "hits", delta: 1, reply: reply}
			replies[i] = append(replies[i], <-reply)
		}
	})
	close(reqs)
	count := <-final
	var all []int64
	for _, r := range replies {
		all = append(all, r...)
	}
	slices.Sort(all)
	oneToN := len(all) == threads*requests
	for k, v := range all {
		oneToN = oneToN && v == int64(k+1)
	}
	return count, oneToN
}

type config struct{ madeBy int }

func once(callers int) (runs int, same bool) {
	var o sync.Once
	var cfg *config
	var ran atomic.Int32
	seen := make([]*config, callers)
	release(callers, func(i int) {
		o.Do(func() {
			ran.Add(1)
			cfg = &config{madeBy: i}
		})
		seen[i] = cfg // safe: Do's f returned before any Do returns
	})
	same = seen[0] != nil
	for _, s := range seen {
		same = same && s == seen[0]
	}
	return int(ran.Load()), same
}

// lcg is the input both sides generate: x = x*6364136223846793005 + 1442695040888963407 from x = 1.
func lcg(n int) []uint64 {
	out := make([]uint64, n)
	x := uint64(1)
	for i := range out {
		x = x*6364136223846793005 + 1442695040888963407
		out[i] = x
	}
	return out
}

func bucketOf(v uint64) int { return int(v >> 60) }

func confined(threads, each int) (merged, sequential []uint64) {
	data := lcg(threads * each)
	shards := make([][buckets]uint64, threads)
	release(threads, func(i int) {
		var local [buckets]uint64 // this goroutine's own: nobody else can see it
		for _, v := range data[i*each : (i+1)*each] {
			local[bucketOf(v)]++
		}
		shards[i] = local // one write to a slot no other goroutine writes
	})
	merged = make([]uint64, buckets)
	for _, s := range shards {
		for b, c := range s {
			merged[b] += c
		}
	}
	sequential = make([]uint64, buckets)
	for _, v := range data {
		sequential[bucketOf(v)]++
	}
	return merged, sequential
}

// readersMeet: two readers take the read lock; inside, each waits (up to timeout) until both are
// in. With an exclusive lock the second could never get in while the first waits.
func readersMeet(rw *sync.RWMutex, timeout time.Duration) bool {
	const readers = 2
	var inside sync.WaitGroup
	inside.Add(readers)
	met := make(chan struct{})
	go func() {
		inside.Wait()
		close(met)
	}()
	var ok atomic.Int32
	release(readers, func(int) {
		rw.RLock()
		defer rw.RUnlock()
		inside.Done()
		select {
		case <-met:
			ok.Add(1)
		case <-time.After(timeout):
		}
	})
	return ok.Load() == readers
}

func rwWrites(rw *sync.RWMutex, threads, writes int) int64 {
	var n int64 // guarded by rw
	release(threads, func(i int) {
		for j := 0; j < writes; j++ {
			if i%2 == 0 {
				rw.Lock()
				n++
				rw.Unlock()
			} else {
				rw.RLock()
				_ = n
				rw.RUnlock()
			}
		}
	})
	return n
}

// racy is the counterexample: a plain counter++ with no synchronization, a data race.
func racy(threads, each int) int64 {
	var n int64
	release(threads, func(int) {
		for j := 0; j < each; j++ {
			n++
		}
	})
	return n
}

func main() {
	threads := flag.Int("threads", 4, "goroutines per way")
	each := flag.Int("each", 20000, "atomic increments (and confinement items) per goroutine")
	requests := flag.Int("requests", 2000, "requests each goroutine sends the channel owner")
	onceCallers := flag.Int("once-callers", 8, "goroutines racing on one sync.Once")
	timeoutS := flag.Int("timeout-s", 5, "how long a reader waits inside the read lock for the other")
	racyMode := flag.Bool("racy", false, "run only the unsynchronized counter (the race detector must flag it)")
	flag.Parse()
	if *threads < 2 || *each <= 0 || *requests <= 0 || *onceCallers <= 0 || *timeoutS <= 0 {
		fmt.Fprintln(os.Stderr, "threads must be at least 2; the other counts positive")
		os.Exit(2)
	}

	r := report{
		GoVersion:         runtime.Version(),
		Gomaxprocs:        runtime.GOMAXPROCS(0),
		NumCPU:            runtime.NumCPU(),
		RaceEnabled:       raceEnabled,
		Threads:           *threads,
		Each:              *each,
		Requests:          *requests,
		OnceCallers:       *onceCallers,
		RwReadersTimeoutS: *timeoutS,
	}
	if *racyMode {
		r.Mode = "racy"
		r.RacyCount = racy(*threads, *each)
		r.RacyExpected = int64(*threads * *each)
	} else {
		r.Mode = "safe"
		r.AtomicCount = atomics(*threads, *each)
		r.ChannelCount, r.ChannelRepliesOneToN = channelOwned(*threads, *requests)
		r.OnceRuns, r.OnceSameValue = once(*onceCallers)
		r.ShardBuckets, r.SeqBuckets = confined(*threads, *each)
		var rw sync.RWMutex
		r.RwReadersMet = readersMeet(&rw, time.Duration(*timeoutS)*time.Second)
		r.RwWrites = rwWrites(&rw, *threads, *each/10)
		r.RwWritesExpected = int64((*threads + 1) / 2 * (*each / 10))
	}
	out, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

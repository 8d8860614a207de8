// Command go38-hchan answers go-38 (how channels are implemented) and go-10 (why a channel is
// thread-safe) with the real Go runtime, and prints what it observed as one JSON document.
//
// It reads the fields of a channel's runtime.hchan (qcount, dataqsiz, sendx, recvx, closed, and
// the lengths of the recvq and sendq wait queues) through unsafe pointer casts, the way a debugger
// would. Because that struct is private and has changed (Go 1.23 added a timer field after
// closed), the program picks a mirror layout from runtime.Version() and checks it against values
// it can get legally (cap(ch), len(ch), the element size, a fresh channel being open) before it
// trusts a single reading; it exits with an error otherwise.
//
// Two experiments, the same ones crates/gochan/src/internals.rs runs on the Rust channel:
//
//   - -script '<json>': scenarios of steps (non-blocking send and receive, park a goroutine in a
//     blocking send or receive, close). After each step it records the hchan fields, and at the
//     end what each parked goroutine got. A parked goroutine is waited for by polling the length
//     of recvq/sendq, not by sleeping.
//   - -hammer '<json>': senders and receivers hammer one channel per capacity; it counts values
//     delivered, duplicated and lost, per-sender order violations seen by any receiver, and the
//     hchan fields once everything is done.
//
// Standard library only. Run: cd go && go run ./cmd/go38-hchan -script '[...]'
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// waitq mirrors runtime.waitq: the first and last sudog of a wait queue.
type waitq struct {
	first unsafe.Pointer
	last  unsafe.Pointer
}

// sudogHead mirrors the first fields of runtime.sudog, enough to walk a wait queue.
type sudogHead struct {
	g    unsafe.Pointer
	next unsafe.Pointer
	prev unsafe.Pointer
}

// hchan122 mirrors runtime.hchan up to sendq in Go 1.22.
type hchan122 struct {
	qcount   uint
	dataqsiz uint
	buf      unsafe.Pointer
	elemsize uint16
	closed   uint32
	elemtype unsafe.Pointer
	sendx    uint
	recvx    uint
	recvq    waitq
	sendq    waitq
}

// hchan123 mirrors runtime.hchan up to sendq from Go 1.23 on (a timer field after closed; the
// fields Go 1.25 added after sendq are not read).
type hchan123 struct {
	qcount   uint
	dataqsiz uint
	buf      unsafe.Pointer
	elemsize uint16
	closed   uint32
	timer    unsafe.Pointer
	elemtype unsafe.Pointer
	sendx    uint
	recvx    uint
	recvq    waitq
	sendq    waitq
}

// snapshot mirrors gochan::chan::Snapshot field for field.
type snapshot struct {
	Cap    uint `json:"cap"`
	Qcount uint `json:"qcount"`
	Sendx  uint `json:"sendx"`
	Recvx  uint `json:"recvx"`
	Recvq  int  `json:"recvq"`
	Sendq  int  `json:"sendq"`
	Closed bool `json:"closed"`
}

// layout is the mirror chosen for this Go version.
type layout int

const (
	layout122 layout = iota
	layout123
)

func (l layout) String() string {
	if l == layout122 {
		return "go1.22 (no timer field)"
	}
	return "go1.23+ (timer after closed)"
}

// pickLayout reads the minor version out of runtime.Version() ("go1.26.8").
func pickLayout(version string) (layout, error) {
	rest, ok := strings.CutPrefix(version, "go1.")
	if !ok {
		return 0, fmt.Errorf("cannot tell the hchan layout of %q", version)
	}
	minorText, _, _ := strings.Cut(rest, ".")
	minorText, _, _ = strings.Cut(minorText, "-")
	minor, err := strconv.Atoi(minorText)
	switch {
	case err != nil:
		return 0, fmt.Errorf("cannot tell the hchan layout of %q", version)
	case minor < 22:
		return 0, fmt.Errorf("%s predates the layouts this program knows (go1.22+)", version)
	case minor == 22:
		return layout122, nil
	default:
		return layout123, nil
	}
}

// queueLen walks a wait queue. The list is only read when the goroutines on it are parked or
// about to park, and sudogs are never freed, so every pointer followed is a sudog or nil.
func queueLen(q waitq) int {
	n := 0
	for p := q.first; p != nil; p = (*sudogHead)(p).next {
		n++
		if n > 1<<16 {
			fail(errors.New("wait queue does not end: wrong layout?"))
		}
	}
	return n
}

// read takes a snapshot of ch's hchan without its lock (a racy read; callers only rely on it at
// moments when nothing is changing, or poll it until it shows what they wait for).
func read(l layout, ch chan int64) snapshot {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&ch))
	if l == layout122 {
		h := (*hchan122)(p)
		return snapshot{h.dataqsiz, h.qcount, h.sendx, h.recvx, queueLen(h.recvq), queueLen(h.sendq), h.closed != 0}
	}
	h := (*hchan123)(p)
	return snapshot{h.dataqsiz, h.qcount, h.sendx, h.recvx, queueLen(h.recvq), queueLen(h.sendq), h.closed != 0}
}

func elemsize(l layout, ch chan int64) uint16 {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&ch))
	if l == layout122 {
		return (*hchan122)(p).elemsize
	}
	return (*hchan123)(p).elemsize
}

// checkLayout makes fresh channels of a few capacities, fills them part way, and compares what
// the mirror reads with cap, len and the element size.
func checkLayout(l layout) error {
	for _, c := range []int{0, 1, 3, 64} {
		ch := make(chan int64, c)
		for i := 0; i < c/2+c%2; i++ {
			ch <- int64(i)
		}
		s := read(l, ch)
		want := snapshot{Cap: uint(cap(ch)), Qcount: uint(len(ch)), Sendx: uint(len(ch) % max(c, 1))}
		if c == 0 {
			want.Sendx = 0
		}
		if s != want {
			return fmt.Errorf("layout %v does not fit: cap %d len %d read %+v, expected %+v", l, cap(ch), len(ch), s, want)
		}
		if es := elemsize(l, ch); uintptr(es) != unsafe.Sizeof(int64(0)) {
			return fmt.Errorf("layout %v does not fit: elemsize read as %d", l, es)
		}
	}
	return nil
}

// step is one line of a scenario; field names as in gochan's Step (serde, tag "op").
type step struct {
	Op    string `json:"op"` // send, recv, park_send, park_recv, close
	Value int64  `json:"value"`
}

type scenario struct {
	Name  string `json:"name"`
	Cap   int    `json:"cap"`
	Steps []step `json:"steps"`
}

// scenarioRun mirrors gochan's ScenarioRun.
type scenarioRun struct {
	Name      string     `json:"name"`
	Snapshots []snapshot `json:"snapshots"`
	Results   []string   `json:"results"`
	Outcomes  []string   `json:"outcomes"`
}

const patience = 5 * time.Second

// waitFor polls the hchan until cond holds (a goroutine has parked), yielding in between.
func waitFor(l layout, ch chan int64, what string, cond func(snapshot) bool) {
	start := time.Now()
	for !cond(read(l, ch)) {
		if time.Since(start) > patience {
			fail(fmt.Errorf("waited %v for %s: %+v", patience, what, read(l, ch)))
		}
		runtime.Gosched()
	}
}

// trySend is a non-blocking send (selectnbsend); a send on a closed channel panics in Go, which
// is reported as "closed".
func trySend(ch chan int64, v int64) (result string) {
	defer func() {
		if recover() != nil {
			result = "closed"
		}
	}()
	select {
	case ch <- v:
		return "ok"
	default:
		return "would block"
	}
}

func tryRecv(ch chan int64) string {
	select {
	case v, ok := <-ch:
		if !ok {
			return "closed"
		}
		return strconv.FormatInt(v, 10)
	default:
		return "would block"
	}
}

func runScenario(l layout, sc scenario) scenarioRun {
	ch := make(chan int64, sc.Cap)
	out := scenarioRun{Name: sc.Name, Snapshots: []snapshot{}, Results: []string{}, Outcomes: []string{}}
	var parked []chan string
	for _, st := range sc.Steps {
		var result string
		switch st.Op {
		case "send":
			result = trySend(ch, st.Value)
		case "recv":
			result = tryRecv(ch)
		case "park_recv":
			before := read(l, ch).Recvq
			done := make(chan string, 1)
			parked = append(parked, done)
			go func() {
				v, ok := <-ch
				if !ok {
					done <- "closed"
					return
				}
				done <- "received " + strconv.FormatInt(v, 10)
			}()
			waitFor(l, ch, "a receiver to park", func(s snapshot) bool { return s.Recvq > before })
			result = "parked"
		case "park_send":
			before := read(l, ch).Sendq
			done := make(chan string, 1)
			parked = append(parked, done)
			go func(v int64) {
				defer func() {
					if recover() != nil {
						done <- "closed"
					}
				}()
				ch <- v
				done <- "sent"
			}(st.Value)
			waitFor(l, ch, "a sender to park", func(s snapshot) bool { return s.Sendq > before })
			result = "parked"
		case "close":
			close(ch)
			result = "ok"
		default:
			fail(fmt.Errorf("scenario %s: unknown op %q", sc.Name, st.Op))
		}
		out.Results = append(out.Results, result)
		out.Snapshots = append(out.Snapshots, read(l, ch))
	}
	for i, done := range parked {
		select {
		case o := <-done:
			out.Outcomes = append(out.Outcomes, o)
		case <-time.After(patience):
			fail(fmt.Errorf("scenario %s: parked goroutine %d never finished", sc.Name, i))
		}
	}
	return out
}

// hammerSpec mirrors gochan's HammerSpec.
type hammerSpec struct {
	Senders   int   `json:"senders"`
	Receivers int   `json:"receivers"`
	PerSender int   `json:"per_sender"`
	Caps      []int `json:"caps"`
}

// delivery mirrors gochan's Delivery.
type delivery struct {
	Cap             int      `json:"cap"`
	Sent            int      `json:"sent"`
	Delivered       int      `json:"delivered"`
	Duplicates      int      `json:"duplicates"`
	Lost            int      `json:"lost"`
	OrderViolations int      `json:"order_violations"`
	NotQuiescent    []string `json:"not_quiescent"`
	After           snapshot `json:"after"`
}

// hammer: each sender sends sender*perSender+seq for seq = 0..perSender, then the channel is
// closed and every receiver drains it. Each receiver keeps what it got, in order.
func hammer(l layout, spec hammerSpec, c int) delivery {
	ch := make(chan int64, c)
	logs := make([][]int64, spec.Receivers)
	var senders, receivers sync.WaitGroup
	for r := 0; r < spec.Receivers; r++ {
		receivers.Add(1)
		go func(r int) {
			defer receivers.Done()
			for v := range ch {
				logs[r] = append(logs[r], v)
			}
		}(r)
	}
	for s := 0; s < spec.Senders; s++ {
		senders.Add(1)
		go func(s int) {
			defer senders.Done()
			for seq := 0; seq < spec.PerSender; seq++ {
				ch <- int64(s*spec.PerSender + seq)
			}
		}(s)
	}
	senders.Wait()
	close(ch)
	receivers.Wait()
	d := tally(spec, logs)
	d.Cap = c
	d.After = read(l, ch)
	d.NotQuiescent = []string{}
	if d.After.Recvq != 0 || d.After.Sendq != 0 || d.After.Qcount != 0 || d.After.Sendx != d.After.Recvx {
		d.NotQuiescent = append(d.NotQuiescent, fmt.Sprintf("after draining: %+v", d.After))
	}
	return d
}

// tally is gochan's tally: exactly-once counts, and per-sender order as seen by each receiver.
func tally(spec hammerSpec, logs [][]int64) delivery {
	total := spec.Senders * spec.PerSender
	seen := make([]int, total)
	d := delivery{Sent: total}
	for _, log := range logs {
		last := make(map[int64]int64)
		for _, v := range log {
			d.Delivered++
			if v < 0 || int(v) >= total {
				d.Duplicates++ // a value nobody sent counts as a duplicate
				continue
			}
			seen[v]++
			if seen[v] > 1 {
				d.Duplicates++
			}
			sender, seq := v/int64(spec.PerSender), v%int64(spec.PerSender)
			if prev, ok := last[sender]; ok && seq < prev {
				d.OrderViolations++
			}
			last[sender] = seq
		}
	}
	for _, n := range seen {
		if n == 0 {
			d.Lost++
		}
	}
	return d
}

type report struct {
	GoVersion  string        `json:"go_version"`
	Gomaxprocs int           `json:"gomaxprocs"`
	Layout     string        `json:"layout"`
	Scenarios  []scenarioRun `json:"scenarios"`
	Hammer     []delivery    `json:"hammer"`
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "go38-hchan:", err)
	os.Exit(1)
}

func main() {
	scriptJSON := flag.String("script", "", "scenarios to run, as JSON")
	hammerJSON := flag.String("hammer", "", "hammer spec, as JSON")
	flag.Parse()

	l, err := pickLayout(runtime.Version())
	if err != nil {
		fail(err)
	}
	if err := checkLayout(l); err != nil {
		fail(err)
	}
	rep := report{
		GoVersion:  runtime.Version(),
		Gomaxprocs: runtime.GOMAXPROCS(0),
		Layout:     l.String(),
		Scenarios:  []scenarioRun{},
		Hammer:     []delivery{},
	}
	if *scriptJSON != "" {
		var scenarios []scenario
		if err := json.Unmarshal([]byte(*scriptJSON), &scenarios); err != nil {
			fail(fmt.Errorf("-script: %w", err))
		}
		for _, sc := range scenarios {
			rep.Scenarios = append(rep.Scenarios, runScenario(l, sc))
		}
	}
	if *hammerJSON != "" {
		var spec hammerSpec
		if err := json.Unmarshal([]byte(*hammerJSON), &spec); err != nil {
			fail(fmt.Errorf("-hammer: %w", err))
		}
		if spec.Senders < 1 || spec.Receivers < 1 || spec.PerSender < 1 {
			fail(errors.New("-hammer: senders, receivers and per_sender must be positive"))
		}
		for _, c := range spec.Caps {
			rep.Hammer = append(rep.Hammer, hammer(l, spec, c))
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fail(err)
	}
}

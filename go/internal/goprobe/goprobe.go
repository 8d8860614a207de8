// Package goprobe holds what several of the lab's Go programs need to observe the runtime from
// inside: whether a goroutine is parked in a given wait state, and how many are inside a section.
package goprobe

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
)

// ParkedIn reports whether a goroutine running function fn is parked in the given wait state (the
// word in brackets of a traceback header, e.g. "chan send" or "select").
func ParkedIn(fn, state string) bool {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	for _, g := range strings.Split(string(buf[:n]), "\n\n") {
		header, body, _ := strings.Cut(g, "\n")
		inState := strings.Contains(header, "["+state+"]") || strings.Contains(header, "["+state+",")
		if inState && strings.Contains(body, fn+"(") {
			return true
		}
	}
	return false
}

// Tracker counts how many goroutines are inside a section at once and the most ever seen, for
// the programs that show a concurrency limit holding.
type Tracker struct{ in, peak atomic.Int64 }

// Enter counts one more goroutine inside and raises the peak if needed.
func (t *Tracker) Enter() {
	n := t.in.Add(1)
	for {
		p := t.peak.Load()
		if n <= p || t.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// Leave counts one goroutine out.
func (t *Tracker) Leave() { t.in.Add(-1) }

// Inside is how many are inside now.
func (t *Tracker) Inside() int64 { return t.in.Load() }

// Peak is the most that were ever inside at once.
func (t *Tracker) Peak() int64 { return t.peak.Load() }

// Work is a small fixed piece of arithmetic a job does while it is counted inside.
func Work() {
	x := 0
	for i := range 20000 {
		x += i
	}
	_ = x
}

// RunSelf runs this program again with args (the programs that must show what happens to a whole
// process, such as os.Exit or an unrecovered panic, do it in a child) and returns its stdout, its
// stderr and its exit code. err is set only when the child could not be run at all.
func RunSelf(args ...string) (stdout, stderr string, code int, err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", "", -1, err
	}
	cmd := exec.Command(exe, args...)
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	out, err := cmd.Output()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), errBuf.String(), 0, nil
	case errors.As(err, &ee):
		return string(out), errBuf.String(), ee.ExitCode(), nil
	default:
		return "", "", -1, err
	}
}

// Package goprobe holds what several of the lab's Go programs need to observe the runtime from
// inside: whether a goroutine is parked in a given wait state.
package goprobe

import (
	"runtime"
	"strings"
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

// Command go25-context answers go-25 (what the context package is for) with the real context
// package, and prints what it observed as one JSON document. Errors are printed as their text
// ("" for nil). The Rust side, crates/csp/src/context_demos.rs, fills the same fields.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"
)

type ctxKey string

type report struct {
	GoVersion              string `json:"go_version"`
	ChildCancelParentErr   string `json:"child_cancel_parent_err"`
	ChildCancelSiblingErr  string `json:"child_cancel_sibling_err"`
	ChildCancelGrandchild  string `json:"child_cancel_grandchild_err"`
	ParentCancelSiblingErr string `json:"parent_cancel_sibling_err"`
	RootErrAfterAll        string `json:"root_err_after_all"`
	LateChildGetsParentDl  bool   `json:"late_child_gets_parent_deadline"`
	EarlyChildKeepsOwnDl   bool   `json:"early_child_keeps_own_deadline"`
	DeadlineErr            string `json:"deadline_err"`
	DeadlineCause          string `json:"deadline_cause"`
	InheritedDeadlineErr   string `json:"inherited_deadline_err"`
	CauseErr               string `json:"cause_err"`
	Cause                  string `json:"cause"`
	ChildCause             string `json:"child_cause"`
	PlainCancelCause       string `json:"plain_cancel_cause"`
	BornDoneErr            string `json:"born_done_err"`
	ValueThroughCancel     int    `json:"value_through_cancel"`
	ValueShadowed          int    `json:"value_shadowed"`
	ValueAtRootFound       bool   `json:"value_at_root_found"`
}

func text(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func main() {
	r := report{GoVersion: runtime.Version()}
	root := context.Background()

	parent, cancelParent := context.WithCancel(root)
	child, cancelChild := context.WithCancel(parent)
	grandchild, cancelGrandchild := context.WithCancel(child)
	defer cancelGrandchild()
	sibling, cancelSibling := context.WithCancel(parent)
	defer cancelSibling()
	cancelChild()
	r.ChildCancelParentErr = text(parent.Err())
	r.ChildCancelSiblingErr = text(sibling.Err())
	r.ChildCancelGrandchild = text(grandchild.Err())
	cancelParent()
	r.ParentCancelSiblingErr = text(sibling.Err())
	r.RootErrAfterAll = text(root.Err())

	now := time.Now()
	dl, cancelDl := context.WithDeadline(root, now.Add(20*time.Millisecond))
	defer cancelDl()
	late, cancelLate := context.WithDeadline(dl, now.Add(time.Hour))
	defer cancelLate()
	early, cancelEarly := context.WithDeadline(dl, now.Add(time.Millisecond))
	defer cancelEarly()
	pd, _ := dl.Deadline()
	ld, _ := late.Deadline()
	ed, _ := early.Deadline()
	r.LateChildGetsParentDl = ld.Equal(pd)
	r.EarlyChildKeepsOwnDl = ed.Equal(now.Add(time.Millisecond))
	<-late.Done()
	r.DeadlineErr = text(dl.Err())
	r.DeadlineCause = text(context.Cause(dl))
	r.InheritedDeadlineErr = text(late.Err())

	cc, cancelCause := context.WithCancelCause(root)
	ccChild, cancelCC := context.WithCancel(cc)
	defer cancelCC()
	cancelCause(errors.New("shutting down"))
	r.CauseErr = text(cc.Err())
	r.Cause = text(context.Cause(cc))
	r.ChildCause = text(context.Cause(ccChild))
	r.PlainCancelCause = text(context.Cause(child))
	born, cancelBorn := context.WithCancel(cc)
	defer cancelBorn()
	r.BornDoneErr = text(born.Err())

	v := context.WithValue(root, ctxKey("user"), 7)
	vc, cancelV := context.WithCancel(v)
	defer cancelV()
	shadow := context.WithValue(vc, ctxKey("user"), 9)
	r.ValueThroughCancel, _ = vc.Value(ctxKey("user")).(int)
	r.ValueShadowed, _ = shadow.Value(ctxKey("user")).(int)
	r.ValueAtRootFound = root.Value(ctxKey("user")) != nil

	out, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

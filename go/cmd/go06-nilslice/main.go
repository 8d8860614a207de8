// Command go06-nilslice observes how Go treats a nil slice, an empty slice literal and a slice made
// with make([]int, 0): the same properties the Rust analogue (Option<Vec<i64>>) computes in
// crates/goslice/src/nil_vs_empty.rs. It prints one JSON document for `lab run go-06`.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
)

// row is what one slice value shows. The field names match the Rust side's Row.
type row struct {
	Value          string `json:"value"`
	Len            int    `json:"len"`
	Cap            int    `json:"cap"`
	IsNil          bool   `json:"is_nil"`
	DataPtrIsNil   bool   `json:"data_ptr_is_nil"`
	JSON           string `json:"json"`
	Text           string `json:"text"`
	Iterations     int    `json:"iterations"`
	LenAfterAppend int    `json:"len_after_append"`
	NilAfterAppend bool   `json:"nil_after_append"`
	Index0Exists   bool   `json:"index0_exists"`
	FieldJSON      string `json:"field_json"`
	FieldOmitempty string `json:"field_json_omitempty"`
	FieldOmitzero  string `json:"field_json_omitzero"`
	Index0Failure  string `json:"index0_failure"`
	DebugText      string `json:"debug_text"`
}

// pair compares two of the values.
type pair struct {
	A             string `json:"a"`
	B             string `json:"b"`
	DeepEqual     bool   `json:"deep_equal"`
	ContentsEqual bool   `json:"contents_equal"`
	SameDebugText bool   `json:"same_debug_text"`
	SameDataPtr   bool   `json:"same_data_ptr"`
}

// decoded is what json.Unmarshal leaves in a []int (or a struct's []int field).
type decoded struct {
	Input string `json:"input"`
	Start string `json:"start"`
	IsNil bool   `json:"is_nil"`
	Len   int    `json:"len"`
}

// produced is what a standard-library call or a slicing expression returns for "nothing".
type produced struct {
	Expr  string `json:"expr"`
	IsNil bool   `json:"is_nil"`
	Len   int    `json:"len"`
}

type table struct {
	Rows    []row     `json:"rows"`
	Pairs   []pair    `json:"pairs"`
	Decoded []decoded `json:"decoded"`
}

type report struct {
	GoVersion string     `json:"go_version"`
	Table     table      `json:"table"`
	Producers []produced `json:"producers"`
}

type plain struct{ Items []int }

type withOmitempty struct {
	Items []int `json:",omitempty"`
}

// omitzero is honoured from Go 1.24; older encoders ignore the unknown option.
type withOmitzero struct {
	Items []int `json:",omitzero"`
}

type named struct {
	name string
	s    []int
}

// values returns the three slices. They escape to the heap (they are returned), so the two empty
// ones get their backing array from mallocgc(0), which is &runtime.zerobase for both; an empty slice
// that stayed on the stack would point at its own zero-size stack slot instead.
func values() []named {
	var nilSlice []int
	return []named{
		{"nil", nilSlice},
		{"empty-literal", []int{}},
		{"make-0", make([]int, 0)},
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintln(os.Stderr, "marshal:", err)
		os.Exit(1)
	}
	return string(b)
}

// index0 reads s[0], turning the runtime's panic into a value.
func index0(s []int) (exists bool, failure string) {
	defer func() {
		if r := recover(); r != nil {
			exists, failure = false, fmt.Sprint("panic: ", r)
		}
	}()
	_ = s[0]
	return true, ""
}

// dataPtr is the slice header's data pointer (0 for a nil slice), read without package unsafe.
func dataPtr(s []int) uintptr {
	return reflect.ValueOf(s).Pointer()
}

func observe(n named) row {
	s := n.s
	iterations := 0
	for range s {
		iterations++
	}
	grown := append(s, 1)
	exists, failure := index0(s)
	return row{
		Value:          n.name,
		Len:            len(s),
		Cap:            cap(s),
		IsNil:          s == nil,
		DataPtrIsNil:   dataPtr(s) == 0,
		JSON:           mustJSON(s),
		Text:           fmt.Sprint(s),
		Iterations:     iterations,
		LenAfterAppend: len(grown),
		NilAfterAppend: grown == nil,
		Index0Exists:   exists,
		FieldJSON:      mustJSON(plain{s}),
		FieldOmitempty: mustJSON(withOmitempty{s}),
		FieldOmitzero:  mustJSON(withOmitzero{s}),
		Index0Failure:  failure,
		DebugText:      fmt.Sprintf("%#v", s),
	}
}

func decodeTop(input string, start []int, startName string) decoded {
	s := start
	if err := json.Unmarshal([]byte(input), &s); err != nil {
		fmt.Fprintln(os.Stderr, "unmarshal:", err)
		os.Exit(1)
	}
	return decoded{Input: input, Start: startName, IsNil: s == nil, Len: len(s)}
}

func decodeField(input string) decoded {
	var p plain
	if err := json.Unmarshal([]byte(input), &p); err != nil {
		fmt.Fprintln(os.Stderr, "unmarshal:", err)
		os.Exit(1)
	}
	return decoded{Input: input, Start: "zero", IsNil: p.Items == nil, Len: len(p.Items)}
}

func producers() []produced {
	var nilSlice []int
	p := func(expr string, s []string) produced { return produced{expr, s == nil, len(s)} }
	q := func(expr string, s []int) produced { return produced{expr, s == nil, len(s)} }
	return []produced{
		q("append(nilSlice, []int{}...)", append(nilSlice, []int{}...)),
		q("nilSlice[:0]", nilSlice[:0]),
		q("[]int{}[:0]", []int{}[:0]),
		q("slices.Clone(nilSlice)", slices.Clone(nilSlice)),
		q("slices.Clone([]int{})", slices.Clone([]int{})),
		p(`regexp.MustCompile("z").FindAllString("abc", -1)`, regexp.MustCompile("z").FindAllString("abc", -1)),
		p(`strings.Fields("")`, strings.Fields("")),
		p(`strings.Split("", ",")`, strings.Split("", ",")),
	}
}

func main() {
	vs := values()
	var t table
	for _, n := range vs {
		t.Rows = append(t.Rows, observe(n))
	}
	for i := range vs {
		for j := i + 1; j < len(vs); j++ {
			a, b := vs[i], vs[j]
			t.Pairs = append(t.Pairs, pair{
				A:             a.name,
				B:             b.name,
				DeepEqual:     reflect.DeepEqual(a.s, b.s),
				ContentsEqual: slices.Equal(a.s, b.s),
				SameDebugText: fmt.Sprintf("%#v", a.s) == fmt.Sprintf("%#v", b.s),
				SameDataPtr:   dataPtr(a.s) == dataPtr(b.s),
			})
		}
	}
	var nilSlice []int
	t.Decoded = []decoded{
		decodeTop("null", nilSlice, "nil"),
		decodeTop("[]", nilSlice, "nil"),
		decodeTop("null", []int{7}, "[7]"),
		decodeField(`{"Items":null}`),
		decodeField(`{"Items":[]}`),
		decodeField(`{}`),
	}
	out, err := json.MarshalIndent(report{
		GoVersion: runtime.Version(),
		Table:     t,
		Producers: producers(),
	}, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "marshal:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

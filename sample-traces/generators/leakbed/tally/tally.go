// Package tally counts a service's goroutines and outstanding resources by name, so a capture
// can be checked against the program's own numbers: how many of each kind were started and how
// many are alive right now. Standard library only, builds with Go 1.19.
package tally

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Tally is a set of named counters; the zero value is ready to use.
type Tally struct {
	m sync.Map // name -> *counter
}

type counter struct {
	started atomic.Int64
	live    atomic.Int64
}

func (t *Tally) counter(name string) *counter {
	if c, ok := t.m.Load(name); ok {
		return c.(*counter)
	}
	c, _ := t.m.LoadOrStore(name, new(counter))
	return c.(*counter)
}

// Enter records that one more of name is alive; call the returned function when it ends.
func (t *Tally) Enter(name string) (exit func()) {
	c := t.counter(name)
	c.started.Add(1)
	c.live.Add(1)
	return func() { c.live.Add(-1) }
}

// Add moves the live count of name by delta.
func (t *Tally) Add(name string, delta int64) {
	c := t.counter(name)
	if delta > 0 {
		c.started.Add(delta)
	}
	c.live.Add(delta)
}

// Declare makes name appear in snapshots even while nothing was counted yet.
func (t *Tally) Declare(names ...string) {
	for _, n := range names {
		t.counter(n)
	}
}

// Count is one tally line.
type Count struct {
	Name    string `json:"name"`
	Started int64  `json:"started"`
	Live    int64  `json:"live"`
}

// Snapshot returns every tally, sorted by name.
func (t *Tally) Snapshot() []Count {
	var out []Count
	t.m.Range(func(k, v any) bool {
		c := v.(*counter)
		out = append(out, Count{Name: k.(string), Started: c.started.Load(), Live: c.live.Load()})
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

package service

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// SettlementDesk confirms trades with the clearing house: a confirmation is accepted at once and
// the clearing house's answer arrives later through a callback.
type SettlementDesk struct {
	bugs  Bugs
	tally *Tally
	delay time.Duration

	mu      sync.Mutex
	pending map[string]*settlement
	settled atomic.Int64
	missed  atomic.Int64
}

type settlement struct {
	id     string
	opened time.Time
	result chan error
}

func newSettlementDesk(bugs Bugs, tally *Tally) *SettlementDesk {
	return &SettlementDesk{bugs: bugs, tally: tally, delay: 30 * time.Millisecond, pending: make(map[string]*settlement)}
}

func (d *SettlementDesk) open(id string) *settlement {
	st := &settlement{id: id, opened: time.Now()}
	if !d.bugs.UnmadeSettleChan {
		st.result = make(chan error, 1)
	}
	// BUG when UnmadeSettleChan: result stays nil; receiving from it blocks forever and the
	// clearing callback's non-blocking send silently drops the answer.
	d.mu.Lock()
	d.pending[id] = st
	d.mu.Unlock()
	return st
}

// Confirm submits a trade for settlement.
func (d *SettlementDesk) Confirm(w http.ResponseWriter, r *http.Request) {
	st := d.open(r.PathValue("id"))
	go d.awaitSettled(st)
	time.AfterFunc(d.delay, func() { d.clearingCallback(st, nil) })
	writeJSON(w, http.StatusAccepted, map[string]string{"settlement": st.id})
}

// clearingCallback delivers the clearing house's answer to whoever waits for it.
func (d *SettlementDesk) clearingCallback(st *settlement, err error) {
	select {
	case st.result <- err:
	default:
		d.missed.Add(1)
	}
}

func (d *SettlementDesk) awaitSettled(st *settlement) {
	defer d.tally.Enter("settle.awaitSettled")()
	err := <-st.result
	d.mu.Lock()
	delete(d.pending, st.id)
	d.mu.Unlock()
	if err == nil {
		d.settled.Add(1)
	}
}

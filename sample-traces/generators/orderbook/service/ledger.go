package service

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Ledger holds account balances. A compactor periodically writes a snapshot to the journal,
// a pipe that a shipper drains to durable storage.
type Ledger struct {
	tally *Tally

	mu       sync.Mutex
	balances map[string]int64
	journal  *journal
}

// journal is the pipe to the shipper: the ledger writes snapshots into w, the shipper reads r.
type journal struct {
	r       *os.File
	w       *os.File
	written atomic.Int64
	shipped atomic.Int64
}

func newLedger(ctx context.Context, bugs Bugs, tally *Tally) (*Ledger, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("journal pipe: %w", err)
	}
	l := &Ledger{tally: tally, balances: make(map[string]int64), journal: &journal{r: r, w: w}}
	for i := range 2000 {
		l.balances[fmt.Sprintf("acc-%04d", i)] = int64(1_000_000 + i*37)
	}
	if !bugs.ShipperDisabled {
		go l.journal.ship()
	}
	// BUG when ShipperDisabled: nothing reads the pipe. The first snapshot larger than the pipe
	// buffer blocks the compactor inside the ledger lock, and every Balance queues behind it.
	go l.compactLoop(ctx, time.Second)
	return l, nil
}

// ship drains the journal pipe to "durable storage".
func (j *journal) ship() {
	buf := make([]byte, 32<<10)
	for {
		n, err := j.r.Read(buf)
		j.shipped.Add(int64(n))
		if err != nil {
			return
		}
	}
}

func (j *journal) append(b []byte) error {
	n, err := j.w.Write(b)
	j.written.Add(int64(n))
	return err
}

// compactLoop snapshots the ledger on a ticker until ctx is done.
func (l *Ledger) compactLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.compact()
		}
	}
}

// compact writes a snapshot of every balance to the journal, under the lock so the snapshot is
// consistent.
func (l *Ledger) compact() {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.tally.Enter("ledger.compacting")()
	snap := make([]byte, 0, 128<<10)
	for acct, bal := range l.balances {
		snap = fmt.Appendf(snap, "%s=%d\n", acct, bal)
	}
	for len(snap) < 128<<10 {
		snap = append(snap, '#')
	}
	_ = l.journal.append(snap)
}

// Balance answers an account's balance.
func (l *Ledger) Balance(w http.ResponseWriter, r *http.Request) {
	acct := r.PathValue("acct")
	queued := l.tally.Enter("ledger.lockWaiters")
	l.mu.Lock()
	queued()
	bal, ok := l.balances[acct]
	if !ok {
		h := fnv.New32a()
		_, _ = h.Write([]byte(acct))
		bal = int64(h.Sum32() % 1_000_000)
		l.balances[acct] = bal
	}
	l.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"acct": acct, "balance": bal})
}

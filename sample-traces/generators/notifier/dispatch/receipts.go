package dispatch

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Receipts tracks deliveries until the carrier confirms them: Track registers a delivery and
// starts a watcher, Confirm hands the receipt to it.
type Receipts struct {
	svc       *Service
	seq       atomic.Int64
	mu        sync.Mutex
	pending   map[string]chan string
	confirmed atomic.Int64
	expired   atomic.Int64
}

type deliveryKey struct{}

// Track registers a delivery and answers with its id.
func (rc *Receipts) Track(w http.ResponseWriter, r *http.Request) {
	id := fmt.Sprintf("d-%07d", rc.seq.Add(1))
	ch := make(chan string)
	rc.mu.Lock()
	if rc.pending == nil {
		rc.pending = map[string]chan string{}
	}
	rc.pending[id] = ch
	rc.mu.Unlock()
	if rc.svc.bugs.Watcher {
		// BUG: the watcher's context comes from context.Background(): it is never cancelled
		// (its Done channel is nil) and there is no expiry, so an unconfirmed delivery's
		// watcher waits forever.
		ctx := context.WithValue(context.Background(), deliveryKey{}, id)
		go rc.watch(ctx, id, ch)
	} else {
		ctx, cancel := context.WithTimeout(rc.svc.ctx, 300*time.Millisecond)
		go func() {
			defer cancel()
			rc.watch(ctx, id, ch)
		}()
	}
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "%s\n", id)
}

func (rc *Receipts) watch(ctx context.Context, id string, ch chan string) {
	defer rc.svc.tally.Enter("receipts.watch")()
	select {
	case <-ch:
		rc.confirmed.Add(1)
	case <-ctx.Done():
		rc.expired.Add(1)
	}
	rc.mu.Lock()
	delete(rc.pending, id)
	rc.mu.Unlock()
}

// Confirm hands the carrier's receipt to the delivery's watcher.
func (rc *Receipts) Confirm(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	rc.mu.Lock()
	ch := rc.pending[id]
	rc.mu.Unlock()
	if ch == nil {
		http.NotFound(w, r)
		return
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case ch <- "ok":
		w.WriteHeader(http.StatusNoContent)
	case <-t.C:
		http.Error(w, "watcher gone", http.StatusGone)
	}
}

package service

import (
	"context"
	"net/http"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
)

// Book is the resting order book per symbol.
type Book struct {
	mu     sync.RWMutex
	levels map[string]map[int64]int64 // sym -> price -> resting quantity
	fills  atomic.Int64
}

func newBook() *Book { return &Book{levels: make(map[string]map[int64]int64)} }

func (b *Book) apply(j matchJob) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lv := b.levels[j.sym]
	if lv == nil {
		lv = make(map[int64]int64)
		b.levels[j.sym] = lv
	}
	// Cross against the best opposite level if there is one, else rest.
	if q := lv[j.px]; q > 0 {
		fill := min(q, j.qty)
		lv[j.px] = q - fill
		b.fills.Add(1)
		return
	}
	lv[j.px] += j.qty
}

// Depth answers the top levels of a symbol's book.
func (b *Book) Depth(w http.ResponseWriter, r *http.Request) {
	sym := r.PathValue("sym")
	b.mu.RLock()
	type level struct {
		Px  int64 `json:"px"`
		Qty int64 `json:"qty"`
	}
	var out []level
	for px, q := range b.levels[sym] {
		if q > 0 {
			out = append(out, level{px, q})
		}
	}
	b.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Px < out[j].Px })
	if len(out) > 10 {
		out = out[:10]
	}
	writeJSON(w, http.StatusOK, map[string]any{"sym": sym, "levels": out})
}

type matchJob struct {
	orderID string
	sym     string
	qty     int64
	px      int64
}

// Matcher is a fixed pool of workers that apply new orders to the book.
type Matcher struct {
	jobs  chan matchJob
	book  *Book
	wg    sync.WaitGroup
	tally *Tally
}

func newMatcher(workers int, book *Book, tally *Tally) *Matcher {
	m := &Matcher{jobs: make(chan matchJob, 256), book: book, tally: tally}
	for i := range workers {
		m.wg.Add(1)
		go m.worker(i)
	}
	return m
}

func (m *Matcher) worker(n int) {
	defer m.wg.Done()
	defer m.tally.Enter("matcher.worker")()
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("pool", "matcher", "worker", strconv.Itoa(n))))
	for j := range m.jobs {
		m.book.apply(j)
	}
}

// Submit queues a job, or reports false when the queue is full.
func (m *Matcher) Submit(j matchJob) bool {
	select {
	case m.jobs <- j:
		return true
	default:
		return false
	}
}

// Close stops the workers once the queue is drained.
func (m *Matcher) Close() {
	close(m.jobs)
	m.wg.Wait()
}

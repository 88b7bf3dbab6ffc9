package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a fixed worker pool started with the service; workers wait on the job channel.
type Pool struct {
	svc  *Service
	jobs chan func()
	done atomic.Int64
}

func newPool(svc *Service, n int) *Pool {
	p := &Pool{svc: svc, jobs: make(chan func())}
	for i := 0; i < n; i++ {
		go p.work(i)
	}
	return p
}

func (p *Pool) work(id int) {
	defer p.svc.tally.Enter("pool.worker")()
	for job := range p.jobs {
		job()
		p.done.Add(1)
	}
}

var errBusy = errors.New("pool busy")

// TrySubmit hands job to an idle worker, waiting at most 50 ms for one.
func (p *Pool) TrySubmit(job func()) error {
	t := time.NewTimer(50 * time.Millisecond)
	defer t.Stop()
	select {
	case p.jobs <- job:
		return nil
	case <-t.C:
		return errBusy
	}
}

// WorkQueue is a condition-variable queue: consumers wait in Cond.Wait until a task is pushed.
type WorkQueue struct {
	svc   *Service
	mu    sync.Mutex
	cond  *sync.Cond
	items []string
	taken atomic.Int64
}

func newWorkQueue(svc *Service, consumers int) *WorkQueue {
	q := &WorkQueue{svc: svc}
	q.cond = sync.NewCond(&q.mu)
	for i := 0; i < consumers; i++ {
		go q.consume(i)
	}
	return q
}

// Push adds a task and wakes one consumer.
func (q *WorkQueue) Push(item string) {
	q.mu.Lock()
	q.items = append(q.items, item)
	q.mu.Unlock()
	q.cond.Signal()
}

func (q *WorkQueue) consume(id int) {
	defer q.svc.tally.Enter("queue.consumer")()
	for {
		q.mu.Lock()
		for len(q.items) == 0 {
			q.cond.Wait()
		}
		item := q.items[0]
		q.items = q.items[1:]
		q.mu.Unlock()
		q.process(item)
	}
}

func (q *WorkQueue) process(item string) {
	q.taken.Add(1)
	_ = len(item)
}

// tenantClock is one tenant's housekeeping loop: on every tick it publishes the tenant's
// heartbeat; it stops when its stop channel closes.
type tenantClock struct {
	svc    *Service
	tenant string
	every  time.Duration
	stop   chan struct{}
	ticks  atomic.Int64
}

func (tc *tenantClock) run() {
	defer tc.svc.tally.Enter("tenant.clock")()
	t := time.NewTicker(tc.every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			n := tc.ticks.Add(1)
			tc.svc.hub.Publish("tenant/"+tc.tenant, fmt.Sprintf("tick %d", n))
		case <-tc.stop:
			return
		}
	}
}

// Janitor sweeps expired state every 30 seconds, for the life of the process.
type Janitor struct {
	svc    *Service
	sweeps atomic.Int64
}

func (j *Janitor) loop() {
	defer j.svc.tally.Enter("janitor")()
	for {
		time.Sleep(30 * time.Second)
		j.sweeps.Add(1)
	}
}

// BatchRunner runs batch jobs in the background: a coordinator starts one goroutine per shard
// and waits for all of them.
type BatchRunner struct {
	svc      *Service
	seq      atomic.Int64
	finished atomic.Int64
}

// Start accepts a batch (shards, duration in ms) and returns 202 at once.
func (b *BatchRunner) Start(w http.ResponseWriter, r *http.Request) {
	shards, _ := strconv.Atoi(r.URL.Query().Get("shards"))
	ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
	if shards <= 0 || shards > 64 || ms <= 0 || ms > 60000 {
		http.Error(w, "bad batch", http.StatusBadRequest)
		return
	}
	id := b.seq.Add(1)
	go b.run(id, shards, time.Duration(ms)*time.Millisecond)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, "batch %d accepted\n", id)
}

func (b *BatchRunner) run(id int64, shards int, d time.Duration) {
	defer b.svc.tally.Enter("batch.coordinator")()
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := 0; i < shards; i++ {
		wg.Add(1)
		go b.processShard(&wg, i, deadline)
	}
	wg.Wait()
	b.finished.Add(1)
}

func (b *BatchRunner) processShard(wg *sync.WaitGroup, shard int, deadline time.Time) {
	defer wg.Done()
	defer b.svc.tally.Enter("batch.shard")()
	step := time.Duration(120+shard*7) * time.Millisecond
	for time.Now().Before(deadline) {
		select {
		case <-time.After(step):
		case <-b.svc.ctx.Done():
			return
		}
	}
}

// Reports renders reports; rendering takes 1.2 s.
type Reports struct{ svc *Service }

// Render waits for the renderer (or the client to leave).
func (rp *Reports) Render(w http.ResponseWriter, r *http.Request) {
	defer rp.svc.tally.Enter("reports.rendering")()
	select {
	case <-time.After(1200 * time.Millisecond):
		fmt.Fprintf(w, "report %s\n", r.URL.Query().Get("id"))
	case <-r.Context().Done():
	}
}




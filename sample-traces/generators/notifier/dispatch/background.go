package dispatch

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Deliverer is the delivery worker pool: a fixed number of workers started with the service
// take jobs from a channel and post them to the upstream carrier.
type Deliverer struct {
	svc       *Service
	base      string
	client    *http.Client
	jobs      chan delivery
	delivered atomic.Int64
	failed    atomic.Int64
}

type delivery struct {
	user, text string
}

func newDeliverer(svc *Service, base string, n int) *Deliverer {
	d := &Deliverer{svc: svc, base: base, jobs: make(chan delivery),
		client: &http.Client{Timeout: 2 * time.Second, Transport: svc.transport}}
	for i := 0; i < n; i++ {
		go d.run(i)
	}
	return d
}

func (d *Deliverer) run(worker int) {
	defer d.svc.tally.Enter("deliverer.worker")()
	for job := range d.jobs {
		if err := d.post("/deliver", url.Values{"user": {job.user}, "text": {job.text}}); err != nil {
			d.failed.Add(1)
			continue
		}
		d.delivered.Add(1)
	}
}

// post sends a form to the upstream and drains the answer.
func (d *Deliverer) post(path string, form url.Values) error {
	resp, err := d.client.PostForm(d.base+path, form)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return nil
}

// Enqueue hands a notification to an idle worker (waits at most 200 ms for one).
func (d *Deliverer) Enqueue(w http.ResponseWriter, r *http.Request) {
	job := delivery{user: r.URL.Query().Get("user"), text: r.URL.Query().Get("text")}
	t := time.NewTimer(200 * time.Millisecond)
	defer t.Stop()
	select {
	case d.jobs <- job:
		w.WriteHeader(http.StatusAccepted)
	case <-t.C:
		http.Error(w, "deliverers busy", http.StatusServiceUnavailable)
	}
}

// Outbox collects agent notes and audit lines; drainers wait on a condition variable.
type Outbox struct {
	svc     *Service
	mu      sync.Mutex
	ready   *sync.Cond
	lines   []string
	drained atomic.Int64
}

func newOutbox(svc *Service, drainers int) *Outbox {
	o := &Outbox{svc: svc}
	o.ready = sync.NewCond(&o.mu)
	for i := 0; i < drainers; i++ {
		go o.drain()
	}
	return o
}

func (o *Outbox) push(line string) {
	o.mu.Lock()
	o.lines = append(o.lines, line)
	o.mu.Unlock()
	o.ready.Signal()
}

// Put is the HTTP form of push.
func (o *Outbox) Put(w http.ResponseWriter, r *http.Request) {
	o.push(r.URL.Query().Get("line"))
	w.WriteHeader(http.StatusAccepted)
}

func (o *Outbox) drain() {
	defer o.svc.tally.Enter("outbox.drainer")()
	for {
		o.mu.Lock()
		for len(o.lines) == 0 {
			o.ready.Wait()
		}
		batch := o.lines
		o.lines = nil
		o.mu.Unlock()
		o.drained.Add(int64(len(batch)))
	}
}

// quotaClock resets one tenant's send quota on every tick until stopped.
type quotaClock struct {
	svc    *Service
	tenant string
	every  time.Duration
	stop   chan struct{}
	resets atomic.Int64
}

func (q *quotaClock) loop() {
	defer q.svc.tally.Enter("quota.clock")()
	t := time.NewTicker(q.every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			q.resets.Add(1)
			q.svc.broker.Post("queue/"+q.tenant, "quota reset")
		case <-q.stop:
			return
		}
	}
}

// Package console is "busyhealthy", a dispatch console back end that is busy and healthy: live
// terminal sessions over TCP, watch streams and long polls over HTTP, a worker pool, a
// condition-variable queue, per-tenant clocks, a janitor, batches in flight. Many goroutines
// live long and wait; none of them leaks.
package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"example.com/leakbed/tally"
)

// Sizes of the fixed background.
const (
	PoolWorkers    = 12
	QueueConsumers = 4
	Tenants        = 6
)

// Service is the whole console.
type Service struct {
	ctx   context.Context
	tally *tally.Tally

	hub       *Hub
	pool      *Pool
	queue     *WorkQueue
	batches   *BatchRunner
	reports   *Reports
	watch     *WatchDesk
	terminals *TerminalServer
	clocks    []*tenantClock
	janitor   *Janitor
}

// New starts the background and the terminal listener's accept loop.
func New(ctx context.Context, t *tally.Tally, terminalLn net.Listener) *Service {
	s := &Service{ctx: ctx, tally: t, hub: newHub()}
	t.Declare("terminal.reader", "terminal.writer", "terminal.relay", "watch.reader", "watch.pump",
		"watch.follower", "poll.waiting", "reports.rendering", "batch.coordinator", "batch.shard")
	s.pool = newPool(s, PoolWorkers)
	s.queue = newWorkQueue(s, QueueConsumers)
	s.batches = &BatchRunner{svc: s}
	s.reports = &Reports{svc: s}
	s.watch = &WatchDesk{svc: s}
	s.janitor = &Janitor{svc: s}
	go s.janitor.loop()
	for i := 0; i < Tenants; i++ {
		tc := &tenantClock{svc: s, tenant: strconv.Itoa(i), every: msDuration(700 + 150*i), stop: make(chan struct{})}
		s.clocks = append(s.clocks, tc)
		go tc.run()
	}
	s.terminals = newTerminalServer(s, terminalLn)
	go s.terminals.acceptTerminals()
	go func() {
		<-ctx.Done()
		for _, tc := range s.clocks {
			close(tc.stop)
		}
	}()
	return s
}

// Routes is the API.
func (s *Service) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/watch", s.watch.Attach)
	mux.HandleFunc("/v1/poll", s.watch.Poll)
	mux.HandleFunc("/v1/messages", s.publish)
	mux.HandleFunc("/v1/tasks", s.enqueue)
	mux.HandleFunc("/v1/topics", s.listTopics)
	mux.HandleFunc("/v1/batches", s.batches.Start)
	mux.HandleFunc("/v1/reports/render", s.reports.Render)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

func (s *Service) publish(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	topic, body := r.URL.Query().Get("topic"), r.URL.Query().Get("body")
	if err := s.pool.TrySubmit(func() { s.hub.Publish(topic, body) }); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Service) enqueue(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	s.queue.Push(r.URL.Query().Get("task"))
	w.WriteHeader(http.StatusAccepted)
}

func (s *Service) listTopics(w http.ResponseWriter, r *http.Request) {
	topics := s.hub.Topics()
	out := make([]map[string]any, 0, len(topics))
	for _, t := range sortedKeys(topics) {
		out = append(out, map[string]any{"topic": t, "subscribers": topics[t]})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// Stats is the extra part of the stats endpoint.
func (s *Service) Stats() map[string]any {
	return map[string]any{
		"terminals_live":    s.terminals.count(),
		"watch_streams":     s.watch.count(),
		"hub_delivered":     s.hub.delivered.Load(),
		"hub_dropped":       s.hub.dropped.Load(),
		"pool_jobs_done":    s.pool.done.Load(),
		"queue_taken":       s.queue.taken.Load(),
		"batches_finished":  s.batches.finished.Load(),
		"janitor_sweeps":    s.janitor.sweeps.Load(),
		"topics":            s.hub.Topics(),
	}
}

func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

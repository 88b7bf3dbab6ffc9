// Package dispatch is "notifier", a notification service: it resolves how to reach a user,
// streams a user's inbox, composes digests, replays history, tracks delivery receipts, tests
// webhooks and sends SMS, with support agents connected over TCP and the usual background (a
// delivery worker pool, per-tenant quota clocks, an outbox drained by condition-variable
// waiters).
//
// Seven defects, each switched on by a field of Bugs, leave goroutines behind in a different
// way; with the zero Bugs the same routes run corrected code.
package dispatch

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime/pprof"
	"strings"
	"time"

	"example.com/leakbed/tally"
)

// Bugs switches each defect on.
type Bugs struct {
	Fanout      bool // Resolver.Lookup collects channel probes on an unbuffered channel and returns on the first
	Unsubscribe bool // Inbox.Stream never unsubscribes when the client leaves
	WaitGroup   bool // Digests: a failing section skips wg.Done, the publisher waits forever
	Producer    bool // History.Recent stops reading; the replay producer blocks on the full channel
	Watcher     bool // Receipts.Track watches with a context.Background()-derived context and no expiry
	Outbound    bool // Hooks.Ping calls the endpoint with a client without timeout, ignoring the request
	Retry       bool // SMS.Send retries forever, sleeping 30 s, ignoring the request
}

var bugNames = []struct {
	name string
	set  func(*Bugs)
}{
	{"fanout", func(b *Bugs) { b.Fanout = true }},
	{"unsubscribe", func(b *Bugs) { b.Unsubscribe = true }},
	{"waitgroup", func(b *Bugs) { b.WaitGroup = true }},
	{"producer", func(b *Bugs) { b.Producer = true }},
	{"watcher", func(b *Bugs) { b.Watcher = true }},
	{"outbound", func(b *Bugs) { b.Outbound = true }},
	{"retry", func(b *Bugs) { b.Retry = true }},
}

// BugNames lists the names ParseBugs accepts.
func BugNames() []string {
	out := make([]string, len(bugNames))
	for i, b := range bugNames {
		out[i] = b.name
	}
	return out
}

// ParseBugs turns "all", "none" or a comma-separated list of names into Bugs.
func ParseBugs(list string) (Bugs, error) {
	var b Bugs
	switch list {
	case "", "none":
		return b, nil
	case "all":
		for _, n := range bugNames {
			n.set(&b)
		}
		return b, nil
	}
	for _, name := range strings.Split(list, ",") {
		found := false
		for _, n := range bugNames {
			if n.name == strings.TrimSpace(name) {
				n.set(&b)
				found = true
			}
		}
		if !found {
			return b, fmt.Errorf("unknown defect %q (know %v)", name, BugNames())
		}
	}
	return b, nil
}

// Sizes of the fixed background.
const (
	Deliverers  = 8
	QuotaClocks = 5
	OutboxDrain = 3
)

// Options configure the service.
type Options struct {
	Bugs        Bugs
	UpstreamURL string
	AgentLn     net.Listener
	Tally       *tally.Tally
}

// Service is the whole notifier.
type Service struct {
	ctx   context.Context
	bugs  Bugs
	tally *tally.Tally

	broker    *Broker
	agents    *AgentGateway
	deliver   *Deliverer
	outbox    *Outbox
	clocks    []*quotaClock
	resolver  *Resolver
	inbox     *Inbox
	digests   *Digests
	history   *History
	receipts  *Receipts
	hooks     *Hooks
	sms       *SMS
	transport *http.Transport
}

// New starts the background.
func New(ctx context.Context, o Options) *Service {
	s := &Service{ctx: ctx, bugs: o.Bugs, tally: o.Tally, broker: newBroker()}
	s.tally.Declare("resolver.probe", "inbox.deliver", "inbox.stream", "inbox.orphaned", "digest.publish",
		"history.replay", "receipts.watch", "hooks.pinging", "sms.retry",
		"agent.reader", "agent.writer", "agent.subscriber")
	// One outbound transport for the upstream: the deliverers' client has a timeout, the
	// webhook tester's (with the defect) has none.
	s.transport = &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 10 * time.Minute}
	s.deliver = newDeliverer(s, o.UpstreamURL, Deliverers)
	s.outbox = newOutbox(s, OutboxDrain)
	for i := 0; i < QuotaClocks; i++ {
		qc := &quotaClock{svc: s, tenant: fmt.Sprintf("t%02d", i), every: time.Duration(900+200*i) * time.Millisecond, stop: make(chan struct{})}
		s.clocks = append(s.clocks, qc)
		go qc.loop()
	}
	s.agents = &AgentGateway{svc: s, ln: o.AgentLn, live: map[*agentConn]struct{}{}}
	go s.agents.accept()
	s.resolver = &Resolver{svc: s}
	s.inbox = &Inbox{svc: s}
	s.digests = &Digests{svc: s}
	s.history = &History{svc: s}
	s.receipts = &Receipts{svc: s}
	s.hooks = &Hooks{svc: s, base: o.UpstreamURL}
	s.sms = &SMS{svc: s}
	return s
}

// Routes is the API. Every route runs under pprof labels {op: NAME}, which the goroutines it
// starts inherit (Go 1.27 dumps print them in the goroutine header).
func (s *Service) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/route", s.labelled("route-lookup", s.resolver.Lookup))
	mux.Handle("/v1/inbox/stream", s.labelled("inbox-stream", s.inbox.Stream))
	mux.Handle("/v1/inbox/notify", s.labelled("inbox-notify", s.inbox.Notify))
	mux.Handle("/v1/digests", s.labelled("digest", s.digests.Compose))
	mux.Handle("/v1/history", s.labelled("history", s.history.Recent))
	mux.Handle("/v1/deliveries", s.labelled("delivery", s.receipts.Track))
	mux.Handle("/v1/receipts", s.labelled("receipt", s.receipts.Confirm))
	mux.Handle("/v1/webhooks/test", s.labelled("webhook-test", s.hooks.Ping))
	mux.Handle("/v1/sms", s.labelled("sms", s.sms.Send))
	mux.Handle("/v1/notify", s.labelled("notify", s.deliver.Enqueue))
	mux.Handle("/v1/outbox", s.labelled("outbox", s.outbox.Put))
	mux.Handle("/v1/prefs", s.labelled("prefs", s.prefs))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

func (s *Service) labelled(op string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pprof.Do(r.Context(), pprof.Labels("op", op), func(ctx context.Context) {
			h(w, r.WithContext(ctx))
		})
	})
}

func (s *Service) prefs(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	fmt.Fprintf(w, `{"user":%q,"channels":["email","sms","push"],"digest":"daily"}`+"\n", user)
}

// Stats is the extra part of the stats endpoint.
func (s *Service) Stats() map[string]any {
	return map[string]any{
		"agents_live":     s.agents.count(),
		"broker_posted":   s.broker.posted.Load(),
		"broker_dropped":  s.broker.dropped.Load(),
		"delivered":       s.deliver.delivered.Load(),
		"delivery_errors": s.deliver.failed.Load(),
		"outbox_drained":  s.outbox.drained.Load(),
		"sms_attempts":    s.sms.attempts.Load(),
		"hooks_answered":  s.hooks.answered.Load(),
		"topics":          s.broker.topics(),
	}
}

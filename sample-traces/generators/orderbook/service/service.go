// Package service is "orderbook", a small trading back office: orders, quotes from several
// venues, a live feed, settlement, tenant-scoped positions, a ledger, and the usual background
// machinery (a matching worker pool, metrics and FX refresh loops, database/sql).
//
// It has eight defects, each switched on by a field of Bugs, and each leaving goroutines behind
// in a different way. With the zero Bugs the same code paths run correctly, which gives the
// healthy baseline. README.md next to the program lists the defects, the functions that show
// them and the counts a capture should contain.
package service

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/pprof"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"example.com/orderbook/fakesql"
)

// Bugs switches each defect on. The zero value is the corrected service.
type Bugs struct {
	// UnbufferedQuotes: QuoteDesk.Best collects venue quotes on an unbuffered channel and
	// returns at its deadline; slow venues then block forever sending their quote.
	UnbufferedQuotes bool
	// ImmortalSessions: feed sessions end only when the client unsubscribes, and clients that
	// go away never do; each session's ticker loop runs forever.
	ImmortalSessions bool
	// DroppedAckCancel: OrderService.Cancel waits for a venue ack on a context whose cancel
	// function was discarded.
	DroppedAckCancel bool
	// UnmadeSettleChan: the settlement constructor forgets to make the result channel, so the
	// waiter receives from a nil channel.
	UnmadeSettleChan bool
	// TenantCancelDropped: the tenant scope derives a cancelable context from a custom tenant
	// Context per request and never cancels it; the context package starts a goroutine for each.
	TenantCancelDropped bool
	// TransportPerCall: the risk gate builds an http.Transport per call and never closes the
	// response body; every call leaves a persistent connection with its two loops behind.
	TransportPerCall bool
	// MarksWithoutTimeout: the mark feed client has no timeout and does not pass the request's
	// context, and the mark feed upstream hangs.
	MarksWithoutTimeout bool
	// ShipperDisabled: the ledger journal's shipper is not running, so the journal pipe fills and
	// the compactor blocks writing to it while holding the ledger lock.
	ShipperDisabled bool
}

// bugNames maps the command-line names of the defects to their fields, in README order.
var bugNames = []struct {
	name string
	set  func(*Bugs)
}{
	{"quotes", func(b *Bugs) { b.UnbufferedQuotes = true }},
	{"sessions", func(b *Bugs) { b.ImmortalSessions = true }},
	{"ackcancel", func(b *Bugs) { b.DroppedAckCancel = true }},
	{"settlechan", func(b *Bugs) { b.UnmadeSettleChan = true }},
	{"tenantctx", func(b *Bugs) { b.TenantCancelDropped = true }},
	{"risktransport", func(b *Bugs) { b.TransportPerCall = true }},
	{"marks", func(b *Bugs) { b.MarksWithoutTimeout = true }},
	{"ledger", func(b *Bugs) { b.ShipperDisabled = true }},
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
	switch strings.TrimSpace(list) {
	case "", "none":
		return b, nil
	case "all":
		for _, n := range bugNames {
			n.set(&b)
		}
		return b, nil
	}
	for _, want := range strings.Split(list, ",") {
		want = strings.TrimSpace(want)
		found := false
		for _, n := range bugNames {
			if n.name == want {
				n.set(&b)
				found = true
			}
		}
		if !found {
			return b, fmt.Errorf("unknown bug %q (known: %s)", want, strings.Join(BugNames(), ", "))
		}
	}
	return b, nil
}

// Options configure the service.
type Options struct {
	Bugs        Bugs
	UpstreamURL string // base URL of the risk, FX and mark-feed upstream
}

// Service owns every component and its background goroutines.
type Service struct {
	opts      Options
	tally     *Tally
	db        *sql.DB
	book      *Book
	matcher   *Matcher
	metrics   *Metrics
	fx        *FXRates
	orders    *OrderService
	quotes    *QuoteDesk
	feed      *FeedHub
	settle    *SettlementDesk
	gateway   *Gateway
	positions *PositionBook
	ledger    *Ledger
	portfolio *PortfolioService
	started   time.Time
	requests  atomic.Int64
}

// New builds the service and starts its background work; it all stops when ctx is done.
func New(ctx context.Context, opts Options) (*Service, error) {
	tally := new(Tally)
	db := sql.OpenDB(fakesql.NewConnector(fakesql.NewStore(500 * time.Microsecond)))
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}

	s := &Service{opts: opts, tally: tally, db: db, started: time.Now()}
	s.book = newBook()
	s.matcher = newMatcher(8, s.book, tally)
	s.metrics = newMetrics()
	go s.metrics.flushLoop(ctx, time.Second)
	s.fx = newFXRates(opts.UpstreamURL)
	go s.fx.refreshLoop(ctx, time.Second)

	risk := newRiskGate(opts.UpstreamURL, opts.Bugs, tally)
	marks := newMarkFeed(opts.UpstreamURL, opts.Bugs, tally)
	s.orders = newOrderService(db, risk, marks, s.matcher, opts.Bugs, tally)
	s.quotes = newQuoteDesk(opts.Bugs, tally)
	s.feed = newFeedHub(ctx, opts.Bugs, tally)
	s.settle = newSettlementDesk(opts.Bugs, tally)
	s.gateway = newGateway(opts.Bugs, tally)
	s.positions = &PositionBook{db: db}
	ledger, err := newLedger(ctx, opts.Bugs, tally)
	if err != nil {
		return nil, err
	}
	s.ledger = ledger
	s.portfolio = &PortfolioService{tally: tally}
	return s, nil
}

// Close stops what New started that ctx does not stop.
func (s *Service) Close() {
	s.matcher.Close()
	_ = s.db.Close()
}

// Routes is the public API.
func (s *Service) Routes() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, instrument(pattern, s.metrics, h))
	}
	route("POST /v1/orders", s.orders.Create)
	route("GET /v1/orders/{id}", s.orders.Get)
	route("POST /v1/orders/{id}/cancel", s.orders.Cancel)
	route("POST /v1/orders/{id}/reprice", s.orders.Reprice)
	route("GET /v1/quotes/{sym}", s.quotes.Best)
	route("GET /v1/book/{sym}", s.book.Depth)
	route("POST /v1/feed/subscribe", s.feed.Subscribe)
	route("POST /v1/feed/{id}/unsubscribe", s.feed.Unsubscribe)
	route("POST /v1/settlements/{id}/confirm", s.settle.Confirm)
	route("GET /v1/accounts/{acct}/positions", s.gateway.scoped(s.positions.List))
	route("GET /v1/accounts/{acct}/balance", s.ledger.Balance)
	route("GET /v1/accounts/{acct}/valuation", s.portfolio.Valuation)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "uptime_s": int(time.Since(s.started).Seconds())})
	})
	return s.countRequests(recoverPanics(mux))
}

// Stats is what the admin endpoint reports: request counts and the goroutine tallies.
func (s *Service) Stats() map[string]any {
	routes := s.metrics.snapshot()
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ordered := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		ordered = append(ordered, map[string]any{"route": k, "requests": routes[k]})
	}
	return map[string]any{
		"requests": s.requests.Load(),
		"routes":   ordered,
		"tally":    s.tally.Snapshot(),
		"db":       s.db.Stats(),
	}
}

func (s *Service) countRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		next.ServeHTTP(w, r)
	})
}

// instrument times a route and labels the request goroutine (and any goroutine it starts) with
// the route, so profiles can be split by route.
func instrument(route string, m *Metrics, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		pprof.Do(r.Context(), pprof.Labels("route", route), func(ctx context.Context) {
			next(w, r.WithContext(ctx))
		})
		m.observe(route, time.Since(start))
	})
}

// recoverPanics turns a panicking request into a 500 instead of a dead connection.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				http.Error(w, fmt.Sprint("internal error: ", v), http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

package service

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// OrderService takes orders: create, read, cancel and reprice.
type OrderService struct {
	db      *sql.DB
	risk    *RiskGate
	marks   *MarkFeed
	matcher *Matcher
	bugs    Bugs
	tally   *Tally

	seq          atomic.Int64
	riskNotional int64         // orders at or above this notional need a risk check
	ttl          time.Duration // an open order expires after this long
	ackDelay     time.Duration // how long a venue takes to acknowledge a cancel
	ackTimeout   time.Duration

	mu       sync.Mutex
	expiries map[string]*time.Timer
	acks     map[string]context.CancelFunc
}

func newOrderService(db *sql.DB, risk *RiskGate, marks *MarkFeed, m *Matcher, bugs Bugs, tally *Tally) *OrderService {
	return &OrderService{
		db: db, risk: risk, marks: marks, matcher: m, bugs: bugs, tally: tally,
		riskNotional: 1_000_000,
		ttl:          10 * time.Minute,
		ackDelay:     20 * time.Millisecond,
		ackTimeout:   250 * time.Millisecond,
		expiries:     make(map[string]*time.Timer),
		acks:         make(map[string]context.CancelFunc),
	}
}

type orderRequest struct {
	Acct string `json:"acct"`
	Sym  string `json:"sym"`
	Qty  int64  `json:"qty"`
	Px   int64  `json:"px"` // price in cents
}

// Create validates an order, runs large ones past the risk gate, stores it, hands it to the
// matcher and arms its expiry.
func (s *OrderService) Create(w http.ResponseWriter, r *http.Request) {
	var req orderRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		http.Error(w, "bad order: "+err.Error(), http.StatusBadRequest)
		return
	}
	if req.Acct == "" || req.Sym == "" || req.Qty <= 0 || req.Px <= 0 {
		http.Error(w, "bad order: acct, sym, qty and px are required", http.StatusBadRequest)
		return
	}
	if notional := req.Qty * req.Px; notional >= s.riskNotional {
		ok, err := s.risk.Approve(r.Context(), req.Acct, notional)
		if err != nil {
			http.Error(w, "risk check failed: "+err.Error(), http.StatusBadGateway)
			return
		}
		if !ok {
			http.Error(w, "order needs manual review", http.StatusForbidden)
			return
		}
	}
	id := fmt.Sprintf("o-%06d", s.seq.Add(1))
	if _, err := s.db.ExecContext(r.Context(),
		"INSERT INTO orders (id, acct, sym, qty, px) VALUES (?, ?, ?, ?, ?)",
		id, req.Acct, req.Sym, req.Qty, req.Px); err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if !s.matcher.Submit(matchJob{orderID: id, sym: req.Sym, qty: req.Qty, px: req.Px}) {
		http.Error(w, "matcher saturated", http.StatusServiceUnavailable)
		return
	}
	// A pending timer is not a goroutine: the runtime starts one only when it fires.
	t := time.AfterFunc(s.ttl, func() { s.expire(id) })
	s.mu.Lock()
	s.expiries[id] = t
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *OrderService) expire(id string) {
	s.mu.Lock()
	delete(s.expiries, id)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = s.db.ExecContext(ctx, "UPDATE orders SET state = ? WHERE id = ?", "expired", id)
}

// Get reads one order.
func (s *OrderService) Get(w http.ResponseWriter, r *http.Request) {
	var o struct {
		ID, Acct, Sym, State string
		Qty, Px              int64
	}
	err := s.db.QueryRowContext(r.Context(),
		"SELECT id, acct, sym, qty, px, state FROM orders WHERE id = ?", r.PathValue("id")).
		Scan(&o.ID, &o.Acct, &o.Sym, &o.Qty, &o.Px, &o.State)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		http.NotFound(w, r)
	case err != nil:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	default:
		writeJSON(w, http.StatusOK, o)
	}
}

// Cancel asks the venue to cancel an order and answers 202 at once; a goroutine waits for the
// venue's acknowledgement and then marks the order cancelled.
func (s *OrderService) Cancel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.db.ExecContext(r.Context(), "UPDATE orders SET state = ? WHERE id = ?", "cancelling", id); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	var ackCtx context.Context
	if s.bugs.DroppedAckCancel {
		// BUG: the cancel function is thrown away, so nothing can ever end ackCtx, and the
		// venue ack below has nobody to tell.
		ackCtx, _ = context.WithCancel(context.Background()) //nolint:govet // the defect on purpose
	} else {
		var cancel context.CancelFunc
		ackCtx, cancel = context.WithTimeout(context.Background(), s.ackTimeout)
		s.mu.Lock()
		s.acks[id] = cancel
		s.mu.Unlock()
	}
	go s.awaitCancelAck(ackCtx, id)
	time.AfterFunc(s.ackDelay, func() { s.venueAcked(id) })
	w.WriteHeader(http.StatusAccepted)
}

// venueAcked is the venue's acknowledgement arriving.
func (s *OrderService) venueAcked(id string) {
	s.mu.Lock()
	cancel := s.acks[id]
	delete(s.acks, id)
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (s *OrderService) awaitCancelAck(ctx context.Context, id string) {
	defer s.tally.Enter("orders.awaitCancelAck")()
	<-ctx.Done()
	state := "cancelled"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		state = "cancel-unconfirmed"
	}
	dbCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = s.db.ExecContext(dbCtx, "UPDATE orders SET state = ? WHERE id = ?", state, id)
}

// Reprice moves an order to the latest mark price.
func (s *OrderService) Reprice(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	sym := r.URL.Query().Get("sym")
	if sym == "" {
		sym = "ACME"
	}
	px, err := s.marks.Latest(r.Context(), sym)
	if err != nil {
		http.Error(w, "mark feed: "+err.Error(), http.StatusGatewayTimeout)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "px": px})
}

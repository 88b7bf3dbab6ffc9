package service

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// FeedHub keeps live feed sessions: each session sends its subscriber a heartbeat and the
// latest marks on a fixed cadence until the subscriber leaves.
type FeedHub struct {
	ctx   context.Context
	bugs  Bugs
	tally *Tally
	every time.Duration
	ttl   time.Duration

	seq      atomic.Int64
	mu       sync.Mutex
	sessions map[string]*feedSession
	beats    atomic.Int64
}

type feedSession struct {
	id     string
	acct   string
	hub    *FeedHub
	closed chan struct{}
	once   sync.Once
	beats  atomic.Int64
}

func newFeedHub(ctx context.Context, bugs Bugs, tally *Tally) *FeedHub {
	return &FeedHub{
		ctx: ctx, bugs: bugs, tally: tally,
		every:    2 * time.Second,
		ttl:      400 * time.Millisecond,
		sessions: make(map[string]*feedSession),
	}
}

// Subscribe opens a session and starts its pump; the subscriber polls its mailbox elsewhere and
// is supposed to call Unsubscribe when it leaves.
func (h *FeedHub) Subscribe(w http.ResponseWriter, r *http.Request) {
	s := &feedSession{
		id:     fmt.Sprintf("s-%06d", h.seq.Add(1)),
		acct:   r.URL.Query().Get("acct"),
		hub:    h,
		closed: make(chan struct{}),
	}
	h.mu.Lock()
	h.sessions[s.id] = s
	h.mu.Unlock()
	if h.bugs.ImmortalSessions {
		// BUG: the session lives until Unsubscribe, and subscribers that crash or lose their
		// connection never call it; there is no idle expiry.
		go s.pump(nil, h.every)
	} else {
		ctx, cancel := context.WithTimeout(h.ctx, h.ttl)
		go func() {
			defer cancel()
			s.pump(ctx.Done(), h.every)
		}()
	}
	writeJSON(w, http.StatusCreated, map[string]string{"session": s.id})
}

// Unsubscribe ends a session.
func (h *FeedHub) Unsubscribe(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	s := h.sessions[r.PathValue("id")]
	h.mu.Unlock()
	if s == nil {
		http.NotFound(w, r)
		return
	}
	s.once.Do(func() { close(s.closed) })
	w.WriteHeader(http.StatusNoContent)
}

// pump sends the session's heartbeat every tick until the session is closed or expires.
func (s *feedSession) pump(expired <-chan struct{}, every time.Duration) {
	defer s.hub.tally.Enter("feed.pump")()
	defer s.hub.drop(s.id)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.beats.Add(1)
			s.hub.beats.Add(1)
		case <-s.closed:
			return
		case <-expired:
			return
		}
	}
}

func (h *FeedHub) drop(id string) {
	h.mu.Lock()
	delete(h.sessions, id)
	h.mu.Unlock()
}

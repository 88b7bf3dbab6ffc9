package console

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Message is one event published on a topic.
type Message struct {
	Topic string
	Seq   int64
	Body  string
}

// Hub is an in-process pub/sub hub: every subscription has a buffered channel; publishing
// never blocks (a full subscriber drops the message), unsubscribing closes the channel.
type Hub struct {
	mu        sync.Mutex
	topics    map[string]map[*Subscription]struct{}
	seq       atomic.Int64
	delivered atomic.Int64
	dropped   atomic.Int64
}

// Subscription is one subscriber's channel.
type Subscription struct {
	Topic string
	C     chan Message
	hub   *Hub
	once  sync.Once
}

func newHub() *Hub {
	return &Hub{topics: make(map[string]map[*Subscription]struct{})}
}

// Subscribe adds a subscriber to topic.
func (h *Hub) Subscribe(topic string) *Subscription {
	s := &Subscription{Topic: topic, C: make(chan Message, 16), hub: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.topics[topic]
	if m == nil {
		m = make(map[*Subscription]struct{})
		h.topics[topic] = m
	}
	m[s] = struct{}{}
	return s
}

// Unsubscribe removes the subscriber and closes its channel; calling it twice is fine.
func (h *Hub) Unsubscribe(s *Subscription) {
	s.once.Do(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if m := h.topics[s.Topic]; m != nil {
			delete(m, s)
			if len(m) == 0 {
				delete(h.topics, s.Topic)
			}
		}
		close(s.C)
	})
}

// Publish sends body to every subscriber of topic without waiting; it returns how many got it.
func (h *Hub) Publish(topic, body string) int {
	msg := Message{Topic: topic, Seq: h.seq.Add(1), Body: body}
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for s := range h.topics[topic] {
		select {
		case s.C <- msg:
			n++
		default:
			h.dropped.Add(1)
		}
	}
	h.delivered.Add(int64(n))
	return n
}

// Topics lists topics and their subscriber counts.
func (h *Hub) Topics() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.topics))
	for t, m := range h.topics {
		out[t] = len(m)
	}
	return out
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

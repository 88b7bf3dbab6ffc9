package dispatch

import (
	"sync"
	"sync/atomic"
)

// Event is one notification event.
type Event struct {
	Topic string
	ID    int64
	Text  string
}

// Broker is the in-process pub/sub: members join a topic and receive its events on a buffered
// channel; posting never blocks; Leave closes the member's channel.
type Broker struct {
	mu      sync.Mutex
	members map[string]map[*Member]struct{}
	ids     atomic.Int64
	posted  atomic.Int64
	dropped atomic.Int64
}

// Member is one subscription.
type Member struct {
	topic string
	C     chan Event
	left  bool
}

func newBroker() *Broker { return &Broker{members: map[string]map[*Member]struct{}{}} }

// Join subscribes to topic.
func (b *Broker) Join(topic string) *Member {
	m := &Member{topic: topic, C: make(chan Event, 8)}
	b.mu.Lock()
	defer b.mu.Unlock()
	set := b.members[topic]
	if set == nil {
		set = map[*Member]struct{}{}
		b.members[topic] = set
	}
	set[m] = struct{}{}
	return m
}

// Leave unsubscribes m and closes its channel.
func (b *Broker) Leave(m *Member) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m.left {
		return
	}
	m.left = true
	if set := b.members[m.topic]; set != nil {
		delete(set, m)
		if len(set) == 0 {
			delete(b.members, m.topic)
		}
	}
	close(m.C)
}

// Post sends text to every member of topic, dropping it for members that are full.
func (b *Broker) Post(topic, text string) int {
	ev := Event{Topic: topic, ID: b.ids.Add(1), Text: text}
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for m := range b.members[topic] {
		select {
		case m.C <- ev:
			n++
		default:
			b.dropped.Add(1)
		}
	}
	b.posted.Add(int64(n))
	return n
}

func (b *Broker) topics() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.members)
}

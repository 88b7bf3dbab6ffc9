package console

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// TerminalServer accepts dispatch terminals on a plain TCP port. A terminal says
// "HELLO <topic>" and then sends commands, one a line; the server pushes the topic's messages.
// Per terminal: the connection's goroutine reads commands (IO wait), a writer drains the
// terminal's outbox, and a relay forwards the hub subscription into the outbox.
type TerminalServer struct {
	svc *Service
	ln  net.Listener

	mu   sync.Mutex
	live map[*terminal]struct{}
}

type terminal struct {
	conn   net.Conn
	topic  string
	outbox chan []byte
	done   chan struct{}
	once   sync.Once
}

func newTerminalServer(svc *Service, ln net.Listener) *TerminalServer {
	return &TerminalServer{svc: svc, ln: ln, live: make(map[*terminal]struct{})}
}

func (ts *TerminalServer) acceptTerminals() {
	for {
		c, err := ts.ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return
		}
		go ts.serveTerminal(c)
	}
}

func (ts *TerminalServer) serveTerminal(c net.Conn) {
	defer ts.svc.tally.Enter("terminal.reader")()
	defer c.Close()
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	hello, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(hello, "HELLO ") {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	t := &terminal{
		conn:   c,
		topic:  strings.TrimSpace(strings.TrimPrefix(hello, "HELLO ")),
		outbox: make(chan []byte, 64),
		done:   make(chan struct{}),
	}
	sub := ts.svc.hub.Subscribe(t.topic)
	ts.mu.Lock()
	ts.live[t] = struct{}{}
	ts.mu.Unlock()
	go t.flushOutbox(ts.svc)
	go t.relay(ts.svc, sub)
	t.enqueue([]byte("WELCOME " + t.topic + "\n"))

	t.readCommands(ts.svc, br)

	// The terminal went away: stop the writer, end the subscription (which ends the relay).
	t.once.Do(func() { close(t.done) })
	ts.svc.hub.Unsubscribe(sub)
	ts.mu.Lock()
	delete(ts.live, t)
	ts.mu.Unlock()
}

// readCommands reads the terminal's commands until it disconnects.
func (t *terminal) readCommands(svc *Service, br *bufio.Reader) {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch cmd {
		case "PING":
			t.enqueue([]byte("PONG\n"))
		case "SAY":
			topic, body := t.topic, arg
			_ = svc.pool.TrySubmit(func() { svc.hub.Publish(topic, body) })
		case "QUIT":
			return
		}
	}
}

func (t *terminal) enqueue(b []byte) {
	select {
	case t.outbox <- b:
	case <-t.done:
	default: // a slow terminal loses messages rather than stalling the hub
	}
}

// flushOutbox writes the outbox to the connection until the terminal goes away.
func (t *terminal) flushOutbox(svc *Service) {
	defer svc.tally.Enter("terminal.writer")()
	for {
		select {
		case b := <-t.outbox:
			_ = t.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := t.conn.Write(b); err != nil {
				t.once.Do(func() { close(t.done) })
				return
			}
		case <-t.done:
			return
		}
	}
}

// relay forwards the terminal's subscription into its outbox; it ends when the hub closes the
// subscription.
func (t *terminal) relay(svc *Service, sub *Subscription) {
	defer svc.tally.Enter("terminal.relay")()
	for m := range sub.C {
		t.enqueue([]byte(fmt.Sprintf("MSG %s %d %s\n", m.Topic, m.Seq, m.Body)))
	}
}

func (ts *TerminalServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.live)
}

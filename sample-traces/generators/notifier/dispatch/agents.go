package dispatch

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// AgentGateway accepts support agents' consoles on a TCP port (line protocol: "AGENT <queue>",
// then "TAKE <id>" / "NOTE <text>" lines). Per agent the accept loop starts three goroutines:
// a reader (IO wait), a writer (select on the agent's outbound channel) and a subscriber that
// forwards the agent's queue topic from the broker.
type AgentGateway struct {
	svc *Service
	ln  net.Listener
	mu  sync.Mutex
	live map[*agentConn]struct{}
}

type agentConn struct {
	gw     *AgentGateway
	conn   net.Conn
	br     *bufio.Reader
	queue  string
	out    chan string
	closed chan struct{}
	once   sync.Once
	member *Member
}

func (g *AgentGateway) accept() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		br := bufio.NewReader(c)
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		hello, err := br.ReadString('\n')
		_ = c.SetReadDeadline(time.Time{})
		if err != nil || !strings.HasPrefix(hello, "AGENT ") {
			_ = c.Close()
			continue
		}
		a := &agentConn{gw: g, conn: c, br: br, queue: strings.TrimSpace(hello[len("AGENT "):]),
			out: make(chan string, 32), closed: make(chan struct{})}
		a.member = g.svc.broker.Join("queue/" + a.queue)
		g.mu.Lock()
		g.live[a] = struct{}{}
		g.mu.Unlock()
		go a.readLoop()
		go a.writeLoop()
		go a.subscribe()
	}
}

func (a *agentConn) shutdown() {
	a.once.Do(func() {
		close(a.closed)
		a.gw.svc.broker.Leave(a.member)
		_ = a.conn.Close()
		a.gw.mu.Lock()
		delete(a.gw.live, a)
		a.gw.mu.Unlock()
	})
}

func (a *agentConn) readLoop() {
	defer a.gw.svc.tally.Enter("agent.reader")()
	defer a.shutdown()
	for {
		line, err := a.br.ReadString('\n')
		if err != nil {
			return
		}
		switch {
		case strings.HasPrefix(line, "TAKE "):
			a.send("OK " + strings.TrimSpace(line[5:]))
		case strings.HasPrefix(line, "NOTE "):
			a.gw.svc.outbox.push("note:" + strings.TrimSpace(line[5:]))
		}
	}
}

func (a *agentConn) send(s string) {
	select {
	case a.out <- s:
	case <-a.closed:
	default:
	}
}

func (a *agentConn) writeLoop() {
	defer a.gw.svc.tally.Enter("agent.writer")()
	for {
		select {
		case s := <-a.out:
			_ = a.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := fmt.Fprintln(a.conn, s); err != nil {
				a.shutdown()
				return
			}
		case <-a.closed:
			return
		}
	}
}

func (a *agentConn) subscribe() {
	defer a.gw.svc.tally.Enter("agent.subscriber")()
	for {
		select {
		case ev, ok := <-a.member.C:
			if !ok {
				return
			}
			a.send(fmt.Sprintf("EVENT %d %s", ev.ID, ev.Text))
		case <-a.closed:
			return
		}
	}
}

func (g *AgentGateway) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.live)
}

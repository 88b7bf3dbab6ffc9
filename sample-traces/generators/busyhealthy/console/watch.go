package console

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// WatchDesk serves browser-style watch streams and long polls over HTTP.
//
// A watch stream (GET /v1/watch?topic=T) takes the connection over (Hijack): the request's
// goroutine stays in the handler reading the client's acks (IO wait), a pump writes the stream,
// and a follower forwards the hub subscription to the pump. A long poll (GET /v1/poll?topic=T)
// waits up to 20 s for one message.
type WatchDesk struct {
	svc *Service
	mu  sync.Mutex
	n   int
}

type watchStream struct {
	conn net.Conn
	out  chan []byte
	gone chan struct{}
}

// Attach turns the request into a watch stream that lasts as long as the client stays.
func (d *WatchDesk) Attach(w http.ResponseWriter, r *http.Request) {
	topic := r.URL.Query().Get("topic")
	if topic == "" {
		http.Error(w, "topic required", http.StatusBadRequest)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
	if brw.Flush() != nil {
		return
	}
	defer d.svc.tally.Enter("watch.reader")()
	ws := &watchStream{conn: conn, out: make(chan []byte, 32), gone: make(chan struct{})}
	sub := d.svc.hub.Subscribe(topic)
	go ws.pump(d.svc)
	go ws.follow(d.svc, sub)
	d.mu.Lock()
	d.n++
	d.mu.Unlock()

	ws.readAcks(brw.Reader)

	close(ws.gone)
	d.svc.hub.Unsubscribe(sub)
	d.mu.Lock()
	d.n--
	d.mu.Unlock()
}

// readAcks reads "ACK n" lines until the client disconnects.
func (ws *watchStream) readAcks(br *bufio.Reader) {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if strings.HasPrefix(line, "ACK ") {
			continue
		}
	}
}

// pump writes whatever the follower hands it; it ends when the follower closes out.
func (ws *watchStream) pump(svc *Service) {
	defer svc.tally.Enter("watch.pump")()
	for b := range ws.out {
		_ = ws.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := ws.conn.Write(b); err != nil {
			for range ws.out { // drain until the follower is done
			}
			return
		}
	}
}

// follow forwards the subscription to the pump until the client is gone.
func (ws *watchStream) follow(svc *Service, sub *Subscription) {
	defer svc.tally.Enter("watch.follower")()
	defer close(ws.out)
	for {
		select {
		case m, ok := <-sub.C:
			if !ok {
				return
			}
			select {
			case ws.out <- []byte(fmt.Sprintf("data: %d %s\n\n", m.Seq, m.Body)):
			case <-ws.gone:
				return
			}
		case <-ws.gone:
			return
		}
	}
}

// Poll waits for one message on the topic, for at most 20 seconds.
func (d *WatchDesk) Poll(w http.ResponseWriter, r *http.Request) {
	defer d.svc.tally.Enter("poll.waiting")()
	sub := d.svc.hub.Subscribe(r.URL.Query().Get("topic"))
	defer d.svc.hub.Unsubscribe(sub)
	t := time.NewTimer(20 * time.Second)
	defer t.Stop()
	select {
	case m := <-sub.C:
		fmt.Fprintf(w, "%d %s\n", m.Seq, m.Body)
	case <-t.C:
		w.WriteHeader(http.StatusNoContent)
	case <-r.Context().Done():
	}
}

func (d *WatchDesk) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

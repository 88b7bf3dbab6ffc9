package dispatch

import (
	"fmt"
	"net/http"
)

// Inbox streams a user's notifications as they happen (chunked text, one line per event) for
// as long as the client stays.
type Inbox struct {
	svc *Service
}

// Stream subscribes to the user's inbox topic and writes its events until the client leaves.
func (in *Inbox) Stream(w http.ResponseWriter, r *http.Request) {
	defer in.svc.tally.Enter("inbox.stream")()
	user := r.URL.Query().Get("user")
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	m := in.svc.broker.Join("inbox/" + user)
	out := make(chan Event)
	go in.deliver(m, out, r.Context().Done())
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "hello %s\n", user)
	fl.Flush()
	for {
		select {
		case ev := <-out:
			fmt.Fprintf(w, "%d %s\n", ev.ID, ev.Text)
			fl.Flush()
		case <-r.Context().Done():
			if in.svc.bugs.Unsubscribe {
				// BUG: the subscription is never left; its deliver goroutine waits on it
				// forever (nothing is posted to a departed user's inbox again).
				in.svc.tally.Add("inbox.orphaned", 1)
				return
			}
			in.svc.broker.Leave(m)
			return
		}
	}
}

// deliver forwards the subscription to the stream; it ends when the subscription is left.
func (in *Inbox) deliver(m *Member, out chan<- Event, gone <-chan struct{}) {
	defer in.svc.tally.Enter("inbox.deliver")()
	for ev := range m.C {
		select {
		case out <- ev:
		case <-gone:
		}
	}
}

// Notify posts an event to a user's inbox.
func (in *Inbox) Notify(w http.ResponseWriter, r *http.Request) {
	n := in.svc.broker.Post("inbox/"+r.URL.Query().Get("user"), r.URL.Query().Get("text"))
	fmt.Fprintf(w, `{"delivered":%d}`+"\n", n)
}

package dispatch

import (
	"fmt"
	"net/http"
	"strconv"
)

// History replays a user's recent notifications: a producer reads them from storage into a
// small buffered channel and the request consumes as many as it wants.
type History struct {
	svc *Service
}

// Recent answers with the first limit events (0: all of them).
func (h *History) Recent(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	events := make(chan Event, 4)
	stop := make(chan struct{})
	if !h.svc.bugs.Producer {
		defer close(stop)
	}
	// With the defect, nobody closes stop: once the request stops reading, the producer
	// blocks on the full channel forever.
	go h.replay(user, events, stop)
	n := 0
	for ev := range events {
		fmt.Fprintf(w, "%d %s\n", ev.ID, ev.Text)
		n++
		if limit > 0 && n >= limit {
			return
		}
	}
}

func (h *History) replay(user string, events chan<- Event, stop <-chan struct{}) {
	defer h.svc.tally.Enter("history.replay")()
	defer close(events)
	for i := 1; i <= 40; i++ {
		ev := Event{Topic: "history/" + user, ID: int64(i), Text: fmt.Sprintf("event %d for %s", i, user)}
		select {
		case events <- ev:
		case <-stop:
			return
		}
	}
}

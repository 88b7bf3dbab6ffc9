package dispatch

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Resolver finds the fastest channel to reach a user: it probes every channel at once and
// answers with the first one that responds.
type Resolver struct {
	svc *Service
}

type probeResult struct {
	channel string
	err     error
}

var channelLatency = []struct {
	name  string
	delay time.Duration
}{
	{"email", 2 * time.Millisecond},
	{"sms", 40 * time.Millisecond},
	{"push", 80 * time.Millisecond},
}

// Lookup probes every channel and returns the first answer (or the first error).
func (rs *Resolver) Lookup(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	var results chan probeResult
	if rs.svc.bugs.Fanout {
		// BUG: unbuffered, and Lookup takes only the first result: the other probes block
		// forever on their send.
		results = make(chan probeResult)
	} else {
		results = make(chan probeResult, len(channelLatency))
	}
	for _, c := range channelLatency {
		go rs.probe(results, user, c.name, c.delay)
	}
	res := <-results
	if res.err != nil {
		http.Error(w, res.err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprintf(w, `{"user":%q,"channel":%q}`+"\n", user, res.channel)
}

var errNoRoute = errors.New("no route")

func (rs *Resolver) probe(results chan<- probeResult, user, channel string, delay time.Duration) {
	defer rs.svc.tally.Enter("resolver.probe")()
	time.Sleep(delay)
	var err error
	if user == "" {
		err = errNoRoute
	}
	results <- probeResult{channel: channel, err: err}
}

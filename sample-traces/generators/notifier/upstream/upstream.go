// Package upstream is the notifier's remote side, run as a separate process on loopback: the
// delivery carrier (answers at once), the SMS carrier (down: 503), and the webhook relay whose
// customer endpoint accepts the test event and never answers.
package upstream

import (
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// Counters are the upstream's request counts.
type Counters struct {
	Deliver, SMS, HookPings, HookPingsOpen atomic.Int64
}

// Routes serves the upstream.
func Routes(c *Counters) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/deliver", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.Deliver.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/sms", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.SMS.Add(1)
		http.Error(w, "carrier unavailable", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/hooks/ping", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.HookPings.Add(1)
		c.HookPingsOpen.Add(1)
		defer c.HookPingsOpen.Add(-1)
		// The customer's endpoint accepts the connection and never answers.
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Minute):
		}
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(Describe(c))
	})
	return mux
}

// Describe returns the counters as a map.
func Describe(c *Counters) map[string]int64 {
	return map[string]int64{"deliver": c.Deliver.Load(), "sms": c.SMS.Load(),
		"hook_pings": c.HookPings.Load(), "hook_pings_open": c.HookPingsOpen.Load()}
}


// Package upstream is the orderbook service's remote dependencies, run as their own process on
// loopback: a risk engine that answers at once, an FX rate source, and a mark-price feed that
// accepts requests and never answers (a dependency that hangs).
//
// It runs in a separate process so that the captures of the service under test hold only the
// service's own goroutines, as they would in production.
package upstream

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Counters of what the upstream has served, for the capture manifest.
type Counters struct {
	RiskChecks atomic.Int64
	FXQuotes   atomic.Int64
	MarksHung  atomic.Int64
}

// Routes returns the upstream's handler.
func Routes(c *Counters) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /risk/check", func(w http.ResponseWriter, r *http.Request) {
		c.RiskChecks.Add(1)
		notional, _ := strconv.ParseInt(r.URL.Query().Get("notional"), 10, 64)
		decision := "approve"
		if notional > 50_000_000 {
			decision = "review"
		}
		w.Header().Set("X-Risk-Decision", decision)
		w.Header().Set("Content-Type", "application/json")
		// A body the caller is expected to read and close: limits and the rule that decided.
		_ = json.NewEncoder(w).Encode(map[string]any{
			"acct":     r.URL.Query().Get("acct"),
			"decision": decision,
			"limits":   map[string]int64{"gross": 80_000_000, "net": 40_000_000, "single_order": 50_000_000},
			"rule":     "R-" + strconv.Itoa(int(hash(r.URL.RawQuery)%97)),
			"checked":  time.Now().UTC().Format(time.RFC3339Nano),
		})
	})
	mux.HandleFunc("GET /fx", func(w http.ResponseWriter, r *http.Request) {
		c.FXQuotes.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]float64{"EURUSD": 1.0841, "USDJPY": 151.32, "GBPUSD": 1.2712})
	})
	mux.HandleFunc("GET /marks/{sym}", func(w http.ResponseWriter, r *http.Request) {
		// The mark feed has stalled: it reads the request and then never writes a byte. Only
		// the caller going away ends this handler.
		c.MarksHung.Add(1)
		<-r.Context().Done()
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]int64{
			"risk_checks": c.RiskChecks.Load(),
			"fx_quotes":   c.FXQuotes.Load(),
			"marks_hung":  c.MarksHung.Load(),
		})
	})
	return mux
}

func hash(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

// Describe is a one-line summary for logs.
func Describe(c *Counters) string {
	var b strings.Builder
	fmt.Fprintf(&b, "risk_checks=%d fx_quotes=%d marks_hung=%d", c.RiskChecks.Load(), c.FXQuotes.Load(), c.MarksHung.Load())
	return b.String()
}

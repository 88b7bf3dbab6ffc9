// Package admin is the admin listener every test-bed service runs: net/http/pprof and a stats
// endpoint with the service's tallies.
package admin

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"runtime"

	"example.com/leakbed/tally"
)

// Mux serves /debug/pprof/... and, at statsPath, a JSON object with the tallies, the Go
// version, the goroutine count and whatever extra returns.
func Mux(statsPath string, t *tally.Tally, extra func() map[string]any) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc(statsPath, func(w http.ResponseWriter, r *http.Request) {
		st := map[string]any{}
		if extra != nil {
			for k, v := range extra() {
				st[k] = v
			}
		}
		st["tally"] = t.Snapshot()
		st["go_version"] = runtime.Version()
		st["goroutines"] = runtime.NumGoroutine()
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		_ = enc.Encode(st)
	})
	return mux
}

package dispatch

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Hooks tests a customer's webhook endpoint (through the upstream relay).
type Hooks struct {
	svc      *Service
	base     string
	answered atomic.Int64
}

// Ping posts a test event to the webhook and reports its status.
func (h *Hooks) Ping(w http.ResponseWriter, r *http.Request) {
	defer h.svc.tally.Enter("hooks.pinging")()
	target := h.base + "/hooks/ping?hook=" + r.URL.Query().Get("hook")
	var (
		resp *http.Response
		err  error
	)
	if h.svc.bugs.Outbound {
		// BUG: a client without Timeout and a request without the caller's context: when the
		// endpoint accepts and never answers, this request goroutine waits forever.
		client := &http.Client{Transport: h.svc.transport}
		resp, err = client.Post(target, "application/json", strings.NewReader(`{"event":"ping"}`))
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), 300*time.Millisecond)
		defer cancel()
		req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(`{"event":"ping"}`))
		if rerr != nil {
			http.Error(w, rerr.Error(), http.StatusInternalServerError)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err = h.svc.deliver.client.Do(req)
	}
	if err != nil {
		http.Error(w, "webhook: "+err.Error(), http.StatusGatewayTimeout)
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	h.answered.Add(1)
	w.WriteHeader(resp.StatusCode)
}

package service

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// RiskGate asks the risk engine upstream whether a large order may go ahead.
type RiskGate struct {
	base   string
	shared *http.Client
	bugs   Bugs
	tally  *Tally
}

func newRiskGate(base string, bugs Bugs, tally *Tally) *RiskGate {
	return &RiskGate{
		base: base,
		shared: &http.Client{
			Timeout:   2 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
		},
		bugs:  bugs,
		tally: tally,
	}
}

// Approve reports whether the risk engine approves notional for acct.
func (g *RiskGate) Approve(ctx context.Context, acct string, notional int64) (bool, error) {
	u := fmt.Sprintf("%s/risk/check?acct=%s&notional=%d", g.base, url.QueryEscape(acct), notional)
	if g.bugs.TransportPerCall {
		// BUG: a client with its own Transport per call (so "settings can't leak between
		// checks"), and only the header is looked at: the body is never read or closed. The
		// connection can neither be reused nor closed, so its read and write loops stay.
		client := &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: 2 * time.Second,
		}}
		resp, err := client.Get(u)
		if err != nil {
			return false, err
		}
		g.tally.Add("risk.unclosedBodies", 1)
		return resp.Header.Get("X-Risk-Decision") == "approve", nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := g.shared.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Header.Get("X-Risk-Decision") == "approve", nil
}

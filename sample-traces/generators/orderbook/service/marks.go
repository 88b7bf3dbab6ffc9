package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// MarkFeed fetches the latest mark price of a symbol from the mark-feed upstream.
type MarkFeed struct {
	base   string
	client *http.Client
	bugs   Bugs
	tally  *Tally
}

func newMarkFeed(base string, bugs Bugs, tally *Tally) *MarkFeed {
	tr := &http.Transport{MaxIdleConnsPerHost: 8, IdleConnTimeout: 90 * time.Second}
	client := &http.Client{Transport: tr, Timeout: 300 * time.Millisecond}
	if bugs.MarksWithoutTimeout {
		// BUG: no Timeout, and no ResponseHeaderTimeout on the transport.
		client = &http.Client{Transport: tr}
	}
	return &MarkFeed{base: base, client: client, bugs: bugs, tally: tally}
}

// Latest returns the latest mark of sym in cents.
func (m *MarkFeed) Latest(ctx context.Context, sym string) (int64, error) {
	defer m.tally.Enter("marks.inflight")()
	u := m.base + "/marks/" + sym
	var (
		resp *http.Response
		err  error
	)
	if m.bugs.MarksWithoutTimeout {
		// BUG (with the client above): the caller's context is not passed either, so nothing
		// bounds this call.
		resp, err = m.client.Get(u)
	} else {
		req, rerr := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if rerr != nil {
			return 0, rerr
		}
		resp, err = m.client.Do(req)
	}
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var mark struct {
		Px int64 `json:"px"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&mark); err != nil {
		return 0, fmt.Errorf("mark of %s: %w", sym, err)
	}
	return mark.Px, nil
}

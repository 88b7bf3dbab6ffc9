package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics aggregates request counts and latencies per route and flushes them periodically.
type Metrics struct {
	mu      sync.Mutex
	counts  map[string]int64
	total   map[string]time.Duration
	flushes atomic.Int64
}

func newMetrics() *Metrics {
	return &Metrics{counts: make(map[string]int64), total: make(map[string]time.Duration)}
}

func (m *Metrics) observe(route string, d time.Duration) {
	m.mu.Lock()
	m.counts[route]++
	m.total[route] += d
	m.mu.Unlock()
}

func (m *Metrics) snapshot() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(m.counts))
	for k, v := range m.counts {
		out[k] = v
	}
	return out
}

// flushLoop publishes the metrics every tick until ctx is done (then once more).
func (m *Metrics) flushLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.flush()
			return
		case <-t.C:
			m.flush()
		}
	}
}

func (m *Metrics) flush() {
	_ = m.snapshot()
	m.flushes.Add(1)
}

// FXRates keeps currency rates fresh from the FX upstream.
type FXRates struct {
	url    string
	client *http.Client

	mu    sync.RWMutex
	rates map[string]float64
	fails atomic.Int64
}

func newFXRates(base string) *FXRates {
	return &FXRates{
		url: base + "/fx",
		client: &http.Client{
			Timeout:   2 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second},
		},
		rates: map[string]float64{},
	}
}

// refreshLoop refetches the rates every tick until ctx is done.
func (f *FXRates) refreshLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := f.refresh(ctx); err != nil {
			f.fails.Add(1)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (f *FXRates) refresh(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var rates map[string]float64
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&rates); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	f.mu.Lock()
	f.rates = rates
	f.mu.Unlock()
	return nil
}

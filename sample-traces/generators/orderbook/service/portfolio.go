package service

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// group runs a set of functions and waits for all of them, cancelling the rest on the first
// error (the shape of golang.org/x/sync/errgroup, kept to the standard library).
type group struct {
	wg     sync.WaitGroup
	once   sync.Once
	err    error
	cancel context.CancelCauseFunc
}

func withGroup(ctx context.Context) (*group, context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	return &group{cancel: cancel}, ctx
}

func (g *group) Go(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil {
			g.once.Do(func() {
				g.err = err
				g.cancel(err)
			})
		}
	}()
}

func (g *group) Wait() error {
	g.wg.Wait()
	g.cancel(g.err)
	return g.err
}

// PortfolioService values an account's portfolio from several books at once.
type PortfolioService struct {
	tally *Tally
}

var errValuationAborted = errors.New("valuation aborted")

// Valuation prices every asset class concurrently and sums them. horizon=eod asks for
// end-of-day prices, which take the pricing service over a second.
func (p *PortfolioService) Valuation(w http.ResponseWriter, r *http.Request) {
	defer p.tally.Enter("portfolio.valuations")()
	cost := 3 * time.Millisecond
	if r.URL.Query().Get("horizon") == "eod" {
		cost = 1200 * time.Millisecond
	}
	classes := []string{"equities", "futures", "fx", "cash"}
	values := make([]int64, len(classes))
	g, ctx := withGroup(r.Context())
	for i, class := range classes {
		g.Go(func() error {
			defer p.tally.Enter("portfolio.pricers")()
			v, err := priceClass(ctx, class, cost)
			values[i] = v
			return err
		})
	}
	if err := g.Wait(); err != nil {
		http.Error(w, err.Error(), http.StatusGatewayTimeout)
		return
	}
	var total int64
	for _, v := range values {
		total += v
	}
	writeJSON(w, http.StatusOK, map[string]any{"acct": r.PathValue("acct"), "total": total})
}

func priceClass(ctx context.Context, class string, cost time.Duration) (int64, error) {
	t := time.NewTimer(cost)
	defer t.Stop()
	select {
	case <-t.C:
		return int64(len(class)) * 1_000_000, nil
	case <-ctx.Done():
		return 0, errors.Join(errValuationAborted, context.Cause(ctx))
	}
}

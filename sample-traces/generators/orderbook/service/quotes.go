package service

import (
	"context"
	"hash/fnv"
	"net/http"
	"time"
)

// venue is one trading venue's quote adapter. The adapters predate contexts: they block for the
// venue's round trip whatever the caller's deadline.
type venue struct {
	mic     string
	latency time.Duration
}

func (v venue) quote(sym string) (int64, error) {
	time.Sleep(v.latency)
	h := fnv.New32a()
	_, _ = h.Write([]byte(v.mic + sym))
	return 10_000 + int64(h.Sum32()%500), nil
}

type venueQuote struct {
	mic string
	px  int64
	err error
}

// QuoteDesk answers the best price for a symbol across venues, within a latency budget.
type QuoteDesk struct {
	venues []venue
	budget time.Duration
	bugs   Bugs
	tally  *Tally
}

func newQuoteDesk(bugs Bugs, tally *Tally) *QuoteDesk {
	return &QuoteDesk{
		// Three venues answer well inside the budget, two (a remote one and a slow one) do not.
		venues: []venue{
			{"XNAS", 2 * time.Millisecond},
			{"ARCX", 3 * time.Millisecond},
			{"BATS", 5 * time.Millisecond},
			{"EDGX", 150 * time.Millisecond},
			{"IEXG", 400 * time.Millisecond},
		},
		budget: 60 * time.Millisecond,
		bugs:   bugs,
		tally:  tally,
	}
}

// Best asks every venue at once and answers with the best quote that arrived within the budget.
func (d *QuoteDesk) Best(w http.ResponseWriter, r *http.Request) {
	sym := r.PathValue("sym")
	ctx, cancel := context.WithTimeout(r.Context(), d.budget)
	defer cancel()
	var out chan venueQuote
	if d.bugs.UnbufferedQuotes {
		// BUG: nobody receives after the deadline, so late venues block on the send forever.
		out = make(chan venueQuote)
	} else {
		out = make(chan venueQuote, len(d.venues))
	}
	for _, v := range d.venues {
		go d.askVenue(v, sym, out)
	}
	best := venueQuote{}
	answered := 0
collect:
	for range d.venues {
		select {
		case q := <-out:
			answered++
			if q.err == nil && (best.mic == "" || q.px < best.px) {
				best = q
			}
		case <-ctx.Done():
			break collect
		}
	}
	if best.mic == "" {
		http.Error(w, "no venue answered in time", http.StatusGatewayTimeout)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sym": sym, "venue": best.mic, "px": best.px, "venues_answered": answered})
}

func (d *QuoteDesk) askVenue(v venue, sym string, out chan<- venueQuote) {
	defer d.tally.Enter("quotes.askVenue")()
	px, err := v.quote(sym)
	out <- venueQuote{mic: v.mic, px: px, err: err}
}

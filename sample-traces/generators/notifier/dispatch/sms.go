package dispatch

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// SMS sends text messages through the carrier; failed sends are retried in the background.
type SMS struct {
	svc      *Service
	attempts atomic.Int64
}

// Send tries once and, if the carrier fails, queues retries and answers 202.
func (s *SMS) Send(w http.ResponseWriter, r *http.Request) {
	to, text := r.URL.Query().Get("to"), r.URL.Query().Get("text")
	if err := s.try(to, text); err == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	if s.svc.bugs.Retry {
		// BUG: retries forever, 30 s apart, whatever happened to the request or the service.
		go s.retryForever(to, text)
	} else {
		ctx, cancel := context.WithTimeout(s.svc.ctx, time.Second)
		go func() {
			defer cancel()
			s.retryBounded(ctx, to, text)
		}()
	}
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintln(w, "queued for retry")
}

func (s *SMS) try(to, text string) error {
	s.attempts.Add(1)
	return s.svc.deliver.post("/sms", url.Values{"to": {to}, "text": {text}})
}

func (s *SMS) retryForever(to, text string) {
	defer s.svc.tally.Enter("sms.retry")()
	for {
		time.Sleep(30 * time.Second)
		if s.try(to, text) == nil {
			return
		}
	}
}

func (s *SMS) retryBounded(ctx context.Context, to, text string) {
	defer s.svc.tally.Enter("sms.retry")()
	for attempt := 0; attempt < 3; attempt++ {
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return
		}
		if s.try(to, text) == nil {
			return
		}
	}
}

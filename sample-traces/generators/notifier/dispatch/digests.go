package dispatch

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Digests composes a user's digest from several sections rendered in parallel; a publisher
// waits for all sections and stores the digest. The request returns 202 at once.
type Digests struct {
	svc       *Service
	published atomic.Int64
}

var digestSections = []string{"headlines", "mentions", "promos"}

var errPromosDown = errors.New("promotions service unavailable")

// Compose starts the renderers and the publisher.
func (d *Digests) Compose(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	var wg sync.WaitGroup
	parts := make([]string, len(digestSections))
	wg.Add(len(digestSections))
	for i, sec := range digestSections {
		go d.render(&wg, parts, i, sec, user)
	}
	go d.publish(&wg, user, parts)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"user":%q,"digest":"composing"}`+"\n", user)
}

func (d *Digests) render(wg *sync.WaitGroup, parts []string, i int, section, user string) {
	time.Sleep(time.Duration(3+i*4) * time.Millisecond)
	if section == "promos" {
		err := errPromosDown
		if d.svc.bugs.WaitGroup {
			// BUG: the error path returns before wg.Done.
			_ = err
			return
		}
		parts[i] = ""
		wg.Done()
		return
	}
	parts[i] = section + " for " + user
	wg.Done()
}

func (d *Digests) publish(wg *sync.WaitGroup, user string, parts []string) {
	defer d.svc.tally.Enter("digest.publish")()
	wg.Wait()
	d.published.Add(1)
}

package service

import (
	"context"
	"errors"
	"hash/fnv"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// tenantContext is the lifetime of one tenant: it is done when the tenant is suspended, and it
// carries the tenant's identity. It is its own Context implementation (it does not wrap a
// context from the context package), which is what makes the context package start a goroutine
// for every child derived from it.
type tenantContext struct {
	name  string
	quota int
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	err   error
}

type tenantKey struct{}

var errTenantSuspended = errors.New("tenant suspended")

func (t *tenantContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (t *tenantContext) Done() <-chan struct{}       { return t.done }

func (t *tenantContext) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

func (t *tenantContext) Value(key any) any {
	if key == (tenantKey{}) {
		return t
	}
	return nil
}

func (t *tenantContext) suspend() {
	t.once.Do(func() {
		t.mu.Lock()
		t.err = errTenantSuspended
		t.mu.Unlock()
		close(t.done)
	})
}

// Gateway scopes requests to their tenant.
type Gateway struct {
	bugs  Bugs
	tally *Tally

	mu      sync.Mutex
	tenants map[string]*tenantContext
}

func newGateway(bugs Bugs, tally *Tally) *Gateway {
	return &Gateway{bugs: bugs, tally: tally, tenants: make(map[string]*tenantContext)}
}

// tenant returns the (long-lived, cached) context of the tenant that owns acct.
func (g *Gateway) tenant(acct string) *tenantContext {
	h := fnv.New32a()
	_, _ = h.Write([]byte(acct))
	name := "tenant-" + strconv.Itoa(int(h.Sum32()%3))
	g.mu.Lock()
	defer g.mu.Unlock()
	t := g.tenants[name]
	if t == nil {
		t = &tenantContext{name: name, quota: 100, done: make(chan struct{})}
		g.tenants[name] = t
	}
	return t
}

// scoped runs next under a context that ends when the request's tenant is suspended, so that
// suspending a tenant stops its in-flight work.
func (g *Gateway) scoped(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tc := g.tenant(r.PathValue("acct"))
		ctx, cancel := context.WithCancel(tc)
		g.tally.Add("tenant.uncancelledChildren", 1)
		if !g.bugs.TenantCancelDropped {
			defer func() {
				cancel()
				g.tally.Add("tenant.uncancelledChildren", -1)
			}()
		}
		// BUG when TenantCancelDropped: nothing calls cancel, so the goroutine the context
		// package started to watch tc for this child waits until the tenant is suspended,
		// which for a healthy tenant is never.
		next(w, r.WithContext(ctx))
	}
}

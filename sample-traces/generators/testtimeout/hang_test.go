// Package testtimeout holds a test that hangs, so `go test -timeout 2s` panics with
// "test timed out" and prints every goroutine.
package testtimeout

import (
	"sync"
	"testing"
)

type pool struct {
	mu      sync.Mutex
	cond    *sync.Cond
	workers int
}

func newPool() *pool {
	p := &pool{}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *pool) acquire() {
	p.mu.Lock()
	for p.workers == 0 {
		p.cond.Wait()
	}
	p.workers--
	p.mu.Unlock()
}

func TestAcquireHangs(t *testing.T) {
	p := newPool()
	results := make(chan int)
	go func() {
		p.acquire()
		results <- 1
	}()
	<-results
}

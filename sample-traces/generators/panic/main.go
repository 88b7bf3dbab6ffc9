// Command panic dies of an unrecovered panic while other goroutines are parked, one of them
// locked to its OS thread and one spinning on another thread. Run with GOTRACEBACK=all so the
// panic prints every goroutine, including "goroutine running on other thread; stack
// unavailable" for the spinning one.
package main

import (
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

var spins atomic.Int64

func lockedWorker(ready chan<- struct{}, release <-chan int) {
	runtime.LockOSThread()
	ready <- struct{}{}
	<-release
}

func waitForRelease(ready chan<- struct{}, release <-chan int) {
	ready <- struct{}{}
	<-release
}

func pollUpstream(ready chan<- struct{}, done <-chan struct{}, results <-chan int) {
	ready <- struct{}{}
	select {
	case <-done:
	case <-results:
	}
}

func spin(ready chan<- struct{}) {
	ready <- struct{}{}
	for {
		spins.Add(1)
	}
}

type config struct{ limits map[string]int }

func applyLimit(c *config, key string) int {
	if c.limits == nil {
		panic(errors.New("applyLimit: config has no limits for " + key))
	}
	return c.limits[key]
}

func main() {
	ready := make(chan struct{})
	release := make(chan int)
	done := make(chan struct{})
	go lockedWorker(ready, release)
	go waitForRelease(ready, release)
	go pollUpstream(ready, done, nil)
	go spin(ready)
	for range 4 {
		<-ready
	}
	time.Sleep(50 * time.Millisecond)
	if len(os.Args) > 5 {
		close(done)
	}
	applyLimit(&config{}, "uploads")
}

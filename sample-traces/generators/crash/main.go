// Command crash sends itself SIGQUIT under GOTRACEBACK=crash while goroutines spin on several
// threads, one is locked to its thread and others are parked. The runtime prints every
// goroutine with gp=/m=/mp= and fp=/sp=/pc=, the g0 stack of the signalled thread, registers,
// then relays SIGQUIT to every other thread ("-----" sections), each printing its own g0 and
// running goroutine.
package main

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

var work atomic.Int64

func hashLoop(ready chan<- struct{}) {
	ready <- struct{}{}
	for {
		work.Add(1)
	}
}

func lockedPoller(ready chan<- struct{}, stop <-chan struct{}) {
	runtime.LockOSThread()
	ready <- struct{}{}
	<-stop
}

func idleSubscriber(ready chan<- struct{}, events <-chan string) {
	ready <- struct{}{}
	for e := range events {
		_ = e
	}
}

func main() {
	ready := make(chan struct{})
	stop := make(chan struct{})
	events := make(chan string)
	go lockedPoller(ready, stop)
	for range 3 {
		go idleSubscriber(ready, events)
	}
	for range 2 {
		go hashLoop(ready)
	}
	for range 6 {
		<-ready
	}
	time.Sleep(100 * time.Millisecond)
	_ = syscall.Kill(syscall.Getpid(), syscall.SIGQUIT)
	time.Sleep(10 * time.Second)
}

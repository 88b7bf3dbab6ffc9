// Package worker leaks one goroutine family per test, for the CI recipe of leakscope's README:
// a goroutineleak profile after TestA (the baseline) and after TestA and TestB (the change)
// must make `leakscope report --baseline` say exactly TestB's family.
package worker

import "time"

// FetchFirst asks every backend and returns the first answer. The losers block forever on
// the unbuffered channel once the winner is read: leaked (TestA's family).
func FetchFirst(backends []string) string {
	answers := make(chan string)
	for _, b := range backends {
		go func() {
			time.Sleep(time.Millisecond)
			answers <- b // blocks forever for all but the first
		}()
	}
	return <-answers
}

// WaitForAck starts a watcher waiting for an acknowledgement nobody ever sends (TestB's
// family): the channel is dropped when WaitForAck returns.
func WaitForAck(id int) {
	ack := make(chan struct{})
	go func() {
		<-ack // nothing sends or closes: leaked
		_ = id
	}()
}

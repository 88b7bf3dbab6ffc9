// Command leakdetect leaks goroutines on channels nothing else can reach, runs Go's GC-based
// goroutine leak detector (the goroutineleak profile, Go 1.26+), then writes a debug=2 dump in
// which the leaked goroutines carry "(leaked)".
package main

import (
	"os"
	"runtime/pprof"
	"time"
)

func publishAuditEvent(event string) {
	ack := make(chan bool)
	go func() {
		// Nobody ever sends the ack: the goroutine and the channel are unreachable.
		<-ack
	}()
	_ = event
}

func pollUpstream() {
	results := make(chan int)
	done := make(chan struct{})
	go func() {
		select {
		case <-results:
		case <-done:
		}
	}()
}

func main() {
	for i := range 5 {
		publishAuditEvent("upload-" + string(rune('a'+i)))
	}
	for range 3 {
		pollUpstream()
	}
	live := make(chan int)
	go func() { <-live }()
	time.Sleep(50 * time.Millisecond)
	_ = pprof.Lookup("goroutineleak").WriteTo(os.Stderr, 1)
	_ = pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
	live <- 1
}

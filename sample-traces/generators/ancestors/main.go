// Command ancestors writes a debug=2 goroutine dump under GODEBUG=tracebackancestors=5: each
// goroutine is followed by "[originating from goroutine N]:" blocks with its creators' stacks.
// One goroutine is created from 60 frames deep (its ancestor block ends in
// "...additional frames elided...") and one parks 150 frames deep ("...N frames elided...").
package main

import (
	"os"
	"runtime/pprof"
	"sync"
)

var hold = make(chan struct{})

func acceptLoop(wg *sync.WaitGroup) {
	wg.Add(1)
	go serveConn(wg)
	wg.Done()
	<-hold
}

func serveConn(wg *sync.WaitGroup) {
	wg.Add(1)
	go handleRequest(wg)
	wg.Done()
	<-hold
}

func handleRequest(wg *sync.WaitGroup) {
	wg.Add(1)
	go publishAuditEvent(wg)
	wg.Done()
	<-hold
}

func publishAuditEvent(wg *sync.WaitGroup) {
	wg.Done()
	<-hold
}

//go:noinline
func descend(depth int, wg *sync.WaitGroup, leaf func()) {
	if depth == 0 {
		leaf()
		return
	}
	descend(depth-1, wg, leaf)
}

func main() {
	var wg sync.WaitGroup
	wg.Add(1)
	go acceptLoop(&wg)
	wg.Add(1)
	go descend(60, &wg, func() {
		wg.Add(1)
		go publishAuditEvent(&wg)
		wg.Done()
		<-hold
	})
	wg.Add(1)
	go descend(150, &wg, func() {
		wg.Done()
		<-hold
	})
	wg.Wait()
	_ = pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
}

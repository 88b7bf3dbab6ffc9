// Command minutes parks goroutines for a little over a minute and then writes a debug=2 dump,
// so their headers carry ", 1 minutes" (and ", locked to thread" for one). It takes about 65
// seconds to run.
package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

func waitForRelease(release <-chan int) { <-release }

func lockedWait(release <-chan int) {
	runtime.LockOSThread()
	<-release
}

func main() {
	release := make(chan int)
	for range 3 {
		go waitForRelease(release)
	}
	go lockedWait(release)
	// A goroutine's wait start is stamped by the first GC that sees it parked; the header
	// shows whole minutes since then.
	time.Sleep(100 * time.Millisecond)
	runtime.GC()
	runtime.GC()
	time.Sleep(65 * time.Second)
	_ = pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
}

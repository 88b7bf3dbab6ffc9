// Command labelleak writes one moment of a labelled service three ways: a debug=2 dump, a
// debug=1 goroutine profile and a protobuf goroutine profile, into the directory given.
//
// Requests run under pprof.Do with route and tenant labels; goroutines they start inherit the
// labels, and so do the goroutines those start. One leaking stack (waitForReply) is reached
// from two routes and from a job labelled with a tenant only (SetGoroutineLabels), so the same
// leak family holds several label sets: 30 route=/export tenant=acme, 12 tenant=globex, and 5
// without labels. A second leak (pollForever, route=/import tenant=globex, 8) is started by a
// child of the request goroutine, to show inheritance across two generations.
//
// The module's go.mod says go 1.27, so the dump prints labels after the status by default.
package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"
)

var never = make(chan int)

// waitForReply leaks: nobody ever sends the reply.
func waitForReply(started *sync.WaitGroup) {
	started.Done()
	<-never
}

// pollForever leaks in a select with no way out.
func pollForever(started *sync.WaitGroup, stop chan struct{}) {
	started.Done()
	select {
	case <-stop:
	case <-never:
	}
}

// startReplyWaiter is the one creation site of every reply waiter, whatever labels its caller
// runs under, so they form one leak family with several label sets.
func startReplyWaiter(started *sync.WaitGroup) {
	started.Add(1)
	go waitForReply(started)
}

// export is a request handler that forgets its reply goroutine.
func export(ctx context.Context, started *sync.WaitGroup) {
	pprof.Do(ctx, pprof.Labels("route", "/export", "tenant", "acme"), func(context.Context) {
		startReplyWaiter(started)
	})
}

// importer starts a worker, which starts the poller: both inherit the labels.
func importer(ctx context.Context, started *sync.WaitGroup) {
	pprof.Do(ctx, pprof.Labels("route", "/import", "tenant", "globex"), func(context.Context) {
		started.Add(1)
		go func() {
			stop := make(chan struct{})
			go pollForever(started, stop)
		}()
	})
}

// nightlyJob labels its own goroutine with SetGoroutineLabels, then starts reply waiters.
func nightlyJob(ctx context.Context, started *sync.WaitGroup, n int, done chan struct{}) {
	pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("tenant", "globex")))
	for range n {
		startReplyWaiter(started)
	}
	close(done)
}

func write(dir, name string, profile string, debug int) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := pprof.Lookup(profile).WriteTo(f, debug); err != nil {
		panic(err)
	}
}

func main() {
	dir := os.Args[1]
	ctx := context.Background()
	var started sync.WaitGroup
	for range 30 {
		export(ctx, &started)
	}
	for range 8 {
		importer(ctx, &started)
	}
	done := make(chan struct{})
	go nightlyJob(ctx, &started, 12, done)
	<-done
	// Unlabelled: started from main.
	for range 5 {
		startReplyWaiter(&started)
	}
	started.Wait()
	// Let every goroutine that said it started reach its wait.
	time.Sleep(200 * time.Millisecond)
	write(dir, "go127-labelleak.debug2.txt", "goroutine", 2)
	write(dir, "go127-labelleak.goroutine.debug1.txt", "goroutine", 1)
	write(dir, "go127-labelleak.goroutine.pb.gz", "goroutine", 0)
}

// Command leakytrace writes a small execution trace of a program whose goroutines leak in
// several different ways, next to a healthy worker pool, for leakscope's trace tests.
//
//	go run . -o ../../go-leaky.trace
//
// What the trace shows (counts are exact; timings vary from run to run):
//   - 5 goroutines parked in chan receive since before the trace began (no creation event);
//   - 12 "requests": each request goroutine starts a watcher that waits on <-ctx.Done() of a
//     context whose cancel is dropped, then the request returns: 12 orphans whose creator ended,
//     created at one site whose live count only grows;
//   - 6 pollers parked in a select on a channel nobody sends on and a 10-minute timer;
//   - 4 goroutines in a 10-minute time.Sleep;
//   - 3 goroutines blocked on a mutex that is never unlocked (a pile-up, not a leak);
//   - 2 goroutines in WaitGroup.Wait for a Done that never comes;
//   - a pool of 4 workers that process 100 jobs and return, and 40 short tasks that end;
//   - CPU profile samples (CPU profiling runs during the trace) and garbage collections.
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"
)

var (
	forever      = make(chan struct{})
	nobodySends  = make(chan int)
	heldMutex    sync.Mutex
	neverDone    sync.WaitGroup
	sink         uint64
	watchersDone sync.WaitGroup
)

func main() {
	out := flag.String("o", "leaky.trace", "where to write the trace")
	flag.Parse()

	for i := 0; i < 5; i++ {
		go stuckBeforeTrace()
	}
	heldMutex.Lock()
	neverDone.Add(1)
	time.Sleep(20 * time.Millisecond)

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		log.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		log.Fatal(err)
	}

	var requests sync.WaitGroup
	for i := 0; i < 12; i++ {
		requests.Add(1)
		watchersDone.Add(1)
		go handleRequest(&requests)
		time.Sleep(5 * time.Millisecond)
	}
	requests.Wait()
	watchersDone.Wait()

	for i := 0; i < 6; i++ {
		go pollUpstream()
	}
	for i := 0; i < 4; i++ {
		go refreshLater()
	}
	for i := 0; i < 3; i++ {
		go lockHeldMutex()
	}
	for i := 0; i < 2; i++ {
		go waitForever()
	}

	workerPool(4, 100)
	var short sync.WaitGroup
	for i := 0; i < 40; i++ {
		short.Add(1)
		go func() {
			defer short.Done()
			burn(20000)
		}()
	}
	short.Wait()
	burnFor(150 * time.Millisecond)
	churn(6 << 20)
	time.Sleep(20 * time.Millisecond)

	trace.Stop()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func stuckBeforeTrace() { <-forever }

// handleRequest plays a request handler that starts a watcher bound to a context it never
// cancels, then returns.
func handleRequest(done *sync.WaitGroup) {
	defer done.Done()
	ctx, cancel := context.WithCancel(context.Background())
	_ = cancel // the bug: the cancel func is dropped
	go watchRequest(ctx)
	burn(5000)
}

func watchRequest(ctx context.Context) {
	watchersDone.Done()
	<-ctx.Done()
}

func pollUpstream() {
	select {
	case v := <-nobodySends:
		sink += uint64(v)
	case <-time.After(10 * time.Minute):
	}
}

func refreshLater() { time.Sleep(10 * time.Minute) }

func lockHeldMutex() {
	heldMutex.Lock()
	defer heldMutex.Unlock()
}

func waitForever() { neverDone.Wait() }

func workerPool(workers, jobs int) {
	queue := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				burn(200 + j)
			}
		}()
	}
	for j := 0; j < jobs; j++ {
		queue <- j
	}
	close(queue)
	wg.Wait()
}

func burn(n int) {
	x := sink
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink = x
}

// churn allocates short-lived garbage so that the GC runs on its own (runtime.GC would spin in
// runtime.Gosched while it waits for sweeping, filling the trace with yields).
func churn(total int) {
	var keep []byte
	for n := 0; n < total; n += 64 << 10 {
		keep = make([]byte, 64<<10)
		keep[0] = byte(n)
	}
	sink += uint64(keep[0])
}

func burnFor(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		burn(10000)
	}
}

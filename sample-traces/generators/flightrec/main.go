// Command flightrec runs a small in-process export service with a goroutine leak under Go's
// flight recorder (runtime/trace.FlightRecorder, Go 1.25+) and writes snapshots of its window
// after the leak happened, for leakscope's flight-recorder tests.
//
//	go run . -o ../../go-flight    # writes go-flight.1.trace and go-flight.2.trace
//
// The service (all of it in this process, standard library only):
//   - a pool of 4 workers that take jobs from a queue; a producer queues a job every 20 ms,
//     so each worker is woken several times a second (healthy);
//   - a stats ticker (every 100 ms) and a slower flush ticker (every 700 ms) that loop until
//     their context ends (healthy);
//   - export requests: each starts a render goroutine and waits for its result with a 5 ms
//     deadline; when the deadline wins, the request returns and the render goroutine blocks
//     forever on its unbuffered result channel (the leak: chan send, nobody receives). Every
//     request times out, so every render goroutine leaks.
//
// Timeline: 24 export requests leak at startup, then 4.5 s of healthy work only (longer than
// the recorder's 2 s window), snapshot 1; 24 more leak, 4.5 s of healthy work, snapshot 2. So
// in each snapshot every leaked goroutine existed before the window and is blocked through
// all of it, while workers and tickers are woken throughout; snapshot 2 has twice as many.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/trace"
	"sync/atomic"
	"time"
)

var processed atomic.Int64

// render stands for the slow part of an export; it hands its result over an unbuffered
// channel, which blocks forever once the request that wanted it has given up.
func render(id int, out chan<- string) {
	time.Sleep(20 * time.Millisecond)
	out <- fmt.Sprintf("export-%d.csv", id)
}

// handleExport waits for the render a short while and gives up: the leak.
func handleExport(ctx context.Context, id int) error {
	out := make(chan string) // Unbuffered: the fix is make(chan string, 1).
	go render(id, out)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	select {
	case name := <-out:
		_ = name
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func worker(jobs <-chan int) {
	for j := range jobs {
		// A little work per job.
		sum := 0
		for i := 0; i < 2000*(j%5+1); i++ {
			sum += i
		}
		processed.Add(int64(sum&1) + 1)
	}
}

func produce(ctx context.Context, jobs chan<- int) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			close(jobs)
			return
		case <-t.C:
			jobs <- n
		}
	}
}

func tick(ctx context.Context, every time.Duration, what func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			what()
		}
	}
}

func leak(ctx context.Context, n int, first int) {
	for i := 0; i < n; i++ {
		if err := handleExport(ctx, first+i); err == nil {
			log.Printf("export %d finished in time", first+i)
		}
	}
}

func snapshot(fr *trace.FlightRecorder, path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := fr.WriteTo(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func main() {
	out := flag.String("o", "flight", "prefix of the snapshots: PREFIX.1.trace, PREFIX.2.trace")
	flag.Parse()

	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: 2 * time.Second, MaxBytes: 1 << 20})
	if err := fr.Start(); err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	jobs := make(chan int)
	for i := 0; i < 4; i++ {
		go worker(jobs)
	}
	go produce(ctx, jobs)
	var stats, flushes atomic.Int64
	go tick(ctx, 100*time.Millisecond, func() { stats.Add(processed.Load()) })
	go tick(ctx, 700*time.Millisecond, func() { flushes.Add(1) })

	leak(ctx, 24, 0)
	time.Sleep(4500 * time.Millisecond)
	snapshot(fr, *out+".1.trace")
	leak(ctx, 24, 24)
	time.Sleep(4500 * time.Millisecond)
	snapshot(fr, *out+".2.trace")

	fr.Stop()
	stop()
	log.Printf("processed %d jobs, %d stats, %d flushes", processed.Load(), stats.Load(), flushes.Load())
}

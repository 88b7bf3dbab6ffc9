// Command busytrace writes an execution trace of a busy process, the shape issue 18 measures
// leakscope on: many goroutines passing messages over channels in pipelines, allocating (so the
// GC runs), taking short sleeps and a shared mutex. With -dense it instead starts short-lived
// goroutines as fast as it can, making a trace with a goroutine every few tens of bytes, the
// shape where per-goroutine tables dominate the memory.
//
//	go run . -o /tmp/busy.trace -d 6s          # about 140 MB with Go 1.27 on 2 cores
//	go run . -o /tmp/dense.trace -d 2s -dense
//
// The output is not committed (it is tens to hundreds of megabytes).
package main

import (
	"flag"
	"log"
	"os"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"time"
)

var (
	mu     sync.Mutex
	shared = map[int]int{}
	sink   atomic.Int64
)

func main() {
	out := flag.String("o", "busy.trace", "where to write the trace")
	dur := flag.Duration("d", 6*time.Second, "how long to trace")
	pipelines := flag.Int("p", 64, "pipelines of message-passing goroutines")
	dense := flag.Bool("dense", false, "start short-lived goroutines instead (a goroutine-dense trace)")
	flag.Parse()

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		log.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if *dense {
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go spawner(stop, &wg)
		}
	} else {
		for i := 0; i < *pipelines; i++ {
			wg.Add(1)
			go pipeline(i, stop, &wg)
		}
	}
	time.Sleep(*dur)
	close(stop)
	wg.Wait()
	trace.Stop()
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// pipeline runs a source, four stages and a sink connected by channels; stages allocate, sleep
// now and then and take the shared mutex, so the trace has every common kind of block.
func pipeline(id int, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	const stages = 4
	chans := make([]chan []byte, stages+1)
	for i := range chans {
		chans[i] = make(chan []byte, i%2) // unbuffered and 1-buffered alternate
	}
	var inner sync.WaitGroup
	for s := 0; s < stages; s++ {
		inner.Add(1)
		go func(s int, in <-chan []byte, out chan<- []byte) {
			defer inner.Done()
			defer close(out)
			n := 0
			for msg := range in {
				n++
				buf := make([]byte, len(msg)+64) // garbage for the GC
				copy(buf, msg)
				switch {
				case n%97 == 0:
					time.Sleep(50 * time.Microsecond)
				case n%13 == 0:
					mu.Lock()
					shared[id*stages+s]++
					mu.Unlock()
				}
				out <- buf
			}
		}(s, chans[s], chans[s+1])
	}
	inner.Add(1)
	go func() {
		defer inner.Done()
		for msg := range chans[stages] {
			sink.Add(int64(len(msg)))
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-stop:
			close(chans[0])
			inner.Wait()
			return
		case chans[0] <- make([]byte, 32+i%256):
		}
	}
}

// spawner starts goroutines that each do a little work and end, as fast as it can.
func spawner(stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	var inner sync.WaitGroup
	for i := 0; ; i++ {
		select {
		case <-stop:
			inner.Wait()
			return
		default:
		}
		inner.Add(1)
		go func(i int) {
			defer inner.Done()
			sink.Add(int64(i))
		}(i)
		if i%1024 == 0 {
			inner.Wait()
		}
	}
}

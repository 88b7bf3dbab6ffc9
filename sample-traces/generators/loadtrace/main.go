// Command loadtrace writes a large execution trace of a realistic shape, for measuring
// leakscope against `go tool trace`: an HTTP server on loopback under load from concurrent
// clients, whose handlers fan work out to a worker pool over channels, take a shared mutex,
// allocate (so the GC runs), and leak a goroutine on some requests.
//
//	go run . -o /tmp/load.trace -d 20s -c 32
//
// The output is not committed (it is tens to hundreds of megabytes); its size grows with the
// duration and the number of clients.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"time"
)

var (
	jobs     = make(chan job)
	mu       sync.Mutex
	shared   = map[int]int{}
	requests atomic.Int64
	leaked   atomic.Int64
)

type job struct {
	n    int
	done chan int
}

func main() {
	out := flag.String("o", "load.trace", "where to write the trace")
	dur := flag.Duration("d", 10*time.Second, "how long to trace")
	clients := flag.Int("c", 32, "concurrent clients")
	flag.Parse()

	for i := 0; i < 8; i++ {
		go worker()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/work", handle)
	go http.Serve(ln, nil)
	url := fmt.Sprintf("http://%s/work", ln.Addr())

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients}}
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, err := client.Get(url)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	trace.Stop()
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%d requests, %d goroutines leaked\n", requests.Load(), leaked.Load())
}

func handle(w http.ResponseWriter, r *http.Request) {
	n := int(requests.Add(1))
	results := make(chan int, 4)
	for i := 0; i < 4; i++ {
		jobs <- job{n: n + i, done: results}
	}
	sum := 0
	for i := 0; i < 4; i++ {
		sum += <-results
	}
	mu.Lock()
	shared[n%1024] = sum
	mu.Unlock()
	buf := make([]byte, 4096+n%8192)
	buf[0] = byte(sum)
	if n%50 == 0 {
		// The bug: a goroutine waits on a channel that nobody ever closes.
		leaked.Add(1)
		done := make(chan struct{})
		go func() { <-done }()
	}
	fmt.Fprintf(w, "%d %d\n", sum, len(buf))
}

func worker() {
	for j := range jobs {
		x := j.n
		for i := 0; i < 2000; i++ {
			x = x*1103515245 + 12345
		}
		j.done <- x & 0xff
	}
}

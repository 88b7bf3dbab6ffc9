// Command heapleak grows memory the way leaking services do, and writes heap profiles and
// goroutine dumps of the same moments for leakscope's heap-growth rule and its join with the
// goroutine findings.
//
// With -mode leaky, every "request" leaks twice: a goroutine that allocates a 16 KiB scratch
// buffer and then waits on a channel nobody closes (so the buffer stays reachable from its
// stack), and an HTTP response whose body is never read or closed (so its persistConn, with
// two bufio buffers and the readLoop/writeLoop goroutines, stays alive). With -mode healthy
// the same code paths are corrected: the goroutines return, the bodies are closed, and the
// only memory held is a cache that fills to its cap before the first snapshot and stops.
// Both modes churn: they allocate and drop short-lived buffers all the time.
//
// runtime.MemProfileRate is lowered to 4096 (from 512 KiB) so that a few megabytes of growth
// are backed by hundreds of samples rather than a handful.
//
// Usage: heapleak -mode leaky|healthy -out DIR   (writes DIR/{before,after}/heap.pb.gz and,
// for leaky, DIR/{before,after}/goroutine.debug2.txt)
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"
)

func init() {
	// Before any allocation worth profiling.
	runtime.MemProfileRate = 4096
}

var (
	never  = make(chan struct{})
	sink   []byte
	cache  = map[int][]byte{}
	client *http.Client
	url    string
)

// holdScratch is the leaked goroutine: its buffer stays reachable while it waits.
func holdScratch(id int) {
	buf := make([]byte, 16<<10)
	buf[0] = byte(id)
	<-never
	sink = buf
}

// finishScratch is the corrected version: it returns, and its buffer becomes garbage.
func finishScratch(id int, done chan<- struct{}) {
	buf := make([]byte, 16<<10)
	buf[0] = byte(id)
	done <- struct{}{}
}

// fetchQuote reads the status and forgets the body: the connection stays busy forever.
func fetchQuote(i int) {
	resp, err := client.Get(fmt.Sprintf("%s/quote?i=%d", url, i))
	if err != nil {
		log.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		log.Fatalf("status %d", resp.StatusCode)
	}
}

// fetchQuoteClosed reads and closes the body: the connection goes back to the pool.
func fetchQuoteClosed(i int) {
	resp, err := client.Get(fmt.Sprintf("%s/quote?i=%d", url, i))
	if err != nil {
		log.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// churn allocates and drops buffers: alloc_space grows, inuse_space does not.
func churn(rounds int) {
	for i := 0; i < rounds; i++ {
		var b bytes.Buffer
		for j := 0; j < 64; j++ {
			b.Write(make([]byte, 512))
		}
		sink = b.Bytes()
	}
	sink = nil
}

// fillCache fills a bounded cache; past its cap it replaces entries in place.
func fillCache(n int) {
	for i := 0; i < n; i++ {
		key := i % 400
		if _, ok := cache[key]; !ok {
			cache[key] = make([]byte, 4<<10)
		}
	}
}

func serve() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	url = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("/quote", func(w http.ResponseWriter, r *http.Request) {
		// Larger than the client's read buffer, so the body is not consumed with the headers.
		w.Write(bytes.Repeat([]byte("q"), 8<<10))
	})
	go http.Serve(ln, mux)
	client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
}

func snapshot(dir string, dumps bool) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the leaked goroutines park
	runtime.GC()                       // as /debug/pprof/heap?gc=1: inuse as of now
	f, err := os.Create(filepath.Join(dir, "heap.pb.gz"))
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		log.Fatal(err)
	}
	f.Close()
	if !dumps {
		return
	}
	g, err := os.Create(filepath.Join(dir, "goroutine.debug2.txt"))
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.Lookup("goroutine").WriteTo(g, 2); err != nil {
		log.Fatal(err)
	}
	g.Close()
}

func main() {
	mode := flag.String("mode", "leaky", "leaky or healthy")
	out := flag.String("out", ".", "output directory")
	flag.Parse()
	serve()
	leaky := *mode == "leaky"
	request := func(i int) {
		if leaky {
			go holdScratch(i)
			fetchQuote(i)
		} else {
			done := make(chan struct{})
			go finishScratch(i, done)
			<-done
			fetchQuoteClosed(i)
		}
		churn(20)
	}
	fillCache(1000) // fills to its cap of 400 entries before the first snapshot
	next := 0
	for _, p := range []struct {
		name  string
		until int
	}{{"before", 10}, {"after", 100}} {
		for ; next < p.until; next++ {
			request(next)
			fillCache(50)
		}
		snapshot(filepath.Join(*out, p.name), leaky)
	}
}

// Command orders-api is a small leaky HTTP service used to make leakscope's bundled sample: a
// before/after pair of goroutine dumps (debug=2) in which several leak families grow side by side
// with the goroutines every server has and that are not leaks.
//
//	go run . -mode server -addr 127.0.0.1:7070          # the service (and its pprof endpoints)
//	go run . -mode load -addr 127.0.0.1:7070 -n 100     # a bounded load against it
//
// make-sample.sh runs both and captures the dumps. The leaks, by route:
//
//   - /orders: a middleware derives a cancellable context and drops the cancel func; the handler
//     starts watchers that wait on that context's Done channel (forever), and a poller that also
//     selects on a channel nobody sends on.
//   - /checkout: fire-and-forget goroutines not bound to the request: a receipt mailer that sends
//     on an unbuffered channel nobody reads, a cache warmer sleeping for 30 minutes, and an upload
//     fan-out whose coordinator outlives its handler (an orphan) and waits on parked workers.
//     One request in ten hits an error path that receives from a nil channel.
//   - /inventory: a blocked client call: an http.Client without a timeout calls a supplier that
//     accepts connections and never answers, so request goroutines stay in the round trip and
//     every call holds its own connection (readLoop/writeLoop pairs pile up).
//   - /report: requests queue on a mutex held by a stuck exporter: a pile-up, not a leak.
//
// Not leaks: the accept loop, idle keep-alive connections, an idle worker pool on its job
// channel, a metrics ticker that stops on its context, the goroutine writing the dump.
package main

import (
	"flag"
	"log"
)

func main() {
	mode := flag.String("mode", "server", "server or load")
	addr := flag.String("addr", "127.0.0.1:7070", "listen (server) or target (load) address")
	n := flag.Int("n", 100, "requests per route (load)")
	flag.Parse()
	switch *mode {
	case "server":
		if err := serve(*addr); err != nil {
			log.Fatal(err)
		}
	case "load":
		if err := drive(*addr, *n); err != nil {
			log.Fatal(err)
		}
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}

// Command orderbook is a small trading back-office service with eight goroutine defects, and
// the load driver that makes captures of it for leakscope.
//
//	orderbook serve    -bugs all|none|LIST [-listen ADDR] [-admin ADDR] -upstream URL
//	orderbook upstream [-listen ADDR]
//	orderbook capture  -scenario leaky|healthy -out DIR
//
// capture starts the upstream and the server as child processes (the server with
// GOTRACEBACK=all and its stderr in DIR/sigquit.stderr.txt), drives a "before" and an "after"
// phase of load, fetches the profiles of each phase from the server's admin port, and finally
// kills the server with SIGQUIT. See README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"example.com/orderbook/service"
	"example.com/orderbook/upstream"
)

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	// The runtime writes SIGQUIT dumps to stderr; logs go to stdout so the dump stays clean.
	log.SetOutput(os.Stdout)
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: orderbook serve|upstream|capture [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "upstream":
		err = runUpstream(os.Args[2:])
	case "capture":
		err = capture(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Printf("orderbook %s: %v", os.Args[1], err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "API listen address")
	adminAddr := fs.String("admin", "127.0.0.1:0", "admin (pprof, stats) listen address")
	upstreamURL := fs.String("upstream", "", "base URL of the upstream (orderbook upstream)")
	bugList := fs.String("bugs", "none", "defects to switch on: all, none, or a list of "+fmt.Sprint(service.BugNames()))
	_ = fs.Parse(args)
	if *upstreamURL == "" {
		return errors.New("-upstream is required")
	}
	bugs, err := service.ParseBugs(*bugList)
	if err != nil {
		return err
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	svc, err := service.New(ctx, service.Options{Bugs: bugs, UpstreamURL: *upstreamURL})
	if err != nil {
		return err
	}
	defer svc.Close()

	api := &http.Server{Handler: svc.Routes(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Minute}
	admin := &http.Server{Handler: adminRoutes(svc, *bugList), ReadHeaderTimeout: 5 * time.Second}
	apiLn, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", *adminAddr)
	if err != nil {
		return err
	}
	served := make(chan error, 2)
	go func() { served <- api.Serve(apiLn) }()
	go func() { served <- admin.Serve(adminLn) }()

	stopSignals := make(chan os.Signal, 1)
	signal.Notify(stopSignals, syscall.SIGINT, syscall.SIGTERM)
	hangups := make(chan os.Signal, 1)
	signal.Notify(hangups, syscall.SIGHUP)
	go reopenLogsOnHangup(hangups)

	// The driver reads this line to find the server.
	fmt.Printf("listening api=%s admin=%s pid=%d go=%s\n", apiLn.Addr(), adminLn.Addr(), os.Getpid(), runtime.Version())

	select {
	case sig := <-stopSignals:
		log.Printf("serve: %v, shutting down", sig)
	case err := <-served:
		log.Printf("serve: listener stopped: %v", err)
	}
	stop()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = api.Shutdown(shutdownCtx)
	_ = admin.Shutdown(shutdownCtx)
	return nil
}

// reopenLogsOnHangup is the classic SIGHUP handler: it lives as long as the process.
func reopenLogsOnHangup(hangups <-chan os.Signal) {
	for range hangups {
		log.Printf("SIGHUP: reopening logs")
	}
}

func adminRoutes(svc *service.Service, bugs string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /debug/orderbook/stats", func(w http.ResponseWriter, r *http.Request) {
		st := svc.Stats()
		st["go_version"] = runtime.Version()
		st["bugs"] = bugs
		st["goroutines"] = runtime.NumGoroutine()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	return mux
}

func runUpstream(args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	_ = fs.Parse(args)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	var counters upstream.Counters
	srv := &http.Server{Handler: upstream.Routes(&counters), ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("listening upstream=%s pid=%d\n", ln.Addr(), os.Getpid())
	stopSignals := make(chan os.Signal, 1)
	signal.Notify(stopSignals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stopSignals
		log.Printf("upstream: %s", upstream.Describe(&counters))
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Command notifier is a notification service with seven goroutine defects (switched on with
// -bugs), its upstream, and the load driver that captures it.
//
//	notifier serve    -bugs all|none|LIST -upstream URL [-listen ADDR] [-admin ADDR] [-agents ADDR]
//	notifier upstream [-listen ADDR]
//	notifier drive    -scenario leaky|healthy|leaky-close -out DIR [-logs DIR]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"example.com/leakbed/admin"
	"example.com/leakbed/tally"
	"example.com/notifier/dispatch"
	"example.com/notifier/upstream"
)

const statsPath = "/debug/notifier/stats"

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetOutput(os.Stdout) // stderr is for the runtime's SIGQUIT dump
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: notifier serve|upstream|drive [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "upstream":
		err = runUpstream(os.Args[2:])
	case "drive":
		err = runDriver(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Printf("notifier %s: %v", os.Args[1], err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "API listen address")
	adminAddr := fs.String("admin", "127.0.0.1:0", "admin listen address (pprof, stats)")
	agentAddr := fs.String("agents", "127.0.0.1:0", "agent console (TCP) listen address")
	upstreamURL := fs.String("upstream", "", "base URL of the upstream (notifier upstream)")
	bugList := fs.String("bugs", "none", fmt.Sprintf("defects: all, none, or a list of %v", dispatch.BugNames()))
	_ = fs.Parse(args)
	if *upstreamURL == "" {
		return errors.New("-upstream is required")
	}
	bugs, err := dispatch.ParseBugs(*bugList)
	if err != nil {
		return err
	}
	agentLn, err := net.Listen("tcp", *agentAddr)
	if err != nil {
		return err
	}
	apiLn, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", *adminAddr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var t tally.Tally
	svc := dispatch.New(ctx, dispatch.Options{Bugs: bugs, UpstreamURL: *upstreamURL, AgentLn: agentLn, Tally: &t})
	api := &http.Server{Handler: svc.Routes(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Minute}
	adm := &http.Server{Handler: admin.Mux(statsPath, &t, func() map[string]any {
		st := svc.Stats()
		st["bugs"] = *bugList
		return st
	}), ReadHeaderTimeout: 5 * time.Second}
	errs := make(chan error, 2)
	go func() { errs <- api.Serve(apiLn) }()
	go func() { errs <- adm.Serve(adminLn) }()

	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGINT, syscall.SIGTERM)
	fmt.Printf("listening api=%s admin=%s agents=%s pid=%d go=%s\n", apiLn.Addr(), adminLn.Addr(), agentLn.Addr(), os.Getpid(), runtime.Version())
	select {
	case s := <-term:
		log.Printf("serve: %v", s)
	case err := <-errs:
		log.Printf("serve: %v", err)
	}
	cancel()
	sctx, stop := context.WithTimeout(context.Background(), 3*time.Second)
	defer stop()
	_ = api.Shutdown(sctx)
	_ = adm.Shutdown(sctx)
	return nil
}

func runUpstream(args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	_ = fs.Parse(args)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	var c upstream.Counters
	srv := &http.Server{Handler: upstream.Routes(&c), ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("listening upstream=%s pid=%d\n", ln.Addr(), os.Getpid())
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-term
		log.Printf("upstream: %v", upstream.Describe(&c))
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

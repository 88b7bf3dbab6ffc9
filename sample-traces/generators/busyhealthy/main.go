// Command busyhealthy is a healthy but busy service (a dispatch console back end) and the load
// driver that captures it: many long-lived goroutines, none leaking.
//
//	busyhealthy serve [-listen ADDR] [-admin ADDR] [-terminals ADDR]
//	busyhealthy drive -out DIR [-logs DIR]
//
// drive starts the server as a child process (GOTRACEBACK=all, stderr kept as the SIGQUIT
// dump), connects sessions over time while sending other traffic, captures a "before" phase
// (20 live sessions) and an "after" phase (60 live sessions), then sends SIGQUIT.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"example.com/busyhealthy/console"
	"example.com/leakbed/admin"
	"example.com/leakbed/tally"
)

const statsPath = "/debug/busyhealthy/stats"

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetOutput(os.Stdout) // stderr is for the runtime's SIGQUIT dump
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: busyhealthy serve|drive [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "drive":
		err = runDriver(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Printf("busyhealthy %s: %v", os.Args[1], err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := newFlags("serve")
	listen := fs.String("listen", "127.0.0.1:0", "API listen address")
	adminAddr := fs.String("admin", "127.0.0.1:0", "admin listen address (pprof, stats)")
	termAddr := fs.String("terminals", "127.0.0.1:0", "terminal (TCP line protocol) listen address")
	_ = fs.Parse(args)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var t tally.Tally
	termLn, err := net.Listen("tcp", *termAddr)
	if err != nil {
		return err
	}
	svc := console.New(ctx, &t, termLn)
	apiLn, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", *adminAddr)
	if err != nil {
		return err
	}
	api := &http.Server{Handler: svc.Routes(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Minute}
	adm := &http.Server{Handler: admin.Mux(statsPath, &t, svc.Stats), ReadHeaderTimeout: 5 * time.Second}
	failed := make(chan error, 2)
	go func() { failed <- api.Serve(apiLn) }()
	go func() { failed <- adm.Serve(adminLn) }()

	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGINT, syscall.SIGTERM)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go watchHangups(hup)

	fmt.Printf("listening api=%s admin=%s terminals=%s pid=%d go=%s\n",
		apiLn.Addr(), adminLn.Addr(), termLn.Addr(), os.Getpid(), runtime.Version())
	select {
	case sig := <-quit:
		log.Printf("serve: %v", sig)
	case err := <-failed:
		log.Printf("serve: listener: %v", err)
	}
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = api.Shutdown(sctx)
	_ = adm.Shutdown(sctx)
	return nil
}

// watchHangups logs SIGHUPs for the life of the process.
func watchHangups(hup <-chan os.Signal) {
	for range hup {
		log.Printf("SIGHUP: nothing to reload")
	}
}

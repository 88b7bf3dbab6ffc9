// Command syncer is a replication coordinator with six goroutine defects (switched on with
// -bugs) and the load driver that captures it. Every HTTP endpoint is an inline closure
// registered in (*server).routes.
//
//	syncer serve -bugs all|none|LIST [-listen ADDR] [-admin ADDR]
//	syncer drive -scenario leaky|healthy -out DIR [-logs DIR]
package main

import (
	"context"
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
)

const statsPath = "/debug/syncer/stats"

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetOutput(os.Stdout) // stderr is for the runtime's SIGQUIT dump
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: syncer serve|drive [flags]")
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
		log.Printf("syncer %s: %v", os.Args[1], err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "API listen address")
	adminAddr := fs.String("admin", "127.0.0.1:0", "admin listen address (pprof, stats)")
	bugList := fs.String("bugs", "none", fmt.Sprintf("defects: all, none, or a list of %v", defectNames))
	_ = fs.Parse(args)
	bugs, err := parseDefects(*bugList)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var t tally.Tally
	s := newServer(ctx, bugs, &t)
	apiLn, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", *adminAddr)
	if err != nil {
		return err
	}
	api := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Minute}
	adm := &http.Server{Handler: admin.Mux(statsPath, &t, func() map[string]any {
		st := s.stats()
		st["bugs"] = *bugList
		return st
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := api.Serve(apiLn); err != http.ErrServerClosed {
			log.Fatalf("api: %v", err)
		}
	}()
	go func() {
		if err := adm.Serve(adminLn); err != http.ErrServerClosed {
			log.Fatalf("admin: %v", err)
		}
	}()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	fmt.Printf("listening api=%s admin=%s pid=%d go=%s\n", apiLn.Addr(), adminLn.Addr(), os.Getpid(), runtime.Version())
	log.Printf("serve: %v", <-sigs)
	for _, ns := range s.nsList {
		close(ns.stop)
	}
	sctx, stop := context.WithTimeout(context.Background(), 3*time.Second)
	defer stop()
	_ = api.Shutdown(sctx)
	_ = adm.Shutdown(sctx)
	return nil
}

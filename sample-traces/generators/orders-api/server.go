package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"sync"
	"sync/atomic"
	"time"
)

type ctxKey struct{}

// requestScope is the buggy middleware: it derives a cancellable context for the request and
// never calls cancel, so anything waiting on it waits forever.
func requestScope(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, _ := context.WithCancel(context.Background()) //nolint:govet // the bug on purpose
		ctx = context.WithValue(ctx, ctxKey{}, r.URL.Path)
		next(w, r.WithContext(ctx))
	}
}

func watchOrderStatus(ctx context.Context, id int64) {
	<-ctx.Done()
	log.Printf("order %d: stop watching", id)
}

func pollPayment(ctx context.Context, updates <-chan string) {
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-updates:
			log.Print(u)
		}
	}
}

var orderSeq atomic.Int64

func handleOrders(w http.ResponseWriter, r *http.Request) {
	id := orderSeq.Add(1)
	go watchOrderStatus(r.Context(), id)
	if id%2 == 0 {
		go pollPayment(r.Context(), make(chan string))
	}
	fmt.Fprintf(w, "order %d accepted\n", id)
}

type receipt struct{ order int64 }

var receipts = make(chan receipt) // nobody ever reads it

func sendReceiptEmail(r receipt) {
	receipts <- r
}

func warmCache(key string) {
	time.Sleep(30 * time.Minute)
	log.Printf("warmed %s", key)
}

func uploadChunk(part int, results chan<- int) {
	results <- part // the coordinator stopped reading after the first error
}

// processUpload outlives its handler (its parent goroutine is gone) and waits for workers that
// are parked sending to it.
func processUpload(parts int) {
	results := make(chan int)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uploadChunk(i, results)
		}()
	}
	<-results // the first result is "an error": stop reading
	wg.Wait()
}

var checkoutSeq atomic.Int64

func handleCheckout(w http.ResponseWriter, r *http.Request) {
	id := checkoutSeq.Add(1)
	go sendReceiptEmail(receipt{order: id})
	go warmCache(fmt.Sprintf("cart-%d", id))
	if id%4 == 0 {
		go processUpload(3)
	}
	if id%10 == 0 {
		var fraudVerdict chan bool // never made: the error path forgot to
		go func() {
			if <-fraudVerdict {
				log.Print("fraud")
			}
		}()
	}
	fmt.Fprintln(w, "ok")
}

// supplierClient has no timeout: a supplier that never answers holds the request forever.
var supplierClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}

var supplierURL string

func fetchStock(ctx context.Context, sku string) (*http.Response, error) {
	// The handler's context is not passed down, so nothing cancels the call.
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, supplierURL+"?sku="+sku, nil)
	if err != nil {
		return nil, err
	}
	return supplierClient.Do(req)
}

func handleInventory(w http.ResponseWriter, r *http.Request) {
	resp, err := fetchStock(r.Context(), r.URL.Query().Get("sku"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	resp.Body.Close()
	fmt.Fprintln(w, "in stock")
}

var exportMu sync.Mutex

// exportLoop takes the export lock and never gives it back: it waits for a flush signal that
// never comes.
func exportLoop(flush <-chan struct{}) {
	exportMu.Lock()
	<-flush
	exportMu.Unlock()
}

func handleReport(w http.ResponseWriter, r *http.Request) {
	exportMu.Lock()
	defer exportMu.Unlock()
	fmt.Fprintln(w, "report")
}

// startSupplier is an upstream that accepts connections and never answers.
func startSupplier() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	return "http://" + ln.Addr().String() + "/stock", nil
}

// Healthy background work.

// jobs feeds the worker pool; it lives as long as the service, like any dispatcher's queue.
var jobs = make(chan func())

func worker(ctx context.Context, jobs <-chan func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-jobs:
			job()
		}
	}
}

func reportMetrics(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func serve(addr string) error {
	url, err := startSupplier()
	if err != nil {
		return err
	}
	supplierURL = url
	ctx := context.Background()
	for range 8 {
		go worker(ctx, jobs)
	}
	go reportMetrics(ctx)
	go exportLoop(make(chan struct{}))

	mux := http.DefaultServeMux // net/http/pprof registered itself here
	mux.HandleFunc("/orders", requestScope(handleOrders))
	mux.HandleFunc("/checkout", handleCheckout)
	mux.HandleFunc("/inventory", handleInventory)
	mux.HandleFunc("/report", handleReport)
	srv := &http.Server{Addr: addr, Handler: mux}
	log.Printf("orders-api on %s", addr)
	return srv.ListenAndServe()
}

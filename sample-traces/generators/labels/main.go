// Command labels writes a debug=2 goroutine dump of goroutines carrying pprof labels, which Go
// 1.27 prints after the status under GODEBUG=tracebacklabels=1: `{k: v}`, with keys and values
// quoted when they hold characters outside [A-Za-z0-9./_].
package main

import (
	"context"
	"os"
	"runtime/pprof"
	"sync"
)

var hold = make(chan struct{})

func refreshCacheLater(wg *sync.WaitGroup) {
	wg.Done()
	<-hold
}

func handle(ctx context.Context, wg *sync.WaitGroup, labels ...string) {
	pprof.Do(ctx, pprof.Labels(labels...), func(context.Context) {
		wg.Add(2)
		go refreshCacheLater(wg)
		go refreshCacheLater(wg)
	})
}

func main() {
	var wg sync.WaitGroup
	ctx := context.Background()
	handle(ctx, &wg, "handler", "/api/upload", "tenant", "acme.io")
	handle(ctx, &wg, "handler", "/api/report", "req id", "r-1\t\"quoted\"", "user", "Σίσυφος")
	handle(ctx, &wg, "path", `C:\tmp\{x}, y: z`)
	wg.Wait()
	_ = pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
}

// Command series logs and dumps its goroutines three times while a leak grows, the way a
// service that calls runtime.Stack(buf, true) on a timer fills its log: one file holding a
// series of dumps, oldest first, with log lines before and between them.
package main

import (
	"fmt"
	"log"
	"os"
	"runtime"
)

var never = make(chan struct{})

func notifyWebhook(id int, done <-chan struct{}) {
	select {
	case <-never:
	case <-done:
	}
	_ = id
}

func main() {
	log.SetOutput(os.Stdout)
	log.SetFlags(log.Ldate | log.Ltime | log.Lmicroseconds)
	log.Printf("starting webhook notifier, pid %d", os.Getpid())
	buf := make([]byte, 4<<20)
	next := 0
	for round, n := range []int{2, 5, 9} {
		for ; next < n; next++ {
			go notifyWebhook(next, nil)
		}
		runtime.Gosched()
		log.Printf("round %d: %d goroutines, dumping", round+1, runtime.NumGoroutine())
		k := runtime.Stack(buf, true)
		fmt.Printf("%s\n", buf[:k])
	}
	log.Printf("done")
}

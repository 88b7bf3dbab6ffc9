// Package synctest dumps goroutines from inside a testing/synctest bubble, where the runtime
// prints "(durable)" waits and ", synctest bubble N"; deadlocks a bubble so that the test panics
// with the bubble's goroutines; and blocks synctest.Wait on a mutex (not a durable wait), which
// ends in "fatal error: all goroutines are asleep - deadlock!".
package synctest

import (
	"os"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestDumpInsideBubble(t *testing.T) {
	out := os.Getenv("DUMP_OUT")
	if out == "" {
		t.Skip("DUMP_OUT not set")
	}
	synctest.Test(t, func(t *testing.T) {
		acks := make(chan int)
		var wg sync.WaitGroup
		go func() { <-acks }()
		go func() {
			select {
			case <-acks:
			case <-time.After(time.Hour):
			}
		}()
		go func() { time.Sleep(time.Minute) }()
		wg.Add(1)
		go func() { wg.Wait() }()
		synctest.Wait()
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		if err := os.WriteFile(out, buf[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		close(acks)
		wg.Done()
		// Let fake time pass so the sleeper finishes inside the bubble.
		time.Sleep(2 * time.Minute)
	})
}

func TestBubbleDeadlock(t *testing.T) {
	if os.Getenv("DEADLOCK") == "" {
		t.Skip("DEADLOCK not set")
	}
	synctest.Test(t, func(t *testing.T) {
		replies := make(chan string)
		go func() { replies <- "never read" }()
		<-replies
		<-replies
	})
}

func TestMutexBlocksWait(t *testing.T) {
	if os.Getenv("MUTEX") == "" {
		t.Skip("MUTEX not set")
	}
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		mu.Lock()
		go func() { mu.Lock(); mu.Unlock() }()
		// A goroutine blocked on a mutex is not durably blocked, so Wait never returns.
		synctest.Wait()
		mu.Unlock()
	})
}

// Command deadlock dies of "fatal error: all goroutines are asleep - deadlock!": main waits on
// a WaitGroup whose workers wait on a channel nobody sends on.
package main

import "sync"

func consume(wg *sync.WaitGroup, jobs <-chan int) {
	defer wg.Done()
	for j := range jobs {
		_ = j
	}
}

func main() {
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 3 {
		wg.Add(1)
		go consume(&wg, jobs)
	}
	// The producer forgot to close(jobs).
	wg.Wait()
}

package main

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// drive sends n requests to each route. Calls to the routes that hang are fired with a short
// client timeout so the driver itself never waits on them; the server side stays stuck.
func drive(addr string, n int) error {
	quick := &http.Client{Timeout: 5 * time.Second}
	hang := &http.Client{Timeout: 300 * time.Millisecond}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	get := func(c *http.Client, path string) {
		defer wg.Done()
		sem <- struct{}{}
		defer func() { <-sem }()
		resp, err := c.Get("http://" + addr + path)
		if err != nil {
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for i := range n {
		wg.Add(2)
		go get(quick, "/orders")
		go get(quick, "/checkout")
		if i%5 == 0 {
			wg.Add(1)
			go get(hang, fmt.Sprintf("/inventory?sku=%d", i))
		}
		if i%10 == 0 {
			wg.Add(1)
			go get(hang, "/report")
		}
	}
	wg.Wait()
	return nil
}

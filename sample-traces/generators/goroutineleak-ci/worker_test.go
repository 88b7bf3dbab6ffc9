package worker

import (
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"
)

func TestA(t *testing.T) {
	for range 5 {
		if got := FetchFirst([]string{"a", "b", "c"}); got == "" {
			t.Fatal("no answer")
		}
	}
}

func TestB(t *testing.T) {
	for i := range 7 {
		WaitForAck(i)
	}
}

// TestMain writes the goroutineleak profile (pb.gz and debug=1) into $GOROUTINELEAK_DIR
// once the tests are done, as the README's CI recipe does, and a debug=2 dump of every
// goroutine beside it: the leak profile proves only what the GC can (Go 1.27 misses the
// blocked senders of FetchFirst), the dump lets leakscope's own rules see the rest.
func TestMain(m *testing.M) {
	code := m.Run()
	if dir := os.Getenv("GOROUTINELEAK_DIR"); dir != "" {
		time.Sleep(50 * time.Millisecond) // let the losers of FetchFirst reach their send
		name := os.Getenv("GOROUTINELEAK_NAME")
		for debug, ext := range []string{".goroutineleak.pb.gz", ".goroutineleak.debug1.txt"} {
			f, err := os.Create(filepath.Join(dir, name+ext))
			if err != nil {
				panic(err)
			}
			// Lookup runs the leak check (a GC cycle) before writing.
			if err := pprof.Lookup("goroutineleak").WriteTo(f, debug); err != nil {
				panic(err)
			}
			if err := f.Close(); err != nil {
				panic(err)
			}
		}
		f, err := os.Create(filepath.Join(dir, name+".goroutine.debug2.txt"))
		if err != nil {
			panic(err)
		}
		if err := pprof.Lookup("goroutine").WriteTo(f, 2); err != nil {
			panic(err)
		}
		if err := f.Close(); err != nil {
			panic(err)
		}
	}
	os.Exit(code)
}

// Command cgo parks goroutines inside Go callbacks called from C, with a cgo traceback
// registered through runtime.SetCgoTraceback, and writes a debug=2 dump. The C frames between
// the callback and the cgo call show as "non-Go function at pc=0x..." without a symbolizer, or
// as symbolized frames ("c_dispatch" / "\tcgo_c.c:12 pc=0x...") with one (argument "symbolize").
package main

/*
#include <stdint.h>
extern void dispatchEvents(int);
extern void *leakgenTraceback;
extern void *leakgenContext;
extern void *leakgenSymbolizer;
*/
import "C"

import (
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"unsafe"
)

var (
	wg   sync.WaitGroup
	hold = make(chan struct{})
)

//export goOnEvent
func goOnEvent(n C.int) {
	wg.Done()
	<-hold
}

func runLoop(n int) {
	C.dispatchEvents(C.int(n))
}

func main() {
	var symbolizer unsafe.Pointer
	if len(os.Args) > 1 && os.Args[1] == "symbolize" {
		symbolizer = C.leakgenSymbolizer
	}
	runtime.SetCgoTraceback(0, C.leakgenTraceback, C.leakgenContext, symbolizer)
	for i := range 2 {
		wg.Add(1)
		go runLoop(i)
	}
	wg.Wait()
	_ = pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
}

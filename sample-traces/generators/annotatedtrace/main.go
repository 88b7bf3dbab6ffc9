// Command annotatedtrace writes a small execution trace full of runtime/trace annotations, for
// leakscope's tests of user tasks, regions and logs.
//
//	go run . -o ../../go-annotated.trace
//
// What the trace shows:
//   - a task "setup" begun before tracing started and ended inside it (only its end is in the
//     trace), and a region "warmup" likewise (the runtime drops regions begun while tracing is
//     off, so it is not in the trace at all);
//   - a task "job" with a log (job-id=42), a region "prepare" holding a nested region "step",
//     and three goroutines, each in a region "fetch" with a child task "fetch-part" and a log;
//   - a task "unfinished" and a region "open" still open when tracing stops;
//   - a goroutine created inside a region that outlives its task (parked in chan receive).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

var never = make(chan struct{})

func main() {
	out := flag.String("o", "annotated.trace", "where to write the trace")
	flag.Parse()

	setupCtx, setup := trace.NewTask(context.Background(), "setup")
	warmup := trace.StartRegion(setupCtx, "warmup")

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		log.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	warmup.End()
	setup.End()

	ctx, job := trace.NewTask(context.Background(), "job")
	trace.Log(ctx, "job-id", "42")
	trace.WithRegion(ctx, "prepare", func() {
		trace.WithRegion(ctx, "step", func() { time.Sleep(time.Millisecond) })
	})
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(part int) {
			defer wg.Done()
			trace.WithRegion(ctx, "fetch", func() {
				partCtx, partTask := trace.NewTask(ctx, "fetch-part")
				trace.Logf(partCtx, "part", "%d", part)
				time.Sleep(time.Duration(part+1) * time.Millisecond)
				partTask.End()
			})
		}(i)
	}
	wg.Wait()
	trace.WithRegion(ctx, "spawn", func() {
		go func() { <-never }()
	})
	job.End()

	unfinishedCtx, _ := trace.NewTask(context.Background(), "unfinished")
	open := trace.StartRegion(unfinishedCtx, "open")
	trace.Log(unfinishedCtx, "state", fmt.Sprint("waiting for ", "stop"))
	time.Sleep(2 * time.Millisecond)

	trace.Stop()
	open.End()
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

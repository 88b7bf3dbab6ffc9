package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"example.com/busyhealthy/console"
	"example.com/leakbed/drive"
)

func newFlags(name string) *flag.FlagSet { return flag.NewFlagSet(name, flag.ExitOnError) }

// phasePlan is what one phase adds: sessions connected and dropped over its duration, and
// healthy requests sent meanwhile.
type phasePlan struct {
	Name          string  `json:"phase"`
	TermConnect   int     `json:"terminals_connected"`
	TermDrop      int     `json:"terminals_disconnected"`
	WatchConnect  int     `json:"watch_streams_connected"`
	WatchDrop     int     `json:"watch_streams_disconnected"`
	Healthy       int     `json:"healthy_requests"`
	Seconds       float64 `json:"seconds"`
	BatchShards   int     `json:"batch_shards"`
	BatchMillis   int     `json:"batch_ms"`
}

var plans = []phasePlan{
	{Name: "before", TermConnect: 16, TermDrop: 4, WatchConnect: 10, WatchDrop: 2, Healthy: 500, Seconds: 6, BatchShards: 10, BatchMillis: 8000},
	{Name: "after", TermConnect: 30, TermDrop: 6, WatchConnect: 20, WatchDrop: 4, Healthy: 1500, Seconds: 12, BatchShards: 10, BatchMillis: 8000},
}

const (
	reportLoops = 4 // report renders kept in flight
	pollLoops   = 6 // long polls kept waiting
)

type session struct {
	kind string // terminal | watch
	id   int
	conn net.Conn
	mu   sync.Mutex
}

func (s *session) send(line string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, err := io.WriteString(s.conn, line)
	return err
}

type driver struct {
	api, terminals string
	client         *http.Client

	mu       sync.Mutex
	live     []*session
	nextID   int
	counts   map[string]int
	failures map[string]int
	quitting bool
}

func (d *driver) note(what string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.quitting {
		return // the server is being stopped: what fails now says nothing
	}
	d.counts[what]++
	if err != nil {
		d.failures[what]++
		if d.failures[what] <= 2 {
			log.Printf("drive: %s: %v", what, err)
		}
	}
}

func (d *driver) connect(kind string) error {
	d.mu.Lock()
	d.nextID++
	id := d.nextID
	d.mu.Unlock()
	s := &session{kind: kind, id: id}
	var err error
	switch kind {
	case "terminal":
		s.conn, err = net.Dial("tcp", d.terminals)
		if err == nil {
			err = s.send(fmt.Sprintf("HELLO desk/%d\n", id%5))
		}
		if err == nil {
			go func() { _, _ = io.Copy(io.Discard, s.conn) }()
		}
	case "watch":
		s.conn, err = net.Dial("tcp", strings.TrimPrefix(d.api, "http://"))
		if err == nil {
			err = s.send(fmt.Sprintf("GET /v1/watch?topic=tenant/%d HTTP/1.1\r\nHost: console\r\nUser-Agent: watch-client\r\n\r\n", id%console.Tenants))
		}
		if err == nil {
			br := bufio.NewReader(s.conn)
			_ = s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			var status string
			status, err = br.ReadString('\n')
			if err == nil && !strings.Contains(status, " 200 ") {
				err = fmt.Errorf("watch: %s", strings.TrimSpace(status))
			}
			for err == nil {
				var line string
				line, err = br.ReadString('\n')
				if strings.TrimSpace(line) == "" {
					break
				}
			}
			_ = s.conn.SetReadDeadline(time.Time{})
			if err == nil {
				go func() { _, _ = io.Copy(io.Discard, br) }()
			}
		}
	}
	d.note("connect:"+kind, err)
	if err != nil {
		if s.conn != nil {
			_ = s.conn.Close()
		}
		return err
	}
	d.mu.Lock()
	d.live = append(d.live, s)
	d.mu.Unlock()
	return nil
}

// drop disconnects a random live session of kind.
func (d *driver) drop(kind string, rng *rand.Rand) bool {
	d.mu.Lock()
	var idx []int
	for i, s := range d.live {
		if s.kind == kind {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		d.mu.Unlock()
		return false
	}
	i := idx[rng.Intn(len(idx))]
	s := d.live[i]
	d.live = append(d.live[:i], d.live[i+1:]...)
	d.mu.Unlock()
	d.note("disconnect:"+kind, s.conn.Close())
	return true
}

func (d *driver) liveCount(kind string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, s := range d.live {
		if s.kind == kind {
			n++
		}
	}
	return n
}

func (d *driver) get(route, method, path string) {
	req, err := http.NewRequest(method, d.api+path, nil)
	if err == nil {
		var resp *http.Response
		resp, err = d.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode >= 500 {
				err = errors.New(resp.Status)
			}
		}
	}
	d.note(route, err)
}

// healthyOne sends one request of the healthy mix, or a line on a live session.
func (d *driver) healthyOne(rng *rand.Rand) {
	switch p := rng.Intn(100); {
	case p < 25:
		d.get("publish", http.MethodPost, fmt.Sprintf("/v1/messages?topic=desk/%d&body=m%d", rng.Intn(5), rng.Intn(1e6)))
	case p < 50:
		d.get("task", http.MethodPost, fmt.Sprintf("/v1/tasks?task=t%d", rng.Intn(1e6)))
	case p < 62:
		d.get("topics", http.MethodGet, "/v1/topics")
	case p < 70:
		d.get("healthz", http.MethodGet, "/healthz")
	default:
		d.mu.Lock()
		var s *session
		if len(d.live) > 0 {
			s = d.live[rng.Intn(len(d.live))]
		}
		d.mu.Unlock()
		if s == nil {
			return
		}
		if s.kind == "terminal" {
			if rng.Intn(2) == 0 {
				d.note("terminal:ping", s.send("PING\n"))
			} else {
				d.note("terminal:say", s.send(fmt.Sprintf("SAY hello-%d\n", rng.Intn(1000))))
			}
		} else {
			d.note("watch:ack", s.send(fmt.Sprintf("ACK %d\n", rng.Intn(1000))))
		}
	}
}

// background keeps reports rendering, long polls waiting and a trickle of healthy requests
// going until ctx ends.
func (d *driver) background(ctx context.Context, wg *sync.WaitGroup) {
	loop := func(f func(ctx context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				f(ctx)
			}
		}()
	}
	doCtx := func(ctx context.Context, route, path string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.api+path, nil)
		if err != nil {
			return
		}
		resp, err := d.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		d.note(route, err)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	for i := 0; i < reportLoops; i++ {
		i := i
		loop(func(ctx context.Context) { doCtx(ctx, "background:report", fmt.Sprintf("/v1/reports/render?id=r%d", i)) })
	}
	for i := 0; i < pollLoops; i++ {
		i := i
		loop(func(ctx context.Context) { doCtx(ctx, "background:poll", fmt.Sprintf("/v1/poll?topic=alerts/%d", i)) })
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewSource(99))
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				switch rng.Intn(3) {
				case 0:
					d.get("background:topics", http.MethodGet, "/v1/topics")
				case 1:
					d.get("background:task", http.MethodPost, fmt.Sprintf("/v1/tasks?task=b%d", rng.Intn(1e6)))
				default:
					d.get("background:healthz", http.MethodGet, "/healthz")
				}
			}
		}
	}()
}

// runPhase connects and drops sessions at random moments over the phase while healthy requests
// go on, so the sessions' goroutines are spread over the id range.
func (d *driver) runPhase(p phasePlan, seed int64) error {
	rng := rand.New(rand.NewSource(seed))
	var actions []string
	for i := 0; i < p.TermConnect; i++ {
		actions = append(actions, "connect:terminal")
	}
	for i := 0; i < p.WatchConnect; i++ {
		actions = append(actions, "connect:watch")
	}
	for i := 0; i < p.TermDrop; i++ {
		actions = append(actions, "drop:terminal")
	}
	for i := 0; i < p.WatchDrop; i++ {
		actions = append(actions, "drop:watch")
	}
	rng.Shuffle(len(actions), func(i, j int) { actions[i], actions[j] = actions[j], actions[i] })
	// A drop needs a live session of its kind: move drops that come too early to later.
	live := map[string]int{"terminal": d.liveCount("terminal"), "watch": d.liveCount("watch")}
	var ordered, deferred []string
	for _, a := range actions {
		kind := a[strings.Index(a, ":")+1:]
		if strings.HasPrefix(a, "drop:") && live[kind] == 0 {
			deferred = append(deferred, a)
			continue
		}
		if strings.HasPrefix(a, "drop:") {
			live[kind]--
		} else {
			live[kind]++
		}
		ordered = append(ordered, a)
	}
	ordered = append(ordered, deferred...)

	dur := time.Duration(p.Seconds * float64(time.Second))
	var wg sync.WaitGroup
	// Healthy requests, paced evenly over the phase, four at a time.
	wg.Add(1)
	go func() {
		defer wg.Done()
		sem := make(chan struct{}, 4)
		var inner sync.WaitGroup
		gap := dur / time.Duration(p.Healthy)
		hr := rand.New(rand.NewSource(seed * 31))
		for i := 0; i < p.Healthy; i++ {
			sem <- struct{}{}
			r := rand.New(rand.NewSource(hr.Int63()))
			inner.Add(1)
			go func() {
				defer inner.Done()
				defer func() { <-sem }()
				d.healthyOne(r)
			}()
			time.Sleep(gap)
		}
		inner.Wait()
	}()
	var err error
	gap := dur / time.Duration(len(ordered)+1)
	for _, a := range ordered {
		time.Sleep(gap/2 + time.Duration(rng.Int63n(int64(gap))))
		kind := a[strings.Index(a, ":")+1:]
		if strings.HasPrefix(a, "connect:") {
			if e := d.connect(kind); e != nil && err == nil {
				err = e
			}
		} else if !d.drop(kind, rng) && err == nil {
			err = fmt.Errorf("no live %s to drop", kind)
		}
	}
	wg.Wait()
	return err
}


func runDriver(args []string) error {
	fs := newFlags("drive")
	scenario := fs.String("scenario", "healthy", "healthy (the only one: this service has no defects)")
	outDir := fs.String("out", "", "directory for the captures (DIR/before, DIR/after, DIR/sigquit.stderr.txt.gz)")
	logDir := fs.String("logs", os.TempDir(), "directory for the server's log")
	_ = fs.Parse(args)
	if *outDir == "" {
		return errors.New("-out is required")
	}
	if *scenario != "healthy" {
		return fmt.Errorf("unknown scenario %q (busyhealthy has only healthy)", *scenario)
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderrFile, err := os.Create(filepath.Join(*outDir, "sigquit.stderr.txt"))
	if err != nil {
		return err
	}
	srv, err := drive.Start(ctx, filepath.Join(*logDir, "busyhealthy-server.log"), stderrFile,
		[]string{"GOTRACEBACK=all"}, self, "serve")
	if err != nil {
		return err
	}
	defer func() { _ = srv.Cmd.Process.Kill() }()
	d := &driver{
		api:       "http://" + drive.Field(srv.First, "api"),
		terminals: drive.Field(srv.First, "terminals"),
		client: &http.Client{Timeout: 30 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 10 * time.Minute}},
		counts:   map[string]int{},
		failures: map[string]int{},
	}
	rec := drive.NewRecorder("http://"+drive.Field(srv.First, "admin"), *outDir, statsPath)
	leakProfile := rec.HasLeakProfile()
	log.Printf("drive: server %s (leak profile: %v)", srv.First, leakProfile)
	time.Sleep(1 * time.Second)

	bgCtx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	var bgWG sync.WaitGroup
	d.background(bgCtx, &bgWG)

	var phases []map[string]any
	for i, p := range plans {
		start := time.Now()
		if err := d.runPhase(p, int64(i+1)); err != nil {
			return fmt.Errorf("phase %s: %w", p.Name, err)
		}
		d.get("batch", http.MethodPost, fmt.Sprintf("/v1/batches?shards=%d&ms=%d", p.BatchShards, p.BatchMillis))
		time.Sleep(1500 * time.Millisecond)
		terms, watches := int64(d.liveCount("terminal")), int64(d.liveCount("watch"))
		want := map[string]int64{
			"terminal.reader": terms, "terminal.writer": terms, "terminal.relay": terms,
			"watch.reader": watches, "watch.pump": watches, "watch.follower": watches,
			"pool.worker": console.PoolWorkers, "queue.consumer": console.QueueConsumers,
			"tenant.clock": console.Tenants, "janitor": 1,
			"batch.coordinator": 1, "batch.shard": int64(p.BatchShards),
		}
		if err := rec.WaitLive(want, 10*time.Second); err != nil {
			return fmt.Errorf("phase %s: %w", p.Name, err)
		}
		if err := rec.Phase(p.Name, leakProfile); err != nil {
			return err
		}
		phases = append(phases, map[string]any{
			"plan": p, "live_terminals": terms, "live_watch_streams": watches,
			"seconds": time.Since(start).Seconds(), "captured_at": time.Now().UTC().Format(time.RFC3339Nano),
		})
		log.Printf("drive: phase %s captured: %d terminals, %d watch streams", p.Name, terms, watches)
	}
	d.mu.Lock()
	d.quitting = true
	d.mu.Unlock()
	if err := rec.Quit(srv, stderrFile); err != nil {
		return err
	}
	stopBackground()
	bgWG.Wait()
	d.mu.Lock()
	counts, failures := d.counts, d.failures
	d.mu.Unlock()
	return rec.WriteManifest(map[string]any{
		"program":           "busyhealthy (sample-traces/generators/busyhealthy)",
		"scenario":          "healthy",
		"driver_go_version": runtime.Version(),
		"server":            srv.First,
		"phases":            phases,
		"requests":          counts,
		"failures":          failures,
		"sigquit":           syscall.SIGQUIT.String(),
	})
}

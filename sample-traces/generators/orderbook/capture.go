package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// phasePlan is how much load one phase adds. The "after" phase adds nine times the "before"
// phase, so the process has seen ten times the load when it is captured.
type phasePlan struct {
	Name        string `json:"phase"`
	LeakCalls   int    `json:"calls_per_defect_route"`
	DuringTrace int    `json:"of_which_during_trace"`
	Healthy     int    `json:"healthy_requests"`
}

var plans = []phasePlan{
	{Name: "before", LeakCalls: 20, DuringTrace: 2, Healthy: 400},
	{Name: "after", LeakCalls: 180, DuringTrace: 20, Healthy: 3600},
}

const (
	traceSeconds  = 3
	stuckPatience = time.Second // how long the driver waits on a call the server never answers
	eodLoops      = 6           // slow valuations kept in flight the whole time
)

// defectRoute is the route that exercises one defect (in the healthy scenario the same route
// runs the corrected code).
type defectRoute struct {
	bug   string
	stuck bool // the server never answers while the defect is on
	build func(base string, i int) (*http.Request, error)
}

var symbols = []string{"ACME", "GLOBX", "INITECH", "UMBRL", "WAYNE", "STARK", "TYRELL", "CYBER"}

var defectRoutes = []defectRoute{
	{bug: "quotes", build: func(base string, i int) (*http.Request, error) {
		return http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/quotes/%s", base, symbols[i%len(symbols)]), nil)
	}},
	{bug: "sessions", build: func(base string, i int) (*http.Request, error) {
		return http.NewRequest(http.MethodPost, fmt.Sprintf("%s/v1/feed/subscribe?acct=acc-%04d", base, i), nil)
	}},
	{bug: "ackcancel", build: func(base string, i int) (*http.Request, error) {
		return http.NewRequest(http.MethodPost, fmt.Sprintf("%s/v1/orders/o-%06d/cancel", base, i+1), nil)
	}},
	{bug: "settlechan", build: func(base string, i int) (*http.Request, error) {
		return http.NewRequest(http.MethodPost, fmt.Sprintf("%s/v1/settlements/st-%06d/confirm", base, i), nil)
	}},
	{bug: "tenantctx", build: func(base string, i int) (*http.Request, error) {
		return http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/accounts/acc-%04d/positions", base, i%97), nil)
	}},
	{bug: "risktransport", build: func(base string, i int) (*http.Request, error) {
		body := fmt.Sprintf(`{"acct":"acc-%04d","sym":"%s","qty":1000,"px":%d}`, i%97, symbols[i%len(symbols)], 5000+i%50)
		req, err := http.NewRequest(http.MethodPost, base+"/v1/orders", strings.NewReader(body))
		if req != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}},
	{bug: "marks", stuck: true, build: func(base string, i int) (*http.Request, error) {
		return http.NewRequest(http.MethodPost, fmt.Sprintf("%s/v1/orders/o-%06d/reprice?sym=%s", base, i+1, symbols[i%len(symbols)]), nil)
	}},
	{bug: "ledger", stuck: true, build: func(base string, i int) (*http.Request, error) {
		return http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/accounts/acc-%04d/balance", base, i%500), nil)
	}},
}

// load sends requests and counts what came back.
type load struct {
	base    string
	normal  *http.Client // keep-alive pool, like a well-behaved client or a load balancer
	patient *http.Client // one connection per call, gives up after stuckPatience
	orders  atomic.Int64 // orders created so far (ids o-000001 up to it exist)

	mu       sync.Mutex
	byRoute  map[string]int
	statuses map[string]map[int]int
	timeouts map[string]int
	errs     map[string]int
}

func newLoad(base string) *load {
	return &load{
		base: base,
		normal: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 10 * time.Minute},
		},
		patient: &http.Client{
			Timeout:   stuckPatience,
			Transport: &http.Transport{DisableKeepAlives: true},
		},
		byRoute:  map[string]int{},
		statuses: map[string]map[int]int{},
		timeouts: map[string]int{},
		errs:     map[string]int{},
	}
}

func (l *load) do(route string, c *http.Client, req *http.Request) {
	resp, err := c.Do(req)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byRoute[route]++
	if err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			l.timeouts[route]++
		} else {
			l.errs[route]++
		}
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if l.statuses[route] == nil {
		l.statuses[route] = map[int]int{}
	}
	l.statuses[route][resp.StatusCode]++
	if resp.StatusCode == http.StatusCreated && (route == "healthy:create" || route == "risktransport") {
		l.orders.Add(1)
	}
}

// defectCalls sends n calls to every defect route (numbered from first), concurrently.
func (l *load) defectCalls(first, n int) {
	var wg sync.WaitGroup
	for _, dr := range defectRoutes {
		sem := make(chan struct{}, 8)
		if dr.stuck {
			sem = make(chan struct{}, n+1) // all at once: each one waits out stuckPatience
		}
		for i := first; i < first+n; i++ {
			req, err := dr.build(l.base, i)
			if err != nil {
				log.Printf("capture: build %s: %v", dr.bug, err)
				continue
			}
			c := l.normal
			if dr.stuck {
				c = l.patient
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				l.do(dr.bug, c, req)
			}()
		}
	}
	wg.Wait()
}

// healthy sends n requests of the healthy mix with 8 workers.
func (l *load) healthy(n int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	type job struct {
		route string
		req   *http.Request
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				l.do(j.route, l.normal, j.req)
			}
		}()
	}
	for range n {
		route, req := l.healthyRequest(rng)
		if req != nil {
			jobs <- job{route, req}
		}
	}
	close(jobs)
	wg.Wait()
}

func (l *load) healthyRequest(rng *rand.Rand) (string, *http.Request) {
	sym := symbols[rng.IntN(len(symbols))]
	acct := fmt.Sprintf("acc-%04d", rng.IntN(97))
	var (
		route string
		req   *http.Request
		err   error
	)
	switch p := rng.IntN(100); {
	case p < 35:
		route = "healthy:create"
		body := fmt.Sprintf(`{"acct":%q,"sym":%q,"qty":%d,"px":%d}`, acct, sym, 1+rng.IntN(50), 9900+rng.IntN(200))
		req, err = http.NewRequest(http.MethodPost, l.base+"/v1/orders", strings.NewReader(body))
		if req != nil {
			req.Header.Set("Content-Type", "application/json")
		}
	case p < 60:
		route = "healthy:get"
		id := int64(1)
		if n := l.orders.Load(); n > 0 {
			id = 1 + rng.Int64N(n)
		}
		req, err = http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/orders/o-%06d", l.base, id), nil)
	case p < 80:
		route = "healthy:book"
		req, err = http.NewRequest(http.MethodGet, l.base+"/v1/book/"+sym, nil)
	case p < 95:
		route = "healthy:valuation"
		req, err = http.NewRequest(http.MethodGet, l.base+"/v1/accounts/"+acct+"/valuation", nil)
	default:
		route = "healthy:healthz"
		req, err = http.NewRequest(http.MethodGet, l.base+"/healthz", nil)
	}
	if err != nil {
		log.Printf("capture: build %s: %v", route, err)
		return route, nil
	}
	return route, req
}

// background keeps slow valuations in flight and a trickle of healthy traffic going until ctx
// ends: what any capture of a live server also catches.
func (l *load) background(ctx context.Context, wg *sync.WaitGroup) {
	for i := range eodLoops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet,
					fmt.Sprintf("%s/v1/accounts/acc-%04d/valuation?horizon=eod", l.base, 900+i), nil)
				if err != nil {
					return
				}
				l.do("background:eod-valuation", l.normal, req)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(99, 1))
		t := time.NewTicker(25 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				route, req := l.healthyRequest(rng)
				if req != nil {
					l.do("background:"+strings.TrimPrefix(route, "healthy:"), l.normal, req.WithContext(ctx))
				}
			}
		}
	}()
}

func (l *load) summary() map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	statuses := map[string]map[string]int{}
	for r, m := range l.statuses {
		statuses[r] = map[string]int{}
		for code, n := range m {
			statuses[r][fmt.Sprint(code)] = n
		}
	}
	return map[string]any{
		"requests_by_route": copyMap(l.byRoute),
		"statuses":          statuses,
		"timeouts":          copyMap(l.timeouts),
		"errors":            copyMap(l.errs),
	}
}

func copyMap(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// child is a started child process and the first line it printed.
type child struct {
	cmd   *exec.Cmd
	first string
	done  chan error
}

func startChild(ctx context.Context, logPath string, stderr io.Writer, env []string, name string, args ...string) (*child, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = logFile.Close()
		return nil, fmt.Errorf("%s %v: no startup line: %w", name, args, err)
	}
	c.first = strings.TrimSpace(line)
	_, _ = logFile.WriteString(line)
	go func() {
		_, _ = io.Copy(logFile, br)
		_ = logFile.Close()
		c.done <- cmd.Wait()
	}()
	return c, nil
}

func field(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

type fetched struct {
	Path      string  `json:"path"`
	URL       string  `json:"url,omitempty"`
	Source    string  `json:"source,omitempty"`
	Bytes     int     `json:"bytes"`
	FetchedAt string  `json:"fetched_at,omitempty"`
	Seconds   float64 `json:"fetch_seconds,omitempty"`
}

func capture(args []string) error {
	fs := flag.NewFlagSet("capture", flag.ExitOnError)
	scenario := fs.String("scenario", "leaky", "leaky (every defect on) or healthy (every defect off)")
	bugs := fs.String("bugs", "", "override the defects switched on (see serve -bugs)")
	outDir := fs.String("out", "", "directory for the captures")
	logDir := fs.String("logs", os.TempDir(), "directory for the children's logs")
	_ = fs.Parse(args)
	if *outDir == "" {
		return errors.New("-out is required")
	}
	bugList := *bugs
	if bugList == "" {
		switch *scenario {
		case "leaky":
			bugList = "all"
		case "healthy":
			bugList = "none"
		default:
			return fmt.Errorf("unknown scenario %q", *scenario)
		}
	}
	for _, p := range plans {
		if err := os.MkdirAll(filepath.Join(*outDir, p.Name), 0o755); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	up, err := startChild(ctx, filepath.Join(*logDir, "orderbook-upstream-"+*scenario+".log"), os.Stderr, nil,
		self, "upstream", "-listen", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer func() { _ = up.cmd.Process.Signal(syscall.SIGTERM) }()
	upstreamURL := "http://" + field(up.first, "upstream")

	sigquitPath := filepath.Join(*outDir, "sigquit.stderr.txt")
	stderrFile, err := os.Create(sigquitPath)
	if err != nil {
		return err
	}
	defer stderrFile.Close()
	srv, err := startChild(ctx, filepath.Join(*logDir, "orderbook-server-"+*scenario+".log"), stderrFile,
		[]string{"GOTRACEBACK=all"}, self, "serve", "-bugs", bugList, "-upstream", upstreamURL)
	if err != nil {
		return err
	}
	defer func() { _ = srv.cmd.Process.Kill() }()
	api := "http://" + field(srv.first, "api")
	admin := "http://" + field(srv.first, "admin")
	log.Printf("capture: scenario=%s bugs=%s server %s (admin %s), upstream %s", *scenario, bugList, api, admin, upstreamURL)

	l := newLoad(api)
	adminClient := &http.Client{Timeout: 60 * time.Second}
	var files []fetched
	get := func(rel, path string) error {
		start := time.Now()
		resp, err := adminClient.Get(admin + rel)
		if err != nil {
			return fmt.Errorf("GET %s: %w", rel, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("GET %s: %w", rel, err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %s", rel, resp.Status, bytes.TrimSpace(body))
		}
		if err := os.WriteFile(filepath.Join(*outDir, path), body, 0o644); err != nil {
			return err
		}
		files = append(files, fetched{Path: path, URL: rel, Bytes: len(body),
			FetchedAt: start.UTC().Format(time.RFC3339Nano), Seconds: time.Since(start).Seconds()})
		return nil
	}

	// Let the service settle: the first ledger compaction runs after a second (and, with the
	// ledger defect, gets stuck holding the lock).
	time.Sleep(2500 * time.Millisecond)
	bgCtx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	var bgWG sync.WaitGroup
	l.background(bgCtx, &bgWG)

	var phases []map[string]any
	sent := 0
	for pi, p := range plans {
		start := time.Now()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); l.healthy(p.Healthy, uint64(pi+1)) }()
		go func() { defer wg.Done(); l.defectCalls(sent, p.LeakCalls-p.DuringTrace) }()
		wg.Wait()
		// Late venues answer after 400ms; stuck calls are given up after stuckPatience.
		time.Sleep(1500 * time.Millisecond)

		traceErr := make(chan error, 1)
		go func() {
			traceErr <- get(fmt.Sprintf("/debug/pprof/trace?seconds=%d", traceSeconds), p.Name+"/exec.trace")
		}()
		time.Sleep(500 * time.Millisecond)
		l.defectCalls(sent+p.LeakCalls-p.DuringTrace, p.DuringTrace)
		if err := <-traceErr; err != nil {
			return err
		}
		sent += p.LeakCalls
		time.Sleep(500 * time.Millisecond)

		for _, f := range []struct{ url, path string }{
			{"/debug/orderbook/stats", "stats.json"},
			{"/debug/pprof/goroutine?debug=0", "goroutine.pb.gz"},
			{"/debug/pprof/goroutine?debug=1", "goroutine.debug1.txt"},
			{"/debug/pprof/goroutine?debug=2", "goroutine.debug2.txt"},
			{"/debug/pprof/goroutineleak?debug=0", "goroutineleak.pb.gz"},
			{"/debug/pprof/goroutineleak?debug=1", "goroutineleak.debug1.txt"},
			// Right after the leak check: leaked goroutines carry "(leaked)" in their header.
			{"/debug/pprof/goroutine?debug=2", "goroutine.debug2.leakmarked.txt"},
			{"/debug/orderbook/stats", "stats.end.json"},
		} {
			if err := get(f.url, p.Name+"/"+f.path); err != nil {
				return err
			}
		}
		phases = append(phases, map[string]any{
			"plan":             p,
			"cumulative_calls": sent,
			"load_seconds":     time.Since(start).Seconds(),
			"load_after_phase": l.summary(),
			"captured_at":      time.Now().UTC().Format(time.RFC3339Nano),
			"defect_routes":    defectRouteNames(),
		})
		log.Printf("capture: phase %s done (%d calls per defect route so far)", p.Name, sent)
	}

	upStats := map[string]any{}
	if resp, err := adminClient.Get(upstreamURL + "/stats"); err == nil {
		_ = json.NewDecoder(resp.Body).Decode(&upStats)
		_ = resp.Body.Close()
	}

	// The SIGQUIT dump is taken with the background load still running, as in production.
	if err := srv.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		return err
	}
	select {
	case <-srv.done:
	case <-time.After(15 * time.Second):
		return errors.New("server did not exit after SIGQUIT")
	}
	stopBackground()
	bgWG.Wait()
	if st, err := os.Stat(sigquitPath); err == nil {
		files = append(files, fetched{Path: "sigquit.stderr.txt", Source: "SIGQUIT to the server, GOTRACEBACK=all, its stderr", Bytes: int(st.Size())})
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	manifest := map[string]any{
		"program":           "orderbook (sample-traces/generators/orderbook)",
		"scenario":          *scenario,
		"bugs":              bugList,
		"driver_go_version": runtime.Version(),
		"server":            srv.first,
		"upstream":          up.first,
		"upstream_stats":    upStats,
		"phases":            phases,
		"load_total":        l.summary(),
		"files":             files,
	}
	b, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*outDir, "capture.json"), append(b, '\n'), 0o644)
}

func defectRouteNames() []string {
	out := make([]string, len(defectRoutes))
	for i, d := range defectRoutes {
		out[i] = d.bug
	}
	return out
}

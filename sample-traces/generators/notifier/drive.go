package main

import (
	"bufio"
	"context"
	"encoding/json"
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

	"example.com/leakbed/drive"
	"example.com/notifier/dispatch"
)

// defectRoutes in the order of README.md; perCall is how many goroutines one call leaks.
var defectRoutes = []struct {
	bug     string
	perCall int64
	tally   string
}{
	{"fanout", 2, "resolver.probe"},
	{"unsubscribe", 1, "inbox.orphaned"},
	{"waitgroup", 1, "digest.publish"},
	{"producer", 1, "history.replay"},
	{"watcher", 1, "receipts.watch"},
	{"outbound", 1, "hooks.pinging"},
	{"retry", 1, "sms.retry"},
}

// phasePlan is what one phase adds.
type phasePlan struct {
	Name        string         `json:"phase"`
	Calls       map[string]int `json:"calls_per_defect_route"`
	AgentsIn    int            `json:"agents_connected"`
	AgentsOut   int            `json:"agents_disconnected"`
	LiveStreams int            `json:"inbox_streams_opened_and_kept"`
	Healthy     int            `json:"healthy_requests"`
	Seconds     float64        `json:"seconds"`
}

var plans = []phasePlan{
	{Name: "before", Calls: map[string]int{"fanout": 8, "unsubscribe": 12, "waitgroup": 10, "producer": 14, "watcher": 20, "outbound": 11, "retry": 18},
		AgentsIn: 13, AgentsOut: 3, LiveStreams: 4, Healthy: 400, Seconds: 7},
	{Name: "after", Calls: map[string]int{"fanout": 22, "unsubscribe": 36, "waitgroup": 30, "producer": 56, "watcher": 80, "outbound": 33, "retry": 72},
		AgentsIn: 20, AgentsOut: 5, LiveStreams: 2, Healthy: 1200, Seconds: 14},
}

const stuckPatience = time.Second // how long the driver waits for a call the server never answers

type agent struct {
	conn net.Conn
	mu   sync.Mutex
}

func (a *agent) send(line string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_ = a.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, err := io.WriteString(a.conn, line)
	return err
}

type driver struct {
	api, agentsAddr string
	normal          *http.Client // keep-alive pool (or one connection per request: leaky-close)
	patient         *http.Client // gives up after stuckPatience
	streaming       *http.Client // no timeout: inbox streams

	mu        sync.Mutex
	agents    []*agent
	streams   []context.CancelFunc
	seq       map[string]int
	counts    map[string]int
	failures  map[string]int
	statuses  map[string]map[int]int
	quitting  bool
}

func (d *driver) next(key string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq[key]++
	return d.seq[key]
}

func (d *driver) note(what string, status int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.quitting {
		return
	}
	d.counts[what]++
	if status != 0 {
		if d.statuses[what] == nil {
			d.statuses[what] = map[int]int{}
		}
		d.statuses[what][status]++
	}
	if err != nil {
		d.failures[what]++
		if d.failures[what] <= 2 {
			log.Printf("drive: %s: %v", what, err)
		}
	}
}

// call sends one request and returns the body.
func (d *driver) call(what string, c *http.Client, method, path string) (string, error) {
	req, err := http.NewRequest(method, d.api+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		d.note(what, 0, err)
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	d.note(what, resp.StatusCode, nil)
	return string(body), nil
}

// defect makes one call to the route of bug.
func (d *driver) defect(bug string) {
	n := d.next(bug)
	switch bug {
	case "fanout":
		_, _ = d.call(bug, d.normal, http.MethodGet, fmt.Sprintf("/v1/route?user=u%05d", n))
	case "unsubscribe":
		// Open the stream, read its first line, leave.
		ctx, cancel := context.WithCancel(context.Background())
		err := d.openStream(ctx, fmt.Sprintf("gone-%05d", n))
		cancel()
		d.note(bug, 0, err)
	case "waitgroup":
		_, _ = d.call(bug, d.normal, http.MethodPost, fmt.Sprintf("/v1/digests?user=u%05d", n))
	case "producer":
		_, _ = d.call(bug, d.normal, http.MethodGet, fmt.Sprintf("/v1/history?user=u%05d&limit=3", n))
	case "watcher":
		_, _ = d.call(bug, d.normal, http.MethodPost, fmt.Sprintf("/v1/deliveries?user=u%05d", n))
	case "outbound":
		_, _ = d.call(bug, d.patient, http.MethodPost, fmt.Sprintf("/v1/webhooks/test?hook=h%05d", n))
	case "retry":
		_, _ = d.call(bug, d.normal, http.MethodPost, fmt.Sprintf("/v1/sms?to=%%2B1555%07d&text=code+%d", n, n))
	}
}

// openStream opens an inbox stream and waits for its first line; the stream lasts until ctx ends.
func (d *driver) openStream(ctx context.Context, user string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.api+"/v1/inbox/stream?user="+user, nil)
	if err != nil {
		return err
	}
	resp, err := d.streaming.Do(req)
	if err != nil {
		return err
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil {
		_ = resp.Body.Close()
		return err
	}
	if !strings.HasPrefix(line, "hello ") {
		_ = resp.Body.Close()
		return fmt.Errorf("stream: %q", line)
	}
	go func() {
		_, _ = io.Copy(io.Discard, br)
		_ = resp.Body.Close()
	}()
	return nil
}

func (d *driver) keepStream() error {
	n := d.next("live-stream")
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.openStream(ctx, fmt.Sprintf("live-%d", n)); err != nil {
		cancel()
		return err
	}
	d.mu.Lock()
	d.streams = append(d.streams, cancel)
	d.mu.Unlock()
	return nil
}

func (d *driver) connectAgent() error {
	n := d.next("agent")
	c, err := net.Dial("tcp", d.agentsAddr)
	if err != nil {
		return err
	}
	a := &agent{conn: c}
	if err := a.send(fmt.Sprintf("AGENT t%02d\n", n%dispatch.QuotaClocks)); err != nil {
		_ = c.Close()
		return err
	}
	go func() { _, _ = io.Copy(io.Discard, c) }()
	d.mu.Lock()
	d.agents = append(d.agents, a)
	d.mu.Unlock()
	return nil
}

func (d *driver) dropAgent(rng *rand.Rand) bool {
	d.mu.Lock()
	if len(d.agents) == 0 {
		d.mu.Unlock()
		return false
	}
	i := rng.Intn(len(d.agents))
	a := d.agents[i]
	d.agents = append(d.agents[:i], d.agents[i+1:]...)
	d.mu.Unlock()
	_ = a.conn.Close()
	return true
}

func (d *driver) liveAgents() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.agents)
}

func (d *driver) liveStreams() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.streams)
}

// healthyOne sends one request of the healthy mix (none of them leaks, defects on or off).
func (d *driver) healthyOne(rng *rand.Rand, prefix string) {
	user := fmt.Sprintf("u%05d", rng.Intn(5000))
	switch p := rng.Intn(100); {
	case p < 22:
		_, _ = d.call(prefix+"notify", d.normal, http.MethodPost, fmt.Sprintf("/v1/notify?user=%s&text=hi", user))
	case p < 34:
		live := d.liveStreams()
		if live > 0 {
			_, _ = d.call(prefix+"inbox-notify", d.normal, http.MethodPost, fmt.Sprintf("/v1/inbox/notify?user=live-%d&text=ping", 1+rng.Intn(live)))
		}
	case p < 46:
		id, err := d.call(prefix+"delivery+receipt", d.normal, http.MethodPost, "/v1/deliveries?user="+user)
		if err == nil {
			_, _ = d.call(prefix+"receipt", d.normal, http.MethodPost, "/v1/receipts?id="+strings.TrimSpace(id))
		}
	case p < 56:
		_, _ = d.call(prefix+"history-all", d.normal, http.MethodGet, "/v1/history?limit=0&user="+user)
	case p < 68:
		_, _ = d.call(prefix+"outbox", d.normal, http.MethodPost, "/v1/outbox?line=audit-"+user)
	case p < 84:
		_, _ = d.call(prefix+"prefs", d.normal, http.MethodGet, "/v1/prefs?user="+user)
	case p < 90:
		_, _ = d.call(prefix+"healthz", d.normal, http.MethodGet, "/healthz")
	default:
		d.mu.Lock()
		var a *agent
		if len(d.agents) > 0 {
			a = d.agents[rng.Intn(len(d.agents))]
		}
		d.mu.Unlock()
		if a != nil {
			if rng.Intn(2) == 0 {
				d.note(prefix+"agent-take", 0, a.send(fmt.Sprintf("TAKE %d\n", rng.Intn(1e6))))
			} else {
				d.note(prefix+"agent-note", 0, a.send("NOTE called back\n"))
			}
		}
	}
}

// background is a trickle of healthy requests until ctx ends.
func (d *driver) background(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewSource(77))
		t := time.NewTicker(150 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				d.healthyOne(rng, "background:")
			}
		}
	}()
}

// runPhase interleaves the phase's defect calls, healthy requests, agent connects and drops
// and live inbox streams at random moments over the phase.
func (d *driver) runPhase(p phasePlan, seed int64) error {
	rng := rand.New(rand.NewSource(seed))
	var events []string
	for _, r := range defectRoutes {
		for i := 0; i < p.Calls[r.bug]; i++ {
			events = append(events, "defect:"+r.bug)
		}
	}
	for i := 0; i < p.Healthy; i++ {
		events = append(events, "healthy")
	}
	for i := 0; i < p.AgentsIn; i++ {
		events = append(events, "agent:connect")
	}
	for i := 0; i < p.AgentsOut; i++ {
		events = append(events, "agent:drop")
	}
	for i := 0; i < p.LiveStreams; i++ {
		events = append(events, "stream:keep")
	}
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	live := d.liveAgents()
	var ordered, deferred []string
	for _, e := range events {
		switch {
		case e == "agent:drop" && live == 0:
			deferred = append(deferred, e)
			continue
		case e == "agent:drop":
			live--
		case e == "agent:connect":
			live++
		}
		ordered = append(ordered, e)
	}
	ordered = append(ordered, deferred...)

	gap := time.Duration(p.Seconds * float64(time.Second) / float64(len(ordered)))
	sem := make(chan struct{}, 24)
	var wg sync.WaitGroup
	var firstErr error
	for _, e := range ordered {
		time.Sleep(gap)
		switch {
		case e == "agent:connect":
			if err := d.connectAgent(); err != nil && firstErr == nil {
				firstErr = err
			}
		case e == "agent:drop":
			if !d.dropAgent(rng) && firstErr == nil {
				firstErr = errors.New("no agent to drop")
			}
		case e == "stream:keep":
			if err := d.keepStream(); err != nil && firstErr == nil {
				firstErr = err
			}
		default:
			r := rand.New(rand.NewSource(rng.Int63()))
			sem <- struct{}{}
			wg.Add(1)
			go func(e string) {
				defer wg.Done()
				defer func() { <-sem }()
				if strings.HasPrefix(e, "defect:") {
					d.defect(strings.TrimPrefix(e, "defect:"))
				} else {
					d.healthyOne(r, "")
				}
			}(e)
		}
	}
	wg.Wait()
	return firstErr
}

func runDriver(args []string) error {
	fs := flag.NewFlagSet("drive", flag.ExitOnError)
	scenario := fs.String("scenario", "leaky", "leaky (-bugs all, keep-alive client), healthy (-bugs none), leaky-close (-bugs all, a connection per request)")
	outDir := fs.String("out", "", "directory for the captures")
	logDir := fs.String("logs", os.TempDir(), "directory for the children's logs")
	_ = fs.Parse(args)
	if *outDir == "" {
		return errors.New("-out is required")
	}
	bugs, keepAlive := "all", true
	switch *scenario {
	case "leaky":
	case "healthy":
		bugs = "none"
	case "leaky-close":
		keepAlive = false
	default:
		return fmt.Errorf("unknown scenario %q", *scenario)
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
	up, err := drive.Start(ctx, filepath.Join(*logDir, "notifier-upstream-"+*scenario+".log"), os.Stderr, nil, self, "upstream")
	if err != nil {
		return err
	}
	defer func() { _ = up.Cmd.Process.Signal(syscall.SIGTERM) }()
	upstreamURL := "http://" + drive.Field(up.First, "upstream")
	stderrFile, err := os.Create(filepath.Join(*outDir, "sigquit.stderr.txt"))
	if err != nil {
		return err
	}
	srv, err := drive.Start(ctx, filepath.Join(*logDir, "notifier-server-"+*scenario+".log"), stderrFile,
		[]string{"GOTRACEBACK=all"}, self, "serve", "-bugs", bugs, "-upstream", upstreamURL)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Cmd.Process.Kill() }()

	transport := func() *http.Transport {
		return &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 10 * time.Minute, DisableKeepAlives: !keepAlive}
	}
	d := &driver{
		api:        "http://" + drive.Field(srv.First, "api"),
		agentsAddr: drive.Field(srv.First, "agents"),
		normal:     &http.Client{Timeout: 10 * time.Second, Transport: transport()},
		patient:    &http.Client{Timeout: stuckPatience, Transport: transport()},
		streaming:  &http.Client{Transport: transport()},
		seq:        map[string]int{},
		counts:     map[string]int{},
		failures:   map[string]int{},
		statuses:   map[string]map[int]int{},
	}
	rec := drive.NewRecorder("http://"+drive.Field(srv.First, "admin"), *outDir, statsPath)
	leakProfile := rec.HasLeakProfile()
	log.Printf("drive: scenario %s: server %s, upstream %s (leak profile: %v)", *scenario, srv.First, upstreamURL, leakProfile)
	time.Sleep(time.Second)

	bgCtx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	var bgWG sync.WaitGroup
	d.background(bgCtx, &bgWG)

	cumulative := map[string]int{}
	var phases []map[string]any
	for i, p := range plans {
		start := time.Now()
		if err := d.runPhase(p, int64(100+i)); err != nil {
			return fmt.Errorf("phase %s: %w", p.Name, err)
		}
		for k, v := range p.Calls {
			cumulative[k] += v
		}
		// Late probes answer within 80 ms, stuck calls are given up after a second, the
		// corrected code's watchers and retries end within a second.
		time.Sleep(1500 * time.Millisecond)
		agents, streams := int64(d.liveAgents()), int64(d.liveStreams())
		want := map[string]int64{
			"agent.reader": agents, "agent.writer": agents, "agent.subscriber": agents,
			"inbox.stream": streams, "deliverer.worker": dispatch.Deliverers,
			"outbox.drainer": dispatch.OutboxDrain, "quota.clock": dispatch.QuotaClocks,
		}
		orphans := int64(0)
		for _, r := range defectRoutes {
			n := int64(0)
			if bugs == "all" {
				n = r.perCall * int64(cumulative[r.bug])
			}
			want[r.tally] = n
			if r.bug == "unsubscribe" {
				orphans = n
			}
		}
		want["inbox.deliver"] = streams + orphans
		if err := rec.WaitLive(want, 10*time.Second); err != nil {
			return fmt.Errorf("phase %s: %w", p.Name, err)
		}
		if err := rec.Phase(p.Name, leakProfile); err != nil {
			return err
		}
		phases = append(phases, map[string]any{"plan": p, "cumulative_calls": copyMap(cumulative),
			"live_agents": agents, "live_inbox_streams": streams, "expected_tallies": want,
			"seconds": time.Since(start).Seconds(), "captured_at": time.Now().UTC().Format(time.RFC3339Nano)})
		log.Printf("drive: phase %s captured (%d agents, %d live streams)", p.Name, agents, streams)
	}
	upStats := map[string]any{}
	if resp, err := http.Get(upstreamURL + "/stats"); err == nil {
		_ = json.NewDecoder(resp.Body).Decode(&upStats)
		_ = resp.Body.Close()
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
	defer d.mu.Unlock()
	statuses := map[string]map[string]int{}
	for r, m := range d.statuses {
		statuses[r] = map[string]int{}
		for code, n := range m {
			statuses[r][fmt.Sprint(code)] = n
		}
	}
	return rec.WriteManifest(map[string]any{
		"program":           "notifier (sample-traces/generators/notifier)",
		"scenario":          *scenario,
		"bugs":              bugs,
		"client_keep_alive": keepAlive,
		"driver_go_version": runtime.Version(),
		"server":            srv.First,
		"upstream":          up.First,
		"upstream_stats":    upStats,
		"phases":            phases,
		"requests":          d.counts,
		"statuses":          statuses,
		"failures":          d.failures,
	})
}

func copyMap(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

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
	"time"

	"example.com/leakbed/drive"
)

// defectRoutes: the tally that counts what one call leaks.
var defectRoutes = []struct{ bug, tally string }{
	{"ticker", "lease.keeper"},
	{"applier", "changeset.apply"},
	{"writepump", "peer.orphaned"},
	{"cond", "snapshot.await"},
	{"timer", "verify.waiter"},
	{"mutex", "compact.commit"},
}

type phasePlan struct {
	Name        string         `json:"phase"`
	Calls       map[string]int `json:"calls_per_defect_route"`
	LivePeers   int            `json:"replicas_attached_and_kept"`
	Healthy     int            `json:"healthy_requests"`
	Seconds     float64        `json:"seconds"`
	ResyncShard int            `json:"resync_shards"`
	ResyncMs    int            `json:"resync_ms"`
}

var plans = []phasePlan{
	{Name: "before", Calls: map[string]int{"ticker": 13, "applier": 22, "writepump": 15, "cond": 10, "timer": 17, "mutex": 12},
		LivePeers: 8, Healthy: 400, Seconds: 7, ResyncShard: 8, ResyncMs: 8000},
	{Name: "after", Calls: map[string]int{"ticker": 39, "applier": 88, "writepump": 45, "cond": 35, "timer": 68, "mutex": 54},
		LivePeers: 12, Healthy: 1200, Seconds: 14, ResyncShard: 8, ResyncMs: 8000},
}

type replica struct {
	conn net.Conn
	mu   sync.Mutex
}

func (rp *replica) send(line string) error {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	_ = rp.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, err := io.WriteString(rp.conn, line)
	return err
}

type driver struct {
	api    string
	client *http.Client

	mu       sync.Mutex
	live     []*replica
	seq      map[string]int
	counts   map[string]int
	statuses map[string]map[int]int
	failures map[string]int
	quitting bool
}

func (d *driver) next(k string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq[k]++
	return d.seq[k]
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

func (d *driver) post(what, path string) {
	d.do(what, http.MethodPost, path)
}

func (d *driver) do(what, method, path string) {
	req, err := http.NewRequest(method, d.api+path, nil)
	if err != nil {
		d.note(what, 0, err)
		return
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.note(what, 0, err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	d.note(what, resp.StatusCode, nil)
}

// attach connects a replica (an upgraded HTTP connection).
func (d *driver) attach(name string) (*replica, error) {
	c, err := net.Dial("tcp", strings.TrimPrefix(d.api, "http://"))
	if err != nil {
		return nil, err
	}
	rp := &replica{conn: c}
	if err := rp.send(fmt.Sprintf("GET /v1/attach?replica=%s HTTP/1.1\r\nHost: syncer\r\nUpgrade: sync/1\r\nConnection: Upgrade\r\n\r\n", name)); err != nil {
		_ = c.Close()
		return nil, err
	}
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	status, err := br.ReadString('\n')
	if err == nil && !strings.Contains(status, " 101 ") {
		err = fmt.Errorf("attach: %s", strings.TrimSpace(status))
	}
	for err == nil {
		var line string
		line, err = br.ReadString('\n')
		if strings.TrimSpace(line) == "" {
			break
		}
	}
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = c.SetReadDeadline(time.Time{})
	go func() { _, _ = io.Copy(io.Discard, br) }()
	return rp, nil
}

func (d *driver) defect(bug string, rng *rand.Rand) {
	n := d.next(bug)
	switch bug {
	case "ticker":
		d.post(bug, fmt.Sprintf("/v1/leases?holder=h%05d", n))
	case "applier":
		d.post(bug, fmt.Sprintf("/v1/changesets?ops=%d&v=x%d", 3+n%5, n))
	case "writepump":
		// A replica that attaches, sends a frame or two and goes away.
		rp, err := d.attach(fmt.Sprintf("gone-%05d", n))
		if err == nil {
			err = rp.send("HELLO\n")
			time.Sleep(time.Duration(50+rng.Intn(250)) * time.Millisecond)
			_ = rp.conn.Close()
		}
		d.note(bug, 0, err)
	case "cond":
		d.post(bug, fmt.Sprintf("/v1/snapshots?table=t%05d", n))
	case "timer":
		d.post(bug, fmt.Sprintf("/v1/checkpoints/verify?cp=cp-%05d", n))
	case "mutex":
		d.post(bug, fmt.Sprintf("/v1/jobs/compact?job=j%05d", n))
	}
}

func (d *driver) keepReplica() error {
	rp, err := d.attach(fmt.Sprintf("live-%d", d.next("live")))
	d.note("replica:live", 0, err)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.live = append(d.live, rp)
	d.mu.Unlock()
	return nil
}

func (d *driver) liveReplicas() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.live)
}

func (d *driver) healthyOne(rng *rand.Rand, prefix string) {
	switch p := rng.Intn(100); {
	case p < 30:
		d.post(prefix+"journal", fmt.Sprintf("/v1/journal?line=l%d", rng.Intn(1e6)))
	case p < 50:
		d.do(prefix+"status", http.MethodGet, "/v1/status")
	case p < 62:
		d.do(prefix+"healthz", http.MethodGet, "/healthz")
	case p < 75:
		// A full (uncached) verification always answers its waiter.
		d.post(prefix+"verify-full", fmt.Sprintf("/v1/checkpoints/verify?cp=full-%d", rng.Intn(1e6)))
	default:
		d.mu.Lock()
		var rp *replica
		if len(d.live) > 0 {
			rp = d.live[rng.Intn(len(d.live))]
		}
		d.mu.Unlock()
		if rp != nil {
			d.note(prefix+"replica:ack", 0, rp.send(fmt.Sprintf("ACK %d\n", rng.Intn(1e6))))
		}
	}
}

func (d *driver) background(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewSource(55))
		t := time.NewTicker(120 * time.Millisecond)
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

func (d *driver) runPhase(p phasePlan, seed int64) {
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
	for i := 0; i < p.LivePeers; i++ {
		events = append(events, "replica:live")
	}
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	gap := time.Duration(p.Seconds * float64(time.Second) / float64(len(events)))
	sem := make(chan struct{}, 24)
	var wg sync.WaitGroup
	for _, e := range events {
		time.Sleep(gap)
		r := rand.New(rand.NewSource(rng.Int63()))
		if e == "replica:live" {
			_ = d.keepReplica()
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(e string) {
			defer wg.Done()
			defer func() { <-sem }()
			if strings.HasPrefix(e, "defect:") {
				d.defect(strings.TrimPrefix(e, "defect:"), r)
			} else {
				d.healthyOne(r, "")
			}
		}(e)
	}
	wg.Wait()
}

func runDriver(args []string) error {
	fs := flag.NewFlagSet("drive", flag.ExitOnError)
	scenario := fs.String("scenario", "leaky", "leaky (-bugs all) or healthy (-bugs none)")
	outDir := fs.String("out", "", "directory for the captures")
	logDir := fs.String("logs", os.TempDir(), "directory for the server's log")
	_ = fs.Parse(args)
	if *outDir == "" {
		return errors.New("-out is required")
	}
	bugs := map[string]string{"leaky": "all", "healthy": "none"}[*scenario]
	if bugs == "" {
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
	stderrFile, err := os.Create(filepath.Join(*outDir, "sigquit.stderr.txt"))
	if err != nil {
		return err
	}
	srv, err := drive.Start(ctx, filepath.Join(*logDir, "syncer-server-"+*scenario+".log"), stderrFile,
		[]string{"GOTRACEBACK=all"}, self, "serve", "-bugs", bugs)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Cmd.Process.Kill() }()
	d := &driver{
		api:      "http://" + drive.Field(srv.First, "api"),
		client:   &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 10 * time.Minute}},
		seq:      map[string]int{},
		counts:   map[string]int{},
		statuses: map[string]map[int]int{},
		failures: map[string]int{},
	}
	rec := drive.NewRecorder("http://"+drive.Field(srv.First, "admin"), *outDir, statsPath)
	leakProfile := rec.HasLeakProfile()
	log.Printf("drive: scenario %s: server %s (leak profile: %v)", *scenario, srv.First, leakProfile)
	time.Sleep(time.Second)
	bgCtx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	var bgWG sync.WaitGroup
	d.background(bgCtx, &bgWG)

	cumulative := map[string]int{}
	var phases []map[string]any
	for i, p := range plans {
		start := time.Now()
		d.runPhase(p, int64(200+i))
		for k, v := range p.Calls {
			cumulative[k] += v
		}
		d.post("resync", fmt.Sprintf("/v1/resync?shards=%d&ms=%d", p.ResyncShard, p.ResyncMs))
		time.Sleep(1500 * time.Millisecond)
		live := int64(d.liveReplicas())
		want := map[string]int64{
			"peer.reader": live, "ship.worker": shipWorkers, "journal.drainer": journalDrains,
			"namespace.heartbeat": namespaces, "resync.coordinator": 1, "resync.shard": int64(p.ResyncShard),
		}
		for _, r := range defectRoutes {
			n := int64(0)
			if bugs == "all" {
				n = int64(cumulative[r.bug])
			}
			want[r.tally] = n
		}
		want["peer.pump"] = live + want["peer.orphaned"]
		if err := rec.WaitLive(want, 10*time.Second); err != nil {
			return fmt.Errorf("phase %s: %w", p.Name, err)
		}
		if err := rec.Phase(p.Name, leakProfile); err != nil {
			return err
		}
		phases = append(phases, map[string]any{"plan": p, "cumulative_calls": cumulative, "live_replicas": live,
			"expected_tallies": want, "seconds": time.Since(start).Seconds(),
			"captured_at": time.Now().UTC().Format(time.RFC3339Nano)})
		cumulative = copyMap(cumulative)
		log.Printf("drive: phase %s captured (%d live replicas)", p.Name, live)
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
		"program":           "syncer (sample-traces/generators/syncer)",
		"scenario":          *scenario,
		"bugs":              bugs,
		"driver_go_version": runtime.Version(),
		"server":            srv.First,
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

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"example.com/leakbed/tally"
)

// defects of syncer, switched on with -bugs.
type defects struct {
	leaseTicker  bool // "ticker": a lease keeper per request whose stop channel nobody closes
	openApplier  bool // "applier": the changeset's ops channel is never closed
	pumpOrphan   bool // "writepump": a replica's reader exits without stopping its write pump
	silentCond   bool // "cond": a failed snapshot build never broadcasts its condition
	lostResult   bool // "timer": the cached verify path never sends the result
	lockedOnFail bool // "mutex": the compact validation error path returns without Unlock
}

var defectNames = []string{"ticker", "applier", "writepump", "cond", "timer", "mutex"}

func parseDefects(list string) (defects, error) {
	var d defects
	if list == "" || list == "none" {
		return d, nil
	}
	if list == "all" {
		list = strings.Join(defectNames, ",")
	}
	for _, n := range strings.Split(list, ",") {
		switch strings.TrimSpace(n) {
		case "ticker":
			d.leaseTicker = true
		case "applier":
			d.openApplier = true
		case "writepump":
			d.pumpOrphan = true
		case "cond":
			d.silentCond = true
		case "timer":
			d.lostResult = true
		case "mutex":
			d.lockedOnFail = true
		default:
			return d, fmt.Errorf("unknown defect %q (know %v)", n, defectNames)
		}
	}
	return d, nil
}

// Fixed background sizes.
const (
	shipWorkers    = 10
	namespaces     = 5
	journalDrains  = 3
	resyncShardsMx = 32
)

// server is the replication coordinator: replicas attach over hijacked HTTP connections and
// receive the changesets it applies; leases, snapshots, checkpoint verification and compaction
// jobs come in as requests.
type server struct {
	ctx   context.Context
	bugs  defects
	tally *tally.Tally

	shipQ chan *changeset
	seq   atomic.Int64

	peersMu sync.Mutex
	peers   map[*peer]struct{}

	journalMu    sync.Mutex
	journalReady *sync.Cond
	journal      []string

	nsList []*namespace

	applied   atomic.Int64
	shipped   atomic.Int64
	renewals  atomic.Int64
	resyncs   atomic.Int64
	verified  atomic.Int64
	compacted atomic.Int64
}

func newServer(ctx context.Context, bugs defects, t *tally.Tally) *server {
	s := &server{ctx: ctx, bugs: bugs, tally: t, shipQ: make(chan *changeset), peers: map[*peer]struct{}{}}
	t.Declare("lease.keeper", "changeset.apply", "peer.reader", "peer.pump", "peer.orphaned", "snapshot.await",
		"verify.waiter", "compact.commit", "resync.coordinator", "resync.shard")
	s.journalReady = sync.NewCond(&s.journalMu)
	for i := 0; i < shipWorkers; i++ {
		go s.shipWorker(i)
	}
	for i := 0; i < journalDrains; i++ {
		go s.drainJournal()
	}
	for i := 0; i < namespaces; i++ {
		ns := &namespace{srv: s, name: fmt.Sprintf("ns%d", i), every: time.Duration(800+170*i) * time.Millisecond, stop: make(chan struct{})}
		s.nsList = append(s.nsList, ns)
		go ns.heartbeat()
	}
	return s
}

// routes registers every endpoint as an inline closure.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()

	// POST /v1/leases?holder=H: grant a lease and keep renewing it in the background.
	mux.HandleFunc("/v1/leases", func(w http.ResponseWriter, r *http.Request) {
		l := &lease{holder: r.URL.Query().Get("holder"), stop: make(chan struct{})}
		if !s.bugs.leaseTicker {
			// The lease expires on its own; the keeper stops with it.
			time.AfterFunc(400*time.Millisecond, func() { close(l.stop) })
		}
		// BUG (ticker): without the expiry nobody ever closes l.stop: the keeper ticks every
		// 2 s forever.
		go func() {
			defer s.tally.Enter("lease.keeper")()
			t := time.NewTicker(2 * time.Second)
			for {
				select {
				case <-t.C:
					s.renewals.Add(1)
				case <-l.stop:
					t.Stop()
					return
				}
			}
		}()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "lease for %s\n", l.holder)
	})

	// POST /v1/changesets?ops=N: apply a changeset's operations through its applier.
	mux.HandleFunc("/v1/changesets", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("ops"))
		if n <= 0 || n > 64 {
			n = 5
		}
		cs := &changeset{id: s.seq.Add(1), ops: make(chan op, 8), srv: s}
		go cs.applyAll()
		for i := 0; i < n; i++ {
			cs.ops <- op{key: fmt.Sprintf("k%d", i), val: r.URL.Query().Get("v")}
		}
		if !s.bugs.openApplier {
			close(cs.ops)
		}
		// BUG (applier): ops is never closed; the applier's range waits forever.
		select {
		case s.shipQ <- cs:
		case <-time.After(100 * time.Millisecond):
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "changeset %d\n", cs.id)
	})

	// GET /v1/attach?replica=R: a replica takes the connection over; per replica a reader
	// (frames from the replica) and a write pump (changesets to the replica).
	mux.HandleFunc("/v1/attach", func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "no hijack", http.StatusInternalServerError)
			return
		}
		conn, brw, err := hj.Hijack()
		if err != nil {
			return
		}
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: sync/1\r\nConnection: Upgrade\r\n\r\n")
		if err := brw.Flush(); err != nil {
			_ = conn.Close()
			return
		}
		p := &peer{srv: s, replica: r.URL.Query().Get("replica"), conn: conn, br: brw.Reader,
			out: make(chan []byte, 16), quit: make(chan struct{})}
		s.peersMu.Lock()
		s.peers[p] = struct{}{}
		s.peersMu.Unlock()
		go p.readFrames()
		go p.pumpWrites()
	})

	// POST /v1/snapshots?table=T: build a snapshot; a waiter hands it to the archiver when ready.
	mux.HandleFunc("/v1/snapshots", func(w http.ResponseWriter, r *http.Request) {
		j := &snapshotJob{srv: s, table: r.URL.Query().Get("table")}
		j.cond = sync.NewCond(&j.mu)
		go j.await()
		go j.build()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "snapshot of %s started\n", j.table)
	})

	// POST /v1/checkpoints/verify?cp=C: verify a checkpoint in the background, with a
	// 45-minute timeout.
	mux.HandleFunc("/v1/checkpoints/verify", func(w http.ResponseWriter, r *http.Request) {
		cp := r.URL.Query().Get("cp")
		result := make(chan bool, 1)
		go func() {
			defer s.tally.Enter("verify.waiter")()
			select {
			case <-time.After(45 * time.Minute):
				log.Printf("verify %s: timed out", cp)
			case ok := <-result:
				if ok {
					s.verified.Add(1)
				}
			}
		}()
		go s.verifyCheckpoint(cp, result)
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "verifying %s\n", cp)
	})

	// POST /v1/jobs/compact?job=J: validate and commit a compaction job.
	mux.HandleFunc("/v1/jobs/compact", func(w http.ResponseWriter, r *http.Request) {
		j := &compactJob{srv: s, id: r.URL.Query().Get("job")}
		j.mu.Lock()
		go j.commit()
		if err := j.validate(); err != nil {
			j.err = err
			if !s.bugs.lockedOnFail {
				j.mu.Unlock()
			}
			// BUG (mutex): the error path returns with the job's lock held; its commit waits
			// forever.
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		j.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})

	// POST /v1/resync?shards=N&ms=D: start a full resync (202); it runs in the background.
	mux.HandleFunc("/v1/resync", func(w http.ResponseWriter, r *http.Request) {
		shards, _ := strconv.Atoi(r.URL.Query().Get("shards"))
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		if shards <= 0 || shards > resyncShardsMx || ms <= 0 {
			http.Error(w, "bad resync", http.StatusBadRequest)
			return
		}
		go s.resync(shards, time.Duration(ms)*time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
	})

	// POST /v1/journal?line=L: append to the journal (drained by the journal drainers).
	mux.HandleFunc("/v1/journal", func(w http.ResponseWriter, r *http.Request) {
		s.journalMu.Lock()
		s.journal = append(s.journal, r.URL.Query().Get("line"))
		s.journalMu.Unlock()
		s.journalReady.Signal()
		w.WriteHeader(http.StatusAccepted)
	})

	// GET /v1/status
	mux.HandleFunc("/v1/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.stats())
	})

	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

func (s *server) stats() map[string]any {
	s.peersMu.Lock()
	peers := len(s.peers)
	s.peersMu.Unlock()
	return map[string]any{
		"replicas_attached": peers, "applied": s.applied.Load(), "shipped": s.shipped.Load(),
		"renewals": s.renewals.Load(), "resyncs": s.resyncs.Load(), "verified": s.verified.Load(),
		"compacted": s.compacted.Load(),
	}
}

type lease struct {
	holder string
	stop   chan struct{}
}

type op struct{ key, val string }

// changeset is one batch of operations with its own applier.
type changeset struct {
	id  int64
	ops chan op
	srv *server
}

func (cs *changeset) applyAll() {
	defer cs.srv.tally.Enter("changeset.apply")()
	for o := range cs.ops {
		_ = o
		cs.srv.applied.Add(1)
	}
}

// peer is an attached replica.
type peer struct {
	srv     *server
	replica string
	conn    net.Conn
	br      *bufio.Reader
	out  chan []byte
	quit chan struct{}
}

func (p *peer) readFrames() {
	defer p.srv.tally.Enter("peer.reader")()
	for {
		if _, err := p.br.ReadString('\n'); err != nil {
			break
		}
	}
	p.srv.peersMu.Lock()
	delete(p.srv.peers, p)
	p.srv.peersMu.Unlock()
	_ = p.conn.Close()
	if p.srv.bugs.pumpOrphan {
		// BUG (writepump): the pump is never told; it waits on out and quit forever.
		p.srv.tally.Add("peer.orphaned", 1)
		return
	}
	close(p.quit)
}

func (p *peer) pumpWrites() {
	defer p.srv.tally.Enter("peer.pump")()
	for {
		select {
		case b := <-p.out:
			_ = p.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := p.conn.Write(b); err != nil {
				continue // the reader notices a dead connection and stops the pump
			}
		case <-p.quit:
			return
		}
	}
}

// snapshotJob is one snapshot build; await hands the result on when the build is done.
type snapshotJob struct {
	srv   *server
	table string
	mu    sync.Mutex
	cond  *sync.Cond
	done  bool
	err   error
}

func (j *snapshotJob) build() {
	time.Sleep(5 * time.Millisecond)
	err := fmt.Errorf("snapshot %s: source busy", j.table)
	if j.srv.bugs.silentCond {
		// BUG (cond): the error path returns without marking the job done or broadcasting.
		return
	}
	j.mu.Lock()
	j.err, j.done = err, true
	j.mu.Unlock()
	j.cond.Broadcast()
}

func (j *snapshotJob) await() {
	defer j.srv.tally.Enter("snapshot.await")()
	j.mu.Lock()
	for !j.done {
		j.cond.Wait()
	}
	j.mu.Unlock()
}

func (s *server) verifyCheckpoint(cp string, result chan<- bool) {
	time.Sleep(3 * time.Millisecond)
	if strings.HasPrefix(cp, "cp-") { // already verified once: the answer is cached
		if s.bugs.lostResult {
			// BUG (timer): the cached path returns without sending; the waiter's only other
			// way out is its 45-minute timer.
			return
		}
		result <- true
		return
	}
	result <- len(cp)%7 != 0
}

// compactJob is one compaction; the request validates it while holding its lock, then commit runs.
type compactJob struct {
	srv *server
	id  string
	mu  sync.Mutex
	err error
}

func (j *compactJob) validate() error { return fmt.Errorf("compact %s: index stale", j.id) }

func (j *compactJob) commit() {
	defer j.srv.tally.Enter("compact.commit")()
	j.mu.Lock()
	if j.err == nil {
		j.srv.compacted.Add(1)
	}
	j.mu.Unlock()
}

// Package drive is the capture side of the test beds: it starts the service (and its upstream)
// as child processes, fetches every goroutine format from the service's admin listener, ends
// the service with SIGQUIT and writes a manifest. It runs in the driver process, so none of its
// goroutines appear in the captures.
package drive

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Child is a started child process and the first line it printed on stdout.
type Child struct {
	Cmd   *exec.Cmd
	First string
	Done  chan error
}

// Start runs name args with env added, stderr to stderr, stdout to logPath, and waits for the
// child's first stdout line (its listen addresses).
func Start(ctx context.Context, logPath string, stderr io.Writer, env []string, name string, args ...string) (*Child, error) {
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
	c := &Child{Cmd: cmd, Done: make(chan error, 1)}
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = logFile.Close()
		return nil, fmt.Errorf("%s %v: no startup line: %w", name, args, err)
	}
	c.First = strings.TrimSpace(line)
	_, _ = logFile.WriteString(line)
	go func() {
		_, _ = io.Copy(logFile, br)
		_ = logFile.Close()
		c.Done <- cmd.Wait()
	}()
	return c, nil
}

// Field returns the value of key=value in a startup line.
func Field(line, key string) string {
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, key+"=") {
			return strings.TrimPrefix(f, key+"=")
		}
	}
	return ""
}

// Fetched is one file of the manifest.
type Fetched struct {
	Path      string  `json:"path"`
	URL       string  `json:"url,omitempty"`
	Source    string  `json:"source,omitempty"`
	Bytes     int     `json:"bytes"`
	Gzipped   bool    `json:"gzipped,omitempty"`
	FetchedAt string  `json:"fetched_at,omitempty"`
	Seconds   float64 `json:"fetch_seconds,omitempty"`
}

// Recorder fetches files from the admin listener into Out.
type Recorder struct {
	Admin     string // http://host:port
	Out       string
	StatsPath string

	client *http.Client
	mu     sync.Mutex
	Files  []Fetched
}

// NewRecorder returns a recorder for the admin base URL.
func NewRecorder(admin, out, statsPath string) *Recorder {
	return &Recorder{Admin: admin, Out: out, StatsPath: statsPath, client: &http.Client{Timeout: 60 * time.Second}}
}

// GzipLimit: debug=1 text larger than this is stored gzipped (.txt.gz).
const GzipLimit = 64 << 10

// Get fetches rel into path (relative to Out); gz: always, never or "auto" (debug=1 sized).
func (r *Recorder) Get(rel, path, gz string) error {
	start := time.Now()
	resp, err := r.client.Get(r.Admin + rel)
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
	zip := gz == "always" || (gz == "auto" && len(body) > GzipLimit)
	if zip {
		path += ".gz"
	}
	if err := writeFile(filepath.Join(r.Out, path), body, zip); err != nil {
		return err
	}
	r.mu.Lock()
	r.Files = append(r.Files, Fetched{Path: path, URL: rel, Bytes: len(body), Gzipped: zip,
		FetchedAt: start.UTC().Format(time.RFC3339Nano), Seconds: time.Since(start).Seconds()})
	r.mu.Unlock()
	return nil
}

func writeFile(path string, body []byte, zip bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if !zip {
		return os.WriteFile(path, body, 0o644)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(body); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// HasLeakProfile reports whether the server's pprof index lists the goroutineleak profile
// (Go 1.26 with GOEXPERIMENT=goroutineleakprofile, Go 1.27 and later).
func (r *Recorder) HasLeakProfile() bool {
	resp, err := r.client.Get(r.Admin + "/debug/pprof/")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return bytes.Contains(b, []byte("goroutineleak"))
}

// Phase fetches one phase's files into Out/phase: the tallies, the goroutine profile in its
// three encodings, and where the runtime has it the leak profile followed by a debug=2 dump
// that carries its "(leaked)" marks; then the tallies again.
func (r *Recorder) Phase(phase string, leakProfile bool) error {
	steps := []struct{ url, path, gz string }{
		{r.StatsPath, "stats.json", "never"},
		{"/debug/pprof/goroutine?debug=0", "goroutine.pb.gz", "never"},
		{"/debug/pprof/goroutine?debug=1", "goroutine.debug1.txt", "auto"},
		{"/debug/pprof/goroutine?debug=2", "goroutine.debug2.txt", "always"},
	}
	if leakProfile {
		steps = append(steps, []struct{ url, path, gz string }{
			{"/debug/pprof/goroutineleak?debug=0", "goroutineleak.pb.gz", "never"},
			{"/debug/pprof/goroutineleak?debug=1", "goroutineleak.debug1.txt", "auto"},
			{"/debug/pprof/goroutine?debug=2", "goroutine.debug2.leakmarked.txt", "always"},
		}...)
	}
	steps = append(steps, struct{ url, path, gz string }{r.StatsPath, "stats.end.json", "never"})
	for _, s := range steps {
		if err := r.Get(s.url, filepath.Join(phase, s.path), s.gz); err != nil {
			return err
		}
	}
	return nil
}

// Quit sends SIGQUIT to the server, waits for it to exit and gzips its stderr (the dump).
func (r *Recorder) Quit(srv *Child, stderrFile *os.File) error {
	if err := srv.Cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		return err
	}
	select {
	case <-srv.Done:
	case <-time.After(20 * time.Second):
		return fmt.Errorf("server did not exit after SIGQUIT")
	}
	name := stderrFile.Name()
	_ = stderrFile.Close()
	body, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := writeFile(name+".gz", body, true); err != nil {
		return err
	}
	if err := os.Remove(name); err != nil {
		return err
	}
	rel, _ := filepath.Rel(r.Out, name+".gz")
	r.mu.Lock()
	r.Files = append(r.Files, Fetched{Path: rel, Source: "SIGQUIT to the server, GOTRACEBACK=all, its stderr", Bytes: len(body), Gzipped: true})
	r.mu.Unlock()
	return nil
}

// WriteManifest writes capture.json with the files fetched so far.
func (r *Recorder) WriteManifest(m map[string]any) error {
	r.mu.Lock()
	files := append([]Fetched(nil), r.Files...)
	r.mu.Unlock()
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	m["files"] = files
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.Out, "capture.json"), append(b, '\n'), 0o644)
}

// Stats fetches the server's stats endpoint.
func (r *Recorder) Stats() (map[string]any, error) {
	resp, err := r.client.Get(r.Admin + r.StatsPath)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	st := map[string]any{}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// Live returns the live count of one tally from a stats object.
func Live(st map[string]any, name string) int64 {
	ts, _ := st["tally"].([]any)
	for _, t := range ts {
		m, _ := t.(map[string]any)
		if m["name"] == name {
			f, _ := m["live"].(float64)
			return int64(f)
		}
	}
	return 0
}

// WaitLive polls the stats until every named tally has the wanted live count, or the timeout.
func (r *Recorder) WaitLive(want map[string]int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		st, err := r.Stats()
		if err == nil {
			var bad []string
			for n, w := range want {
				if got := Live(st, n); got != w {
					bad = append(bad, fmt.Sprintf("%s=%d (want %d)", n, got, w))
				}
			}
			if len(bad) == 0 {
				return nil
			}
			sort.Strings(bad)
			last = strings.Join(bad, ", ")
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("tallies not reached after %v: %s", timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

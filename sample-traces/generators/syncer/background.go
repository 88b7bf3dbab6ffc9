package main

import (
	"fmt"
	"sync"
	"time"
)

// shipWorker ships applied changesets to every attached replica (never blocking on one).
func (s *server) shipWorker(i int) {
	defer s.tally.Enter("ship.worker")()
	for cs := range s.shipQ {
		msg := []byte(fmt.Sprintf("CHANGESET %d\n", cs.id))
		s.peersMu.Lock()
		for p := range s.peers {
			select {
			case p.out <- msg:
			default:
			}
		}
		s.peersMu.Unlock()
		s.shipped.Add(1)
	}
}

// drainJournal writes journal lines out; drainers wait on a condition variable.
func (s *server) drainJournal() {
	defer s.tally.Enter("journal.drainer")()
	for {
		s.journalMu.Lock()
		for len(s.journal) == 0 {
			s.journalReady.Wait()
		}
		lines := s.journal
		s.journal = nil
		s.journalMu.Unlock()
		_ = lines
	}
}

// namespace is a tenant namespace with its own heartbeat loop.
type namespace struct {
	srv   *server
	name  string
	every time.Duration
	stop  chan struct{}
}

func (ns *namespace) heartbeat() {
	defer ns.srv.tally.Enter("namespace.heartbeat")()
	t := time.NewTicker(ns.every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ns.srv.peersMu.Lock()
			for p := range ns.srv.peers {
				select {
				case p.out <- []byte("HEARTBEAT " + ns.name + "\n"):
				default:
				}
			}
			ns.srv.peersMu.Unlock()
		case <-ns.stop:
			return
		}
	}
}

// resync copies every shard again: the coordinator waits for one goroutine per shard.
func (s *server) resync(shards int, d time.Duration) {
	defer s.tally.Enter("resync.coordinator")()
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for i := 0; i < shards; i++ {
		wg.Add(1)
		go s.resyncShard(&wg, i, end)
	}
	wg.Wait()
	s.resyncs.Add(1)
}

func (s *server) resyncShard(wg *sync.WaitGroup, shard int, end time.Time) {
	defer wg.Done()
	defer s.tally.Enter("resync.shard")()
	for time.Now().Before(end) {
		time.Sleep(100 * time.Millisecond) // copy one chunk
	}
}

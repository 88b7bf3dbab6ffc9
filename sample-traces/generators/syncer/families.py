"""Families of the syncer test bed (read by ../leakbed/make_expected.py)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "leakbed"))
from captures import Family, common_families, just_started  # noqa: E402

R = "main.(*server).routes."

PROGRAM = "syncer (sample-traces/generators/syncer): six per-request leaks in a replication coordinator whose handlers are inline closures in (*server).routes"
SCENARIOS = {
    "leaky": "every defect on (serve -bugs all), keep-alive client",
    "healthy": "every defect off (serve -bugs none, the same routes run corrected code), keep-alive client",
}
LEAKY_SCENARIOS = {"leaky"}
PHASES = {
    "before": "after 13/22/15/10/17/12 calls to the ticker/applier/writepump/cond/timer/mutex routes interleaved with "
              "400 healthy requests over 7 s; 8 replicas attached and kept, a resync of 8 shards in flight",
    "after": "after 52/110/60/45/85/66 calls in total, interleaved with 1,600 healthy requests; 20 replicas attached "
             "and kept, a new resync of 8 shards in flight",
}

FAMILIES = [
    # --- the six defects ---------------------------------------------------------------------
    Family("lease-keeper-tick", "leak", "ticker-loop-per-request", all=[R + "func1.2"], defect="ticker",
           tally=["lease.keeper"], expected_rules=["outlived-request"],
           what="per-request lease keepers (a closure in the /v1/leases handler): select on a 2 s ticker and a stop "
                "channel nobody closes; they wake every 2 s, so they are never parked long"),
    Family("changeset-applier-range", "leak", "applier-range-unclosed", all=["main.(*changeset).applyAll"],
           defect="applier", tally=["changeset.apply"], expected_rules=["outlived-request", "runtime-proven"],
           what="per-request appliers ranging over an ops channel the handler never closes (chan receive)"),
    Family("replica-write-pump", "mixed", "writepump-conn-gone", all=["main.(*peer).pumpWrites"], defect="writepump",
           tally=["peer.orphaned"], total_tally=["peer.pump"], expected_rules=["outlived-request", "runtime-proven"],
           what="per-replica write pumps (select on the outbound channel and quit): one per live replica (healthy) "
                "plus one per replica whose connection closed, whose reader exited without closing quit (leaked); "
                "the pumps outnumber the readers"),
    Family("snapshot-cond-wait", "leak", "cond-wait-never-signalled", all=["main.(*snapshotJob).await"], defect="cond",
           tally=["snapshot.await"], expected_rules=["outlived-request", "runtime-proven"],
           what="per-request snapshot waiters in sync.Cond.Wait on the job's own condition, never broadcast"),
    Family("verify-long-timer", "leak", "long-timer-select", all=[R + "func5.1"], defect="timer",
           tally=["verify.waiter"], expected_rules=["outlived-request"],
           what="per-request verify waiters (a closure in the verify handler): select on time.After(45 min) and a "
                "result channel the cached path never sends on"),
    Family("compact-commit-lock", "leak", "mutex-never-unlocked", all=["main.(*compactJob).commit"], defect="mutex",
           tally=["compact.commit"], expected_rules=["outlived-request", "runtime-proven"],
           what="per-request commits in sync.Mutex.Lock on their own job's mutex, left locked by the handler's error "
                "path: every goroutine waits on a different mutex (not a pile-up)"),
    # --- healthy background ------------------------------------------------------------------
    Family("replica-reader", "healthy", "healthy:session-reader", all=["main.(*peer).readFrames"],
           total_tally=["peer.reader"],
           what="per live replica: reader of the hijacked connection in IO wait, created by the attach handler closure"),
    Family("ship-workers", "healthy", "healthy:worker-pool", all=["main.(*server).shipWorker"], total_tally=["ship.worker"],
           what="10 changeset shippers started at startup, idle in chan receive"),
    Family("journal-drainers", "healthy", "healthy:cond-waiters", all=["main.(*server).drainJournal"],
           total_tally=["journal.drainer"], what="3 journal drainers started at startup, in sync.Cond.Wait on a shared queue"),
    Family("namespace-heartbeats", "healthy", "healthy:ticker-loop", all=["main.(*namespace).heartbeat"],
           total_tally=["namespace.heartbeat"], what="5 per-namespace ticker loops started at startup (select on ticker and stop)"),
    # Shards first: in Go 1.19 SIGQUIT dumps a shard's outermost frame is the go-statement wrapper
    # main.(*server).resync.func1.
    Family("resync-shards", "healthy", "healthy:batch-in-flight", all=["main.(*server).resyncShard"],
           total_tally=["resync.shard"], what="the resync's 8 shard copiers, time.Sleep(100 ms) between chunks"),
    Family("resync-coordinator", "healthy", "healthy:batch-in-flight", all=["main.(*server).resync"],
           total_tally=["resync.coordinator"],
           what="a resync started by a request (202) 1.5 s before the capture, in sync.WaitGroup.Wait for its shards; ends after 8 s"),
    Family("snapshot-build", "healthy", "healthy:short-lived", all=["main.(*snapshotJob).build"],
           what="snapshot builders (5 ms)"),
    Family("verify-checkpoint", "healthy", "healthy:short-lived", all=["main.(*server).verifyCheckpoint"],
           what="checkpoint verifiers (3 ms)"),
    Family("lease-keeper-healthy", "healthy", "healthy:short-lived", all=[R + "func1"],
           what="corrected lease keepers and their expiry callbacks (400 ms)"),
    Family("verify-waiter-answered", "healthy", "healthy:short-lived", all=[R + "func5"],
           what="verify waiters whose result arrives (a few ms)"),
    just_started("just-started", [R + f"func{i}" for i in range(1, 8)] + ["main.newServer", "main.(*server).resync"],
                 # Go 1.19 names the wrappers of go statements inside the handler closures F.N:
                 extra=[R + x for x in ("func2.1", "func3.1", "func3.2", "func4.1", "func4.2", "func5.2", "func6.1", "func7.1")]),
] + common_families(["main.serve"])

"""Families of the busyhealthy test bed (read by ../leakbed/make_expected.py)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "leakbed"))
from captures import Family, common_families, just_started  # noqa: E402

C = "example.com/busyhealthy/console."

PROGRAM = "busyhealthy (sample-traces/generators/busyhealthy): a healthy but busy service; nothing leaks"
SCENARIOS = {"healthy": "the busy healthy service (there are no defects to switch on)"}
LEAKY_SCENARIOS: set[str] = set()
PHASES = {
    "before": "20 live sessions (12 TCP terminals, 8 hijacked HTTP watch streams; 26 connected and 6 disconnected "
              "over 6 s among 500 other requests), a batch of 10 shards in flight",
    "after": "60 live sessions (36 terminals, 24 watch streams; 50 more connected and 10 more disconnected over 12 s "
             "among 1,500 other requests), a new batch of 10 shards in flight",
}

H = "healthy"
FAMILIES = [
    # Inner functions first: Go 1.19 names the wrapper of `go x.m(args)` F.funcN (Go 1.21+: F.gowrapN)
    # and SIGQUIT dumps show it as the outermost frame, so a writer started by serveTerminal has
    # (*TerminalServer).serveTerminal.func3 on its stack.
    Family("terminal-writer", H, "healthy:session-writer", all=[C + "(*terminal).flushOutbox"],
           total_tally=["terminal.writer"],
           what="per live terminal: the writer draining its outbox (select on outbox and done)"),
    Family("terminal-relay", H, "healthy:session-subscriber", all=[C + "(*terminal).relay"],
           total_tally=["terminal.relay"],
           what="per live terminal: the hub subscriber forwarding into the outbox (chan receive on the subscription)"),
    Family("terminal-reader", H, "healthy:session-reader", all=[C + "(*TerminalServer).serveTerminal"],
           total_tally=["terminal.reader"],
           what="per live TCP terminal: the connection's goroutine reading commands (IO wait), started by the accept loop"),
    Family("watch-stream-pump", H, "healthy:session-writer", all=[C + "(*watchStream).pump"],
           total_tally=["watch.pump"],
           what="per live watch stream: the writer ranging over its outbound channel (chan receive), started by the request"),
    Family("watch-stream-follower", H, "healthy:session-subscriber", all=[C + "(*watchStream).follow"],
           total_tally=["watch.follower"],
           what="per live watch stream: the hub subscriber (select on subscription and gone), started by the request"),
    Family("watch-stream-reader", H, "healthy:session-reader", all=[C + "(*WatchDesk).Attach"],
           total_tally=["watch.reader"],
           what="per live watch stream: the hijacked request's own goroutine reading acks (IO wait), under net/http.(*conn).serve"),
    Family("long-poll", H, "healthy:long-poll", all=[C + "(*WatchDesk).Poll"],
           what="long polls waiting up to 20 s for a message (select), 6 kept outstanding by the driver"),
    Family("reports-in-flight", H, "healthy:request-in-flight", all=[C + "(*Reports).Render"],
           what="report renders (1.2 s, select on a timer and the request context), 4 kept in flight"),
    Family("batch-shard", H, "healthy:batch-in-flight", all=[C + "(*BatchRunner).processShard"],
           total_tally=["batch.shard"],
           what="the batch's 10 shard workers, select on a short timer (wake every ~150 ms), created by the coordinator"),
    Family("batch-coordinator", H, "healthy:batch-in-flight", all=[C + "(*BatchRunner).run"],
           total_tally=["batch.coordinator"],
           what="a batch started by a request (202) 1.5 s before the capture, in sync.WaitGroup.Wait for its shards; finishes after 8 s"),
    Family("worker-pool", H, "healthy:worker-pool", all=[C + "(*Pool).work"], total_tally=["pool.worker"],
           what="fixed pool of 12 workers started at startup, idle in chan receive on the job channel"),
    Family("queue-consumers", H, "healthy:cond-waiters", all=[C + "(*WorkQueue).consume"], total_tally=["queue.consumer"],
           what="4 consumers of a condition-variable queue started at startup, in sync.Cond.Wait until a task is pushed"),
    Family("tenant-clocks", H, "healthy:ticker-loop", all=[C + "(*tenantClock).run"], total_tally=["tenant.clock"],
           what="6 per-tenant ticker loops started at startup (select on ticker and stop channel)"),
    Family("janitor", H, "healthy:sleep-loop", all=[C + "(*Janitor).loop"], total_tally=["janitor"],
           what="janitor loop started at startup, time.Sleep(30 s) between sweeps"),
    Family("clock-stopper", H, "healthy:shutdown-watcher", all=[C + "New"],
           what="goroutine started at startup waiting on the service context to stop the tenant clocks"),
    Family("terminal-accept-loop", H, "healthy:accept-loop", all=[C + "(*TerminalServer).acceptTerminals"],
           what="the TCP terminal listener's accept loop"),
    Family("hangup-watcher", H, "healthy:signal-wait", all=["main.watchHangups"], what="SIGHUP loop (signal.Notify)"),
    just_started("just-started", [C + f for f in ("New", "newPool", "newWorkQueue", "(*TerminalServer).acceptTerminals",
                                                  "(*TerminalServer).serveTerminal", "(*WatchDesk).Attach",
                                                  "(*BatchRunner).Start", "(*BatchRunner).run")]),
] + common_families(["main.serve"])

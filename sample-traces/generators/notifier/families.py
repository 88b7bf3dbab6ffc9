"""Families of the notifier test bed (read by ../leakbed/make_expected.py)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "leakbed"))
from captures import Family, common_families, just_started  # noqa: E402

D = "example.com/notifier/dispatch."

PROGRAM = "notifier (sample-traces/generators/notifier): seven per-request leaks over a busy healthy background"
SCENARIOS = {
    "leaky": "every defect on (serve -bugs all), driver's HTTP client in keep-alive mode",
    "healthy": "every defect off (serve -bugs none, the same routes run corrected code), keep-alive client",
    "leaky-close": "every defect on (serve -bugs all), driver's HTTP client closes the connection after every request (DisableKeepAlives)",
}
LEAKY_SCENARIOS = {"leaky", "leaky-close"}
PHASES = {
    "before": "after 8/12/10/14/20/11/18 calls to the fanout/unsubscribe/waitgroup/producer/watcher/outbound/retry routes "
              "interleaved with 400 healthy requests over 7 s; 10 live agents (13 connected, 3 left), 4 live inbox streams",
    "after": "after 30/48/40/70/100/44/90 calls in total, interleaved with 1,600 healthy requests; 25 live agents "
             "(33 connected, 8 left), 6 live inbox streams",
}

FAMILIES = [
    # --- the seven defects -------------------------------------------------------------------
    Family("route-probe-send", "leak", "fanout-early-return", all=[D + "(*Resolver).probe"], defect="fanout",
           tally=["resolver.probe"], expected_rules=["outlived-request", "runtime-proven"],
           what="channel probes of a fan-out whose handler returned on the first answer; the 2 slower probes block "
                "forever sending on the unbuffered results channel (chan send), 2 per call"),
    Family("inbox-subscriber", "mixed", "subscriber-not-unsubscribed", all=[D + "(*Inbox).deliver"], defect="unsubscribe",
           tally=["inbox.orphaned"], total_tally=["inbox.deliver"], expected_rules=["outlived-request"],
           what="broker subscribers of inbox streams (chan receive on the subscription): the live streams' (healthy, "
                "their request goroutine is still in (*Inbox).Stream) and those of streams whose client left without "
                "the handler unsubscribing (leaked; the broker still holds the subscription, so the runtime cannot prove them)"),
    Family("digest-publish-wait", "leak", "waitgroup-done-skipped", all=[D + "(*Digests).publish"], defect="waitgroup",
           tally=["digest.publish"], expected_rules=["outlived-request", "runtime-proven"],
           what="digest publishers started by the request, in sync.WaitGroup.Wait on a per-request WaitGroup whose "
                "failing section skipped wg.Done"),
    Family("history-replay-send", "leak", "producer-after-consumer-returned", all=[D + "(*History).replay"],
           defect="producer", tally=["history.replay"], expected_rules=["outlived-request", "runtime-proven"],
           what="history producers blocked sending on their full buffered channel (cap 4) after the request read 3 "
                "items and returned (chan send)"),
    Family("receipt-watcher", "leak", "watcher-never-done-ctx", all=[D + "(*Receipts).watch"], defect="watcher",
           tally=["receipts.watch"], expected_rules=["outlived-request"],
           what="delivery-receipt watchers selecting on a context.WithValue(context.Background()) context (nil Done "
                "channel) and a receipt channel still registered in the pending map, never sent to (select)"),
    Family("webhook-call-stuck", "leak", "outbound-call-no-timeout", all=[D + "(*Hooks).Ping"], defect="outbound",
           tally=["hooks.pinging"], expected_rules=["blocked-client-call"],
           what="request goroutines inside http.Client.Post (no Timeout, no request context) to an endpoint that "
                "accepts and never answers; the driver gave up after 1 s"),
    Family("sms-retry-sleep", "leak", "retry-sleep-ignores-request", any=[D + "(*SMS).retryForever", D + "(*SMS).retryBounded"],
           defect="retry", tally=["sms.retry"], expected_rules=["outlived-request"],
           what="SMS retry loops started by the request, time.Sleep(30 s) between attempts, no limit, ignoring the "
                "request (sleep); the corrected code's bounded retries end within a second"),
    Family("client-conn-writeloop", "mixed", "outbound-call-no-timeout", all=["net/http.(*persistConn).writeLoop"],
           defect="outbound", tally=["hooks.pinging"], expected_rules=["conn-pool-growth"],
           what="outbound persistConn write loops: one per stuck webhook call plus the deliverers' idle pool"),
    Family("client-conn-readloop", "consequence", "outbound-call-no-timeout", all=["net/http.(*persistConn).readLoop"],
           defect="outbound", tally=["hooks.pinging"], expected_rules=["conn-pool-growth"],
           what="outbound persistConn read loops waiting for a response (IO wait in Peek): the stuck webhook calls' "
                "and the deliverers' idle pool's share this stack"),
    # --- healthy background ------------------------------------------------------------------
    Family("inbox-stream-live", "healthy", "healthy:streaming-request", all=[D + "(*Inbox).Stream"],
           total_tally=["inbox.stream"],
           what="live inbox streams: request goroutines in select, writing events while the client stays"),
    Family("agent-reader", "healthy", "healthy:session-reader", all=[D + "(*agentConn).readLoop"],
           total_tally=["agent.reader"], what="per live agent (TCP): reader in IO wait, started by the accept loop"),
    Family("agent-writer", "healthy", "healthy:session-writer", all=[D + "(*agentConn).writeLoop"],
           total_tally=["agent.writer"], what="per live agent: writer in select on its outbound channel and closed"),
    Family("agent-subscriber", "healthy", "healthy:session-subscriber", all=[D + "(*agentConn).subscribe"],
           total_tally=["agent.subscriber"], what="per live agent: broker subscriber in select on its subscription"),
    Family("agent-accept-loop", "healthy", "healthy:accept-loop", all=[D + "(*AgentGateway).accept"],
           what="the agent listener's accept loop"),
    Family("deliverer-pool", "healthy", "healthy:worker-pool", all=[D + "(*Deliverer).run"],
           total_tally=["deliverer.worker"], what="8 delivery workers started at startup, idle in chan receive"),
    Family("outbox-drainers", "healthy", "healthy:cond-waiters", all=[D + "(*Outbox).drain"],
           total_tally=["outbox.drainer"], what="3 outbox drainers started at startup, in sync.Cond.Wait"),
    Family("quota-clocks", "healthy", "healthy:ticker-loop", all=[D + "(*quotaClock).loop"],
           total_tally=["quota.clock"], what="5 per-tenant quota ticker loops started at startup (select on ticker and stop)"),
    Family("digest-render", "healthy", "healthy:short-lived", all=[D + "(*Digests).render"],
           what="digest section renderers (a few ms)"),
    just_started("just-started", [D + f for f in ("New", "newDeliverer", "newOutbox", "(*AgentGateway).accept",
                                                  "(*Resolver).Lookup", "(*Inbox).Stream", "(*Digests).Compose",
                                                  "(*History).Recent", "(*Receipts).Track", "(*SMS).Send")]),
] + common_families(["main.serve"])

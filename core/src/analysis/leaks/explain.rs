//! The words of a finding: title, facts, explanation and fix, written for a Go engineer in a
//! hurry — what the stack shows, why that means a leak, and what change stops it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::knowledge::ClientCall;
use super::{AsyncEvidence, Evidence, Growth, RuleId};
use crate::analysis::sites::SiteKey;
use crate::model::{Capture, WaitKind};

/// What the texts need to know about the family.
pub(super) struct FamilyView<'a> {
    pub key: &'a SiteKey,
    pub count: u64,
    pub wait: WaitKind,
    pub states: &'a BTreeMap<String, u64>,
    pub leaked: u64,
    pub deadlock: bool,
}

/// The words of one finding.
pub(super) struct Texts {
    pub title: String,
    pub facts: Vec<String>,
    pub explanation: String,
    pub fix: String,
}

/// A duration for people: `850 µs`, `1.2 s`, `3 min`.
pub(super) fn human_ns(ns: i64) -> String {
    let ns = ns.max(0) as f64;
    if ns >= 120e9 {
        format!("{:.0} min", ns / 60e9)
    } else if ns >= 1e9 {
        format!("{:.1} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.0} µs", ns / 1e3)
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

fn wait_phrase(wait: WaitKind) -> &'static str {
    match wait {
        WaitKind::ChanReceive => "receiving from a channel",
        WaitKind::ChanSend => "sending on a channel",
        WaitKind::Select => "in a select",
        WaitKind::Sleep => "sleeping",
        WaitKind::Io => "waiting for network IO",
        WaitKind::Sync => "waiting on a lock or WaitGroup",
        WaitKind::Syscall => "in a system call",
        WaitKind::Running => "running",
        WaitKind::Runnable => "runnable",
        WaitKind::Other => "waiting",
    }
}

impl Texts {
    pub(super) fn new(
        capture: &Capture,
        fam: &FamilyView<'_>,
        ev: &Evidence,
        growth: Option<&Growth>,
        rules: &[RuleId],
        client: Option<ClientCall>,
        baselines: usize,
    ) -> Self {
        let primary = rules.first().copied().unwrap_or(RuleId::ParkedCrowd);
        let site = if fam.key.user.is_empty() || fam.key.user == fam.key.wait {
            fam.key.wait.clone()
        } else {
            format!("{} ({})", fam.key.user, fam.key.wait)
        };
        let n = fam.count;
        let gs = plural(n, "goroutine", "goroutines");
        let title = match primary {
            RuleId::RuntimeProven if ev.deadlock => {
                format!(
                    "{gs} deadlocked {} in {site}: the runtime found every goroutine asleep",
                    wait_phrase(fam.wait)
                )
            }
            RuleId::RuntimeProven if fam.leaked >= n => {
                format!("{gs} proven leaked by the Go runtime, {} in {site}", wait_phrase(fam.wait))
            }
            RuleId::RuntimeProven => format!(
                "{gs} leaking, {} of them proven by the Go runtime, {} in {site}",
                fam.leaked,
                wait_phrase(fam.wait)
            ),
            RuleId::NeverWakes => {
                let state = fam.states.keys().next().cloned().unwrap_or_default();
                format!("{gs} blocked forever ({state}) in {site}")
            }
            RuleId::OutlivedRequest => {
                format!("{gs} outlived the request that started them, {} in {site}", wait_phrase(fam.wait))
            }
            RuleId::BlockedClientCall => {
                let what = client.map_or("client", |c| c.client);
                format!("{gs} stuck in a {what} call in {site}")
            }
            RuleId::ConnPoolGrowth => format!("{gs} in per-connection loops ({site})"),
            RuleId::ContextPropagation => {
                format!("{gs} propagating cancellation for contexts never cancelled")
            }
            RuleId::Growing => match growth {
                Some(g) => format!("{site} grew from {} to {} goroutines", g.before, g.after),
                None => format!("{gs} growing in {site}"),
            },
            RuleId::LongWait => match ev.trace.as_ref() {
                // A window shows no block's start: all it can say is that it lasted throughout.
                Some(te) if te.window_ns.is_some() && te.blocked_before_trace >= n => format!(
                    "{gs} {} for the whole {} window in {site}",
                    wait_phrase(fam.wait),
                    human_ns(te.window_ns.unwrap_or(0))
                ),
                // A trace's waits are long by its own clock: said beside its length.
                Some(te) => format!(
                    "{gs} {} for up to {} of the {} trace in {site}",
                    wait_phrase(fam.wait),
                    human_ns(te.blocked_ns.map_or(0, |[_, hi]| hi)),
                    human_ns(capture.time_range_ns.map_or(0, |(a, b)| b - a))
                ),
                None => {
                    let minutes = ev.wait_minutes.map_or(0, |[_, hi]| hi);
                    format!("{gs} {} for up to {minutes} minutes in {site}", wait_phrase(fam.wait))
                }
            },
            RuleId::ParkedCrowd => format!("{gs} parked {} in {site}", wait_phrase(fam.wait)),
            RuleId::PileUp => format!("{gs} queued on one lock or WaitGroup in {site}"),
            // The async rules and the heap rule write their own texts.
            RuleId::NeverSettled
            | RuleId::PendingAtExit
            | RuleId::NeverEnded
            | RuleId::OpenSpan
            | RuleId::IdleThread
            | RuleId::HeapGrowth => format!("{gs} in {site}"),
        };

        let mut facts = Vec::new();
        let states: Vec<String> = fam.states.iter().map(|(s, c)| format!("{c} {s}")).collect();
        facts.push(format!("{gs} in {}, {}", plural(ev.stacks, "stack", "stacks"), states.join(", ")));
        if !ev.label_sets.is_empty() {
            let sets: Vec<String> = ev
                .label_sets
                .iter()
                .map(|s| {
                    let text: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    if text.is_empty() {
                        format!("{} without labels", s.count)
                    } else {
                        format!("{} {}", s.count, text.join(" "))
                    }
                })
                .collect();
            facts.push(format!("by labels: {}", sets.join(", ")));
        }
        facts.push(format!("waiting in {}", fam.key.wait_site()));
        if let Some(c) = &ev.created_by {
            facts.push(format!("created by {c}"));
        }
        if ev.deadlock {
            facts.push("the Go runtime stopped the program with \"all goroutines are asleep - deadlock!\": no goroutine could ever wake these".to_owned());
        }
        if fam.leaked > 0 {
            facts.push(format!(
                "the Go runtime's leak detector marked {} of them leaked: nothing reachable can wake them",
                fam.leaked
            ));
        }
        if let Some(p) = &ev.parents {
            if p.gone > 0 {
                facts.push(format!(
                    "{} of {} have a parent goroutine that no longer exists ({} distinct parents): their creator returned and left them behind",
                    p.gone, p.known, p.distinct
                ));
            }
            if p.request_over > 0 {
                facts.push(format!(
                    "{} were started by a connection goroutine that is now idle between requests or serving another request: the request that started them is over",
                    p.request_over
                ));
            }
            if p.in_request > 0 {
                // The parent goroutine living on is not the creating call living on: said
                // side by side with "every call ... has returned" below, the bare "still
                // serving" read as a contradiction.
                let creator_returned = ev.creator_active == Some(0) && fam.key.creator.is_some();
                facts.push(if creator_returned {
                    format!(
                        "{} were started by a request goroutine that is still serving its request, but in other code: the call that started them has returned",
                        p.in_request
                    )
                } else {
                    format!(
                        "{} were started by a request goroutine that is still serving that request",
                        p.in_request
                    )
                });
            }
        }
        if ev.creator_is_request_code {
            facts.push("the creator is request-handling code (a handler, middleware or a function seen on request goroutines)".to_owned());
        }
        if let (Some(0), Some(creator)) = (ev.creator_active, fam.key.creator.as_deref()) {
            facts.push(format!(
                "no goroutine is inside {creator} now: every call to it that started these has returned"
            ));
        }
        if let Some(ids) = &ev.ids {
            let [a, b] = ids.family;
            let [lo, hi] = ids.capture;
            if ids.at_startup {
                facts.push(format!(
                    "goroutine ids {a}-{b}, among the first of the process's {lo}-{hi}: started at startup"
                ));
            } else if ids.share >= 0.25 && n >= 2 {
                facts.push(format!(
                    "goroutine ids {a}-{b} span {:.0}% of the process's {lo}-{hi} (ids are handed out in creation order): created throughout the process's life, not once",
                    ids.share * 100.0
                ));
            } else if n >= 2 {
                facts.push(format!(
                    "goroutine ids {a}-{b} of the process's {lo}-{hi}: created within a short stretch"
                ));
            }
        }
        if let Some(p) = &ev.partners {
            if n <= p.readers {
                facts.push(format!(
                    "linked to {} live connections ({} reading them, by {}): no more of them than connections",
                    p.readers,
                    crate::model::funcname::display_name(&p.reader_function),
                    p.link
                ));
            } else {
                facts.push(format!(
                    "{} more than the {} live connections they belong to ({} reading them, by {}): the rest lost their connection",
                    n - p.readers,
                    p.readers,
                    crate::model::funcname::display_name(&p.reader_function),
                    p.link
                ));
            }
        }
        if let Some([frame, what]) = &ev.client_call {
            facts.push(format!("inside a {what} call ({frame})"));
        }
        if ev.blocked_rollbacks > 0 {
            facts.push(format!(
                "{} transaction(s) in this capture are blocked rolling back after their context ended: the query holding their connection ignores the cancelled context",
                ev.blocked_rollbacks
            ));
        }
        if ev.open_response_bodies {
            facts.push("net/http read loops parked waiting for their response body to be read or closed: bodies are being held open".to_owned());
        } else if ev.connections_with_open_bodies > 0 {
            facts.push(format!(
                "{} of these write loops belong to connections whose read loop holds a response body open (each connection has one of each)",
                ev.connections_with_open_bodies
            ));
        }
        if ev.parked_inferred_from_count {
            facts.push(format!(
                "the capture records no states and hides the runtime frames, but {n} goroutines at one stack can't all be running (at most GOMAXPROCS run at once): they are parked"
            ));
        }
        if let Some(te) = &ev.trace {
            let whole_window = te.window_ns.filter(|_| te.blocked_before_trace > 0);
            if let Some(span) = whole_window {
                // The block began before the window did: its length is a lower bound only.
                facts.push(format!(
                    "{} blocked for the whole {} window; the snapshot does not show when {} started",
                    te.blocked_before_trace,
                    human_ns(span),
                    if te.blocked_before_trace == 1 { "it" } else { "they" }
                ));
            }
            if let Some([lo, hi]) = te
                .blocked_ns
                .filter(|_| whole_window.is_none() || te.blocked_at_end > te.blocked_before_trace)
            {
                let mut line = format!(
                    "{} parked at the end of the trace and not woken since, blocked for {}–{}",
                    te.blocked_at_end,
                    human_ns(lo),
                    human_ns(hi)
                );
                if te.blocked_before_trace > 0 {
                    let _ = write!(line, " ({} since before the trace began)", te.blocked_before_trace);
                }
                facts.push(line);
            }
            if te.blocked_after_cut > 0 {
                facts.push(format!(
                    "{} blocked after the trace's last generation began, and the file is cut off inside that generation: the event that woke {} may be in the part the cut lost",
                    te.blocked_after_cut,
                    if te.blocked_after_cut == 1 { "it" } else { "them" }
                ));
            }
            if te.never_woken > 0 && te.never_woken < te.blocked_at_end {
                facts.push(format!("{} were never woken during the trace", te.never_woken));
            }
            if te.orphaned > 0 {
                facts.push(format!(
                    "{} were orphaned during the trace: their creator ended while they stayed parked",
                    te.orphaned
                ));
            }
            if let Some(site) = &te.site {
                facts.push(format!(
                    "{} goroutines start there: {} alive when the trace began, {} created and {} ended during it, {} alive at the end",
                    fam.key.start, site.alive_at_start, site.created, site.ended, site.alive_at_end
                ));
            }
        }
        if let Some([lo, hi]) = ev.wait_minutes {
            facts.push(format!("waiting {lo}-{hi} minutes (the dump prints whole minutes)"));
        }
        if ev.creation_site_total > n {
            facts.push(format!(
                "{} parked goroutines come from the same creation site",
                ev.creation_site_total
            ));
        }
        if let Some(g) = growth.filter(|_| primary == RuleId::PileUp) {
            facts.push(format!(
                "the queue grew from {} to {}: whoever holds the lock is not letting go",
                g.before, g.after
            ));
        }
        if let Some(g) = growth.filter(|_| primary != RuleId::PileUp) {
            let what = if baselines > 1 {
                "across the series"
            } else if baselines == 0 {
                "during the trace, and none of them ended"
            } else {
                "since the baseline"
            };
            let mut line = format!(
                "grew from {} to {} (+{}) {what}",
                g.before,
                g.after,
                g.after.saturating_sub(g.before)
            );
            if !g.series.is_empty() {
                let row: Vec<String> = g.series.iter().map(ToString::to_string).collect();
                line.push_str(": ");
                line.push_str(&row.join(" → "));
            }
            facts.push(line);
        }

        let mut explanation = Vec::new();
        let mut fix = Vec::new();
        let window = ev.trace.as_ref().and_then(|te| te.window_ns.filter(|_| te.blocked_before_trace >= n));
        for rule in rules {
            let (mut e, f) = rule_text(*rule, fam, client, capture);
            if let (RuleId::LongWait, Some(span)) = (rule, window) {
                e = format!(
                    "Nothing woke them during the whole {} window, while the program around them kept running. The window is all the trace holds (a flight-recorder snapshot or a trace begun while the program ran): it cannot say when they blocked or who started them, only that it was before. A goroutine parked for good looks like this; so does an idle one waiting for rare work, which a later snapshot tells apart: a leak grows.",
                    human_ns(span)
                );
            }
            if !e.is_empty() {
                explanation.push(e);
            }
            if !f.is_empty() && !fix.contains(&f) {
                fix.push(f);
            }
        }
        Texts { title, facts, explanation: explanation.join(" "), fix: fix.join(" ") }
    }
}

fn channel_fix(wait: WaitKind) -> &'static str {
    match wait {
        WaitKind::Sleep => {
            "Replace time.Sleep in request-started goroutines with a select on a timer and ctx.Done(), and run deferred work on a bounded worker pool that stops on shutdown instead of one `go func()` per request."
        }
        WaitKind::Sync => {
            "Make sure every path that takes the lock or Adds to the WaitGroup releases it (defer mu.Unlock(), defer wg.Done()), and give the waiter a way out on ctx.Done()."
        }
        _ => {
            "Every context.WithCancel/WithTimeout needs `defer cancel()` right after it. Goroutines started by a handler must take the request's context (r.Context()) and return when it is done: give every channel wait a `case <-ctx.Done(): return`, and make reply channels buffered (make(chan T, 1)) so a sender never blocks after its receiver left. Work that must outlive the request belongs on a bounded worker pool with its own lifecycle, not in a fire-and-forget `go func()`."
        }
    }
}

fn rule_text(
    rule: RuleId,
    fam: &FamilyView<'_>,
    client: Option<ClientCall>,
    _capture: &Capture,
) -> (String, String) {
    match rule {
        RuleId::RuntimeProven if fam.deadlock => (
            "The Go runtime's deadlock detector stopped the program: every goroutine was blocked with nothing left that could wake it. These goroutines are part of that deadlock.".to_owned(),
            "Find the wait that should have been satisfied (a send nobody makes, a WaitGroup whose Done is never called, a channel never closed): the usual fixes are closing the channel when the producer is done, calling wg.Done() in a defer, and making every wait selectable with a context.".to_owned(),
        ),
        RuleId::RuntimeProven => (
            "The Go runtime's goroutine leak detector (a GC pass that finds goroutines blocked on objects nothing reachable refers to) marked these goroutines leaked; it has no false positives. It misses sleeps, IO, timers and anything still reachable, so its silence about other goroutines proves nothing.".to_owned(),
            channel_fix(fam.wait).to_owned(),
        ),
        RuleId::NeverWakes => (
            "A receive or send on a nil channel, or an empty `select {}`, blocks forever: nothing can ever wake these goroutines.".to_owned(),
            "Initialise the channel before use (a nil channel usually means a struct field or map entry that was never made), or replace `select {}` with a wait on a context or a signal so the goroutine can end.".to_owned(),
        ),
        RuleId::OutlivedRequest => {
            let what = match fam.wait {
                WaitKind::Sleep => "They sleep on after the request that started them ended: fire-and-forget work not bound to the request, so every request leaves one behind until the timer fires (or forever if it never does).",
                WaitKind::Sync => "They wait on a lock or WaitGroup after the request that started them ended; whoever should release it is gone.",
                _ => "They are parked on a channel after the request that started them ended. This is the shape of a context that is never cancelled (goroutines waiting on `<-ctx.Done()` of a context whose cancel function was dropped) or of a fire-and-forget goroutine waiting for a reply or an ack that no one will send.",
            };
            (
                format!("{what} Nothing in the request path will wake them, so each request adds goroutines (and their stacks and everything they reference) that never go away."),
                channel_fix(fam.wait).to_owned(),
            )
        }
        RuleId::BlockedClientCall => {
            let what = client.map_or("a client library", |c| c.client);
            (
                format!("These goroutines are inside a {what} call waiting for something outside the process (a server, a connection from a pool, a driver's reply). A call without a deadline waits as long as the other side does; a typical cause is a client taken from ctx.Value without its own timeouts, or a driver that ignores the context."),
                client.map_or("Give every outbound call a deadline (a context with a timeout) and configure the client's dial, read and write timeouts.", |c| c.fix).to_owned(),
            )
        }
        RuleId::ConnPoolGrowth => (
            "These are per-connection read/write loops. Far more of them than the pool needs (or a number that keeps growing) means connections are opened and never reused or closed: response bodies not closed, a new http.Transport or client per request, or loops that watch no context.".to_owned(),
            "Close every resp.Body (defer resp.Body.Close(), and drain it), share one http.Client/Transport per process, bound it with MaxConnsPerHost/MaxIdleConnsPerHost and IdleConnTimeout, and make per-connection loops exit on the connection's context.".to_owned(),
        ),
        RuleId::ContextPropagation => (
            "The context package starts one goroutine per derived context when the parent is a Context type it can't hook into directly (a custom Context implementation); each waits until parent or child is done. They pile up when the derived contexts are never cancelled.".to_owned(),
            "Call the cancel function of every WithCancel/WithTimeout/WithDeadline (defer cancel()), and avoid wrapping contexts in custom types (or implement them by embedding the parent context so the standard propagation applies).".to_owned(),
        ),
        RuleId::Growing => (
            "The same creation site and wait site holds more goroutines in the later capture than in the earlier one, without shrinking on the way: goroutines are created faster than they end.".to_owned(),
            String::new(),
        ),
        RuleId::LongWait => (
            "They have been parked far longer than any request or job should take, in a wait no other rule explains.".to_owned(),
            "Check who is supposed to wake this wait (send on the channel, release the lock) and give the wait a timeout or a context so it can give up.".to_owned(),
        ),
        RuleId::ParkedCrowd => (
            format!("An unusually large number of goroutines ({}) from one creation site sit parked with nothing visibly about to wake them. A bounded worker pool is sized by configuration; a crowd this size usually grows with traffic. Take a second capture later: if this family grows, it leaks.", fam.count),
            "If these are workers, bound their number; otherwise make each one exit on a context or a done channel.".to_owned(),
        ),
        RuleId::NeverSettled
        | RuleId::PendingAtExit
        | RuleId::NeverEnded
        | RuleId::OpenSpan
        | RuleId::IdleThread
        | RuleId::HeapGrowth => (String::new(), String::new()),
        RuleId::PileUp => (
            "Many goroutines are queued on one mutex or WaitGroup at the same site. That is contention or a hang (a holder that doesn't release), not a leak by itself.".to_owned(),
            "Find the holder (look for the goroutine inside the critical section), shorten what runs under the lock, and make sure every Lock has its Unlock on all paths.".to_owned(),
        ),
    }
}

/// Why in-use heap growth at one site is a leak.
pub(super) fn heap_growth_explanation() -> String {
    "The memory allocated at this site and still reachable after a garbage collection grew between the heap profiles, by more than the profile's sampling can explain: something keeps what it allocates alive (a goroutine that never ends and holds it on its stack or in its closure, a connection whose response body was never closed, a map or slice that is only ever added to). Allocated bytes (alloc_space) grow in every running program; only in-use growth that keeps on growing is a leak.".to_owned()
}

/// What to change for a heap-growth finding.
pub(super) fn heap_growth_fix() -> String {
    "Find who holds the memory: if a goroutine finding of the same program shares frames with these stacks, fix that leak first (each leaked goroutine keeps its stack and everything it references). Otherwise bound what the site fills (evict from caches and maps, cap queues), close response bodies and other resources, and take another pair of heap profiles (`/debug/pprof/heap?gc=1`) to check that in-use memory levels off.".to_owned()
}

/// What the texts of an async finding need besides its evidence.
#[derive(Clone, Debug)]
pub(super) struct AsyncView {
    /// Operations, tasks, threads or spans in the finding.
    pub count: u64,
    /// The capture's length.
    pub span_ns: i64,
    /// The functions of the finding's stack, innermost first, without their locations.
    pub chain: Vec<String>,
}

impl AsyncView {
    /// ` in F ← G` for titles: where the tasks or threads wait.
    fn site(&self) -> String {
        if self.chain.is_empty() {
            return String::new();
        }
        let chain: Vec<&str> = self.chain.iter().take(3).map(String::as_str).collect();
        format!(" in {}", chain.join(" ← "))
    }
}

/// How people call an origin resource: a Node.js `HTTPINCOMINGMESSAGE` run is a request.
fn origin_noun(origin: &str, n: u64) -> String {
    let (one, many) = match origin {
        "HTTPINCOMINGMESSAGE" => ("request", "requests"),
        "HTTPCLIENTREQUEST" => ("outgoing request", "outgoing requests"),
        "Timeout" => ("timer run", "timer runs"),
        "TCPWRAP" | "PIPEWRAP" | "TLSWRAP" => ("connection event", "connection events"),
        "(outside the trace)" => ("run of the main module", "runs of the main module"),
        _ => return plural(n, &format!("{origin} run"), &format!("{origin} runs")),
    };
    plural(n, one, many)
}

fn op_noun(op: &str, n: u64) -> String {
    match op {
        "PROMISE" => plural(n, "promise", "promises"),
        _ => plural(n, op, op),
    }
}

fn range_ns([lo, hi]: [i64; 2]) -> String {
    if human_ns(lo) == human_ns(hi) { human_ns(lo) } else { format!("{}–{}", human_ns(lo), human_ns(hi)) }
}

/// Title, facts, explanation and fix of a finding of the async rules.
pub(super) fn async_texts(rule: RuleId, v: &AsyncView, ev: &AsyncEvidence) -> Texts {
    let n = v.count;
    let kind = ev.lane_kind.clone().unwrap_or_default();
    let mut facts = Vec::new();
    let of_trace = format!("the capture spans {}", human_ns(v.span_ns));
    let (title, explanation, fix) = match rule {
        RuleId::NeverSettled => {
            let origin = ev.origin.as_deref().unwrap_or("origin");
            let each = ev.per_origin.len() as u64;
            let title = format!(
                "{} each left {} that never {} ({} pending)",
                origin_noun(origin, ev.origins),
                op_noun(&ev.what, each),
                if each == 1 { "settles" } else { "settle" },
                n
            );
            let cat = ev.category.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
            facts.push(format!("{n} {}{cat} created and never destroyed by the end of the trace", ev.what));
            if let Some(ended) = ev.ended {
                let longest = ev
                    .longest_ended_ns
                    .map(|d| format!(", the longest in {}", human_ns(d)))
                    .unwrap_or_default();
                facts.push(format!("{ended} {} of the same type did finish{longest}", ev.what));
            }
            let shape: Vec<String> = ev
                .per_origin
                .iter()
                .map(|(op, links)| match links {
                    1 => format!("{op} created by the {origin} itself"),
                    k => format!("{op} {k} links down its trigger chain"),
                })
                .collect();
            facts.push(format!(
                "{} ({origin}, found by following triggerAsyncId up from each pending one) left the same shape: {}",
                origin_noun(origin, ev.origins),
                shape.join("; ")
            ));
            if let Some(r) = ev.open_ns {
                facts.push(format!("pending for {} at the end ({of_trace})", range_ns(r)));
            }
            let what = if ev.what == "PROMISE" {
                "A promise is destroyed once it is garbage collected; one still there at the end never settled and is still referenced (from a list of waiters, a map, a closure)."
            } else {
                "A one-shot request (file system, DNS, write) that never completed is still waiting on the operating system or a peer."
            };
            (
                title,
                format!(
                    "Node.js async_hooks saw these created and never destroyed. {what} Several {} leaving exactly the same unfinished shape is one code path that leaks every time it runs: fire-and-forget work not bound to the request, or a wait nobody resolves. Each one keeps its closure and everything it references alive.",
                    origin_noun(origin, 2).trim_start_matches("2 ")
                ),
                "Make every wait settle on every path: release locks and resolve waiters in a `finally`, reject pending waits on timeout or shutdown (AbortSignal.timeout, an AbortController tied to the request's 'close'), remove a waiter from its list when it gives up, and await (or explicitly bound) async calls started by a handler instead of firing and forgetting them.".to_owned(),
            )
        }
        RuleId::NeverEnded => {
            let cat = ev.category.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
            let title = format!("{} {}{cat} began and never ended", n, ev.what);
            if let Some(r) = ev.open_ns {
                facts.push(format!("open for {} at the end ({of_trace})", range_ns(r)));
            }
            match (ev.ended, ev.longest_ended_ns) {
                (Some(e), Some(d)) if e > 0 => facts.push(format!(
                    "{e} of the same name ended, the longest after {}: these have been open longer than any of them",
                    human_ns(d)
                )),
                _ => facts.push("none of the same name ended during the capture".to_owned()),
            }
            (
                title,
                "These async operations (`b` without `e`) began and were still open when the capture stopped, for longer than any operation of their kind that did end took. The trace does not say what created them, so they may be slow rather than stuck; a longer capture tells.".to_owned(),
                "Find the code that ends this operation (the `e` event, the callback that settles it) and make sure every path reaches it, including errors, timeouts and cancellation.".to_owned(),
            )
        }
        RuleId::PendingAtExit => {
            let at = v.site();
            let title = format!(
                "{} ({kind}) still pending when the event loop shut down, suspended{at}",
                plural(n, "asyncio task", "asyncio tasks")
            );
            let by = ev.ended_by.as_deref().unwrap_or("asyncio.run");
            facts.push(format!(
                "cancelled by {by}: asyncio.run cancels the tasks still pending when its main coroutine returns"
            ));
            if let Some(r) = ev.open_ns {
                facts.push(format!("suspended for {} before that ({of_trace})", range_ns(r)));
            }
            if let Some(done) = ev.ended.filter(|&d| d > 0) {
                facts.push(format!("{done} other {kind} tasks finished on their own"));
            }
            (
                title,
                "These tasks were suspended at an await that nothing completed (a queue nobody feeds, an event nobody sets, a future nobody resolves) until the program shut the loop down. In a long-running service the same tasks would stay pending forever, each holding its frame and what it references.".to_owned(),
                "Give every consumer a way to end: send a sentinel or close the queue when the producer is done, await with asyncio.timeout()/wait_for, and cancel (and await) the tasks you start when their owner finishes, e.g. with an asyncio.TaskGroup bound to the work's lifetime.".to_owned(),
            )
        }
        RuleId::IdleThread => {
            let at = v.site();
            let title = format!("{} ({kind}) alive at the end, idle{at}", plural(n, "thread", "threads"));
            if let (Some(r), Some(share)) = (ev.open_ns, ev.blocked_share) {
                facts.push(format!(
                    "blocked {} in that call, at least {:.0}% of their lifetime",
                    range_ns(r),
                    share * 100.0
                ));
            }
            if ev.joined_at_exit > 0 {
                let by = ev.ended_by.as_deref().map(|b| format!(" ({b})")).unwrap_or_default();
                facts.push(format!(
                    "{} ended only when another thread joined them at the end{by}",
                    ev.joined_at_exit
                ));
            }
            (
                title,
                "These threads spent (nearly) their whole life waiting in one call and were still waiting at the end: their work is done or never came, but nothing told them to stop. Alone that is not proof of a leak (a deliberately idle thread looks the same), hence the lower severity; many of them, or more in a later capture, is.".to_owned(),
                "Stop threads when their work is done rather than at exit: signal them (an Event, a sentinel on their queue, a closed channel) when the work they serve ends and join them there, or run the work on a bounded pool.".to_owned(),
            )
        }
        // OpenSpan; the goroutine rules never come here.
        _ => {
            let title = format!("{} never ended on {kind} threads{}", plural(n, "span", "spans"), v.site());
            if let Some(r) = ev.open_ns {
                facts.push(format!("open for {} at the end ({of_trace})", range_ns(r)));
            }
            (
                title,
                "These spans began (`B`) and never ended (`E`): the threads were still inside that call when the capture stopped, for a large part of it. A call that never returns on a thread that is not the main thread is a thread stuck or leaked.".to_owned(),
                "Find what the call waits for and give it a timeout or a cancellation path; make sure the thread leaves the call on shutdown.".to_owned(),
            )
        }
    };
    Texts { title, facts, explanation, fix }
}

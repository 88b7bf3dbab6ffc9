//! Each leak rule on small dumps written in the test: the shapes that must be flagged, the
//! healthy shapes that must not, and how rules combine.

// Test fixtures panic on bad input by design: a broken fixture should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::format_push_string)]

use leakscope_core::analysis::leaks::{self, Analysis, Config, IgnoreScope, RuleId, Severity};
use leakscope_core::load::Bytes;
use leakscope_core::{Capture, LoadOptions, Progress};

/// One goroutine block: `frames` innermost first; `created_by` is (function, parent id).
fn g(id: u64, state: &str, frames: &[&str], created_by: Option<(&str, Option<u64>)>) -> String {
    let mut s = format!("goroutine {id} [{state}]:\n");
    for (i, f) in frames.iter().enumerate() {
        s.push_str(&format!("{f}(0x1, 0x2)\n\t/src/app/file.go:{} +0x1f\n", 10 + i));
    }
    if let Some((creator, parent)) = created_by {
        match parent {
            Some(p) => s.push_str(&format!("created by {creator} in goroutine {p}\n")),
            None => s.push_str(&format!("created by {creator}\n")),
        }
        s.push_str("\t/src/app/file.go:99 +0x55\n");
    }
    s.push('\n');
    s
}

/// The main goroutine in an accept loop, as every server has.
fn main_goroutine() -> String {
    g(
        1,
        "IO wait",
        &[
            "internal/poll.runtime_pollWait",
            "net.(*TCPListener).Accept",
            "net/http.(*Server).Serve",
            "main.main",
        ],
        None,
    )
}

fn parse(text: &str) -> Vec<Capture> {
    let bytes = Bytes::Owned(text.as_bytes().to_vec());
    leakscope_core::open_bytes("test", bytes, &LoadOptions::default(), &Progress::new()).unwrap()
}

fn analyse(text: &str) -> Analysis {
    let c = parse(text).pop().unwrap();
    leaks::analyze(&c, None, &Config::default())
}

fn rules(a: &Analysis) -> Vec<(RuleId, Severity, u64)> {
    a.findings.iter().map(|f| (f.rule, f.severity, f.count)).collect()
}

/// `n` goroutines from `first_id` with the same shape.
fn many(
    n: u64,
    first_id: u64,
    state: &str,
    frames: &[&str],
    created_by: Option<(&str, Option<u64>)>,
) -> String {
    (0..n).map(|i| g(first_id + i, state, frames, created_by)).collect()
}

#[test]
fn orphan_parked_after_its_request_outlived_it() {
    let dump = main_goroutine()
        + &many(
            3,
            100,
            "chan receive",
            &["github.com/acme/orders.(*Service).watch"],
            Some(("github.com/acme/orders.(*Service).Create", Some(57))),
        );
    let a = analyse(&dump);
    assert_eq!(rules(&a), [(RuleId::OutlivedRequest, Severity::Likely, 3)]);
    let f = &a.findings[0];
    assert_eq!(f.evidence.parents.as_ref().unwrap().gone, 3);
    assert!(f.fix.contains("defer cancel()"), "{}", f.fix);
}

#[test]
fn worker_pool_started_by_main_is_healthy() {
    let dump = main_goroutine()
        + &many(
            16,
            10,
            "chan receive",
            &["github.com/acme/jobs.(*Pool).worker"],
            Some(("github.com/acme/jobs.NewPool", Some(1))),
        );
    assert!(analyse(&dump).findings.is_empty());
}

#[test]
fn child_of_a_keep_alive_connection_idle_between_requests_outlived_its_request() {
    let idle_conn = g(
        57,
        "IO wait",
        &[
            "internal/poll.runtime_pollWait",
            "net.(*conn).Read",
            "net/http.(*connReader).Read",
            "bufio.(*Reader).Peek",
            "net/http.(*conn).serve",
        ],
        Some(("net/http.(*Server).Serve", Some(1))),
    );
    let dump = main_goroutine()
        + &idle_conn
        + &g(
            200,
            "select",
            &["github.com/acme/feed.poll"],
            Some(("github.com/acme/feed.(*API).Subscribe", Some(57))),
        );
    let a = analyse(&dump);
    assert_eq!(rules(&a), [(RuleId::OutlivedRequest, Severity::Likely, 1)]);
    assert_eq!(a.findings[0].evidence.parents.as_ref().unwrap().request_over, 1);
}

#[test]
fn goroutine_of_a_request_still_in_flight_is_not_flagged() {
    let busy = g(
        57,
        "chan receive",
        &["github.com/acme/api.(*API).Report", "net/http.HandlerFunc.ServeHTTP", "net/http.(*conn).serve"],
        Some(("net/http.(*Server).Serve", Some(1))),
    );
    let child = g(
        200,
        "chan send",
        &["github.com/acme/api.(*API).Report.func1"],
        Some(("github.com/acme/api.(*API).Report", Some(57))),
    );
    assert!(analyse(&(main_goroutine() + &busy + &child)).findings.is_empty());
}

#[test]
fn pre_go121_dump_uses_the_creator_and_whether_anyone_still_runs_it() {
    // Go 1.20 prints no parent ids. A handler-named creator that no goroutine is inside any more
    // means every request that started these is over.
    let dump = main_goroutine()
        + &many(4, 100, "chan receive", &["main.waitAck"], Some(("main.handleUpload", None)));
    assert_eq!(rules(&analyse(&dump)), [(RuleId::OutlivedRequest, Severity::Likely, 4)]);
    // ... but not while a request is still inside it.
    let busy = g(
        57,
        "select",
        &["main.handleUpload", "net/http.HandlerFunc.ServeHTTP", "net/http.(*conn).serve"],
        Some(("net/http.(*Server).Serve", None)),
    );
    assert!(analyse(&(dump + &busy)).findings.is_empty());
}

#[test]
fn runtime_marked_goroutines_are_proven_and_combine_with_other_rules() {
    let dump = main_goroutine()
        + &many(2, 100, "chan receive (leaked)", &["main.waitForRelease"], Some(("main.handler", Some(40))));
    let a = analyse(&dump);
    assert_eq!(a.findings.len(), 1, "one finding with both facts");
    let f = &a.findings[0];
    assert_eq!((f.rule, f.severity), (RuleId::RuntimeProven, Severity::Proven));
    assert_eq!(f.rules, [RuleId::RuntimeProven, RuleId::OutlivedRequest]);
    assert_eq!(f.evidence.runtime_marked, 2);
}

#[test]
fn nil_channels_never_wake_but_main_in_select_forever_is_fine() {
    let nil = many(
        2,
        100,
        "chan receive (nil chan)",
        &["github.com/acme/bus.(*Sub).loop"],
        Some(("github.com/acme/bus.New", Some(1))),
    );
    let main_forever = g(1, "select (no cases)", &["main.main"], None);
    let a = analyse(&(main_forever + &nil));
    assert_eq!(rules(&a), [(RuleId::NeverWakes, Severity::Proven, 2)]);
}

#[test]
fn stuck_client_calls_by_count_and_wait() {
    let query = [
        "github.com/lib/pq.(*conn).recv",
        "database/sql.ctxDriverQuery",
        "database/sql.(*DB).queryDC",
        "database/sql.(*DB).QueryContext",
        "github.com/acme/api.(*Store).Orders",
        "net/http.HandlerFunc.ServeHTTP",
        "net/http.(*conn).serve",
    ];
    let serve = Some(("net/http.(*Server).Serve", Some(1)));
    // Many requests parked inside a query: likely.
    let a = analyse(&(main_goroutine() + &many(12, 100, "chan receive", &query, serve)));
    assert_eq!(rules(&a), [(RuleId::BlockedClientCall, Severity::Likely, 12)]);
    assert!(a.findings[0].fix.contains("timeout"));
    // Two: possible (could be in-flight traffic).
    let a = analyse(&(main_goroutine() + &many(2, 100, "select", &query, serve)));
    assert_eq!(rules(&a), [(RuleId::BlockedClientCall, Severity::Possible, 2)]);
    // In-flight reads on the wire are traffic, not a finding ...
    assert!(analyse(&(main_goroutine() + &many(2, 100, "IO wait", &query, serve))).findings.is_empty());
    // ... unless they have waited for long.
    let a = analyse(&(main_goroutine() + &many(2, 100, "IO wait, 30 minutes", &query, serve)));
    assert_eq!(rules(&a), [(RuleId::BlockedClientCall, Severity::Likely, 2)]);
}

#[test]
fn transaction_watcher_waiting_for_its_context_is_healthy_but_blocked_rollback_is_not() {
    let waiting = g(
        300,
        "chan receive",
        &["database/sql.(*Tx).awaitDone"],
        Some(("database/sql.(*DB).beginDC", Some(1))),
    );
    assert!(analyse(&(main_goroutine() + &waiting)).findings.is_empty());
    let blocked = [
        "sync.runtime_notifyListWait",
        "sync.(*Cond).Wait",
        "database/sql.(*closingMutex).Lock",
        "database/sql.(*Tx).rollback",
        "database/sql.(*Tx).awaitDone",
    ];
    let a = analyse(
        &(main_goroutine()
            + &many(12, 300, "sync.Cond.Wait", &blocked, Some(("database/sql.(*DB).beginDC", Some(1))))),
    );
    assert_eq!(rules(&a), [(RuleId::BlockedClientCall, Severity::Likely, 12)]);
}

#[test]
fn connection_loops_far_above_a_sane_number() {
    let read = ["net/http.(*persistConn).readLoop"];
    let creator = Some(("net/http.(*Transport).dialConn", Some(1)));
    assert!(analyse(&(main_goroutine() + &many(4, 100, "select", &read, creator))).findings.is_empty());
    let a = analyse(&(main_goroutine() + &many(150, 100, "select", &read, creator)));
    assert_eq!(rules(&a), [(RuleId::ConnPoolGrowth, Severity::Likely, 150)]);
}

#[test]
fn context_propagation_goroutines_pile_up() {
    let frames = ["context.(*cancelCtx).propagateCancel.func2"];
    let a = analyse(
        &(main_goroutine()
            + &many(20, 100, "select", &frames, Some(("context.(*cancelCtx).propagateCancel", Some(1))))),
    );
    assert_eq!(rules(&a), [(RuleId::ContextPropagation, Severity::Likely, 20)]);
}

#[test]
fn long_waits_and_crowds_are_possible_leaks() {
    let a = analyse(
        &(main_goroutine()
            + &g(
                10,
                "chan receive, 45 minutes",
                &["github.com/acme/x.(*T).wait"],
                Some(("github.com/acme/x.Start", Some(1))),
            )),
    );
    assert_eq!(rules(&a), [(RuleId::LongWait, Severity::Possible, 1)]);
    let crowd = many(
        150,
        10,
        "chan receive",
        &["github.com/acme/x.(*T).wait"],
        Some(("github.com/acme/x.Start", Some(1))),
    );
    assert_eq!(
        rules(&analyse(&(main_goroutine() + &crowd))),
        [(RuleId::ParkedCrowd, Severity::Possible, 150)]
    );
}

#[test]
fn lock_pile_up_is_a_warning_not_a_leak() {
    let frames =
        ["internal/sync.runtime_SemacquireMutex", "sync.(*Mutex).Lock", "github.com/acme/x.(*Cache).Get"];
    let a = analyse(
        &(main_goroutine()
            + &many(20, 10, "sync.Mutex.Lock", &frames, Some(("github.com/acme/x.Start", Some(1))))),
    );
    assert_eq!(rules(&a), [(RuleId::PileUp, Severity::Warning, 20)]);
    assert!(!a.fails_at(Severity::Possible));
}

#[test]
fn healthy_furniture_is_never_flagged() {
    let dump = main_goroutine()
        + &many(
            3,
            20,
            "select",
            &["database/sql.(*DB).connectionOpener"],
            Some(("database/sql.OpenDB", Some(1))),
        )
        + &g(
            30,
            "IO wait",
            &["internal/poll.runtime_pollWait", "net.(*conn).Read", "net/http.(*connReader).backgroundRead"],
            Some(("net/http.(*connReader).startBackgroundRead", Some(77))),
        )
        + &g(
            31,
            "syscall",
            &["os/signal.signal_recv", "os/signal.loop"],
            Some(("os/signal.Notify.func1.1", Some(1))),
        )
        + &g(
            32,
            "GC worker (idle)",
            &["runtime.gopark", "runtime.gcBgMarkWorker", "runtime.goexit"],
            Some(("runtime.gcBgMarkStartWorkers", Some(1))),
        )
        + &g(
            33,
            "running",
            &["runtime/pprof.writeGoroutineStacks", "net/http/pprof.Index", "net/http.(*conn).serve"],
            Some(("net/http.(*Server).Serve", Some(1))),
        );
    let a = analyse(&dump);
    assert!(a.findings.is_empty(), "{:?}", rules(&a));
    // The accept loop, three openers, the keep-alive reader, signals, a GC worker, the dumper.
    assert_eq!(a.benign.iter().map(|b| b.count).sum::<u64>(), 8);
}

#[test]
fn growth_against_a_baseline_and_along_a_series() {
    let leak = |n, first| {
        many(
            n,
            first,
            "chan receive",
            &["github.com/acme/x.(*T).wait"],
            Some(("github.com/acme/x.(*API).Get", Some(1))),
        )
    };
    let before = parse(&(main_goroutine() + &leak(5, 100))).pop().unwrap();
    let after = parse(&(main_goroutine() + &leak(50, 100))).pop().unwrap();
    let a = leaks::analyze(&after, Some(&before), &Config::default());
    assert_eq!(rules(&a), [(RuleId::Growing, Severity::Likely, 50)]);
    assert_eq!(a.findings[0].growth.as_ref().map(|g| (g.before, g.after)), Some((5, 50)));
    // A little noise is not growth.
    let after = parse(&(main_goroutine() + &leak(7, 100))).pop().unwrap();
    assert!(leaks::analyze(&after, Some(&before), &Config::default()).findings.is_empty());
    // Three dumps in one file, oldest first: a series that only grows.
    let file = [5, 20, 60].iter().map(|&n| main_goroutine() + &leak(n, 100)).collect::<String>();
    let series = parse(&file);
    assert_eq!(series.len(), 3);
    let refs: Vec<&Capture> = series.iter().collect();
    let a = leaks::analyze_series(&refs, &Config::default());
    assert_eq!(a.findings[0].growth.as_ref().map(|g| g.series.clone()), Some(vec![5, 20, 60]));
}

#[test]
fn ignore_rules_remove_families_and_say_so() {
    let dump = main_goroutine()
        + &many(
            3,
            100,
            "chan receive",
            &["github.com/acme/orders.(*Service).watch"],
            Some(("github.com/acme/orders.(*Service).Create", Some(57))),
        );
    let c = parse(&dump).pop().unwrap();
    let mut config = Config::default();
    config.add_ignore(r"orders\.\(\*Service\)\.watch$", IgnoreScope::Anywhere, None, None).unwrap();
    let a = leaks::analyze(&c, None, &config);
    assert!(a.findings.is_empty());
    assert_eq!(a.ignored.len(), 1);
    let config = Config::from_toml(
        "[[ignore]]\ncreated_by = 'orders'\nreason = 'known'\n",
        std::path::Path::new("leakscope.toml"),
    )
    .unwrap();
    let a = leaks::analyze(&c, None, &config);
    assert_eq!(a.ignored[0].reason, "known");
}

//! What leakscope knows about Go programs, in one place: the goroutines every healthy server
//! has (never reported), what request-serving code looks like, which frames are calls into a
//! client library waiting on something outside the process, and which are connection loops or
//! context plumbing.
//!
//! Everything here matches on the *shape* of standard-library and well-known library stacks, not
//! on any particular program. Users add their own exceptions with ignore rules (`--ignore`,
//! `leakscope.toml`), as with goleak's `IgnoreTopFunction` and `IgnoreCreatedBy`.

/// Why a goroutine is part of a healthy program's furniture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Benign {
    /// Short name of the pattern.
    pub name: &'static str,
    /// Why it is not a leak, for people.
    pub why: &'static str,
}

/// Whether a function matches a pattern of this module. A pattern ending in `.`, `(` or `/` (a
/// package or type) matches by prefix; any other pattern names one function, which matches
/// itself and its closures (`F.func1`, `F.func1.2`), never a longer name (`F.gowrap3` is
/// compiler glue that can sit on any stack, `Serve` must not match `ServeHTTP`).
pub fn frame_matches(func: &str, pattern: &str) -> bool {
    if pattern.ends_with(['.', '(', '/']) {
        return func.starts_with(pattern);
    }
    match func.strip_prefix(pattern) {
        Some("") => true,
        Some(rest) => rest.strip_prefix(".func").is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit())),
        None => false,
    }
}

/// A benign pattern: matches when any of `frames` appears in the stack (see [`frame_matches`]),
/// or when the creator matches one of `creators`.
struct BenignPattern {
    benign: Benign,
    frames: &'static [&'static str],
    creators: &'static [&'static str],
}

const BENIGN: &[BenignPattern] = &[
    BenignPattern {
        benign: Benign { name: "accept loop", why: "a server's listener waiting for the next connection" },
        frames: &["net.(*TCPListener).Accept", "net.(*UnixListener).Accept", "net/http.(*Server).Serve"],
        creators: &[],
    },
    BenignPattern {
        benign: Benign {
            name: "idle keep-alive connection",
            why: "an HTTP server connection reading its next request; it ends when the client closes it or the idle timeout fires",
        },
        frames: &[
            "net/http.(*connReader).backgroundRead",
            "net/http.(*conn).readRequest",
            "net/http.(*connReader).Read",
        ],
        creators: &["net/http.(*connReader).startBackgroundRead"],
    },
    BenignPattern {
        benign: Benign {
            name: "database/sql pool maintenance",
            why: "database/sql's connection opener, resetter and cleaner live as long as the *sql.DB",
        },
        frames: &[
            "database/sql.(*DB).connectionOpener",
            "database/sql.(*DB).connectionResetter",
            "database/sql.(*DB).connectionCleaner",
        ],
        creators: &[],
    },
    BenignPattern {
        benign: Benign { name: "signal handling", why: "os/signal's loop waiting for the next signal" },
        frames: &["os/signal.signal_recv", "os/signal.loop", "os/signal.Notify"],
        creators: &[],
    },
    BenignPattern {
        benign: Benign {
            name: "dump writer",
            why: "the goroutine that was writing this dump (the pprof handler or runtime.Stack caller)",
        },
        frames: &[
            "runtime/pprof.writeGoroutineStacks",
            "runtime/pprof.writeGoroutine",
            "runtime.Stack",
            "runtime/debug.Stack",
        ],
        creators: &[],
    },
    BenignPattern {
        benign: Benign {
            name: "profiler and tracer",
            why: "runtime/pprof and runtime/trace helpers live while profiling or tracing runs",
        },
        frames: &["runtime/pprof.profileWriter", "runtime/trace.Start", "runtime/trace.(*traceMultiplexer)."],
        creators: &["runtime/trace.", "runtime/pprof.StartCPUProfile"],
    },
    BenignPattern {
        benign: Benign {
            name: "test framework",
            why: "the testing package's own goroutines (test runner, alarm, parallel-test coordination)",
        },
        frames: &[
            "testing.(*T).Run",
            "testing.tRunner",
            "testing.runTests",
            "testing.(*M).Run",
            "testing.(*M).startAlarm",
            "testing.(*T).Parallel",
        ],
        creators: &["testing."],
    },
    BenignPattern {
        benign: Benign {
            name: "HTTP/2 connection machinery",
            why: "per-connection frame readers and writers of live HTTP/2 connections",
        },
        frames: &[
            "golang.org/x/net/http2.(*serverConn).serve",
            "golang.org/x/net/http2.(*serverConn).readFrames",
            "net/http.(*http2serverConn).serve",
            "net/http.(*http2serverConn).readFrames",
        ],
        creators: &[],
    },
    BenignPattern {
        benign: Benign {
            name: "log and metrics flushers",
            why: "periodic flush loops of well-known libraries",
        },
        frames: &[
            "go.opencensus.io/stats/view.(*worker).start",
            "k8s.io/klog/v2.(*flushDaemon).run",
            "github.com/golang/glog.(*fileSink).flushDaemon",
        ],
        creators: &[],
    },
];

/// The benign pattern a goroutine matches, if any. `funcs` are its stack, innermost first.
/// Go before 1.21 names the wrapper a `go` statement makes after the function holding the
/// statement (`net/http.(*Server).Serve.func3`), and SIGQUIT dumps print it outermost: it says
/// where the goroutine was created, not what it runs, so it is left out.
pub fn benign(funcs: &[&str], creator: Option<&str>) -> Option<Benign> {
    let is_go_wrapper = |f: &&str| {
        creator.is_some_and(|c| {
            f.strip_prefix(c)
                .and_then(|r| r.strip_prefix(".func"))
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    BENIGN
        .iter()
        .find(|p| {
            funcs.iter().filter(|f| !is_go_wrapper(f)).any(|f| p.frames.iter().any(|m| frame_matches(f, m)))
                || creator.is_some_and(|c| p.creators.iter().any(|m| frame_matches(c, m)))
        })
        .map(|p| p.benign)
}

/// Frames that mark a goroutine as serving a request: HTTP/1 and HTTP/2 connection serving,
/// gRPC's per-RPC handling, fasthttp workers.
const REQUEST_SERVING: &[&str] = &[
    "net/http.(*conn).serve",
    "net/http.serverHandler.ServeHTTP",
    "net/http.(*http2serverConn).runHandler",
    "golang.org/x/net/http2.(*serverConn).runHandler",
    "google.golang.org/grpc.(*Server).processUnaryRPC",
    "google.golang.org/grpc.(*Server).processStreamingRPC",
    "google.golang.org/grpc.(*Server).handleStream",
    "github.com/valyala/fasthttp.(*Server).serveConn",
];

/// Whether a frame is request-serving machinery.
pub fn is_request_serving(func: &str) -> bool {
    REQUEST_SERVING.iter().any(|m| frame_matches(func, m))
}

/// Frames of a request goroutine idle between requests on a keep-alive connection: its last
/// request is over, and anything that request started is on its own.
const IDLE_BETWEEN_REQUESTS: &[&str] =
    &["net/http.(*conn).readRequest", "net/http.(*connReader).Read", "bufio.(*Reader).Peek"];

/// Whether a request goroutine's stack (innermost first) shows it idle between requests.
/// A handler that streams (reads the request body or a hijacked connection) also waits in
/// `connReader.Read`, with its own code on the stack: that one is serving.
pub fn is_idle_between_requests<'a>(funcs: impl IntoIterator<Item = &'a str>) -> bool {
    let funcs: Vec<&str> = funcs.into_iter().collect();
    funcs.iter().any(|f| frame_matches(f, "net/http.(*conn).serve"))
        && funcs.iter().any(|f| IDLE_BETWEEN_REQUESTS.iter().any(|m| frame_matches(f, m)))
        && funcs.iter().all(|f| crate::model::funcname::is_standard_library(f))
}

/// Whether a function's name follows the conventions of request-scoped Go code: `ServeHTTP`
/// methods, `handle...`/`...Handler` functions, middleware and interceptors (and closures inside
/// them, `.funcN`). Used as supporting evidence where a capture has no parent ids (Go < 1.21).
pub fn looks_like_handler(func: &str) -> bool {
    let short = crate::model::funcname::short_name(func);
    // Closures and methods: look at each dotted component ("(*srv).handleUpload.func1").
    short.split('.').any(|part| {
        let part = part.trim_start_matches("(*").trim_end_matches(')');
        let lower = part.to_ascii_lowercase();
        part == "ServeHTTP"
            || lower.starts_with("handle")
            || lower.ends_with("handler")
            || lower.contains("middleware")
            || lower.contains("interceptor")
            || lower.ends_with("endpoint")
            || lower.ends_with("controller")
    })
}

/// A client library a goroutine can be stuck in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientCall {
    /// The client, for people: "database/sql", "net/http client", "gRPC client", ...
    pub client: &'static str,
    /// Whether it is a SQL client (database/sql or a driver), whose stuck calls a blocked
    /// transaction rollback elsewhere in the capture proves.
    pub sql: bool,
    /// What to change, specific to the client.
    pub fix: &'static str,
}

const SQL_FIX: &str = "Give every query a deadline: pass a context with a timeout (context.WithTimeout) to QueryContext/ExecContext/BeginTx, make sure the driver honours it, set db.SetConnMaxLifetime and a server-side statement timeout, and don't keep a *sql.DB or *sql.Tx in ctx.Value where the timeouts of the request can't reach it.";
const HTTP_FIX: &str = "Set http.Client.Timeout (or a per-request context deadline), Transport.ResponseHeaderTimeout and DialContext timeouts, and always close resp.Body. A client pulled from ctx.Value must carry its own timeouts.";
const GRPC_FIX: &str = "Call with a context deadline (context.WithTimeout) on every RPC, configure keepalive so dead connections are detected, and don't reuse a request context after the request ended.";
const KV_FIX: &str = "Configure dial, read and write timeouts on the client and its pool (and a pool wait timeout), and pass a context with a deadline to every command.";

/// Frame prefixes of client calls, with the client they belong to. Pool maintenance and
/// per-connection loops are not here: they are not calls somebody is waiting on.
const CLIENT_CALLS: &[(&str, ClientCall)] = &[
    ("database/sql.(*DB).queryDC", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.(*DB).execDC", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.(*DB).conn", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.(*DB).pingDC", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.(*DB).beginDC", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.(*Conn).grabConn", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.(*Tx).grabConn", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.(*Tx).rollback", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.(*Tx).Commit", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.(*Stmt).connStmt", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.ctxDriverQuery", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.ctxDriverExec", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.ctxDriverPrepare", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.ctxDriverBegin", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.(*Rows).Next", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("database/sql.(*closingMutex).Lock", ClientCall { client: "database/sql", sql: true, fix: SQL_FIX }),
    ("github.com/lib/pq.", ClientCall { client: "PostgreSQL driver (lib/pq)", sql: true, fix: SQL_FIX }),
    ("github.com/jackc/pgx/", ClientCall { client: "PostgreSQL driver (pgx)", sql: true, fix: SQL_FIX }),
    ("github.com/go-sql-driver/mysql.", ClientCall { client: "MySQL driver", sql: true, fix: SQL_FIX }),
    ("go.mongodb.org/mongo-driver/", ClientCall { client: "MongoDB driver", sql: false, fix: KV_FIX }),
    ("net/http.(*Client).do", ClientCall { client: "net/http client", sql: false, fix: HTTP_FIX }),
    ("net/http.(*Transport).roundTrip", ClientCall { client: "net/http client", sql: false, fix: HTTP_FIX }),
    (
        "net/http.(*persistConn).roundTrip",
        ClientCall { client: "net/http client", sql: false, fix: HTTP_FIX },
    ),
    ("net/http.(*Transport).getConn", ClientCall { client: "net/http client", sql: false, fix: HTTP_FIX }),
    ("net/http.(*Transport).dialConn", ClientCall { client: "net/http client", sql: false, fix: HTTP_FIX }),
    (
        "net/http.(*http2ClientConn).RoundTrip",
        ClientCall { client: "net/http client (HTTP/2)", sql: false, fix: HTTP_FIX },
    ),
    (
        "golang.org/x/net/http2.(*ClientConn).RoundTrip",
        ClientCall { client: "HTTP/2 client", sql: false, fix: HTTP_FIX },
    ),
    (
        "google.golang.org/grpc.(*ClientConn).Invoke",
        ClientCall { client: "gRPC client", sql: false, fix: GRPC_FIX },
    ),
    ("google.golang.org/grpc.invoke", ClientCall { client: "gRPC client", sql: false, fix: GRPC_FIX }),
    (
        "google.golang.org/grpc.newClientStream",
        ClientCall { client: "gRPC client", sql: false, fix: GRPC_FIX },
    ),
    (
        "google.golang.org/grpc.(*clientStream).",
        ClientCall { client: "gRPC client", sql: false, fix: GRPC_FIX },
    ),
    ("github.com/redis/go-redis/", ClientCall { client: "Redis client (go-redis)", sql: false, fix: KV_FIX }),
    ("github.com/go-redis/redis/", ClientCall { client: "Redis client (go-redis)", sql: false, fix: KV_FIX }),
    (
        "github.com/gomodule/redigo/redis.",
        ClientCall { client: "Redis client (redigo)", sql: false, fix: KV_FIX },
    ),
    (
        "github.com/bradfitz/gomemcache/memcache.(*Client)",
        ClientCall { client: "memcached client", sql: false, fix: KV_FIX },
    ),
    (
        "github.com/segmentio/kafka-go.",
        ClientCall { client: "Kafka client (kafka-go)", sql: false, fix: KV_FIX },
    ),
    ("github.com/IBM/sarama.", ClientCall { client: "Kafka client (sarama)", sql: false, fix: KV_FIX }),
    ("github.com/Shopify/sarama.", ClientCall { client: "Kafka client (sarama)", sql: false, fix: KV_FIX }),
    ("github.com/aws/aws-sdk-go-v2/", ClientCall { client: "AWS SDK", sql: false, fix: HTTP_FIX }),
    ("github.com/aws/aws-sdk-go/", ClientCall { client: "AWS SDK", sql: false, fix: HTTP_FIX }),
];

/// Whether a stack is database/sql's transaction watcher blocked rolling back: the
/// transaction's context is done, but the connection is still held by a query that hasn't
/// returned. That proves the driver is ignoring the cancelled context.
pub fn is_blocked_rollback(funcs: &[&str]) -> bool {
    funcs.iter().any(|f| frame_matches(f, "database/sql.(*Tx).awaitDone"))
        && funcs.iter().any(|f| frame_matches(f, "database/sql.(*Tx).rollback"))
}

/// Frames that belong to a client library's own long-lived loops, which are never "a call
/// somebody waits on" even though they sit inside the client's package.
const CLIENT_LOOPS: &[&str] = &[
    "database/sql.(*Tx).awaitDone",
    "database/sql.(*Rows).awaitDone",
    "database/sql.(*DB).connectionOpener",
    "net/http.(*persistConn).readLoop",
    "net/http.(*persistConn).writeLoop",
    "google.golang.org/grpc/internal/transport.",
    "github.com/jackc/pgx/v5/pgxpool.(*Pool).backgroundHealthCheck",
];

/// The innermost client call in a stack (innermost first), with its frame. A stack made of a
/// client's own loop only (a `persistConn.readLoop`) is not a call.
pub fn client_call<'a>(funcs: impl IntoIterator<Item = &'a str>) -> Option<(&'a str, ClientCall)> {
    let funcs: Vec<&'a str> = funcs.into_iter().collect();
    let hit = funcs
        .iter()
        .find_map(|f| CLIENT_CALLS.iter().find(|(m, _)| frame_matches(f, m)).map(|(_, c)| (*f, *c)))?;
    // A loop frame outside the call means the goroutine *is* the loop: not a call... unless the
    // loop is itself stuck in a call (awaitDone blocked in rollback is blocked behind the call
    // that holds its connection).
    let in_loop = funcs.iter().any(|f| CLIENT_LOOPS.iter().any(|m| frame_matches(f, m)));
    let is_blocking_op =
        hit.0.contains("rollback") || hit.0.contains("closingMutex") || hit.0.contains("Commit");
    if in_loop && !is_blocking_op {
        return None;
    }
    Some(hit)
}

/// Per-connection read/write loops: net/http client connections, and the read/write pumps of
/// websocket-style servers (functions named like `readLoop`, `writePump`).
pub fn connection_loop<'a>(funcs: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    const LOOPS: &[&str] = &[
        "net/http.(*persistConn).readLoop",
        "net/http.(*persistConn).writeLoop",
        "net/http.(*http2ClientConn).readLoop",
        "golang.org/x/net/http2.(*ClientConn).readLoop",
        "github.com/gorilla/websocket.",
        "nhooyr.io/websocket.",
        "github.com/coder/websocket.",
    ];
    funcs.into_iter().find(|f| {
        LOOPS.iter().any(|m| frame_matches(f, m)) || {
            let short = crate::model::funcname::short_name(f).to_ascii_lowercase();
            let last = short.rsplit('.').next().unwrap_or("");
            matches!(last, "readloop" | "writeloop" | "readpump" | "writepump" | "reader" | "writer")
                && !crate::model::funcname::is_standard_library(f)
        }
    })
}

/// Whether a stack is net/http's client read loop waiting for a response body to be read or
/// closed. After handing a response to the caller, `persistConn.readLoop` parks in a select on
/// the body being read to EOF or closed (or the request's context ending); an idle pooled
/// connection waits in `Peek` for the next response instead. So a read loop parked in a select
/// is a response body somebody still holds open.
pub fn holds_response_body_open(funcs: &[&str], wait: crate::model::WaitKind) -> bool {
    wait == crate::model::WaitKind::Select
        && funcs.iter().any(|f| frame_matches(f, "net/http.(*persistConn).readLoop"))
        && !funcs.iter().any(|f| frame_matches(f, "bufio.(*Reader).Peek"))
}

/// The context package's cancel-propagation goroutine: started when a cancelable context is
/// derived from a parent the package can't hook into directly (a custom Context type), it waits
/// for either to be done. One per derived context that is never cancelled.
pub fn is_context_propagation(func: &str) -> bool {
    func.starts_with("context.propagateCancel.func")
        || func.starts_with("context.(*cancelCtx).propagateCancel.func")
}

/// States in which a goroutine can never be woken: nil channels and `select {}`.
pub fn never_wakes_state(state: &str) -> bool {
    matches!(state, "chan receive (nil chan)" | "chan send (nil chan)" | "select (no cases)" | "forever")
}

/// The frame of an empty `select {}` in profiles, which record no states.
pub const EMPTY_SELECT_FRAME: &str = "runtime.block";

// ---- Traces of other runtimes (Chrome trace JSON from Node.js, viztracer, Chromium) ----

/// Node.js async_hooks resource types that live as long as what they serve (a connection, a
/// server, a timer, a stream) or that are queued callbacks run on the next turn: open at the
/// end of a trace is normal for them. A process that exits closes its sockets without the
/// trace recording their destroy (both bundled Node samples, healthy and leaky, end with their
/// client `TCPWRAP`s open), and an interval stays open as long as it ticks. What never settles
/// is the rest: promises and one-shot requests (`FSREQCALLBACK`, `GETADDRINFOREQWRAP`, ...).
/// Returns why, for the list of excluded families.
pub fn node_resource_lives_on(name: &str) -> Option<&'static str> {
    const HANDLES: &[&str] = &[
        "TCPWRAP",
        "TCPSERVERWRAP",
        "PIPEWRAP",
        "PIPESERVERWRAP",
        "TTYWRAP",
        "UDPWRAP",
        "SIGNALWRAP",
        "PROCESSWRAP",
        "FSEVENTWRAP",
        "STATWATCHER",
        "FILEHANDLE",
        "HTTPINCOMINGMESSAGE",
        "HTTPCLIENTREQUEST",
        "HTTP2SESSION",
        "HTTP2STREAM",
        "TLSWRAP",
        "JSSTREAM",
        "JSUDPWRAP",
        "ZLIB",
        "MESSAGEPORT",
        "WORKER",
        "INSPECTORJSBINDING",
        "Timeout",
    ];
    const QUEUED: &[&str] = &["TickObject", "Immediate", "Microtask"];
    if HANDLES.contains(&name) {
        Some(
            "a Node.js handle (socket, server, timer, stream): it lives as long as what it serves, and an exiting process does not record its destroy",
        )
    } else if QUEUED.contains(&name) {
        Some(
            "a Node.js queued callback (process.nextTick, setImmediate): it runs on the next turn of the event loop",
        )
    } else {
        None
    }
}

/// Whether a thread name says it is a process's main thread (`MainThread` in Python,
/// `JavaScriptMainThread` in Node.js, `CrBrowserMain`/`CrRendererMain` in Chromium, `main`
/// in Rust): the main thread is alive at the end of every capture by definition.
pub fn is_main_thread_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.contains("Main") || lower == "main" || lower.starts_with("main-") || lower.starts_with("main_")
}

/// Whether a thread is a pool worker idle between jobs (`concurrent.futures` and
/// `multiprocessing.pool` workers, Chromium's `ThreadPool*Worker`, Node's V8 platform workers,
/// tokio and rayon workers): a pool keeps its workers until shutdown by design.
pub fn is_pool_worker(thread_name: &str, funcs: &[&str]) -> bool {
    const NAMES: &[&str] = &["ThreadPool", "PlatformWorkerThread", "tokio-runtime-worker", "rayon"];
    const FRAMES: &[(&str, &str)] = &[
        ("_worker", "concurrent/futures/thread.py"),
        ("_worker", "concurrent/futures/process.py"),
        ("worker", "multiprocessing/pool.py"),
    ];
    NAMES.iter().any(|n| thread_name.contains(n))
        || funcs.iter().any(|f| {
            let (func, file) = f.split_once(" (").unwrap_or((f, ""));
            FRAMES.iter().any(|(name, path)| func == *name && file.contains(path))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_is_exact_or_closure() {
        assert!(frame_matches("net/http.(*Server).Serve", "net/http.(*Server).Serve"));
        assert!(!frame_matches("net/http.(*Server).Serve.gowrap3", "net/http.(*Server).Serve"));
        assert!(frame_matches("database/sql.(*DB).queryDC.func1", "database/sql.(*DB).queryDC"));
        assert!(!frame_matches("net/http.(*conn).serveHTTP", "net/http.(*conn).serve"));
        assert!(frame_matches("github.com/lib/pq.(*conn).recv", "github.com/lib/pq."));
    }

    #[test]
    fn handler_names() {
        assert!(looks_like_handler("main.handleUpload"));
        assert!(looks_like_handler("main.ctxDoneMiddleware.func1"));
        assert!(looks_like_handler("github.com/x/api.(*Server).ServeHTTP"));
        assert!(looks_like_handler("github.com/x/api.(*orders).createOrderHandler.func2"));
        assert!(looks_like_handler("github.com/x/rpc.loggingInterceptor"));
        assert!(!looks_like_handler("main.runTiny"));
        assert!(!looks_like_handler("main.spawnLarge"));
        assert!(!looks_like_handler("github.com/x/pool.(*Pool).start"));
    }

    #[test]
    fn client_calls() {
        let q = [
            "main.(*stuckConn).roundTrip",
            "database/sql.ctxDriverQuery",
            "database/sql.(*DB).queryDC",
            "main.handleQuery",
        ];
        assert_eq!(
            client_call(q).map(|(f, c)| (f, c.client)),
            Some(("database/sql.ctxDriverQuery", "database/sql"))
        );
        let await_ctx = ["database/sql.(*Tx).awaitDone"];
        assert!(client_call(await_ctx).is_none());
        let await_rollback = [
            "sync.(*Cond).Wait",
            "database/sql.(*closingMutex).Lock",
            "database/sql.(*Tx).rollback",
            "database/sql.(*Tx).awaitDone",
        ];
        assert!(client_call(await_rollback).is_some());
        let read_loop = ["net/http.(*persistConn).readLoop"];
        assert!(client_call(read_loop).is_none());
        assert!(connection_loop(read_loop).is_some());
    }

    #[test]
    fn benign_patterns() {
        assert_eq!(
            benign(&["database/sql.(*DB).connectionOpener"], Some("database/sql.OpenDB")).map(|b| b.name),
            Some("database/sql pool maintenance")
        );
        let accept = [
            "internal/poll.runtime_pollWait",
            "net.(*TCPListener).Accept",
            "net/http.(*Server).Serve",
            "main.main",
        ];
        assert!(benign(&accept, None).is_some());
        assert!(benign(&["main.waitForRelease"], Some("main.handler")).is_none());
        let request =
            ["main.handler", "net/http.(*conn).serve", "net/http.(*Server).Serve.gowrap3", "runtime.goexit"];
        assert!(benign(&request, Some("net/http.(*Server).Serve")).is_none());
        assert!(is_idle_between_requests([
            "internal/poll.runtime_pollWait",
            "net.(*conn).Read",
            "net/http.(*connReader).Read",
            "bufio.(*Reader).Peek",
            "net/http.(*conn).serve"
        ]));
        assert!(!is_idle_between_requests([
            "main.handler",
            "net/http.HandlerFunc.ServeHTTP",
            "net/http.(*conn).serve"
        ]));
    }

    #[test]
    fn other_runtimes() {
        assert!(node_resource_lives_on("TCPSERVERWRAP").is_some());
        assert!(node_resource_lives_on("TickObject").is_some());
        assert!(node_resource_lives_on("PROMISE").is_none());
        assert!(node_resource_lives_on("FSREQCALLBACK").is_none());
        assert!(is_main_thread_name("MainThread"));
        assert!(is_main_thread_name("CrRendererMain"));
        assert!(is_main_thread_name("main"));
        assert!(!is_main_thread_name("audit-3"));
        assert!(!is_main_thread_name("domain-worker"));
        assert!(is_pool_worker("ThreadPoolForegroundWorker", &[]));
        assert!(is_pool_worker(
            "hasher_0",
            &["_worker (/usr/lib/python3.11/concurrent/futures/thread.py:69)", "Thread.run (x.py:1)"]
        ));
        assert!(!is_pool_worker("heartbeat-0", &["Event.wait (/usr/lib/python3.11/threading.py:611)"]));
    }
}

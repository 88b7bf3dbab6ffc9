#!/usr/bin/env bash
# Remakes the goroutine dump samples in sample-traces/ from the programs beside this script.
# Usage: sample-traces/generators/make-dumps.sh [GO]   (GO defaults to `go` on PATH)
# Output varies run to run in addresses, goroutine ids and timings; the golden files in
# sample-traces/golden/ are then refreshed with `UPDATE_GOLDEN=1 cargo test --test golden`.
set -euo pipefail
GO=${1:-go}
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/.." && pwd)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
cd "$here"
ver=$("$GO" env GOVERSION)
ver=${ver#go}
tag="go$(echo "$ver" | cut -d. -f1-2 | tr -d .)"   # go1.27.3 -> go127
export GOMAXPROCS=4
ulimit -c 0

build() { "$GO" build -trimpath -o "$bin/$1" "./$1"; }

# An unrecovered panic, every goroutine printed; one spins on another thread (without async
# preemption it cannot be stopped, so its stack is "unavailable").
build panic
GOTRACEBACK=all GODEBUG=asyncpreemptoff=1 "$bin/panic" >"$out/$tag-panic.txt" 2>&1 || true

# fatal error: all goroutines are asleep - deadlock!
build deadlock
"$bin/deadlock" >"$out/$tag-deadlock.txt" 2>&1 || true

# GOTRACEBACK=crash and SIGQUIT: gp= m= mp=, fp= sp= pc=, g0 stacks, registers, "-----" relays.
build crash
GOTRACEBACK=crash GODEBUG=asyncpreemptoff=1 "$bin/crash" >"$out/$tag-crash.txt" 2>&1 || true

# go test -timeout: "panic: test timed out after 2s" and every goroutine, in a test log.
"$GO" test -trimpath -timeout 2s ./testtimeout >"$out/$tag-test-timeout.txt" 2>&1 || true

# GODEBUG=tracebackancestors=5: "[originating from goroutine N]:" blocks and elided frames.
build ancestors
GODEBUG=tracebackancestors=5 "$bin/ancestors" >"$out/$tag-ancestors.debug2.txt"

# GODEBUG=tracebacklabels=1: Go 1.27 labels after the status, some quoted.
build labels
GODEBUG=tracebacklabels=1 "$bin/labels" >"$out/$tag-labels.debug2.txt"

# One labelled moment three ways (debug=2, debug=1, protobuf): go.mod's go 1.27 prints labels.
build labelleak
"$bin/labelleak" "$out"

# testing/synctest: "(durable)" waits and ", synctest bubble N"; a bubble deadlock; a mutex that
# keeps synctest.Wait from returning (fatal error: all goroutines are asleep).
"$GO" test -trimpath -c -o "$bin/synctest.test" ./synctest
DUMP_OUT="$out/$tag-synctest.stack.txt" "$bin/synctest.test" -test.run TestDumpInsideBubble >/dev/null
DEADLOCK=1 "$bin/synctest.test" -test.run TestBubbleDeadlock >"$out/$tag-synctest-deadlock.txt" 2>&1 || true
MUTEX=1 "$bin/synctest.test" -test.run TestMutexBlocksWait >"$out/$tag-synctest-mutex.txt" 2>&1 || true

# The goroutineleak profile marks leaked goroutines "(leaked)" in the next debug=2 dump.
build leakdetect
"$bin/leakdetect" >"$out/$tag-leakdetect.debug2.txt" 2>/dev/null

# ", 1 minutes" and ", locked to thread" (takes about 65 s).
build minutes
"$bin/minutes" >"$out/$tag-minutes.debug2.txt"

# cgo frames, unsymbolized ("non-Go function at pc=") and symbolized.
build cgo
"$bin/cgo" >"$out/$tag-cgo.debug2.txt"
"$bin/cgo" symbolize >"$out/$tag-cgo-symbolized.debug2.txt"

# Three runtime.Stack(buf, true) dumps in one log, oldest first.
build series
"$bin/series" >"$out/$tag-series.log"

echo "wrote $tag-*.txt to $out"

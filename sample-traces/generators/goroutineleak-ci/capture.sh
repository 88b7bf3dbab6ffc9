#!/bin/sh
# Captures the goroutineleak profiles of a CI baseline (TestA alone) and of a change (TestA and
# TestB) into sample-traces/. Needs Go 1.26+ (1.26: GOEXPERIMENT=goroutineleakprofile).
# Usage: GO=/path/to/go sample-traces/generators/goroutineleak-ci/capture.sh
set -eu
GO=${GO:-go}
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../.." && pwd)
cd "$here"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOROUTINELEAK_DIR="$out"
GOROUTINELEAK_NAME=go127-ci.before "$GO" test -trimpath -count=1 -run 'TestA$' .
GOROUTINELEAK_NAME=go127-ci.after "$GO" test -trimpath -count=1 .

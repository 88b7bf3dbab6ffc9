#!/usr/bin/env bash
# Remakes sample-traces/heapleak/ from main.go beside this script.
# Usage: GO=/path/to/go sample-traces/generators/heapleak/capture.sh   (a few seconds)
set -euo pipefail
GO=${GO:-go}
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../.." && pwd)/heapleak
cd "$here"
rm -rf "$out"
GOMAXPROCS=2 "$GO" run -trimpath . -mode leaky -out "$out/leaky"
GOMAXPROCS=2 "$GO" run -trimpath . -mode healthy -out "$out/healthy"
# The dumps are text; gzip keeps them well under 200 KB (leakscope inflates on load).
gzip -9 -n "$out"/leaky/*/goroutine.debug2.txt

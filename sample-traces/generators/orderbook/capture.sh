#!/usr/bin/env bash
# Rebuilds every capture in sample-traces/orderbook from scratch: builds the orderbook program,
# runs the leaky and the healthy scenario (each starts its own upstream and server, drives a
# before and an after phase, fetches the profiles, and ends with SIGQUIT), compresses the large
# text dumps, and recomputes expected.json (which cross-checks the files against the server's
# own counters and fails if they disagree).
#
#   GO=/path/to/go sample-traces/generators/orderbook/capture.sh
#
# Needs Go 1.27 or later (the goroutineleak profile) and python3. Takes about a minute.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../.." && pwd)/orderbook
GO=${GO:-go}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$GO" version
# -trimpath keeps this machine's paths out of the committed stacks.
(cd "$here" && GOTOOLCHAIN=local CGO_ENABLED=0 "$GO" build -trimpath -o "$work/orderbook" .)

mkdir -p "$out"
for scenario in leaky healthy; do
	rm -rf "${out:?}/$scenario"
	"$work/orderbook" capture -scenario "$scenario" -out "$out/$scenario" -logs "$work"
	# Text dumps compress 20-40x; leakscope and the tools here read them gzipped.
	for f in "$out/$scenario"/*/goroutine.debug2.txt "$out/$scenario"/*/goroutine.debug2.leakmarked.txt \
		"$out/$scenario"/sigquit.stderr.txt; do
		gzip -9n "$f"
	done
done

python3 "$here/make_expected.py" --root "$out" --go "$GO" --markdown
du -ah "$out" | sort -k2

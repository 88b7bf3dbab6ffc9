#!/usr/bin/env bash
# Makes the bundled sample: runs orders-api, loads it lightly, waits, dumps (before); loads it ten
# times harder, waits, dumps again (after). The waits give goroutines "N minutes" in the dumps.
# Usage: make-sample.sh OUTDIR   (takes about 8 minutes; needs Go 1.27)
set -euo pipefail
out=${1:?output directory}
go=${GO:-go}
cd "$(dirname "$0")"
mkdir -p "$out"
$go build -trimpath -o /tmp/orders-api .
addr=127.0.0.1:${PORT:-7071}
/tmp/orders-api -mode server -addr "$addr" 2>/dev/null &
server=$!
trap 'kill $server' EXIT
sleep 1
/tmp/orders-api -mode load -addr "$addr" -n 40
sleep 150
curl -s "http://$addr/debug/pprof/goroutine?debug=2" > "$out/orders-api.before.debug2.txt"
/tmp/orders-api -mode load -addr "$addr" -n 200
sleep 100
/tmp/orders-api -mode load -addr "$addr" -n 200
sleep 100
# The leak profile runs the runtime's GC-based leak check; the dump right after it carries the
# "(leaked)" marks on what the check proved.
curl -s "http://$addr/debug/pprof/goroutineleak?debug=1" > "$out/orders-api.after.goroutineleak.debug1.txt"
curl -s "http://$addr/debug/pprof/goroutine?debug=2" > "$out/orders-api.after.debug2.txt"
echo "wrote $out"

#!/bin/sh
# Records sample-traces/node-pending-locks.trace.json (Chrome trace events with async_hooks)
# and sample-traces/node-pending-locks.cpuprofile with the node on PATH (made with v20.20.2),
# then the healthy run of the same service (LEAKSCOPE_HEALTHY=1) as node-healthy-locks.trace.json.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
cd "$work"
node --expose-gc --trace-events-enabled --trace-event-categories node.async_hooks,node.fs.sync,v8 \
  --trace-event-file-pattern 'trace.${rotation}.json' \
  --cpu-prof --cpu-prof-interval 200 --cpu-prof-name profile.cpuprofile \
  "$here/pending_locks.js" > truth.json
cp trace.1.json "$out/node-pending-locks.trace.json"
cp profile.cpuprofile "$out/node-pending-locks.cpuprofile"
cp truth.json "$out/node-pending-locks.truth.json"
rm -f trace.*.json
LEAKSCOPE_HEALTHY=1 node --expose-gc --trace-events-enabled \
  --trace-event-categories node.async_hooks,node.fs.sync,v8 \
  --trace-event-file-pattern 'trace.${rotation}.json' "$here/pending_locks.js" > healthy.truth.json
cp trace.1.json "$out/node-healthy-locks.trace.json"
cp healthy.truth.json "$out/node-healthy-locks.truth.json"
rm -rf "$work"

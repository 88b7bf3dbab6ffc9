#!/bin/sh
# Records sample-traces/node-pending-locks.trace.json (Chrome trace events with async_hooks)
# and sample-traces/node-pending-locks.cpuprofile with the node on PATH (made with v20.20.2).
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
rm -rf "$work"

#!/bin/sh
# Records sample-traces/python-stuck-consumers.viztracer.json with viztracer (made with
# viztracer 1.1.1 on CPython 3.11.7): asyncio tasks as their own lanes (--log_async); then the
# healthy run (LEAKSCOPE_HEALTHY=1) as python-healthy-consumers.viztracer.json.gz.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
cd "$work"
viztracer --quiet --log_async --ignore_c_function --ignore_frozen -o trace.json "$here/stuck_consumers.py" > truth.json
gzip -9 -n trace.json
cp trace.json.gz "$out/python-stuck-consumers.viztracer.json.gz"
cp truth.json "$out/python-stuck-consumers.truth.json"
LEAKSCOPE_HEALTHY=1 viztracer --quiet --log_async --ignore_c_function --ignore_frozen -o healthy.json \
  "$here/stuck_consumers.py" > healthy.truth.json
gzip -9 -n healthy.json
cp healthy.json.gz "$out/python-healthy-consumers.viztracer.json.gz"
cp healthy.truth.json "$out/python-healthy-consumers.truth.json"
rm -rf "$work"

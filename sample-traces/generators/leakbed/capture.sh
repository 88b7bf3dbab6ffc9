#!/usr/bin/env bash
# Rebuilds every capture of the leakbed test beds (busyhealthy, notifier, syncer) with three Go
# toolchains, then recomputes each program's expected.json (make_expected.py cross-checks every
# family against the server's own tallies and refuses to write when they disagree).
#
#   sample-traces/generators/leakbed/capture.sh [PROGRAM...]      # default: all three
#
# Toolchains: GO127, GO124, GO119 (defaults below); VERSIONS="go127 go124 go119" picks which.
# Output: sample-traces/<program>/<goversion>/<scenario>/{before,after}/..., sigquit.stderr.txt.gz
# Takes about 30 s per scenario run (16 runs for everything).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
gens=$(cd "$here/.." && pwd)
traces=$(cd "$gens/.." && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=0
declare -A GOBIN=(
	[go127]=${GO127:-/work/go127/bin/go}
	[go124]=${GO124:-/work/go124/bin/go}
	[go119]=${GO119:-/usr/lib/go-1.19/bin/go}
)
VERSIONS=${VERSIONS:-go127 go124 go119}
programs=("$@")
[ ${#programs[@]} -eq 0 ] && programs=(busyhealthy notifier syncer)

scenarios() { # program goversion
	case "$1/$2" in
	busyhealthy/*) echo healthy ;;
	notifier/go127) echo leaky healthy leaky-close ;;
	notifier/*) echo leaky healthy ;;
	syncer/*) echo leaky healthy ;;
	*) echo "unknown program $1" >&2; exit 2 ;;
	esac
}

failed=()
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for prog in "${programs[@]}"; do
	for v in $VERSIONS; do
		go=${GOBIN[$v]}
		"$go" version
		bin="$work/$prog-$v"
		# -trimpath keeps this machine's paths out of the stacks.
		(cd "$gens/$prog" && "$go" build -trimpath -o "$bin" .)
		for sc in $(scenarios "$prog" "$v"); do
			out="$traces/$prog/$v/$sc"
			rm -rf "$out"
			echo "== $prog $v $sc"
			"$bin" drive -scenario "$sc" -out "$out" -logs "$work"
		done
	done
	python3 "$here/make_expected.py" --program "$prog" --table || failed+=("$prog")
done
du -sh "${programs[@]/#/$traces/}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "expected.json not written for: ${failed[*]}" >&2
	exit 1
fi

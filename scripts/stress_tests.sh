#!/usr/bin/env bash
# The suite under pressure (issue 15): alone once, then 5 runs in a row while
# CPU hogs oversubscribe both cores (stress-ng --cpu 4), then 5 rounds of two
# copies of the suite at once, as two developers (or CI beside one) would run
# it: two fresh clones of the committed HEAD, one server. Working from clones
# leaves this checkout free to change while it runs. Prints one line per run:
# wall seconds and the suite's own summary; exits 1 if any run failed.
#
# A failing run's log is kept (its path is printed) and its failing tests listed.
#
#   scripts/stress_tests.sh [RUNS] [all|hogs|copies]   # default 5 all
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
phases=${2:-all}
case "$phases" in all | hogs | copies) ;; *)
  echo "usage: scripts/stress_tests.sh [RUNS] [all|hogs|copies]" >&2
  exit 2
  ;;
esac
export STRATA_TEST_REQUIRE_SERVER=1 STRATA_TEST_REQUIRE_TOOLS=1 NO_COLOR=1

if ! command -v stress-ng >/dev/null 2>&1; then
  echo "installing stress-ng"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng) >/dev/null
fi
if [ "$phases" != copies ] && ! command -v stress-ng >/dev/null 2>&1; then
  echo "stress-ng is missing and could not be installed: the load runs would not be loaded" >&2
  exit 2
fi

suite() { # DIR LOG: run the suite in DIR, write its output to LOG and exit code to LOG.rc, print "seconds summary"
  local start end
  start=$(date +%s.%N)
  (cd "$1" && deno task test >"$2" 2>&1)
  echo $? >"$2.rc"
  end=$(date +%s.%N)
  printf "%6.1f s  %s\n" "$(awk "BEGIN { print $end - $start }")" \
    "$(grep -E '^(ok|FAILED) \| ' "$2" | tail -1)"
}

work=$(mktemp -d /tmp/strata_stress_XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
git clone --quiet . "$work/one"
git clone --quiet . "$work/two"
echo "testing $(git -C "$work/one" log --oneline -1)"

echo "== alone"
suite "$work/one" "$work/alone.log"

if [ "$phases" != copies ]; then
echo "== $runs runs with stress-ng --cpu 4"
stress-ng --cpu 4 --quiet &
hog=$!
for i in $(seq 1 "$runs"); do
  printf "run %d: " "$i"
  suite "$work/one" "$work/hog$i.log"
done
kill "$hog"
wait "$hog" 2>/dev/null
fi

if [ "$phases" != hogs ]; then
echo "== $runs rounds of two copies at once"
for i in $(seq 1 "$runs"); do
  suite "$work/one" "$work/a$i.log" >"$work/a$i.time" &
  pa=$!
  suite "$work/two" "$work/b$i.log" >"$work/b$i.time"
  wait "$pa"
  printf "round %d: first  %s\n" "$i" "$(cat "$work/a$i.time")"
  printf "round %d: second %s\n" "$i" "$(cat "$work/b$i.time")"
done
fi
# A run fails when deno exited non-zero or printed no "ok |" summary (a crash or a
# type error prints no "FAILED |" line either).
bad=0
for log in "$work"/*.log; do
  if [ "$(cat "$log.rc")" != 0 ] || ! grep -qE '^ok \| ' "$log"; then
    kept=$(mktemp /tmp/strata_stress_failed_XXXXXX.log)
    cp "$log" "$kept"
    echo "failed: $(basename "$log") (exit $(cat "$log.rc")), log kept in $kept"
    grep -E '\.\.\. FAILED' "$log" | sed 's/^/  /'
    bad=1
  fi
done
exit "$bad"

#!/bin/sh
# Migrate before deploying; stop the deploy unless the database is ready.
# STRATA may name the command (default: strata on PATH), e.g. STRATA="deno task --quiet strata".
#
# strata runs as a child of this script, and SIGTERM / SIGINT sent to the script (a CI job
# cancelled, a pod stopped) are forwarded to it: strata cancels the running statement, rolls
# back and releases its lock before it exits 143 / 130. (Without forwarding, a stopped script
# would leave strata running on, or killed without the chance to clean up.)
STRATA=${STRATA:-strata}

$STRATA --wait --wait-timeout 60s upgrade &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -INT "$child" 2>/dev/null' INT
wait "$child"
code=$?
# A trapped signal ends `wait` early; wait again for strata's own exit code.
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
  code=$?
done
trap - TERM INT

case $code in
  0) echo "migrations applied; deploying" ;;
  1) echo "a migration failed and was rolled back (see above); not deploying" >&2; exit 1 ;;
  2) echo "bad migration files or command line; fix them, nothing ran" >&2; exit 1 ;;
  3) echo "database not ready (connection, lock held, read-only); retry the deploy" >&2; exit 1 ;;
  4) echo "database disagrees with the files (drift, interrupted run); a person must look" >&2; exit 1 ;;
  130|143)
    echo "interrupted: strata cancelled the running statement and released its lock; not deploying." >&2
    echo "A migration that runs in a transaction was rolled back, and the next run applies it again." >&2
    echo "One that runs statement by statement (transaction: false) stays marked interrupted: the next" >&2
    echo "run stops with exit 4 naming it, until a person checks it and records it with strata stamp." >&2
    exit "$code" ;;
  *) echo "strata exited $code" >&2; exit 1 ;;
esac
# ... deploy the application here ...

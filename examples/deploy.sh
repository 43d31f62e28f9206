#!/bin/sh
# Migrate before deploying; stop the deploy unless the database is ready.
# STRATA may name the command (default: strata on PATH), e.g. STRATA="deno task --quiet strata".
STRATA=${STRATA:-strata}

$STRATA --wait --wait-timeout 60s upgrade
code=$?
case $code in
  0) echo "migrations applied; deploying" ;;
  1) echo "a migration failed and was rolled back (see above); not deploying" >&2; exit 1 ;;
  2) echo "bad migration files or command line; fix them, nothing ran" >&2; exit 1 ;;
  3) echo "database not ready (connection, lock held, read-only); retry the deploy" >&2; exit 1 ;;
  4) echo "database disagrees with the files (drift, interrupted run); a person must look" >&2; exit 1 ;;
  130|143) echo "interrupted; rolled back" >&2; exit 1 ;;
  *) echo "strata exited $code" >&2; exit 1 ;;
esac
# ... deploy the application here ...

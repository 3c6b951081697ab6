#!/usr/bin/env bash
# The README's quick-start demo, on a fresh Debian 12 machine as root:
# installs what is needed, builds and installs whiplash, starts dynalite
# (a local DynamoDB) on 127.0.0.1 and a throw-away PostgreSQL cluster, and
# runs test/demo.sql in it with psql, echoing every statement.  Everything it
# started is stopped at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
source test/tools/servers.sh

wl_install_deps
echo "== building and installing whiplash"
make -s >/dev/null && make -s install >/dev/null

WL_LOG_DIR=$(mktemp -d -t whiplash-demo.XXXXXX)
export WL_LOG_DIR
# Stops the servers; keeps their logs only when the demo failed.
demo_end() {
    local status=$?
    wl_stop_all
    if ((status == 0)); then
        rm -rf "$WL_LOG_DIR"
    else
        echo "== the demo failed; the servers' logs are in $WL_LOG_DIR"
    fi
}
trap demo_end EXIT
echo "== starting dynalite on 127.0.0.1:18501"
wl_start_dynalite 18501

echo "== running test/demo.sql in a throw-away PostgreSQL 15 cluster"
WHIPLASH_ENDPOINT=http://127.0.0.1:18501 \
    WHIPLASH_DIGITS=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz \
    pg_virtualenv -v 15 psql -X -v ON_ERROR_STOP=1 -e -f "$ROOT/test/demo.sql"
echo "== demo finished"

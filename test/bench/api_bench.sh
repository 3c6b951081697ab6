#!/usr/bin/env bash
# whiplash-api against the same searches sent as SQL: 16 clients for 30 s
# each way, on one packed collection in dynalite on loopback.
#   HTTP: wrk (Debian's) POSTs .../search {query, limit 5} with queries
#         drawn at random (seeded) from 200 held-out points;
#   SQL:  pgbench runs whiplash_search(..., 5) on the same queries, then
#         the same search plus the BatchGetItem of the hits' vectors that
#         the API adds, in one statement.
# Data: test/bench/datasets.py's clustered set, 20,000 points of 32
# dimensions, UUID ids.  Prints a markdown table for BENCHMARKS.md.
#
#   bash test/bench/api_bench.sh [SECONDS] [CLIENTS] [VECTORS]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SECONDS_TO_RUN=${1:-30}
CLIENTS=${2:-16}
VECTORS=${3:-20000}

if [[ -z ${WL_API_BENCH_INSIDE:-} ]]; then
    cd "$ROOT"
    source test/tools/servers.sh
    WL_LOG_DIR=$(mktemp -d -t whiplash-api-bench.XXXXXX)
    export WL_LOG_DIR
    trap 'wl_stop_all; rm -rf "$WL_LOG_DIR"' EXIT
    command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
    wl_start_dynalite 18601
    WL_API_BENCH_INSIDE=1 pg_virtualenv -t -v 15 bash "$HERE/api_bench.sh" "$@"
    exit
fi

work=$WL_LOG_DIR
chmod 755 "$work"
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
/usr/bin/python3 "$HERE/datasets.py" rows clustered base 0 "$VECTORS" >"$work/base.tsv"
/usr/bin/python3 "$HERE/datasets.py" rows clustered queries 0 200 >"$work/queries.tsv"
q <<SQL
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint 'http://127.0.0.1:18601', project 'bench', stage 'api');
CREATE USER MAPPING FOR PUBLIC SERVER ddb OPTIONS (access_key_id 'k', secret_access_key 's');
SELECT whiplash_setup('ddb');
SELECT 1 FROM whiplash_create_collection('ddb', 'points', 32, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE points (id text, vector real[], attributes jsonb)
  SERVER ddb OPTIONS (collection 'points');
CREATE TABLE base (id text, v real[]);
CREATE TABLE queries (id text, v real[], n serial);
COPY base FROM '$work/base.tsv';
COPY queries (id, v) FROM '$work/queries.tsv';
INSERT INTO points SELECT id, v FROM base;
CREATE ROLE bench_reader;
GRANT SELECT ON points, queries TO bench_reader;
GRANT USAGE ON FOREIGN SERVER ddb TO bench_reader;
SQL
q -c "SELECT count(*) FROM whiplash_search('points', (SELECT v FROM queries WHERE n = 1), 5)" >/dev/null

key=benchkey-$RANDOM$RANDOM$RANDOM
printf 'port = 18602\npool_size = %d\nkey = bench_reader %s\n' "$CLIENTS" \
    "$(echo "$key" | whiplash-api --hash-key)" >"$work/api.conf"
whiplash-api --config "$work/api.conf" 2>"$work/api.log" &
api_pid=$!
trap 'kill -TERM $api_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:18602/healthz >/dev/null && break; sleep 0.1; done

# wrk's script: each request a random query's body, with the key.
q -c "SELECT '{\"query\": ' || array_to_json(v) || ', \"limit\": 5}' FROM queries ORDER BY n" \
    >"$work/bodies.txt"
cat >"$work/search.lua" <<LUA
local bodies = {}
for line in io.lines("$work/bodies.txt") do bodies[#bodies + 1] = line end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("seed", counter) end
function init(args) math.randomseed(seed) end
wrk.method = "POST"
wrk.headers["x-api-key"] = "$key"
wrk.headers["Content-Type"] = "application/json"
function request() return wrk.format(nil, nil, nil, bodies[math.random(#bodies)]) end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.1f %.1f %.1f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
end
LUA
wrk -t 2 -c "$CLIENTS" -d "${SECONDS_TO_RUN}s" -s "$work/search.lua" \
    http://127.0.0.1:18602/projects/bench/collections/points/search >"$work/wrk.log" 2>&1
read -r _ http_requests http_errors http_p50 http_p99 http_rate < <(grep '^RESULT' "$work/wrk.log")

# pgbench: the search alone, then the search and its hits' vectors.
cat >"$work/search.sql" <<'PGB'
\set n random(1, 200)
SELECT count(*) FROM whiplash_search('points', (SELECT v FROM queries WHERE n = :n), 5);
PGB
cat >"$work/search_vectors.sql" <<'PGB'
\set n random(1, 200)
SELECT count(*) FROM points WHERE id = ANY (ARRAY(
  SELECT id FROM whiplash_search('points', (SELECT v FROM queries WHERE n = :n), 5)));
PGB
sql_run() {
    rm -f "$work"/pgbench_log.*
    (cd "$work" && PGOPTIONS="-c role=bench_reader" pgbench -n -c "$CLIENTS" -j 2 \
        -T "$SECONDS_TO_RUN" --random-seed=1 -l -f "$1" >"$1.log" 2>&1)
    local failed
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$1.log")
    grep -q '^number of transactions actually processed' "$1.log" || failed="aborted"
    cat "$work"/pgbench_log.* | FAILED=${failed:-0} /usr/bin/python3 -c '
import os, sys
lat = sorted(int(line.split()[2]) / 1000 for line in sys.stdin)
print(len(lat), os.environ["FAILED"], "%.1f" % lat[len(lat) // 2], "%.1f" % lat[int(len(lat) * 0.99)])'
}
read -r sql_requests sql_errors sql_p50 sql_p99 < <(sql_run "$work/search.sql")
sql_rate=$(awk -v n="$sql_requests" -v s="$SECONDS_TO_RUN" 'BEGIN { printf "%.1f", n / s }')
read -r sqlv_requests sqlv_errors sqlv_p50 sqlv_p99 < <(sql_run "$work/search_vectors.sql")
sqlv_rate=$(awk -v n="$sqlv_requests" -v s="$SECONDS_TO_RUN" 'BEGIN { printf "%.1f", n / s }')
failures=$(grep -c -v ' 200 ' "$work/api.log" | head -1 || true)

echo "| way | clients | searches | errors | searches/s | p50 ms | p99 ms |"
echo "|---|---:|---:|---:|---:|---:|---:|"
echo "| HTTP: whiplash-api, POST search (limit 5, with vectors) | $CLIENTS | $http_requests | $http_errors | $http_rate | $http_p50 | $http_p99 |"
echo "| SQL: whiplash_search(..., 5) | $CLIENTS | $sql_requests | $sql_errors | $sql_rate | $sql_p50 | $sql_p99 |"
echo "| SQL: whiplash_search(..., 5), then the hits' items (what the API runs) | $CLIENTS | $sqlv_requests | $sqlv_errors | $sqlv_rate | $sqlv_p50 | $sqlv_p99 |"
echo "# server log lines that are not a 200 (start and stop lines included): $failures"

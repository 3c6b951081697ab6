#!/usr/bin/env bash
# A background index build outlives a PostgreSQL killed with SIGKILL and a
# DynamoDB that cannot be reached.  Run inside a throw-away cluster, as
# test/crash/crash.sh is:
#   WHIPLASH_KEY=... WHIPLASH_SECRET=... WL_LOG_DIR=DIR \
#       pg_virtualenv -t -v 15 bash test/crash/build_crash.sh PORT
# DynamoDB Local (in memory) listens on PORT+1, behind a proxy on PORT that
# delays every request by 50 ms, so that building the index of 4,000
# vectors takes some seconds.
#   1. Loading the vectors starts a build in a background worker.  Once
#      whiplash_builds shows it indexing vectors, every process of the
#      cluster is killed with SIGKILL, and the cluster is started again.
#   2. Past whiplash.abandoned_build_timeout, a one-row INSERT starts a
#      worker that resumes the build; whiplash_builds shows it.
#   3. whiplash_reindex(background => true) starts another build; the
#      proxy is stopped while it indexes, and started again 3 s later: the
#      worker tries again and finishes.
# After each, whiplash_wait_for_index says the index is ready, whiplash_check
# is clean, and searches probe it and find each vector of a sample.
# Prints TAP lines; exits non-zero when a check fails.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../tools/servers.sh"
source "$HERE/../tools/tap.sh"
PORT=${1:-18103}
SERVER=$((PORT + 1))
MAJOR=${PGVERSION:-15}
trap 'wl_stop_all' EXIT

# start_proxy: the delaying proxy on PORT; its pid in proxy_pid.
start_proxy() {
    wl_start_fault "$PORT" "http://127.0.0.1:$SERVER" sleep:0.05 && proxy_pid=${WL_PIDS[-1]}
}

# wait_for PHASE CAUSE: waits up to 60 s until whiplash_builds shows a
# build of collection "slow" in PHASE with CAUSE.
wait_for() {
    local i
    for ((i = 0; i < 600; i++)); do
        [[ $(q -c "SELECT count(*) FROM whiplash_builds()
                    WHERE collection = 'slow' AND phase = '$1' AND cause = '$2'") == 1 ]] && return 0
        sleep 0.1
    done
    return 1
}

# ready_and_clean LABEL: the index is ready, whiplash_check is clean, and
# probing it finds each of 50 vectors.
ready_and_clean() {
    local ready problems found
    ready=$(q -c "SELECT whiplash_wait_for_index('slow')")
    check "$1: whiplash_wait_for_index says the index is ready" test "$ready" = t
    problems=$(q -c "SELECT count(*) FROM whiplash_check('slow')")
    check "$1: whiplash_check is clean ($problems problems)" test "$problems" = 0
    found=$(q -c "SELECT count(*) FROM (SELECT * FROM slow ORDER BY id LIMIT 50) c
                   WHERE c.id IN (SELECT s.id FROM whiplash_search('slow', c.vector, 1, probes => 4) s)")
    check "$1: probing the index finds 50 of 50 vectors ($found)" test "$found" = 50
}

wl_start_ddblocal "$SERVER" || { echo "not ok 1 - DynamoDB Local did not start"; exit 1; }
start_proxy || { echo "not ok 1 - proxy"; exit 1; }

q >/dev/null <<SQL || { echo "not ok 1 - set-up"; exit 1; }
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint 'http://127.0.0.1:$PORT', max_retries '1', retry_base_delay '1ms',
           connect_timeout '1s', request_timeout '5s');
CREATE USER MAPPING FOR PUBLIC SERVER ddb
  OPTIONS (access_key_id '$WHIPLASH_KEY', secret_access_key '$WHIPLASH_SECRET');
SELECT whiplash_setup('ddb');
SELECT 1 FROM whiplash_create_collection('ddb', 'slow', 32, seed => 1);
CREATE FOREIGN TABLE slow (id text, vector real[]) SERVER ddb OPTIONS (collection 'slow');
CREATE FUNCTION slow_vec(seed int) RETURNS real[] LANGUAGE sql IMMUTABLE AS
  \$\$SELECT array_agg(sin(seed * 0.37 + d * 1.1 + (seed % 13) * d)::real ORDER BY d)
      FROM generate_series(1, 32) d\$\$;
INSERT INTO slow SELECT md5('s' || i)::uuid::text, slow_vec(i) FROM generate_series(1, 4000) i;
SQL

check "loading the vectors starts a build in a background worker" wait_for "indexing vectors" "first training"
datadir=$(q -c "SHOW data_directory")
postmaster=$(head -1 "$datadir/postmaster.pid")
children=$(pgrep -P "$postmaster")
kill -9 "$postmaster" $children
for ((i = 0; i < 100; i++)); do
    kill -0 "$postmaster" $children 2>/dev/null || break
    sleep 0.1
done
echo "# killed PostgreSQL (postmaster $postmaster and its $(wc -w <<<"$children") processes) with SIGKILL during the build"
pg_ctlcluster "$MAJOR" regress start >"$WL_LOG_DIR/build-crash-restart.log" 2>&1
for ((i = 0; i < 100; i++)); do pg_isready -q && break; sleep 0.1; done
ready=$(q -c "SELECT whiplash_wait_for_index('slow')")
check "after the restart the build is unfinished, and no worker runs" test "$ready" = f

sleep 2
q >/dev/null <<SQL
SET whiplash.abandoned_build_timeout = '1s';
INSERT INTO slow VALUES ('one more', slow_vec(4001));
SQL
check "past whiplash.abandoned_build_timeout a write resumes the build in a worker" \
    wait_for "indexing vectors" "abandoned build"
ready_and_clean "resumed after SIGKILL"

q -c "SELECT step FROM whiplash_reindex('slow', background => true)" >/dev/null
check "whiplash_reindex(background => true) starts a build" wait_for "indexing vectors" "whiplash_reindex"
kill "$proxy_pid"
wait "$proxy_pid" 2>/dev/null
check "with DynamoDB unreachable, the worker waits to try again" wait_for "waiting to retry" "whiplash_reindex"
sleep 3
start_proxy || echo "# the proxy did not start again"
ready_and_clean "tried again after DynamoDB came back"
server_log=$(pg_lsclusters -h "$MAJOR" regress | awk '{print $7}')
grep -A2 "background build of the index of collection \"slow\" failed" "$server_log" |
    head -3 | sed 's/^/# /'
attempt=$(grep -c "background build of the index of collection \"slow\" failed" "$server_log")
check "the server log says why the build waited ($attempt failures)" test "$attempt" -ge 1

q -c "SELECT whiplash_drop_collection('ddb', 'slow')" >/dev/null
echo "1..$checks"
((failures == 0))

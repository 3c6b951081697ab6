#!/usr/bin/env bash
# What a new session's first search costs against a warm one, with the
# trained model kept on the server's disk (whiplash.model_cache, the
# default) and read from DynamoDB (off).
#   bash test/bench/first_search.sh [VECTORS]      (default 20000)
# Starts dynalite on 127.0.0.1:18131 behind the signature-checking proxy on
# 18130, which prices every answer by DynamoDB's rules, and a throw-away
# PostgreSQL 15 cluster; the extension must be installed (make install).
# Loads VECTORS low-contrast points of 384 dimensions (test/tools/
# noisy_clusters.py, fixed seed, UUID ids), waits for the index, then for
# each setting opens 20 new sessions, each searching 2 of 20 fixed
# queries, and prints a Markdown table of mean read units and requests: a
# session's first search (opening the collection included) and its second.
set -uo pipefail
VECTORS=${1:-20000}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export WL_LOG_DIR=${WL_LOG_DIR:-$(mktemp -d -t whiplash-first.XXXXXX)}
source "$HERE/../tools/servers.sh"
wl_start_dynalite 18131 || exit 1
wl_start_sigcheck 18130 http://127.0.0.1:18131 benchkey:benchsecret || exit 1
trap wl_stop_all EXIT

cat >"$WL_LOG_DIR/first-inner.sh" <<'INNER'
set -uo pipefail
vectors=$1 tools=$2
stats() { curl -s http://127.0.0.1:18130/__stats; }
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL || exit 1
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint 'http://127.0.0.1:18130');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb
  OPTIONS (access_key_id 'benchkey', secret_access_key 'benchsecret');
SELECT whiplash_setup('ddb');
CREATE TABLE pts (part text, id text, v real[]);
COPY pts FROM PROGRAM '/usr/bin/python3 $tools/noisy_clusters.py rows $vectors 20';
SELECT whiplash_create_collection('ddb', 'first', 384, seed => 1);
CREATE FOREIGN TABLE first (id text, vector real[]) SERVER ddb OPTIONS (collection 'first');
SET client_min_messages = warning;
INSERT INTO first SELECT md5(id)::uuid::text, v FROM pts WHERE part = 'base';
SELECT whiplash_wait_for_index('first');
SQL
echo "| whiplash.model_cache | sessions | first search: read units | first search: requests | second search: read units | second search: requests |"
echo "|---|---|---|---|---|---|"
for cache in on off; do
    first_units=0 first_requests=0 second_units=0 second_requests=0
    for ((s = 0; s < 20; s++)); do
        before=$(stats)
        psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL || exit 1
SET whiplash.model_cache = $cache;
SELECT count(*) FROM whiplash_search('first', (SELECT v FROM pts WHERE part = 'query' ORDER BY id OFFSET $s LIMIT 1), 10);
\! curl -s http://127.0.0.1:18130/__stats >$WL_LOG_DIR/first-mid.json
SELECT count(*) FROM whiplash_search('first', (SELECT v FROM pts WHERE part = 'query' ORDER BY id OFFSET $(((s + 1) % 20)) LIMIT 1), 10);
SQL
        after=$(stats)
        read -r fu fr su sr < <(/usr/bin/python3 -c '
import json, sys
b, m, a = (json.loads(x) for x in sys.argv[1:4])
print(m["read_units"] - b["read_units"], m["requests"] - b["requests"],
      a["read_units"] - m["read_units"], a["requests"] - m["requests"])
' "$before" "$(cat "$WL_LOG_DIR/first-mid.json")" "$after")
        first_units=$(echo "$first_units + $fu" | bc -l)
        first_requests=$((first_requests + fr))
        second_units=$(echo "$second_units + $su" | bc -l)
        second_requests=$((second_requests + sr))
    done
    printf '| %s | 20 | %.1f | %.1f | %.1f | %.1f |\n' "$cache" \
        "$(echo "$first_units / 20" | bc -l)" "$(echo "$first_requests / 20" | bc -l)" \
        "$(echo "$second_units / 20" | bc -l)" "$(echo "$second_requests / 20" | bc -l)"
done
INNER
pg_virtualenv -t -v 15 bash "$WL_LOG_DIR/first-inner.sh" "$VECTORS" "$HERE/../tools"

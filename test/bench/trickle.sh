#!/usr/bin/env bash
# One row at a time across the training thresholds: how long each INSERT
# takes when the index is built by a background worker (the default) and
# when the write's COMMIT trains it (whiplash.background_builds off).
#   bash test/bench/trickle.sh [ROWS] [DIMS]     (defaults 3000 and 64)
# Starts dynalite on 127.0.0.1:18120 and a throw-away PostgreSQL 15
# cluster; the extension must be installed (make install).  Each mode loads
# ROWS vectors of DIMS dimensions (UUID ids, fixed values), an INSERT
# statement each, and prints a Markdown table: the median, 99th percentile
# and slowest INSERT, the INSERTs that crossed a threshold (a NOTICE names
# them), and how long after the last INSERT the index was ready.
set -uo pipefail
ROWS=${1:-3000}
DIMS=${2:-64}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export WL_LOG_DIR=${WL_LOG_DIR:-$(mktemp -d -t whiplash-trickle.XXXXXX)}
source "$HERE/../tools/servers.sh"
wl_start_dynalite 18120 || exit 1
trap wl_stop_all EXIT

cat >"$WL_LOG_DIR/trickle-inner.sh" <<'INNER'
set -uo pipefail
rows=$1 dims=$2 dir=$3
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL || exit 1
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint 'http://127.0.0.1:18120');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb OPTIONS (access_key_id 'k', secret_access_key 's');
SELECT whiplash_setup('ddb');
CREATE FUNCTION trickle_vec(i int) RETURNS real[] LANGUAGE sql IMMUTABLE AS
  \$\$SELECT array_agg(sin(i * 0.37 + d * 1.1 + (i % 17) * d * 0.3)::real ORDER BY d)
      FROM generate_series(1, $dims) d\$\$;
SQL
echo "| mode | INSERTs | median ms | p99 ms | slowest ms | INSERTs that crossed a threshold (row: ms) | index ready after the last INSERT |"
echo "|---|---|---|---|---|---|---|"
for mode in background commit; do
    setting=on
    [[ $mode == commit ]] && setting=off
    psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL || exit 1
SELECT whiplash_create_collection('ddb', 'trickle_$mode', $dims, seed => 1);
CREATE FOREIGN TABLE trickle_$mode (id text, vector real[]) SERVER ddb OPTIONS (collection 'trickle_$mode');
SQL
    {
        echo "SET whiplash.background_builds = $setting;"
        echo '\timing on'
        for ((i = 1; i <= rows; i++)); do
            echo "INSERT INTO trickle_$mode VALUES (md5('r$i')::uuid::text, trickle_vec($i));"
        done
        echo '\timing off'
        echo "SELECT clock_timestamp() AS t0 \\gset"
        echo "SELECT whiplash_wait_for_index('trickle_$mode') AS ready,"
        echo "       round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS waited \\gset"
        echo '\echo READY :ready :waited'
    } >"$dir/trickle-$mode.sql"
    psql -X -v ON_ERROR_STOP=1 -f "$dir/trickle-$mode.sql" >"$dir/trickle-$mode.log" 2>&1 || exit 1
    /usr/bin/python3 - "$dir/trickle-$mode.log" "$mode" <<'PY'
import re, statistics, sys
times, crossed, ready = [], [], None
for line in open(sys.argv[1]):
    if m := re.match(r"Time: ([0-9.]+) ms", line):
        times.append(float(m.group(1)))
    elif m := re.match(r"psql:[^:]*:([0-9]+): NOTICE:  (re)?training", line):
        crossed.append(int(m.group(1)) - 2)  # the INSERT of row 1 is line 3
    elif line.startswith("READY"):
        ready = line.split()
s = sorted(times)
p99 = s[int(0.99 * (len(s) - 1))]
cross = ", ".join(f"{row}: {times[row - 1]:.0f}" for row in crossed) or "none"
print(f"| {sys.argv[2]} | {len(times)} | {statistics.median(times):.1f} | {p99:.1f} | {s[-1]:.0f} | "
      f"{cross} | {ready[2]} s ({'ready' if ready[1] == 't' else 'not ready'}) |")
PY
done
INNER
pg_virtualenv -t -v 15 bash "$WL_LOG_DIR/trickle-inner.sh" "$ROWS" "$DIMS" "$WL_LOG_DIR"

#!/usr/bin/env bash
# Concurrency and memory checks of whiplash, run inside a throw-away cluster:
#   WHIPLASH_ENDPOINT=http://127.0.0.1:PORT WHIPLASH_KEY=... WHIPLASH_SECRET=... \
#       pg_virtualenv -t -v 15 bash test/stress/stress.sh [SECONDS] [CLIENTS] [SEARCHES]
# 1. pgbench runs CLIENTS (16) sessions for SECONDS (30) against one
#    collection, inserting, replacing, updating, deleting and searching ids
#    they share (test/stress/concurrency.sql) and mirroring every change in
#    a local table in the same transaction.  Afterwards the collection must
#    equal that table exactly, and whiplash_check must find nothing.
# 2. Switches: 4 pgbench sessions search a packed collection for SECONDS
#    (test/stress/switches.sql) while another inserts, deletes, updates,
#    retrains and reindexes it in rounds; every answer must equal brute
#    force, and no statement may fail.  Then the same on a collection
#    partitioned by tenant, searched within a tenant.
# 3. One session runs SEARCHES (10000) statements: searches plain, filtered
#    and through ORDER BY ... LIMIT, and id lookups, one statement each; its
#    private resident size (RssAnon: shared buffers are not its own) after
#    the first 1,000 and at the end must not differ by more than 4 MB.
# Prints one TAP line per check ("ok N - ..."/"not ok N - ...") and the
# figures as "# " lines; exits non-zero when a check fails.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SECONDS_TO_RUN=${1:-30}
CLIENTS=${2:-16}
SEARCHES=${3:-10000}
WORK=$(mktemp -d -t whiplash-stress.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"

source "$HERE/../tools/tap.sh"

q <<SQL || { echo "not ok 1 - set-up"; exit 1; }
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint '$WHIPLASH_ENDPOINT', project 'stress', stage 's$$');
CREATE USER MAPPING FOR PUBLIC SERVER ddb
  OPTIONS (access_key_id '$WHIPLASH_KEY', secret_access_key '$WHIPLASH_SECRET');
SELECT whiplash_setup('ddb');
SELECT 1 FROM whiplash_create_collection('ddb', 'busy', 16, tables => 4, bits => 6);
CREATE FOREIGN TABLE busy (id text, vector real[], attributes jsonb)
  SERVER ddb OPTIONS (collection 'busy');
CREATE TABLE expect (id text PRIMARY KEY, vector real[], attributes jsonb);
CREATE FUNCTION stress_vec(seed int) RETURNS real[] LANGUAGE sql IMMUTABLE AS
  \$\$SELECT array_agg(sin(seed * 0.37 + d * 1.1)::real ORDER BY d) FROM generate_series(1, 16) d\$\$;
-- The backend's private resident size in kB, from its own /proc entry.
CREATE FUNCTION stress_rss() RETURNS bigint LANGUAGE sql AS
  \$\$SELECT (regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+)'))[1]::bigint\$\$;
SQL

# 1. Concurrency.
pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_TO_RUN" -f "$HERE/concurrency.sql" \
    >"$WORK/pgbench.log" 2>&1
pgbench_status=$?
sed 's/^/# /' "$WORK/pgbench.log" | grep -E 'number of (clients|transactions|failed)|latency average|tps' || true
tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench.log")
check "pgbench: $CLIENTS clients for $SECONDS_TO_RUN s, ${tx:-0} transactions, no errors" \
    test "$pgbench_status" -eq 0 -a "${tx:-0}" -gt 0
grep -E 'ERROR|aborted' "$WORK/pgbench.log" | head -5 | sed 's/^/# /'
diff=$(q -c "SELECT (SELECT count(*) FROM (SELECT * FROM busy EXCEPT SELECT * FROM expect) d) || ' extra, '
                 || (SELECT count(*) FROM (SELECT * FROM expect EXCEPT SELECT * FROM busy) d) || ' missing of '
                 || (SELECT count(*) FROM expect)")
echo "# collection vs the clients' committed statements: $diff"
check "collection equals what the committed statements imply ($diff)" \
    test "${diff%% *}" = 0 -a "$(echo "$diff" | cut -d' ' -f3)" = 0
problems=$(q -c "SELECT count(*) FROM whiplash_check('busy')")
q -c "SELECT problem, bucket, id FROM whiplash_check('busy') LIMIT 5" | sed 's/^/# /'
check "whiplash_check finds no problem after the run" test "${problems:-x}" = 0

# 2. Switches.  The 1,200 fixed vectors ("anchors", UUID ids) are uniform
# in [-1, 1]^128, in six tenants; the writer's lie 50 away along the first
# axis, so a fixed vector's 10 nearest, in the collection or in its tenant,
# are always fixed ones: its exact answer is known.  It runs twice: on the
# collection "churn", and on "tenants", partitioned by tenant, whose searches
# name the query's tenant and whose writer also moves vectors between
# tenants (one into a tenant the index has not seen).
q <<SQL || { echo "not ok $((checks + 1)) - switches: set-up"; exit 1; }
CREATE FUNCTION stress_point(tag text, n int, shift real) RETURNS real[] LANGUAGE sql IMMUTABLE AS
  \$\$SELECT array_agg((('x' || substr(md5(tag || n || ':' || d), 1, 8))::bit(32)::int / 2147483648.0
                       + CASE WHEN d = 1 THEN shift ELSE 0 END)::real ORDER BY d)
      FROM generate_series(1, 128) d\$\$;
CREATE FUNCTION stress_id(tag text, n int) RETURNS text LANGUAGE sql IMMUTABLE AS
  \$\$SELECT md5(tag || n)::uuid::text\$\$;
CREATE TABLE anchors AS
  SELECT n, stress_id('anchor', n) AS id, stress_point('anchor', n, 0) AS vector,
         'acme' || n % 6 AS tenant
    FROM generate_series(1, 1200) n;
ALTER TABLE anchors ADD PRIMARY KEY (n);
CREATE TABLE wrong (part int, how int, n int, got text[], want text[]);
-- how 1: every cell, which is exact; 2: the default plan, which must find
-- the query's own vector first and only fixed ones (of its tenant); 3:
-- ORDER BY ... LIMIT through the foreign table, likewise, with the query
-- read from the collection in the same statement (the read that can
-- notice a switch).  part 1 searches "tenants" within the query's tenant.
-- A difference is noted in "wrong".
CREATE FUNCTION stress_switch_search(part int, n int, how int) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
  a anchors := (SELECT a FROM anchors a WHERE a.n = stress_switch_search.n);
  coll text := CASE part WHEN 1 THEN 'tenants' ELSE 'churn' END;
  tenant_filter jsonb := CASE part WHEN 1 THEN jsonb_build_object('tenant', a.tenant) END;
  got text[];
  want text[] := ARRAY(SELECT b.id FROM anchors b WHERE part = 0 OR b.tenant = a.tenant
                        ORDER BY whiplash_distance(b.vector, a.vector, 'l2'), b.id LIMIT 10);
BEGIN
  IF how = 1 THEN
    got := ARRAY(SELECT s.id FROM whiplash_search(coll, a.vector, 10, probes => 1024,
                                                  max_candidates => 100000,
                                                  filter => tenant_filter) s);
  ELSIF how = 2 THEN
    got := ARRAY(SELECT s.id FROM whiplash_search(coll, a.vector, 10, filter => tenant_filter) s);
  ELSE
    EXECUTE format('SELECT ARRAY(SELECT c.id FROM %I c WHERE %s
                     ORDER BY c.vector <-> (SELECT v.vector FROM %I v WHERE v.id = %L) LIMIT 10)',
                   coll, CASE part WHEN 1 THEN format('c.tenant = %L', a.tenant) ELSE 'true' END,
                   coll, want[1])
      INTO got;
  END IF;
  IF (how = 1 AND got IS DISTINCT FROM want) OR
     (how > 1 AND (cardinality(got) IS DISTINCT FROM 10 OR got[1] IS DISTINCT FROM want[1] OR
                   EXISTS (SELECT FROM unnest(got) g
                            WHERE g NOT IN (SELECT b.id FROM anchors b
                                             WHERE part = 0 OR b.tenant = a.tenant)))) THEN
    INSERT INTO wrong VALUES (part, how, n, got, want);
  END IF;
END \$\$;
SQL

# switches PART COLLECTION COLUMNS: the check on one collection, whose
# foreign table has the id, the vector and COLUMNS.
switches() {
    local part=$1 coll=$2 columns=$3
    q <<SQL || { check "switches on $coll: set-up" false; return; }
SELECT 1 FROM whiplash_create_collection('ddb', '$coll', 128, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE $coll (id text, vector real[] $columns) SERVER ddb OPTIONS (collection '$coll');
INSERT INTO $coll SELECT id, vector $( ((part)) && echo ", tenant" ) FROM anchors;
-- The first index, trained on the 1,200 in the background, before the
-- writer starts: a COMMIT that finds a build running starts none and says
-- nothing, so each round's retraining NOTICE counts only from a trained
-- index.
SELECT whiplash_wait_for_index('$coll');
SQL
    local trained rounds searches status wrong retrained reindexed final
    trained=$(q -c "SELECT count(*) FROM $coll")
    rm -f "$WORK/searched" "$WORK/rounds" "$WORK/writer.failed" "$WORK/writer.log"
    # The writer's rounds: 2,400 more vectors (at 3,600 the index needs
    # more cells than its 1,200 vectors had, so the COMMIT starts a worker
    # that retrains, and the writer waits for it), half of them deleted,
    # one moved (to another tenant too), the rest deleted, and a reindex on
    # the fixed vectors alone; each round's vectors have ids of their own,
    # and in the partitioned collection one of seven tenants (acme6 holds
    # no fixed vector).
    writer() {
        local round=0
        while [[ ! -e $WORK/searched ]]; do
            round=$((round + 1))
            q >>"$WORK/writer.log" 2>&1 <<SQL || echo "failed round $round" >>"$WORK/writer.failed"
\echo round $round
INSERT INTO $coll SELECT stress_id('r$round', i), stress_point('r$round', i, 50)
       $( ((part)) && echo ", 'acme' || i % 7" ) FROM generate_series(1, 2400) i;
SELECT 'retrained', whiplash_wait_for_index('$coll');
DELETE FROM $coll WHERE id IN (SELECT stress_id('r$round', i) FROM generate_series(1, 1200) i);
UPDATE $coll SET vector = stress_point('m$round', 1, 60) $( ((part)) && echo ", tenant = 'acme9'" )
 WHERE id = stress_id('r$round', 2000);
DELETE FROM $coll WHERE id IN (SELECT stress_id('r$round', i) FROM generate_series(1201, 2400) i);
SELECT 'reindex', step, items FROM whiplash_reindex('$coll');
SQL
        done
        echo "$round" >"$WORK/rounds"
    }
    writer &
    local writer_pid=$!
    pgbench -n -c 4 -j 2 -T "$SECONDS_TO_RUN" -D part="$part" -f "$HERE/switches.sql" \
        >"$WORK/switches.log" 2>&1
    status=$?
    touch "$WORK/searched"
    wait "$writer_pid"
    rounds=$(cat "$WORK/rounds")
    searches=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/switches.log")
    echo "# switches on $coll: $searches searches while the writer ran $rounds rounds"
    grep -E 'ERROR|aborted' "$WORK/switches.log" | head -5 | sed 's/^/# /'
    check "switches on $coll: ${searches:-0} searches, none failed" \
        test "$status" -eq 0 -a "${searches:-0}" -gt 0
    grep -E 'ERROR|WARNING' "$WORK/writer.log" | head -5 | sed 's/^/# /'
    retrained=$(grep -c "NOTICE:  retraining the index of collection \"$coll\"" "$WORK/writer.log")
    reindexed=$(grep -c '^reindex|cleaned up' "$WORK/writer.log")
    check "switches on $coll: the writer's $rounds rounds succeeded ($retrained retrainings, $reindexed reindexes)" \
        test ! -e "$WORK/writer.failed" -a "$rounds" -ge 1 \
        -a "$retrained" -eq "$rounds" -a "$reindexed" -eq "$rounds"
    wrong=$(q -c "SELECT count(*) FROM wrong WHERE part = $part")
    q -c "SELECT how, n, got, want FROM wrong WHERE part = $part LIMIT 3" | sed 's/^/# /'
    check "switches on $coll: every answer equals brute force ($wrong differ)" test "${wrong:-x}" = 0
    final=$(q -c "SELECT (SELECT count(*) FROM $coll) || ' stored, ' || (SELECT count(*) FROM whiplash_check('$coll')) || ' problems'")
    check "switches on $coll: afterwards the collection holds its $trained fixed vectors and nothing else ($final)" \
        test "$final" = "$trained stored, 0 problems"
    if ((part)); then
        # Every record an exact search of one tenant reads is that tenant's:
        # its 200 fixed vectors' in each of the index's tables.
        local read
        read=$(q -c "SELECT count(*) FROM whiplash_search('$coll', (SELECT vector FROM anchors WHERE n = 1),
                                                          10, probes => 1024, max_candidates => 100000,
                                                          filter => '{\"tenant\": \"acme1\"}');
                     SELECT bucket_entries || ' records in ' || buckets || ' Queries' FROM whiplash_last_search()" | tail -1)
        echo "# an exact search of tenant acme1 read $read"
        local records=${read%% *}
        [[ $records =~ ^[0-9]+$ ]] || records=1
        check "switches on $coll: a tenant's exact search reads its own records only (${read:-no answer})" \
            test "$((records % 200))" = 0 -a "$records" -lt 1200
    fi
}
switches 0 churn ""
switches 1 tenants ", tenant text OPTIONS (partition 'true')"

# 3. Memory: one session, SEARCHES statements, resident size sampled after
# the first 1,000 (the warm-up) and every tenth of the run.
warm=$(( SEARCHES / 2 < 1000 ? SEARCHES / 2 : 1000 ))
sample_every=$(( SEARCHES / 10 > warm ? SEARCHES / 10 : warm ))
{
    # Few probes keep each search cheap; the filter rarely matches, so
    # filtered searches widen through every round up to max_probes.
    echo "SET whiplash.probes = 2; SET whiplash.max_probes = 8;"
    echo "SELECT 'rss', 0, stress_rss();"
    for ((i = 1; i <= SEARCHES; i++)); do
        case $((i % 4)) in
            0) echo "SELECT count(*) FROM whiplash_search('busy', stress_vec($i), 10);" ;;
            1) echo "SELECT count(*) FROM whiplash_search('busy', stress_vec($i), 5, filter => '{\"seed\": $i}');" ;;
            2) echo "SELECT count(*) FROM (SELECT id FROM busy ORDER BY vector <=> stress_vec($i) LIMIT 10) s;" ;;
            3) echo "SELECT count(*) FROM busy WHERE id = 'k$((i % 200 + 1))';" ;;
        esac
        if ((i == warm || i % sample_every == 0 || i == SEARCHES)); then
            echo "SELECT 'rss', $i, stress_rss();"
        fi
    done
} >"$WORK/searches.sql"
start=$(date +%s)
q -f "$WORK/searches.sql" >"$WORK/searches.out" 2>&1
search_status=$?
elapsed=$(($(date +%s) - start))
curve=$(sed -n 's/^rss|\([0-9]*\)|\([0-9]*\)$/\1:\2/p' "$WORK/searches.out" | tr '\n' ' ')
echo "# $SEARCHES statements in ${elapsed} s; private resident size in kB after N statements (N:kB): $curve"
check "$SEARCHES searches in one session succeed" test "$search_status" -eq 0
after_warm=$(sed -n "s/^rss|$warm|//p" "$WORK/searches.out")
at_end=$(sed -n "s/^rss|$SEARCHES|//p" "$WORK/searches.out")
growth=$(( ${at_end:-999999} - ${after_warm:-0} ))
check "resident size flat over $SEARCHES searches (grew $growth kB after the first $warm)" \
    test "$growth" -le 4096

q -c "SELECT whiplash_drop_collection('ddb', 'busy')" >/dev/null
echo "1..$checks"
((failures == 0))

-- Recall of whiplash_search against exact brute force, on a real data set:
-- scikit-learn's 1,797 digits (64 dimensions).  1,697 are stored; the
-- first 100 are the queries.  A native collection (the layout of whiplash
-- 0.1) at its default settings, then filtered searches of a packed one
-- (the default format; packed.sql tests its unfiltered searches).
\getenv digits WHIPLASH_DIGITS
\set digits_cmd 'zcat ' :digits
CREATE TABLE digits_raw (n serial, line text);
COPY digits_raw (line) FROM PROGRAM :'digits_cmd';
CREATE TABLE digits AS
  SELECT 'd' || (n - 1) AS id, n - 1 AS row,
         (string_to_array(line, ','))[1:64]::real[] AS v,
         (string_to_array(line, ','))[65]::int AS label
    FROM digits_raw;

SELECT collection, dimensions, metric, tables, bits
  FROM whiplash_create_collection('ddb', 'digits', 64, seed => 1, format => 'native');
CREATE FOREIGN TABLE digits_ft (id text, vector real[], label int, attributes jsonb)
  SERVER ddb OPTIONS (collection 'digits');
-- Every 20th vector (about 5%) is "rare", for the filtered searches below.
INSERT INTO digits_ft
  SELECT id, v, label,
         jsonb_build_object('shade', CASE WHEN row % 20 = 7 THEN 'rare' ELSE 'common' END)
    FROM digits WHERE row >= 100;
SELECT count(*) AS stored FROM digits_ft;
-- ANALYZE reads no more items than it wants rows, the first a Scan
-- returns: 300 at statistics target 1, so the ids' bounds are those of
-- the first 300 rows, not the whole table's.  The number of rows is the
-- collection's count.
SET default_statistics_target = 1;
CREATE TEMP TABLE first_items AS SELECT id FROM digits_ft LIMIT 300;
ANALYZE digits_ft;
ANALYZE first_items;
RESET default_statistics_target;
SELECT f.histogram_bounds::text = l.histogram_bounds::text AS sampled_the_first_300,
       f.histogram_bounds::text = ARRAY[(SELECT min(id) FROM digits_ft),
                                        (SELECT max(id) FROM digits_ft)]::text AS sampled_all
  FROM pg_stats f, pg_stats l
 WHERE f.tablename = 'digits_ft' AND f.attname = 'id' AND l.tablename = 'first_items' AND l.attname = 'id';
SELECT reltuples = (SELECT count(*) FROM digits_ft) AS rows_counted
  FROM pg_class WHERE relname = 'digits_ft';
DROP TABLE first_items;

-- Every query searched at the default settings; what each search read.
CREATE TABLE found (query text, id text, rank int);
CREATE TABLE costs (query text, vectors_read bigint, requests bigint, round_trips bigint);
DO $$
DECLARE
  q record;
BEGIN
  FOR q IN SELECT id, v FROM digits WHERE row < 100 ORDER BY row LOOP
    INSERT INTO found
      SELECT q.id, s.id, row_number() OVER () FROM whiplash_search('digits_ft', q.v, 10) s;
    INSERT INTO costs
      SELECT q.id, vectors_read, requests, round_trips FROM whiplash_last_search();
  END LOOP;
END $$;

-- The exact 10 nearest of each query (cosine distance, ties by id).
CREATE TABLE truth AS
  SELECT q.id AS query, t.id
    FROM digits q,
         LATERAL (SELECT b.id FROM digits b WHERE b.row >= 100
                  ORDER BY whiplash_distance(q.v, b.v, 'cosine'), b.id LIMIT 10) t
   WHERE q.row < 100;

SELECT round(count(f.id)::numeric / (SELECT count(*) FROM truth), 3) AS recall_at_10,
       count(f.id)::numeric / (SELECT count(*) FROM truth) >= 0.90 AS recall_at_least_0_90
  FROM truth t LEFT JOIN found f USING (query, id);
SELECT round(max(vectors_read) / 1697.0, 3) AS most_read_fraction,
       round(avg(vectors_read) / 1697.0, 3) AS mean_read_fraction,
       max(vectors_read) <= 169.7 AS reads_at_most_10_percent,
       max(round_trips) AS round_trips_per_search,
       round(avg(requests), 1) AS requests_per_search
  FROM costs;

-- Every search returned 10 rows, closest first.
SELECT count(DISTINCT query) AS queries, min(n) AS fewest_rows, max(n) AS most_rows
  FROM (SELECT query, count(*) AS n FROM found GROUP BY query) per_query;

-- The nearest neighbours mostly share the query's label.
SELECT round(avg((q.label = d.label)::int), 2) AS label_agreement
  FROM found f JOIN digits q ON q.id = f.query JOIN digits d ON d.id = f.id;

-- Filtered search: only the rare 5%.  A round that finds fewer than 10 is
-- followed by a wider one, so every search returns 10 rows; recall is
-- against exact brute force over the rare vectors alone.  (50 queries: a
-- filtered search here sends about 420 requests, which dynalite, on one
-- Node.js thread, answers in about 1.4 s.)
SELECT count(*) FILTER (WHERE attributes->>'shade' = 'rare') AS rare, count(*) AS stored
  FROM digits_ft;
CREATE TABLE found_f (query text, id text);
CREATE TABLE costs_f (query text, rounds int, vectors_read bigint, matched bigint,
                      requests bigint, round_trips bigint, results int);
DO $$
DECLARE
  q record;
BEGIN
  FOR q IN SELECT id, v FROM digits WHERE row < 50 ORDER BY row LOOP
    INSERT INTO found_f
      SELECT q.id, s.id FROM whiplash_search('digits_ft', q.v, 10, filter => '{"shade": "rare"}') s;
    INSERT INTO costs_f
      SELECT q.id, rounds, vectors_read, matched, requests, round_trips, results
        FROM whiplash_last_search();
  END LOOP;
END $$;
CREATE TABLE truth_f AS
  SELECT q.id AS query, t.id
    FROM digits q,
         LATERAL (SELECT b.id FROM digits b WHERE b.row >= 100 AND b.row % 20 = 7
                  ORDER BY whiplash_distance(q.v, b.v, 'cosine'), b.id LIMIT 10) t
   WHERE q.row < 50;
SELECT round(count(f.id)::numeric / (SELECT count(*) FROM truth_f), 3) AS filtered_recall_at_10,
       count(f.id)::numeric / (SELECT count(*) FROM truth_f) >= 0.65 AS recall_at_least_0_65
  FROM truth_f t LEFT JOIN found_f f USING (query, id);
SELECT min(results) AS fewest_rows, max(results) AS most_rows,
       min(rounds) AS fewest_rounds, max(rounds) AS most_rounds,
       round(avg(rounds), 2) AS mean_rounds,
       round(avg(vectors_read) / 1697.0, 3) AS mean_read_fraction,
       round(avg(requests), 1) AS requests_per_search,
       max(round_trips) AS most_round_trips
  FROM costs_f;
-- Every row returned passed the filter.
SELECT count(*) AS not_rare FROM found_f f JOIN digits d ON d.id = f.id WHERE d.row % 20 <> 7;

-- The same filter as SQL: WHERE, ORDER BY, LIMIT, per query with LATERAL,
-- checked during the search: the same rows as the jsonb filter.
CREATE TABLE found_sql AS
  SELECT q.id AS query, s.id
    FROM digits q,
         LATERAL (SELECT id FROM digits_ft WHERE attributes->>'shade' = 'rare'
                  ORDER BY vector <=> q.v LIMIT 10) s
   WHERE q.row < 50;
SELECT (SELECT count(*) FROM found_sql) AS rows,
       (SELECT count(*) FROM (SELECT * FROM found_sql EXCEPT SELECT * FROM found_f) d) AS differ;
-- (the collection's settings stay cached, so the statement confirms them
-- with one GetItem whatever the time the searches above took)
SET whiplash.collection_cache_ttl = '1h';
SELECT explain_masked($$(ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT id FROM digits_ft WHERE attributes->>'shade' = 'rare'
   ORDER BY vector <=> (SELECT v FROM digits WHERE id = 'd0') LIMIT 10$$);
RESET whiplash.collection_cache_ttl;

-- The same filtered searches of a packed collection, made to probe its
-- index (at this size its cheapest plan is an exact Scan): a round that
-- finds fewer than 10 widens as above.
SELECT collection, tables, format
  FROM whiplash_create_collection('ddb', 'digits_packed', 64, seed => 1);
CREATE FOREIGN TABLE digits_packed (id text, vector real[], attributes jsonb)
  SERVER ddb OPTIONS (collection 'digits_packed');
INSERT INTO digits_packed
  SELECT id, v, jsonb_build_object('shade', CASE WHEN row % 20 = 7 THEN 'rare' ELSE 'common' END)
    FROM digits WHERE row >= 100;
SELECT whiplash_wait_for_index('digits_packed') AS index_ready;
CREATE TABLE found_p (query text, id text);
CREATE TABLE costs_p (query text, rounds int, results int, plan text);
-- (Whether 5% matching read twice the planned units depends on how each
-- DynamoDB prices a Query: its NOTICE is tested below, where it must come.)
SET client_min_messages = warning;
DO $$
DECLARE
  q record;
BEGIN
  FOR q IN SELECT id, v FROM digits WHERE row < 50 ORDER BY row LOOP
    INSERT INTO found_p
      SELECT q.id, s.id
        FROM whiplash_search('digits_packed', q.v, 10, probes => 5, filter => '{"shade": "rare"}') s;
    INSERT INTO costs_p SELECT q.id, rounds, results, plan FROM whiplash_last_search();
  END LOOP;
END $$;
SELECT round(count(f.id)::numeric / (SELECT count(*) FROM truth_f), 3) AS filtered_recall_at_10,
       count(f.id)::numeric / (SELECT count(*) FROM truth_f) >= 0.90 AS recall_at_least_0_90
  FROM truth_f t LEFT JOIN found_p f USING (query, id);
SELECT min(results) AS fewest_rows, max(results) AS most_rows,
       max(rounds) > 1 AS some_widened, string_agg(DISTINCT plan, ',') AS plans
  FROM costs_p;
SELECT count(*) AS not_rare FROM found_p f JOIN digits d ON d.id = f.id WHERE d.row % 20 <> 7;
RESET client_min_messages;
-- A filtered search that reads more than twice the read units it planned
-- says so, once a transaction (here, for two searches): a filter that
-- nothing passes widens until it has read every code and fetched
-- whiplash.max_scan_candidates vectors (here 300).  EXPLAIN ANALYZE shows
-- both figures.
SET whiplash.max_scan_candidates = 300;
\set VERBOSITY terse
SELECT count(s.id) AS found, count(DISTINCT d.id) AS searches
  FROM digits d LEFT JOIN LATERAL whiplash_search('digits_packed', d.v, 10, probes => 5,
                                                  filter => '{"shade": "none"}') s ON true
 WHERE d.row IN (0, 1);
SELECT rounds > 1 AS widened, vectors_read, matched FROM whiplash_last_search();
DO $$
DECLARE
  plan json;
BEGIN
  EXECUTE $q$EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF)
    SELECT count(*) FROM whiplash_search('digits_packed', (SELECT v FROM digits WHERE row = 0), 10,
                                         probes => 5, filter => '{"shade": "none"}')$q$ INTO plan;
  RAISE NOTICE 'calls: %, over twice the estimated read units: %', plan->1->>'Calls',
    (plan->1->>'DynamoDB Read Capacity')::float > 2 * (plan->1->>'Estimated Read Capacity')::float;
END $$;
\set VERBOSITY default
RESET whiplash.max_scan_candidates;
SELECT whiplash_drop_collection('ddb', 'digits_packed');
DROP FOREIGN TABLE digits_packed;
DROP TABLE found_p, costs_p;

-- A join on id with a few local rows runs as a nested loop of GetItem
-- lookups; with many, as one Scan.
ANALYZE digits;
SELECT explain_masked($$(COSTS OFF)
  SELECT d.id, f.label FROM digits d JOIN digits_ft f ON f.id = d.id WHERE d.row IN (150, 151, 152)$$);
SELECT d.id, f.label, d.label = f.label AS same FROM digits d JOIN digits_ft f ON f.id = d.id
 WHERE d.row IN (150, 151, 152) ORDER BY d.id;
SELECT explain_masked($$(COSTS OFF)
  SELECT count(*) FROM digits d JOIN digits_ft f ON f.id = d.id WHERE d.row >= 1000$$);

SELECT whiplash_drop_collection('ddb', 'digits');
DROP FOREIGN TABLE digits_ft;
DROP TABLE digits_raw, digits, found, costs, truth, found_f, costs_f, truth_f, found_sql;

-- Packed collections: a compact code of each vector in its bucket entries,
-- an index trained on the collection's own vectors, and searches planned
-- by the read units they cost.  Recall is against exact brute force on
-- scikit-learn's 1,797 digits; read units are counted from the requests
-- sent, priced by DynamoDB's rules at the signature-checking proxy.
-- This file checks indexes trained at a write's COMMIT, so that a worker's
-- timing cannot change its output: sql/background.sql checks the default,
-- a background worker.
SET whiplash.background_builds = off;
\getenv digits WHIPLASH_DIGITS
\getenv sigcheck_stats WHIPLASH_SIGCHECK_STATS
\set digits_cmd 'zcat ' :digits
\set stats_cmd 'curl -s ' :sigcheck_stats
CREATE TABLE digits_raw (n serial, line text);
COPY digits_raw (line) FROM PROGRAM :'digits_cmd';
CREATE TABLE digits AS
  SELECT 'd' || (n - 1) AS id, n - 1 AS row,
         (string_to_array(line, ','))[1:64]::real[] AS v
    FROM digits_raw;
-- The UUIDs a collection of test/tools/packed_fixture.sh cells03 gives them.
CREATE TABLE digit_uuids AS SELECT id, md5(id)::uuid::text AS uuid FROM digits;
-- The exact 10 nearest of each of the first 100 digits among the others.
CREATE TABLE truth AS
  SELECT q.id AS query, t.id
    FROM digits q,
         LATERAL (SELECT b.id FROM digits b WHERE b.row >= 100
                  ORDER BY whiplash_distance(q.v, b.v, 'cosine'), b.id LIMIT 10) t
   WHERE q.row < 100;
-- What the proxy has priced so far, noted under a name.
CREATE TABLE proxy (at text PRIMARY KEY, stats jsonb);
CREATE TABLE proxy_now (stats jsonb);
CREATE FUNCTION note_proxy(name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE proxy_now;
  EXECUTE format('COPY proxy_now FROM PROGRAM %L', current_setting('test.stats_cmd'));
  INSERT INTO proxy SELECT name, stats FROM proxy_now;
END $$;
SELECT set_config('test.stats_cmd', :'stats_cmd', false) IS NOT NULL AS noted;
-- No re-read of a collection's settings between the proxy's counts.
SET whiplash.collection_cache_ttl = '1h';
-- Searches every query of the first 100 in a collection, keeping what it
-- found and the plan it used under a label.  Given probes, searches probe
-- the index (the default plan of a collection this small reads every code).
CREATE TABLE found (label text, query text, id text);
CREATE TABLE plans (label text, query text, plan text);
CREATE PROCEDURE search_all(label text, ft regclass, probes int DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
  q record;
BEGIN
  PERFORM note_proxy(label || ' before');
  FOR q IN SELECT id, v FROM digits WHERE row < 100 ORDER BY row LOOP
    INSERT INTO found
      SELECT label, q.id, coalesce(u.id, s.id)
        FROM whiplash_search(ft, q.v, 10, probes => probes) s
             LEFT JOIN digit_uuids u ON u.uuid = s.id;
    INSERT INTO plans SELECT label, q.id, plan FROM whiplash_last_search();
  END LOOP;
  PERFORM note_proxy(label || ' after');
END $$;
-- Recall@10 of a label's searches and their billed read units a search.
CREATE VIEW recall AS
  SELECT label,
         round((SELECT count(*) FROM truth t JOIN found f USING (query, id)
                 WHERE f.label = l.label) / 1000.0, 3) AS recall_at_10,
         round((((SELECT stats FROM proxy WHERE at = label || ' after')->>'read_units')::numeric -
                ((SELECT stats FROM proxy WHERE at = label || ' before')->>'read_units')::numeric)
               / 100, 1) AS read_units,
         round((((SELECT stats FROM proxy WHERE at = label || ' after')->>'requests')::numeric -
                ((SELECT stats FROM proxy WHERE at = label || ' before')->>'requests')::numeric)
               / 100, 1) AS requests,
         (SELECT string_agg(DISTINCT plan, ',') FROM plans p WHERE p.label = l.label) AS plans
    FROM (SELECT DISTINCT label FROM found) l;

-- A small collection is searched exactly: a search returns min(k, vectors)
-- rows, and its plan says why.
SELECT collection, tables, format
  FROM whiplash_create_collection('ddb', 'tiny', 2, format => 'packed', seed => 1);
CREATE FOREIGN TABLE tiny (id text, vector real[]) SERVER ddb OPTIONS (collection 'tiny');
INSERT INTO tiny VALUES ('a', '{1,0}'), ('b', '{0,1}'), ('c', '{1,1}');
SELECT id, round(distance::numeric, 4) AS distance FROM whiplash_search('tiny', '{1,0.1}', 5);
SELECT plan, results, vectors_read FROM whiplash_last_search();
EXPLAIN (COSTS OFF) SELECT id FROM tiny ORDER BY vector <=> '{1,0}' LIMIT 5;
SELECT id FROM tiny ORDER BY vector <=> '{1,0}' LIMIT 5;
-- A zero vector has no direction to index under cosine.
INSERT INTO tiny VALUES ('zero', '{0,0}');
-- Nor a zero query: an error, not an empty answer.
SELECT * FROM whiplash_search('tiny', '{0,0}', 5);
SELECT id FROM tiny ORDER BY vector <=> '{0,0}' LIMIT 5;
-- An exact search of a collection of several 1 MB pages (here 300 vectors
-- of 2,000 dimensions, 2.4 MB) reads them by a parallel Scan, whose
-- segments come back together: at most 2 round trips (each segment's
-- page, and a second page of a segment that holds more than 1 MB), where
-- reading the pages one after another takes one round trip a page.
SELECT collection FROM whiplash_create_collection('ddb', 'wide', 2000, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE wide (id text, vector real[]) SERVER ddb OPTIONS (collection 'wide');
CREATE TABLE wide_local AS
  SELECT 'w' || i AS id, ARRAY(SELECT sin(i * 0.37 + j)::real FROM generate_series(1, 2000) j) AS v
    FROM generate_series(1, 300) i;
INSERT INTO wide SELECT id, v FROM wide_local;
CREATE TABLE wide_found AS
  SELECT array_agg(id) AS ids FROM whiplash_search('wide', (SELECT v FROM wide_local WHERE id = 'w7'), 5);
SELECT plan, results, vectors_read, requests >= 3 AS several_pages, round_trips <= 2 AS in_parallel
  FROM whiplash_last_search();
SELECT ids = (SELECT array_agg(id) FROM (SELECT id FROM wide_local
                                          ORDER BY whiplash_distance(v, (SELECT v FROM wide_local WHERE id = 'w7'), 'l2'), id
                                          LIMIT 5) t) AS exact
  FROM wide_found;
SELECT whiplash_drop_collection('ddb', 'wide');
DROP FOREIGN TABLE wide;
DROP TABLE wide_local, wide_found;

-- Loaded in bulk: the index trains itself on its first 1,000 vectors, and
-- the writes after it go under the trained index.
SELECT collection, tables, format
  FROM whiplash_create_collection('ddb', 'bulk', 64, format => 'packed', seed => 1);
CREATE FOREIGN TABLE bulk (id text, vector real[]) SERVER ddb OPTIONS (collection 'bulk');
INSERT INTO bulk SELECT id, v FROM digits WHERE row >= 100;
SELECT count(*) AS stored FROM bulk;
CALL search_all('bulk', 'bulk');
-- whiplash_recall on a few of the collection's own vectors and of the
-- queries (sql/embeddings.sql checks its figures against brute force).
SELECT searched, k_nearest, recall >= 0.8 AS recall_at_least_0_8, round_trips <= 2 AS two_round_trips
  FROM whiplash_recall('bulk', 10);
SELECT searched, k_nearest, recall >= 0.8 AS recall_at_least_0_8
  FROM whiplash_recall('bulk', (SELECT array_agg(v ORDER BY row) FROM digits WHERE row < 10), k => 5);
CALL search_all('bulk, 5 probes', 'bulk', 5);
-- A round sends max_connections requests at a time, and each wave of them
-- waits a round trip: over 1 connection, each Query of the cells read (a
-- run of a block's consecutive cells in one) and the BatchGetItem of the
-- candidates wait one each.
ALTER SERVER ddb OPTIONS (ADD max_connections '1');
SELECT count(*) FROM whiplash_search('bulk', (SELECT v FROM digits WHERE row = 0), 10, probes => 5);
SELECT requests, round_trips FROM whiplash_last_search();
ALTER SERVER ddb OPTIONS (DROP max_connections);
SELECT count(*) FROM whiplash_search('bulk', (SELECT v FROM digits WHERE row = 0), 10, probes => 5);
SELECT requests, round_trips FROM whiplash_last_search();
-- EXPLAIN VERBOSE says which plan and why (table names carry a random
-- generation, shown as <generation>).
CREATE FUNCTION explain_packed(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
    RETURN NEXT regexp_replace(line, '_[0-9a-f]{8}_vectors', '_<generation>_vectors');
  END LOOP;
END $$;
SELECT explain_packed($$SELECT id FROM bulk ORDER BY vector <=> '{0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0}' LIMIT 10$$);
SET whiplash.recall_target = 0.8;
SELECT explain_packed($$SELECT id FROM bulk ORDER BY vector <=> '{0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0}' LIMIT 10$$);
RESET whiplash.recall_target;
-- A WHERE that the search checks on each candidate is priced at its
-- selectivity (after ANALYZE, from the ids' histogram).  1,147 of the
-- 1,697 ids pass id >= 'd15', so the search widens until 10 pass; 100
-- pass id >= 'd9', and widening would read more than half of what a Scan
-- of every vector reads, so the plan is that exact Scan.  For each,
-- EXPLAIN VERBOSE's estimate of the read units is above the unfiltered
-- search's and within 2x of those the proxy priced, over 20 queries, and
-- recall is against brute force among the ids that pass.  (Some widened
-- searches read more than twice the estimate, and say so in a NOTICE,
-- which sql/recall.sql tests.)
ANALYZE bulk;
SELECT explain_packed($$SELECT id FROM bulk WHERE id >= 'd15' ORDER BY vector <=> '{0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0}' LIMIT 10$$);
SELECT explain_packed($$SELECT id FROM bulk WHERE id >= 'd9' ORDER BY vector <=> '{0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0}' LIMIT 10$$);
CREATE TABLE filtered_found (filter text, query text, id text);
CREATE TABLE filtered_plan (filter text, units numeric);
SET client_min_messages = warning;
DO $$
DECLARE
  plan json;
  q record;
  filter text;
BEGIN
  FOREACH filter IN ARRAY ARRAY['d0', 'd15', 'd9'] LOOP
    EXECUTE format($q$EXPLAIN (VERBOSE, FORMAT JSON)
      SELECT id FROM bulk WHERE id >= %L ORDER BY vector <=> (SELECT v FROM digits WHERE row = 0)
       LIMIT 10$q$, filter) INTO plan;
    INSERT INTO filtered_plan
      SELECT filter,
             substring(jsonb_path_query_first(plan::jsonb, '$.**.Search') #>> '{}'
                       FROM 'about ([0-9.]+) read units')::numeric;
    PERFORM note_proxy(filter || ' before');
    FOR q IN SELECT id, v FROM digits WHERE row < 20 ORDER BY row LOOP
      EXECUTE 'INSERT INTO filtered_found SELECT $1, $2, f.id FROM (SELECT id FROM bulk WHERE id >= $1
                 ORDER BY vector <=> $3 LIMIT 10) f' USING filter, q.id, q.v;
    END LOOP;
    PERFORM note_proxy(filter || ' after');
  END LOOP;
END $$;
RESET client_min_messages;
WITH measured AS (
  SELECT p.filter, p.units AS estimated,
         (((SELECT stats FROM proxy WHERE at = p.filter || ' after')->>'read_units')::numeric -
          ((SELECT stats FROM proxy WHERE at = p.filter || ' before')->>'read_units')::numeric) / 20
           AS units
    FROM filtered_plan p),
exact AS (
  SELECT p.filter, q.id AS query, t.id
    FROM filtered_plan p, digits q,
         LATERAL (SELECT b.id FROM digits b WHERE b.row >= 100 AND b.id >= p.filter
                  ORDER BY whiplash_distance(q.v, b.v, 'cosine'), b.id LIMIT 10) t
   WHERE q.row < 20)
SELECT m.filter, (SELECT count(*) FROM filtered_found f WHERE f.filter = m.filter) AS rows,
       (SELECT count(*) FROM filtered_found f WHERE f.filter = m.filter AND f.id < m.filter)
         AS not_passing,
       (SELECT count(*) FROM exact JOIN filtered_found USING (filter, query, id)
         WHERE filter = m.filter) / 200.0 >= 0.9 AS recall_at_least_0_9,
       m.estimated > u.estimated AS priced_above_unfiltered,
       m.units BETWEEN 0.5 * m.estimated AND 2 * m.estimated AS estimate_within_2x
  FROM measured m, measured u
 WHERE m.filter <> 'd0' AND u.filter = 'd0'
 ORDER BY m.filter;
DROP TABLE filtered_found, filtered_plan;

-- Loaded one row a transaction: the same recall as the bulk load.
SELECT collection FROM whiplash_create_collection('ddb', 'single', 64, format => 'packed', seed => 1);
CREATE FOREIGN TABLE single (id text, vector real[]) SERVER ddb OPTIONS (collection 'single');
SET client_min_messages = warning;
DO $$
DECLARE
  d record;
BEGIN
  FOR d IN SELECT id, v FROM digits WHERE row >= 100 ORDER BY row LOOP
    INSERT INTO single VALUES (d.id, d.v);
    COMMIT;
  END LOOP;
END $$;
RESET client_min_messages;
SELECT count(*) AS stored FROM single;
-- Every row's records are where they belong, as after the bulk load.
SELECT count(*) AS problems FROM whiplash_check('single');
SELECT count(*) AS problems FROM whiplash_check('bulk');
CALL search_all('single', 'single');
CALL search_all('single, 5 probes', 'single', 5);

-- A native collection, the layout of whiplash 0.1, upgraded in place.
SELECT collection, format
  FROM whiplash_create_collection('ddb', 'old', 64, format => 'native', seed => 1);
CREATE FOREIGN TABLE old (id text, vector real[]) SERVER ddb OPTIONS (collection 'old');
INSERT INTO old SELECT id, v FROM digits WHERE row >= 100;
CALL search_all('native', 'old');
SELECT step, items FROM whiplash_reindex('old');
SELECT format FROM whiplash_collections('ddb') WHERE collection = 'old';
CALL search_all('upgraded, 5 probes', 'old', 5);
SELECT count(*) AS problems FROM whiplash_check('old');

-- Retrained in place: the old index's entries are removed once the new one
-- is written, and searches find the same.
SELECT step, items FROM whiplash_reindex('bulk');
CALL search_all('retrained, 5 probes', 'bulk', 5);
SELECT count(*) AS problems FROM whiplash_check('bulk');

-- A packed collection as whiplash wrote them before k-means cells (LSH
-- buckets and a model without cells; test/tools/packed_fixture.sh lsh
-- wrote it with commit 81a7757) opens and searches as it did, and
-- whiplash_reindex rebuilds it with cells.
\getenv direct WHIPLASH_DIRECT_ENDPOINT
\getenv tools WHIPLASH_TOOLS
\set restore_cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' restore ' :tools '/../fixtures/packed_lsh.jsonl.gz'
CREATE TABLE tool_out (line text);
COPY tool_out FROM PROGRAM :'restore_cmd';
SELECT line FROM tool_out;
CREATE FOREIGN TABLE lsh (id text, vector real[]) SERVER ddb OPTIONS (collection 'lsh');
SELECT count(*) AS stored FROM lsh;
SELECT e AS plan FROM explain_packed($$SELECT id FROM lsh ORDER BY vector <=> '{0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0}' LIMIT 10$$) e
 WHERE e LIKE '%Search:%';
CALL search_all('lsh, 5 probes', 'lsh', 5);
SELECT count(*) AS problems FROM whiplash_check('lsh');
SELECT step, items FROM whiplash_reindex('lsh');
SELECT e AS plan FROM explain_packed($$SELECT id FROM lsh ORDER BY vector <=> '{0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0}' LIMIT 10$$) e
 WHERE e LIKE '%Search:%';
CALL search_all('lsh upgraded', 'lsh');
SELECT count(*) AS problems FROM whiplash_check('lsh');

-- A collection as commit 44bc35a wrote it, before compact record names,
-- with UUID ids (calibrated cells, records named "~<id>";
-- test/tools/packed_fixture.sh cells03): it opens
-- and searches as it did, a row written to it is named and keyed as its
-- index names and keys them (a partition a cell), and whiplash_reindex
-- rebuilds it with compact names (one "^" and 22 characters a UUID, not "~"
-- and 36), keyed by blocks of consecutive cells.
\set restore_cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' restore ' :tools '/../fixtures/packed_cells03.jsonl.gz'
\set names_cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' record-names whiplash_dev_cells03'
TRUNCATE tool_out;
COPY tool_out FROM PROGRAM :'restore_cmd';
SELECT line FROM tool_out;
CREATE FOREIGN TABLE cells03 (id text, vector real[]) SERVER ddb OPTIONS (collection 'cells03');
CALL search_all('cells03', 'cells03');
INSERT INTO cells03 SELECT md5('new')::uuid::text, v FROM digits WHERE row = 0;
SELECT id = md5('new')::uuid::text AS new_row_found
  FROM whiplash_search('cells03', (SELECT v FROM digits WHERE row = 0), 1);
TRUNCATE tool_out;
COPY tool_out FROM PROGRAM :'names_cmd';
SELECT line AS records_named FROM tool_out;
SELECT step, items FROM whiplash_reindex('cells03');
TRUNCATE tool_out;
COPY tool_out FROM PROGRAM :'names_cmd';
SELECT line AS records_named FROM tool_out;
CALL search_all('cells03 reindexed', 'cells03');
SELECT id = md5('new')::uuid::text AS new_row_found
  FROM whiplash_search('cells03', (SELECT v FROM digits WHERE row = 0), 1);
DELETE FROM cells03 WHERE id = md5('new')::uuid::text;
TRUNCATE tool_out;
COPY tool_out FROM PROGRAM :'names_cmd';
SELECT line AS records_named FROM tool_out;
SELECT count(*) AS problems FROM whiplash_check('cells03');
-- A record another tool named so that it spells no id: searches skip it,
-- the check reports it, and whiplash_repair removes it.
\set put_cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' put-item whiplash_dev_cells03_2d5ff3aa_buckets ''{"bucket": {"S": "2/0:0"}, "id": {"S": ".zz"}, "^bad": {"S": "x"}}'''
TRUNCATE tool_out;
COPY tool_out FROM PROGRAM :'put_cmd';
SELECT count(*) AS found FROM whiplash_search('cells03', (SELECT v FROM digits WHERE row = 0), 10, probes => 16);
SELECT problem, bucket, id FROM whiplash_check('cells03');
SELECT * FROM whiplash_repair('cells03');
SELECT count(*) AS problems FROM whiplash_check('cells03');

-- One knob: a higher recall target, more recall, more reads.
SET whiplash.recall_target = 0.8;
CALL search_all('target 0.8', 'bulk');
SET whiplash.recall_target = 0.99;
CALL search_all('target 0.99', 'bulk');
RESET whiplash.recall_target;

-- (read units and requests a search are asserted below, not shown: a Scan's
-- pages, and so its rounding, differ between servers)
SELECT label, recall_at_10, plans FROM recall ORDER BY label;
CREATE FUNCTION r(label text) RETURNS numeric LANGUAGE sql
  AS $$ SELECT recall_at_10 FROM recall WHERE recall.label = r.label $$;
CREATE FUNCTION u(label text) RETURNS numeric LANGUAGE sql
  AS $$ SELECT read_units FROM recall WHERE recall.label = u.label $$;
SELECT r('bulk') >= 0.95 AND u('bulk') <= 60 AS default_at_least_0_95_within_60_units,
       r('bulk, 5 probes') >= 0.95 AS probes_at_least_0_95,
       u('bulk, 5 probes') < 0.55 * u('native') AS probes_near_half_the_native_units,
       abs(r('bulk, 5 probes') - r('single, 5 probes')) <= 0.01 AS single_rows_as_bulk,
       r('upgraded, 5 probes') >= 0.95 AS upgraded_at_least_0_95,
       r('retrained, 5 probes') >= 0.95 AS retrained_at_least_0_95,
       r('lsh, 5 probes') >= 0.95 AND r('lsh upgraded') >= 0.95 AS lsh_at_least_0_95,
       r('cells03') >= 0.95 AND r('cells03 reindexed') >= 0.95 AS cells03_at_least_0_95,
       r('target 0.8') <= r('bulk') AND r('bulk') <= r('target 0.99') AS recall_grows_with_target,
       u('target 0.8') < u('target 0.99') AS units_grow_with_target;

-- The k-means cells of a collection's index, from its metadata item as
-- DynamoDB holds it.
\set item_cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' item whiplash_metadata whiplash_dev_'
SELECT set_config('test.item_cmd', :'item_cmd', false) IS NOT NULL AS noted;
CREATE FUNCTION cells_of(collection text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE tool_out;
  EXECUTE format('COPY tool_out FROM PROGRAM %L', current_setting('test.item_cmd') || collection);
  RETURN (SELECT (line::jsonb #>> '{index,M,cells,N}')::int FROM tool_out);
END $$;
SELECT cells_of('lsh') AS cells, tables FROM whiplash_collections('ddb') WHERE collection = 'lsh';
-- A record whose id DynamoDB could not take as a key (3,000 bytes; whiplash
-- writes ids of at most 1,024) is skipped by searches, even one that
-- re-ranks every code, and reported by the check; repair removes it.
-- (AWS answers a GetItem of such a key with a ValidationException; the
-- check asked for it and reported an entry without a vector.)
CREATE FUNCTION put_long_record(collection text, chunks text, bucket text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  code text;
BEGIN
  TRUNCATE tool_out;
  EXECUTE format('COPY tool_out FROM PROGRAM %L', current_setting('test.item_cmd') || collection);
  SELECT encode(decode(repeat('00', ((line::jsonb #>> '{index,M,subspaces,N}')::int + 1) / 2), 'hex'),
                'base64') INTO code FROM tool_out;
  TRUNCATE tool_out;
  EXECUTE format('COPY tool_out FROM PROGRAM %L',
                 replace(current_setting('test.item_cmd'), ' item whiplash_metadata whiplash_dev_',
                         ' put-item ' || chunks || ' ')
                 || quote_literal(jsonb_build_object('bucket', jsonb_build_object('S', bucket),
                                                     'id', jsonb_build_object('S', '.zy'),
                                                     '~' || repeat('x', 3000),
                                                     jsonb_build_object('B', code))::text));
END $$;
SELECT put_long_record('cells03', 'whiplash_dev_cells03_2d5ff3aa_buckets', '2/0:0');
SELECT count(*) AS found
  FROM whiplash_search('cells03', (SELECT v FROM digits WHERE row = 0), 10, probes => 1000,
                       max_candidates => 5000);
SELECT problem, bucket, length(id) AS id_bytes FROM whiplash_check('cells03');
SELECT * FROM whiplash_repair('cells03');
SELECT count(*) AS problems FROM whiplash_check('cells03');

-- Grown to twice the vectors it was trained on, a collection retrains in
-- the write that brings it there, so that its cells are sized for what it
-- holds: 5,000 random points in a cube, trained on the first 1,500 (16
-- cells), then grown to 5,000 (20 cells).  Its sample is every vector,
-- ordered by id, so the retrained index is the one whiplash_reindex trains
-- on a collection loaded in one statement (each index generation seeds its
-- training apart, so both are the second): probing 2 of their cells, both
-- find the same neighbours.
SELECT setseed(0.25);
CREATE TABLE blobs AS
  SELECT 'p' || i AS id, i,
         ARRAY(SELECT random() + 0 * i FROM generate_series(1, 8) d)::real[] AS v
    FROM generate_series(1, 5050) i;
CREATE TABLE blobs_truth AS
  SELECT q.id AS query, t.id
    FROM blobs q,
         LATERAL (SELECT b.id FROM blobs b WHERE b.i <= 5000
                  ORDER BY whiplash_distance(q.v, b.v, 'l2'), b.id LIMIT 10) t
   WHERE q.i > 5000;
SELECT collection FROM whiplash_create_collection('ddb', 'growing', 8, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE growing (id text, vector real[]) SERVER ddb OPTIONS (collection 'growing');
SELECT collection FROM whiplash_create_collection('ddb', 'grown', 8, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE grown (id text, vector real[]) SERVER ddb OPTIONS (collection 'grown');
INSERT INTO growing SELECT id, v FROM blobs WHERE i <= 1500;
SELECT cells_of('growing') AS cells;
INSERT INTO growing SELECT id, v FROM blobs WHERE i > 1500 AND i <= 5000;
SELECT cells_of('growing') AS cells;
SELECT count(*) AS problems FROM whiplash_check('growing');
INSERT INTO grown SELECT id, v FROM blobs WHERE i <= 5000;
SELECT step, items FROM whiplash_reindex('grown');
CREATE TABLE blobs_found (label text, query text, id text);
DO $$
DECLARE
  q record;
BEGIN
  FOR q IN SELECT id, v FROM blobs WHERE i > 5000 ORDER BY i LOOP
    INSERT INTO blobs_found SELECT 'growing', q.id, s.id FROM whiplash_search('growing', q.v, 10, probes => 2) s;
    INSERT INTO blobs_found SELECT 'grown', q.id, s.id FROM whiplash_search('grown', q.v, 10, probes => 2) s;
  END LOOP;
END $$;
SELECT label, round(count(t.id) / 500.0, 3) AS recall_at_10
  FROM blobs_found f LEFT JOIN blobs_truth t USING (query, id)
 GROUP BY label ORDER BY label;
SELECT count(*) AS found_differently
  FROM (SELECT query, id FROM blobs_found WHERE label = 'growing'
        EXCEPT SELECT query, id FROM blobs_found WHERE label = 'grown') d;
-- Off, a write leaves retraining to whiplash_reindex.
SET whiplash.retrain_on_growth = off;
INSERT INTO grown SELECT 'again' || id, v FROM blobs WHERE i <= 5000;
RESET whiplash.retrain_on_growth;
SELECT cells_of('grown') AS cells;

-- Finite values of any size train: one vector of components near FLT_MAX
-- among the first 1,000 is left out of training, is stored and found, and
-- later writes do not fail (they did, each retrying the training).
SELECT collection FROM whiplash_create_collection('ddb', 'huge', 8, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE huge (id text, vector real[]) SERVER ddb OPTIONS (collection 'huge');
CREATE TABLE huge_local AS
  SELECT 'h' || i AS id,
         CASE WHEN i = 7 THEN array_fill(3.4e38::real, ARRAY[8])
              ELSE ARRAY(SELECT sin(i * 0.37 + j * 1.3 + (i % 9) * j)::real FROM generate_series(1, 8) j)
         END AS v
    FROM generate_series(1, 1100) i;
INSERT INTO huge SELECT id, v FROM huge_local WHERE id <> 'h1100';
INSERT INTO huge SELECT id, v FROM huge_local WHERE id = 'h1100';
SELECT count(*) AS stored, cells_of('huge') > 0 AS trained FROM huge;
SELECT id FROM whiplash_search('huge', array_fill(3e38::real, ARRAY[8]), 1);
SELECT round(count(*) / 100.0, 2) AS recall_at_10_probing_2
  FROM huge_local q,
       LATERAL (SELECT id FROM whiplash_search('huge', q.v, 10, probes => 2)) s
 WHERE q.id IN (SELECT 'h' || i FROM generate_series(101, 110) i)
   AND s.id IN (SELECT b.id FROM huge_local b
                 ORDER BY whiplash_distance(q.v, b.v, 'l2') LIMIT 10);

-- Two whiplash_reindex at once: the other session (through a proxy that
-- holds its UpdateItems) plans its build from the index as it finds it, and
-- this one reindexes while the other's mark of its build is held.  A build
-- is marked only if the index it was planned from is still the current
-- one, so the other fails, naming the race, and the collection is whole.
-- (Its mark used to succeed, and every statement then failed: "the index
-- being built is not newer than the current one".)
\getenv held_endpoint WHIPLASH_HELD_UPDATES_ENDPOINT
\getenv pghost PGHOST
\getenv pgpassword PGPASSWORD
\set held_stats_cmd 'curl -s ' :held_endpoint '/__stats'
\set held_release_cmd 'curl -s ' :held_endpoint '/__release'
CREATE EXTENSION dblink;
CREATE SERVER ddb_held FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'held_endpoint', request_timeout '600s');
SELECT map_user('ddb_held');
CREATE FOREIGN TABLE huge_held (id text, vector real[]) SERVER ddb_held OPTIONS (collection 'huge');
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s user=%s password=%s', :'pghost',
                                      current_setting('port'), current_database(), current_user,
                                      :'pgpassword')) AS connected;
SELECT dblink_send_query('other', 'SELECT count(*) FROM whiplash_reindex(''huge_held'')') AS sent;
SELECT set_config('test.held_stats_cmd', :'held_stats_cmd', false) IS NOT NULL AS noted;
DO $$
BEGIN
  FOR i IN 1..6000 LOOP
    TRUNCATE tool_out;
    EXECUTE format('COPY tool_out FROM PROGRAM %L', current_setting('test.held_stats_cmd'));
    EXIT WHEN (SELECT (line::jsonb ->> 'hold')::int FROM tool_out) >= 1;
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SET client_min_messages = warning;
SELECT count(*) > 0 AS reindexed FROM whiplash_reindex('huge');
RESET client_min_messages;
TRUNCATE tool_out;
COPY tool_out FROM PROGRAM :'held_release_cmd';
SELECT * FROM dblink_get_result('other', false) AS t(steps bigint);
SELECT dblink_disconnect('other') AS disconnected;
SELECT id FROM whiplash_search('huge', array_fill(3e38::real, ARRAY[8]), 1);
SELECT count(*) AS problems FROM whiplash_check('huge');
-- A build left no newer than the current index (so a collection that race
-- wedged reads again) is ignored, and the next build replaces it.
\set put_attr_cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' put-attribute whiplash_metadata whiplash_dev_huge building '
SELECT set_config('test.put_attr_cmd', :'put_attr_cmd', false) IS NOT NULL AS noted;
DO $$
DECLARE
  current_index text;
BEGIN
  TRUNCATE tool_out;
  EXECUTE format('COPY tool_out FROM PROGRAM %L', current_setting('test.item_cmd') || 'huge');
  SELECT line::jsonb ->> 'index' INTO current_index FROM tool_out;
  TRUNCATE tool_out;
  EXECUTE format('COPY tool_out FROM PROGRAM %L',
                 current_setting('test.put_attr_cmd') || quote_literal(current_index));
END $$;
SELECT id FROM whiplash_search('huge', array_fill(3e38::real, ARRAY[8]), 1);
SET client_min_messages = warning;
SELECT count(*) > 0 AS reindexed FROM whiplash_reindex('huge');
RESET client_min_messages;
SELECT id FROM whiplash_search('huge', array_fill(3e38::real, ARRAY[8]), 1);
SELECT count(*) AS problems FROM whiplash_check('huge');
-- A model another tool cut short hides no vector: reads by id and Scans
-- work, searches read every vector with a WARNING naming the damage, the
-- check reports it, repair refuses and whiplash_reindex rebuilds the index.
-- (Every statement failed: "the index of collection ... cannot be read".)
\set put_item_cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' put-item '
SELECT set_config('test.put_item_cmd', :'put_item_cmd', false) IS NOT NULL AS noted;
CREATE FUNCTION cut_model(collection text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  item jsonb;
  chunks text;
BEGIN
  TRUNCATE tool_out;
  EXECUTE format('COPY tool_out FROM PROGRAM %L', current_setting('test.item_cmd') || collection);
  SELECT line::jsonb INTO item FROM tool_out;
  chunks := (item #>> '{buckets_table,S}');
  TRUNCATE tool_out;
  EXECUTE format('COPY tool_out FROM PROGRAM %L',
                 current_setting('test.put_item_cmd') || chunks || ' '
                 || quote_literal(jsonb_build_object(
                      'bucket', jsonb_build_object('S', (item #>> '{index,M,gen,N}') || '/model'),
                      'id', jsonb_build_object('S', (item #>> '{index,M,token,S}') || '.0'),
                      'model', jsonb_build_object('B', 'V0xNMg=='))::text));
END $$;
SELECT cut_model('huge');
-- (a new session, which reads the model from DynamoDB: this one keeps the
-- model it read, and the server the model's items, on its disk)
\c
SET whiplash.background_builds = off;
SET whiplash.model_cache = off;
SELECT id, vector[1] FROM huge WHERE id = 'h7';
SELECT count(*) AS scanned FROM huge;
SELECT id FROM whiplash_search('huge', array_fill(3e38::real, ARRAY[8]), 1);
SELECT id FROM huge ORDER BY vector <-> (SELECT v FROM huge_local WHERE id = 'h200') LIMIT 1;
SELECT regexp_replace(problem, '[0-9]+', 'N', 'g') AS problem FROM whiplash_check('huge');
SELECT * FROM whiplash_repair('huge');
SET client_min_messages = warning;
SELECT count(*) > 0 AS reindexed FROM whiplash_reindex('huge');
RESET client_min_messages;
SELECT id FROM whiplash_search('huge', array_fill(3e38::real, ARRAY[8]), 1);
SELECT count(*) AS problems FROM whiplash_check('huge');
-- A session that read the index before another session reindexed the
-- collection (switched to a new generation and deleted the old one's
-- items) searches the new generation: its first search found nothing.
SET whiplash.collection_cache_ttl = '1h';
SELECT id FROM whiplash_search('huge', (SELECT v FROM huge_local WHERE id = 'h300'), 1, probes => 2);
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s user=%s password=%s', :'pghost',
                                      current_setting('port'), current_database(), current_user,
                                      :'pgpassword')) AS connected;
SET client_min_messages = warning;
SELECT n > 0 AS reindexed_elsewhere
  FROM dblink('other', 'SELECT count(*) FROM whiplash_reindex(''huge'')') AS t(n bigint);
RESET client_min_messages;
SELECT id FROM whiplash_search('huge', (SELECT v FROM huge_local WHERE id = 'h300'), 1, probes => 2);
SELECT plan, probes FROM whiplash_last_search();
SELECT id FROM huge ORDER BY vector <-> (SELECT v FROM huge_local WHERE id = 'h301') LIMIT 1;
-- Likewise when the read that finds the switch is another scan of the same
-- statement, which ran after the search's scan began (it found nothing).
SET client_min_messages = warning;
SELECT n > 0 AS reindexed_elsewhere
  FROM dblink('other', 'SELECT count(*) FROM whiplash_reindex(''huge'')') AS t(n bigint);
RESET client_min_messages;
SELECT id FROM huge ORDER BY vector <-> (SELECT vector FROM huge WHERE id = 'h302') LIMIT 1;
SELECT dblink_disconnect('other') AS disconnected;
RESET whiplash.collection_cache_ttl;
-- A build whose session left it (here: cancelled while its mark was held;
-- the mark took effect after) is resumed by the next write once it has
-- shown no work for whiplash.abandoned_build_timeout.  (Before, writes left
-- a marked build alone, and the collection was never trained.)
\set held_hold_cmd 'curl -s ' :held_endpoint '/__hold'
SELECT set_config('test.held_stats_cmd', :'held_stats_cmd', false) IS NOT NULL AS noted,
       set_config('test.item_cmd', :'item_cmd', false) IS NOT NULL AS noted_too;
CREATE FUNCTION held_count() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE tool_out;
  EXECUTE format('COPY tool_out FROM PROGRAM %L', current_setting('test.held_stats_cmd'));
  RETURN (SELECT (line::jsonb ->> 'hold')::int FROM tool_out);
END $$;
SELECT collection FROM whiplash_create_collection('ddb', 'left', 8, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE left_behind (id text, vector real[]) SERVER ddb OPTIONS (collection 'left');
CREATE FOREIGN TABLE left_held (id text, vector real[]) SERVER ddb_held OPTIONS (collection 'left');
INSERT INTO left_behind
  SELECT 'l' || i, ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i), i % 7, i % 5, i % 3, 1]::real[]
    FROM generate_series(1, 999) i;
TRUNCATE tool_out;
COPY tool_out FROM PROGRAM :'held_hold_cmd';
SELECT set_config('test.held_before', held_count()::text, false) IS NOT NULL AS noted;
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s user=%s password=%s', :'pghost',
                                      current_setting('port'), current_database(), current_user,
                                      :'pgpassword')) AS connected;
SELECT dblink_send_query('other', 'SELECT count(*) FROM whiplash_reindex(''left_held'')') AS sent;
DO $$
BEGIN
  FOR i IN 1..6000 LOOP
    EXIT WHEN held_count() > current_setting('test.held_before')::int;
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT dblink_cancel_query('other') AS cancelled;
SELECT dblink_error_message('other') IS NOT NULL AS failed, count(*) AS steps
  FROM dblink_get_result('other', false) AS t(steps bigint);
SELECT dblink_disconnect('other') AS disconnected;
TRUNCATE tool_out;
COPY tool_out FROM PROGRAM :'held_release_cmd';
DO $$
BEGIN
  FOR i IN 1..600 LOOP
    TRUNCATE tool_out;
    EXECUTE format('COPY tool_out FROM PROGRAM %L', current_setting('test.item_cmd') || 'left');
    EXIT WHEN (SELECT line::jsonb ? 'building' FROM tool_out);
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT line::jsonb ? 'building' AS marked, line::jsonb ? 'index' AS indexed FROM tool_out;
SELECT count(*) FROM whiplash_search('left_behind', ARRAY[0, 1, 0, 1, 0, 0, 0, 1]::real[], 3,
                                     probes => 2);
SELECT plan FROM whiplash_last_search();
-- Within the timeout a write leaves the build to its session.
INSERT INTO left_behind VALUES ('l1000', ARRAY[0, 1, 0, 1, 0, 0, 0, 1]::real[]);
SET whiplash.abandoned_build_timeout = '1s';
SELECT pg_sleep(2);
INSERT INTO left_behind VALUES ('l1001', ARRAY[0, 1, 0, 1, 0, 0, 0, 1]::real[]);
RESET whiplash.abandoned_build_timeout;
SELECT id FROM whiplash_search('left_behind', ARRAY[0, 1, 0, 1, 0, 0, 0, 1]::real[], 2,
                                probes => 2) ORDER BY id;
SELECT plan FROM whiplash_last_search();
\set left_item_cmd :item_cmd 'left'
TRUNCATE tool_out;
COPY tool_out FROM PROGRAM :'left_item_cmd';
SELECT line::jsonb ? 'building' AS marked, line::jsonb ? 'index' AS indexed FROM tool_out;
SELECT count(*) AS problems FROM whiplash_check('left_behind');
-- The decision to train uses the stored count: two sessions that read the
-- collection while it was empty write 600 rows each, and the second write
-- trains it.  (Neither did: each counted only its own rows.)
SELECT collection FROM whiplash_create_collection('ddb', 'counted', 4, seed => 1);
CREATE FOREIGN TABLE counted (id text, vector real[]) SERVER ddb OPTIONS (collection 'counted');
SET whiplash.collection_cache_ttl = '1h';
SELECT count(*) AS empty FROM counted;
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s user=%s password=%s', :'pghost',
                                      current_setting('port'), current_database(), current_user,
                                      :'pgpassword')) AS connected;
SELECT dblink_exec('other', $$SET whiplash.collection_cache_ttl = '1h'; SET whiplash.background_builds = off$$);
SELECT n AS empty_elsewhere FROM dblink('other', 'SELECT count(*) FROM counted') AS t(n bigint);
INSERT INTO counted SELECT 'c' || i, ARRAY[i % 7, i % 11, i % 13, 1]::real[]
  FROM generate_series(1, 600) i;
SELECT dblink_exec('other', $$INSERT INTO counted SELECT 'c' || i, ARRAY[i % 7, i % 11, i % 13, 1]::real[]
                               FROM generate_series(601, 1200) i$$);
SELECT dblink_disconnect('other') AS disconnected;
RESET whiplash.collection_cache_ttl;
SELECT set_config('test.item_cmd', :'item_cmd', false) IS NOT NULL AS noted;
SELECT count(*) AS stored, cells_of('counted') > 0 AS trained FROM counted;
DROP FOREIGN TABLE huge_held;
SET client_min_messages = warning;
DROP SERVER ddb_held CASCADE;
RESET client_min_messages;
DROP EXTENSION dblink;

-- A training that fails does not fail the write that started it: written
-- through a proxy that answers every Scan with a 500, the first 1,000 rows
-- are stored, training cannot read its sample, and the COMMIT warns.  The
-- collection is searched exactly, and the next write in this session does
-- not try again (each failed, storing its row).
\getenv failed_scans_endpoint WHIPLASH_FAILED_SCANS_ENDPOINT
CREATE SERVER ddb_noscan FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'failed_scans_endpoint', max_retries '0');
SELECT map_user('ddb_noscan');
SELECT collection FROM whiplash_create_collection('ddb', 'wedge', 4, seed => 1);
CREATE FOREIGN TABLE wedge (id text, vector real[]) SERVER ddb OPTIONS (collection 'wedge');
CREATE FOREIGN TABLE wedge_noscan (id text, vector real[]) SERVER ddb_noscan
  OPTIONS (collection 'wedge');
-- (the WARNING names the table, whose name is random: its SQLSTATE shows)
\set VERBOSITY sqlstate
INSERT INTO wedge_noscan
  SELECT 'w' || i, ARRAY[i % 7, i % 11, i % 13, 1]::real[] FROM generate_series(1, 1000) i;
INSERT INTO wedge_noscan VALUES ('w1001', '{1,2,3,4}');
\set VERBOSITY default
SELECT count(*) AS stored FROM wedge;
SELECT id FROM whiplash_search('wedge', '{1,2,3,4}', 1);
SELECT plan FROM whiplash_last_search();
SET client_min_messages = warning;
SELECT count(*) > 0 AS reindexed FROM whiplash_reindex('wedge');
RESET client_min_messages;
SELECT id FROM whiplash_search('wedge', '{1,2,3,4}', 1);
SELECT count(*) AS problems FROM whiplash_check('wedge');
DROP FOREIGN TABLE wedge_noscan;
SET client_min_messages = warning;
DROP SERVER ddb_noscan CASCADE;
RESET client_min_messages;

SELECT whiplash_drop_collection('ddb', c)
  FROM unnest(ARRAY['tiny', 'bulk', 'single', 'old', 'lsh', 'cells03', 'growing', 'grown', 'huge', 'wedge', 'counted']) c;
DROP VIEW recall;
DROP FUNCTION r, u, note_proxy, explain_packed, cells_of, put_long_record, cut_model;
DROP PROCEDURE search_all;
DROP TABLE digits_raw, digits, digit_uuids, truth, proxy, proxy_now, found, plans, tool_out, blobs,
  blobs_truth, blobs_found, huge_local;
DROP FOREIGN TABLE tiny, bulk, single, old, lsh, cells03, growing, grown, huge, wedge, counted;

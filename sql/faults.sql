-- Faults at random.  Inserts, updates, deletes and searches go through a
-- proxy (test/tools/fault_proxy.py --mix) that fails about a third of all
-- attempts: throttling, 500, 503, reset connections, answers stalled past
-- the request timeout, cut short or malformed, the last three after the
-- request took effect upstream.  Retries hide every fault: afterwards the
-- collection holds exactly what a local table given the same statements
-- holds, searches answer as they do over a direct connection, and the
-- check is clean.  Uses the server "ddb" of setup.sql for the direct view.
-- This file checks indexes trained at a write's COMMIT, so that a worker's
-- timing cannot change its output: sql/background.sql checks the default,
-- a background worker.
SET whiplash.background_builds = off;
\getenv chaos WHIPLASH_CHAOS_ENDPOINT
\getenv chaos_stats WHIPLASH_CHAOS_STATS
\getenv broken WHIPLASH_BROKEN_ENDPOINT
\getenv key WHIPLASH_KEY
\getenv secret WHIPLASH_SECRET

-- (At most 16 requests at once: DynamoDB Local, on two cores behind the
-- proxy, answers 64 concurrent BatchWriteItems after the short timeout.)
CREATE SERVER chaos FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'chaos', request_timeout '400ms', max_retries '15',
           retry_base_delay '1ms', retry_max_delay '20ms', max_connections '16');
CREATE USER MAPPING FOR CURRENT_USER SERVER chaos
  OPTIONS (access_key_id :'key', secret_access_key :'secret');
SELECT collection FROM whiplash_create_collection('ddb', 'chaotic', 8, tables => 4, bits => 5);
CREATE FOREIGN TABLE chaotic (id text, vector real[], attributes jsonb)
  SERVER chaos OPTIONS (collection 'chaotic');
CREATE FOREIGN TABLE chaotic_direct (id text, vector real[], attributes jsonb)
  SERVER ddb OPTIONS (collection 'chaotic');
-- The exact answer: every statement below also runs on this table.
CREATE TABLE truth (id text PRIMARY KEY, vector real[], attributes jsonb);
CREATE FUNCTION vec(seed int) RETURNS real[] LANGUAGE sql IMMUTABLE AS
  $$SELECT array_agg(sin(seed * 7.1 + d * 1.3)::real ORDER BY d) FROM generate_series(1, 8) d$$;

-- Writes in batches, single rows, a transaction, a rolled-back transaction.
INSERT INTO chaotic SELECT 'v' || i, vec(i), jsonb_build_object('n', i, 'odd', i % 2 = 1)
  FROM generate_series(1, 400) i;
INSERT INTO truth SELECT 'v' || i, vec(i), jsonb_build_object('n', i, 'odd', i % 2 = 1)
  FROM generate_series(1, 400) i;
UPDATE chaotic SET vector = vec(id_n + 1000) FROM (SELECT 'v' || i AS vid, i AS id_n FROM generate_series(1, 400, 7) i) u
 WHERE id = u.vid;
UPDATE truth SET vector = vec(id_n + 1000) FROM (SELECT 'v' || i AS vid, i AS id_n FROM generate_series(1, 400, 7) i) u
 WHERE id = u.vid;
UPDATE chaotic SET attributes = attributes || '{"tag": "red"}' WHERE id IN ('v3', 'v4', 'v5');
UPDATE truth SET attributes = attributes || '{"tag": "red"}' WHERE id IN ('v3', 'v4', 'v5');
DELETE FROM chaotic WHERE id IN (SELECT 'v' || i FROM generate_series(2, 400, 9) i);
DELETE FROM truth WHERE id IN (SELECT 'v' || i FROM generate_series(2, 400, 9) i);
BEGIN;
INSERT INTO chaotic VALUES ('t1', vec(5001), '{}'), ('t2', vec(5002), '{}');
DELETE FROM chaotic WHERE id = 'v10';
COMMIT;
INSERT INTO truth VALUES ('t1', vec(5001), '{}'), ('t2', vec(5002), '{}');
DELETE FROM truth WHERE id = 'v10';
BEGIN;
INSERT INTO chaotic VALUES ('gone', vec(6000), '{}');
DELETE FROM chaotic WHERE id = 'v1';
ROLLBACK;

-- The collection equals the truth, read through faults and directly.
SELECT count(*) AS vectors FROM chaotic;
SELECT (SELECT count(*) FROM (SELECT * FROM chaotic EXCEPT SELECT * FROM truth) d) AS extra,
       (SELECT count(*) FROM (SELECT * FROM truth EXCEPT SELECT * FROM chaotic) d) AS missing;
SELECT (SELECT count(*) FROM (SELECT * FROM chaotic_direct EXCEPT SELECT * FROM truth) d) AS extra,
       (SELECT count(*) FROM (SELECT * FROM truth EXCEPT SELECT * FROM chaotic_direct) d) AS missing;

-- Searches through faults return what they return without: 30 queries,
-- plain and filtered, compared row by row.
SELECT count(*) AS differing_rows FROM generate_series(1, 30) q,
  LATERAL (SELECT array_agg(id ORDER BY distance, id) AS ids
             FROM whiplash_search('chaotic', vec(q + 300), 10)) a,
  LATERAL (SELECT array_agg(id ORDER BY distance, id) AS ids
             FROM whiplash_search('chaotic_direct', vec(q + 300), 10)) b
 WHERE a.ids IS DISTINCT FROM b.ids OR coalesce(cardinality(a.ids), 0) <> 10;
SELECT fine_bits FROM whiplash_last_search();
SELECT count(*) AS differing_rows FROM generate_series(1, 10) q,
  LATERAL (SELECT array_agg(id ORDER BY distance, id) AS ids
             FROM whiplash_search('chaotic', vec(q + 700), 5, filter => '{"odd": true}')) a,
  LATERAL (SELECT array_agg(id ORDER BY distance, id) AS ids
             FROM whiplash_search('chaotic_direct', vec(q + 700), 5, filter => '{"odd": true}')) b
 WHERE a.ids IS DISTINCT FROM b.ids OR coalesce(cardinality(a.ids), 0) <> 5;

-- The same on a packed collection with k-means cells: the write that
-- brings it to 1,000 vectors trains its index through the faults (a Scan,
-- model items, the metadata's conditional updates, every record), then
-- single rows and a batch change its chunk items.
SELECT collection FROM whiplash_create_collection('ddb', 'chaotic_cells', 8, seed => 1);
CREATE FOREIGN TABLE chaotic_cells (id text, vector real[], attributes jsonb)
  SERVER chaos OPTIONS (collection 'chaotic_cells');
CREATE FOREIGN TABLE chaotic_cells_direct (id text, vector real[], attributes jsonb)
  SERVER ddb OPTIONS (collection 'chaotic_cells');
CREATE TABLE truth_cells (id text PRIMARY KEY, vector real[], attributes jsonb);
INSERT INTO chaotic_cells SELECT 'c' || i, vec(i + 10000), '{}' FROM generate_series(1, 1200) i;
INSERT INTO truth_cells SELECT 'c' || i, vec(i + 10000), '{}' FROM generate_series(1, 1200) i;
INSERT INTO chaotic_cells VALUES ('one', vec(20001), '{}');
INSERT INTO truth_cells VALUES ('one', vec(20001), '{}');
UPDATE chaotic_cells SET vector = vec(20002) WHERE id = 'c7';
UPDATE truth_cells SET vector = vec(20002) WHERE id = 'c7';
DELETE FROM chaotic_cells WHERE id IN (SELECT 'c' || i FROM generate_series(3, 1200, 11) i);
DELETE FROM truth_cells WHERE id IN (SELECT 'c' || i FROM generate_series(3, 1200, 11) i);
SELECT (SELECT count(*) FROM (SELECT * FROM chaotic_cells_direct EXCEPT SELECT * FROM truth_cells) d) AS extra,
       (SELECT count(*) FROM (SELECT * FROM truth_cells EXCEPT SELECT * FROM chaotic_cells_direct) d) AS missing;
SELECT count(*) AS differing_rows FROM generate_series(1, 20) q,
  LATERAL (SELECT array_agg(id ORDER BY distance, id) AS ids
             FROM whiplash_search('chaotic_cells', vec(q + 30000), 10, probes => 4)) a,
  LATERAL (SELECT array_agg(id ORDER BY distance, id) AS ids
             FROM whiplash_search('chaotic_cells_direct', vec(q + 30000), 10, probes => 4)) b
 WHERE a.ids IS DISTINCT FROM b.ids OR coalesce(cardinality(a.ids), 0) <> 10;
SELECT plan FROM whiplash_last_search();
SELECT * FROM whiplash_check('chaotic_cells_direct');

-- Every kind of fault was met, and retried.
\set stats_cmd 'curl -s ' :chaos_stats
CREATE TEMP TABLE chaos_stats (stats jsonb);
COPY chaos_stats FROM PROGRAM :'stats_cmd';
SELECT k AS fault, (stats->>k)::int > 0 AS injected
  FROM chaos_stats, unnest(ARRAY['throttle', '500', '503', 'reset', 'stall', 'truncate', 'garbage']) k;
-- whiplash retried every fault but resets: libcurl itself sends a request
-- again on a new connection when a kept-alive one is reset before any answer.
SELECT retries >= (SELECT (stats->>'requests')::int - (stats->>'pass')::int
                          - (stats->>'reset')::int FROM chaos_stats)
       AS every_fault_retried
  FROM whiplash_client_stats() WHERE server = 'chaos';

-- The index is consistent, and its vector count exact: a count update
-- retried after its first answer was lost is recognised, not counted twice.
SELECT * FROM whiplash_check('chaotic_direct');

-- With no retries allowed, each fault is a clear error, and the session
-- goes on.  The proxy "broken" answers the attempts of each distinct
-- DescribeTable, BatchWriteItem, Query and Scan request in turn with:
-- malformed JSON, a cut-short body, a stall past the timeout, a reset
-- connection.  (At most 16 requests at once: a search sends its
-- Queries and the GetItem that confirms the collection in one round, and
-- the single-threaded server behind the proxy must answer that GetItem
-- within the timeout: 700 ms, short of the proxy's 1 s stall, and long
-- enough on a machine that runs other majors' suites beside this one.)
CREATE SERVER broken FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'broken', request_timeout '700ms', max_retries '0',
           max_connections '16');
CREATE USER MAPPING FOR CURRENT_USER SERVER broken
  OPTIONS (access_key_id :'key', secret_access_key :'secret');
-- Errors are shown without what differs between runs and servers: the
-- random generation in table names, the size of a server's answer.
CREATE FUNCTION tidy(message text) RETURNS text LANGUAGE sql AS
  $$SELECT regexp_replace(regexp_replace(message, '_[0-9a-f]{8}_', '_<generation>_'),
                          '\(\d+ bytes\)', '(N bytes)')$$;
\set VERBOSITY sqlstate
SELECT whiplash_setup('broken');
SELECT tidy(:'LAST_ERROR_MESSAGE') AS error;
SELECT whiplash_setup('broken');
SELECT tidy(:'LAST_ERROR_MESSAGE') AS error;
SELECT whiplash_setup('broken');
SELECT tidy(:'LAST_ERROR_MESSAGE') AS error;
SELECT whiplash_setup('broken');
SELECT tidy(:'LAST_ERROR_MESSAGE') AS error;
-- A write that fails may have reached DynamoDB in part (its answer was
-- lost, not its request): the error says so, the check finds what it left,
-- and the repair makes the index whole.  Running the INSERT again is safe.
CREATE FOREIGN TABLE chaotic_broken (id text, vector real[], attributes jsonb)
  SERVER broken OPTIONS (collection 'chaotic');
INSERT INTO chaotic_broken VALUES ('b1', vec(7001), '{}'), ('b2', vec(7002), '{}');
SELECT tidy(:'LAST_ERROR_MESSAGE') AS error;
-- A search (Query) and a DELETE's scan (Scan) fail as clearly.
SELECT count(*) FROM whiplash_search('chaotic_broken', vec(1), 10);
SELECT tidy(:'LAST_ERROR_MESSAGE') AS error;
DELETE FROM chaotic_broken WHERE attributes @> '{"tag": "red"}';
SELECT tidy(:'LAST_ERROR_MESSAGE') AS error;
\set VERBOSITY default
SELECT problem, id, count(*) FROM whiplash_check('chaotic_direct') GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS repaired FROM whiplash_repair('chaotic_direct');
INSERT INTO chaotic_direct VALUES ('b1', vec(7001), '{}'), ('b2', vec(7002), '{}');
SELECT * FROM whiplash_check('chaotic_direct');
SELECT id FROM chaotic_direct WHERE id IN ('b1', 'b2') ORDER BY id;

SELECT whiplash_drop_collection('ddb', c) FROM unnest(ARRAY['chaotic', 'chaotic_cells']) c;
DROP FOREIGN TABLE chaotic, chaotic_direct, chaotic_broken, chaotic_cells, chaotic_cells_direct;
DROP TABLE truth, truth_cells;
DROP FUNCTION vec(int), tidy(text);
DROP SERVER chaos, broken CASCADE;

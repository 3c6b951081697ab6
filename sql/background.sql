-- Index builds in background workers: no write waits for one.  A
-- collection filled one row at a time across its first training (at 1,000
-- vectors) and its retraining (at 4,224, where its cells of 256 vectors
-- grow past 16) trains in a worker: the
-- INSERT that crosses a threshold makes a handful of DynamoDB requests like
-- the others (whiplash_client_stats counts this backend's; a write during
-- the build writes both indexes), where with whiplash.background_builds
-- off it trains, making dozens more.
-- whiplash_wait_for_index waits for the worker; after it whiplash_check is
-- clean and searches probe the new index.
SELECT collection FROM whiplash_create_collection('ddb', 'trickle', 8, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE trickle (id text, vector real[]) SERVER ddb OPTIONS (collection 'trickle');
CREATE FUNCTION trickle_vec(i int) RETURNS real[] LANGUAGE sql IMMUTABLE AS
  $$SELECT array_agg(sin(i * 0.37 + d * 1.1 + (i % 7) * d)::real ORDER BY d) FROM generate_series(1, 8) d$$;
CREATE FUNCTION requests() RETURNS bigint LANGUAGE sql AS
  $$SELECT coalesce(sum(requests), 0)::bigint FROM whiplash_client_stats()$$;
CREATE TABLE requests_at (i int, requests bigint);
-- one_by_one(table, first, last): an INSERT per row, each its own
-- transaction, noting this backend's requests after each.
CREATE FUNCTION one_by_one(tab text, first int, last int) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT s FROM generate_series(first, last) i,
         LATERAL unnest(ARRAY[format('INSERT INTO %I VALUES (%L, trickle_vec(%s))', tab, 't' || i, i),
                              format('INSERT INTO requests_at SELECT %s, requests()', i)]) s
$$;
-- the requests of each INSERT from first to last
CREATE FUNCTION insert_requests(first int, last int) RETURNS bigint[] LANGUAGE sql AS $$
  SELECT array_agg(r.requests - p.requests ORDER BY r.i)
    FROM requests_at r JOIN requests_at p ON p.i = r.i - 1
   WHERE r.i BETWEEN first AND last
$$;
INSERT INTO trickle SELECT 't' || i, trickle_vec(i) FROM generate_series(1, 995) i;
INSERT INTO requests_at SELECT 995, requests();
SELECT * FROM one_by_one('trickle', 996, 1004) \gexec
SELECT max(d) < 20 AS no_insert_trained FROM unnest(insert_requests(996, 1004)) d;
SELECT whiplash_wait_for_index('trickle') AS ready;
SELECT count(*) AS problems FROM whiplash_check('trickle');
SELECT count(*) AS found FROM whiplash_search('trickle', trickle_vec(3), 10, probes => 2);
SELECT plan FROM whiplash_last_search();
-- Grown: retrained in the background too.
INSERT INTO trickle SELECT 't' || i, trickle_vec(i) FROM generate_series(1005, 4219) i;
TRUNCATE requests_at;
INSERT INTO requests_at SELECT 4219, requests();
SELECT * FROM one_by_one('trickle', 4220, 4228) \gexec
SELECT max(d) < 20 AS no_insert_trained FROM unnest(insert_requests(4220, 4228)) d;
SELECT whiplash_wait_for_index('trickle') AS ready;
SELECT count(*) AS problems FROM whiplash_check('trickle');
SELECT count(*) AS vectors FROM trickle;
-- whiplash_reindex(background => true) returns at once; the worker
-- rebuilds the index.  Started by a transaction that changed the catalog,
-- it waits for that transaction's end, which must not wait for it.
BEGIN;
CREATE TABLE reindexed_in_a_transaction ();
SELECT step, items FROM whiplash_reindex('trickle', background => true);
SELECT whiplash_wait_for_index('trickle') AS ready;
ROLLBACK;
SELECT whiplash_wait_for_index('trickle') AS ready;
SELECT count(*) AS problems FROM whiplash_check('trickle');
-- No build runs now.
SELECT count(*) AS builds FROM whiplash_builds() WHERE collection = 'trickle';

-- A load that goes on while the first build runs leaves that build's index
-- outgrown when it ends, with no write left to notice: the worker looks
-- again after it lets go of its lock, and builds again.  The load writes
-- twice, 2,200 rows each; the first write starts the first build, which
-- reads the count and the vectors then there (16 cells; 4,400 vectors want
-- 17).  After the wait, the index (its metadata, read directly) is built
-- for more than half of the 4,400: for more than 2,200 when the first
-- build saw some of the second write, else by a follow-up (or by the
-- second write, when it found the first build over).
\getenv tools WHIPLASH_TOOLS
\getenv direct WHIPLASH_DIRECT_ENDPOINT
\set loaded_item_cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' item whiplash_metadata whiplash_dev_loaded'
CREATE TABLE loaded_item (line text);
SELECT collection FROM whiplash_create_collection('ddb', 'loaded', 8, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE loaded (id text, vector real[]) SERVER ddb OPTIONS (collection 'loaded');
SET whiplash.write_hold_limit = 2200;
SET client_min_messages = warning;
INSERT INTO loaded SELECT 'l' || i, trickle_vec(i) FROM generate_series(1, 4400) i;
RESET client_min_messages;
RESET whiplash.write_hold_limit;
SELECT whiplash_wait_for_index('loaded') AS ready;
COPY loaded_item FROM PROGRAM :'loaded_item_cmd';
SELECT (line::jsonb #>> '{vector_count,N}')::int AS vectors,
       2 * (line::jsonb #>> '{index,M,vectors,N}')::int > 4400 AS built_for_more_than_half
  FROM loaded_item;
SELECT count(*) AS problems FROM whiplash_check('loaded');

-- Off, the INSERT that crosses the threshold trains, at its COMMIT.
SET whiplash.background_builds = off;
SELECT collection FROM whiplash_create_collection('ddb', 'trickle_here', 8, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE trickle_here (id text, vector real[]) SERVER ddb OPTIONS (collection 'trickle_here');
INSERT INTO trickle_here SELECT 't' || i, trickle_vec(i) FROM generate_series(1, 998) i;
TRUNCATE requests_at;
INSERT INTO requests_at SELECT 998, requests();
SELECT * FROM one_by_one('trickle_here', 999, 1000) \gexec
SELECT d[2] >= 20 AS crossing_insert_trained FROM insert_requests(999, 1000) d;
RESET whiplash.background_builds;

-- Bad input.
SELECT whiplash_wait_for_index('requests_at');
SELECT whiplash_wait_for_index(NULL) IS NULL AS no_answer;

SELECT whiplash_drop_collection('ddb', 'trickle');
SELECT whiplash_drop_collection('ddb', 'trickle_here');
SELECT whiplash_drop_collection('ddb', 'loaded');
DROP FOREIGN TABLE trickle, trickle_here, loaded;
DROP TABLE requests_at, loaded_item;
DROP FUNCTION one_by_one, insert_requests, requests, trickle_vec;

-- Collections: create, list, map to a foreign table, write and read them
-- with SQL, search them, drop them.  Uses the server "ddb" of setup.sql.
\getenv direct WHIPLASH_DIRECT_ENDPOINT
\getenv tools WHIPLASH_TOOLS
\set count_cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' count '

-- Bad arguments are refused before anything is created.
SELECT * FROM whiplash_create_collection('ddb', 'bad name', 4);
SELECT * FROM whiplash_create_collection('ddb', repeat('x', 65), 4);
SELECT * FROM whiplash_create_collection('ddb', 'c', 0);
SELECT * FROM whiplash_create_collection('ddb', 'c', 16001);
SELECT * FROM whiplash_create_collection('ddb', 'c', 4, metric => 'manhattan');
SELECT * FROM whiplash_create_collection('ddb', 'c', 4, tables => 0);
SELECT * FROM whiplash_create_collection('ddb', 'c', 4, bits => 63);
SELECT * FROM whiplash_create_collection('ddb', 'c', 4, bits => 60, fine_bits => 3);
SELECT * FROM whiplash_create_collection('ddb', 'c', 16000, tables => 64, bits => 12);
SELECT * FROM whiplash_create_collection('ddb', NULL, 4);
SELECT * FROM whiplash_create_collection('ddb', 'c', 4, center => '{1,2,3}');
-- A packed collection (the default) chooses its own bits when it trains.
SELECT * FROM whiplash_create_collection('ddb', 'c', 4, bits => 8, format => 'packed');
SELECT * FROM whiplash_create_collection('ddb', 'c', 4, fine_bits => 2, format => 'packed');
SELECT * FROM whiplash_create_collection('no_such_server', 'c', 4);

-- A small collection: one hash table of 4 bits, so that probing all 16
-- buckets makes a search exact.
SELECT collection, dimensions, metric, tables, bits, format,
       vectors_table LIKE 'whiplash_dev_small_%_vectors' AS vectors_table_named,
       buckets_table LIKE 'whiplash_dev_small_%_buckets' AS buckets_table_named
  FROM whiplash_create_collection('ddb', 'small', 3, metric => 'l2', tables => 1, bits => 4, seed => 42);
SELECT * FROM whiplash_create_collection('ddb', 'small', 3);
SELECT collection, dimensions, metric, tables, bits, format
  FROM whiplash_collections('ddb') ORDER BY 1;

CREATE FOREIGN TABLE small (id text, vector real[]) SERVER ddb OPTIONS (collection 'small');
INSERT INTO small VALUES ('a', '{1,0,0}'), ('b', '{0,1,0}'), ('c', '{0,0,1}'),
                         ('d', '{1,1,0}'), ('e', '{1,1,1}');
SELECT * FROM small ORDER BY id;
-- One bad row among many is named in the error's CONTEXT, by its id, or
-- by its position when the id is what is missing; nothing is written.
INSERT INTO small
  SELECT 'r' || i, CASE WHEN i = 617 THEN '{1,2}' ELSE '{1,2,3}' END::real[]
    FROM generate_series(1, 1000) i;
INSERT INTO small SELECT CASE WHEN i <> 3 THEN 'q' || i END, '{1,2,3}' FROM generate_series(1, 5) i;
SELECT count(*) AS still_five FROM small;
SELECT * FROM small WHERE id = 'c';
SELECT * FROM small WHERE id = 'zz';
SELECT * FROM small WHERE id IN ('a', 'e', 'zz', NULL) ORDER BY id;
SELECT * FROM small WHERE id = ANY('{b,d}') ORDER BY id;
EXPLAIN (COSTS OFF) SELECT * FROM small WHERE id = 'c';
EXPLAIN (COSTS OFF) SELECT * FROM small WHERE id IN ('a', 'b');
EXPLAIN (COSTS OFF) SELECT * FROM small;

-- Exact search (every bucket probed), against brute force.
SELECT id, round(distance::numeric, 6) AS distance
  FROM whiplash_search('small', '{1,0.9,0}', 3, probes => 16);
SELECT id, round(whiplash_distance(vector, '{1,0.9,0}', 'l2')::numeric, 6) AS distance
  FROM small ORDER BY 2, 1 LIMIT 3;
SELECT probes, buckets, candidates, vectors_read, round_trips, results FROM whiplash_last_search();

-- Each vector is in one bucket entry per hash table: 5 entries.
SELECT :'count_cmd' || vectors_table AS count_vectors, :'count_cmd' || buckets_table AS count_buckets
  FROM whiplash_collections('ddb') WHERE collection = 'small' \gset
CREATE TEMP TABLE counts (n int);
COPY counts FROM PROGRAM :'count_buckets';
SELECT n AS bucket_entries FROM counts;

-- Re-inserting an id replaces its vector, and its old bucket entry goes.
INSERT INTO small VALUES ('a', '{-1,-1,-1}');
SELECT * FROM small WHERE id = 'a';
TRUNCATE counts;
COPY counts FROM PROGRAM :'count_buckets';
SELECT n AS bucket_entries FROM counts;
SELECT id FROM whiplash_search('small', '{-1,-1,-1}', 1, probes => 16);

-- UPDATE re-hashes; an UPDATE of the id moves the vector.
UPDATE small SET vector = '{0,0,-1}' WHERE id = 'c';
UPDATE small SET id = 'c2' WHERE id = 'c';
SELECT * FROM small ORDER BY id;
TRUNCATE counts;
COPY counts FROM PROGRAM :'count_buckets';
SELECT n AS bucket_entries FROM counts;

-- DELETE removes the vector and all its bucket entries.
DELETE FROM small WHERE id IN ('b', 'd');
SELECT id FROM small ORDER BY id;
TRUNCATE counts;
COPY counts FROM PROGRAM :'count_buckets';
SELECT n AS bucket_entries FROM counts;
TRUNCATE counts;
COPY counts FROM PROGRAM :'count_vectors';
SELECT n AS vectors FROM counts;

-- Bad rows change nothing.
INSERT INTO small VALUES ('x', '{1,2}');
INSERT INTO small VALUES ('x', NULL);
INSERT INTO small VALUES ('x', '{}');
INSERT INTO small VALUES ('x', '{{1,2,3},{4,5,6}}');
INSERT INTO small VALUES ('x', '{1,NULL,3}');
INSERT INTO small VALUES ('x', '{1,NaN,3}');
INSERT INTO small VALUES ('x', '{1,2,-Infinity}');
INSERT INTO small VALUES (NULL, '{1,2,3}');
INSERT INTO small VALUES ('', '{1,2,3}');
-- DynamoDB's 1,024-byte sort key holds "<12 fine bits>/<id>".
INSERT INTO small VALUES (repeat('x', 1012), '{1,2,3}');
INSERT INTO small VALUES ('ok', '{1,2,3}'), ('x', '{1,2}');
INSERT INTO small VALUES ('x', '{1,2,3}') ON CONFLICT DO NOTHING;
SELECT count(*) AS rows_after_bad_input FROM small;
INSERT INTO small VALUES (repeat('y', 1011), '{1,2,3}');
SELECT length(id) AS longest_id FROM small WHERE id LIKE 'yyy%';
DELETE FROM small WHERE id LIKE 'yyy%';

-- Bad searches.
SELECT * FROM whiplash_search('small', '{1,2}');
SELECT * FROM whiplash_search('small', NULL);
SELECT * FROM whiplash_search('small', '{1,NaN,0}');
SELECT * FROM whiplash_search('small', '{1,2,3}', 0);
SELECT * FROM whiplash_search('small', '{1,2,3}', 10001);
SELECT * FROM whiplash_search('small', '{1,2,3}', probes => 0);
SELECT * FROM whiplash_search(NULL, '{1,2,3}');
CREATE TABLE plain (id text, vector real[]);
SELECT * FROM whiplash_search('plain', '{1,2,3}');
-- (A table with no collection option is refused where it is defined:
-- sql/columns.sql.)
CREATE FOREIGN TABLE missing (id text, vector real[]) SERVER ddb OPTIONS (collection 'missing');
SELECT * FROM whiplash_search('missing', '{1,2,3}');
INSERT INTO missing VALUES ('a', '{1}');
CREATE FOREIGN TABLE badtypes (id int, vector real[]) SERVER ddb OPTIONS (collection 'small');

-- Statements that read the collection they write see none of their own
-- writes: ids shifted or swapped by UPDATE all survive, and INSERT ...
-- SELECT from the same collection copies each row once.
SELECT collection FROM whiplash_create_collection('ddb', 'moves', 2, metric => 'l2');
CREATE FOREIGN TABLE moves (id text, vector real[]) SERVER ddb OPTIONS (collection 'moves');
SET whiplash.write_batch_size = 3;
INSERT INTO moves SELECT 'n' || i, ARRAY[i, 0]::real[] FROM generate_series(1, 10) i;
UPDATE moves SET id = 'n' || (substr(id, 2)::int + 1);
SELECT string_agg(id || '=' || vector[1], ' ' ORDER BY substr(id, 2)::int) FROM moves;
UPDATE moves SET id = CASE id WHEN 'n2' THEN 'n3' WHEN 'n3' THEN 'n2' ELSE id END
 WHERE id IN ('n2', 'n3');
SELECT id, vector FROM moves WHERE id IN ('n2', 'n3') ORDER BY id;
INSERT INTO moves SELECT id || '_copy', vector FROM moves;
SELECT count(*) AS rows, count(*) FILTER (WHERE id LIKE '%_copy_copy') AS copies_of_copies
  FROM moves;
RESET whiplash.write_batch_size;
-- whiplash_search needs SELECT on the foreign table, as a scan does.
CREATE ROLE whiplash_reader;
GRANT USAGE ON FOREIGN SERVER ddb TO whiplash_reader;
CREATE USER MAPPING FOR whiplash_reader SERVER ddb OPTIONS (access_key_id 'x', secret_access_key 'y');
SET ROLE whiplash_reader;
SELECT * FROM whiplash_search('moves', '{1,0}', 1);
SELECT * FROM moves;
RESET ROLE;
DROP USER MAPPING FOR whiplash_reader SERVER ddb;
REVOKE USAGE ON FOREIGN SERVER ddb FROM whiplash_reader;
DROP ROLE whiplash_reader;
SELECT whiplash_drop_collection('ddb', 'moves');
DROP FOREIGN TABLE moves;

-- A search joins with relational data, and runs per row with LATERAL.
CREATE TABLE labels (id text PRIMARY KEY, label text);
INSERT INTO labels VALUES ('a', 'minus ones'), ('c2', 'minus z'), ('e', 'ones'), ('ok', 'ramp');
SELECT l.label, round(s.distance::numeric, 4) AS distance
  FROM whiplash_search('small', '{1,1,1}', 2, probes => 16) s JOIN labels l USING (id)
 ORDER BY s.distance;
SELECT q.name, s.id
  FROM (VALUES ('up', '{1,1,1}'::real[]), ('down', '{-1,-1,-1}'::real[])) q(name, v),
       LATERAL whiplash_search('small', q.v, 1, probes => 16) s
 ORDER BY q.name;

-- Dropping: the collection, its tables and its cached settings go.
SELECT whiplash_drop_collection('ddb', 'small');
SELECT * FROM small;
SELECT * FROM whiplash_search('small', '{1,2,3}');
SELECT whiplash_drop_collection('ddb', 'small');
SELECT collection FROM whiplash_collections('ddb');

-- Collections are listed by name, whatever order DynamoDB's Scan returns.
SELECT count(*) AS created
  FROM unnest(ARRAY['echo', 'bravo', 'delta', 'alpha', 'charlie']) n,
       LATERAL whiplash_create_collection('ddb', n, 2) c;
SELECT collection FROM whiplash_collections('ddb');
SELECT count(*) FILTER (WHERE whiplash_drop_collection('ddb', collection)) AS dropped
  FROM whiplash_collections('ddb');

-- Re-created under the same name, it is a new, empty collection.
SELECT collection FROM whiplash_create_collection('ddb', 'small', 3, metric => 'l2');
SELECT count(*) FROM small;
INSERT INTO small VALUES ('new', '{1,2,3}');
SELECT * FROM whiplash_search('small', '{1,2,3}', 5);
SELECT whiplash_drop_collection('ddb', 'small');

-- Large vectors: 4,096 dimensions fit (metadata holds no planes), and a
-- BatchGetItem of 100 of them passes what dynalite returns in one answer
-- (about 1.4 MB), so its UnprocessedKeys are fetched in further rounds.
SELECT collection, dimensions FROM whiplash_create_collection('ddb', 'wide', 4096);
CREATE FOREIGN TABLE wide (id text, vector real[]) SERVER ddb OPTIONS (collection 'wide');
INSERT INTO wide
  SELECT 'w' || i, array_agg(sin(i * 4096 + j)::real ORDER BY j)
    FROM generate_series(1, 100) i, generate_series(1, 4096) j GROUP BY i;
SELECT count(*) AS rows, min(array_length(vector, 1)) AS dims,
       bool_and(vector[4096] = sin(substr(id, 2)::int * 4096 + 4096)::real) AS intact
  FROM wide WHERE id = ANY(ARRAY(SELECT 'w' || i FROM generate_series(1, 100) i));
SELECT s.id, s.distance < 1e-6 AS exact
  FROM wide w, LATERAL whiplash_search('wide', w.vector, 1) s WHERE w.id = 'w42';
SELECT whiplash_drop_collection('ddb', 'wide');

-- Metadata copied under another collection, keeping its table names, must
-- not lead to those tables: a collection opens only with its own tables.
SELECT collection FROM whiplash_create_collection('ddb', 'victim', 2);
CREATE FOREIGN TABLE victim (id text, vector real[]) SERVER ddb OPTIONS (collection 'victim');
INSERT INTO victim VALUES ('v1', '{1,2}');
SELECT collection FROM whiplash_create_collection('ddb', 'copy', 2);
CREATE FOREIGN TABLE copy (id text, vector real[]) SERVER ddb OPTIONS (collection 'copy');
SELECT vectors_table AS victim_vectors FROM whiplash_collections('ddb')
 WHERE collection = 'victim' \gset
SELECT vectors_table AS copy_vectors FROM whiplash_collections('ddb')
 WHERE collection = 'copy' \gset
\set tool '/usr/bin/python3 ' :tools '/v1tool.py ' :direct
\set tamper_cmd :tool ' put-attribute whiplash_metadata whiplash_dev_copy vectors_table ''{"S": "' :victim_vectors '"}'''
\set mend_cmd :tool ' put-attribute whiplash_metadata whiplash_dev_copy vectors_table ''{"S": "' :copy_vectors '"}'''
CREATE TEMP TABLE tool_out (line text);
COPY tool_out FROM PROGRAM :'tamper_cmd';
SET whiplash.collection_cache_ttl = 0;
-- (table names carry a random generation, shown as <generation>)
CREATE FUNCTION refused(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'not refused';
EXCEPTION WHEN OTHERS THEN
  RETURN regexp_replace(SQLERRM, '_[0-9a-f]{8}_', '_<generation>_', 'g');
END $$;
SELECT refused('SELECT count(*) FROM copy');
SELECT refused('DELETE FROM copy');
SELECT count(*) AS victim_rows_kept FROM victim;
SET client_min_messages = error;
SELECT collection FROM whiplash_collections('ddb');
RESET client_min_messages;
COPY tool_out FROM PROGRAM :'mend_cmd';
SELECT count(*) AS copy_rows FROM copy;
RESET whiplash.collection_cache_ttl;
SELECT whiplash_drop_collection('ddb', 'copy') AND whiplash_drop_collection('ddb', 'victim') AS dropped;
DROP FOREIGN TABLE copy, victim;
DROP FUNCTION refused(text);

-- Metadata asking for more planes than whiplash derives is refused before
-- anything is allocated.
SELECT collection FROM whiplash_create_collection('ddb', 'huge', 16000, bits => 12);
CREATE FOREIGN TABLE huge (id text, vector real[]) SERVER ddb OPTIONS (collection 'huge');
\set huge_cmd :tool ' put-attribute whiplash_metadata whiplash_dev_huge n_tables ''{"N": "64"}'''
\set unhuge_cmd :tool ' put-attribute whiplash_metadata whiplash_dev_huge n_tables ''{"N": "10"}'''
COPY tool_out FROM PROGRAM :'huge_cmd';
SET whiplash.collection_cache_ttl = 0;
SELECT count(*) FROM huge;
COPY tool_out FROM PROGRAM :'unhuge_cmd';
SELECT count(*) FROM huge;
RESET whiplash.collection_cache_ttl;
-- Its 3,840,000 plane coefficients live in memory PostgreSQL accounts for,
-- and are derived once per collection and generation: "huge" waits for its
-- centre, so each statement reads its metadata again, but keeps the planes.
SELECT total_bytes > 3840000 * 8 AS planes_accounted
  FROM pg_backend_memory_contexts WHERE name = 'whiplash indexes';
\c
SET client_min_messages = debug1;
SELECT count(*) FROM huge;
SELECT count(*) FROM huge;
RESET client_min_messages;
-- A timeout stops the derivation; the next statement derives the planes.
\c
SET statement_timeout = '20ms';
SELECT count(*) FROM huge;
RESET statement_timeout;
SELECT count(*) FROM huge;
SELECT whiplash_drop_collection('ddb', 'huge');
DROP FOREIGN TABLE huge;

-- Dropped means gone, even while the old tables still answer: AWS keeps a
-- DELETING table serving for a while.  Server ddb_keep's proxy answers
-- DeleteTable itself and leaves the tables in place.  A session that has
-- the collection cached (through ddb) confirms it in its next statement's
-- first round, so it neither reads nor writes the old tables.
\getenv keep_tables WHIPLASH_KEEP_TABLES_ENDPOINT
CREATE SERVER ddb_keep FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'keep_tables');
SELECT map_user('ddb_keep');
SELECT collection FROM whiplash_create_collection('ddb', 'lingering', 2, metric => 'l2');
SELECT vectors_table AS old_vt, buckets_table AS old_bt FROM whiplash_collections('ddb')
 WHERE collection = 'lingering' \gset
CREATE FOREIGN TABLE lingering (id text, vector real[]) SERVER ddb OPTIONS (collection 'lingering');
INSERT INTO lingering VALUES ('old', '{1,0}');
SELECT id FROM lingering ORDER BY vector <-> '{1,0}' LIMIT 1;
SELECT whiplash_drop_collection('ddb_keep', 'lingering');
\set old_count_cmd :count_cmd :old_vt
CREATE TEMP TABLE kept (n int);
COPY kept FROM PROGRAM :'old_count_cmd';
SELECT n AS old_vectors_still_answering FROM kept;
SELECT id FROM lingering ORDER BY vector <-> '{1,0}' LIMIT 1;
SELECT id FROM whiplash_search('lingering', '{1,0}', 1);
INSERT INTO lingering VALUES ('lost', '{0,1}');
SELECT id FROM lingering;
-- Created again elsewhere while this session holds the old settings: the
-- statement fails once, and the next reads the new collection.
SELECT collection FROM whiplash_create_collection('ddb', 'lingering', 2, metric => 'l2');
SELECT vectors_table AS mid_vt, buckets_table AS mid_bt FROM whiplash_collections('ddb')
 WHERE collection = 'lingering' \gset
SELECT id FROM lingering;
SELECT whiplash_drop_collection('ddb_keep', 'lingering');
SELECT collection FROM whiplash_create_collection('ddb_keep', 'lingering', 2, metric => 'l2');
SELECT id FROM lingering ORDER BY vector <-> '{1,0}' LIMIT 1;
INSERT INTO lingering VALUES ('new', '{0,1}');
SELECT id FROM lingering;
TRUNCATE kept;
COPY kept FROM PROGRAM :'old_count_cmd';
SELECT n AS old_vectors_untouched FROM kept;
SELECT whiplash_drop_collection('ddb', 'lingering');
DROP FOREIGN TABLE lingering;
DROP SERVER ddb_keep CASCADE;
-- The kept tables are removed by hand.
CREATE TEMP TABLE kept_out (line text);
\set cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' delete-table ' :old_vt
COPY kept_out FROM PROGRAM :'cmd';
\set cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' delete-table ' :old_bt
COPY kept_out FROM PROGRAM :'cmd';
\set cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' delete-table ' :mid_vt
COPY kept_out FROM PROGRAM :'cmd';
\set cmd '/usr/bin/python3 ' :tools '/v1tool.py ' :direct ' delete-table ' :mid_bt
COPY kept_out FROM PROGRAM :'cmd';
DROP TABLE kept, kept_out;

-- A COMMIT reads the collection's metadata itself, so the check of a cached
-- collection rides on that read: an INSERT of one row into a collection
-- this session has cached sends its BatchGetItem and one GetItem of the
-- metadata in its first round, not two.
SELECT collection FROM whiplash_create_collection('ddb', 'onecheck', 2, metric => 'l2');
CREATE FOREIGN TABLE onecheck (id text, vector real[]) SERVER ddb OPTIONS (collection 'onecheck');
INSERT INTO onecheck VALUES ('a', '{1,0}');
SELECT calls AS calls_before FROM whiplash_client_stats() WHERE server = 'ddb' \gset
INSERT INTO onecheck VALUES ('b', '{0,1}');
SELECT calls - :calls_before AS insert_calls FROM whiplash_client_stats() WHERE server = 'ddb';
SELECT whiplash_drop_collection('ddb', 'onecheck');
DROP FOREIGN TABLE onecheck;

DROP TABLE plain, labels;
DROP FOREIGN TABLE small, missing, wide;

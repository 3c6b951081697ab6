-- whiplash_check and whiplash_repair: a collection damaged behind
-- whiplash's back (as a failed write or another tool could) is reported
-- exactly, then repaired.  Uses the server "ddb" of setup.sql.
-- This file checks indexes trained at a write's COMMIT, so that a worker's
-- timing cannot change its output: sql/background.sql checks the default,
-- a background worker.
SET whiplash.background_builds = off;
\getenv direct WHIPLASH_DIRECT_ENDPOINT
\getenv tools WHIPLASH_TOOLS
\set tool '/usr/bin/python3 ' :tools '/v1tool.py ' :direct
-- First a collection without fine bits (as made before there were any):
-- its bucket entries are keyed by id alone.
SELECT collection FROM whiplash_create_collection('ddb', 'checked', 2, metric => 'l2',
                                                  tables => 2, bits => 2, seed => 4,
                                                  fine_bits => 0);
SELECT vectors_table AS vt, buckets_table AS bt FROM whiplash_collections('ddb')
 WHERE collection = 'checked' \gset
CREATE FOREIGN TABLE checked (id text, vector real[]) SERVER ddb OPTIONS (collection 'checked');
INSERT INTO checked SELECT 'c' || i, ARRAY[i % 5 - 2, i / 5 - 2]::real[] FROM generate_series(1, 20) i;
-- Consistent: no rows.
SELECT * FROM whiplash_check('checked');

-- The damage: vector c1 deleted (its 2 entries dangle, the count is off);
-- an entry for an id that never existed; c2 entered in every bucket of
-- table 0 (3 of them wrong); c3 removed from every bucket of table 1; c4's
-- list of buckets overwritten.
CREATE TABLE check_tool_out (line text);
\set cmd :tool ' delete-item ' :vt ' ''{"id": {"S": "c1"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' put-item ' :bt ' ''{"bucket": {"S": "0:0"}, "id": {"S": "ghost"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' put-item ' :bt ' ''{"bucket": {"S": "0:0"}, "id": {"S": "c2"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' put-item ' :bt ' ''{"bucket": {"S": "0:1"}, "id": {"S": "c2"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' put-item ' :bt ' ''{"bucket": {"S": "0:2"}, "id": {"S": "c2"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' put-item ' :bt ' ''{"bucket": {"S": "0:3"}, "id": {"S": "c2"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' delete-item ' :bt ' ''{"bucket": {"S": "1:0"}, "id": {"S": "c3"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' delete-item ' :bt ' ''{"bucket": {"S": "1:1"}, "id": {"S": "c3"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' delete-item ' :bt ' ''{"bucket": {"S": "1:2"}, "id": {"S": "c3"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' delete-item ' :bt ' ''{"bucket": {"S": "1:3"}, "id": {"S": "c3"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' put-attribute ' :vt ' c4 keys ''{"SS": ["0:9", "1:9"]}'''
COPY check_tool_out FROM PROGRAM :'cmd';

SELECT problem, count(*) AS found FROM whiplash_check('checked') GROUP BY problem ORDER BY problem;
SELECT problem, id FROM whiplash_check('checked') WHERE problem <> 'entry in wrong bucket'
 ORDER BY problem, id, bucket;
SELECT * FROM whiplash_repair('checked') ORDER BY problem;
SELECT * FROM whiplash_check('checked');
SELECT count(*) AS vectors, count(*) FILTER (WHERE id = 'c1') AS c1 FROM checked;

-- A role that may not read the table may not check it.
CREATE ROLE check_nobody;
SET ROLE check_nobody;
SELECT * FROM whiplash_check('checked');
RESET ROLE;
DROP ROLE check_nobody;

SELECT whiplash_drop_collection('ddb', 'checked');
DROP FOREIGN TABLE checked;

-- With fine bits (the default, 12): an entry's sort key is
-- "<12 binary digits>/<id>".  The damage: an entry in the old form (it
-- names no vector); f2 under a fine key of table 0 that is not its own;
-- f3 removed from table 1; an id holding "/" survives the round trip.
SELECT collection FROM whiplash_create_collection('ddb', 'fine', 2, metric => 'l2',
                                                  tables => 2, bits => 2, seed => 4);
SELECT vectors_table AS vt, buckets_table AS bt FROM whiplash_collections('ddb')
 WHERE collection = 'fine' \gset
CREATE FOREIGN TABLE fine (id text, vector real[]) SERVER ddb OPTIONS (collection 'fine');
INSERT INTO fine SELECT 'f' || i, ARRAY[i % 5 - 2, i / 5 - 2]::real[] FROM generate_series(1, 20) i;
INSERT INTO fine VALUES ('a/b', ARRAY[0.5, 0.5]);
SELECT * FROM whiplash_check('fine');
SELECT id FROM fine ORDER BY vector <-> ARRAY[0.5, 0.5]::real[] LIMIT 1;
-- With 21 vectors in 4 buckets a table, a capacity of 1 a key makes
-- searches read 3 fine bits (21 / 2^(2+3) <= 1): finer keys, and every
-- vector still finds itself first, as its home key at any depth begins
-- the key it was written under.
SET whiplash.bucket_capacity = 1;
SET whiplash.max_candidates = 10;  -- below the 21 vectors: probe, not Scan
SELECT count(*) AS vectors,
       count(*) FILTER (WHERE (SELECT s.id FROM fine s ORDER BY s.vector <-> f.vector LIMIT 1)
                              = f.id) AS found_themselves
  FROM fine f;
SELECT fine_bits, buckets FROM whiplash_last_search();
RESET whiplash.bucket_capacity;
SELECT id FROM fine ORDER BY vector <-> ARRAY[0.5, 0.5]::real[] LIMIT 1;
SELECT fine_bits, buckets FROM whiplash_last_search();
RESET whiplash.max_candidates;
TRUNCATE check_tool_out;
\set cmd :tool ' put-item ' :bt ' ''{"bucket": {"S": "0:0"}, "id": {"S": "old"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' put-item ' :bt ' ''{"bucket": {"S": "0:0"}, "id": {"S": "010101010101/f2"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' delete-entries ' :bt ' 1: f3'
COPY check_tool_out FROM PROGRAM :'cmd';
SELECT * FROM check_tool_out;
SELECT problem, bucket, id FROM whiplash_check('fine') ORDER BY problem, id, bucket;
SELECT * FROM whiplash_repair('fine') ORDER BY problem;
SELECT * FROM whiplash_check('fine');
SELECT count(*) AS vectors FROM fine;
SELECT whiplash_drop_collection('ddb', 'fine');
DROP FOREIGN TABLE fine;

-- A metadata item that vanishes behind a backend's cache, as a drop from
-- another server removes it before the tables: the statement's check of
-- its cached collection finds no item, and the write says so before it
-- writes anything.  Its tables are then removed by hand.
SELECT collection FROM whiplash_create_collection('ddb', 'vanishing', 2, tables => 1, bits => 1);
SELECT vectors_table AS vt, buckets_table AS bt FROM whiplash_collections('ddb')
 WHERE collection = 'vanishing' \gset
CREATE FOREIGN TABLE vanishing (id text, vector real[]) SERVER ddb OPTIONS (collection 'vanishing');
INSERT INTO vanishing VALUES ('a', '{1,2}');
TRUNCATE check_tool_out;
\set cmd :tool ' delete-item whiplash_metadata ''{"id": {"S": "whiplash_dev_vanishing"}}'''
COPY check_tool_out FROM PROGRAM :'cmd';
INSERT INTO vanishing VALUES ('b', '{2,1}');
\set cmd :tool ' delete-table ' :vt
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' delete-table ' :bt
COPY check_tool_out FROM PROGRAM :'cmd';
SELECT * FROM check_tool_out;
DROP FOREIGN TABLE vanishing;

-- A row whose stored vector another tool corrupted (3 bytes, not 2
-- floats) cannot be read, but DELETE removes it and UPDATE with a new
-- vector mends it, in a packed (the default, trained) and a native
-- collection.
SELECT collection FROM whiplash_create_collection('ddb', 'spoilt', 2, metric => 'l2', seed => 11);
SELECT collection FROM whiplash_create_collection('ddb', 'spoilt_native', 2, metric => 'l2',
                                                  tables => 2, bits => 2, seed => 5);
CREATE FOREIGN TABLE spoilt (id text, vector real[], note text) SERVER ddb OPTIONS (collection 'spoilt');
CREATE FOREIGN TABLE spoilt_native (id text, vector real[], note text)
  SERVER ddb OPTIONS (collection 'spoilt_native');
INSERT INTO spoilt VALUES ('a', '{1,2}', 'x'), ('b', '{2,1}', 'y'), ('c', '{3,3}', 'z');
INSERT INTO spoilt_native SELECT * FROM spoilt;
-- (1,000 more rows train the packed collection's index)
INSERT INTO spoilt SELECT 'p' || i, ARRAY[i % 37, i % 41]::real[] FROM generate_series(1, 1000) i;
SELECT vectors_table AS svt FROM whiplash_collections('ddb') WHERE collection = 'spoilt' \gset
SELECT vectors_table AS nvt FROM whiplash_collections('ddb') WHERE collection = 'spoilt_native' \gset
\set cmd :tool ' put-attribute ' :svt ' a vector ''{"B": "AAAA"}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' put-attribute ' :svt ' b vector ''{"B": "AAAA"}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' put-attribute ' :nvt ' a vector ''{"B": "AAAA"}'''
COPY check_tool_out FROM PROGRAM :'cmd';
\set cmd :tool ' put-attribute ' :nvt ' b vector ''{"B": "AAAA"}'''
COPY check_tool_out FROM PROGRAM :'cmd';
SELECT * FROM spoilt WHERE id = 'a';
UPDATE spoilt SET note = 'kept' WHERE id = 'a';
DELETE FROM spoilt WHERE id = 'a';
UPDATE spoilt SET vector = '{5,5}' WHERE id = 'b';
SELECT * FROM spoilt WHERE id IN ('a', 'b', 'c') ORDER BY id;
DELETE FROM spoilt_native WHERE id = 'a';
UPDATE spoilt_native SET vector = '{5,5}' WHERE id = 'b';
SELECT * FROM spoilt_native ORDER BY id;
-- What the corrupt vectors' old bucket entries left behind, and mended.
SELECT problem, count(*) FROM whiplash_check('spoilt') GROUP BY 1 ORDER BY 1;
SELECT problem, count(*) FROM whiplash_check('spoilt_native') GROUP BY 1 ORDER BY 1;
SELECT count(*) > 0 AS repaired FROM whiplash_repair('spoilt');
SELECT count(*) > 0 AS repaired FROM whiplash_repair('spoilt_native');
SELECT count(*) AS problems FROM whiplash_check('spoilt');
SELECT count(*) AS problems FROM whiplash_check('spoilt_native');
SELECT whiplash_drop_collection('ddb', 'spoilt'), whiplash_drop_collection('ddb', 'spoilt_native');
DROP FOREIGN TABLE spoilt, spoilt_native;
DROP TABLE check_tool_out;

-- whiplash_check and whiplash_repair: a collection damaged behind
-- whiplash's back (as a failed write or another tool could) is reported
-- exactly, then repaired.  Uses the server "ddb" of setup.sql.
\getenv direct WHIPLASH_DIRECT_ENDPOINT
\getenv tools WHIPLASH_TOOLS
\set tool '/usr/bin/python3 ' :tools '/v1tool.py ' :direct
SELECT collection FROM whiplash_create_collection('ddb', 'checked', 2, metric => 'l2',
                                                  tables => 2, bits => 2, seed => 4);
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
DROP TABLE check_tool_out;

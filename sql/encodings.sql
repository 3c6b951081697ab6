-- Text in databases of other encodings (the suite's own is UTF8).
-- DynamoDB stores UTF-8: a LATIN1 database converts both ways, and a
-- SQL_ASCII one, which converts nothing, must write valid UTF-8.
\getenv endpoint WHIPLASH_ENDPOINT
\getenv key WHIPLASH_KEY
\getenv secret WHIPLASH_SECRET
SELECT collection FROM whiplash_create_collection('ddb', 'accents', 2, metric => 'l2', seed => 1);
CREATE DATABASE wl_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
CREATE DATABASE wl_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;

\c wl_latin1
SET client_encoding = 'UTF8';
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb
  OPTIONS (access_key_id :'key', secret_access_key :'secret');
CREATE FOREIGN TABLE accents (id text, vector real[], city text, attributes jsonb)
  SERVER ddb OPTIONS (collection 'accents');
INSERT INTO accents VALUES ('café', '{1,0}', 'Zürich', '{"note": "crème"}');
SELECT id, city, attributes FROM accents WHERE id = 'café';
SELECT id FROM whiplash_search('accents', '{1,0}', 5, filter => '{"city": "Zürich"}');

-- Read from the UTF8 database: the same characters, so they were sent as
-- UTF-8.  A euro sign has no LATIN1 equivalent.
\c contrib_regression
CREATE FOREIGN TABLE accents (id text, vector real[], city text, attributes jsonb)
  SERVER ddb OPTIONS (collection 'accents');
SELECT id, city, attributes, octet_length(id) AS id_bytes FROM accents;
INSERT INTO accents VALUES ('€', '{0,1}', 'Paris');

\c wl_latin1
SET client_encoding = 'UTF8';
SELECT id FROM accents WHERE id = 'café';
\set VERBOSITY sqlstate
SELECT id FROM accents ORDER BY id;
\set VERBOSITY default
SELECT regexp_replace(:'LAST_ERROR_MESSAGE', '_[0-9a-f]{8}_', '_<generation>_') AS error;

-- SQL_ASCII: bytes that are not UTF-8 are refused, naming the row; UTF-8
-- goes as it is.
\c wl_ascii
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb
  OPTIONS (access_key_id :'key', secret_access_key :'secret');
IMPORT FOREIGN SCHEMA collections LIMIT TO (accents) FROM SERVER ddb INTO public;
INSERT INTO accents VALUES (E'caf\xe9', '{1,1}');
INSERT INTO accents VALUES ('ok', '{1,1}', jsonb_build_object('city', E'Z\xfcrich'));
\set VERBOSITY sqlstate
SELECT id FROM accents WHERE id = E'caf\xe9';
\set VERBOSITY default
SELECT regexp_replace(:'LAST_ERROR_MESSAGE', '_[0-9a-f]{8}_', '_<generation>_') AS error;
SELECT id, attributes FROM accents WHERE id = 'café';
SELECT count(*) FROM accents;

\c contrib_regression
SELECT id FROM accents ORDER BY id;
DROP FOREIGN TABLE accents;
DROP DATABASE wl_latin1;
DROP DATABASE wl_ascii;
SELECT whiplash_drop_collection('ddb', 'accents');

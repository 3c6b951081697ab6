-- whiplash demo: DynamoDB as a vector store, queried with SQL.
\pset footer off
\getenv endpoint WHIPLASH_ENDPOINT
\getenv digits WHIPLASH_DIGITS
\set digits_cmd 'zcat ' :digits

CREATE EXTENSION whiplash;

-- A server says where DynamoDB is (here a local dynalite; for AWS give
-- region instead of endpoint), a user mapping holds the credentials.
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb
  OPTIONS (access_key_id 'demo', secret_access_key 'demo');

-- Create the shared metadata table once (true: created now).
SELECT whiplash_setup('ddb') AS created;

-- A relational table: scikit-learn's handwritten digits, 8x8 pixels each,
-- with the digit each image shows.
CREATE TABLE images (id text PRIMARY KEY, pixels real[], digit int);
CREATE TEMP TABLE raw (n serial, line text);
COPY raw (line) FROM PROGRAM :'digits_cmd';
INSERT INTO images
  SELECT 'img' || n, (string_to_array(line, ','))[1:64]::real[],
         (string_to_array(line, ','))[65]::int
    FROM raw;

-- A collection in DynamoDB, mapped to a foreign table, loaded with SQL.
-- (seed => 1: the same index, and so the same output, on every run)
SELECT * FROM whiplash_create_collection('ddb', 'digits', 64, seed => 1);
-- Each vector carries the digit as an attribute (a DynamoDB number).
CREATE FOREIGN TABLE digit_vectors (id text, vector real[], digit int)
  SERVER ddb OPTIONS (collection 'digits');
\timing on
INSERT INTO digit_vectors SELECT id, pixels, digit FROM images;
\timing off
-- The COMMIT started the index's training in a background worker; until
-- it ends, searches read every vector.  Wait for it.
SELECT whiplash_wait_for_index('digit_vectors') AS index_ready;

-- The 5 images nearest to image 1 (a zero), joined with their labels.
SELECT s.id, i.digit, round(s.distance::numeric, 4) AS distance
  FROM whiplash_search('digit_vectors', (SELECT pixels FROM images WHERE id = 'img1'), 5) s
  JOIN images i USING (id)
 ORDER BY s.distance;

-- The same search as pgvector users write it: ORDER BY ... LIMIT runs as
-- one cell search on DynamoDB (no Scan, no Sort).
EXPLAIN (COSTS OFF)
SELECT id FROM digit_vectors
 ORDER BY vector <=> (SELECT pixels FROM images WHERE id = 'img1') LIMIT 5;
SELECT id FROM digit_vectors
 ORDER BY vector <=> (SELECT pixels FROM images WHERE id = 'img1') LIMIT 5;

-- What that search cost: DynamoDB requests, sequential round trips,
-- vectors read out of 1,797, and the recall@10 the index expects of it
-- (it measured itself when it trained).
SELECT buckets, candidates, vectors_read, requests, round_trips,
       round(estimated_recall::numeric, 3) AS estimated_recall
  FROM whiplash_last_search();

-- The first thing to run on your own data: the recall searches reach at
-- the current settings, against an exact search of 100 of the
-- collection's own vectors, and what a search reads.
SELECT searched, round(recall::numeric, 3) AS recall,
       round(estimated_recall::numeric, 3) AS estimated_recall,
       round(read_units::numeric, 1) AS read_units, round_trips
  FROM whiplash_recall('digit_vectors');

-- A filtered search: the 5 nearest images of a three.  The WHERE clause is
-- checked on each candidate during the search, which widens until 5 match.
-- ANALYZE samples the collection, so that the plan knows how many vectors
-- the filter keeps: threes are a tenth of the digits, and widening for
-- them would cost over half of what reading all 1,797 does, so the plan
-- reads them all and is exact.  EXPLAIN ANALYZE shows the plan's estimate
-- beside the DynamoDB work done.
ANALYZE digit_vectors;
SELECT id, digit FROM digit_vectors WHERE digit = 3
 ORDER BY vector <=> (SELECT pixels FROM images WHERE id = 'img1') LIMIT 5;
EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM digit_vectors WHERE digit = 3
 ORDER BY vector <=> (SELECT pixels FROM images WHERE id = 'img1') LIMIT 5;

-- One search per row with LATERAL: for the first image of each digit, the
-- labels of its 10 nearest neighbours.
SELECT q.digit, array_agg(i.digit ORDER BY s.distance) AS neighbour_digits
  FROM (SELECT DISTINCT ON (digit) id, digit, pixels FROM images ORDER BY digit, id) q,
       LATERAL whiplash_search('digit_vectors', q.pixels, 10) s
  JOIN images i ON i.id = s.id
 GROUP BY q.digit ORDER BY q.digit;
-- EXPLAIN ANALYZE of that statement adds, after the plan, what its 10
-- whiplash_search calls read from DynamoDB and what their plans expected.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT q.digit, s.id
  FROM (SELECT DISTINCT ON (digit) id, digit, pixels FROM images ORDER BY digit, id) q,
       LATERAL whiplash_search('digit_vectors', q.pixels, 10) s;

-- Reads and writes through the foreign table.
SELECT id, array_length(vector, 1) AS dimensions FROM digit_vectors WHERE id = 'img1';
DELETE FROM digit_vectors WHERE id = 'img1';
SELECT count(*) AS vectors_left FROM digit_vectors;

SELECT * FROM whiplash_collections('ddb');
SELECT * FROM whiplash_client_stats();

-- The HTTP API (whiplash-api, started next by test/demo.sh) runs each
-- request as the role its key maps to: this one may only read the digits.
CREATE ROLE api_reader;
GRANT USAGE ON FOREIGN SERVER ddb TO api_reader;
GRANT SELECT ON digit_vectors TO api_reader;
CREATE USER MAPPING FOR api_reader SERVER ddb
  OPTIONS (access_key_id 'demo', secret_access_key 'demo');

-- Collections of the original Python library (v1): a test script writes
-- one in the library's exact layout with boto3 (float64 planes in the
-- metadata item, base-36 bucket keys, id string sets, float32 vectors);
-- whiplash must search it as the library does, and write to it so that
-- the library's own search finds what was written.
\getenv direct WHIPLASH_DIRECT_ENDPOINT
\getenv tools WHIPLASH_TOOLS
\getenv digits WHIPLASH_DIGITS
\set v1 '/usr/bin/python3 ' :tools '/v1tool.py ' :direct
\set create_cmd :v1 ' create whiplash dev v1digits ' :digits ' 100 300'
\set digits_cmd 'zcat ' :digits

CREATE TABLE digits_raw (n serial, line text);
COPY digits_raw (line) FROM PROGRAM :'digits_cmd';
CREATE TABLE digits AS
  SELECT 'd' || (n - 1) AS id, n - 1 AS row,
         (string_to_array(line, ','))[1:64]::real[] AS v
    FROM digits_raw;
CREATE TABLE tool_out (line text);
COPY tool_out FROM PROGRAM :'create_cmd';

-- Listed with its own settings: 6 tables of 8, 10, ... 18 bits, Euclidean.
SELECT collection, dimensions, metric, tables, bits, format, vectors_table, buckets_table
  FROM whiplash_collections('ddb') WHERE collection = 'v1digits';
CREATE FOREIGN TABLE v1digits (id text, vector real[]) SERVER ddb OPTIONS (collection 'v1digits');
SELECT count(*) AS vectors FROM v1digits;
-- The original's format keeps no count, so ANALYZE reads every item,
-- keeping a random sample of 300 at statistics target 1, and counts them.
SET default_statistics_target = 1;
ANALYZE v1digits;
RESET default_statistics_target;
SELECT reltuples = (SELECT count(*) FROM v1digits) AS rows_counted
  FROM pg_class WHERE relname = 'v1digits';
SELECT v = (SELECT vector FROM v1digits WHERE id = 'd150') AS same_floats
  FROM digits WHERE id = 'd150';

-- The same candidates and the same results as the original's search, for
-- five queries.
CREATE TABLE comparison (query text, ours text[], theirs text[], our_candidates bigint,
                         their_candidates bigint);
CREATE FUNCTION compare_with_original(query_id text, k int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  q real[];
  ours text[];
  candidates bigint;
BEGIN
  SELECT v INTO q FROM digits WHERE id = query_id;
  SELECT array_agg(id ORDER BY id) INTO ours FROM whiplash_search('v1digits', q, k);
  SELECT l.candidates INTO candidates FROM whiplash_last_search() l;
  TRUNCATE tool_out;
  EXECUTE format('COPY tool_out FROM PROGRAM %L',
                 current_setting('test.v1') || ' search whiplash dev v1digits ' || k || ' ' ||
                 array_to_string(q, ','));
  INSERT INTO comparison
    SELECT query_id, ours,
           (SELECT array_agg(line ORDER BY line) FROM tool_out WHERE line NOT LIKE 'candidates %'),
           candidates,
           (SELECT split_part(line, ' ', 2)::bigint FROM tool_out WHERE line LIKE 'candidates %');
END $$;
SELECT set_config('test.v1', :'v1', false) IS NOT NULL AS configured;
SELECT compare_with_original('d' || i, 5) FROM generate_series(0, 4) i;
SELECT query, ours = theirs AS same_results, our_candidates = their_candidates AS same_candidates,
       cardinality(ours) AS results
  FROM comparison ORDER BY query;

-- A vector inserted through whiplash is found by the original's search:
-- same bucket keys, same bytes.
INSERT INTO v1digits SELECT 'new-' || id, v FROM digits WHERE row IN (5, 6);
TRUNCATE comparison;
SELECT compare_with_original('d5', 1);
SELECT ours, theirs FROM comparison;

-- Replacing and deleting keep the original's buckets exact.
UPDATE v1digits SET vector = (SELECT v FROM digits WHERE row = 7) WHERE id = 'new-d5';
DELETE FROM v1digits WHERE id = 'new-d6';
TRUNCATE comparison;
SELECT compare_with_original('d' || i, 1) FROM generate_series(5, 7) i;
SELECT query, ours, theirs, our_candidates = their_candidates AS same_candidates
  FROM comparison ORDER BY query;
SELECT count(*) AS vectors FROM v1digits;
-- After whiplash's inserts, updates and deletes, every vector is in the
-- buckets its hash says and every bucket id has a vector.
SELECT * FROM whiplash_check('v1digits');

SELECT whiplash_drop_collection('ddb', 'v1digits');
SELECT count(*) FROM whiplash_collections('ddb') WHERE collection = 'v1digits';
DROP FUNCTION compare_with_original(text, int);
DROP FOREIGN TABLE v1digits;
DROP TABLE digits_raw, digits, tool_out, comparison;

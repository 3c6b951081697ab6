-- Recall of whiplash_search at the default settings, against exact brute
-- force, on a real data set: scikit-learn's 1,797 digits (64 dimensions).
-- 1,697 are stored; the first 100 are the queries.
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
  FROM whiplash_create_collection('ddb', 'digits', 64, seed => 1);
CREATE FOREIGN TABLE digits_ft (id text, vector real[]) SERVER ddb OPTIONS (collection 'digits');
INSERT INTO digits_ft SELECT id, v FROM digits WHERE row >= 100;
SELECT count(*) AS stored FROM digits_ft;

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

SELECT whiplash_drop_collection('ddb', 'digits');
DROP FOREIGN TABLE digits_ft;
DROP TABLE digits_raw, digits, found, costs, truth;

-- Collection benchmark: INSERT ... SELECT throughput, then recall@10 and
-- the cost of each search at the default settings, on Fashion-MNIST
-- (Euclidean), against exact brute force.
\getenv endpoint WHIPLASH_ENDPOINT
\getenv tools WHIPLASH_BENCH
\getenv n WHIPLASH_BENCH_N
\getenv q WHIPLASH_BENCH_Q
\set train_cmd '/usr/bin/python3 ' :tools '/fmnist.py train ' :n
\set test_cmd '/usr/bin/python3 ' :tools '/fmnist.py test ' :q
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb OPTIONS (access_key_id 'bench', secret_access_key 'bench');
SELECT whiplash_setup('ddb') AS setup \gset
CREATE TABLE base (id text, v real[]);
CREATE TABLE queries (id text, v real[]);
COPY base FROM PROGRAM :'train_cmd';
COPY queries FROM PROGRAM :'test_cmd';
SELECT count(*) AS base_vectors FROM base \gset
SELECT collection FROM whiplash_create_collection('ddb', 'fm', 784, metric => 'l2', seed => 1) \gset
CREATE FOREIGN TABLE fm (id text, vector real[]) SERVER ddb OPTIONS (collection 'fm');

-- INSERT ... SELECT throughput.
SELECT clock_timestamp() AS t0 \gset
INSERT INTO fm SELECT id, v FROM base;
SELECT round(:base_vectors / extract(epoch FROM clock_timestamp() - :'t0')) AS insert_vectors_per_s \gset

-- Searches at the default settings.
CREATE TABLE found (query text, id text);
CREATE TABLE costs (query text, ms float8, vectors_read bigint, requests bigint, round_trips bigint,
                    candidates bigint);
DO $$
DECLARE
  q record;
  t0 timestamptz;
BEGIN
  FOR q IN SELECT id, v FROM queries ORDER BY id LOOP
    t0 := clock_timestamp();
    INSERT INTO found SELECT q.id, s.id FROM whiplash_search('fm', q.v, 10) s;
    INSERT INTO costs
      SELECT q.id, extract(epoch FROM clock_timestamp() - t0) * 1000, vectors_read, requests,
             round_trips, candidates
        FROM whiplash_last_search();
  END LOOP;
END $$;

CREATE TABLE truth AS
  SELECT q.id AS query, t.id
    FROM queries q,
         LATERAL (SELECT b.id FROM base b ORDER BY whiplash_distance(q.v, b.v, 'l2'), b.id LIMIT 10) t;

SELECT :base_vectors AS vectors, (SELECT count(*) FROM queries) AS queries,
       :insert_vectors_per_s AS insert_vectors_per_s,
       (SELECT round(count(f.id)::numeric / count(*), 3)
          FROM truth t LEFT JOIN found f USING (query, id)) AS recall_at_10,
       round(avg(vectors_read)) AS vectors_read_per_search,
       round(100.0 * avg(vectors_read) / :base_vectors, 2) AS percent_read,
       round(avg(requests), 1) AS requests_per_search,
       max(round_trips) AS round_trips_per_search,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS p50_ms,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS p95_ms
  FROM costs;

-- The effect of probes (per hash table) on recall and cost.
CREATE TABLE sweep (probes int, query text, id text);
CREATE TABLE sweep_costs (probes int, vectors_read bigint, requests bigint, ms float8);
DO $$
DECLARE
  p int;
  q record;
  t0 timestamptz;
BEGIN
  FOREACH p IN ARRAY ARRAY[1, 4, 12, 24] LOOP
    FOR q IN SELECT id, v FROM queries ORDER BY id LOOP
      t0 := clock_timestamp();
      INSERT INTO sweep SELECT p, q.id, s.id FROM whiplash_search('fm', q.v, 10, probes => p) s;
      INSERT INTO sweep_costs
        SELECT p, vectors_read, requests, extract(epoch FROM clock_timestamp() - t0) * 1000
          FROM whiplash_last_search();
    END LOOP;
  END LOOP;
END $$;
SELECT c.probes, r.recall_at_10, round(avg(c.vectors_read)) AS vectors_read_per_search,
       round(avg(c.requests), 1) AS requests_per_search,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY c.ms)::numeric, 1) AS p50_ms
  FROM sweep_costs c
  JOIN (SELECT p.probes, round(count(s.id)::numeric / (SELECT count(*) FROM truth), 3) AS recall_at_10
          FROM (SELECT DISTINCT probes FROM sweep_costs) p
          LEFT JOIN sweep s ON s.probes = p.probes
          LEFT JOIN truth t ON t.query = s.query AND t.id = s.id
         WHERE t.id IS NOT NULL OR s.id IS NULL
         GROUP BY p.probes) r USING (probes)
 GROUP BY c.probes, r.recall_at_10 ORDER BY c.probes;

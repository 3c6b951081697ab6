-- Learned text embeddings: 3,308 fastText word vectors (32 dimensions,
-- cosine) that test/tools/wordvecs.sh trains with fixed seeds on Debian's
-- dict-gcide dictionary, and 174 held-out words as queries.  Such vectors
-- are anisotropic and low in contrast, where the random planes of a native
-- collection struggle.  Recall@10 is against exact brute force; read units
-- are counted from the requests sent, priced by DynamoDB's rules at the
-- signature-checking proxy.
\getenv words WHIPLASH_WORDS
\getenv sigcheck_stats WHIPLASH_SIGCHECK_STATS
\set base_file :words '/vectors.csv'
\set queries_file :words '/queries.csv'
\set stats_cmd 'curl -s ' :sigcheck_stats
CREATE TABLE words_raw (part text, line text);
COPY words_raw (line) FROM :'base_file';
UPDATE words_raw SET part = 'base';
COPY words_raw (line) FROM :'queries_file';
UPDATE words_raw SET part = 'query' WHERE part IS NULL;
CREATE TABLE words AS
  SELECT part, split_part(line, ',', 1) AS id,
         string_to_array(substr(line, strpos(line, ',') + 1), ',')::real[] AS v
    FROM words_raw;
SELECT part, count(*), min(cardinality(v)) AS dims FROM words GROUP BY part ORDER BY part;
-- The exact 10 nearest of each query among the base words.
CREATE TABLE truth AS
  SELECT q.id AS query, t.id
    FROM words q,
         LATERAL (SELECT b.id FROM words b WHERE b.part = 'base'
                  ORDER BY whiplash_distance(q.v, b.v, 'cosine'), b.id LIMIT 10) t
   WHERE q.part = 'query';
CREATE TABLE proxy (at text PRIMARY KEY, stats jsonb);
CREATE TABLE proxy_now (stats jsonb);
SELECT set_config('test.stats_cmd', :'stats_cmd', false) IS NOT NULL AS noted;
-- No re-read of a collection's settings between the proxy's counts.
SET whiplash.collection_cache_ttl = '1h';
CREATE FUNCTION note_proxy(name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE proxy_now;
  EXECUTE format('COPY proxy_now FROM PROGRAM %L', current_setting('test.stats_cmd'));
  INSERT INTO proxy SELECT name, stats FROM proxy_now;
END $$;
CREATE TABLE found (label text, query text, id text);
CREATE TABLE plans (label text, plan text);
-- Searches every query, keeping what it found and the plan under a label.
CREATE PROCEDURE search_all(label text, ft regclass, probes int DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
  q record;
BEGIN
  PERFORM note_proxy(label || ' before');
  FOR q IN SELECT id, v FROM words WHERE part = 'query' ORDER BY id LOOP
    INSERT INTO found
      SELECT label, q.id, s.id FROM whiplash_search(ft, q.v, 10, probes => probes) s;
    INSERT INTO plans SELECT label, plan FROM whiplash_last_search();
  END LOOP;
  PERFORM note_proxy(label || ' after');
END $$;
CREATE VIEW recall AS
  SELECT label,
         round((SELECT count(*) FROM truth t JOIN found f USING (query, id)
                 WHERE f.label = l.label)::numeric / (SELECT count(*) FROM truth), 3) AS recall_at_10,
         round((((SELECT stats FROM proxy WHERE at = label || ' after')->>'read_units')::numeric -
                ((SELECT stats FROM proxy WHERE at = label || ' before')->>'read_units')::numeric)
               / (SELECT count(*) FROM words WHERE part = 'query'), 1) AS read_units,
         round((((SELECT stats FROM proxy WHERE at = label || ' after')->>'requests')::numeric -
                ((SELECT stats FROM proxy WHERE at = label || ' before')->>'requests')::numeric)
               / (SELECT count(*) FROM words WHERE part = 'query'), 1) AS requests,
         (SELECT string_agg(DISTINCT plan, ',') FROM plans p WHERE p.label = l.label) AS plans
    FROM (SELECT DISTINCT label FROM found) l;

-- The same words in a native collection and in a packed one.
SELECT collection, format
  FROM whiplash_create_collection('ddb', 'words_native', 32, format => 'native', seed => 1);
CREATE FOREIGN TABLE words_native (id text, vector real[])
  SERVER ddb OPTIONS (collection 'words_native');
INSERT INTO words_native SELECT id, v FROM words WHERE part = 'base';
SELECT collection, format
  FROM whiplash_create_collection('ddb', 'words_packed', 32, format => 'packed', seed => 1);
CREATE FOREIGN TABLE words_packed (id text, vector real[])
  SERVER ddb OPTIONS (collection 'words_packed');
INSERT INTO words_packed SELECT id, v FROM words WHERE part = 'base';
SELECT whiplash_wait_for_index('words_packed') AS index_ready;

CALL search_all('native', 'words_native');
CALL search_all('packed', 'words_packed');
CALL search_all('packed, 5 probes', 'words_packed', 5);
SET whiplash.recall_target = 0.99;
CALL search_all('packed, target 0.99', 'words_packed');
RESET whiplash.recall_target;
-- (read units a search are asserted below, not shown: a Scan's pages, and
-- so its rounding, differ between servers)
SELECT label, recall_at_10, plans FROM recall ORDER BY label;
SELECT (SELECT recall_at_10 FROM recall WHERE label = 'packed') >= 0.95
         AS default_recall_at_least_0_95,
       (SELECT read_units FROM recall WHERE label = 'packed') <= 60
         AS default_at_most_60_read_units,
       (SELECT recall_at_10 FROM recall WHERE label = 'packed, 5 probes') >= 0.95
         AS probes_recall_at_least_0_95,
       (SELECT read_units FROM recall WHERE label = 'packed, 5 probes') <
       (SELECT read_units FROM recall WHERE label = 'native') / 2
         AS probes_under_half_the_native_units,
       (SELECT recall_at_10 FROM recall WHERE label = 'packed, 5 probes') >
       (SELECT recall_at_10 FROM recall WHERE label = 'native') + 0.1
         AS probes_far_above_native_recall,
       (SELECT recall_at_10 FROM recall WHERE label = 'packed, target 0.99') >= 0.98
         AS target_0_99_reaches_0_98;

SELECT whiplash_drop_collection('ddb', 'words_native'), whiplash_drop_collection('ddb', 'words_packed');
DROP VIEW recall;
DROP PROCEDURE search_all;
DROP FUNCTION note_proxy;
DROP TABLE words_raw, words, truth, proxy, proxy_now, found, plans;
DROP FOREIGN TABLE words_native, words_packed;

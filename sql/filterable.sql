-- Filterable attributes: columns with OPTIONS (filterable 'true') are
-- carried in every record of a packed collection's index, after the
-- vector's code, so that a search drops the records a WHERE (or
-- whiplash_search's filter) cannot keep before it fetches their vectors.
-- On scikit-learn's 1,797 digits with their class (10% each), a tag that
-- 1% share, a text kind, a time and a flag; recall is against filtered
-- brute force, read units are priced at the signature-checking proxy.
SET whiplash.background_builds = off;
\getenv digits WHIPLASH_DIGITS
\getenv sigcheck_stats WHIPLASH_SIGCHECK_STATS
\getenv direct WHIPLASH_DIRECT_ENDPOINT
\getenv tools WHIPLASH_TOOLS
\set digits_cmd 'zcat ' :digits
\set stats_cmd 'curl -s ' :sigcheck_stats
\set tool '/usr/bin/python3 ' :tools '/v1tool.py ' :direct
CREATE TABLE digits_raw (n serial, line text);
COPY digits_raw (line) FROM PROGRAM :'digits_cmd';
CREATE TABLE goods AS
  SELECT md5('g' || (n - 1))::uuid::text AS id, n - 1 AS row,
         (string_to_array(line, ','))[1:64]::real[] AS v,
         (string_to_array(line, ','))[65]::int AS label,
         (n - 1) % 100 AS tag, 'k' || ((n - 1) % 20) AS kind,
         timestamptz '2026-01-01 00:00+00' + (n - 1) * interval '1 hour' AS at,
         (n - 1) % 7 = 0 AS sale, (n - 1) % 1000 AS price
    FROM digits_raw;
DROP TABLE digits_raw;
CREATE TABLE proxy_now (stats jsonb);
CREATE FUNCTION proxy_units() RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN
  -- (the proxy counts a request as its answer ends: let the last one land)
  PERFORM pg_sleep(0.1);
  TRUNCATE proxy_now;
  EXECUTE format('COPY proxy_now FROM PROGRAM %L', current_setting('test.stats_cmd'));
  RETURN (SELECT (stats->>'read_units')::numeric FROM proxy_now);
END $$;
SELECT set_config('test.stats_cmd', :'stats_cmd', false) IS NOT NULL AS noted;
SET whiplash.collection_cache_ttl = '1h';

-- A column that is the id, the vector or the attributes column cannot be
-- filterable; nor more than 8 columns; the option is a boolean.
CREATE FOREIGN TABLE bad (id text OPTIONS (filterable 'true'), vector real[])
  SERVER ddb OPTIONS (collection 'goods');
CREATE FOREIGN TABLE bad (id text, vector real[], a int OPTIONS (filterable 'maybe'))
  SERVER ddb OPTIONS (collection 'goods');
CREATE FOREIGN TABLE bad (id text, vector real[],
  a1 int OPTIONS (filterable 'true'), a2 int OPTIONS (filterable 'true'),
  a3 int OPTIONS (filterable 'true'), a4 int OPTIONS (filterable 'true'),
  a5 int OPTIONS (filterable 'true'), a6 int OPTIONS (filterable 'true'),
  a7 int OPTIONS (filterable 'true'), a8 int OPTIONS (filterable 'true'),
  a9 int OPTIONS (filterable 'true')) SERVER ddb OPTIONS (collection 'goods');

-- Written through a table without filterable columns, the first index
-- carries none; whiplash_reindex of a table that declares some gives the
-- collection's records them (as it gives them to any collection written
-- before).  The same searches run before and after: for 20 queries each,
-- recall@10 against filtered brute force, read units a search priced at
-- the proxy, and the vectors fetched and those of them that passed.
SELECT collection FROM whiplash_create_collection('ddb', 'goods', 64, format => 'packed', seed => 1);
CREATE FOREIGN TABLE goods_plain (id text, vector real[], label int, tag int, kind text,
                                  at timestamptz, sale boolean, price numeric)
  SERVER ddb OPTIONS (collection 'goods');
INSERT INTO goods_plain SELECT id, v, label, tag, kind, at, sale, price FROM goods WHERE row >= 100;
ANALYZE goods_plain;
\set meta_cmd :tool ' item whiplash_metadata whiplash_dev_goods'
CREATE TABLE tool_out (line text);
CREATE FUNCTION carried() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE tool_out;
  EXECUTE format('COPY tool_out FROM PROGRAM %L', current_setting('test.meta_cmd'));
  RETURN (SELECT coalesce(string_agg(a->>'S', ', '), 'none')
            FROM tool_out, jsonb_array_elements(line::jsonb #> '{index,M,attrs,L}') a);
END $$;
SELECT set_config('test.meta_cmd', :'meta_cmd', false) IS NOT NULL AS noted;
SELECT carried() AS records_carry;
CREATE TABLE searched (tbl text, predicate text, query int, id text);
CREATE TABLE costs (tbl text, predicate text, units numeric, fetched bigint, matched bigint,
                    estimated numeric, records_filter text, expected numeric);
CREATE PROCEDURE search_where(tbl text, predicate text) LANGUAGE plpgsql AS $$
DECLARE
  q record;
  before numeric := proxy_units();
  fetched bigint := 0;
  matched bigint := 0;
  estimated numeric := 0;
  expected numeric := 0;
  records_filter text;
  s record;
  line text;
BEGIN
  FOR q IN SELECT row, v FROM goods WHERE row < 20 ORDER BY row LOOP
    FOR line IN EXECUTE format('EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM %I WHERE %s ORDER BY vector <=> %L LIMIT 10',
                               tbl, predicate, q.v) LOOP
      estimated := estimated + coalesce((regexp_match(line, 'about ([0-9.]+) read units'))[1]::numeric, 0);
      records_filter := coalesce(records_filter, (regexp_match(line, 'Records Filter: ([^,]+(, [a-z]+)*), tested'))[1]);
    END LOOP;
    EXECUTE format('INSERT INTO searched SELECT %L, %L, %s, id FROM (SELECT id FROM %I WHERE %s ORDER BY vector <=> %L LIMIT 10) t',
                   tbl, predicate, q.row, tbl, predicate, q.v);
    SELECT * INTO s FROM whiplash_last_search();
    fetched := fetched + s.vectors_read;
    matched := matched + s.matched;
    expected := expected + s.estimated_recall;
  END LOOP;
  INSERT INTO costs VALUES (tbl, predicate, (proxy_units() - before) / 20, fetched, matched,
                            estimated / 20, records_filter, expected / 20);
END $$;
CREATE TABLE predicates (predicate text PRIMARY KEY);
INSERT INTO predicates VALUES
  ('true'), ('label = 3'), ('tag = 7'), ('kind IN (''k1'', ''k2'')'),
  ('label < 2 AND sale'), ('at >= ''2026-02-01'' AND at < ''2026-02-05'''),
  ('label = 3 OR tag = 7'), ('label <> 3'), ('price < 300'), ('tag = 7 AND price >= 500');
CREATE PROCEDURE search_all(tbl text) LANGUAGE plpgsql AS $$
DECLARE
  p text;
BEGIN
  FOR p IN SELECT predicate FROM predicates ORDER BY predicate LOOP
    CALL search_where(tbl, p);
  END LOOP;
END $$;
SET client_min_messages = warning;
CALL search_all('goods_plain');
RESET client_min_messages;

CREATE FOREIGN TABLE goods_f (id text, vector real[],
                              label int OPTIONS (filterable 'true'),
                              tag int OPTIONS (filterable 'true'),
                              kind text OPTIONS (filterable 'true'),
                              at timestamptz OPTIONS (filterable 'true'),
                              sale boolean OPTIONS (filterable 'true'),
                              price numeric)
  SERVER ddb OPTIONS (collection 'goods');
SELECT step, items FROM whiplash_reindex('goods_f') WHERE step = 'indexed';
SELECT carried() AS records_carry;
SELECT count(*) AS problems FROM whiplash_check('goods_f');
ANALYZE goods_f;
CALL search_all('goods_f');
CREATE FUNCTION filtered_recall(tbl text, pred text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
  hits bigint;
  wanted bigint;
BEGIN
  EXECUTE format('WITH truth AS (SELECT q.row AS query, t.id FROM goods q, LATERAL
                    (SELECT g.id FROM goods g WHERE g.row >= 100 AND %s
                      ORDER BY whiplash_distance(q.v, g.v, ''cosine''), g.id LIMIT 10) t
                   WHERE q.row < 20)
                  SELECT (SELECT count(*) FROM truth JOIN searched s
                            ON s.query = truth.query AND s.id = truth.id
                           AND s.tbl = %L AND s.predicate = %L),
                         (SELECT count(*) FROM truth)', pred, tbl, pred) INTO hits, wanted;
  RETURN round(hits::numeric / wanted, 3);
END $$;
-- With the records' attributes, a filtered search fetches only vectors
-- that pass what the records answer (all but price), costs no more than
-- without where the records answer some of it (longer records cost a
-- filter they cannot answer a little more), and keeps recall@10 of at
-- least 0.85; the figures themselves
-- follow.  (Records 45 bytes longer cost an unfiltered search a little.)
-- EXPLAIN VERBOSE's estimate is within 2x of the read units measured, and
-- its Records Filter names the attributes the records test.  Where the
-- records answer the whole filter (all but price), the search says the
-- recall its calibration under filters expects, and reaches it within
-- 0.1 (20 queries); where they answer part of it, none; a Scan, 1.
SELECT p.predicate,
       filtered_recall('goods_f', p.predicate) >= 0.85 AS recall_at_least_0_85,
       cf.fetched = cf.matched AS every_fetched_passes,
       CASE WHEN cf.records_filter IS NOT NULL THEN cf.units <= cp.units END AS no_dearer,
       cf.units BETWEEN cf.estimated / 2 AND cf.estimated * 2 AS estimate_within_2x,
       CASE WHEN p.predicate LIKE '%price%' AND cf.records_filter IS NOT NULL
            THEN cf.expected IS NULL ELSE cf.expected IS NOT NULL END AS recall_known,
       filtered_recall('goods_f', p.predicate) >= cf.expected - 0.1 AS expected_reached
  FROM predicates p
  JOIN costs cf ON cf.predicate = p.predicate AND cf.tbl = 'goods_f'
  JOIN costs cp ON cp.predicate = p.predicate AND cp.tbl = 'goods_plain'
 ORDER BY p.predicate;
SELECT p.predicate, filtered_recall('goods_plain', p.predicate) AS recall_before,
       filtered_recall('goods_f', p.predicate) AS recall, round(cf.expected, 3) AS expected,
       round(cf.estimated, 1) AS estimated, cf.records_filter,
       cp.fetched - cp.matched AS failed_before, cf.fetched - cf.matched AS failed
  FROM predicates p
  JOIN costs cf ON cf.predicate = p.predicate AND cf.tbl = 'goods_f'
  JOIN costs cp ON cp.predicate = p.predicate AND cp.tbl = 'goods_plain'
 ORDER BY p.predicate;

-- EXPLAIN ANALYZE counts the records the WHERE dropped: of the 1,697
-- read, all but the 17 tagged 7.
CREATE PROCEDURE show_explain(options text, predicate text, shown text) LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE format('EXPLAIN (%s, COSTS OFF) SELECT id FROM goods_f WHERE %s ORDER BY vector <=> %L LIMIT 10',
                             options, predicate, (SELECT v FROM goods WHERE row = 0)) LOOP
    IF line ~ shown THEN
      RAISE NOTICE '%', trim(line);
    END IF;
  END LOOP;
END $$;
CALL show_explain('ANALYZE, TIMING OFF, SUMMARY OFF', 'tag = 7', 'Records Dropped|Candidates Re-ranked');

-- whiplash_search's filter is tested on the records too.
SELECT count(*) AS found
  FROM whiplash_search('goods_f', (SELECT v FROM goods WHERE row = 0), 10,
                       filter => '{"tag": {"$in": [7, 8]}, "sale": false}') s
  JOIN goods g ON g.id = s.id AND g.tag IN (7, 8) AND NOT g.sale;
SELECT vectors_read = matched AS every_fetched_passes FROM whiplash_last_search();

-- The index keeps statistics of its attributes, taken as it was built.
-- A filter that no vector can pass (a tag or kind never written) reads
-- nothing but the collection's metadata: one request, one round trip,
-- and EXPLAIN says so.  A filter the statistics cannot settle searches.
CREATE TABLE empty_searches (how text, found bigint, requests bigint, round_trips bigint,
                             plan text);
CREATE PROCEDURE search_none(how text, predicate text) LANGUAGE plpgsql AS $$
DECLARE
  found bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (SELECT id FROM goods_f WHERE %s ORDER BY vector <=> %L LIMIT 10) t',
                 predicate, (SELECT v FROM goods WHERE row = 0)) INTO found;
  INSERT INTO empty_searches SELECT how, found, requests, round_trips, plan FROM whiplash_last_search();
END $$;
CALL search_none('tag = 1000', 'tag = 1000');
CALL search_none('kind = k99 AND label = 3', 'kind = ''k99'' AND label = 3');
CALL search_none('tag IN (1000, 2000) OR sale IS NULL', 'tag IN (1000, 2000) OR sale IS NULL');
CALL search_none('kind = k99 OR tag = 7', 'kind = ''k99'' OR tag = 7');
CALL search_none('NOT (tag = 1000)', 'NOT (tag = 1000)');
SELECT count(*) AS found FROM whiplash_search('goods_f', (SELECT v FROM goods WHERE row = 0), 10,
                                              filter => '{"kind": "k99"}');
INSERT INTO empty_searches SELECT 'filter kind k99', results, requests, round_trips, plan
  FROM whiplash_last_search();
SELECT how, found, requests = 1 AS only_metadata, round_trips, plan FROM empty_searches
 WHERE requests = 1 OR how LIKE '%OR tag%' OR how LIKE 'NOT%' ORDER BY how;
CALL show_explain('VERBOSE', 'tag = 1000', 'DynamoDB:|Search:');
CALL show_explain('ANALYZE, TIMING OFF, SUMMARY OFF', 'tag = 1000', 'Requests|Records Filter Result');

-- A row written with a value the statistics do not list is found at
-- once: its writer reports the value, and searches for it search again.
INSERT INTO goods_f (id, vector, label, tag, kind, at, sale)
  SELECT 'a0a0a0a0-0000-4000-8000-000000000001', v, label, 1000, 'k1', at, sale
    FROM goods WHERE row = 5;
SELECT id FROM goods_f WHERE tag = 1000 ORDER BY vector <=> (SELECT v FROM goods WHERE row = 5) LIMIT 10;
SELECT requests > 1 AS searched FROM whiplash_last_search();
-- The value is listed in the metadata's unseen_values: a value no one
-- wrote still reads nothing.  More new values than it takes at once are
-- counted in unseen_overflow instead, and then no filter is proved empty
-- until the next build, whose statistics list them all (and which takes
-- them out of unseen_values).
CREATE FUNCTION unseen() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE tool_out;
  EXECUTE format('COPY tool_out FROM PROGRAM %L', current_setting('test.meta_cmd'));
  RETURN (SELECT format('%s listed, %s too many', coalesce(jsonb_array_length(line::jsonb #> '{unseen_values,SS}'), 0),
                        coalesce(line::jsonb #>> '{unseen_overflow,N}', '0'))
            FROM tool_out);
END $$;
SELECT unseen() AS after_one_new_tag;
CALL search_none('tag = 2000 after a new value', 'tag = 2000');
INSERT INTO goods_f (id, vector, label, tag, kind, at, sale)
  SELECT md5('new' || row)::uuid::text, v, label, 1001 + row, 'k1', at, sale
    FROM goods WHERE row < 40;
SELECT unseen() AS after_40_new_tags;
SET client_min_messages = warning;	-- (it reads more than it planned, and says so)
CALL search_none('tag = 2000 after 40 new values', 'tag = 2000');
RESET client_min_messages;
SELECT step FROM whiplash_reindex('goods_f') WHERE step = 'indexed';
SELECT unseen() AS after_reindex;
CALL search_none('tag = 2000 after reindex', 'tag = 2000');
CALL search_none('tag = 1000 after reindex', 'tag = 1000');
CALL search_none('tag = 1039 after reindex', 'tag = 1039');
SELECT how, found, requests = 1 AS only_metadata FROM empty_searches
 WHERE how LIKE '%after%' ORDER BY how;
DELETE FROM goods_f WHERE id = 'a0a0a0a0-0000-4000-8000-000000000001'
   OR id IN (SELECT md5('new' || row)::uuid::text FROM goods WHERE row < 40);

-- An UPDATE rewrites the record's attributes: the row is found by its new
-- tag, not by its old one, and the check finds the records right.
UPDATE goods_f SET tag = 99 WHERE id = (SELECT id FROM goods WHERE row = 107);
SELECT id = (SELECT id FROM goods WHERE row = 107) AS moved
  FROM goods_f WHERE tag = 99 ORDER BY vector <=> (SELECT v FROM goods WHERE row = 107) LIMIT 1;
SELECT count(*) AS found_by_old_tag
  FROM (SELECT id FROM goods_f WHERE tag = 7 ORDER BY vector <=> (SELECT v FROM goods WHERE row = 107) LIMIT 20) t
 WHERE id = (SELECT id FROM goods WHERE row = 107);
SELECT count(*) AS problems FROM whiplash_check('goods_f');

-- An attribute another tool changed leaves the record saying otherwise:
-- the check reports it, the repair rewrites the record.
SELECT vectors_table AS goods_table FROM whiplash_collections('ddb')
 WHERE collection = 'goods' \gset
SELECT id AS changed_id FROM goods WHERE row = 108 \gset
\set put_cmd :tool ' put-attribute ' :goods_table ' ' :changed_id ' tag ''{"N": "55"}'''
COPY tool_out FROM PROGRAM :'put_cmd';
SELECT problem, count(*) FROM whiplash_check('goods_f') GROUP BY problem;
SELECT * FROM whiplash_repair('goods_f');
SELECT count(*) AS problems FROM whiplash_check('goods_f');
SELECT count(*) AS found_by_new_tag
  FROM (SELECT id FROM goods_f WHERE tag = 55 ORDER BY vector <=> (SELECT v FROM goods WHERE row = 108) LIMIT 20) t
 WHERE id = :'changed_id';

SELECT whiplash_drop_collection('ddb', 'goods');
DROP FOREIGN TABLE goods_plain, goods_f;
DROP TABLE goods, proxy_now, tool_out, searched, costs, predicates, empty_searches;
DROP FUNCTION proxy_units, carried, filtered_recall, unseen;
DROP PROCEDURE search_where, search_all, search_none, show_explain;

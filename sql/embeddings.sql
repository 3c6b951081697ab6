-- Embeddings shaped like the ones users store: 3,000 points of 384
-- dimensions around 40 noisy clusters (test/tools/noisy_clusters.py, fixed
-- seed), cosine, and 100 fresh points of the same clusters as queries.  No
-- few principal components hold their variance, and near neighbours are
-- hardly nearer than the rest: the data on which an index that kept 128
-- components and re-ranked a fixed 40 reached a recall of about 0.5.  At
-- the defaults a collection must reach 0.95 against exact brute force, and
-- say beforehand what it will reach.
\getenv tools WHIPLASH_TOOLS
\set rows_cmd '/usr/bin/python3 ' :tools '/noisy_clusters.py rows 3000 100'
\set share_cmd '/usr/bin/python3 ' :tools '/noisy_clusters.py share 3000'
CREATE TABLE emb (part text, id text, v real[]);
COPY emb FROM PROGRAM :'rows_cmd';
CREATE TABLE share (value numeric);
COPY share FROM PROGRAM :'share_cmd';
SELECT part, count(*), min(cardinality(v)) AS dims FROM emb GROUP BY part ORDER BY part;
SELECT value <= 0.70 AS top_128_components_hold_at_most_70_percent FROM share;
-- The exact 10 nearest base points of each query.
CREATE TABLE truth AS
  SELECT q.id AS query, t.id
    FROM emb q,
         LATERAL (SELECT b.id FROM emb b WHERE b.part = 'base'
                  ORDER BY whiplash_distance(q.v, b.v, 'cosine'), b.id LIMIT 10) t
   WHERE q.part = 'query';

-- Loaded in one statement, at the defaults: its COMMIT starts a background
-- worker that trains the index and calibrates it; the test waits for it.
SELECT collection, format
  FROM whiplash_create_collection('ddb', 'emb', 384, format => 'packed', seed => 1);
CREATE FOREIGN TABLE emb_ft (id text, vector real[]) SERVER ddb OPTIONS (collection 'emb');
SET client_min_messages = warning;
INSERT INTO emb_ft SELECT id, v FROM emb WHERE part = 'base' ORDER BY id;
RESET client_min_messages;
SELECT whiplash_wait_for_index('emb_ft') AS index_ready;

-- Every query searched at the defaults, with the recall the plan expects.
CREATE TABLE found (query text, id text);
CREATE TABLE expected (query text, estimate float8, plan text);
DO $$
DECLARE
  q record;
BEGIN
  FOR q IN SELECT id, v FROM emb WHERE part = 'query' ORDER BY id LOOP
    INSERT INTO found SELECT q.id, s.id FROM whiplash_search('emb_ft', q.v, 10) s;
    INSERT INTO expected SELECT q.id, estimated_recall, plan FROM whiplash_last_search();
  END LOOP;
END $$;
CREATE TABLE measured AS
  SELECT (SELECT count(*) FROM truth JOIN found USING (query, id))::float8 /
         (SELECT count(*) FROM truth) AS recall,
         (SELECT avg(estimate) FROM expected) AS estimate,
         (SELECT string_agg(DISTINCT plan, ',') FROM expected) AS plans;
SELECT recall >= 0.95 AS recall_at_least_0_95,
       abs(recall - estimate) <= 0.05 AS estimate_within_0_05,
       plans
  FROM measured;
-- EXPLAIN says what it expects, before anything is read.
-- (its numbers shown as N: they are asserted above, not shown)
CREATE FUNCTION explain_line(prefix text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXPLAIN (VERBOSE, COSTS OFF)
      SELECT id FROM emb_ft ORDER BY vector <=> (SELECT v FROM emb WHERE id = 'v03000') LIMIT 10
  LOOP
    IF trim(line) LIKE prefix || '%' THEN
      RETURN NEXT regexp_replace(trim(line), '[0-9]+(\.[0-9]+)?', 'N', 'g');
    END IF;
  END LOOP;
END $$;
SELECT * FROM explain_line('Estimated Recall');

-- whiplash_recall on the same queries: the recall computed here, and the
-- plan's estimate.
CREATE TABLE measured_by_function AS
  SELECT * FROM whiplash_recall('emb_ft', (SELECT array_agg(v ORDER BY id) FROM emb
                                            WHERE part = 'query'));
SELECT f.searched, f.k_nearest,
       abs(f.recall - m.recall) < 1e-9 AS recall_as_computed_here,
       abs(f.estimated_recall - m.estimate) < 1e-9 AS estimate_as_the_plans,
       f.round_trips <= 2 AS at_most_2_round_trips
  FROM measured_by_function f, measured m;
-- On a sample of the collection's own vectors, each searched for its 10
-- nearest others.
SELECT searched, k_nearest, recall >= 0.9 AS recall_at_least_0_9,
       abs(recall - estimated_recall) <= 0.05 AS estimate_within_0_05
  FROM whiplash_recall('emb_ft', 50);

-- A new session's first search reads no model: the server keeps on disk
-- the model items its backends read (whiplash.model_cache), so that search
-- costs about what a warm one does; read units as the signature-checking
-- proxy prices them.  With the cache off, a new session reads this
-- 384-dimension model from DynamoDB again, and its first search costs
-- several times a warm one.
\getenv sigcheck_stats WHIPLASH_SIGCHECK_STATS
\set stats_cmd 'curl -s ' :sigcheck_stats
CREATE TABLE priced (at text, stats jsonb);
CREATE FUNCTION note_priced(label text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY priced (stats) FROM PROGRAM %L', current_setting('test.stats_cmd'));
  UPDATE priced SET at = label WHERE at IS NULL;
END $$;
CREATE FUNCTION units_between(a text, b text) RETURNS numeric LANGUAGE sql AS $$
  SELECT ((SELECT stats FROM priced WHERE at = b)->>'read_units')::numeric -
         ((SELECT stats FROM priced WHERE at = a)->>'read_units')::numeric
$$;
\c
SELECT set_config('test.stats_cmd', :'stats_cmd', false) IS NOT NULL AS noted;
SELECT note_priced('kept 0');
SELECT count(*) AS found FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
SELECT note_priced('kept 1');
SELECT count(*) AS found FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03001'), 10);
SELECT note_priced('kept 2');
\c
SET whiplash.model_cache = off;
SELECT set_config('test.stats_cmd', :'stats_cmd', false) IS NOT NULL AS noted;
SELECT note_priced('read 0');
SELECT count(*) AS found FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
SELECT note_priced('read 1');
SELECT count(*) AS found FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03001'), 10);
SELECT note_priced('read 2');
SELECT units_between('kept 0', 'kept 1') <= 2 * units_between('kept 1', 'kept 2')
         AS first_search_at_most_twice_a_warm_one,
       units_between('read 0', 'read 1') > 2 * units_between('read 1', 'read 2')
         AS without_the_kept_model_more_than_twice;
RESET whiplash.model_cache;

-- A target that cannot be reached within the read units allowed is said,
-- once a transaction.
SET whiplash.max_search_units = 5;
BEGIN;
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03001'), 10);
COMMIT;
SELECT * FROM explain_line('Estimated Recall');
SELECT f.recall < 0.95 AS below_the_target, f.estimated_recall < 0.95 AS as_estimated,
       f.read_units < d.read_units AS fewer_units_than_the_default
  FROM whiplash_recall('emb_ft', (SELECT array_agg(v ORDER BY id) FROM emb WHERE part = 'query')) f,
       measured_by_function d;
RESET whiplash.max_search_units;

-- A calibration that another tool cut short is malformed metadata: every
-- statement says so, and mending it restores the collection.
\getenv direct WHIPLASH_DIRECT_ENDPOINT
\set tool '/usr/bin/python3 ' :tools '/v1tool.py ' :direct
\set item_cmd :tool ' item whiplash_metadata whiplash_dev_emb'
CREATE TABLE tool_out (line text);
COPY tool_out FROM PROGRAM :'item_cmd';
SELECT (line::jsonb -> 'index')::text AS good_index,
       jsonb_set(line::jsonb -> 'index', '{M,calibration,S}', '"q=100 k=10 p=1,2 r=10 recall=5"')::text
         AS bad_index
  FROM tool_out \gset
\set tamper_cmd :tool ' put-attribute whiplash_metadata whiplash_dev_emb index ''' :bad_index ''''
\set mend_cmd :tool ' put-attribute whiplash_metadata whiplash_dev_emb index ''' :good_index ''''
COPY tool_out FROM PROGRAM :'tamper_cmd';
SET whiplash.collection_cache_ttl = 0;
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
COPY tool_out FROM PROGRAM :'mend_cmd';
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
-- So is a form of record names this version does not know: refused, never
-- read as another.
SELECT jsonb_set(:'good_index'::jsonb, '{M,names}', '{"S": "base32"}')::text AS odd_names_index
\gset
\set names_cmd :tool ' put-attribute whiplash_metadata whiplash_dev_emb index ''' :odd_names_index ''''
COPY tool_out FROM PROGRAM :'names_cmd';
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
COPY tool_out FROM PROGRAM :'mend_cmd';
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);

-- Spreads.  The index has a grid of them (a cosine index ranks cells by
-- distance), and a cut-short one is malformed like the rest.
SELECT :'good_index'::jsonb -> 'M' ? 'spreads' AS has_spreads,
       (:'good_index'::jsonb -> 'M' -> 'cells' ->> 'N')::int AS cells,
       jsonb_set(:'good_index'::jsonb, '{M,spreads,S}', '"s=10 c=100 m=9 recall=5"')::text
         AS bad_spreads_index,
       (:'good_index'::jsonb #- '{M,spreads}')::text AS unspread_index \gset
SELECT :'has_spreads' AS has_spreads;
\set put_cmd :tool ' put-attribute whiplash_metadata whiplash_dev_emb index '
\set bad_spreads_cmd :put_cmd '''' :bad_spreads_index ''''
\set unspread_cmd :put_cmd '''' :unspread_index ''''
COPY tool_out FROM PROGRAM :'bad_spreads_cmd';
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
-- An index built before spreads reads a fixed number of cells.
COPY tool_out FROM PROGRAM :'unspread_cmd';
SELECT * FROM explain_line('Search:');
-- A spread reads the cells within it of the nearest: with every spread's
-- recall made perfect, a search takes the one spread there is, and reads
-- one cell at a spread of 0.01% and every cell (at most 48) at 100 times.
-- A grid that reads more cells than the fixed one measured is refused.
SELECT jsonb_set(:'good_index'::jsonb, '{M,spreads,S}',
                 to_jsonb('s=1 c=100 m=' || least(48, :cells) || ' recall=' || perfect))::text
         AS one_index,
       jsonb_set(:'good_index'::jsonb, '{M,spreads,S}',
                 to_jsonb('s=1000000 c=100 m=' || least(48, :cells) || ' recall=' || perfect))::text
         AS all_index,
       jsonb_set(:'good_index'::jsonb, '{M,spreads,S}',
                 to_jsonb('s=1 c=100 m=' || (least(48, :cells) + 1) || ' recall=' || perfect))::text
         AS wide_index
  FROM (SELECT rtrim(repeat('1000,', cardinality(string_to_array(
                 substring(:'good_index'::jsonb -> 'M' -> 'calibration' ->> 'S'
                           FROM ' r=([0-9,]+)'), ','))), ',') AS perfect) p \gset
\set one_cmd :put_cmd '''' :one_index ''''
\set all_cmd :put_cmd '''' :all_index ''''
\set wide_cmd :put_cmd '''' :wide_index ''''
COPY tool_out FROM PROGRAM :'wide_cmd';
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
COPY tool_out FROM PROGRAM :'one_cmd';
SELECT * FROM explain_line('Search:');
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
SELECT probes AS cells_read, plan FROM whiplash_last_search();
COPY tool_out FROM PROGRAM :'all_cmd';
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
-- (in fewer Queries: one for each run of consecutive cells of a block)
SELECT probes = least(48, :cells) AS every_cell_read, buckets < probes AS in_fewer_queries
  FROM whiplash_last_search();
COPY tool_out FROM PROGRAM :'mend_cmd';
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
-- Spreads on an index ranked by inner product, which no spread can choose
-- cells of, are refused too.
\set ip_cmd :tool ' put-attribute whiplash_metadata whiplash_dev_emb metric ''{"S": "inner_product"}'''
\set cosine_cmd :tool ' put-attribute whiplash_metadata whiplash_dev_emb metric ''{"S": "cosine"}'''
COPY tool_out FROM PROGRAM :'ip_cmd';
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
COPY tool_out FROM PROGRAM :'cosine_cmd';
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
RESET whiplash.collection_cache_ttl;

-- Cells in groups.  An index of more cells than one k-means trains has them
-- in groups (whiplash.max_ungrouped_cells, lowered here so that 3,000
-- vectors need them): a vector's cell is the nearest of its three nearest
-- groups' cells, and a search ranks only the cells of the groups nearest
-- it, so that cells can grow with a collection.  At the defaults its recall meets
-- the target, as estimated; its check is clean; a vector written now is
-- found; and a session that reads the model ("WLM3") from DynamoDB, the
-- cache off, searches alike.
SET client_min_messages = warning;
SET whiplash.max_ungrouped_cells = 16;
SELECT step FROM whiplash_reindex('emb_ft');
RESET whiplash.max_ungrouped_cells;
RESET client_min_messages;
SELECT * FROM explain_line('Search:');
SELECT recall >= 0.95 AS recall_at_least_0_95,
       abs(recall - estimated_recall) <= 0.05 AS estimate_within_0_05
  FROM whiplash_recall('emb_ft', (SELECT array_agg(v ORDER BY id) FROM emb WHERE part = 'query'));
SELECT count(*) AS problems FROM whiplash_check('emb_ft');
INSERT INTO emb_ft SELECT 'written', v FROM emb WHERE id = 'v03007';
SELECT id FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03007'), 1);
SELECT count(*) AS problems FROM whiplash_check('emb_ft');
\c
SET whiplash.model_cache = off;
SELECT array_agg(id ORDER BY distance, id) AS found_fresh
  FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03001'), 10) \gset
\c
SELECT array_agg(id ORDER BY distance, id) = :'found_fresh' AS same_with_the_kept_model
  FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03001'), 10);
-- Groups that another tool made more than the cells are malformed metadata.
TRUNCATE tool_out;
COPY tool_out FROM PROGRAM :'item_cmd';
SELECT (line::jsonb -> 'index' -> 'M' -> 'groups' ->> 'N')::int > 1 AS grouped,
       jsonb_set(line::jsonb -> 'index', '{M,groups,N}', '"4096"')::text AS many_groups_index,
       (line::jsonb -> 'index')::text AS grouped_index
  FROM tool_out \gset
SELECT :'grouped' AS grouped;
SET whiplash.collection_cache_ttl = 0;
\set many_cmd :put_cmd '''' :many_groups_index ''''
\set grouped_cmd :put_cmd '''' :grouped_index ''''
COPY tool_out FROM PROGRAM :'many_cmd';
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
COPY tool_out FROM PROGRAM :'grouped_cmd';
SELECT count(*) FROM whiplash_search('emb_ft', (SELECT v FROM emb WHERE id = 'v03000'), 10);
RESET whiplash.collection_cache_ttl;

-- Bad arguments.
SELECT * FROM whiplash_recall('emb_ft', 0);
SELECT * FROM whiplash_recall(NULL::regclass);
SELECT * FROM whiplash_recall('emb_ft', NULL::integer);
SELECT * FROM whiplash_recall('emb_ft', NULL::real[]);
SELECT * FROM whiplash_recall('emb_ft', 10, k => 0);
SELECT * FROM whiplash_recall('emb_ft', '{1,2,3}'::real[]);
SELECT * FROM whiplash_recall('emb_ft', '{{1,2},{3,4}}'::real[]);
SELECT * FROM whiplash_recall('emb_ft', (SELECT array_agg(v) FROM (SELECT array_fill('NaN'::real, '{384}') AS v) n));
SELECT collection FROM whiplash_create_collection('ddb', 'empty_emb', 4);
CREATE FOREIGN TABLE empty_emb (id text, vector real[]) SERVER ddb OPTIONS (collection 'empty_emb');
SELECT * FROM whiplash_recall('empty_emb');

SELECT whiplash_drop_collection('ddb', 'emb'), whiplash_drop_collection('ddb', 'empty_emb');
DROP FUNCTION explain_line, note_priced, units_between;
DROP FOREIGN TABLE emb_ft, empty_emb;
DROP TABLE emb, share, truth, found, expected, measured, measured_by_function, tool_out, priced;

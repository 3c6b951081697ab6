-- SQL surface: pgvector-style distance operators on real[], and IMPORT
-- FOREIGN SCHEMA.  Uses the server "ddb" of setup.sql.

-- Operators with pgvector's spellings and meanings.
SELECT '{1,2,2}'::real[] <-> '{2,0,0}'::real[] AS l2,
       round(('{1,2,2}'::real[] <=> '{2,0,0}'::real[])::numeric, 6) AS cosine,
       '{1,2,2}'::real[] <#> '{2,0,0}'::real[] AS negative_inner_product;
SELECT '{3,4}'::real[] <-> '{0,0}'::real[] = '{0,0}'::real[] <-> '{3,4}'::real[] AS symmetric;
SELECT whiplash_distance('{1,0}', '{0,1}') AS cosine_by_default;
SELECT '{1,2}'::real[] <-> '{1,2,3}'::real[];
SELECT '{1,NaN}'::real[] <=> '{1,2}'::real[];
SELECT whiplash_distance('{1}', '{2}', 'hamming');
SELECT id FROM (VALUES ('a', '{0,0}'::real[]), ('b', '{5,5}'), ('c', '{1,1}')) t(id, v)
 ORDER BY v <-> '{1,1.5}' LIMIT 2;

-- ORDER BY vector <op> q LIMIT k, with the collection's operator, runs as
-- one search: no Sort.  A native collection of no more vectors than a
-- search's candidate budget (at least 100) is read whole by one Scan.
SELECT collection FROM whiplash_create_collection('ddb', 'ordered', 3, metric => 'l2',
                                                  tables => 1, bits => 2, seed => 5);
CREATE FOREIGN TABLE ordered (id text, vector real[]) SERVER ddb OPTIONS (collection 'ordered');
INSERT INTO ordered SELECT 'v' || i, ARRAY[i, i % 7, i % 3]::real[] FROM generate_series(1, 50) i;
EXPLAIN (COSTS OFF) SELECT id FROM ordered ORDER BY vector <-> '{10,3,1}' LIMIT 3;
-- A budget below its 50 vectors makes it an LSH search.  (One hash table
-- of 2 bits: every bucket is probed, and 49 of the 50 vectors read.)
SET whiplash.max_candidates = 49;
EXPLAIN (COSTS OFF) SELECT id FROM ordered ORDER BY vector <-> '{10,3,1}' LIMIT 3;
SELECT id, vector <-> '{10,3,1}' AS distance FROM ordered ORDER BY vector <-> '{10,3,1}' LIMIT 3;
SELECT id, vector <-> '{10,3,1}' AS distance FROM ordered
 ORDER BY (vector <-> '{10,3,1}') + 0, id LIMIT 3;
SELECT requests > 0 AS searched, round_trips FROM whiplash_last_search();
-- EXPLAIN VERBOSE names the collection; EXPLAIN ANALYZE counts the
-- DynamoDB work: 4 bucket Queries and 1 BatchGetItem in 2 round trips,
-- and in the first round the GetItem that confirms the cached collection.
SELECT explain_masked($$(VERBOSE, COSTS OFF)
  SELECT id FROM ordered ORDER BY vector <-> '{10,3,1}' LIMIT 3$$);
-- Past bucket_capacity entries a key, searches read finer keys (50 vectors
-- in 4 buckets: 2 fine bits bring a key to 3.1), and EXPLAIN says so.
SET whiplash.bucket_capacity = 4;
SELECT explain_masked($$(VERBOSE, COSTS OFF)
  SELECT id FROM ordered ORDER BY vector <-> '{10,3,1}' LIMIT 3$$);
RESET whiplash.bucket_capacity;
SELECT explain_masked($$(ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT id FROM ordered ORDER BY vector <-> '{10,3,1}' LIMIT 3$$);
SELECT explain_masked($$(ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT id FROM ordered WHERE id = 'v7'$$);
SELECT explain_masked($$(VERBOSE, COSTS OFF) SELECT id FROM ordered WHERE id IN ('v7', 'v8')$$);
SELECT explain_masked($$(VERBOSE, COSTS OFF) SELECT id FROM ordered$$);
-- With parameters, in a prepared statement and per row with LATERAL.
PREPARE nearest(real[], int) AS SELECT id FROM ordered ORDER BY vector <-> $1 LIMIT $2;
EXPLAIN (COSTS OFF) EXECUTE nearest('{40,5,1}', 2);
EXECUTE nearest('{40,5,1}', 2);
DEALLOCATE nearest;
-- A cached plan checks when it runs that its operator is still the
-- collection's metric: after the collection is created again under
-- cosine, a generic plan of ORDER BY vector <-> $1 reads every vector and
-- ranks them by l2, as it was asked (b and c; cosine would give b and a).
-- A NULL query orders nothing and gives k rows under every plan mode, as a
-- local table does.
SELECT collection FROM whiplash_create_collection('ddb', 'remade', 2, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE remade (id text, vector real[]) SERVER ddb OPTIONS (collection 'remade');
INSERT INTO remade VALUES ('a', '{1,0}'), ('b', '{10,1}'), ('c', '{3,3}'), ('d', '{0,5}');
SET plan_cache_mode = force_generic_plan;
PREPARE near(real[]) AS SELECT id FROM remade ORDER BY vector <-> $1 LIMIT 2;
EXPLAIN (COSTS OFF) EXECUTE near('{9,1}');
EXECUTE near('{9,1}');
SELECT whiplash_drop_collection('ddb', 'remade');
SELECT collection FROM whiplash_create_collection('ddb', 'remade', 2, metric => 'cosine', seed => 1);
INSERT INTO remade VALUES ('a', '{1,0}'), ('b', '{10,1}'), ('c', '{3,3}'), ('d', '{0,5}');
EXECUTE near('{9,1}');
SELECT plan FROM whiplash_last_search();
EXECUTE near(NULL);
RESET plan_cache_mode;
SELECT count(*) AS custom_plan_rows FROM (SELECT id FROM remade ORDER BY vector <-> NULL LIMIT 2) s;
DEALLOCATE near;
SELECT whiplash_drop_collection('ddb', 'remade');
DROP FOREIGN TABLE remade;
EXPLAIN (COSTS OFF)
SELECT q.n, s.id FROM (VALUES (1, '{5,5,2}'::real[]), (2, '{49,0,1}'::real[])) q(n, v),
       LATERAL (SELECT id FROM ordered ORDER BY vector <-> q.v LIMIT 2) s;
SELECT q.n, s.id FROM (VALUES (1, '{5,5,2}'::real[]), (2, '{49,0,1}'::real[])) q(n, v),
       LATERAL (SELECT id FROM ordered ORDER BY vector <-> q.v LIMIT 2) s ORDER BY 1, 2;
-- What the search cannot answer is sorted locally, with exact results:
-- another metric, or no LIMIT.  A WHERE clause is checked on each candidate
-- during the search (more in attributes.sql).
EXPLAIN (COSTS OFF) SELECT id FROM ordered ORDER BY vector <=> '{10,3,1}' LIMIT 3;
SELECT id FROM ordered ORDER BY vector <=> '{10,3,1}', id LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id FROM ordered ORDER BY vector <-> '{10,3,1}';
EXPLAIN (COSTS OFF) SELECT id FROM ordered WHERE id <> 'v10' ORDER BY vector <-> '{10,3,1}' LIMIT 3;
SELECT id FROM ordered WHERE id <> 'v10' ORDER BY vector <-> '{10,3,1}', id LIMIT 3;
RESET whiplash.max_candidates;
SELECT whiplash_drop_collection('ddb', 'ordered');
DROP FOREIGN TABLE ordered;
-- A native collection smaller than k returns every row it holds (a 3-row
-- collection once returned 1 of them: LSH found one bucket's).
SELECT collection FROM whiplash_create_collection('ddb', 'three', 2, metric => 'cosine',
                                                  tables => 4, bits => 8, seed => 6);
CREATE FOREIGN TABLE three (id text, vector real[]) SERVER ddb OPTIONS (collection 'three');
INSERT INTO three VALUES ('east', '{1,0}'), ('north', '{0,1}'), ('west', '{-1,0.1}');
SELECT id FROM three ORDER BY vector <=> '{1,0.2}' LIMIT 5;
SELECT id FROM whiplash_search('three', '{1,0.2}', 5) ORDER BY distance;
SELECT plan, results FROM whiplash_last_search();
-- A zero query has no cosine distance to anything: an error, not 0 rows.
SELECT id FROM three ORDER BY vector <=> '{0,0}' LIMIT 5;
SELECT whiplash_drop_collection('ddb', 'three');
DROP FOREIGN TABLE three;

-- IMPORT FOREIGN SCHEMA: one foreign table per collection of the server's
-- project and stage.
SELECT collection FROM whiplash_create_collection('ddb', 'first', 2, metric => 'l2');
SELECT collection FROM whiplash_create_collection('ddb', 'second-one', 3);
-- A collection whose name cannot name a table (64 bytes; PostgreSQL's
-- names have 63) is skipped with a WARNING; the others are imported.
SELECT length(collection) FROM whiplash_create_collection('ddb', repeat('l', 64), 2);
CREATE SCHEMA imported;
IMPORT FOREIGN SCHEMA collections FROM SERVER ddb INTO imported;
SELECT c.relname, ft.ftoptions,
       (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
          FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0) AS columns
  FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
 WHERE c.relnamespace = 'imported'::regnamespace ORDER BY 1;
INSERT INTO imported."second-one" VALUES ('x', '{1,2,3}');
SELECT * FROM imported."second-one";
SELECT id FROM whiplash_search('imported."second-one"', '{1,2,3}', 1);
-- A collection's own name is not its table's: the error says which table
-- maps it, or how to map one.
SELECT id FROM whiplash_search('second-one', '{1,2,3}', 1);
SELECT id FROM whiplash_search('unmapped', '{1,2,3}', 1);
SELECT id FROM whiplash_search('imported."second-one"'::regclass, '{1,2,3}', 1);

CREATE SCHEMA only_first;
IMPORT FOREIGN SCHEMA collections LIMIT TO (first) FROM SERVER ddb INTO only_first;
SELECT relname FROM pg_class WHERE relnamespace = 'only_first'::regnamespace;
CREATE SCHEMA not_first;
IMPORT FOREIGN SCHEMA collections EXCEPT (first) FROM SERVER ddb INTO not_first;
SELECT relname FROM pg_class WHERE relnamespace = 'not_first'::regnamespace;
IMPORT FOREIGN SCHEMA collections FROM SERVER ddb INTO imported;

SELECT whiplash_drop_collection('ddb', 'first');
SELECT whiplash_drop_collection('ddb', 'second-one');
SELECT whiplash_drop_collection('ddb', repeat('l', 64));
DROP SCHEMA imported, only_first, not_first CASCADE;

-- Which columns of a foreign table hold an item's id and vector, checked
-- where the table is defined.  Uses the server "ddb" of setup.sql.
SELECT collection FROM whiplash_create_collection('ddb', 'cols', 3, metric => 'l2', seed => 1);

-- Refused at CREATE FOREIGN TABLE: no collection option, no column that
-- can hold the vector, a vector column of a type without casts to and
-- from real[], two vector columns.
CREATE FOREIGN TABLE cols_bad (id text, embedding real[]) SERVER ddb;
CREATE FOREIGN TABLE cols_bad (id text, note text) SERVER ddb OPTIONS (collection 'cols');
CREATE FOREIGN TABLE cols_bad (id text, vector text) SERVER ddb OPTIONS (collection 'cols');
CREATE FOREIGN TABLE cols_bad (id text, vector real[], v real[] OPTIONS (column_name 'vector'))
  SERVER ddb OPTIONS (collection 'cols');
CREATE FOREIGN TABLE cols_bad (id text, vector real[]) SERVER ddb OPTIONS (collection 'cols');
-- ... and so is an ALTER that leaves a table so.
ALTER FOREIGN TABLE cols_bad OPTIONS (DROP collection);
ALTER FOREIGN TABLE cols_bad DROP COLUMN vector;
ALTER FOREIGN TABLE cols_bad ALTER COLUMN vector TYPE text;
DROP FOREIGN TABLE cols_bad;

-- A vector column under another name: the table's one real[] column.
CREATE FOREIGN TABLE cols (id text, embedding real[], note text) SERVER ddb OPTIONS (collection 'cols');
INSERT INTO cols VALUES ('a', '{1,0,0}', 'x'), ('b', '{0,1,0}', 'y'), ('c', '{0,0,1}', 'z'),
  ('d', '{1,1,0}', 'w');
SELECT id, embedding, note FROM cols ORDER BY id;
EXPLAIN (COSTS OFF) SELECT id FROM cols ORDER BY embedding <-> '{1,0.1,0}' LIMIT 2;
SELECT id, embedding <-> '{1,0.1,0}' AS distance FROM cols ORDER BY embedding <-> '{1,0.1,0}' LIMIT 2;
-- Two real[] columns: CREATE warns, a statement refuses, until one of them
-- is named the vector by its column_name option (as pg_dump restores it).
CREATE FOREIGN TABLE cols_two (id text, embedding real[], extra real[]) SERVER ddb
  OPTIONS (collection 'cols');
SELECT id FROM cols_two;
ALTER FOREIGN TABLE cols_two ALTER COLUMN embedding OPTIONS (ADD column_name 'vector');
SELECT id, embedding, extra FROM cols_two WHERE id = 'a';

-- A vector column of a type with casts to and from real[] (as pgvector's
-- vector has): values pass through the casts, and ORDER BY with the type's
-- own distance operator, or with the column cast to real[], is a search.
CREATE TYPE vec3 AS (x real, y real, z real);
-- (This cast gives NULL for a NaN x, to show that a write refuses it.)
CREATE FUNCTION vec3_to_real(vec3) RETURNS real[] IMMUTABLE STRICT LANGUAGE sql
  AS $$ SELECT CASE WHEN $1.x = 'NaN' THEN NULL ELSE ARRAY[$1.x, $1.y, $1.z] END $$;
CREATE FUNCTION real_to_vec3(real[]) RETURNS vec3 IMMUTABLE STRICT LANGUAGE sql
  AS $$ SELECT ROW($1[1], $1[2], $1[3])::vec3 $$;
CREATE CAST (vec3 AS real[]) WITH FUNCTION vec3_to_real(vec3);
CREATE CAST (real[] AS vec3) WITH FUNCTION real_to_vec3(real[]);
-- (PL/pgSQL, as the planner does not inline it: pgvector's are in C.)
CREATE FUNCTION vec3_l2(vec3, vec3) RETURNS real IMMUTABLE STRICT LANGUAGE plpgsql
  AS $$ BEGIN RETURN $1::real[] <-> $2::real[]; END $$;
CREATE OPERATOR <-> (LEFTARG = vec3, RIGHTARG = vec3, FUNCTION = vec3_l2);
CREATE FOREIGN TABLE cols_vec3 (id text, v vec3) SERVER ddb OPTIONS (collection 'cols');
INSERT INTO cols_vec3 VALUES ('e', ROW(0.5, 0.5, 0.5));
SELECT id, v FROM cols_vec3 ORDER BY id;
EXPLAIN (COSTS OFF) SELECT id FROM cols_vec3 ORDER BY v <-> ROW(1, 0.1, 0)::vec3 LIMIT 2;
SELECT id FROM cols_vec3 ORDER BY v <-> ROW(1, 0.1, 0)::vec3 LIMIT 2;
EXPLAIN (COSTS OFF) SELECT id FROM cols_vec3 ORDER BY v::real[] <-> '{0,0,1}' LIMIT 2;
SELECT id FROM cols_vec3 ORDER BY v::real[] <-> '{0,0,1}' LIMIT 2;
UPDATE cols_vec3 SET v = ROW(0, 0, 2) WHERE id = 'e';
SELECT id, embedding FROM cols WHERE id = 'e';
INSERT INTO cols_vec3 VALUES ('n', ROW('NaN', 0, 0));
-- A column named vector may be of any type with such casts: float8[].
CREATE FOREIGN TABLE cols_float8 (id text, vector float8[]) SERVER ddb OPTIONS (collection 'cols');
SELECT id, vector FROM cols_float8 WHERE id = 'd';
INSERT INTO cols_float8 VALUES ('f', '{0.25,0.5,0.75}');
SELECT id, embedding FROM cols WHERE id = 'f';
-- A table without an id column reads, but cannot be written.
CREATE FOREIGN TABLE cols_noid (key text, embedding real[]) SERVER ddb OPTIONS (collection 'cols');
SELECT count(*) FROM cols_noid;
INSERT INTO cols_noid VALUES ('g', '{1,2,3}');
UPDATE cols_noid SET embedding = '{1,2,3}';

-- EXPLAIN ANALYZE of a statement that calls whiplash_search shows what
-- its calls read from DynamoDB, summed, beside the plans' estimate: here
-- the same requests and round trips as whiplash_last_search() counts.
SELECT explain_masked($$(ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT id FROM whiplash_search('cols', '{1,0,0}', 2)$$);
SELECT requests, round_trips FROM whiplash_last_search();
CREATE FUNCTION explain_json(query text) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF) ' || query INTO plan;
  RETURN plan;
END $$;
SELECT plan->1->>'Calls' AS calls, (plan->1->>'DynamoDB Requests')::int AS requests,
       (plan->1->>'DynamoDB Read Capacity')::float > 0 AS read_units
  FROM explain_json($$SELECT q.n, s.id FROM (VALUES (1, '{1,0,0}'::real[]), (2, '{0,1,0}')) q(n, v),
                      LATERAL whiplash_search('cols', q.v, 1) s$$) plan;
DROP FUNCTION explain_json(text);

-- A table defined before these checks (here: with the event trigger off)
-- is refused when used, never read with NULL vectors.
ALTER EVENT TRIGGER whiplash_ddl_check DISABLE;
CREATE FOREIGN TABLE cols_old (id text, note text) SERVER ddb OPTIONS (collection 'cols');
CREATE FOREIGN TABLE cols_nocollection (id text, vector real[]) SERVER ddb;
ALTER EVENT TRIGGER whiplash_ddl_check ENABLE;
SELECT * FROM cols_old;
SELECT * FROM cols_nocollection;
SELECT * FROM whiplash_search('cols_nocollection', '{1,2,3}');

DROP FOREIGN TABLE cols, cols_two, cols_vec3, cols_float8, cols_noid, cols_old, cols_nocollection;
DROP OPERATOR <-> (vec3, vec3);
DROP FUNCTION vec3_l2(vec3, vec3);
DROP CAST (vec3 AS real[]);
DROP CAST (real[] AS vec3);
DROP FUNCTION vec3_to_real(vec3), real_to_vec3(real[]);
DROP TYPE vec3;
SELECT whiplash_drop_collection('ddb', 'cols');

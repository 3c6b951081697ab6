-- Attributes: columns beyond id and vector, stored as native DynamoDB
-- attributes of each vector item, and searches filtered on them.  Uses the
-- server "ddb" of setup.sql.  One hash table of 2 bits: every bucket is
-- probed, so searches are exact and comparable with brute force.
\getenv direct WHIPLASH_DIRECT_ENDPOINT
\getenv tools WHIPLASH_TOOLS
\set tool '/usr/bin/python3 ' :tools '/v1tool.py ' :direct

SELECT collection FROM whiplash_create_collection('ddb', 'shop', 2, metric => 'l2',
                                                  tables => 1, bits => 2, seed => 3);
SELECT vectors_table AS shop_table FROM whiplash_collections('ddb')
 WHERE collection = 'shop' \gset
CREATE FOREIGN TABLE shop (
  id text, vector real[], category text, price numeric, in_stock boolean,
  tags text[], sizes int[], details jsonb, added date, attributes jsonb
) SERVER ddb OPTIONS (collection 'shop');

INSERT INTO shop VALUES
  ('s1', '{1,1}', 'shoes', 49.99, true, '{run,trail}', '{40,41,NULL}',
   '{"color": "red", "weight": 0.31, "eco": false, "parts": [1, "sole", null]}',
   '2026-11-01', '{"brand": "Fleet", "rating": 4.5, "big": 12345678901234567890.123}'),
  ('s2', '{2,1}', 'shoes', 89, false, '{}', NULL, NULL, NULL, '{}'),
  ('h1', '{1,2}', 'hats', 15.5, true, NULL, NULL, '"plain"', '2026-01-31', NULL),
  ('q1', '{5,5}', 'it''s "quoted"', NULL, NULL, '{"a\"b", "c,d"}', NULL, NULL, NULL,
   '{"nested": {"deep": [{"x": 1}]}}');

-- Every column reads back as written; absent attributes read as NULL and
-- an item without unmapped attributes has attributes '{}'.
SELECT id, category, price, in_stock, tags, sizes, details, added, attributes
  FROM shop ORDER BY id;

-- Stored in DynamoDB's own types, as any DynamoDB tool sees them.
\set item_cmd :tool ' item ' :shop_table ' s1'
CREATE TABLE shop_tool_out (line text);
COPY shop_tool_out FROM PROGRAM :'item_cmd';
SELECT jsonb_pretty(line::jsonb) FROM shop_tool_out;
TRUNCATE shop_tool_out;

-- An attribute another tool adds shows up in attributes.
\set put_cmd :tool ' put-attribute ' :shop_table ' h1 origin ''{"S": "Lisbon"}'''
COPY shop_tool_out FROM PROGRAM :'put_cmd';
SELECT attributes FROM shop WHERE id = 'h1';

-- A table that maps fewer columns: its UPDATE keeps what it does not map.
CREATE FOREIGN TABLE shop_narrow (id text, vector real[], cost numeric OPTIONS (column_name 'price'))
  SERVER ddb OPTIONS (collection 'shop');
SELECT id, cost FROM shop_narrow ORDER BY id;
UPDATE shop_narrow SET cost = cost * 2 WHERE id IN ('h1', 's1');
SELECT id, category, price, tags, attributes FROM shop WHERE id IN ('h1', 's1') ORDER BY id;
-- Through the wide table, attributes holds every unmapped attribute, so an
-- UPDATE of it replaces them.
UPDATE shop SET attributes = attributes - 'origin' || '{"sale": true}' WHERE id = 'h1';
SELECT id, attributes, category FROM shop WHERE id = 'h1';

-- Bad attributes get clear errors.
INSERT INTO shop (id, vector, attributes) VALUES ('x', '{0,0}', '[1, 2]');
INSERT INTO shop (id, vector, attributes) VALUES ('x', '{0,0}', '{"vector": 1}');
INSERT INTO shop (id, vector, category, attributes) VALUES ('x', '{0,0}', 'a', '{"category": "b"}');
INSERT INTO shop (id, vector, price) VALUES ('x', '{0,0}', 'NaN');
CREATE FOREIGN TABLE shop_bad (id text, vector real[], price int) SERVER ddb OPTIONS (collection 'shop');
SELECT id, price FROM shop_bad WHERE id = 's1';
CREATE FOREIGN TABLE shop_bad2 (id text, vector real[], category text[]) SERVER ddb OPTIONS (collection 'shop');
SELECT id, category FROM shop_bad2 WHERE id = 's1';
CREATE FOREIGN TABLE shop_bad3 (id text, vector real[], attributes text) SERVER ddb OPTIONS (collection 'shop');
CREATE FOREIGN TABLE shop_bad4 (id text, v real[] OPTIONS (column_name 'keys'))
  SERVER ddb OPTIONS (collection 'shop');
CREATE FOREIGN TABLE shop_bad5 (id text, vector real[], a text OPTIONS (column_name 'x'),
  b text OPTIONS (column_name 'x')) SERVER ddb OPTIONS (collection 'shop');
SELECT count(*) AS still_four FROM shop;

-- Items as deep as DynamoDB stores (32 levels) are written and read back;
-- deeper ones, oversized ones, are refused before anything is sent, naming
-- the row.
INSERT INTO shop (id, vector, details)
  VALUES ('deep', '{9,9}', (repeat('{"a": ', 30) || '1' || repeat('}', 30))::jsonb);
SELECT id, details = (repeat('{"a": ', 30) || '1' || repeat('}', 30))::jsonb AS intact
  FROM shop WHERE id = 'deep';
SELECT count(*) > 0 AS scanned FROM shop WHERE details IS NOT NULL;
INSERT INTO shop (id, vector, details)
  VALUES ('deeper', '{9,9}', (repeat('{"a": ', 40) || '1' || repeat('}', 40))::jsonb);
INSERT INTO shop (id, vector, category)
  SELECT 'big' || i, '{9,9}', repeat('x', CASE WHEN i = 35 THEN 500000 ELSE 10 END)
    FROM generate_series(1, 60) i;
SELECT count(*) AS big_rows_written FROM shop WHERE id LIKE 'big%';
DELETE FROM shop WHERE id = 'deep';

-- Filtered search: whiplash_search with a jsonb filter (containment) ...
INSERT INTO shop (id, vector, category, price)
  SELECT 'g' || i, ARRAY[i % 10, i / 10]::real[], CASE WHEN i % 10 = 3 THEN 'shoes' ELSE 'gloves' END, i
    FROM generate_series(1, 100) i;
SELECT id, distance FROM whiplash_search('shop', '{1,1}', 4, filter => '{"category": "shoes"}');
SELECT id, distance FROM whiplash_search('shop', '{1,1}', 3, filter => '{"brand": "Fleet"}');
SELECT count(*) FROM whiplash_search('shop', '{1,1}', 5, filter => '{"category": "none"}');
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '[1]');
-- A filter's keys are the table's column names, as in WHERE: through
-- shop_narrow, "cost" is attribute price.
SELECT s.id, n.cost FROM whiplash_search('shop_narrow', '{1,1}', 3, filter => '{"cost": 13}') s
  JOIN shop_narrow n USING (id);
SELECT id FROM whiplash_search('shop_narrow', '{1,1}', 3, filter => '{"price": 13}');
SELECT id FROM whiplash_search('shop_narrow', '{1,1}', 3, filter => '{"category": "shoes"}');
SELECT id FROM whiplash_search('shop', '{1,1}', 3, filter => '{"id": "s1"}');

-- Operators, as S3 Vectors and MongoDB spell them: each filter finds the
-- nearest vectors that the same WHERE keeps, by brute force over the whole
-- table.  Columns compare in their own types (added is a date); keys of
-- the attributes column as JSON values; a missing attribute passes no
-- comparison, as NULL passes no WHERE.
CREATE FUNCTION filter_agrees(filter jsonb, clause text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  got float8[];
  want float8[];
  strays int;
BEGIN
  SELECT coalesce(array_agg(round(distance::numeric, 4)::float8 ORDER BY distance), '{}')
    INTO got FROM whiplash_search('shop', '{1,1}', 5, filter => filter);
  EXECUTE format('SELECT coalesce(array_agg(d ORDER BY d), ''{}'') FROM (
                    SELECT round(sqrt((vector[1] - 1)^2 + (vector[2] - 1)^2)::numeric, 4)::float8 AS d
                      FROM shop WHERE %s ORDER BY 1 LIMIT 5) t', clause) INTO want;
  EXECUTE format('SELECT count(*) FROM whiplash_search(''shop'', ''{1,1}'', 5, filter => %L) s
                   WHERE s.id NOT IN (SELECT id FROM shop WHERE %s)', filter, clause) INTO strays;
  RETURN CASE WHEN got = want AND strays = 0 THEN 'agrees (' || cardinality(got) || ' rows)'
              ELSE 'differs: ' || got::text || ' against ' || want::text || ', ' || strays || ' strays' END;
END $$;
SELECT f AS filter, filter_agrees(f::jsonb, c) FROM (VALUES
  ('{"price": {"$lt": 20}}', 'price < 20'),
  ('{"price": {"$gte": 40, "$lt": 45}}', 'price >= 40 AND price < 45'),
  ('{"price": {"$eq": 13}}', 'price = 13'),
  ('{"category": {"$ne": "gloves"}}', 'category <> ''gloves'''),
  ('{"category": {"$in": ["shoes", "hats"]}, "price": {"$gt": 50}}',
   'category IN (''shoes'', ''hats'') AND price > 50'),
  ('{"category": {"$nin": ["gloves", "shoes"]}}', 'category NOT IN (''gloves'', ''shoes'')'),
  ('{"$or": [{"price": {"$lte": 3}}, {"category": "hats"}]}', 'price <= 3 OR category = ''hats'''),
  ('{"$and": [{"price": {"$gt": 10}}, {"$not": {"category": {"$eq": "gloves"}}}]}',
   'price > 10 AND NOT category = ''gloves'''),
  ('{"$not": {"price": {"$lt": 50}}}', 'NOT price < 50'),
  ('{"$not": {"in_stock": true}}', 'NOT in_stock'),
  ('{"added": {"$gte": "2026-02-01"}}', 'added >= ''2026-02-01'''),
  ('{"in_stock": {"$exists": true}}', 'in_stock IS NOT NULL'),
  ('{"in_stock": {"$exists": false}, "price": {"$lt": 5}}', 'in_stock IS NULL AND price < 5'),
  ('{"in_stock": {"$eq": false}}', 'NOT in_stock'),
  ('{"brand": {"$gte": "F", "$lt": "G"}}', 'attributes->>''brand'' >= ''F'' COLLATE "C" AND attributes->>''brand'' < ''G'' COLLATE "C"'),
  ('{"brand": {"$gt": 1}}', 'false'),
  ('{"price": {"$gt": 1000}}', 'price > 1000')) cases(f, c);
-- An operand is read as WHERE reads a literal, without the column's
-- typmod: 99.95 is not rounded to numeric(6,1)'s 100.0.
CREATE FOREIGN TABLE shop_tenths (id text, vector real[], price numeric(6,1))
  SERVER ddb OPTIONS (collection 'shop');
SELECT array_agg(id ORDER BY id) AS found FROM whiplash_search('shop_tenths', '{1,1}', 5,
  filter => '{"price": {"$gt": 99.95}}');
SELECT array_agg(id ORDER BY id) AS brute_force FROM shop_tenths WHERE price > 99.95;
DROP FOREIGN TABLE shop_tenths;
-- Operators and plain values mix across keys; {} keeps every vector.
SELECT count(*) FROM whiplash_search('shop', '{1,1}', 3, filter => '{"category": "shoes", "price": {"$lt": 20}}');
SELECT count(*) FROM whiplash_search('shop', '{1,1}', 3, filter => '{}');
-- A filter that is not one gets an error, before anything is read.
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '{"price": {"$lt": 20, "max": 30}}');
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '{"price": {"$like": "4%"}}');
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '{"$xor": [{"price": 1}]}');
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '{"price": {"$in": []}}');
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '{"price": {"$in": [1, [2]]}}');
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '{"price": {"$lt": null}}');
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '{"$or": {"price": 1}}');
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '{"$or": [1]}');
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '{"$not": [{"price": 1}]}');
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '{"in_stock": {"$exists": 1}}');
SELECT * FROM whiplash_search('shop', '{1,1}', 3, filter => '{"added": {"$gt": "soon"}}');
CREATE FOREIGN TABLE shop_spot (id text, vector real[], spot point) SERVER ddb OPTIONS (collection 'shop');
SELECT * FROM whiplash_search('shop_spot', '{1,1}', 3, filter => '{"spot": {"$lt": "(1,1)"}}');
DROP FOREIGN TABLE shop_spot;
-- A candidate whose attribute its column's type cannot read (here a table
-- that maps category, stored as text, as an integer) stops the search
-- with an error that names the vector.
CREATE FOREIGN TABLE shop_count (id text, vector real[], category int)
  SERVER ddb OPTIONS (collection 'shop');
SELECT * FROM whiplash_search('shop_count', '{1,1}', 3, filter => '{"category": {"$gt": 1}}');
DROP FOREIGN TABLE shop_count;
DROP FUNCTION filter_agrees;

-- ANALYZE reads the items (here every one) for the columns' statistics:
-- the same as PostgreSQL computes for a local copy of the rows.
CREATE TABLE shop_copy AS SELECT * FROM shop;
ANALYZE shop;
ANALYZE shop_copy;
SELECT f.attname, f.null_frac = l.null_frac AS same_nulls, f.n_distinct = l.n_distinct AS same_distinct,
       f.histogram_bounds::text IS NOT DISTINCT FROM l.histogram_bounds::text AS same_histogram,
       f.most_common_vals::text IS NOT DISTINCT FROM l.most_common_vals::text AS same_common
  FROM pg_stats f JOIN pg_stats l USING (attname)
 WHERE f.tablename = 'shop' AND l.tablename = 'shop_copy'
   AND f.attname IN ('category', 'price', 'in_stock', 'added')
 ORDER BY 1;
SELECT reltuples = (SELECT count(*) FROM shop) AS rows_counted FROM pg_class WHERE relname = 'shop';
DROP TABLE shop_copy;

-- ... and WHERE with ORDER BY ... LIMIT, checked on each candidate while
-- searching, so that k rows come back: no Scan, no Sort.
EXPLAIN (COSTS OFF)
SELECT id FROM shop WHERE category = 'shoes' AND price < 60 ORDER BY vector <-> '{1,1}' LIMIT 4;
SELECT id, price FROM shop WHERE category = 'shoes' AND price < 60 ORDER BY vector <-> '{1,1}' LIMIT 4;
SELECT id, price FROM shop WHERE category = 'shoes' AND price < 60
 ORDER BY (vector <-> '{1,1}') + 0, id LIMIT 4;
-- A volatile filter cannot be checked during the search: Scan and Sort.
EXPLAIN (COSTS OFF)
SELECT id FROM shop WHERE price < random() * 1000 ORDER BY vector <-> '{1,1}' LIMIT 4;
-- An id restriction makes it a key lookup, not a search.
EXPLAIN (COSTS OFF)
SELECT id FROM shop WHERE id = 'g3' ORDER BY vector <-> '{1,1}' LIMIT 4;

-- A join on id runs as a nested loop of GetItem lookups when the other
-- side is small enough (here, where one Scan page holds the whole
-- collection, one row; see recall.sql for a larger collection).
CREATE TABLE wanted (id text PRIMARY KEY, note text);
INSERT INTO wanted VALUES ('s1', 'first');
ANALYZE wanted;
EXPLAIN (COSTS OFF)
SELECT w.note, s.category FROM wanted w JOIN shop s ON s.id = w.id;
SELECT w.note, s.category FROM wanted w JOIN shop s ON s.id = w.id ORDER BY w.note;

SELECT whiplash_drop_collection('ddb', 'shop');
DROP TABLE shop_tool_out, wanted;

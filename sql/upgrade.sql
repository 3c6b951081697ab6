-- ALTER EXTENSION whiplash UPDATE: an installation of 0.1.0 brought to
-- the current version has exactly the functions, arguments, defaults,
-- results and event trigger of a fresh install (the one this suite runs on).
\set suite_db :DBNAME
CREATE VIEW surface AS
  SELECT md5(string_agg(p.proname || '(' || pg_get_function_arguments(p.oid) || ') -> ' ||
                        pg_get_function_result(p.oid) || ' ' || p.provolatile::text || p.proisstrict::text,
                        E'\n' ORDER BY p.proname, pg_get_function_arguments(p.oid))) AS functions,
         count(*) AS n
    FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'whiplash';
SELECT extversion, n, functions FROM surface, pg_extension WHERE extname = 'whiplash';
SELECT evtname, evtevent, evtfoid::regprocedure, evttags, evtenabled FROM pg_event_trigger;
CREATE DATABASE wl_upgrade;
\c wl_upgrade
SET client_min_messages = warning;
CREATE EXTENSION whiplash VERSION '0.1.0';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'whiplash';
ALTER EXTENSION whiplash UPDATE;
CREATE VIEW surface AS
  SELECT md5(string_agg(p.proname || '(' || pg_get_function_arguments(p.oid) || ') -> ' ||
                        pg_get_function_result(p.oid) || ' ' || p.provolatile::text || p.proisstrict::text,
                        E'\n' ORDER BY p.proname, pg_get_function_arguments(p.oid))) AS functions,
         count(*) AS n
    FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'whiplash';
SELECT extversion, n, functions FROM surface, pg_extension WHERE extname = 'whiplash';
-- The same event trigger checks foreign tables where they are defined.
SELECT evtname, evtevent, evtfoid::regprocedure, evttags, evtenabled FROM pg_event_trigger;
CREATE SERVER upgraded FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint 'http://127.0.0.1:1');
CREATE FOREIGN TABLE upgraded_table (id text) SERVER upgraded OPTIONS (collection 'c');
-- Its privileges match too: the functions that change shared tables are not PUBLIC.
SELECT string_agg(p.proname, ', ' ORDER BY p.proname) AS not_public
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'whiplash'
 WHERE NOT has_function_privilege('public', p.oid, 'EXECUTE');
\c :suite_db
SELECT string_agg(p.proname, ', ' ORDER BY p.proname) AS not_public
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'whiplash'
 WHERE NOT has_function_privilege('public', p.oid, 'EXECUTE');
DROP DATABASE wl_upgrade;
DROP VIEW surface;

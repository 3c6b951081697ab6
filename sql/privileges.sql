-- Credentials and privileges: who may create and drop collections, whose
-- keys a role may use, names that cannot reach another project's data,
-- and HTTPS with certificate verification.  Uses the server "ddb" of
-- setup.sql.
\getenv endpoint WHIPLASH_ENDPOINT
\getenv key WHIPLASH_KEY
\getenv secret WHIPLASH_SECRET
\getenv tls WHIPLASH_TLS_ENDPOINT
\getenv tls_ca WHIPLASH_TLS_CA

-- The functions that change shared DynamoDB tables are not PUBLIC.
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'whiplash'
 WHERE p.proname LIKE 'whiplash%' AND p.proname NOT LIKE 'whiplash\_fdw%'
 ORDER BY 1;

CREATE ROLE wl_app;
CREATE ROLE wl_admin;
GRANT USAGE ON FOREIGN SERVER ddb TO wl_app, wl_admin;
GRANT CREATE ON SCHEMA public TO wl_admin;
CREATE USER MAPPING FOR wl_app SERVER ddb
  OPTIONS (access_key_id :'key', secret_access_key :'secret');
CREATE USER MAPPING FOR wl_admin SERVER ddb
  OPTIONS (access_key_id :'key', secret_access_key :'secret');
GRANT EXECUTE ON FUNCTION whiplash_create_collection(name, text, integer, text, integer,
                                                     integer, bigint, real[], integer, text),
                          whiplash_drop_collection(name, text) TO wl_admin;

-- An application role reads and writes what it is granted, and may not
-- create or drop collections.
SET ROLE wl_admin;
SELECT collection FROM whiplash_create_collection('ddb', 'guarded', 2, tables => 1, bits => 2);
CREATE FOREIGN TABLE guarded (id text, vector real[]) SERVER ddb OPTIONS (collection 'guarded');
GRANT SELECT, INSERT ON guarded TO wl_app;
RESET ROLE;
SET ROLE wl_app;
SELECT * FROM whiplash_create_collection('ddb', 'mine', 2);
SELECT whiplash_drop_collection('ddb', 'guarded');
SELECT whiplash_setup('ddb');
INSERT INTO guarded VALUES ('a', '{1, 0}'), ('b', '{0, 1}');
SELECT id FROM whiplash_search('guarded', '{1, 0.1}', 1);
DELETE FROM guarded WHERE id = 'a';
SELECT * FROM whiplash_repair('guarded');
SELECT * FROM whiplash_reindex('guarded');
SELECT collection FROM whiplash_collections('ddb') WHERE collection = 'guarded';

-- Another role's credentials stay hidden: pg_user_mappings shows a
-- mapping's options only to its own role (and superusers).
SELECT usename, umoptions IS NULL AS options_hidden
  FROM pg_user_mappings WHERE srvname = 'ddb' AND usename LIKE 'wl\_%' ORDER BY usename;
RESET ROLE;

-- Project and stage names join collection ids with '_': stage "x_y" with
-- collection "z" and stage "x" with collection "y_z" share the id
-- "sec_x_y_z".  Neither can see, open, take or drop the other's.
CREATE SERVER sec_xy FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'endpoint', project 'sec', stage 'x_y');
CREATE SERVER sec_x FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'endpoint', project 'sec', stage 'x');
CREATE USER MAPPING FOR CURRENT_USER SERVER sec_xy
  OPTIONS (access_key_id :'key', secret_access_key :'secret');
CREATE USER MAPPING FOR CURRENT_USER SERVER sec_x
  OPTIONS (access_key_id :'key', secret_access_key :'secret');
SELECT collection, vectors_table LIKE 'sec\_x\_y\_z\_%' AS id_prefix
  FROM whiplash_create_collection('sec_xy', 'z', 2, tables => 1, bits => 2);
SELECT collection FROM whiplash_collections('sec_x');
CREATE FOREIGN TABLE sec_lookalike (id text, vector real[]) SERVER sec_x OPTIONS (collection 'y_z');
SELECT * FROM sec_lookalike;
SELECT whiplash_drop_collection('sec_x', 'y_z');
SELECT * FROM whiplash_create_collection('sec_x', 'y_z', 2, tables => 1, bits => 2);
SELECT collection FROM whiplash_collections('sec_xy');
SELECT whiplash_drop_collection('sec_xy', 'z');

-- Names that reach DynamoDB or generated SQL keep to their place.
SELECT * FROM whiplash_create_collection('ddb', 'a"b; DROP TABLE x', 2);
SELECT * FROM whiplash_create_collection('ddb', 'a b', 2);
CREATE SERVER sec_bad FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'endpoint', stage 'prod''; --');
SELECT collection FROM whiplash_create_collection('ddb', 'Odd-Name.v2', 2, tables => 1, bits => 2);
CREATE SCHEMA imported;
IMPORT FOREIGN SCHEMA collections LIMIT TO ("Odd-Name.v2") FROM SERVER ddb INTO imported;
SELECT foreign_table_name, option_value FROM information_schema.foreign_table_options
 WHERE foreign_table_schema = 'imported';
SELECT count(*) FROM imported."Odd-Name.v2";
SELECT whiplash_drop_collection('ddb', 'Odd-Name.v2');
DROP SCHEMA imported CASCADE;

-- HTTPS verifies the server's certificate by default: a self-signed one is
-- refused until the server's ca_file names it.
CREATE SERVER tls FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'tls', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls
  OPTIONS (access_key_id :'key', secret_access_key :'secret');
SELECT whiplash_setup('tls');
ALTER SERVER tls OPTIONS (ADD ca_file :'tls_ca');
SELECT whiplash_setup('tls') AS created;
-- The host name is checked too: the certificate names 127.0.0.1 only.
SELECT replace(:'tls', '127.0.0.1', 'localhost') AS tls_by_name \gset
ALTER SERVER tls OPTIONS (SET endpoint :'tls_by_name');
SELECT whiplash_setup('tls');

-- ANALYZE reads a table as its owner, with the owner's user mapping:
-- a superuser without one analyzes wl_admin's table.
CREATE ROLE wl_dba SUPERUSER;
SET ROLE wl_dba;
ANALYZE guarded;
RESET ROLE;
SELECT reltuples = (SELECT count(*) FROM guarded) AS rows_counted FROM pg_class WHERE relname = 'guarded';
DROP ROLE wl_dba;

SET ROLE wl_admin;
SELECT whiplash_drop_collection('ddb', 'guarded');
DROP FOREIGN TABLE guarded;
RESET ROLE;
DROP FOREIGN TABLE sec_lookalike;
DROP SERVER sec_xy, sec_x, tls CASCADE;
DROP USER MAPPING FOR wl_app SERVER ddb;
DROP USER MAPPING FOR wl_admin SERVER ddb;
REVOKE ALL ON FOREIGN SERVER ddb FROM wl_app, wl_admin;
REVOKE CREATE ON SCHEMA public FROM wl_admin;
REVOKE ALL ON FUNCTION whiplash_create_collection(name, text, integer, text, integer,
                                                  integer, bigint, real[], integer, text),
                       whiplash_drop_collection(name, text) FROM wl_admin;
DROP ROLE wl_app, wl_admin;

-- whiplash_setup against a real local DynamoDB server, reached through a
-- proxy that recomputes every request's SigV4 signature with botocore and
-- rejects a mismatch.  The endpoint and test credentials come from the
-- environment that test/run.sh sets.
\getenv endpoint WHIPLASH_ENDPOINT
\getenv sigcheck_stats WHIPLASH_SIGCHECK_STATS
\getenv key WHIPLASH_KEY
\getenv secret WHIPLASH_SECRET
\getenv token_key WHIPLASH_TOKEN_KEY
\getenv token_secret WHIPLASH_TOKEN_SECRET
\getenv token WHIPLASH_TOKEN

CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb
  OPTIONS (access_key_id :'key', secret_access_key :'secret');
-- map_user(server) maps the current user on another server with the keys
-- of its mapping on ddb (for other tests).
CREATE FUNCTION map_user(srv name) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE USER MAPPING FOR CURRENT_USER SERVER %I OPTIONS (%s)', srv,
                 (SELECT string_agg(format('%I %L', split_part(o, '=', 1), substr(o, strpos(o, '=') + 1)), ', ')
                    FROM pg_user_mappings m, unnest(m.umoptions) o
                   WHERE m.srvname = 'ddb' AND m.usename = current_user));
END $$;

-- Before whiplash_setup, collections cannot be used.
SELECT * FROM whiplash_collections('ddb');
SELECT * FROM whiplash_create_collection('ddb', 'early', 4);

-- The first call creates whiplash_metadata and waits until it is ACTIVE;
-- the second finds it and does nothing.
SELECT whiplash_setup('ddb') AS created;
SELECT calls AS calls_before, requests AS requests_before
  FROM whiplash_client_stats() WHERE server = 'ddb' \gset
SELECT whiplash_setup('ddb') AS created;
-- The second call costs exactly one DescribeTable, over the connection the
-- first call opened.
SELECT calls - :calls_before AS calls_for_second_setup,
       requests - :requests_before AS requests_for_second_setup, retries, connections
  FROM whiplash_client_stats() WHERE server = 'ddb';

-- Every request so far passed the independent signature check.
\set sigcheck_stats_cmd 'curl -s ' :sigcheck_stats
CREATE TEMP TABLE sigcheck (stats jsonb);
COPY sigcheck FROM PROGRAM :'sigcheck_stats_cmd';
SELECT (stats->>'verified')::int >= 3 AS verified_some,
       (stats->>'verified')::int = (stats->>'requests')::int AS all_verified,
       stats->>'rejected' AS rejected
  FROM sigcheck;

-- A session token is sent and signed (the proxy knows this key only with
-- its token).
CREATE SERVER ddb_token FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb_token
  OPTIONS (access_key_id :'token_key', secret_access_key :'token_secret', session_token :'token');
SELECT whiplash_setup('ddb_token') AS created;
ALTER USER MAPPING FOR CURRENT_USER SERVER ddb_token OPTIONS (SET session_token 'wrongtoken');
SELECT whiplash_setup('ddb_token') AS created;
ALTER USER MAPPING FOR CURRENT_USER SERVER ddb_token OPTIONS (DROP session_token);
SELECT whiplash_setup('ddb_token') AS created;

-- A wrong secret: the proxy's independent check rejects the signature, and
-- the error says so without showing any secret.
CREATE SERVER ddb_badsecret FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb_badsecret
  OPTIONS (access_key_id :'key', secret_access_key 'notTheRightSecret123');
SELECT whiplash_setup('ddb_badsecret');
\set VERBOSITY sqlstate
SELECT whiplash_setup('ddb_badsecret');
\set VERBOSITY default
-- An unknown access key.
ALTER USER MAPPING FOR CURRENT_USER SERVER ddb_badsecret
  OPTIONS (SET access_key_id 'nosuchkey');
SELECT whiplash_setup('ddb_badsecret');

-- A changed user mapping takes effect in the same session: the client is
-- rebuilt with the new credentials.
ALTER USER MAPPING FOR CURRENT_USER SERVER ddb_badsecret
  OPTIONS (SET access_key_id :'key', SET secret_access_key :'secret');
SELECT whiplash_setup('ddb_badsecret') AS created;

-- Without a user mapping there is no connection.
CREATE SERVER ddb_nomapping FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'endpoint');
SELECT whiplash_setup('ddb_nomapping');

-- A role granted EXECUTE on whiplash_setup also needs USAGE on the server.
CREATE ROLE whiplash_setup_user;
GRANT EXECUTE ON FUNCTION whiplash_setup(name) TO whiplash_setup_user;
SET ROLE whiplash_setup_user;
SELECT whiplash_setup('ddb');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION whiplash_setup(name) FROM whiplash_setup_user;
DROP ROLE whiplash_setup_user;

DROP SERVER ddb_token, ddb_badsecret, ddb_nomapping CASCADE;

-- EXPLAIN with what differs between runs, servers and PostgreSQL majors
-- masked, for the tests that show plans.
-- Table names carry a random generation, and the bytes and capacity a
-- server reports differ between servers: explain_masked shows those as
-- <generation> and "(more than 0)".  PostgreSQL 18 counts buffers under
-- ANALYZE unasked and shows row counts with two decimals: the buffer lines
-- are left out, and whole row counts shown as before.
CREATE FUNCTION explain_masked(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN ' || query LOOP
    CONTINUE WHEN line ~ '^ *(Planning:|Buffers: )';
    line := regexp_replace(line, '_[0-9a-f]{8}_vectors', '_<generation>_vectors');
    line := regexp_replace(line, '(actual rows=[0-9]+)\.00 ', '\1 ', 'g');
    IF line ~ '(Bytes Read|Read Capacity): ' THEN
      line := regexp_replace(line, ': [0-9.]+ ',
                             CASE WHEN substring(line from ': ([0-9.]+) ')::numeric > 0
                                  THEN ': (more than 0) ' ELSE ': 0 ' END);
    END IF;
    RETURN NEXT line;
  END LOOP;
END $$;

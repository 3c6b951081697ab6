-- Network failures: retries, timeouts, cancel, and an unreachable endpoint.
-- Faults come from a proxy between Postgres and a real local DynamoDB:
--   flaky:     each distinct request is throttled, then gets a 500, then passes
--   throttled: every request is throttled
--   hang:      no request is ever answered
--   web:       a plain web server, not DynamoDB
--   slow_writes: every BatchWriteItem is answered after 2 s
--   http09:    a server that answers in HTTP/0.9
-- This file checks indexes trained at a write's COMMIT, so that a worker's
-- timing cannot change its output: sql/background.sql checks the default,
-- a background worker.
SET whiplash.background_builds = off;
\getenv endpoint WHIPLASH_ENDPOINT
\getenv flaky WHIPLASH_FLAKY_ENDPOINT
\getenv throttled WHIPLASH_THROTTLED_ENDPOINT
\getenv hang WHIPLASH_HANG_ENDPOINT
\getenv web WHIPLASH_WEB_ENDPOINT
\getenv slow_writes WHIPLASH_SLOW_WRITES_ENDPOINT
\getenv http09 WHIPLASH_HTTP09_ENDPOINT
\getenv key WHIPLASH_KEY
\getenv secret WHIPLASH_SECRET

-- Throttling and a 500 are retried with backoff; the call then succeeds.
CREATE SERVER flaky FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'flaky', max_retries '2', retry_base_delay '1ms');
SELECT map_user('flaky');
SELECT whiplash_setup('flaky') AS created;
SELECT calls, requests, retries FROM whiplash_client_stats() WHERE server = 'flaky';
-- EXPLAIN ANALYZE counts a scan's retries: its GetItem is throttled, then
-- fails with a 500, then is answered.
CREATE FUNCTION explain_json(query text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  result jsonb;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON, TIMING OFF, SUMMARY OFF) ' || query INTO result;
  RETURN result->0->'Plan';
END $$;
SELECT collection FROM whiplash_create_collection('flaky', 'retried', 2, tables => 1, bits => 2);
CREATE FOREIGN TABLE retried (id text, vector real[]) SERVER flaky OPTIONS (collection 'retried');
SELECT p->>'DynamoDB' AS operation, p->'DynamoDB Requests' AS requests,
       p->'DynamoDB Retries' AS retries, p->'DynamoDB Items' AS items
  FROM explain_json($$SELECT id FROM retried WHERE id = 'nothing'$$) p;
-- Writes whose every call is throttled, then fails, then succeeds leave a
-- complete, consistent collection.
INSERT INTO retried SELECT 'r' || i, ARRAY[i, -i]::real[] FROM generate_series(1, 30) i;
DELETE FROM retried WHERE id IN ('r1', 'r2');
SELECT count(*) AS vectors FROM retried;
SELECT * FROM whiplash_check('retried');
SELECT whiplash_drop_collection('flaky', 'retried');
DROP FOREIGN TABLE retried;
DROP FUNCTION explain_json(text);

-- With too few retries allowed, the last error is reported: operation,
-- table, DynamoDB's error type and message, HTTP status and attempts.
CREATE SERVER flaky_once FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'flaky', max_retries '0');
SELECT map_user('flaky_once');
SELECT whiplash_setup('flaky_once');
SELECT whiplash_setup('flaky_once');
SELECT whiplash_setup('flaky_once') AS created;

-- Throttling that never ends gives up after max_retries, with a hint.
CREATE SERVER throttled FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'throttled', max_retries '3', retry_base_delay '1ms');
SELECT map_user('throttled');
SELECT whiplash_setup('throttled');
SELECT calls, requests, retries FROM whiplash_client_stats() WHERE server = 'throttled';

-- An endpoint where nothing listens fails fast with a clear error: a
-- refused connection gets two quick retries, whatever max_retries allows.
CREATE SERVER unreachable FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint 'http://127.0.0.1:1');
SELECT map_user('unreachable');
SELECT clock_timestamp() AS t0 \gset
\set VERBOSITY terse
SELECT whiplash_setup('unreachable');
\set VERBOSITY default
SELECT clock_timestamp() - :'t0' < interval '5 s' AS failed_fast;
SELECT requests, retries FROM whiplash_client_stats() WHERE server = 'unreachable';

-- A web server that is not DynamoDB: its HTML page becomes one line, with
-- a hint, and its 501 is not retried.
CREATE SERVER web FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'web');
SELECT map_user('web');
SELECT whiplash_setup('web');
SELECT requests, retries FROM whiplash_client_stats() WHERE server = 'web';
-- HTTPS spoken to a plain HTTP server can never succeed: no retry.
SELECT replace(:'endpoint', 'http://', 'https://') AS mismatch \gset
CREATE SERVER mismatch FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'mismatch');
SELECT map_user('mismatch');
-- (libcurl's words carry OpenSSL's version: the detail is checked, not shown.)
DO $$
DECLARE
  message text;
  detail text;
  hint text;
BEGIN
  PERFORM whiplash_setup('mismatch');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                          hint = PG_EXCEPTION_HINT;
  RAISE NOTICE 'error: %', message;
  RAISE NOTICE 'detail says one attempt, wrong version number: %',
    detail LIKE 'No response after 1 attempt(s), server "mismatch"; libcurl said: %wrong version number%';
  RAISE NOTICE 'hint: %', hint;
END $$;
SELECT requests, retries FROM whiplash_client_stats() WHERE server = 'mismatch';
-- Nor can an answer in HTTP/0.9 (a bare body, no status line).
CREATE SERVER http09 FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint :'http09');
SELECT map_user('http09');
SELECT whiplash_setup('http09');
SELECT requests, retries FROM whiplash_client_stats() WHERE server = 'http09';

-- A server that never answers: request_timeout ends each attempt.
CREATE SERVER hang FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'hang', request_timeout '200ms', max_retries '1', retry_base_delay '1ms');
SELECT map_user('hang');
SELECT clock_timestamp() AS t0 \gset
\set VERBOSITY terse
SELECT whiplash_setup('hang');
\set VERBOSITY default
SELECT clock_timestamp() - :'t0' BETWEEN interval '0.4 s' AND interval '5 s' AS timed_out_in_time;

-- statement_timeout cancels a wait on the network promptly, even when the
-- request timeout is long, and the session goes on working.
ALTER SERVER hang OPTIONS (SET request_timeout '60s');
SET statement_timeout = '300ms';
SELECT clock_timestamp() AS t0 \gset
SELECT whiplash_setup('hang');
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '3 s' AS cancelled_promptly;
SELECT whiplash_setup('ddb') AS created;

-- A cancel also ends a backoff between retries.
ALTER SERVER throttled OPTIONS (SET max_retries '20', SET retry_base_delay '10s', ADD retry_max_delay '10s');
SET statement_timeout = '500ms';
SELECT clock_timestamp() AS t0 \gset
SELECT whiplash_setup('throttled');
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '3 s' AS cancelled_promptly;
SELECT whiplash_setup('ddb') AS created;

-- COMMIT is bounded too.  PostgreSQL stops the statement timer before a
-- commit's writes, so whiplash carries statement_timeout over to them, or
-- takes whiplash.commit_timeout; here every BatchWriteItem takes 2 s.
CREATE SERVER slow_writes FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'slow_writes', max_retries '0');
SELECT map_user('slow_writes');
SELECT collection FROM whiplash_create_collection('slow_writes', 'slowly', 2, metric => 'l2');
CREATE FOREIGN TABLE slowly (id text, vector real[]) SERVER slow_writes OPTIONS (collection 'slowly');
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '1500ms';
INSERT INTO slowly VALUES ('a', '{1,2}');
RESET statement_timeout;
SET whiplash.commit_timeout = '500ms';
INSERT INTO slowly VALUES ('b', '{1,2}');
RESET whiplash.commit_timeout;
-- (unbounded, the two commits would have taken 4 s)
SELECT clock_timestamp() - :'t0' < interval '4 s' AS both_bounded;
-- 0 is no limit: the same write waits its 2 s and commits.
SET statement_timeout = '1500ms';
SET whiplash.commit_timeout = 0;
INSERT INTO slowly VALUES ('c', '{1,2}');
RESET whiplash.commit_timeout;
RESET statement_timeout;
SELECT bool_or(id = 'c') AS committed FROM slowly;
SELECT whiplash_drop_collection('slow_writes', 'slowly');
DROP FOREIGN TABLE slowly;
DROP SERVER flaky, flaky_once, throttled, unreachable, web, mismatch, http09, hang, slow_writes CASCADE;

-- An UpdateItem whose answer is lost after it took effect is retried, and a
-- conditional one then fails the condition its first attempt made false.
-- Through a proxy that cuts short the first answer to every UpdateItem, a
-- packed collection still trains its index in the write that fills it (the
-- metadata's conditional updates that begin and finish the build among
-- them), and whiplash_reindex retrains it.
\getenv lost WHIPLASH_LOST_UPDATES_ENDPOINT
CREATE SERVER lost_updates FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint :'lost', retry_base_delay '1ms', retry_max_delay '5ms');
SELECT map_user('lost_updates');
SELECT collection FROM whiplash_create_collection('lost_updates', 'cut', 4, metric => 'l2', seed => 1);
CREATE FOREIGN TABLE cut (id text, vector real[]) SERVER lost_updates OPTIONS (collection 'cut');
INSERT INTO cut SELECT 'u' || i, ARRAY[sin(i), cos(i), sin(i * 3), cos(i * 5)]::real[]
  FROM generate_series(1, 1100) i;
SELECT count(*) AS found FROM whiplash_search('cut', '{0.1,0.2,0.3,0.4}', 5, probes => 2);
SELECT plan FROM whiplash_last_search();
SELECT step, items FROM whiplash_reindex('cut');
SELECT count(*) AS found FROM whiplash_search('cut', '{0.1,0.2,0.3,0.4}', 5, probes => 2);
SELECT plan FROM whiplash_last_search();
SELECT count(*) AS problems FROM whiplash_check('cut');
SELECT whiplash_drop_collection('lost_updates', 'cut');
DROP FOREIGN TABLE cut;
DROP SERVER lost_updates CASCADE;

-- whiplash 0.4.0 to 0.5.0: index builds in background workers.
\echo Use "ALTER EXTENSION whiplash UPDATE TO '0.5.0'" to load this file. \quit

-- whiplash_reindex(collection), with background => true, leaves the build
-- to a background worker and returns at once, with one row: 'started in
-- the background', or 'already being built' when a worker is at it.
-- (An overload rather than a default, so that grants on the one-argument
-- function stay.)
CREATE FUNCTION whiplash_reindex(collection regclass, background boolean)
RETURNS TABLE (step text, items bigint, requests bigint, seconds double precision)
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE STRICT;

-- The index builds that background workers run on this server, as
-- pg_stat_progress_create_index shows index builds: a row per worker.
-- phase is starting, training, indexing vectors, switching, cleaning up
-- or waiting to retry; vectors_done of about vectors_total have their
-- records in the new index.  Only the worker's pid and database show to
-- those who may not see its role's activity.
CREATE FUNCTION whiplash_builds(
    OUT pid integer, OUT database text, OUT server text, OUT collection text,
    OUT phase text, OUT cause text, OUT attempt integer,
    OUT vectors_done bigint, OUT vectors_total bigint, OUT started timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE STRICT;

-- Waits until no build of the collection's index runs on this server (a
-- background worker's, started by a write or by whiplash_reindex), then
-- returns whether the collection has a trained index and no build left
-- unfinished.  statement_timeout and a cancel end the wait.
CREATE FUNCTION whiplash_wait_for_index(collection regclass)
RETURNS boolean
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE STRICT;

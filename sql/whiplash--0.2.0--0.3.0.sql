-- whiplash 0.2.0 to 0.3.0: calibrated searches, and the recall they reach.
\echo Use "ALTER EXTENSION whiplash UPDATE TO '0.3.0'" to load this file. \quit

DROP FUNCTION whiplash_last_search();
-- What this backend's last whiplash_search read and sent, its plan
-- (probe, codes or scan) and the recall@10 its collection's calibration
-- expects of that plan (NULL when the collection is not calibrated).
CREATE FUNCTION whiplash_last_search(
    OUT probes integer, OUT buckets integer, OUT bucket_entries bigint,
    OUT candidates bigint, OUT vectors_read bigint, OUT requests bigint,
    OUT round_trips bigint, OUT results integer, OUT rounds integer,
    OUT matched bigint, OUT fine_bits integer, OUT bytes_read bigint,
    OUT read_capacity double precision, OUT plan text,
    OUT estimated_recall double precision)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- The recall@k searches of a collection reach at the current settings,
-- against an exact search: for `queries` of its own vectors (each searched
-- for its k nearest others), with the plan's estimate beside it and what a
-- search read (read units as DynamoDB reported them, requests, sequential
-- round trips), averaged.  One Scan of the whole collection finds the
-- exact answers.
CREATE FUNCTION whiplash_recall(collection regclass, queries integer DEFAULT 100,
    k integer DEFAULT 10,
    OUT searched integer, OUT k_nearest integer, OUT recall double precision,
    OUT estimated_recall double precision, OUT read_units double precision,
    OUT requests double precision, OUT round_trips double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'whiplash_recall'
LANGUAGE C VOLATILE;

-- The same for queries of the user's: a two-dimensional real[], a query a
-- row (array_agg of vectors of the collection's dimensions).
CREATE FUNCTION whiplash_recall(collection regclass, query_vectors real[],
    k integer DEFAULT 10,
    OUT searched integer, OUT k_nearest integer, OUT recall double precision,
    OUT estimated_recall double precision, OUT read_units double precision,
    OUT requests double precision, OUT round_trips double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'whiplash_recall_queries'
LANGUAGE C VOLATILE;

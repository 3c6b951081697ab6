-- whiplash 0.4.0: vector search on Amazon DynamoDB from SQL.

\echo Use "CREATE EXTENSION whiplash" to load this file. \quit

CREATE FUNCTION whiplash_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION whiplash_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER whiplash
  HANDLER whiplash_fdw_handler
  VALIDATOR whiplash_fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER whiplash IS 'vector collections stored in Amazon DynamoDB';

-- Creates the shared whiplash_metadata table of a server if it is absent and
-- waits until it is ACTIVE; true when this call created it.
CREATE FUNCTION whiplash_setup(server name)
RETURNS boolean
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- What this backend's DynamoDB clients have done: calls, HTTP requests,
-- retries and connections opened, per server.
CREATE FUNCTION whiplash_client_stats(
    OUT server text, OUT calls bigint, OUT requests bigint,
    OUT retries bigint, OUT connections bigint, OUT round_trips bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE STRICT;

-- Creates a collection: its DynamoDB tables (waiting until they are ACTIVE)
-- and its metadata item.  Returns its settings.  New collections are
-- packed: compact codes in the buckets, an index trained on the
-- collection's own vectors.  format => 'native' (or giving bits, center or
-- fine_bits, which only it takes) makes the layout of whiplash 0.1.
-- tables left NULL takes the format's default.
CREATE FUNCTION whiplash_create_collection(
    server name, collection text, dimensions integer,
    metric text DEFAULT 'cosine', tables integer DEFAULT NULL, bits integer DEFAULT NULL,
    seed bigint DEFAULT NULL, center real[] DEFAULT NULL, fine_bits integer DEFAULT NULL,
    format text DEFAULT NULL,
    OUT collection text, OUT dimensions integer, OUT metric text, OUT tables integer,
    OUT bits integer, OUT format text, OUT vectors_table text, OUT buckets_table text)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- Every collection of the server's project and stage (all Scan pages).
CREATE FUNCTION whiplash_collections(
    server name,
    OUT collection text, OUT dimensions integer, OUT metric text, OUT tables integer,
    OUT bits integer, OUT format text, OUT vectors_table text, OUT buckets_table text)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- Removes a collection: its metadata item, then its tables.
CREATE FUNCTION whiplash_drop_collection(server name, collection text)
RETURNS boolean
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- The k nearest neighbours of query in the collection behind a foreign
-- table, closest first; distance is smaller-is-closer for every metric.
-- With a filter, only vectors whose attributes contain it (jsonb @>).
CREATE FUNCTION whiplash_search(
    collection regclass, query real[], k integer DEFAULT 10,
    probes integer DEFAULT NULL, max_candidates integer DEFAULT NULL,
    filter jsonb DEFAULT NULL)
RETURNS TABLE (id text, distance double precision)
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE ROWS 10;

-- The same, given the foreign table's name as text (a quoted literal
-- resolves to this one), so that a name that is not a table, such as the
-- collection's own, gets an error naming the table that maps it.
CREATE FUNCTION whiplash_search(
    collection text, query real[], k integer DEFAULT 10,
    probes integer DEFAULT NULL, max_candidates integer DEFAULT NULL,
    filter jsonb DEFAULT NULL)
RETURNS TABLE (id text, distance double precision)
AS 'MODULE_PATHNAME', 'whiplash_search_by_name'
LANGUAGE C VOLATILE ROWS 10;

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

-- Trains a collection's index on a sample of its own vectors and writes it
-- (a native collection is converted to the packed format), while the
-- collection stays searchable; interrupted, it resumes when run again.
-- One row per step done.
CREATE FUNCTION whiplash_reindex(collection regclass)
RETURNS TABLE (step text, items bigint, requests bigint, seconds double precision)
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE STRICT;

-- The exact distance a search re-ranks with (smaller is closer), for
-- brute-force comparisons.
CREATE FUNCTION whiplash_distance(a real[], b real[], metric text DEFAULT 'cosine')
RETURNS double precision
AS 'MODULE_PATHNAME'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- pgvector's distance operators, on real[]: <-> Euclidean, <=> cosine
-- distance, <#> negative inner product.
CREATE FUNCTION whiplash_l2_distance(real[], real[]) RETURNS double precision
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION whiplash_cosine_distance(real[], real[]) RETURNS double precision
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION whiplash_negative_inner_product(real[], real[]) RETURNS double precision
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR <-> (LEFTARG = real[], RIGHTARG = real[],
                     FUNCTION = whiplash_l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <=> (LEFTARG = real[], RIGHTARG = real[],
                     FUNCTION = whiplash_cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <#> (LEFTARG = real[], RIGHTARG = real[],
                     FUNCTION = whiplash_negative_inner_product, COMMUTATOR = '<#>');

-- Inconsistencies between a collection's vectors and its buckets (none
-- when it is consistent), and their repair.
CREATE FUNCTION whiplash_check(collection regclass)
RETURNS TABLE (problem text, bucket text, id text)
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION whiplash_repair(collection regclass)
RETURNS TABLE (problem text, repaired bigint)
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE STRICT;

-- Who may do what.  Creating and dropping collections, and creating the
-- metadata table, change DynamoDB tables that every role of the server
-- shares: only superusers and roles granted EXECUTE on these functions may
-- call them (each call also needs USAGE on the server and a user mapping).
-- Reading a collection needs SELECT on its foreign table, writing it,
-- whiplash_repair or whiplash_reindex needs UPDATE; those stay open to all.
REVOKE EXECUTE ON FUNCTION whiplash_setup(name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION whiplash_create_collection(name, text, integer, text, integer,
                                                      integer, bigint, real[], integer, text)
    FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION whiplash_drop_collection(name, text) FROM PUBLIC;

-- Refuses, where it is defined, a whiplash foreign table with no
-- collection option or no column that can hold its vector (an FDW's
-- validator sees options, not columns).
CREATE FUNCTION whiplash_ddl_check()
RETURNS event_trigger
AS 'MODULE_PATHNAME'
LANGUAGE C;

CREATE EVENT TRIGGER whiplash_ddl_check ON ddl_command_end
  WHEN TAG IN ('CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE', 'ALTER TABLE',
               'IMPORT FOREIGN SCHEMA')
  EXECUTE FUNCTION whiplash_ddl_check();

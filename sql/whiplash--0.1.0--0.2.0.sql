-- whiplash 0.1.0 to 0.2.0: packed collections with trained indexes.
\echo Use "ALTER EXTENSION whiplash UPDATE TO '0.2.0'" to load this file. \quit

-- whiplash_create_collection takes a format, and leaves tables and bits to
-- it; it is made again, so EXECUTE granted on the old one must be granted
-- again.
DROP FUNCTION whiplash_create_collection(name, text, integer, text, integer, integer,
                                         bigint, real[], integer);
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

REVOKE EXECUTE ON FUNCTION whiplash_create_collection(name, text, integer, text, integer,
                                                      integer, bigint, real[], integer, text)
    FROM PUBLIC;

DROP FUNCTION whiplash_last_search();
-- What this backend's last whiplash_search read and sent, and its plan
-- (probe, codes or scan).
CREATE FUNCTION whiplash_last_search(
    OUT probes integer, OUT buckets integer, OUT bucket_entries bigint,
    OUT candidates bigint, OUT vectors_read bigint, OUT requests bigint,
    OUT round_trips bigint, OUT results integer, OUT rounds integer,
    OUT matched bigint, OUT fine_bits integer, OUT bytes_read bigint,
    OUT read_capacity double precision, OUT plan text)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- Trains a collection's index on a sample of its own vectors and writes it
-- (a native collection is converted to the packed format), while the
-- collection stays searchable; interrupted, it resumes when run again.
-- One row per step done.
CREATE FUNCTION whiplash_reindex(collection regclass)
RETURNS TABLE (step text, items bigint, requests bigint, seconds double precision)
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE STRICT;

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

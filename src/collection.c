/*
 * collection.c - collections: their metadata, its per-backend cache, and
 * the SQL functions that create, list and drop them.
 *
 * A collection's settings live in one item of whiplash_metadata.  A backend
 * reads it once and keeps it, with the hash functions it implies, for
 * whiplash.collection_cache_ttl.  A collection dropped and re-created
 * elsewhere gets new tables (their names carry a generation), so a stale
 * entry cannot hash into the wrong tables: its reads fail with "table not
 * found", which marks the cache for re-reading (wl_report_call_error).  A
 * change to a foreign server does the same.
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_foreign_table.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "core/store.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_create_collection);
PG_FUNCTION_INFO_V1(whiplash_drop_collection);
PG_FUNCTION_INFO_V1(whiplash_collections);

/* How long a backend trusts cached settings (whiplash.collection_cache_ttl). */
int			wl_collection_cache_ttl_ms = 60000;

#define WL_NAME_MAX 64

typedef struct WlCollectionKey
{
	Oid			serverid;
	char		name[WL_NAME_MAX + 1];
} WlCollectionKey;

typedef struct WlCollectionEntry
{
	WlCollectionKey key;
	WlCollection collection;
	TimestampTz loaded_at;
} WlCollectionEntry;

static HTAB *wl_collections = NULL;

/* Checks a collection name: DynamoDB table-name characters, 1 to 64. */
void
wl_check_collection_name(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0 || len > WL_NAME_MAX ||
		strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid collection name \"%s\"", name),
				 errhint("Use 1 to %d letters, digits, '_', '-' or '.'.", WL_NAME_MAX)));
}

/* The metadata id of a collection: {project}_{stage}_{name}. */
static char *
wl_metadata_id(WlConnection *conn, const char *name)
{
	return psprintf("%s_%s_%s", conn->options.project, conn->options.stage, name);
}

/* Frees the core objects of a cache entry. */
static void
wl_collection_release(WlCollection *collection)
{
	wl_lsh_destroy(collection->lsh);
	wl_meta_free(collection->meta);
	collection->lsh = NULL;
	collection->meta = NULL;
}

/*
 * Marks every cached collection for re-reading: a server's project, stage
 * or endpoint may have changed (a syscache callback), or a collection's
 * table was not found because it was dropped or re-created elsewhere.
 */
void
wl_collection_cache_reset(void)
{
	HASH_SEQ_STATUS scan;
	WlCollectionEntry *entry;

	if (wl_collections == NULL)
		return;
	hash_seq_init(&scan, wl_collections);
	while ((entry = hash_seq_search(&scan)) != NULL)
		entry->loaded_at = 0;
}

/* Syscache callback: a foreign server changed. */
static void
wl_collection_server_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	wl_collection_cache_reset();
}

/* Drops a collection's cache entry, if any. */
void
wl_collection_forget(Oid serverid, const char *name)
{
	WlCollectionKey key;
	WlCollectionEntry *entry;

	if (wl_collections == NULL)
		return;
	memset(&key, 0, sizeof(key));
	key.serverid = serverid;
	strlcpy(key.name, name, sizeof(key.name));
	entry = hash_search(wl_collections, &key, HASH_FIND, NULL);
	if (entry != NULL)
	{
		wl_collection_release(&entry->collection);
		hash_search(wl_collections, &key, HASH_REMOVE, NULL);
	}
}

/*
 * Runs one call on the metadata table and raises its failure; a missing
 * table means whiplash_setup was never run, which gets its own error.
 */
static void
wl_execute_metadata(WlConnection *conn, WlDdbCall *call)
{
	wl_execute(conn, call, 1);
	if (call->error.kind == WL_DDB_SERVICE_ERROR &&
		strcmp(call->error.type, "ResourceNotFoundException") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("whiplash is not set up on server \"%s\"", conn->server_name),
				 errdetail("Table %s does not exist.", WL_METADATA_TABLE),
				 errhint("Run SELECT whiplash_setup('%s') first.", conn->server_name)));
	if (call->error.kind != WL_DDB_OK)
		wl_report_call_error(conn, call);
}

/*
 * Whether a metadata item is the named collection of the connection's
 * project and stage.  Ids join the three with '_', which names may contain:
 * project "a", stage "b_c" and project "a_b", stage "c" share ids, and the
 * item's own fields tell them apart.
 */
static bool
wl_meta_is_ours(const WlMeta *meta, WlConnection *conn, const char *name)
{
	return meta->project != NULL && meta->stage != NULL && meta->name != NULL &&
		strcmp(meta->project, conn->options.project) == 0 &&
		strcmp(meta->stage, conn->options.stage) == 0 &&
		strcmp(meta->name, name) == 0;
}

/* The metadata item with the given id, strongly consistent; NULL if none. */
static struct json_object *
wl_metadata_item(WlConnection *conn, const char *id)
{
	WlDdbCall  *call = wl_calls_new(1);

	call->operation = "GetItem";
	call->table = WL_METADATA_TABLE;
	call->request = wl_store_get_item(WL_METADATA_TABLE, wl_store_id_key(id));
	wl_execute_metadata(conn, call);
	return wl_store_get_item_result(call->response);
}

/*
 * Reads a collection's metadata item, strongly consistent.  Returns NULL
 * when there is no such collection, and then sets *taken (when not NULL) if
 * its id holds another project's or stage's collection; raises a clear
 * error when the server was never set up.
 */
static WlMeta *
wl_read_metadata(WlConnection *conn, const char *name, bool *taken)
{
	struct json_object *item = wl_metadata_item(conn, wl_metadata_id(conn, name));
	WlMeta	   *meta;
	char		reason[256];

	if (taken != NULL)
		*taken = false;
	if (item == NULL)
		return NULL;
	meta = wl_meta_from_item(item, reason, sizeof(reason));
	if (meta == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("metadata of collection \"%s\" is malformed: %s", name, reason)));
	if (!wl_meta_is_ours(meta, conn, name))
	{
		wl_meta_free(meta);
		if (taken != NULL)
			*taken = true;
		return NULL;
	}
	return meta;
}

/* Raises the error for a collection that does not exist. */
static void
wl_no_such_collection(WlConnection *conn, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("collection \"%s\" does not exist on server \"%s\"", name, conn->server_name),
			 errhint("See SELECT * FROM whiplash_collections('%s').", conn->server_name)));
}

/*
 * Returns a collection's settings and hash functions, from the cache when
 * fresh.  A native collection still waiting for its centre is always
 * re-read, so that every backend hashes with the centre once it is set.
 */
WlCollection *
wl_collection_open(WlConnection *conn, const char *name)
{
	WlCollectionKey key;
	WlCollectionEntry *entry;
	bool		found;
	WlMeta	   *meta;
	WlLsh	   *lsh;

	wl_check_collection_name(name);
	if (wl_collections == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(WlCollectionKey);
		ctl.entrysize = sizeof(WlCollectionEntry);
		wl_collections = hash_create("whiplash collections", 16, &ctl,
									 HASH_ELEM | HASH_BLOBS);
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, wl_collection_server_changed, (Datum) 0);
	}
	memset(&key, 0, sizeof(key));
	key.serverid = conn->serverid;
	strlcpy(key.name, name, sizeof(key.name));
	AcceptInvalidationMessages();
	entry = hash_search(wl_collections, &key, HASH_FIND, NULL);
	if (entry != NULL && entry->loaded_at != 0 &&
		!TimestampDifferenceExceeds(entry->loaded_at, GetCurrentTimestamp(),
									wl_collection_cache_ttl_ms) &&
		!(entry->collection.meta->auto_center && entry->collection.meta->center == NULL))
		return &entry->collection;

	meta = wl_read_metadata(conn, name, NULL);
	if (meta == NULL)
	{
		wl_collection_forget(conn->serverid, name);
		wl_no_such_collection(conn, name);
	}
	lsh = wl_meta_lsh(meta);
	if (lsh == NULL)
	{
		wl_meta_free(meta);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	entry = hash_search(wl_collections, &key, HASH_ENTER, &found);
	if (found)
		wl_collection_release(&entry->collection);
	entry->collection.meta = meta;
	entry->collection.lsh = lsh;
	entry->loaded_at = GetCurrentTimestamp();
	return &entry->collection;
}

/*
 * Fixes the centre of a native collection on its first write: the mean of
 * the first batch of vectors.  Data whose vectors all point one way (pixel
 * intensities, many embeddings) would otherwise fall on one side of every
 * hyperplane through the origin and crowd into a few buckets.  Only one
 * writer wins (a conditional update); the others adopt its centre.
 */
void
wl_collection_ensure_center(WlConnection *conn, WlCollection *collection,
							float *const *vectors, int nvectors)
{
	WlMeta	   *meta = collection->meta;
	WlDdbCall  *call;
	double	   *sum;
	float	   *center;
	int			i;
	int			d;

	if (meta->format != WL_FORMAT_NATIVE || !meta->auto_center ||
		meta->center != NULL || nvectors == 0)
		return;

	sum = palloc0(sizeof(double) * meta->dims);
	for (i = 0; i < nvectors; i++)
		for (d = 0; d < meta->dims; d++)
			sum[d] += vectors[i][d];
	center = palloc(sizeof(float) * meta->dims);
	for (d = 0; d < meta->dims; d++)
		center[d] = (float) (sum[d] / nvectors);

	call = wl_calls_new(1);
	call->operation = "UpdateItem";
	call->table = WL_METADATA_TABLE;
	call->request = wl_meta_center_update(WL_METADATA_TABLE, meta->id, center, meta->dims);
	wl_execute(conn, call, 1);
	if (call->error.kind != WL_DDB_OK &&
		!(call->error.kind == WL_DDB_SERVICE_ERROR &&
		  strcmp(call->error.type, "ConditionalCheckFailedException") == 0))
		wl_report_call_error(conn, call);

	/* Re-read: ours or the winner's centre, and a missing item if dropped. */
	wl_collection_forget(conn->serverid, meta->name);
}

/* A random lower-case hex string of 2 * nbytes digits (nbytes <= 16). */
static char *
wl_random_hex(int nbytes)
{
	unsigned char bytes[16];
	char	   *out = palloc(2 * nbytes + 1);
	int			i;

	if (!pg_strong_random(bytes, nbytes))
		ereport(ERROR, (errmsg("could not generate random bytes")));
	for (i = 0; i < nbytes; i++)
		sprintf(out + 2 * i, "%02x", bytes[i]);
	return out;
}

/*
 * Whether the count update carrying token took effect, read back from the
 * metadata item after its condition failed: false when the collection is
 * gone.
 */
static bool
wl_count_update_applied(WlConnection *conn, WlMeta *meta, const char *token)
{
	struct json_object *item = wl_metadata_item(conn, meta->id);

	return item != NULL && wl_meta_count_applied(item, token);
}

/*
 * Adds the change in vectors to the collection's count, which sizes the
 * candidate budget and the depth of searches.  Each update carries a fresh
 * token, so that a retry after a lost answer does not count twice.  The
 * count stays approximate: writers racing on one id may both count it, and
 * a retry counts twice if another writer's update came between it and its
 * lost first attempt.
 */
void
wl_update_count(WlConnection *conn, WlMeta *meta, int64 change)
{
	WlDdbCall  *call = wl_calls_new(1);
	char	   *token = wl_random_hex(16);

	call->operation = "UpdateItem";
	call->table = WL_METADATA_TABLE;
	call->request = wl_meta_count_update(WL_METADATA_TABLE, meta->id, change, token);
	wl_execute(conn, call, 1);
	if (call->error.kind == WL_DDB_SERVICE_ERROR &&
		strcmp(call->error.type, "ConditionalCheckFailedException") == 0)
	{
		if (!wl_count_update_applied(conn, meta, token))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("collection \"%s\" was dropped during the write", meta->name)));
	}
	else if (call->error.kind != WL_DDB_OK)
		wl_report_call_error(conn, call);
	meta->vector_count += change;
}

/*
 * The collection behind a foreign table, and a connection to its server.
 * Raises a clear error for a relation that is not a whiplash foreign table
 * or lacks the collection option.
 */
WlCollection *
wl_collection_for_relation(Oid relid, WlConnection **conn)
{
	ForeignTable *table;
	ForeignServer *server;
	ForeignDataWrapper *fdw;
	char	   *name = NULL;
	ListCell   *cell;

	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a whiplash foreign table", get_rel_name(relid)),
				 errhint("Map the collection with CREATE FOREIGN TABLE ... SERVER ... OPTIONS (collection '...').")));
	table = GetForeignTable(relid);
	server = GetForeignServer(table->serverid);
	fdw = GetForeignDataWrapper(server->fdwid);
	if (strcmp(fdw->fdwname, "whiplash") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a whiplash foreign table", get_rel_name(relid))));
	foreach(cell, table->options)
	{
		DefElem    *def = (DefElem *) lfirst(cell);

		if (strcmp(def->defname, "collection") == 0)
			name = defGetString(def);
	}
	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("foreign table \"%s\" has no collection option", get_rel_name(relid)),
				 errhint("ALTER FOREIGN TABLE %s OPTIONS (ADD collection '...').",
						 quote_identifier(get_rel_name(relid)))));
	*conn = wl_connect(server->serverid);
	return wl_collection_open(*conn, name);
}

/* Fills one row of collection settings (the OUT columns of both SRFs). */
static void
wl_settings_values(const WlMeta *meta, Datum *values, bool *nulls)
{
	memset(nulls, 0, sizeof(bool) * 8);
	values[0] = CStringGetTextDatum(meta->name);
	values[1] = Int32GetDatum(meta->dims);
	values[2] = CStringGetTextDatum(wl_metric_name(meta->metric));
	values[3] = Int32GetDatum(meta->ntables);
	values[4] = Int32GetDatum(meta->bits[0]);
	values[5] = CStringGetTextDatum(meta->format == WL_FORMAT_V1 ? "v1" : "native");
	values[6] = CStringGetTextDatum(meta->vectors_table);
	values[7] = CStringGetTextDatum(meta->buckets_table);
}

/* Returns one settings row from a function declared with OUT columns. */
static Datum
wl_settings_tuple(FunctionCallInfo fcinfo, const WlMeta *meta)
{
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	wl_settings_values(meta, values, nulls);
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls));
}

/* Reads a strictly required argument, with a clear error when NULL. */
#define WL_REQUIRE_ARG(n, what) \
	do { \
		if (PG_ARGISNULL(n)) \
			ereport(ERROR, \
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), \
					 errmsg("%s must not be null", (what)))); \
	} while (0)

/*
 * Raises the error for a collection name whose metadata id holds another
 * project's or stage's collection (names join with '_' into ids).
 */
static void
wl_id_taken(WlConnection *conn, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_DUPLICATE_OBJECT),
			 errmsg("collection \"%s\" cannot be created on server \"%s\"",
					name, conn->server_name),
			 errdetail("Its metadata id \"%s\" holds a collection of another project or stage whose names join to the same id.",
					   wl_metadata_id(conn, name)),
			 errhint("Choose another collection name.")));
}

/*
 * Deletes a collection's two tables, all at once; tables already gone are
 * fine.  With report false, failures are ignored (a clean-up on an error
 * path that already has its own error to raise).
 */
static void
wl_delete_tables(WlConnection *conn, const char **tables, bool report)
{
	WlDdbCall  *calls = wl_calls_new(2);
	int			i;

	for (i = 0; i < 2; i++)
	{
		calls[i].operation = "DeleteTable";
		calls[i].table = tables[i];
		calls[i].request = wl_ddb_table_request(tables[i]);
	}
	wl_execute(conn, calls, 2);
	for (i = 0; i < 2 && report; i++)
		if (calls[i].error.kind != WL_DDB_OK &&
			!(calls[i].error.kind == WL_DDB_SERVICE_ERROR &&
			  strcmp(calls[i].error.type, "ResourceNotFoundException") == 0))
			wl_report_call_error(conn, &calls[i]);
}

/*
 * whiplash_create_collection(server, collection, dimensions, metric,
 * tables, bits, seed, center): creates the collection's two tables, waits
 * until they are ACTIVE, then writes its metadata item (only if absent), so
 * that a collection is never listed before it can be used.
 */
Datum
whiplash_create_collection(PG_FUNCTION_ARGS)
{
	ForeignServer *server;
	WlConnection *conn;
	char	   *name;
	int			dims;
	WlMetric	metric;
	int			ntables;
	int			bits;
	int			fine_bits;
	uint64		seed;
	float	   *center = NULL;
	WlMeta	   *meta;
	WlMeta	   *existing;
	bool		taken;
	WlDdbCall  *calls;
	char	   *metric_name;

	WL_REQUIRE_ARG(0, "server name");
	WL_REQUIRE_ARG(1, "collection name");
	WL_REQUIRE_ARG(2, "dimensions");
	WL_REQUIRE_ARG(3, "metric");
	WL_REQUIRE_ARG(4, "tables");
	WL_REQUIRE_ARG(5, "bits");
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	wl_check_collection_name(name);
	dims = PG_GETARG_INT32(2);
	if (dims < 1 || dims > WL_MAX_DIMS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions must be between 1 and %d", WL_MAX_DIMS)));
	metric_name = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (!wl_metric_parse(metric_name, &metric))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown metric \"%s\"", metric_name),
				 errhint("Valid metrics are cosine, l2 and inner_product.")));
	ntables = PG_GETARG_INT32(4);
	if (ntables < 1 || ntables > 64)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tables must be between 1 and 64")));
	bits = PG_GETARG_INT32(5);
	if (bits < 1 || bits > 62)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bits must be between 1 and 62")));
	fine_bits = PG_ARGISNULL(8) ? Min(WL_META_FINE_BITS, WL_LSH_MAX_SEEDED_BITS - bits) :
		PG_GETARG_INT32(8);
	if (fine_bits < 0 || fine_bits > Min(WL_LSH_MAX_SUFFIX_BITS, WL_LSH_MAX_SEEDED_BITS - bits))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fine_bits must be between 0 and %d",
						Min(WL_LSH_MAX_SUFFIX_BITS, WL_LSH_MAX_SEEDED_BITS - bits)),
				 errhint("Bits and fine_bits together may not pass %d.",
						 WL_LSH_MAX_SEEDED_BITS)));
	if (!PG_ARGISNULL(6))
		seed = (uint64) PG_GETARG_INT64(6);
	else if (!pg_strong_random(&seed, sizeof(seed)))
		ereport(ERROR, (errmsg("could not generate a random seed")));
	if (!PG_ARGISNULL(7))
	{
		int			ndims;

		center = wl_array_to_vector(PG_GETARG_ARRAYTYPE_P(7), dims, "center", &ndims);
	}

	server = wl_lookup_server(PG_GETARG_NAME(0));
	conn = wl_connect(server->serverid);
	existing = wl_read_metadata(conn, name, &taken);
	if (existing != NULL)
	{
		wl_meta_free(existing);
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("collection \"%s\" already exists on server \"%s\"",
						name, server->servername)));
	}
	if (taken)
		wl_id_taken(conn, name);

	meta = wl_meta_new_native(conn->options.project, conn->options.stage, name, dims,
							  metric, ntables, bits, fine_bits, seed & INT64CONST(0x7fffffffffffffff),
							  wl_random_hex(4), center, center == NULL);
	if (meta == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	PG_TRY();
	{
		calls = wl_calls_new(2);
		calls[0].operation = "CreateTable";
		calls[0].table = meta->vectors_table;
		calls[0].request = wl_ddb_create_table_request(meta->vectors_table, WL_ATTR_ID, NULL);
		calls[1].operation = "CreateTable";
		calls[1].table = meta->buckets_table;
		calls[1].request = wl_ddb_create_table_request(meta->buckets_table, WL_ATTR_BUCKET,
													   WL_ATTR_ID);
		wl_execute_checked(conn, calls, 2);
		wl_wait_table_active(conn, meta->vectors_table);
		wl_wait_table_active(conn, meta->buckets_table);

		calls = wl_calls_new(1);
		calls->operation = "PutItem";
		calls->table = WL_METADATA_TABLE;
		calls->request = wl_store_put_item(WL_METADATA_TABLE, wl_meta_to_item(meta),
										   "attribute_not_exists(id)");
		wl_execute(conn, calls, 1);
		if (calls->error.kind == WL_DDB_SERVICE_ERROR &&
			strcmp(calls->error.type, "ConditionalCheckFailedException") == 0)
		{
			/* Lost a race: the tables just made belong to nobody. */
			const char *tables[2] = {meta->vectors_table, meta->buckets_table};

			wl_delete_tables(conn, tables, false);
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("collection \"%s\" already exists on server \"%s\"",
							name, server->servername),
					 errdetail("Another session created it first.")));
		}
		if (calls->error.kind != WL_DDB_OK)
			wl_report_call_error(conn, calls);
	}
	PG_CATCH();
	{
		wl_meta_free(meta);
		PG_RE_THROW();
	}
	PG_END_TRY();

	wl_collection_forget(conn->serverid, name);
	{
		Datum		result = wl_settings_tuple(fcinfo, meta);

		wl_meta_free(meta);
		PG_RETURN_DATUM(result);
	}
}

/*
 * whiplash_drop_collection(server, collection): removes the metadata item
 * first, so that the collection disappears at once, then both tables.
 */
Datum
whiplash_drop_collection(PG_FUNCTION_ARGS)
{
	ForeignServer *server;
	WlConnection *conn;
	WlCollection *collection;
	WlDdbCall  *calls;
	char	   *name;
	char	   *tables[2];

	WL_REQUIRE_ARG(0, "server name");
	WL_REQUIRE_ARG(1, "collection name");
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	server = wl_lookup_server(PG_GETARG_NAME(0));
	conn = wl_connect(server->serverid);
	wl_collection_forget(conn->serverid, name);
	collection = wl_collection_open(conn, name);
	tables[0] = pstrdup(collection->meta->vectors_table);
	tables[1] = pstrdup(collection->meta->buckets_table);

	calls = wl_calls_new(1);
	calls->operation = "DeleteItem";
	calls->table = WL_METADATA_TABLE;
	calls->request = wl_store_delete_item(WL_METADATA_TABLE,
										  wl_store_id_key(collection->meta->id));
	wl_collection_forget(conn->serverid, name);
	wl_execute_checked(conn, calls, 1);

	wl_delete_tables(conn, (const char **) tables, true);
	PG_RETURN_BOOL(true);
}

/* Calls visit for one collection, and frees its metadata on every path. */
static void
wl_visit_meta(WlMeta *meta, WlCollectionVisitor visit, void *arg)
{
	PG_TRY();
	{
		visit(meta, arg);
	}
	PG_CATCH();
	{
		wl_meta_free(meta);
		PG_RE_THROW();
	}
	PG_END_TRY();
	wl_meta_free(meta);
}

/*
 * Calls visit for every collection of the connection's project and stage,
 * native and v1, reading all Scan pages.  A malformed metadata item is
 * skipped with a WARNING.
 */
void
wl_for_each_collection(WlConnection *conn, WlCollectionVisitor visit, void *arg)
{
	struct json_object *start_key = NULL;

	do
	{
		WlDdbCall  *call = wl_calls_new(1);
		struct json_object *items;
		int			nitems;
		int			i;

		call->operation = "Scan";
		call->table = WL_METADATA_TABLE;
		call->request = wl_meta_scan_request(WL_METADATA_TABLE, conn->options.project,
											 conn->options.stage, start_key);
		wl_execute_metadata(conn, call);

		nitems = wl_store_items(call->response, WL_METADATA_TABLE, &items);
		for (i = 0; i < nitems; i++)
		{
			char		reason[256];
			WlMeta	   *meta = wl_meta_from_item(wl_store_item_at(items, i), reason,
												 sizeof(reason));

			if (meta == NULL)
			{
				ereport(WARNING,
						(errmsg("skipping a malformed collection metadata item: %s", reason)));
				continue;
			}
			wl_visit_meta(meta, visit, arg);
		}
		start_key = wl_store_last_key(call->response);
	} while (start_key != NULL);
}

/* Adds one collection's settings to the SRF's tuplestore. */
static void
wl_put_settings_row(const WlMeta *meta, void *arg)
{
	ReturnSetInfo *rsinfo = arg;
	Datum		values[8];
	bool		nulls[8];

	wl_settings_values(meta, values, nulls);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* whiplash_collections(server): every collection of its project and stage. */
Datum
whiplash_collections(PG_FUNCTION_ARGS)
{
	ForeignServer *server;
	WlConnection *conn;

	WL_REQUIRE_ARG(0, "server name");
	server = wl_lookup_server(PG_GETARG_NAME(0));
	conn = wl_connect(server->serverid);
	InitMaterializedSRF(fcinfo, 0);
	wl_for_each_collection(conn, wl_put_settings_row, fcinfo->resultinfo);
	return (Datum) 0;
}

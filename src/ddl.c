/*
 * ddl.c - the SQL functions that create, drop and list collections.
 *
 * A collection is created tables first: both tables are made and waited
 * for until ACTIVE, and only then is its metadata item written (only if
 * absent), so that a collection is never listed before it can be used.  A
 * drop removes the metadata item first, so that the collection disappears
 * at once, then the tables.
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"

#include "compat.h"
#include "core/operations.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_create_collection);
PG_FUNCTION_INFO_V1(whiplash_drop_collection);
PG_FUNCTION_INFO_V1(whiplash_collections);

/* The OUT columns of whiplash_create_collection and whiplash_collections. */
#define WL_SETTINGS_COLUMNS 8

/* What whiplash_create_collection was asked for, checked. */
typedef struct WlCreateArgs
{
	char	   *name;
	int			dims;
	WlMetric	metric;
	int			ntables;
	int			bits;
	int			fine_bits;
	uint64		seed;
	float	   *center;			/* NULL: the mean of the first write */
	const WlFormat *format;
} WlCreateArgs;

/* Reads a strictly required argument, with a clear error when NULL. */
#define WL_REQUIRE_ARG(n, what) \
	do { \
		if (PG_ARGISNULL(n)) \
			ereport(ERROR, \
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), \
					 errmsg("%s must not be null", (what)))); \
	} while (0)

/* Fills one row of collection settings (the OUT columns of both SRFs). */
static void
wl_settings_values(const WlMeta *meta, Datum *values, bool *nulls)
{
	memset(nulls, 0, sizeof(bool) * WL_SETTINGS_COLUMNS);
	values[0] = CStringGetTextDatum(meta->name);
	values[1] = Int32GetDatum(meta->dims);
	values[2] = CStringGetTextDatum(wl_metric_name(meta->metric));
	values[3] = Int32GetDatum(meta->ntables);
	/* a trained index sizes its own cells: no bits of the user's to show */
	values[4] = Int32GetDatum(meta->bits[0]);
	nulls[4] = meta->format->trained;
	values[5] = CStringGetTextDatum(meta->format->name);
	values[6] = CStringGetTextDatum(meta->vectors_table);
	values[7] = CStringGetTextDatum(meta->buckets_table);
}

/* Returns one settings row from a function declared with OUT columns. */
static Datum
wl_settings_tuple(FunctionCallInfo fcinfo, const WlMeta *meta)
{
	TupleDesc	tupdesc;
	Datum		values[WL_SETTINGS_COLUMNS];
	bool		nulls[WL_SETTINGS_COLUMNS];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	wl_settings_values(meta, values, nulls);
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls));
}

/* A new collection's generation: 8 random hex digits, in its tables' names. */
static char *
wl_generation(void)
{
	unsigned char bytes[4];

	if (!pg_strong_random(bytes, sizeof(bytes)))
		ereport(ERROR, (errmsg("could not generate random bytes")));
	return psprintf("%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
}

/*
 * Refuses bits, center and fine_bits for a format whose index is trained:
 * it chooses them from the collection's own vectors, so a value given would
 * be silently ignored.
 */
static void
wl_check_format_args(FunctionCallInfo fcinfo, const WlFormat *format)
{
	static const struct
	{
		int			arg;
		const char *name;
	}			native_only[] = {{5, "bits"}, {7, "center"}, {8, "fine_bits"}};
	size_t		i;

	if (!format->trained)
		return;
	for (i = 0; i < lengthof(native_only); i++)
		if (!PG_ARGISNULL(native_only[i].arg))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s does not apply to a collection in format \"%s\"",
							native_only[i].name, format->name),
					 errhint("Such a collection learns its buckets and centre from its own vectors when its index is trained; format => 'native' takes them.")));
}

/* Reads and checks the arguments of whiplash_create_collection. */
static void
wl_create_args(FunctionCallInfo fcinfo, WlCreateArgs *args)
{
	int			max_fine;

	WL_REQUIRE_ARG(0, "server name");
	WL_REQUIRE_ARG(1, "collection name");
	WL_REQUIRE_ARG(2, "dimensions");
	WL_REQUIRE_ARG(3, "metric");
	args->format = wl_format_current();
	/* bits, center and fine_bits shape a native index: asking for one picks it */
	if (!PG_ARGISNULL(5) || !PG_ARGISNULL(7) || !PG_ARGISNULL(8))
		args->format = wl_format_by_name("native");
	if (PG_NARGS() > 9 && !PG_ARGISNULL(9))
	{
		char	   *format = text_to_cstring(PG_GETARG_TEXT_PP(9));

		args->format = wl_format_by_name(format);
		if (args->format == NULL || args->format->write_meta == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("collections cannot be created in format \"%s\"", format),
					 errhint("New collections are \"packed\" (the default), with compact codes and an index trained on the collection's own vectors, or \"native\", the layout of whiplash 0.1.")));
	}
	wl_check_format_args(fcinfo, args->format);
	args->name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	wl_check_collection_name(args->name);
	args->dims = PG_GETARG_INT32(2);
	if (args->dims < 1 || args->dims > WL_MAX_DIMS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions must be between 1 and %d", WL_MAX_DIMS)));
	args->metric = wl_metric_of_name(text_to_cstring(PG_GETARG_TEXT_PP(3)));
	args->ntables = PG_ARGISNULL(4) ?
		args->format->default_tables : PG_GETARG_INT32(4);
	if (args->ntables < 1 || args->ntables > 64)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tables must be between 1 and 64")));
	/* a trained index chooses its bits from the collection's size */
	args->bits = PG_ARGISNULL(5) ? 12 : PG_GETARG_INT32(5);
	if (args->bits < 1 || args->bits > 62)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bits must be between 1 and 62")));
	max_fine = Min(WL_LSH_MAX_SUFFIX_BITS, WL_LSH_MAX_SEEDED_BITS - args->bits);
	args->fine_bits = PG_ARGISNULL(8) ?
		Min(WL_META_FINE_BITS, WL_LSH_MAX_SEEDED_BITS - args->bits) : PG_GETARG_INT32(8);
	if (args->fine_bits < 0 || args->fine_bits > max_fine)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fine_bits must be between 0 and %d", max_fine),
				 errhint("Bits and fine_bits together may not pass %d.",
						 WL_LSH_MAX_SEEDED_BITS)));
	if (!args->format->trained &&
		!wl_meta_planes_fit(args->dims, args->ntables, args->bits + args->fine_bits))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%d tables of %d bits over %d dimensions need more planes than whiplash derives",
						args->ntables, args->bits + args->fine_bits, args->dims),
				 errhint("Tables x (bits + fine_bits) x dimensions may be at most %d; use fewer tables or bits, or the packed format.",
						 WL_META_MAX_PLANE_VALUES)));
	if (!PG_ARGISNULL(6))
		args->seed = (uint64) PG_GETARG_INT64(6);
	else if (!pg_strong_random(&args->seed, sizeof(args->seed)))
		ereport(ERROR, (errmsg("could not generate a random seed")));
	args->seed &= INT64CONST(0x7fffffffffffffff);
	args->center = NULL;
	if (!PG_ARGISNULL(7))
	{
		int			ndims;

		args->center = wl_array_to_vector(PG_GETARG_ARRAYTYPE_P(7), args->dims, "center",
										  &ndims);
	}
}

/*
 * Makes a new collection's tables, waits for them, then writes its
 * metadata item unless another session wrote one first.
 */
static void
wl_create_collection(WlConnection *conn, WlMeta *meta)
{
	const char *tables[2] = {meta->vectors_table, meta->buckets_table};
	WlDdbCall  *calls = wl_calls_new(2);

	wl_op_create_table(&calls[0], meta->vectors_table, WL_ATTR_ID, NULL);
	wl_op_create_table(&calls[1], meta->buckets_table, meta->format->bucket_hash_key,
					   meta->format->bucket_range_key);
	wl_run_once(conn, calls, 2, NULL);
	wl_wait_table_active(conn, meta->vectors_table);
	wl_wait_table_active(conn, meta->buckets_table);

	calls = wl_calls_new(1);
	wl_op_put_item(calls, WL_METADATA_TABLE, wl_meta_to_item(meta), "attribute_not_exists(id)");
	wl_metadata_run(conn, calls);
	if (wl_op_failed_with(calls, "ConditionalCheckFailedException"))
	{
		/* Lost a race: the tables just made belong to nobody. */
		wl_delete_tables(conn, tables, 2, false);
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("collection \"%s\" already exists on server \"%s\"",
						meta->name, conn->server_name),
				 errdetail("Another session created it first.")));
	}
}

/*
 * whiplash_create_collection(server, collection, dimensions, metric,
 * tables, bits, seed, center, fine_bits): creates the collection in the
 * current format and returns its settings.
 */
Datum
whiplash_create_collection(PG_FUNCTION_ARGS)
{
	WlCreateArgs args;
	WlConnection *conn;
	WlMeta	   *meta;
	WlMeta	   *existing;
	bool		taken;
	Datum		result;

	wl_create_args(fcinfo, &args);
	conn = wl_connect(wl_lookup_server(PG_GETARG_NAME(0))->serverid);
	existing = wl_read_metadata(conn, args.name, &taken);
	if (existing != NULL)
	{
		wl_meta_free(existing);
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("collection \"%s\" already exists on server \"%s\"",
						args.name, conn->server_name)));
	}
	if (taken)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("collection \"%s\" cannot be created on server \"%s\"",
						args.name, conn->server_name),
				 errdetail("Its metadata id \"%s\" holds a collection of another project or stage whose names join to the same id.",
						   wl_metadata_id(conn, args.name)),
				 errhint("Choose another collection name.")));

	meta = wl_meta_new(args.format, conn->options.project, conn->options.stage, args.name, args.dims,
					   args.metric, args.ntables, args.bits, args.fine_bits, args.seed,
					   wl_generation(), args.center,
					   args.center == NULL && !args.format->trained);
	if (meta == NULL)
		wl_report_out_of_memory();
	PG_TRY();
	{
		wl_create_collection(conn, meta);
		wl_collection_forget(conn->serverid, args.name);
		result = wl_settings_tuple(fcinfo, meta);
	}
	PG_CATCH();
	{
		wl_meta_free(meta);
		PG_RE_THROW();
	}
	PG_END_TRY();
	wl_meta_free(meta);
	PG_RETURN_DATUM(result);
}

/*
 * whiplash_drop_collection(server, collection): removes the metadata item
 * first, so that the collection disappears at once, then both tables.
 */
Datum
whiplash_drop_collection(PG_FUNCTION_ARGS)
{
	WlConnection *conn;
	WlCollection *collection;
	WlDdbCall  *call;
	char	   *name;
	const char *tables[2];

	WL_REQUIRE_ARG(0, "server name");
	WL_REQUIRE_ARG(1, "collection name");
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	conn = wl_connect(wl_lookup_server(PG_GETARG_NAME(0))->serverid);
	wl_collection_forget(conn->serverid, name);
	collection = wl_collection_open(conn, name);
	tables[0] = pstrdup(collection->meta->vectors_table);
	tables[1] = pstrdup(collection->meta->buckets_table);

	call = wl_calls_new(1);
	wl_op_delete_item(call, WL_METADATA_TABLE, wl_store_id_key(collection->meta->id));
	wl_collection_forget(conn->serverid, name);
	wl_run_once(conn, call, 1, NULL);

	wl_delete_tables(conn, tables, 2, true);
	PG_RETURN_BOOL(true);
}

/* One collection's settings row, gathered to be returned in name order. */
typedef struct WlSettingsRow
{
	char	   *name;
	Datum		values[WL_SETTINGS_COLUMNS];
	bool		nulls[WL_SETTINGS_COLUMNS];
} WlSettingsRow;

/* Gathers one collection's settings row into a List. */
static void
wl_gather_settings_row(const WlMeta *meta, void *arg)
{
	List	  **rows = arg;
	WlSettingsRow *row = palloc(sizeof(WlSettingsRow));

	row->name = pstrdup(meta->name);
	wl_settings_values(meta, row->values, row->nulls);
	*rows = lappend(*rows, row);
}

/* Orders settings rows by their collections' names. */
static int
wl_compare_rows_by_name(const ListCell *a, const ListCell *b)
{
	return strcmp(((WlSettingsRow *) lfirst(a))->name, ((WlSettingsRow *) lfirst(b))->name);
}

/* whiplash_collections(server): every collection of its project and stage. */
Datum
whiplash_collections(PG_FUNCTION_ARGS)
{
	WlConnection *conn;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *rows = NIL;
	ListCell   *cell;

	WL_REQUIRE_ARG(0, "server name");
	conn = wl_connect(wl_lookup_server(PG_GETARG_NAME(0))->serverid);
	InitMaterializedSRF(fcinfo, 0);
	wl_for_each_collection(conn, wl_gather_settings_row, &rows);
	list_sort(rows, wl_compare_rows_by_name);
	foreach(cell, rows)
	{
		WlSettingsRow *row = lfirst(cell);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row->values, row->nulls);
	}
	return (Datum) 0;
}

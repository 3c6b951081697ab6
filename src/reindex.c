/*
 * reindex.c - an index build: trains a collection's index on a sample of
 * its own vectors and writes it, while the collection stays searchable.
 * whiplash_reindex runs it (builds.c), and so do background workers
 * (worker.c) and, with whiplash.background_builds off, writes.
 *
 * A build makes a new index generation (core/format_packed.c):
 *   1. sample: wl_packed_sample_size vectors, read by Scan (DynamoDB
 *      returns items in the order of their keys' hashes: a fair sample);
 *   2. train the model on it, store the model's items, and mark the
 *      generation as building in the metadata (a conditional update: one
 *      build at a time); from then on every writer writes both the current
 *      generation and the new one;
 *   3. records: every vector, read by Scan, gets its records in the new
 *      generation;
 *   4. switch: the new generation becomes the current one;
 *   5. clean up: the items of older generations (and, for a collection
 *      converted from the native format, its old entries) are deleted.
 * Searches use the current generation until step 4, and an untrained
 * collection is searched exactly.  Every step can be interrupted: run
 * again, a build resumes the generation it finds building (its model is
 * stored), and writing records again does no harm.  A native (format 2)
 * collection is converted to the packed format in place; v1 collections
 * keep the original library's layout.
 */
#include "postgres.h"

#include <math.h>
#include <time.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "core/operations.h"
#include "core/packed.h"
#include "core/recordname.h"
#include "core/tune.h"
#include "whiplash.h"

/* Vectors whose records are gathered before they are written. */
#define WL_REINDEX_BATCH 50000

/* Seconds between a build's signs that its session is at work on it. */
#define WL_REINDEX_ACTIVE_EVERY 60

/* Told of every build's progress (worker.c sets it in its process). */
WlBuildProgressHook wl_build_progress_hook = NULL;

/* Tells the progress hook, if any, where a build is. */
static void
wl_reindex_progress(WlBuildPhase phase, int64 done, int64 total)
{
	if (wl_build_progress_hook != NULL)
		wl_build_progress_hook(phase, done, total);
}

/* A sample being gathered: its vectors, and a hash of each one's id. */
typedef struct WlSample
{
	float	   *vectors;
	uint64	   *hashes;
	double		id_bytes;		/* of every id added */
	double		name_bytes;		/* of their records' names (recordname.h) */
	int			n;
	int			dims;
	WlMetric	metric;
} WlSample;

/* A build in progress. */
typedef struct WlReindex
{
	WlConnection *conn;
	char	   *name;			/* of the collection */
	WlPackedIndex building;
	bool		quiet;			/* no progress NOTICEs (an automatic build) */
	TimestampTz started;
	ReturnSetInfo *rsinfo;		/* whiplash_reindex's result rows, or NULL */
	long		requests_before;
	WlSample	queries;		/* held out of training, to calibrate with */
	char	   *replacing;		/* token of a build whose model cannot be
								 * read, which this one replaces; or NULL */
	int64		active_at;		/* the build's "active_at" as last set */
	const WlBuildAttrs *attrs;	/* the attributes its records are to carry,
								 * or NULL: the current index's */
	WlUnseenValue *listed;		/* unseen values when its records' Scan
								 * began, which its statistics list */
	int			nlisted;		/* -1: unreadable, so none are listed */
} WlReindex;

/* Seconds since the build started. */
static double
wl_reindex_seconds(WlReindex *build)
{
	long		secs;
	int			usecs;

	TimestampDifference(build->started, GetCurrentTimestamp(), &secs, &usecs);
	return secs + usecs / 1e6;
}

/* Reports a finished step: a result row and, unless quiet, a NOTICE. */
static void
wl_reindex_step(WlReindex *build, const char *step, int64 count, const char *what)
{
	WlDdbStats	stats;

	if (!build->quiet)
		ereport(NOTICE,
				(errmsg("reindexing collection \"%s\": %s, " INT64_FORMAT " %s",
						build->name, step, count, what)));
	if (build->rsinfo != NULL)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		wl_ddb_get_stats(build->conn->ddb, &stats);
		values[0] = CStringGetTextDatum(step);
		values[1] = Int64GetDatum(count);
		values[2] = Int64GetDatum(stats.requests - build->requests_before);
		values[3] = Float8GetDatum(wl_reindex_seconds(build));
		tuplestore_putvalues(build->rsinfo->setResult, build->rsinfo->setDesc, values, nulls);
	}
}

/* The collection as it is now, read again. */
static WlCollection *
wl_reindex_reopen(WlReindex *build)
{
	wl_collection_forget(build->conn->serverid, build->name);
	return wl_collection_open(build->conn, build->name);
}

/*
 * Calls visit for every vector of the collection, a Scan page at a time,
 * with the page's vectors decoded; stops after `most` vectors (0: all).
 * Returns how many were visited.  A vector item that does not decode is
 * an error: the index would miss it.
 */
int64
wl_visit_vectors(WlConnection *conn, const WlMeta *meta, int64 most, WlVectorVisitor visit,
				void *arg)
{
	WlDdbCall  *call;
	WlPages    *pages = wl_pages_begin(conn, &call);
	float	   *vector = palloc(sizeof(float) * meta->dims);
	int64		count = 0;

	wl_op_scan(call, meta->vectors_table, NULL, NULL, 0, true);
	while ((most == 0 || count < most) && (call = wl_pages_next(pages, NULL)) != NULL)
	{
		struct json_object *items;
		int			nitems = wl_op_items(call, &items);
		int			i;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < nitems && (most == 0 || count < most); i++)
		{
			struct json_object *item = wl_op_item_at(items, i);
			const char *id = wl_store_item_id(item);

			if (id == NULL || wl_store_item_vector(item, meta->dims, vector) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("vector \"%s\" of collection \"%s\" is not an id and %d float32 values",
								id ? id : "?", meta->name, meta->dims),
						 errhint("Delete or rewrite it, then reindex again.")));
			visit(id, vector, item, arg);
			count++;
		}
	}
	wl_pages_end(pages);
	return count;
}

/* Adds a vector to the sample. */
static void
wl_sample_add(const char *id, const float *vector, struct json_object *item, void *arg)
{
	WlSample   *sample = arg;

	memcpy(sample->vectors + (size_t) sample->n * sample->dims, vector,
		   sizeof(float) * sample->dims);
	sample->hashes[sample->n] = wl_text_hash(id);
	sample->id_bytes += strlen(id);
	sample->name_bytes += wl_record_name_len(id, true);
	sample->n++;
}

/* An empty sample of room for `most` vectors of a collection. */
static void
wl_sample_init(WlSample *sample, const WlMeta *meta, int most)
{
	sample->dims = meta->dims;
	sample->metric = meta->metric;
	sample->n = 0;
	sample->id_bytes = 0;
	sample->name_bytes = 0;
	sample->vectors = palloc_extended(sizeof(float) * meta->dims * Max(most, 1),
									  MCXT_ALLOC_HUGE);
	sample->hashes = palloc_extended(sizeof(uint64) * Max(most, 1), MCXT_ALLOC_HUGE);
}

/* Orders sample slots by their ids' hashes. */
static int
wl_sample_compare(const void *a, const void *b, void *arg)
{
	const uint64 *hashes = arg;
	uint64		ha = hashes[*(const int *) a];
	uint64		hb = hashes[*(const int *) b];

	return ha < hb ? -1 : ha > hb;
}

/*
 * Puts the sample in the order of its ids' hashes, so that the model
 * trained on a set of vectors does not depend on the order a Scan returned
 * them in (which differs between DynamoDB implementations).
 */
static void
wl_sample_order(WlSample *sample)
{
	int		   *order = palloc(sizeof(int) * Max(sample->n, 1));
	float	   *sorted = palloc_extended(sizeof(float) * sample->dims * Max(sample->n, 1),
										 MCXT_ALLOC_HUGE);
	uint64	   *hashes = palloc(sizeof(uint64) * Max(sample->n, 1));
	int			i;

	for (i = 0; i < sample->n; i++)
		order[i] = i;
	qsort_arg(order, sample->n, sizeof(int), wl_sample_compare, sample->hashes);
	for (i = 0; i < sample->n; i++)
	{
		memcpy(sorted + (size_t) i * sample->dims,
			   sample->vectors + (size_t) order[i] * sample->dims,
			   sizeof(float) * sample->dims);
		hashes[i] = sample->hashes[order[i]];
	}
	pfree(sample->vectors);
	pfree(sample->hashes);
	pfree(order);
	sample->vectors = sorted;
	sample->hashes = hashes;
}

/*
 * A new build's token: random, so that two sessions training the same
 * generation at once write distinct model items.
 */
static void
wl_reindex_token(char *token)
{
	unsigned char bytes[WL_PACKED_TOKEN_LEN / 2];
	int			i;

	if (!pg_strong_random(bytes, sizeof(bytes)))
		ereport(ERROR, (errmsg("could not generate random bytes")));
	for (i = 0; i < (int) sizeof(bytes); i++)
		snprintf(token + 2 * i, 3, "%02x", bytes[i]);
}

/*
 * Moves the last `most` vectors of an ordered sample (a fifth of it at
 * most) out of it into the build's calibration queries, so that the index
 * is calibrated on vectors it was not trained on.
 */
static void
wl_sample_hold_out(WlReindex *build, WlSample *sample, int most)
{
	int			n = Min(most, sample->n / 5);

	build->queries.dims = sample->dims;
	build->queries.metric = sample->metric;
	build->queries.n = n;
	build->queries.vectors = sample->vectors + (size_t) (sample->n - n) * sample->dims;
	build->queries.hashes = sample->hashes + (sample->n - n);
	sample->n -= n;
}

/*
 * Gives the generation being planned the attributes its records are to
 * carry, when the build was asked for some (wl_packed_plan keeps the
 * current index's).
 */
static void
wl_reindex_plan_attrs(WlReindex *build)
{
	StaticAssertStmt(sizeof(build->building.attrs) == sizeof(build->attrs->names),
					 "a build's attributes are an index's");
	if (build->attrs == NULL || !build->attrs->asked)
		return;
	build->building.nattrs = build->attrs->n;
	build->building.partitioned = build->attrs->partitioned;
	memcpy(build->building.attrs, build->attrs->names, sizeof(build->building.attrs));
}

/*
 * Refuses to resume a build whose records carry other attributes than the
 * ones asked for: it would finish an index without them, silently.
 */
static void
wl_reindex_check_attrs(WlReindex *build)
{
	StringInfoData building;
	StringInfoData asked;
	int			i;

	if (build->attrs == NULL || !build->attrs->asked)
		return;
	initStringInfo(&building);
	initStringInfo(&asked);
	for (i = 0; i < build->building.nattrs; i++)
		appendStringInfo(&building, "%s%s", i > 0 ? ", " : "", build->building.attrs[i]);
	for (i = 0; i < build->attrs->n; i++)
		appendStringInfo(&asked, "%s%s", i > 0 ? ", " : "", build->attrs->names[i]);
	appendStringInfoString(&building, build->building.partitioned ? " (partitioned)" : "");
	appendStringInfoString(&asked, build->attrs->partitioned ? " (partitioned)" : "");
	if (strcmp(building.data, asked.data) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("collection \"%s\" is being re-indexed with other filterable attributes",
						build->name),
				 errdetail("The index being built carries \"%s\"; the table asks for \"%s\".",
						   building.data, asked.data),
				 errhint("Wait for it (whiplash_wait_for_index), then run whiplash_reindex again.")));
}

/*
 * Trains a new generation's model on a sample of the collection, stores
 * its items and returns its description (gen, parts and bytes filled).
 */
static void
wl_reindex_train(WlReindex *build, const WlMeta *meta)
{
	const WlPackedSettings *settings = wl_packed_settings_of(meta);
	WlSample	sample;
	WlModelShape shape;
	WlTuneInput tune;
	WlCalibChoice chosen;
	WlModel    *model;
	unsigned char *bytes = NULL;
	size_t		len;
	char		reason[256];
	int			queries;
	int			most;
	double		sampled;		/* vectors read, held-out queries included */

	wl_reindex_progress(WL_BUILD_TRAINING, 0, meta->vector_count);
	/* planned from the count, then fitted to the sample actually read */
	wl_packed_plan(meta, Max(meta->vector_count, 1), &build->building);
	queries = wl_calib_queries(meta->vector_count, meta->dims, build->building.rotation);
	most = wl_packed_sample_size(&build->building, meta->dims) + queries;
	wl_sample_init(&sample, meta, most);
	wl_visit_vectors(build->conn, meta, most, wl_sample_add, &sample);
	wl_sample_order(&sample);
	sampled = Max(sample.n, 1);
	wl_sample_hold_out(build, &sample, queries);
	wl_packed_plan(meta, Max(meta->vector_count, sample.n), &build->building);
	wl_reindex_plan_attrs(build);
	/* before the Scan of its records, and known to writers: WlPackedSettings */
	build->building.unseen_base = settings != NULL ? settings->unseen_overflow : 0;
	build->building.name_bytes = Max(1, (int) lround(sample.name_bytes / sampled));
	wl_packed_size_cells(&build->building, Max(meta->vector_count, sample.n), meta->dims);
	wl_packed_fit_sample(&build->building, sample.n);
	build->building.gen = settings != NULL && settings->has_current ?
		settings->current.gen + 1 : 1;
	wl_reindex_token(build->building.token);
	wl_packed_shape(meta, &build->building, &shape);
	if (meta->dims > WL_PACKED_FULL_DIMS)
		shape.keep_variance = WL_PACKED_KEEP_VARIANCE;
	memset(&tune, 0, sizeof(tune));
	tune.shape = &shape;
	tune.sample = sample.vectors;
	tune.sample_keys = sample.hashes;
	tune.n = sample.n;
	tune.queries = build->queries.vectors;
	tune.query_keys = build->queries.hashes;
	tune.nq = build->queries.n;
	tune.vectors = Max(meta->vector_count, sample.n);
	tune.name_bytes = sample.name_bytes / sampled + build->building.nattrs * WL_SLOT_BYTES;
	tune.fetch_units = ceil((sample.id_bytes / sampled + 4.0 * meta->dims + 8) / 4096.0) * 0.5;
	tune.target = wl_recall_target;
	model = wl_tune_train(&tune, wl_interrupt_requested, NULL, &chosen, reason,
						  sizeof(reason));
	if (model == NULL)
	{
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot train the index of collection \"%s\": %s", meta->name, reason)));
	}
	/* what training kept of the principal components, and the codes chosen */
	build->building.rotation = wl_model_shape(model)->rotation;
	build->building.subspaces = wl_model_shape(model)->subspaces;
	elog(DEBUG1, "whiplash: collection \"%s\" keeps %d components in codes of %d bytes (on its sample: recall %.3f for %.1f read units)",
		 meta->name, build->building.rotation, wl_model_code_bytes(model), chosen.recall,
		 chosen.units);
	len = wl_model_serialize(model, &bytes);
	wl_model_free(model);
	if (len == 0)
		wl_report_out_of_memory();
	PG_TRY();
	{
		WlDdbCall  *calls = wl_calls_new(wl_packed_model_parts(len));

		build->building.bytes = len;
		build->building.parts = wl_packed_model_write_calls(meta, &build->building, bytes,
															 len, calls);
		wl_run(build->conn, calls, build->building.parts, NULL);
	}
	PG_CATCH();
	{
		free(bytes);
		PG_RE_THROW();
	}
	PG_END_TRY();
	free(bytes);
	wl_reindex_step(build, "trained", sample.n, "sample vectors");
}

/*
 * Did a conditional update of the metadata that failed its condition take
 * effect after all: is this build's token now on the building index (or,
 * finished, on the current one)?  A retry after a lost answer fails the
 * condition its own first attempt made false.
 */
static bool
wl_reindex_took_effect(WlReindex *build, const WlDdbCall *call, bool finished)
{
	const WlPackedSettings *settings;
	const WlPackedIndex *index = NULL;

	if (!wl_op_failed_with(call, "ConditionalCheckFailedException"))
		return false;
	settings = wl_packed_settings_of(wl_reindex_reopen(build)->meta);
	if (settings != NULL && finished && settings->has_current)
		index = &settings->current;
	else if (settings != NULL && !finished && settings->has_building)
		index = &settings->building;
	return index != NULL && index->gen == build->building.gen &&
		strcmp(index->token, build->building.token) == 0;
}

/*
 * Has another session's build finished since this one read the settings it
 * planned from: is the current index now as new as the one being built?
 */
static bool
wl_reindex_overtaken(WlReindex *build)
{
	const WlPackedSettings *settings = wl_packed_settings_of(wl_reindex_reopen(build)->meta);

	return settings != NULL && settings->has_current &&
		settings->current.gen >= build->building.gen;
}

/*
 * Marks the new generation as building: from now on writers write it too.
 * When another build began first, an automatic training (quiet) gives way
 * to it: false; an explicit reindex fails.
 */
static bool
wl_reindex_begin(WlReindex *build, const WlMeta *meta)
{
	WlDdbCall  *call = wl_calls_new(1);

	build->active_at = (int64) time(NULL);
	wl_packed_begin_call(call, WL_METADATA_TABLE, meta, &build->building, build->replacing,
						 build->active_at);
	wl_metadata_run(build->conn, call);
	if (call->error.kind != WL_DDB_OK && wl_reindex_took_effect(build, call, false))
		return true;
	if (call->error.kind != WL_DDB_OK && build->quiet)
		return false;
	if (call->error.kind != WL_DDB_OK && wl_reindex_overtaken(build))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("collection \"%s\" was reindexed by another session while this one trained",
						build->name),
				 errhint("Run it again to train on the collection as it is now.")));
	if (call->error.kind != WL_DDB_OK)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("collection \"%s\" is being reindexed by another session, or was dropped",
						build->name),
				 errhint("Wait for the other reindex to end, then run it again if needed.")));
	return true;
}

/*
 * Shows that this session is still at work on its build, at most every
 * WL_REINDEX_ACTIVE_EVERY seconds, so that no write takes it for abandoned
 * (whiplash.abandoned_build_timeout).  With claim, at once and only if no
 * other session has shown it since this one read the settings: a session
 * taking over an abandoned build claims it; false when another did first.
 */
static bool
wl_reindex_active(WlReindex *build, const WlMeta *meta, bool claim)
{
	int64		now = (int64) time(NULL);
	WlDdbCall  *call;

	if (!claim && now - build->active_at < WL_REINDEX_ACTIVE_EVERY)
		return true;
	call = wl_calls_new(1);
	wl_packed_active_call(call, WL_METADATA_TABLE, meta, &build->building,
						  claim ? build->active_at : 0, now);
	wl_metadata_run(build->conn, call);
	if (call->error.kind != WL_DDB_OK && !claim)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("the index being built for collection \"%s\" was replaced or dropped",
						build->name)));
	if (call->error.kind != WL_DDB_OK)
		return false;
	build->active_at = now;
	return true;
}

/* Records being gathered: the changes and the memory they live in. */
typedef struct WlRecords
{
	WlReindex  *build;
	WlCollection *collection;
	int			first;			/* the building generation's first key */
	int			tables;
	int			code_bytes;
	MemoryContext context;
	WlEntryChange *changes;
	int			nchanges;
	int64		vectors;		/* gathered since the last write */
	int64		done;
	int64		total;
	int			reported;		/* tenths of the total reported */
	WlCalibrator *calibrator;	/* of the building generation, or NULL */
	MemoryContext calibration;	/* frees the calibrator when deleted */
	WlAttrStats **stats;		/* of its attributes, or *stats NULL; freed
								 * with the build's memory */
} WlRecords;

/* Writes the gathered records and starts gathering anew. */
static void
wl_records_write(WlReindex *build, WlRecords *records)
{
	const WlMeta *meta = records->collection->meta;
	MemoryContext oldcontext = MemoryContextSwitchTo(records->context);
	WlDdbCall  *calls = wl_calls_new(records->nchanges);

	wl_run(build->conn, calls,
		   meta->format->change_calls(meta, records->changes, records->nchanges, calls), NULL);
	MemoryContextSwitchTo(oldcontext);
	MemoryContextReset(records->context);
	records->changes = MemoryContextAlloc(records->context, sizeof(WlEntryChange) *
										  WL_REINDEX_BATCH * records->tables);
	records->nchanges = 0;
	records->vectors = 0;
	if (!build->quiet && records->total > 0 &&
		records->done * 10 / records->total > records->reported)
	{
		records->reported = (int) (records->done * 10 / records->total);
		ereport(NOTICE,
				(errmsg("reindexing collection \"%s\": " INT64_FORMAT " of about " INT64_FORMAT " vectors indexed",
						build->name, records->done, records->total)));
	}
}

/* Gathers the new generation's records of one vector. */
static void
wl_records_add(const char *id, const float *vector, struct json_object *item, void *arg)
{
	WlRecords  *records = arg;
	WlReindex  *build = records->build;
	const WlMeta *meta = records->collection->meta;
	int			nkeys = meta->format->key_count(meta, records->collection->index);
	MemoryContext oldcontext = MemoryContextSwitchTo(records->context);
	char	   *keys = palloc((size_t) nkeys * WL_LSH_KEY_MAX);
	unsigned char *codes = palloc((size_t) nkeys * records->code_bytes);
	unsigned char *slots = palloc((size_t) nkeys * WL_PACKED_SLOTS_MAX);
	char	   *copy = pstrdup(id);
	uint64		id_hash = wl_text_hash(id);	/* the statistics' and calibration's */
	int			t;

	if (meta->format->vector_entries(meta, records->collection->index, vector, keys,
									 codes) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector \"%s\" of collection \"%s\" cannot be indexed", id, meta->name),
				 errdetail("A zero vector has no direction under the cosine metric."),
				 errhint("Delete it, then reindex again.")));
	for (t = records->first; t < records->first + records->tables; t++)
	{
		WlEntryChange *change = &records->changes[records->nchanges++];

		memset(change, 0, sizeof(WlEntryChange));
		change->entry.key = keys + (size_t) t * WL_LSH_KEY_MAX;
		change->entry.id = copy;
		change->entry.code = codes + (size_t) t * records->code_bytes;
		change->entry.slots = slots + (size_t) t * WL_PACKED_SLOTS_MAX;
		wl_packed_key_record(meta, keys + (size_t) t * WL_LSH_KEY_MAX, item, slots + (size_t) t * WL_PACKED_SLOTS_MAX);
		change->add = true;
		if (t == records->first && *records->stats != NULL)
			wl_stats_add(*records->stats, change->entry.slots, id_hash);
	}
	MemoryContextSwitchTo(oldcontext);
	if (records->calibrator != NULL &&
		!wl_calib_add(records->calibrator, id_hash, vector))
		wl_report_out_of_memory();
	records->done++;
	if (++records->vectors >= WL_REINDEX_BATCH)
		wl_records_write(build, records);
	if (records->done % 1024 == 0)
	{
		wl_reindex_active(build, meta, false);
		wl_reindex_progress(WL_BUILD_INDEXING, records->done, records->total);
	}
}

/* Frees a calibrator when the memory context it belongs to goes. */
static void
wl_calibrator_release(void *arg)
{
	wl_calib_free(arg);
}

/*
 * Starts calibrating the building generation while its records are
 * written: with the queries held out of its training, or, for a build
 * resumed, the first vectors of a Scan.
 */
static void
wl_reindex_calibrate_begin(WlReindex *build, WlCollection *collection, WlRecords *records)
{
	const WlMeta *meta = collection->meta;
	const WlModel *model = wl_packed_building_model(meta, collection->index);
	MemoryContextCallback *callback;

	if (model == NULL || wl_model_shape(model)->cells == 0)
		return;
	if (build->queries.vectors == NULL)
	{
		int			queries = wl_calib_queries(meta->vector_count, meta->dims,
											   wl_model_shape(model)->rotation);

		wl_sample_init(&build->queries, meta, queries);
		wl_visit_vectors(build->conn, meta, queries, wl_sample_add, &build->queries);
	}
	if (build->queries.n == 0)
		return;
	records->calibration = AllocSetContextCreate(CurrentMemoryContext,
												 "whiplash calibration",
												 ALLOCSET_SMALL_SIZES);
	callback = MemoryContextAlloc(records->calibration, sizeof(MemoryContextCallback));
	/* filtered grids where records carry attributes, stored with their statistics */
	records->calibrator = wl_calib_begin(model, build->queries.vectors, build->queries.hashes,
										 build->queries.n, meta->vector_count,
										 build->building.nattrs > 0);
	if (records->calibrator == NULL)
		wl_report_out_of_memory();
	callback->func = wl_calibrator_release;
	callback->arg = records->calibrator;
	MemoryContextRegisterResetCallback(records->calibration, callback);
}

/* Measures the calibration into the building generation's description. */
static void
wl_reindex_calibrate_end(WlReindex *build, WlRecords *records)
{
	if (records->calibrator == NULL)
		return;
	if (!wl_calib_end(records->calibrator, &build->building.calibration))
		memset(&build->building.calibration, 0, sizeof(WlCalibration));
	else
	{
		char		text[4096];

		wl_calib_format(&build->building.calibration, text, sizeof(text));
		elog(DEBUG1, "whiplash: calibration of collection \"%s\" on %ld vectors: %s",
			 build->name, (long) records->done, text);
	}
	wl_reindex_step(build, "calibrated", build->building.calibration.queries,
					"held-out queries");
}

/* Frees statistics being gathered when the build's memory goes. */
static void
wl_stats_release(void *arg)
{
	WlAttrStats **stats = arg;

	wl_stats_free(*stats);
	*stats = NULL;
}

/*
 * Starts the statistics of the building generation's attributes, freed
 * with the current memory context unless stored first.
 */
static WlAttrStats **
wl_reindex_stats_begin(WlReindex *build, const WlMeta *meta)
{
	const WlPackedSettings *settings = wl_packed_settings_of(meta);
	WlAttrStats **stats = palloc0(sizeof(WlAttrStats *));
	MemoryContextCallback *callback = palloc(sizeof(MemoryContextCallback));
	const char *names[WL_RECORD_ATTRS_MAX];

	if (build->building.nattrs == 0)
		return stats;
	/*
	 * What writers reported before the Scan begins, it finds: the values
	 * reported are listed in the statistics (and taken out of
	 * unseen_values).  (Writes counted too many to list since the build
	 * was planned leave its statistics proving nothing: unseen_base.)
	 */
	build->nlisted = settings->nunseen;
	build->listed = palloc(sizeof(WlUnseenValue) * Max(settings->nunseen, 1));
	if (settings->nunseen > 0)
		memcpy(build->listed, settings->unseen, sizeof(WlUnseenValue) * settings->nunseen);
	callback->func = wl_stats_release;
	callback->arg = stats;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, callback);
	*stats = wl_stats_begin(names, wl_packed_attr_names(&build->building, names));
	if (*stats == NULL)
		wl_report_out_of_memory();
	return stats;
}

/*
 * Stores the statistics gathered beside the building generation's model,
 * keeping the values the current generation's list (attrstats.h).
 */
static void
wl_reindex_stats_end(WlReindex *build, WlCollection *collection, WlAttrStats **stats)
{
	const WlPackedSettings *settings = wl_packed_settings_of(collection->meta);
	const WlAttrStats *current = wl_packed_current_stats(collection->meta, collection->index);
	WlDdbCall  *call = wl_calls_new(1);
	bool		unknown;
	int			i;

	if (*stats == NULL)
		return;
	for (i = 0; i < build->nlisted; i++)
		wl_stats_note(*stats, build->listed[i].attr, build->listed[i].slot);
	wl_stats_end(*stats, current);
	/*
	 * Values that cannot be listed (reported ones unreadable, or the
	 * current statistics, whose values writers did not report): none of
	 * this generation's lists can be complete.
	 */
	unknown = build->nlisted < 0 ||
		(settings->has_current && settings->current.stats_bytes > 0 && current == NULL);
	for (i = 0; unknown && i < (*stats)->nattrs; i++)
		(*stats)->attrs[i].complete = false;
	if (!wl_packed_stats_write_call(collection->meta, &build->building, *stats, call))
		wl_report_out_of_memory();
	wl_run(build->conn, call, 1, NULL);
	wl_stats_release(stats);
}

/* Gives every vector its records in the building generation. */
static void
wl_reindex_records(WlReindex *build, WlCollection *collection)
{
	const WlMeta *meta = collection->meta;
	WlRecords	records;
	int64		count;

	memset(&records, 0, sizeof(records));
	records.build = build;
	records.collection = collection;
	records.tables = build->building.tables;
	records.first = meta->format->key_count(meta, collection->index) - records.tables;
	records.code_bytes = meta->format->code_bytes(meta);
	records.total = meta->vector_count;
	records.context = AllocSetContextCreate(CurrentMemoryContext, "whiplash reindex records",
											ALLOCSET_DEFAULT_SIZES);
	records.changes = MemoryContextAlloc(records.context, sizeof(WlEntryChange) *
										 WL_REINDEX_BATCH * records.tables);
	wl_reindex_progress(WL_BUILD_INDEXING, 0, records.total);
	wl_reindex_calibrate_begin(build, collection, &records);
	records.stats = wl_reindex_stats_begin(build, meta);
	count = wl_visit_vectors(build->conn, meta, 0, wl_records_add, &records);
	wl_records_write(build, &records);
	wl_reindex_step(build, "indexed", count, "vectors");
	wl_reindex_calibrate_end(build, &records);
	if (records.calibration != NULL)
		MemoryContextDelete(records.calibration);
	wl_reindex_stats_end(build, collection, records.stats);
	MemoryContextDelete(records.context);
}

/* Makes the building generation the current one. */
static void
wl_reindex_finish(WlReindex *build, const WlMeta *meta)
{
	WlDdbCall  *call = wl_calls_new(1);

	wl_reindex_progress(WL_BUILD_SWITCHING, meta->vector_count, meta->vector_count);
	wl_packed_finish_call(call, WL_METADATA_TABLE, meta, &build->building, build->listed,
						  Max(build->nlisted, 0));
	wl_metadata_run(build->conn, call);
	if (call->error.kind != WL_DDB_OK && !wl_reindex_took_effect(build, call, true))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("the index being built for collection \"%s\" was replaced or dropped",
						build->name)));
}

/* Stray items of a page of the buckets table, gathered for deletion. */
typedef struct WlStrays
{
	WlEntryChange *changes;
	int			n;
	int			capacity;
	int64		total;
} WlStrays;

/* Gathers a stray item of the buckets table. */
static void
wl_stray_add(const WlEntry *entry, void *arg)
{
	WlStrays   *strays = arg;

	if (!entry->stray)
		return;
	if (strays->n == strays->capacity)
	{
		strays->capacity = Max(64, strays->capacity * 2);
		strays->changes = strays->changes == NULL ?
			palloc(sizeof(WlEntryChange) * strays->capacity) :
			repalloc(strays->changes, sizeof(WlEntryChange) * strays->capacity);
	}
	memset(&strays->changes[strays->n], 0, sizeof(WlEntryChange));
	strays->changes[strays->n].entry.key = pstrdup(entry->key);
	strays->changes[strays->n].entry.id = pstrdup(entry->id);
	strays->changes[strays->n].entry.stray = true;
	strays->n++;
}

/*
 * Deletes the items of the buckets table that belong to no generation of
 * the collection now: older generations' records and models, and the
 * entries of the native format it was converted from.
 */
static void
wl_reindex_cleanup(WlReindex *build, WlCollection *collection)
{
	const WlMeta *meta = collection->meta;
	WlDdbCall  *call;
	WlPages    *pages = wl_pages_begin(build->conn, &call);
	WlStrays	strays;

	memset(&strays, 0, sizeof(strays));
	wl_reindex_progress(WL_BUILD_CLEANING, meta->vector_count, meta->vector_count);
	wl_op_scan(call, meta->buckets_table, NULL, NULL, 0, true);
	while ((call = wl_pages_next(pages, NULL)) != NULL)
	{
		struct json_object *items;
		int			nitems = wl_op_items(call, &items);
		int			i;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < nitems; i++)
			meta->format->entries(meta, wl_op_item_at(items, i), wl_stray_add, &strays);
		if (strays.n > 0)
		{
			WlDdbCall  *deletes = wl_calls_new(strays.n);

			wl_run(build->conn, deletes,
				   meta->format->change_calls(meta, strays.changes, strays.n, deletes), NULL);
			strays.total += strays.n;
			strays.n = 0;
		}
	}
	wl_pages_end(pages);
	wl_reindex_step(build, "cleaned up", strays.total, "items of older indexes");
}

/*
 * The token of the last build this process began or took over, which a
 * retry (WL_REINDEX_RETRY) may go on with.
 */
static char wl_reindex_own_token[WL_PACKED_TOKEN_LEN + 1] = "";

/* whiplash.retrain_on_growth: a write retrains an index it has outgrown. */
bool		wl_retrain_on_growth = true;

/*
 * whiplash.abandoned_build_timeout: seconds after which a build that showed
 * no work is taken as abandoned, and the next write resumes it.
 */
int			wl_abandoned_build_timeout = 600;

/*
 * Refuses a collection whose format has no trained index to build: the
 * original library's (v1) keeps its layout.
 */
void
wl_reindex_check_format(const WlMeta *meta)
{
	if (meta->format != &wl_format_packed && meta->format != &wl_format_native)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("collection \"%s\" is in the %s format, which has no trained index",
						meta->name, meta->format->name),
				 errhint("Collections of the original library keep its layout, so that it can still read them.")));
}

/*
 * Builds a new index generation of a collection, or finishes the one it
 * finds building; see the header.  Only a build asked for reports its
 * progress in NOTICEs; an automatic one gives way to a build or a newer
 * index that another session made first.  True when it made or finished
 * an index, false when it found nothing to do.
 */
bool
wl_reindex(WlConnection *conn, const char *name, WlReindexCause cause,
		   const WlBuildAttrs *attrs, ReturnSetInfo *rsinfo)
{
	WlReindex	build;
	WlCollection *collection;
	const WlPackedSettings *settings;
	WlDdbStats	stats;
	bool		own;

	memset(&build, 0, sizeof(build));
	build.conn = conn;
	build.name = pstrdup(name);
	build.quiet = cause != WL_REINDEX_ASKED;
	build.rsinfo = rsinfo;
	build.attrs = attrs;
	build.started = GetCurrentTimestamp();
	wl_ddb_get_stats(conn->ddb, &stats);
	build.requests_before = stats.requests;
	collection = wl_reindex_reopen(&build);
	wl_reindex_check_format(collection->meta);
	settings = wl_packed_settings_of(collection->meta);
	/* a first index made meanwhile leaves, at most, a retraining due */
	if (cause == WL_REINDEX_FIRST && settings != NULL &&
		(settings->has_current || settings->has_building))
		cause = WL_REINDEX_GROWN;
	if (cause == WL_REINDEX_GROWN &&
		(!wl_retrain_on_growth ||
		 !wl_packed_outgrown(collection->meta, collection->meta->vector_count)))
		return false;
	/*
	 * A retry goes on with the build this process began or took over, takes
	 * over one abandoned, or does what is still due; another session's
	 * build at work is left to it.
	 */
	own = settings != NULL && settings->has_building &&
		strcmp(settings->building.token, wl_reindex_own_token) == 0;
	if (cause == WL_REINDEX_RETRY && settings != NULL && settings->has_building && !own &&
		(!wl_packed_build_abandoned(collection->meta, (int64) time(NULL),
									wl_abandoned_build_timeout) ||
		 wl_packed_building_model(collection->meta, collection->index) == NULL))
		return false;
	if (cause == WL_REINDEX_RETRY && settings != NULL && !settings->has_building &&
		settings->has_current &&
		(!wl_retrain_on_growth ||
		 !wl_packed_outgrown(collection->meta, collection->meta->vector_count)))
		return false;
	if (cause == WL_REINDEX_ABANDONED &&
		(!wl_packed_build_abandoned(collection->meta, (int64) time(NULL),
									wl_abandoned_build_timeout) ||
		 wl_packed_building_model(collection->meta, collection->index) == NULL))
		return false;
	if (settings != NULL && settings->has_building &&
		wl_packed_building_model(collection->meta, collection->index) != NULL)
	{
		build.building = settings->building;
		build.active_at = settings->building_active;
		wl_reindex_check_attrs(&build);
		/* of sessions taking over an abandoned build, the first goes on */
		if (!wl_reindex_active(&build, collection->meta, cause == WL_REINDEX_ABANDONED ||
							   (cause == WL_REINDEX_RETRY && !own)))
			return false;
		wl_reindex_step(&build, "resumed", build.building.gen, "is the index generation");
	}
	else
	{
		/* a build whose model cannot be read is not resumed but replaced */
		if (settings != NULL && settings->has_building)
			build.replacing = pstrdup(settings->building.token);
		wl_reindex_train(&build, collection->meta);
		if (!wl_reindex_begin(&build, collection->meta))
			return false;
		collection = wl_reindex_reopen(&build);
	}
	strlcpy(wl_reindex_own_token, build.building.token, sizeof(wl_reindex_own_token));
	wl_reindex_records(&build, collection);
	wl_reindex_finish(&build, collection->meta);
	collection = wl_reindex_reopen(&build);
	wl_reindex_cleanup(&build, collection);
	return true;
}

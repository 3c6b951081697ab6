/*
 * recall.c - whiplash_recall: the recall@k a collection's searches reach
 * at the current settings, measured against an exact search.
 *
 * The queries are either the first vectors of a Scan of the collection
 * (DynamoDB returns items in the order of their keys' hashes: a fair
 * sample that stays the same from call to call), each searched for its k
 * nearest others, or vectors the user gives.  Each is searched as
 * whiplash_search would search it, and what every search read is added
 * up; then one Scan of the whole collection finds every query's exact k
 * nearest.  A search's result counts as found when its exact distance is
 * within the k-th exact distance (so that ties between equally near
 * vectors do not count against it).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "compat.h"
#include "core/store.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_recall);
PG_FUNCTION_INFO_V1(whiplash_recall_queries);

/* The most queries one measurement takes. */
#define WL_RECALL_MAX_QUERIES 10000

/* The queries of a measurement and what is learnt of each. */
typedef struct WlRecallQueries
{
	int			n;
	int			most;
	int			k;
	int			dims;
	WlMetric	metric;
	float	   *vectors;		/* n x dims */
	char	  **ids;			/* of sampled queries, else NULL */
	WlTopK	  **exact;			/* each query's k nearest */
	double	   *found;			/* each search's distances, k a query */
	int		   *nfound;
} WlRecallQueries;

/* Adds a sampled vector as a query. */
static void
wl_recall_add_query(const char *id, const float *vector, struct json_object *item, void *arg)
{
	WlRecallQueries *queries = arg;

	memcpy(queries->vectors + (size_t) queries->n * queries->dims, vector,
		   sizeof(float) * queries->dims);
	queries->ids[queries->n] = pstrdup(id);
	queries->n++;
}

/* Offers a vector of the collection to every query's exact k nearest. */
static void
wl_recall_offer(const char *id, const float *vector, struct json_object *item, void *arg)
{
	WlRecallQueries *queries = arg;
	int			q;

	for (q = 0; q < queries->n; q++)
	{
		if (queries->ids != NULL && strcmp(queries->ids[q], id) == 0)
			continue;
		wl_topk_push(queries->exact[q],
					 wl_distance(queries->metric, queries->vectors + (size_t) q * queries->dims,
								 vector, queries->dims), 0);
	}
}

/*
 * Searches every query as whiplash_search would, keeping the distances of
 * its k results (a sampled query's own vector left out) and adding what
 * each search read to the row's totals.
 */
static void
wl_recall_search(WlConnection *conn, WlCollection *collection, const WlSearchPlan *plan,
				 WlRecallQueries *queries, double *units, double *requests,
				 double *round_trips)
{
	MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "whiplash recall",
												  ALLOCSET_DEFAULT_SIZES);
	int			q;

	for (q = 0; q < queries->n; q++)
	{
		MemoryContext oldcontext = MemoryContextSwitchTo(context);
		int			want = queries->k + (queries->ids != NULL ? 1 : 0);
		WlSearchHit *hits;
		const WlSearchStats *stats;
		int			nhits;
		int			i;

		CHECK_FOR_INTERRUPTS();
		nhits = wl_search_run(conn, collection, queries->vectors + (size_t) q * queries->dims,
							  want, plan, "id,vector", NULL, NULL, NULL, &hits);
		stats = wl_search_last_stats();
		*units += stats->capacity_units;
		*requests += stats->requests;
		*round_trips += stats->round_trips;
		for (i = 0; i < nhits && queries->nfound[q] < queries->k; i++)
		{
			const char *id = wl_store_item_id(hits[i].item);

			if (queries->ids != NULL && id != NULL && strcmp(id, queries->ids[q]) == 0)
				continue;
			queries->found[(size_t) q * queries->k + queries->nfound[q]++] = hits[i].distance;
		}
		MemoryContextSwitchTo(oldcontext);
		MemoryContextReset(context);
	}
	MemoryContextDelete(context);
}

/*
 * The share of the queries' exact k nearest that their searches found:
 * results no farther than the k-th exact distance (or than the farthest,
 * where the collection holds fewer than k others).
 */
static double
wl_recall_score(WlRecallQueries *queries)
{
	double	   *distances = palloc(sizeof(double) * queries->k);
	int		   *indexes = palloc(sizeof(int) * queries->k);
	double		hits = 0;
	double		wanted = 0;
	int			q;

	for (q = 0; q < queries->n; q++)
	{
		int			nexact = wl_topk_sorted(queries->exact[q], distances, indexes);
		double		bound;
		int			i;

		if (nexact == 0)
			continue;
		bound = distances[nexact - 1];
		bound += 1e-6 * Max(fabs(bound), 1e-6);
		wanted += nexact;
		for (i = 0; i < queries->nfound[q]; i++)
			hits += queries->found[(size_t) q * queries->k + i] <= bound;
	}
	return wanted > 0 ? Min(1.0, hits / wanted) : 1.0;
}

/* Room for n queries of a collection. */
static void
wl_recall_init(WlRecallQueries *queries, const WlMeta *meta, int n, int k, bool sampled)
{
	int			q;

	memset(queries, 0, sizeof(WlRecallQueries));
	queries->most = n;
	queries->k = k;
	queries->dims = meta->dims;
	queries->metric = meta->metric;
	queries->vectors = palloc_extended(sizeof(float) * meta->dims * Max(n, 1), MCXT_ALLOC_HUGE);
	queries->ids = sampled ? palloc0(sizeof(char *) * Max(n, 1)) : NULL;
	queries->exact = palloc(sizeof(WlTopK *) * Max(n, 1));
	for (q = 0; q < n; q++)
		queries->exact[q] = wl_topk_init(palloc(wl_topk_size(k)), k);
	queries->found = palloc(sizeof(double) * Max(n, 1) * k);
	queries->nfound = palloc0(sizeof(int) * Max(n, 1));
}

/*
 * Measures the queries against the collection behind relid and returns
 * whiplash_recall's row: (queries, k, recall, estimated_recall,
 * read_units, requests, round_trips), costs a search.
 */
static Datum
wl_recall_measure(FunctionCallInfo fcinfo, Oid relid, WlConnection *conn,
				  WlCollection *collection, WlRecallQueries *queries)
{
	TupleDesc	tupdesc;
	WlSearchPlan plan;
	double		units = 0;
	double		requests = 0;
	double		round_trips = 0;
	Datum		values[7];
	bool		nulls[7] = {false};
	double		n = Max(queries->n, 1);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	wl_search_plan(collection, queries->k, -1, -1, wl_table_consistent_searches(relid, conn),
				   &plan);
	/* a sampled query finds itself too: one more candidate keeps its k others' chance */
	if (queries->ids != NULL)
		plan.budget++;
	wl_recall_search(conn, collection, &plan, queries, &units, &requests, &round_trips);
	wl_visit_vectors(conn, collection->meta, 0, wl_recall_offer, queries);
	values[0] = Int32GetDatum(queries->n);
	values[1] = Int32GetDatum(queries->k);
	values[2] = Float8GetDatum(wl_recall_score(queries));
	values[3] = Float8GetDatum(plan.recall);
	nulls[3] = plan.recall < 0;
	values[4] = Float8GetDatum(units / n);
	values[5] = Float8GetDatum(requests / n);
	values[6] = Float8GetDatum(round_trips / n);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * The collection of the foreign table of the first argument, which its
 * caller may search, and its k; a NULL second argument (named `second`)
 * is refused.
 */
static WlCollection *
wl_recall_collection(FunctionCallInfo fcinfo, const char *second, WlConnection **conn, int *k)
{
	WlCollection *collection;
	Oid			relid;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", PG_ARGISNULL(0) ? "collection" : second)));
	relid = PG_GETARG_OID(0);

	*k = PG_ARGISNULL(2) ? 10 : PG_GETARG_INT32(2);
	if (*k < 1 || *k > WL_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d, not %d", WL_MAX_K, *k)));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_TABLE, get_rel_name(relid));
	collection = wl_collection_for_relation(relid, conn);
	wl_xact_before_read(*conn, collection->meta->name);
	return collection;
}

/*
 * whiplash_recall(collection regclass, queries int, k int): recall@k of
 * searches for `queries` of the collection's own vectors (see the header).
 */
Datum
whiplash_recall(PG_FUNCTION_ARGS)
{
	WlConnection *conn;
	WlCollection *collection;
	WlRecallQueries queries;
	int			n;
	int			k;

	collection = wl_recall_collection(fcinfo, "queries", &conn, &k);
	n = PG_GETARG_INT32(1);
	if (n < 1 || n > WL_RECALL_MAX_QUERIES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("queries must be between 1 and %d, not %d", WL_RECALL_MAX_QUERIES, n)));
	wl_recall_init(&queries, collection->meta, n, k, true);
	wl_visit_vectors(conn, collection->meta, n, wl_recall_add_query, &queries);
	if (queries.n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("collection \"%s\" holds no vectors to measure its recall with",
						collection->meta->name)));
	return wl_recall_measure(fcinfo, PG_GETARG_OID(0), conn, collection, &queries);
}

/*
 * whiplash_recall(collection regclass, query_vectors real[], k int): the
 * same for the user's queries, one a row of a two-dimensional array.
 */
Datum
whiplash_recall_queries(PG_FUNCTION_ARGS)
{
	ArrayType  *array;
	WlConnection *conn;
	WlCollection *collection;
	WlRecallQueries queries;
	Datum	   *elems;
	bool	   *elem_nulls;
	int			nelems;
	int			k;
	int			i;

	collection = wl_recall_collection(fcinfo, "query_vectors", &conn, &k);
	array = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(array) != 2 || ARR_DIMS(array)[1] != collection->meta->dims ||
		ARR_DIMS(array)[0] > WL_RECALL_MAX_QUERIES)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("query_vectors must be a two-dimensional array of at most %d rows of %d values",
						WL_RECALL_MAX_QUERIES, collection->meta->dims),
				 errhint("Aggregate the queries' vectors with array_agg(vector), one row a query.")));
	deconstruct_array(array, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT,
					  &elems, &elem_nulls, &nelems);
	wl_recall_init(&queries, collection->meta, ARR_DIMS(array)[0], k, false);
	for (i = 0; i < nelems; i++)
	{
		if (elem_nulls[i] || isnan(DatumGetFloat4(elems[i])) || isinf(DatumGetFloat4(elems[i])))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("query_vectors must not contain nulls, NaN or infinity")));
		queries.vectors[i] = DatumGetFloat4(elems[i]);
	}
	queries.n = queries.most;
	return wl_recall_measure(fcinfo, PG_GETARG_OID(0), conn, collection, &queries);
}

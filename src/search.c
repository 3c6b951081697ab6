/*
 * search.c - whiplash_search: approximate nearest neighbours of a query.
 *
 * A search is two rounds of concurrent DynamoDB calls: first every probed
 * bucket of every hash table (one Query each; v1: BatchGetItem of the
 * bucket items), then the vectors of the candidates found there
 * (BatchGetItem, 100 a call).  Candidates are re-ranked exactly in C and
 * the k closest returned, closest first (equal distances by id).
 *
 * The candidates fetched are bounded by a budget: max_candidates, and for
 * native collections also candidate_fraction of the collection's vectors
 * (but at least 100), so that a search reads a bounded share of a small
 * collection too.  When the buckets yield more ids, those found in the most
 * buckets are kept: an id that collides with the query in many hash tables
 * is likely close to it.  v1 collections have no budget and probe only the
 * home buckets by default, so that they read exactly the candidates the
 * original library reads.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/acl.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "core/store.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_search);
PG_FUNCTION_INFO_V1(whiplash_last_search);

/* Settings (whiplash.probes, .max_candidates, .candidate_fraction). */
int			wl_probes = 12;
int			wl_max_candidates = 2000;
double		wl_candidate_fraction = 0.08;

/* The candidate budget never goes below this, however small the collection. */
#define WL_MIN_CANDIDATES 100



/* A candidate id and how many probed buckets held it. */
typedef struct WlCandidate
{
	const char *id;				/* hash key: the pointer, hashed by string */
	int			hits;
	int			order;			/* first seen, for a stable cut */
} WlCandidate;

/* What the last search of this backend did, for whiplash_last_search(). */
static WlSearchStats wl_last_search;

/* Hashes the string a key points at. */
static uint32
wl_candidate_hash(const void *key, Size keysize)
{
	const char *id = *(const char *const *) key;

	return string_hash(id, strlen(id) + 1);
}

/* Compares the strings two keys point at. */
static int
wl_candidate_match(const void *key1, const void *key2, Size keysize)
{
	return strcmp(*(const char *const *) key1, *(const char *const *) key2);
}

/* Orders candidates by hits, most first, then by first sight. */
static int
wl_candidate_cmp(const void *a, const void *b)
{
	const WlCandidate *x = *(const WlCandidate *const *) a;
	const WlCandidate *y = *(const WlCandidate *const *) b;

	if (x->hits != y->hits)
		return y->hits - x->hits;
	return x->order - y->order;
}

/* Orders items by id, so that equal distances rank by id. */
static int
wl_item_id_cmp(const void *a, const void *b)
{
	const char *x = wl_store_item_id(*(struct json_object *const *) a);
	const char *y = wl_store_item_id(*(struct json_object *const *) b);

	return strcmp(x ? x : "", y ? y : "");
}

/* Removes repeated keys (v1 tables share one key space) in place. */
static int
wl_distinct_keys(char **keys, int nkeys)
{
	int			n = 0;
	int			i;
	int			j;

	for (i = 0; i < nkeys; i++)
	{
		for (j = 0; j < n; j++)
			if (strcmp(keys[j], keys[i]) == 0)
				break;
		if (j == n)
			keys[n++] = keys[i];
	}
	return n;
}

/* Counts one sighting of id in a probed bucket. */
static void
wl_add_candidate(HTAB *candidates, const char *id, int *ncandidates)
{
	WlCandidate *candidate;
	bool		found;

	if (id == NULL)
		return;
	candidate = hash_search(candidates, &id, HASH_ENTER, &found);
	if (!found)
	{
		candidate->hits = 0;
		candidate->order = (*ncandidates)++;
	}
	candidate->hits++;
}

/*
 * Round 1: reads every probed bucket and returns the distinct candidate
 * ids, the most promising first, at most max_candidates of them.
 */
static char **
wl_gather_candidates(WlConnection *conn, WlCollection *collection, const float *query,
					 int probes, int max_candidates, int *ncandidates)
{
	WlMeta	   *meta = collection->meta;
	char	   *keybuf = palloc((size_t) meta->ntables * probes * WL_LSH_KEY_MAX);
	char	  **keys;
	int			nkeys;
	HTAB	   *candidates;
	HASHCTL		ctl;
	struct json_object **items;
	int			nitems;
	int			count = 0;
	WlCandidate **sorted;
	HASH_SEQ_STATUS scan;
	WlCandidate *candidate;
	char	  **ids;
	int			i;

	nkeys = wl_meta_probe_keys(meta, collection->lsh, query, probes, keybuf);
	if (nkeys < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	keys = palloc(sizeof(char *) * Max(nkeys, 1));
	for (i = 0; i < nkeys; i++)
		keys[i] = keybuf + (size_t) i * WL_LSH_KEY_MAX;
	nkeys = wl_distinct_keys(keys, nkeys);
	wl_last_search.buckets = nkeys;

	ctl.keysize = sizeof(char *);
	ctl.entrysize = sizeof(WlCandidate);
	ctl.hash = wl_candidate_hash;
	ctl.match = wl_candidate_match;
	ctl.hcxt = CurrentMemoryContext;
	candidates = hash_create("whiplash candidates", 1024, &ctl,
							 HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);

	if (meta->format == WL_FORMAT_V1)
	{
		nitems = wl_batch_get(conn, meta->buckets_table, keys, nkeys, "ids", &items);
		for (i = 0; i < nitems; i++)
		{
			int			n = wl_store_item_id_count(items[i]);
			int			j;

			for (j = 0; j < n; j++)
				wl_add_candidate(candidates, wl_store_item_id_at(items[i], j), &count);
		}
	}
	else
	{
		nitems = wl_query_buckets(conn, meta->buckets_table, keys, nkeys, &items);
		for (i = 0; i < nitems; i++)
			wl_add_candidate(candidates, wl_store_item_id(items[i]), &count);
	}
	wl_last_search.bucket_entries = nitems;
	wl_last_search.candidates = count;

	sorted = palloc(sizeof(WlCandidate *) * Max(count, 1));
	i = 0;
	hash_seq_init(&scan, candidates);
	while ((candidate = hash_seq_search(&scan)) != NULL)
		sorted[i++] = candidate;
	if (count > max_candidates)
	{
		qsort(sorted, count, sizeof(WlCandidate *), wl_candidate_cmp);
		count = max_candidates;
	}
	ids = palloc(sizeof(char *) * Max(count, 1));
	for (i = 0; i < count; i++)
		ids[i] = (char *) sorted[i]->id;
	*ncandidates = count;
	return ids;
}

/* Reads an int argument in [min, max], or fallback when it is NULL. */
static int
wl_int_arg(FunctionCallInfo fcinfo, int argno, int fallback, int min, int max,
		   const char *what)
{
	int			value;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return fallback;
	value = PG_GETARG_INT32(argno);
	if (value < min || value > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between %d and %d, not %d", what, min, max, value)));
	return value;
}

/*
 * The probes and candidate budget of a search: the given values (> 0) win;
 * otherwise the settings, with a budget of candidate_fraction of a native
 * collection (at least WL_MIN_CANDIDATES).  v1 collections read what the
 * original library reads: home buckets only and no budget.
 */
void
wl_search_settings(const WlMeta *meta, int probes_arg, int max_candidates_arg,
				   int *probes, int *max_candidates)
{
	if (meta->format == WL_FORMAT_V1)
	{
		*probes = probes_arg > 0 ? probes_arg : 1;
		*max_candidates = max_candidates_arg > 0 ? max_candidates_arg : INT_MAX;
		return;
	}
	*probes = probes_arg > 0 ? probes_arg : wl_probes;
	if (max_candidates_arg > 0)
		*max_candidates = max_candidates_arg;
	else
		*max_candidates = Min(wl_max_candidates,
							  Max(WL_MIN_CANDIDATES,
								  (int) (wl_candidate_fraction * meta->vector_count)));
}

/*
 * Runs a search: the candidates of the probed buckets, their vectors, and
 * the k closest of them into *hits (palloc'd, closest first, equal
 * distances by id).  Returns how many.  Records what it read for
 * whiplash_last_search().
 */
int
wl_search_run(WlConnection *conn, WlCollection *collection, const float *query, int k,
			  int probes, int max_candidates, WlSearchHit **hits)
{
	WlMeta	   *meta = collection->meta;
	char	  **ids;
	int			nids;
	struct json_object **items = NULL;
	int			nitems;
	float	   *vector;
	WlTopK	   *topk;
	double	   *distances;
	int		   *indexes;
	int			nresults;
	long		requests_before;
	long		rounds_before;
	WlDdbStats	stats;
	int			i;

	memset(&wl_last_search, 0, sizeof(wl_last_search));
	wl_ddb_get_stats(conn->ddb, &stats);
	requests_before = stats.requests;
	rounds_before = conn->round_trips;

	ids = wl_gather_candidates(conn, collection, query, probes, max_candidates, &nids);
	nitems = nids > 0 ?
		wl_batch_get(conn, meta->vectors_table, ids, nids, "id,vector", &items) : 0;
	if (nitems > 1)
		qsort(items, nitems, sizeof(struct json_object *), wl_item_id_cmp);

	topk = wl_topk_create(k);
	if (topk == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	vector = palloc(sizeof(float) * meta->dims);
	for (i = 0; i < nitems; i++)
		if (wl_store_item_id(items[i]) != NULL &&
			wl_store_item_vector(items[i], meta->dims, vector) == 0)
			wl_topk_push(topk, wl_distance(meta->metric, query, vector, meta->dims), i);
	distances = palloc(sizeof(double) * k);
	indexes = palloc(sizeof(int) * k);
	nresults = wl_topk_sorted(topk, distances, indexes);
	wl_topk_destroy(topk);

	*hits = palloc(sizeof(WlSearchHit) * Max(nresults, 1));
	for (i = 0; i < nresults; i++)
	{
		(*hits)[i].item = items[indexes[i]];
		(*hits)[i].distance = distances[i];
	}

	wl_ddb_get_stats(conn->ddb, &stats);
	wl_last_search.probes = probes;
	wl_last_search.vectors_read = nitems;
	wl_last_search.requests = stats.requests - requests_before;
	wl_last_search.round_trips = conn->round_trips - rounds_before;
	wl_last_search.results = nresults;
	return nresults;
}

/*
 * whiplash_search(collection regclass, query real[], k int, probes int,
 * max_candidates int) returns (id text, distance float8), closest first.
 */
Datum
whiplash_search(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	WlConnection *conn;
	WlCollection *collection;
	float	   *query;
	int			dims;
	int			k;
	int			probes;
	int			max_candidates;
	WlSearchHit *hits;
	int			nhits;
	int			i;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("collection must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query vector must not be null")));
	k = wl_int_arg(fcinfo, 2, 10, 1, WL_MAX_K, "k");
	probes = wl_int_arg(fcinfo, 3, -1, 1, 1024, "probes");
	max_candidates = wl_int_arg(fcinfo, 4, -1, 1, 10000000, "max_candidates");

	if (pg_class_aclcheck(PG_GETARG_OID(0), GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_TABLE, get_rel_name(PG_GETARG_OID(0)));
	collection = wl_collection_for_relation(PG_GETARG_OID(0), &conn);
	wl_search_settings(collection->meta, probes, max_candidates, &probes, &max_candidates);
	query = wl_array_to_vector(PG_GETARG_ARRAYTYPE_P(1), collection->meta->dims,
							   "query vector", &dims);
	InitMaterializedSRF(fcinfo, 0);

	nhits = wl_search_run(conn, collection, query, k, probes, max_candidates, &hits);
	for (i = 0; i < nhits; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(wl_store_item_id(hits[i].item));
		values[1] = Float8GetDatum(hits[i].distance);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * whiplash_last_search(): what this backend's last whiplash_search read,
 * so that cost and recall can be measured from SQL.
 */
Datum
whiplash_last_search(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int32GetDatum(wl_last_search.probes);
	values[1] = Int32GetDatum(wl_last_search.buckets);
	values[2] = Int64GetDatum(wl_last_search.bucket_entries);
	values[3] = Int64GetDatum(wl_last_search.candidates);
	values[4] = Int64GetDatum(wl_last_search.vectors_read);
	values[5] = Int64GetDatum(wl_last_search.requests);
	values[6] = Int64GetDatum(wl_last_search.round_trips);
	values[7] = Int32GetDatum(wl_last_search.results);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

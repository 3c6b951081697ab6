/*
 * search.c - whiplash_search: approximate nearest neighbours of a query.
 *
 * A search is two rounds of concurrent DynamoDB calls: first every probed
 * bucket of every hash table (with the calls the collection's format reads
 * them with: a Query each, or v1's BatchGetItem of bucket items), then the
 * vectors of the candidates found there (BatchGetItem, 100 a call).  Candidates are re-ranked exactly in C and
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
 *
 * A filtered search (a jsonb filter here, or a WHERE clause on a pushed-down
 * ORDER BY ... LIMIT) checks each candidate before ranking it, and widens
 * in further rounds until k candidates match; see wl_search_run.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/acl.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_search);
PG_FUNCTION_INFO_V1(whiplash_last_search);

/*
 * Settings (whiplash.probes, .max_candidates, .candidate_fraction,
 * .bucket_capacity, and for filtered searches .max_probes and
 * .max_scan_candidates).
 */
int			wl_probes = 12;
int			wl_max_candidates = 2000;
double		wl_candidate_fraction = 0.08;
int			wl_max_probes = 192;
int			wl_max_scan_candidates = 20000;
int			wl_bucket_capacity = 16;

/* The candidate budget never goes below this, however small the collection. */
#define WL_MIN_CANDIDATES 100



/* A candidate id and how many probed buckets held it. */
typedef struct WlCandidate
{
	const char *id;				/* hash key: the pointer, hashed by string */
	int			hits;
	int			order;			/* first seen, for a stable cut */
	bool		fetched;		/* its vector has been read */
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

/* A search in progress: what it has read so far, over its rounds. */
typedef struct WlSearch
{
	WlConnection *conn;
	WlCollection *collection;
	const float *query;
	int			depth;			/* fine bits read beyond each bucket's */
	HTAB	   *buckets;		/* bucket keys read */
	HTAB	   *candidates;		/* id -> WlCandidate */
	int			ncandidates;
	WlCandidate **unfetched;	/* candidates not fetched yet, scratch */
	int			nfetched;		/* candidates whose vectors were asked for */
	struct json_object **items; /* every vector item fetched */
	int			nitems;
	int			items_capacity;
} WlSearch;

/* Counts one sighting of an entry's id in a probed bucket. */
static void
wl_add_candidate(const WlEntry *entry, void *arg)
{
	WlSearch   *search = arg;
	WlCandidate *candidate;
	bool		found;

	wl_last_search.bucket_entries++;
	if (entry->malformed)
		return;
	candidate = hash_search(search->candidates, &entry->id, HASH_ENTER, &found);
	if (!found)
	{
		candidate->hits = 0;
		candidate->order = search->ncandidates++;
		candidate->fetched = false;
	}
	candidate->hits++;
}

/*
 * Reads the buckets of the first `probes` of every table that earlier
 * rounds did not read (one round of concurrent calls), counting their ids.
 */
static void
wl_read_buckets(WlSearch *search, int probes)
{
	WlMeta	   *meta = search->collection->meta;
	char	   *keybuf = palloc((size_t) meta->ntables * probes * WL_LSH_KEY_MAX);
	const char **keys;
	int			nkeys;
	int			nnew = 0;
	WlDdbCall  *calls;
	WlItems		items = {0};
	int			i;

	nkeys = wl_meta_probe_keys(meta, search->collection->lsh, search->query, probes,
							   search->depth, keybuf);
	if (nkeys < 0)
		wl_report_out_of_memory();
	keys = palloc(sizeof(char *) * Max(nkeys, 1));
	for (i = 0; i < nkeys; i++)
	{
		char	   *key = keybuf + (size_t) i * WL_LSH_KEY_MAX;
		bool		found;

		/* v1 tables share one key space, so keys repeat */
		hash_search(search->buckets, key, HASH_ENTER, &found);
		if (!found)
			keys[nnew++] = key;
	}
	wl_last_search.buckets += nnew;
	if (nnew == 0)
		return;

	calls = wl_calls_new(nnew);
	wl_run(search->conn, calls, meta->format->read_calls(meta, keys, nnew, true, calls), &items);
	for (i = 0; i < items.count; i++)
		meta->format->entries(meta, items.items[i], wl_add_candidate, search);
	wl_last_search.candidates = search->ncandidates;
}

/*
 * Fetches the vectors of up to `budget` candidates not fetched before, the
 * most promising first (found in the most buckets), and appends their items.
 * Returns how many candidates remain unfetched.
 */
static int
wl_fetch_candidates(WlSearch *search, int budget, const char *projection)
{
	const WlMeta *meta = search->collection->meta;
	HASH_SEQ_STATUS scan;
	WlCandidate *candidate;
	int			nunfetched = 0;
	int			nfetch;
	char	  **ids;
	struct json_object **items;
	int			nitems;
	int			i;

	search->unfetched = repalloc(search->unfetched,
								 sizeof(WlCandidate *) * Max(search->ncandidates, 1));
	hash_seq_init(&scan, search->candidates);
	while ((candidate = hash_seq_search(&scan)) != NULL)
		if (!candidate->fetched)
			search->unfetched[nunfetched++] = candidate;
	nfetch = Min(nunfetched, Max(budget, 0));
	if (nfetch < nunfetched)
		qsort(search->unfetched, nunfetched, sizeof(WlCandidate *), wl_candidate_cmp);
	if (nfetch == 0)
		return nunfetched;

	ids = palloc(sizeof(char *) * nfetch);
	search->nfetched += nfetch;
	for (i = 0; i < nfetch; i++)
	{
		search->unfetched[i]->fetched = true;
		ids[i] = (char *) search->unfetched[i]->id;
	}
	nitems = wl_batch_get(search->conn, meta->vectors_table, ids, nfetch, projection, &items);
	if (nitems > 1)
		qsort(items, nitems, sizeof(struct json_object *), wl_item_id_cmp);
	if (search->nitems + nitems > search->items_capacity)
	{
		search->items_capacity = (search->nitems + nitems) * 2;
		search->items = repalloc(search->items,
								 sizeof(struct json_object *) * search->items_capacity);
	}
	memcpy(search->items + search->nitems, items, sizeof(struct json_object *) * nitems);
	search->nitems += nitems;
	wl_last_search.vectors_read += nitems;
	return nunfetched - nfetch;
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
	if (meta->format->home_buckets_only)
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
 * Starts a search's state in the current memory context.
 */
static void
wl_search_init(WlSearch *search, WlConnection *conn, WlCollection *collection,
			   const float *query)
{
	HASHCTL		ctl;

	memset(search, 0, sizeof(WlSearch));
	search->conn = conn;
	search->collection = collection;
	search->query = query;
	search->depth = wl_meta_search_depth(collection->meta, collection->meta->vector_count,
										 wl_bucket_capacity);
	ctl.keysize = WL_LSH_KEY_MAX;
	ctl.entrysize = WL_LSH_KEY_MAX;
	ctl.hcxt = CurrentMemoryContext;
	search->buckets = hash_create("whiplash buckets read", 256, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	ctl.keysize = sizeof(char *);
	ctl.entrysize = sizeof(WlCandidate);
	ctl.hash = wl_candidate_hash;
	ctl.match = wl_candidate_match;
	search->candidates = hash_create("whiplash candidates", 1024, &ctl,
									 HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	search->unfetched = palloc(sizeof(WlCandidate *));
	search->items_capacity = 256;
	search->items = palloc(sizeof(struct json_object *) * search->items_capacity);
}

/*
 * Runs a search and puts the k closest matches into *hits (palloc'd,
 * closest first, equal distances by id); returns how many.  Each round
 * reads the probed buckets not read before, then the vectors of the
 * candidates not fetched before, within the candidate budget.  Without a
 * filter one round is all.  With one, a round that leaves fewer than k
 * matches is followed by a wider one: four times the probes (up to
 * whiplash.max_probes) and four times the budget (up to
 * whiplash.max_scan_candidates), until k match or nothing is left to read.
 * projection names the attributes to read (NULL: all; the filter and the
 * caller may need them).  Records what it read for whiplash_last_search().
 */
int
wl_search_run(WlConnection *conn, WlCollection *collection, const float *query, int k,
			  int probes, int max_candidates, const char *projection,
			  WlSearchFilter filter, void *filter_arg, WlSearchHit **hits)
{
	WlMeta	   *meta = collection->meta;
	WlSearch	search;
	float	   *vector = palloc(sizeof(float) * meta->dims);
	WlTopK	   *topk;
	double	   *distances;
	int		   *indexes;
	int			nresults;
	long		matched = 0;
	long		requests_before;
	long		bytes_before;
	double		capacity_before;
	long		rounds_before;
	int			budget = max_candidates;
	int			max_probes = Max(probes, wl_max_probes);
	int			max_budget = Max(max_candidates, wl_max_scan_candidates);
	WlDdbStats	stats;
	int			i;

	memset(&wl_last_search, 0, sizeof(wl_last_search));
	wl_ddb_get_stats(conn->ddb, &stats);
	requests_before = stats.requests;
	bytes_before = stats.bytes_received;
	capacity_before = stats.capacity_units;
	rounds_before = conn->round_trips;
	wl_search_init(&search, conn, collection, query);
	topk = wl_topk_init(palloc(wl_topk_size(k)), k);

	for (;;)
	{
		int			first = search.nitems;
		int			left;

		CHECK_FOR_INTERRUPTS();
		wl_last_search.rounds++;
		wl_read_buckets(&search, probes);
		left = wl_fetch_candidates(&search, budget - search.nfetched,
								   projection);
		for (i = first; i < search.nitems; i++)
		{
			struct json_object *item = search.items[i];

			if (wl_store_item_id(item) == NULL ||
				wl_store_item_vector(item, meta->dims, vector) != 0)
				continue;
			if (filter != NULL && !filter(item, filter_arg))
				continue;
			matched++;
			wl_topk_push(topk, wl_distance(meta->metric, query, vector, meta->dims), i);
		}
		if (filter == NULL || matched >= k || search.nfetched >= max_budget ||
			(probes >= max_probes && left == 0))
			break;
		probes = Min(probes * 4, max_probes);
		budget = (int) Min((int64) budget * 4, (int64) max_budget);
	}
	wl_last_search.probes = probes;
	wl_last_search.matched = matched;
	wl_last_search.fine_bits = search.depth;

	distances = palloc(sizeof(double) * k);
	indexes = palloc(sizeof(int) * k);
	nresults = wl_topk_sorted(topk, distances, indexes);
	*hits = palloc(sizeof(WlSearchHit) * Max(nresults, 1));
	for (i = 0; i < nresults; i++)
	{
		(*hits)[i].item = search.items[indexes[i]];
		(*hits)[i].distance = distances[i];
	}

	wl_ddb_get_stats(conn->ddb, &stats);
	wl_last_search.requests = stats.requests - requests_before;
	wl_last_search.bytes_read = stats.bytes_received - bytes_before;
	wl_last_search.capacity_units = stats.capacity_units - capacity_before;
	wl_last_search.round_trips = conn->round_trips - rounds_before;
	wl_last_search.results = nresults;
	return nresults;
}

/* What the last search of this backend read. */
const WlSearchStats *
wl_search_last_stats(void)
{
	return &wl_last_search;
}

/* Does a candidate's attributes jsonb contain the filter? */
static bool
wl_jsonb_filter(struct json_object *item, void *arg)
{
	Datum		attributes = wl_item_attributes_jsonb(item, NULL, 0);

	return DatumGetBool(DirectFunctionCall2(jsonb_contains, attributes, PointerGetDatum(arg)));
}

/*
 * whiplash_search(collection regclass, query real[], k int, probes int,
 * max_candidates int, filter jsonb) returns (id text, distance float8),
 * closest first.  With a filter, only vectors whose attributes contain it
 * (jsonb @>) are returned, widening the search until k match.
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
	Jsonb	   *filter = NULL;
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
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
	{
		filter = PG_GETARG_JSONB_P(5);
		if (!JB_ROOT_IS_OBJECT(filter))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("filter must be a JSON object"),
					 errhint("A filter such as '{\"category\": \"shoes\"}' keeps the vectors whose attributes contain it.")));
	}

	if (pg_class_aclcheck(PG_GETARG_OID(0), GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_TABLE, get_rel_name(PG_GETARG_OID(0)));
	collection = wl_collection_for_relation(PG_GETARG_OID(0), &conn);
	wl_xact_before_read(conn, collection->meta->name);
	wl_search_settings(collection->meta, probes, max_candidates, &probes, &max_candidates);
	query = wl_array_to_vector(PG_GETARG_ARRAYTYPE_P(1), collection->meta->dims,
							   "query vector", &dims);
	InitMaterializedSRF(fcinfo, 0);

	nhits = wl_search_run(conn, collection, query, k, probes, max_candidates,
						  filter ? NULL : "id,vector", filter ? wl_jsonb_filter : NULL,
						  filter, &hits);
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
	Datum		values[13];
	bool		nulls[13] = {false};

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
	values[8] = Int32GetDatum(wl_last_search.rounds);
	values[9] = Int64GetDatum(wl_last_search.matched);
	values[10] = Int32GetDatum(wl_last_search.fine_bits);
	values[11] = Int64GetDatum(wl_last_search.bytes_read);
	values[12] = Float8GetDatum(wl_last_search.capacity_units);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

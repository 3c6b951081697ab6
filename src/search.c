/*
 * search.c - whiplash_search: the nearest neighbours of a query, by the
 * plan search_plan.c chooses.
 *
 * A probe search is two rounds of concurrent DynamoDB calls: first every
 * probed bucket of every hash table (with the calls the collection's format
 * reads them with: a Query each, or v1's BatchGetItem of bucket items),
 * then the vectors of the best candidates found there (BatchGetItem, 100 a
 * call), which are re-ranked exactly in C; the k closest are returned,
 * closest first (equal distances by id).  A codes search is the same over
 * every bucket of one table; a scan search reads every vector.
 *
 * Which candidates are fetched: in a format that keeps codes, those whose
 * codes are closest to the query (the least of its distances over the
 * tables it was found in); otherwise those found in the most buckets, an id
 * that collides with the query in many hash tables being likely close.  A
 * plan's budget bounds how many are fetched.
 *
 * A filtered search (a jsonb filter here, or a WHERE clause on a pushed-down
 * ORDER BY ... LIMIT) checks each candidate before ranking it, and widens
 * in further rounds until k candidates match; see wl_search_run.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/acl.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "core/operations.h"
#include "core/packed.h"
#include "fdw.h"
#include "whiplash.h"

/*
 * A filtered search reading fewer read units than this is not worth a
 * NOTICE, whatever its estimate: estimates of small searches are rounded.
 */
#define WL_OVERRUN_MIN_UNITS 5.0

PG_FUNCTION_INFO_V1(whiplash_search);
PG_FUNCTION_INFO_V1(whiplash_search_by_name);
PG_FUNCTION_INFO_V1(whiplash_last_search);

/* A candidate id and how good it looks: smaller score first. */
typedef struct WlCandidate
{
	const char *id;				/* hash key: a copy of the id, hashed by string */
	float		score;			/* code distance, or minus the buckets holding it */
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

/*
 * Orders candidates by score, best first, then by first sight: buckets are
 * read in multi-probe order, home bucket first, so among equal scores the
 * one seen first is likelier near.
 */
static int
wl_candidate_cmp(const void *a, const void *b)
{
	const WlCandidate *x = *(const WlCandidate *const *) a;
	const WlCandidate *y = *(const WlCandidate *const *) b;

	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
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

/*
 * Most segments of a search's parallel Scan: 16 pages of 1 MB in flight
 * ask for about 2,000 read units at once, within what one partition of a
 * DynamoDB table serves in a second (3,000), where more would be throttled
 * and retried.
 */
#define WL_SCAN_SEGMENTS 16

/* A search in progress: what it has read so far, over its rounds. */
typedef struct WlSearch
{
	WlConnection *conn;
	WlCollection *collection;
	const float *query;
	const WlSearchPlan *plan;
	float	   *lookup;			/* the query's code lookup table, or NULL */
	HTAB	   *buckets;		/* bucket keys read */
	HTAB	   *candidates;		/* id -> WlCandidate */
	int			ncandidates;
	WlCandidate **unfetched;	/* candidates not fetched yet, scratch */
	int			nfetched;		/* candidates whose vectors were asked for */
	WlItems		items;			/* every vector item fetched */
	const WlRecordFilter *records;	/* what of the filter records answer, or
									 * NULL when the index's carry nothing
									 * it tests */
	int		   *record_slots;	/* its tests' slots in the index's records */
	bool		undercounted;	/* read more records than its plan took */
	long		cells_read;		/* buckets read, over every table, however
								 * many Queries read them */
} WlSearch;

/* Scores one sighting of an entry's id in a probed bucket. */
static void
wl_add_candidate(const WlEntry *entry, void *arg)
{
	WlSearch   *search = arg;
	const WlMeta *meta = search->collection->meta;
	WlCandidate *candidate;
	float		score;
	bool		found;

	wl_last_search.bucket_entries++;
	if (entry->malformed || entry->stray)
		return;
	if (search->lookup != NULL && entry->code == NULL)
		return;
	/* a record whose attributes fail the filter: its vector cannot match */
	if (search->records != NULL && entry->slots != NULL &&
		wl_record_filter_eval(search->records, search->record_slots, entry->slots) == WL_FALSE)
	{
		wl_last_search.records_dropped++;
		return;
	}
	score = search->lookup != NULL ?
		meta->format->code_distance(meta, search->collection->index, search->lookup,
									entry->key, entry->code) : -1.0f;
	candidate = hash_search(search->candidates, &entry->id, HASH_ENTER, &found);
	if (!found)
	{
		/* the entry's id may be decoded into storage of the visit's own */
		candidate->id = pstrdup(entry->id);
		candidate->score = score;
		candidate->order = search->ncandidates++;
		candidate->fetched = false;
	}
	else if (search->lookup != NULL)
		candidate->score = Min(candidate->score, score);
	else
		candidate->score -= 1.0f;
}

/*
 * The keys a round reads: the first `probes` of every table (a codes
 * search: every bucket of the first table; at a spread > 0, the cells
 * within it of the nearest, of the first `probes`), in the partitions its
 * plan names.
 */
static int
wl_round_keys(WlSearch *search, int probes, double spread, char **keybuf)
{
	const WlMeta *meta = search->collection->meta;
	int			codes = search->plan->kind == WL_SEARCH_CODES;
	int			bits = meta->bits[0];
	int			nprobes = codes ? 1 << bits : probes;
	int			nkeys;

	*keybuf = palloc((size_t) meta->ntables * nprobes * WL_LSH_KEY_MAX);
	nkeys = meta->format->probe_keys(meta, search->collection->index, search->query, nprobes,
									 codes ? 0 : search->plan->depth, codes ? 0 : spread,
									 *keybuf);
	if (nkeys < 0)
		wl_report_out_of_memory();
	nkeys = codes ? Min(nkeys, 1 << bits) : nkeys;
	if (search->plan->partitions.n > 0)
		nkeys = wl_partition_keys(&search->plan->partitions, codes, keybuf, nkeys);
	return nkeys;
}

/*
 * Reads the buckets of a round that earlier rounds did not read (one round
 * of concurrent calls), scoring their ids.
 */
static void
wl_read_buckets(WlSearch *search, int probes, double spread)
{
	const WlMeta *meta = search->collection->meta;
	char	   *keybuf;
	int			nkeys = wl_round_keys(search, probes, spread, &keybuf);
	const char **keys = palloc(sizeof(char *) * Max(nkeys, 1));
	int			nnew = 0;
	WlDdbCall  *calls;
	WlItems		items = {0};
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		char	   *key = keybuf + (size_t) i * WL_LSH_KEY_MAX;
		bool		found;

		/* v1 tables share one key space, so keys repeat */
		hash_search(search->buckets, key, HASH_ENTER, &found);
		if (!found)
			keys[nnew++] = key;
	}
	search->cells_read += nnew;
	if (search->plan->partitions.n > 0 && search->plan->kind == WL_SEARCH_PROBE)
		nnew = wl_cell_runs(search->plan->partitions.cell_bytes, search->buckets, keys, nnew);
	else if (search->plan->block_cell_bytes > 0)
		nnew = wl_cell_runs(search->plan->block_cell_bytes, search->buckets, keys, nnew);
	wl_last_search.buckets += nnew;
	if (nnew == 0)
		return;

	calls = wl_calls_new(nnew);
	wl_run(search->conn, calls,
		   meta->format->read_calls(meta, keys, nnew, search->plan->consistent, calls), &items);
	for (i = 0; i < items.count; i++)
		meta->format->entries(meta, items.items[i], wl_add_candidate, search);
	wl_last_search.candidates = search->ncandidates;
}

/* Appends items to the search's, sorted by id within the batch. */
static void
wl_search_keep(WlSearch *search, struct json_object **items, int nitems)
{
	int			i;

	if (nitems > 1)
		qsort(items, nitems, sizeof(struct json_object *), wl_item_id_cmp);
	if (search->items.count + nitems > search->items.capacity)
	{
		search->items.capacity = (search->items.count + nitems) * 2;
		search->items.items = repalloc_huge(search->items.items,
											sizeof(struct json_object *) *
											search->items.capacity);
	}
	for (i = 0; i < nitems; i++)
		search->items.items[search->items.count++] = items[i];
	wl_last_search.vectors_read += nitems;
}

/*
 * Fetches the vectors of up to `budget` candidates not fetched before, the
 * most promising first, and keeps their items.  Returns how many
 * candidates remain unfetched.
 */
static int
wl_fetch_candidates(WlSearch *search, int budget, const char *projection)
{
	const WlMeta *meta = search->collection->meta;
	HASH_SEQ_STATUS scan;
	WlCandidate *candidate;
	int			nunfetched = 0;
	int			nfetch;
	WlDdbCall  *calls;
	WlItems		items = {0};
	int			ncalls = 0;
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

	search->nfetched += nfetch;
	calls = wl_calls_new((nfetch + WL_BATCH_GET_MAX - 1) / WL_BATCH_GET_MAX);
	for (i = 0; i < nfetch; i++)
	{
		search->unfetched[i]->fetched = true;
		ncalls = wl_op_batch_get_append(calls, ncalls, meta->vectors_table, projection,
										search->plan->consistent,
										wl_store_id_key(search->unfetched[i]->id));
	}
	wl_run(search->conn, calls, ncalls, &items);
	wl_search_keep(search, items.items, items.count);
	return nunfetched - nfetch;
}

/*
 * Reads every vector of the collection, all pages: a scan search (which
 * the plan chooses for small collections, where it is cheapest, and for a
 * filter that few vectors pass).  A collection of several 1 MB pages is
 * read by a parallel Scan of as many segments, up to WL_SCAN_SEGMENTS and
 * the server's max_connections, whose pages come back together rather
 * than one round trip after another.
 */
static void
wl_scan_vectors(WlSearch *search)
{
	int			segments = (int) Min(Min(Max(search->plan->requests, 1.0), WL_SCAN_SEGMENTS),
									 (double) search->conn->options.client.max_connections);
	WlDdbCall  *calls = wl_calls_new(segments);
	WlItems		items = {0};

	if (segments == 1)
		wl_op_scan(calls, search->collection->meta->vectors_table, NULL, NULL, 0,
				   search->plan->consistent);
	else
		for (int i = 0; i < segments; i++)
			wl_op_scan_segment(&calls[i], search->collection->meta->vectors_table, i,
							   segments, search->plan->consistent);
	wl_run(search->conn, calls, segments, &items);
	wl_search_keep(search, items.items, items.count);
	wl_last_search.candidates = items.count;
}

/* Whether every component of vector is zero. */
static bool
wl_is_zero_vector(const float *vector, int dims)
{
	for (int i = 0; i < dims; i++)
		if (vector[i] != 0.0f)
			return false;
	return true;
}

/* Refuses a query with no direction under cosine. */
static void
wl_refuse_zero_query(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("a zero query vector has no direction, so it has no cosine distance"),
			 errhint("Under cosine only a vector's direction counts: search with a nonzero vector.")));
}

/*
 * Starts a search's state in the current memory context.  A zero query
 * under cosine is refused: every distance to it is NaN, so it would
 * silently match nothing.
 */
static void
wl_search_init(WlSearch *search, WlConnection *conn, WlCollection *collection,
			   const float *query, const WlSearchPlan *plan, const WlRecordFilter *records)
{
	const WlMeta *meta = collection->meta;
	const char *names[WL_RECORD_ATTRS_MAX];
	int			nnames = wl_packed_record_attrs(meta, names);
	HASHCTL		ctl;

	memset(search, 0, sizeof(WlSearch));
	search->conn = conn;
	search->collection = collection;
	search->query = query;
	search->plan = plan;
	if (records != NULL && nnames > 0)
	{
		search->record_slots = palloc(sizeof(int) * Max(records->ntests, 1));
		if (wl_record_filter_resolve(records, names, nnames, search->record_slots) > 0)
			search->records = records;
	}
	if (plan->metric == WL_METRIC_COSINE && wl_is_zero_vector(query, meta->dims))
		wl_refuse_zero_query();
	if (meta->format->code_bytes(meta) > 0 && plan->kind != WL_SEARCH_SCAN)
	{
		search->lookup = palloc(sizeof(float) * Max(meta->format->lookup_size(meta), 1));
		/* (a query too small to normalise fails here) */
		if (!meta->format->lookup(meta, collection->index, query, search->lookup))
			wl_refuse_zero_query();
	}
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
	search->items.capacity = 256;
	search->items.items = palloc(sizeof(struct json_object *) * search->items.capacity);
}

/* The cells a table that a search at a spread read: cells_read over its tables. */
static int
wl_spread_cells_read(const WlMeta *meta, const WlSearch *search)
{
	return (int) ((search->cells_read + meta->ntables - 1) / meta->ntables);
}

/*
 * Does a search that drops records still lack the records kept its plan
 * expects, with cells left to read (fewer than `most` read)?  *wanted_kept, -1 before the first
 * round, becomes what the first round's records should have kept: the
 * plan's share of them (counted from entries_before and dropped_before),
 * when that is at least 2k.  A search is short when the first round kept
 * less than half that (less is rarely chance), and then until it has kept
 * that many (*widening).
 */
static bool
wl_search_depleted(const WlSearch *search, int k, int probes, int most, long entries_before,
				   long dropped_before, double *wanted_kept, bool *widening)
{
	const WlSearchPlan *plan = search->plan;
	double		read = wl_last_search.bucket_entries - entries_before;
	double		kept = read - (wl_last_search.records_dropped - dropped_before);

	if (*wanted_kept < 0)
		*wanted_kept = plan->record_selectivity < 1 &&
			plan->record_selectivity * read >= 2.0 * k ?
			plan->record_selectivity * read : 0;
	*widening = *wanted_kept > 0 && probes < most &&
		kept < (*widening ? *wanted_kept : *wanted_kept / 2);
	return *widening;
}

/*
 * Runs the rounds of a search: each reads what the plan says and ranks the
 * new items exactly (after the filter, when there is one).  Without a
 * filter one round is all.  With one, a round that leaves fewer than k
 * matches is followed by a wider one: four times the probes (up to
 * whiplash.max_probes) and four times the budget (up to
 * whiplash.max_scan_candidates), until k match or nothing is left to read.
 * When the index's records dropped those that fail the filter and every
 * candidate fetched so far passed, the budget stays: a wider round then
 * reads more cells to fetch the best of more records kept, not more of
 * them.  Returns how many candidates matched.
 *
 * A plan by the calibration's filtered grids read as many cells as a
 * filter unrelated to where vectors lie needs (calibrate.h): about its
 * share of their records pass.  Where
 * fewer than half as many passed (wl_search_depleted: the query lies
 * among vectors the filter drops, whose nearest that pass lie farther
 * out), the search also widens, twice the cells and the budget a round,
 * until it has seen as many records kept as the plan expected, or read
 * every cell or whiplash.max_probes, or fetched
 * whiplash.max_scan_candidates.
 */
static long
wl_search_rounds(WlSearch *search, int k, const char *projection, WlSearchFilter filter,
				 void *filter_arg, WlTopK *topk)
{
	const WlMeta *meta = search->collection->meta;
	const WlSearchPlan *plan = search->plan;
	float	   *vector = palloc(sizeof(float) * meta->dims);
	int			probes = plan->probes;
	double		spread = plan->spread;
	int			budget = plan->budget;
	int			max_probes = Max(probes, wl_max_probes);
	int			max_budget = Max(budget, wl_max_scan_candidates);
	long		entries_before = wl_last_search.bucket_entries;
	long		dropped_before = wl_last_search.records_dropped;
	double		wanted_kept = -1;
	bool		widening = false;
	long		matched = 0;
	int			rounds = 0;
	int			i;

	for (;;)
	{
		int			first = search->items.count;
		int			left = 0;

		CHECK_FOR_INTERRUPTS();
		wl_last_search.rounds++;
		rounds++;
		if (plan->kind == WL_SEARCH_SCAN)
			wl_scan_vectors(search);
		else
		{
			wl_read_buckets(search, spread > 0 ? plan->spread_most : probes, spread);
			/* partitions read whole that hold more than planned re-rank more */
			if (plan->kind == WL_SEARCH_CODES && plan->partitions.n > 0 && rounds == 1)
			{
				long		read = wl_last_search.bucket_entries - entries_before;
				long		kept = read - (wl_last_search.records_dropped - dropped_before);

				budget = Min(wl_partition_budget(search->collection, plan, k, read, kept,
												 &search->undercounted), max_budget);
			}
			left = wl_fetch_candidates(search, budget - search->nfetched, projection);
		}
		for (i = first; i < search->items.count; i++)
		{
			struct json_object *item = search->items.items[i];

			if (wl_store_item_id(item) == NULL ||
				wl_store_item_vector(item, meta->dims, vector) != 0)
				continue;
			if (filter != NULL && !filter(item, filter_arg))
				continue;
			matched++;
			wl_topk_push(topk, wl_distance(plan->metric, search->query, vector, meta->dims), i);
		}
		if (spread > 0)
			probes = Max(probes, wl_spread_cells_read(meta, search));
		if (plan->filter_calibrated && search->records != NULL &&
			search->nfetched < max_budget &&
			wl_search_depleted(search, k, probes, Min(max_probes, plan->probe_limit),
							   entries_before, dropped_before, &wanted_kept, &widening))
		{
			probes = Min(probes * 2, Min(max_probes, plan->probe_limit));
			spread = 0;
			budget = (int) Min((int64) budget * 2, (int64) max_budget);
			continue;
		}
		if (filter == NULL || matched >= k || plan->kind == WL_SEARCH_SCAN ||
			search->nfetched >= max_budget || (probes >= max_probes && left == 0) ||
			(plan->kind == WL_SEARCH_CODES && left == 0))
			break;
		/* wider rounds read a number of cells: four times the first's */
		spread = 0;
		probes = Min(probes * 4, max_probes);
		/*
		 * A search whose records kept only passing candidates fetches no
		 * more, unless it fetched its whole budget (smaller than k).
		 */
		if (search->records == NULL || matched < search->nfetched ||
			search->nfetched >= budget)
			budget = (int) Min((int64) budget * 4, (int64) max_budget);
	}
	wl_last_search.probes = spread > 0 ? wl_spread_cells_read(meta, search) : probes;
	return matched;
}

/* The collections that one kind of NOTICE named in a transaction. */
typedef struct WlNoticed
{
	TimestampTz xact;			/* the transaction's start */
	int			count;
	char		names[8][NAMEDATALEN * 2];
} WlNoticed;

/*
 * Is this the first NOTICE of its kind about collection in the current
 * transaction?  Remembers the collection if so: a loop of searches says a
 * thing once, not once a search (past 8 collections, once a search).
 */
static bool
wl_search_first_notice(WlNoticed *noticed, const char *collection)
{
	TimestampTz xact = GetCurrentTransactionStartTimestamp();
	int			i;

	if (noticed->xact != xact)
	{
		noticed->xact = xact;
		noticed->count = 0;
	}
	for (i = 0; i < noticed->count; i++)
		if (strcmp(noticed->names[i], collection) == 0)
			return false;
	if (noticed->count < (int) lengthof(noticed->names))
		strlcpy(noticed->names[noticed->count++], collection, sizeof(noticed->names[0]));
	return true;
}

/*
 * Says, once a transaction for each collection, that a search cannot reach
 * whiplash.recall_target within its calibration: the estimate it expects
 * instead, and what raises it.
 */
static void
wl_search_notice_target(const WlCollection *collection, const WlSearchPlan *plan)
{
	static WlNoticed noticed;

	if (!plan->below_target || !wl_search_first_notice(&noticed, collection->meta->name))
		return;
	ereport(NOTICE,
			(errmsg("searches of collection \"%s\" expect a recall@10 of %.2f, below whiplash.recall_target %.2f",
					collection->meta->name, plan->recall, wl_recall_target),
			 errdetail("They read %s%d cell%s and re-rank %d candidates, the highest recall its calibration measured%s.",
					   plan->spread > 0 ? "about " : "", plan->probes,
					   plan->probes == 1 ? "" : "s", plan->budget,
					   wl_max_search_units > 0 ? " within whiplash.max_search_units" : ""),
			 errhint("Raise whiplash.max_search_units, or pass max_candidates => to re-rank more; whiplash_recall() measures the recall reached.")));
}

/*
 * Says, once a transaction for each collection, that a filtered search
 * read more than twice the read units its plan expected, and more than
 * WL_OVERRUN_MIN_UNITS: it widened (its filter kept too few of the vectors
 * its first round read), or its first round read more records of
 * partitions than the statistics it was priced by count (undercounted, of
 * a partition they do not list: written since the index was built; one a
 * sample found rarer than it is says nothing, as a build would sample
 * the same).  Only plans that price their reads count (packed
 * collections' probes and codes: LSH probes price none), and not a Scan,
 * which reads every item once whatever the filter.  A search was priced
 * at its filter's estimated selectivity (wl_search_plan_filtered), so this
 * says the estimate was wrong.
 */
static void
wl_search_notice_overrun(const WlCollection *collection, const WlSearchPlan *plan,
						 bool undercounted)
{
	static WlNoticed noticed;
	double		units = wl_last_search.capacity_units;
	bool		unlisted = undercounted && !plan->partitions.counted;

	if (plan->kind == WL_SEARCH_SCAN || plan->read_units <= 0 ||
		(wl_last_search.rounds < 2 && !unlisted) ||
		units <= WL_OVERRUN_MIN_UNITS || units <= 2 * plan->read_units ||
		!wl_search_first_notice(&noticed, collection->meta->name))
		return;
	ereport(NOTICE,
			(errmsg("a filtered search of collection \"%s\" read more than twice the read units it planned",
					collection->meta->name),
			 errdetail("It read %.1f read units, against %.1f planned, in %d round%s: %ld of the %ld vectors it fetched passed the filter.",
					   units, plan->read_units, wl_last_search.rounds,
					   wl_last_search.rounds == 1 ? "" : "s",
					   wl_last_search.matched, wl_last_search.vectors_read),
			 wl_last_search.rounds > 1 ?
			 errhint("A filter costs a search more the fewer vectors pass it; whiplash.max_scan_candidates bounds what one search fetches.") :
			 errhint("The statistics of its index, taken when it was built, count fewer of the records the filter keeps than it read; whiplash_reindex counts them again.")));
}

/*
 * The plan a search can carry out on the collection as it is now: when its
 * current index cannot be read (see wl_collection_damage), an exact one,
 * with a WARNING naming the damage; otherwise plan itself.
 */
static const WlSearchPlan *
wl_search_usable_plan(WlCollection *collection, const WlSearchPlan *plan,
					  WlSearchPlan *exact)
{
	if (wl_collection_damage(collection) == NULL ||
		collection->meta->format->searchable(collection->meta, collection->index))
		return plan;
	ereport(WARNING,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the index of collection \"%s\" cannot be read: %s",
					collection->meta->name, wl_collection_damage(collection)),
			 errdetail("The search reads every vector instead."),
			 errhint("Run whiplash_reindex on the collection to rebuild its index.")));
	if (plan->kind == WL_SEARCH_SCAN)
		return plan;
	wl_search_plan_exact(collection, plan->metric, plan->consistent,
						 "the collection's index cannot be read", exact);
	return exact;
}

/* Records what a search read, from the client's counts before it. */
static void
wl_search_count(WlConnection *conn, const WlDdbStats *before, long rounds_before, int results)
{
	WlDdbStats	after;

	wl_ddb_get_stats(conn->ddb, &after);
	wl_last_search.requests = after.requests - before->requests;
	wl_last_search.bytes_read = after.bytes_received - before->bytes_received;
	wl_last_search.capacity_units = after.capacity_units - before->capacity_units;
	wl_last_search.round_trips = conn->round_trips - rounds_before;
	wl_last_search.results = results;
}

/*
 * Do the statistics of the collection's current index prove that no
 * vector passes the records' part of a filter (attrstats.h)?  They do only
 * while no writer has reported a value they do not list: the metadata is
 * read again to be sure, one strongly consistent GetItem, which is all
 * such a search reads.
 */
static bool
wl_search_none_kept(WlConnection *conn, const WlCollection *collection,
					const WlRecordFilter *records)
{
	const char *names[WL_RECORD_ATTRS_MAX];
	int			n = wl_packed_record_attrs(collection->meta, names);
	int		   *slots;
	WlMeta	   *now;
	bool		same;

	if (records == NULL || n == 0)
		return false;
	slots = palloc(sizeof(int) * Max(records->ntests, 1));
	if (wl_record_filter_resolve(records, names, n, slots) == 0 ||
		!wl_packed_none_kept(collection->meta, collection->index, records, slots))
		return false;
	now = wl_read_metadata(conn, collection->meta->name, NULL);
	same = now != NULL && wl_meta_same_index(now, collection->meta) &&
		now->unseen_state == collection->meta->unseen_state;
	if (now != NULL && !same)
		wl_collection_unseen_changed(conn->serverid, collection->meta->name);
	wl_meta_free(now);
	return same;
}

/*
 * Runs a search by a plan and puts the k closest matches into *hits
 * (palloc'd, closest first, equal distances by id); returns how many.  A
 * probe search that finds fewer than k of a collection that holds more
 * reads every code instead.  A search of an index that switched to a new
 * generation meanwhile runs on the new one (see wl_collection_stale).
 * projection names the attributes to read (NULL: all; the filter and the
 * caller may need them).  Records what it read for whiplash_last_search().
 */
int
wl_search_run(WlConnection *conn, WlCollection *collection, const float *query, int k,
			  const WlSearchPlan *plan, const char *projection,
			  WlSearchFilter filter, void *filter_arg, const WlRecordFilter *records,
			  WlSearchHit **hits)
{
	WlSearch	search;
	WlSearchPlan wider;
	WlSearchPlan damaged;
	WlSearchPlan asked;
	WlSearchPlan switched;
	WlTopK	   *topk;
	int			attempt;
	double	   *distances;
	int		   *indexes;
	int			nresults;
	WlDdbStats	before;
	long		rounds_before = conn->round_trips;
	int			i;

	memset(&wl_last_search, 0, sizeof(wl_last_search));
	wl_ddb_get_stats(conn->ddb, &before);
	if (filter != NULL && wl_search_none_kept(conn, collection, records))
	{
		wl_last_search.none_kept = true;
		wl_last_search.kind = plan->kind;
		wl_last_search.recall = 1.0;
		*hits = palloc(sizeof(WlSearchHit));
		wl_search_count(conn, &before, rounds_before, 0);
		return 0;
	}
	for (attempt = 0;; attempt++)
	{
		if (plan->kind != WL_SEARCH_SCAN && wl_collection_stale(conn, collection))
		{
			/*
			 * The collection's index switched to a new generation since
			 * this session read it (found by an earlier read of this
			 * statement, or by this search's own rounds), and the old one
			 * may be gone: search the new one, with the probes and
			 * candidates the caller asked for, priced for the same filter.
			 */
			asked = *plan;
			collection = wl_collection_open(conn, pstrdup(collection->meta->name));
			wl_search_plan(collection, k, asked.probes_arg, asked.budget_arg,
						   asked.consistent, &switched);
			/* (a share the old records answered whole is the new index's to say) */
			if (filter != NULL)
				wl_record_plan_filtered(records, collection, k,
										asked.whole ? -1 : asked.selectivity,
										asked.record_selectivity, &switched);
			plan = &switched;
		}
		plan = wl_search_usable_plan(collection, plan, &damaged);
		topk = wl_topk_init(palloc(wl_topk_size(k)), k);
		wl_search_init(&search, conn, collection, query, plan, filter != NULL ? records : NULL);
		wl_last_search.matched = wl_search_rounds(&search, k, projection, filter, filter_arg,
												  topk);
		/* once more, when its rounds found the index switched */
		if (attempt > 0 || plan->kind == WL_SEARCH_SCAN ||
			!wl_collection_stale(conn, collection))
			break;
	}
	wl_last_search.fine_bits = plan->depth;
	wl_last_search.kind = plan->kind;
	/* a filter's plan knows its recall where its calibration measured it */
	wl_last_search.recall = filter == NULL || plan->selectivity >= 0 ? plan->recall : -1;
	if (filter == NULL)
		wl_search_notice_target(collection, plan);
	if (plan->kind == WL_SEARCH_PROBE && filter == NULL && wl_last_search.matched < k &&
		collection->meta->format->code_bytes(collection->meta) > 0 &&
		collection->meta->vector_count > wl_last_search.matched)
	{
		/* too few found: every code is read, and the best re-ranked too */
		wider = *plan;
		wider.kind = WL_SEARCH_CODES;
		wider.spread = 0;
		search.plan = &wider;
		wl_last_search.matched += wl_search_rounds(&search, k, projection, NULL, NULL, topk);
		wl_last_search.kind = WL_SEARCH_CODES;
	}
	distances = palloc(sizeof(double) * k);
	indexes = palloc(sizeof(int) * k);
	nresults = wl_topk_sorted(topk, distances, indexes);
	*hits = palloc(sizeof(WlSearchHit) * Max(nresults, 1));
	for (i = 0; i < nresults; i++)
	{
		(*hits)[i].item = search.items.items[indexes[i]];
		(*hits)[i].distance = distances[i];
	}

	wl_search_count(conn, &before, rounds_before, nresults);
	/* partitions found to hold more than planned are of no calibrated recall */
	if (search.undercounted)
		wl_last_search.recall = -1;
	/* (a plan proved empty that a value written since undid has nothing to overrun) */
	if (filter != NULL && plan->record_selectivity != 0)
		wl_search_notice_overrun(collection, plan, search.undercounted);
	return nresults;
}

/* What the last search of this backend read. */
const WlSearchStats *
wl_search_last_stats(void)
{
	return &wl_last_search;
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
 * Searches the collection behind foreign table relid with the arguments of
 * whiplash_search after the first, returning its rows.
 */
static Datum
wl_search_relation(FunctionCallInfo fcinfo, Oid relid)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	WlConnection *conn;
	WlCollection *collection;
	WlSearchPlan plan;
	float	   *query;
	int			dims;
	int			k;
	int			probes;
	int			max_candidates;
	WlSearchHit *hits;
	int			nhits;
	Jsonb	   *filter_jsonb = NULL;
	WlFilter   *filter = NULL;
	WlRecordFilter *records;
	int			i;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query vector must not be null")));
	k = wl_int_arg(fcinfo, 2, 10, 1, WL_MAX_K, "k");
	probes = wl_int_arg(fcinfo, 3, -1, 1, 1024, "probes");
	max_candidates = wl_int_arg(fcinfo, 4, -1, 1, 10000000, "max_candidates");
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
	{
		filter_jsonb = PG_GETARG_JSONB_P(5);
		if (!JB_ROOT_IS_OBJECT(filter_jsonb))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("filter must be a JSON object"),
					 errhint("A filter such as '{\"category\": \"shoes\", \"price\": {\"$lt\": 20}}' keeps the vectors whose attributes pass it.")));
	}

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_TABLE, get_rel_name(relid));
	collection = wl_collection_for_relation(relid, &conn);
	if (filter_jsonb != NULL)
		filter = wl_filter_compile(relid, filter_jsonb);
	wl_xact_before_read(conn, collection->meta->name);
	wl_search_plan(collection, k, probes, max_candidates,
				   wl_table_consistent_searches(relid, conn), &plan);
	query = wl_array_to_vector(PG_GETARG_ARRAYTYPE_P(1), collection->meta->dims,
							   "query vector", &dims);
	InitMaterializedSRF(fcinfo, 0);
	records = filter ? wl_filter_records(filter) : NULL;
	/*
	 * Priced by the index's statistics, where it has them; its recall is
	 * known where the records answer the whole filter.
	 */
	if (records != NULL)
		wl_record_plan_filtered(records, collection, k, -1, -1, &plan);

	nhits = wl_search_run(conn, collection, query, k, &plan,
						  filter ? NULL : "id,vector", filter ? wl_filter_matches : NULL,
						  filter, records, &hits);
	wl_explain_count_search(wl_search_last_stats(), plan.read_units);
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

/* Refuses a NULL first argument of whiplash_search. */
static void
wl_require_collection(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("collection must not be null")));
}

/*
 * whiplash_search(collection regclass, query real[], k int, probes int,
 * max_candidates int, filter jsonb) returns (id text, distance float8),
 * closest first.  With a filter, only vectors whose attributes pass it
 * (filter.c) are returned, widening the search until k match.
 */
Datum
whiplash_search(PG_FUNCTION_ARGS)
{
	wl_require_collection(fcinfo);
	return wl_search_relation(fcinfo, PG_GETARG_OID(0));
}

/*
 * whiplash_search(collection text, ...): the same, given the foreign
 * table's name as text (what a quoted literal resolves to), so that a name
 * that is not a table can be told which table maps that collection.
 */
Datum
whiplash_search_by_name(PG_FUNCTION_ARGS)
{
	wl_require_collection(fcinfo);
	return wl_search_relation(fcinfo, wl_relation_of_name(PG_GETARG_TEXT_PP(0)));
}

/*
 * whiplash_last_search(): what this backend's last search read, so that
 * cost and recall can be measured from SQL.
 */
Datum
whiplash_last_search(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[15];
	bool		nulls[15] = {false};

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
	if (tupdesc->natts > 13)
		values[13] = CStringGetTextDatum(wl_last_search.none_kept ? "none" :
										 wl_search_kind_name(wl_last_search.kind));
	values[14] = Float8GetDatum(wl_last_search.recall);
	nulls[14] = wl_last_search.recall < 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

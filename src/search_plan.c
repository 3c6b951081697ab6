/*
 * search_plan.c - how a search reads a collection: the cheapest plan by
 * the read units DynamoDB would bill.
 *
 * Three plans:
 *   probe  read the probed buckets of every table (multi-probe LSH), rank
 *          what they hold, and fetch the best candidates whole;
 *   codes  read every code of one table (a Query per bucket), rank them
 *          all, and fetch the best whole: nearly exact, for collections
 *          whose codes take a few pages;
 *   scan   read every vector (Scan) and rank them exactly: for collections
 *          not trained yet, or so small that this is cheapest, and for
 *          filters so rare that widening would cost about as much.
 * Codes need a format that keeps codes.  Formats without codes (v1,
 * native) probe, ranking candidates by how many tables they collide in; a
 * native collection no larger than the candidate budget is scanned instead
 * (v1 keeps no count of its vectors).  For a packed collection, the read units of
 * each plan are estimated from its size and shape, and the cheapest wins;
 * ties go to the more exact plan.
 *
 * A packed collection calibrated when its index was built (calibrate.h)
 * reads the cells and re-ranks the candidates of the cheapest point of its
 * calibration that reaches whiplash.recall_target (within
 * whiplash.max_search_units, when set), and knows the recall it expects.
 * For collections built before calibration, one knob,
 * whiplash.search_effort, trades reads for recall: the probes a table and
 * the candidates fetched grow with it, from cheap (0.25) to a recall of
 * about 0.99 (4).
 *
 * A filtered search widens until enough candidates pass its filter:
 * wl_search_plan_filtered prices that, given the filter's selectivity.
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "core/operations.h"
#include "core/packed.h"
#include "whiplash.h"

/*
 * Settings: whiplash.probes, .max_candidates, .candidate_fraction and
 * .bucket_capacity for formats without codes; .search_effort for packed
 * collections; .max_probes and .max_scan_candidates bound a filtered
 * search's widening.
 */
int			wl_probes = 12;
int			wl_max_candidates = 2000;
double		wl_candidate_fraction = 0.08;
int			wl_max_probes = 192;
int			wl_max_scan_candidates = 20000;
int			wl_bucket_capacity = 16;
double		wl_search_effort = 1.0;
double		wl_recall_target = 0.95;
double		wl_max_search_units = 0;

/* The candidate budget never goes below this, however small the collection. */
#define WL_MIN_CANDIDATES 100

/* At effort 1, probes a table and candidates re-ranked in a packed collection. */
#define WL_PACKED_PROBES 5.0
#define WL_PACKED_RERANK 100.0

/* Records a probe of a packed collection aims to read: about one 4 KB page. */
#define WL_PACKED_PROBE_RECORDS 128

/*
 * At effort 1, the codes a search of a collection with cells reads (up to
 * 100,000 vectors; beyond, in proportion to the square root of its size)
 * and the candidates it re-ranks.
 */
#define WL_CELLS_CODES 5000.0
#define WL_CELLS_RERANK 40.0

/*
 * How much more than a widened filtered search a Scan may cost and still
 * be chosen for it (the plan's why says "twice").  A search widened for a
 * rare filter ranks candidates far from the query by their codes, and its
 * recall is not known (0.62 for 0.1% of text384, BENCHMARKS.md's filtered
 * search); a Scan is exact.
 */
#define WL_FILTER_SCAN_MARGIN 2.0

/*
 * A search of a partition joins the cells it reads into runs
 * (search_partitions.c), reading the cells between them too: measured on
 * 384-dimension text, a tenth of the vectors in a partition, about twice
 * the bytes of the cells probed, in a Query for every four or five of
 * them (BENCHMARKS.md, "Partitioned collections").
 */
#define WL_RUN_GAPS 2.0
#define WL_RUN_CELLS 4.0

/* A strongly consistent GetItem of a collection's metadata (below 4 KB). */
#define WL_METADATA_READ_UNITS 1.0

/*
 * The size of an id, as estimated when the collection's own is unknown: a
 * vector's always, a record's name's for indexes built before they noted it.
 */
#define WL_ID_BYTES 12

/* Read units of a Query, Scan or item of `bytes`, read as the plan reads. */
static double
wl_read_units(double bytes, bool consistent)
{
	return wl_ddb_read_quanta(bytes) * (consistent ? 1.0 : 0.5);
}

/* Requests of a Scan of `bytes`: one a 1 MB page. */
static double
wl_scan_pages(double bytes)
{
	return ceil(bytes / (1024.0 * 1024.0));
}

/* Bytes of one vector item (id, vector, the attribute names), attributes aside. */
double
wl_vector_item_bytes(const WlMeta *meta)
{
	return WL_ID_BYTES + 4.0 * meta->dims + 2 + 6;
}

/*
 * A native collection of no more vectors than a search's candidate budget
 * is searched exactly, by one Scan: probing would fetch about as many
 * vectors, each billed at least a read unit, and could still miss some,
 * where the Scan returns min(k, vectors) rows.  vector_count is
 * approximate, which is enough here.
 */
static void
wl_plan_small_native(const WlMeta *meta, WlSearchPlan *plan)
{
	double		bytes = meta->vector_count * wl_vector_item_bytes(meta);

	if (meta->vector_count > plan->budget)
		return;
	plan->kind = WL_SEARCH_SCAN;
	plan->read_units = wl_read_units(bytes, plan->consistent);
	plan->requests = wl_scan_pages(bytes);
	plan->why = "the collection holds no more vectors than a search would fetch";
}

/* The plan of a format without codes: probes, and a budget of candidates. */
static void
wl_plan_buckets(const WlMeta *meta, int probes_arg, int budget_arg, WlSearchPlan *plan)
{
	plan->kind = WL_SEARCH_PROBE;
	plan->depth = wl_meta_search_depth(meta, meta->vector_count, wl_bucket_capacity);
	if (meta->format->home_buckets_only)
	{
		/* v1: what the original library reads, home buckets and every candidate */
		plan->probes = probes_arg > 0 ? probes_arg : 1;
		plan->budget = budget_arg > 0 ? budget_arg : INT_MAX;
		plan->requests = ceil((double) meta->ntables * plan->probes / WL_BATCH_GET_MAX);
		plan->why = "the original library's layout";
		return;
	}
	plan->probes = probes_arg > 0 ? probes_arg : wl_probes;
	plan->budget = budget_arg > 0 ? budget_arg :
		Min(wl_max_candidates,
			Max(WL_MIN_CANDIDATES, (int) (wl_candidate_fraction * meta->vector_count)));
	plan->requests = (double) meta->ntables * plan->probes;
	plan->why = "a layout without codes";
	if (probes_arg <= 0 && budget_arg <= 0 && meta->vector_count > 0)
		wl_plan_small_native(meta, plan);
}

/* A Scan of every vector, priced; recall 1. */
static void
wl_plan_scan(const WlMeta *meta, const char *why, WlSearchPlan *plan)
{
	double		bytes = Max(meta->vector_count, 1) * wl_vector_item_bytes(meta);

	plan->kind = WL_SEARCH_SCAN;
	plan->read_units = wl_read_units(bytes, plan->consistent);
	plan->requests = wl_scan_pages(bytes);
	plan->why = why;
	plan->recall = 1.0;
}

/*
 * How much more a calibrated collection's candidates compete than when it
 * was calibrated: its growth since (at least 1).
 */
static double
wl_plan_growth(const WlPackedIndex *index, double count)
{
	return Max(1.0, count / Max((double) index->vectors, 1.0));
}

/*
 * The cells a search of a calibrated collection reads and the candidates
 * it re-ranks: the cheapest point of the calibration that reaches
 * whiplash.recall_target, else the one of highest recall (below_target),
 * among those within whiplash.max_search_units.
 * Arguments given (> 0) fix their axis.  A collection grown since its
 * calibration, and a k above the calibration's, re-rank in proportion, as
 * the candidates that compete for a place grow with them.
 */
static void
wl_plan_calibrated(const WlPackedIndex *index, int k, int probes_arg, int budget_arg,
				   double count, double cell_units, double fetch_units, WlSearchPlan *plan)
{
	const WlCalibration *calibration = &index->calibration;
	double		scale = wl_plan_growth(index, count) * Max(1.0, (double) k / calibration->k);
	WlCalibChoice choice;

	wl_calib_choose(calibration, wl_recall_target, wl_max_search_units, k, index->cells,
					cell_units, fetch_units, scale, probes_arg, budget_arg, &choice);
	plan->probes = choice.spread > 0 ? Max(1, (int) ceil(choice.cells)) : choice.probes;
	plan->spread = choice.spread;
	plan->spread_most = choice.probes;
	plan->cells_read = choice.cells;
	plan->budget = choice.rerank;
	plan->recall = choice.recall;
	plan->below_target = !choice.reached && probes_arg <= 0 && budget_arg <= 0;
	plan->rerank_scale = scale;
}

/* Bytes of one record of an index, as a Query bills it: name and value. */
static double
wl_plan_record_bytes(const WlPackedIndex *index)
{
	return (index->name_bytes > 0 ? index->name_bytes : WL_ID_BYTES + 1) +
		wl_packed_index_record_bytes(index);
}

/*
 * The plans of a packed collection, each priced, and the cheapest chosen.
 * count is the collection's size, at least 1.
 */
static void
wl_plan_packed(const WlMeta *meta, const WlPackedIndex *index, int k, int probes_arg,
			   int budget_arg, WlSearchPlan *plan)
{
	double		count = Max((double) meta->vector_count, 1.0);
	double		record = wl_plan_record_bytes(index);
	double		item = wl_vector_item_bytes(meta);
	double		effort = Max(wl_search_effort, 0.01);
	int			budget = budget_arg > 0 ? budget_arg :
		Max(k, (int) ceil(WL_PACKED_RERANK * effort));
	int			probes = probes_arg > 0 ? probes_arg :
		Max(1, (int) lround(WL_PACKED_PROBES * effort));
	int			buckets = index->cells > 0 ? index->cells : 1 << index->bits;
	double		fetch;
	double		per_probe;
	double		probe_units;
	double		codes_units;
	double		scan_units;
	int			depth = 0;

	if (index->cells > 0)
	{
		/*
		 * Cells are read whole, nearest first, as many as a budget of codes
		 * fills at the size a cell would have if the index were trained now:
		 * the size it was built with, for a collection grown since (up to
		 * twice, before its next training), which so reads more codes rather
		 * than fewer cells and holds its recall; the size it has, once an
		 * index has the most cells one k-means gives.  Past that size the
		 * budget grows with the square root of the collection; an index
		 * of grouped cells has cells of the same size at any size, and a
		 * budget that does not grow.
		 */
		double		codes = WL_CELLS_CODES * effort *
			(index->groups > 0 ? 1.0 : sqrt(Max(1.0, count / 100000.0)));
		double		built = Max((double) index->vectors, 1.0) / buckets;
		double		cell = Min(count / buckets,
							   index->groups > 0 ? built : Max(built, count / WL_PACKED_MAX_CELLS));

		budget = budget_arg > 0 ? budget_arg : Max(k, (int) ceil(WL_CELLS_RERANK * effort));
		if (probes_arg <= 0)
			probes = (int) Min((double) buckets, Max(1.0, ceil(codes / cell)));
		if (index->calibration.queries > 0)
		{
			wl_plan_calibrated(index, k, probes_arg, budget_arg, count,
							   wl_read_units(count / buckets * record, plan->consistent),
							   wl_read_units(item, plan->consistent), plan);
			probes = plan->probes;
			budget = plan->budget;
		}
	}
	/* the deepest depth whose probes still read about a page each */
	while (index->cells == 0 && depth < index->fine &&
		   count / (buckets * pow(2.0, depth + 1)) >= WL_PACKED_PROBE_RECORDS)
		depth++;
	per_probe = count / (buckets * pow(2.0, depth));
	fetch = Min((double) budget, count);
	probe_units = index->tables *
		(plan->spread > 0 ? plan->cells_read : Min(probes, buckets << depth)) *
		wl_read_units(per_probe * record, plan->consistent) +
		fetch * wl_read_units(item, plan->consistent);
	codes_units = buckets * wl_read_units(count / buckets * record, plan->consistent) +
		fetch * wl_read_units(item, plan->consistent);
	scan_units = wl_read_units(count * item, plan->consistent);

	plan->probes = probes;
	plan->cells = index->cells;
	plan->groups = index->groups;
	/* runs of a block's cells cost less than the Query a cell priced here */
	plan->block_cell_bytes = index->blocked ? count / buckets * record : 0;
	plan->depth = depth;
	plan->budget = budget;
	plan->probe_limit = buckets << depth;
	plan->probe_units = index->tables * wl_read_units(per_probe * record, plan->consistent);
	plan->probe_codes = index->tables * per_probe;
	plan->fetch_units = wl_read_units(item, plan->consistent);
	plan->fetched = fetch;
	plan->vectors = count;
	plan->scan_units = scan_units;
	plan->scan_requests = wl_scan_pages(count * item);
	if (probes_arg > 0)
	{
		plan->kind = WL_SEARCH_PROBE;
		plan->read_units = probe_units;
		plan->requests = index->tables * Min(probes, buckets << depth);
		plan->why = "probes were given";
	}
	else if (scan_units <= codes_units && scan_units <= probe_units)
	{
		plan->kind = WL_SEARCH_SCAN;
		plan->recall = 1.0;
		plan->below_target = false;
		plan->read_units = scan_units;
		plan->requests = plan->scan_requests;
		plan->why = "reading every vector costs the fewest read units";
	}
	else if (codes_units <= probe_units)
	{
		plan->kind = WL_SEARCH_CODES;
		plan->read_units = codes_units;
		if (index->calibration.queries > 0)
			plan->recall = wl_calib_recall(&index->calibration, buckets,
										   (int) floor(budget / wl_plan_growth(index, count)));
		plan->requests = buckets;
		plan->why = "reading every code costs fewer read units than probing";
	}
	else
	{
		plan->kind = WL_SEARCH_PROBE;
		plan->read_units = probe_units;
		plan->requests = index->tables *
			(plan->spread > 0 ? plan->cells_read : Min(probes, buckets << depth));
		plan->why = "probing costs the fewest read units";
	}
	if (plan->kind != WL_SEARCH_PROBE || probes_arg > 0)
		plan->spread = 0;
}

/*
 * The plan of a search for the k nearest: the arguments' probes and budget
 * win when given (> 0); probes given make it probe.  consistent says whether reads are strongly
 * consistent, which doubles their price.
 */
void
wl_search_plan(const WlCollection *collection, int k, int probes_arg, int budget_arg,
			   bool consistent, WlSearchPlan *plan)
{
	const WlMeta *meta = collection->meta;
	const WlPackedSettings *settings = wl_packed_settings_of(meta);

	memset(plan, 0, sizeof(WlSearchPlan));
	plan->consistent = consistent;
	plan->metric = meta->metric;
	plan->recall = -1;
	plan->rerank_scale = 1;
	plan->probes_arg = probes_arg;
	plan->budget_arg = budget_arg;
	plan->selectivity = -1;
	plan->record_selectivity = 1;
	plan->rounds = 1;
	plan->partitions.n = -1;
	if (settings == NULL)
		wl_plan_buckets(meta, probes_arg, budget_arg, plan);
	else if (!settings->has_current)
		wl_plan_scan(meta, "the collection's index is not trained yet", plan);
	else if (!meta->format->searchable(meta, collection->index))
		wl_plan_scan(meta, "the collection's index cannot be read", plan);
	else
	{
		wl_plan_packed(meta, &settings->current, k, probes_arg, budget_arg, plan);
		/* a partitioned index is read by partition (wl_search_plan_filtered) */
		plan->partitions.n = settings->current.partitioned ? 0 : -1;
		if (settings->current.partitioned)
		{
			wl_plan_scan(meta, "the index is partitioned, and the search names no value "
						 "of its partition attribute", plan);
			plan->below_target = false;
		}
	}
}

/*
 * The probability that fewer than k of `fetched` candidates pass a filter
 * that `selectivity` of them pass: the binomial distribution, summed in
 * logarithms so that many candidates do not underflow it.
 */
static double
wl_fewer_pass(double fetched, double selectivity, int k)
{
	double		n = floor(fetched);
	double		sum = 0;

	if (n < k)
		return 1.0;
	if (selectivity <= 0)
		return 1.0;
	if (selectivity >= 1)
		return 0.0;
	for (int j = 0; j < k; j++)
		sum += exp(lgamma(n + 1) - lgamma(j + 1.0) - lgamma(n - j + 1) +
				   j * log(selectivity) + (n - j) * log1p(-selectivity));
	return Min(sum, 1.0);
}

/*
 * A search that drops records before fetching reads, in its first round,
 * cells holding this many times its candidate budget among the records it
 * keeps, so that it re-ranks the best of several times as many as it
 * fetches, as an unfiltered search does.
 */
#define WL_RECORD_ROUND_SHARE 4.0

/*
 * Makes a plan that drops records keeping `kept` of them read cells (or
 * probes) enough in its first round: WL_RECORD_ROUND_SHARE times its
 * budget among the records kept, at most every cell and what
 * whiplash.max_search_units leaves.  The read units and requests of the
 * cells added are added.
 */
static void
wl_plan_record_cells(WlSearchPlan *plan, double kept)
{
	double		reads = plan->spread > 0 ? plan->cells_read : Min(plan->probes, plan->probe_limit);
	double		wanted = ceil(WL_RECORD_ROUND_SHARE * plan->budget /
							  Max(kept * plan->probe_codes, 1e-9));
	double		requests_per_read = plan->requests / Max(reads, 1.0);

	if (plan->kind != WL_SEARCH_PROBE || plan->probes_arg > 0 || wanted <= reads)
		return;
	/* within every cell and whiplash.max_search_units */
	wanted = Min(wanted, (double) plan->probe_limit);
	if (wl_max_search_units > 0 && plan->probe_units > 0)
		wanted = Min(wanted, reads + Max(0.0, wl_max_search_units - plan->read_units) /
					 plan->probe_units);
	wanted = floor(wanted);
	if (wanted <= reads)
		return;
	plan->read_units += (wanted - reads) * plan->probe_units;
	plan->requests += (wanted - reads) * requests_per_read;
	plan->probes = (int) wanted;
	plan->spread = 0;
}

/*
 * Makes a plan that drops records keeping `kept` of them read the cells
 * and re-rank the candidates that its calibration's filtered grids
 * (calibrate.h) show reach whiplash.recall_target under such a filter, at
 * the fewest read units; false, leaving it, where it has no such grids or
 * is no probe of cells the plan chose.
 */
static bool
wl_plan_record_calibrated(WlSearchPlan *plan, const WlCalibration *calibration, double kept,
						  int k)
{
	double		requests_per_read = plan->requests /
		Max(plan->spread > 0 ? plan->cells_read : Min(plan->probes, plan->probe_limit), 1.0);
	WlCalibChoice choice;

	if (calibration == NULL || plan->kind != WL_SEARCH_PROBE || plan->cells == 0 ||
		plan->probes_arg > 0 || plan->budget_arg > 0 ||
		!wl_calib_choose_filtered(calibration, kept, wl_recall_target, wl_max_search_units, k,
								  plan->probe_limit, plan->probe_units, plan->fetch_units,
								  plan->rerank_scale, &choice))
		return false;
	plan->probes = choice.probes;
	plan->spread = 0;
	plan->cells_read = choice.cells;
	plan->budget = choice.rerank;
	plan->fetched = choice.rerank;
	plan->recall = choice.recall;
	plan->below_target = !choice.reached;
	plan->read_units = choice.units;
	plan->requests = choice.cells * requests_per_read;
	plan->filter_calibrated = true;
	return true;
}

/*
 * Prices a search of a partitioned index that reads only the partitions
 * its filter names (plan->partitions), from the plan of the whole index:
 * a cell read is a Query of each partition, billed for the partitions'
 * share of its records, but at least a read unit's least each, unless
 * reading the cells in runs (search_partitions.c) costs less; reading
 * every cell of them (a codes plan) is a Query of each partition's records
 * of one table, paged by the megabyte, whose read units this returns, and
 * its requests in *codes_requests.
 */
static double
wl_plan_partitioned(WlSearchPlan *plan, const WlPackedIndex *index, double *codes_requests)
{
	WlPartitions *parts = &plan->partitions;
	int			tables = index->tables;
	double		least = wl_read_units(1, plan->consistent);
	double		bytes = plan->vectors * parts->share / parts->n * wl_plan_record_bytes(index);
	double		codes_units = parts->n * wl_read_units(bytes, plan->consistent);
	double		reads = plan->spread > 0 ? plan->cells_read : Min(plan->probes, plan->probe_limit);
	double		joined;

	/*
	 * A cell of a partition read in runs: its bytes, the cells between,
	 * and a share of a Query (a whole one for a search of a cell or two).
	 */
	parts->cell_bytes = bytes / Max(index->cells, 1);
	joined = parts->n * tables * least *
		(WL_RUN_GAPS * parts->cell_bytes / WL_DDB_READ_UNIT +
		 1.0 / Min(WL_RUN_CELLS, Max(reads, 1.0)));

	/* a Scan, cheaper than the whole index, may not be than its partitions */
	if (plan->kind == WL_SEARCH_SCAN)
	{
		plan->kind = WL_SEARCH_PROBE;
		plan->recall = -1;
	}
	/* a fixed number of cells: a spread's count of them is of one partition */
	plan->spread = 0;
	plan->probe_units = Min(joined, Max(parts->n * tables * least, plan->probe_units * parts->share));
	*codes_requests = parts->n * wl_scan_pages(bytes);
	if (plan->kind == WL_SEARCH_CODES)
	{
		plan->read_units = codes_units + plan->fetched * plan->fetch_units;
		plan->requests = *codes_requests;
	}
	else if (plan->kind == WL_SEARCH_PROBE)
	{
		plan->read_units = reads * plan->probe_units + plan->fetched * plan->fetch_units;
		plan->requests = plan->probe_units < joined ? reads * tables * parts->n :
			Max(1.0, reads / WL_RUN_CELLS) * tables * parts->n;
		plan->why = "the search reads the partitions of the index that its filter names";
	}
	return codes_units;
}

/*
 * Prices a plan for a filter that keeps `selectivity` of the vectors.
 * search.c's wl_search_rounds widens such a search until k of the
 * candidates it fetched pass: each wider round probes four times as many
 * cells or buckets (up to whiplash.max_probes) and fetches four times as
 * many candidates (up to whiplash.max_scan_candidates), and a codes plan,
 * which read every code at once, fetches more.  The filter is taken as
 * independent of the distance to the query, so that how many fetched
 * candidates pass follows the binomial distribution: each round costs what it
 * reads times the probability that the rounds before it found fewer than
 * k, and rounds that happen less than once in a hundred searches are not
 * counted in plan->rounds.  A filter that nothing passes widens to the
 * limits.  When a Scan of every vector, which is exact, costs at most
 * WL_FILTER_SCAN_MARGIN times that (and no more than
 * whiplash.max_search_units), the plan becomes the Scan, unless the caller
 * fixed probes or candidates.  Plans that price no reads (LSH probes of
 * formats without codes) and Scans, which read everything once, cost what
 * they did.
 *
 * When the index's records carry attributes the filter tests
 * (recordattrs.h), the records that fail the part of it they answer,
 * which keeps `record_selectivity` of the vectors (1: none), are dropped
 * before any fetch: a round fetches only from the records that pass, and
 * a candidate fetched passes the whole filter with the odds selectivity /
 * record_selectivity.  The first round then reads the cells and re-ranks
 * the candidates that the calibration's filtered grids show reach the
 * recall target under a filter keeping that share (wl_plan_record_calibrated),
 * which is the recall the plan expects where the records answer the whole
 * filter (else it is unknown, -1); an index calibrated without them reads
 * enough cells to hold WL_RECORD_ROUND_SHARE times the candidates it
 * re-ranks among the records kept (wl_plan_record_cells).  When every candidate fetched
 * passes, wider rounds read more cells but fetch no more than the budget
 * (search.c).  A Scan is chosen only where it costs no more: the search
 * fetches nothing that fails, and ranks among records that pass.  A
 * record_selectivity of 0 is the statistics' proof that nothing passes
 * (recordfilter.c): the search reads only the metadata (search.c).
 *
 * A partitioned index, which a search that names no value of its
 * partition attribute Scans (wl_search_plan), is planned for the
 * partitions that `partitions` names: its cells read only their records,
 * and where reading each of them whole costs less, the plan does
 * (wl_plan_partitioned).
 */
void
wl_search_plan_filtered(const WlCollection *collection, WlSearchPlan *plan, int k,
						double selectivity, double record_selectivity, bool whole,
						const WlPartitions *partitions)
{
	const WlCalibration *calibration =
		wl_packed_current_calibration(collection->meta, collection->index);
	const WlPackedSettings *settings = wl_packed_settings_of(collection->meta);
	double		partition_codes = 0;	/* reading the partitions named whole */
	double		partition_requests = 0;
	bool		codes;
	int			probes;
	int			budget;
	int			max_probes;
	int			max_budget;
	double		reads;
	double		requests_per_read;
	double		available;
	double		fetched;
	double		reached;
	double		units;
	double		requests;
	double		expected_fetched;
	double		kept;			/* share of records read that may be fetched */
	double		passing;		/* share of those fetched that pass */

	plan->selectivity = Max(0.0, Min(selectivity, 1.0));
	plan->whole = whole;
	if (record_selectivity == 0)
	{
		/* proved empty by the index's statistics: only the metadata is read */
		plan->selectivity = 0;
		plan->record_selectivity = 0;
		plan->recall = 1.0;
		plan->below_target = false;
		plan->read_units = WL_METADATA_READ_UNITS;
		plan->requests = 1;
		plan->rounds = 1;
		plan->fetched = 0;
		plan->why = "the statistics of the index show that no vector passes the filter";
		return;
	}
	plan->record_selectivity = Max(plan->selectivity, Min(record_selectivity, 1.0));
	if (partitions != NULL && partitions->n > 0 && plan->partitions.n == 0)
	{
		wl_plan_packed(collection->meta, &settings->current, k, plan->probes_arg,
					   plan->budget_arg, plan);
		plan->partitions = *partitions;
		partition_codes = wl_plan_partitioned(plan, &settings->current, &partition_requests);
	}
	codes = plan->kind == WL_SEARCH_CODES;
	kept = plan->record_selectivity;
	passing = kept > 0 ? plan->selectivity / kept : 0;
	if (plan->kind == WL_SEARCH_SCAN || plan->read_units <= 0 || plan->probe_units <= 0)
		return;
	/*
	 * The recall is known where the records answer the whole filter, and
	 * the statistics count the partitions it names.
	 */
	if (kept < 1 && wl_plan_record_calibrated(plan, calibration, kept, k))
		plan->recall = whole && (plan->partitions.n <= 0 || plan->partitions.counted) ?
			plan->recall : -1;
	else
	{
		plan->recall = -1;
		if (kept < 1)
			wl_plan_record_cells(plan, kept);
	}
	if (partition_codes > 0 && plan->kind == WL_SEARCH_PROBE && plan->probes_arg <= 0 &&
		partition_codes + plan->budget * plan->fetch_units <= plan->read_units)
	{
		plan->kind = WL_SEARCH_CODES;
		plan->spread = 0;
		plan->read_units = partition_codes + plan->budget * plan->fetch_units;
		plan->requests = partition_requests;
		plan->why = "reading the partitions its filter names whole costs the fewest read units";
		codes = true;
	}
	budget = plan->budget;
	max_budget = Max(budget, wl_max_scan_candidates);
	fetched = plan->fetched;
	probes = plan->probes;
	max_probes = Max(probes, wl_max_probes);
	reads = codes ? plan->probe_limit :
		plan->spread > 0 ? plan->cells_read : Min(probes, plan->probe_limit);
	requests_per_read = plan->requests / Max(reads, 1.0);
	units = plan->read_units;
	requests = plan->requests;
	/* the first round fetches no more candidates than its reads hold */
	available = kept * (codes ? plan->vectors : Min(reads * plan->probe_codes, plan->vectors));
	units -= Max(0.0, fetched - available) * plan->fetch_units;
	fetched = Min(fetched, available);
	expected_fetched = fetched;
	reached = wl_fewer_pass(fetched, passing, k);
	while (reached > 0.01 && fetched < max_budget &&
		   !(fetched >= available && (codes || probes >= max_probes)))
	{
		double		more_reads = 0;
		double		more_fetched;

		probes = Min(probes * 4, max_probes);
		/* when every candidate fetched passes, the budget stays */
		if (passing < 1)
			budget = (int) Min((int64) budget * 4, (int64) max_budget);
		if (!codes && Min(probes, plan->probe_limit) > reads)
		{
			more_reads = Min(probes, plan->probe_limit) - reads;
			reads += more_reads;
			available = kept * Min(reads * plan->probe_codes, plan->vectors);
		}
		more_fetched = Max(0.0, Min(budget, available) - fetched);
		fetched += more_fetched;
		units += reached * (more_reads * plan->probe_units + more_fetched * plan->fetch_units);
		requests += reached * more_reads * requests_per_read;
		expected_fetched += reached * more_fetched;
		plan->rounds++;
		reached = wl_fewer_pass(fetched, passing, k);
	}
	plan->fetched = expected_fetched;
	plan->read_units = units;
	plan->requests = requests;
	if (plan->scan_units <= (kept < 1 ? 1.0 : WL_FILTER_SCAN_MARGIN) * units &&
		(wl_max_search_units <= 0 || plan->scan_units <= wl_max_search_units) &&
		plan->probes_arg <= 0 && plan->budget_arg <= 0)
	{
		plan->kind = WL_SEARCH_SCAN;
		plan->filter_calibrated = false;
		plan->read_units = plan->scan_units;
		plan->requests = plan->scan_requests;
		plan->rounds = 1;
		plan->spread = 0;
		plan->recall = 1.0;
		plan->below_target = false;
		plan->why = kept < 1 ?
			"reading every vector is exact and costs no more than searching the records "
			"this filter keeps would" :
			"reading every vector is exact and costs at most twice "
			"what widening for this filter would";
	}
}

/*
 * The candidates to re-rank among records of which a filter keeps `kept`
 * of the index's, every cell read: the fewest that the calibration's
 * filtered grids show reach whiplash.recall_target (their fetches within
 * whiplash.max_search_units; the cells are read already), and never fewer
 * than the plan's budget.  A search that read every record of its
 * partitions and found them many more than its plan took
 * (search_partitions.c) re-ranks this many.
 */
int
wl_search_plan_rerank(const WlCollection *collection, const WlSearchPlan *plan, double kept,
					  int k)
{
	const WlCalibration *calibration =
		wl_packed_current_calibration(collection->meta, collection->index);
	WlCalibChoice choice;

	if (calibration == NULL || plan->probe_limit < 1 ||
		!wl_calib_choose_filtered(calibration, Min(kept, 1.0), wl_recall_target,
								  wl_max_search_units, k, plan->probe_limit, 0,
								  plan->fetch_units, plan->rerank_scale, &choice))
		return plan->budget;
	return Max(plan->budget, choice.rerank);
}

/*
 * The plan of an exact search ranked by `metric`: one Scan of every
 * vector.  A cached plan takes it when its operator is no longer the
 * collection's (created again with another metric), and a NULL query,
 * which orders nothing, as a local table would give any k rows.
 */
void
wl_search_plan_exact(const WlCollection *collection, WlMetric metric, bool consistent,
					 const char *why, WlSearchPlan *plan)
{
	memset(plan, 0, sizeof(WlSearchPlan));
	plan->consistent = consistent;
	plan->metric = metric;
	plan->selectivity = -1;
	plan->rerank_scale = 1;
	plan->rounds = 1;
	wl_plan_scan(collection->meta, why, plan);
}

/* The name of a plan's kind, for EXPLAIN and whiplash_last_search. */
const char *
wl_search_kind_name(WlSearchKind kind)
{
	switch (kind)
	{
		case WL_SEARCH_PROBE:
			return "probe";
		case WL_SEARCH_CODES:
			return "codes";
		case WL_SEARCH_SCAN:
			return "scan";
	}
	return "?";
}

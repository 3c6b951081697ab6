/*
 * search_partitions.c - the keys a search of a partitioned index reads:
 * the cells it probes, in each partition its filter names, and those of a
 * partition (or of a block of a blocked index) joined into runs that one
 * Query reads (core/packed_keys.c).
 *
 * A partition holds its share of each cell's records, and DynamoDB bills
 * every Query at least half a read unit: a tenant of a tenth of the
 * vectors holds a few records a cell, and reading a hundred cells one
 * Query each bills several times their bytes.  Keys sort as cells
 * number, training numbers near cells near, and a run of cells between
 * two probed costs their bytes once.
 */
#include "postgres.h"

#include "utils/hsearch.h"

#include "core/packed.h"
#include "whiplash.h"

/*
 * The keys of a round in the partitions its plan names, from those of the
 * whole index: each cell probed in each of them, or, a codes search,
 * every cell of the first table in each.
 */
int
wl_partition_keys(const WlPartitions *partitions, bool codes, char **keybuf, int nkeys)
{
	int			per = codes ? Min(nkeys, 1) : nkeys;
	char	   *out = palloc((size_t) Max(per * partitions->n, 1) * WL_LSH_KEY_MAX);
	int			count = 0;
	int			p;
	int			i;

	for (p = 0; p < partitions->n; p++)
		for (i = 0; i < per; i++)
			if (wl_packed_partition_key(*keybuf + (size_t) i * WL_LSH_KEY_MAX,
										partitions->slots[p], codes,
										out + (size_t) count * WL_LSH_KEY_MAX))
				count++;
	*keybuf = out;
	return count;
}

/*
 * The candidates a search re-ranks that read all `read` records of the
 * partitions it names, `kept` of which its filter keeps: its plan's budget,
 * or, where they are more than twice the records the plan took them to
 * hold (statistics that do not count a partition written since the index
 * was built, or a sample that found it rarer than it is) and more than
 * that budget, at least what reaches the recall target among the records
 * kept (wl_search_plan_rerank), and *undercounted is set.  A budget the
 * caller fixed stays.
 */
int
wl_partition_budget(const WlCollection *collection, const WlSearchPlan *plan, int k,
					double read, double kept, bool *undercounted)
{
	double		planned = plan->partitions.share * plan->vectors;

	if (read <= 2 * planned || kept <= plan->budget)
		return plan->budget;
	*undercounted = true;
	if (plan->budget_arg > 0)
		return plan->budget;
	return wl_search_plan_rerank(collection, plan, kept / Max(plan->vectors, kept), k);
}

/* Has the search read this cell's key already (WlCellRead)? */
static bool
wl_cell_was_read(const char *key, void *arg)
{
	bool		found;

	hash_search((HTAB *) arg, key, HASH_FIND, &found);
	return found;
}

/*
 * A round's new keys of a partitioned probe, or of any read of a blocked
 * index, with each partition's or block's cells joined into runs
 * (wl_packed_join_cells, taking each cell to hold cell_bytes), in place;
 * returns how many.  Every cell a run reads is noted in `read`, the keys
 * the search has read, so that a wider round neither probes it again nor
 * spans it.
 */
int
wl_cell_runs(double cell_bytes, HTAB *read, const char **keys, int nkeys)
{
	char	   *joined;
	int		   *spans;
	int			njoined;
	int			i;

	if (nkeys <= 1)
		return nkeys;
	joined = palloc((size_t) nkeys * WL_LSH_KEY_MAX);
	spans = palloc(sizeof(int) * nkeys);
	njoined = wl_packed_join_cells(cell_bytes, keys, nkeys, wl_cell_was_read, read, joined,
								   spans);
	if (njoined < 0)
		wl_report_out_of_memory();
	for (i = 0; i < njoined; i++)
	{
		keys[i] = joined + (size_t) i * WL_LSH_KEY_MAX;
		if (spans[i] > 1)
		{
			char	   *spanned = palloc((size_t) spans[i] * WL_LSH_KEY_MAX);
			int			n = wl_packed_run_cells(keys[i], spans[i], spanned);
			int			j;

			for (j = 0; j < n; j++)
				hash_search(read, spanned + (size_t) j * WL_LSH_KEY_MAX, HASH_ENTER, NULL);
			pfree(spanned);
		}
	}
	pfree(spans);
	return njoined;
}

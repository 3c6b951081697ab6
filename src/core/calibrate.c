/*
 * calibrate.c - measuring a trained index's recall on the collection's own
 * vectors (see calibrate.h).
 *
 * For each held-out query the calibrator knows, before any vector is
 * visited, the order in which a search would read the cells.  Each vector
 * visited is then, for each query, an exact distance (offered to the
 * query's top k) and, when its cell is among those the query could read, a
 * candidate: the rank of its cell and its code's distance, the same number
 * a search's lookup table gives (wl_model_code_distance).  At the
 * end, the candidates of each query are sorted by code distance once, and
 * for every number of cells read the position of each true neighbour
 * among the candidates of those cells gives, for every number re-ranked,
 * whether a search would have found it.
 */
#include "calibrate.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "distance.h"

#define WL_CALIB_NO_RANK 0xffff

/* The grid's axes, before they are cut to what a calibration can measure. */
static const int wl_calib_probe_axis[] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 24, 28,
32, 40, 48, 64, 96, 128, 192, 256};
static const int wl_calib_rerank_axis[] = {10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 160, 240,
320, 480, 640};

/*
 * Spreads, in WL_CALIB_SPREAD_UNIT: from 0.1% (high dimensions, where
 * every centroid is nearly as far as the nearest) to 5 times.
 */
static const int wl_calib_spread_axis[] = {10, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000,
1500, 2000, 3000, 5000, 7000, 10000, 15000, 20000, 30000, 50000};

#define WL_CALIB_NSPREADS ((int) (sizeof(wl_calib_spread_axis) / sizeof(int)))

/*
 * The filtered grids' cells read: a rare filter's nearest lie among many
 * more cells.  One point fewer than the most, so that the most cells a
 * level measures (those holding about WL_CALIB_MAX_CODES / 2 of the
 * records its filter keeps) always has one.
 */
static const int wl_calib_level_axis[] = {1, 2, 4, 8, 12, 16, 24, 32, 40, 48, 64, 80, 96, 112, 128,
160, 192, 256, 384, 512, 1024, 2048, 4096};

/* The levels' filters: each keeps one vector in this many. */
static const int wl_calib_level_keeps[WL_CALIB_LEVELS] = {10, 100};

/* The grids measured: the unfiltered one, then a level's. */
#define WL_CALIB_GRIDS (1 + WL_CALIB_LEVELS)

#define Min(a, b) ((a) < (b) ? (a) : (b))
#define Max(a, b) ((a) > (b) ? (a) : (b))

/* A vector in a cell a query could read: its cell's rank and code distance. */
typedef struct WlCandidate
{
	float		code;
	int32_t		ordinal;		/* of the visit */
	uint16_t	rank;
} WlCandidate;

/* The candidates of a query in one grid. */
typedef struct WlCandidates
{
	WlCandidate *items;
	int			count;
	int			capacity;
} WlCandidates;

/*
 * One held-out query: for each grid (the unfiltered one, then each level's
 * filter), its exact nearest among the vectors that pass, and the
 * candidates a search would rank.
 */
typedef struct WlCalibQuery
{
	const float *vector;
	float	   *rotated;		/* as a lookup table is built from */
	uint64_t	key;
	bool		usable;			/* not a zero cosine vector */
	uint16_t	spread_cells[WL_CALIB_MAX_AXIS];	/* cells read at each spread */
	WlTopK	   *exact[WL_CALIB_GRIDS];
	WlCandidates candidates[WL_CALIB_GRIDS];
} WlCalibQuery;

struct WlCalibrator
{
	const WlModel *model;
	const WlModelShape *shape;
	int			nq;
	int			grids;			/* measured: 1, or with the levels' */
	int			most_probes[WL_CALIB_GRIDS];	/* cells a query's candidates
												 * come from */
	bool		spreads;		/* measure the spread grid */
	WlCalibQuery *queries;
	uint16_t   *rank;			/* nq x cells: the rank a query reads a cell at */
	uint16_t   *level_rank;		/* and as the levels' grids read them */
	float	   *rotated;		/* nq x rotation: the queries rotated */
	char	   *topk_memory;
	float	   *y;				/* rotation floats */
	unsigned char *code;
	int32_t		visited;
};

/* Frees a calibrator; see the header. */
void
wl_calib_free(WlCalibrator *calibrator)
{
	int			q;

	if (calibrator == NULL)
		return;
	if (calibrator->queries != NULL)
		for (q = 0; q < calibrator->nq; q++)
			for (int g = 0; g < WL_CALIB_GRIDS; g++)
				free(calibrator->queries[q].candidates[g].items);
	free(calibrator->queries);
	free(calibrator->rank);
	free(calibrator->level_rank);
	free(calibrator->rotated);
	free(calibrator->topk_memory);
	free(calibrator->y);
	free(calibrator->code);
	free(calibrator);
}

/*
 * The cells a query's candidates come from: enough for
 * WL_CALIB_MAX_CODES codes at the collection's size.
 */
static int
wl_calib_most_probes(const WlModelShape *shape, int64_t vectors)
{
	double		per_cell = (double) (vectors > 0 ? vectors : 1) / shape->cells;
	double		most = fmin(ceil(WL_CALIB_MAX_CODES / per_cell), shape->cells);

	most = fmin(most, WL_CALIB_NO_RANK - 1);
	return most < 1 ? 1 : (int) most;
}

/* How many queries a calibration of a collection measures; see the header. */
int
wl_calib_queries(int64_t vectors, int dims, int rotation)
{
	double		per_query = (double) (vectors > 0 ? vectors : 1) *
		(2.0 * dims + 3.0 * rotation * fmin(1.0, WL_CALIB_MAX_CODES / fmax(1.0, vectors)));
	double		n = WL_CALIB_WORK / per_query;

	return (int) fmax(WL_CALIB_MIN_QUERIES, fmin(WL_CALIB_QUERIES, n));
}

/*
 * Ranks the cells for each usable query into rank (nq x cells), the first
 * `most` in the order a search reading that many reads them, and fills
 * each query's spread_cells when spreads is set; false when out of memory.
 */
static bool
wl_calib_rank_cells(WlCalibrator *cal, int most, uint16_t *rank, bool spreads)
{
	const WlModelShape *shape = cal->shape;
	int		   *order = malloc(sizeof(int) * most);
	float	   *distances = malloc(sizeof(float) * most);
	bool		ok = order != NULL && distances != NULL;

	memset(rank, 0xff, sizeof(uint16_t) * cal->nq * shape->cells);
	for (int q = 0; ok && q < cal->nq; q++)
	{
		WlCalibQuery *query = &cal->queries[q];
		int			n;

		if (!query->usable)
			continue;
		n = wl_model_probe_cells(cal->model, 0, query->rotated, most, order, distances);
		ok = n >= 0;
		for (int p = 0; p < n; p++)
			rank[(size_t) q * shape->cells + order[p]] = (uint16_t) p;
		for (int p = 0; ok && spreads && p < WL_CALIB_NSPREADS; p++)
			query->spread_cells[p] = (uint16_t)
				wl_cells_within(distances, Min(n, WL_CALIB_SPREAD_MOST),
								wl_calib_spread_axis[p] / WL_CALIB_SPREAD_UNIT);
	}
	free(order);
	free(distances);
	return ok;
}

/* Begins a calibration; see the header. */
WlCalibrator *
wl_calib_begin(const WlModel *model, const float *queries, const uint64_t *keys, int nq,
			   int64_t vectors, bool filtered)
{
	const WlModelShape *shape = wl_model_shape(model);
	WlCalibrator *cal;
	size_t		topk_bytes = wl_topk_size(WL_CALIB_K);
	int			level_most = 0;
	int			q;

	if (shape->cells <= 0 || nq < 1)
		return NULL;
	if (nq > WL_CALIB_QUERIES)
		nq = WL_CALIB_QUERIES;
	cal = calloc(1, sizeof(WlCalibrator));
	if (cal == NULL)
		return NULL;
	cal->model = model;
	cal->shape = shape;
	cal->nq = nq;
	cal->grids = filtered ? WL_CALIB_GRIDS : 1;
	cal->most_probes[0] = wl_calib_most_probes(shape, vectors);
	/* a level's candidates: about half as many codes of the vectors that pass */
	for (int g = 1; g < cal->grids; g++)
	{
		cal->most_probes[g] = wl_calib_most_probes(shape,
												   2 * vectors / wl_calib_level_keeps[g - 1]);
		level_most = Min(Max(level_most, cal->most_probes[g]), shape->cells);
	}
	cal->spreads = wl_model_spreads(model);
	cal->queries = calloc(nq, sizeof(WlCalibQuery));
	cal->rank = malloc(sizeof(uint16_t) * nq * shape->cells);
	if (cal->grids > 1)
		cal->level_rank = malloc(sizeof(uint16_t) * nq * shape->cells);
	cal->rotated = malloc(sizeof(float) * nq * shape->rotation);
	cal->topk_memory = malloc(topk_bytes * nq * cal->grids);
	cal->y = malloc(sizeof(float) * shape->rotation);
	cal->code = malloc((size_t) wl_model_code_bytes(model));
	if (cal->queries == NULL || cal->rank == NULL || cal->rotated == NULL ||
		cal->topk_memory == NULL || cal->y == NULL || cal->code == NULL ||
		(cal->grids > 1 && cal->level_rank == NULL))
	{
		wl_calib_free(cal);
		return NULL;
	}
	for (q = 0; q < nq; q++)
	{
		WlCalibQuery *query = &cal->queries[q];

		query->vector = queries + (size_t) q * shape->dims;
		query->rotated = cal->rotated + (size_t) q * shape->rotation;
		query->key = keys[q];
		for (int g = 0; g < cal->grids; g++)
			query->exact[g] = wl_topk_init(cal->topk_memory + topk_bytes * (q * cal->grids + g),
										   WL_CALIB_K);
		query->usable = wl_model_query(model, query->vector, query->rotated) == 0;
	}
	if (!wl_calib_rank_cells(cal, cal->most_probes[0], cal->rank, cal->spreads) ||
		(cal->grids > 1 && !wl_calib_rank_cells(cal, level_most, cal->level_rank, false)))
	{
		wl_calib_free(cal);
		return NULL;
	}
	return cal;
}

/* Adds a candidate to a list. */
static bool
wl_calib_push(WlCandidates *list, float code, int32_t ordinal, uint16_t rank)
{
	if (list->count == list->capacity)
	{
		int			capacity = list->capacity > 0 ? list->capacity * 2 : 256;
		WlCandidate *grown = realloc(list->items, sizeof(WlCandidate) * capacity);

		if (grown == NULL)
			return false;
		list->items = grown;
		list->capacity = capacity;
	}
	list->items[list->count].code = code;
	list->items[list->count].ordinal = ordinal;
	list->items[list->count].rank = rank;
	list->count++;
	return true;
}

/* Does a vector of this key pass the filter of a level; see the header. */
bool
wl_calib_kept(uint64_t key, int keep)
{
	/* mixed (splitmix64's finaliser), so that keys of any form spread */
	key ^= key >> 30;
	key *= UINT64_C(0xbf58476d1ce4e5b9);
	key ^= key >> 27;
	key *= UINT64_C(0x94d049bb133111eb);
	key ^= key >> 31;
	return key % (uint64_t) keep == 0;
}

/* Visits one vector of the collection; see the header. */
bool
wl_calib_add(WlCalibrator *cal, uint64_t key, const float *vector)
{
	const WlModelShape *shape = cal->shape;
	int32_t		ordinal = cal->visited++;
	bool		passes[WL_CALIB_GRIDS];
	bool		coded = false;
	int			cell;
	int			q;

	if (wl_model_transform(cal->model, vector, cal->y) != 0)
		return true;			/* a zero cosine vector: no search finds it */
	cell = wl_model_cell(cal->model, 0, cal->y);
	passes[0] = true;
	for (int g = 1; g < cal->grids; g++)
		passes[g] = wl_calib_kept(key, wl_calib_level_keeps[g - 1]);
	for (q = 0; q < cal->nq; q++)
	{
		WlCalibQuery *query = &cal->queries[q];
		size_t		at = (size_t) q * shape->cells + cell;
		double		distance;
		float		code = 0;
		bool		measured = false;

		if (!query->usable || query->key == key)
			continue;
		distance = wl_distance(shape->metric, query->vector, vector, shape->dims);
		for (int g = 0; g < cal->grids; g++)
		{
			uint16_t	rank = g == 0 ? cal->rank[at] : cal->level_rank[at];

			if (!passes[g])
				continue;
			wl_topk_push(query->exact[g], distance, ordinal);
			if (rank == WL_CALIB_NO_RANK || rank >= cal->most_probes[g])
				continue;
			if (!coded)
			{
				wl_model_encode(cal->model, 0, cell, cal->y, cal->code);
				coded = true;
			}
			if (!measured)
			{
				code = wl_model_code_distance(cal->model, 0, cell, query->rotated, cal->code);
				measured = true;
			}
			if (!wl_calib_push(&query->candidates[g], code, ordinal, rank))
				return false;
		}
	}
	return true;
}

/* Orders candidates by code distance, then by visit (as a search's ties). */
static int
wl_candidate_compare(const void *a, const void *b)
{
	const WlCandidate *x = a;
	const WlCandidate *y = b;

	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	return (x->ordinal > y->ordinal) - (x->ordinal < y->ordinal);
}

/* Copies the axis points of `from` that are at most `most` into `to`. */
static int
wl_calib_axis(const int *from, int n, int most, int *to)
{
	int			count = 0;
	int			i;

	for (i = 0; i < n && from[i] <= most && count < WL_CALIB_MAX_AXIS; i++)
		to[count++] = from[i];
	if (count < WL_CALIB_MAX_AXIS && (count == 0 || to[count - 1] < most))
		to[count++] = most;
	return count;
}

/*
 * Adds one query's hits to a grid: for every number of cells read
 * (cells[p], p < ncells), how many of its true neighbours each number of
 * re-ranked candidates (grid->reranks) holds.
 */
static void
wl_calib_measure(const WlCandidates *list, const int *truth, int ntruth, const int *cells,
				 int ncells, const WlCalibration *grid, double hits[][WL_CALIB_MAX_AXIS])
{
	int			p;

	for (p = 0; p < ncells; p++)
	{
		int			position = 0;
		int			found = 0;
		int			c;

		for (c = 0; c < list->count && found < ntruth; c++)
		{
			const WlCandidate *candidate = &list->items[c];
			int			t;
			int			r;

			if (candidate->rank >= cells[p])
				continue;
			for (t = 0; t < ntruth; t++)
				if (truth[t] == candidate->ordinal)
					break;
			if (t < ntruth)
			{
				found++;
				for (r = 0; r < grid->nreranks; r++)
					if (position < grid->reranks[r])
						hits[p][r] += 1;
			}
			position++;
		}
	}
}

/*
 * Measures one query's grid g (0: unfiltered; else the level g - 1's)
 * into hits, its spread grid too for g 0; the true neighbours it sought
 * are added to wanted.  False when none pass.
 */
static bool
wl_calib_measure_query(WlCalibrator *cal, WlCalibQuery *query, int g, const WlCalibration *out,
					   double hits[][WL_CALIB_MAX_AXIS], double spread_hits[][WL_CALIB_MAX_AXIS],
					   double *spread_cells, double *wanted)
{
	WlCandidates *list = &query->candidates[g];
	double		distances[WL_CALIB_K];
	int			truth[WL_CALIB_K];
	int			ntruth = wl_topk_sorted(query->exact[g], distances, truth);

	if (ntruth == 0)
		return false;
	qsort(list->items, list->count, sizeof(WlCandidate), wl_candidate_compare);
	if (g > 0)
		wl_calib_measure(list, truth, ntruth, out->levels[g - 1].probes,
						 out->levels[g - 1].nprobes, out, hits);
	else
		wl_calib_measure(list, truth, ntruth, out->probes, out->nprobes, out, hits);
	if (g == 0 && cal->spreads)
	{
		int			cells[WL_CALIB_MAX_AXIS];

		for (int p = 0; p < out->nspreads; p++)
		{
			cells[p] = query->spread_cells[p];
			spread_cells[p] += cells[p];
		}
		wl_calib_measure(list, truth, ntruth, cells, out->nspreads, out, spread_hits);
	}
	*wanted += ntruth;
	return true;
}

/* Measures the grids; see the header. */
bool
wl_calib_end(WlCalibrator *cal, WlCalibration *out)
{
	double		hits[WL_CALIB_GRIDS][WL_CALIB_MAX_AXIS][WL_CALIB_MAX_AXIS];
	double		spread_hits[WL_CALIB_MAX_AXIS][WL_CALIB_MAX_AXIS];
	double		spread_cells[WL_CALIB_MAX_AXIS];
	double		wanted[WL_CALIB_GRIDS];
	int			measured = 0;
	int			q;
	int			p;
	int			r;

	memset(out, 0, sizeof(WlCalibration));
	memset(hits, 0, sizeof(hits));
	memset(spread_hits, 0, sizeof(spread_hits));
	memset(spread_cells, 0, sizeof(spread_cells));
	memset(wanted, 0, sizeof(wanted));
	out->k = WL_CALIB_K;
	out->nprobes = wl_calib_axis(wl_calib_probe_axis,
								 sizeof(wl_calib_probe_axis) / sizeof(int),
								 cal->most_probes[0], out->probes);
	out->nreranks = wl_calib_axis(wl_calib_rerank_axis,
								  sizeof(wl_calib_rerank_axis) / sizeof(int),
								  WL_CALIB_MAX_RERANK, out->reranks);
	if (cal->spreads)
	{
		out->nspreads = WL_CALIB_NSPREADS;
		out->spread_most = Min(cal->most_probes[0], WL_CALIB_SPREAD_MOST);
		memcpy(out->spreads, wl_calib_spread_axis, sizeof(wl_calib_spread_axis));
	}
	out->nlevels = cal->grids - 1;
	for (int l = 0; l < out->nlevels; l++)
	{
		out->levels[l].keep = wl_calib_level_keeps[l];
		out->levels[l].nprobes = wl_calib_axis(wl_calib_level_axis,
											   sizeof(wl_calib_level_axis) / sizeof(int),
											   cal->most_probes[l + 1], out->levels[l].probes);
	}
	for (q = 0; q < cal->nq; q++)
	{
		WlCalibQuery *query = &cal->queries[q];

		if (!query->usable ||
			!wl_calib_measure_query(cal, query, 0, out, hits[0], spread_hits, spread_cells,
									&wanted[0]))
			continue;
		for (int g = 1; g < cal->grids; g++)
			wl_calib_measure_query(cal, query, g, out, hits[g], NULL, NULL, &wanted[g]);
		measured++;
	}
	if (measured == 0)
		return false;
	out->queries = measured;
	for (p = 0; p < out->nprobes; p++)
		for (r = 0; r < out->nreranks; r++)
			out->recall[p][r] = (float) (hits[0][p][r] / wanted[0]);
	for (p = 0; p < out->nspreads; p++)
	{
		out->spread_cells[p] = (float) (spread_cells[p] / measured);
		for (r = 0; r < out->nreranks; r++)
			out->spread_recall[p][r] = (float) (spread_hits[p][r] / wanted[0]);
	}
	/* a filter rarer than the vectors is measured by no grid, nor rarer ones */
	for (int l = 0; l < out->nlevels; l++)
		if (wanted[l + 1] == 0)
			out->nlevels = l;
	for (int l = 0; l < out->nlevels; l++)
		for (p = 0; p < out->levels[l].nprobes; p++)
			for (r = 0; r < out->nreranks; r++)
				out->levels[l].recall[p][r] = (float) (hits[l + 1][p][r] / wanted[l + 1]);
	return true;
}

/* The recall at the largest grid point at or below both; see the header. */
double
wl_calib_recall(const WlCalibration *calibration, int probes, int rerank)
{
	int			p = -1;
	int			r = -1;
	int			i;

	for (i = 0; i < calibration->nprobes && calibration->probes[i] <= probes; i++)
		p = i;
	for (i = 0; i < calibration->nreranks && calibration->reranks[i] <= rerank; i++)
		r = i;
	return p < 0 || r < 0 ? 0.0 : calibration->recall[p][r];
}

/*
 * Is point a better choice than the one made so far: within the most read
 * units (or, where nothing is, cheaper), then reaching the target more
 * cheaply, or else coming nearer it?
 */
static bool
wl_calib_better(const WlCalibChoice *point, const WlCalibChoice *choice, double max_units)
{
	bool		fits = max_units <= 0 || point->units <= max_units;
	bool		choice_fits = max_units <= 0 || choice->units <= max_units;

	if (choice->recall < 0)
		return true;
	if (fits != choice_fits)
		return fits;
	if (!fits)
		return point->units < choice->units;
	if (point->reached != choice->reached)
		return point->reached;
	if (point->reached)
		return point->units < choice->units;
	return point->recall > choice->recall ||
		(point->recall == choice->recall && point->units < choice->units);
}

/*
 * The recall of the spread grid at spread point s and the largest rerank
 * point at or below rerank (0 when there is none).
 */
static double
wl_calib_spread_recall(const WlCalibration *calibration, int s, int rerank)
{
	int			r = -1;
	int			i;

	for (i = 0; i < calibration->nreranks && calibration->reranks[i] <= rerank; i++)
		r = i;
	return r < 0 ? 0.0 : calibration->spread_recall[s][r];
}

/* The cheapest point that reaches the target; see the header. */
void
wl_calib_choose(const WlCalibration *calibration, double target, double max_units, int k,
				int cells, double cell_units, double fetch_units, double rerank_scale,
				int probes, int rerank, WlCalibChoice *choice)
{
	int			nspreads = probes <= 0 ? calibration->nspreads : 0;
	int			p;
	int			r;

	memset(choice, 0, sizeof(WlCalibChoice));
	choice->recall = -1;
	/* spreads first: of two points as cheap, the spread's holds its recall */
	for (p = 0; p < nspreads + calibration->nprobes; p++)
		for (r = 0; r < calibration->nreranks; r++)
		{
			WlCalibChoice point;
			int			measured_rerank;

			point.rerank = rerank > 0 ? rerank :
				(int) ceil(calibration->reranks[r] * rerank_scale);
			if (point.rerank < k)
				point.rerank = k;
			measured_rerank = (int) floor(point.rerank / rerank_scale);
			if (p < nspreads)
			{
				point.probes = Min(calibration->spread_most, cells);
				point.spread = calibration->spreads[p] / WL_CALIB_SPREAD_UNIT;
				point.cells = fmin(calibration->spread_cells[p], point.probes);
				point.recall = wl_calib_spread_recall(calibration, p, measured_rerank);
			}
			else
			{
				point.probes = Min(probes > 0 ? probes : calibration->probes[p - nspreads],
								   cells);
				point.spread = 0;
				point.cells = point.probes;
				point.recall = wl_calib_recall(calibration, point.probes, measured_rerank);
			}
			point.units = point.cells * cell_units + point.rerank * fetch_units;
			point.reached = point.recall -
				sqrt(point.recall * (1.0 - point.recall) / calibration->queries) >= target;
			if (wl_calib_better(&point, choice, max_units))
				*choice = point;
		}
}

/*
 * The recall of grid g (0: the unfiltered one, else the level g - 1's) at
 * the largest point at or below both (0 when there is none).
 */
static double
wl_calib_grid_recall(const WlCalibration *calibration, int g, int probes, int rerank)
{
	const WlCalibLevel *level;
	int			p = -1;
	int			r = -1;

	if (g == 0)
		return wl_calib_recall(calibration, probes, rerank);
	level = &calibration->levels[g - 1];
	for (int i = 0; i < level->nprobes && level->probes[i] <= probes; i++)
		p = i;
	for (int i = 0; i < calibration->nreranks && calibration->reranks[i] <= rerank; i++)
		r = i;
	return p < 0 || r < 0 ? 0.0 : level->recall[p][r];
}

/* The share of vectors grid g's filter keeps. */
static double
wl_calib_grid_share(const WlCalibration *calibration, int g)
{
	return g == 0 ? 1.0 : 1.0 / calibration->levels[g - 1].keep;
}

/*
 * The recall a search reading `probes` of the `cells` and re-ranking
 * `rerank` candidates reaches under a filter keeping `kept`: between the
 * grids of the shares about it, by the logarithm of the share; below the
 * last, that grid's reading as many of the records kept.  Reading every
 * cell is each grid's most cells.
 */
static double
wl_calib_kept_recall(const WlCalibration *calibration, double kept, int probes, int cells,
					 int rerank)
{
	int			g = 0;
	double		upper;
	double		lower;
	double		t;

	if (probes >= cells)
		probes = INT_MAX;
	while (g < calibration->nlevels && wl_calib_grid_share(calibration, g + 1) >= kept)
		g++;
	if (g == calibration->nlevels)
		return wl_calib_grid_recall(calibration, g,
									probes == INT_MAX ? INT_MAX :
									(int) floor(probes * kept /
												wl_calib_grid_share(calibration, g) + 1e-9),
									rerank);
	upper = wl_calib_grid_share(calibration, g);
	lower = wl_calib_grid_share(calibration, g + 1);
	t = log(upper / kept) / log(upper / lower);
	return (1.0 - t) * wl_calib_grid_recall(calibration, g, probes, rerank) +
		t * wl_calib_grid_recall(calibration, g + 1, probes, rerank);
}

/* The cheapest point for a filter; see the header. */
bool
wl_calib_choose_filtered(const WlCalibration *calibration, double kept, double target,
						 double max_units, int k, int cells, double cell_units,
						 double fetch_units, double rerank_scale, WlCalibChoice *choice)
{
	const WlCalibLevel *last;
	double		stretch;

	memset(choice, 0, sizeof(WlCalibChoice));
	choice->recall = -1;
	if (calibration->nlevels == 0 || calibration->queries == 0 || kept <= 0 || cells < 1)
		return false;
	last = &calibration->levels[calibration->nlevels - 1];
	/* below the last level, as many more cells as its records are fewer */
	stretch = Max(1.0, 1.0 / (kept * last->keep));
	for (int p = 0; p < last->nprobes; p++)
		for (int r = 0; r < calibration->nreranks; r++)
		{
			WlCalibChoice point;

			point.probes = (int) fmin(ceil(last->probes[p] * stretch), cells);
			point.spread = 0;
			point.cells = point.probes;
			point.rerank = Max(k, (int) ceil(calibration->reranks[r] * rerank_scale));
			point.recall = wl_calib_kept_recall(calibration, kept, point.probes, cells,
												(int) floor(point.rerank / rerank_scale));
			point.units = point.cells * cell_units + point.rerank * fetch_units;
			point.reached = point.recall -
				sqrt(point.recall * (1.0 - point.recall) / calibration->queries) >= target;
			if (wl_calib_better(&point, choice, max_units))
				*choice = point;
		}
	return choice->recall >= 0;
}

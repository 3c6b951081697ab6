/*
 * test_calibrate.c - unit tests of an index's calibration
 * (core/calibrate.c): every point of its grid equals the recall of the
 * search it stands for, computed here independently by brute force; its
 * text survives a round trip and malformed text is refused; training that
 * keeps a share of the variance keeps fewer components on data that needs
 * fewer.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "unit.h"

#define DIMS 24
#define COUNT 3000
#define CELLS 12
#define NQ 40

/* The filters calibrate.c measures: one vector in 10, one in 100. */
static const int LEVEL_KEEPS[WL_CALIB_LEVELS] = {10, 100};

/* Noisy clustered vectors: cluster centres and as much noise. */
static float *
make_vectors(int n, uint64_t seed)
{
	float	   *vectors = malloc(sizeof(float) * n * DIMS);
	float		centres[8][DIMS];
	uint64_t	state = seed;
	int			c,
				i,
				d;

	for (c = 0; c < 8; c++)
		for (d = 0; d < DIMS; d++)
			centres[c][d] = (float) test_uniform(&state) * 2.0f;
	for (i = 0; i < n; i++)
	{
		c = (int) (test_next(&state) % 8);
		for (d = 0; d < DIMS; d++)
			vectors[i * DIMS + d] = centres[c][d] + (float) test_uniform(&state) * 1.5f;
	}
	return vectors;
}

static const WlModelShape shape = {
	.dims = DIMS,
	.metric = WL_METRIC_COSINE,
	.rotation = DIMS,
	.subspaces = 8,
	.plane_dims = 8,
	.ntables = 1,
	.bits = 4,
	.cells = CELLS,
	.seed = 5,
};

typedef struct Ranked
{
	double		distance;
	int			index;
} Ranked;

static int
ranked_cmp(const void *a, const void *b)
{
	const Ranked *x = a;
	const Ranked *y = b;

	if (x->distance != y->distance)
		return x->distance < y->distance ? -1 : 1;
	return x->index - y->index;
}

/*
 * What brute force knows of one query: its exact ten nearest, every other
 * vector ranked by code distance (as the query's own cell would score
 * it), the rank of each vector's cell among the query's cells, and the
 * cells' distances.  Computed once, so that each grid point is only a walk.
 */
typedef struct BruteQuery
{
	int			nearest[10];
	int			nearest_kept[WL_CALIB_LEVELS][10];	/* of the levels' filters */
	int			nkept[WL_CALIB_LEVELS];	/* how many (fewer than 10 where a
										 * filter keeps fewer) */
	Ranked		coded[COUNT];
	int			ncoded;
	int			cell_rank[COUNT];
	float		distances[CELLS];
} BruteQuery;

/* Fills queries[] (the first NQ vectors, each excluding itself). */
static BruteQuery *
brute_queries(const WlModel *model, const float *vectors)
{
	BruteQuery *queries = malloc(sizeof(BruteQuery) * NQ);
	Ranked	   *exact = malloc(sizeof(Ranked) * COUNT);
	float		y[DIMS];
	float		lut[8 * WL_MODEL_CENTROIDS];
	unsigned char code[4];
	int			order[CELLS];

	for (int q = 0; q < NQ; q++)
	{
		BruteQuery *bq = &queries[q];
		const float *query = vectors + q * DIMS;
		int			nexact = 0;

		bq->ncoded = 0;
		wl_model_query(model, query, y);
		wl_model_probe_cells(model, 0, y, CELLS, order, bq->distances);
		for (int i = 0; i < COUNT; i++)
		{
			float		x[DIMS];
			int			cell;
			int			rank;

			if (i == q)
				continue;
			exact[nexact].distance = wl_distance(WL_METRIC_COSINE, query, vectors + i * DIMS,
												 DIMS);
			exact[nexact++].index = i;
			wl_model_transform(model, vectors + i * DIMS, x);
			cell = wl_model_cell(model, 0, x);
			for (rank = 0; rank < CELLS && order[rank] != cell; rank++)
				;
			bq->cell_rank[i] = rank;
			wl_model_encode(model, 0, cell, x, code);
			wl_model_lookup(model, 0, cell, y, lut);
			bq->coded[bq->ncoded].distance = wl_model_distance(model, lut, code);
			bq->coded[bq->ncoded++].index = i;
		}
		qsort(exact, nexact, sizeof(Ranked), ranked_cmp);
		qsort(bq->coded, bq->ncoded, sizeof(Ranked), ranked_cmp);
		for (int i = 0; i < 10; i++)
			bq->nearest[i] = exact[i].index;
		for (int l = 0; l < WL_CALIB_LEVELS; l++)
		{
			bq->nkept[l] = 0;
			for (int i = 0; i < nexact && bq->nkept[l] < 10; i++)
				if (wl_calib_kept((uint64_t) exact[i].index, LEVEL_KEEPS[l]))
					bq->nearest_kept[l][bq->nkept[l]++] = exact[i].index;
		}
	}
	free(exact);
	return queries;
}

/*
 * The recall@10 of the queries when reading `probes` cells (or, at a
 * spread > 0, the cells whose squared distance is within 1 + spread times
 * the nearest's, of the first `probes`) and re-ranking `rerank`
 * candidates, among the vectors the filter of level `level` keeps (-1:
 * every vector).  *cells_read gets the cells read on average.
 */
static double
brute_recall(const BruteQuery *queries, int probes, double spread, int rerank, int level,
			 double *cells_read)
{
	double		hits = 0;
	double		wanted = 0;
	double		cells = 0;

	for (int q = 0; q < NQ; q++)
	{
		const BruteQuery *bq = &queries[q];
		const int  *nearest = level < 0 ? bq->nearest : bq->nearest_kept[level];
		int			nnearest = level < 0 ? 10 : bq->nkept[level];
		int			read = probes;
		int			taken = 0;
		bool		found[10] = {false};

		if (spread > 0)
			for (read = 1; read < probes; read++)
				if (bq->distances[read] > bq->distances[0] * (1.0 + spread))
					break;
		cells += read;
		wanted += nnearest;
		for (int c = 0; c < bq->ncoded && taken < rerank; c++)
		{
			int			index = bq->coded[c].index;

			if (bq->cell_rank[index] >= read ||
				(level >= 0 && !wl_calib_kept((uint64_t) index, LEVEL_KEEPS[level])))
				continue;
			taken++;
			for (int i = 0; i < nnearest; i++)
				if (nearest[i] == index && !found[i])
				{
					found[i] = true;
					hits++;
				}
		}
	}
	*cells_read = cells / NQ;
	return hits / wanted;
}

/* Every grid point equals the brute-force recall of its search. */
static void
test_grid(const float *vectors)
{
	char		errbuf[256];
	WlModel    *model = wl_model_train(&shape, vectors + NQ * DIMS, COUNT - NQ, NULL, NULL,
									   errbuf, sizeof(errbuf));
	uint64_t	keys[NQ];
	WlCalibrator *calibrator;
	WlCalibration grid;
	int			worst_p = -1;
	double		worst = 0;
	double		worst_cells = 0;
	double		cells;
	BruteQuery *queries;
	int			i;

	CHECK(model != NULL, "a model with cells trains");
	if (model == NULL)
		return;
	queries = brute_queries(model, vectors);
	for (i = 0; i < NQ; i++)
		keys[i] = (uint64_t) i;
	calibrator = wl_calib_begin(model, vectors, keys, NQ, COUNT, true);
	CHECK(calibrator != NULL, "a calibration begins");
	for (i = 0; i < COUNT; i++)
		wl_calib_add(calibrator, (uint64_t) i, vectors + i * DIMS);
	CHECK(wl_calib_end(calibrator, &grid) && grid.queries == NQ && grid.k == 10,
		  "a calibration measures every query");
	wl_calib_free(calibrator);
	CHECK(grid.nprobes >= 4 && grid.probes[grid.nprobes - 1] == CELLS && grid.nreranks >= 8,
		  "the grid spans one cell to all, 10 candidates to many");
	for (int p = 0; p < grid.nprobes; p++)
		for (int r = 0; r < grid.nreranks; r += 3)
		{
			double		brute = brute_recall(queries, grid.probes[p], 0,
											 grid.reranks[r], -1, &cells);

			if (fabs(brute - grid.recall[p][r]) > worst)
			{
				worst = fabs(brute - grid.recall[p][r]);
				worst_p = p;
			}
		}
	if (worst > 0)
		printf("# largest difference %.4f at %d cells\n", worst, grid.probes[worst_p]);
	CHECK(worst < 1e-6, "every grid point is the brute-force recall of its search");
	CHECK(grid.nspreads >= 10 && grid.spread_most == CELLS && CELLS <= WL_CALIB_SPREAD_MOST &&
		  grid.spread_cells[0] >= 1 && grid.spread_cells[grid.nspreads - 1] > 2,
		  "the spread grid spans one cell to several");
	worst = 0;
	for (int s = 0; s < grid.nspreads; s++)
		for (int r = 0; r < grid.nreranks; r += 3)
		{
			double		brute = brute_recall(queries, grid.spread_most,
											 grid.spreads[s] / WL_CALIB_SPREAD_UNIT,
											 grid.reranks[r], -1, &cells);

			worst = fmax(worst, fabs(brute - grid.spread_recall[s][r]));
			worst_cells = fmax(worst_cells, fabs(cells - grid.spread_cells[s]));
		}
	CHECK(worst < 1e-6 && worst_cells < 1e-4,
		  "every spread grid point is the brute-force recall and mean cells of its search");
	CHECK(grid.recall[0][0] < grid.recall[grid.nprobes - 1][grid.nreranks - 1],
		  "recall grows across the grid");
	worst = 0;
	for (int l = 0; l < grid.nlevels; l++)
		for (int p = 0; p < grid.levels[l].nprobes; p++)
			for (int r = 0; r < grid.nreranks; r += 3)
				worst = fmax(worst, fabs(brute_recall(queries, grid.levels[l].probes[p], 0,
													  grid.reranks[r], l, &cells) -
										 grid.levels[l].recall[p][r]));
	CHECK(grid.nlevels == WL_CALIB_LEVELS && grid.levels[0].keep == 10 &&
		  grid.levels[1].keep == 100 && grid.levels[0].probes[grid.levels[0].nprobes - 1] == CELLS &&
		  worst < 1e-6,
		  "every filtered grid point is the brute-force recall of its search among the vectors its filter keeps");
	CHECK(grid.levels[0].recall[0][grid.nreranks - 1] < grid.recall[0][grid.nreranks - 1],
		  "one cell finds fewer of a filter's nearest than of all");
	CHECK(wl_calib_recall(&grid, grid.probes[1], grid.reranks[2] + 1) == grid.recall[1][2] &&
		  wl_calib_recall(&grid, 0, 100) == 0.0,
		  "a point between the grid's reads the point below it");
	free(queries);
	wl_model_free(model);
}

/* The text of a calibration survives a round trip; malformed text is refused. */
static void
test_text(void)
{
	WlCalibration a;
	WlCalibration b;
	char		text[4096];
	char		errbuf[128];
	static const char *const bad[] = {
		"", "q=1 k=10", "q=1 k=10 p=1 r=10 recall=", "q=1 k=10 p=2,1 r=10 recall=5,5",
		"q=1 k=10 p=1 r=10 recall=5,5", "q=1 k=10 p=1 r=10 recall=1001",
		"q=1 k=10 p=1 r=10 recall=5 ", "q=x k=10 p=1 r=10 recall=5",
	};

	memset(&a, 0, sizeof(a));
	a.queries = 100;
	a.k = 10;
	a.nprobes = 3;
	a.nreranks = 2;
	a.probes[0] = 1;
	a.probes[1] = 4;
	a.probes[2] = 9;
	a.reranks[0] = 10;
	a.reranks[1] = 40;
	for (int p = 0; p < 3; p++)
		for (int r = 0; r < 2; r++)
			a.recall[p][r] = (p * 2 + r) / 10.0f;
	wl_calib_format(&a, text, sizeof(text));
	CHECK_STR(text, "q=100 k=10 p=1,4,9 r=10,40 recall=0,100,200,300,400,500",
			  "a calibration's text");
	CHECK(wl_calib_parse(text, &b, errbuf, sizeof(errbuf)) && b.nprobes == 3 &&
		  b.nreranks == 2 && b.probes[2] == 9 && fabsf(b.recall[2][1] - 0.5f) < 1e-6,
		  "a calibration's text reads back");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wl_calib_parse(bad[i], &b, errbuf, sizeof(errbuf)) || b.queries != 0)
		{
			printf("# accepted: \"%s\"\n", bad[i]);
			CHECK(0, "malformed calibration text is refused");
			return;
		}
	CHECK_STR(errbuf, "its calibration is not a grid of recalls", "malformed calibration text is refused");
}

/* A small calibration with both grids, for the text and choice tests. */
static void
make_calibration(WlCalibration *a)
{
	memset(a, 0, sizeof(WlCalibration));
	a->queries = 100;
	a->k = 10;
	a->nprobes = 3;
	a->nreranks = 2;
	a->probes[0] = 1;
	a->probes[1] = 4;
	a->probes[2] = 9;
	a->reranks[0] = 10;
	a->reranks[1] = 40;
	for (int p = 0; p < 3; p++)
		for (int r = 0; r < 2; r++)
			a->recall[p][r] = (p * 2 + r) / 10.0f;
	a->nspreads = 2;
	a->spread_most = 9;
	a->spreads[0] = 100;
	a->spreads[1] = 2000;
	a->spread_cells[0] = 1.25f;
	a->spread_cells[1] = 3.5f;
	a->spread_recall[0][0] = 0.5f;
	a->spread_recall[0][1] = 0.9f;
	a->spread_recall[1][0] = 0.7f;
	a->spread_recall[1][1] = 0.99f;
}

/* The spread grid's text survives a round trip; malformed text is refused. */
static void
test_spread_text(void)
{
	WlCalibration a;
	WlCalibration b;
	char		text[4096];
	char		errbuf[128];
	static const char *const bad[] = {
		"", "s=100 c=125 m=9 recall=1,2,3", "s=100,50 c=125,350 m=9 recall=1,2,3,4",
		"s=100,2000 c=125,1000 m=9 recall=1,2,3,4", "s=100,2000 c=350,125 m=9 recall=1,2,3,4",
		"s=100,2000 c=125,350 m=9 recall=1,2,3,4 ", "s=100,2000 c=125,350 recall=1,2,3,4",
		"s=100,2000 c=125,350 m=9 recall=1,2,3,1001",
		"s=100,2000 c=125,350 m=10 recall=1,2,3,4",
	};

	make_calibration(&a);
	wl_calib_format_spreads(&a, text, sizeof(text));
	CHECK_STR(text, "s=100,2000 c=125,350 m=9 recall=500,900,700,990",
			  "a spread grid's text");
	make_calibration(&b);
	b.nspreads = 0;
	CHECK(wl_calib_parse_spreads(text, &b, errbuf, sizeof(errbuf)) && b.nspreads == 2 &&
		  b.spread_most == 9 && fabsf(b.spread_cells[1] - 3.5f) < 1e-6 &&
		  fabsf(b.spread_recall[1][1] - 0.99f) < 1e-6,
		  "a spread grid's text reads back");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		make_calibration(&b);
		if (wl_calib_parse_spreads(bad[i], &b, errbuf, sizeof(errbuf)) || b.nspreads != 0)
		{
			printf("# accepted: \"%s\"\n", bad[i]);
			CHECK(0, "malformed spread text is refused");
			return;
		}
	}
	CHECK_STR(errbuf, "its calibration's spreads are not a grid of recalls",
			  "malformed spread text is refused");
}

/*
 * A search chooses by the spread grid, priced by the cells it reads on
 * average, unless probes are given; then by the fixed cells'.
 */
static void
test_choose(void)
{
	WlCalibration a;
	WlCalibChoice choice;

	make_calibration(&a);
	/* 1 unit a cell, 0.5 a candidate: the spread point 0 at 40 costs 21.25 */
	wl_calib_choose(&a, 0.85, 0, 10, 16, 1.0, 0.5, 1.0, 0, 0, &choice);
	CHECK(choice.spread > 0.0099 && choice.spread < 0.0101 && choice.probes == 9 &&
		  fabs(choice.cells - 1.25) < 1e-6 && choice.rerank == 40 &&
		  fabs(choice.units - 21.25) < 1e-6 && fabsf((float) choice.recall - 0.9f) < 1e-6 &&
		  choice.reached,
		  "the cheapest spread that reaches the target, priced by its mean cells");
	wl_calib_choose(&a, 0.97, 0, 10, 16, 1.0, 0.5, 1.0, 0, 0, &choice);
	CHECK(choice.spread > 0.19 && fabs(choice.cells - 3.5) < 1e-6 && choice.rerank == 40 &&
		  choice.reached, "a higher target, a wider spread");
	wl_calib_choose(&a, 0.85, 0, 10, 6, 1.0, 0.5, 1.0, 0, 0, &choice);
	CHECK(choice.probes == 6, "a spread reads at most the cells there are");
	wl_calib_choose(&a, 0.3, 0, 10, 16, 1.0, 0.5, 1.0, 4, 0, &choice);
	CHECK(choice.spread == 0 && choice.probes == 4 && fabs(choice.cells - 4) < 1e-6 &&
		  fabsf((float) choice.recall - 0.3f) < 1e-6,
		  "probes given choose by the fixed cells' grid");
	a.spread_recall[0][0] = 0.05f;
	a.spread_recall[1][0] = 0.05f;
	wl_calib_choose(&a, 0.15, 0, 10, 16, 1.0, 0.5, 1.0, 0, 0, &choice);
	CHECK(choice.spread == 0 && choice.probes == 4 && choice.rerank == 10 &&
		  fabs(choice.units - 9) < 1e-6, "a fixed number of cells wins when it is cheaper");
	a.nspreads = 0;
	wl_calib_choose(&a, 0.35, 0, 10, 16, 1.0, 0.5, 1.0, 0, 0, &choice);
	CHECK(choice.spread == 0 && choice.probes == 9 && choice.rerank == 10,
		  "a calibration without spreads chooses by the fixed cells' grid");
}

/* Adds filtered grids to make_calibration's: levels keeping 1 in 10 and 100. */
static void
make_levels(WlCalibration *a)
{
	static const float recall[2][3][2] = {{{0.1f, 0.2f}, {0.5f, 0.7f}, {0.8f, 0.96f}},
	{{0.0f, 0.05f}, {0.3f, 0.5f}, {0.6f, 0.9f}}};

	make_calibration(a);
	a->nlevels = 2;
	for (int l = 0; l < 2; l++)
	{
		a->levels[l].keep = l == 0 ? 10 : 100;
		a->levels[l].nprobes = 3;
		a->levels[l].probes[0] = 1;
		a->levels[l].probes[1] = 8;
		a->levels[l].probes[2] = 16;
		for (int p = 0; p < 3; p++)
			for (int r = 0; r < 2; r++)
				a->levels[l].recall[p][r] = recall[l][p][r];
	}
}

/*
 * The filtered grids' text survives a round trip, malformed text is
 * refused; a filter's search takes the cheapest point of the grid of its
 * share, between two levels by the logarithm of its share, and below the
 * last reads as many more cells as its records are fewer.
 */
static void
test_filtered(void)
{
	static const char *const bad[] = {
		"", "f=10", "f=10 recall=", "f=10 p=1,8,16 recall=100", "f=100 p=1 recall=1,2 f=10 p=1 recall=1,2",
		"f=10 p=8,1 recall=1,2,3,4", "f=10 p=1 recall=1,2 x",
	};
	WlCalibration a;
	WlCalibration b;
	WlCalibChoice choice;
	char		text[8192];
	char		errbuf[128];

	make_levels(&a);
	wl_calib_format_levels(&a, text, sizeof(text));
	CHECK_STR(text, "f=10 p=1,8,16 recall=100,200,500,700,800,960 "
			  "f=100 p=1,8,16 recall=0,50,300,500,600,900", "the filtered grids' text");
	make_calibration(&b);
	CHECK(wl_calib_parse_levels(text, &b, errbuf, sizeof(errbuf)) && b.nlevels == 2 &&
		  b.levels[1].keep == 100 && b.levels[1].probes[2] == 16 &&
		  fabsf(b.levels[0].recall[2][1] - 0.96f) < 1e-6, "the filtered grids' text reads back");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!wl_calib_parse_levels(bad[i], &b, errbuf, sizeof(errbuf)) && b.nlevels == 0,
			  "malformed filtered grids are refused");
	CHECK_STR(errbuf, "its calibration's filtered grids are not grids of recalls",
			  "malformed filtered grids say so");
	snprintf(text, sizeof(text), "f=10 p=1 recall=1,2 f=100 p=1 recall=3,4 f=1000 p=1 recall=5,6 "
			 "f=10000 p=1,2 recall=7,8,9,10");
	CHECK(wl_calib_parse_levels(text, &b, errbuf, sizeof(errbuf)) &&
		  b.nlevels == WL_CALIB_LEVELS && b.levels[WL_CALIB_LEVELS - 1].keep == 100,
		  "levels rarer than this version knows are read and left out");

	/* 1 unit a cell, 0.5 a candidate */
	wl_calib_choose_filtered(&a, 0.1, 0.9, 0, 10, 200, 1.0, 0.5, 1.0, &choice);
	CHECK(choice.probes == 16 && choice.rerank == 40 && choice.spread == 0 &&
		  fabs(choice.units - 36) < 1e-6 && fabsf((float) choice.recall - 0.96f) < 1e-6 &&
		  choice.reached, "a filter keeping 10% takes its level's grid");
	wl_calib_choose_filtered(&a, sqrt(0.1 * 0.01), 0.9, 0, 10, 200, 1.0, 0.5, 1.0, &choice);
	CHECK(choice.probes == 16 && fabs(choice.recall - 0.93) < 1e-6 && choice.reached,
		  "between two levels, their recalls by the logarithm of the share");
	wl_calib_choose_filtered(&a, 0.001, 0.85, 0, 10, 200, 1.0, 0.5, 1.0, &choice);
	CHECK(choice.probes == 160 && fabs(choice.recall - 0.9) < 1e-6 && choice.reached,
		  "below the last level, ten times rarer, ten times the cells");
	wl_calib_choose_filtered(&a, 0.001, 0.85, 0, 10, 100, 1.0, 0.5, 1.0, &choice);
	CHECK(choice.probes == 100 && choice.reached && fabs(choice.recall - 0.9) < 1e-6,
		  "at most every cell, which reads as each grid's most");
	wl_calib_choose_filtered(&a, 0.001, 0.99, 0, 10, 100, 1.0, 0.5, 1.0, &choice);
	CHECK(choice.probes == 100 && choice.rerank == 40 && !choice.reached,
		  "a target no point reaches takes the highest recall");
	a.levels[0].nprobes = 0;
	a.nlevels = 1;
	CHECK(!wl_calib_choose_filtered(&a, 0.1, 0.9, 0, 10, 200, 1.0, 0.5, 1.0, &choice),
		  "a grid of no points chooses nothing");
	make_calibration(&b);
	CHECK(!wl_calib_choose_filtered(&b, 0.1, 0.9, 0, 10, 200, 1.0, 0.5, 1.0, &choice),
		  "a calibration without filtered grids chooses nothing");
}

/*
 * Training that keeps 99% of the variance keeps all of a spectrum that
 * decays slowly and few components of one concentrated in few directions,
 * in subspaces of two components.
 */
static void
test_keep_variance(const float *vectors)
{
	WlModelShape keep = shape;
	float	   *flat = malloc(sizeof(float) * COUNT * DIMS);
	uint64_t	state = 99;
	char		errbuf[256];
	WlModel    *model;
	int			i;

	keep.metric = WL_METRIC_L2;
	keep.subspaces = DIMS / 2;
	keep.keep_variance = 0.99;
	for (i = 0; i < COUNT * DIMS; i++)
		flat[i] = (float) test_uniform(&state) * ((i % DIMS) < 3 ? 100.0f : 0.1f);
	model = wl_model_train(&keep, flat, COUNT, NULL, NULL, errbuf, sizeof(errbuf));
	CHECK(model != NULL && wl_model_shape(model)->rotation < DIMS / 2 &&
		  wl_model_shape(model)->subspaces == (wl_model_shape(model)->rotation + 1) / 2,
		  "a spectrum in few directions keeps few components");
	wl_model_free(model);
	model = wl_model_train(&keep, vectors, COUNT, NULL, NULL, errbuf, sizeof(errbuf));
	CHECK(model != NULL && wl_model_shape(model)->rotation > DIMS * 3 / 4,
		  "a slowly decaying spectrum keeps nearly every component");
	wl_model_free(model);
	free(flat);
}

int
main(void)
{
	float	   *vectors = make_vectors(COUNT, 777);

	test_grid(vectors);
	test_text();
	test_spread_text();
	test_choose();
	test_filtered();
	test_keep_variance(vectors);
	free(vectors);
	return unit_done();
}

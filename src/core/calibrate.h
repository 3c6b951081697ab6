/*
 * calibrate.h - how well a trained index finds neighbours, measured on the
 * collection's own vectors (Postgres-free).
 *
 * A search of a collection with cells reads the codes of the cells nearest
 * the query, ranks them, and re-ranks the best candidates exactly.  How
 * many cells and candidates a recall needs depends on the data: on data
 * whose codes rank well a few candidates do, on low-contrast data (many
 * noisy clusters) the codes cannot tell near neighbours apart and more
 * candidates must be fetched, whatever the cells read.  So an index is
 * calibrated when it is built: some of the collection's own vectors are
 * held out as queries, every vector of the collection is visited once (as
 * the build writes its records), and for a grid of cells read and
 * candidates re-ranked the recall@k of exactly the search a server would
 * run is measured against the exact neighbours (the query itself
 * excluded).  A search then picks the cheapest point of the grid that
 * reaches its recall target, and says what recall it expects.
 */
#ifndef WL_CALIBRATE_H
#define WL_CALIBRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* The most points of each axis of the grid. */
#define WL_CALIB_MAX_AXIS 24

/*
 * Held-out queries a calibration measures, at most and at least (as its
 * work allows), and the k of recall@k.
 */
#define WL_CALIB_QUERIES 1000
#define WL_CALIB_MIN_QUERIES 100
#define WL_CALIB_K 10

/* Multiply-adds a calibration aims to take, for its queries' count. */
#define WL_CALIB_WORK 3.0e10

/* Candidates re-ranked at most, and codes of the cells read at most. */
#define WL_CALIB_MAX_RERANK 640
#define WL_CALIB_MAX_CODES 20000

/* A spread's unit: ten-thousandths of the nearest cell's squared distance. */
#define WL_CALIB_SPREAD_UNIT 10000.0

/*
 * The most cells a spread reads: its Queries go out in one wave at the
 * default max_connections (64), beside the collection's checks, so that a
 * search stays within two round trips.
 */
#define WL_CALIB_SPREAD_MOST 48

/*
 * The measured grids: recall[p][r] reading probes[p] cells, re-ranking
 * reranks[r]; and spread_recall[s][r] reading, for each query, the cells
 * within spreads[s] of its nearest (wl_cells_within), at most spread_most,
 * spread_cells[s] on average.  A spread reads more cells for a query that
 * lies between cells than for one deep inside a cell, so its recall holds
 * on queries unlike the collection's own vectors, where a fixed number of
 * cells loses it.  Collections calibrated before spreads, and those ranked
 * by inner product, have no spread grid (nspreads 0).
 */
/*
 * Filters a calibration measures besides none: one that keeps one vector in
 * 10 and one that keeps one in 100, each chosen by a hash of a vector's key
 * (wl_calib_kept), so independent of where it lies, as a filter on an
 * attribute unrelated to the vectors is.  A filter keeps a query's k
 * nearest farther out, among more cells, than an unfiltered search finds
 * them: each level's grid measures how many cells, read whole, a search
 * that drops the records the filter fails (recordattrs.h) needs, from one
 * to those that hold about WL_CALIB_MAX_CODES / 2 of the records it keeps
 * (every cell of a collection of fewer than about 100,000 vectors for one
 * in 10, of a million for one in 100).  A level whose filter keeps no
 * vector of a small collection is not measured, nor rarer ones.  A rarer
 * filter, and a small partition read whole (packed_keys.c), is planned by
 * the rarest level's grid, reading as many more cells as its records are
 * fewer.
 */
#define WL_CALIB_LEVELS 2

typedef struct WlCalibLevel
{
	int			keep;			/* one vector in `keep` passes */
	int			nprobes;
	int			probes[WL_CALIB_MAX_AXIS];	/* ascending */
	float		recall[WL_CALIB_MAX_AXIS][WL_CALIB_MAX_AXIS];	/* by the reranks */
} WlCalibLevel;

typedef struct WlCalibration
{
	int			queries;		/* measured; 0: not calibrated */
	int			k;
	int			nprobes;
	int			nreranks;
	int			probes[WL_CALIB_MAX_AXIS];	/* ascending */
	int			reranks[WL_CALIB_MAX_AXIS]; /* ascending */
	float		recall[WL_CALIB_MAX_AXIS][WL_CALIB_MAX_AXIS];
	int			nspreads;
	int			spread_most;
	int			spreads[WL_CALIB_MAX_AXIS]; /* ascending, in WL_CALIB_SPREAD_UNIT */
	float		spread_cells[WL_CALIB_MAX_AXIS];
	float		spread_recall[WL_CALIB_MAX_AXIS][WL_CALIB_MAX_AXIS];
	int			nlevels;		/* filtered grids (0 before them) */
	WlCalibLevel levels[WL_CALIB_LEVELS];	/* by keep, ascending */
} WlCalibration;

typedef struct WlCalibrator WlCalibrator;

/*
 * How many queries a calibration of a collection of `vectors` measures:
 * WL_CALIB_QUERIES where its exact distances and codes take little work,
 * fewer for large collections (WL_CALIB_WORK), at least
 * WL_CALIB_MIN_QUERIES.
 */
extern int	wl_calib_queries(int64_t vectors, int dims, int rotation);

/*
 * Begins a calibration of a model with cells (table 0): nq queries (dims
 * floats each), taken from the collection, keys identifying them (a hash of
 * each one's id, so that a query is not its own neighbour), for a
 * collection of about `vectors` vectors.  NULL when out of memory or when
 * the model has no cells.  filtered measures the levels' grids too.
 */
extern WlCalibrator *wl_calib_begin(const WlModel *model, const float *queries,
									const uint64_t *keys, int nq, int64_t vectors,
									bool filtered);

/* Visits one vector of the collection; false when out of memory. */
extern bool wl_calib_add(WlCalibrator *calibrator, uint64_t key, const float *vector);

/*
 * Measures the grid from what was visited into out; false when out of
 * memory or nothing could be measured (no query, or too few vectors).
 */
extern bool wl_calib_end(WlCalibrator *calibrator, WlCalibration *out);

/* Frees a calibrator; NULL is a no-op. */
extern void wl_calib_free(WlCalibrator *calibrator);

/*
 * The recall the grid measured reading `probes` cells and re-ranking
 * `rerank` candidates: at the largest grid point at or below both (0 when
 * there is none).
 */
extern double wl_calib_recall(const WlCalibration *calibration, int probes, int rerank);

/* A point of the grid a search takes, and what it costs. */
typedef struct WlCalibChoice
{
	int			probes;			/* cells read (at a spread: at most) */
	double		spread;			/* of the cells read (wl_cells_within), or 0:
								 * probes cells */
	double		cells;			/* cells read on average */
	int			rerank;			/* candidates re-ranked, as scaled */
	double		recall;			/* the grid's estimate */
	double		units;			/* read units */
	bool		reached;		/* recall, less its standard error, >= the target */
} WlCalibChoice;

/*
 * The cheapest point of the grid whose recall reaches target with a
 * standard error to spare (so that the recall measured on other queries
 * reaches it too), else the one of highest recall (the cheapest of
 * those), among the points of at most max_units read units (> 0; the
 * cheapest point where none is): reading a cell costs cell_units and
 * re-ranking a candidate fetch_units; re-ranking is scaled by
 * rerank_scale (a collection grown since, a larger k) and is at least k;
 * the most cells read is `cells`.  probes or rerank > 0 fix that axis.
 * The points are the fixed cells' grid's and, unless probes are given,
 * the spread grid's; of two as cheap, the spread's.
 */
extern void wl_calib_choose(const WlCalibration *calibration, double target,
							double max_units, int k, int cells, double cell_units,
							double fetch_units, double rerank_scale, int probes, int rerank,
							WlCalibChoice *choice);

/*
 * The point a search that drops the records a filter fails should take:
 * as wl_calib_choose, for a filter its records say keeps `kept` of the
 * vectors (< 1), by the filtered grids (interpolated in the logarithm of
 * `kept` between the two levels about it, the unfiltered grid being a
 * level that keeps every vector; below the last level, reading
 * proportionally more cells).  Fixed cells only; rerank is what a search
 * re-ranks among the records kept.  False when the calibration has no
 * filtered grids.
 */
extern bool wl_calib_choose_filtered(const WlCalibration *calibration, double kept,
									 double target, double max_units, int k, int cells,
									 double cell_units, double fetch_units,
									 double rerank_scale, WlCalibChoice *choice);

/* Does a vector of this key pass the filter of a level keeping 1 in keep? */
extern bool wl_calib_kept(uint64_t key, int keep);

/* The calibration as text, as a collection's metadata stores it. */
extern void wl_calib_format(const WlCalibration *calibration, char *out, size_t len);

/* Reads wl_calib_format's text back; false with a reason when it is not that. */
extern bool wl_calib_parse(const char *text, WlCalibration *out, char *errbuf, size_t errlen);

/*
 * The spread grid as text (stored apart from the rest, which releases
 * before spreads read and ignore), and read back into a calibration whose
 * rest was parsed; false with a reason when it is not that.
 */
extern void wl_calib_format_spreads(const WlCalibration *calibration, char *out, size_t len);
extern bool wl_calib_parse_spreads(const char *text, WlCalibration *out, char *errbuf,
								   size_t errlen);

/*
 * The filtered grids as text (stored apart from the rest, which earlier
 * releases read and ignore this beside), and read back into a calibration
 * whose rest was parsed; false with a reason when it is not that.  Levels
 * rarer than the WL_CALIB_LEVELS this version knows are read and left out.
 */
extern void wl_calib_format_levels(const WlCalibration *calibration, char *out, size_t len);
extern bool wl_calib_parse_levels(const char *text, WlCalibration *out, char *errbuf,
								  size_t errlen);

#endif							/* WL_CALIBRATE_H */

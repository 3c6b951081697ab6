/*
 * cells.h - a learned partition of a collection: k-means cells in the
 * model's rotated space (Postgres-free).
 *
 * Random planes cut the space without regard to where the vectors are, so
 * on anisotropic data (learned text embeddings) a search must read a large
 * share of the collection to meet its neighbours.  Cells follow the data:
 * each vector goes to its nearest centroid, and a search reads the cells
 * whose centroids are nearest the query.  Centroids are trained with
 * k-means++ seeding and Lloyd rounds, deterministically for a sample and a
 * random stream.
 */
#ifndef WL_CELLS_H
#define WL_CELLS_H

#include <stdbool.h>

#include "lsh.h"

/*
 * The most cells an index has (the bucket key spells a cell in hex), and
 * the most of them one k-means trains and a search ranks one by one: an
 * index with more has its cells in groups.
 */
#define WL_CELLS_MAX (1 << 22)
#define WL_CELLS_FLAT_MAX 4096

/*
 * When grouped, the groups whose cells a vector may fall in: the
 * WL_CELLS_GROUP_ASSIGN nearest it; and the groups a search ranks the
 * cells of: the WL_CELLS_GROUP_BATCH nearest, then the next as many while
 * it reads more cells than those hold, so that a search of fewer cells
 * reads the first of a search of more (a calibration's measure).  A group
 * gets at most WL_CELLS_GROUP_SHARE times its even share of the cells
 * where others can take them, so that no group trains or ranks most.
 */
#define WL_CELLS_GROUP_ASSIGN 3
#define WL_CELLS_GROUP_BATCH 8
#define WL_CELLS_GROUP_SHARE 4

/*
 * Lloyd rounds over all grouped cells after each group's own k-means: every
 * row to its cell as wl_cells_nearest_grouped finds it, so that cells at a
 * group's border settle as one k-means of all of them would.
 */
#define WL_CELLS_GROUP_ROUNDS 3

/* Lloyd rounds after seeding. */
#define WL_CELLS_ROUNDS 10

/* Polled during training; returning true abandons it. */
typedef bool (*WlCellsAbortCheck) (void *arg);

/*
 * Trains k centroids (k x p floats into centroids) on n rows of p floats;
 * k <= n.  Returns false when out of memory or aborted.
 */
extern bool wl_cells_train(const float *rows, int n, int p, int k, WlRandom *random,
						   WlCellsAbortCheck abort_check, void *abort_arg,
						   float *centroids);

/*
 * Numbers k trained centroids so that near cells have near numbers: the
 * centroids' own k-means groups them, the groups and then each group's
 * cells are laid in a path, each the nearest to the one before, and the
 * cell at the path's i-th place becomes cell i.  A packed index's keys
 * sort as its cells number (packed_keys.c), so a search that reads many
 * cells of a partition reads runs of them together.  Returns false,
 * leaving them as they were, when out of memory or aborted.
 */
extern bool wl_cells_arrange(float *centroids, int k, int p, WlRandom *random,
							 WlCellsAbortCheck abort_check, void *abort_arg);

/* The cell of y: its nearest centroid (the first of equals). */
extern int	wl_cells_nearest(const float *centroids, int k, int p, const float *y);

/*
 * The n cells a search of y reads, best first, into out; returns how many
 * (at most k), -1 when out of memory.  Cells are ordered by their
 * centroid's squared distance from y, or, when by_dot, by their centroid's
 * dot product with y, largest first (inner-product search).  keys, when
 * not NULL, receives each cell's squared distance (or its negated dot
 * product), for wl_cells_within.
 */
extern int	wl_cells_order(const float *centroids, int k, int p, const float *y, bool by_dot,
						   int n, int *out, float *keys);

/*
 * How many of n ordered cells (keys from wl_cells_order, by distance) a
 * search reads at a spread: those whose squared distance is within
 * 1 + spread times the nearest's, at least one.  A query near one
 * centroid and far from the rest reads one cell; a query between cells,
 * whose neighbours lie in several, reads them all.
 */
extern int	wl_cells_within(const float *keys, int n, double spread);

/*
 * Cells in groups, for an index of more cells than one k-means can train
 * or a search rank one by one: coarse centroids, each owning a run of the
 * cells, so that a vector's cell is the nearest of its nearest group's,
 * and a search ranks only the cells of the groups nearest the query.
 */
typedef struct WlCellGroups
{
	int			groups;
	const float *centroids;		/* groups x p */
	const int  *first;			/* groups + 1: group g owns cells first[g] ..
								 * first[g + 1] - 1 */
} WlCellGroups;

/*
 * Trains k cells in `groups` groups (k >= groups, k <= n): the groups'
 * centroids on the rows, then each group's cells on the rows nearest it, as
 * many as its share of the rows (at least one, at most its rows and, where
 * the others can take the rest, WL_CELLS_GROUP_SHARE times k / groups), then
 * WL_CELLS_GROUP_ROUNDS rounds over all of them, each group's centroid
 * the mean of its cells' rows.  Fills
 * group_centroids (groups x p), first (groups + 1) and centroids (k x p).
 * Returns false when out of memory or aborted.
 */
extern bool wl_cells_train_grouped(const float *rows, int n, int p, int k, int groups,
								   WlRandom *random, WlCellsAbortCheck abort_check,
								   void *abort_arg, float *centroids,
								   float *group_centroids, int *first);

/*
 * The cell of y among grouped cells: the nearest of those of its
 * WL_CELLS_GROUP_ASSIGN nearest groups.
 */
extern int	wl_cells_nearest_grouped(const float *centroids, const WlCellGroups *groups,
									 int p, const float *y);

/*
 * wl_cells_order among grouped cells: the cells of the WL_CELLS_GROUP_BATCH
 * groups nearest y, best first, then those of the next batch, until n;
 * -1 when out of memory.
 */
extern int	wl_cells_order_grouped(const float *centroids, const WlCellGroups *groups, int p,
								   const float *y, bool by_dot, int n, int *out, float *keys);

#endif							/* WL_CELLS_H */

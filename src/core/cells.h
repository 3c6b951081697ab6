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

/* The most cells an index has (the bucket key spells a cell in hex). */
#define WL_CELLS_MAX 4096

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

#endif							/* WL_CELLS_H */

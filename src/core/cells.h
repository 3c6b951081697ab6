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
 * centroid's distance from y, or, when by_dot, by their centroid's dot
 * product with y, largest first (inner-product search).
 */
extern int	wl_cells_order(const float *centroids, int k, int p, const float *y, bool by_dot,
						   int n, int *out);

#endif							/* WL_CELLS_H */

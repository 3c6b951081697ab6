/*
 * cells.c - k-means cells, the learned partition of the packed format
 * (see cells.h).
 */
#include "cells.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Squared distance of two rows of p floats. */
static double
wl_cells_distance(const float *a, const float *b, int p)
{
	double		sum = 0;
	int			j;

	for (j = 0; j < p; j++)
	{
		double		diff = (double) a[j] - b[j];

		sum += diff * diff;
	}
	return sum;
}

/* The cell of y; see the header. */
int
wl_cells_nearest(const float *centroids, int k, int p, const float *y)
{
	int			best = 0;
	double		best_distance = INFINITY;
	int			c;

	for (c = 0; c < k; c++)
	{
		double		distance = wl_cells_distance(centroids + (size_t) c * p, y, p);

		if (distance < best_distance)
		{
			best = c;
			best_distance = distance;
		}
	}
	return best;
}

/* A uniform double in [0, 1). */
static double
wl_cells_uniform(WlRandom *random)
{
	return (double) (wl_random_next(random) >> 11) / 9007199254740992.0;
}

/*
 * k-means++ seeding: the first centroid a random row, each next one a row
 * drawn with probability proportional to its squared distance from the
 * centroids so far.  nearest[] ends holding each row's squared distance.
 */
static bool
wl_cells_seed(const float *rows, int n, int p, int k, WlRandom *random,
			  WlCellsAbortCheck abort_check, void *abort_arg, float *centroids,
			  double *nearest)
{
	int			pick = (int) (wl_random_next(random) % (uint64_t) n);
	int			c;
	int			i;

	for (i = 0; i < n; i++)
		nearest[i] = INFINITY;
	for (c = 0; c < k; c++)
	{
		const float *chosen;
		double		total = 0;

		memcpy(centroids + (size_t) c * p, rows + (size_t) pick * p, sizeof(float) * p);
		chosen = centroids + (size_t) c * p;
		for (i = 0; i < n; i++)
		{
			double		distance = wl_cells_distance(rows + (size_t) i * p, chosen, p);

			if (distance < nearest[i])
				nearest[i] = distance;
			total += nearest[i];
		}
		if (abort_check != NULL && c % 16 == 0 && abort_check(abort_arg))
			return false;
		if (total > 0)
		{
			double		target = wl_cells_uniform(random) * total;

			for (pick = 0; pick < n - 1 && (target -= nearest[pick]) >= 0; pick++)
				;
		}
		else
			pick = (int) (wl_random_next(random) % (uint64_t) n);
	}
	return true;
}

/* Trains centroids; see the header. */
bool
wl_cells_train(const float *rows, int n, int p, int k, WlRandom *random,
			   WlCellsAbortCheck abort_check, void *abort_arg, float *centroids)
{
	double	   *sums = malloc(sizeof(double) * (size_t) k * p);
	double	   *nearest = malloc(sizeof(double) * (size_t) n);
	int		   *sizes = malloc(sizeof(int) * (size_t) k);
	bool		ok = sums != NULL && nearest != NULL && sizes != NULL && k >= 1 && k <= n;
	int			round;
	int			i;
	int			c;
	int			j;

	ok = ok && wl_cells_seed(rows, n, p, k, random, abort_check, abort_arg, centroids, nearest);
	for (round = 0; ok && round < WL_CELLS_ROUNDS; round++)
	{
		memset(sums, 0, sizeof(double) * (size_t) k * p);
		memset(sizes, 0, sizeof(int) * (size_t) k);
		for (i = 0; i < n; i++)
		{
			const float *row = rows + (size_t) i * p;
			int			cell = wl_cells_nearest(centroids, k, p, row);

			sizes[cell]++;
			for (j = 0; j < p; j++)
				sums[(size_t) cell * p + j] += row[j];
		}
		for (c = 0; c < k; c++)
		{
			/* an empty cell starts again at a random row */
			const float *pick = rows + (size_t) (wl_random_next(random) % (uint64_t) n) * p;

			for (j = 0; j < p; j++)
				centroids[(size_t) c * p + j] = sizes[c] > 0 ?
					(float) (sums[(size_t) c * p + j] / sizes[c]) : pick[j];
		}
		ok = abort_check == NULL || !abort_check(abort_arg);
	}
	free(sums);
	free(nearest);
	free(sizes);
	return ok;
}

/* A cell and how far it is from a query, for ordering. */
typedef struct WlCellRank
{
	double		key;			/* smaller is better */
	int			cell;
} WlCellRank;

/* Orders ranks by key, then by cell number. */
static int
wl_cell_rank_cmp(const void *a, const void *b)
{
	const WlCellRank *x = a;
	const WlCellRank *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->cell - y->cell;
}

/* The cells a search reads; see the header. */
int
wl_cells_order(const float *centroids, int k, int p, const float *y, bool by_dot, int n,
			   int *out, float *keys)
{
	WlCellRank *ranks = malloc(sizeof(WlCellRank) * (size_t) k);
	int			c;

	if (ranks == NULL)
		return -1;
	for (c = 0; c < k; c++)
	{
		const float *centroid = centroids + (size_t) c * p;

		ranks[c].cell = c;
		if (by_dot)
		{
			double		dot = 0;
			int			j;

			for (j = 0; j < p; j++)
				dot += (double) centroid[j] * y[j];
			ranks[c].key = -dot;
		}
		else
			ranks[c].key = wl_cells_distance(centroid, y, p);
	}
	qsort(ranks, (size_t) k, sizeof(WlCellRank), wl_cell_rank_cmp);
	if (n > k)
		n = k;
	for (c = 0; c < n; c++)
	{
		out[c] = ranks[c].cell;
		if (keys != NULL)
			keys[c] = (float) ranks[c].key;
	}
	free(ranks);
	return n;
}

/* The cells read at a spread; see the header. */
int
wl_cells_within(const float *keys, int n, double spread)
{
	double		limit = (double) keys[0] * (1.0 + spread);
	int			c = 1;

	while (c < n && keys[c] <= limit)
		c++;
	return c;
}

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

/*
 * How far a centroid is from y for ordering: its squared distance, or its
 * negated dot product (inner-product search).
 */
static double
wl_cells_key(const float *centroid, int p, const float *y, bool by_dot)
{
	double		dot = 0;
	int			j;

	if (!by_dot)
		return wl_cells_distance(centroid, y, p);
	for (j = 0; j < p; j++)
		dot += (double) centroid[j] * y[j];
	return -dot;
}

/* Sorts k ranks and hands out the first n (cells, and keys if wanted). */
static int
wl_cells_ranked(WlCellRank *ranks, int k, int n, int *out, float *keys)
{
	int			c;

	qsort(ranks, (size_t) k, sizeof(WlCellRank), wl_cell_rank_cmp);
	if (n > k)
		n = k;
	for (c = 0; c < n; c++)
	{
		out[c] = ranks[c].cell;
		if (keys != NULL)
			keys[c] = (float) ranks[c].key;
	}
	return n;
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
		ranks[c].cell = c;
		ranks[c].key = wl_cells_key(centroids + (size_t) c * p, p, y, by_dot);
	}
	n = wl_cells_ranked(ranks, k, n, out, keys);
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

/*
 * Each group's share of k cells: one each, the rest one at a time to the
 * group with the most rows a cell, so that the cells of all groups hold
 * about as many rows; at most one cell a row, and at most
 * WL_CELLS_GROUP_SHARE times k / groups a group until only groups at that
 * bound can take more.
 */
static void
wl_cells_share(const int *rows, int groups, int k, int *cells)
{
	int			bound = WL_CELLS_GROUP_SHARE * ((k + groups - 1) / groups);
	int			given = groups;
	int			g;

	for (g = 0; g < groups; g++)
		cells[g] = 1;
	while (given < k)
	{
		int			best = -1;

		for (g = 0; g < groups; g++)
			if (cells[g] < rows[g] && cells[g] < bound &&
				(best < 0 || (double) rows[g] * cells[best] > (double) rows[best] * cells[g]))
				best = g;
		if (best >= 0)
		{
			cells[best]++;
			given++;
		}
		else if (bound < k)
			bound = k;
		else
			break;
	}
}

/*
 * One Lloyd round over grouped cells: each row to its cell among them, each
 * cell's centroid the mean of its rows (an empty one keeps its place), and
 * each group's the mean of its cells' rows (an empty one keeps its place).
 * False when out of memory.
 */
static bool
wl_cells_refine_grouped(const float *rows, int n, int p, int k, int groups,
						float *centroids, float *group_centroids, const int *first)
{
	double	   *sums = calloc((size_t) k * p, sizeof(double));
	int		   *sizes = calloc((size_t) k, sizeof(int));
	WlCellGroups grouping = {groups, group_centroids, first};
	int			i;
	int			j;

	if (sums == NULL || sizes == NULL)
	{
		free(sums);
		free(sizes);
		return false;
	}
	for (i = 0; i < n; i++)
	{
		const float *row = rows + (size_t) i * p;
		int			cell = wl_cells_nearest_grouped(centroids, &grouping, p, row);

		sizes[cell]++;
		for (j = 0; j < p; j++)
			sums[(size_t) cell * p + j] += row[j];
	}
	for (int g = 0; g < groups; g++)
	{
		double		group_size = 0;

		for (int c = first[g]; c < first[g + 1]; c++)
			group_size += sizes[c];
		for (j = 0; j < p; j++)
		{
			double		group_sum = 0;

			for (int c = first[g]; c < first[g + 1]; c++)
			{
				group_sum += sums[(size_t) c * p + j];
				if (sizes[c] > 0)
					centroids[(size_t) c * p + j] = (float) (sums[(size_t) c * p + j] / sizes[c]);
			}
			if (group_size > 0)
				group_centroids[(size_t) g * p + j] = (float) (group_sum / group_size);
		}
	}
	free(sums);
	free(sizes);
	return true;
}

/* Trains grouped cells; see the header. */
bool
wl_cells_train_grouped(const float *rows, int n, int p, int k, int groups, WlRandom *random,
					   WlCellsAbortCheck abort_check, void *abort_arg, float *centroids,
					   float *group_centroids, int *first)
{
	int		   *group_of = malloc(sizeof(int) * (size_t) (n > 0 ? n : 1));
	int		   *members = calloc((size_t) (groups > 0 ? groups : 1), sizeof(int));
	int		   *shares = malloc(sizeof(int) * (size_t) (groups > 0 ? groups : 1));
	float	   *gathered = NULL;
	bool		ok = group_of != NULL && members != NULL && shares != NULL &&
		groups >= 1 && k >= groups && k <= n;
	int			largest = 0;
	int			g;
	int			i;

	ok = ok && wl_cells_train(rows, n, p, groups, random, abort_check, abort_arg,
							  group_centroids);
	for (i = 0; ok && i < n; i++)
	{
		group_of[i] = wl_cells_nearest(group_centroids, groups, p, rows + (size_t) i * p);
		members[group_of[i]]++;
	}
	if (ok)
	{
		wl_cells_share(members, groups, k, shares);
		first[0] = 0;
		for (g = 0; g < groups; g++)
		{
			first[g + 1] = first[g] + shares[g];
			largest = members[g] > largest ? members[g] : largest;
		}
		gathered = malloc(sizeof(float) * (size_t) (largest > 0 ? largest : 1) * p);
		ok = gathered != NULL && first[groups] == k;
	}
	for (g = 0; ok && g < groups; g++)
	{
		int			m = 0;

		for (i = 0; i < n; i++)
			if (group_of[i] == g)
				memcpy(gathered + (size_t) m++ * p, rows + (size_t) i * p, sizeof(float) * p);
		if (m == 0)				/* an empty group's one cell is the group */
			memcpy(centroids + (size_t) first[g] * p, group_centroids + (size_t) g * p,
				   sizeof(float) * p);
		else
			ok = wl_cells_train(gathered, m, p, shares[g], random, abort_check, abort_arg,
								centroids + (size_t) first[g] * p);
	}
	for (int round = 0; ok && round < WL_CELLS_GROUP_ROUNDS; round++)
		ok = wl_cells_refine_grouped(rows, n, p, k, groups, centroids, group_centroids,
									 first) &&
			(abort_check == NULL || !abort_check(abort_arg));
	free(group_of);
	free(members);
	free(shares);
	free(gathered);
	return ok;
}

/* The cell of y among grouped cells; see the header. */
int
wl_cells_nearest_grouped(const float *centroids, const WlCellGroups *groups, int p,
						 const float *y)
{
	int			near[WL_CELLS_GROUP_ASSIGN];
	double		near_key[WL_CELLS_GROUP_ASSIGN];
	int			nnear = 0;
	int			best = groups->first[0];
	double		best_distance = INFINITY;
	int			g;

	/* the nearest groups, by insertion into a short list */
	for (g = 0; g < groups->groups; g++)
	{
		double		key = wl_cells_distance(groups->centroids + (size_t) g * p, y, p);
		int			at = nnear;

		if (nnear < WL_CELLS_GROUP_ASSIGN)
			nnear++;
		while (at > 0 && near_key[at - 1] > key)
		{
			if (at < WL_CELLS_GROUP_ASSIGN)
			{
				near[at] = near[at - 1];
				near_key[at] = near_key[at - 1];
			}
			at--;
		}
		if (at < WL_CELLS_GROUP_ASSIGN)
		{
			near[at] = g;
			near_key[at] = key;
		}
	}
	for (int i = 0; i < nnear; i++)
		for (int c = groups->first[near[i]]; c < groups->first[near[i] + 1]; c++)
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

/* The cells a search reads among grouped cells; see the header. */
int
wl_cells_order_grouped(const float *centroids, const WlCellGroups *groups, int p,
					   const float *y, bool by_dot, int n, int *out, float *keys)
{
	WlCellRank *group_ranks = malloc(sizeof(WlCellRank) * (size_t) groups->groups);
	WlCellRank *ranks = NULL;
	int			done = 0;
	int			taken = 0;
	int			g;

	if (group_ranks == NULL)
		return -1;
	for (g = 0; g < groups->groups; g++)
	{
		group_ranks[g].cell = g;
		group_ranks[g].key = wl_cells_key(groups->centroids + (size_t) g * p, p, y, by_dot);
	}
	qsort(group_ranks, (size_t) groups->groups, sizeof(WlCellRank), wl_cell_rank_cmp);
	/* batch by batch of groups, nearest first, each batch's cells ranked */
	while (done < n && taken < groups->groups)
	{
		int			last = taken + WL_CELLS_GROUP_BATCH < groups->groups ?
			taken + WL_CELLS_GROUP_BATCH : groups->groups;
		int			cells = 0;
		int			t;

		for (t = taken; t < last; t++)
			cells += groups->first[group_ranks[t].cell + 1] - groups->first[group_ranks[t].cell];
		free(ranks);
		ranks = malloc(sizeof(WlCellRank) * (size_t) cells);
		if (ranks == NULL)
		{
			free(group_ranks);
			return -1;
		}
		cells = 0;
		for (t = taken; t < last; t++)
		{
			g = group_ranks[t].cell;
			for (int c = groups->first[g]; c < groups->first[g + 1]; c++)
			{
				ranks[cells].cell = c;
				ranks[cells++].key = wl_cells_key(centroids + (size_t) c * p, p, y, by_dot);
			}
		}
		done += wl_cells_ranked(ranks, cells, n - done, out + done,
								keys != NULL ? keys + done : NULL);
		taken = last;
	}
	free(group_ranks);
	free(ranks);
	return done;
}

/*
 * Appends to path those of the n rows listed in `among` not placed yet,
 * each the nearest to the one before it (the first the nearest to `from`,
 * or among's first without one), and marks them placed; returns the
 * path's new end.
 */
static int
wl_cells_chain(const float *rows, int p, const int *among, int n, const float *from,
			   bool *placed, int *path, int end)
{
	int			step;

	for (step = 0; step < n; step++)
	{
		int			best = -1;
		double		best_distance = INFINITY;
		int			i;

		for (i = 0; i < n; i++)
		{
			double		distance;

			if (placed[among[i]])
				continue;
			distance = from != NULL ?
				wl_cells_distance(rows + (size_t) among[i] * p, from, p) : 0;
			if (distance < best_distance)
			{
				best = among[i];
				best_distance = distance;
			}
		}
		if (best < 0)
			break;
		placed[best] = true;
		path[end++] = best;
		from = rows + (size_t) best * p;
	}
	return end;
}

/* Numbers trained cells so that near cells have near numbers; see the header. */
bool
wl_cells_arrange(float *centroids, int k, int p, WlRandom *random,
				 WlCellsAbortCheck abort_check, void *abort_arg)
{
	int			groups = (int) ceil(sqrt((double) k));
	float	   *group_centroids = malloc(sizeof(float) * (size_t) groups * p);
	float	   *copy = malloc(sizeof(float) * (size_t) k * p);
	int		   *group_of = malloc(sizeof(int) * (size_t) k);
	int		   *members = malloc(sizeof(int) * (size_t) k);
	int		   *group_path = malloc(sizeof(int) * (size_t) groups);
	int		   *path = malloc(sizeof(int) * (size_t) k);
	bool	   *placed = calloc((size_t) (k > groups ? k : groups), sizeof(bool));
	bool		ok = group_centroids != NULL && copy != NULL && group_of != NULL &&
		members != NULL && group_path != NULL && path != NULL && placed != NULL &&
		k >= 1 && wl_cells_train(centroids, k, p, groups, random, abort_check, abort_arg,
								 group_centroids);
	int			end = 0;
	int			g;
	int			c;

	if (ok)
	{
		/* the groups in a path, each the nearest to the one before */
		for (g = 0; g < groups; g++)
			members[g] = g;
		wl_cells_chain(group_centroids, p, members, groups, NULL, placed, group_path, 0);
		memset(placed, 0, sizeof(bool) * (size_t) groups);
		for (c = 0; c < k; c++)
			group_of[c] = wl_cells_nearest(group_centroids, groups, p, centroids + (size_t) c * p);
		/* then each group's cells in a path, from the last cell placed */
		for (g = 0; g < groups; g++)
		{
			int			n = 0;

			for (c = 0; c < k; c++)
				if (group_of[c] == group_path[g])
					members[n++] = c;
			end = wl_cells_chain(centroids, p, members, n,
								 end > 0 ? centroids + (size_t) path[end - 1] * p : NULL,
								 placed, path, end);
			if (abort_check != NULL && abort_check(abort_arg))
				break;
		}
		ok = end == k;
	}
	if (ok)
	{
		memcpy(copy, centroids, sizeof(float) * (size_t) k * p);
		for (c = 0; c < k; c++)
			memcpy(centroids + (size_t) c * p, copy + (size_t) path[c] * p,
				   sizeof(float) * p);
	}
	free(group_centroids);
	free(copy);
	free(group_of);
	free(members);
	free(group_path);
	free(path);
	free(placed);
	return ok;
}

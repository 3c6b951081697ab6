/*
 * distance.c - vector distances and top-k selection.
 *
 * The loops accumulate in double over float inputs in the plain form gcc
 * vectorises at -O2 -ftree-vectorize (and -O3).  Top-k keeps a max-heap of
 * the k best so far: the worst kept candidate is at the root and is
 * replaced when a better one arrives.
 */
#include "distance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct WlTopK
{
	int			k;
	int			count;
	double	   *distances;
	int		   *indexes;
};

static const char *const wl_metric_names[] = {"cosine", "l2", "inner_product"};

/* Parses a metric name. */
bool
wl_metric_parse(const char *name, WlMetric *out)
{
	int			i;

	for (i = 0; i < 3; i++)
		if (strcmp(name, wl_metric_names[i]) == 0)
		{
			*out = (WlMetric) i;
			return true;
		}
	return false;
}

/* The name of a metric. */
const char *
wl_metric_name(WlMetric metric)
{
	return wl_metric_names[metric];
}

/* Sum of squared differences. */
static double
wl_l2_squared(const float *a, const float *b, int dims)
{
	double		sum = 0.0;
	int			i;

	for (i = 0; i < dims; i++)
	{
		double		diff = (double) a[i] - (double) b[i];

		sum += diff * diff;
	}
	return sum;
}

/* Dot product. */
static double
wl_dot(const float *a, const float *b, int dims)
{
	double		sum = 0.0;
	int			i;

	for (i = 0; i < dims; i++)
		sum += (double) a[i] * (double) b[i];
	return sum;
}

/* The distance between a and b under metric. */
double
wl_distance(WlMetric metric, const float *a, const float *b, int dims)
{
	switch (metric)
	{
		case WL_METRIC_L2:
			return sqrt(wl_l2_squared(a, b, dims));
		case WL_METRIC_INNER_PRODUCT:
			return -wl_dot(a, b, dims);
		case WL_METRIC_COSINE:
			{
				double		norms = sqrt(wl_dot(a, a, dims) * wl_dot(b, b, dims));
				double		similarity;

				if (norms == 0.0)
					return NAN;
				similarity = wl_dot(a, b, dims) / norms;
				if (similarity > 1.0)
					similarity = 1.0;
				else if (similarity < -1.0)
					similarity = -1.0;
				return 1.0 - similarity;
			}
	}
	return NAN;
}

/* Is candidate x worse than y (farther, or as far with a larger index)? */
static bool
wl_worse(double dx, int ix, double dy, int iy)
{
	return dx > dy || (dx == dy && ix > iy);
}

/* Creates a selector of the k smallest. */
WlTopK *
wl_topk_create(int k)
{
	WlTopK	   *topk = calloc(1, sizeof(WlTopK));

	if (topk == NULL)
		return NULL;
	topk->k = k > 0 ? k : 1;
	topk->distances = malloc(sizeof(double) * topk->k);
	topk->indexes = malloc(sizeof(int) * topk->k);
	if (topk->distances == NULL || topk->indexes == NULL)
	{
		wl_topk_destroy(topk);
		return NULL;
	}
	return topk;
}

/* Swaps heap slots i and j. */
static void
wl_topk_swap(WlTopK *topk, int i, int j)
{
	double		d = topk->distances[i];
	int			x = topk->indexes[i];

	topk->distances[i] = topk->distances[j];
	topk->indexes[i] = topk->indexes[j];
	topk->distances[j] = d;
	topk->indexes[j] = x;
}

/* Restores the max-heap below slot i. */
static void
wl_topk_sift_down(WlTopK *topk, int i)
{
	for (;;)
	{
		int			worst = i;
		int			child;

		for (child = 2 * i + 1; child <= 2 * i + 2 && child < topk->count; child++)
			if (wl_worse(topk->distances[child], topk->indexes[child],
						 topk->distances[worst], topk->indexes[worst]))
				worst = child;
		if (worst == i)
			return;
		wl_topk_swap(topk, i, worst);
		i = worst;
	}
}

/* Offers a candidate. */
void
wl_topk_push(WlTopK *topk, double distance, int index)
{
	int			i;

	if (isnan(distance))
		return;
	if (topk->count < topk->k)
	{
		i = topk->count++;
		topk->distances[i] = distance;
		topk->indexes[i] = index;
		while (i > 0 && wl_worse(topk->distances[i], topk->indexes[i],
								 topk->distances[(i - 1) / 2], topk->indexes[(i - 1) / 2]))
		{
			wl_topk_swap(topk, i, (i - 1) / 2);
			i = (i - 1) / 2;
		}
		return;
	}
	if (!wl_worse(topk->distances[0], topk->indexes[0], distance, index))
		return;
	topk->distances[0] = distance;
	topk->indexes[0] = index;
	wl_topk_sift_down(topk, 0);
}

/* Empties the heap into ascending order. */
int
wl_topk_sorted(WlTopK *topk, double *distances, int *indexes)
{
	int			n = topk->count;

	while (topk->count > 0)
	{
		int			last = --topk->count;

		distances[last] = topk->distances[0];
		indexes[last] = topk->indexes[0];
		topk->distances[0] = topk->distances[last];
		topk->indexes[0] = topk->indexes[last];
		wl_topk_sift_down(topk, 0);
	}
	return n;
}

/* Frees the selector; NULL is a no-op. */
void
wl_topk_destroy(WlTopK *topk)
{
	if (topk == NULL)
		return;
	free(topk->distances);
	free(topk->indexes);
	free(topk);
}

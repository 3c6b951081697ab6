/*
 * distance.c - vector distances and top-k selection.
 *
 * Sums run over WL_LANES partial sums, element i going to lane i % WL_LANES.
 * A single running sum cannot be vectorised without reassociating it
 * (-ffast-math); independent lanes can, and gcc does so at -O2.  The order
 * of the additions is fixed by this code, so every build gives the same
 * result.
 *
 * Top-k keeps a max-heap of the k best candidates so far: the worst kept
 * one is at the root, and is replaced when a better one arrives.
 */
#include "distance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WL_LANES 8

typedef struct WlTopKEntry
{
	double		distance;
	int			index;
} WlTopKEntry;

struct WlTopK
{
	int			k;
	int			count;
	WlTopKEntry *heap;			/* k slots; a max-heap of count entries */
};

static const char *const wl_metric_names[] = {
	[WL_METRIC_COSINE] = "cosine",
	[WL_METRIC_L2] = "l2",
	[WL_METRIC_INNER_PRODUCT] = "inner_product",
};

#define WL_METRIC_COUNT ((int) (sizeof(wl_metric_names) / sizeof(wl_metric_names[0])))

/* Looks a metric up by its SQL-visible name. */
bool
wl_metric_parse(const char *name, WlMetric *out)
{
	int			i;

	for (i = 0; i < WL_METRIC_COUNT; i++)
		if (strcmp(name, wl_metric_names[i]) == 0)
		{
			*out = (WlMetric) i;
			return true;
		}
	return false;
}

/* The SQL-visible name of a metric; NULL for a value outside the enum. */
const char *
wl_metric_name(WlMetric metric)
{
	if ((int) metric < 0 || (int) metric >= WL_METRIC_COUNT)
		return NULL;
	return wl_metric_names[metric];
}

/* Adds up the partial sums, lane 0 first. */
static double
wl_sum_lanes(const double *lanes)
{
	double		sum = 0.0;
	int			j;

	for (j = 0; j < WL_LANES; j++)
		sum += lanes[j];
	return sum;
}

/* Sum of squared differences, the square of the Euclidean distance. */
static double
wl_l2_squared(const float *a, const float *b, int dims)
{
	double		lanes[WL_LANES] = {0};
	int			i;
	int			j;

	for (i = 0; i + WL_LANES <= dims; i += WL_LANES)
		for (j = 0; j < WL_LANES; j++)
		{
			double		diff = (double) a[i + j] - (double) b[i + j];

			lanes[j] += diff * diff;
		}
	for (j = 0; i + j < dims; j++)
	{
		double		diff = (double) a[i + j] - (double) b[i + j];

		lanes[j] += diff * diff;
	}
	return wl_sum_lanes(lanes);
}

/* Dot product. */
static double
wl_dot(const float *a, const float *b, int dims)
{
	double		lanes[WL_LANES] = {0};
	int			i;
	int			j;

	for (i = 0; i + WL_LANES <= dims; i += WL_LANES)
		for (j = 0; j < WL_LANES; j++)
			lanes[j] += (double) a[i + j] * (double) b[i + j];
	for (j = 0; i + j < dims; j++)
		lanes[j] += (double) a[i + j] * (double) b[i + j];
	return wl_sum_lanes(lanes);
}

/*
 * Cosine distance, 1 - a.b / (|a| |b|), with the similarity clamped to
 * [-1, 1] against rounding, as pgvector does.  A zero vector makes the
 * quotient 0/0, so the distance is NaN, which is pgvector's answer too.
 * Squared norms of floats neither overflow nor underflow in double, so
 * their product can go under one square root.
 */
static double
wl_cosine_distance(const float *a, const float *b, int dims)
{
	double		dot = wl_dot(a, b, dims);
	double		norms = sqrt(wl_dot(a, a, dims) * wl_dot(b, b, dims));
	double		similarity = dot / norms;

	if (similarity > 1.0)
		similarity = 1.0;
	else if (similarity < -1.0)
		similarity = -1.0;
	return 1.0 - similarity;
}

/* The distance between a and b under metric: smaller is closer. */
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
			return wl_cosine_distance(a, b, dims);
	}
	return NAN;
}

/*
 * Is x worse than y: farther, or as far with a larger index?  The index
 * makes the order total, so the kept set never depends on arrival order.
 */
static bool
wl_topk_worse(const WlTopKEntry *x, const WlTopKEntry *y)
{
	return x->distance > y->distance ||
		(x->distance == y->distance && x->index > y->index);
}

/* Allocates a selector with room for k candidates. */
WlTopK *
wl_topk_create(int k)
{
	WlTopK	   *topk;

	if (k < 1)
		return NULL;
	topk = malloc(sizeof(WlTopK));
	if (topk == NULL)
		return NULL;
	topk->k = k;
	topk->count = 0;
	topk->heap = malloc(sizeof(WlTopKEntry) * (size_t) k);
	if (topk->heap == NULL)
	{
		free(topk);
		return NULL;
	}
	return topk;
}

/* Swaps two heap slots. */
static void
wl_topk_swap(WlTopK *topk, int i, int j)
{
	WlTopKEntry tmp = topk->heap[i];

	topk->heap[i] = topk->heap[j];
	topk->heap[j] = tmp;
}

/* Moves slot i up past better parents: restores the heap after an append. */
static void
wl_topk_sift_up(WlTopK *topk, int i)
{
	while (i > 0 && wl_topk_worse(&topk->heap[i], &topk->heap[(i - 1) / 2]))
	{
		wl_topk_swap(topk, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

/* Moves slot i down below worse children: restores the heap after a root change. */
static void
wl_topk_sift_down(WlTopK *topk, int i)
{
	for (;;)
	{
		int			worst = i;
		int			left = 2 * i + 1;
		int			right = 2 * i + 2;

		if (left < topk->count && wl_topk_worse(&topk->heap[left], &topk->heap[worst]))
			worst = left;
		if (right < topk->count && wl_topk_worse(&topk->heap[right], &topk->heap[worst]))
			worst = right;
		if (worst == i)
			return;
		wl_topk_swap(topk, i, worst);
		i = worst;
	}
}

/* Offers a candidate: kept while there is room, or if better than the worst kept. */
void
wl_topk_push(WlTopK *topk, double distance, int index)
{
	WlTopKEntry candidate = {distance, index};

	if (isnan(distance))
		return;
	if (topk->count < topk->k)
	{
		topk->heap[topk->count] = candidate;
		wl_topk_sift_up(topk, topk->count++);
		return;
	}
	if (!wl_topk_worse(&topk->heap[0], &candidate))
		return;
	topk->heap[0] = candidate;
	wl_topk_sift_down(topk, 0);
}

/*
 * Pops the worst candidate into the last free output slot until the heap
 * is empty, so the output comes out in ascending order.
 */
int
wl_topk_sorted(WlTopK *topk, double *distances, int *indexes)
{
	int			n = topk->count;

	while (topk->count > 0)
	{
		int			last = --topk->count;

		distances[last] = topk->heap[0].distance;
		indexes[last] = topk->heap[0].index;
		topk->heap[0] = topk->heap[last];
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
	free(topk->heap);
	free(topk);
}

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
#include <stdio.h>
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

/* Negative inner product: smaller is closer, as pgvector's <#>. */
static double
wl_negative_inner_product(const float *a, const float *b, int dims)
{
	return -wl_dot(a, b, dims);
}

/* Euclidean distance. */
static double
wl_l2_distance(const float *a, const float *b, int dims)
{
	return sqrt(wl_l2_squared(a, b, dims));
}

/*
 * Every metric, its one definition: the name SQL gives it, its operator,
 * and its distance.
 */
static const struct
{
	const char *name;
	const char *operator_name;
	double		(*distance) (const float *a, const float *b, int dims);
}			wl_metrics[] = {
	[WL_METRIC_COSINE] = {"cosine", "<=>", wl_cosine_distance},
	[WL_METRIC_L2] = {"l2", "<->", wl_l2_distance},
	[WL_METRIC_INNER_PRODUCT] = {"inner_product", "<#>", wl_negative_inner_product},
};

#define WL_METRIC_COUNT ((int) (sizeof(wl_metrics) / sizeof(wl_metrics[0])))

/* The metric whose name (by_operator false) or operator is value. */
static bool
wl_metric_lookup(const char *value, bool by_operator, WlMetric *out)
{
	int			i;

	for (i = 0; i < WL_METRIC_COUNT; i++)
	{
		const char *candidate = by_operator ? wl_metrics[i].operator_name :
			wl_metrics[i].name;

		if (strcmp(value, candidate) == 0)
		{
			*out = (WlMetric) i;
			return true;
		}
	}
	return false;
}

/* Looks a metric up by its SQL-visible name. */
bool
wl_metric_parse(const char *name, WlMetric *out)
{
	return wl_metric_lookup(name, false, out);
}

/* Looks a metric up by its operator, "<->" say. */
bool
wl_metric_by_operator(const char *operator_name, WlMetric *out)
{
	return wl_metric_lookup(operator_name, true, out);
}

/* The SQL-visible name of a metric; NULL for a value outside the enum. */
const char *
wl_metric_name(WlMetric metric)
{
	if ((int) metric < 0 || (int) metric >= WL_METRIC_COUNT)
		return NULL;
	return wl_metrics[metric].name;
}

/* "Valid metrics are cosine, l2 and inner_product.", from the table. */
void
wl_metric_hint(char *out, size_t len)
{
	size_t		used = (size_t) snprintf(out, len, "Valid metrics are");
	int			i;

	for (i = 0; i < WL_METRIC_COUNT && used < len; i++)
		used += (size_t) snprintf(out + used, len - used, "%s%s",
								  i == 0 ? " " : i == WL_METRIC_COUNT - 1 ? " and " : ", ",
								  wl_metrics[i].name);
	if (used < len)
		snprintf(out + used, len - used, ".");
}

/* The distance between a and b under metric: smaller is closer. */
double
wl_distance(WlMetric metric, const float *a, const float *b, int dims)
{
	if ((int) metric < 0 || (int) metric >= WL_METRIC_COUNT)
		return NAN;
	return wl_metrics[metric].distance(a, b, dims);
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

/* The bytes of a selector: its header, then k heap slots. */
size_t
wl_topk_size(int k)
{
	return sizeof(WlTopK) + sizeof(WlTopKEntry) * (size_t) (k > 0 ? k : 0);
}

/* A selector with room for k candidates, in the caller's memory. */
WlTopK *
wl_topk_init(void *memory, int k)
{
	WlTopK	   *topk = memory;

	if (k < 1)
		return NULL;
	topk->k = k;
	topk->count = 0;
	topk->heap = (WlTopKEntry *) (topk + 1);
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

/*
 * distance.h - vector distances and top-k selection (Postgres-free).
 *
 * Every distance is smaller-is-closer, as in pgvector: Euclidean distance,
 * cosine distance (1 - cosine similarity) and negative inner product.
 */
#ifndef WL_DISTANCE_H
#define WL_DISTANCE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum WlMetric
{
	WL_METRIC_COSINE,
	WL_METRIC_L2,
	WL_METRIC_INNER_PRODUCT
} WlMetric;

/* Parses "cosine", "l2" or "inner_product" (exactly); false otherwise. */
extern bool wl_metric_parse(const char *name, WlMetric *out);

/* The name of a metric, as wl_metric_parse accepts it. */
extern const char *wl_metric_name(WlMetric metric);

/* The metric of an operator ("<->", "<=>", "<#>"); false when none. */
extern bool wl_metric_by_operator(const char *operator_name, WlMetric *out);

/* The hint that lists the valid metric names, into out. */
extern void wl_metric_hint(char *out, size_t len);

/*
 * The distance between a and b (dims floats each), accumulated in double.
 * The cosine distance involving a zero vector is NaN, as in pgvector; top-k
 * never keeps a NaN.
 */
extern double wl_distance(WlMetric metric, const float *a, const float *b, int dims);

/* A bounded selection of the k smallest distances. */
typedef struct WlTopK WlTopK;

/* The bytes a selector of k candidates takes. */
extern size_t wl_topk_size(int k);

/*
 * A selector of the k (>= 1) smallest in memory of wl_topk_size(k) bytes
 * that the caller owns (so that it can come from an arena freed on
 * error); NULL when k < 1.
 */
extern WlTopK *wl_topk_init(void *memory, int k);

/*
 * Offers a candidate.  Ties are broken by the smaller index, so the result
 * does not depend on the order of the offers; NaN is never kept.
 */
extern void wl_topk_push(WlTopK *topk, double distance, int index);

/*
 * Writes the kept candidates into distances and indexes (room for k each)
 * in ascending order and returns how many; this empties the selector.
 */
extern int	wl_topk_sorted(WlTopK *topk, double *distances, int *indexes);


#endif							/* WL_DISTANCE_H */

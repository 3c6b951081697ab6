/*
 * distance.h - vector distances and top-k selection (Postgres-free).
 *
 * Every distance is smaller-is-closer, as in pgvector: Euclidean distance,
 * cosine distance (1 - cosine similarity) and negative inner product.
 */
#ifndef WL_DISTANCE_H
#define WL_DISTANCE_H

#include <stdbool.h>

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

/*
 * The distance between a and b (dims floats each), accumulated in double.
 * The cosine distance involving a zero vector is NaN, as in pgvector; top-k
 * never keeps a NaN.
 */
extern double wl_distance(WlMetric metric, const float *a, const float *b, int dims);

/* A bounded selection of the k smallest distances. */
typedef struct WlTopK WlTopK;

/* A selector of the k (>= 1) smallest; NULL when k < 1 or out of memory. */
extern WlTopK *wl_topk_create(int k);

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

/* Frees the selector; NULL is a no-op. */
extern void wl_topk_destroy(WlTopK *topk);

#endif							/* WL_DISTANCE_H */

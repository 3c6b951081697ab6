/*
 * model.h - the trained index model of a collection: a centre, a PCA
 * rotation, product-quantisation codebooks, and hash planes in the
 * rotated space (Postgres-free).
 *
 * A vector x is first normalised (cosine) and centred on the sample mean,
 * then rotated onto the sample's top principal components: y = R'(x - m),
 * `rotation` numbers.  Its code is y quantised per subspace, 16 centroids
 * each (4 bits), two subspaces a byte; its bucket codes are the signs of y's
 * first `plane_dims` numbers projected on seeded random planes, so buckets
 * split the data along the directions in which it varies most.  Ranking a
 * code against a query costs one table lookup per subspace (asymmetric
 * distance).  A model is trained once, from a sample, by one backend, and
 * stored; every server reads the same bytes, so all hash and code alike.
 */
#ifndef WL_MODEL_H
#define WL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "distance.h"

/* Centroids per subspace: codes are 4 bits a subspace. */
#define WL_MODEL_CENTROIDS 16

/* The most rotation dimensions, subspaces, tables and planes a model has. */
#define WL_MODEL_MAX_ROTATION 1024
#define WL_MODEL_MAX_SUBSPACES 256
#define WL_MODEL_MAX_TABLES 64
#define WL_MODEL_MAX_PLANE_BITS 62

typedef struct WlModel WlModel;

/* The shape of a model, fixed before training. */
typedef struct WlModelShape
{
	int			dims;			/* of the vectors */
	WlMetric	metric;
	int			rotation;		/* principal components kept, <= dims */
	int			subspaces;		/* of the rotated vector; code bytes = /2 */
	int			plane_dims;		/* leading components the planes read */
	int			ntables;
	int			bits;			/* planes per table: bucket + fine bits */
	int			cells;			/* k-means cells a table, or 0: plane buckets */
	int			groups;			/* groups the cells are in (cells.h), or 0:
								 * ungrouped */
	uint64_t	seed;			/* of the planes and of training */
	double		keep_variance;	/* 0, or training keeps the leading components
								 * holding this share of the variance */
} WlModelShape;

/* Polled during training; returning true abandons it. */
typedef bool (*WlModelAbortCheck) (void *arg);

/*
 * Trains a model of the given shape on n sample vectors (row-major, dims
 * floats each): their mean, their top principal components by subspace
 * iteration, k-means codebooks per subspace and, when the shape has cells,
 * every table's k-means cells.  With keep_variance, the shape's rotation
 * and subspaces are the most it keeps, and wl_model_shape tells what it
 * kept.  Returns NULL with a reason in errbuf when
 * the shape is out of range, the sample too small (fewer than
 * WL_MODEL_CENTROIDS vectors, or than the cells), out of memory, or
 * aborted (errbuf "interrupted").
 */
extern WlModel *wl_model_train(const WlModelShape *shape, const float *sample, int n,
							   WlModelAbortCheck abort_check, void *abort_arg,
							   char *errbuf, size_t errlen);

/* Frees a model; NULL is a no-op. */
extern void wl_model_free(WlModel *model);

/*
 * Numbers a trained model's cells, each table's, so that near cells have
 * near numbers (cells.h's wl_cells_arrange): a packed index's keys sort
 * as its cells number, and a search of a partition reads runs of them.
 * Cells in groups, whose numbers say their group, are left as they are.
 * False, some tables left as they were, when out of memory or aborted.
 */
extern bool wl_model_arrange_cells(WlModel *model, WlModelAbortCheck abort_check,
								   void *abort_arg);

/* The model's shape. */
extern const WlModelShape *wl_model_shape(const WlModel *model);

/* Bytes of one code: two subspaces a byte. */
extern int	wl_model_code_bytes(const WlModel *model);

/*
 * The rotated, centred vector y (rotation floats).  Returns -1 when a
 * cosine vector is zero (it has no direction).
 */
extern int	wl_model_transform(const WlModel *model, const float *vector, float *y);

/*
 * The projections of y on every table's planes: ntables * bits doubles,
 * table 0's first.
 */
extern void wl_model_project(const WlModel *model, const float *y, double *projections);

/*
 * The cell of y (a transformed vector) in a table of a model with cells:
 * its nearest centroid.
 */
extern int	wl_model_cell(const WlModel *model, int table, const float *y);

/*
 * The n cells of a table a search reads for a query (rotated as
 * wl_model_query prepares it), best first: nearest centroids, or for inner
 * product the centroids of largest dot product.  Returns how many, -1 when
 * out of memory.  keys (or NULL) receives their squared distances from the
 * query, for wl_cells_within (only meaningful when the model ranks cells by
 * distance: wl_model_spreads).
 */
extern int	wl_model_probe_cells(const WlModel *model, int table, const float *query, int n,
								 int *out, float *keys);

/* Does the model rank cells by distance, so that a spread can choose them? */
extern bool wl_model_spreads(const WlModel *model);

/*
 * The code of y into code (wl_model_code_bytes bytes), as an entry of a
 * table has it: with cells, the code of y less its cell's centroid (cell,
 * or -1 to find it).
 */
extern void wl_model_encode(const WlModel *model, int table, int cell, const float *y,
							unsigned char *code);

/*
 * The lookup table of a query (rotated as wl_model_query prepares it) for
 * the codes of one cell of a table (cell -1 in a model without cells):
 * subspaces * WL_MODEL_CENTROIDS floats, smaller is closer.
 */
extern void wl_model_lookup(const WlModel *model, int table, int cell, const float *query,
							float *lut);

/*
 * The rotated query a lookup table is built from: for inner product the
 * query rotated without centring (ranking by the dot product), for the
 * other metrics as wl_model_transform.  Returns -1 as wl_model_transform.
 */
extern int	wl_model_query(const WlModel *model, const float *vector, float *y);

/*
 * The asymmetric distance of a code of a cell (as wl_model_lookup's table
 * would give it) computed directly, for ranking few codes of many cells.
 */
extern float wl_model_code_distance(const WlModel *model, int table, int cell,
									const float *query, const unsigned char *code);

/* The asymmetric distance of a code under a query's lookup table. */
extern float wl_model_distance(const WlModel *model, const float *table,
							   const unsigned char *code);

/*
 * The model as bytes (little-endian, self-describing), malloc'd into *out;
 * returns the length, 0 when out of memory.
 */
extern size_t wl_model_serialize(const WlModel *model, unsigned char **out);

/* The length of a serialised model of a shape; 0 when the shape is out of range. */
extern size_t wl_model_size(const WlModelShape *shape);

/*
 * Reads a model back; NULL with a reason in errbuf when the bytes are not
 * a model of the given shape (its dims, metric and planes come from the
 * collection's metadata, so that a model item cannot change them).
 */
extern WlModel *wl_model_deserialize(const WlModelShape *shape, const unsigned char *bytes,
									 size_t len, char *errbuf, size_t errlen);

#endif							/* WL_MODEL_H */

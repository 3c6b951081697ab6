/*
 * model_internal.h - what the files of the model share: the model itself
 * (model.c applies it, model_train.c trains it, model_bytes.c stores it)
 * and the helpers more than one of them uses.
 */
#ifndef WL_MODEL_INTERNAL_H
#define WL_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "cells.h"
#include "lsh.h"
#include "model.h"

/*
 * Data of any finite size: training scales the sample by a power of two of
 * at most this exponent, leaves out vectors this far from the rest (in the
 * scaled unit), and rotated coordinates are held within WL_MODEL_MAX_COORD
 * so that float distances over WL_MODEL_MAX_ROTATION of them stay finite.
 */
#define WL_MODEL_MAX_EXPONENT 100
#define WL_MODEL_OUTLIER 0x1p40
#define WL_MODEL_MAX_COORD 0x1p50

struct WlModel
{
	WlModelShape shape;
	float	   *mean;			/* dims */
	float	   *rotation;		/* dims x rotation, row-major: [f][j] */
	int		   *dims_of;		/* rotation: the rotated dimensions by subspace */
	int		   *bounds;			/* subspaces + 1: subspace i is dims_of[bounds[i]..] */
	float	   *books;			/* per subspace, 16 centroids of its width */
	int		   *book_at;		/* subspaces: offset of a subspace's codebook */
	WlLsh	   *planes;			/* over plane_dims, from the seed */
	float	   *cells;			/* ntables x cells x rotation, or NULL */
	float	   *group_centroids;	/* ntables x groups x rotation, or NULL */
	int		   *group_first;	/* ntables x (groups + 1), or NULL */
};

/* Allocates a model of a shape, its arrays zeroed; NULL when out of memory. */
extern WlModel *wl_model_alloc(const WlModelShape *shape);

/* Sets the offsets of every subspace's codebook, from the bounds. */
extern void wl_model_index_books(WlModel *model);

/* Is a shape within the limits a model is made for? */
extern bool wl_model_shape_ok(const WlModelShape *shape);

/* Floats of every table's centroids: none for a model without cells. */
extern size_t wl_model_cell_floats(const WlModelShape *shape);

/* Floats of every table's group centroids: none for ungrouped cells. */
extern size_t wl_model_group_floats(const WlModelShape *shape);

/* A table's groups of cells, for cells.c; see cells.h. */
extern WlCellGroups wl_model_groups(const WlModel *model, int table);

/* y less its cell's centroid (into residual), or y itself without cells. */
extern const float *wl_model_residual(const WlModel *model, int table, int cell,
									  const float *y, float *residual);

/* The nearest centroid of a subspace of y. */
extern int	wl_nearest_centroid(const WlModel *model, const float *y, int subspace);

/* Euclidean norm of a vector, in double. */
extern double wl_norm(const float *x, int n);

/* Are all of a model's numbers finite (model_bytes.c)? */
extern bool wl_model_finite(const WlModel *model);

#endif							/* WL_MODEL_INTERNAL_H */

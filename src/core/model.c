/*
 * model.c - applying a collection's index model: the rotation (centre and
 * principal components), the cells a vector falls in and a query probes,
 * codes of the residuals by the subspaces' codebooks, and the lookup
 * tables that rank codes against a query.  Training is in model_train.c,
 * the stored form in model_bytes.c.
 *
 * A model with cells holds, per hash table, k-means centroids of the
 * rotated sample (cells.c): the learned partition its buckets are; one of
 * many cells has them in groups, each with its own centroid.  The
 * planes are not stored: they derive from the seed (lsh.c), over the
 * leading plane_dims rotated dimensions.
 */
#include "model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "lsh.h"
#include "store.h"

/* Frees a model. */
void
wl_model_free(WlModel *model)
{
	if (model == NULL)
		return;
	free(model->mean);
	free(model->rotation);
	free(model->dims_of);
	free(model->bounds);
	free(model->books);
	free(model->book_at);
	free(model->cells);
	free(model->group_centroids);
	free(model->group_first);
	wl_lsh_destroy(model->planes);
	free(model);
}

/* The model's shape. */
const WlModelShape *
wl_model_shape(const WlModel *model)
{
	return &model->shape;
}

/* Two subspaces a byte. */
int
wl_model_code_bytes(const WlModel *model)
{
	return (model->shape.subspaces + 1) / 2;
}

/* Floats of every table's centroids: none for a model without cells. */
size_t
wl_model_cell_floats(const WlModelShape *shape)
{
	return (size_t) shape->ntables * shape->cells * shape->rotation;
}

/* Floats of every table's group centroids: none for ungrouped cells. */
size_t
wl_model_group_floats(const WlModelShape *shape)
{
	return (size_t) shape->ntables * shape->groups * shape->rotation;
}

/* A table's groups of cells. */
WlCellGroups
wl_model_groups(const WlModel *model, int table)
{
	const WlModelShape *shape = &model->shape;
	WlCellGroups groups;

	groups.groups = shape->groups;
	groups.centroids = model->group_centroids + (size_t) table * shape->groups * shape->rotation;
	groups.first = model->group_first + (size_t) table * (shape->groups + 1);
	return groups;
}

/* Is a shape within the limits a model is made for? */
bool
wl_model_shape_ok(const WlModelShape *shape)
{
	return shape->dims >= 1 && shape->rotation >= 1 && shape->rotation <= shape->dims &&
		shape->rotation <= WL_MODEL_MAX_ROTATION &&
		shape->subspaces >= 1 && shape->subspaces <= shape->rotation &&
		shape->subspaces <= WL_MODEL_MAX_SUBSPACES &&
		shape->plane_dims >= 1 && shape->plane_dims <= shape->rotation &&
		shape->ntables >= 1 && shape->ntables <= WL_MODEL_MAX_TABLES &&
		shape->bits >= 1 && shape->bits <= WL_MODEL_MAX_PLANE_BITS &&
		shape->cells >= 0 &&
		shape->cells <= (shape->groups > 0 ? WL_CELLS_MAX : WL_CELLS_FLAT_MAX) &&
		shape->groups >= 0 && shape->groups <= WL_CELLS_FLAT_MAX &&
		(shape->groups == 0 || (shape->cells >= shape->groups)) &&
		wl_metric_name(shape->metric) != NULL;
}

/*
 * A model of a shape with its arrays allocated (not filled) and its planes
 * derived; NULL when out of memory.
 */
WlModel *
wl_model_alloc(const WlModelShape *shape)
{
	WlModel    *model = calloc(1, sizeof(WlModel));
	size_t		d = (size_t) shape->dims;
	size_t		p = (size_t) shape->rotation;

	if (model == NULL)
		return NULL;
	model->shape = *shape;
	model->mean = malloc(sizeof(float) * d);
	model->rotation = malloc(sizeof(float) * d * p);
	model->dims_of = malloc(sizeof(int) * p);
	model->bounds = malloc(sizeof(int) * (size_t) (shape->subspaces + 1));
	model->books = malloc(sizeof(float) * WL_MODEL_CENTROIDS * p);
	model->book_at = malloc(sizeof(int) * (size_t) shape->subspaces);
	model->planes = wl_lsh_create_seeded(shape->plane_dims, shape->ntables, shape->bits,
										 shape->seed);
	if (shape->cells > 0)
		model->cells = malloc(sizeof(float) * (size_t) shape->ntables * shape->cells * p);
	if (shape->groups > 0)
	{
		model->group_centroids = malloc(sizeof(float) * wl_model_group_floats(shape));
		model->group_first = malloc(sizeof(int) * (size_t) shape->ntables *
									(shape->groups + 1));
	}
	if (!model->mean || !model->rotation || !model->dims_of || !model->bounds ||
		!model->books || !model->book_at || !model->planes ||
		(shape->cells > 0 && !model->cells) ||
		(shape->groups > 0 && (!model->group_centroids || !model->group_first)))
	{
		wl_model_free(model);
		return NULL;
	}
	return model;
}

/* The offsets of every subspace's codebook, from the bounds. */
void
wl_model_index_books(WlModel *model)
{
	int			i;
	int			at = 0;

	for (i = 0; i < model->shape.subspaces; i++)
	{
		model->book_at[i] = at;
		at += WL_MODEL_CENTROIDS * (model->bounds[i + 1] - model->bounds[i]);
	}
}

/* Euclidean norm of a vector, in double. */
double
wl_norm(const float *x, int n)
{
	double		sum = 0;
	int			i;

	for (i = 0; i < n; i++)
		sum += (double) x[i] * x[i];
	return sqrt(sum);
}

/* y = R'(x - centre), centre NULL for none. */
static void
wl_model_rotate(const WlModel *model, const float *x, double scale, const float *centre,
				float *y)
{
	int			d = model->shape.dims;
	int			p = model->shape.rotation;
	double		acc[WL_MODEL_MAX_ROTATION];
	int			f;
	int			j;

	for (j = 0; j < p; j++)
		acc[j] = 0;
	for (f = 0; f < d; f++)
	{
		double		v = x[f] * scale - (centre ? centre[f] : 0.0);
		const float *row = model->rotation + (size_t) f * p;

		for (j = 0; j < p; j++)
			acc[j] += v * row[j];
	}
	for (j = 0; j < p; j++)
		y[j] = (float) fmax(-WL_MODEL_MAX_COORD, fmin(WL_MODEL_MAX_COORD, acc[j]));
}

/* The scale that normalises x for cosine (1 otherwise); 0 for a zero cosine vector. */
static double
wl_model_scale(const WlModel *model, const float *x)
{
	double		norm;

	if (model->shape.metric != WL_METRIC_COSINE)
		return 1.0;
	norm = wl_norm(x, model->shape.dims);
	return norm > 0 ? 1.0 / norm : 0.0;
}

/* The rotated, centred vector; see the header. */
int
wl_model_transform(const WlModel *model, const float *vector, float *y)
{
	double		scale = wl_model_scale(model, vector);

	if (scale == 0)
		return -1;
	wl_model_rotate(model, vector, scale, model->mean, y);
	return 0;
}

/* The rotated query of a lookup table; see the header. */
int
wl_model_query(const WlModel *model, const float *vector, float *y)
{
	if (model->shape.metric != WL_METRIC_INNER_PRODUCT)
		return wl_model_transform(model, vector, y);
	wl_model_rotate(model, vector, 1.0, NULL, y);
	return 0;
}

/* Every table's projections of y's leading plane_dims numbers. */
void
wl_model_project(const WlModel *model, const float *y, double *projections)
{
	wl_lsh_project(model->planes, y, projections);
}

/* The cell of a transformed vector y in a table; see the header. */
int
wl_model_cell(const WlModel *model, int table, const float *y)
{
	const WlModelShape *shape = &model->shape;
	const float *centroids = model->cells + (size_t) table * shape->cells * shape->rotation;

	if (shape->groups > 0)
	{
		WlCellGroups groups = wl_model_groups(model, table);

		return wl_cells_nearest_grouped(centroids, &groups, shape->rotation, y);
	}
	return wl_cells_nearest(centroids, shape->cells, shape->rotation, y);
}

/* The cells a query reads in a table, best first; see the header. */
int
wl_model_probe_cells(const WlModel *model, int table, const float *query, int n, int *out,
					 float *keys)
{
	const WlModelShape *shape = &model->shape;
	const float *centroids = model->cells + (size_t) table * shape->cells * shape->rotation;

	if (shape->groups > 0)
	{
		WlCellGroups groups = wl_model_groups(model, table);

		return wl_cells_order_grouped(centroids, &groups, shape->rotation, query,
									  !wl_model_spreads(model), n, out, keys);
	}
	return wl_cells_order(centroids, shape->cells, shape->rotation, query,
						  !wl_model_spreads(model), n, out, keys);
}

/* Are cells ranked by distance (every metric but inner product)? */
bool
wl_model_spreads(const WlModel *model)
{
	return model->shape.metric != WL_METRIC_INNER_PRODUCT;
}

/* Squared distance between a subspace of y and one centroid. */
static float
wl_centroid_distance(const WlModel *model, const float *y, int subspace, int centroid)
{
	int			width = model->bounds[subspace + 1] - model->bounds[subspace];
	const float *c = model->books + model->book_at[subspace] + centroid * width;
	const int  *dims = model->dims_of + model->bounds[subspace];
	float		sum = 0;
	int			k;

	for (k = 0; k < width; k++)
	{
		float		diff = y[dims[k]] - c[k];

		sum += diff * diff;
	}
	return sum;
}

/* The nearest centroid of a subspace of y. */
int
wl_nearest_centroid(const WlModel *model, const float *y, int subspace)
{
	int			best = 0;
	float		best_distance = wl_centroid_distance(model, y, subspace, 0);
	int			c;

	for (c = 1; c < WL_MODEL_CENTROIDS; c++)
	{
		float		distance = wl_centroid_distance(model, y, subspace, c);

		if (distance < best_distance)
		{
			best = c;
			best_distance = distance;
		}
	}
	return best;
}

/*
 * y less the centroid of its cell in a table, into residual; y itself when
 * the model has no cells (cell < 0).
 */
const float *
wl_model_residual(const WlModel *model, int table, int cell, const float *y, float *residual)
{
	int			p = model->shape.rotation;
	const float *centroid;
	int			k;

	if (model->cells == NULL || cell < 0)
		return y;
	centroid = model->cells + ((size_t) table * model->shape.cells + cell) * p;
	for (k = 0; k < p; k++)
		residual[k] = y[k] - centroid[k];
	return residual;
}

/*
 * The code of y: subspace i's centroid in nibble i (low nibble first).  A
 * model with cells codes what is left of y after its cell's centroid, which
 * is much smaller than y, so the same 16 centroids resolve it finer; cell
 * is y's cell in the table when the caller knows it, or -1.
 */
void
wl_model_encode(const WlModel *model, int table, int cell, const float *y, unsigned char *code)
{
	float		residual[WL_MODEL_MAX_ROTATION];
	const float *coded;
	int			i;

	if (model->cells != NULL && cell < 0)
		cell = wl_model_cell(model, table, y);
	coded = wl_model_residual(model, table, cell, y, residual);

	memset(code, 0, (size_t) wl_model_code_bytes(model));
	for (i = 0; i < model->shape.subspaces; i++)
		code[i / 2] |= (unsigned char) (wl_nearest_centroid(model, coded, i) << (4 * (i % 2)));
}

/*
 * What a query's entries for the codes of one cell are computed from: the
 * query less the cell's centroid (into residual), or for inner product the
 * query itself, with the negative dot product of the query and the
 * centroid in *offset (0 otherwise).
 */
static const float *
wl_model_entry_base(const WlModel *model, int table, int cell, const float *query,
					float *residual, float *offset)
{
	int			i;

	*offset = 0;
	if (model->shape.metric != WL_METRIC_INNER_PRODUCT)
		return wl_model_residual(model, table, cell, query, residual);
	if (model->cells != NULL && cell >= 0)
	{
		const float *centroid = model->cells +
			((size_t) table * model->shape.cells + cell) * model->shape.rotation;

		for (i = 0; i < model->shape.rotation; i++)
			*offset -= query[i] * centroid[i];
	}
	return query;
}

/*
 * One entry of a lookup table: subspace i's centroid c against `from`, a
 * squared distance or a negative dot product (with the cell's own offset
 * in subspace 0).
 */
static float
wl_model_entry(const WlModel *model, const float *from, float offset, int i, int c)
{
	int			width = model->bounds[i + 1] - model->bounds[i];
	const int  *dims = model->dims_of + model->bounds[i];
	const float *centroid = model->books + model->book_at[i] + c * width;
	float		dot = 0;
	int			k;

	if (model->shape.metric != WL_METRIC_INNER_PRODUCT)
		return wl_centroid_distance(model, from, i, c);
	for (k = 0; k < width; k++)
		dot += from[dims[k]] * centroid[k];
	return -dot + (i == 0 ? offset : 0);
}

/*
 * A query's lookup table for the codes of one cell: squared distances from
 * the query less the cell's centroid, or negative dot products with the
 * query, the cell's own (its centroid's) added to subspace 0.
 */
void
wl_model_lookup(const WlModel *model, int table, int cell, const float *query, float *lut)
{
	float		residual[WL_MODEL_MAX_ROTATION];
	float		offset;
	const float *from = wl_model_entry_base(model, table, cell, query, residual, &offset);
	int			i;
	int			c;

	for (i = 0; i < model->shape.subspaces; i++)
		for (c = 0; c < WL_MODEL_CENTROIDS; c++)
			lut[i * WL_MODEL_CENTROIDS + c] = wl_model_entry(model, from, offset, i, c);
}

/*
 * A code's distance from a query without its lookup table: the same
 * numbers wl_model_lookup and wl_model_distance give, computed in the same
 * order, for a caller that ranks a few codes of many cells.
 */
float
wl_model_code_distance(const WlModel *model, int table, int cell, const float *query,
					   const unsigned char *code)
{
	float		residual[WL_MODEL_MAX_ROTATION];
	float		offset;
	const float *from = wl_model_entry_base(model, table, cell, query, residual, &offset);
	float		sum = 0;
	int			i;

	for (i = 0; i < model->shape.subspaces; i++)
		sum += wl_model_entry(model, from, offset, i, (code[i / 2] >> (4 * (i % 2))) & 0xf);
	return sum;
}

/* Sum of a code's entries in a lookup table. */
float
wl_model_distance(const WlModel *model, const float *table, const unsigned char *code)
{
	float		sum = 0;
	int			i;

	for (i = 0; i < model->shape.subspaces; i++)
		sum += table[i * WL_MODEL_CENTROIDS + ((code[i / 2] >> (4 * (i % 2))) & 0xf)];
	return sum;
}

/*
 * model_bytes.c - a model's stored form: a header (magic, shape) and its
 * arrays as float32 little-endian, written and read back; a reader
 * refuses a model whose shape or numbers are not the ones it expects.
 */
#include "model_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define WL_MODEL_MAGIC "WLM1"	/* a model without cells */
#define WL_MODEL_MAGIC_CELLS "WLM2" /* a model with cells */
#define WL_MODEL_MAGIC_GROUPS "WLM3"	/* a model with cells in groups */

/* The magic a model of a shape starts with. */
static const char *
wl_model_magic(const WlModelShape *shape)
{
	return shape->groups > 0 ? WL_MODEL_MAGIC_GROUPS :
		shape->cells > 0 ? WL_MODEL_MAGIC_CELLS : WL_MODEL_MAGIC;
}

/* Appends len bytes to a growing buffer. */
static void
wl_put(unsigned char **at, const void *bytes, size_t len)
{
	memcpy(*at, bytes, len);
	*at += len;
}

/* Appends a 32-bit unsigned little-endian integer. */
static void
wl_put_u32(unsigned char **at, uint32_t value)
{
	unsigned char bytes[4] = {value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff,
	(value >> 24) & 0xff};

	wl_put(at, bytes, 4);
}

/* Appends floats as float32 little-endian. */
static void
wl_put_floats(unsigned char **at, const float *values, size_t n)
{
	wl_store_encode_vector(values, (int) n, *at);
	*at += n * 4;
}

/*
 * Are all of a model's numbers finite?  A model that is not would be
 * stored but refused by every reader.
 */
bool
wl_model_finite(const WlModel *model)
{
	size_t		d = (size_t) model->shape.dims;
	size_t		p = (size_t) model->shape.rotation;
	size_t		i;

	for (i = 0; i < d; i++)
		if (!isfinite(model->mean[i]))
			return false;
	for (i = 0; i < d * p; i++)
		if (!isfinite(model->rotation[i]))
			return false;
	for (i = 0; i < WL_MODEL_CENTROIDS * p; i++)
		if (!isfinite(model->books[i]))
			return false;
	for (i = 0; i < wl_model_cell_floats(&model->shape); i++)
		if (!isfinite(model->cells[i]))
			return false;
	for (i = 0; i < wl_model_group_floats(&model->shape); i++)
		if (!isfinite(model->group_centroids[i]))
			return false;
	return true;
}

/* The serialised length of a model: a header, then its arrays. */
static size_t
wl_model_bytes(const WlModelShape *shape)
{
	size_t		d = (size_t) shape->dims;
	size_t		p = (size_t) shape->rotation;

	return 4 + 4 * 4 + (shape->cells > 0 ? 4 : 0) + (shape->groups > 0 ? 4 : 0) +
		4 * (d + d * p) +
		4 * (p + (size_t) shape->subspaces + 1) + 4 * WL_MODEL_CENTROIDS * p +
		4 * wl_model_cell_floats(shape) +
		(shape->groups > 0 ? 4 * (size_t) shape->ntables * (shape->groups + 1) : 0) +
		4 * wl_model_group_floats(shape);
}

/* The serialised length of a model of a shape; 0 when the shape is out of range. */
size_t
wl_model_size(const WlModelShape *shape)
{
	return wl_model_shape_ok(shape) ? wl_model_bytes(shape) : 0;
}

/*
 * The model's bytes: "WLM1", dims, rotation, subspaces, plane_dims (u32),
 * the mean and the rotation (float32), the subspaces' bounds and their
 * dimensions (u32), and the codebooks (float32), all little-endian.  A
 * model with cells starts "WLM2", has its number of cells after plane_dims
 * and every table's centroids (float32) at the end.  One with cells in
 * groups starts "WLM3", has its number of groups after the cells', and
 * after the centroids every table's groups: the first cell of each and the
 * number of cells (u32), then every table's group centroids (float32).
 */
size_t
wl_model_serialize(const WlModel *model, unsigned char **out)
{
	const WlModelShape *shape = &model->shape;
	size_t		len = wl_model_bytes(shape);
	unsigned char *at;
	int			i;

	*out = malloc(len);
	if (*out == NULL)
		return 0;
	at = *out;
	wl_put(&at, wl_model_magic(shape), 4);
	wl_put_u32(&at, (uint32_t) shape->dims);
	wl_put_u32(&at, (uint32_t) shape->rotation);
	wl_put_u32(&at, (uint32_t) shape->subspaces);
	wl_put_u32(&at, (uint32_t) shape->plane_dims);
	if (shape->cells > 0)
		wl_put_u32(&at, (uint32_t) shape->cells);
	if (shape->groups > 0)
		wl_put_u32(&at, (uint32_t) shape->groups);
	wl_put_floats(&at, model->mean, (size_t) shape->dims);
	wl_put_floats(&at, model->rotation, (size_t) shape->dims * shape->rotation);
	for (i = 0; i <= shape->subspaces; i++)
		wl_put_u32(&at, (uint32_t) model->bounds[i]);
	for (i = 0; i < shape->rotation; i++)
		wl_put_u32(&at, (uint32_t) model->dims_of[i]);
	wl_put_floats(&at, model->books, (size_t) WL_MODEL_CENTROIDS * shape->rotation);
	if (shape->cells > 0)
		wl_put_floats(&at, model->cells, wl_model_cell_floats(shape));
	for (i = 0; shape->groups > 0 && i < shape->ntables * (shape->groups + 1); i++)
		wl_put_u32(&at, (uint32_t) model->group_first[i]);
	if (shape->groups > 0)
		wl_put_floats(&at, model->group_centroids, wl_model_group_floats(shape));
	return len;
}

/* Reads a 32-bit unsigned little-endian integer. */
static uint32_t
wl_get_u32(const unsigned char **at)
{
	const unsigned char *b = *at;

	*at += 4;
	return (uint32_t) b[0] | ((uint32_t) b[1] << 8) | ((uint32_t) b[2] << 16) |
		((uint32_t) b[3] << 24);
}

/* Reads n float32s; false when one is not finite. */
static bool
wl_get_floats(const unsigned char **at, float *values, size_t n)
{
	size_t		i;

	wl_store_decode_vector(*at, (int) n, values);
	*at += n * 4;
	for (i = 0; i < n; i++)
		if (!isfinite(values[i]))
			return false;
	return true;
}

/* Reads a model; see the header. */
WlModel *
wl_model_deserialize(const WlModelShape *shape, const unsigned char *bytes, size_t len,
					 char *errbuf, size_t errlen)
{
	const unsigned char *at = bytes;
	WlModel    *model;
	bool		ok;
	bool	   *seen;
	int			i;

	if (!wl_model_shape_ok(shape) || len != wl_model_bytes(shape) ||
		memcmp(bytes, wl_model_magic(shape), 4) != 0)
	{
		snprintf(errbuf, errlen, "the model is not %zu bytes of a model of its collection's shape",
				 wl_model_shape_ok(shape) ? wl_model_bytes(shape) : (size_t) 0);
		return NULL;
	}
	at += 4;
	if (wl_get_u32(&at) != (uint32_t) shape->dims ||
		wl_get_u32(&at) != (uint32_t) shape->rotation ||
		wl_get_u32(&at) != (uint32_t) shape->subspaces ||
		wl_get_u32(&at) != (uint32_t) shape->plane_dims ||
		(shape->cells > 0 && wl_get_u32(&at) != (uint32_t) shape->cells) ||
		(shape->groups > 0 && wl_get_u32(&at) != (uint32_t) shape->groups))
	{
		snprintf(errbuf, errlen, "the model's header disagrees with its collection's settings");
		return NULL;
	}
	model = wl_model_alloc(shape);
	seen = calloc((size_t) shape->rotation, sizeof(bool));
	if (model == NULL || seen == NULL)
	{
		wl_model_free(model);
		free(seen);
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	ok = wl_get_floats(&at, model->mean, (size_t) shape->dims) &&
		wl_get_floats(&at, model->rotation, (size_t) shape->dims * shape->rotation);
	for (i = 0; i <= shape->subspaces; i++)
	{
		uint32_t	bound = wl_get_u32(&at);

		model->bounds[i] = (int) bound;
		ok = ok && bound <= (uint32_t) shape->rotation &&
			(i == 0 ? bound == 0 : (int) bound > model->bounds[i - 1]) &&
			(i < shape->subspaces || (int) bound == shape->rotation);
	}
	for (i = 0; i < shape->rotation; i++)
	{
		uint32_t	dim = wl_get_u32(&at);

		ok = ok && dim < (uint32_t) shape->rotation && !seen[dim];
		if (ok)
			seen[dim] = true;
		model->dims_of[i] = ok ? (int) dim : 0;
	}
	ok = ok && wl_get_floats(&at, model->books, (size_t) WL_MODEL_CENTROIDS * shape->rotation);
	ok = ok && (shape->cells == 0 ||
				wl_get_floats(&at, model->cells, wl_model_cell_floats(shape)));
	/* every table's groups own runs of its cells, in order, and all of them */
	for (i = 0; shape->groups > 0 && i < shape->ntables * (shape->groups + 1); i++)
	{
		int			g = i % (shape->groups + 1);
		uint32_t	cell = wl_get_u32(&at);

		model->group_first[i] = (int) (cell <= (uint32_t) shape->cells ? cell : 0);
		ok = ok && cell <= (uint32_t) shape->cells &&
			(g == 0 ? cell == 0 : (int) cell > model->group_first[i - 1]) &&
			(g < shape->groups || (int) cell == shape->cells);
	}
	ok = ok && (shape->groups == 0 ||
				wl_get_floats(&at, model->group_centroids, wl_model_group_floats(shape)));
	free(seen);
	if (!ok)
	{
		wl_model_free(model);
		snprintf(errbuf, errlen, "the model holds a value out of range");
		return NULL;
	}
	wl_model_index_books(model);
	return model;
}

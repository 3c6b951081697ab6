/*
 * packed_plan.c - the index a packed collection's next build gets: how many
 * k-means cells for its size, its model's shape for its dimensions, its
 * sample, and whether a collection has outgrown its current index.
 */
#include "packed_layout.h"

#include <math.h>
#include <string.h>


#include "cells.h"
#include "recordname.h"

int			wl_packed_max_flat_cells = WL_PACKED_MAX_CELLS;

/* Bytes of a record's code in an index generation: 4 bits a subspace. */
int
wl_packed_index_code_bytes(const WlPackedIndex *index)
{
	return (index->subspaces + 1) / 2;
}

/* Bytes of a record's value: its code, then a slot an attribute it carries. */
int
wl_packed_index_record_bytes(const WlPackedIndex *index)
{
	return wl_packed_index_code_bytes(index) + index->nattrs * WL_SLOT_BYTES;
}

/*
 * Sizes an index's cells for a collection of n vectors: about
 * WL_PACKED_CELL_BYTES of records a cell (at its name_bytes, or a compact
 * UUID's where unknown, and its codes), within WL_PACKED_CELL_VECTORS_MIN
 * and _MAX vectors, and at least 16 cells.  A search reads whole cells,
 * each Query rounded up to 4 KB: smaller cells read fewer vectors for the
 * same recall (a third as many read units on 384-dimension text embeddings
 * at 64 vectors a cell as at 256), until rounding eats the gain.  Up to
 * wl_packed_max_flat_cells, and as many as one k-means trains within
 * WL_PACKED_KMEANS_WORK (about 440 cells at 784 dimensions, 640 at 384),
 * the cells are one set; more are in groups, as many as their sample
 * allows (wl_packed_sample_size), so that a cell holds about as many
 * vectors up to that size and a search reads as many codes.  Chunks hold
 * about 32 records.
 */
void
wl_packed_size_cells(WlPackedIndex *index, int64_t n, int dims)
{
	double		record = (index->name_bytes > 0 ? index->name_bytes : WL_RECORD_UUID_NAME_LEN) +
		wl_packed_index_record_bytes(index);
	double		per_cell = fmin(WL_PACKED_CELL_VECTORS_MAX,
								fmax(WL_PACKED_CELL_VECTORS_MIN,
									 round(WL_PACKED_CELL_BYTES / record)));
	double		wanted = fmin(fmax(round((double) n / per_cell), 16), WL_CELLS_MAX);

	index->cells = (int) fmin(wanted, wl_packed_max_flat_cells);
	index->groups = 0;
	while (index->cells > 16 &&
		   (double) index->cells * fmax(WL_PACKED_SAMPLE_PER_CELL * index->cells,
										WL_PACKED_SAMPLE_MAX) *
		   index->rotation * WL_CELLS_ROUNDS > WL_PACKED_KMEANS_WORK)
		index->cells--;
	if (wanted > index->cells)
	{
		WlPackedIndex grouped = *index;

		/* as many as the sample for the cells wanted allows */
		grouped.cells = (int) wanted;
		grouped.groups = 1;
		grouped.cells = (int) fmin(wanted, wl_packed_sample_size(&grouped, dims) /
								   WL_PACKED_GROUPED_PER_CELL);
		if (grouped.cells > index->cells)
		{
			index->cells = grouped.cells;
			index->groups = (int) ceil(sqrt((double) index->cells));
		}
	}
	index->bits = 1;
	while ((1 << index->bits) < index->cells)
		index->bits++;
	index->fine = 0;
	while (index->fine < WL_PACKED_MAX_FINE &&
		   (double) n / index->cells / (double) (1 << index->fine) > 32)
		index->fine++;
}

/*
 * The index a collection of n vectors gets: one table of k-means cells
 * (wl_packed_size_cells); the model keeps every principal component up to
 * 128 dimensions, above them as many as WL_PACKED_PCA_WORK allows (training
 * keeps what holds WL_PACKED_KEEP_VARIANCE of the variance), in codes of
 * subspaces of two components (64 at most up to 128 dimensions), and
 * planes (which split a cell into chunks) over the 16 leading components.
 * Its records of UUIDs have compact names.
 */
void
wl_packed_plan(const WlMeta *meta, int64_t n, WlPackedIndex *index)
{
	const WlPackedSettings *settings = wl_packed_settings_of(meta);

	memset(index, 0, sizeof(WlPackedIndex));
	/* an index of LSH buckets (made before cells) is rebuilt as one table */
	index->tables = settings == NULL ||
		(settings->has_current && settings->current.cells == 0) ? WL_PACKED_TABLES :
		settings->tables;
	index->vectors = n;
	index->uuid_names = true;
	if (settings != NULL && settings->has_current)
	{
		/* a new generation carries the attributes the current one does */
		index->name_bytes = settings->current.name_bytes;
		index->nattrs = settings->current.nattrs;
		memcpy(index->attrs, settings->current.attrs, sizeof(index->attrs));
		index->partitioned = settings->current.partitioned;
	}
	if (meta->dims <= WL_PACKED_FULL_DIMS)
	{
		index->rotation = meta->dims;
		index->subspaces = index->rotation < 64 ? index->rotation : 64;
	}
	else
	{
		/*
		 * The most components whose subspace iteration takes at most
		 * WL_PACKED_PCA_WORK a round (all of them up to about 790
		 * dimensions).
		 */
		index->rotation = meta->dims < WL_MODEL_MAX_ROTATION ? meta->dims :
			WL_MODEL_MAX_ROTATION;
		while (index->rotation > WL_PACKED_FULL_DIMS &&
			   (double) meta->dims * index->rotation * (meta->dims + index->rotation) >
			   WL_PACKED_PCA_WORK)
			index->rotation--;
		index->subspaces = (index->rotation + WL_PACKED_SUBSPACE_DIMS - 1) /
			WL_PACKED_SUBSPACE_DIMS;
		if (index->subspaces > WL_MODEL_MAX_SUBSPACES)
			index->subspaces = WL_MODEL_MAX_SUBSPACES;
	}
	index->plane_dims = index->rotation < 16 ? index->rotation : 16;
	wl_packed_size_cells(index, n, meta->dims);
}

/*
 * Has a collection of count vectors outgrown its index: is it at least
 * WL_PACKED_REGROWTH times the size its cells were built for, with no build
 * under way, so
 * that an index trained now would have more cells?  Indexes without cells
 * (LSH) split their chunks as they grow instead, and never outgrow.
 */
bool
wl_packed_outgrown(const WlMeta *meta, int64_t count)
{
	const WlPackedSettings *settings = wl_packed_settings_of(meta);
	WlPackedIndex planned;

	if (settings == NULL || !settings->has_current || settings->has_building ||
		settings->current.cells == 0 ||
		count < WL_PACKED_REGROWTH * (settings->current.vectors > 0 ? settings->current.vectors : 1))
		return false;
	wl_packed_plan(meta, count, &planned);
	return planned.cells > settings->current.cells;
}

/*
 * The sample an index is trained on: WL_PACKED_SAMPLE_MAX vectors, or
 * WL_PACKED_SAMPLE_PER_CELL a cell where that is more; of grouped cells, at
 * most WL_PACKED_SAMPLE_FLOATS numbers (of vectors of dims).
 */
int
wl_packed_sample_size(const WlPackedIndex *index, int dims)
{
	double		size = fmax((double) WL_PACKED_SAMPLE_PER_CELL * index->cells,
							WL_PACKED_SAMPLE_MAX);

	if (index->groups > 0)
		size = fmin(size, fmax(WL_PACKED_SAMPLE_MAX,
							   (double) WL_PACKED_SAMPLE_FLOATS / (dims > 0 ? dims : 1)));
	return (int) size;
}

/*
 * Fits an index planned before its sample was read to the sample: no more
 * cells than a cell's share of it allows (at least 1), and of grouped
 * cells, groups of the square root of their number.  Its records, unless
 * a partition keys them, are keyed by blocks of cells (packed_keys.c).
 */
void
wl_packed_fit_sample(WlPackedIndex *index, int nsample)
{
	int			most = nsample / (index->groups > 0 ? WL_PACKED_GROUPED_PER_CELL :
								  WL_PACKED_SAMPLE_PER_CELL);

	if (index->cells > 0 && index->cells > most)
		index->cells = most > 16 ? most : nsample >= 16 ? 16 : (nsample > 0 ? nsample : 1);
	if (index->groups > 0)
		index->groups = (int) ceil(sqrt((double) index->cells));
	index->blocked = index->cells > 0 && !index->partitioned;
	index->bits = 1;
	while ((1 << index->bits) < index->cells)
		index->bits++;
}

/*
 * format_packed.c - whiplash's layout with compact codes (format 3): each
 * bucket item packs the codes of many vectors, and the hash functions are
 * trained on the collection's own data.
 *
 * A collection starts untrained: it holds only vector items and is
 * searched exactly.  Training (reindex.c) makes an index generation: a
 * model (model.c: centre, principal components, codebooks) stored in the
 * buckets table under partition "<gen>/model" (sort keys "<token>.<part>":
 * the token is the build's, so two builds of one generation never mix
 * their parts), and for every vector and
 * hash table one record in a chunk item:
 *
 *   bucket (hash key)  "<gen>/<table>:<hex of the bucket>"
 *   id (range key)     the chunk: "." and the next fine bits as 0/1 digits
 *   "~<vector id>"     the vector's code (B), one attribute a record;
 *                      "^<22 characters>" where the id is a UUID and the
 *                      generation names UUIDs compactly (recordname.c);
 *                      in a generation whose description lists "attrs",
 *                      the code is followed by a 9-byte slot of each
 *                      (recordattrs.h), which searches filter on
 *
 * A key spells both, "2/3:a5/.011010".  A generation's buckets are its
 * model's k-means cells (cells.c), a search reading the cells nearest the
 * query whole; generations built before cells (an index description
 * without "cells") bucket by the bits of planes, and multi-probe them.  A record is added and removed with
 * UpdateItem SET / REMOVE of its attribute, so writers never race on a
 * chunk and a retry does no harm.  A search Queries a probed bucket with
 * begins_with on the chunk, so one request reads many records; it ranks
 * them by their codes and fetches only the best vectors whole.
 *
 * Chunks are `fine` bits deep when the generation is built, sized for the
 * collection then.  As the collection grows, writers put new records
 * deeper (a bit per doubling past twice that size), so no chunk grows
 * without bound; readers never read deeper than `fine`, so they find
 * records at any depth.  A vector item notes the depth of its records
 * where it differs ("keys", a string: "<gen>.<depth> ..."; the name is
 * reserved, so no attribute of the user's can take it), so that they can
 * be found again for a replace or delete.  A re-index makes a new generation while
 * the old one serves searches, then switches; while it builds, writers
 * write both ("building" in the metadata).
 *
 * This file holds the format's operations on records: keys, codes, probes,
 * reads and changes.  The index descriptions in the metadata are in
 * packed_meta.c, the index a build plans in packed_plan.c, and where models
 * are stored in packed_models.c.
 */
#include "packed_layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cells.h"
#include "ddbjson.h"
#include "model.h"
#include "operations.h"
#include "packed.h"
#include "recordname.h"
#include "store.h"

#define WL_ATTR_WHERE WL_ATTR_KEYS	/* vector items: "<gen>.<depth> ..." (S) */

/* The most records an UpdateItem changes: its expression stays far below 4 KB. */
#define WL_PACKED_CHANGES_PER_CALL 64

/* One index generation of a collection: its description and its model. */
typedef struct WlPackedOne
{
	WlPackedIndex desc;
	WlModel    *model;
	WlAttrStats *stats;			/* of its attributes, or NULL */
} WlPackedOne;

/* The index a backend holds: the current generation, then one building. */
typedef struct WlPackedState
{
	int			count;
	bool		searchable;		/* one[0] is the current generation */
	WlPackedOne one[2];
	char		damage[256];	/* why a model was left out, or "" */
} WlPackedState;

static int	wl_packed_code_bytes(const WlMeta *meta);

/* Frees the index a backend holds. */
static void
wl_packed_close(void *index)
{
	WlPackedState *state = index;
	int			i;

	if (state == NULL)
		return;
	for (i = 0; i < state->count; i++)
	{
		wl_model_free(state->one[i].model);
		wl_stats_free(state->one[i].stats);
	}
	free(state);
}

/* Do two descriptions name the same build, and so the same model? */
static bool
wl_packed_same_build(const WlPackedIndex *a, const WlPackedIndex *b)
{
	return a->gen == b->gen && a->tables == b->tables && a->bits == b->bits &&
		a->cells == b->cells && a->groups == b->groups && a->fine == b->fine && a->rotation == b->rotation && a->subspaces == b->subspaces &&
		a->plane_dims == b->plane_dims && a->parts == b->parts && a->bytes == b->bytes &&
		a->stats_bytes == b->stats_bytes && a->blocked == b->blocked &&
		strcmp(a->token, b->token) == 0;
}

/*
 * Keeps the models when the metadata describes the same builds (a build's
 * token tells a re-run of one generation from the first), taking the new
 * descriptions' vector counts.
 */
static bool
wl_packed_refresh(const WlMeta *was, const WlMeta *now, void *index)
{
	const WlPackedSettings *settings = wl_packed_settings(now);
	WlPackedState *state = index;
	WlPackedIndex descs[2];
	int			count = 0;

	if (settings->has_current)
		descs[count++] = settings->current;
	if (settings->has_building)
		descs[count++] = settings->building;
	if (count != state->count || state->searchable != settings->has_current)
		return false;
	for (int i = 0; i < count; i++)
		if (!wl_packed_same_build(&descs[i], &state->one[i].desc))
			return false;
	for (int i = 0; i < count; i++)
	{
		WlCalibration *read = &state->one[i].desc.calibration;

		/* the filtered grids were read with the model, not the metadata */
		descs[i].calibration.nlevels = read->nlevels;
		memcpy(descs[i].calibration.levels, read->levels, sizeof(read->levels));
		state->one[i].desc = descs[i];
	}
	return true;
}

/* The index: the models of the current and the building generation. */
static void *
wl_packed_open(const WlMeta *meta, struct json_object *const *items, int nitems,
			   char *errbuf, size_t errlen)
{
	const WlPackedSettings *settings = wl_packed_settings(meta);
	WlPackedState *state = calloc(1, sizeof(WlPackedState));

	if (state == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	state->searchable = settings->has_current;
	if (settings->has_current)
		state->one[state->count++].desc = settings->current;
	if (settings->has_building)
		state->one[state->count++].desc = settings->building;
	for (int i = 0; i < state->count; i++)
	{
		char		reason[200];
		bool		current = state->searchable && i == 0;

		state->one[i].model = wl_packed_load_model(meta, &state->one[i].desc, items, nitems,
												   reason, sizeof(reason));
		if (state->one[i].model != NULL)
		{
			/* statistics that do not read only leave filters unpriced */
			state->one[i].stats = wl_packed_load_stats(&state->one[i].desc, items, nitems);
			continue;
		}
		if (strcmp(reason, "out of memory") == 0)
		{
			snprintf(errbuf, errlen, "%s", reason);
			state->count = i;
			wl_packed_close(state);
			return NULL;
		}
		/* damaged: leave the generation out, so that the rest still works */
		if (state->damage[0] == '\0')
			snprintf(state->damage, sizeof(state->damage), "%s", reason);
		if (current)
			state->searchable = false;
		memmove(&state->one[i], &state->one[i + 1], sizeof(WlPackedOne) * (state->count - i - 1));
		state->count--;
		i--;
	}
	return state;
}

/* The statistics of the current generation's attributes; see packed.h. */
const WlAttrStats *
wl_packed_current_stats(const WlMeta *meta, const void *index)
{
	const WlPackedState *state = index;

	/* (an index of another format is no WlPackedState) */
	return meta->format == &wl_format_packed && state != NULL && state->searchable ?
		state->one[0].stats : NULL;
}

/* The calibration of the current generation, with its filtered grids; see packed.h. */
const WlCalibration *
wl_packed_current_calibration(const WlMeta *meta, const void *index)
{
	const WlPackedState *state = index;

	return meta->format == &wl_format_packed && state != NULL && state->searchable ?
		&state->one[0].desc.calibration : NULL;
}

/* What of the index could not be read; see format.h. */
static const char *
wl_packed_damage(const void *index)
{
	const WlPackedState *state = index;

	return state != NULL && state->damage[0] ? state->damage : NULL;
}

/* The model of the generation being built; see packed.h. */
const WlModel *
wl_packed_building_model(const WlMeta *meta, const void *index)
{
	const WlPackedSettings *settings = wl_packed_settings(meta);
	const WlPackedState *state = index;

	if (meta->format != &wl_format_packed || state == NULL || !settings->has_building ||
		state->count < 1 || state->one[state->count - 1].desc.gen != settings->building.gen)
		return NULL;
	return state->one[state->count - 1].model;
}

/* A record's key must fit sort keys of 1,024 bytes: chunk digits aside, the id's. */
static int
wl_packed_max_id_len(const WlMeta *meta)
{
	return WL_SORT_KEY_MAX;
}

/* Keys are spelt by the index generations (wl_packed_key); this is never asked. */
static void
wl_packed_key(const WlMeta *meta, int table, uint64_t code, int nbits, int fine, char *out)
{
	wl_lsh_key_split(table, code, nbits, fine, out);
}

/*
 * The key of a code of table `table` in an index generation: "<gen>/<table>:
 * <hex of the bucket bits>/.<depth fine bits as digits>", or in a blocked
 * generation "<gen>/b:<hex of the block>/<table>:<hex of the cell>.<digits>"
 * (packed_keys.c).  `code` holds bits + depth bits.  The chunk starts with
 * "." (or its table) so that it is never empty (DynamoDB's keys are at
 * least a byte).
 */
static void
wl_packed_spell(const WlPackedIndex *index, int table, uint64_t code, int depth, char *out)
{
	char		bucket[WL_LSH_KEY_MAX];
	char		digits[WL_PACKED_MAX_FINE + 1];
	int			i;
	int			len;

	wl_lsh_key_native(table, code >> depth, index->bits, bucket);
	for (i = 0; i < depth; i++)
		digits[i] = (code >> (depth - 1 - i)) & 1 ? '1' : '0';
	digits[depth] = '\0';
	/* a bucket's key is a few characters, so this is never cut short */
	if (index->blocked)
		len = snprintf(out, WL_LSH_KEY_MAX, "%d/%s%x/%s.%s", index->gen, WL_PACKED_BLOCK_PREFIX,
					   (unsigned int) ((code >> depth) / WL_PACKED_BLOCK_CELLS), bucket, digits);
	else
		len = snprintf(out, WL_LSH_KEY_MAX, "%d/%s/.%s", index->gen, bucket, digits);
	if (len >= WL_LSH_KEY_MAX)
		out[WL_LSH_KEY_MAX - 1] = '\0';
}

/*
 * The depth writers put records at in a generation: its fine bits, and a
 * bit more per doubling of the collection past twice its size when the
 * generation was built.
 */
static int
wl_packed_write_depth(const WlMeta *meta, const WlPackedIndex *index)
{
	int			depth = index->fine;
	double		size = 2.0 * (index->vectors > 0 ? index->vectors : 1);

	while (depth < WL_PACKED_MAX_FINE && (double) meta->vector_count > size)
	{
		size *= 2;
		depth++;
	}
	return depth;
}

/* One key per table for every generation being written. */
static int
wl_packed_key_count(const WlMeta *meta, const void *index)
{
	const WlPackedState *state = index;
	int			count = 0;
	int			i;

	for (i = 0; i < state->count; i++)
		count += state->one[i].desc.tables;
	return count;
}

/*
 * The bucket and chunk bits of a vector in a table: its cell (cell < 0
 * without cells), or the leading bits of the table's planes, then `depth`
 * chunk bits from the planes.
 */
static uint64_t
wl_packed_bucket_code(const WlPackedOne *one, int table, int cell,
					  const double *projections, int depth)
{
	const double *planes = projections + (size_t) table * wl_model_shape(one->model)->bits;

	if (cell < 0)
		return wl_lsh_bits(planes, one->desc.bits + depth);
	return ((uint64_t) cell << depth) | wl_lsh_bits(planes, depth);
}

/*
 * The keys and codes of a vector in one generation, at the given depth
 * (-1: the depth writers use now); codes are `stride` bytes apart.
 */
static int
wl_packed_one_entries(const WlMeta *meta, const WlPackedOne *one, const float *vector,
					  int depth, char *keys, unsigned char *codes, int stride)
{
	const WlModelShape *shape = wl_model_shape(one->model);
	float	   *y = malloc(sizeof(float) * shape->rotation);
	double	   *projections = malloc(sizeof(double) * shape->ntables * shape->bits);
	int			t;

	if (y == NULL || projections == NULL || wl_model_transform(one->model, vector, y) != 0)
	{
		free(y);
		free(projections);
		return -1;
	}
	if (depth < 0)
		depth = wl_packed_write_depth(meta, &one->desc);
	wl_model_project(one->model, y, projections);
	for (t = 0; t < one->desc.tables; t++)
	{
		int			cell = one->desc.cells > 0 ? wl_model_cell(one->model, t, y) : -1;

		wl_packed_spell(&one->desc, t, wl_packed_bucket_code(one, t, cell, projections, depth),
						depth, keys + (size_t) t * WL_LSH_KEY_MAX);
		if (codes != NULL)
			wl_model_encode(one->model, t, cell, y, codes + (size_t) t * stride);
	}
	free(y);
	free(projections);
	return 0;
}

/* A vector's keys and codes in every generation being written. */
static int
wl_packed_vector_entries(const WlMeta *meta, const void *index, const float *vector,
						 char *keys, unsigned char *codes)
{
	const WlPackedState *state = index;
	int			stride = wl_packed_code_bytes(meta);
	int			done = 0;
	int			i;

	for (i = 0; i < state->count; i++)
	{
		if (wl_packed_one_entries(meta, &state->one[i], vector, -1,
								  keys + (size_t) done * WL_LSH_KEY_MAX,
								  codes ? codes + (size_t) done * stride : NULL, stride) != 0)
			return -1;
		done += state->one[i].desc.tables;
	}
	return 0;
}

/*
 * Notes in a vector item the depth of its records where it is not the
 * generation's own: "<gen>.<depth>" for each, space-separated.
 */
static void
wl_packed_decorate(const WlMeta *meta, const void *index, const char *keys, int nkeys,
				   struct json_object *item)
{
	const WlPackedState *state = index;
	char		where[64] = "";
	int			first = 0;
	int			i;

	for (i = 0; i < state->count; i++)
	{
		int			depth = wl_packed_key_depth(keys + (size_t) first * WL_LSH_KEY_MAX);
		size_t		used = strlen(where);

		if (depth != state->one[i].desc.fine)
			snprintf(where + used, sizeof(where) - used, "%s%d.%d", used ? " " : "",
					 state->one[i].desc.gen, depth);
		first += state->one[i].desc.tables;
	}
	if (where[0] != '\0')
		json_object_object_add(item, WL_ATTR_WHERE, wl_av_string(where));
}

/* The depth a vector item notes for a generation, or the generation's own. */
static int
wl_packed_noted_depth(struct json_object *item, const WlPackedIndex *index)
{
	const char *where = wl_av_get_string(wl_item_get(item, WL_ATTR_WHERE));

	while (where != NULL && *where != '\0')
	{
		int			gen;
		int			depth;
		int			used;

		if (sscanf(where, "%d.%d%n", &gen, &depth, &used) != 2)
			break;
		if (gen == index->gen && depth >= 0 && depth <= WL_PACKED_MAX_FINE)
			return depth;
		where += used;
		while (*where == ' ')
			where++;
	}
	return index->fine;
}

/*
 * The keys a stored vector's records are under: recomputed from its vector,
 * at the depths its item notes, in the partitions its attributes name.
 */
static int
wl_packed_stored_keys(const WlMeta *meta, const void *index, struct json_object *item,
					  char *keys)
{
	const WlPackedState *state = index;
	float	   *vector = malloc(sizeof(float) * (size_t) meta->dims);
	int			count = 0;
	int			i;

	if (vector == NULL)
		return -1;
	if (wl_store_item_vector(item, meta->dims, vector) == 0)
		for (i = 0; i < state->count; i++)
		{
			if (wl_packed_one_entries(meta, &state->one[i], vector,
									  wl_packed_noted_depth(item, &state->one[i].desc),
									  keys + (size_t) count * WL_LSH_KEY_MAX, NULL, 0) != 0)
				continue;
			for (int t = 0; t < state->one[i].desc.tables; t++)
				wl_packed_key_place(meta, keys + (size_t) (count++) * WL_LSH_KEY_MAX, item);
		}
	free(vector);
	return count;
}

/*
 * Probes of a generation with cells: the nprobes cells of each table
 * nearest the query (those of them within spread of the nearest, when
 * spread > 0), each read whole (every chunk).
 */
static int
wl_packed_probe_cells(const WlPackedOne *one, const float *query, int nprobes, double spread,
					  char *keys)
{
	float	   *y = malloc(sizeof(float) * wl_model_shape(one->model)->rotation);
	int		   *cells = malloc(sizeof(int) * (size_t) (nprobes > 0 ? nprobes : 1));
	float	   *distances = malloc(sizeof(float) * (size_t) (nprobes > 0 ? nprobes : 1));
	bool		spreads = spread > 0 && wl_model_spreads(one->model);
	int			count = 0;
	int			t;

	if (y == NULL || cells == NULL || distances == NULL ||
		wl_model_query(one->model, query, y) != 0)
		count = -1;
	for (t = 0; count >= 0 && t < one->desc.tables; t++)
	{
		int			n = wl_model_probe_cells(one->model, t, y, nprobes, cells, distances);
		int			i;

		if (n < 0)
			count = -1;
		else if (n > 0 && spreads)
			n = wl_cells_within(distances, n, spread);
		for (i = 0; i < n; i++)
			wl_packed_spell(&one->desc, t, (uint64_t) cells[i], 0,
							keys + (size_t) (count++) * WL_LSH_KEY_MAX);
	}
	free(y);
	free(cells);
	free(distances);
	return count;
}

/*
 * Probes of the current generation: its nearest cells, or multi-probes of
 * its planes at a depth up to its fine bits.
 */
static int
wl_packed_probe_keys(const WlMeta *meta, const void *index, const float *query,
					 int nprobes, int depth, double spread, char *keys)
{
	const WlPackedState *state = index;
	const WlPackedOne *one = &state->one[0];
	const WlModelShape *shape;
	float	   *y;
	double	   *projections;
	uint64_t   *codes;
	int			count = 0;
	int			t;

	if (!state->searchable)
		return 0;
	if (one->desc.cells > 0)
		return wl_packed_probe_cells(one, query, nprobes, spread, keys);
	shape = wl_model_shape(one->model);
	if (depth > one->desc.fine)
		depth = one->desc.fine;
	y = malloc(sizeof(float) * shape->rotation);
	projections = malloc(sizeof(double) * shape->ntables * shape->bits);
	codes = malloc(sizeof(uint64_t) * nprobes);
	if (y == NULL || projections == NULL || codes == NULL ||
		wl_model_transform(one->model, query, y) != 0)
		count = -1;
	if (count == 0)
		wl_model_project(one->model, y, projections);
	for (t = 0; count >= 0 && t < one->desc.tables; t++)
	{
		int			n = wl_lsh_probes(projections + (size_t) t * shape->bits,
									  one->desc.bits + depth, nprobes, codes);
		int			i;

		if (n < 0)
			count = -1;
		for (i = 0; i < n; i++)
			wl_packed_spell(&one->desc, t, codes[i], depth,
							keys + (size_t) (count++) * WL_LSH_KEY_MAX);
	}
	free(y);
	free(projections);
	free(codes);
	return count;
}

/*
 * Bytes a code takes in a writer's buffers: the longer of the current and
 * the building generation's codes (a re-index may change their length).
 */
static int
wl_packed_code_bytes(const WlMeta *meta)
{
	const WlPackedSettings *settings = wl_packed_settings(meta);
	int			current = settings->has_current ? wl_packed_index_code_bytes(&settings->current) : 0;
	int			building = settings->has_building ?
		wl_packed_index_code_bytes(&settings->building) : 0;

	return current > building ? current : building;
}

/*
 * A query's lookup state under the current generation's model: the cell
 * its tables are for (WL_LOOKUP_ANY_CELL without cells, WL_LOOKUP_NO_CELL
 * before the first), the rotated query, then the tables.
 */
#define WL_LOOKUP_ANY_CELL -1.0f
#define WL_LOOKUP_NO_CELL -2.0f

/* Floats of a lookup state of the current generation. */
static int
wl_packed_lookup_size(const WlMeta *meta)
{
	const WlPackedSettings *settings = wl_packed_settings(meta);

	return settings->has_current ?
		1 + settings->current.rotation + settings->current.subspaces * WL_MODEL_CENTROIDS : 0;
}

/* A query's lookup state: tables now without cells, per cell later. */
static bool
wl_packed_lookup(const WlMeta *meta, const void *index, const float *query, float *state)
{
	const WlPackedState *packed = index;
	const WlModel *model = packed->one[0].model;
	const WlModelShape *shape;
	float	   *y = state + 1;

	if (!packed->searchable)
		return false;
	shape = wl_model_shape(model);
	if (wl_model_query(model, query, y) != 0)
		return false;
	state[0] = WL_LOOKUP_NO_CELL;
	if (shape->cells == 0)
	{
		wl_model_lookup(model, 0, -1, y, y + shape->rotation);
		state[0] = WL_LOOKUP_ANY_CELL;
	}
	return true;
}

/*
 * A code's distance under a lookup state.  With cells, codes are of what
 * is left after the cell's centroid, so the tables are the key's cell's:
 * rebuilt when the key names another table or cell than the last (state[0]
 * caches table x cells + cell).
 */
static float
wl_packed_code_distance(const WlMeta *meta, const void *index, float *state,
						const char *key, const unsigned char *code)
{
	const WlPackedState *packed = index;
	const WlModel *model = packed->one[0].model;
	const WlModelShape *shape = wl_model_shape(model);
	float	   *lut = state + 1 + shape->rotation;
	int			table;
	unsigned int cell;

	if (state[0] != WL_LOOKUP_ANY_CELL)
	{
		if (!wl_packed_key_cell(key, &table, &cell) || table < 0 ||
			table >= shape->ntables || cell >= (unsigned int) shape->cells)
			return INFINITY;	/* not a cell of this model: ranked last */
		if (state[0] != (float) (table * shape->cells + (int) cell))
		{
			wl_model_lookup(model, table, (int) cell, state + 1, lut);
			state[0] = (float) (table * shape->cells + (int) cell);
		}
	}
	return wl_model_distance(model, lut, code);
}

/* Is there a current generation to probe? */
static bool
wl_packed_searchable(const WlMeta *meta, const void *index)
{
	return ((const WlPackedState *) index)->searchable;
}

/*
 * A Query per probed key: the bucket's partition, and with fine bits the
 * chunks that begin with them, or a run of a partition's cells
 * (packed_keys.c).  Every attribute is read: the records.
 */
static int
wl_packed_read_calls(const WlMeta *meta, const char *const *keys, int nkeys, bool consistent,
					 WlDdbCall *calls)
{
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		struct json_object *names = json_object_new_object();
		struct json_object *values = json_object_new_object();
		char		partition[WL_LSH_KEY_MAX];
		char		chunk[WL_LSH_KEY_MAX];
		char	   *tilde;
		bool		whole;

		if (!wl_packed_split_key(keys[i], partition, chunk))
			partition[0] = chunk[0] = '\0';
		/* a probe of no fine bits reads the whole bucket: every chunk */
		whole = strcmp(chunk, ".") == 0;
		tilde = strchr(chunk, '~');
		json_object_object_add(names, "#b", json_object_new_string(WL_ATTR_BUCKET));
		json_object_object_add(values, ":b", wl_av_string(partition));
		if (tilde != NULL)
		{
			/* a run of a partition's cells: "<table>:<first>." to "<table>:<last>.~" */
			char		last[WL_LSH_KEY_MAX];
			const char *colon = strchr(chunk, ':');

			snprintf(last, sizeof(last), "%.*s%s.~", colon != NULL ? (int) (colon + 1 - chunk) : 0,
					 chunk, tilde + 1);
			memcpy(tilde, ".", 2);
			json_object_object_add(names, "#i", json_object_new_string(WL_ATTR_ID));
			json_object_object_add(values, ":f", wl_av_string(chunk));
			json_object_object_add(values, ":l", wl_av_string(last));
		}
		else if (!whole)
		{
			json_object_object_add(names, "#i", json_object_new_string(WL_ATTR_ID));
			json_object_object_add(values, ":p", wl_av_string(chunk));
		}
		wl_op_query(&calls[i], meta->buckets_table,
					tilde != NULL ? "#b = :b AND #i BETWEEN :f AND :l" :
					whole ? "#b = :b" : "#b = :b AND begins_with(#i, :p)", NULL,
					names, values, consistent);
	}
	return nkeys;
}

/* The code bytes of the generation gen of a collection, or 0 for none of its. */
static int
wl_packed_gen_code_bytes(const WlMeta *meta, int gen)
{
	const WlPackedIndex *index = wl_packed_gen_index(meta, gen);

	return index != NULL ? wl_packed_index_code_bytes(index) : 0;
}

/* Orders attribute names. */
static int
wl_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The newest generation the metadata names, current or building; 0: none. */
static int
wl_packed_newest_gen(const WlMeta *meta)
{
	const WlPackedSettings *settings = wl_packed_settings(meta);

	return settings->has_building ? settings->building.gen :
		settings->has_current ? settings->current.gen : 0;
}

/* Is a model item's sort key one of the build that generation gen names? */
static bool
wl_packed_model_of(const WlMeta *meta, int gen, const char *sort)
{
	const WlPackedSettings *settings = wl_packed_settings(meta);
	const WlPackedIndex *index = settings->has_current && settings->current.gen == gen ?
		&settings->current : &settings->building;

	return strncmp(sort, index->token, WL_PACKED_TOKEN_LEN) == 0 &&
		sort[WL_PACKED_TOKEN_LEN] == '.';
}

/*
 * The records of a chunk item, each an entry with its code.  An item of no
 * current or building generation (an old generation's, a model item of
 * one, or an entry of the native format a collection was upgraded from)
 * is one stray entry; the generations' own model items are none.
 */
static void
wl_packed_entries(const WlMeta *meta, struct json_object *item, WlEntryVisitor visit, void *arg)
{
	const char *partition = wl_av_get_string(wl_item_get(item, WL_ATTR_BUCKET));
	const char *chunk = wl_store_item_id(item);
	int			gen = partition ? wl_packed_partition_gen(partition) : 0;
	const WlPackedIndex *desc = wl_packed_gen_index(meta, gen);
	int			code_bytes = wl_packed_gen_code_bytes(meta, gen);
	int			record_bytes = desc != NULL ? wl_packed_index_record_bytes(desc) : 0;
	char		key[WL_LSH_KEY_MAX];
	struct json_object_iterator it;
	struct json_object_iterator end;
	const char **names;
	int			nnames = 0;
	int			i;

	if (partition == NULL || chunk == NULL || !json_object_is_type(item, json_type_object))
		return;
	/* a generation newer than any the metadata names: a build not begun yet */
	if (code_bytes == 0 && gen > wl_packed_newest_gen(meta))
		return;
	if (code_bytes == 0 || (strstr(partition, "/model") != NULL &&
							!wl_packed_model_of(meta, gen, chunk)))
	{
		WlEntry		stray = {partition, chunk, NULL, false, true, false, NULL};

		visit(&stray, arg);
		return;
	}
	if (strstr(partition, "/model") != NULL)
		return;
	snprintf(key, sizeof(key), "%s/%s", partition, chunk);
	end = json_object_iter_end(item);
	names = malloc(sizeof(const char *) * (json_object_object_length(item) + 1));
	if (names == NULL)
		return;
	for (it = json_object_iter_begin(item); !json_object_iter_equal(&it, &end);
		 json_object_iter_next(&it))
		if (wl_record_is_name(json_object_iter_peek_name(&it)))
			names[nnames++] = json_object_iter_peek_name(&it);
	/* in name order: the order an item's attributes come back in is the server's */
	qsort(names, nnames, sizeof(const char *), wl_name_cmp);
	for (i = 0; i < nnames; i++)
	{
		unsigned char *code = NULL;
		size_t		len = 0;
		char		uuid[WL_UUID_TEXT_LEN + 1];
		const char *id = wl_record_id(names[i], uuid);
		WlEntry		entry = {key, id != NULL ? id : names[i], NULL, false, false, id == NULL, NULL};

		/*
		 * A record of the code alone, in a generation whose records carry
		 * attributes, is one an older release wrote: it says nothing of
		 * them (slots NULL), and a check reports it.
		 */
		if (wl_av_get_binary(wl_item_get(item, names[i]), &code, &len) != 0 ||
			(len != (size_t) record_bytes && len != (size_t) code_bytes) || id == NULL)
			entry.malformed = true;
		entry.code = entry.malformed ? NULL : code;
		entry.slots = entry.malformed || len == (size_t) code_bytes ? NULL : code + code_bytes;
		visit(&entry, arg);
		free(code);
	}
	free(names);
}

/* Orders changes by their key, so that a chunk's changes are adjacent. */
static int
wl_change_cmp(const void *a, const void *b)
{
	const WlEntryChange *x = *(const WlEntryChange *const *) a;
	const WlEntryChange *y = *(const WlEntryChange *const *) b;

	return strcmp(x->entry.key, y->entry.key);
}

/*
 * One UpdateItem for up to WL_PACKED_CHANGES_PER_CALL changes of one chunk
 * item: SET of the records added, REMOVE of those removed.
 */
static void
wl_packed_update_call(const WlMeta *meta, WlEntryChange *const *changes, int n,
					  WlDdbCall *call)
{
	char		partition[WL_LSH_KEY_MAX];
	char		chunk[WL_LSH_KEY_MAX];
	struct json_object *key = json_object_new_object();
	struct json_object *names = json_object_new_object();
	struct json_object *values = json_object_new_object();
	size_t		room = (size_t) n * 24 + 16;
	char	   *sets = calloc(1, room);
	char	   *removes = calloc(1, room);
	char	   *update = calloc(1, 2 * room + 16);
	const WlPackedIndex *index =
		wl_packed_gen_index(meta, wl_packed_partition_gen(changes[0]->entry.key));
	int			code_bytes = index != NULL ? wl_packed_index_code_bytes(index) : 0;
	int			record_bytes = index != NULL ? wl_packed_index_record_bytes(index) : 0;
	unsigned char *record = malloc(record_bytes + 1);
	int			i;

	if (!wl_packed_split_key(changes[0]->entry.key, partition, chunk))
		partition[0] = chunk[0] = '\0';
	json_object_object_add(key, WL_ATTR_BUCKET, wl_av_string(partition));
	json_object_object_add(key, WL_ATTR_ID, wl_av_string(chunk));
	for (i = 0; sets && removes && update && record && i < n; i++)
	{
		const WlEntry *entry = &changes[i]->entry;
		char		name[16];
		char		value[16];
		size_t		len = strlen(entry->id) + 2;
		char	   *attribute = malloc(len);
		char	   *list = changes[i]->add ? sets : removes;

		if (attribute == NULL)
			break;
		if (changes[i]->add && entry->code == NULL)
		{
			/* nothing to write: the vector has no code under this key */
			free(attribute);
			continue;
		}
		if (entry->bad_name)
			memcpy(attribute, entry->id, len - 1);
		else
			wl_record_name(entry->id, index != NULL && index->uuid_names, attribute);
		snprintf(name, sizeof(name), "#r%d", i);
		json_object_object_add(names, name, json_object_new_string(attribute));
		free(attribute);
		if (changes[i]->add)
		{
			snprintf(value, sizeof(value), ":c%d", i);
			memcpy(record, entry->code, code_bytes);
			if (entry->slots != NULL)
				memcpy(record + code_bytes, entry->slots, record_bytes - code_bytes);
			else
				wl_record_attrs_encode(NULL, (record_bytes - code_bytes) / WL_SLOT_BYTES, NULL,
									   record + code_bytes);
			json_object_object_add(values, value, wl_av_binary(record, (size_t) record_bytes));
			snprintf(list + strlen(list), room - strlen(list), "%s%s = %s",
					 list[0] ? ", " : "", name, value);
		}
		else
			snprintf(list + strlen(list), room - strlen(list), "%s%s",
					 list[0] ? ", " : "", name);
	}
	if (update != NULL && sets != NULL && removes != NULL)
		snprintf(update, 2 * room + 16, "%s%s%s%s%s", sets[0] ? "SET " : "", sets,
				 sets[0] && removes[0] ? " " : "", removes[0] ? "REMOVE " : "", removes);
	if (json_object_object_length(values) == 0)
	{
		json_object_put(values);
		values = NULL;
	}
	wl_op_update_item(call, meta->buckets_table, key, update ? update : "", NULL, names,
					  values);
	free(sets);
	free(removes);
	free(update);
	free(record);
}

/*
 * The calls of n changes: per chunk item, UpdateItems of up to
 * WL_PACKED_CHANGES_PER_CALL records; a stray item is deleted whole.
 */
static int
wl_packed_change_calls(const WlMeta *meta, const WlEntryChange *changes, int n,
					   WlDdbCall *calls)
{
	const WlEntryChange **sorted = malloc(sizeof(WlEntryChange *) * (n > 0 ? n : 1));
	int			ncalls = 0;
	int			nstray = 0;
	int			i;
	int			j;

	if (sorted == NULL)
		return 0;
	for (i = 0; i < n; i++)
		sorted[i] = &changes[i];
	qsort(sorted, n, sizeof(WlEntryChange *), wl_change_cmp);
	for (i = 0; i < n; i = j)
	{
		if (sorted[i]->entry.stray)
		{
			/* stray items are deleted whole, by BatchWriteItems at the end */
			sorted[nstray++] = sorted[i];
			j = i + 1;
			continue;
		}
		for (j = i + 1; j < n && j - i < WL_PACKED_CHANGES_PER_CALL && !sorted[j]->entry.stray &&
			 strcmp(sorted[j]->entry.key, sorted[i]->entry.key) == 0; j++)
			;
		wl_packed_update_call(meta, (WlEntryChange *const *) sorted + i, j - i, &calls[ncalls++]);
	}
	for (i = 0; i < nstray; i++)
	{
		struct json_object *key = json_object_new_object();

		json_object_object_add(key, WL_ATTR_BUCKET, wl_av_string(sorted[i]->entry.key));
		json_object_object_add(key, WL_ATTR_ID, wl_av_string(sorted[i]->entry.id));
		ncalls = wl_op_batch_write_append(calls, ncalls, meta->buckets_table,
										  wl_op_delete_request(key));
	}
	free(sorted);
	return ncalls;
}

const WlFormat wl_format_packed = {
	.number = WL_FORMAT_PACKED,
	.name = "packed",
	.counts_vectors = true,
	.lists_keys = false,
	.home_buckets_only = false,
	.default_tables = WL_PACKED_TABLES,
	.trained = true,
	.bucket_hash_key = WL_ATTR_BUCKET,
	.bucket_range_key = WL_ATTR_ID,
	/* whole items: a partitioned generation's keys are of their attributes */
	.keys_projection = NULL,
	.read_meta = wl_packed_read_meta,
	.write_meta = wl_packed_write_meta,
	.free_meta = wl_packed_free_meta,
	.model_calls = wl_packed_model_calls,
	.model_key = wl_packed_model_key,
	.open = wl_packed_open,
	.close = wl_packed_close,
	.refresh = wl_packed_refresh,
	.key_count = wl_packed_key_count,
	.vector_entries = wl_packed_vector_entries,
	.decorate = wl_packed_decorate,
	.searchable = wl_packed_searchable,
	.damage = wl_packed_damage,
	.probe_keys = wl_packed_probe_keys,
	.code_bytes = wl_packed_code_bytes,
	.lookup_size = wl_packed_lookup_size,
	.lookup = wl_packed_lookup,
	.code_distance = wl_packed_code_distance,
	.max_id_len = wl_packed_max_id_len,
	.key = wl_packed_key,
	.stored_keys = wl_packed_stored_keys,
	.read_calls = wl_packed_read_calls,
	.entries = wl_packed_entries,
	.change_calls = wl_packed_change_calls,
};

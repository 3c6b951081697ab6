/*
 * packed_models.c - where a packed index generation's model is stored: in
 * the buckets table under partition "<gen>/model", in parts of at most
 * WL_PACKED_MODEL_PART bytes whose sort keys "<token>.<part>" carry the
 * build's token, so that two builds of one generation never mix their
 * parts.  Writes them, reads them and puts them back together.
 */
#include "packed_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ddbjson.h"
#include "operations.h"
#include "store.h"

#define WL_ATTR_MODEL "model"	/* model items: a part of the model (B) */

/* The most bytes of a model item's part: items stay below 400 KB. */
#define WL_PACKED_MODEL_PART (300 * 1024)

/* The model shape of one index generation of a collection. */
void
wl_packed_shape(const WlMeta *meta, const WlPackedIndex *index, WlModelShape *shape)
{
	memset(shape, 0, sizeof(WlModelShape));
	shape->dims = meta->dims;
	shape->metric = meta->metric;
	shape->rotation = index->rotation;
	shape->subspaces = index->subspaces;
	shape->plane_dims = index->plane_dims;
	shape->ntables = index->tables;
	shape->bits = index->bits + WL_PACKED_MAX_FINE;
	shape->cells = index->cells;
	shape->groups = index->groups;
	shape->seed = meta->seed + (uint64_t) index->gen;
}

/* The partition of a generation's model items into out. */
static void
wl_packed_model_partition(int gen, char *out, size_t len)
{
	snprintf(out, len, "%d/model", gen);
}

/* A Query of one generation's model items, strongly consistent. */
static void
wl_packed_model_call(const WlMeta *meta, int gen, WlDdbCall *call)
{
	char		partition[32];
	struct json_object *names = json_object_new_object();
	struct json_object *values = json_object_new_object();

	wl_packed_model_partition(gen, partition, sizeof(partition));
	json_object_object_add(names, "#b", json_object_new_string(WL_ATTR_BUCKET));
	json_object_object_add(values, ":b", wl_av_string(partition));
	wl_op_query(call, meta->buckets_table, "#b = :b", NULL, names, values, true);
}

/* The models of the current and the building generation. */
int
wl_packed_model_calls(const WlMeta *meta, WlDdbCall *calls)
{
	const WlPackedSettings *settings = wl_packed_settings(meta);
	int			ncalls = 0;

	if (settings->has_current)
		wl_packed_model_call(meta, settings->current.gen, &calls[ncalls++]);
	if (settings->has_building)
		wl_packed_model_call(meta, settings->building.gen, &calls[ncalls++]);
	return ncalls;
}

/*
 * Names the models wl_packed_model_calls reads: the buckets table and each
 * generation's number, token and size.  A generation's model items never
 * change once its build has begun, and a new build has a new token.
 */
bool
wl_packed_model_key(const WlMeta *meta, char *buf, size_t len)
{
	const WlPackedSettings *settings = wl_packed_settings(meta);
	const WlPackedIndex *current = settings->has_current ? &settings->current : NULL;
	const WlPackedIndex *building = settings->has_building ? &settings->building : NULL;
	int			n;

	if (current == NULL && building == NULL)
		return false;
	n = snprintf(buf, len, "%s current %d.%s.%zu.%d building %d.%s.%zu", meta->buckets_table,
				 current ? current->gen : 0, current ? current->token : "-",
				 current ? current->bytes : 0, current ? current->stats_bytes : 0,
				 building ? building->gen : 0, building ? building->token : "-",
				 building ? building->bytes : 0);
	return n > 0 && (size_t) n < len;
}

/*
 * One generation's model from the items read: its parts ("0", "1", ...)
 * in order, then deserialised against the collection's shape.
 */
WlModel *
wl_packed_load_model(const WlMeta *meta, const WlPackedIndex *index,
					 struct json_object *const *items, int nitems, char *errbuf, size_t errlen)
{
	char		partition[32];
	unsigned char *bytes;
	size_t		filled = 0;
	WlModelShape shape;
	WlModel    *model = NULL;
	int			part;
	int			i;

	/* the shape fixes the model's size: check it before allocating */
	wl_packed_shape(meta, index, &shape);
	if (index->bytes != wl_model_size(&shape))
	{
		snprintf(errbuf, errlen, "the model of index %d has %zu bytes, not the %zu of its shape",
				 index->gen, index->bytes, wl_model_size(&shape));
		return NULL;
	}
	bytes = malloc(index->bytes);
	if (bytes == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	wl_packed_model_partition(index->gen, partition, sizeof(partition));
	for (part = 0; part < index->parts; part++)
	{
		char		sort[32];
		bool		found = false;

		snprintf(sort, sizeof(sort), "%s.%d", index->token, part);
		for (i = 0; i < nitems && !found; i++)
		{
			const char *bucket = wl_av_get_string(wl_item_get(items[i], WL_ATTR_BUCKET));
			const char *id = wl_store_item_id(items[i]);
			unsigned char *chunk = NULL;
			size_t		len = 0;

			if (bucket == NULL || id == NULL || strcmp(bucket, partition) != 0 ||
				strcmp(id, sort) != 0)
				continue;
			found = wl_av_get_binary(wl_item_get(items[i], WL_ATTR_MODEL), &chunk, &len) == 0 &&
				len <= index->bytes - filled;
			if (found)
				memcpy(bytes + filled, chunk, len);
			filled += found ? len : 0;
			free(chunk);
		}
		if (!found)
		{
			snprintf(errbuf, errlen, "part %d of the model of index %d is missing or too long",
					 part, index->gen);
			free(bytes);
			return NULL;
		}
	}
	if (filled == index->bytes)
		model = wl_model_deserialize(&shape, bytes, filled, errbuf, errlen);
	else
		snprintf(errbuf, errlen, "the model of index %d has %zu bytes, not %zu",
				 index->gen, filled, index->bytes);
	free(bytes);
	return model;
}

/*
 * The calls that store a generation's model: its bytes in parts of at most
 * WL_PACKED_MODEL_PART, one PutItem each (room for as many calls as
 * parts).  Returns how many parts.
 */
int
wl_packed_model_write_calls(const WlMeta *meta, const WlPackedIndex *index,
							const unsigned char *bytes, size_t len, WlDdbCall *calls)
{
	char		partition[32];
	int			parts = 0;
	size_t		at;

	wl_packed_model_partition(index->gen, partition, sizeof(partition));
	for (at = 0; at < len || parts == 0; at += WL_PACKED_MODEL_PART)
	{
		struct json_object *item = json_object_new_object();
		char		sort[32];
		size_t		part = len - at < WL_PACKED_MODEL_PART ? len - at : WL_PACKED_MODEL_PART;

		snprintf(sort, sizeof(sort), "%s.%d", index->token, parts);
		json_object_object_add(item, WL_ATTR_BUCKET, wl_av_string(partition));
		json_object_object_add(item, WL_ATTR_ID, wl_av_string(sort));
		json_object_object_add(item, WL_ATTR_MODEL, wl_av_binary(bytes + at, part));
		wl_op_put_item(&calls[parts++], meta->buckets_table, item, NULL);
		if (len == 0)
			break;
	}
	return parts;
}

/* The statistics item's sort key of a build: "<token>.stats". */
static void
wl_packed_stats_sort(const WlPackedIndex *index, char *out, size_t len)
{
	snprintf(out, len, "%s.stats", index->token);
}

/* Stores a generation's statistics beside its model (packed.h). */
bool
wl_packed_stats_write_call(const WlMeta *meta, WlPackedIndex *index, const WlAttrStats *stats,
						   WlDdbCall *call)
{
	char		partition[32];
	char		sort[48];
	size_t		len;
	unsigned char *bytes = wl_stats_encode(stats, &len);
	struct json_object *item;

	if (bytes == NULL)
		return false;
	wl_packed_model_partition(index->gen, partition, sizeof(partition));
	wl_packed_stats_sort(index, sort, sizeof(sort));
	item = json_object_new_object();
	json_object_object_add(item, WL_ATTR_BUCKET, wl_av_string(partition));
	json_object_object_add(item, WL_ATTR_ID, wl_av_string(sort));
	json_object_object_add(item, WL_ATTR_MODEL, wl_av_binary(bytes, len));
	if (index->calibration.nlevels > 0)
	{
		char		text[WL_PACKED_LEVELS_TEXT];

		wl_calib_format_levels(&index->calibration, text, sizeof(text));
		json_object_object_add(item, WL_ATTR_FILTERED, wl_av_string(text));
	}
	wl_op_put_item(call, meta->buckets_table, item, NULL);
	index->stats_bytes = (int) len;
	free(bytes);
	return true;
}

/*
 * A generation's statistics from the model items read, with the filtered
 * grids of its calibration (packed_layout.h).
 */
WlAttrStats *
wl_packed_load_stats(WlPackedIndex *index, struct json_object *const *items, int nitems)
{
	char		partition[32];
	char		sort[48];
	const char *names[WL_RECORD_ATTRS_MAX];
	WlAttrStats *stats = NULL;
	int			i;

	if (index->stats_bytes == 0)
		return NULL;
	wl_packed_model_partition(index->gen, partition, sizeof(partition));
	wl_packed_stats_sort(index, sort, sizeof(sort));
	wl_packed_attr_names(index, names);
	for (i = 0; i < nitems && stats == NULL; i++)
	{
		const char *bucket = wl_av_get_string(wl_item_get(items[i], WL_ATTR_BUCKET));
		const char *id = wl_store_item_id(items[i]);
		unsigned char *bytes = NULL;
		size_t		len = 0;
		const char *filtered;
		char		reason[128];

		if (bucket == NULL || id == NULL || strcmp(bucket, partition) != 0 ||
			strcmp(id, sort) != 0 ||
			wl_av_get_binary(wl_item_get(items[i], WL_ATTR_MODEL), &bytes, &len) != 0)
			continue;
		if (len == (size_t) index->stats_bytes)
			stats = wl_stats_decode(bytes, len, names, index->nattrs, reason, sizeof(reason));
		free(bytes);
		/* grids that do not read leave filters planned by their share */
		filtered = wl_av_get_string(wl_item_get(items[i], WL_ATTR_FILTERED));
		if (stats != NULL && filtered != NULL)
			wl_calib_parse_levels(filtered, &index->calibration, reason, sizeof(reason));
	}
	return stats;
}

/* How many parts a model of len bytes is stored in. */
int
wl_packed_model_parts(size_t len)
{
	return len == 0 ? 1 : (int) ((len + WL_PACKED_MODEL_PART - 1) / WL_PACKED_MODEL_PART);
}

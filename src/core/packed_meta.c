/*
 * packed_meta.c - the packed format's part of a collection's metadata
 * item: the descriptions of its current index and of the one being built
 * (read, checked and written), and the conditional UpdateItems by which a
 * build begins, shows it is at work, and becomes the current index.
 */
#include "packed_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "calibrate.h"
#include "cells.h"
#include "ddbjson.h"
#include "operations.h"
#include "store.h"

/*
 * Reads how an index description names and keys its records: "names"
 * ("uuid", or absent before compact names; "uuid/partition" or
 * "id/partition" where they are keyed by partition, which a server built
 * before partitions refuses; "uuid/blocks" or "id/blocks" where they are
 * keyed by blocks of cells, which a server built before blocks refuses)
 * and "name_bytes".  A form this version does not know is refused, never
 * read as another.
 */
static bool
wl_packed_read_names(struct json_object *map, WlPackedIndex *index, char *errbuf,
					 size_t errlen)
{
	const char *names = wl_av_get_string(wl_item_get(map, "names"));

	index->uuid_names = false;
	index->partitioned = false;
	index->blocked = false;
	index->name_bytes = 0;
	if (wl_item_get(map, "names") != NULL)
	{
		if (names != NULL && strcmp(names, "uuid") == 0)
			index->uuid_names = true;
		else if (names != NULL && strcmp(names, "uuid/partition") == 0)
			index->uuid_names = index->partitioned = true;
		else if (names != NULL && strcmp(names, "id/partition") == 0)
			index->partitioned = true;
		else if (names != NULL && strcmp(names, "uuid/blocks") == 0)
			index->uuid_names = index->blocked = true;
		else if (names != NULL && strcmp(names, "id/blocks") == 0)
			index->blocked = true;
		else
		{
			snprintf(errbuf, errlen, "an index description names its records in a form "
					 "this version of whiplash does not know");
			return false;
		}
	}
	return wl_item_get(map, "name_bytes") == NULL ||
		wl_meta_int(map, "name_bytes", 1, 2048, &index->name_bytes, errbuf, errlen);
}

/*
 * Reads the attributes an index description's records carry ("attrs", a
 * list of names in slot order; absent before records carried any).
 */
static bool
wl_packed_read_attrs(struct json_object *map, WlPackedIndex *index, char *errbuf,
					 size_t errlen)
{
	struct json_object *attrs = wl_item_get(map, "attrs");
	int			n = attrs != NULL ? wl_av_list_count(attrs) : 0;
	int			i;
	int			j;

	index->nattrs = 0;
	if (attrs == NULL)
		return true;
	if (n < 0 || n > WL_RECORD_ATTRS_MAX)
	{
		snprintf(errbuf, errlen, "an index description's \"attrs\" is not a list of at most %d names",
				 WL_RECORD_ATTRS_MAX);
		return false;
	}
	for (i = 0; i < n; i++)
	{
		const char *name = wl_av_get_string(wl_av_list_item(attrs, i));

		if (name == NULL || wl_av_type(wl_av_list_item(attrs, i)) != WL_AV_S ||
			name[0] == '\0' || strlen(name) > WL_RECORD_ATTR_NAME_MAX)
		{
			snprintf(errbuf, errlen, "an index description's \"attrs\" holds something other than an attribute name");
			return false;
		}
		for (j = 0; j < i; j++)
			if (strcmp(index->attrs[j], name) == 0)
			{
				snprintf(errbuf, errlen, "an index description's \"attrs\" names \"%s\" twice", name);
				return false;
			}
		strcpy(index->attrs[i], name);
		index->nattrs++;
	}
	return true;
}

/*
 * Reads an index description's spread grid ("spreads", optional: absent
 * before spreads, and in indexes without cells or ranked by inner product,
 * which a spread cannot choose cells of) into its calibration.
 */
static bool
wl_packed_read_spreads(struct json_object *map, WlPackedIndex *index, WlMetric metric,
					   char *errbuf, size_t errlen)
{
	const char *spreads = wl_av_get_string(wl_item_get(map, "spreads"));

	if (wl_item_get(map, "spreads") == NULL)
		return true;
	if (spreads == NULL)
	{
		snprintf(errbuf, errlen, "its calibration's spreads are not a string");
		return false;
	}
	if (index->cells == 0 || metric == WL_METRIC_INNER_PRODUCT)
	{
		snprintf(errbuf, errlen, "its calibration has spreads, which its index cannot be searched by");
		return false;
	}
	return wl_calib_parse_spreads(spreads, &index->calibration, errbuf, errlen);
}

/* Reads one index description (a map) of a metadata item. */
static bool
wl_packed_read_index(struct json_object *av, WlPackedIndex *index, WlMetric metric,
					 char *errbuf, size_t errlen)
{
	struct json_object *map = wl_av_get_map(av);
	int64_t		vectors;
	int			bytes;
	const char *token;
	const char *calibration;

	if (map == NULL ||
		!wl_meta_int(map, "gen", 1, 1000000000, &index->gen, errbuf, errlen) ||
		!wl_meta_int(map, "tables", 1, WL_MODEL_MAX_TABLES, &index->tables, errbuf, errlen) ||
		!wl_meta_int(map, "bits", 1, WL_PACKED_MAX_CELL_BITS, &index->bits, errbuf, errlen) ||
		!wl_meta_int(map, "fine", 0, WL_PACKED_MAX_FINE, &index->fine, errbuf, errlen) ||
		!wl_meta_int(map, "rotation", 1, WL_MODEL_MAX_ROTATION, &index->rotation, errbuf,
					 errlen) ||
		!wl_meta_int(map, "subspaces", 1, WL_MODEL_MAX_SUBSPACES, &index->subspaces, errbuf,
					 errlen) ||
		!wl_meta_int(map, "plane_dims", 1, WL_MODEL_MAX_ROTATION, &index->plane_dims, errbuf,
					 errlen) ||
		!wl_meta_int(map, "parts", 1, 1000, &index->parts, errbuf, errlen) ||
		!wl_meta_int(map, "bytes", 1, 2000000000, &bytes, errbuf, errlen))
	{
		if (map == NULL)
			snprintf(errbuf, errlen, "an index description is not a map");
		return false;
	}
	index->bytes = bytes;
	index->cells = 0;
	if (wl_item_get(map, "cells") != NULL &&
		(!wl_meta_int(map, "cells", 1, WL_CELLS_MAX, &index->cells, errbuf, errlen) ||
		 index->cells > (1 << index->bits)))
	{
		if (index->cells > 0)
			snprintf(errbuf, errlen, "an index description has more cells than its bits spell");
		return false;
	}
	index->groups = 0;
	if (index->cells == 0 && index->bits > WL_PACKED_MAX_BITS)
	{
		snprintf(errbuf, errlen, "attribute \"bits\" is missing or not an integer in [1, %d]",
				 WL_PACKED_MAX_BITS);
		return false;
	}
	if (wl_item_get(map, "groups") != NULL &&
		(!wl_meta_int(map, "groups", 1, WL_CELLS_FLAT_MAX, &index->groups, errbuf, errlen) ||
		 index->groups > index->cells))
	{
		if (index->groups > 0)
			snprintf(errbuf, errlen, "an index description has more groups than cells");
		return false;
	}
	if (index->groups == 0 && index->cells > WL_CELLS_FLAT_MAX)
	{
		snprintf(errbuf, errlen, "an index description has more cells than it may without groups");
		return false;
	}
	if (wl_av_get_int64(wl_item_get(map, "vectors"), &vectors) != 0 || vectors < 0)
	{
		snprintf(errbuf, errlen, "an index description has no vector count");
		return false;
	}
	index->vectors = vectors;
	token = wl_av_get_string(wl_item_get(map, "token"));
	if (token == NULL || strlen(token) != WL_PACKED_TOKEN_LEN ||
		strspn(token, "0123456789abcdef") != WL_PACKED_TOKEN_LEN)
	{
		snprintf(errbuf, errlen, "an index description has no build token");
		return false;
	}
	memcpy(index->token, token, WL_PACKED_TOKEN_LEN + 1);
	if (!wl_packed_read_names(map, index, errbuf, errlen) ||
		!wl_packed_read_attrs(map, index, errbuf, errlen))
		return false;
	if (index->partitioned && (index->nattrs == 0 || index->cells == 0))
	{
		snprintf(errbuf, errlen, "an index description is partitioned without an attribute or cells");
		return false;
	}
	if (index->blocked && index->cells == 0)
	{
		snprintf(errbuf, errlen, "an index description is blocked without cells");
		return false;
	}
	/* statistics another tool spoiled only prove nothing: WlPackedSettings */
	index->stats_bytes = 0;
	if (wl_item_get(map, "stats") != NULL &&
		!wl_meta_int(map, "stats", 1, 1000000, &index->stats_bytes, errbuf, errlen))
		index->stats_bytes = 0;
	index->unseen_base = 0;
	if (wl_item_get(map, "unseen_base") != NULL &&
		(wl_av_get_int64(wl_item_get(map, "unseen_base"), &index->unseen_base) != 0 ||
		 index->unseen_base < 0))
		index->unseen_base = -1;
	memset(&index->calibration, 0, sizeof(WlCalibration));
	calibration = wl_av_get_string(wl_item_get(map, "calibration"));
	if (wl_item_get(map, "calibration") != NULL &&
		(calibration == NULL ||
		 !wl_calib_parse(calibration, &index->calibration, errbuf, errlen)))
	{
		if (calibration == NULL)
			snprintf(errbuf, errlen, "its calibration is not a string");
		return false;
	}
	return wl_packed_read_spreads(map, index, metric, errbuf, errlen);
}

/* Writes an unseen value as its element of unseen_values (packed.h). */
static void
wl_unseen_element(const WlUnseenValue *value, char *out)
{
	int			i;

	for (i = 0; i < WL_SLOT_BYTES; i++)
		sprintf(out + 2 * i, "%02x", value->slot[i]);
	sprintf(out + 2 * WL_SLOT_BYTES, ":%016llx", (unsigned long long) value->attr);
}

/* Reads an element of unseen_values; false when it is not one. */
static bool
wl_unseen_parse(const char *element, WlUnseenValue *value)
{
	char		hex[3] = {0};
	char	   *end;
	int			i;

	if (element == NULL || strlen(element) != WL_UNSEEN_ELEMENT_LEN ||
		element[2 * WL_SLOT_BYTES] != ':' ||
		strspn(element, "0123456789abcdef") != 2 * WL_SLOT_BYTES ||
		strspn(element + 2 * WL_SLOT_BYTES + 1, "0123456789abcdef") != 16)
		return false;
	for (i = 0; i < WL_SLOT_BYTES; i++)
	{
		memcpy(hex, element + 2 * i, 2);
		value->slot[i] = (unsigned char) strtoul(hex, &end, 16);
	}
	value->attr = strtoull(element + 2 * WL_SLOT_BYTES + 1, &end, 16);
	return true;
}

/*
 * Reads unseen_values and unseen_overflow (packed.h).  A set too long, not
 * of such elements, or a count that is none only makes the statistics
 * prove nothing (nunseen -1; unseen_overflow -1 for the count).
 */
static void
wl_packed_read_unseen(struct json_object *item, WlPackedSettings *settings)
{
	struct json_object *set = wl_item_get(item, "unseen_values");
	int			n = set != NULL ? wl_av_set_count(set) : 0;
	int			i;

	bool		overflow_read;

	settings->unseen_overflow = 0;
	overflow_read = wl_item_get(item, "unseen_overflow") == NULL ||
		(wl_av_get_int64(wl_item_get(item, "unseen_overflow"), &settings->unseen_overflow) == 0 &&
		 settings->unseen_overflow >= 0);
	if (!overflow_read)
		settings->unseen_overflow = -1;
	settings->nunseen = overflow_read && n >= 0 && n <= WL_UNSEEN_MAX &&
		(set == NULL || wl_av_type(set) == WL_AV_SS) ? n : -1;
	settings->unseen_state = (uint64_t) settings->unseen_overflow * UINT64_C(1000003) +
		(uint64_t) (n + 1);
	for (i = 0; i < settings->nunseen; i++)
	{
		const char *element = wl_av_set_item(set, i);

		if (!wl_unseen_parse(element, &settings->unseen[i]))
		{
			settings->nunseen = -1;
			break;
		}
		/* the order DynamoDB returns a set in is its own: add, not mix */
		settings->unseen_state += wl_text_hash(element);
	}
}

/* Reads the packed settings: metric, tables, bits, seed, indexes, tables. */
bool
wl_packed_read_meta(struct json_object *item, WlMeta *meta, char *errbuf, size_t errlen)
{
	const char *metric = wl_av_get_string(wl_item_get(item, "metric"));
	const char *seed = wl_av_get_string(wl_item_get(item, "seed"));
	WlPackedSettings *settings = calloc(1, sizeof(WlPackedSettings));
	struct json_object *active_at;
	int			bits;
	int			i;

	meta->private = settings;
	if (settings == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return false;
	}
	if (metric == NULL || !wl_metric_parse(metric, &meta->metric))
	{
		snprintf(errbuf, errlen, "attribute \"metric\" is missing or unknown");
		return false;
	}
	if (!wl_meta_int(item, "n_tables", 1, WL_MODEL_MAX_TABLES, &settings->tables, errbuf, errlen) ||
		!wl_meta_int(item, "n_bits", 1, WL_PACKED_MAX_CELL_BITS, &bits, errbuf, errlen))
		return false;
	if (seed == NULL || sscanf(seed, "%llu", (unsigned long long *) &meta->seed) != 1)
	{
		snprintf(errbuf, errlen, "attribute \"seed\" is missing or not a number");
		return false;
	}
	settings->has_current = wl_item_get(item, "index") != NULL;
	settings->has_building = wl_item_get(item, "building") != NULL;
	if ((settings->has_current &&
		 !wl_packed_read_index(wl_item_get(item, "index"), &settings->current, meta->metric,
							   errbuf, errlen)) ||
		(settings->has_building &&
		 !wl_packed_read_index(wl_item_get(item, "building"), &settings->building,
							   meta->metric, errbuf, errlen)))
		return false;
	wl_packed_read_unseen(item, settings);
	active_at = settings->has_building ?
		wl_item_get(wl_av_get_map(wl_item_get(item, "building")), "active_at") : NULL;
	settings->building_active = 0;
	if (active_at != NULL &&
		(wl_av_get_int64(active_at, &settings->building_active) != 0 ||
		 settings->building_active < 0))
	{
		snprintf(errbuf, errlen, "the index being built has a malformed \"active_at\"");
		return false;
	}
	/* a build no newer than the current index was abandoned: the next replaces it */
	if (settings->has_building && settings->has_current &&
		settings->building.gen <= settings->current.gen)
		settings->has_building = false;
	/* what shows as the collection's tables and bits: its current index's */
	meta->ntables = settings->tables;
	if (settings->has_current)
	{
		meta->ntables = settings->current.tables;
		bits = settings->current.bits;
	}
	meta->bits = calloc(meta->ntables, sizeof(int));
	if (meta->bits == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return false;
	}
	for (i = 0; i < meta->ntables; i++)
		meta->bits[i] = bits;
	meta->fine_bits = settings->has_current ? settings->current.fine : 0;
	snprintf(meta->index_state, sizeof(meta->index_state), "%d.%d",
			 settings->has_current ? settings->current.gen : 0,
			 settings->has_building ? settings->building.gen : 0);
	meta->unseen_state = settings->unseen_state;
	if (wl_av_get_int64(wl_item_get(item, "vector_count"), &meta->vector_count) != 0)
		meta->vector_count = 0;
	meta->generation = wl_meta_string(item, "generation", errbuf, errlen);
	meta->vectors_table = wl_meta_string(item, "vectors_table", errbuf, errlen);
	meta->buckets_table = wl_meta_string(item, "buckets_table", errbuf, errlen);
	return meta->generation && meta->vectors_table && meta->buckets_table;
}

/* An index description as a metadata map. */
struct json_object *
wl_packed_index_value(const WlPackedIndex *index)
{
	struct json_object *map = json_object_new_object();

	json_object_object_add(map, "gen", wl_av_number_int64(index->gen));
	json_object_object_add(map, "tables", wl_av_number_int64(index->tables));
	json_object_object_add(map, "bits", wl_av_number_int64(index->bits));
	if (index->cells > 0)
		json_object_object_add(map, "cells", wl_av_number_int64(index->cells));
	if (index->groups > 0)
		json_object_object_add(map, "groups", wl_av_number_int64(index->groups));
	json_object_object_add(map, "fine", wl_av_number_int64(index->fine));
	json_object_object_add(map, "vectors", wl_av_number_int64(index->vectors));
	json_object_object_add(map, "rotation", wl_av_number_int64(index->rotation));
	json_object_object_add(map, "subspaces", wl_av_number_int64(index->subspaces));
	json_object_object_add(map, "plane_dims", wl_av_number_int64(index->plane_dims));
	json_object_object_add(map, "parts", wl_av_number_int64(index->parts));
	json_object_object_add(map, "bytes", wl_av_number_int64((int64_t) index->bytes));
	json_object_object_add(map, "token", wl_av_string(index->token));
	if (index->partitioned)
		json_object_object_add(map, "names",
							   wl_av_string(index->uuid_names ? "uuid/partition" : "id/partition"));
	else if (index->blocked)
		json_object_object_add(map, "names",
							   wl_av_string(index->uuid_names ? "uuid/blocks" : "id/blocks"));
	else if (index->uuid_names)
		json_object_object_add(map, "names", wl_av_string("uuid"));
	if (index->name_bytes > 0)
		json_object_object_add(map, "name_bytes", wl_av_number_int64(index->name_bytes));
	if (index->nattrs > 0)
	{
		struct json_object *attrs = json_object_new_array();
		int			i;

		for (i = 0; i < index->nattrs; i++)
			json_object_array_add(attrs, wl_av_string(index->attrs[i]));
		json_object_object_add(map, "attrs", wl_av_list(attrs));
	}
	if (index->stats_bytes > 0)
		json_object_object_add(map, "stats", wl_av_number_int64(index->stats_bytes));
	if (index->nattrs > 0)
		json_object_object_add(map, "unseen_base", wl_av_number_int64(index->unseen_base));
	if (index->calibration.queries > 0)
	{
		char		text[4096];

		wl_calib_format(&index->calibration, text, sizeof(text));
		json_object_object_add(map, "calibration", wl_av_string(text));
		if (index->calibration.nspreads > 0)
		{
			wl_calib_format_spreads(&index->calibration, text, sizeof(text));
			json_object_object_add(map, "spreads", wl_av_string(text));
		}
	}
	return wl_av_map(map);
}

/*
 * Adds the packed settings to the metadata item of a new collection: it is
 * untrained, so there is no index yet.
 */
void
wl_packed_write_meta(const WlMeta *meta, struct json_object *item)
{
	char		seed[32];

	snprintf(seed, sizeof(seed), "%llu", (unsigned long long) meta->seed);
	json_object_object_add(item, "metric", wl_av_string(wl_metric_name(meta->metric)));
	json_object_object_add(item, "n_tables", wl_av_number_int64(meta->ntables));
	json_object_object_add(item, "n_bits", wl_av_number_int64(meta->bits[0]));
	json_object_object_add(item, "seed", wl_av_number_text(seed));
	json_object_object_add(item, "generation", wl_av_string(meta->generation));
	json_object_object_add(item, "vectors_table", wl_av_string(meta->vectors_table));
	json_object_object_add(item, "buckets_table", wl_av_string(meta->buckets_table));
}

/* Frees the packed settings. */
void
wl_packed_free_meta(WlMeta *meta)
{
	free(meta->private);
	meta->private = NULL;
}

/* The packed settings of a collection's metadata. */
const WlPackedSettings *
wl_packed_settings_of(const WlMeta *meta)
{
	return meta->format->number == WL_FORMAT_PACKED ? wl_packed_settings(meta) : NULL;
}

/*
 * Values of an update of the metadata: :g, the collection's table
 * generation, and :b, an index description.
 */
static struct json_object *
wl_packed_update_values(const WlMeta *meta, const WlPackedIndex *index)
{
	struct json_object *values = json_object_new_object();

	json_object_object_add(values, ":g", wl_av_string(meta->generation));
	json_object_object_add(values, ":b", wl_packed_index_value(index));
	json_object_object_add(values, ":bg", wl_av_number_int64(index->gen));
	return values;
}

/* Starts building a generation; see packed.h. */
void
wl_packed_begin_call(WlDdbCall *call, const char *table, const WlMeta *meta,
					 const WlPackedIndex *building, const char *replacing, int64_t now)
{
	struct json_object *names = json_object_new_object();
	struct json_object *values = wl_packed_update_values(meta, building);
	const char *free_building = replacing != NULL ?
		"(attribute_not_exists(#bu) OR #bu.#tk = :stale)" : "attribute_not_exists(#bu)";
	char		condition[512];

	json_object_object_add(wl_av_get_map(json_object_object_get(values, ":b")), "active_at",
						   wl_av_number_int64(now));
	json_object_object_add(names, "#bu", json_object_new_string("building"));
	json_object_object_add(names, "#f", json_object_new_string("format"));
	if (meta->format->number == WL_FORMAT_PACKED)
	{
		json_object_object_add(names, "#ix", json_object_new_string("index"));
		json_object_object_add(values, ":three", wl_av_number_int64(WL_FORMAT_PACKED));
		json_object_object_del(values, ":bg");
		if (replacing != NULL)
		{
			/* a build whose model cannot be read, replaced by this one */
			json_object_object_add(names, "#tk", json_object_new_string("token"));
			json_object_object_add(values, ":stale", wl_av_string(replacing));
		}
		if (building->gen == 1)
			snprintf(condition, sizeof(condition),
					 "attribute_exists(id) AND generation = :g AND #f = :three AND "
					 "%s AND attribute_not_exists(#ix)", free_building);
		else
		{
			/* built from the current index, past any build abandoned behind it */
			json_object_object_add(names, "#ge", json_object_new_string("gen"));
			json_object_object_add(values, ":from", wl_av_number_int64(building->gen - 1));
			snprintf(condition, sizeof(condition),
					 "attribute_exists(id) AND generation = :g AND #f = :three AND "
					 "#ix.#ge = :from AND (%s OR #bu.#ge <= :from)", free_building);
		}
		wl_op_update_item(call, table, wl_store_id_key(meta->id), "SET #bu = :b",
						  condition, names, values);
		return;
	}
	/* a native collection becomes packed, untrained until the build ends */
	json_object_object_del(values, ":bg");
	json_object_object_add(values, ":three", wl_av_number_int64(WL_FORMAT_PACKED));
	json_object_object_add(values, ":two", wl_av_number_int64(2));
	json_object_object_add(values, ":nt", wl_av_number_int64(building->tables));
	json_object_object_add(values, ":nb", wl_av_number_int64(building->bits));
	wl_op_update_item(call, table, wl_store_id_key(meta->id),
					  "SET #f = :three, #bu = :b, n_tables = :nt, n_bits = :nb "
					  "REMOVE fine_bits, center, auto_center",
					  "attribute_exists(id) AND generation = :g AND #f = :two", names, values);
}

/*
 * Unseen values as a string set (0 < n <= WL_UNSEEN_MAX of them), spelled
 * on the stack: a call is never built short of memory.
 */
static struct json_object *
wl_unseen_set(const WlUnseenValue *values, int n)
{
	char		text[WL_UNSEEN_MAX][WL_UNSEEN_ELEMENT_LEN + 1];
	const char *elements[WL_UNSEEN_MAX];
	int			i;

	for (i = 0; i < n && i < WL_UNSEEN_MAX; i++)
	{
		wl_unseen_element(&values[i], text[i]);
		elements[i] = text[i];
	}
	return wl_av_string_set(elements, i);
}

/* Reports values the statistics do not list; see packed.h. */
void
wl_packed_unseen_call(WlDdbCall *call, const char *table, const WlMeta *meta,
					  const WlUnseenValue *unseen, int n)
{
	struct json_object *values = json_object_new_object();

	json_object_object_add(values, ":g", wl_av_string(meta->generation));
	if (n == 0)
	{
		json_object_object_add(values, ":one", wl_av_number_int64(1));
		wl_op_update_item(call, table, wl_store_id_key(meta->id), "ADD unseen_overflow :one",
						  "attribute_exists(id) AND generation = :g", NULL, values);
		return;
	}
	json_object_object_add(values, ":v", wl_unseen_set(unseen, n));
	json_object_object_add(values, ":most", wl_av_number_int64(WL_UNSEEN_ADD_MAX));
	wl_op_update_item(call, table, wl_store_id_key(meta->id), "ADD unseen_values :v",
					  "attribute_exists(id) AND generation = :g AND "
					  "(attribute_not_exists(unseen_values) OR size(unseen_values) < :most)",
					  NULL, values);
}

/* Notes that a build's session is at work on it; see packed.h. */
void
wl_packed_active_call(WlDdbCall *call, const char *table, const WlMeta *meta,
					  const WlPackedIndex *building, int64_t seen, int64_t now)
{
	struct json_object *names = json_object_new_object();
	struct json_object *values = json_object_new_object();

	json_object_object_add(names, "#bu", json_object_new_string("building"));
	json_object_object_add(names, "#tk", json_object_new_string("token"));
	json_object_object_add(names, "#at", json_object_new_string("active_at"));
	json_object_object_add(values, ":g", wl_av_string(meta->generation));
	json_object_object_add(values, ":tk", wl_av_string(building->token));
	json_object_object_add(values, ":now", wl_av_number_int64(now));
	if (seen > 0)
		json_object_object_add(values, ":seen", wl_av_number_int64(seen));
	wl_op_update_item(call, table, wl_store_id_key(meta->id), "SET #bu.#at = :now",
					  seen > 0 ?
					  "attribute_exists(id) AND generation = :g AND #bu.#tk = :tk AND #bu.#at = :seen" :
					  "attribute_exists(id) AND generation = :g AND #bu.#tk = :tk",
					  names, values);
}

/* Has the session building an index left it; see packed.h. */
bool
wl_packed_build_abandoned(const WlMeta *meta, int64_t now, int64_t timeout)
{
	const WlPackedSettings *settings = wl_packed_settings_of(meta);

	return settings != NULL && settings->has_building && settings->building_active > 0 &&
		now - settings->building_active > timeout;
}

/* Makes the building generation the current one; see packed.h. */
void
wl_packed_finish_call(WlDdbCall *call, const char *table, const WlMeta *meta,
					  const WlPackedIndex *building, const WlUnseenValue *listed, int n)
{
	struct json_object *names = json_object_new_object();
	struct json_object *values = wl_packed_update_values(meta, building);

	json_object_object_add(names, "#bu", json_object_new_string("building"));
	json_object_object_add(names, "#ge", json_object_new_string("gen"));
	json_object_object_add(names, "#ix", json_object_new_string("index"));
	json_object_object_add(values, ":nt", wl_av_number_int64(building->tables));
	if (n > 0)
		json_object_object_add(values, ":u", wl_unseen_set(listed, n));
	wl_op_update_item(call, table, wl_store_id_key(meta->id),
					  n > 0 ? "SET #ix = :b, n_tables = :nt REMOVE #bu DELETE unseen_values :u" :
					  "SET #ix = :b, n_tables = :nt REMOVE #bu",
					  "attribute_exists(id) AND generation = :g AND #bu.#ge = :bg",
					  names, values);
}

/* The generation a partition belongs to, or 0 when it names none. */
int
wl_packed_partition_gen(const char *partition)
{
	int			gen;
	int			used = 0;

	if (sscanf(partition, "%d/%n", &gen, &used) != 1 || used == 0 ||
		partition[used - 1] != '/' || gen < 1)
		return 0;
	return gen;
}

/* The description of generation gen of a collection, or NULL for none of its. */
const WlPackedIndex *
wl_packed_gen_index(const WlMeta *meta, int gen)
{
	const WlPackedSettings *settings = wl_packed_settings(meta);

	if (settings->has_current && settings->current.gen == gen)
		return &settings->current;
	if (settings->has_building && settings->building.gen == gen)
		return &settings->building;
	return NULL;
}

/* The attributes an index generation's records carry (packed.h). */
int
wl_packed_attr_names(const WlPackedIndex *index, const char **names)
{
	for (int i = 0; i < index->nattrs; i++)
		names[i] = index->attrs[i];
	return index->nattrs;
}

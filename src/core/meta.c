/*
 * meta.c - collection metadata items: the settings every format shares,
 * the calls that read and update them, and the keys a vector hashes to.
 *
 * An item names its format with a "format" number; an item without one is
 * the original library's (v1).  The common settings are read here and the
 * rest by the format (format_*.c), which also spells the keys.
 */
#include "meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ddbjson.h"
#include "format.h"
#include "operations.h"
#include "store.h"

/* A new copy of a string; NULL stays NULL. */
char *
wl_meta_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Frees everything; NULL is a no-op. */
void
wl_meta_free(WlMeta *meta)
{
	if (meta == NULL)
		return;
	if (meta->format != NULL && meta->format->free_meta != NULL)
		meta->format->free_meta(meta);
	free(meta->id);
	free(meta->name);
	free(meta->project);
	free(meta->stage);
	free(meta->bits);
	free(meta->generation);
	free(meta->center);
	free(meta->vectors_table);
	free(meta->buckets_table);
	free(meta);
}

/* "{prefix}_{suffix}" in a new string. */
char *
wl_meta_join(const char *prefix, const char *suffix)
{
	size_t		len = strlen(prefix) + strlen(suffix) + 2;
	char	   *out = malloc(len);

	if (out != NULL)
		snprintf(out, len, "%s_%s", prefix, suffix);
	return out;
}

/*
 * A new collection.  Its tables are {id}_{generation}_vectors and
 * {id}_{generation}_buckets: a dropped and re-created collection gets new
 * tables, so a backend holding the old settings fails loudly (table not
 * found) instead of hashing with the wrong planes.
 */
WlMeta *
wl_meta_new(const WlFormat *format, const char *project, const char *stage, const char *name,
			int dims, WlMetric metric, int ntables, int bits, int fine_bits,
			uint64_t seed, const char *generation, const float *center, bool auto_center)
{
	WlMeta	   *meta = calloc(1, sizeof(WlMeta));
	char	   *base;
	int			i;

	if (meta == NULL)
		return NULL;
	meta->project = wl_meta_strdup(project);
	meta->stage = wl_meta_strdup(stage);
	meta->name = wl_meta_strdup(name);
	meta->format = format;
	meta->dims = dims;
	meta->metric = metric;
	meta->ntables = ntables;
	meta->seed = seed;
	meta->generation = wl_meta_strdup(generation);
	meta->auto_center = auto_center;
	meta->bits = calloc(ntables, sizeof(int));
	if (meta->bits != NULL)
		for (i = 0; i < ntables; i++)
			meta->bits[i] = bits;
	meta->fine_bits = fine_bits;
	if (center != NULL)
	{
		meta->center = malloc(sizeof(float) * dims);
		if (meta->center != NULL)
			memcpy(meta->center, center, sizeof(float) * dims);
	}
	meta->id = malloc(strlen(project) + strlen(stage) + strlen(name) + 3);
	if (meta->id != NULL)
		sprintf(meta->id, "%s_%s_%s", project, stage, name);
	base = meta->id ? wl_meta_join(meta->id, generation) : NULL;
	if (base != NULL)
	{
		meta->vectors_table = wl_meta_join(base, "vectors");
		meta->buckets_table = wl_meta_join(base, "buckets");
	}
	free(base);
	if (!meta->project || !meta->stage || !meta->name || !meta->generation ||
		!meta->bits || (center && !meta->center) || !meta->id ||
		!meta->vectors_table || !meta->buckets_table)
	{
		wl_meta_free(meta);
		return NULL;
	}
	return meta;
}

/* The metadata item of a collection: the common settings, then the format's. */
struct json_object *
wl_meta_to_item(const WlMeta *meta)
{
	struct json_object *item;

	if (meta->format->write_meta == NULL)
		return NULL;
	item = json_object_new_object();
	json_object_object_add(item, "id", wl_av_string(meta->id));
	json_object_object_add(item, "name", wl_av_string(meta->name));
	json_object_object_add(item, "project_name", wl_av_string(meta->project));
	json_object_object_add(item, "stage", wl_av_string(meta->stage));
	json_object_object_add(item, "format", wl_av_number_int64(meta->format->number));
	json_object_object_add(item, "n_features", wl_av_number_int64(meta->dims));
	meta->format->write_meta(meta, item);
	return item;
}

/* A string attribute copied; see the header. */
char *
wl_meta_string(struct json_object *item, const char *name, char *errbuf, size_t errlen)
{
	const char *value = wl_av_get_string(wl_item_get(item, name));

	if (value == NULL)
	{
		snprintf(errbuf, errlen, "attribute \"%s\" is missing or not a string", name);
		return NULL;
	}
	return strdup(value);
}

/* An integer attribute in [min, max]; see the header. */
bool
wl_meta_int(struct json_object *item, const char *name, int min, int max, int *out,
			char *errbuf, size_t errlen)
{
	int64_t		value;

	if (wl_av_get_int64(wl_item_get(item, name), &value) != 0 || value < min || value > max)
	{
		snprintf(errbuf, errlen, "attribute \"%s\" is missing or not an integer in [%d, %d]",
				 name, min, max);
		return false;
	}
	*out = (int) value;
	return true;
}

/* Whether a seeded index's planes stay within WL_META_MAX_PLANE_VALUES. */
bool
wl_meta_planes_fit(int dims, int ntables, int bits)
{
	return (int64_t) dims * ntables * bits <= WL_META_MAX_PLANE_VALUES;
}

/* Are a metadata item's tables its collection's own?  See the header. */
bool
wl_meta_tables_own(const WlMeta *meta, char *errbuf, size_t errlen)
{
	const char *tables[2] = {meta->vectors_table, meta->buckets_table};
	const char *suffixes[2] = {"vectors", "buckets"};
	size_t		len = strlen(meta->project) + strlen(meta->stage) + strlen(meta->name) +
		(meta->generation ? strlen(meta->generation) : 0) + 16;
	char	   *own = malloc(len);
	bool		ok = own != NULL;
	int			i;

	if (meta->generation != NULL &&
		(meta->generation[0] == '\0' || strlen(meta->generation) > 16 ||
		 strspn(meta->generation, "0123456789abcdef") != strlen(meta->generation)))
	{
		snprintf(errbuf, errlen, "its generation \"%s\" is not a few hex digits",
				 meta->generation);
		ok = false;
	}
	for (i = 0; ok && i < 2; i++)
	{
		if (meta->generation != NULL)
			snprintf(own, len, "%s_%s_%s_%s_%s", meta->project, meta->stage, meta->name,
					 meta->generation, suffixes[i]);
		else
			snprintf(own, len, "%s_%s_%s_%s", meta->project, meta->stage, meta->name,
					 suffixes[i]);
		if (tables[i] == NULL || strcmp(tables[i], own) != 0)
		{
			snprintf(errbuf, errlen, "its %s table \"%s\" is not the collection's own \"%s\"",
					 suffixes[i], tables[i] ? tables[i] : "", own);
			ok = false;
		}
	}
	free(own);
	return ok;
}

/* Reads a metadata item's common settings; see the header. */
WlMeta *
wl_meta_read_common(struct json_object *item, int *number, char *errbuf, size_t errlen)
{
	WlMeta	   *meta = calloc(1, sizeof(WlMeta));

	errbuf[0] = '\0';
	*number = 0;
	if (meta == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	if ((meta->id = wl_meta_string(item, "id", errbuf, errlen)) != NULL &&
		(meta->name = wl_meta_string(item, "name", errbuf, errlen)) != NULL &&
		(meta->project = wl_meta_string(item, "project_name", errbuf, errlen)) != NULL &&
		(meta->stage = wl_meta_string(item, "stage", errbuf, errlen)) != NULL &&
		wl_meta_int(item, "n_features", 1, WL_META_MAX_DIMS, &meta->dims, errbuf, errlen) &&
		(wl_item_get(item, "format") == NULL ||
		 wl_meta_int(item, "format", 1, 1000, number, errbuf, errlen)))
		return meta;
	if (errbuf[0] == '\0')
		snprintf(errbuf, errlen, "out of memory");
	wl_meta_free(meta);
	return NULL;
}

/* Do two metadata reads index alike?  See the header. */
bool
wl_meta_same_index(const WlMeta *a, const WlMeta *b)
{
	return a->format == b->format && wl_meta_same_generation(a, b) &&
		strcmp(a->index_state, b->index_state) == 0;
}

/* Same dimensions, tables, bits and seed?  See the header. */
bool
wl_meta_same_shape(const WlMeta *a, const WlMeta *b)
{
	int			t;

	if (a->dims != b->dims || a->ntables != b->ntables || a->fine_bits != b->fine_bits ||
		a->seed != b->seed)
		return false;
	for (t = 0; t < a->ntables; t++)
		if (a->bits[t] != b->bits[t])
			return false;
	return true;
}

/* Same table generation?  v1 collections have none. */
bool
wl_meta_same_generation(const WlMeta *a, const WlMeta *b)
{
	return strcmp(a->generation ? a->generation : "", b->generation ? b->generation : "") == 0;
}

/* UpdateItem: SET center = :c, only when there is none yet. */
void
wl_meta_center_call(WlDdbCall *call, const char *table, const char *id,
					const float *center, int dims)
{
	struct json_object *values = json_object_new_object();
	unsigned char *bytes = malloc((size_t) dims * 4);

	if (values != NULL && bytes != NULL)
	{
		wl_store_encode_vector(center, dims, bytes);
		json_object_object_add(values, ":c", wl_av_binary(bytes, (size_t) dims * 4));
	}
	free(bytes);
	wl_op_update_item(call, table, wl_store_id_key(id), "SET center = :c",
					  "attribute_exists(id) AND attribute_not_exists(center)", NULL, values);
}

/*
 * UpdateItem: ADD vector_count :d, if the collection still exists and the
 * update carrying this token has not been applied yet.  The token makes a
 * retry whose first attempt took effect (its answer lost) fail its
 * condition instead of counting twice.
 */
void
wl_meta_count_call(WlDdbCall *call, const char *table, const char *id, int64_t delta,
				   const char *token)
{
	struct json_object *values = json_object_new_object();

	json_object_object_add(values, ":d", wl_av_number_int64(delta));
	json_object_object_add(values, ":t", wl_av_string(token));
	wl_op_update_item(call, table, wl_store_id_key(id),
					  "ADD vector_count :d SET count_token = :t",
					  "attribute_exists(id) AND "
					  "(attribute_not_exists(count_token) OR count_token <> :t)",
					  NULL, values);
}

/* Whether a metadata item records the count update carrying token. */
int
wl_meta_count_applied(struct json_object *item, const char *token)
{
	const char *last = wl_av_get_string(wl_item_get(item, "count_token"));

	return last != NULL && strcmp(last, token) == 0;
}

/*
 * A Scan of the metadata items of one project and stage.  v1 items carry
 * the same project_name and stage attributes, so both formats are listed.
 */
void
wl_meta_scan_call(WlDdbCall *call, const char *table, const char *project, const char *stage)
{
	struct json_object *values = json_object_new_object();

	json_object_object_add(values, ":p", wl_av_string(project));
	json_object_object_add(values, ":s", wl_av_string(stage));
	wl_op_scan(call, table, "project_name = :p AND stage = :s", values, 0, true);
}

/* GetItem of a metadata item, strongly consistent. */
void
wl_meta_get_call(WlDdbCall *call, const char *table, const char *id)
{
	wl_op_get_item(call, table, wl_store_id_key(id), true);
}

/* A vector's key in the collection's format. */
void
wl_meta_bucket_key(const WlMeta *meta, int table, uint64_t code, char *out)
{
	meta->format->key(meta, table, code, meta->bits[table] + meta->fine_bits,
					  meta->fine_bits, out);
}

/* Total bits of all tables' codes: the length of a projection vector. */
static int
wl_meta_total_bits(const WlMeta *meta)
{
	int			total = 0;
	int			t;

	for (t = 0; t < meta->ntables; t++)
		total += meta->bits[t] + meta->fine_bits;
	return total;
}

/* Fine bits a search reads; see the header. */
int
wl_meta_search_depth(const WlMeta *meta, int64_t vector_count, int bucket_capacity)
{
	double		per_key = (double) vector_count / (double) (UINT64_C(1) << meta->bits[0]);
	int			depth = 0;

	while (depth < meta->fine_bits && per_key > bucket_capacity)
	{
		per_key /= 2;
		depth++;
	}
	return depth;
}

/* The home bucket key of a vector in every table. */
int
wl_meta_vector_keys(const WlMeta *meta, const WlLsh *lsh, const float *vector,
					char *keys)
{
	double	   *projections = malloc(sizeof(double) * wl_meta_total_bits(meta));
	int			offset = 0;
	int			t;

	if (projections == NULL)
		return -1;
	wl_lsh_project(lsh, vector, projections);
	for (t = 0; t < meta->ntables; t++)
	{
		int			nbits = meta->bits[t] + meta->fine_bits;

		wl_meta_bucket_key(meta, t, wl_lsh_bits(projections + offset, nbits),
						   keys + (size_t) t * WL_LSH_KEY_MAX);
		offset += nbits;
	}
	free(projections);
	return 0;
}

/*
 * The multi-probe keys of a query in every table.  The first bits + depth
 * projections of a table give the code of that prefix (the first plane is
 * the most significant bit), so probing flips only bits that are read.
 */
int
wl_meta_probe_keys(const WlMeta *meta, const WlLsh *lsh, const float *query,
				   int nprobes, int depth, char *keys)
{
	double	   *projections = malloc(sizeof(double) * wl_meta_total_bits(meta));
	uint64_t   *codes = malloc(sizeof(uint64_t) * nprobes);
	int			offset = 0;
	int			count = 0;
	int			t;

	if (projections == NULL || codes == NULL)
	{
		free(projections);
		free(codes);
		return -1;
	}
	wl_lsh_project(lsh, query, projections);
	for (t = 0; t < meta->ntables; t++)
	{
		int			nbits = meta->bits[t] + depth;
		int			ncodes = wl_lsh_probes(projections + offset, nbits, nprobes, codes);
		int			i;

		if (ncodes < 0)
		{
			free(projections);
			free(codes);
			return -1;
		}
		for (i = 0; i < ncodes; i++)
			meta->format->key(meta, t, codes[i], nbits, depth,
							  keys + (size_t) (count++) * WL_LSH_KEY_MAX);
		offset += meta->bits[t] + meta->fine_bits;
	}
	free(projections);
	free(codes);
	return count;
}

/*
 * meta.c - collection metadata items, native and v1.
 *
 * A native item is small whatever the dimension count: planes are derived
 * from a seed rather than stored, and only the centre (4 bytes a
 * dimension) travels, so 4,096 dimensions take 16 KB of the 400 KB item
 * limit.  A v1 item stores its planes as float64 matrices; we read those as
 * they are.  A v1 item is recognised by its lack of a "format" attribute.
 */
#include "meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ddbjson.h"
#include "store.h"

/* strdup that tolerates NULL. */
static char *
wl_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Frees everything; NULL is a no-op. */
void
wl_meta_free(WlMeta *meta)
{
	int			i;

	if (meta == NULL)
		return;
	free(meta->id);
	free(meta->name);
	free(meta->project);
	free(meta->stage);
	free(meta->bits);
	free(meta->generation);
	free(meta->center);
	if (meta->planes != NULL)
		for (i = 0; i < meta->ntables; i++)
			free(meta->planes[i]);
	free(meta->planes);
	free(meta->vectors_table);
	free(meta->buckets_table);
	free(meta);
}

/* "{prefix}_{suffix}" in a new string. */
static char *
wl_join(const char *prefix, const char *suffix)
{
	size_t		len = strlen(prefix) + strlen(suffix) + 2;
	char	   *out = malloc(len);

	if (out != NULL)
		snprintf(out, len, "%s_%s", prefix, suffix);
	return out;
}

/*
 * A new native collection.  Its tables are {id}_{generation}_vectors and
 * {id}_{generation}_buckets: a dropped and re-created collection gets new
 * tables, so a backend holding the old settings fails loudly (table not
 * found) instead of hashing with the wrong planes.
 */
WlMeta *
wl_meta_new_native(const char *project, const char *stage, const char *name,
				   int dims, WlMetric metric, int ntables, int bits, int fine_bits,
				   uint64_t seed,
				   const char *generation, const float *center, bool auto_center)
{
	WlMeta	   *meta = calloc(1, sizeof(WlMeta));
	char	   *base;
	int			i;

	if (meta == NULL)
		return NULL;
	meta->project = wl_dup(project);
	meta->stage = wl_dup(stage);
	meta->name = wl_dup(name);
	meta->format = WL_FORMAT_NATIVE;
	meta->dims = dims;
	meta->metric = metric;
	meta->ntables = ntables;
	meta->seed = seed;
	meta->generation = wl_dup(generation);
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
	base = meta->id ? wl_join(meta->id, generation) : NULL;
	if (base != NULL)
	{
		meta->vectors_table = wl_join(base, "vectors");
		meta->buckets_table = wl_join(base, "buckets");
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

/* The metadata item of a native collection. */
struct json_object *
wl_meta_to_item(const WlMeta *meta)
{
	struct json_object *item = json_object_new_object();
	char		seed[32];

	snprintf(seed, sizeof(seed), "%llu", (unsigned long long) meta->seed);
	json_object_object_add(item, "id", wl_av_string(meta->id));
	json_object_object_add(item, "name", wl_av_string(meta->name));
	json_object_object_add(item, "project_name", wl_av_string(meta->project));
	json_object_object_add(item, "stage", wl_av_string(meta->stage));
	json_object_object_add(item, "format", wl_av_number_int64(meta->format));
	json_object_object_add(item, "n_features", wl_av_number_int64(meta->dims));
	json_object_object_add(item, "metric", wl_av_string(wl_metric_name(meta->metric)));
	json_object_object_add(item, "n_tables", wl_av_number_int64(meta->ntables));
	json_object_object_add(item, "n_bits", wl_av_number_int64(meta->bits[0]));
	json_object_object_add(item, "fine_bits", wl_av_number_int64(meta->fine_bits));
	json_object_object_add(item, "seed", wl_av_number_text(seed));
	json_object_object_add(item, "generation", wl_av_string(meta->generation));
	json_object_object_add(item, "auto_center", wl_av_bool(meta->auto_center));
	json_object_object_add(item, "vectors_table", wl_av_string(meta->vectors_table));
	json_object_object_add(item, "buckets_table", wl_av_string(meta->buckets_table));
	if (meta->center != NULL)
	{
		unsigned char *bytes = malloc((size_t) meta->dims * 4);

		if (bytes != NULL)
		{
			wl_store_encode_vector(meta->center, meta->dims, bytes);
			json_object_object_add(item, "center",
								   wl_av_binary(bytes, (size_t) meta->dims * 4));
			free(bytes);
		}
	}
	return item;
}

/* A string attribute copied, or NULL (reason set) when missing. */
static char *
wl_req_string(struct json_object *item, const char *name, char *errbuf, size_t errlen)
{
	const char *value = wl_av_get_string(wl_item_get(item, name));

	if (value == NULL)
	{
		snprintf(errbuf, errlen, "attribute \"%s\" is missing or not a string", name);
		return NULL;
	}
	return strdup(value);
}

/* An integer attribute in [min, max]; false (reason set) otherwise. */
static bool
wl_req_int(struct json_object *item, const char *name, int min, int max, int *out,
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

/*
 * Reads the v1 planes: uniform_planes is a map "0".."n-1" of float64
 * little-endian matrices of shape (n_features, bits_i), bits_i being
 * int(bit_start + i * bit_scale_factor).
 */
static bool
wl_meta_read_v1(struct json_object *item, WlMeta *meta, char *errbuf, size_t errlen)
{
	struct json_object *planes = wl_av_get_map(wl_item_get(item, "uniform_planes"));
	int			i;

	if (wl_av_get_double(wl_item_get(item, "bit_start"), &meta->bit_start) != 0 ||
		wl_av_get_double(wl_item_get(item, "bit_scale_factor"), &meta->bit_scale_factor) != 0 ||
		!wl_req_int(item, "n_planes", 1, 64, &meta->ntables, errbuf, errlen))
	{
		if (errbuf[0] == '\0')
			snprintf(errbuf, errlen, "attributes bit_start and bit_scale_factor must be numbers");
		return false;
	}
	if (planes == NULL)
	{
		snprintf(errbuf, errlen, "attribute \"uniform_planes\" is missing or not a map");
		return false;
	}
	meta->metric = WL_METRIC_L2;
	meta->bits = calloc(meta->ntables, sizeof(int));
	meta->planes = calloc(meta->ntables, sizeof(double *));
	if (meta->bits == NULL || meta->planes == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return false;
	}
	for (i = 0; i < meta->ntables; i++)
	{
		char		key[16];
		struct json_object *plane;
		unsigned char *bytes = NULL;
		size_t		len = 0;
		size_t		want;
		size_t		j;
		double		nbits = meta->bit_start + i * meta->bit_scale_factor;

		/* Checked before the cast: (int) of a double beyond int's range is undefined. */
		if (!(nbits >= 1 && nbits < 63))
		{
			snprintf(errbuf, errlen, "plane %d would have %g bits", i, nbits);
			return false;
		}
		meta->bits[i] = (int) nbits;
		snprintf(key, sizeof(key), "%d", i);
		if (!json_object_object_get_ex(planes, key, &plane) ||
			wl_av_get_binary(plane, &bytes, &len) != 0)
		{
			snprintf(errbuf, errlen, "uniform_planes has no binary plane \"%s\"", key);
			return false;
		}
		want = (size_t) meta->dims * meta->bits[i] * 8;
		meta->planes[i] = len == want ? malloc(want) : NULL;
		if (meta->planes[i] == NULL)
		{
			free(bytes);
			snprintf(errbuf, errlen, "plane \"%s\" has %zu bytes, not %zu", key, len, want);
			return false;
		}
		for (j = 0; j < want / 8; j++)
		{
			uint64_t	bits = 0;
			int			b;

			for (b = 7; b >= 0; b--)
				bits = (bits << 8) | bytes[8 * j + b];
			memcpy(&meta->planes[i][j], &bits, sizeof(double));
		}
		free(bytes);
	}
	meta->vectors_table = wl_join(meta->id, "vectors");
	meta->buckets_table = wl_join(meta->id, "buckets");
	return meta->vectors_table != NULL && meta->buckets_table != NULL;
}

/* Reads the native settings: metric, tables, bits, seed, centre, tables. */
static bool
wl_meta_read_native(struct json_object *item, WlMeta *meta, char *errbuf, size_t errlen)
{
	const char *metric = wl_av_get_string(wl_item_get(item, "metric"));
	const char *seed = wl_av_get_string(wl_item_get(item, "seed"));
	struct json_object *center = wl_item_get(item, "center");
	int			bits;
	int			i;

	if (metric == NULL || !wl_metric_parse(metric, &meta->metric))
	{
		snprintf(errbuf, errlen, "attribute \"metric\" is missing or unknown");
		return false;
	}
	if (!wl_req_int(item, "n_tables", 1, 64, &meta->ntables, errbuf, errlen) ||
		!wl_req_int(item, "n_bits", 1, 62, &bits, errbuf, errlen))
		return false;
	if (seed == NULL || sscanf(seed, "%llu", (unsigned long long *) &meta->seed) != 1)
	{
		snprintf(errbuf, errlen, "attribute \"seed\" is missing or not a number");
		return false;
	}
	if (wl_item_get(item, "fine_bits") != NULL &&
		!wl_req_int(item, "fine_bits", 0,
					bits > WL_LSH_MAX_SEEDED_BITS - WL_LSH_MAX_SUFFIX_BITS ?
					WL_LSH_MAX_SEEDED_BITS - bits : WL_LSH_MAX_SUFFIX_BITS,
					&meta->fine_bits, errbuf, errlen))
		return false;
	meta->bits = calloc(meta->ntables, sizeof(int));
	if (meta->bits == NULL)
		return false;
	for (i = 0; i < meta->ntables; i++)
		meta->bits[i] = bits;
	if (center != NULL)
	{
		unsigned char *bytes = NULL;
		size_t		len = 0;

		meta->center = malloc(sizeof(float) * meta->dims);
		if (meta->center == NULL || wl_av_get_binary(center, &bytes, &len) != 0 ||
			len != (size_t) meta->dims * 4)
		{
			free(bytes);
			snprintf(errbuf, errlen, "attribute \"center\" does not hold %d float32s",
					 meta->dims);
			return false;
		}
		wl_store_decode_vector(bytes, meta->dims, meta->center);
		free(bytes);
	}
	if (wl_av_get_int64(wl_item_get(item, "vector_count"), &meta->vector_count) != 0)
		meta->vector_count = 0;
	if (wl_av_get_bool(wl_item_get(item, "auto_center"), &meta->auto_center) != 0)
		meta->auto_center = false;
	meta->generation = wl_req_string(item, "generation", errbuf, errlen);
	meta->vectors_table = wl_req_string(item, "vectors_table", errbuf, errlen);
	meta->buckets_table = wl_req_string(item, "buckets_table", errbuf, errlen);
	return meta->generation && meta->vectors_table && meta->buckets_table;
}

/* Reads a metadata item of either format. */
WlMeta *
wl_meta_from_item(struct json_object *item, char *errbuf, size_t errlen)
{
	WlMeta	   *meta = calloc(1, sizeof(WlMeta));
	bool		ok;

	errbuf[0] = '\0';
	if (meta == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	meta->format = wl_item_get(item, "format") ? WL_FORMAT_NATIVE : WL_FORMAT_V1;
	ok = (meta->id = wl_req_string(item, "id", errbuf, errlen)) != NULL &&
		(meta->name = wl_req_string(item, "name", errbuf, errlen)) != NULL &&
		(meta->project = wl_req_string(item, "project_name", errbuf, errlen)) != NULL &&
		(meta->stage = wl_req_string(item, "stage", errbuf, errlen)) != NULL &&
		wl_req_int(item, "n_features", 1, 65535, &meta->dims, errbuf, errlen);
	if (ok && meta->format == WL_FORMAT_NATIVE)
	{
		int			format;

		ok = wl_req_int(item, "format", WL_FORMAT_NATIVE, WL_FORMAT_NATIVE, &format,
						errbuf, errlen) &&
			wl_meta_read_native(item, meta, errbuf, errlen);
	}
	else if (ok)
		ok = wl_meta_read_v1(item, meta, errbuf, errlen);
	if (!ok)
	{
		if (errbuf[0] == '\0')
			snprintf(errbuf, errlen, "out of memory");
		wl_meta_free(meta);
		return NULL;
	}
	return meta;
}

/* UpdateItem: SET center = :c, only when there is none yet. */
struct json_object *
wl_meta_center_update(const char *table, const char *id, const float *center, int dims)
{
	struct json_object *request = json_object_new_object();
	struct json_object *values = json_object_new_object();
	unsigned char *bytes = malloc((size_t) dims * 4);

	if (request == NULL || values == NULL || bytes == NULL)
	{
		json_object_put(request);
		json_object_put(values);
		free(bytes);
		return NULL;
	}
	wl_store_encode_vector(center, dims, bytes);
	json_object_object_add(values, ":c", wl_av_binary(bytes, (size_t) dims * 4));
	free(bytes);
	json_object_object_add(request, "TableName", json_object_new_string(table));
	json_object_object_add(request, "Key", wl_store_id_key(id));
	json_object_object_add(request, "UpdateExpression", json_object_new_string("SET center = :c"));
	json_object_object_add(request, "ConditionExpression",
						   json_object_new_string("attribute_exists(id) AND attribute_not_exists(center)"));
	json_object_object_add(request, "ExpressionAttributeValues", values);
	return request;
}

/*
 * UpdateItem: ADD vector_count :d, if the collection still exists and the
 * update carrying this token has not been applied yet.  The token makes a
 * retry whose first attempt took effect (its answer lost) fail its
 * condition instead of counting twice.
 */
struct json_object *
wl_meta_count_update(const char *table, const char *id, int64_t delta,
					 const char *token)
{
	struct json_object *request = json_object_new_object();
	struct json_object *values = json_object_new_object();

	json_object_object_add(values, ":d", wl_av_number_int64(delta));
	json_object_object_add(values, ":t", wl_av_string(token));
	json_object_object_add(request, "TableName", json_object_new_string(table));
	json_object_object_add(request, "Key", wl_store_id_key(id));
	json_object_object_add(request, "UpdateExpression",
						   json_object_new_string("ADD vector_count :d SET count_token = :t"));
	json_object_object_add(request, "ConditionExpression",
						   json_object_new_string("attribute_exists(id) AND "
												  "(attribute_not_exists(count_token) OR count_token <> :t)"));
	json_object_object_add(request, "ExpressionAttributeValues", values);
	return request;
}

/* Whether a metadata item records the count update carrying token. */
int
wl_meta_count_applied(struct json_object *item, const char *token)
{
	const char *last = wl_av_get_string(wl_item_get(item, "count_token"));

	return last != NULL && strcmp(last, token) == 0;
}

/*
 * A Scan page of the metadata items of one project and stage.  v1 items
 * carry the same project_name and stage attributes, so both formats are
 * listed.
 */
struct json_object *
wl_meta_scan_request(const char *table, const char *project, const char *stage,
					 struct json_object *start_key)
{
	struct json_object *request = wl_store_scan(table, start_key, 0);
	struct json_object *values = json_object_new_object();

	json_object_object_add(request, "FilterExpression",
						   json_object_new_string("project_name = :p AND stage = :s"));
	json_object_object_add(values, ":p", wl_av_string(project));
	json_object_object_add(values, ":s", wl_av_string(stage));
	json_object_object_add(request, "ExpressionAttributeValues", values);
	return request;
}

/* The hash functions of a collection, with its centre. */
WlLsh *
wl_meta_lsh(const WlMeta *meta)
{
	WlLsh	   *lsh;

	if (meta->format == WL_FORMAT_V1)
		return wl_lsh_create_from_planes(meta->dims, meta->ntables, meta->bits,
										 (const double *const *) meta->planes);
	lsh = wl_lsh_create_seeded(meta->dims, meta->ntables, meta->bits[0] + meta->fine_bits,
							   meta->seed);
	if (lsh != NULL && meta->center != NULL && wl_lsh_set_center(lsh, meta->center) != 0)
	{
		wl_lsh_destroy(lsh);
		return NULL;
	}
	return lsh;
}

/*
 * A vector's key: native keys carry the table number and spell the fine
 * bits after a "/"; v1 keys are bare base 36, so v1's tables share one key
 * space, as the original library has it.
 */
void
wl_meta_bucket_key(const WlMeta *meta, int table, uint64_t code, char *out)
{
	if (meta->format == WL_FORMAT_V1)
		wl_lsh_key_v1(code, out);
	else
		wl_lsh_key_split(table, code, meta->bits[table] + meta->fine_bits,
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
		{
			char	   *key = keys + (size_t) (count++) * WL_LSH_KEY_MAX;

			if (meta->format == WL_FORMAT_V1)
				wl_lsh_key_v1(codes[i], key);
			else
				wl_lsh_key_split(t, codes[i], nbits, depth, key);
		}
		offset += meta->bits[t] + meta->fine_bits;
	}
	free(projections);
	free(codes);
	return count;
}

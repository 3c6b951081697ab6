/*
 * format_v1.c - the original Python library's layout, read and written as
 * it has it.
 *
 * A bucket is one item of the buckets table, keyed by the code in base 36
 * with no table number (so the tables share one key space), holding the
 * ids as a string set "ids".  The planes are stored in the metadata item
 * as float64 matrices.  Vector items do not list their keys: a write
 * recomputes the old keys from the stored vector.  Entries change with
 * UpdateItem ADD / DELETE on the set, which is atomic, unlike the
 * original's conditional put.
 */
#include "format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ddbjson.h"
#include "operations.h"
#include "store.h"

#define WL_ATTR_IDS "ids"		/* a bucket's ids (SS) */

/* What a v1 metadata item holds beyond the common settings. */
typedef struct WlV1Meta
{
	double	  **planes;			/* per table: dims x bits float64, row-major */
	double		bit_start;
	double		bit_scale_factor;
} WlV1Meta;

/* Frees the stored planes. */
static void
wl_v1_free_meta(WlMeta *meta)
{
	WlV1Meta   *v1 = meta->private;
	int			i;

	if (v1 == NULL)
		return;
	if (v1->planes != NULL)
		for (i = 0; i < meta->ntables; i++)
			free(v1->planes[i]);
	free(v1->planes);
	free(v1);
	meta->private = NULL;
}

/*
 * Reads one plane of float64 little-endian bytes into a new array when it
 * is exactly want bytes long; *len gets its length (0 when not binary).
 */
static double *
wl_v1_read_plane(struct json_object *av, size_t want, size_t *len)
{
	unsigned char *bytes = NULL;
	double	   *plane;
	size_t		j;

	*len = 0;
	if (wl_av_get_binary(av, &bytes, len) != 0)
		return NULL;
	plane = *len == want ? malloc(want) : NULL;
	for (j = 0; plane != NULL && j < want / 8; j++)
	{
		uint64_t	bits = 0;
		int			b;

		for (b = 7; b >= 0; b--)
			bits = (bits << 8) | bytes[8 * j + b];
		memcpy(&plane[j], &bits, sizeof(double));
	}
	free(bytes);
	return plane;
}

/*
 * Reads the v1 planes: uniform_planes is a map "0".."n-1" of float64
 * little-endian matrices of shape (n_features, bits_i), bits_i being
 * int(bit_start + i * bit_scale_factor).  The metric is Euclidean.
 */
static bool
wl_v1_read_meta(struct json_object *item, WlMeta *meta, char *errbuf, size_t errlen)
{
	struct json_object *planes = wl_av_get_map(wl_item_get(item, "uniform_planes"));
	WlV1Meta   *v1 = calloc(1, sizeof(WlV1Meta));
	int			i;

	meta->private = v1;
	if (v1 == NULL)
		return false;
	if (wl_av_get_double(wl_item_get(item, "bit_start"), &v1->bit_start) != 0 ||
		wl_av_get_double(wl_item_get(item, "bit_scale_factor"), &v1->bit_scale_factor) != 0 ||
		!wl_meta_int(item, "n_planes", 1, 64, &meta->ntables, errbuf, errlen))
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
	v1->planes = calloc(meta->ntables, sizeof(double *));
	if (meta->bits == NULL || v1->planes == NULL)
		return false;
	for (i = 0; i < meta->ntables; i++)
	{
		char		key[16];
		struct json_object *plane;
		double		nbits = v1->bit_start + i * v1->bit_scale_factor;
		size_t		want;
		size_t		len = 0;

		/* Checked before the cast: (int) of a double beyond int's range is undefined. */
		if (!(nbits >= 1 && nbits < 63))
		{
			snprintf(errbuf, errlen, "plane %d would have %g bits", i, nbits);
			return false;
		}
		meta->bits[i] = (int) nbits;
		snprintf(key, sizeof(key), "%d", i);
		want = (size_t) meta->dims * meta->bits[i] * 8;
		if (!json_object_object_get_ex(planes, key, &plane) ||
			(v1->planes[i] = wl_v1_read_plane(plane, want, &len)) == NULL)
		{
			if (len == 0)
				snprintf(errbuf, errlen, "uniform_planes has no binary plane \"%s\"", key);
			else
				snprintf(errbuf, errlen, "plane \"%s\" has %zu bytes, not %zu", key, len, want);
			return false;
		}
	}
	meta->vectors_table = wl_meta_join(meta->id, "vectors");
	meta->buckets_table = wl_meta_join(meta->id, "buckets");
	return meta->vectors_table != NULL && meta->buckets_table != NULL;
}

/* The stored planes, as they are: v1 reads nothing beyond its metadata. */
static void *
wl_v1_open(const WlMeta *meta, struct json_object *const *items, int nitems,
		   char *errbuf, size_t errlen)
{
	const WlV1Meta *v1 = meta->private;
	WlLsh	   *lsh = wl_lsh_create_from_planes(meta->dims, meta->ntables, meta->bits,
												(const double *const *) v1->planes);

	if (lsh == NULL)
		snprintf(errbuf, errlen, "out of memory");
	return lsh;
}

/* The copied planes still serve while the metadata stores the same ones. */
static bool
wl_v1_refresh(const WlMeta *was, const WlMeta *now, void *index)
{
	const WlV1Meta *old = was->private;
	const WlV1Meta *new = now->private;
	int			t;

	for (t = 0; t < now->ntables; t++)
		if (memcmp(old->planes[t], new->planes[t],
				   sizeof(double) * (size_t) now->dims * (size_t) now->bits[t]) != 0)
			return false;
	return true;
}

/* Ids are only hash keys. */
static int
wl_v1_max_id_len(const WlMeta *meta)
{
	return WL_ID_MAX;
}

/* Base 36, no table number: v1's tables share one key space. */
static void
wl_v1_key(const WlMeta *meta, int table, uint64_t code, int nbits, int fine, char *out)
{
	wl_lsh_key_v1(code, out);
}

/* The keys of a stored vector, recomputed from it: v1 items list none. */
static int
wl_v1_stored_keys(const WlMeta *meta, const void *lsh, struct json_object *item, char *keys)
{
	float	   *vector = malloc(sizeof(float) * (size_t) meta->dims);
	int			count = 0;

	if (vector == NULL)
		return -1;
	if (wl_store_item_vector(item, meta->dims, vector) == 0)
		count = wl_meta_vector_keys(meta, lsh, vector, keys) == 0 ? meta->ntables : -1;
	free(vector);
	return count;
}

/* The bucket items of the keys, 100 a BatchGetItem. */
static int
wl_v1_read_calls(const WlMeta *meta, const char *const *keys, int nkeys, bool consistent,
				 WlDdbCall *calls)
{
	int			ncalls = 0;
	int			i;

	for (i = 0; i < nkeys; i++)
		ncalls = wl_op_batch_get_append(calls, ncalls, meta->buckets_table, WL_ATTR_IDS,
										consistent, wl_store_id_key(keys[i]));
	return ncalls;
}

/* Every id of a bucket item, under the bucket's key. */
static void
wl_v1_entries(const WlMeta *meta, struct json_object *item, WlEntryVisitor visit, void *arg)
{
	struct json_object *ids = wl_item_get(item, WL_ATTR_IDS);
	WlEntry		entry = {0};
	int			n = wl_av_set_count(ids);
	int			i;

	entry.key = wl_store_item_id(item);	/* NULL when a search read ids alone */
	entry.malformed = false;
	for (i = 0; i < n; i++)
	{
		entry.id = wl_av_set_item(ids, i);
		if (entry.id != NULL)
			visit(&entry, arg);
	}
}

/*
 * One UpdateItem per change: ADD or DELETE of the id in the bucket's set;
 * BatchWriteItem cannot change a set.  ADD creates a missing bucket item.
 */
static int
wl_v1_change_calls(const WlMeta *meta, const WlEntryChange *changes, int n, WlDdbCall *calls)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		struct json_object *values = json_object_new_object();
		const char *one[1] = {changes[i].entry.id};

		json_object_object_add(values, ":i", wl_av_string_set(one, 1));
		wl_op_update_item(&calls[i], meta->buckets_table, wl_store_id_key(changes[i].entry.key),
						  changes[i].add ? "ADD ids :i" : "DELETE ids :i", NULL, NULL, values);
	}
	return n;
}

const WlFormat wl_format_v1 = {
	.number = 0,
	.name = "v1",
	.counts_vectors = false,
	.lists_keys = false,
	.home_buckets_only = true,
	.default_tables = 10,
	.trained = false,
	.bucket_hash_key = WL_ATTR_ID,
	.bucket_range_key = NULL,
	.keys_projection = "id,vector",
	.read_meta = wl_v1_read_meta,
	.write_meta = NULL,
	.free_meta = wl_v1_free_meta,
	.model_calls = wl_format_no_model,
	.open = wl_v1_open,
	.close = wl_format_close_lsh,
	.refresh = wl_v1_refresh,
	.key_count = wl_format_one_key_per_table,
	.vector_entries = wl_format_lsh_entries,
	.decorate = wl_format_no_decoration,
	.searchable = wl_format_always_searchable,
	.probe_keys = wl_format_lsh_probes,
	.code_bytes = wl_format_no_code,
	.max_id_len = wl_v1_max_id_len,
	.key = wl_v1_key,
	.stored_keys = wl_v1_stored_keys,
	.read_calls = wl_v1_read_calls,
	.entries = wl_v1_entries,
	.change_calls = wl_v1_change_calls,
};

/*
 * format_native.c - whiplash's own layout (format 2): one bucket entry
 * item per vector and hash table.
 *
 * A bucket is a partition of the buckets table: hash key "bucket" =
 * "<table>:<hex bits>", range key "id".  Each table hashes a vector to
 * n_bits + fine_bits bits; the fine bits lead the sort key as 0/1 digits,
 * "<fine bits>/<id>", so that a Query reads any longer prefix of a code
 * with begins_with (collections made with fine_bits 0 keep the id alone).
 * A key spells both parts: "3:a5f/011010010111".  Planes derive from the
 * seed; vectors are centred before hashing.  A vector item lists its keys,
 * so that a replace or delete removes exactly its entries.
 */
#include "format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ddbjson.h"
#include "operations.h"
#include "store.h"

#define WL_FORMAT_NATIVE 2
#define WL_ATTR_BUCKET "bucket" /* the hash key of the buckets table */

/* Reads the native settings: metric, tables, bits, seed, centre, tables. */
static bool
wl_native_read_meta(struct json_object *item, WlMeta *meta, char *errbuf, size_t errlen)
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
	if (!wl_meta_int(item, "n_tables", 1, 64, &meta->ntables, errbuf, errlen) ||
		!wl_meta_int(item, "n_bits", 1, 62, &bits, errbuf, errlen))
		return false;
	if (seed == NULL || sscanf(seed, "%llu", (unsigned long long *) &meta->seed) != 1)
	{
		snprintf(errbuf, errlen, "attribute \"seed\" is missing or not a number");
		return false;
	}
	if (wl_item_get(item, "fine_bits") != NULL &&
		!wl_meta_int(item, "fine_bits", 0,
					 bits > WL_LSH_MAX_SEEDED_BITS - WL_LSH_MAX_SUFFIX_BITS ?
					 WL_LSH_MAX_SEEDED_BITS - bits : WL_LSH_MAX_SUFFIX_BITS,
					 &meta->fine_bits, errbuf, errlen))
		return false;
	if (!wl_meta_planes_fit(meta->dims, meta->ntables, bits + meta->fine_bits))
	{
		snprintf(errbuf, errlen,
				 "its %d tables of %d bits over %d dimensions need more planes than whiplash derives",
				 meta->ntables, bits + meta->fine_bits, meta->dims);
		return false;
	}
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
	meta->generation = wl_meta_string(item, "generation", errbuf, errlen);
	meta->vectors_table = wl_meta_string(item, "vectors_table", errbuf, errlen);
	meta->buckets_table = wl_meta_string(item, "buckets_table", errbuf, errlen);
	return meta->generation && meta->vectors_table && meta->buckets_table;
}

/* Adds the native settings to a metadata item. */
static void
wl_native_write_meta(const WlMeta *meta, struct json_object *item)
{
	char		seed[32];

	snprintf(seed, sizeof(seed), "%llu", (unsigned long long) meta->seed);
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
}

/*
 * Planes from the seed over bits + fine bits, and the centre: format 2
 * reads nothing beyond its metadata.
 */
static void *
wl_native_open(const WlMeta *meta, struct json_object *const *items, int nitems,
			   char *errbuf, size_t errlen)
{
	WlLsh	   *lsh = wl_lsh_create_seeded(meta->dims, meta->ntables,
										   meta->bits[0] + meta->fine_bits, meta->seed);

	if (lsh != NULL && meta->center != NULL && wl_lsh_set_center(lsh, meta->center) != 0)
	{
		wl_lsh_destroy(lsh);
		lsh = NULL;
	}
	if (lsh == NULL)
		snprintf(errbuf, errlen, "out of memory");
	return lsh;
}

/*
 * The planes depend on the seed and the shape alone, which a generation
 * never changes: only a centre learned since is new.
 */
static bool
wl_native_refresh(const WlMeta *was, const WlMeta *now, void *index)
{
	return now->center == NULL || wl_lsh_set_center(index, now->center) == 0;
}

/* The sort key "<fine bits>/<id>" must fit DynamoDB's 1,024 bytes. */
static int
wl_native_max_id_len(const WlMeta *meta)
{
	return meta->fine_bits > 0 ? WL_SORT_KEY_MAX - meta->fine_bits - 1 : WL_SORT_KEY_MAX;
}

/* "<table>:<hex>" or "<table>:<hex>/<fine bits>". */
static void
wl_native_key(const WlMeta *meta, int table, uint64_t code, int nbits, int fine, char *out)
{
	wl_lsh_key_split(table, code, nbits, fine, out);
}

/* The keys a vector item lists. */
static int
wl_native_stored_keys(const WlMeta *meta, const void *lsh, struct json_object *item,
					  char *keys)
{
	int			n = wl_store_item_key_count(item);
	int			k;

	for (k = 0; k < n && k < meta->ntables && wl_store_item_key(item, k) != NULL; k++)
		snprintf(keys + (size_t) k * WL_LSH_KEY_MAX, WL_LSH_KEY_MAX, "%s",
				 wl_store_item_key(item, k));
	return k;
}

/* A vector item lists its keys, so that a replace removes exactly those. */
static void
wl_native_decorate(const WlMeta *meta, const void *index, const char *keys, int nkeys,
				   struct json_object *item)
{
	const char *list[WL_LSH_MAX_BITS];
	int			t;

	for (t = 0; t < nkeys && t < WL_LSH_MAX_BITS; t++)
		list[t] = keys + (size_t) t * WL_LSH_KEY_MAX;
	json_object_object_add(item, WL_ATTR_KEYS, wl_av_string_set(list, t));
}

/*
 * A Query for the entries under a key: a whole bucket, or for a key with
 * fine bits ("<bucket>/<digits>") the entries whose sort key begins with
 * those digits.  The sort key holds the id, so projecting it alone reads
 * the least.
 */
static int
wl_native_read_calls(const WlMeta *meta, const char *const *keys, int nkeys, bool consistent,
					 WlDdbCall *calls)
{
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		struct json_object *names = json_object_new_object();
		struct json_object *values = json_object_new_object();
		const char *slash = strchr(keys[i], '/');

		json_object_object_add(names, "#b", json_object_new_string(WL_ATTR_BUCKET));
		json_object_object_add(names, "#i", json_object_new_string(WL_ATTR_ID));
		json_object_object_add(values, ":b",
							   wl_av_string_len(keys[i], slash ? (size_t) (slash - keys[i]) :
												strlen(keys[i])));
		if (slash)
			json_object_object_add(values, ":p", wl_av_string(slash + 1));
		wl_op_query(&calls[i], meta->buckets_table,
					slash ? "#b = :b AND begins_with(#i, :p)" : "#b = :b", "#i",
					names, values, consistent);
	}
	return nkeys;
}

/*
 * The entry of a bucket item: its key is the bucket and, with fine bits,
 * the digits that lead its sort key (NULL when the item was read without
 * its bucket: a search's Query projects the sort key alone).  A sort key
 * not of the form "<fine bits>/<id>" is visited as it stands, marked
 * malformed.
 */
static void
wl_native_entries(const WlMeta *meta, struct json_object *item, WlEntryVisitor visit,
				  void *arg)
{
	const char *bucket = wl_av_get_string(wl_item_get(item, WL_ATTR_BUCKET));
	const char *sort = wl_store_item_id(item);
	char		key[WL_LSH_KEY_MAX];
	int			fine = meta->fine_bits;
	WlEntry		entry = {0};

	if (sort == NULL)
		return;
	entry.key = bucket;
	entry.id = sort;
	entry.malformed = false;
	if (fine > 0)
	{
		if (strlen(sort) > (size_t) fine && sort[fine] == '/' &&
			strspn(sort, "01") == (size_t) fine &&
			(bucket == NULL ||
			 snprintf(key, sizeof(key), "%s/%.*s", bucket, fine, sort) < (int) sizeof(key)))
		{
			entry.key = bucket ? key : NULL;
			entry.id = sort + fine + 1;
		}
		else
			entry.malformed = true;
	}
	visit(&entry, arg);
}

/*
 * The item of an entry: {"bucket": key, "id": id}, or for a key with fine
 * bits ("<bucket>/<digits>") {"bucket": bucket, "id": "<digits>/<id>"}.
 */
static struct json_object *
wl_native_entry_item(const WlEntry *entry)
{
	struct json_object *item = json_object_new_object();
	const char *slash = strchr(entry->key, '/');

	if (item == NULL)
		return NULL;
	if (slash == NULL)
	{
		json_object_object_add(item, WL_ATTR_BUCKET, wl_av_string(entry->key));
		json_object_object_add(item, WL_ATTR_ID, wl_av_string(entry->id));
	}
	else
	{
		size_t		len = strlen(slash + 1) + 1 + strlen(entry->id) + 1;
		char	   *sort = malloc(len);

		if (sort == NULL)
		{
			json_object_put(item);
			return NULL;
		}
		snprintf(sort, len, "%s/%s", slash + 1, entry->id);
		json_object_object_add(item, WL_ATTR_BUCKET,
							   wl_av_string_len(entry->key, (size_t) (slash - entry->key)));
		json_object_object_add(item, WL_ATTR_ID, wl_av_string(sort));
		free(sort);
	}
	return item;
}

/* Puts and deletes of entry items, 25 a BatchWriteItem. */
static int
wl_native_change_calls(const WlMeta *meta, const WlEntryChange *changes, int n,
					   WlDdbCall *calls)
{
	int			ncalls = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		struct json_object *item = wl_native_entry_item(&changes[i].entry);

		ncalls = wl_op_batch_write_append(calls, ncalls, meta->buckets_table,
										  changes[i].add ? wl_op_put_request(item) :
										  wl_op_delete_request(item));
	}
	return ncalls;
}

const WlFormat wl_format_native = {
	.number = WL_FORMAT_NATIVE,
	.name = "native",
	.counts_vectors = true,
	.lists_keys = true,
	.home_buckets_only = false,
	.default_tables = 10,
	.trained = false,
	.bucket_hash_key = WL_ATTR_BUCKET,
	.bucket_range_key = WL_ATTR_ID,
	.keys_projection = "id,keys",
	.read_meta = wl_native_read_meta,
	.write_meta = wl_native_write_meta,
	.free_meta = NULL,
	.model_calls = wl_format_no_model,
	.open = wl_native_open,
	.close = wl_format_close_lsh,
	.refresh = wl_native_refresh,
	.key_count = wl_format_one_key_per_table,
	.vector_entries = wl_format_lsh_entries,
	.decorate = wl_native_decorate,
	.searchable = wl_format_always_searchable,
	.probe_keys = wl_format_lsh_probes,
	.code_bytes = wl_format_no_code,
	.max_id_len = wl_native_max_id_len,
	.key = wl_native_key,
	.stored_keys = wl_native_stored_keys,
	.read_calls = wl_native_read_calls,
	.entries = wl_native_entries,
	.change_calls = wl_native_change_calls,
};

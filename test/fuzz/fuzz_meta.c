/*
 * fuzz_meta.c - fuzzes the reading of collection metadata items
 * (wl_meta_from_item in meta.c, native and v1 formats) and, when an item
 * reads, everything a backend then does with it: wl_meta_lsh,
 * wl_meta_bucket_key, wl_meta_vector_keys and wl_meta_probe_keys with
 * vectors of the item's dims, writing it back (wl_meta_to_item, for native
 * items) and wl_meta_free.
 *
 * Why: whiplash_metadata is shared by every user of a DynamoDB account and
 * holds items the original Python library wrote (v1: plane matrices as
 * float64 bytes, bit counts as arbitrary numbers), so every attribute is
 * untrusted: counts, sizes, numbers with exponents, binary lengths.  The
 * settings read here size every later allocation and loop of a search.
 *
 * Input: a metadata item, or a GetItem / Scan response holding some, parsed
 * as the client parses responses.
 *
 * The planes of a native collection are derived from its seed, which costs
 * time and memory in proportion to dims x tables x bits, as the collection
 * declares them (up to 65535 x 64 x 62, by design); hashing is only tried
 * below MAX_PLANE_VALUES so that each input stays fast.
 */
#include "fuzz.h"
#include "format.h"
#include "meta.h"
#include "operations.h"
#include "store.h"

#define MAX_PLANE_VALUES 32768
#define MAX_PROBES 12

/* The LSH index of a v1 or native collection, as its format opens it. */
static WlLsh *
test_index(const WlMeta *meta)
{
	char		err[256];

	return meta->format->open(meta, NULL, 0, err, sizeof(err));
}

/* A reproducible vector from a seed; some of its values are extreme. */
static void
make_vector(float *vector, int dims, uint64_t seed)
{
	static const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, 1e30f, -1e-30f, 3.4e38f};
	int			f;

	for (f = 0; f < dims; f++)
	{
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		if ((seed >> 60) == 0)
			vector[f] = specials[(seed >> 32) % 7];
		else
			vector[f] = (float) ((int64_t) (seed >> 33) - (1LL << 30)) / (float) (1 << 30);
	}
}

/* Is key a terminated string that fits a key slot? */
static void
check_key(const char *key)
{
	FUZZ_CHECK(memchr(key, '\0', WL_LSH_KEY_MAX) != NULL && key[0] != '\0',
			   "a bucket key fits its slot");
}

/* Hashes a few vectors with the collection's LSH. */
static void
hash_vectors(const WlMeta *meta, uint64_t seed)
{
	WlLsh	   *lsh = test_index(meta);
	float	   *vector;
	char	   *keys;
	int			v;
	int			t;

	if (lsh == NULL)
		return;
	vector = malloc(sizeof(float) * (size_t) meta->dims);
	keys = malloc((size_t) meta->ntables * MAX_PROBES * WL_LSH_KEY_MAX);
	if (vector == NULL || keys == NULL)
		abort();
	for (v = 0; v < 3; v++)
	{
		int			nprobes = v == 0 ? 1 : v == 1 ? 3 : MAX_PROBES;
		int			count;
		int			k;

		if (v == 2 && meta->center != NULL)
			memcpy(vector, meta->center, sizeof(float) * (size_t) meta->dims);
		else
			make_vector(vector, meta->dims, seed + (uint64_t) v);
		FUZZ_CHECK(wl_meta_vector_keys(meta, lsh, vector, keys) == 0, "vector keys");
		for (t = 0; t < meta->ntables; t++)
			check_key(keys + (size_t) t * WL_LSH_KEY_MAX);
		count = wl_meta_probe_keys(meta, lsh, vector, nprobes, v % 2 ? meta->fine_bits : 0,
								   keys);
		FUZZ_CHECK(count >= meta->ntables && count <= meta->ntables * nprobes,
				   "probe keys: at least the home buckets, at most nprobes a table");
		for (k = 0; k < count; k++)
			check_key(keys + (size_t) k * WL_LSH_KEY_MAX);
	}
	for (t = 0; t < meta->ntables; t++)
	{
		wl_meta_bucket_key(meta, t, 0, keys);
		check_key(keys);
		wl_meta_bucket_key(meta, t, UINT64_MAX >> (64 - meta->bits[t] - meta->fine_bits), keys);
		check_key(keys);
	}
	free(keys);
	free(vector);
	wl_lsh_destroy(lsh);
}

/*
 * A packed collection opens without its model items (as before its first
 * training) or says why not, and an open one keys a vector under as many
 * keys as it says.
 */
static void
open_packed(const WlMeta *meta, uint64_t seed)
{
	char		errbuf[256];
	void	   *index;
	float	   *vector;
	char	   *keys;
	unsigned char *codes;
	int			nkeys;
	int			t;

	memset(errbuf, 'x', sizeof(errbuf));
	index = meta->format->open(meta, NULL, 0, errbuf, sizeof(errbuf));
	FUZZ_CHECK(index != NULL || memchr(errbuf, '\0', sizeof(errbuf)) != NULL,
			   "a refused index has a terminated reason");
	if (index == NULL)
		return;
	nkeys = meta->format->key_count(meta, index);
	FUZZ_CHECK(nkeys >= 0 && nkeys <= 2 * meta->ntables, "at most two indexes' keys");
	vector = malloc(sizeof(float) * (size_t) meta->dims);
	keys = malloc((size_t) WL_LSH_KEY_MAX * (nkeys + 1));
	codes = malloc((size_t) (meta->format->code_bytes(meta) + 1) * (nkeys + 1));
	FUZZ_CHECK(vector && keys && codes, "memory");
	make_vector(vector, meta->dims, seed);
	if (meta->format->vector_entries(meta, index, vector, keys, codes) == 0)
		for (t = 0; t < nkeys; t++)
			check_key(keys + (size_t) t * WL_LSH_KEY_MAX);
	free(vector);
	free(keys);
	free(codes);
	meta->format->close(index);
}

/* A native collection's item, written back, reads back the same. */
static void
round_trip(const WlMeta *meta)
{
	struct json_object *item = wl_meta_to_item(meta);
	char		errbuf[256];
	WlMeta	   *back = wl_meta_from_item(item, errbuf, sizeof(errbuf));

	if (back == NULL)
		fprintf(stderr, "written back, the item does not read: %s\n", errbuf);
	FUZZ_CHECK(back != NULL, "a native item written back reads");
	FUZZ_CHECK(back->format == meta->format && back->dims == meta->dims &&
			   back->ntables == meta->ntables && back->bits[0] == meta->bits[0] &&
			   back->seed == meta->seed && back->metric == meta->metric &&
			   back->auto_center == meta->auto_center &&
			   strcmp(back->id, meta->id) == 0 && strcmp(back->name, meta->name) == 0 &&
			   strcmp(back->generation, meta->generation) == 0 &&
			   strcmp(back->vectors_table, meta->vectors_table) == 0 &&
			   strcmp(back->buckets_table, meta->buckets_table) == 0 &&
			   (back->center == NULL) == (meta->center == NULL) &&
			   (meta->center == NULL ||
				memcmp(back->center, meta->center, sizeof(float) * (size_t) meta->dims) == 0),
			   "a native item round-trips");
	wl_meta_free(back);
	json_object_put(item);
}

/* Reads one candidate metadata item and uses what it gives. */
static void
read_meta(struct json_object *item, uint64_t seed)
{
	char		errbuf[256];
	WlMeta	   *meta;
	long		values = 0;
	int			t;

	memset(errbuf, 'x', sizeof(errbuf));
	meta = wl_meta_from_item(item, errbuf, sizeof(errbuf));
	FUZZ_CHECK(memchr(errbuf, '\0', sizeof(errbuf)) != NULL, "errbuf is terminated");
	if (meta == NULL)
	{
		FUZZ_CHECK(errbuf[0] != '\0', "a refused item has a reason");
		return;
	}
	FUZZ_CHECK(meta->format == &wl_format_native || meta->format == &wl_format_v1 ||
			   meta->format == &wl_format_packed, "format");
	FUZZ_CHECK(meta->dims >= 1 && meta->dims <= 65535, "dims in range");
	FUZZ_CHECK(meta->ntables >= 1 && meta->ntables <= 64, "tables in range");
	FUZZ_CHECK(meta->id && meta->name && meta->project && meta->stage &&
			   meta->vectors_table && meta->buckets_table, "names are set");
	FUZZ_CHECK(meta->format == &wl_format_v1 || meta->generation != NULL, "a generation");
	for (t = 0; t < meta->ntables; t++)
	{
		FUZZ_CHECK(meta->bits[t] >= 1 && meta->bits[t] <= 62, "bits in range");
		values += (long) meta->bits[t] * meta->dims;
	}
	if (meta->format == &wl_format_packed)
		open_packed(meta, seed);
	else if (values <= MAX_PLANE_VALUES)
		hash_vectors(meta, seed);
	if (meta->format == &wl_format_native)
		round_trip(meta);
	wl_meta_free(meta);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *response = fuzz_response(data, size);
	struct json_object *items;
	WlDdbCall	call;
	uint64_t	seed = 1469598103934665603ULL;
	size_t		i;
	int			n;

	if (response == NULL)
		return 0;
	for (i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 1099511628211ULL;

	memset(&call, 0, sizeof(call));
	call.table = "whiplash_metadata";
	call.response = response;
	read_meta(response, seed);
	read_meta(wl_op_get_item_result(&call), seed);
	n = wl_op_items(&call, &items);
	for (i = 0; i < (size_t) n && i < 8; i++)
		read_meta(wl_op_item_at(items, (int) i), seed);
	json_object_put(response);
	return 0;
}

/*
 * format.c - the registry of storage formats.
 *
 * A metadata item names its format by number (none: v1); collections are
 * created in the current format.  A new format is registered here.
 */
#include "format.h"

#include <stddef.h>
#include <string.h>

static const WlFormat *const wl_formats[] = {
	&wl_format_v1,
	&wl_format_native,
	&wl_format_packed,
};

/* The format of a metadata item's format number; NULL when unknown. */
const WlFormat *
wl_format_by_number(int number)
{
	size_t		i;

	for (i = 0; i < sizeof(wl_formats) / sizeof(wl_formats[0]); i++)
		if (wl_formats[i]->number == number)
			return wl_formats[i];
	return NULL;
}

/* The format of a name, as whiplash_collections shows it. */
const WlFormat *
wl_format_by_name(const char *name)
{
	size_t		i;

	for (i = 0; i < sizeof(wl_formats) / sizeof(wl_formats[0]); i++)
		if (strcmp(wl_formats[i]->name, name) == 0)
			return wl_formats[i];
	return NULL;
}

/*
 * The format new collections get when none is named: packed, which reads
 * about a tenth of native's units for a higher recall on every benchmark
 * set (BENCHMARKS.md).
 */
const WlFormat *
wl_format_current(void)
{
	return &wl_format_packed;
}

/*
 * The parts that formats hashing with plain LSH (v1, native) share: their
 * index is a WlLsh, made from the metadata alone, and they keep no codes.
 */

/* No model beyond the metadata. */
int
wl_format_no_model(const WlMeta *meta, WlDdbCall *calls)
{
	return 0;
}

/* Frees an index that is a WlLsh. */
void
wl_format_close_lsh(void *index)
{
	wl_lsh_destroy(index);
}

/* A vector's keys by its LSH projections; no code. */
int
wl_format_lsh_entries(const WlMeta *meta, const void *index, const float *vector,
					  char *keys, unsigned char *code)
{
	return wl_meta_vector_keys(meta, index, vector, keys);
}

/* A query's multi-probe keys by its LSH projections. */
int
wl_format_lsh_probes(const WlMeta *meta, const void *index, const float *query,
					 int nprobes, int depth, char *keys)
{
	return wl_meta_probe_keys(meta, index, query, nprobes, depth, keys);
}

/* No code in the entries. */
int
wl_format_no_code(const WlMeta *meta)
{
	return 0;
}

/* One key per table. */
int
wl_format_one_key_per_table(const WlMeta *meta, const void *index)
{
	return meta->ntables;
}

/* Every LSH index can be probed. */
bool
wl_format_always_searchable(const WlMeta *meta, const void *index)
{
	return true;
}

/* Nothing kept in vector items about their entries (v1). */
void
wl_format_no_decoration(const WlMeta *meta, const void *index, const char *keys, int nkeys,
						struct json_object *item)
{
}

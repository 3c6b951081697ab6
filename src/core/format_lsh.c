/*
 * format_lsh.c - the parts that formats hashing with plain LSH (v1,
 * native) share: their index is a WlLsh, made from the metadata alone, and
 * they keep no codes.
 */
#include "format.h"

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
					 int nprobes, int depth, double spread, char *keys)
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

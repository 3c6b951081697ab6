/*
 * meta.h - a collection's metadata item in whiplash_metadata, in both the
 * native format and the original library's (v1), and the LSH it implies
 * (Postgres-free).
 */
#ifndef WL_META_H
#define WL_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "distance.h"
#include "lsh.h"

struct json_object;

#define WL_FORMAT_V1 1			/* the original Python library's */
#define WL_FORMAT_NATIVE 2

/* Fine bits of new native collections unless they say otherwise. */
#define WL_META_FINE_BITS 12

typedef struct WlMeta
{
	char	   *id;				/* {project}_{stage}_{name} */
	char	   *name;
	char	   *project;
	char	   *stage;
	int			format;
	int			dims;
	WlMetric	metric;
	int			ntables;
	int		   *bits;			/* per table: the bits of a bucket's key */
	int			fine_bits;		/* native: further code bits in each entry's
								 * sort key, read as buckets fill (0 in
								 * collections made before there were any) */
	uint64_t	seed;			/* native: planes derive from it */
	char	   *generation;		/* native: tells re-created collections apart */
	float	   *center;			/* native: subtracted before hashing, or NULL */
	bool		auto_center;	/* native: the first write batch sets center */
	double	  **planes;			/* v1: the stored planes, per table */
	double		bit_start;		/* v1 */
	double		bit_scale_factor;	/* v1 */
	char	   *vectors_table;
	char	   *buckets_table;
	int64_t		vector_count;	/* native: approximate, kept by writers */
} WlMeta;

/*
 * A new native collection's metadata: table names derive from id and
 * generation.  fine_bits must be at most WL_LSH_MAX_SUFFIX_BITS and
 * WL_LSH_MAX_SEEDED_BITS - bits.  Returns NULL when out of memory.
 */
extern WlMeta *wl_meta_new_native(const char *project, const char *stage,
								  const char *name, int dims, WlMetric metric,
								  int ntables, int bits, int fine_bits, uint64_t seed,
								  const char *generation, const float *center,
								  bool auto_center);

/* The metadata item of a native collection (v1 items are never written). */
extern struct json_object *wl_meta_to_item(const WlMeta *meta);

/*
 * Reads a metadata item of either format.  Returns NULL with a lower-case
 * reason in errbuf when the item is malformed.
 */
extern WlMeta *wl_meta_from_item(struct json_object *item, char *errbuf, size_t errlen);

/* The hash functions of a collection; NULL when out of memory. */
extern WlLsh *wl_meta_lsh(const WlMeta *meta);

/*
 * The key of a vector whose code in table `table` is `code` (bits and fine
 * bits), in the collection's format.
 */
extern void wl_meta_bucket_key(const WlMeta *meta, int table, uint64_t code, char *out);

/*
 * An UpdateItem that sets the centre of collection id once: it fails with
 * ConditionalCheckFailedException when a centre is already there.
 */
extern struct json_object *wl_meta_center_update(const char *table, const char *id,
												  const float *center, int dims);

/*
 * An UpdateItem adding delta to a collection's vector_count, only while
 * its metadata item exists (a dropped collection is not brought back) and
 * only once per token: a fresh random token per update, kept across its
 * retries.  ConditionalCheckFailedException then means either that the
 * collection is gone or, when wl_meta_count_applied says so of the item
 * read back, that an earlier attempt took effect.
 */
extern struct json_object *wl_meta_count_update(const char *table, const char *id,
												 int64_t delta, const char *token);
extern int	wl_meta_count_applied(struct json_object *item, const char *token);

/*
 * A Scan page of the metadata table for the collections of one project
 * and stage, continuing after start_key when not NULL.
 */
extern struct json_object *wl_meta_scan_request(const char *table, const char *project,
												 const char *stage,
												 struct json_object *start_key);

/*
 * The home bucket key of vector in every table, into keys (ntables slots of
 * WL_LSH_KEY_MAX bytes).  Returns 0, or -1 when out of memory.
 */
extern int	wl_meta_vector_keys(const WlMeta *meta, const WlLsh *lsh,
								const float *vector, char *keys);

/*
 * How many fine bits a search of a collection of vector_count vectors
 * reads: the fewest (up to fine_bits) that bring the average number of
 * entries under one probed key to bucket_capacity or below.  So buckets
 * grow finer as the collection grows, with nothing re-written.
 */
extern int	wl_meta_search_depth(const WlMeta *meta, int64_t vector_count,
								 int bucket_capacity);

/*
 * The keys to probe for a query: for every table, up to nprobes keys in
 * multi-probe order (the home bucket first) over the table's bits and
 * `depth` fine bits (see wl_meta_search_depth), into keys (ntables *
 * nprobes slots of WL_LSH_KEY_MAX bytes).  Returns how many were written,
 * or -1 when out of memory.  v1 keys of different tables may repeat.
 */
extern int	wl_meta_probe_keys(const WlMeta *meta, const WlLsh *lsh,
							   const float *query, int nprobes, int depth, char *keys);

/* Frees everything; NULL is a no-op. */
extern void wl_meta_free(WlMeta *meta);

#endif							/* WL_META_H */

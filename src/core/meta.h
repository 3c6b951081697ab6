/*
 * meta.h - a collection's metadata item in whiplash_metadata and the keys
 * its hash functions give (Postgres-free).
 *
 * The settings every format shares are read here; each format reads its
 * own (format.h) and spells its keys.
 */
#ifndef WL_META_H
#define WL_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "distance.h"
#include "dynamodb.h"
#include "lsh.h"

struct json_object;
struct WlFormat;

/* Fine bits of new native collections unless they say otherwise. */
#define WL_META_FINE_BITS 12

/* The most dimensions a vector may have, as in pgvector. */
#define WL_META_MAX_DIMS 16000

/*
 * The most plane coefficients (dimensions x tables x bits, fine bits
 * included) a seeded index derives: 64 MB of doubles.  Metadata asking for
 * more is refused before anything is allocated.
 */
#define WL_META_MAX_PLANE_VALUES (1 << 23)

/* Whether ntables tables of bits bits over dims dimensions stay within it. */
extern bool wl_meta_planes_fit(int dims, int ntables, int bits);

typedef struct WlMeta
{
	char	   *id;				/* {project}_{stage}_{name} */
	char	   *name;
	char	   *project;
	char	   *stage;
	const struct WlFormat *format;
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
	void	   *private;		/* the format's own settings (v1: planes) */
	char		index_state[32];	/* what changes when its index does: a
									 * writer holding other settings re-reads */
	uint64_t	unseen_state;	/* packed: changes with the values written
								 * that its index's statistics do not list
								 * (packed.h); a search holding another
								 * re-reads */
	char	   *vectors_table;
	char	   *buckets_table;
	int64_t		vector_count;	/* native: approximate, kept by writers */
} WlMeta;

/*
 * A new collection's metadata in a format (wl_format_current() for new
 * collections): table names derive from id and generation.  fine_bits
 * must be at most WL_LSH_MAX_SUFFIX_BITS and WL_LSH_MAX_SEEDED_BITS - bits.
 * Returns NULL when out of memory.
 */
extern WlMeta *wl_meta_new(const struct WlFormat *format, const char *project, const char *stage,
						   const char *name, int dims, WlMetric metric,
						   int ntables, int bits, int fine_bits, uint64_t seed,
						   const char *generation, const float *center,
						   bool auto_center);

/* The metadata item of a collection (v1 items are never written: NULL). */
extern struct json_object *wl_meta_to_item(const WlMeta *meta);

/*
 * Reads a metadata item's common settings into a new WlMeta (its format
 * left NULL), and its format number (0 when absent: the original
 * library's) into *number; NULL with a lower-case reason in errbuf when
 * they are malformed.  wl_meta_from_item (format.h) reads the rest.
 */
extern WlMeta *wl_meta_read_common(struct json_object *item, int *number, char *errbuf,
								   size_t errlen);

/*
 * Whether a metadata item's tables are its collection's own, named
 * "<project>_<stage>_<name>[_<generation>]_vectors" and "..._buckets": an
 * item copied under another project or stage, keeping its table names,
 * must never lead a server to that project's tables.  False with the
 * reason in errbuf.
 */
extern bool wl_meta_tables_own(const WlMeta *meta, char *errbuf, size_t errlen);


/*
 * The key of a vector whose code in table `table` is `code` (bits and fine
 * bits), in the collection's format.
 */
extern void wl_meta_bucket_key(const WlMeta *meta, int table, uint64_t code, char *out);

/* A new copy of a string; NULL stays NULL (and out of memory gives NULL). */
extern char *wl_meta_strdup(const char *s);

/* "{prefix}_{suffix}" in a new string, or NULL when out of memory. */
extern char *wl_meta_join(const char *prefix, const char *suffix);

/*
 * A copy of the string attribute name of item; NULL, with a reason in
 * errbuf, when it is missing or not a string.
 */
extern char *wl_meta_string(struct json_object *item, const char *name,
							char *errbuf, size_t errlen);

/*
 * The integer attribute name of item into *out when it lies in [min, max];
 * false, with a reason in errbuf, otherwise.
 */
extern bool wl_meta_int(struct json_object *item, const char *name, int min, int max,
						int *out, char *errbuf, size_t errlen);

/*
 * An UpdateItem that sets the centre of collection id once: it fails with
 * ConditionalCheckFailedException when a centre is already there.
 */
extern void wl_meta_center_call(WlDdbCall *call, const char *table, const char *id,
								const float *center, int dims);

/*
 * An UpdateItem adding delta to a collection's vector_count, only while
 * its metadata item exists (a dropped collection is not brought back) and
 * only once per token: a fresh random token per update, kept across its
 * retries.  ConditionalCheckFailedException then means either that the
 * collection is gone or, when wl_meta_count_applied says so of the item
 * read back, that an earlier attempt took effect.
 */
extern void wl_meta_count_call(WlDdbCall *call, const char *table, const char *id,
							   int64_t delta, const char *token);
extern int	wl_meta_count_applied(struct json_object *item, const char *token);

/* A Scan of the metadata table for the collections of one project and stage. */
extern void wl_meta_scan_call(WlDdbCall *call, const char *table, const char *project,
							  const char *stage);

/* GetItem of a metadata item by id, strongly consistent. */
extern void wl_meta_get_call(WlDdbCall *call, const char *table, const char *id);

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

/*
 * Do two reads of a collection's metadata index alike: the same format,
 * table generation and index state?  A writer whose settings differ from
 * the metadata's now reads them again before it writes.
 */
extern bool wl_meta_same_index(const WlMeta *a, const WlMeta *b);

/*
 * Do two reads of a collection's metadata give its index the same shape:
 * dimensions, tables, bits and seed?  Only tampering changes them within a
 * generation, and an index kept across reads must still fit.
 */
extern bool wl_meta_same_shape(const WlMeta *a, const WlMeta *b);

/* Are two reads of a collection's metadata of the same table generation? */
extern bool wl_meta_same_generation(const WlMeta *a, const WlMeta *b);

/* Frees everything; NULL is a no-op. */
extern void wl_meta_free(WlMeta *meta);

#endif							/* WL_META_H */

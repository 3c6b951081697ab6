/*
 * format.h - a storage format: how a collection's bucket entries are keyed,
 * written, read and checked (Postgres-free).
 *
 * Everything that differs between the original library's layout (v1) and
 * whiplash's own lives behind this interface, one file per format
 * (format_v1.c, format_native.c, format_packed.c), so that the glue never asks which format
 * a collection has.  A format turns entry changes and probed keys into
 * DynamoDB calls (built with operations.h) and reads entries back out of
 * the items its calls return.  Adding a format is a new file and one line
 * in format.c's registry.
 */
#ifndef WL_FORMAT_H
#define WL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dynamodb.h"
#include "lsh.h"
#include "meta.h"

struct json_object;

/*
 * One bucket entry: the key it is under (as keys are spelled; NULL when
 * the item was read without it) and its id.  A malformed entry, read back,
 * names no vector: key and id are what the item holds, so that a repair
 * can remove it.
 */
typedef struct WlEntry
{
	const char *key;
	const char *id;
	const unsigned char *code;	/* the vector's code, in formats that keep one */
	bool		malformed;
	bool		stray;			/* an item of no index of the collection (an old
								 * index's, another format's): key and id are
								 * its partition and sort key, and removing the
								 * entry removes the item */
	bool		bad_name;		/* a record whose name spells no id (another
								 * tool wrote it): id is the name itself, and
								 * removing the entry removes that attribute */
	const unsigned char *slots; /* the attributes a packed record carries
								 * after its code (recordattrs.h): read, or
								 * to write (wl_packed_key_record; NULL: not
								 * known, and written as saying nothing) */
} WlEntry;

/* A change to the bucket entries: an entry to add or to remove. */
typedef struct WlEntryChange
{
	WlEntry		entry;
	bool		add;
} WlEntryChange;

/* Called for each entry an item of the buckets table holds. */
typedef void (*WlEntryVisitor) (const WlEntry *entry, void *arg);

typedef struct WlFormat
{
	int			number;			/* the metadata's "format"; v1 items have none */
	const char *name;			/* as whiplash_collections shows it */
	bool		counts_vectors; /* writers keep the metadata's vector_count */
	bool		lists_keys;		/* a vector item lists its keys (SS "keys") */
	bool		home_buckets_only;	/* searches read what the original library
									 * reads: home buckets, every candidate */
	int			default_tables; /* a new collection's tables when not given */
	bool		trained;		/* learns its centre and bucket bits from its
								 * own vectors: creation takes neither */

	/* The key schema of the buckets table: hash key, range key or NULL. */
	const char *bucket_hash_key;
	const char *bucket_range_key;

	/*
	 * What phase 1 of a write reads of a vector item: its stored keys (NULL:
	 * the whole item).
	 */
	const char *keys_projection;

	/*
	 * Reads the format's own settings from a metadata item into meta (the
	 * common ones are read already); false with a reason in errbuf.
	 */
	bool		(*read_meta) (struct json_object *item, WlMeta *meta,
							  char *errbuf, size_t errlen);

	/* Adds the format's own settings to a metadata item (NULL: never written). */
	void		(*write_meta) (const WlMeta *meta, struct json_object *item);

	/* Frees what read_meta kept in meta->private. */
	void		(*free_meta) (WlMeta *meta);

	/*
	 * The calls that read what a collection's index needs beyond its
	 * metadata (trained models), into calls (room for 2); returns how many.
	 */
	int			(*model_calls) (const WlMeta *meta, WlDdbCall *calls);

	/*
	 * A name of what the model calls read into buf: the same for as long
	 * as they would read the same items, which a cache may then keep.
	 * False when there is nothing to keep or it does not fit.  NULL: the
	 * format's model calls read nothing.
	 */
	bool		(*model_key) (const WlMeta *meta, char *buf, size_t len);

	/*
	 * The collection's index, as the format uses it: its hash functions,
	 * and its code model if it has one, made from the metadata and the
	 * items the model calls read.  NULL with a reason in errbuf when those
	 * are malformed or memory runs out.  Freed with close.
	 */
	void	   *(*open) (const WlMeta *meta, struct json_object *const *items, int nitems,
						 char *errbuf, size_t errlen);
	void		(*close) (void *index);

	/*
	 * Brings an index opened from an earlier read of the metadata, was, up
	 * to a new read of the same index and shape (wl_meta_same_index,
	 * wl_meta_same_shape), now, so that a backend derives it once per
	 * collection and generation: a native collection may have learned its
	 * centre since.  False when it cannot, and the index must be opened
	 * again.
	 */
	bool		(*refresh) (const WlMeta *was, const WlMeta *now, void *index);

	/*
	 * How many keys a vector is stored under: one per table, of every index
	 * being written (a collection being re-indexed writes two).
	 */
	int			(*key_count) (const WlMeta *meta, const void *index);

	/*
	 * The keys a vector is stored under (key_count slots of WL_LSH_KEY_MAX
	 * bytes) and, when the format keeps codes, the code of each (code_bytes
	 * bytes a key).  Returns 0, or -1 when the vector cannot be indexed (out
	 * of memory; a zero vector where the metric needs a direction).
	 */
	int			(*vector_entries) (const WlMeta *meta, const void *index, const float *vector,
								   char *keys, unsigned char *codes);

	/*
	 * Adds to a vector item what the format keeps there about its entries
	 * (native: the keys; packed: where they are), given its nkeys keys.
	 */
	void		(*decorate) (const WlMeta *meta, const void *index, const char *keys,
							 int nkeys, struct json_object *item);

	/* Can a search probe the index (false: not trained yet, or damaged)? */
	bool		(*searchable) (const WlMeta *meta, const void *index);

	/*
	 * What of an opened index could not be read (a model another tool cut
	 * short, say), which open left out so that the rest still works: NULL
	 * when nothing was.  NULL for formats without models.
	 */
	const char *(*damage) (const void *index);

	/*
	 * The keys to probe for a query: per table up to nprobes keys in
	 * multi-probe order, home first, over the bucket bits and `depth` fine
	 * bits, into keys (ntables * nprobes slots).  An index of cells reads,
	 * when spread > 0, only those of the nprobes cells within that spread
	 * of the nearest (wl_cells_within).  Returns how many, -1 when out of
	 * memory.
	 */
	int			(*probe_keys) (const WlMeta *meta, const void *index, const float *query,
							   int nprobes, int depth, double spread, char *keys);

	/* Bytes of a vector's code in its entries; 0 when the format keeps none. */
	int			(*code_bytes) (const WlMeta *meta);

	/*
	 * For formats with codes: the floats of a query's lookup state, the
	 * state itself (false when the query cannot be ranked: a zero cosine
	 * vector), and the distance of a code in the bucket of an entry's key
	 * under it, smaller is closer.  The distance may rebuild the state's
	 * tables for another bucket, so a search scores a bucket's entries
	 * together.
	 */
	int			(*lookup_size) (const WlMeta *meta);
	bool		(*lookup) (const WlMeta *meta, const void *index, const float *query,
						   float *state);
	float		(*code_distance) (const WlMeta *meta, const void *index, float *state,
								  const char *key, const unsigned char *code);

	/* The longest id DynamoDB's key limits leave room for. */
	int			(*max_id_len) (const WlMeta *meta);

	/*
	 * The key of a code of table `table`, of nbits bits of which the last
	 * `fine` are fine bits, into out (WL_LSH_KEY_MAX bytes).
	 */
	void		(*key) (const WlMeta *meta, int table, uint64_t code, int nbits, int fine,
						char *out);

	/*
	 * The keys a stored vector item is under, into keys (ntables slots of
	 * WL_LSH_KEY_MAX bytes); returns how many, -1 when out of memory.  The
	 * item holds what keys_projection reads.
	 */
	int			(*stored_keys) (const WlMeta *meta, const void *index,
								struct json_object *item, char *keys);

	/*
	 * The calls that read every entry under nkeys distinct keys, into calls
	 * (room for nkeys); returns how many.  Their items hold the entries.
	 */
	int			(*read_calls) (const WlMeta *meta, const char *const *keys, int nkeys,
							   bool consistent, WlDdbCall *calls);

	/*
	 * Visits the entries an item of the buckets table holds.  An entry
	 * whose key or id is malformed is visited as it stands, so that a check
	 * reports it and a repair can remove it.
	 */
	void		(*entries) (const WlMeta *meta, struct json_object *item,
							WlEntryVisitor visit, void *arg);

	/*
	 * The calls that apply n changes to the buckets table, into calls (room
	 * for n); returns how many.  Removals of absent entries and additions of
	 * present ones do no harm, so the calls can be sent again.
	 */
	int			(*change_calls) (const WlMeta *meta, const WlEntryChange *changes, int n,
								 WlDdbCall *calls);
} WlFormat;

/* The format of a metadata item's "format" number (0: none, v1); NULL if unknown. */
extern const WlFormat *wl_format_by_number(int number);

/*
 * Reads a metadata item of any format: its common settings (meta.c), the
 * format of its number, then that format's own settings.  Returns NULL
 * with a lower-case reason in errbuf when the item is malformed.
 */
extern WlMeta *wl_meta_from_item(struct json_object *item, char *errbuf, size_t errlen);

/* The format new collections are created in when none is named. */
extern const WlFormat *wl_format_current(void);

/* The format of a name ("native", "packed"); NULL when unknown. */
extern const WlFormat *wl_format_by_name(const char *name);

/* What formats that hash with plain LSH share (format_lsh.c). */
extern int	wl_format_no_model(const WlMeta *meta, WlDdbCall *calls);
extern void wl_format_close_lsh(void *index);
extern int	wl_format_lsh_entries(const WlMeta *meta, const void *index, const float *vector,
								  char *keys, unsigned char *code);
extern int	wl_format_lsh_probes(const WlMeta *meta, const void *index, const float *query,
								 int nprobes, int depth, double spread,
								 char *keys);
extern int	wl_format_no_code(const WlMeta *meta);
extern int	wl_format_one_key_per_table(const WlMeta *meta, const void *index);
extern bool wl_format_always_searchable(const WlMeta *meta, const void *index);
extern void wl_format_no_decoration(const WlMeta *meta, const void *index, const char *keys,
									int nkeys, struct json_object *item);

/* The registered formats, defined in their own files. */
extern const WlFormat wl_format_v1;
extern const WlFormat wl_format_native;
extern const WlFormat wl_format_packed;

#endif							/* WL_FORMAT_H */

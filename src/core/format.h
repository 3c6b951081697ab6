/*
 * format.h - a storage format: how a collection's bucket entries are keyed,
 * written, read and checked (Postgres-free).
 *
 * Everything that differs between the original library's layout (v1) and
 * whiplash's own lives behind this interface, one file per format
 * (format_v1.c, format_native.c), so that the glue never asks which format
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
	bool		malformed;
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

	/* The key schema of the buckets table: hash key, range key or NULL. */
	const char *bucket_hash_key;
	const char *bucket_range_key;

	/* What phase 1 of a write reads of a vector item: its stored keys. */
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

	/* The hash functions of a collection; NULL when out of memory. */
	WlLsh	   *(*lsh) (const WlMeta *meta);

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
	int			(*stored_keys) (const WlMeta *meta, const WlLsh *lsh,
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

/* The format new collections are created in. */
extern const WlFormat *wl_format_current(void);

/* The registered formats, defined in their own files. */
extern const WlFormat wl_format_v1;
extern const WlFormat wl_format_native;

#endif							/* WL_FORMAT_H */

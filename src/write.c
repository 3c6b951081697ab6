/*
 * write.c - batched writes to a collection: puts (insert or replace) and
 * deletes, applied in phases that keep the index consistent.
 *
 * A flush of a batch runs these phases, each one round of concurrent calls:
 *   1. read the current bucket keys of every id in the batch (BatchGetItem);
 *   2. write the new vectors (BatchWriteItem), each listing its keys;
 *   3. add the new bucket entries and remove the stale ones, with the calls
 *      the collection's format makes of those changes (core/format.h);
 *   4. delete the vectors of deleted ids, and (in formats that count them)
 *      add the change in the number of vectors to the vector_count.
 * A vector is thus written before any bucket entry points at it and
 * deleted only after none does, so a search never meets an entry whose
 * vector is missing (and skips one if a failure left it behind).  Ids are
 * de-duplicated within a batch: the last write of an id wins.  Phase 3
 * writes every new entry, not only the changed ones, so that writing a row
 * again repairs entries a failed flush left out.
 *
 * A buffer holds its rows until the transaction commits (xact.c), and
 * writes them whiplash.write_batch_size at a time.  Past its hold limit it
 * writes them early, except while a statement that also reads the
 * collection (UPDATE, DELETE, INSERT ... SELECT from it) is adding rows:
 * such a statement must not see its own writes.
 */
#include "postgres.h"

#include <json-c/json.h>

#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "core/attrs.h"
#include "core/operations.h"
#include "core/packed.h"
#include "whiplash.h"

/* Rows per flush (whiplash.write_batch_size). */
int			wl_write_batch_size = 1000;

/* What an UPDATE keeps of an item: the attributes it does not map. */
typedef struct WlCarryOver
{
	const char **managed;		/* the attributes the writer maps */
	int			nmanaged;
} WlCarryOver;

/* One buffered write: a put when vector is set, a delete otherwise. */
typedef struct WlPendingWrite
{
	char	   *id;
	float	   *vector;
	char	   *attributes;		/* DynamoDB JSON of its attributes, or NULL */
	WlCarryOver *carry_over;	/* NULL: replace the whole item */
	int			statement;		/* the buffer's statement that wrote it */
} WlPendingWrite;

/* A run of consecutive buffered writes, flushed together. */
typedef struct WlChunk
{
	WlPendingWrite *writes;
	int			nwrites;
	int			start;			/* index of writes[0] in the buffer */
} WlChunk;

typedef struct WlIdSlot
{
	char		id[WL_ID_MAX + 1];	/* hash key */
	int			index;			/* into writes */
} WlIdSlot;

struct WlWriteBuffer
{
	WlConnection *conn;
	char	   *collection_name;
	char	   *vectors_table;	/* identifies the collection's generation */
	int			dims;
	WlMetric	metric;
	int			max_id_len;		/* DynamoDB's key limits */
	int			hold_limit;		/* rows held before an early flush */
	bool		defer;			/* the statement reads the collection: no
								 * early flush */
	int			statement;		/* statements that have written so far */
	WlCarryOver *carry_over;	/* the current statement's, or NULL */
	bool		early_notice;	/* the early-flush NOTICE was given */
	MemoryContext context;		/* the buffered rows; reset by each flush */
	WlPendingWrite *writes;
	int			nwrites;
	int			capacity;		/* slots allocated in writes */
	HTAB	   *index;			/* id -> slot in writes */
	long		written;		/* rows flushed so far */
	int64		stored_count;	/* the collection's stored count, as of the
								 * last chunk written */
	WlReindexCause train;		/* the training those writes left due */
	Oid			relid;			/* the foreign table written: a first
								 * training takes its filterable columns */
};

static void wl_write_early(WlWriteBuffer *buffer);
static void wl_check_direction(WlMetric metric, const char *id, const float *vector, int dims);

/* Makes an empty id index in the buffer's context. */
static void
wl_write_reset(WlWriteBuffer *buffer)
{
	HASHCTL		ctl;

	MemoryContextReset(buffer->context);
	buffer->capacity = wl_write_batch_size;
	buffer->writes = MemoryContextAlloc(buffer->context,
										sizeof(WlPendingWrite) * buffer->capacity);
	buffer->nwrites = 0;
	ctl.keysize = WL_ID_MAX + 1;
	ctl.entrysize = sizeof(WlIdSlot);
	ctl.hcxt = buffer->context;
	buffer->index = hash_create("whiplash write ids", wl_write_batch_size, &ctl,
								HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/*
 * Starts a write buffer for a collection, in the current memory context,
 * that holds up to hold_limit rows before it writes them.  Ids are checked
 * against the longest the collection's format leaves room for in
 * DynamoDB's keys.
 */
WlWriteBuffer *
wl_write_begin(WlConnection *conn, WlCollection *collection, int hold_limit, Oid relid)
{
	WlWriteBuffer *buffer = palloc0(sizeof(WlWriteBuffer));

	buffer->conn = conn;
	buffer->relid = relid;
	buffer->collection_name = pstrdup(collection->meta->name);
	buffer->vectors_table = pstrdup(collection->meta->vectors_table);
	buffer->dims = collection->meta->dims;
	buffer->metric = collection->meta->metric;
	buffer->max_id_len = collection->meta->format->max_id_len(collection->meta);
	buffer->hold_limit = hold_limit;
	buffer->context = AllocSetContextCreate(CurrentMemoryContext, "whiplash write buffer",
											ALLOCSET_DEFAULT_SIZES);
	wl_write_reset(buffer);
	return buffer;
}

/* Checks an id: not empty, within DynamoDB's key limit max_len. */
void
wl_check_id(const char *id, int max_len)
{
	size_t		len = strlen(id);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("id must not be empty")));
	if (len > (size_t) max_len)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("id is %zu bytes long, more than the %d bytes DynamoDB allows in this key",
						len, max_len)));
}

/*
 * Starts a statement's writes: reads says that it also reads the
 * collection, so that none of its rows may be written before it ends.
 */
void
wl_write_statement(WlWriteBuffer *buffer, bool reads)
{
	buffer->statement++;
	buffer->defer = reads;
	buffer->carry_over = NULL;
}

/* The rows held and not yet written. */
long
wl_write_pending(WlWriteBuffer *buffer)
{
	return buffer->nwrites;
}

/*
 * Makes the current statement's puts keep the attributes an item has now,
 * except the nmanaged names in managed (which the writer maps, and may have
 * set to NULL): for an UPDATE through a foreign table without an
 * attributes column.
 */
void
wl_write_carry_over(WlWriteBuffer *buffer, const char *const *managed, int nmanaged)
{
	MemoryContext parent = GetMemoryChunkContext(buffer);
	WlCarryOver *carry_over = MemoryContextAlloc(parent, sizeof(WlCarryOver));
	int			i;

	carry_over->managed = MemoryContextAlloc(parent, sizeof(char *) * Max(nmanaged, 1));
	for (i = 0; i < nmanaged; i++)
		carry_over->managed[i] = MemoryContextStrdup(parent, managed[i]);
	carry_over->nmanaged = nmanaged;
	buffer->carry_over = carry_over;
}

/*
 * Ends a statement's writes: a buffer holding more than its limit writes
 * them now, and says so once.
 */
void
wl_write_statement_end(WlWriteBuffer *buffer)
{
	buffer->defer = false;
	if (buffer->nwrites > buffer->hold_limit)
		wl_write_early(buffer);
}

/*
 * Writes what a buffer holds before the transaction commits, because it
 * holds more than its limit, and says so once: a ROLLBACK cannot undo it.
 */
static void
wl_write_early(WlWriteBuffer *buffer)
{
	if (!buffer->early_notice)
		ereport(NOTICE,
				(errmsg_plural("writing %d row to collection \"%s\" before COMMIT",
							   "writing %d rows to collection \"%s\" before COMMIT",
							   buffer->nwrites, buffer->nwrites, buffer->collection_name),
				 errdetail("The transaction holds more than whiplash.write_hold_limit (%d) rows; a ROLLBACK will not undo the rows written early.",
						   buffer->hold_limit)));
	buffer->early_notice = true;
	wl_write_flush(buffer);
	wl_write_train(buffer, false);
}

/* Buffers one write, replacing an earlier one of the same id. */
static void
wl_write_add(WlWriteBuffer *buffer, const char *id, const float *vector, int dims,
			 const char *attributes)
{
	WlIdSlot   *slot;
	bool		found;
	WlPendingWrite *write;
	MemoryContext oldcontext;

	wl_check_id(id, buffer->max_id_len);
	if (vector != NULL)
		wl_check_direction(buffer->metric, id, vector, dims);
	if (buffer->nwrites >= buffer->hold_limit && !buffer->defer)
		wl_write_early(buffer);
	if (buffer->nwrites >= buffer->capacity)
	{
		buffer->capacity *= 2;
		buffer->writes = repalloc_huge(buffer->writes,
									   sizeof(WlPendingWrite) * buffer->capacity);
	}

	slot = hash_search(buffer->index, id, HASH_ENTER, &found);
	if (!found)
		slot->index = buffer->nwrites++;
	write = &buffer->writes[slot->index];
	oldcontext = MemoryContextSwitchTo(buffer->context);
	write->id = pstrdup(id);
	write->vector = NULL;
	write->attributes = attributes ? pstrdup(attributes) : NULL;
	write->carry_over = vector != NULL ? buffer->carry_over : NULL;
	write->statement = buffer->statement;
	if (vector != NULL)
	{
		write->vector = palloc(sizeof(float) * dims);
		memcpy(write->vector, vector, sizeof(float) * dims);
	}
	MemoryContextSwitchTo(oldcontext);
}

/* Buffers an insert or replacement of a vector and its attributes. */
void
wl_write_put(WlWriteBuffer *buffer, const char *id, const float *vector, int dims,
			 const char *attributes)
{
	wl_write_add(buffer, id, vector, dims, attributes);
}

/* Buffers the deletion of a vector. */
void
wl_write_delete(WlWriteBuffer *buffer, const char *id)
{
	wl_write_add(buffer, id, NULL, 0, NULL);
}

/*
 * Buffers an update that may change a row's id: the old id is deleted
 * unless this statement has already put a row under it (rows whose ids
 * are shifted or swapped), then the new one is put.  Only while deferring,
 * which holds every write of the statement.
 */
void
wl_write_move(WlWriteBuffer *buffer, const char *old_id, const char *id,
			  const float *vector, int dims, const char *attributes)
{
	if (strcmp(old_id, id) != 0)
	{
		WlIdSlot   *slot = hash_search(buffer->index, old_id, HASH_FIND, NULL);

		Assert(buffer->defer);
		if (slot == NULL || buffer->writes[slot->index].vector == NULL ||
			buffer->writes[slot->index].statement != buffer->statement)
			wl_write_delete(buffer, old_id);
	}
	wl_write_put(buffer, id, vector, dims, attributes);
}

/* Does any put of the chunk keep attributes of the item it replaces? */
static bool
wl_chunk_carries_over(WlChunk *chunk)
{
	int			i;

	for (i = 0; i < chunk->nwrites; i++)
		if (chunk->writes[i].carry_over != NULL)
			return true;
	return false;
}

/* Is key among the nkeys keys of set (WL_LSH_KEY_MAX slots)? */
static bool
wl_key_in(const char *key, const char *set, int nkeys)
{
	int			i;

	for (i = 0; i < nkeys; i++)
		if (strcmp(key, set + (size_t) i * WL_LSH_KEY_MAX) == 0)
			return true;
	return false;
}

/*
 * Phase 1: the current item of each id (or NULL) into old_items, read in
 * one round with the collection's metadata, which is returned (NULL when
 * the collection is gone): a writer whose settings are older than the
 * metadata's reads them again before it writes.  Whole items are read
 * when attributes are to be carried over, and where the format needs them
 * for the keys (format.h's keys_projection).
 */
static WlMeta *
wl_read_old_items(WlWriteBuffer *buffer, WlChunk *chunk, WlCollection *collection,
				  struct json_object **old_items)
{
	WlMeta	   *meta = collection->meta;
	int			nbatches = (chunk->nwrites + WL_BATCH_GET_MAX - 1) / WL_BATCH_GET_MAX;
	WlDdbCall  *calls = wl_calls_new(nbatches + 1);
	const char *projection = wl_chunk_carries_over(chunk) ? NULL :
		meta->format->keys_projection;
	WlItems		items = {0};
	struct json_object *fresh;
	WlMeta	   *now = NULL;
	char		reason[256];
	int			ncalls = 0;
	int			i;

	for (i = 0; i < chunk->nwrites; i++)
	{
		old_items[i] = NULL;
		ncalls = wl_op_batch_get_append(calls, ncalls, meta->vectors_table, projection, true,
										wl_store_id_key(chunk->writes[i].id));
	}
	wl_meta_get_call(&calls[ncalls], WL_METADATA_TABLE, meta->id);
	wl_run(buffer->conn, calls, ncalls + 1, &items);
	for (i = 0; i < items.count; i++)
	{
		const char *id = wl_store_item_id(items.items[i]);
		WlIdSlot   *slot = id ? hash_search(buffer->index, id, HASH_FIND, NULL) : NULL;

		if (slot != NULL && slot->index >= chunk->start &&
			slot->index < chunk->start + chunk->nwrites)
			old_items[slot->index - chunk->start] = items.items[i];
	}
	fresh = wl_op_get_item_result(&calls[ncalls]);
	if (fresh != NULL && (now = wl_meta_from_item(fresh, reason, sizeof(reason))) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("metadata of collection \"%s\" is malformed: %s", meta->name, reason)));
	return now;
}

/*
 * The bucket keys the old items are stored under, into old_keys (nkeys
 * slots per write) and old_counts, as the format finds them (listed in the
 * item, or recomputed from its vector).
 */
static void
wl_old_keys(WlChunk *chunk, WlCollection *collection, struct json_object **old_items,
			char *old_keys, int *old_counts)
{
	WlMeta	   *meta = collection->meta;
	int			nkeys = meta->format->key_count(meta, collection->index);
	int			i;

	for (i = 0; i < chunk->nwrites; i++)
	{
		old_counts[i] = 0;
		if (old_items[i] == NULL)
			continue;
		old_counts[i] = meta->format->stored_keys(meta, collection->index, old_items[i],
												  old_keys + (size_t) i * nkeys * WL_LSH_KEY_MAX);
		if (old_counts[i] < 0)
			wl_report_out_of_memory();
	}
}

/*
 * Reports the values of the records about to be written (the additions
 * among changes, n of them) that the statistics of the collection's index
 * do not list (core/packed.h), so that no search takes a filter they pass
 * for empty.  Their items are written already: a build that sees the
 * report before its Scan begins finds them.  Too many to list, or a set
 * already full, are counted instead.  A collection dropped meanwhile
 * fails the condition: nothing to report then.
 */
void
wl_report_unseen(WlConnection *conn, const WlCollection *collection,
				 const WlEntryChange *changes, int n)
{
	const WlMeta *meta = collection->meta;
	const WlPackedSettings *settings = wl_packed_settings_of(meta);
	WlUnseenValue unseen[WL_UNSEEN_ADD_EACH + 1];
	int			nunseen = 0;
	WlDdbCall  *call;
	int			i;

	for (i = 0; settings != NULL && i < n; i++)
		if (changes[i].add && changes[i].entry.slots != NULL)
			nunseen = wl_packed_record_unseen(meta, collection->index, changes[i].entry.key,
											  (const unsigned char *) changes[i].entry.slots,
											  unseen, nunseen, WL_UNSEEN_ADD_EACH + 1);
	if (nunseen == 0)
		return;
	call = wl_calls_new(1);
	if (nunseen <= WL_UNSEEN_ADD_EACH && settings->nunseen >= 0 &&
		settings->nunseen + nunseen <= WL_UNSEEN_ADD_MAX)
	{
		wl_packed_unseen_call(call, WL_METADATA_TABLE, meta, unseen, nunseen);
		wl_metadata_run(conn, call);
		if (!wl_op_failed_with(call, "ConditionalCheckFailedException"))
			return;
		call = wl_calls_new(1);
	}
	wl_packed_unseen_call(call, WL_METADATA_TABLE, meta, NULL, 0);
	wl_metadata_run(conn, call);
}

/*
 * Phase 3: the entry changes of the chunk, applied through the format:
 * every new key of a put (so that writing a row again repairs entries a
 * failed flush left out), and the removal of every old key that is not
 * among the new ones.
 */
static void
wl_write_entries(WlWriteBuffer *buffer, WlChunk *chunk, WlCollection *collection,
				 char *new_keys, unsigned char *codes, unsigned char *slots,
				 char *old_keys, int *old_counts)
{
	WlMeta	   *meta = collection->meta;
	int			nkeys = meta->format->key_count(meta, collection->index);
	/* zeroed: an entry of ours is neither malformed nor stray */
	WlEntryChange *changes = palloc0(sizeof(WlEntryChange) *
									 Max(chunk->nwrites * nkeys * 2, 1));
	WlDdbCall  *calls;
	int			code_bytes = meta->format->code_bytes(meta);
	int			nchanges = 0;
	int			i;
	int			t;

	for (i = 0; i < chunk->nwrites; i++)
	{
		char	   *news = new_keys + (size_t) i * nkeys * WL_LSH_KEY_MAX;
		char	   *olds = old_keys + (size_t) i * nkeys * WL_LSH_KEY_MAX;
		int			nnew = chunk->writes[i].vector ? nkeys : 0;

		/* v1 tables share one key space, so a vector's keys may repeat */
		for (t = 0; t < nnew; t++)
		{
			char	   *key = news + (size_t) t * WL_LSH_KEY_MAX;

			if (wl_key_in(key, news, t))
				continue;
			changes[nchanges].entry.key = key;
			changes[nchanges].entry.id = chunk->writes[i].id;
			changes[nchanges].entry.code = code_bytes > 0 ?
				codes + ((size_t) i * nkeys + t) * code_bytes : NULL;
			changes[nchanges].entry.slots = slots + ((size_t) i * nkeys + t) * WL_PACKED_SLOTS_MAX;
			changes[nchanges++].add = true;
		}
		for (t = 0; t < old_counts[i]; t++)
		{
			char	   *key = olds + (size_t) t * WL_LSH_KEY_MAX;

			if (wl_key_in(key, news, nnew) || wl_key_in(key, olds, t))
				continue;
			changes[nchanges].entry.key = key;
			changes[nchanges].entry.id = chunk->writes[i].id;
			changes[nchanges].entry.code = NULL;
			changes[nchanges++].add = false;
		}
	}
	wl_report_unseen(buffer->conn, collection, changes, nchanges);
	calls = wl_calls_new(nchanges);
	wl_run(buffer->conn, calls, meta->format->change_calls(meta, changes, nchanges, calls),
		   NULL);
}

/*
 * Refuses a zero vector where the metric needs a direction (cosine): it has
 * no distance to anything, so it could never be found.
 */
static void
wl_check_direction(WlMetric metric, const char *id, const float *vector, int dims)
{
	int			d;

	for (d = 0; d < dims && vector[d] == 0; d++)
		;
	if (metric == WL_METRIC_COSINE && d == dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot write vector \"%s\": a zero vector has no direction, so it has no cosine distance",
						id),
				 errhint("Leave it out, or store it in a collection with metric l2 or inner_product.")));
}

/*
 * Raises the error for a vector the format could not index: a zero vector
 * has no direction for the cosine metric; anything else is memory.
 */
static void
wl_unindexable(const WlMeta *meta, const WlPendingWrite *write)
{
	wl_check_direction(meta->metric, write->id, write->vector, meta->dims);
	wl_report_out_of_memory();
}

/*
 * The item a put writes: the vector, what the format keeps there about its
 * keys (when keys is not NULL), and its attributes, with those of the item
 * it replaces that an UPDATE carries over.
 */
static struct json_object *
wl_write_item(const WlMeta *meta, const void *index, WlPendingWrite *write,
			  struct json_object *old_item, const char *keys, int nkeys)
{
	WlCarryOver *carry = write->carry_over;
	struct json_object *item = wl_store_vector_item(write->id, write->vector, meta->dims);
	char		errbuf[256];

	if (item != NULL && keys != NULL)
		meta->format->decorate(meta, index, keys, nkeys, item);
	item = wl_attrs_complete(item, write->attributes,
							 carry ? old_item : NULL,
							 carry ? (const char *const *) carry->managed : NULL,
							 carry ? carry->nmanaged : 0,
							 errbuf, sizeof(errbuf));
	if (item == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot write vector \"%s\": %s", write->id, errbuf)));
	return item;
}

/*
 * Each of a vector's nkeys records, from the item written: its key placed
 * in its partition, and the slots of the attributes it carries
 * (recordattrs.h) into slots (WL_PACKED_SLOTS_MAX bytes a key).
 */
static void
wl_write_slots(const WlMeta *meta, struct json_object *item, char *keys, int nkeys,
			   unsigned char *slots)
{
	int			t;

	for (t = 0; t < nkeys; t++)
		wl_packed_key_record(meta, keys + (size_t) t * WL_LSH_KEY_MAX, item,
							 slots + (size_t) t * WL_PACKED_SLOTS_MAX);
}

/*
 * Phase 2: the vector items of the chunk's puts, each listing its new keys
 * when the format lists them, built straight into the calls that write
 * them (so that an error while building leaks nothing).  Fills new_keys,
 * and sets *sending when the first write goes out.
 */
static void
wl_write_vectors(WlWriteBuffer *buffer, WlChunk *chunk, WlCollection *collection,
				 char *new_keys, unsigned char *codes, unsigned char *slots,
				 struct json_object **old_items, bool *sending)
{
	WlMeta	   *meta = collection->meta;
	int			code_bytes = meta->format->code_bytes(meta);
	int			nkeys = meta->format->key_count(meta, collection->index);
	WlDdbCall  *calls = wl_calls_new((chunk->nwrites + WL_BATCH_WRITE_MAX - 1) /
									 WL_BATCH_WRITE_MAX);
	int			ncalls = 0;
	int			i;

	for (i = 0; i < chunk->nwrites; i++)
	{
		WlPendingWrite *write = &chunk->writes[i];
		char	   *keys = new_keys + (size_t) i * nkeys * WL_LSH_KEY_MAX;
		struct json_object *item;

		if (write->vector == NULL)
			continue;
		if (meta->format->vector_entries(meta, collection->index, write->vector, keys,
										 codes + (size_t) i * nkeys * code_bytes) != 0)
			wl_unindexable(meta, write);
		item = wl_write_item(meta, collection->index, write, old_items[i], keys, nkeys);
		wl_write_slots(meta, item, keys, nkeys, slots + (size_t) i * nkeys * WL_PACKED_SLOTS_MAX);
		ncalls = wl_op_batch_write_append(calls, ncalls, meta->vectors_table,
										  wl_op_put_request(item));
	}
	*sending = true;
	wl_run(buffer->conn, calls, ncalls, NULL);
}

/* Phase 4: the vectors of deleted ids, now that no bucket points at them. */
static void
wl_delete_vectors(WlWriteBuffer *buffer, WlChunk *chunk, WlMeta *meta)
{
	WlDdbCall  *calls = wl_calls_new((chunk->nwrites + WL_BATCH_WRITE_MAX - 1) /
									 WL_BATCH_WRITE_MAX);
	int			ncalls = 0;
	int			i;

	for (i = 0; i < chunk->nwrites; i++)
		if (chunk->writes[i].vector == NULL)
			ncalls = wl_op_batch_write_append(calls, ncalls, meta->vectors_table,
											  wl_op_delete_request(wl_store_id_key(chunk->writes[i].id)));
	wl_run(buffer->conn, calls, ncalls, NULL);
}

/* Raises the error for a collection dropped or re-created under the writes. */
static void
wl_collection_changed(WlWriteBuffer *buffer)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("collection \"%s\" was dropped or re-created before the writes to it were committed",
					buffer->collection_name),
			 errhint("Run the transaction again.")));
}

/*
 * The collection a chunk is written to, read again when its settings are
 * older than the metadata's; an error when it was dropped or re-created
 * since the writes were made.
 */
static WlCollection *
wl_chunk_collection(WlWriteBuffer *buffer, WlChunk *chunk, bool reread)
{
	WlCollection *collection;
	float	  **vectors = palloc(sizeof(float *) * chunk->nwrites);
	int			nvectors = 0;
	int			i;

	if (reread)
		wl_collection_forget(buffer->conn->serverid, buffer->collection_name);
	collection = wl_collection_open(buffer->conn, buffer->collection_name);
	for (i = 0; i < chunk->nwrites; i++)
		if (chunk->writes[i].vector != NULL)
			vectors[nvectors++] = chunk->writes[i].vector;
	if (collection->meta->auto_center && collection->meta->center == NULL && nvectors > 0)
	{
		/* Re-read: ours or the winner's centre, and a missing item if dropped. */
		wl_metadata_set_center(buffer->conn, collection->meta, vectors, nvectors);
		wl_collection_forget(buffer->conn->serverid, buffer->collection_name);
		collection = wl_collection_open(buffer->conn, buffer->collection_name);
	}
	if (collection->meta->dims != buffer->dims ||
		strcmp(collection->meta->vectors_table, buffer->vectors_table) != 0)
		wl_collection_changed(buffer);
	return collection;
}

/*
 * After a chunk is written: when the collection's index changed meanwhile
 * (a re-index began building a generation these writes did not know), the
 * chunk's entries are written again under the index as it is now, so that
 * the new generation misses none of them: a re-index reads the vectors
 * only after it marks the generation building.  Returns the collection as
 * this read found it, and sets *count to its stored count then.
 */
static WlCollection *
wl_catch_up(WlWriteBuffer *buffer, WlChunk *chunk, WlCollection *collection,
			struct json_object **old_items, int64 *count)
{
	WlDdbCall  *call = wl_calls_new(1);
	WlMeta	   *now;
	WlMeta	   *meta;
	char		reason[256];
	char	   *old_keys;
	char	   *new_keys;
	unsigned char *codes;
	unsigned char *slots;
	int		   *old_counts;
	int			nkeys;
	int			code_bytes;
	int			i;

	wl_meta_get_call(call, WL_METADATA_TABLE, collection->meta->id);
	wl_run_once(buffer->conn, call, 1, NULL);
	if (wl_op_get_item_result(call) == NULL)
		return collection;		/* dropped: nothing to catch up with */
	now = wl_meta_from_item(wl_op_get_item_result(call), reason, sizeof(reason));
	if (now != NULL)
		*count = now->vector_count;
	if (now == NULL || wl_meta_same_index(now, collection->meta))
	{
		wl_meta_free(now);
		return collection;
	}
	wl_meta_free(now);
	collection = wl_chunk_collection(buffer, chunk, true);
	meta = collection->meta;
	nkeys = meta->format->key_count(meta, collection->index);
	code_bytes = meta->format->code_bytes(meta);
	old_keys = palloc0((size_t) chunk->nwrites * Max(nkeys, 1) * WL_LSH_KEY_MAX);
	new_keys = palloc0((size_t) chunk->nwrites * Max(nkeys, 1) * WL_LSH_KEY_MAX);
	codes = palloc0((size_t) chunk->nwrites * Max(nkeys, 1) * Max(code_bytes, 1));
	slots = palloc0((size_t) chunk->nwrites * Max(nkeys, 1) * WL_PACKED_SLOTS_MAX);
	old_counts = palloc0(sizeof(int) * chunk->nwrites);
	wl_old_keys(chunk, collection, old_items, old_keys, old_counts);
	for (i = 0; i < chunk->nwrites; i++)
	{
		char	   *keys = new_keys + (size_t) i * nkeys * WL_LSH_KEY_MAX;
		struct json_object *item;

		if (chunk->writes[i].vector == NULL)
			continue;
		if (meta->format->vector_entries(meta, collection->index, chunk->writes[i].vector,
										 keys, codes + (size_t) i * nkeys * code_bytes) != 0)
			wl_unindexable(meta, &chunk->writes[i]);
		item = wl_write_item(meta, collection->index, &chunk->writes[i], old_items[i], NULL, 0);
		wl_write_slots(meta, item, keys, nkeys,
					   slots + (size_t) i * nkeys * WL_PACKED_SLOTS_MAX);
		json_object_put(item);
	}
	wl_write_entries(buffer, chunk, collection, new_keys, codes, slots, old_keys, old_counts);
	return collection;
}

/*
 * Writes one chunk of the buffered rows, in the phases the header lists;
 * sets *sending when its first write goes out.  Returns whether the
 * collection should now train its first index, or retrain one it has
 * outgrown (by the metadata read after this chunk's count was updated,
 * which other sessions' writes update too), or neither.
 */
static WlReindexCause
wl_flush_chunk(WlWriteBuffer *buffer, WlChunk *chunk, bool *sending)
{
	WlCollection *collection = wl_chunk_collection(buffer, chunk, false);
	WlMeta	   *meta;
	WlMeta	   *now;
	char	   *old_keys;
	char	   *new_keys;
	unsigned char *codes;
	unsigned char *slots;
	int			nkeys;
	int		   *old_counts;
	struct json_object **old_items = palloc0(sizeof(struct json_object *) * chunk->nwrites);
	int64		count_change = 0;
	int64		count;
	WlReindexCause cause = WL_REINDEX_NONE;
	int			i;

	now = wl_read_old_items(buffer, chunk, collection, old_items);
	if (now == NULL)
		wl_collection_changed(buffer);
	if (!wl_meta_same_index(now, collection->meta))
	{
		/* the index changed since these settings were read: read it again */
		wl_meta_free(now);
		collection = wl_chunk_collection(buffer, chunk, true);
		now = wl_read_old_items(buffer, chunk, collection, old_items);
		if (now == NULL || !wl_meta_same_index(now, collection->meta))
		{
			wl_meta_free(now);
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("the index of collection \"%s\" changed twice while it was being written",
							buffer->collection_name),
					 errhint("Run the transaction again.")));
		}
	}
	count = now->vector_count;
	wl_meta_free(now);
	meta = collection->meta;

	nkeys = meta->format->key_count(meta, collection->index);
	old_keys = palloc0((size_t) chunk->nwrites * Max(nkeys, 1) * WL_LSH_KEY_MAX);
	new_keys = palloc0((size_t) chunk->nwrites * Max(nkeys, 1) * WL_LSH_KEY_MAX);
	codes = palloc0((size_t) chunk->nwrites * Max(nkeys, 1) *
					Max(meta->format->code_bytes(meta), 1));
	slots = palloc0((size_t) chunk->nwrites * Max(nkeys, 1) * WL_PACKED_SLOTS_MAX);
	old_counts = palloc0(sizeof(int) * chunk->nwrites);
	wl_old_keys(chunk, collection, old_items, old_keys, old_counts);
	for (i = 0; i < chunk->nwrites; i++)
		if ((old_items[i] != NULL) != (chunk->writes[i].vector != NULL))
			count_change += old_items[i] != NULL ? -1 : 1;

	wl_write_vectors(buffer, chunk, collection, new_keys, codes, slots, old_items, sending);
	wl_write_entries(buffer, chunk, collection, new_keys, codes, slots, old_keys, old_counts);
	wl_delete_vectors(buffer, chunk, meta);
	if (meta->format->counts_vectors && count_change != 0)
		wl_update_count(buffer->conn, meta, count_change);
	buffer->stored_count = count + count_change;
	/* decided by a read after the count's update: see worker.c */
	collection = wl_catch_up(buffer, chunk, collection, old_items, &buffer->stored_count);
	cause = wl_autotrain_due(buffer->conn, collection, buffer->stored_count);
	return cause;
}

/* How far a flush got, for the context of its errors. */
typedef struct WlFlushProgress
{
	WlWriteBuffer *buffer;
	int			written;		/* rows of the flush already written */
	bool		sending;		/* the current batch's writes have begun */
} WlFlushProgress;

/*
 * Says, when a flush fails, how many of its rows were already written and,
 * once a batch's writes have begun, that it may have reached DynamoDB in
 * part: a call whose answer was lost may have taken effect.
 */
static void
wl_flush_error_context(void *arg)
{
	WlFlushProgress *progress = arg;
	const char *name = progress->buffer->collection_name;

	if (progress->written > 0 && progress->sending)
		errcontext("%d of the %d rows being written to collection \"%s\" had been written; the rest may be partly written",
				   progress->written, progress->buffer->nwrites, name);
	else if (progress->written > 0)
		errcontext("%d of the %d rows being written to collection \"%s\" had been written",
				   progress->written, progress->buffer->nwrites, name);
	else if (progress->sending && progress->buffer->nwrites == 1)
		errcontext("writing 1 row to collection \"%s\"; it may be partly written", name);
	else if (progress->sending)
		errcontext("writing %d rows to collection \"%s\"; they may be partly written",
				   progress->buffer->nwrites, name);
}

/*
 * Writes every buffered row to DynamoDB, whiplash.write_batch_size rows at
 * a time, and empties the buffer.
 */
void
wl_write_flush(WlWriteBuffer *buffer)
{
	MemoryContext oldcontext;
	MemoryContext chunk_context;
	WlFlushProgress progress = {buffer, 0, false};
	ErrorContextCallback callback;
	WlReindexCause cause = WL_REINDEX_NONE;
	int			start;

	if (buffer->nwrites == 0)
		return;
	callback.callback = wl_flush_error_context;
	callback.arg = &progress;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	oldcontext = MemoryContextSwitchTo(buffer->context);
	chunk_context = AllocSetContextCreate(buffer->context, "whiplash write chunk",
										  ALLOCSET_DEFAULT_SIZES);
	for (start = 0; start < buffer->nwrites; start += wl_write_batch_size)
	{
		WlChunk		chunk;
		WlReindexCause chunk_cause;

		chunk.writes = buffer->writes + start;
		chunk.start = start;
		chunk.nwrites = Min(wl_write_batch_size, buffer->nwrites - start);
		MemoryContextSwitchTo(chunk_context);
		chunk_cause = wl_flush_chunk(buffer, &chunk, &progress.sending);
		if (cause == WL_REINDEX_NONE)
			cause = chunk_cause;
		MemoryContextReset(chunk_context);
		progress.written += chunk.nwrites;
		progress.sending = false;
	}
	error_context_stack = callback.previous;
	MemoryContextSwitchTo(oldcontext);
	buffer->written += buffer->nwrites;
	wl_write_reset(buffer);
	if (cause != WL_REINDEX_NONE)
		buffer->train = cause;
}

/*
 * Runs the training the rows written so far left due (autotrain.c); at
 * COMMIT, after every collection's rows are written, so that a training
 * that runs out of time fails no other collection's writes.
 */
void
wl_write_train(WlWriteBuffer *buffer, bool at_commit)
{
	WlReindexCause cause = buffer->train;

	buffer->train = WL_REINDEX_NONE;
	if (cause != WL_REINDEX_NONE)
		wl_autotrain(buffer->conn, buffer->collection_name, buffer->vectors_table, cause,
					 buffer->stored_count, at_commit, buffer->relid);
}

/* Frees a buffer whose rows are all written. */
void
wl_write_end(WlWriteBuffer *buffer)
{
	MemoryContextDelete(buffer->context);
}

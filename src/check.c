/*
 * check.c - whiplash_check and whiplash_repair: is every vector in exactly
 * the buckets its hash says, and does every bucket entry have a vector?
 *
 * Both read the whole collection (a Scan of each table) and hold every id
 * and its bucket keys in memory.  The buckets a vector belongs in are
 * recomputed from its stored vector, so an entry that a failed or
 * interrupted write left behind, or one that never got written, shows up
 * whatever the vector item's keys attribute says.  Problems:
 *   entry without vector      a bucket entry whose vector item is missing
 *   entry in wrong bucket     the vector exists but does not hash there
 *   vector missing from bucket  no entry where the vector hashes
 *   entry with wrong code     its code is not the vector's (formats that
 *                             keep codes)
 *   record with wrong attributes  the filterable attributes it carries
 *                             (recordattrs.h) are not the vector item's
 *   vector lists wrong buckets  its keys attribute disagrees (formats that
 *                             list keys)
 *   vector count              the metadata's count is off (formats that
 *                             count vectors)
 *   index that cannot be read a model another tool damaged (its entries
 *                             are then not checked; whiplash_reindex
 *                             rebuilds the index, repair refuses)
 * A repair deletes the first two, writes the third to fifth again,
 * rewrites the fifth and corrects the count.  Writes running meanwhile can show up as problems
 * that are not; run a check when the collection is quiet.
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "core/operations.h"
#include "core/packed.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_check);
PG_FUNCTION_INFO_V1(whiplash_repair);

/* A vector of the collection, with the buckets it hashes to. */
typedef struct WlCheckedVector
{
	char		id[WL_ID_MAX + 1];	/* hash key */
	char	   *keys;			/* its keys, WL_LSH_KEY_MAX each */
	unsigned char *codes;		/* the code of each, in formats that keep one */
	unsigned char *slots;		/* the attributes each record carries
								 * (WL_PACKED_SLOTS_MAX bytes a key) */
	int		   *slot_bytes;		/* of each key's: 0 when it carries none */
	bool	   *found;			/* key k's entry was seen */
} WlCheckedVector;

/* One problem found, and the write that repairs it. */
typedef struct WlProblem
{
	const char *kind;
	char	   *bucket;
	char	   *id;
} WlProblem;

/* A check in progress. */
typedef struct WlCheck
{
	WlConnection *conn;
	WlCollection *collection;
	HTAB	   *vectors;
	long		nvectors;
	WlProblem  *problems;
	int			nproblems;
	int			capacity;
	int			code_bytes;		/* of the format's codes; 0: none */
	int			nkeys;			/* keys per vector */
} WlCheck;

/* Records a problem. */
static void
wl_add_problem(WlCheck *check, const char *kind, const char *bucket, const char *id)
{
	if (check->nproblems == check->capacity)
	{
		check->capacity *= 2;
		check->problems = repalloc_huge(check->problems, sizeof(WlProblem) * check->capacity);
	}
	check->problems[check->nproblems].kind = kind;
	check->problems[check->nproblems].bucket = bucket ? pstrdup(bucket) : NULL;
	check->problems[check->nproblems].id = id ? pstrdup(id) : NULL;
	check->nproblems++;
}

/*
 * Calls visit for every item of a table, a Scan page at a time, each page
 * freed once the next is read.
 */
static void
wl_scan_table(WlCheck *check, const char *table,
			  void (*visit) (WlCheck *check, struct json_object *item))
{
	WlDdbCall  *call;
	WlPages    *pages = wl_pages_begin(check->conn, &call);

	wl_op_scan(call, table, NULL, NULL, 0, true);
	while ((call = wl_pages_next(pages, NULL)) != NULL)
	{
		struct json_object *items;
		int			nitems = wl_op_items(call, &items);
		int			i;

		for (i = 0; i < nitems; i++)
			visit(check, wl_op_item_at(items, i));
	}
	wl_pages_end(pages);
}

/* Records a vector and the buckets it hashes to. */
static void
wl_visit_vector(WlCheck *check, struct json_object *item)
{
	WlMeta	   *meta = check->collection->meta;
	const char *id = wl_store_item_id(item);
	float	   *vector = palloc(sizeof(float) * meta->dims);
	WlCheckedVector *entry;
	bool		found;
	int			t;

	if (id == NULL || strlen(id) > WL_ID_MAX || wl_store_item_vector(item, meta->dims, vector) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("vector \"%s\" of collection \"%s\" is not an id and %d float32 values",
						id ? id : "?", meta->name, meta->dims)));
	entry = hash_search(check->vectors, id, HASH_ENTER, &found);
	entry->keys = palloc((size_t) Max(check->nkeys, 1) * WL_LSH_KEY_MAX);
	entry->codes = check->code_bytes > 0 ? palloc((size_t) check->nkeys * check->code_bytes) :
		NULL;
	entry->found = palloc0(sizeof(bool) * Max(check->nkeys, 1));
	if (meta->format->vector_entries(meta, check->collection->index, vector, entry->keys,
									 entry->codes) != 0 ||
		(!meta->format->lists_keys &&
		 meta->format->stored_keys(meta, check->collection->index, item,
								   entry->keys) != check->nkeys))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("vector \"%s\" of collection \"%s\" cannot be indexed", id, meta->name),
				 errdetail("A zero vector has no direction under the cosine metric.")));
	entry->slots = palloc((size_t) Max(check->nkeys, 1) * WL_PACKED_SLOTS_MAX);
	entry->slot_bytes = palloc0(sizeof(int) * Max(check->nkeys, 1));
	for (t = 0; t < check->nkeys; t++)
		entry->slot_bytes[t] =
			wl_packed_key_record(meta, entry->keys + (size_t) t * WL_LSH_KEY_MAX, item,
								 entry->slots + (size_t) t * WL_PACKED_SLOTS_MAX);
	check->nvectors++;
	if (!meta->format->lists_keys)
		return;

	/* Its keys attribute must list exactly those buckets. */
	found = wl_store_item_key_count(item) == meta->ntables;
	for (t = 0; found && t < meta->ntables; t++)
		found = wl_store_item_key(item, t) != NULL &&
			strcmp(wl_store_item_key(item, t), entry->keys + (size_t) t * WL_LSH_KEY_MAX) == 0;
	if (!found)
		wl_add_problem(check, "vector lists wrong buckets", NULL, id);
}

/* Checks one bucket entry against the vector it names. */
static void
wl_check_entry(const WlEntry *entry, void *arg)
{
	WlCheck    *check = arg;
	WlCheckedVector *vector;
	int			k;
	int			placed = -1;

	if (entry->stray)
	{
		wl_add_problem(check, "item of no index", entry->key, entry->id);
		return;
	}
	if (entry->key == NULL)
		return;
	if (entry->bad_name)
	{
		wl_add_problem(check, "record with malformed name", entry->key, entry->id);
		return;
	}
	vector = strlen(entry->id) <= WL_ID_MAX ?
		hash_search(check->vectors, entry->id, HASH_FIND, NULL) : NULL;
	if (vector == NULL)
	{
		wl_add_problem(check, "entry without vector", entry->key, entry->id);
		return;
	}
	for (k = 0; k < check->nkeys; k++)
		if (strcmp(entry->key, vector->keys + (size_t) k * WL_LSH_KEY_MAX) == 0)
		{
			vector->found[k] = true;
			placed = k;
		}
	if (placed < 0)
		wl_add_problem(check, "entry in wrong bucket", entry->key, entry->id);
	else if (check->code_bytes > 0 &&
			 (entry->code == NULL ||
			  memcmp(entry->code, vector->codes + (size_t) placed * check->code_bytes,
					 check->code_bytes) != 0))
		wl_add_problem(check, "entry with wrong code", entry->key, entry->id);
	else if (vector->slot_bytes[placed] > 0 &&
			 (entry->slots == NULL ||
			  memcmp(entry->slots, vector->slots + (size_t) placed * WL_PACKED_SLOTS_MAX,
					 vector->slot_bytes[placed]) != 0))
		wl_add_problem(check, "record with wrong attributes", entry->key, entry->id);
}

/* Checks the entries of one item of the buckets table. */
static void
wl_visit_bucket(WlCheck *check, struct json_object *item)
{
	check->collection->meta->format->entries(check->collection->meta, item,
											 wl_check_entry, check);
}

/*
 * Runs a check of the collection behind a foreign table: problems into
 * check->problems, in the order vectors, entries, missing entries, count.
 */
static void
wl_run_check(WlCheck *check, Oid relid, AclMode mode)
{
	WlMeta	   *meta;
	HASHCTL		ctl;
	HASH_SEQ_STATUS scan;
	WlCheckedVector *vector;
	bool		entries_checked;

	if (pg_class_aclcheck(relid, GetUserId(), mode) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_TABLE, get_rel_name(relid));
	check->collection = wl_collection_for_relation(relid, &check->conn);
	meta = check->collection->meta;
	ctl.keysize = WL_ID_MAX + 1;
	ctl.entrysize = sizeof(WlCheckedVector);
	ctl.hcxt = CurrentMemoryContext;
	check->vectors = hash_create("whiplash checked vectors", 1024, &ctl,
								 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	check->capacity = 64;
	check->problems = palloc(sizeof(WlProblem) * check->capacity);
	check->code_bytes = meta->format->code_bytes(meta);
	check->nkeys = meta->format->key_count(meta, check->collection->index);

	wl_scan_table(check, meta->vectors_table, wl_visit_vector);
	/* an index that cannot be read is one problem, not one an entry */
	if (wl_collection_damage(check->collection) != NULL)
		wl_add_problem(check, psprintf("index that cannot be read: %s",
									   wl_collection_damage(check->collection)),
					   NULL, NULL);
	entries_checked = wl_collection_damage(check->collection) == NULL ||
		meta->format->searchable(meta, check->collection->index);
	if (entries_checked)
	{
		wl_scan_table(check, meta->buckets_table, wl_visit_bucket);
		hash_seq_init(&scan, check->vectors);
	}
	while (entries_checked && (vector = hash_seq_search(&scan)) != NULL)
	{
		int			k;

		for (k = 0; k < check->nkeys; k++)
		{
			char	   *key = vector->keys + (size_t) k * WL_LSH_KEY_MAX;
			int			u;

			/* v1 tables share one key space: a key may repeat */
			for (u = 0; u < k; u++)
				if (strcmp(key, vector->keys + (size_t) u * WL_LSH_KEY_MAX) == 0)
					break;
			if (u == k && !vector->found[k])
				wl_add_problem(check, "vector missing from bucket", key, vector->id);
		}
	}
	if (meta->format->counts_vectors && meta->vector_count != check->nvectors)
		wl_add_problem(check, psprintf("vector count is " INT64_FORMAT ", not " INT64_FORMAT,
									   (int64) meta->vector_count, (int64) check->nvectors),
					   NULL, NULL);
}

/*
 * whiplash_check(collection regclass) returns (problem, bucket, id): every
 * inconsistency between the collection's vectors and its buckets; none
 * when it is consistent.
 */
Datum
whiplash_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	WlCheck		check;
	int			i;

	memset(&check, 0, sizeof(check));
	wl_run_check(&check, PG_GETARG_OID(0), ACL_SELECT);
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < check.nproblems; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(check.problems[i].kind);
		nulls[1] = check.problems[i].bucket == NULL;
		if (!nulls[1])
			values[1] = CStringGetTextDatum(check.problems[i].bucket);
		nulls[2] = check.problems[i].id == NULL;
		if (!nulls[2])
			values[2] = CStringGetTextDatum(check.problems[i].id);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* The code a vector's entry under key should hold, or NULL. */
static const unsigned char *
wl_checked_code(WlCheck *check, WlCheckedVector *vector, const char *key)
{
	int			k;

	if (check->code_bytes == 0)
		return NULL;
	for (k = 0; k < check->nkeys; k++)
		if (strcmp(key, vector->keys + (size_t) k * WL_LSH_KEY_MAX) == 0)
			return vector->codes + (size_t) k * check->code_bytes;
	return NULL;
}

/* The attributes a vector's record under key should carry, or NULL. */
static const unsigned char *
wl_checked_slots(WlCheck *check, WlCheckedVector *vector, const char *key)
{
	int			k;

	for (k = 0; k < check->nkeys; k++)
		if (strcmp(key, vector->keys + (size_t) k * WL_LSH_KEY_MAX) == 0)
			return vector->slots + (size_t) k * WL_PACKED_SLOTS_MAX;
	return NULL;
}

/* Repairs the entries: those found missing added, the others removed. */
static void
wl_repair_entries(WlCheck *check)
{
	WlMeta	   *meta = check->collection->meta;
	WlEntryChange *changes = palloc(sizeof(WlEntryChange) * Max(check->nproblems, 1));
	WlDdbCall  *calls;
	int			nchanges = 0;
	int			i;

	for (i = 0; i < check->nproblems; i++)
	{
		WlProblem  *problem = &check->problems[i];

		WlCheckedVector *vector;

		if (problem->bucket == NULL)
			continue;
		changes[nchanges].entry.key = problem->bucket;
		changes[nchanges].entry.id = problem->id;
		changes[nchanges].add = strcmp(problem->kind, "vector missing from bucket") == 0 ||
			strcmp(problem->kind, "entry with wrong code") == 0 ||
			strcmp(problem->kind, "record with wrong attributes") == 0;
		changes[nchanges].entry.stray = strcmp(problem->kind, "item of no index") == 0;
		changes[nchanges].entry.malformed = false;
		changes[nchanges].entry.bad_name = strcmp(problem->kind, "record with malformed name") == 0;
		vector = changes[nchanges].add ?
			hash_search(check->vectors, problem->id, HASH_FIND, NULL) : NULL;
		changes[nchanges].entry.slots = vector ? wl_checked_slots(check, vector, problem->bucket) :
			NULL;
		changes[nchanges++].entry.code = vector ? wl_checked_code(check, vector, problem->bucket) :
			NULL;
	}
	wl_report_unseen(check->conn, check->collection, changes, nchanges);
	calls = wl_calls_new(nchanges);
	wl_run(check->conn, calls, meta->format->change_calls(meta, changes, nchanges, calls),
		   NULL);
}

/* Rewrites the vector items that list wrong keys, re-read whole. */
static void
wl_repair_key_lists(WlCheck *check)
{
	WlMeta	   *meta = check->collection->meta;
	char	  **ids = palloc(sizeof(char *) * Max(check->nproblems, 1));
	const char **keys = palloc(sizeof(char *) * meta->ntables);
	struct json_object **items;
	WlDdbCall  *calls;
	int			nids = 0;
	int			nitems;
	int			ncalls = 0;
	int			i;

	for (i = 0; i < check->nproblems; i++)
		if (check->problems[i].bucket == NULL && check->problems[i].id != NULL)
			ids[nids++] = check->problems[i].id;
	nitems = nids > 0 ? wl_batch_get(check->conn, meta->vectors_table, ids, nids, NULL, &items) : 0;
	calls = wl_calls_new((nitems + WL_BATCH_WRITE_MAX - 1) / WL_BATCH_WRITE_MAX);
	for (i = 0; i < nitems; i++)
	{
		WlCheckedVector *vector = hash_search(check->vectors, wl_store_item_id(items[i]),
											  HASH_FIND, NULL);
		struct json_object *fixed;
		int			t;

		if (vector == NULL)
			continue;
		for (t = 0; t < meta->ntables; t++)
			keys[t] = vector->keys + (size_t) t * WL_LSH_KEY_MAX;
		fixed = wl_store_item_with_keys(items[i], keys, meta->ntables);
		if (fixed == NULL)
			wl_report_out_of_memory();
		ncalls = wl_op_batch_write_append(calls, ncalls, meta->vectors_table,
										  wl_op_put_request(fixed));
	}
	wl_run(check->conn, calls, ncalls, NULL);
}

/*
 * whiplash_repair(collection regclass) returns (problem, repaired): runs a
 * check, then fixes what it found.
 */
Datum
whiplash_repair(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	WlCheck		check;
	int			i;
	int			j;

	memset(&check, 0, sizeof(check));
	wl_run_check(&check, PG_GETARG_OID(0), ACL_UPDATE);
	if (wl_collection_damage(check.collection) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the index of collection \"%s\" cannot be read: %s",
						check.collection->meta->name, wl_collection_damage(check.collection)),
				 errhint("Run whiplash_reindex on the collection: it builds a new index from the vectors.")));
	wl_repair_entries(&check);
	if (check.collection->meta->format->lists_keys)
		wl_repair_key_lists(&check);
	if (check.collection->meta->format->counts_vectors &&
		check.collection->meta->vector_count != check.nvectors)
		wl_update_count(check.conn, check.collection->meta,
						check.nvectors - check.collection->meta->vector_count);

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < check.nproblems; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};
		int64		count = 0;

		for (j = 0; j < i; j++)
			if (strcmp(check.problems[j].kind, check.problems[i].kind) == 0)
				break;
		if (j < i)
			continue;
		for (j = i; j < check.nproblems; j++)
			if (strcmp(check.problems[j].kind, check.problems[i].kind) == 0)
				count++;
		values[0] = CStringGetTextDatum(check.problems[i].kind);
		values[1] = Int64GetDatum(count);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * collection.c - a backend's cache of collection settings.
 *
 * A collection's settings live in one item of whiplash_metadata.  A backend
 * reads it once and keeps it, with the hash functions it implies, for
 * whiplash.collection_cache_ttl.  A collection dropped and re-created
 * elsewhere gets new tables (their names carry a generation), so a stale
 * entry cannot hash into the wrong tables: its reads fail with "table not
 * found", which makes the cache re-read every collection (errors.c counts
 * those failures).  A change to a foreign server does the same.
 *
 * A dropped collection's tables may still answer for a while on AWS
 * (DELETING), so a cached entry is also confirmed once a statement: its
 * metadata item is read in the same round as the statement's first calls
 * (calls.c), and the round's answers are refused if the collection is gone
 * or was created again.  That costs one small strongly consistent GetItem
 * a statement and no round trip.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_foreign_table.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "core/itemfile.h"
#include "core/operations.h"
#include "whiplash.h"

/* How long a backend trusts cached settings (whiplash.collection_cache_ttl). */
int			wl_collection_cache_ttl_ms = 60000;

#define WL_NAME_MAX WL_COLLECTION_NAME_MAX

typedef struct WlCollectionKey
{
	Oid			serverid;
	char		name[WL_NAME_MAX + 1];
} WlCollectionKey;

typedef struct WlCollectionEntry
{
	WlCollectionKey key;
	WlCollection collection;
	TimestampTz loaded_at;		/* 0: to be re-read */
	bool		unseen_changed; /* to be re-read: only values written that
								 * its statistics do not list changed, which
								 * leaves what callers hold searchable */
	TimestampTz confirmed_in;	/* the start of the last statement that read
								 * or confirmed the metadata */
} WlCollectionEntry;

static HTAB *wl_collections = NULL;

/*
 * Where the cached indexes' planes live: a context of its own, so that
 * PostgreSQL accounts for them (pg_backend_memory_contexts shows "whiplash
 * indexes").
 */
static MemoryContext wl_index_memory = NULL;

/* wl_tables_found_missing when the cache last looked. */
static uint64 wl_missing_seen = 0;

/* Checks a collection name: DynamoDB table-name characters, 1 to 64. */
void
wl_check_collection_name(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0 || len > WL_NAME_MAX ||
		strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid collection name \"%s\"", name),
				 errhint("Use 1 to %d letters, digits, '_', '-' or '.'.", WL_NAME_MAX)));
}

/* The metadata id of a collection: {project}_{stage}_{name}. */
char *
wl_metadata_id(WlConnection *conn, const char *name)
{
	return psprintf("%s_%s_%s", conn->options.project, conn->options.stage, name);
}

/* Frees the core objects of a cache entry. */
static void
wl_collection_release(WlCollection *collection)
{
	if (collection->index != NULL)
		collection->meta->format->close(collection->index);
	wl_meta_free(collection->meta);
	collection->index = NULL;
	collection->meta = NULL;
}

/* The LSH's memory (see lsh.h): the index context, refusing rather than raising. */
static void *
wl_index_alloc(size_t size, void *arg)
{
	return MemoryContextAllocExtended(wl_index_memory, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void
wl_index_release(void *pointer, void *arg)
{
	pfree(pointer);
}

/*
 * Makes the LSH take its memory from the index context and stop when the
 * backend is asked to: at load, before any LSH is made.
 */
void
wl_collection_init_memory(void)
{
	WlLshHost	host = {wl_index_alloc, wl_index_release, wl_interrupt_requested, NULL};

	wl_index_memory = AllocSetContextCreate(TopMemoryContext, "whiplash indexes",
											ALLOCSET_DEFAULT_SIZES);
	wl_lsh_set_host(&host);
}

/*
 * The index of a collection from the model items this server keeps
 * (modelcache.c), or NULL; a kept model that does not open is removed.
 */
static void *
wl_collection_index_kept(WlConnection *conn, WlMeta *meta)
{
	struct json_object *array;
	int			nitems = wl_model_cache_load(conn, meta, &array);
	struct json_object **items;
	void	   *volatile index = NULL;
	char		reason[256];
	int			i;

	if (nitems < 0)
		return NULL;
	PG_TRY();
	{
		items = palloc(sizeof(struct json_object *) * Max(nitems, 1));
		for (i = 0; i < nitems; i++)
			items[i] = wl_op_item_at(array, i);
		index = meta->format->open(meta, items, nitems, reason, sizeof(reason));
	}
	PG_FINALLY();
	{
		wl_itemfile_free(array);
	}
	PG_END_TRY();
	if (index == NULL)
		wl_model_cache_drop(conn, meta);
	return index;
}

/*
 * The index of a collection: its format reads what it needs beyond the
 * metadata (a trained model's items, from this server's disk when it kept
 * them) and builds it.  Frees meta when that fails.
 */
static void *
wl_collection_index(WlConnection *conn, WlMeta *meta)
{
	WlDdbCall  *calls = wl_calls_new(2);
	WlItems		items = {0};
	void	   *volatile index;
	char		reason[256];

	PG_TRY();
	{
		index = wl_collection_index_kept(conn, meta);
		if (index == NULL)
			wl_run(conn, calls, meta->format->model_calls(meta, calls), &items);
	}
	PG_CATCH();
	{
		wl_meta_free(meta);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (index != NULL)
		return index;
	index = meta->format->open(meta, items.items, items.count, reason, sizeof(reason));
	if (index != NULL && items.count > 0)
		wl_model_cache_save(conn, meta, items.items, items.count);
	if (index == NULL)
	{
		char	   *name = pstrdup(meta->name);

		wl_meta_free(meta);
		if (wl_lsh_stopped())
		{
			CHECK_FOR_INTERRUPTS();
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("canceling the reading of collection \"%s\"", name)));
		}
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the index of collection \"%s\" cannot be read: %s", name, reason)));
	}
	ereport(DEBUG1,
			(errmsg_internal("whiplash: derived the index of collection \"%s\"",
							 meta->name)));
	return index;
}

/* What of a collection's index could not be read, or NULL. */
static const char *
wl_index_damage(const WlMeta *meta, const void *index)
{
	return meta->format->damage != NULL ? meta->format->damage(index) : NULL;
}

/* What of the collection's index could not be read, or NULL; see whiplash.h. */
const char *
wl_collection_damage(const WlCollection *collection)
{
	return wl_index_damage(collection->meta, collection->index);
}

/*
 * Marks every cached collection for re-reading: a server's project, stage
 * or endpoint may have changed, or a collection's table was not found
 * because it was dropped or re-created elsewhere.
 */
static void
wl_collection_cache_reset(void)
{
	HASH_SEQ_STATUS scan;
	WlCollectionEntry *entry;

	hash_seq_init(&scan, wl_collections);
	while ((entry = hash_seq_search(&scan)) != NULL)
		entry->loaded_at = 0;
}

/* Syscache callback: a foreign server changed. */
static void
wl_collection_server_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	wl_collection_cache_reset();
}

/* The cache key of a collection. */
static void
wl_collection_key(WlCollectionKey *key, Oid serverid, const char *name)
{
	memset(key, 0, sizeof(WlCollectionKey));
	key->serverid = serverid;
	strlcpy(key->name, name, sizeof(key->name));
}

/* A collection's cache entry, or NULL. */
static WlCollectionEntry *
wl_collection_cached(Oid serverid, const char *name)
{
	WlCollectionKey key;

	if (wl_collections == NULL)
		return NULL;
	wl_collection_key(&key, serverid, name);
	return hash_search(wl_collections, &key, HASH_FIND, NULL);
}

/* Drops a collection's cache entry, if any. */
void
wl_collection_forget(Oid serverid, const char *name)
{
	WlCollectionEntry *entry = wl_collection_cached(serverid, name);

	if (entry != NULL)
	{
		wl_collection_release(&entry->collection);
		hash_search(wl_collections, &entry->key, HASH_REMOVE, NULL);
	}
}

/*
 * Marks a collection's cache entry, if any, for re-reading at its next
 * open, where only the values written that its statistics do not list
 * changed: unlike a change of index, a search of it goes on.
 */
void
wl_collection_unseen_changed(Oid serverid, const char *name)
{
	WlCollectionEntry *entry = wl_collection_cached(serverid, name);

	if (entry != NULL)
		entry->unseen_changed = true;
}

/*
 * Marks a collection's cache entry, if any, for re-reading at its next
 * open; unlike wl_collection_forget, what callers hold stays valid.
 */
void
wl_collection_expire(Oid serverid, const char *name)
{
	WlCollectionEntry *entry = wl_collection_cached(serverid, name);

	if (entry != NULL)
		entry->loaded_at = 0;
}

/*
 * Whether a metadata item is the named collection of the connection's
 * project and stage.  Ids join the three with '_', which names may contain:
 * project "a", stage "b_c" and project "a_b", stage "c" share ids, and the
 * item's own fields tell them apart.
 */
static bool
wl_meta_is_ours(const WlMeta *meta, WlConnection *conn, const char *name)
{
	return meta->project != NULL && meta->stage != NULL && meta->name != NULL &&
		strcmp(meta->project, conn->options.project) == 0 &&
		strcmp(meta->stage, conn->options.stage) == 0 &&
		strcmp(meta->name, name) == 0;
}

/*
 * Reads a collection's metadata item, strongly consistent.  Returns NULL
 * when there is no such collection, and then sets *taken (when not NULL) if
 * its id holds another project's or stage's collection; raises a clear
 * error when the server was never set up.
 */
WlMeta *
wl_read_metadata(WlConnection *conn, const char *name, bool *taken)
{
	struct json_object *item = wl_metadata_item(conn, wl_metadata_id(conn, name));
	WlMeta	   *meta;
	char		reason[256];

	if (taken != NULL)
		*taken = false;
	if (item == NULL)
		return NULL;
	meta = wl_meta_from_item(item, reason, sizeof(reason));
	if (meta == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("metadata of collection \"%s\" is malformed: %s", name, reason)));
	if (!wl_meta_is_ours(meta, conn, name))
	{
		wl_meta_free(meta);
		if (taken != NULL)
			*taken = true;
		return NULL;
	}
	return meta;
}

/* Raises the error for a collection that does not exist. */
static void
wl_no_such_collection(WlConnection *conn, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("collection \"%s\" does not exist on server \"%s\"", name, conn->server_name),
			 errhint("See SELECT * FROM whiplash_collections('%s').", conn->server_name)));
}

static void wl_collection_check_later(WlConnection *conn, WlCollectionEntry *entry);

/* Is a cache entry fresh enough to use? */
static bool
wl_collection_fresh(const WlCollectionEntry *entry)
{
	const WlMeta *meta = entry->collection.meta;

	/* A collection still waiting for its centre is re-read every time. */
	return entry->loaded_at != 0 && !entry->unseen_changed &&
		!TimestampDifferenceExceeds(entry->loaded_at, GetCurrentTimestamp(),
									wl_collection_cache_ttl_ms) &&
		!(meta->auto_center && meta->center == NULL);
}

/*
 * Returns a collection's settings and hash functions, from the cache when
 * fresh.  A native collection still waiting for its centre is always
 * re-read, so that every backend hashes with the centre once it is set.
 */
WlCollection *
wl_collection_open(WlConnection *conn, const char *name)
{
	WlCollectionKey key;
	WlCollectionEntry *entry;
	bool		found;
	WlMeta	   *meta;
	void	   *index;

	wl_check_collection_name(name);
	if (wl_collections == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(WlCollectionKey);
		ctl.entrysize = sizeof(WlCollectionEntry);
		wl_collections = hash_create("whiplash collections", 16, &ctl,
									 HASH_ELEM | HASH_BLOBS);
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, wl_collection_server_changed, (Datum) 0);
	}
	AcceptInvalidationMessages();
	if (wl_missing_seen != wl_tables_found_missing)
	{
		wl_collection_cache_reset();
		wl_missing_seen = wl_tables_found_missing;
	}
	wl_collection_key(&key, conn->serverid, name);
	entry = hash_search(wl_collections, &key, HASH_FIND, NULL);
	if (entry != NULL && wl_collection_fresh(entry))
	{
		if (entry->confirmed_in != GetCurrentStatementStartTimestamp())
			wl_collection_check_later(conn, entry);
		return &entry->collection;
	}

	meta = wl_read_metadata(conn, name, NULL);
	if (meta == NULL)
	{
		wl_collection_forget(conn->serverid, name);
		wl_no_such_collection(conn, name);
	}
	if (entry != NULL && entry->collection.index != NULL &&
		wl_meta_same_index(meta, entry->collection.meta) &&
		wl_meta_same_shape(meta, entry->collection.meta) &&
		meta->format->refresh(entry->collection.meta, meta, entry->collection.index))
	{
		/* the same index, re-read: keep what was derived from it */
		wl_meta_free(entry->collection.meta);
		entry->collection.meta = meta;
		entry->loaded_at = GetCurrentTimestamp();
		entry->unseen_changed = false;
		entry->confirmed_in = GetCurrentStatementStartTimestamp();
		return &entry->collection;
	}
	index = wl_collection_index(conn, meta);
	if (wl_index_damage(meta, index) != NULL)
	{
		/* a reindex may have switched between the two reads: read both again */
		WlMeta	   *again;

		meta->format->close(index);
		wl_meta_free(meta);
		again = wl_read_metadata(conn, name, NULL);
		if (again == NULL)
		{
			wl_collection_forget(conn->serverid, name);
			wl_no_such_collection(conn, name);
		}
		meta = again;
		index = wl_collection_index(conn, meta);
	}
	entry = hash_search(wl_collections, &key, HASH_ENTER, &found);
	if (found)
		wl_collection_release(&entry->collection);
	entry->collection.meta = meta;
	entry->collection.index = index;
	entry->loaded_at = GetCurrentTimestamp();
	entry->unseen_changed = false;
	entry->confirmed_in = GetCurrentStatementStartTimestamp();
	return &entry->collection;
}

/*
 * Has the connection's next round confirm a cached entry; when the round
 * already holds its most checks, reads the metadata now instead.
 */
static void
wl_collection_check_later(WlConnection *conn, WlCollectionEntry *entry)
{
	TimestampTz statement = GetCurrentStatementStartTimestamp();
	int			i;

	if (conn->checks_statement != statement)
	{
		conn->nchecks = 0;
		conn->checks_statement = statement;
	}
	for (i = 0; i < conn->nchecks; i++)
		if (strcmp(conn->checks[i], entry->key.name) == 0)
			return;
	entry->confirmed_in = statement;
	if (conn->nchecks < WL_MAX_CHECKS)
	{
		strlcpy(conn->checks[conn->nchecks++], entry->key.name, sizeof(conn->checks[0]));
		return;
	}
	{
		WlDdbCall  *call = wl_calls_new(1);
		char	   *name = entry->key.name;

		wl_meta_get_call(call, WL_METADATA_TABLE, wl_metadata_id(conn, name));
		wl_run_once(conn, call, 1, NULL);
		wl_collection_checks_judge(conn, call, &name, 1);
	}
}

/*
 * Takes the checks the current statement left for its next round: a
 * GetItem of each collection's metadata into *calls, and the collections'
 * names into *names.  Returns how many.
 */
int
wl_collection_checks_take(WlConnection *conn, WlDdbCall **calls, char ***names)
{
	int			n = conn->checks_statement == GetCurrentStatementStartTimestamp() ?
		conn->nchecks : 0;
	int			i;

	conn->nchecks = 0;
	if (n == 0)
		return 0;
	*calls = wl_calls_new(n);
	*names = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		(*names)[i] = pstrdup(conn->checks[i]);
		wl_meta_get_call(&(*calls)[i], WL_METADATA_TABLE, wl_metadata_id(conn, (*names)[i]));
	}
	return n;
}

/*
 * Judges the answered metadata reads of cached collections: a collection
 * gone, or of another generation, is an error (the round read its old
 * tables); one whose index changed is re-read by the next statement.
 * Entries are marked for re-reading, never freed: callers still hold them.
 */
void
wl_collection_checks_judge(WlConnection *conn, WlDdbCall *calls, char **names, int ncalls)
{
	int			i;

	for (i = 0; i < ncalls; i++)
	{
		struct json_object *item;
		WlCollectionEntry *entry;
		WlCollectionKey key;
		WlMeta	   *now;
		char		reason[256];
		bool		same_generation;

		if (calls[i].error.kind != WL_DDB_OK)
			wl_report_call_error(conn, &calls[i]);
		wl_collection_key(&key, conn->serverid, names[i]);
		entry = hash_search(wl_collections, &key, HASH_FIND, NULL);
		if (entry == NULL)
			continue;
		item = wl_op_get_item_result(&calls[i]);
		if (item == NULL)
		{
			entry->loaded_at = 0;
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("collection \"%s\" does not exist on server \"%s\"",
							names[i], conn->server_name),
					 errdetail("It was dropped after this session read its settings.")));
		}
		now = wl_meta_from_item(item, reason, sizeof(reason));
		if (now != NULL && wl_meta_same_index(now, entry->collection.meta) &&
			now->unseen_state != entry->collection.meta->unseen_state)
			entry->unseen_changed = true;
		if (now == NULL || wl_meta_same_index(now, entry->collection.meta))
		{
			/* (malformed metadata is reported when it is next read) */
			entry->loaded_at = now == NULL ? 0 : entry->loaded_at;
			wl_meta_free(now);
			continue;
		}
		entry->loaded_at = 0;
		same_generation = wl_meta_same_generation(now, entry->collection.meta);
		wl_meta_free(now);
		if (!same_generation)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("collection \"%s\" was dropped and created again since this session read its settings",
							names[i]),
					 errhint("Run the statement again.")));
	}
}

/*
 * Is collection a cache entry that a confirming read marked for re-reading?
 * Its index may then have switched to a new generation, and the old one's
 * items be gone, since a search of it was planned: even one that began
 * before another read of the same statement found the change.
 */
bool
wl_collection_stale(WlConnection *conn, const WlCollection *collection)
{
	WlCollectionKey key;
	WlCollectionEntry *entry;

	if (wl_collections == NULL)
		return false;
	wl_collection_key(&key, conn->serverid, collection->meta->name);
	entry = hash_search(wl_collections, &key, HASH_FIND, NULL);
	return entry != NULL && &entry->collection == collection && entry->loaded_at == 0;
}

/*
 * The collection behind a foreign table, and a connection to its server.
 * Raises a clear error for a relation that is not a whiplash foreign table
 * or lacks the collection option.
 */
WlCollection *
wl_collection_for_relation(Oid relid, WlConnection **conn)
{
	ForeignTable *table;
	ForeignServer *server;
	ForeignDataWrapper *fdw;
	char	   *name;

	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a whiplash foreign table", get_rel_name(relid)),
				 errhint("Map the collection with CREATE FOREIGN TABLE ... SERVER ... OPTIONS (collection '...').")));
	table = GetForeignTable(relid);
	server = GetForeignServer(table->serverid);
	fdw = GetForeignDataWrapper(server->fdwid);
	if (strcmp(fdw->fdwname, "whiplash") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a whiplash foreign table", get_rel_name(relid))));
	name = wl_table_collection_name(relid);
	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("foreign table \"%s\" has no collection option", get_rel_name(relid)),
				 errhint("ALTER FOREIGN TABLE %s OPTIONS (ADD collection '...').",
						 quote_identifier(get_rel_name(relid)))));
	*conn = wl_connect(server->serverid);
	return wl_collection_open(*conn, name);
}

/*
 * The whiplash foreign tables that map a collection of this name, quoted
 * and comma-separated (NULL: none), for the hint of a name that is not a
 * table.
 */
static char *
wl_tables_mapping(const char *collection)
{
	StringInfoData names;
	Relation	catalog = table_open(ForeignTableRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(catalog, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tuple;

	initStringInfo(&names);
	while ((tuple = systable_getnext(scan)) != NULL)
	{
		Oid			relid = ((Form_pg_foreign_table) GETSTRUCT(tuple))->ftrelid;
		ForeignServer *server = GetForeignServer(GetForeignTable(relid)->serverid);
		char	   *name;

		if (strcmp(GetForeignDataWrapper(server->fdwid)->fdwname, "whiplash") != 0)
			continue;
		name = wl_table_collection_name(relid);
		if (name == NULL || strcmp(name, collection) != 0)
			continue;
		appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "",
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
													get_rel_name(relid)));
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return names.len > 0 ? names.data : NULL;
}

/*
 * The relation a search names, as regclass would find it; a name that is
 * no relation gets an error saying which foreign table maps a collection
 * of that name, or how to map one.
 */
Oid
wl_relation_of_name(text *name)
{
	List	   *names = textToQualifiedNameList(name);
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);
	char	   *collection = strVal(llast(names));
	char	   *mapping;

	if (OidIsValid(relid))
		return relid;
	mapping = wl_tables_mapping(collection);
	if (mapping != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" does not exist", text_to_cstring(name)),
				 errhint("Collection \"%s\" is mapped by foreign table %s: search that table.",
						 collection, mapping)));
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_TABLE),
			 errmsg("relation \"%s\" does not exist", text_to_cstring(name)),
			 errhint("whiplash_search takes the foreign table of a collection: map one with CREATE FOREIGN TABLE ... SERVER ... OPTIONS (collection '%s'), or IMPORT FOREIGN SCHEMA.",
					 collection)));
	return InvalidOid;
}

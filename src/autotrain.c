/*
 * autotrain.c - the trainings a write starts: a packed collection's first
 * index when it reaches WL_PACKED_TRAIN_MIN vectors, a new one when it has
 * outgrown its cells (whiplash.retrain_on_growth), and the rest of a build
 * whose session left it (cancelled, or its backend gone) more than
 * whiplash.abandoned_build_timeout ago.
 *
 * The write's rows are stored by then, so a training that fails (a
 * commit_timeout shorter than it, a cancel during COMMIT, a sample it
 * cannot read or train on) must not fail the write: it runs in a
 * subtransaction, and its error becomes a WARNING.  At COMMIT it runs after
 * every collection's rows are written (xact.c).  The collection stays
 * searchable (exactly, or by its old index) and writable, and
 * whiplash_reindex trains it.  This backend then leaves the collection's
 * automatic training until its stored count has doubled, so that each
 * later one-row write does not train, fail and warn again.
 */
#include "postgres.h"

#include <time.h>

#include "access/xact.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "core/packed.h"
#include "whiplash.h"

/*
 * A collection whose automatic training failed in this backend, known by
 * its vectors table, whose name changes when it is created again.
 */
typedef struct WlTrainFailure
{
	Oid			serverid;		/* hash key: server and vectors table */
	char		table[256];		/* DynamoDB table names have at most 255 */
	int64		count;			/* its stored count when training failed */
} WlTrainFailure;

static HTAB *wl_train_failures = NULL;

/* The failure noted for a collection, made when make is set; or NULL. */
static WlTrainFailure *
wl_train_failure(Oid serverid, const char *table, bool make)
{
	WlTrainFailure key;
	bool		found;

	if (wl_train_failures == NULL)
	{
		HASHCTL		ctl;

		if (!make)
			return NULL;
		ctl.keysize = offsetof(WlTrainFailure, count);
		ctl.entrysize = sizeof(WlTrainFailure);
		ctl.hcxt = TopMemoryContext;
		wl_train_failures = hash_create("whiplash failed trainings", 16, &ctl,
										HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.serverid = serverid;
	strlcpy(key.table, table, sizeof(key.table));
	return hash_search(wl_train_failures, &key, make ? HASH_ENTER : HASH_FIND, &found);
}

/*
 * The training a write leaves due, given the collection's stored count
 * after it: the first index of an untrained collection (its index readable,
 * no build marked), or a new one for cells it has outgrown.  None while a
 * failure this backend noted stands, until the count doubles.
 */
WlReindexCause
wl_autotrain_due(WlConnection *conn, const WlCollection *collection, int64 count)
{
	const WlMeta *meta = collection->meta;
	WlTrainFailure *failure = wl_train_failure(conn->serverid, meta->vectors_table, false);

	if (failure != NULL && count < 2 * failure->count)
		return WL_REINDEX_NONE;
	if (wl_packed_build_abandoned(meta, (int64) time(NULL), wl_abandoned_build_timeout))
		return WL_REINDEX_ABANDONED;
	if (!meta->format->searchable(meta, collection->index) &&
		wl_collection_damage(collection) == NULL &&
		meta->format->key_count(meta, collection->index) == 0 &&
		count >= WL_PACKED_TRAIN_MIN)
		return WL_REINDEX_FIRST;
	if (wl_retrain_on_growth && wl_packed_outgrown(meta, count))
		return WL_REINDEX_GROWN;
	return WL_REINDEX_NONE;
}

/*
 * Trains as cause says, with a NOTICE, in a subtransaction: a failure is a
 * WARNING, noted so that this backend does not try again at once.  count
 * is the collection's stored count.  Before COMMIT (an early flush of a
 * statement's rows) a cancel or statement_timeout still ends the
 * statement; at COMMIT, where no statement is left to end, it is a
 * WARNING too.
 */
void
wl_autotrain(WlConnection *conn, const char *name, const char *vectors_table,
			 WlReindexCause cause, int64 count, bool at_commit)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	if (cause == WL_REINDEX_FIRST)
		ereport(NOTICE,
				(errmsg("training the index of collection \"%s\" on its first vectors", name),
				 errdetail("Until now it was searched by reading every vector.")));
	else if (cause == WL_REINDEX_ABANDONED)
		ereport(NOTICE,
				(errmsg("resuming the index build of collection \"%s\", which its session left unfinished",
						name),
				 errdetail("No session had shown work on it for more than whiplash.abandoned_build_timeout (%d s).",
						   wl_abandoned_build_timeout)));
	else
		ereport(NOTICE,
				(errmsg("retraining the index of collection \"%s\", which has grown to twice the vectors it was trained on",
						name),
				 errdetail("Searches use the old index until the new one is complete."),
				 errhint("Set whiplash.retrain_on_growth to off to leave retraining to whiplash_reindex.")));
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		wl_reindex(conn, name, cause, NULL);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		if (!at_commit && error->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(error);
		wl_train_failure(conn->serverid, vectors_table, true)->count = Max(count, 1);
		ereport(WARNING,
				(errcode(error->sqlerrcode),
				 errmsg("the index of collection \"%s\" was not %s: %s", name,
						cause == WL_REINDEX_FIRST ? "trained" :
						cause == WL_REINDEX_GROWN ? "retrained" : "built", error->message),
				 errdetail("The rows were written. %s",
						   cause == WL_REINDEX_FIRST ?
						   "Searches read every vector until an index is trained." :
						   "Searches use the current index, or read every vector when there is none."),
				 errhint("Run whiplash_reindex on the collection. This session tries again when the collection has twice its vectors.")));
		FreeErrorData(error);
	}
	PG_END_TRY();
}

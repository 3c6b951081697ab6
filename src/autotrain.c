/*
 * autotrain.c - the trainings a write starts: a packed collection's first
 * index when it reaches WL_PACKED_TRAIN_MIN vectors, a new one when it has
 * outgrown its cells (whiplash.retrain_on_growth), and the rest of a build
 * whose session left it (cancelled, or its backend gone) more than
 * whiplash.abandoned_build_timeout ago.
 *
 * By default (whiplash.background_builds) a write only starts a background
 * worker that trains (worker.c), and no statement waits for a build.  Off,
 * the training runs at the write's COMMIT, after every collection's rows
 * are written (xact.c).  The rows are stored by then, so a training that
 * fails there (a commit_timeout shorter than it, a cancel during COMMIT, a
 * sample it cannot read or train on) must not fail the write: it runs in a
 * subtransaction, and its error becomes a WARNING.
 *
 * Either way the collection stays searchable (exactly, or by its old
 * index) and writable, and whiplash_reindex trains it.  A training this
 * backend started that did not end in an index (it failed, or its end is
 * not yet seen here) is not started again until the collection's stored
 * count has doubled, so that each later one-row write does not train,
 * fail and warn again.
 */
#include "postgres.h"

#include <time.h>

#include "access/xact.h"
#include "postmaster/bgworker.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "core/packed.h"
#include "whiplash.h"

/*
 * A collection whose automatic training this backend started, known by its
 * vectors table, whose name changes when it is created again.
 */
typedef struct WlTrainNote
{
	Oid			serverid;		/* hash key: server and vectors table */
	char		table[256];		/* DynamoDB table names have at most 255 */
	int64		count;			/* its stored count then */
	BackgroundWorkerHandle *worker; /* the worker training it, or NULL */
	TransactionId writer;		/* the transaction that started it */
} WlTrainNote;

static HTAB *wl_train_notes = NULL;

/* whiplash.background_builds: writes leave trainings to a worker. */
bool		wl_background_builds = true;

/* The note of a collection, made when make is set; or NULL. */
static WlTrainNote *
wl_train_note(Oid serverid, const char *table, bool make)
{
	WlTrainNote key;
	WlTrainNote *note;
	bool		found;

	if (wl_train_notes == NULL)
	{
		HASHCTL		ctl;

		if (!make)
			return NULL;
		ctl.keysize = offsetof(WlTrainNote, count);
		ctl.entrysize = sizeof(WlTrainNote);
		ctl.hcxt = TopMemoryContext;
		wl_train_notes = hash_create("whiplash trainings started", 16, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.serverid = serverid;
	strlcpy(key.table, table, sizeof(key.table));
	note = hash_search(wl_train_notes, &key, make ? HASH_ENTER : HASH_FIND, &found);
	if (make && !found)
	{
		note->count = 0;
		note->worker = NULL;
	}
	return note;
}

/*
 * Notes that this backend started a training of a collection (in a worker
 * when worker is not NULL) when it had count vectors.
 */
void
wl_autotrain_note(Oid serverid, const char *table, int64 count, BackgroundWorkerHandle *worker)
{
	WlTrainNote *note = wl_train_note(serverid, table, true);

	note->count = Max(count, 1);
	if (note->worker != NULL)
		pfree(note->worker);
	note->worker = worker;
	note->writer = GetTopTransactionIdIfAny();
}

/*
 * Does a worker this backend started wait for the end of this transaction
 * before it builds (worker.c)?  Then this transaction must not wait for it.
 */
bool
wl_autotrain_awaits_us(Oid serverid, const char *table)
{
	WlTrainNote *note = wl_train_note(serverid, table, false);

	return note != NULL && wl_build_worker_running(note->worker) &&
		TransactionIdIsValid(note->writer) &&
		TransactionIdEquals(note->writer, GetTopTransactionIdIfAny());
}

/* Does a worker this backend started still build a collection's index? */
bool
wl_autotrain_running(Oid serverid, const char *table)
{
	WlTrainNote *note = wl_train_note(serverid, table, false);

	return note != NULL && wl_build_worker_running(note->worker);
}

/*
 * The training a write leaves due, given the collection's stored count
 * after it: the first index of an untrained collection (its index readable,
 * no build marked), or a new one for cells it has outgrown.  None while a
 * worker holds the collection's build lock (it looks again when it ends),
 * nor, when a training this backend started did not end in an index of
 * the count it started at (it failed, or this backend has not yet seen its
 * end), until the count has doubled.
 */
WlReindexCause
wl_autotrain_due(WlConnection *conn, const WlCollection *collection, int64 count)
{
	const WlMeta *meta = collection->meta;
	const WlPackedSettings *settings = wl_packed_settings_of(meta);
	WlTrainNote *note = wl_train_note(conn->serverid, meta->vectors_table, false);

	/* the worker is gone: the next write reads what it left */
	if (note != NULL && note->worker != NULL && !wl_build_worker_running(note->worker))
	{
		wl_collection_expire(conn->serverid, meta->name);
		pfree(note->worker);
		note->worker = NULL;
	}
	/* a training that ended with an index of at least its count is done */
	if (note != NULL && !wl_build_worker_running(note->worker) && settings != NULL &&
		settings->has_current && !settings->has_building &&
		settings->current.vectors >= note->count)
	{
		hash_search(wl_train_notes, note, HASH_REMOVE, NULL);
		note = NULL;
	}
	/* a worker at work looks at the count again as it ends (worker.c) */
	if (wl_build_locked(conn->serverid, meta->name))
		return WL_REINDEX_NONE;
	if (note != NULL && count < 2 * note->count)
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
 * Starts a worker that trains as cause says, with a NOTICE, and notes it.
 * None when a worker of another session is at it; a WARNING when no worker
 * can be started.
 */
static void
wl_autotrain_background(WlConnection *conn, const char *name, const char *vectors_table,
						WlReindexCause cause, int64 count, Oid relid)
{
	bool		busy;
	BackgroundWorkerHandle *worker = wl_build_launch(conn, name, cause, relid, &busy);

	wl_autotrain_note(conn->serverid, vectors_table, count, worker);
	if (worker == NULL && !busy)
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a background worker to build the index of collection \"%s\"",
						name),
				 errdetail("The rows were written. Searches use the current index, or read every vector when there is none."),
				 errhint("Raise max_worker_processes, or run whiplash_reindex on the collection.")));
	else if (worker != NULL && cause == WL_REINDEX_FIRST)
		ereport(NOTICE,
				(errmsg("training the index of collection \"%s\" on its first vectors, in the background",
						name),
				 errdetail("Until it is ready, searches read every vector. whiplash_builds shows its progress.")));
	else if (worker != NULL && cause == WL_REINDEX_ABANDONED)
		ereport(NOTICE,
				(errmsg("resuming the index build of collection \"%s\", which its session left unfinished, in the background",
						name),
				 errdetail("No session had shown work on it for more than whiplash.abandoned_build_timeout (%d s).",
						   wl_abandoned_build_timeout)));
	else if (worker != NULL)
		ereport(NOTICE,
				(errmsg("retraining the index of collection \"%s\", which has grown to twice the vectors it was trained on, in the background",
						name),
				 errdetail("Searches use the old index until the new one is complete."),
				 errhint("Set whiplash.retrain_on_growth to off to leave retraining to whiplash_reindex.")));
}

/*
 * Trains as cause says: in a background worker (whiplash.background_builds)
 * or here, with a NOTICE, in a subtransaction: a failure is a WARNING,
 * noted so that this backend does not try again at once.  count is the
 * collection's stored count.  Before COMMIT (an early flush of a
 * statement's rows) a cancel or statement_timeout still ends the
 * statement; at COMMIT, where no statement is left to end, it is a
 * WARNING too.  A first index carries the filterable columns of relid, the
 * foreign table written.
 */
void
wl_autotrain(WlConnection *conn, const char *name, const char *vectors_table,
			 WlReindexCause cause, int64 count, bool at_commit, Oid relid)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	WlBuildAttrs attrs;

	if (wl_background_builds)
	{
		wl_autotrain_background(conn, name, vectors_table, cause, count, relid);
		return;
	}
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
		if (cause == WL_REINDEX_FIRST)
			wl_relation_filterable(relid, &attrs);
		wl_reindex(conn, name, cause, cause == WL_REINDEX_FIRST ? &attrs : NULL, NULL);
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
		wl_autotrain_note(conn->serverid, vectors_table, count, NULL);
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

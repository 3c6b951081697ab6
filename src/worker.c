/*
 * worker.c - index builds in a background worker, off the user's path.
 *
 * A write that leaves a collection's index due (autotrain.c) does not
 * train it: it starts a dynamic background worker, which needs no
 * shared_preload_libraries, and goes on.  The worker connects to the
 * writer's database as the writer's role, waits for the writer's
 * transaction to end, and runs the build whiplash_reindex runs
 * (reindex.c).  Meanwhile writes go to the current index, and to the new
 * one once it is marked building; searches use the current index, or read
 * every vector.
 *
 * One worker per foreign server and collection in a database: a worker
 * holds a session lock named after them, and a second one gives way.  An
 * error of DynamoDB or of the network is tried again WL_BUILD_ATTEMPTS
 * times, waiting longer each time.  A build that still fails, or whose
 * server stopped (a crash, a restart), stays marked building, and the
 * first write after whiplash.abandoned_build_timeout starts a worker that
 * resumes it.  A write that finds a worker holding the lock starts no
 * training: the worker looks at the collection's count once more after it
 * lets go of the lock, and a build that ends with the collection at twice
 * the size it was built for (a load that went on meanwhile) is followed by
 * another.  The writer that starts a worker waits until it holds the lock
 * (or gave way), so that a held lock means a worker still to look.  The
 * worker shows its phase and counts in its backend status (the progress
 * parameters of pg_stat_activity's row), which whiplash_builds reads
 * (builds.c).
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/pmsignal.h"
#include "tcop/tcopprot.h"
#include "utils/backend_progress.h"
#include "utils/backend_status.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "whiplash.h"
#include "core/packed.h"

PGDLLEXPORT void whiplash_build_main(Datum arg);

/* Tries of a build that fails on DynamoDB or the network. */
#define WL_BUILD_ATTEMPTS 6

/*
 * The most builds and looks for growth that follow the first build (each
 * build that follows needs the collection doubled and takes at most two:
 * a bound that a load from 1,000 vectors to beyond a billion would reach).
 */
#define WL_BUILD_FOLLOW_UPS 40

/* Tries of a worker to take its lock, 20 ms apart, before it gives way. */
#define WL_BUILD_LOCK_TRIES 10

/* The longest a writer waits for the worker it started to take its lock. */
#define WL_BUILD_START_WAIT_MS 10000

/* The lock a worker holds: an advisory lock's tag with this field4. */
#define WL_BUILD_LOCK_FIELD 0x574c

/* What a writer hands its worker, in bgw_extra. */
typedef struct WlBuildOrder
{
	Oid			database;
	Oid			role;			/* whose user mapping the build uses */
	Oid			server;
	TransactionId writer;		/* the writer's transaction, if it has an id */
	int32		cause;			/* WlReindexCause */
	int32		abandoned_build_timeout;	/* the writer's setting */
	int32		max_ungrouped_cells;	/* the writer's setting */
	bool		retrain_on_growth;	/* the writer's setting */
	double		recall_target;	/* the writer's setting */
	Oid			relation;		/* the foreign table whose filterable columns
								 * a first or asked-for index carries, or
								 * InvalidOid */
	char		collection[WL_COLLECTION_NAME_MAX + 1];
} WlBuildOrder;

StaticAssertDecl(sizeof(WlBuildOrder) <= BGW_EXTRALEN,
				 "a build order must fit in bgw_extra");

/* The lock of builds of a collection in this database. */
static void
wl_build_tag(LOCKTAG *tag, Oid serverid, const char *collection)
{
	uint32		name_hash = hash_bytes((const unsigned char *) collection,
									   (int) strlen(collection));

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, serverid, name_hash, WL_BUILD_LOCK_FIELD);
}

/*
 * Is a worker of this database building the collection's index?  A
 * transaction's lock taken and given back at once: only a worker holds it
 * for longer.
 */
bool
wl_build_locked(Oid serverid, const char *collection)
{
	LOCKTAG		tag;

	wl_build_tag(&tag, serverid, collection);
	if (LockAcquire(&tag, ShareLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return true;
	LockRelease(&tag, ShareLock, false);
	return false;
}

/*
 * Waits until a worker just started holds its lock, or has ended (it gave
 * way to another), for at most WL_BUILD_START_WAIT_MS: until then a write
 * could not tell it from a worker that has let go of its lock at the end
 * (autotrain.c).  No cancel is taken here: this runs at COMMIT too, after
 * the rows were written.
 */
static void
wl_build_wait_locked(BackgroundWorkerHandle *handle, Oid serverid, const char *collection)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													WL_BUILD_START_WAIT_MS);

	while (wl_build_worker_running(handle) && !wl_build_locked(serverid, collection) &&
		   GetCurrentTimestamp() < until)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * Starts a worker that builds a collection's index as cause says, unless
 * a worker of this database is at it already, and waits until it holds its
 * lock.  Returns its handle (allocated in TopMemoryContext), or NULL when
 * none was started; *busy says whether that is because another worker is
 * at it.
 */
BackgroundWorkerHandle *
wl_build_launch(WlConnection *conn, const char *collection, WlReindexCause cause, Oid relid,
				bool *busy)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	WlBuildOrder order;
	MemoryContext oldcontext;
	bool		started;

	*busy = wl_build_locked(conn->serverid, collection);
	if (*busy)
		return NULL;
	memset(&order, 0, sizeof(order));
	order.database = MyDatabaseId;
	order.role = GetUserId();
	order.server = conn->serverid;
	order.writer = GetTopTransactionIdIfAny();
	order.cause = cause;
	order.relation = relid;
	order.abandoned_build_timeout = wl_abandoned_build_timeout;
	order.max_ungrouped_cells = wl_packed_max_flat_cells;
	order.retrain_on_growth = wl_retrain_on_growth;
	order.recall_target = wl_recall_target;
	strlcpy(order.collection, collection, sizeof(order.collection));

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "whiplash", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "whiplash_build_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "whiplash build of collection \"%s\"", collection);
	strlcpy(worker.bgw_type, WL_BUILD_WORKER_TYPE, BGW_MAXLEN);
	worker.bgw_notify_pid = MyProcPid;
	memcpy(worker.bgw_extra, &order, sizeof(order));
	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	started = RegisterDynamicBackgroundWorker(&worker, &handle);
	MemoryContextSwitchTo(oldcontext);
	if (!started)
		return NULL;
	wl_build_wait_locked(handle, conn->serverid, collection);
	if (!wl_build_worker_running(handle) && wl_build_locked(conn->serverid, collection))
	{
		/* it gave way to a worker that took the lock meanwhile */
		pfree(handle);
		*busy = true;
		return NULL;
	}
	return handle;
}

/* Is the worker of a handle (NULL: none) starting or at work? */
bool
wl_build_worker_running(BackgroundWorkerHandle *handle)
{
	pid_t		pid;
	BgwHandleStatus status;

	if (handle == NULL)
		return false;
	status = GetBackgroundWorkerPid(handle, &pid);
	return status == BGWH_STARTED || status == BGWH_NOT_YET_STARTED;
}

/* The worker's order, kept for its progress reports. */
static WlBuildOrder wl_build_order;

/* The try of the build under way, from 1. */
static int	wl_build_attempt = 0;

/*
 * Shows where the build is in this worker's backend status (builds.c reads
 * it), lets go of its catalog snapshot so that it holds back no vacuum,
 * and stops the worker when the postmaster is gone.
 */
static void
wl_build_progress(WlBuildPhase phase, int64 done, int64 total)
{
	const int	index[] = {
		WL_BUILD_PARAM_PHASE, WL_BUILD_PARAM_DONE, WL_BUILD_PARAM_TOTAL, WL_BUILD_PARAM_CAUSE,
		WL_BUILD_PARAM_ATTEMPT, WL_BUILD_PARAM_SERVER, WL_BUILD_PARAM_ROLE
	};
	int64		values[7];

	values[0] = phase;
	values[1] = done;
	values[2] = total;
	values[3] = wl_build_order.cause;
	values[4] = wl_build_attempt;
	values[5] = wl_build_order.server;
	values[6] = wl_build_order.role;
	pgstat_progress_update_multi_param(lengthof(index), index, values);
	InvalidateCatalogSnapshot();
	if (!PostmasterIsAlive())
		proc_exit(1);
}

/* Is an error one that the same build may not meet when tried again? */
static bool
wl_build_error_passes(const ErrorData *error)
{
	return error->sqlerrcode == ERRCODE_FDW_ERROR ||
		error->sqlerrcode == ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION ||
		error->sqlerrcode == ERRCODE_INSUFFICIENT_RESOURCES ||
		ERRCODE_TO_CATEGORY(error->sqlerrcode) == ERRCODE_CONNECTION_EXCEPTION;
}

/*
 * One try of the build, in a transaction of its own: as the writer's role,
 * once the writer's transaction has ended (it may have made the server or
 * the foreign table).  True when it made or finished an index.
 */
static bool
wl_build_try(const WlBuildOrder *order, WlReindexCause cause)
{
	WlConnection *conn;
	WlBuildAttrs attrs;

	SetUserIdAndSecContext(order->role, SECURITY_LOCAL_USERID_CHANGE);
	if (TransactionIdIsValid(order->writer))
		XactLockTableWait(order->writer, NULL, NULL, XLTW_None);
	conn = wl_connect(order->server);
	if (order->cause != WL_REINDEX_FIRST && order->cause != WL_REINDEX_ASKED)
		return wl_reindex(conn, order->collection, cause, NULL, NULL);
	wl_relation_filterable(order->relation, &attrs);
	return wl_reindex(conn, order->collection, cause, &attrs, NULL);
}

/* Sleeps ms milliseconds, whatever sets the latch meanwhile. */
static void
wl_build_sleep(long ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
	long		left;

	while ((left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until)) > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The error a PG_CATCH of the worker caught, copied into context, with its
 * transaction aborted.
 */
static ErrorData *
wl_build_caught(MemoryContext context)
{
	ErrorData  *error;

	MemoryContextSwitchTo(context);
	error = CopyErrorData();
	FlushErrorState();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(context);
	return error;
}

/*
 * Runs the build until it is done, tried again after errors that may
 * pass, with waits of 2, 4, 8 ... seconds.  Errors go to the server log.
 * Returns whether it made or finished an index; *failed, whether it gave
 * up on errors.
 */
static bool
wl_build_run(const WlBuildOrder *order, bool *failed)
{
	volatile bool built = false;
	MemoryContext context = CurrentMemoryContext;

	for (wl_build_attempt = 1;; wl_build_attempt++)
	{
		volatile bool done = false;
		volatile bool again = false;
		int			wait_s = 1 << Min(wl_build_attempt, 8);
		volatile bool made;

		wl_build_progress(WL_BUILD_STARTING, 0, 0);
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PG_TRY();
		{
			made = wl_build_try(order, wl_build_attempt == 1 || order->cause == WL_REINDEX_ASKED ?
								order->cause : WL_REINDEX_RETRY);
			CommitTransactionCommand();
			built = made;
			done = true;
		}
		PG_CATCH();
		{
			ErrorData  *error;

			error = wl_build_caught(context);
			again = wl_build_error_passes(error) && wl_build_attempt < WL_BUILD_ATTEMPTS;
			ereport(LOG,
					(errcode(error->sqlerrcode),
					 errmsg("the background build of the index of collection \"%s\" failed: %s",
							order->collection, error->message),
					 error->detail ? errdetail_internal("%s", error->detail) : 0,
					 again ? errhint("It tries again in %d s.", wait_s) :
					 errhint("The next write after whiplash.abandoned_build_timeout resumes it, or run whiplash_reindex on the collection.")));
			FreeErrorData(error);
		}
		PG_END_TRY();
		*failed = !done;
		if (done || !again)
			break;
		wl_build_progress(WL_BUILD_RETRYING, 0, 0);
		wl_build_sleep(wait_s * 1000L);
	}
	return built;
}

/*
 * Takes the worker's lock of its collection, or says another worker holds
 * it.  A writer's look at the lock holds it for a moment: try a while.
 */
static bool
wl_build_take_lock(const LOCKTAG *tag)
{
	LockAcquireResult locked = LOCKACQUIRE_NOT_AVAIL;
	int			tries;

	for (tries = 0; tries < WL_BUILD_LOCK_TRIES; tries++)
	{
		StartTransactionCommand();
		locked = LockAcquire(tag, ExclusiveLock, true, true);
		CommitTransactionCommand();
		if (locked != LOCKACQUIRE_NOT_AVAIL)
			return true;
		wl_build_sleep(20);
	}
	return false;
}

/*
 * Has the collection outgrown its index?  Its metadata read afresh, in a
 * transaction of its own; an error says no, in the server log.
 */
static bool
wl_build_outgrown(const WlBuildOrder *order)
{
	volatile bool outgrown = false;
	MemoryContext context = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SetUserIdAndSecContext(order->role, SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		WlConnection *conn = wl_connect(order->server);
		WlCollection *collection;

		wl_collection_forget(order->server, order->collection);
		collection = wl_collection_open(conn, order->collection);
		outgrown = wl_packed_outgrown(collection->meta, collection->meta->vector_count);
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *error;

		error = wl_build_caught(context);
		ereport(LOG,
				(errcode(error->sqlerrcode),
				 errmsg("could not tell whether collection \"%s\" outgrew its new index: %s",
						order->collection, error->message),
				 errhint("The next write that finds it outgrown retrains it.")));
		FreeErrorData(error);
	}
	PG_END_TRY();
	return outgrown;
}

/*
 * The worker's entry point: connects to the writer's database, takes the
 * collection's build lock (or leaves it to the worker that holds it), and
 * builds, then again while the writes made meanwhile leave the collection
 * outgrowing what it built.
 */
void
whiplash_build_main(Datum arg)
{
	WlBuildOrder *order = &wl_build_order;
	LOCKTAG		tag;
	char		activity[128];
	int			follow_ups;
	bool		built;
	bool		failed;

	memcpy(order, MyBgworkerEntry->bgw_extra, sizeof(WlBuildOrder));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(order->database, InvalidOid, 0);
	wl_build_progress(WL_BUILD_STARTING, 0, 0);
	snprintf(activity, sizeof(activity), "building the index of collection \"%s\"",
			 order->collection);
	pgstat_report_activity(STATE_RUNNING, activity);

	wl_build_tag(&tag, order->server, order->collection);
	if (!wl_build_take_lock(&tag))
		proc_exit(0);

	wl_recall_target = order->recall_target;
	wl_abandoned_build_timeout = order->abandoned_build_timeout;
	wl_packed_max_flat_cells = order->max_ungrouped_cells;
	wl_retrain_on_growth = order->retrain_on_growth;
	wl_build_progress_hook = wl_build_progress;
	/*
	 * Writes during a build may outgrow it, with none left to notice: build
	 * again while the collection outgrows what was built.  A write that
	 * finds the lock held leaves that to this worker, so the last look is
	 * taken after letting go of it: a write counted before then shows in
	 * it, and one counted after finds the lock free and decides itself.
	 * None is taken after a build that failed (the next write after
	 * whiplash.abandoned_build_timeout resumes it), nor when the writer
	 * turned whiplash.retrain_on_growth off.
	 */
	built = wl_build_run(order, &failed);
	order->cause = WL_REINDEX_GROWN;
	for (follow_ups = 0; !failed && wl_retrain_on_growth && follow_ups < WL_BUILD_FOLLOW_UPS;
		 follow_ups++)
	{
		if (!built)
		{
			LockRelease(&tag, ExclusiveLock, true);
			if (!wl_build_outgrown(order) || !wl_build_take_lock(&tag))
				break;
		}
		built = wl_build_run(order, &failed);
	}
	proc_exit(0);
}

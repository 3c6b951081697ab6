/*
 * xact.c - writes that reach DynamoDB when the transaction commits.
 *
 * Every INSERT, UPDATE and DELETE on a collection goes to a write buffer
 * held by the transaction: one buffer per collection and connection, in
 * TopTransactionContext.  At pre-commit every buffer is flushed (a flush
 * that fails raises an ERROR, which aborts the commit); at abort they are
 * dropped, so a rolled-back transaction leaves nothing in DynamoDB.
 *
 * Limits, each reported by a NOTICE: a transaction that holds more than
 * whiplash.write_hold_limit rows writes them early (unless the statement
 * adding them also reads the collection), and a ROLLBACK cannot undo
 * those; reads within the transaction do not see its held writes; a
 * subtransaction rolled back after writing (ROLLBACK TO SAVEPOINT, a
 * PL/pgSQL exception block) cannot be undone selectively, so the commit
 * fails instead.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/timeout.h"

#include "whiplash.h"

/* Rows a transaction may hold until commit (whiplash.write_hold_limit). */
int			wl_write_hold_limit = 100000;

/* One collection's held writes. */
typedef struct WlHeldWrites
{
	WlConnection *conn;
	char	   *collection;
	char	   *vectors_table;	/* the collection's generation */
	WlWriteBuffer *buffer;
	SubTransactionId last_subxact;	/* the latest that added a write */
	bool		undone_subxact; /* a subtransaction that wrote was rolled back */
	bool		read_notice;	/* the pending-writes NOTICE was given */
	struct WlHeldWrites *next;
} WlHeldWrites;

/* This transaction's held writes, in TopTransactionContext. */
static WlHeldWrites *wl_held = NULL;
static bool wl_callbacks_registered = false;

/* whiplash.commit_timeout: -1 takes statement_timeout, 0 is no limit. */
int			wl_commit_timeout_ms = -1;

static TimeoutId wl_commit_timeout_id;

/* The commit's timer went off: stop waiting at once. */
static void
wl_commit_timeout_handler(void)
{
	wl_commit_timed_out = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/* Reserves the commit's timer; called once, from _PG_init. */
void
wl_xact_init(void)
{
	wl_commit_timeout_id = RegisterTimeout(USER_TIMEOUT, wl_commit_timeout_handler);
}

/*
 * Writes every held buffer within the commit's time limit: PostgreSQL
 * stops the statement timer before pre-commit, so without one a COMMIT
 * through a slow server could wait without bound.
 */
static void
wl_write_all_held(void)
{
	WlHeldWrites *held;
	volatile int limit = wl_commit_timeout_ms >= 0 ? wl_commit_timeout_ms : StatementTimeout;

	wl_commit_timed_out = false;
	if (limit > 0)
		enable_timeout_after(wl_commit_timeout_id, limit);
	PG_TRY();
	{
		for (held = wl_held; held != NULL; held = held->next)
			wl_write_flush(held->buffer);
		for (held = wl_held; held != NULL; held = held->next)
			wl_write_train(held->buffer, true);
		for (held = wl_held; held != NULL; held = held->next)
			wl_write_end(held->buffer);
	}
	PG_FINALLY();
	{
		if (limit > 0)
			disable_timeout(wl_commit_timeout_id, false);
		wl_commit_timed_out = false;
	}
	PG_END_TRY();
}

/*
 * At pre-commit, writes every held buffer; a subtransaction that wrote and
 * was rolled back makes the commit fail, since its writes can no longer be
 * told apart.  Otherwise (commit done, abort) forgets them.
 */
static void
wl_xact_callback(XactEvent event, void *arg)
{
	WlHeldWrites *held;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			for (held = wl_held; held != NULL; held = held->next)
				if (held->undone_subxact && wl_write_pending(held->buffer) > 0)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot commit writes to collection \"%s\" after a rolled-back subtransaction wrote to it",
									held->collection),
							 errdetail("whiplash holds a transaction's writes until COMMIT and cannot undo one subtransaction's share."),
							 errhint("Roll back the whole transaction and run it again without the failed part.")));
			wl_write_all_held();
			wl_held = NULL;
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (wl_held != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction that wrote to whiplash collections")));
			break;
		default:
			wl_held = NULL;
			break;
	}
}

/* Notes that a subtransaction which added writes was rolled back. */
static void
wl_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	WlHeldWrites *held;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	for (held = wl_held; held != NULL; held = held->next)
		if (held->last_subxact >= mySubid)
			held->undone_subxact = true;
}

/* The held writes of a collection on a connection, or NULL. */
static WlHeldWrites *
wl_find_held(WlConnection *conn, const char *collection)
{
	WlHeldWrites *held;

	for (held = wl_held; held != NULL; held = held->next)
		if (held->conn == conn && strcmp(held->collection, collection) == 0)
			return held;
	return NULL;
}

/*
 * The transaction's write buffer for a collection, made on first use.
 * reads: the statement about to write also reads the collection, so none
 * of its writes may reach DynamoDB before it ends.  relid is the foreign
 * table written (the first, when several map the collection).
 */
WlWriteBuffer *
wl_xact_buffer(WlConnection *conn, WlCollection *collection, bool reads, Oid relid)
{
	WlHeldWrites *held = wl_find_held(conn, collection->meta->name);

	if (!wl_callbacks_registered)
	{
		RegisterXactCallback(wl_xact_callback, NULL);
		RegisterSubXactCallback(wl_subxact_callback, NULL);
		wl_callbacks_registered = true;
	}
	if (held != NULL && strcmp(held->vectors_table, collection->meta->vectors_table) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("collection \"%s\" was dropped or re-created during the transaction",
						collection->meta->name),
				 errhint("Roll back and run the transaction again.")));
	if (held == NULL)
	{
		MemoryContext oldcontext = MemoryContextSwitchTo(TopTransactionContext);

		held = palloc0(sizeof(WlHeldWrites));
		held->conn = conn;
		held->collection = pstrdup(collection->meta->name);
		held->vectors_table = pstrdup(collection->meta->vectors_table);
		held->buffer = wl_write_begin(conn, collection, wl_write_hold_limit, relid);
		held->next = wl_held;
		wl_held = held;
		MemoryContextSwitchTo(oldcontext);
	}
	held->last_subxact = GetCurrentSubTransactionId();
	wl_write_statement(held->buffer, reads);
	return held->buffer;
}

/*
 * Before a read of a collection: says once per transaction when it has
 * held writes, which the read does not see.
 */
void
wl_xact_before_read(WlConnection *conn, const char *collection)
{
	WlHeldWrites *held = wl_find_held(conn, collection);

	if (held == NULL || held->read_notice || wl_write_pending(held->buffer) == 0)
		return;
	held->read_notice = true;
	ereport(NOTICE,
			(errmsg_plural("reads of collection \"%s\" do not see the %ld row this transaction holds until COMMIT",
						   "reads of collection \"%s\" do not see the %ld rows this transaction holds until COMMIT",
						   wl_write_pending(held->buffer),
						   collection, wl_write_pending(held->buffer))));
}

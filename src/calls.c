/*
 * calls.c - the one path every DynamoDB call takes: sent, carried to
 * completion, and turned into items or a Postgres error.
 *
 * Callers build their calls with the core's builders (core/operations.h)
 * and hand them over here.  wl_run sends every call of a phase at once,
 * then all follow-ups together in the next round: the next page of a
 * Query or Scan, and what a BatchGetItem or BatchWriteItem left
 * unprocessed, after a backoff, since DynamoDB leaves work undone when it
 * is throttled.  wl_pages reads a Scan one page at a time instead, for
 * callers that must not hold a whole table.  Every wait, for the network
 * or a backoff, ends at once on query cancel or statement_timeout.
 *
 * Calls live in the current memory context: their requests and responses
 * (json-c, outside Postgres memory) are freed when it is reset or deleted,
 * so an ERROR anywhere leaks nothing.  Items are borrowed from responses.
 */
#include "postgres.h"

#include <json-c/json.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "core/operations.h"
#include "whiplash.h"

/* The calls a memory context owns, freed when the context goes. */
typedef struct WlCallsOwner
{
	MemoryContextCallback callback;
	WlDdbCall  *calls;
	int			ncalls;
} WlCallsOwner;

/* A Scan read a page at a time; see wl_pages_begin. */
struct WlPages
{
	WlConnection *conn;
	MemoryContext parent;
	MemoryContext page;			/* holds call */
	WlDdbCall  *call;			/* the page read last, or the first to send */
	bool		started;
};

/* Frees the json-c objects of calls whose memory context is going away. */
static void
wl_calls_release(void *arg)
{
	WlCallsOwner *owner = arg;
	int			i;

	for (i = 0; i < owner->ncalls; i++)
		wl_ddb_call_reset(&owner->calls[i]);
}

/* Allocates ncalls empty calls in the current memory context. */
WlDdbCall *
wl_calls_new(int ncalls)
{
	WlCallsOwner *owner = palloc0(sizeof(WlCallsOwner));

	owner->calls = palloc0(sizeof(WlDdbCall) * Max(ncalls, 1));
	owner->ncalls = ncalls;
	owner->callback.func = wl_calls_release;
	owner->callback.arg = owner;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &owner->callback);
	return owner->calls;
}

/*
 * Set by the COMMIT's timer (xact.c) when its time is up: network waits
 * stop, and say why.
 */
bool		wl_commit_timed_out = false;

/*
 * The checks of cached collections that a round carries, and their judge:
 * collection.c's, handed over by wl_calls_set_checks at load, so that this
 * file, which every other calls, calls none of them.
 */
static WlChecksTake wl_checks_take = NULL;
static WlChecksJudge wl_checks_judge = NULL;

/* Sets the checks every round carries (see wl_run_once). */
void
wl_calls_set_checks(WlChecksTake take, WlChecksJudge judge)
{
	wl_checks_take = take;
	wl_checks_judge = judge;
}

/* Tells the core to stop waiting when a cancel or termination is pending. */
bool
wl_interrupt_requested(void *arg)
{
	return wl_commit_timed_out ||
		(InterruptPending && (QueryCancelPending || ProcDiePending));
}

/*
 * Raises the cancel, statement_timeout or termination that stopped a wait;
 * the core has closed the abandoned connections, so the next statement
 * starts clean.
 */
static void
wl_wait_abandoned(WlConnection *conn)
{
	CHECK_FOR_INTERRUPTS();
	if (wl_commit_timed_out)
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling the COMMIT's writes to server \"%s\" due to whiplash.commit_timeout",
						conn->server_name),
				 errhint("whiplash.commit_timeout (-1: statement_timeout) bounds the writes a COMMIT sends; whiplash_check shows what was written.")));
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("canceling DynamoDB requests to server \"%s\"", conn->server_name)));
}

/* Is the call's failure among the NULL-terminated list tolerated? */
static bool
wl_tolerated(const WlDdbCall *call, const char *const *tolerated)
{
	for (; tolerated != NULL && *tolerated != NULL; tolerated++)
		if (strcmp(*tolerated, "*") == 0 || wl_op_failed_with(call, *tolerated))
			return true;
	return false;
}

/* The first of calls that sends exactly what call does, or -1. */
static int
wl_same_call(const WlDdbCall *calls, int ncalls, const WlDdbCall *call)
{
	int			i;

	for (i = 0; i < ncalls; i++)
		if (strcmp(calls[i].operation, call->operation) == 0 &&
			json_object_equal(calls[i].request, call->request))
			return i;
	return -1;
}

/*
 * Sends calls at once, as one round trip (the core retries transient
 * failures), and raises the first failure, except DynamoDB errors whose
 * type is in tolerated (a NULL-terminated list, or NULL; "*" stands for
 * every failure): those calls are left for the caller to judge.  No
 * follow-up is run.  A cancel is never tolerated.  The round also carries
 * the checks of cached collections the statement opened (collection.c,
 * through wl_calls_set_checks), judged before the calls' own answers.
 */
void
wl_run_once(WlConnection *conn, WlDdbCall *calls, int ncalls, const char *const *tolerated)
{
	WlDdbCall  *checks = NULL;
	char	  **names = NULL;
	WlDdbCall  *round = calls;
	int		   *same = NULL;
	int			nchecks;
	int			nsent = 0;
	int			result;
	int			i;

	if (ncalls == 0)
		return;
	nchecks = wl_checks_take != NULL ? wl_checks_take(conn, &checks, &names) : 0;
	if (nchecks > 0)
	{
		/*
		 * One round: the caller's calls, then the checks the caller's calls
		 * do not already make (a COMMIT reads the metadata itself), copied
		 * back after.
		 */
		same = palloc(sizeof(int) * nchecks);
		round = palloc(sizeof(WlDdbCall) * (ncalls + nchecks));
		memcpy(round, calls, sizeof(WlDdbCall) * ncalls);
		for (i = 0; i < nchecks; i++)
			if ((same[i] = wl_same_call(calls, ncalls, &checks[i])) < 0)
				round[ncalls + nsent++] = checks[i];
	}
	/* sent max_connections at a time: a wave of them waits a round trip */
	conn->round_trips += (ncalls + nsent + conn->options.client.max_connections - 1) /
		conn->options.client.max_connections;
	result = wl_ddb_execute(conn->ddb, round, ncalls + nsent, wl_interrupt_requested, NULL);
	if (nchecks > 0)
	{
		memcpy(calls, round, sizeof(WlDdbCall) * ncalls);
		nsent = 0;
		for (i = 0; i < nchecks; i++)
			if (same[i] < 0)
				checks[i] = round[ncalls + nsent++];
			else
			{
				checks[i].error = calls[same[i]].error;
				checks[i].response = json_object_get(calls[same[i]].response);
			}
		pfree(round);
	}
	if (result == WL_DDB_ABORTED)
		wl_wait_abandoned(conn);
	if (nchecks > 0)
		wl_checks_judge(conn, checks, names, nchecks);
	for (i = 0; i < ncalls; i++)
		if (calls[i].error.kind != WL_DDB_OK && !wl_tolerated(&calls[i], tolerated))
			wl_report_call_error(conn, &calls[i]);
}

/* Sleeps a jittered backoff before round `round` of some work, interruptibly. */
void
wl_backoff(WlConnection *conn, int round, long base_ms, long max_ms)
{
	if (wl_ddb_backoff(conn->ddb, round, base_ms, max_ms, wl_interrupt_requested, NULL))
		wl_wait_abandoned(conn);
}

/* Appends the items of a call's response to items. */
static void
wl_items_add(WlItems *items, const WlDdbCall *call)
{
	struct json_object *array;
	int			n = wl_op_items(call, &array);
	int			i;

	if (items->count + n > items->capacity)
	{
		int			capacity = Max(items->capacity * 2, items->count + n + 16);

		if (items->items == NULL)
			items->items = palloc(sizeof(struct json_object *) * capacity);
		else
			items->items = repalloc_huge(items->items, sizeof(struct json_object *) * capacity);
		items->capacity = capacity;
	}
	for (i = 0; i < n; i++)
		items->items[items->count++] = wl_op_item_at(array, i);
}

/*
 * Runs calls to completion: rounds of calls until none has a follow-up,
 * pausing with the server's backoff only when DynamoDB left work
 * unprocessed.  Raises the first failure.  When items is not NULL, every
 * item of every response is added to it.
 */
void
wl_run(WlConnection *conn, WlDdbCall *calls, int ncalls, WlItems *items)
{
	int			backoffs = 0;

	while (ncalls > 0)
	{
		WlDdbCall  *next = wl_calls_new(ncalls);
		int			nnext = 0;
		bool		unprocessed = false;
		int			i;

		wl_run_once(conn, calls, ncalls, NULL);
		for (i = 0; i < ncalls; i++)
		{
			if (items != NULL)
				wl_items_add(items, &calls[i]);
			if (wl_op_followup(&calls[i], &next[nnext], &unprocessed))
				nnext++;
		}
		if (unprocessed)
			wl_backoff(conn, ++backoffs, conn->options.client.retry_base_delay_ms,
					   conn->options.client.retry_max_delay_ms);
		calls = next;
		ncalls = nnext;
	}
}

/*
 * Starts reading a Scan a page at a time: *first is the call to fill with
 * the Scan, in a memory context of the pages' own, under the current one.
 */
WlPages *
wl_pages_begin(WlConnection *conn, WlDdbCall **first)
{
	WlPages    *pages = palloc0(sizeof(WlPages));
	MemoryContext oldcontext;

	pages->conn = conn;
	pages->parent = CurrentMemoryContext;
	pages->page = AllocSetContextCreate(pages->parent, "whiplash page", ALLOCSET_DEFAULT_SIZES);
	oldcontext = MemoryContextSwitchTo(pages->page);
	pages->call = wl_calls_new(1);
	MemoryContextSwitchTo(oldcontext);
	*first = pages->call;
	return pages;
}

/*
 * Reads the next page: returns its call, whose items (wl_op_items) live
 * until the next wl_pages_next or wl_pages_end, or NULL after the last
 * page.  The previous page is freed once the next request, built from its
 * LastEvaluatedKey, is made.  DynamoDB errors of the types in tolerated
 * are left on the call for the caller to judge.
 */
WlDdbCall *
wl_pages_next(WlPages *pages, const char *const *tolerated)
{
	if (pages->started)
	{
		MemoryContext next = AllocSetContextCreate(pages->parent, "whiplash page",
												   ALLOCSET_DEFAULT_SIZES);
		MemoryContext oldcontext = MemoryContextSwitchTo(next);
		WlDdbCall  *call = wl_calls_new(1);
		bool		unprocessed = false;
		bool		more = pages->call->error.kind == WL_DDB_OK &&
			wl_op_followup(pages->call, call, &unprocessed);

		MemoryContextSwitchTo(oldcontext);
		MemoryContextDelete(pages->page);
		pages->page = next;
		pages->call = call;
		if (!more)
			return NULL;
	}
	pages->started = true;
	wl_run_once(pages->conn, pages->call, 1, tolerated);
	return pages->call;
}

/* Frees the last page. */
void
wl_pages_end(WlPages *pages)
{
	MemoryContextDelete(pages->page);
	pfree(pages);
}

/*
 * Reads the items with the given ids from table with BatchGetItem, 100 ids
 * a call, all calls at once, strongly consistent, reading the attributes
 * in projection (NULL: all).  Ids must be distinct.  Missing ids are simply
 * absent from the result.
 */
int
wl_batch_get(WlConnection *conn, const char *table, char *const *ids, int nids,
			 const char *projection, struct json_object ***items)
{
	WlDdbCall  *calls = wl_calls_new((nids + WL_BATCH_GET_MAX - 1) / WL_BATCH_GET_MAX);
	WlItems		list = {0};
	int			ncalls = 0;
	int			i;

	for (i = 0; i < nids; i++)
		ncalls = wl_op_batch_get_append(calls, ncalls, table, projection, true,
										wl_store_id_key(ids[i]));
	wl_run(conn, calls, ncalls, &list);
	*items = list.items;
	return list.count;
}

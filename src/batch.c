/*
 * batch.c - many DynamoDB calls at once, carried to completion.
 *
 * BatchGetItem and BatchWriteItem may leave part of their work undone
 * (UnprocessedKeys / UnprocessedItems, when throttled or past 16 MB), and a
 * Query or Scan answers one page at a time.  These helpers send every call
 * of a phase at once, then send all follow-ups together in the next round,
 * pausing with a growing backoff only when DynamoDB left work undone, until
 * nothing is left.  Items are returned as borrowed json objects that live
 * until the current memory context is reset.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"

#include "core/store.h"
#include "whiplash.h"

/* Growing list of borrowed items. */
typedef struct WlItemList
{
	struct json_object **items;
	int			count;
	int			capacity;
} WlItemList;

/* Appends every item of a response to list. */
static void
wl_collect_items(WlItemList *list, struct json_object *response, const char *table)
{
	struct json_object *items;
	int			n = wl_store_items(response, table, &items);
	int			i;

	if (list->count + n > list->capacity)
	{
		int			capacity = Max(list->capacity * 2, list->count + n + 16);

		if (list->items == NULL)
			list->items = palloc(sizeof(struct json_object *) * capacity);
		else
			list->items = repalloc(list->items, sizeof(struct json_object *) * capacity);
		list->capacity = capacity;
	}
	for (i = 0; i < n; i++)
		list->items[list->count++] = wl_store_item_at(items, i);
}

/* Sleeps before re-sending unprocessed work, interruptibly. */
static void
wl_unprocessed_backoff(WlConnection *conn, int round)
{
	long		delay = (long) conn->options.retry_base_delay_ms << Min(round, 10);

	delay = Min(delay, conn->options.retry_max_delay_ms);
	if (delay <= 0)
		return;
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 delay, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/*
 * Runs calls in rounds until none has a follow-up, collecting their items.
 * After each round every call's response is checked: errors are raised,
 * items collected, and follow-ups (unprocessed work or a Query's next page)
 * become the calls of the next round.
 */
static void
wl_run_rounds(WlConnection *conn, WlDdbCall *calls, int ncalls, const char *table,
			  WlItemList *list)
{
	int			round = 0;

	while (ncalls > 0)
	{
		WlDdbCall  *next = wl_calls_new(ncalls);
		int			nnext = 0;
		bool		unprocessed = false;
		int			i;

		wl_execute(conn, calls, ncalls);
		for (i = 0; i < ncalls; i++)
		{
			WlDdbCall  *call = &calls[i];
			struct json_object *followup = NULL;

			if (call->error.kind != WL_DDB_OK)
				wl_report_call_error(conn, call);
			if (list != NULL)
				wl_collect_items(list, call->response, table);
			if (strncmp(call->operation, "Batch", 5) == 0)
			{
				int			left;

				followup = wl_store_unprocessed(call->response, call->operation, &left);
				unprocessed |= followup != NULL;
			}
			else if (strcmp(call->operation, "Query") == 0 &&
					 wl_store_last_key(call->response) != NULL)
				followup = wl_store_bucket_query(table, call->tag,
												 wl_store_last_key(call->response));
			if (followup != NULL)
			{
				next[nnext].operation = call->operation;
				next[nnext].table = call->table;
				next[nnext].tag = call->tag;
				next[nnext].request = followup;
				nnext++;
			}
		}
		if (unprocessed)
			wl_unprocessed_backoff(conn, round);
		calls = next;
		ncalls = nnext;
		round++;
	}
}

/*
 * Reads the items with the given ids from table with BatchGetItem, 100 ids
 * a call, all calls at once.  Ids must be distinct.  Missing ids are simply
 * absent from the result.
 */
int
wl_batch_get(WlConnection *conn, const char *table, char *const *ids, int nids,
			 const char *projection, struct json_object ***items)
{
	int			ncalls = (nids + WL_BATCH_GET_MAX - 1) / WL_BATCH_GET_MAX;
	WlDdbCall  *calls = wl_calls_new(ncalls);
	WlItemList	list = {0};
	int			c;

	for (c = 0; c < ncalls; c++)
	{
		int			first = c * WL_BATCH_GET_MAX;
		int			n = Min(WL_BATCH_GET_MAX, nids - first);
		struct json_object *keys[WL_BATCH_GET_MAX];
		int			i;

		for (i = 0; i < n; i++)
			keys[i] = wl_store_id_key(ids[first + i]);
		calls[c].operation = "BatchGetItem";
		calls[c].table = table;
		calls[c].request = wl_store_batch_get(table, keys, n, projection, true);
	}
	wl_run_rounds(conn, calls, ncalls, table, &list);
	*items = list.items;
	return list.count;
}

/*
 * Applies write requests (PutRequest / DeleteRequest objects, taken over)
 * to table with BatchWriteItem, 25 a call, all calls at once.
 */
void
wl_batch_write(WlConnection *conn, const char *table, struct json_object **requests,
			   int nrequests)
{
	int			ncalls = (nrequests + WL_BATCH_WRITE_MAX - 1) / WL_BATCH_WRITE_MAX;
	WlDdbCall  *calls = wl_calls_new(ncalls);
	int			c;

	for (c = 0; c < ncalls; c++)
	{
		int			first = c * WL_BATCH_WRITE_MAX;

		calls[c].operation = "BatchWriteItem";
		calls[c].table = table;
		calls[c].request = wl_store_batch_write(table, requests + first,
												Min(WL_BATCH_WRITE_MAX, nrequests - first));
	}
	wl_run_rounds(conn, calls, ncalls, table, NULL);
}

/*
 * Reads every entry of the given native buckets with one Query each, all
 * at once, following pages.
 */
int
wl_query_buckets(WlConnection *conn, const char *table, char *const *buckets,
				 int nbuckets, struct json_object ***items)
{
	WlDdbCall  *calls = wl_calls_new(nbuckets);
	WlItemList	list = {0};
	int			i;

	for (i = 0; i < nbuckets; i++)
	{
		calls[i].operation = "Query";
		calls[i].table = table;
		calls[i].tag = buckets[i];
		calls[i].request = wl_store_bucket_query(table, buckets[i], NULL);
	}
	wl_run_rounds(conn, calls, nbuckets, table, &list);
	*items = list.items;
	return list.count;
}

/* Runs independent calls at once and raises the first failure. */
void
wl_execute_checked(WlConnection *conn, WlDdbCall *calls, int ncalls)
{
	int			i;

	wl_execute(conn, calls, ncalls);
	for (i = 0; i < ncalls; i++)
		if (calls[i].error.kind != WL_DDB_OK)
			wl_report_call_error(conn, &calls[i]);
}

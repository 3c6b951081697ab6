/*
 * fdw_scan.c - reading a collection through its foreign table.
 *
 * A scan holds one page of items at a time: the single item of a GetItem,
 * every item of a BatchGetItem, the hits of a search, or one Scan page
 * (about 1 MB, read through calls.c's pages).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "core/operations.h"
#include "compat.h"
#include "fdw.h"
#include "whiplash.h"

typedef struct WlScanState
{
	WlConnection *conn;
	char	   *collection_name;
	WlScanKind	kind;
	ExprState  *value_state;	/* the id, id array or query vector */
	int			k;				/* SEARCH: how many nearest */
	ExprState  *filter_state;	/* SEARCH: the WHERE clause, or NULL */
	TupleTableSlot *filter_slot;	/* a candidate, for the filter */
	WlRecordFilter *records;	/* what of the WHERE clause records answer */
	int			dims;			/* of the collection, as of the current page */
	WlColumns  *columns;
	MemoryContext page_context; /* the current page's calls and items */
	struct json_object **items;
	int			nitems;
	int			next_item;
	WlPages    *pages;			/* FULL: the Scan, once started */
	char	   *pages_table;	/* FULL: the table it reads */
	bool		started;
	bool		finished;		/* no page after the current one */
	long		requests;		/* HTTP requests sent, for EXPLAIN ANALYZE */
	long		retries;		/* attempts after a call's first */
	long		round_trips;	/* rounds of concurrent requests */
	long		items_read;
	long		rounds;			/* SEARCH: search rounds */
	long		candidates;		/* SEARCH: candidate vectors re-ranked */
	long		records_dropped;	/* SEARCH: records whose attributes failed
									 * the WHERE */
	long		searches_skipped;	/* SEARCH: proved empty by the index's
									 * statistics, so not run */
	double		capacity_units; /* read capacity DynamoDB reported */
	long		bytes_read;
	WlMetric	metric;			/* SEARCH: its operator's, when planned */
	double		selectivity;	/* SEARCH: its restrictions', as planned */
	double		record_selectivity; /* of those its records answer */
} WlScanState;

/*
 * Whether the rows this scan reads are deleted (without RETURNING), or
 * updated with a new vector, by its statement: then the old vector is
 * never used, and a row whose stored vector does not decode can still be
 * removed or mended.
 */
static bool
wl_scan_discards_vector(ForeignScanState *node, const WlColumns *columns)
{
	EState	   *estate = node->ss.ps.state;
	Index		scanrelid = ((Scan *) node->ss.ps.plan)->scanrelid;
	CmdType		command = estate->es_plannedstmt->commandType;

	if ((command != CMD_DELETE && command != CMD_UPDATE) || scanrelid == 0 ||
		columns->vector_attno == InvalidAttrNumber ||
		!list_member_int(estate->es_plannedstmt->resultRelations, (int) scanrelid))
		return false;
	return (command == CMD_DELETE && !estate->es_plannedstmt->hasReturning) ||
		bms_is_member(columns->vector_attno - FirstLowInvalidHeapAttributeNumber,
					  wl_rte_updated_cols(estate, exec_rt_fetch(scanrelid, estate)));
}

/* Opens the collection and prepares the key expression. */
void
wl_begin_scan(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	Relation	rel = node->ss.ss_currentRelation;
	WlScanState *state = palloc0(sizeof(WlScanState));
	WlCollection *collection;

	node->fdw_state = state;
	state->columns = wl_columns(rel, false);
	state->columns->vector_unused = wl_scan_discards_vector(node, state->columns);
	state->kind = intVal(list_nth(plan->fdw_private, WlScanPrivateKind));
	if (state->kind == WL_SCAN_SEARCH)
	{
		state->k = intVal(list_nth(plan->fdw_private, WlScanPrivateK));
		state->metric = (WlMetric) intVal(list_nth(plan->fdw_private, WlScanPrivateMetric));
		state->selectivity = floatVal(list_nth(plan->fdw_private, WlScanPrivateSelectivity));
		state->record_selectivity = floatVal(list_nth(plan->fdw_private,
													  WlScanPrivateRecordSelectivity));
	}
	if (state->kind != WL_SCAN_FULL)
		state->value_state = ExecInitExpr(list_nth(plan->fdw_exprs, WL_SCAN_EXPR_VALUE),
										  (PlanState *) node);
	if (state->kind == WL_SCAN_SEARCH && list_length(plan->fdw_exprs) > 1)
	{
		state->filter_state = ExecInitQual(list_copy_tail(plan->fdw_exprs, 1),
										   (PlanState *) node);
		state->records = wl_record_filter_from_quals(rel, plan->scan.scanrelid,
													 list_copy_tail(plan->fdw_exprs, 1),
													 node->ss.ps.state->es_param_list_info);
		state->filter_slot = ExecInitExtraTupleSlot(node->ss.ps.state, RelationGetDescr(rel),
													&TTSOpsVirtual);
	}
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	collection = wl_collection_for_relation(RelationGetRelid(rel), &state->conn);
	state->collection_name = pstrdup(collection->meta->name);
	wl_xact_before_read(state->conn, state->collection_name);
	state->page_context = AllocSetContextCreate(node->ss.ps.state->es_query_cxt,
												"whiplash scan page",
												ALLOCSET_DEFAULT_SIZES);
}

/* The distinct, non-null ids of a text[] value. */
static char **
wl_array_ids(Datum array_datum, int *nids)
{
	ArrayType  *array = DatumGetArrayTypeP(array_datum);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	char	  **ids;
	int			n = 0;
	int			i;
	int			j;

	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
	ids = palloc(sizeof(char *) * Max(nelems, 1));
	for (i = 0; i < nelems; i++)
	{
		char	   *id;

		if (nulls[i])
			continue;
		id = TextDatumGetCString(elems[i]);
		if (id[0] == '\0' || strlen(id) > WL_ID_MAX)
			continue;			/* no such key can exist */
		for (j = 0; j < n; j++)
			if (strcmp(ids[j], id) == 0)
				break;
		if (j == n)
			ids[n++] = id;
	}
	*nids = n;
	return ids;
}

/*
 * A search's filter: fills the filter slot from a candidate and checks the
 * WHERE clause on it, in per-tuple memory.
 */
static bool
wl_scan_filter(struct json_object *item, void *arg)
{
	ForeignScanState *node = arg;
	WlScanState *state = node->fdw_state;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	MemoryContext oldcontext = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	bool		match;

	wl_columns_fill_slot(state->columns, item, state->dims, state->collection_name,
						 state->filter_slot);
	econtext->ecxt_scantuple = state->filter_slot;
	match = ExecQual(state->filter_state, econtext);
	MemoryContextSwitchTo(oldcontext);
	ResetExprContext(econtext);
	return match;
}

/*
 * Reads the next page into the scan's page context, freeing the previous
 * one.  The next Scan request is built from the previous page's
 * LastEvaluatedKey before that page is freed.
 */
static void
wl_fetch_page(ForeignScanState *node)
{
	WlScanState *state = node->fdw_state;
	WlCollection *collection = wl_collection_open(state->conn, state->collection_name);
	const char *table = collection->meta->vectors_table;
	MemoryContext page = AllocSetContextCreate(GetMemoryChunkContext(state),
											   "whiplash scan page", ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcontext = MemoryContextSwitchTo(page);
	bool		isnull = false;
	Datum		value = (Datum) 0;
	WlDdbStats	before;
	WlDdbStats	after;
	long		rounds_before = state->conn->round_trips;

	wl_ddb_get_stats(state->conn->ddb, &before);
	state->dims = collection->meta->dims;

	if (state->value_state != NULL)
		value = ExecEvalExpr(state->value_state, node->ss.ps.ps_ExprContext, &isnull);

	state->items = NULL;
	state->nitems = 0;
	state->next_item = 0;
	state->finished = true;
	if (state->kind == WL_SCAN_GET && !isnull)
	{
		char	   *id = TextDatumGetCString(value);

		if (id[0] != '\0' && strlen(id) <= WL_ID_MAX)
		{
			WlDdbCall  *call = wl_calls_new(1);
			struct json_object *item;

			wl_op_get_item(call, table, wl_store_id_key(id), true);
			wl_run_once(state->conn, call, 1, NULL);
			item = wl_op_get_item_result(call);
			if (item != NULL)
			{
				state->items = palloc(sizeof(struct json_object *));
				state->items[0] = item;
				state->nitems = 1;
			}
		}
	}
	else if (state->kind == WL_SCAN_MULTI && !isnull)
	{
		int			nids;
		char	  **ids = wl_array_ids(value, &nids);

		if (nids > 0)
			state->nitems = wl_batch_get(state->conn, table, ids, nids, NULL, &state->items);
	}
	else if (state->kind == WL_SCAN_SEARCH)
	{
		int			dims;
		float	   *query;
		bool		consistent =
			wl_table_consistent_searches(RelationGetRelid(node->ss.ss_currentRelation),
										 state->conn);
		WlSearchPlan plan;
		WlSearchHit *hits;
		int			i;

		/*
		 * A NULL query orders nothing: any k rows, as a local table gives
		 * (those nearest the origin).  A plan cached before its collection
		 * was created again with another metric ranks exactly by its own
		 * operator's.
		 */
		if (isnull)
		{
			query = palloc0(sizeof(float) * collection->meta->dims);
			wl_search_plan_exact(collection, WL_METRIC_L2, consistent,
								 "the query is NULL, so no row is nearer than another",
								 &plan);
		}
		else
		{
			query = wl_array_to_vector(DatumGetArrayTypeP(value), collection->meta->dims,
									   "query vector", &dims);
			if (collection->meta->metric != state->metric)
				wl_search_plan_exact(collection, state->metric, consistent,
									 "the plan's operator is no longer the collection's metric",
									 &plan);
			else
			{
				wl_search_plan(collection, state->k, -1, -1, consistent, &plan);
				if (state->filter_state)
					wl_record_plan_filtered(state->records, collection, state->k,
											state->selectivity, state->record_selectivity,
											&plan);
			}
		}
		state->nitems = wl_search_run(state->conn, collection, query, state->k, &plan,
									  wl_columns_has_attributes(state->columns) ||
									  state->filter_state ? NULL : "id,vector",
									  state->filter_state ? wl_scan_filter : NULL, node,
									  state->records, &hits);
		state->rounds += wl_search_last_stats()->rounds;
		state->candidates += wl_search_last_stats()->vectors_read;
		state->records_dropped += wl_search_last_stats()->records_dropped;
		state->searches_skipped += wl_search_last_stats()->none_kept ? 1 : 0;
		state->items = palloc(sizeof(struct json_object *) * Max(state->nitems, 1));
		for (i = 0; i < state->nitems; i++)
			state->items[i] = hits[i].item;
	}
	else if (state->kind == WL_SCAN_FULL)
	{
		WlDdbCall  *call;
		struct json_object *items;
		int			i;

		if (state->pages == NULL)
		{
			MemoryContext previous = MemoryContextSwitchTo(GetMemoryChunkContext(state));

			state->pages_table = pstrdup(table);
			state->pages = wl_pages_begin(state->conn, &call);
			wl_op_scan(call, state->pages_table, NULL, NULL, 0, true);
			MemoryContextSwitchTo(previous);
		}
		call = wl_pages_next(state->pages, NULL);
		state->nitems = call != NULL ? wl_op_items(call, &items) : 0;
		state->items = palloc(sizeof(struct json_object *) * Max(state->nitems, 1));
		for (i = 0; i < state->nitems; i++)
			state->items[i] = wl_op_item_at(items, i);
		state->finished = call == NULL;
	}
	MemoryContextSwitchTo(oldcontext);
	MemoryContextDelete(state->page_context);
	state->page_context = page;

	wl_ddb_get_stats(state->conn->ddb, &after);
	state->requests += after.requests - before.requests;
	state->retries += after.retries - before.retries;
	state->capacity_units += after.capacity_units - before.capacity_units;
	state->bytes_read += after.bytes_received - before.bytes_received;
	state->round_trips += state->conn->round_trips - rounds_before;
	state->items_read += state->nitems;
}

/* EXPLAIN ANALYZE: what the scan sent and read, over all its loops. */
void
wl_explain_scan_counts(ForeignScanState *node, ExplainState *es)
{
	WlScanState *state = node->fdw_state;

	if (state == NULL || state->conn == NULL)
		return;
	ExplainPropertyInteger("DynamoDB Requests", NULL, state->requests, es);
	ExplainPropertyInteger("DynamoDB Round Trips", NULL, state->round_trips, es);
	ExplainPropertyInteger("DynamoDB Retries", NULL, state->retries, es);
	ExplainPropertyInteger("DynamoDB Items", NULL, state->items_read, es);
	ExplainPropertyInteger("DynamoDB Bytes Read", "bytes", state->bytes_read, es);
	ExplainPropertyFloat("DynamoDB Read Capacity", "units", state->capacity_units, 1, es);
	if (state->kind == WL_SCAN_SEARCH)
	{
		ExplainPropertyInteger("Search Rounds", NULL, state->rounds, es);
		ExplainPropertyInteger("Candidates Re-ranked", NULL, state->candidates, es);
		if (state->records != NULL)
		{
			ExplainPropertyInteger("Records Dropped", NULL, state->records_dropped, es);
			if (state->searches_skipped > 0)
				ExplainPropertyText("Records Filter Result",
									"no vector passes, by the index's statistics: not searched",
									es);
		}
	}
}

/* Returns the next row, fetching pages as needed. */
TupleTableSlot *
wl_iterate_scan(ForeignScanState *node)
{
	WlScanState *state = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	MemoryContext oldcontext;

	if (!state->started)
	{
		state->started = true;
		wl_fetch_page(node);
	}
	while (state->next_item >= state->nitems && !state->finished)
		wl_fetch_page(node);
	if (state->next_item >= state->nitems)
		return ExecClearTuple(slot);

	oldcontext = MemoryContextSwitchTo(node->ss.ps.ps_ExprContext->ecxt_per_tuple_memory);
	wl_columns_fill_slot(state->columns, state->items[state->next_item++], state->dims,
						 state->collection_name, slot);
	MemoryContextSwitchTo(oldcontext);
	return slot;
}

/* Starts over: the key value may have changed (a parameter). */
void
wl_rescan(ForeignScanState *node)
{
	WlScanState *state = node->fdw_state;

	state->started = false;
	state->finished = false;
	if (state->pages != NULL)
		wl_pages_end(state->pages);
	state->pages = NULL;
	state->items = NULL;
	state->nitems = 0;
	state->next_item = 0;
}

/* Frees the last page. */
void
wl_end_scan(ForeignScanState *node)
{
	WlScanState *state = node->fdw_state;

	if (state == NULL)
		return;
	if (state->pages != NULL)
		wl_pages_end(state->pages);
	if (state->page_context != NULL)
		MemoryContextDelete(state->page_context);
}

/*
 * fdw_analyze.c - ANALYZE of a whiplash foreign table: a sample of its
 * vector items, from which PostgreSQL computes the columns' statistics.
 *
 * DynamoDB's Scan returns items in the order of their keys' hashes, so the
 * first items a Scan returns are a fair sample of the table (an index build
 * samples the same way).  ANALYZE therefore reads only as many items as it
 * wants rows (300 times the statistics target: 30,000 by default), read
 * eventually consistent, where postgres_fdw reads every row of a remote
 * table; the number of rows is the collection's count.  A collection of
 * the original library's format keeps no count, so its Scan reads every
 * item and keeps a random sample of them, as file_fdw does.
 *
 * DynamoDB is read with the table owner's user mapping, as postgres_fdw
 * does: ANALYZE samples a table as its owner.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/sampling.h"

#include "core/operations.h"
#include "fdw.h"
#include "whiplash.h"

/* The collection behind a foreign table, opened as the table's owner. */
static WlCollection *
wl_analyze_collection(Relation relation, WlConnection **conn)
{
	Oid			saved_user;
	int			saved_context;
	WlCollection *collection;

	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(relation->rd_rel->relowner,
						   saved_context | SECURITY_LOCAL_USERID_CHANGE);
	collection = wl_collection_for_relation(RelationGetRelid(relation), conn);
	SetUserIdAndSecContext(saved_user, saved_context);
	return collection;
}

/*
 * Keeps row number `seen` (from 0) of a Scan in a sample of targrows rows:
 * the first targrows rows, then Vitter's reservoir sampling over the rest.
 */
static void
wl_analyze_keep(HeapTuple *rows, int targrows, int *nrows, double seen, HeapTuple row,
				ReservoirState reservoir, double *skip)
{
	int			replaced;

	if (*nrows < targrows)
	{
		rows[(*nrows)++] = row;
		return;
	}
	if (*skip < 0)
		*skip = reservoir_get_next_S(reservoir, seen, targrows);
	if (*skip <= 0)
	{
		replaced = (int) (targrows * sampler_random_fract(&reservoir->randstate));
		heap_freetuple(rows[replaced]);
		rows[replaced] = row;
	}
	else
		heap_freetuple(row);
	*skip -= 1;
}

/*
 * Fills rows with a sample of the table's vector items, as its rows (an
 * AcquireSampleRowsFunc): the first targrows a Scan returns, or for a
 * collection without a count, a random sample of all of them.
 */
static int
wl_analyze_sample(Relation relation, int elevel, HeapTuple *rows, int targrows,
				  double *totalrows, double *totaldeadrows)
{
	WlConnection *conn;
	WlCollection *collection = wl_analyze_collection(relation, &conn);
	const WlMeta *meta = collection->meta;
	bool		counted = meta->format->counts_vectors;
	WlColumns  *columns = wl_columns(relation, false);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(relation),
													&TTSOpsVirtual);
	MemoryContext item_context = AllocSetContextCreate(CurrentMemoryContext,
													   "whiplash analyze item",
													   ALLOCSET_DEFAULT_SIZES);
	MemoryContext caller = CurrentMemoryContext;
	ReservoirStateData reservoir;
	double		skip = -1;
	double		seen = 0;
	bool		exhausted = false;
	WlDdbCall  *call;
	WlPages    *pages;
	int			nrows = 0;

	reservoir_init_selection_state(&reservoir, targrows);
	wl_xact_before_read(conn, meta->name);
	pages = wl_pages_begin(conn, &call);
	wl_op_scan(call, meta->vectors_table, NULL, NULL, 0, false);
	while (!counted || nrows < targrows)
	{
		struct json_object *items;
		int			nitems;
		int			i;

		if ((call = wl_pages_next(pages, NULL)) == NULL)
		{
			exhausted = true;
			break;
		}
		CHECK_FOR_INTERRUPTS();
		nitems = wl_op_items(call, &items);
		for (i = 0; i < nitems && (!counted || nrows < targrows); i++)
		{
			MemoryContextSwitchTo(item_context);
			wl_columns_fill_slot(columns, wl_op_item_at(items, i), meta->dims, meta->name, slot);
			MemoryContextSwitchTo(caller);
			wl_analyze_keep(rows, targrows, &nrows, seen++,
							heap_form_tuple(RelationGetDescr(relation), slot->tts_values,
											slot->tts_isnull),
							&reservoir, &skip);
			ExecClearTuple(slot);
			MemoryContextReset(item_context);
		}
	}
	wl_pages_end(pages);
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(item_context);
	/* a Scan read to its end counted the rows itself */
	*totalrows = exhausted ? seen : Max((double) meta->vector_count, seen);
	*totaldeadrows = 0;
	ereport(elevel,
			(errmsg("\"%s\": read %.0f of the %.0f vectors of collection \"%s\"",
					RelationGetRelationName(relation), seen, *totalrows, meta->name)));
	return nrows;
}

/*
 * Says that a whiplash foreign table can be analyzed (an
 * AnalyzeForeignTable callback), and how many pages of PostgreSQL's size its
 * items would fill: ANALYZE records them, and weighs an inheritance tree's
 * children by them.
 */
bool
wl_analyze_foreign_table(Relation relation, AcquireSampleRowsFunc *func,
						 BlockNumber *totalpages)
{
	WlConnection *conn;
	const WlMeta *meta = wl_analyze_collection(relation, &conn)->meta;
	double		bytes = (double) meta->vector_count * wl_vector_item_bytes(meta);

	*func = wl_analyze_sample;
	*totalpages = (BlockNumber) Max(1.0, Min(bytes / BLCKSZ, (double) MaxBlockNumber));
	return true;
}

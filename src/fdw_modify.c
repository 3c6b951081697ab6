/*
 * fdw_modify.c - INSERT, UPDATE and DELETE through a collection's foreign
 * table.
 *
 * Rows are held by the transaction (xact.c) and written when it commits,
 * in batches (write.c) of whiplash.write_batch_size, so INSERT ... SELECT
 * of many rows costs a few rounds of concurrent BatchWriteItem calls per
 * batch rather than a call per row, and a ROLLBACK leaves nothing behind.
 * A statement that also reads the collection (UPDATE, DELETE, INSERT ...
 * SELECT from it) never has its rows written before it ends, so that its
 * scan never meets its own writes.  UPDATE and DELETE identify rows by id,
 * carried as a junk column; a DELETE with RETURNING also carries the whole
 * row its scan read, which it returns (DynamoDB's DeleteItem runs at
 * commit, long after RETURNING is computed).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "nodes/makefuncs.h"
#include "optimizer/appendinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "core/attrs.h"
#include "core/ddbjson.h"
#include "fdw.h"
#include "whiplash.h"

#define WL_ROWID_NAME "whiplash_id"
#define WL_WHOLEROW_NAME "wholerow"
/* Room an item keeps for whiplash's own attributes (a native item's keys). */
#define WL_OWN_ATTRIBUTE_BYTES 4096

typedef struct WlModifyState
{
	WlConnection *conn;
	WlWriteBuffer *buffer;
	int			dims;
	WlColumns  *columns;
	AttrNumber	rowid_attno;	/* junk id in the plan's output */
	AttrNumber	wholerow_attno; /* DELETE RETURNING: the junk row read */
	const char *table;			/* the foreign table's name, for errors */
	int64		rows;			/* rows the statement has given so far */
	const char *row_id;			/* the id of the row being read, once known */
} WlModifyState;

/*
 * UPDATE and DELETE need the row's id: ask for it as a junk column.  A
 * DELETE with RETURNING also asks for the whole row, to return it.
 */
void
wl_add_update_targets(PlannerInfo *root, Index rtindex, RangeTblEntry *target_rte,
					  Relation target_relation)
{
	WlColumnRoles roles;
	AttrNumber	id_attno;
	Var		   *var;
	Query	   *parsetree = root->parse;
	bool		returns_deleted = parsetree->commandType == CMD_DELETE &&
		parsetree->returningList != NIL;

	wl_column_roles(target_relation, &roles, false);
	id_attno = roles.id_attno;
	if (id_attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
				 errmsg("foreign table \"%s\" has no column \"id\"",
						RelationGetRelationName(target_relation)),
				 errhint("UPDATE and DELETE find vectors by id.")));
	var = makeVar(rtindex, id_attno, TEXTOID, -1, DEFAULT_COLLATION_OID, 0);
	add_row_identity_var(root, var, rtindex, WL_ROWID_NAME);
	if (returns_deleted)
		add_row_identity_var(root, makeWholeRowVar(target_rte, rtindex, 0, false), rtindex,
							 WL_WHOLEROW_NAME);
}

/* Nothing to plan: every write goes through the buffer. */
List *
wl_plan_modify(PlannerInfo *root, ModifyTable *plan, Index resultRelation,
			   int subplan_index)
{
	if (plan->onConflictAction != ONCONFLICT_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("INSERT with ON CONFLICT is not supported on whiplash foreign tables"),
				 errhint("An INSERT of an existing id replaces that vector.")));
	return NIL;
}

/*
 * Does the statement read the same collection through another foreign
 * table reference (INSERT INTO t SELECT ... FROM t)?  Then its writes must
 * wait until the end, lest its own scan see them.
 */
static bool
wl_statement_reads_collection(EState *estate, ResultRelInfo *rinfo)
{
	Relation	rel = rinfo->ri_RelationDesc;
	ForeignTable *target = GetForeignTable(RelationGetRelid(rel));
	char	   *name = wl_table_collection_name(RelationGetRelid(rel));
	ListCell   *cell;
	Index		rti = 0;

	foreach(cell, estate->es_range_table)
	{
		RangeTblEntry *rte = lfirst(cell);

		rti++;
		if (rti == rinfo->ri_RangeTableIndex || rte->rtekind != RTE_RELATION ||
			rte->relkind != RELKIND_FOREIGN_TABLE)
			continue;
		if (GetForeignTable(rte->relid)->serverid == target->serverid &&
			name != NULL && wl_table_collection_name(rte->relid) != NULL &&
			strcmp(wl_table_collection_name(rte->relid), name) == 0)
			return true;
	}
	return false;
}

/* Sets up the write buffer for a result relation. */
static WlModifyState *
wl_modify_state(Relation rel, bool defer)
{
	WlModifyState *state = palloc0(sizeof(WlModifyState));
	WlCollection *collection;

	state->table = pstrdup(RelationGetRelationName(rel));
	state->columns = wl_columns(rel, false);
	if (state->columns->id_attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
				 errmsg("foreign table \"%s\" needs a column \"id\" to be written",
						RelationGetRelationName(rel)),
				 errhint("The id column is the one named id, or the one with OPTIONS (column_name 'id').")));
	collection = wl_collection_for_relation(RelationGetRelid(rel), &state->conn);
	state->dims = collection->meta->dims;
	state->buffer = wl_xact_buffer(state->conn, collection, defer, RelationGetRelid(rel));
	return state;
}

/* BeginForeignModify: the buffer, and where the junk id is for UPDATE/DELETE. */
void
wl_begin_modify(ModifyTableState *mtstate, ResultRelInfo *rinfo, List *fdw_private,
				int subplan_index, int eflags)
{
	WlModifyState *state;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	state = wl_modify_state(rinfo->ri_RelationDesc,
							mtstate->operation != CMD_INSERT ||
							wl_statement_reads_collection(mtstate->ps.state, rinfo));
	if (mtstate->operation == CMD_UPDATE || mtstate->operation == CMD_DELETE)
	{
		Plan	   *subplan = outerPlanState(mtstate)->plan;

		state->rowid_attno = ExecFindJunkAttributeInTlist(subplan->targetlist, WL_ROWID_NAME);
		if (!AttributeNumberIsValid(state->rowid_attno))
			elog(ERROR, "could not find junk column \"%s\"", WL_ROWID_NAME);
		/* present when the planner was asked for it: DELETE RETURNING */
		if (mtstate->operation == CMD_DELETE)
			state->wholerow_attno = ExecFindJunkAttributeInTlist(subplan->targetlist,
																 WL_WHOLEROW_NAME);
		if (state->columns->attributes_attno == InvalidAttrNumber)
			wl_write_carry_over(state->buffer, state->columns->names, state->columns->nmapped);
	}
	rinfo->ri_FdwState = state;
}

/* BeginForeignInsert (COPY, partition routing): as for INSERT. */
void
wl_begin_insert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	rinfo->ri_FdwState = wl_modify_state(rinfo->ri_RelationDesc,
										 wl_statement_reads_collection(mtstate->ps.state, rinfo));
}

/* The id of a row, not NULL; the write buffer checks the rest. */
static char *
wl_slot_id(TupleTableSlot *slot, AttrNumber attno)
{
	bool		isnull;
	Datum		value = slot_getattr(slot, attno, &isnull);

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("id must not be null")));
	return TextDatumGetCString(value);
}

/* The vector of a row, checked against the collection. */
static float *
wl_slot_vector(WlModifyState *state, TupleTableSlot *slot)
{
	bool		isnull;
	Datum		value = slot_getattr(slot, state->columns->vector_attno, &isnull);
	int			dims;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("vector must not be null")));
	if (state->columns->casts != NULL)
		value = wl_vector_cast(state->columns->casts, state->columns->casts->to_real, value);
	return wl_array_to_vector(DatumGetArrayTypeP(value), state->dims, "vector", &dims);
}

/* The attributes of a row as DynamoDB JSON, or NULL when it has none. */
static char *
wl_slot_attributes(WlModifyState *state, TupleTableSlot *slot)
{
	if (!wl_columns_has_attributes(state->columns))
		return NULL;
	return wl_columns_row_attributes(state->columns, slot);
}

/*
 * Names the row whose values were refused, in a statement that may write
 * thousands: by its id, or by its position when the id is what is wrong.
 */
static void
wl_row_error_context(void *arg)
{
	WlModifyState *state = arg;

	if (state->row_id != NULL)
		errcontext("row " INT64_FORMAT " written to foreign table \"%s\", id \"%s\"",
				   state->rows, state->table, state->row_id);
	else
		errcontext("row " INT64_FORMAT " written to foreign table \"%s\"",
				   state->rows, state->table);
}

/*
 * Refuses, before anything is sent, a row DynamoDB would refuse: an
 * attribute nested too deep or an empty set, or an item past 400 KB (with
 * room for whiplash's own attributes).  Found at COMMIT, it would fail the
 * commit after other rows were written.
 */
static void
wl_check_item_size(WlModifyState *state, const char *id, const char *attributes)
{
	char		reason[256];
	long		size = (long) strlen(WL_ATTR_ID) + (long) strlen(id) +
		(long) strlen(WL_ATTR_VECTOR) + 4L * state->dims + WL_OWN_ATTRIBUTE_BYTES;

	if (attributes != NULL)
	{
		long		attributes_size = wl_attrs_size(attributes, reason, sizeof(reason));

		if (attributes_size < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("row cannot be stored in DynamoDB: %s", reason)));
		size += attributes_size;
	}
	if (size > WL_DDB_MAX_ITEM_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row would be an item of about %ld bytes, more than DynamoDB's limit of %d",
						size, WL_DDB_MAX_ITEM_BYTES),
				 errhint("Store large values elsewhere and keep a reference to them as an attribute.")));
}

/* Reads a row's values, naming the row in any error they raise. */
static void
wl_read_row(WlModifyState *state, TupleTableSlot *slot, char **id, float **vector,
			char **attributes)
{
	ErrorContextCallback callback;

	state->rows++;
	state->row_id = NULL;
	callback.callback = wl_row_error_context;
	callback.arg = state;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	*id = wl_slot_id(slot, state->columns->id_attno);
	wl_check_utf8("id", *id);
	state->row_id = *id;
	*vector = wl_slot_vector(state, slot);
	*attributes = wl_slot_attributes(state, slot);
	wl_check_utf8("a string attribute", *attributes);
	wl_check_item_size(state, *id, *attributes);
	error_context_stack = callback.previous;
}

/* Buffers an insert; an existing id is replaced when the batch is written. */
TupleTableSlot *
wl_exec_insert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
			   TupleTableSlot *planSlot)
{
	WlModifyState *state = rinfo->ri_FdwState;
	char	   *id;
	float	   *vector;
	char	   *attributes;

	wl_read_row(state, slot, &id, &vector, &attributes);
	wl_write_put(state->buffer, id, vector, state->dims, attributes);
	return slot;
}

/* Buffers an update: a new id moves the vector. */
TupleTableSlot *
wl_exec_update(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
			   TupleTableSlot *planSlot)
{
	WlModifyState *state = rinfo->ri_FdwState;
	char	   *old_id = wl_slot_id(planSlot, state->rowid_attno);
	char	   *id;
	float	   *vector;
	char	   *attributes;

	wl_read_row(state, slot, &id, &vector, &attributes);
	wl_write_move(state->buffer, old_id, id, vector, state->dims, attributes);
	return slot;
}

/*
 * Stores in slot the row a DELETE's scan read (its junk whole-row value),
 * for RETURNING.
 */
static void
wl_store_deleted_row(WlModifyState *state, TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	bool		isnull;
	Datum		value = slot_getattr(planSlot, state->wholerow_attno, &isnull);
	HeapTupleHeader header;
	HeapTupleData tuple;

	ExecClearTuple(slot);
	if (isnull)
		elog(ERROR, "the row a DELETE read is null");
	header = DatumGetHeapTupleHeader(value);
	tuple.t_len = HeapTupleHeaderGetDatumLength(header);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = header;
	heap_deform_tuple(&tuple, slot->tts_tupleDescriptor, slot->tts_values, slot->tts_isnull);
	ExecStoreVirtualTuple(slot);
	ExecMaterializeSlot(slot);
}

/* Buffers a delete, and gives RETURNING the row deleted. */
TupleTableSlot *
wl_exec_delete(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
			   TupleTableSlot *planSlot)
{
	WlModifyState *state = rinfo->ri_FdwState;

	wl_write_delete(state->buffer, wl_slot_id(planSlot, state->rowid_attno));
	if (AttributeNumberIsValid(state->wholerow_attno))
		wl_store_deleted_row(state, slot, planSlot);
	return slot;
}

/* Ends the statement's writes; they reach DynamoDB at commit. */
void
wl_end_modify(EState *estate, ResultRelInfo *rinfo)
{
	WlModifyState *state = rinfo->ri_FdwState;

	if (state != NULL)
		wl_write_statement_end(state->buffer);
}

/* EndForeignInsert: as EndForeignModify. */
void
wl_end_insert(EState *estate, ResultRelInfo *rinfo)
{
	wl_end_modify(estate, rinfo);
}

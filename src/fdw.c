/*
 * fdw.c - the foreign data wrapper's handler and planning.
 *
 * A collection maps to a foreign table with columns `id text` and
 * `vector real[]` (other columns read as NULL).  The planner picks one of
 * three DynamoDB reads from the WHERE clause:
 *   id = value           GetItem
 *   id = ANY(array) / IN BatchGetItem, 100 keys a call, all at once
 *   anything else        Scan, page by page
 * Every qual is also checked locally, so the remote read only has to
 * return a superset of the rows.
 *
 * A query of the form ORDER BY vector <op> q LIMIT k (one relation, no
 * WHERE clause, the operator of the collection's metric) also gets a path
 * that is already sorted: an LSH search for the k nearest, so that no Scan
 * or Sort is needed.  Any other ORDER BY falls back to a Scan and a local
 * sort, with exact results.  Scanning is in fdw_scan.c, writing in
 * fdw_modify.c, IMPORT FOREIGN SCHEMA in fdw_import.c.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "access/stratnum.h"
#include "utils/syscache.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "fdw.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_fdw_handler);

/* Rows assumed for a full Scan, for want of a cheap count. */
#define WL_SCAN_ROWS 100000.0

/* The attribute number of a column by name, or InvalidAttrNumber. */
AttrNumber
wl_column_attno(Relation rel, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);

		if (!attr->attisdropped && strcmp(NameStr(attr->attname), name) == 0)
			return attr->attnum;
	}
	return InvalidAttrNumber;
}

/* Is expr a Var of the given column of this relation? */
static bool
wl_is_id_var(Node *expr, Index relid, AttrNumber id_attno)
{
	if (expr != NULL && IsA(expr, RelabelType))
		expr = (Node *) ((RelabelType *) expr)->arg;
	return expr != NULL && IsA(expr, Var) &&
		(Index) ((Var *) expr)->varno == relid &&
		((Var *) expr)->varattno == id_attno &&
		((Var *) expr)->varlevelsup == 0;
}

/* Is expr a value known at execution start (a Const or a Param)? */
static bool
wl_is_runtime_value(Node *expr)
{
	return expr != NULL && (IsA(expr, Const) || IsA(expr, Param));
}

/*
 * Does equality under this collation mean equal bytes, as DynamoDB's key
 * lookups compare?  Not for nondeterministic (e.g. case-insensitive) ones.
 */
static bool
wl_exact_collation(Oid collid)
{
	return !OidIsValid(collid) || get_collation_isdeterministic(collid);
}

/*
 * Looks for a restriction that turns the scan into a key lookup: `id =
 * value` (text equality) or `id = ANY(array)`.  Sets *value to the value
 * expression and returns the kind of read.
 */
static WlScanKind
wl_find_key_qual(List *clauses, Index relid, AttrNumber id_attno, Expr **value)
{
	ListCell   *cell;
	WlScanKind	kind = WL_SCAN_FULL;

	foreach(cell, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, cell);
		Expr	   *clause = rinfo->clause;

		if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2 &&
			((OpExpr *) clause)->opno == TextEqualOperator &&
			wl_exact_collation(((OpExpr *) clause)->inputcollid))
		{
			Node	   *left = linitial(((OpExpr *) clause)->args);
			Node	   *right = lsecond(((OpExpr *) clause)->args);

			if (wl_is_id_var(left, relid, id_attno) && wl_is_runtime_value(right))
				*value = (Expr *) right;
			else if (wl_is_id_var(right, relid, id_attno) && wl_is_runtime_value(left))
				*value = (Expr *) left;
			else
				continue;
			return WL_SCAN_GET;
		}
		if (IsA(clause, ScalarArrayOpExpr) &&
			((ScalarArrayOpExpr *) clause)->useOr &&
			((ScalarArrayOpExpr *) clause)->opno == TextEqualOperator &&
			wl_exact_collation(((ScalarArrayOpExpr *) clause)->inputcollid) &&
			wl_is_id_var(linitial(((ScalarArrayOpExpr *) clause)->args), relid, id_attno) &&
			wl_is_runtime_value(lsecond(((ScalarArrayOpExpr *) clause)->args)) &&
			kind == WL_SCAN_FULL)
		{
			*value = (Expr *) lsecond(((ScalarArrayOpExpr *) clause)->args);
			kind = WL_SCAN_MULTI;
		}
	}
	return kind;
}

/*
 * Estimates the rows of a scan from the kind of read its quals allow, and
 * records the choice for GetForeignPlan.
 */
static void
wl_get_rel_size(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	Relation	rel = table_open(foreigntableid, NoLock);
	AttrNumber	id_attno = wl_column_attno(rel, "id");
	WlPlanState *plan = palloc0(sizeof(WlPlanState));

	table_close(rel, NoLock);
	plan->kind = id_attno == InvalidAttrNumber ? WL_SCAN_FULL :
		wl_find_key_qual(baserel->baserestrictinfo, baserel->relid, id_attno, &plan->value);
	if (plan->kind == WL_SCAN_GET)
		baserel->rows = 1;
	else if (plan->kind == WL_SCAN_MULTI)
		baserel->rows = IsA(plan->value, Const) && !((Const *) plan->value)->constisnull ?
			ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(((Const *) plan->value)->constvalue)),
						   ARR_DIMS(DatumGetArrayTypeP(((Const *) plan->value)->constvalue))) : 10;
	else
		baserel->rows = clamp_row_est(WL_SCAN_ROWS *
									  clauselist_selectivity(root, baserel->baserestrictinfo,
															 0, JOIN_INNER, NULL));
	baserel->fdw_private = plan;
}

/* The metric of one of the distance operators' functions, by name. */
static bool
wl_operator_metric(Oid opno, WlMetric *metric)
{
	char	   *name = get_func_name(get_opcode(opno));

	if (name == NULL)
		return false;
	if (strcmp(name, "whiplash_l2_distance") == 0)
		*metric = WL_METRIC_L2;
	else if (strcmp(name, "whiplash_cosine_distance") == 0)
		*metric = WL_METRIC_COSINE;
	else if (strcmp(name, "whiplash_negative_inner_product") == 0)
		*metric = WL_METRIC_INNER_PRODUCT;
	else
		return false;
	return true;
}

/*
 * Finds in the query's one sort key an expression vector <op> q, with q a
 * constant or parameter.  Returns q, setting *metric, or NULL.
 */
static Expr *
wl_find_search_key(PlannerInfo *root, RelOptInfo *baserel, AttrNumber vector_attno,
				   WlMetric *metric)
{
	PathKey    *pathkey;
	ListCell   *cell;

	if (list_length(root->query_pathkeys) != 1)
		return NULL;
	pathkey = linitial(root->query_pathkeys);
	if (pathkey->pk_strategy != BTLessStrategyNumber || pathkey->pk_nulls_first)
		return NULL;
	foreach(cell, pathkey->pk_eclass->ec_members)
	{
		EquivalenceMember *member = lfirst(cell);
		OpExpr	   *op = (OpExpr *) member->em_expr;
		Node	   *left;
		Node	   *right;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2 ||
			!wl_operator_metric(op->opno, metric))
			continue;
		left = linitial(op->args);
		right = lsecond(op->args);
		if (wl_is_id_var(left, baserel->relid, vector_attno) && wl_is_runtime_value(right))
			return (Expr *) right;
		if (wl_is_id_var(right, baserel->relid, vector_attno) && wl_is_runtime_value(left))
			return (Expr *) left;
	}
	return NULL;
}

/*
 * Adds the sorted search path when the query is ORDER BY vector <op> q
 * LIMIT k over this relation alone, unfiltered, and <op> is the
 * collection's metric.  Reading the collection's settings here costs a
 * metadata read the first time; they are cached for execution.
 */
static void
wl_add_search_path(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	Relation	rel;
	AttrNumber	vector_attno;
	WlMetric	metric;
	Expr	   *query;
	WlConnection *conn;
	WlCollection *collection;
	int			k;

	if (root->limit_tuples <= 0 || root->limit_tuples > WL_MAX_K ||
		baserel->baserestrictinfo != NIL ||
		bms_membership(root->all_baserels) != BMS_SINGLETON)
		return;
	rel = table_open(foreigntableid, NoLock);
	vector_attno = wl_column_attno(rel, "vector");
	table_close(rel, NoLock);
	if (vector_attno == InvalidAttrNumber)
		return;
	query = wl_find_search_key(root, baserel, vector_attno, &metric);
	if (query == NULL)
		return;
	collection = wl_collection_for_relation(foreigntableid, &conn);
	if (collection->meta->metric != metric)
		return;

	k = (int) root->limit_tuples;
	add_path(baserel, (Path *)
			 wl_create_foreignscan_path(root, baserel, NULL, k, 5, 5 + k * 0.01,
										root->query_pathkeys, NULL, NULL,
										list_make3(makeInteger(WL_SCAN_SEARCH), query,
												   makeInteger(k))));
}

/*
 * One path: its cost is a round trip per request, so a key lookup is far
 * cheaper than a Scan that reads every item a page (about 1 MB) at a time.
 */
static void
wl_get_paths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	WlPlanState *plan = baserel->fdw_private;
	Cost		startup = 10;
	Cost		total;

	if (plan->kind == WL_SCAN_GET)
		total = startup + 1;
	else if (plan->kind == WL_SCAN_MULTI)
		total = startup + baserel->rows * 0.1 + 5;
	else
		total = startup + WL_SCAN_ROWS * 0.05;

	add_path(baserel, (Path *)
			 wl_create_foreignscan_path(root, baserel, NULL, baserel->rows, startup, total,
										NIL, NULL, NULL, NIL));
	wl_add_search_path(root, baserel, foreigntableid);
}

/*
 * The plan: the key value (if any) goes to fdw_exprs so that Params are
 * evaluated at execution; every qual stays a local filter.
 */
static ForeignScan *
wl_get_plan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
			ForeignPath *best_path, List *tlist, List *scan_clauses, Plan *outer_plan)
{
	WlPlanState *plan = baserel->fdw_private;
	List	   *fdw_exprs = NIL;
	List	   *fdw_private;

	scan_clauses = extract_actual_clauses(scan_clauses, false);
	if (best_path->fdw_private != NIL)
	{
		/* The search path: the query vector to evaluate, and k. */
		fdw_exprs = list_make1(lsecond(best_path->fdw_private));
		fdw_private = list_make2(linitial(best_path->fdw_private),
								 lthird(best_path->fdw_private));
	}
	else
	{
		if (plan->kind != WL_SCAN_FULL)
			fdw_exprs = list_make1(plan->value);
		fdw_private = list_make1(makeInteger(plan->kind));
	}
	return make_foreignscan(tlist, scan_clauses, baserel->relid, fdw_exprs,
							fdw_private, NIL, NIL, outer_plan);
}

/* EXPLAIN: which DynamoDB read runs, on which table. */
static void
wl_explain_scan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	WlScanKind	kind = intVal(linitial(plan->fdw_private));
	Relation	rel = node->ss.ss_currentRelation;

	if (kind == WL_SCAN_SEARCH)
		ExplainPropertyText("DynamoDB",
							psprintf("LSH search for the %d nearest (Query per probed bucket, then BatchGetItem)",
									 intVal(lsecond(plan->fdw_private))), es);
	else
		ExplainPropertyText("DynamoDB",
							kind == WL_SCAN_GET ? "GetItem" :
							kind == WL_SCAN_MULTI ? "BatchGetItem" : "Scan", es);
	if (es->verbose)
		ExplainPropertyText("Collection", wl_relation_collection_name(RelationGetRelid(rel)), es);
	if (es->analyze)
		wl_explain_scan_counts(node, es);
}

/* The kinds of write a whiplash foreign table takes. */
static int
wl_is_updatable(Relation rel)
{
	return (1 << CMD_INSERT) | (1 << CMD_UPDATE) | (1 << CMD_DELETE);
}

/* whiplash_fdw_handler(): the callbacks. */
Datum
whiplash_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = wl_get_rel_size;
	routine->GetForeignPaths = wl_get_paths;
	routine->GetForeignPlan = wl_get_plan;
	routine->BeginForeignScan = wl_begin_scan;
	routine->IterateForeignScan = wl_iterate_scan;
	routine->ReScanForeignScan = wl_rescan;
	routine->EndForeignScan = wl_end_scan;
	routine->ExplainForeignScan = wl_explain_scan;

	routine->AddForeignUpdateTargets = wl_add_update_targets;
	routine->PlanForeignModify = wl_plan_modify;
	routine->BeginForeignModify = wl_begin_modify;
	routine->ExecForeignInsert = wl_exec_insert;
	routine->ExecForeignUpdate = wl_exec_update;
	routine->ExecForeignDelete = wl_exec_delete;
	routine->EndForeignModify = wl_end_modify;
	routine->BeginForeignInsert = wl_begin_insert;
	routine->EndForeignInsert = wl_end_insert;
	routine->IsForeignRelUpdatable = wl_is_updatable;

	routine->ImportForeignSchema = wl_import_foreign_schema;

	PG_RETURN_POINTER(routine);
}

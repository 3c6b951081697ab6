/*
 * fdw.c - the foreign data wrapper's handler and planning.
 *
 * A collection maps to a foreign table with columns `id text` and
 * `vector real[]`; other columns map the vectors' attributes
 * (attributes.c).  The planner picks one of three DynamoDB reads from the
 * WHERE clause:
 *   id = value           GetItem
 *   id = ANY(array) / IN BatchGetItem, 100 keys a call, all at once
 *   anything else        Scan, page by page
 * Every qual is also checked locally, so the remote read only has to
 * return a superset of the rows.
 *
 * A join clause id = other.column gets a parameterized path too, so that a
 * nested loop can drive one GetItem per outer row.
 *
 * A query of the form ORDER BY vector <op> q LIMIT k (one relation, the
 * operator of the collection's metric) also gets a path that is already
 * sorted: an LSH search for the k nearest, so that no Scan or Sort is
 * needed.  Its WHERE clause, if any, is checked on each candidate during
 * the search, which widens until k rows pass (search.c).  Any other ORDER
 * BY falls back to a Scan and a local sort, with exact results.
 *
 * Costs count what DynamoDB work takes: a sequential round trip costs
 * WL_ROUND_TRIP_COST (a network round trip is worth many local page reads),
 * each of the requests sent at once within a round WL_REQUEST_COST, and
 * each item read its transfer and decoding.  Row counts come from the
 * collection's vector_count.
 * Scanning is in fdw_scan.c, writing in fdw_modify.c, IMPORT FOREIGN
 * SCHEMA in fdw_import.c.
 */
#include "postgres.h"

#include <math.h>

#include "access/table.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "foreign/fdwapi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_coerce.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "access/stratnum.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/syscache.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "fdw.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_fdw_handler);

/* Rows assumed for a collection that keeps no count (v1). */
#define WL_SCAN_ROWS 100000.0

/* Cost units; see the header. */
#define WL_ROUND_TRIP_COST 25.0
#define WL_REQUEST_COST 0.1

/*
 * Reading and decoding a byte: a 1 MB Scan page takes about as long as
 * eight small round trips.
 */
#define WL_BYTE_COST (8.0 * WL_ROUND_TRIP_COST / (1024.0 * 1024.0))

/* DynamoDB's largest Scan page. */
#define WL_PAGE_BYTES (1024.0 * 1024.0)

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

/*
 * Can expr be evaluated before the scan reads anything: no Var of this
 * relation, no volatile function, no subquery?  Vars of other relations
 * become parameters of a nested loop.
 */
static bool
wl_is_runtime_value(Node *expr, Index relid)
{
	List	   *vars;
	ListCell   *cell;

	if (expr == NULL || contain_volatile_functions(expr) || contain_subplans(expr))
		return false;
	vars = pull_var_clause(expr, PVC_RECURSE_AGGREGATES | PVC_RECURSE_WINDOWFUNCS |
						   PVC_RECURSE_PLACEHOLDERS);
	foreach(cell, vars)
		if (!IsA(lfirst(cell), Var) || (Index) ((Var *) lfirst(cell))->varno == relid)
			return false;
	return true;
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

			if (wl_is_id_var(left, relid, id_attno) && wl_is_runtime_value(right, relid))
				*value = (Expr *) right;
			else if (wl_is_id_var(right, relid, id_attno) && wl_is_runtime_value(left, relid))
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
			wl_is_runtime_value(lsecond(((ScalarArrayOpExpr *) clause)->args), relid) &&
			kind == WL_SCAN_FULL)
		{
			*value = (Expr *) lsecond(((ScalarArrayOpExpr *) clause)->args);
			kind = WL_SCAN_MULTI;
		}
	}
	return kind;
}

/* The CPU cost of decoding one vector item. */
static Cost
wl_item_cost(WlPlanState *plan)
{
	return cpu_tuple_cost + plan->item_bytes * WL_BYTE_COST;
}

/*
 * Estimates the rows of a scan from the kind of read its quals allow and
 * the collection's size, and records the choice for GetForeignPlan.  The
 * collection's settings are read (and cached) here, unless the role may
 * not read the table.
 */
static void
wl_get_rel_size(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	Relation	rel = table_open(foreigntableid, NoLock);
	WlPlanState *plan = palloc0(sizeof(WlPlanState));
	WlConnection *conn;
	WlCollection *collection;
	WlColumnRoles roles;

	wl_column_roles(rel, &roles, false);
	plan->id_attno = roles.id_attno;
	plan->vector_attno = roles.vector_attno;
	plan->vector_type = TupleDescAttr(RelationGetDescr(rel), roles.vector_attno - 1)->atttypid;
	plan->relid = foreigntableid;
	table_close(rel, NoLock);
	if (pg_class_aclcheck(foreigntableid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
	{
		collection = wl_collection_for_relation(foreigntableid, &conn);
		plan->readable = true;
		plan->vectors = collection->meta->format->counts_vectors ?
			Max((double) collection->meta->vector_count, 1.0) : WL_SCAN_ROWS;
		plan->item_bytes = collection->meta->dims * 4.0 * 4.0 / 3.0 + 100.0;
		plan->metric = collection->meta->metric;
	}
	else
	{
		/* No remote call for a role the executor will turn away. */
		plan->vectors = WL_SCAN_ROWS;
		plan->item_bytes = 1000;
		plan->metric = -1;
	}

	plan->kind = plan->id_attno == InvalidAttrNumber ? WL_SCAN_FULL :
		wl_find_key_qual(baserel->baserestrictinfo, baserel->relid, plan->id_attno,
						 &plan->value);
	if (plan->kind == WL_SCAN_GET)
		baserel->rows = 1;
	else if (plan->kind == WL_SCAN_MULTI)
		baserel->rows = IsA(plan->value, Const) && !((Const *) plan->value)->constisnull ?
			ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(((Const *) plan->value)->constvalue)),
						   ARR_DIMS(DatumGetArrayTypeP(((Const *) plan->value)->constvalue))) : 10;
	else
		baserel->rows = clamp_row_est(plan->vectors *
									  clauselist_selectivity(root, baserel->baserestrictinfo,
															 0, JOIN_INNER, NULL));
	baserel->tuples = plan->vectors;
	baserel->fdw_private = plan;
}

/*
 * The vector column's Var under the expression, which may cast it to
 * real[] (a vector column of another type, ORDER BY v::real[] <-> q).
 */
static bool
wl_is_vector_var(Node *expr, Index relid, AttrNumber vector_attno)
{
	if (expr != NULL && IsA(expr, FuncExpr) &&
		((FuncExpr *) expr)->funcformat != COERCE_EXPLICIT_CALL &&
		((FuncExpr *) expr)->args != NIL)
		expr = linitial(((FuncExpr *) expr)->args);
	else if (expr != NULL && IsA(expr, ArrayCoerceExpr))
		expr = (Node *) ((ArrayCoerceExpr *) expr)->arg;
	return wl_is_id_var(expr, relid, vector_attno);
}

/*
 * Finds in the query's one sort key an expression vector <op> q, with q a
 * constant or parameter: <op> is one of whiplash's on real[], or one of
 * the vector column's own type, spelt as pgvector's (then q is cast to
 * real[]).  Returns q, setting *metric, or NULL.
 */
static Expr *
wl_find_search_key(PlannerInfo *root, RelOptInfo *baserel, const WlPlanState *plan,
				   WlMetric *metric)
{
	PathKey    *pathkey;
	ListCell   *cell;

	if (list_length(root->query_pathkeys) != 1)
		return NULL;
	pathkey = linitial(root->query_pathkeys);
	if (!wl_pathkey_ascending(pathkey) || pathkey->pk_nulls_first)
		return NULL;
	foreach(cell, pathkey->pk_eclass->ec_members)
	{
		EquivalenceMember *member = lfirst(cell);
		OpExpr	   *op = (OpExpr *) member->em_expr;
		Node	   *left;
		Node	   *right;
		Node	   *query = NULL;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2)
			continue;
		left = linitial(op->args);
		right = lsecond(op->args);
		if (wl_operator_metric(op->opno, InvalidOid, metric))
		{
			if (wl_is_vector_var(left, baserel->relid, plan->vector_attno))
				query = right;
			else if (wl_is_vector_var(right, baserel->relid, plan->vector_attno))
				query = left;
		}
		else if (wl_operator_metric(op->opno, plan->vector_type, metric))
		{
			if (wl_is_id_var(left, baserel->relid, plan->vector_attno))
				query = right;
			else if (wl_is_id_var(right, baserel->relid, plan->vector_attno))
				query = left;
			if (query != NULL)
				query = coerce_to_target_type(NULL, query, exprType(query), FLOAT4ARRAYOID,
											  -1, COERCION_EXPLICIT, COERCE_EXPLICIT_CAST,
											  -1);
		}
		if (query != NULL && wl_is_runtime_value(query, baserel->relid))
			return (Expr *) query;
	}
	return NULL;
}

/*
 * Can the search check these restrictions on each candidate: no volatile
 * function and no subquery?
 */
static bool
wl_search_can_filter(List *restrictions)
{
	ListCell   *cell;

	foreach(cell, restrictions)
	{
		Node	   *clause = (Node *) lfirst_node(RestrictInfo, cell)->clause;

		if (contain_volatile_functions(clause) || contain_subplans(clause))
			return false;
	}
	return true;
}

/*
 * The search plan for the k nearest through a foreign table; returns the
 * collection it planned for (opening it again could re-read it and free
 * this one, when its cache entry has expired).
 */
static WlCollection *
wl_table_search_plan(Oid relid, int k, WlSearchPlan *search)
{
	WlConnection *conn;
	WlCollection *collection = wl_collection_for_relation(relid, &conn);

	wl_search_plan(collection, k, -1, -1, wl_table_consistent_searches(relid, conn), search);
	return collection;
}

/*
 * Adds the sorted search path when the query is ORDER BY vector <op> q
 * LIMIT k over this relation alone, <op> is the collection's metric, and no
 * id restriction makes a key lookup the better read.
 * Its cost: two sequential round trips (more when a filter widens it), the
 * requests of its plan (search_plan.c), and the candidates' decoding and
 * re-ranking.
 */
static void
wl_add_search_path(PlannerInfo *root, RelOptInfo *baserel, WlPlanState *plan)
{
	WlMetric	metric;
	Expr	   *query;
	int			k;
	double		candidates;
	double		selectivity;
	double		record_selectivity;
	bool		whole;
	Cost		startup;
	WlSearchPlan search;
	WlCollection *collection;

	if (root->limit_tuples <= 0 || root->limit_tuples > WL_MAX_K || !plan->readable ||
		plan->vector_attno == InvalidAttrNumber || plan->kind != WL_SCAN_FULL ||
		bms_membership(root->all_baserels) != BMS_SINGLETON ||
		!wl_search_can_filter(baserel->baserestrictinfo))
		return;
	query = wl_find_search_key(root, baserel, plan, &metric);
	if (query == NULL || metric != plan->metric)
		return;

	k = (int) root->limit_tuples;
	collection = wl_table_search_plan(plan->relid, k, &search);
	candidates = search.kind == WL_SEARCH_SCAN ? plan->vectors :
		Min((double) search.budget, plan->vectors);
	selectivity = clauselist_selectivity(root, baserel->baserestrictinfo, 0, JOIN_INNER, NULL);
	record_selectivity = wl_record_selectivity(root, baserel, collection, &whole);
	/* the index's statistics know the share its records keep better */
	selectivity = whole ? record_selectivity : Min(selectivity, record_selectivity);
	if (selectivity < 1.0 && candidates * selectivity < k)
		candidates = Min(Max(candidates, k / Max(selectivity, 0.0001)),
						 (double) wl_max_scan_candidates);
	startup = (selectivity < 1.0 ? 3 : 2) * WL_ROUND_TRIP_COST +
		(search.requests + ceil(candidates / 100.0)) * WL_REQUEST_COST +
		candidates * (wl_item_cost(plan) + baserel->baserestrictcost.per_tuple);
	/*
	 * A search reads a bounded share of the collection, a Scan all of it:
	 * prefer the search whenever it applies, even where a Scan of a tiny
	 * collection would take fewer round trips.
	 */
	startup = Min(startup, plan->scan_cost * 0.9);
	add_path(baserel, (Path *)
			 wl_create_foreignscan_path(root, baserel, NULL, k, startup, startup + k * cpu_tuple_cost,
										root->query_pathkeys, NULL, NULL,
										lappend(list_make5(makeInteger(WL_SCAN_SEARCH), query,
														   makeInteger(k), makeInteger(metric),
														   makeFloat(psprintf("%.6e", selectivity))),
												makeFloat(psprintf("%.6e", record_selectivity)))));
}

/* Is an equivalence class member this relation's id column? */
static bool
wl_ec_member_is_id(PlannerInfo *root, RelOptInfo *rel, EquivalenceClass *ec,
				   EquivalenceMember *em, void *arg)
{
	return wl_is_id_var((Node *) em->em_expr, rel->relid, *(AttrNumber *) arg);
}

/*
 * Adds a path per join clause id = other.column (written, or implied by
 * equivalence classes), parameterized by the other relations: a nested
 * loop then looks each outer row's id up with one GetItem.
 */
static void
wl_add_param_paths(PlannerInfo *root, RelOptInfo *baserel, WlPlanState *plan)
{
	List	   *clauses = NIL;
	ListCell   *cell;

	if (plan->id_attno == InvalidAttrNumber)
		return;
	foreach(cell, baserel->joininfo)
	{
		RestrictInfo *rinfo = lfirst(cell);
		Expr	   *value;

		if (wl_find_key_qual(list_make1(rinfo), baserel->relid, plan->id_attno,
							 &value) == WL_SCAN_GET)
			clauses = lappend(clauses, rinfo);
	}
	if (baserel->has_eclass_joins)
		clauses = list_concat(clauses,
							  generate_implied_equalities_for_column(root, baserel,
																	 wl_ec_member_is_id,
																	 &plan->id_attno,
																	 baserel->lateral_referencers));
	foreach(cell, clauses)
	{
		RestrictInfo *rinfo = lfirst(cell);
		Relids		required_outer;
		ParamPathInfo *param_info;
		Expr	   *value;

		if (wl_find_key_qual(list_make1(rinfo), baserel->relid, plan->id_attno,
							 &value) != WL_SCAN_GET)
			continue;
		required_outer = bms_union(rinfo->clause_relids, baserel->lateral_relids);
		required_outer = bms_del_member(required_outer, baserel->relid);
		if (bms_is_empty(required_outer))
			continue;
		param_info = get_baserel_parampathinfo(root, baserel, required_outer);
		add_path(baserel, (Path *)
				 wl_create_foreignscan_path(root, baserel, NULL, param_info->ppi_rows,
											WL_ROUND_TRIP_COST,
											WL_ROUND_TRIP_COST + WL_REQUEST_COST +
											wl_item_cost(plan),
											NIL, required_outer, NULL, NIL));
	}
}

/*
 * The paths: the read the quals allow (a key lookup is far cheaper than a
 * Scan, which reads every item a 1 MB page per round trip), the
 * parameterized id lookups, and the search.
 */
static void
wl_get_paths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	WlPlanState *plan = baserel->fdw_private;
	Cost		startup = WL_ROUND_TRIP_COST;
	Cost		total;

	if (plan->kind == WL_SCAN_GET)
		total = startup + WL_REQUEST_COST + wl_item_cost(plan);
	else if (plan->kind == WL_SCAN_MULTI)
		total = startup + ceil(baserel->rows / 100.0) * WL_REQUEST_COST +
			baserel->rows * wl_item_cost(plan);
	else
		total = ceil(plan->vectors * plan->item_bytes / WL_PAGE_BYTES) *
			(WL_ROUND_TRIP_COST + WL_REQUEST_COST) + plan->vectors * wl_item_cost(plan);
	total += baserel->baserestrictcost.per_tuple *
		(plan->kind == WL_SCAN_FULL ? plan->vectors : baserel->rows);
	plan->scan_cost = ceil(plan->vectors * plan->item_bytes / WL_PAGE_BYTES) *
		(WL_ROUND_TRIP_COST + WL_REQUEST_COST) + plan->vectors * wl_item_cost(plan);

	add_path(baserel, (Path *)
			 wl_create_foreignscan_path(root, baserel, NULL, baserel->rows, startup, total,
										NIL, NULL, NULL, NIL));
	wl_add_param_paths(root, baserel, plan);
	wl_add_search_path(root, baserel, plan);
}

/*
 * The plan: the key value (if any) goes to fdw_exprs so that Params and a
 * nested loop's outer values are evaluated at execution; a search's
 * restrictions follow its query vector there, for the search to check on
 * each candidate.  Every qual also stays a local filter.
 */
static ForeignScan *
wl_get_plan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
			ForeignPath *best_path, List *tlist, List *scan_clauses, Plan *outer_plan)
{
	WlPlanState *plan = baserel->fdw_private;
	List	   *fdw_exprs = NIL;
	List	   *fdw_private;
	WlScanKind	kind = WL_SCAN_FULL;
	Expr	   *value = NULL;
	List	   *quals = extract_actual_clauses(scan_clauses, false);

	if (best_path->fdw_private != NIL)
	{
		/*
		 * The search path: the query vector to evaluate, k, the metric, the
		 * restrictions' selectivity.
		 */
		fdw_exprs = lcons(list_nth(best_path->fdw_private, WlSearchPathQuery), list_copy(quals));
		fdw_private = list_make5(list_nth(best_path->fdw_private, WlSearchPathKind),
								 list_nth(best_path->fdw_private, WlSearchPathK),
								 list_nth(best_path->fdw_private, WlSearchPathMetric),
								 list_nth(best_path->fdw_private, WlSearchPathSelectivity),
								 list_nth(best_path->fdw_private, WlSearchPathRecordSelectivity));
	}
	else
	{
		if (plan->id_attno != InvalidAttrNumber)
			kind = wl_find_key_qual(scan_clauses, baserel->relid, plan->id_attno, &value);
		if (kind != WL_SCAN_FULL)
			fdw_exprs = list_make1(value);
		fdw_private = list_make1(makeInteger(kind));
	}
	return make_foreignscan(tlist, quals, baserel->relid, fdw_exprs,
							fdw_private, NIL, NIL, outer_plan);
}

/*
 * EXPLAIN's words for a packed index and what a search reads of it: its
 * k-means cells and how many are probed, or its LSH tables and keys.
 */
static char *
wl_explain_index(const WlMeta *meta, const WlSearchPlan *search)
{
	const char *tables = meta->ntables == 1 ? "" : "s";

	if (search->cells > 0)
		return psprintf("%d table%s of %d k-means cells%s, %s", meta->ntables, tables,
						search->cells,
						search->groups > 0 ? psprintf(" in %d groups", search->groups) : "",
						search->kind == WL_SEARCH_CODES ? "every cell read" :
						search->spread > 0 ?
						psprintf("the cells within %.4g%% of the nearest's squared distance read (%.1f on average, at most %d)",
								 search->spread * 100.0, search->cells_read,
								 search->spread_most) :
						psprintf("the nearest %d cell%s read", search->probes,
								 search->probes == 1 ? "" : "s"));
	return psprintf("%d table%s, %s, keys of %d + %d bits", meta->ntables, tables,
					search->kind == WL_SEARCH_CODES ? "every bucket of one table" :
					psprintf("%d probe%s per table", search->probes,
							 search->probes == 1 ? "" : "s"),
					meta->bits[0], search->kind == WL_SEARCH_CODES ? 0 : search->depth);
}

/*
 * EXPLAIN of a search: what it reads and, with VERBOSE, the plan's
 * settings and why it was chosen (search_plan.c), priced at the planned
 * selectivity of the restrictions it checks.  Formats without codes
 * always probe.
 */
static void
wl_explain_search(ForeignScanState *node, int k, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	WlSearchPlan search;
	WlCollection *collection =
		wl_table_search_plan(RelationGetRelid(node->ss.ss_currentRelation), k, &search);
	WlMeta	   *meta = collection->meta;
	bool		codes = meta->format->code_bytes(meta) > 0;
	bool		has_filter = list_length(plan->fdw_exprs) > 1;
	const char *filtered = has_filter ? ", filtered while searching" : "";

	if (has_filter)
		wl_record_plan_filtered(wl_record_filter_from_quals(node->ss.ss_currentRelation,
															plan->scan.scanrelid,
															list_copy_tail(plan->fdw_exprs, 1),
															node->ss.ps.state->es_param_list_info),
								collection, k,
								floatVal(list_nth(plan->fdw_private, WlScanPrivateSelectivity)),
								floatVal(list_nth(plan->fdw_private,
												  WlScanPrivateRecordSelectivity)),
								&search);
	ExplainPropertyText("DynamoDB",
						has_filter && search.record_selectivity == 0 ?
						psprintf("no search for the %d nearest (GetItem of the collection's metadata)", k) :
						psprintf("%s for the %d nearest (%s)",
								 search.kind == WL_SEARCH_SCAN ? "exact search" :
								 search.cells > 0 ? "cell search" : "LSH search", k,
								 search.kind == WL_SEARCH_SCAN ? "Scan of every vector" :
								 search.kind == WL_SEARCH_CODES ?
								 (search.partitions.n > 0 ?
								  "Query of each partition named, then BatchGetItem of the best candidates" :
								  search.block_cell_bytes > 0 ?
								  "Query of every block of cells, then BatchGetItem of the best candidates" :
								  search.cells > 0 ?
								  "Query of every cell, then BatchGetItem of the best candidates" :
								  "Query of every bucket of one table, then BatchGetItem of the best candidates") :
								 search.partitions.n > 0 ?
								 "Query per nearest cell of each partition named, then BatchGetItem of the best candidates" :
								 search.block_cell_bytes > 0 ?
								 "Query per run of a block's nearest cells, then BatchGetItem of the best candidates" :
								 search.cells > 0 ?
								 "Query per nearest cell, then BatchGetItem of the best candidates" :
								 codes ?
								 "Query per probed bucket, then BatchGetItem of the best candidates" :
								 "Query per probed bucket, then BatchGetItem"),
						es);
	if (!es->verbose)
		return;
	ExplainPropertyText("Collection", meta->name, es);
	ExplainPropertyText("DynamoDB Table", meta->vectors_table, es);
	if (search.kind == WL_SEARCH_PROBE && !codes)
		ExplainPropertyText("Search",
							psprintf("metric %s, %d table%s, %d probes per table, up to %d candidates%s%s",
									 wl_metric_name(meta->metric), meta->ntables,
									 meta->ntables == 1 ? "" : "s",
									 search.probes, search.budget,
									 search.depth > 0 ?
									 psprintf(", keys of %d + %d bits", meta->bits[0], search.depth) : "",
									 filtered), es);
	else if (search.kind == WL_SEARCH_SCAN)
		ExplainPropertyText("Search",
							psprintf("metric %s, exact%s; %s (about %.1f read units, %s)",
									 wl_metric_name(meta->metric), filtered, search.why,
									 search.read_units,
									 search.consistent ? "strongly consistent" : "eventually consistent"),
							es);
	else
		ExplainPropertyText("Search",
							psprintf("metric %s, %s, re-ranking the best %d by their codes%s; %s (about %.1f read units, %s)",
									 wl_metric_name(meta->metric), wl_explain_index(meta, &search),
									 search.budget, filtered, search.why, search.read_units,
									 search.consistent ? "strongly consistent" : "eventually consistent"),
							es);
	if (has_filter)
		ExplainPropertyText("Filter Estimate",
							search.kind == WL_SEARCH_SCAN || search.probe_units <= 0 ?
							psprintf("selectivity %.4g", search.selectivity) :
							psprintf("selectivity %.4g: up to %d round%s, about %.0f candidates fetched",
									 search.selectivity, search.rounds,
									 search.rounds == 1 ? "" : "s", search.fetched), es);
	if (has_filter && search.kind != WL_SEARCH_SCAN)
	{
		Relation	rel = node->ss.ss_currentRelation;
		char	   *tested = wl_record_filter_attributes(
			wl_record_filter_from_quals(rel, plan->scan.scanrelid,
										list_copy_tail(plan->fdw_exprs, 1),
										node->ss.ps.state->es_param_list_info), meta);

		if (tested != NULL)
			ExplainPropertyText("Records Filter",
								psprintf("%s, tested on each record before its vector is fetched (keeps about %.4g)",
										 tested, search.record_selectivity), es);
	}
	/* a filter's recall is known where its records answer it all */
	if (search.recall >= 0)
		ExplainPropertyText("Estimated Recall",
							search.below_target ?
							psprintf("%.3f, below whiplash.recall_target %.2f: the most its calibration reaches%s",
									 search.recall, wl_recall_target,
									 wl_max_search_units > 0 ? " within whiplash.max_search_units" : "") :
							search.kind == WL_SEARCH_SCAN ? "1.000 (exact)" :
							has_filter && search.record_selectivity == 0 ?
							"1.000 (exact: no vector passes)" :
							has_filter ?
							psprintf("%.3f (calibrated for a filter keeping %.4g; target %.2f)",
									 search.recall, search.record_selectivity, wl_recall_target) :
							psprintf("%.3f (calibrated; target %.2f)", search.recall, wl_recall_target),
							es);
}

/* EXPLAIN: which DynamoDB read runs, on which table, with what key. */
static void
wl_explain_scan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	WlScanKind	kind = intVal(list_nth(plan->fdw_private, WlScanPrivateKind));
	Relation	rel = node->ss.ss_currentRelation;
	Node	   *value = plan->fdw_exprs != NIL ? list_nth(plan->fdw_exprs, WL_SCAN_EXPR_VALUE) : NULL;

	if (kind == WL_SCAN_SEARCH)
		wl_explain_search(node, intVal(list_nth(plan->fdw_private, WlScanPrivateK)), es);
	else
		ExplainPropertyText("DynamoDB",
							kind == WL_SCAN_GET ? "GetItem" :
							kind == WL_SCAN_MULTI ? "BatchGetItem" : "Scan", es);
	if (es->verbose && kind != WL_SCAN_SEARCH)
	{
		WlConnection *conn;
		WlCollection *collection = wl_collection_for_relation(RelationGetRelid(rel), &conn);

		ExplainPropertyText("Collection", collection->meta->name, es);
		ExplainPropertyText("DynamoDB Table", collection->meta->vectors_table, es);
		if (kind == WL_SCAN_GET || kind == WL_SCAN_MULTI)
			ExplainPropertyText("Key",
								value != NULL && IsA(value, Const) ?
								psprintf(kind == WL_SCAN_GET ? "id = %s" : "id = ANY (%s)",
										 deparse_expression(value, NIL, false, false)) :
								kind == WL_SCAN_GET ? "id = (a value per execution)" :
								"id = ANY (a value per execution)", es);
	}
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
	routine->AnalyzeForeignTable = wl_analyze_foreign_table;

	PG_RETURN_POINTER(routine);
}

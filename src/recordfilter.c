/*
 * recordfilter.c - the part of a search's filter that an index's records
 * can answer: WHERE clauses on a foreign table turned into tests of the
 * filterable attributes records carry (core/recordattrs.h), so that a
 * search drops a record that cannot match before it fetches the vector.
 *
 * A clause becomes a test when it compares a column with a constant by
 * a btree operator: =, <>, <, <=, >, >=, = ANY and <> ALL of an array, IS
 * [NOT] NULL, or a boolean column alone; AND, OR and NOT combine them.
 * Ranges are tested on numbers (smallint, integer, bigint, double,
 * numeric), dates and timestamps; equality also on booleans, uuids and
 * text or varchar of a deterministic collation (by a hash); a column with
 * a type modifier, or of another type, is not tested (wl_record_comparable).
 * Any other clause is a test that says UNKNOWN, so the record is kept and
 * the fetched item is tested by the clause itself, as every item still is.
 * whiplash_search's filter becomes record tests in filter.c, by the same
 * conversion of values (wl_slot_of_datum).
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "core/packed.h"
#include "fdw.h"
#include "whiplash.h"

/* A record filter being built: its tests so far. */
typedef struct WlRecordBuild
{
	WlRecordFilter *filter;
	int			maxtests;
	Index		varno;			/* the foreign table's, in the clauses */
	WlColumns  *columns;
	ParamListInfo params;		/* the statement's parameters, or NULL */
} WlRecordBuild;

/* The kinds of value records compare, by the type of a column or constant. */
typedef enum WlSlotType
{
	WL_TYPE_NONE,				/* none that records answer for */
	WL_TYPE_NUMBER,				/* smallint, integer, bigint, double, numeric */
	WL_TYPE_TEXT,				/* text, varchar */
	WL_TYPE_UUID,
	WL_TYPE_BOOL,
	WL_TYPE_TIME				/* date, timestamp, timestamptz */
} WlSlotType;

/*
 * The kind of value of a type (or a domain over it).  real is none: its
 * stored digits are its own shortest form, which as a double is not the
 * value PostgreSQL compares.
 */
static WlSlotType
wl_slot_type(Oid type)
{
	switch (getBaseType(type))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT8OID:
		case NUMERICOID:
			return WL_TYPE_NUMBER;
		case TEXTOID:
		case VARCHAROID:
			return WL_TYPE_TEXT;
		case UUIDOID:
			return WL_TYPE_UUID;
		case BOOLOID:
			return WL_TYPE_BOOL;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return WL_TYPE_TIME;
		default:
			return WL_TYPE_NONE;
	}
}

/*
 * Can records test a column against a constant of this type?  Both must be
 * of one kind, times of one type (a date and a timestamptz compare at the
 * session's time zone, which stored text lacks), and the column without a
 * type modifier: numeric(p,s), varchar(n) and timestamp(p) round or cut
 * what another tool stored as they read it, which the record would not.
 */
bool
wl_record_comparable(const WlMappedColumn *column, Oid type)
{
	int32		typmod = column->typmod;
	WlSlotType	kind = wl_slot_type(column->type);

	(void) getBaseTypeAndTypmod(column->type, &typmod);
	return kind != WL_TYPE_NONE && typmod < 0 && kind == wl_slot_type(type) &&
		(kind != WL_TYPE_TIME || getBaseType(type) == getBaseType(column->type));
}

/*
 * The summary of a value of type, as the record of an item holding it
 * carries it; *ordered says whether ranges may be tested on it.  False
 * when records hold no summary a test could rely on (then its tests say
 * UNKNOWN).  Numbers are summarised from their binary value where they
 * have one (the output of a double depends on extra_float_digits);
 * collation is the comparison's: text compares by hash only under a
 * deterministic one.
 */
bool
wl_slot_of_datum(Datum value, Oid type, Oid collation, WlSlotValue *slot, bool *ordered)
{
	Oid			base = getBaseType(type);
	char		digits[64];

	*ordered = false;
	switch (wl_slot_type(base))
	{
		case WL_TYPE_BOOL:
			wl_slot_bool(DatumGetBool(value), slot);
			return true;
		case WL_TYPE_TIME:
			{
				char		iso[MAXDATELEN + 1];

				/* as attributes.c stores them: ISO 8601, whatever DateStyle says */
				wl_slot_string(JsonEncodeDateTime(iso, value, base, NULL), slot);
				*ordered = slot->kind == WL_SLOT_TIME;
				return true;
			}
		case WL_TYPE_NUMBER:
			*ordered = true;
			if (base == FLOAT8OID)
			{
				snprintf(digits, sizeof(digits), "%.17g", DatumGetFloat8(value));
				return wl_slot_number(digits, slot);
			}
			if (base != NUMERICOID)
			{
				snprintf(digits, sizeof(digits), INT64_FORMAT,
						 base == INT2OID ? (int64) DatumGetInt16(value) :
						 base == INT4OID ? (int64) DatumGetInt32(value) : DatumGetInt64(value));
				return wl_slot_number(digits, slot);
			}
			return wl_slot_number(DatumGetCString(DirectFunctionCall1(numeric_out, value)), slot);
		case WL_TYPE_TEXT:
			if (!OidIsValid(collation) || !get_collation_isdeterministic(collation))
				return false;
			wl_slot_string(TextDatumGetCString(value), slot);
			return true;
		case WL_TYPE_UUID:
			wl_slot_string(DatumGetCString(DirectFunctionCall1(uuid_out, value)), slot);
			return true;
		default:
			return false;
	}
}

/* Is a type (or a domain over it) a date or a timestamp, compared as instants? */
bool
wl_is_time_type(Oid type)
{
	return wl_slot_type(type) == WL_TYPE_TIME;
}

/*
 * A new node of a filter's predicate with room for nargs arguments
 * (palloc'd; filter.c builds whiplash_search's filters with it too).
 */
WlPredicate *
wl_predicate_node(WlPredicateKind kind, int nargs)
{
	WlPredicate *node = palloc0(sizeof(WlPredicate));

	node->kind = kind;
	node->args = palloc0(sizeof(WlPredicate *) * Max(nargs, 1));
	return node;
}

/* An empty record filter. */
WlRecordFilter *
wl_record_filter_new(int ntests)
{
	WlRecordFilter *filter = palloc0(sizeof(WlRecordFilter));

	filter->tests = palloc0(sizeof(WlSlotTest) * Max(ntests, 1));
	return filter;
}

/*
 * A new test of the filter on a column's attribute (column NULL: one that
 * says UNKNOWN), and its leaf.
 */
static WlPredicate *
wl_record_leaf(WlRecordBuild *build, const WlMappedColumn *column, WlSlotOp op, bool negate,
			   int nvalues, WlSlotValue *values)
{
	WlRecordFilter *filter = build->filter;
	WlPredicate *leaf = wl_predicate_node(WL_PRED_TEST, 0);
	WlSlotTest *test;

	if (filter->ntests == build->maxtests)
	{
		build->maxtests *= 2;
		filter->tests = repalloc(filter->tests, sizeof(WlSlotTest) * build->maxtests);
	}
	leaf->test = filter->ntests++;
	test = &filter->tests[leaf->test];
	test->attribute = column != NULL ? column->name : NULL;
	test->instants = column != NULL && wl_is_time_type(column->type);
	test->op = op;
	test->negate = negate;
	test->nvalues = nvalues;
	test->values = values;
	return leaf;
}

/* The test that says UNKNOWN. */
static WlPredicate *
wl_record_unknown(WlRecordBuild *build)
{
	return wl_record_leaf(build, NULL, WL_SLOT_EQ, false, 0, NULL);
}

/* The mapped column of a plain Var of the foreign table, or NULL. */
static WlMappedColumn *
wl_record_column(WlRecordBuild *build, Expr *expr)
{
	Var		   *var;
	int			i;

	while (expr != NULL && IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	if (expr == NULL || !IsA(expr, Var))
		return NULL;
	var = (Var *) expr;
	if ((Index) var->varno != build->varno || var->varlevelsup != 0)
		return NULL;
	for (i = 0; i < build->columns->nmapped; i++)
		if (build->columns->mapped[i].attno == var->varattno)
			return &build->columns->mapped[i];
	return NULL;
}

/*
 * A Const below relabelings, or NULL; a parameter of the statement (a
 * generic plan's $1) is the Const of its value, where the build has them.
 */
static Const *
wl_record_const(WlRecordBuild *build, Expr *expr)
{
	Param	   *param;
	ParamExternData workspace;
	ParamExternData *value = NULL;
	int16		typlen;
	bool		typbyval;

	while (expr != NULL && IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	if (expr != NULL && IsA(expr, Const))
		return (Const *) expr;
	if (expr == NULL || !IsA(expr, Param) || build->params == NULL)
		return NULL;
	param = (Param *) expr;
	if (param->paramkind != PARAM_EXTERN || param->paramid < 1 ||
		param->paramid > build->params->numParams)
		return NULL;
	value = build->params->paramFetch != NULL ?
		build->params->paramFetch(build->params, param->paramid, false, &workspace) :
		&build->params->params[param->paramid - 1];
	if (value == NULL || value->ptype != param->paramtype)
		return NULL;
	get_typlenbyval(param->paramtype, &typlen, &typbyval);
	return makeConst(param->paramtype, param->paramtypmod, param->paramcollid, typlen,
					 value->isnull ? (Datum) 0 : datumCopy(value->value, typbyval, typlen),
					 value->isnull, typbyval);
}

/*
 * The btree strategy of an operator (BTLessStrategyNumber ...), or
 * WL_COMPARE_NE for <>; 0 when it has none.
 */
static int
wl_record_strategy(Oid opno)
{
	List	   *interpretations = wl_op_interpretations(opno);
	int			strategy = 0;

	if (interpretations != NIL)
		strategy = wl_interpretation_compare(linitial(interpretations));
	list_free_deep(interpretations);
	return strategy;
}

/*
 * The test of a column's value against a constant's by a btree strategy,
 * or the UNKNOWN one: of values records compare (wl_record_comparable),
 * ranges only of those that order (numbers, times).
 */
static WlPredicate *
wl_record_compare(WlRecordBuild *build, WlMappedColumn *column, Const *constant, int strategy,
				  Oid collation)
{
	WlSlotValue *value = palloc0(sizeof(WlSlotValue));
	bool		ordered;
	static const WlSlotOp ops[] = {0, WL_SLOT_LT, WL_SLOT_LE, WL_SLOT_EQ, WL_SLOT_GE,
	WL_SLOT_GT};

	if (constant->constisnull || !wl_record_comparable(column, constant->consttype) ||
		!wl_slot_of_datum(constant->constvalue, constant->consttype, collation, value, &ordered))
		return wl_record_unknown(build);
	if (strategy == WL_COMPARE_NE)
		return wl_record_leaf(build, column, WL_SLOT_EQ, true, 1, value);
	if (strategy < BTLessStrategyNumber || strategy > BTGreaterStrategyNumber ||
		(strategy != BTEqualStrategyNumber && !ordered))
		return wl_record_unknown(build);
	return wl_record_leaf(build, column, ops[strategy], false, 1, value);
}

/* The test of column op constant, or of constant op column (commuted). */
static WlPredicate *
wl_record_opexpr(WlRecordBuild *build, OpExpr *op)
{
	WlMappedColumn *column;
	Const	   *constant;
	int			strategy;

	if (list_length(op->args) != 2)
		return wl_record_unknown(build);
	strategy = wl_record_strategy(op->opno);
	column = wl_record_column(build, linitial(op->args));
	constant = wl_record_const(build, lsecond(op->args));
	if (column == NULL)
	{
		/* constant op column: the strategy seen from the column's side */
		column = wl_record_column(build, lsecond(op->args));
		constant = wl_record_const(build, linitial(op->args));
		if (strategy != BTEqualStrategyNumber && strategy != WL_COMPARE_NE && strategy != 0)
			strategy = BTMaxStrategyNumber + 1 - strategy;
	}
	if (column == NULL || constant == NULL || strategy == 0)
		return wl_record_unknown(build);
	return wl_record_compare(build, column, constant, strategy, op->inputcollid);
}

/* The test of column = ANY (array) or column <> ALL (array). */
static WlPredicate *
wl_record_in(WlRecordBuild *build, ScalarArrayOpExpr *op)
{
	WlMappedColumn *column = wl_record_column(build, linitial(op->args));
	Const	   *array = wl_record_const(build, lsecond(op->args));
	int			strategy = wl_record_strategy(op->opno);
	ArrayType  *elements;
	Oid			element;
	WlSlotValue *values;
	Datum	   *elems;
	bool	   *nulls;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			nelems;
	int			n = 0;
	int			i;

	if (column == NULL || array == NULL || array->constisnull ||
		!((op->useOr && strategy == BTEqualStrategyNumber) ||
		  (!op->useOr && strategy == WL_COMPARE_NE)))
		return wl_record_unknown(build);
	elements = DatumGetArrayTypeP(array->constvalue);
	element = ARR_ELEMTYPE(elements);
	if (!wl_record_comparable(column, element))
		return wl_record_unknown(build);
	get_typlenbyvalalign(element, &typlen, &typbyval, &typalign);
	deconstruct_array(elements, element, typlen, typbyval, typalign, &elems, &nulls, &nelems);
	values = palloc0(sizeof(WlSlotValue) * Max(nelems, 1));
	for (i = 0; i < nelems; i++)
	{
		bool		ordered;

		/*
		 * A NULL element only turns the test's answer into NULL, where
		 * without it the answer is TRUE or FALSE: a record's test may
		 * answer more than NULL does (recordattrs.h), so leave it out.
		 */
		if (nulls[i])
			continue;
		if (!wl_slot_of_datum(elems[i], element, op->inputcollid, &values[n], &ordered))
			return wl_record_unknown(build);
		n++;
	}
	return wl_record_leaf(build, column, WL_SLOT_EQ, !op->useOr, n, values);
}

/* The predicate of one clause. */
static WlPredicate *
wl_record_clause(WlRecordBuild *build, Expr *expr)
{
	WlMappedColumn *column;

	if (IsA(expr, BoolExpr))
	{
		BoolExpr   *bool_expr = (BoolExpr *) expr;
		WlPredicate *node = wl_predicate_node(bool_expr->boolop == AND_EXPR ? WL_PRED_AND :
										   bool_expr->boolop == OR_EXPR ? WL_PRED_OR :
										   WL_PRED_NOT, list_length(bool_expr->args));
		ListCell   *lc;

		foreach(lc, bool_expr->args)
			node->args[node->nargs++] = wl_record_clause(build, lfirst(lc));
		return node;
	}
	if (IsA(expr, OpExpr))
		return wl_record_opexpr(build, (OpExpr *) expr);
	if (IsA(expr, ScalarArrayOpExpr))
		return wl_record_in(build, (ScalarArrayOpExpr *) expr);
	if (IsA(expr, NullTest) && !((NullTest *) expr)->argisrow &&
		(column = wl_record_column(build, ((NullTest *) expr)->arg)) != NULL)
		return wl_record_leaf(build, column,
							  ((NullTest *) expr)->nulltesttype == IS_NULL ?
							  WL_SLOT_MISSING : WL_SLOT_EXISTS, false, 0, NULL);
	if ((column = wl_record_column(build, expr)) != NULL && wl_record_comparable(column, BOOLOID))
	{
		WlSlotValue *value = palloc0(sizeof(WlSlotValue));

		wl_slot_bool(true, value);
		return wl_record_leaf(build, column, WL_SLOT_EQ, false, 1, value);
	}
	return wl_record_unknown(build);
}

/*
 * The record filter of a search's WHERE clauses (an implicit AND) on the
 * foreign table rel, whose Vars have varno, with the values of the
 * statement's parameters where params is not NULL; NULL when no clause
 * tests a column, so that no record could be dropped.
 */
WlRecordFilter *
wl_record_filter_from_quals(Relation rel, Index varno, List *quals, ParamListInfo params)
{
	WlRecordBuild build;
	WlPredicate *node = wl_predicate_node(WL_PRED_AND, list_length(quals));
	ListCell   *lc;
	int			i;

	build.filter = wl_record_filter_new(4);
	build.maxtests = 4;
	build.varno = varno;
	build.columns = wl_columns(rel, false);
	build.params = params;
	foreach(lc, quals)
		node->args[node->nargs++] = wl_record_clause(&build, lfirst(lc));
	build.filter->predicate = node;
	for (i = 0; i < build.filter->ntests; i++)
		if (build.filter->tests[i].attribute != NULL)
			return build.filter;
	return NULL;
}

/*
 * The attributes a record filter tests that the collection's current index
 * carries, as EXPLAIN lists them ("label, tag"), or NULL when none.
 */
char *
wl_record_filter_attributes(const WlRecordFilter *filter, const WlMeta *meta)
{
	const char *names[WL_RECORD_ATTRS_MAX];
	int			n = wl_packed_record_attrs(meta, names);
	int		   *slots;
	StringInfoData buf;
	bool		shown[WL_RECORD_ATTRS_MAX] = {false};
	int			i;

	if (filter == NULL || n == 0)
		return NULL;
	slots = palloc(sizeof(int) * Max(filter->ntests, 1));
	if (wl_record_filter_resolve(filter, names, n, slots) == 0)
		return NULL;
	initStringInfo(&buf);
	for (i = 0; i < filter->ntests; i++)
	{
		if (slots[i] < 0 || shown[slots[i]])
			continue;
		shown[slots[i]] = true;
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", names[slots[i]]);
	}
	return buf.data;
}

/*
 * The share of records that a filter keeps, by the statistics of the
 * collection's current index (attrstats.h): 0 only when they prove that no
 * vector passes; -1 when the index has none.  *whole says whether the
 * records answer every test of the filter, so that the share is the
 * filter's own.
 */
double
wl_record_filter_kept(const WlRecordFilter *filter, const WlCollection *collection,
					  bool *whole)
{
	const WlAttrStats *stats = wl_packed_current_stats(collection->meta, collection->index);
	const char *names[WL_RECORD_ATTRS_MAX];
	int			n = wl_packed_record_attrs(collection->meta, names);
	int		   *slots;

	*whole = false;
	if (stats == NULL || filter == NULL || n == 0)
		return -1;
	slots = palloc(sizeof(int) * Max(filter->ntests, 1));
	*whole = wl_record_filter_resolve(filter, names, n, slots) == filter->ntests;
	if (wl_packed_none_kept(collection->meta, collection->index, filter, slots))
		return 0;
	/* a share the statistics did not see is not nothing */
	return Max(wl_stats_kept(stats, filter, slots),
			   1.0 / Max((double) collection->meta->vector_count, 1e6));
}

/*
 * The selectivity of the restrictions of a search of baserel that the
 * records of the collection's current index answer whole (every test of
 * the clause on an attribute they carry): the share of records a search
 * keeps, for its price (wl_search_plan_filtered); 1 when they answer none.
 * The index's statistics give it, or else PostgreSQL's of the foreign
 * table; 0 only when the statistics prove that no vector passes.  *whole
 * says whether the records answer every restriction, by the statistics.
 */
double
wl_record_selectivity(PlannerInfo *root, RelOptInfo *baserel, const WlCollection *collection,
					  bool *whole)
{
	const char *names[WL_RECORD_ATTRS_MAX];
	int			n = wl_packed_record_attrs(collection->meta, names);
	List	   *answered = NIL;
	List	   *clauses = NIL;
	Relation	rel;
	ListCell   *lc;
	double		kept = -1;
	bool		all_tested = false;

	*whole = false;
	if (n == 0 || baserel->baserestrictinfo == NIL)
		return 1.0;
	rel = table_open(planner_rt_fetch(baserel->relid, root)->relid, NoLock);
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst(lc);
		WlRecordFilter *filter = wl_record_filter_from_quals(rel, baserel->relid,
															 list_make1(rinfo->clause), NULL);
		int		   *slots;

		if (filter == NULL)
			continue;
		slots = palloc(sizeof(int) * filter->ntests);
		if (wl_record_filter_resolve(filter, names, n, slots) == filter->ntests)
		{
			answered = lappend(answered, rinfo);
			clauses = lappend(clauses, rinfo->clause);
		}
	}
	if (answered != NIL)
		kept = wl_record_filter_kept(wl_record_filter_from_quals(rel, baserel->relid, clauses,
																 NULL),
									 collection, &all_tested);
	table_close(rel, NoLock);
	*whole = kept >= 0 && all_tested &&
		list_length(answered) == list_length(baserel->baserestrictinfo);
	if (answered == NIL)
		return 1.0;
	return kept >= 0 ? kept :
		Max(clauselist_selectivity(root, answered, 0, JOIN_INNER, NULL), 1e-9);
}

/*
 * The partitions of the collection's current index that a search by this
 * filter (NULL: none) reads, into *partitions: n is -1 where the index is
 * not partitioned, 0 where the filter names no value of its partition
 * attribute (at most WL_PARTITIONS_MAX), else how many it names, with
 * their share of the records by the index's statistics (1: unknown), and
 * whether those count them.
 */
void
wl_record_partitions(const WlRecordFilter *filter, const WlCollection *collection,
					 WlPartitions *partitions)
{
	const WlAttrStats *stats = wl_packed_current_stats(collection->meta, collection->index);
	const char *names[WL_RECORD_ATTRS_MAX];
	int			n = wl_packed_record_attrs(collection->meta, names);
	WlSlotValue *values = palloc(sizeof(WlSlotValue) * WL_PARTITIONS_MAX);
	int		   *slots;
	int			i;

	memset(partitions, 0, sizeof(WlPartitions));
	partitions->n = wl_packed_partitioned(collection->meta) ? 0 : -1;
	partitions->share = 1;
	if (partitions->n < 0 || filter == NULL || n == 0)
		return;
	slots = palloc(sizeof(int) * Max(filter->ntests, 1));
	wl_record_filter_resolve(filter, names, n, slots);
	partitions->n = Max(0, wl_record_filter_values(filter, slots, 0, values, WL_PARTITIONS_MAX));
	for (i = 0; i < partitions->n; i++)
		wl_slot_write(&values[i], partitions->slots[i]);
	if (partitions->n > 0 && stats != NULL)
	{
		double		sampled;
		double		rare = wl_stats_rare_share(stats, 0, &sampled);
		double		share = 0;

		partitions->counted = true;
		for (i = 0; i < partitions->n; i++)
		{
			WlPredicate leaf = {.kind = WL_PRED_TEST, .test = 0};
			WlSlotTest test = {.attribute = names[0], .op = WL_SLOT_EQ,
			.nvalues = 1, .values = &values[i]};
			WlRecordFilter named = {.predicate = &leaf, .tests = &test, .ntests = 1};
			int			first = 0;
			double		one = wl_stats_kept(stats, &named, &first);

			/*
			 * A partition that a sample of many saw once or missed is as
			 * rare as the sample suggests.  One that statistics listing
			 * every value miss was written since the index was built: its
			 * share is not known (search.c re-ranks more where it is large).
			 */
			partitions->listed += one;
			if (rare > 0 && one * sampled < 1.5)
				one = rare;
			else if (one == 0)
				partitions->counted = false;
			share += one;
		}
		/* a share the statistics did not see is not nothing */
		partitions->share = Max(Min(share, 1.0),
								1.0 / Max((double) collection->meta->vector_count, 1e6));
	}
}

/*
 * Prices a filtered search by the index it runs on (wl_search_plan_filtered):
 * the share of records that the filter keeps, and whether they answer it
 * whole, are that index's, which a plan cached across a reindex may not
 * have known; the planner's selectivity and record_selectivity stand where
 * its statistics are missing (and where records answer nothing, 1).  A
 * selectivity < 0 is unknown (whiplash_search's filter): taken as 1 where
 * the statistics or partitions price the search, and the plan left as it
 * is where neither does.
 */
void
wl_record_plan_filtered(const WlRecordFilter *records, const WlCollection *collection, int k,
						double selectivity, double record_selectivity, WlSearchPlan *plan)
{
	const char *names[WL_RECORD_ATTRS_MAX];
	WlPartitions partitions;
	bool		whole;
	bool		known = selectivity >= 0;
	double		kept = wl_record_filter_kept(records, collection, &whole);

	wl_record_partitions(records, collection, &partitions);
	/*
	 * The filter keeps its share of partitions a sample saw once or missed
	 * (not of those the statistics prove empty).
	 */
	if (kept > 0 && partitions.n > 0 && partitions.share != partitions.listed)
		kept = partitions.listed > 0 ?
			Min(kept * partitions.share / partitions.listed, partitions.share) :
			Max(kept, partitions.share);
	if (!known)
		selectivity = record_selectivity = 1;
	if (kept >= 0)
		wl_search_plan_filtered(collection, plan, k, whole ? kept : Min(selectivity, kept), kept,
								whole, &partitions);
	else if (known || partitions.n > 0)
		wl_search_plan_filtered(collection, plan, k, selectivity,
								wl_packed_record_attrs(collection->meta, names) > 0 ?
								record_selectivity : 1, false, &partitions);
}

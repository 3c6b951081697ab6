/*
 * filter.c - the filter of whiplash_search, read with the foreign table's
 * column names and tested on each candidate the search fetches.
 *
 * A filter such as '{"maker": "Fleet"}' means what WHERE maker = 'Fleet'
 * means on the same table: its keys are column names.  Each key that names
 * a mapped column becomes that column's attribute (its column_name
 * option); a key that names no column is an attribute held in the table's
 * "attributes jsonb" column, when it has one.  Anything else is an error,
 * not a filter that silently matches nothing.
 *
 * A key's value is either a value the attribute must contain (jsonb @>,
 * as whiplash has always read it) or an object of operators, the ones S3
 * Vectors and MongoDB use: $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin and
 * $exists.  $and, $or and $not combine filters.  Operators on a column of
 * a scalar type compare in that type, with its collation, as WHERE would
 * (so timestamps compare as times); on JSON values, numbers compare with
 * numbers, strings with strings in byte order, and booleans with booleans.
 * A vector without the attribute passes no test but {"$exists": false},
 * as NULL passes no WHERE: the filter is a three-valued predicate
 * (core/predicate.c).
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "core/ddbjson.h"
#include "core/predicate.h"
#include "core/store.h"
#include "fdw.h"
#include "whiplash.h"

/* What one test of a filter asks of an attribute. */
typedef enum WlFilterOp
{
	WL_FILTER_CONTAINS,			/* a plain value: the attribute contains it */
	WL_FILTER_EQ,
	WL_FILTER_NE,
	WL_FILTER_GT,
	WL_FILTER_GTE,
	WL_FILTER_LT,
	WL_FILTER_LTE,
	WL_FILTER_IN,
	WL_FILTER_NIN,
	WL_FILTER_EXISTS
} WlFilterOp;

/* The operators of a column's test, by name. */
static const struct
{
	const char *name;
	WlFilterOp	op;
}			wl_filter_ops[] = {
	{"$eq", WL_FILTER_EQ}, {"$ne", WL_FILTER_NE}, {"$gt", WL_FILTER_GT},
	{"$gte", WL_FILTER_GTE}, {"$lt", WL_FILTER_LT}, {"$lte", WL_FILTER_LTE},
	{"$in", WL_FILTER_IN}, {"$nin", WL_FILTER_NIN}, {"$exists", WL_FILTER_EXISTS},
};

#define WL_FILTER_OPS_HINT "A column's operators are $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin and $exists, as in {\"price\": {\"$lt\": 20}}; $and, $or and $not combine filters."

/* One test of a filter: a leaf of its predicate. */
typedef struct WlFilterTest
{
	WlFilterOp	op;
	const char *attribute;		/* the DynamoDB attribute tested */
	WlMappedColumn *column;		/* compare in its type; NULL: as JSON */
	FmgrInfo   *cmp;			/* the column type's btree comparison */
	Oid			collation;		/* the column's */
	Jsonb	   *contains;		/* CONTAINS: {attribute: value} */
	WlSlotValue *contains_slot; /* CONTAINS on a column: the value as
								 * records hold it, or NULL */
	bool		contains_null;	/* CONTAINS: the value is JSON null */
	bool		exists;			/* EXISTS: true or false */
	int			nvalues;		/* the operands */
	JsonbValue *json;			/* as the filter gives them */
	Datum	   *typed;			/* in the column's type, when column is set */
} WlFilterTest;

/* A filter ready to test items: its predicate over its tests. */
struct WlFilter
{
	MemoryContext item_context; /* what testing one item allocates */
	WlPredicate *predicate;
	WlFilterTest *tests;
	int			ntests;
	int			maxtests;
};

/* What compiling a filter needs: the table it reads columns from. */
typedef struct WlFilterBuild
{
	Relation	rel;
	WlColumns  *columns;
	WlFilter   *filter;
} WlFilterBuild;

/* One item's evaluation: the item, and its attributes as jsonb once read. */
typedef struct WlFilterEval
{
	const WlFilter *filter;
	struct json_object *item;
	Datum		attributes;		/* (Datum) 0 until a CONTAINS test needs it */
} WlFilterEval;

static WlPredicate *wl_filter_object(WlFilterBuild *build, JsonbContainer *object);

/*
 * The attribute a filter key stands for in the table's columns: the
 * mapped column's attribute (and *column the mapping), or the key itself
 * for an attribute of the attributes column (*column NULL).
 */
static const char *
wl_filter_attribute(Relation rel, const WlColumns *columns, const char *key,
					WlMappedColumn **column)
{
	AttrNumber	attno = wl_column_attno(rel, key);
	int			i;

	*column = NULL;
	if (attno != InvalidAttrNumber &&
		(attno == columns->id_attno || attno == columns->vector_attno ||
		 attno == columns->attributes_attno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a filter cannot test column \"%s\"", key),
				 errhint("Filter keys are the columns that hold attributes; for id, use WHERE id = ...; for the attributes column, name its keys.")));
	for (i = 0; i < columns->nmapped; i++)
	{
		if (columns->mapped[i].attno == attno)
		{
			*column = &columns->mapped[i];
			return columns->mapped[i].name;
		}
		if (strcmp(columns->mapped[i].name, key) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("filter key \"%s\" is not a column of foreign table \"%s\"",
							key, RelationGetRelationName(rel)),
					 errhint("Attribute \"%s\" is column \"%s\": filter keys are column names, as in WHERE.",
							 key, get_attname(RelationGetRelid(rel), columns->mapped[i].attno,
											  false))));
	}
	if (columns->attributes_attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("filter key \"%s\" is not a column of foreign table \"%s\"",
						key, RelationGetRelationName(rel)),
				 errhint("Filter keys are column names, as in WHERE; a table with an \"attributes jsonb\" column can also filter on the attributes it holds.")));
	return key;
}

/* A new test, and the leaf that runs it. */
static WlPredicate *
wl_filter_leaf(WlFilterBuild *build, WlFilterTest **test)
{
	WlFilter   *filter = build->filter;
	WlPredicate *leaf = wl_predicate_node(WL_PRED_TEST, 0);

	if (filter->ntests == filter->maxtests)
	{
		filter->maxtests *= 2;
		filter->tests = repalloc(filter->tests, sizeof(WlFilterTest) * filter->maxtests);
	}
	leaf->test = filter->ntests++;
	*test = &filter->tests[leaf->test];
	memset(*test, 0, sizeof(WlFilterTest));
	return leaf;
}

/* The nodes of a list, as one: itself when alone, else their AND. */
static WlPredicate *
wl_filter_all(List *nodes)
{
	WlPredicate *node;
	ListCell   *lc;

	if (list_length(nodes) == 1)
		return linitial(nodes);
	node = wl_predicate_node(WL_PRED_AND, list_length(nodes));
	foreach(lc, nodes)
		node->args[node->nargs++] = lfirst(lc);
	return node;
}

/* The text of a scalar filter value, for a column type's input function. */
static char *
wl_filter_scalar_text(const JsonbValue *value)
{
	if (value->type == jbvString)
		return pnstrdup(value->val.string.val, value->val.string.len);
	if (value->type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out,
												   NumericGetDatum(value->val.numeric)));
	return pstrdup(value->val.boolean ? "true" : "false");
}

/* Names the operator whose operand a column type's input function refused. */
static void
wl_filter_operand_context(void *arg)
{
	const char **where = arg;

	errcontext("filter operator \"%s\" of \"%s\"", where[0], where[1]);
}

/*
 * Takes the operands of one operator: a scalar, or for $in and $nin a
 * non-empty array of them, converted to the column's type when the test
 * compares in it.
 */
static void
wl_filter_operands(WlFilterTest *test, const char *name, const char *key, JsonbValue *value)
{
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken token;
	bool		list = test->op == WL_FILTER_IN || test->op == WL_FILTER_NIN;
	const char *where[2] = {name, key};
	ErrorContextCallback callback;
	int32		base_typmod;
	Oid			input_func;
	Oid			input_param;
	int			n = 0;
	int			i;

	if (list)
	{
		if (value->type != jbvBinary || !JsonContainerIsArray(value->val.binary.data) ||
			JsonContainerSize(value->val.binary.data) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("filter operator \"%s\" of \"%s\" takes a non-empty array of strings, numbers or booleans",
							name, key)));
		test->json = palloc(sizeof(JsonbValue) * JsonContainerSize(value->val.binary.data));
		it = JsonbIteratorInit(value->val.binary.data);
		while ((token = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
			if (token == WJB_ELEM)
				test->json[n++] = elem;
	}
	else
	{
		test->json = palloc(sizeof(JsonbValue));
		test->json[n++] = *value;
	}
	for (i = 0; i < n; i++)
	{
		if (test->json[i].type == jbvString || test->json[i].type == jbvNumeric ||
			test->json[i].type == jbvBool)
			continue;
		if (list)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("filter operator \"%s\" of \"%s\" takes a non-empty array of strings, numbers or booleans",
							name, key)));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("filter operator \"%s\" of \"%s\" takes a string, a number or a boolean",
						name, key),
				 test->json[i].type == jbvNull ?
				 errhint("{\"$exists\": false} keeps the vectors without the attribute.") : 0));
	}
	test->nvalues = n;
	if (test->column == NULL)
		return;
	/* as WHERE reads a literal: the base type, no typmod */
	base_typmod = test->column->typmod;
	getTypeInputInfo(getBaseTypeAndTypmod(test->column->type, &base_typmod),
					 &input_func, &input_param);
	test->typed = palloc(sizeof(Datum) * n);
	callback.callback = wl_filter_operand_context;
	callback.arg = where;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	for (i = 0; i < n; i++)
		test->typed[i] = OidInputFunctionCall(input_func,
											  wl_filter_scalar_text(&test->json[i]),
											  input_param, -1);
	error_context_stack = callback.previous;
}

/*
 * The test of one operator on a key's attribute.  A column of a scalar type
 * with a btree ordering compares in that type; one of JSON or array type,
 * and an attribute of the attributes column, compare as JSON values.
 */
static WlPredicate *
wl_filter_operator(WlFilterBuild *build, const char *key, const char *name, JsonbValue *value)
{
	WlMappedColumn *column;
	const char *attribute = wl_filter_attribute(build->rel, build->columns, key, &column);
	WlFilterTest *test;
	WlPredicate *leaf = wl_filter_leaf(build, &test);
	int			i;

	test->attribute = attribute;
	for (i = 0; i < (int) lengthof(wl_filter_ops); i++)
		if (strcmp(wl_filter_ops[i].name, name) == 0)
			break;
	if (i == (int) lengthof(wl_filter_ops))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown filter operator \"%s\" on \"%s\"", name, key),
				 errhint(WL_FILTER_OPS_HINT)));
	test->op = wl_filter_ops[i].op;
	if (test->op == WL_FILTER_EXISTS)
	{
		if (value->type != jbvBool)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("filter operator \"$exists\" of \"%s\" takes true or false", key),
					 errhint("{\"%s\": {\"$exists\": true}} keeps the vectors that have the attribute.",
							 key)));
		test->exists = value->val.boolean;
		return leaf;
	}
	if (column != NULL && column->type != JSONBOID && column->type != JSONOID &&
		!type_is_array(column->type))
	{
		TypeCacheEntry *type = lookup_type_cache(getBaseType(column->type),
												 TYPECACHE_CMP_PROC_FINFO);

		if (!OidIsValid(type->cmp_proc))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("filter operator \"%s\" cannot compare column \"%s\" of type %s",
							name, key, format_type_be(column->type)),
					 errhint("The type has no ordering; a plain value, as in {\"%s\": ...}, keeps the vectors whose attribute contains it.",
							 key)));
		test->column = column;
		test->cmp = &type->cmp_proc_finfo;
		test->collation = TupleDescAttr(RelationGetDescr(build->rel), column->attno - 1)->attcollation;
	}
	wl_filter_operands(test, name, key, value);
	return leaf;
}

/*
 * A plain value on a column of a scalar type as the records of an index
 * summarise it (recordattrs.h): jsonb containment of scalars is their
 * equality, of strings byte for byte (their hashes), of numbers and of
 * booleans.  NULL for other columns and values.
 */
static WlSlotValue *
wl_filter_contains_slot(const WlMappedColumn *column, const JsonbValue *value)
{
	WlSlotValue *slot;

	if (column == NULL ||
		!wl_record_comparable(column, value->type == jbvString ? TEXTOID :
							  value->type == jbvBool ? BOOLOID :
							  value->type == jbvNumeric ? NUMERICOID : InvalidOid))
		return NULL;
	slot = palloc0(sizeof(WlSlotValue));
	if (value->type == jbvString)
		wl_slot_string(pnstrdup(value->val.string.val, value->val.string.len), slot);
	else if (value->type == jbvBool)
		wl_slot_bool(value->val.boolean, slot);
	else if (value->type != jbvNumeric ||
			 !wl_slot_number(DatumGetCString(DirectFunctionCall1(numeric_out,
																 NumericGetDatum(value->val.numeric))),
							 slot))
		return NULL;
	return slot;
}

/* The test that a key's attribute contains a plain value. */
static WlPredicate *
wl_filter_contains(WlFilterBuild *build, const char *key, JsonbValue *value)
{
	WlMappedColumn *column;
	const char *attribute = wl_filter_attribute(build->rel, build->columns, key, &column);
	WlFilterTest *test;
	WlPredicate *leaf = wl_filter_leaf(build, &test);
	JsonbParseState *state = NULL;
	JsonbValue	name;

	test->op = WL_FILTER_CONTAINS;
	test->attribute = attribute;
	test->contains_slot = wl_filter_contains_slot(column, value);
	test->contains_null = value->type == jbvNull;
	name.type = jbvString;
	name.val.string.val = (char *) attribute;
	name.val.string.len = strlen(attribute);
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	pushJsonbValue(&state, WJB_KEY, &name);
	pushJsonbValue(&state, WJB_VALUE, value);
	test->contains = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
	return leaf;
}

/*
 * Is a key's value an object of operators?  One whose keys all begin with
 * $ is; one with no such key is a value to contain; a mix is an error.
 */
static bool
wl_filter_is_operators(const char *key, JsonbValue *value)
{
	JsonbIterator *it;
	JsonbValue	member;
	JsonbIteratorToken token;
	int			operators = 0;
	int			others = 0;

	if (value->type != jbvBinary || !JsonContainerIsObject(value->val.binary.data))
		return false;
	it = JsonbIteratorInit(value->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &member, true)) != WJB_DONE)
		if (token == WJB_KEY)
		{
			if (member.val.string.len > 0 && member.val.string.val[0] == '$')
				operators++;
			else
				others++;
		}
	if (operators > 0 && others > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("filter on \"%s\" mixes operators with other keys", key),
				 errhint("An object of operators such as {\"$gte\": 1, \"$lt\": 5} holds only operators.")));
	return operators > 0;
}

/* The tests of one key, AND-ed: its operators, or the value it contains. */
static WlPredicate *
wl_filter_key(WlFilterBuild *build, const char *key, JsonbValue *value)
{
	JsonbIterator *it;
	JsonbValue	member;
	JsonbIteratorToken token;
	List	   *nodes = NIL;
	char	   *name = NULL;

	if (!wl_filter_is_operators(key, value))
		return wl_filter_contains(build, key, value);
	it = JsonbIteratorInit(value->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &member, true)) != WJB_DONE)
	{
		if (token == WJB_KEY)
			name = pnstrdup(member.val.string.val, member.val.string.len);
		else if (token == WJB_VALUE)
			nodes = lappend(nodes, wl_filter_operator(build, key, name, &member));
	}
	return wl_filter_all(nodes);
}

/* $and or $or: an array of one or more filter objects. */
static WlPredicate *
wl_filter_junction(WlFilterBuild *build, const char *name, JsonbValue *value)
{
	WlPredicate *node;
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken token;

	if (value->type != jbvBinary || !JsonContainerIsArray(value->val.binary.data) ||
		JsonContainerSize(value->val.binary.data) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("filter operator \"%s\" takes a non-empty array of filters", name)));
	node = wl_predicate_node(strcmp(name, "$and") == 0 ? WL_PRED_AND : WL_PRED_OR,
						  JsonContainerSize(value->val.binary.data));
	it = JsonbIteratorInit(value->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		if (token != WJB_ELEM)
			continue;
		if (elem.type != jbvBinary || !JsonContainerIsObject(elem.val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("filter operator \"%s\" takes a non-empty array of filters", name),
					 errhint("Each filter is an object, as in {\"%s\": [{\"category\": \"shoes\"}, {\"price\": {\"$lt\": 20}}]}.",
							 name)));
		node->args[node->nargs++] = wl_filter_object(build, elem.val.binary.data);
	}
	return node;
}

/*
 * The predicate of a filter object: the AND of its keys' tests, a key
 * $and, $or or $not combining the filters it holds.
 */
static WlPredicate *
wl_filter_object(WlFilterBuild *build, JsonbContainer *object)
{
	JsonbIterator *it = JsonbIteratorInit(object);
	JsonbValue	member;
	JsonbIteratorToken token;
	List	   *nodes = NIL;
	char	   *key = NULL;

	check_stack_depth();
	while ((token = JsonbIteratorNext(&it, &member, true)) != WJB_DONE)
	{
		if (token == WJB_KEY)
		{
			key = pnstrdup(member.val.string.val, member.val.string.len);
			continue;
		}
		if (token != WJB_VALUE)
			continue;
		if (strcmp(key, "$and") == 0 || strcmp(key, "$or") == 0)
			nodes = lappend(nodes, wl_filter_junction(build, key, &member));
		else if (strcmp(key, "$not") == 0)
		{
			WlPredicate *node = wl_predicate_node(WL_PRED_NOT, 1);

			if (member.type != jbvBinary || !JsonContainerIsObject(member.val.binary.data))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("filter operator \"$not\" takes a filter object"),
						 errhint("As in {\"$not\": {\"category\": \"shoes\"}}.")));
			node->args[node->nargs++] = wl_filter_object(build, member.val.binary.data);
			nodes = lappend(nodes, node);
		}
		else if (key[0] == '$')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown filter operator \"%s\"", key),
					 errhint(WL_FILTER_OPS_HINT)));
		else
			nodes = lappend(nodes, wl_filter_key(build, key, &member));
	}
	if (nodes == NIL)
		return wl_predicate_node(WL_PRED_AND, 0);	/* {} keeps every vector */
	return wl_filter_all(nodes);
}

/*
 * The filter of a search of foreign table relid, its keys read as the
 * table's columns, ready for wl_filter_matches.
 */
WlFilter *
wl_filter_compile(Oid relid, Jsonb *jsonb)
{
	WlFilterBuild build;

	build.rel = table_open(relid, AccessShareLock);
	build.columns = wl_columns(build.rel, false);
	build.filter = palloc0(sizeof(WlFilter));
	build.filter->maxtests = 4;
	build.filter->tests = palloc(sizeof(WlFilterTest) * build.filter->maxtests);
	build.filter->predicate = wl_filter_object(&build, &jsonb->root);
	build.filter->item_context = AllocSetContextCreate(CurrentMemoryContext, "whiplash filter",
													   ALLOCSET_SMALL_SIZES);
	table_close(build.rel, AccessShareLock);
	return build.filter;
}

/*
 * Orders an attribute value against a JSON operand: numbers (the value's
 * number already read) with numbers, strings with strings (byte order),
 * booleans with booleans.  False when the two do not compare.
 */
static bool
wl_filter_json_order(struct json_object *av, Datum number, const JsonbValue *operand, int *order)
{
	WlAvType	type = wl_av_type(av);
	bool		flag;

	if (type == WL_AV_N && operand->type == jbvNumeric)
	{
		*order = DatumGetInt32(DirectFunctionCall2(numeric_cmp, number,
												   NumericGetDatum(operand->val.numeric)));
		return true;
	}
	if (type == WL_AV_S && operand->type == jbvString)
	{
		const char *s = wl_av_get_string(av);
		int			len = strlen(s);
		int			common = Min(len, operand->val.string.len);

		*order = memcmp(s, operand->val.string.val, common);
		if (*order == 0)
			*order = len - operand->val.string.len;
		return true;
	}
	if (type == WL_AV_BOOL && operand->type == jbvBool && wl_av_get_bool(av, &flag) == 0)
	{
		*order = (int) flag - (int) operand->val.boolean;
		return true;
	}
	return false;
}

/*
 * What one test finds on the item being evaluated: UNKNOWN for a missing
 * or NULL attribute (except to $exists), and for a range over values that
 * do not compare.
 */
static WlTruth
wl_filter_test(int number, void *arg)
{
	WlFilterEval *eval = arg;
	const WlFilterTest *test = &eval->filter->tests[number];
	struct json_object *av;
	Datum		stored = (Datum) 0;
	bool		equal = false;
	int			order = 0;
	int			i;

	av = wl_item_get(eval->item, test->attribute);
	if (test->op == WL_FILTER_CONTAINS)
	{
		/* a missing attribute, and a NULL one unless null is asked for */
		if (av == NULL || (wl_av_type(av) == WL_AV_NULL && !test->contains_null))
			return WL_UNKNOWN;
		if (eval->attributes == (Datum) 0)
			eval->attributes = wl_item_attributes_jsonb(eval->item, NULL, 0);
		return DatumGetBool(DirectFunctionCall2(jsonb_contains, eval->attributes,
												PointerGetDatum(test->contains))) ?
			WL_TRUE : WL_FALSE;
	}
	if (av == NULL || wl_av_type(av) == WL_AV_NULL)
		return test->op == WL_FILTER_EXISTS ? (test->exists ? WL_FALSE : WL_TRUE) : WL_UNKNOWN;
	if (test->op == WL_FILTER_EXISTS)
		return test->exists ? WL_TRUE : WL_FALSE;
	if (test->column != NULL &&
		!wl_mapped_read(test->column, eval->item, wl_store_item_id(eval->item), &stored))
		return WL_UNKNOWN;
	if (test->column == NULL && wl_av_type(av) == WL_AV_N)
		stored = DirectFunctionCall3(numeric_in, CStringGetDatum(wl_av_get_string(av)),
									 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	for (i = 0; i < test->nvalues; i++)
	{
		if (test->column != NULL)
			order = DatumGetInt32(FunctionCall2Coll(test->cmp, test->collation, stored,
													test->typed[i]));
		else if (!wl_filter_json_order(av, stored, &test->json[i], &order))
		{
			if (test->op != WL_FILTER_EQ && test->op != WL_FILTER_NE &&
				test->op != WL_FILTER_IN && test->op != WL_FILTER_NIN)
				return WL_UNKNOWN;
			continue;			/* values of different types are not equal */
		}
		equal |= order == 0;
	}
	switch (test->op)
	{
		case WL_FILTER_EQ:
		case WL_FILTER_IN:
			return equal ? WL_TRUE : WL_FALSE;
		case WL_FILTER_NE:
		case WL_FILTER_NIN:
			return equal ? WL_FALSE : WL_TRUE;
		case WL_FILTER_GT:
			return order > 0 ? WL_TRUE : WL_FALSE;
		case WL_FILTER_GTE:
			return order >= 0 ? WL_TRUE : WL_FALSE;
		case WL_FILTER_LT:
			return order < 0 ? WL_TRUE : WL_FALSE;
		case WL_FILTER_LTE:
			return order <= 0 ? WL_TRUE : WL_FALSE;
		default:
			return WL_UNKNOWN;
	}
}

/*
 * The record test of a plain value on a column (wl_filter_contains_slot):
 * its equality.
 */
static void
wl_filter_record_contains(const WlFilterTest *test, WlSlotTest *slot_test)
{
	if (test->contains_slot == NULL)
		return;
	slot_test->attribute = test->attribute;
	slot_test->op = WL_SLOT_EQ;
	slot_test->nvalues = 1;
	slot_test->values = test->contains_slot;
}

/*
 * The record test of one of a filter's tests: of a column whose values
 * records summarise (wl_slot_of_datum), or the test that says UNKNOWN.
 * A plain value on a column is its equality.
 */
static void
wl_filter_record_test(const WlFilterTest *test, WlSlotTest *slot_test)
{
	bool		ordered = true;
	int			i;

	memset(slot_test, 0, sizeof(WlSlotTest));
	if (test->op == WL_FILTER_EXISTS)
	{
		slot_test->attribute = test->attribute;
		slot_test->op = test->exists ? WL_SLOT_EXISTS : WL_SLOT_MISSING;
		return;
	}
	if (test->op == WL_FILTER_CONTAINS)
	{
		wl_filter_record_contains(test, slot_test);
		return;
	}
	if (test->column == NULL || test->typed == NULL || test->nvalues == 0 ||
		!wl_record_comparable(test->column, test->column->type))
		return;
	slot_test->instants = wl_is_time_type(test->column->type);
	slot_test->values = palloc0(sizeof(WlSlotValue) * test->nvalues);
	for (i = 0; i < test->nvalues; i++)
	{
		bool		value_ordered;

		if (!wl_slot_of_datum(test->typed[i], test->column->type, test->collation,
							  &slot_test->values[i], &value_ordered))
			return;
		ordered &= value_ordered;
	}
	slot_test->nvalues = test->nvalues;
	switch (test->op)
	{
		case WL_FILTER_EQ:
		case WL_FILTER_IN:
		case WL_FILTER_NE:
		case WL_FILTER_NIN:
			slot_test->op = WL_SLOT_EQ;
			slot_test->negate = test->op == WL_FILTER_NE || test->op == WL_FILTER_NIN;
			break;
		case WL_FILTER_GT:
		case WL_FILTER_GTE:
		case WL_FILTER_LT:
		case WL_FILTER_LTE:
			if (!ordered || test->nvalues != 1)
				return;
			slot_test->op = test->op == WL_FILTER_GT ? WL_SLOT_GT :
				test->op == WL_FILTER_GTE ? WL_SLOT_GE :
				test->op == WL_FILTER_LT ? WL_SLOT_LT : WL_SLOT_LE;
			break;
		default:
			return;
	}
	slot_test->attribute = test->attribute;
}

/*
 * The filter as an index's records can answer it (recordattrs.h): the
 * same predicate, over a record test for each of its tests; NULL when no
 * test could be answered from a record.
 */
WlRecordFilter *
wl_filter_records(const WlFilter *filter)
{
	WlRecordFilter *records = wl_record_filter_new(filter->ntests);
	bool		any = false;
	int			i;

	records->predicate = filter->predicate;
	records->ntests = filter->ntests;
	for (i = 0; i < filter->ntests; i++)
	{
		wl_filter_record_test(&filter->tests[i], &records->tests[i]);
		any |= records->tests[i].attribute != NULL;
	}
	return any ? records : NULL;
}

/* Names the vector whose attributes a filter could not read. */
static void
wl_filter_item_context(void *arg)
{
	const char *id = wl_store_item_id(arg);

	errcontext("filtering vector \"%s\"", id ? id : "?");
}

/*
 * Does a candidate item pass the filter (a WlSearchFilter)?  What testing
 * it allocates is freed before the next candidate's test.
 */
bool
wl_filter_matches(struct json_object *item, void *arg)
{
	WlFilterEval eval;
	ErrorContextCallback callback;
	MemoryContext caller;
	WlTruth		truth;

	eval.filter = arg;
	eval.item = item;
	eval.attributes = (Datum) 0;
	callback.callback = wl_filter_item_context;
	callback.arg = item;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	caller = MemoryContextSwitchTo(eval.filter->item_context);
	truth = wl_predicate_eval(eval.filter->predicate, wl_filter_test, &eval);
	MemoryContextSwitchTo(caller);
	MemoryContextReset(eval.filter->item_context);
	error_context_stack = callback.previous;
	return truth == WL_TRUE;
}

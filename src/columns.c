/*
 * columns.c - which columns of a whiplash foreign table hold an item's id,
 * its vector and its other attributes, and the vector column's casts.
 *
 * A column is the id or the vector by its name or its column_name option
 * ("id", "vector"); a column named attributes (jsonb) holds the attributes
 * no other column maps.  Without a column named vector, the vector is the
 * table's one real[] column or, when it has none, its one column of a
 * type of its own with casts to and from real[] (pgvector's vector and
 * halfvec) or a domain over real[].  A column named vector may be of any
 * type with such casts (float8[] too); its values pass through them.
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "nodes/makefuncs.h"
#include "parser/parse_coerce.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "core/recordattrs.h"
#include "fdw.h"
#include "whiplash.h"

/* A column's option by name, or NULL. */
static DefElem *
wl_column_option(Relation rel, Form_pg_attribute attr, const char *name)
{
	ListCell   *cell;

	foreach(cell, GetForeignColumnOptions(RelationGetRelid(rel), attr->attnum))
	{
		DefElem    *def = lfirst(cell);

		if (strcmp(def->defname, name) == 0)
			return def;
	}
	return NULL;
}

/* The DynamoDB name a column stands for: its column_name option, or its own name. */
char *
wl_column_item_name(Relation rel, Form_pg_attribute attr)
{
	DefElem    *def = wl_column_option(rel, attr, "column_name");

	return def != NULL ? defGetString(def) : pstrdup(NameStr(attr->attname));
}

/* Does a column have the boolean option `name` (filterable, partition) on? */
static bool
wl_column_flag(Relation rel, Form_pg_attribute attr, const char *name)
{
	DefElem    *def = wl_column_option(rel, attr, name);

	return def != NULL && defGetBoolean(def);
}

/*
 * Makes a table's partition column (option partition 'true') its index's
 * first attribute, by which a partitioned index keys its records (core/
 * packed_keys.c): one column, of a type whose equality records test
 * exactly.
 */
static void
wl_column_partition(Relation rel, Form_pg_attribute attr, WlBuildAttrs *attrs)
{
	char		first[WL_RECORD_ATTR_NAME_MAX + 1];

	if (attrs->partitioned)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("foreign table \"%s\" has more than one partition column",
						RelationGetRelationName(rel)),
				 errhint("An index is partitioned by one attribute.")));
	if (attr->atttypmod >= 0 ||
		(attr->atttypid != TEXTOID && attr->atttypid != VARCHAROID &&
		 attr->atttypid != UUIDOID && attr->atttypid != INT2OID &&
		 attr->atttypid != INT4OID && attr->atttypid != INT8OID && attr->atttypid != BOOLOID))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("column \"%s\" of foreign table \"%s\" cannot be a partition column",
						NameStr(attr->attname), RelationGetRelationName(rel)),
				 errhint("A partition column is of type text, uuid, an integer or boolean, without a type modifier.")));
	attrs->partitioned = true;
	memcpy(first, attrs->names[attrs->n - 1], sizeof(first));
	memmove(attrs->names[1], attrs->names[0], sizeof(attrs->names[0]) * (attrs->n - 1));
	memcpy(attrs->names[0], first, sizeof(first));
}

/*
 * The attributes of a table's filterable columns (option filterable
 * 'true'), which an index it builds carries in its records, into attrs;
 * an error for the id, vector and attributes columns (roles says which),
 * and for more than an index carries.
 */
void
wl_columns_filterable(Relation rel, const WlColumnRoles *roles, WlBuildAttrs *attrs)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;
	int			j;

	attrs->asked = true;
	attrs->partitioned = false;
	attrs->n = 0;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		char	   *name;

		if (attr->attisdropped || (!wl_column_flag(rel, attr, "filterable") &&
									!wl_column_flag(rel, attr, "partition")))
			continue;
		if (attr->attnum == roles->id_attno || attr->attnum == roles->vector_attno ||
			attr->attnum == roles->attributes_attno)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("column \"%s\" of foreign table \"%s\" cannot be filterable",
							NameStr(attr->attname), RelationGetRelationName(rel)),
					 errhint("Filterable columns are those that map one attribute; a search by id reads its item directly.")));
		name = wl_column_item_name(rel, attr);
		for (j = 0; j < attrs->n; j++)
			if (strcmp(attrs->names[j], name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("filterable columns of foreign table \"%s\" map attribute \"%s\" twice",
								RelationGetRelationName(rel), name)));
		if (attrs->n == WL_RECORD_ATTRS_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("foreign table \"%s\" has more than %d filterable columns",
							RelationGetRelationName(rel), WL_RECORD_ATTRS_MAX),
					 errhint("Every filterable column adds %d bytes to each record of the index.",
							 WL_SLOT_BYTES)));
		if (name[0] == '\0' || strlen(name) > WL_RECORD_ATTR_NAME_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("filterable column \"%s\" maps an attribute name that is empty or longer than %d bytes",
							NameStr(attr->attname), WL_RECORD_ATTR_NAME_MAX)));
		strlcpy(attrs->names[attrs->n++], name, sizeof(attrs->names[0]));
		if (wl_column_flag(rel, attr, "partition"))
			wl_column_partition(rel, attr, attrs);
	}
}

/*
 * The filterable columns' attributes of the foreign table relid, when a
 * build takes them from it (a first training its writes started, or a
 * whiplash_reindex of it); not asked when relid is invalid or gone.
 */
void
wl_relation_filterable(Oid relid, WlBuildAttrs *attrs)
{
	Relation	rel = OidIsValid(relid) ? try_relation_open(relid, AccessShareLock) : NULL;
	WlColumnRoles roles;

	memset(attrs, 0, sizeof(WlBuildAttrs));
	if (rel == NULL)
		return;
	wl_column_roles(rel, &roles, true);
	wl_columns_filterable(rel, &roles, attrs);
	relation_close(rel, AccessShareLock);
}

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

/*
 * Is there a cast from one type to another, other than through text (for
 * arrays: between their elements)?
 */
static bool
wl_has_cast(Oid from, Oid to)
{
	Oid			funcid;
	CoercionPathType path = find_coercion_pathway(to, from, COERCION_EXPLICIT, &funcid);

	if (path == COERCION_PATH_ARRAYCOERCE)
		return wl_has_cast(get_element_type(getBaseType(from)),
						   get_element_type(getBaseType(to)));
	return path != COERCION_PATH_NONE && path != COERCION_PATH_COERCEVIAIO;
}

/* Can a column of this type hold the vector: real[], or casts both ways? */
static bool
wl_type_holds_vector(Oid type)
{
	return type == FLOAT4ARRAYOID ||
		(wl_has_cast(type, FLOAT4ARRAYOID) && wl_has_cast(FLOAT4ARRAYOID, type));
}

/*
 * Is this type the vector when no column is named so: real[] or a domain
 * over it, or a type of its own (not an array, whose casts may round a
 * vector's values, as int[] does) with casts to and from real[].
 */
static bool
wl_type_is_vector_like(Oid type)
{
	Oid			base = getBaseType(type);

	return base == FLOAT4ARRAYOID ||
		(!OidIsValid(get_element_type(base)) && wl_type_holds_vector(type));
}

/*
 * The table's vector column when no column is named vector: its one
 * real[] column, or else its one column of a type like a vector
 * (wl_type_is_vector_like).  *candidates gets how many columns could be
 * it, and names their names.
 */
static AttrNumber
wl_find_vector_column(Relation rel, AttrNumber id_attno, AttrNumber bag_attno,
					  int *candidates, StringInfo names)
{
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	found = InvalidAttrNumber;

	*candidates = 0;
	for (int pass = 0; pass < 2 && *candidates == 0; pass++)
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute attr = TupleDescAttr(desc, i);

			if (attr->attisdropped || attr->attnum == id_attno || attr->attnum == bag_attno)
				continue;
			if (pass == 0 ? attr->atttypid != FLOAT4ARRAYOID : !wl_type_is_vector_like(attr->atttypid))
				continue;
			appendStringInfo(names, "%s\"%s\"", *candidates > 0 ? ", " : "",
							 NameStr(attr->attname));
			found = attr->attnum;
			(*candidates)++;
		}
	return *candidates == 1 ? found : InvalidAttrNumber;
}

/* Refuses a column of the wrong type for its role. */
static void
wl_check_column_type(Relation rel, Form_pg_attribute attr, Oid want)
{
	if (attr->atttypid != want)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of foreign table \"%s\" must be of type %s",
						NameStr(attr->attname), RelationGetRelationName(rel),
						format_type_be(want))));
}

/*
 * Finds the id, vector and attributes columns of a foreign table
 * (InvalidAttrNumber when absent) and checks their types.  A table with
 * no column that can hold the vector is refused; one with several that
 * could, none of them named vector, is refused too, unless `ambiguous_ok`
 * (the DDL check: pg_dump sets column options after CREATE FOREIGN TABLE,
 * so an ambiguity may be settled by the next statement), which warns.
 */
void
wl_column_roles(Relation rel, WlColumnRoles *roles, bool ambiguous_ok)
{
	TupleDesc	desc = RelationGetDescr(rel);
	const char *table = RelationGetRelationName(rel);
	StringInfoData names;
	int			candidates;

	memset(roles, 0, sizeof(*roles));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		char	   *name;
		AttrNumber *role = NULL;

		if (attr->attisdropped)
			continue;
		name = wl_column_item_name(rel, attr);
		if (strcmp(name, "id") == 0)
			role = &roles->id_attno;
		else if (strcmp(name, "vector") == 0)
			role = &roles->vector_attno;
		else if (strcmp(NameStr(attr->attname), "attributes") == 0)
			role = &roles->attributes_attno;
		if (role == NULL)
			continue;
		if (*role != InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("foreign table \"%s\" has two %s columns, \"%s\" and \"%s\"",
							table, name, get_attname(RelationGetRelid(rel), *role, false),
							NameStr(attr->attname)),
					 errhint("A column is the item's %s by its name or its column_name option.",
							 name)));
		*role = attr->attnum;
		if (role == &roles->id_attno)
			wl_check_column_type(rel, attr, TEXTOID);
		else if (role == &roles->attributes_attno)
			wl_check_column_type(rel, attr, JSONBOID);
		else if (!wl_type_holds_vector(attr->atttypid))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of foreign table \"%s\" cannot hold the vector",
							NameStr(attr->attname), table),
					 errdetail("Type %s has no cast to and from real[].",
							   format_type_be(attr->atttypid)),
					 errhint("Make it real[], or a type with casts to and from real[], such as pgvector's vector.")));
	}
	if (roles->vector_attno != InvalidAttrNumber)
		return;
	initStringInfo(&names);
	roles->vector_attno = wl_find_vector_column(rel, roles->id_attno, roles->attributes_attno,
												&candidates, &names);
	if (candidates == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("foreign table \"%s\" has no column for the vector", table),
				 errhint("Add a column of type real[] (or of a type with casts to and from real[], such as pgvector's vector); the vector column is the one named vector, or the one with OPTIONS (column_name 'vector'), or else the table's one real[] column.")));
	if (candidates > 1)
		ereport(ambiguous_ok ? WARNING : ERROR,
				(errcode(ERRCODE_AMBIGUOUS_COLUMN),
				 errmsg("foreign table \"%s\" has several columns that could hold the vector: %s",
						table, names.data),
				 errhint("Give the vector column OPTIONS (column_name 'vector').")));
	pfree(names.data);
}

/*
 * An expression that casts a value of type `from` (given by the
 * expression context's CASE value) to type `to`, ready to evaluate.
 */
static ExprState *
wl_cast_state(Oid from, int32 from_typmod, Oid to, int32 to_typmod)
{
	CaseTestExpr *input = makeNode(CaseTestExpr);
	Node	   *cast;

	input->typeId = from;
	input->typeMod = from_typmod;
	input->collation = InvalidOid;
	cast = coerce_to_target_type(NULL, (Node *) input, from, to, to_typmod,
								 COERCION_EXPLICIT, COERCE_EXPLICIT_CAST, -1);
	if (cast == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CANNOT_COERCE),
				 errmsg("cannot cast type %s to %s", format_type_be(from), format_type_be(to))));
	return ExecInitExpr((Expr *) cast, NULL);
}

/*
 * The casts of a vector column of another type than real[]: to real[]
 * for writes, from real[] for reads.  NULL for a real[] column.
 */
WlVectorCasts *
wl_vector_casts(Relation rel, AttrNumber vector_attno)
{
	Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel), vector_attno - 1);
	WlVectorCasts *casts;

	if (attr->atttypid == FLOAT4ARRAYOID)
		return NULL;
	casts = palloc0(sizeof(WlVectorCasts));
	casts->to_real = wl_cast_state(attr->atttypid, attr->atttypmod, FLOAT4ARRAYOID, -1);
	casts->from_real = wl_cast_state(FLOAT4ARRAYOID, -1, attr->atttypid, attr->atttypmod);
	casts->context = CreateStandaloneExprContext();
	return casts;
}

/* Evaluates one of the casts on a value, in the current memory context. */
Datum
wl_vector_cast(WlVectorCasts *casts, ExprState *cast, Datum value)
{
	bool		isnull;
	Datum		result;

	casts->context->caseValue_datum = value;
	casts->context->caseValue_isNull = false;
	result = ExecEvalExpr(cast, casts->context, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the vector column's cast gave NULL")));
	return result;
}

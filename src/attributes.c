/*
 * attributes.c - how a foreign table's columns map to a vector item.
 *
 * The id and the vector are the item's key and vector (columns.c says
 * which columns hold them).  Any other column is an attribute of the item under its own name (or its
 * column_name option), stored in DynamoDB's native types: text as S,
 * numbers as N, boolean as BOOL, json and jsonb as S / N / BOOL / NULL /
 * L / M by their shape, arrays as L, dates and timestamps as S in ISO 8601,
 * anything else as S in its text form.
 * A column `attributes jsonb` holds every attribute that no other column
 * maps, as one JSON object.  NULL columns are not stored.  The conversion
 * between DynamoDB values and JSON text is in core/attrs.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "core/attrs.h"
#include "core/ddbjson.h"
#include "core/store.h"
#include "fdw.h"
#include "whiplash.h"

/* The error context of reading one column of one vector. */
typedef struct WlReadContext
{
	const char *column;
	const char *id;
} WlReadContext;

/*
 * The column map of a relation: its id, vector and attributes columns
 * (columns.c) and the input functions of the columns that map attributes.
 * `defining`: the table's DDL check, where an ambiguous vector column
 * only warns (wl_column_roles).
 */
WlColumns *
wl_columns(Relation rel, bool defining)
{
	TupleDesc	desc = RelationGetDescr(rel);
	WlColumns  *columns = palloc0(sizeof(WlColumns));
	WlColumnRoles roles;
	int			i;

	wl_column_roles(rel, &roles, defining);
	columns->id_attno = roles.id_attno;
	columns->vector_attno = roles.vector_attno;
	columns->attributes_attno = roles.attributes_attno;
	if (roles.vector_attno != InvalidAttrNumber)
		columns->casts = wl_vector_casts(rel, roles.vector_attno);
	columns->mapped = palloc0(sizeof(WlMappedColumn) * Max(desc->natts, 1));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		WlMappedColumn *mapped;
		int			j;

		if (attr->attisdropped || attr->attnum == roles.id_attno ||
			attr->attnum == roles.vector_attno || attr->attnum == roles.attributes_attno)
			continue;
		mapped = &columns->mapped[columns->nmapped];
		mapped->attno = attr->attnum;
		mapped->name = wl_column_item_name(rel, attr);
		mapped->type = attr->atttypid;
		mapped->typmod = attr->atttypmod;
		for (j = 0; j < columns->nmapped; j++)
			if (strcmp(columns->mapped[j].name, mapped->name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("columns of foreign table \"%s\" map attribute \"%s\" twice",
								RelationGetRelationName(rel), mapped->name)));
		getTypeInputInfo(mapped->type, &mapped->input_func, &mapped->input_param);
		columns->nmapped++;
	}
	columns->names = palloc(sizeof(char *) * Max(columns->nmapped, 1));
	for (i = 0; i < columns->nmapped; i++)
		columns->names[i] = columns->mapped[i].name;
	return columns;
}

/* Does the row carry attributes beyond id and vector? */
bool
wl_columns_has_attributes(const WlColumns *columns)
{
	return columns->attributes_attno != InvalidAttrNumber || columns->nmapped > 0;
}

/* Names the column and vector being read when an input function fails. */
static void
wl_read_error_context(void *arg)
{
	WlReadContext *context = arg;

	errcontext("column \"%s\" of vector \"%s\"", context->column, context->id);
}

/* Appends s as a quoted element of an array literal. */
static void
wl_array_element(StringInfo buf, const char *s)
{
	appendStringInfoChar(buf, '"');
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *s);
	}
	appendStringInfoChar(buf, '"');
}

/*
 * The text form of a value for a scalar column: the string of S, the
 * digits of N, true / false of BOOL; NULL for other types.
 */
static const char *
wl_scalar_text(struct json_object *av)
{
	bool		flag;

	if (wl_av_get_string(av) != NULL)
		return wl_av_get_string(av);
	if (wl_av_get_bool(av, &flag) == 0)
		return flag ? "true" : "false";
	return NULL;
}

/* An array literal of an L, SS or NS value of scalars, or NULL. */
static char *
wl_array_literal(struct json_object *av)
{
	StringInfoData buf;
	bool		is_list = wl_av_type(av) == WL_AV_L;	/* checks a set's every item */
	int			n = is_list ? wl_av_list_count(av) : wl_av_set_count(av);
	int			i;

	if (n < 0)
		return NULL;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		if (!is_list)
			wl_array_element(&buf, wl_av_set_item(av, i));
		else if (wl_av_type(wl_av_list_item(av, i)) == WL_AV_NULL)
			appendStringInfoString(&buf, "NULL");
		else if (wl_scalar_text(wl_av_list_item(av, i)) != NULL)
			wl_array_element(&buf, wl_scalar_text(wl_av_list_item(av, i)));
		else
			return NULL;
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* One mapped column's value from its attribute; false for SQL NULL. */
bool
wl_mapped_read(WlMappedColumn *mapped, struct json_object *item, const char *id,
			   Datum *value)
{
	struct json_object *av = wl_item_get(item, mapped->name);
	WlReadContext context = {mapped->name, id ? id : "?"};
	ErrorContextCallback callback;
	char	   *text;
	char	   *json = NULL;

	if (av == NULL || wl_av_type(av) == WL_AV_NULL)
		return false;
	if (mapped->type == JSONBOID || mapped->type == JSONOID)
		text = json = wl_attrs_value_json(av);
	else if (type_is_array(mapped->type))
		text = wl_array_literal(av);
	else
		text = (char *) wl_scalar_text(av);
	if (text == NULL)
	{
		free(json);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("attribute \"%s\" of vector \"%s\" is a DynamoDB %s, which column of type %s cannot hold",
						mapped->name, context.id, wl_av_type_name(wl_av_type(av)),
						format_type_be(mapped->type))));
	}
	callback.callback = wl_read_error_context;
	callback.arg = &context;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	PG_TRY();
	{
		*value = OidInputFunctionCall(mapped->input_func, text, mapped->input_param,
									  mapped->typmod);
	}
	PG_CATCH();
	{
		free(json);
		PG_RE_THROW();
	}
	PG_END_TRY();
	error_context_stack = callback.previous;
	free(json);
	return true;
}

/* The jsonb of an item's attributes, less reserved and skipped names. */
Datum
wl_item_attributes_jsonb(struct json_object *item, const char *const *skip, int nskip)
{
	char	   *json = wl_attrs_item_json(item, skip, nskip);
	Datum		result;

	if (json == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a vector item's attributes are not well-formed DynamoDB values")));
	PG_TRY();
	{
		result = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
	}
	PG_CATCH();
	{
		free(json);
		PG_RE_THROW();
	}
	PG_END_TRY();
	free(json);
	return result;
}

/*
 * Fills a slot from a vector item: id, vector (dims float32s), attributes
 * and mapped columns; absent attributes read as NULL.
 */
void
wl_columns_fill_slot(WlColumns *columns, struct json_object *item, int dims,
					 const char *collection, TupleTableSlot *slot)
{
	int			natts = slot->tts_tupleDescriptor->natts;
	const char *id = wl_store_item_id(item);
	int			i;

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * natts);
	if (columns->id_attno != InvalidAttrNumber && id != NULL)
	{
		slot->tts_values[columns->id_attno - 1] = CStringGetTextDatum(id);
		slot->tts_isnull[columns->id_attno - 1] = false;
	}
	if (columns->vector_attno != InvalidAttrNumber)
	{
		float	   *vector = palloc(sizeof(float) * dims);

		if (wl_store_item_vector(item, dims, vector) == 0)
		{
			Datum		array = PointerGetDatum(wl_vector_to_array(vector, dims));

			slot->tts_values[columns->vector_attno - 1] = columns->casts == NULL ? array :
				wl_vector_cast(columns->casts, columns->casts->from_real, array);
			slot->tts_isnull[columns->vector_attno - 1] = false;
		}
		else if (!columns->vector_unused)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("vector \"%s\" of collection \"%s\" is not %d float32 values",
							id ? id : "?", collection, dims),
					 errhint("DELETE the row, or UPDATE it with a new vector.")));
	}
	if (columns->attributes_attno != InvalidAttrNumber)
	{
		slot->tts_values[columns->attributes_attno - 1] =
			wl_item_attributes_jsonb(item, columns->names, columns->nmapped);
		slot->tts_isnull[columns->attributes_attno - 1] = false;
	}
	for (i = 0; i < columns->nmapped; i++)
	{
		WlMappedColumn *mapped = &columns->mapped[i];

		slot->tts_isnull[mapped->attno - 1] =
			!wl_mapped_read(mapped, item, id, &slot->tts_values[mapped->attno - 1]);
	}
	ExecStoreVirtualTuple(slot);
}

/* Appends a DynamoDB string value. */
static void
wl_ddb_string(StringInfo buf, const char *type, const char *s, int len)
{
	appendStringInfo(buf, "{\"%s\":", type);
	escape_json(buf, len < 0 ? s : pnstrdup(s, len));
	appendStringInfoChar(buf, '}');
}

/* Appends a jsonb scalar as a DynamoDB value. */
static void
wl_ddb_jsonb_scalar(StringInfo buf, JsonbValue *value)
{
	switch (value->type)
	{
		case jbvString:
			wl_ddb_string(buf, "S", value->val.string.val, value->val.string.len);
			break;
		case jbvNumeric:
			wl_ddb_string(buf, "N", DatumGetCString(DirectFunctionCall1(numeric_out,
																		NumericGetDatum(value->val.numeric))), -1);
			break;
		case jbvBool:
			appendStringInfoString(buf, value->val.boolean ? "{\"BOOL\": true}" : "{\"BOOL\": false}");
			break;
		default:
			appendStringInfoString(buf, "{\"NULL\": true}");
			break;
	}
}

/*
 * Appends ", " before a member or element, unless buf has just opened an
 * object or array or written a member's name.
 */
static void
wl_ddb_separator(StringInfo buf)
{
	char		last = buf->len > 0 ? buf->data[buf->len - 1] : '{';

	if (last != '{' && last != '[' && last != ':')
		appendStringInfoString(buf, ", ");
}

/*
 * Appends a jsonb value as a DynamoDB value: objects become M, arrays L.
 * With top_level, the root object's members are appended bare, as the
 * attributes of an item.
 */
static void
wl_ddb_jsonb(StringInfo buf, Jsonb *jsonb, bool top_level)
{
	JsonbIterator *it = JsonbIteratorInit(&jsonb->root);
	JsonbValue	value;
	JsonbIteratorToken token;
	int			depth = 0;

	while ((token = JsonbIteratorNext(&it, &value, false)) != WJB_DONE)
	{
		switch (token)
		{
			case WJB_BEGIN_OBJECT:
				if (depth > 0)
					wl_ddb_separator(buf);
				appendStringInfoString(buf, depth == 0 && top_level ? "{" : "{\"M\": {");
				depth++;
				break;
			case WJB_END_OBJECT:
				depth--;
				appendStringInfoString(buf, depth == 0 && top_level ? "}" : "}}");
				break;
			case WJB_BEGIN_ARRAY:
				if (depth > 0)
					wl_ddb_separator(buf);
				if (!value.val.array.rawScalar)
					appendStringInfoString(buf, "{\"L\": [");
				depth++;
				break;
			case WJB_END_ARRAY:
				depth--;
				if (!JB_ROOT_IS_SCALAR(jsonb) || depth > 0)
					appendStringInfoString(buf, "]}");
				break;
			case WJB_KEY:
				wl_ddb_separator(buf);
				escape_json(buf, pnstrdup(value.val.string.val, value.val.string.len));
				appendStringInfoChar(buf, ':');
				break;
			case WJB_VALUE:
				wl_ddb_jsonb_scalar(buf, &value);
				break;
			case WJB_ELEM:
				if (!JB_ROOT_IS_SCALAR(jsonb) || depth > 1)
					wl_ddb_separator(buf);
				wl_ddb_jsonb_scalar(buf, &value);
				break;
			case WJB_DONE:
				break;
		}
	}
}

/* Appends a column value of any type as a DynamoDB value. */
static void
wl_ddb_value(StringInfo buf, Datum value, Oid type, const char *name)
{
	Oid			output_func;
	bool		is_varlena;
	char	   *digits;

	if (type == JSONBOID)
	{
		wl_ddb_jsonb(buf, DatumGetJsonbP(value), false);
		return;
	}
	if (type == JSONOID)
	{
		wl_ddb_jsonb(buf, DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
															 CStringGetDatum(TextDatumGetCString(value)))),
					 false);
		return;
	}
	if (type == BOOLOID)
	{
		appendStringInfoString(buf, DatumGetBool(value) ? "{\"BOOL\": true}" : "{\"BOOL\": false}");
		return;
	}
	if (type_is_array(type))
	{
		ArrayType  *array = DatumGetArrayTypeP(value);
		Oid			element = ARR_ELEMTYPE(array);
		int16		typlen;
		bool		typbyval;
		char		typalign;
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		int			i;

		get_typlenbyvalalign(element, &typlen, &typbyval, &typalign);
		deconstruct_array(array, element, typlen, typbyval, typalign, &elems, &nulls, &n);
		appendStringInfoString(buf, "{\"L\": [");
		for (i = 0; i < n; i++)
		{
			if (i > 0)
				appendStringInfoString(buf, ", ");
			if (nulls[i])
				appendStringInfoString(buf, "{\"NULL\": true}");
			else
				wl_ddb_value(buf, elems[i], element, name);
		}
		appendStringInfoString(buf, "]}");
		return;
	}
	if (type == DATEOID || type == TIMESTAMPOID || type == TIMESTAMPTZOID)
	{
		char		iso[MAXDATELEN + 1];

		/* ISO 8601, whatever DateStyle says, as to_json writes it */
		wl_ddb_string(buf, "S", JsonEncodeDateTime(iso, value, type, NULL), -1);
		return;
	}
	getTypeOutputInfo(type, &output_func, &is_varlena);
	digits = OidOutputFunctionCall(output_func, value);
	if (TypeCategory(type) != TYPCATEGORY_NUMERIC)
	{
		wl_ddb_string(buf, "S", digits, -1);
		return;
	}
	if (strpbrk(digits, "0123456789") == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("attribute \"%s\" cannot be %s", name, digits),
				 errdetail("DynamoDB numbers are finite.")));
	wl_ddb_string(buf, "N", digits, -1);
}

/* Does a jsonb object have this top-level key? */
static bool
wl_jsonb_has_key(Jsonb *jsonb, const char *key)
{
	return DatumGetBool(DirectFunctionCall2(jsonb_exists, JsonbPGetDatum(jsonb),
											CStringGetTextDatum(key)));
}

/*
 * The attributes of a row as DynamoDB JSON text (an object of name ->
 * value), from the attributes column and the mapped columns; NULL columns
 * are left out.
 */
char *
wl_columns_row_attributes(WlColumns *columns, TupleTableSlot *slot)
{
	StringInfoData buf;
	bool		isnull;
	Datum		value;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < columns->nmapped; i++)
	{
		WlMappedColumn *mapped = &columns->mapped[i];

		value = slot_getattr(slot, mapped->attno, &isnull);
		if (isnull)
			continue;
		wl_ddb_separator(&buf);
		escape_json(&buf, mapped->name);
		appendStringInfoChar(&buf, ':');
		wl_ddb_value(&buf, value, mapped->type, mapped->name);
	}
	if (columns->attributes_attno != InvalidAttrNumber)
	{
		Jsonb	   *attributes;

		value = slot_getattr(slot, columns->attributes_attno, &isnull);
		attributes = isnull ? NULL : DatumGetJsonbP(value);
		if (attributes != NULL && !JB_ROOT_IS_OBJECT(attributes))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("attributes must be a JSON object")));
		if (attributes != NULL && JB_ROOT_COUNT(attributes) > 0)
		{
			static const char *const reserved[] = {WL_ATTR_ID, WL_ATTR_VECTOR, WL_ATTR_KEYS};
			StringInfoData members;

			for (i = 0; i < (int) lengthof(reserved); i++)
				if (wl_jsonb_has_key(attributes, reserved[i]))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("attribute name \"%s\" is reserved by whiplash", reserved[i]),
							 errhint("The id and the vector have columns of their own.")));

			initStringInfo(&members);
			wl_ddb_jsonb(&members, attributes, true);
			/* Strip the braces: the members join the mapped columns'. */
			wl_ddb_separator(&buf);
			appendBinaryStringInfo(&buf, members.data + 1, members.len - 2);
			for (i = 0; i < columns->nmapped; i++)
				if (wl_jsonb_has_key(attributes, columns->mapped[i].name))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("attribute \"%s\" is given both in attributes and as a column",
									columns->mapped[i].name),
							 errhint("A column that maps an attribute owns it; leave it out of attributes.")));
		}
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

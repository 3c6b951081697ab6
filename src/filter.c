/*
 * filter.c - the filter of whiplash_search, read with the foreign table's
 * column names.
 *
 * A filter such as '{"maker": "Fleet"}' means what WHERE maker = 'Fleet'
 * means on the same table: its keys are column names.  A search tests it
 * on each candidate's DynamoDB attributes (jsonb @>), so each key that
 * names a mapped column becomes that column's attribute (its column_name
 * option).  A key that names no column is an attribute held in the
 * table's "attributes jsonb" column, when it has one.  Anything else is an
 * error, not a filter that silently matches nothing.
 */
#include "postgres.h"

#include "access/table.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "fdw.h"
#include "whiplash.h"

/*
 * The attribute a filter key stands for in the table's columns: the
 * mapped column's attribute, or the key itself for an attribute of the
 * attributes column.
 */
static const char *
wl_filter_attribute(Relation rel, const WlColumns *columns, const char *key)
{
	AttrNumber	attno = wl_column_attno(rel, key);
	int			i;

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
			return columns->mapped[i].name;
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

/*
 * The filter of a search of foreign table relid with its keys turned into
 * DynamoDB attribute names; nested values are copied as they are.
 */
Jsonb *
wl_filter_for_table(Oid relid, Jsonb *filter)
{
	Relation	rel = table_open(relid, AccessShareLock);
	WlColumns  *columns = wl_columns(rel, false);
	JsonbParseState *state = NULL;
	JsonbIterator *it = JsonbIteratorInit(&filter->root);
	JsonbValue	value;
	JsonbValue *result = NULL;
	JsonbIteratorToken token;
	int			depth = 0;

	while ((token = JsonbIteratorNext(&it, &value, false)) != WJB_DONE)
	{
		if (token == WJB_KEY && depth == 1)
		{
			char	   *key = pnstrdup(value.val.string.val, value.val.string.len);
			const char *attribute = wl_filter_attribute(rel, columns, key);

			value.val.string.val = (char *) attribute;
			value.val.string.len = strlen(attribute);
		}
		if (token == WJB_BEGIN_OBJECT || token == WJB_BEGIN_ARRAY)
			depth++;
		else if (token == WJB_END_OBJECT || token == WJB_END_ARRAY)
			depth--;
		result = pushJsonbValue(&state, token,
								token == WJB_KEY || token == WJB_VALUE || token == WJB_ELEM ?
								&value : NULL);
	}
	table_close(rel, AccessShareLock);
	return JsonbValueToJsonb(result);
}

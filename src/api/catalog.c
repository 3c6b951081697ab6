/*
 * catalog.c - from a URL's project and collection to the foreign server
 * and foreign table that serve them.
 *
 * A project is the whiplash foreign server whose project option (default
 * "whiplash") has that name; a collection the foreign table of that server
 * whose collection option has that name.  Both are looked up in one query
 * per request, as the key's role: PostgreSQL's catalogs are the only
 * configuration.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/*
 * The server of project $1 and the foreign table of collection $2 (NULL:
 * none asked): its vector column (named vector, or of type real[], or of a
 * type cast to real[]), its other columns, and whether it has an
 * attributes column of json or jsonb.  Where several tables map the
 * collection, one the role may read wins.  Tables are named with their
 * schema, as clients see them and SQL takes them.
 */
static const char *const api_target_sql =
"WITH srv AS (" API_SERVERS_SQL ")"
" SELECT srv.server, srv.stage, t.tbl, t.vec, t.cols, t.has_attributes"
"   FROM srv LEFT JOIN LATERAL ("
"     SELECT format('%I.%I', n.nspname, c.relname) AS tbl, v.vec,"
"            (SELECT coalesce(json_agg(a.attname ORDER BY a.attnum), '[]')::text"
"               FROM pg_attribute a"
"              WHERE a.attrelid = ft.ftrelid AND a.attnum > 0 AND NOT a.attisdropped"
"                AND a.attname NOT IN ('id', 'attributes') AND a.attname IS DISTINCT FROM v.vec) AS cols,"
"            EXISTS (SELECT 1 FROM pg_attribute a"
"                     WHERE a.attrelid = ft.ftrelid AND a.attname = 'attributes' AND NOT a.attisdropped"
"                       AND a.atttypid IN ('jsonb'::regtype, 'json'::regtype)) AS has_attributes"
"       FROM pg_foreign_table ft"
"       JOIN pg_class c ON c.oid = ft.ftrelid"
"       JOIN pg_namespace n ON n.oid = c.relnamespace"
"       LEFT JOIN LATERAL ("
"         SELECT a.attname::text AS vec FROM pg_attribute a"
"          WHERE a.attrelid = ft.ftrelid AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'id'"
"            AND (a.attname = 'vector' OR a.atttypid = 'real[]'::regtype"
"                 OR EXISTS (SELECT 1 FROM pg_cast c"
"                             WHERE c.castsource = a.atttypid AND c.casttarget = 'real[]'::regtype))"
"          ORDER BY a.attname = 'vector' DESC, a.atttypid = 'real[]'::regtype DESC, a.attnum"
"          LIMIT 1) v ON true"
"      WHERE ft.ftserver = srv.oid AND ('collection=' || $2) = ANY (ft.ftoptions)"
"      ORDER BY has_table_privilege(ft.ftrelid, 'SELECT') DESC, ft.ftrelid"
"      LIMIT 1) t ON $2 IS NOT NULL"
"  WHERE srv.project = $1"
"  ORDER BY srv.server";

/*
 * "jsonb_build_object('a', t."a", ...) || ..." of the attribute columns,
 * 50 columns a call (a function takes at most 100 arguments), or NULL
 * when there are none or memory ran out.
 */
static char *
api_attribute_columns_sql(PGconn *pg, json_object *columns)
{
	size_t		n = json_object_array_length(columns);
	char	   *sql = NULL;
	size_t		len = 0;
	FILE	   *out;

	if (n == 0 || (out = open_memstream(&sql, &len)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
	{
		const char *name = json_object_get_string(json_object_array_get_idx(columns, i));
		char	   *literal = PQescapeLiteral(pg, name, strlen(name));
		char	   *ident = PQescapeIdentifier(pg, name, strlen(name));

		fprintf(out, "%s%s, t.%s%s",
				i == 0 ? "jsonb_build_object(" : i % 50 == 0 ? ") || jsonb_build_object(" : ", ",
				literal ? literal : "NULL", ident ? ident : "NULL",
				i == n - 1 ? ")" : "");
		PQfreemem(literal);
		PQfreemem(ident);
	}
	if (fclose(out) != 0)
	{
		free(sql);
		return NULL;
	}
	return sql;
}

/*
 * Fills target from the request's project (segment 1) and, when there is
 * one, collection (segment 3).  Answers 404 and returns false when the
 * project has no server, or when need_table and no foreign table maps the
 * collection.
 */
bool
api_find_target(ApiRequest *req, ApiResponse *res, bool need_table, ApiTarget *target)
{
	const char *params[2] = {req->segments[1], req->nsegments > 3 ? req->segments[3] : NULL};
	PGresult   *result;

	memset(target, 0, sizeof(*target));
	result = api_query(req, res, api_target_sql, 2, params);
	if (result == NULL)
		return false;
	if (PQntuples(result) == 0)
	{
		char		message[600];

		snprintf(message, sizeof(message), "project \"%.500s\" not found", req->segments[1]);
		api_reply_error(res, 404, message, NULL,
						"A project is a whiplash foreign server named by its project option: "
						"CREATE SERVER ... FOREIGN DATA WRAPPER whiplash OPTIONS (project '...').",
						NULL);
		PQclear(result);
		return false;
	}
	if (PQntuples(result) > 1)
	{
		api_reply_error(res, 500, "the project is served by more than one foreign server", NULL,
						"Give each whiplash foreign server a project option of its own.", NULL);
		PQclear(result);
		return false;
	}
	target->server = strdup(PQgetvalue(result, 0, 0));
	target->stage = strdup(PQgetvalue(result, 0, 1));
	if (!PQgetisnull(result, 0, 2))
	{
		target->table = strdup(PQgetvalue(result, 0, 2));
		target->columns = json_tokener_parse(PQgetvalue(result, 0, 4));
		target->has_attributes = PQgetvalue(result, 0, 5)[0] == 't';
		if (!PQgetisnull(result, 0, 3))
		{
			const char *vec = PQgetvalue(result, 0, 3);
			char	   *ident = PQescapeIdentifier(req->pg, vec, strlen(vec));

			target->vector_column = strdup(ident);
			target->vector_name = strdup(vec);
			PQfreemem(ident);
		}
		target->attribute_columns = api_attribute_columns_sql(req->pg, target->columns);
	}
	PQclear(result);
	if (need_table && target->table == NULL)
	{
		char		message[1100];

		snprintf(message, sizeof(message), "collection \"%.500s\" not found in project \"%.500s\"",
				 req->segments[3], req->segments[1]);
		api_reply_error(res, 404, message, NULL,
						"The API serves a collection through the foreign table that maps it: "
						"create it with POST .../collections, or map an existing one with "
						"CREATE FOREIGN TABLE ... OPTIONS (collection '...').", NULL);
		api_target_free(target);
		return false;
	}
	if (need_table && target->vector_column == NULL)
	{
		api_reply_errorf(res, 500, "foreign table %s has no vector column", target->table);
		api_target_free(target);
		return false;
	}
	return true;
}

/* Frees what api_find_target filled in. */
void
api_target_free(ApiTarget *target)
{
	free(target->server);
	free(target->stage);
	free(target->table);
	free(target->vector_column);
	free(target->vector_name);
	free(target->attribute_columns);
	if (target->columns != NULL)
		json_object_put(target->columns);
	memset(target, 0, sizeof(*target));
}

/*
 * A SQL expression of an item as jsonb, {"id", "vector", "attributes"}, from
 * the table aliased t: attributes are the non-NULL attribute columns and
 * the keys of the attributes column; absent when there are none.
 */
char *
api_item_json_sql(const ApiTarget *target)
{
	char	   *sql = NULL;
	size_t		len = 0;
	FILE	   *out = open_memstream(&sql, &len);
	char		attrs[64];

	if (out == NULL)
		return NULL;
	fprintf(out, "jsonb_build_object('id', t.id, 'vector', to_jsonb(t.%s::real[]))",
			target->vector_column);
	if (target->attribute_columns != NULL || target->has_attributes)
	{
		/* the attributes once, in a subquery, though the CASE names them twice */
		fprintf(out, " || (SELECT CASE WHEN a.o = '{}' THEN '{}' ELSE jsonb_build_object('attributes', a.o) END"
				" FROM (SELECT ");
		if (target->attribute_columns != NULL)
			fprintf(out, "(SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}')"
					" FROM jsonb_each(%s) e WHERE e.value <> 'null')", target->attribute_columns);
		snprintf(attrs, sizeof(attrs), "%scoalesce(t.attributes::jsonb, '{}')",
				 target->attribute_columns != NULL ? " || " : "");
		fprintf(out, "%s AS o) a)", target->has_attributes ? attrs : "");
	}
	if (fclose(out) != 0)
	{
		free(sql);
		return NULL;
	}
	return sql;
}

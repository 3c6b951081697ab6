/*
 * collections.c - projects and their collections: listed, read, created
 * and dropped.
 *
 * A collection's settings come from whiplash_collections (the metadata
 * table); creating one makes its foreign table too, in the configured
 * schema, so that the API and SQL see the same collection.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/*
 * The collections of server $1 (project $2, stage $3) as a JSON array,
 * ordered by name; only collection $4 when it is not NULL.  n_planes is
 * the original's name for a v1 collection's tables.
 */
static const char *const api_collections_sql =
"SELECT coalesce(json_agg(json_build_object("
"         'name', c.collection, 'project_name', $2::text, 'stage', $3::text,"
"         'n_features', c.dimensions, 'metric', c.metric, 'format', c.format,"
"         'tables', c.tables, 'bits', c.bits,"
"         'n_planes', CASE WHEN c.format = 'v1' THEN c.tables END,"
"         'table', (SELECT format('%I.%I', n.nspname, r.relname)"
"                     FROM pg_foreign_table ft JOIN pg_foreign_server s ON s.oid = ft.ftserver"
"                     JOIN pg_class r ON r.oid = ft.ftrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
"                    WHERE s.srvname = $1 AND ('collection=' || c.collection) = ANY (ft.ftoptions)"
"                    ORDER BY has_table_privilege(ft.ftrelid, 'SELECT') DESC, ft.ftrelid LIMIT 1))"
"         ORDER BY c.collection), '[]')::text"
"  FROM whiplash_collections($1::name) c"
" WHERE $4::text IS NULL OR c.collection = $4";

/* The whiplash foreign servers the role may use: name, project and stage. */
static const char *const api_servers_sql =
"SELECT srv.server, srv.project, srv.stage FROM (" API_SERVERS_SQL ") srv"
" WHERE has_server_privilege(srv.oid, 'USAGE')"
" ORDER BY srv.project, srv.server";

/* A server's collections (or one of them) as parsed JSON; NULL on error. */
static json_object *
api_collections(ApiRequest *req, ApiResponse *res, const char *server,
				const char *project, const char *stage, const char *collection)
{
	const char *params[4] = {server, project, stage, collection};
	PGresult   *result = api_query(req, res, api_collections_sql, 4, params);
	json_object *collections;

	if (result == NULL)
		return NULL;
	collections = json_tokener_parse(api_query_value(result));
	PQclear(result);
	return collections;
}

/*
 * GET /projects: {"projects": {name: {project_name, collections}}}, of the
 * servers the key's role may use.
 */
void
api_list_projects(ApiRequest *req, ApiResponse *res)
{
	PGresult   *servers = api_query(req, res, api_servers_sql, 0, NULL);
	json_object *projects;
	json_object *answer;

	if (servers == NULL)
		return;
	projects = json_object_new_object();
	for (int i = 0; i < PQntuples(servers); i++)
	{
		const char *project = PQgetvalue(servers, i, 1);
		json_object *collections = api_collections(req, res, PQgetvalue(servers, i, 0),
												   project, PQgetvalue(servers, i, 2), NULL);
		json_object *entry;

		if (collections != NULL && json_object_object_get_ex(projects, project, NULL))
		{
			api_reply_error(res, 500, "the project is served by more than one foreign server", NULL,
							"Give each whiplash foreign server a project option of its own.", NULL);
			json_object_put(collections);
			collections = NULL;
		}
		if (collections == NULL)
		{
			json_object_put(projects);
			PQclear(servers);
			return;
		}
		entry = json_object_new_object();
		json_object_object_add(entry, "project_name", json_object_new_string(project));
		json_object_object_add(entry, "collections", collections);
		json_object_object_add(projects, project, entry);
	}
	PQclear(servers);
	answer = json_object_new_object();
	json_object_object_add(answer, "projects", projects);
	api_reply_json(res, 200, answer);
}

/*
 * The collections of the request's project (only collection, when not
 * NULL) as parsed JSON; NULL after answering an error.
 */
static json_object *
api_project_collections(ApiRequest *req, ApiResponse *res, const char *collection)
{
	ApiTarget	target;
	json_object *collections;

	if (!api_find_target(req, res, false, &target))
		return NULL;
	collections = api_collections(req, res, target.server, req->segments[1], target.stage,
								  collection);
	api_target_free(&target);
	return collections;
}

/* GET /projects/{p}: {project_name, collections}. */
void
api_get_project(ApiRequest *req, ApiResponse *res)
{
	json_object *collections = api_project_collections(req, res, NULL);
	json_object *answer;

	if (collections == NULL)
		return;
	answer = json_object_new_object();
	json_object_object_add(answer, "project_name", json_object_new_string(req->segments[1]));
	json_object_object_add(answer, "collections", collections);
	api_reply_json(res, 200, answer);
}

/* GET /projects/{p}/collections: [collection, ...]. */
void
api_list_collections(ApiRequest *req, ApiResponse *res)
{
	json_object *collections = api_project_collections(req, res, NULL);

	if (collections != NULL)
		api_reply_json(res, 200, collections);
}

/* GET /projects/{p}/collections/{c}: the collection's settings. */
void
api_get_collection(ApiRequest *req, ApiResponse *res)
{
	json_object *collections = api_project_collections(req, res, req->segments[3]);

	if (collections != NULL && json_object_array_length(collections) == 0)
		api_reply_errorf(res, 404, "collection \"%.500s\" not found in project \"%.500s\"",
						 req->segments[3], req->segments[1]);
	else if (collections != NULL)
		api_reply_json(res, 200, json_object_get(json_object_array_get_idx(collections, 0)));
	json_object_put(collections);
}

/* A field that must be absent or a number: the original's LSH settings. */
static bool
api_number_or_absent(ApiResponse *res, json_object *body, const char *field)
{
	json_object *value = json_object_object_get(body, field);

	if (value == NULL || json_object_is_type(value, json_type_int) ||
		json_object_is_type(value, json_type_double))
		return true;
	api_reply_errorf(res, 400, "'%s' must be a number", field);
	return false;
}

/* A field that must be absent or a string; *text is set to it or NULL. */
static bool
api_string_or_absent(ApiResponse *res, json_object *body, const char *field, const char **text)
{
	json_object *value = json_object_object_get(body, field);

	*text = NULL;
	if (value == NULL || json_object_is_type(value, json_type_null))
		return true;
	if (!json_object_is_type(value, json_type_string))
	{
		api_reply_errorf(res, 400, "'%s' must be a string", field);
		return false;
	}
	*text = json_object_get_string(value);
	return true;
}

/*
 * POST /projects/{p}/collections: {name or collection_name, n_features or
 * dimensions, metric, format}.  The original's n_planes, bit_start and
 * bit_scale_factor are accepted and not used: the index sizes itself.
 */
void
api_create_collection(ApiRequest *req, ApiResponse *res)
{
	json_object *body = api_parse_body(req, res);
	ApiTarget	target = {0};
	json_object *dims;
	const char *name = NULL;
	const char *other_name = NULL;
	const char *metric = NULL;
	const char *format = NULL;
	char		dims_text[24];
	char	   *schema = NULL;
	char	   *table = NULL;
	char	   *server = NULL;
	char	   *literal = NULL;
	char	   *sql = NULL;
	char	   *qualified = NULL;
	PGresult   *result = NULL;

	if (body == NULL)
		return;
	dims = json_object_object_get(body, "n_features");
	if (dims == NULL)
		dims = json_object_object_get(body, "dimensions");
	if (!api_string_or_absent(res, body, "name", &name) ||
		!api_string_or_absent(res, body, "collection_name", &other_name) ||
		!api_string_or_absent(res, body, "metric", &metric) ||
		!api_string_or_absent(res, body, "format", &format) ||
		!api_number_or_absent(res, body, "n_planes") ||
		!api_number_or_absent(res, body, "bit_start") ||
		!api_number_or_absent(res, body, "bit_scale_factor"))
		goto done;
	if (name != NULL && other_name != NULL && strcmp(name, other_name) != 0)
	{
		api_reply_errorf(res, 400, "'name' and 'collection_name' differ");
		goto done;
	}
	if (name == NULL)
		name = other_name;
	if (name == NULL || name[0] == '\0')
	{
		api_reply_errorf(res, 400, "'name' required (or 'collection_name')");
		goto done;
	}
	if (!json_object_is_type(dims, json_type_int) || json_object_get_int64(dims) < 1 ||
		json_object_get_int64(dims) > 65535)
	{
		api_reply_errorf(res, 400, "'n_features' required: the vectors' dimensions, an integer from 1 to 65535");
		goto done;
	}
	snprintf(dims_text, sizeof(dims_text), "%d", json_object_get_int(dims));
	if (!api_find_target(req, res, false, &target))
		goto done;

	/* the table first: a name taken fails before DynamoDB tables are made */
	schema = PQescapeIdentifier(req->pg, req->config->schema, strlen(req->config->schema));
	table = PQescapeIdentifier(req->pg, name, strlen(name));
	server = PQescapeIdentifier(req->pg, target.server, strlen(target.server));
	literal = PQescapeLiteral(req->pg, name, strlen(name));
	if (schema == NULL || table == NULL || server == NULL || literal == NULL ||
		asprintf(&qualified, "%s.%s", schema, table) < 0 ||
		asprintf(&sql, "CREATE FOREIGN TABLE %s (id text, vector real[], attributes jsonb)"
				 " SERVER %s OPTIONS (collection %s)", qualified, server, literal) < 0)
	{
		api_reply_errorf(res, 400, "the collection name is not valid text");
		goto done;
	}
	if ((result = api_query(req, res, sql, 0, NULL)) != NULL)
	{
		const char *params[8] = {target.server, name, dims_text, metric ? metric : "cosine",
		format, req->segments[1], target.stage, qualified};

		PQclear(result);
		result = api_query(req, res,
						   "SELECT json_build_object('name', c.collection, 'project_name', $6::text,"
						   "         'stage', $7::text, 'n_features', c.dimensions, 'metric', c.metric,"
						   "         'format', c.format, 'tables', c.tables, 'bits', c.bits,"
						   "         'n_planes', NULL, 'table', (SELECT format('%I.%I', n.nspname, r.relname)"
						   "                                       FROM pg_class r JOIN pg_namespace n"
						   "                                         ON n.oid = r.relnamespace"
						   "                                      WHERE r.oid = to_regclass($8)))::text"
						   "  FROM whiplash_create_collection($1::name, $2, $3::integer,"
						   "                                  metric => $4, format => $5) c",
						   8, params);
		if (result != NULL)
			api_reply_text(res, 201, api_query_value(result));
	}
done:
	PQclear(result);
	PQfreemem(schema);
	PQfreemem(table);
	PQfreemem(server);
	PQfreemem(literal);
	free(sql);
	free(qualified);
	api_target_free(&target);
	json_object_put(body);
}

/* DELETE /projects/{p}/collections/{c}: drops the collection and its table. */
void
api_delete_collection(ApiRequest *req, ApiResponse *res)
{
	ApiTarget	target;
	const char *params[2];
	PGresult   *result;
	char	   *sql = NULL;

	if (!api_find_target(req, res, false, &target))
		return;
	params[0] = target.server;
	params[1] = req->segments[3];
	/* the table first: PostgreSQL checks ownership, and undoes it on error */
	if (target.table != NULL && asprintf(&sql, "DROP FOREIGN TABLE %s", target.table) >= 0)
		result = api_query(req, res, sql, 0, NULL);
	else
		result = api_query(req, res, "SELECT 1", 0, NULL);
	if (result != NULL)
	{
		PQclear(result);
		result = api_query(req, res, "SELECT whiplash_drop_collection($1::name, $2)", 2, params);
	}
	if (result != NULL)
		api_reply_text(res, 200, "{\"message\":\"success\"}");
	PQclear(result);
	free(sql);
	api_target_free(&target);
}

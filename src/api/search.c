/*
 * search.c - the k nearest items of a collection, by POST (the original
 * client's) or GET (api.yaml's).
 *
 * whiplash_search finds the ids and distances; one BatchGetItem, through
 * the foreign table and in the same statement, then reads their vectors
 * and attributes, which the original API returns with every result.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api.h"

#define API_DEFAULT_LIMIT 5
#define API_MAX_LIMIT 1000

/*
 * Runs the search of query (a JSON array) for limit results, with filter
 * (a JSON object) or none, and answers [{id, vector, dist, attributes}].
 */
static void
api_search(ApiRequest *req, ApiResponse *res, json_object *query, int64_t limit,
		   json_object *filter)
{
	ApiTarget	target;
	json_object *literal;
	char		limit_text[24];
	char	   *item_sql = NULL;
	char	   *sql = NULL;
	PGresult   *hits = NULL;
	const char *params[4];

	if ((literal = api_parse_vector(res, query, "query")) == NULL)
		return;
	if (limit < 1 || limit > API_MAX_LIMIT)
	{
		api_reply_errorf(res, 400, "'limit' must be an integer from 1 to %d", API_MAX_LIMIT);
		json_object_put(literal);
		return;
	}
	if (!api_find_target(req, res, true, &target))
	{
		json_object_put(literal);
		return;
	}
	snprintf(limit_text, sizeof(limit_text), "%lld", (long long) limit);
	params[0] = target.table;
	params[1] = json_object_get_string(literal);
	params[2] = limit_text;
	params[3] = filter ? json_object_to_json_string_ext(filter, JSON_C_TO_STRING_PLAIN) : NULL;
	item_sql = api_item_json_sql(&target);
	/* the hits' items in one BatchGetItem: id = ANY of a run-time array */
	if (item_sql != NULL &&
		asprintf(&sql,
				 "WITH h AS MATERIALIZED ("
				 "  SELECT s.id, s.distance, s.n"
				 "    FROM whiplash_search($1::regclass, $2::real[], $3::integer,"
				 "                         filter => $4::jsonb) WITH ORDINALITY s(id, distance, n))"
				 " SELECT coalesce(jsonb_agg((%s) || jsonb_build_object('dist', h.distance)"
				 "                           ORDER BY h.n), '[]')::text"
				 "   FROM h JOIN (SELECT * FROM %s t0 WHERE t0.id = ANY (ARRAY(SELECT id FROM h))"
				 "                OFFSET 0) t ON t.id = h.id",
				 item_sql, target.table) >= 0 &&
		(hits = api_query(req, res, sql, 4, params)) != NULL)
		api_reply_text(res, 200, api_query_value(hits));
	PQclear(hits);
	free(sql);
	free(item_sql);
	json_object_put(literal);
	api_target_free(&target);
}

/* POST .../search: {query, limit, filter}. */
void
api_search_post(ApiRequest *req, ApiResponse *res)
{
	json_object *body = api_parse_body(req, res);
	json_object *limit;
	json_object *filter;

	if (body == NULL)
		return;
	limit = json_object_object_get(body, "limit");
	filter = json_object_object_get(body, "filter");
	if (limit != NULL && !json_object_is_type(limit, json_type_int))
		api_reply_errorf(res, 400, "'limit' must be an integer from 1 to %d", API_MAX_LIMIT);
	else if (filter != NULL && !json_object_is_type(filter, json_type_null) &&
			 !json_object_is_type(filter, json_type_object))
		api_reply_errorf(res, 400, "'filter' must be an object");
	else
		api_search(req, res, json_object_object_get(body, "query"),
				   limit ? json_object_get_int64(limit) : API_DEFAULT_LIMIT,
				   json_object_is_type(filter, json_type_object) ? filter : NULL);
	json_object_put(body);
}

/* A query argument, percent-decoded (a new string), or NULL when absent. */
static char *
api_argument(ApiRequest *req, const char *name, bool *malformed)
{
	const char *raw = MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
	char	   *value;

	if (raw == NULL)
		return NULL;
	if ((value = api_decode(raw, true)) == NULL)
		*malformed = true;
	return value;
}

/*
 * A query argument "0.1,0.2" or "[0.1,0.2]" as a JSON array, read by the
 * strict JSON parser so that only JSON's numbers pass (no hex; NaN and
 * infinity are refused as vectors); NULL if malformed.
 */
static json_object *
api_query_argument(const char *text)
{
	char	   *array_text = NULL;
	const char *problem;
	json_object *array = NULL;

	if (asprintf(&array_text, text[0] == '[' ? "%s" : "[%s]", text) >= 0)
		array = api_parse_json(array_text, strlen(array_text), &problem);
	free(array_text);
	return array;
}

/* GET .../search?query=0.1,0.2&limit=5&filter={...}. */
void
api_search_get(ApiRequest *req, ApiResponse *res)
{
	bool		malformed = false;
	char	   *query_text = api_argument(req, "query", &malformed);
	char	   *limit_text = api_argument(req, "limit", &malformed);
	char	   *filter_text = api_argument(req, "filter", &malformed);
	json_object *query = NULL;
	json_object *filter = NULL;
	long long	limit = API_DEFAULT_LIMIT;
	char	   *end = NULL;
	const char *problem;

	if (malformed)
		api_reply_errorf(res, 400, "malformed percent-encoding in the query string");
	else if (query_text == NULL || (query = api_query_argument(query_text)) == NULL)
		api_reply_errorf(res, 400, "'query' is required: numbers separated by commas, or a JSON array");
	else if (limit_text != NULL &&
			 ((limit = strtoll(limit_text, &end, 10)), end == limit_text || *end != '\0'))
		api_reply_errorf(res, 400, "'limit' must be an integer from 1 to %d", API_MAX_LIMIT);
	else if (filter_text != NULL &&
			 ((filter = api_parse_json(filter_text, strlen(filter_text), &problem)) == NULL ||
			  !json_object_is_type(filter, json_type_object)))
		api_reply_errorf(res, 400, "'filter' must be a JSON object");
	else
		api_search(req, res, query, limit, filter);
	json_object_put(query);
	json_object_put(filter);
	free(query_text);
	free(limit_text);
	free(filter_text);
}

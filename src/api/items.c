/*
 * items.c - one item, or a batch, written to, read from or deleted from a
 * collection's foreign table.
 *
 * Writes go through INSERT, which in whiplash replaces an item with the
 * same id (PutItem), from a record built with jsonb_populate_record(set):
 * an item's attributes become the table's columns of the same names, and
 * the rest its attributes jsonb column.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* Whether name is one of the table's attribute columns. */
static bool
api_is_column(const ApiTarget *target, const char *name)
{
	size_t		n = target->columns ? json_object_array_length(target->columns) : 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(target->columns, i)),
				   name) == 0)
			return true;
	return false;
}

/*
 * The table record of one item {id, vector, attributes}: a new JSON object
 * for jsonb_populate_record, or NULL after answering 400.  id_from_path,
 * when given, is the id (a body id must then equal it).
 */
static json_object *
api_item_record(ApiResponse *res, const ApiTarget *target, json_object *item,
				const char *id_from_path, const char *where)
{
	json_object *id = json_object_object_get(item, "id");
	json_object *vector = json_object_object_get(item, "vector");
	json_object *attributes = json_object_object_get(item, "attributes");
	json_object *record;
	json_object *literal;
	json_object *rest;

	if (!json_object_is_type(item, json_type_object))
	{
		api_reply_errorf(res, 400, "%s must be an object {\"id\", \"vector\"}", where);
		return NULL;
	}
	if (id_from_path == NULL &&
		(!json_object_is_type(id, json_type_string) || json_object_get_string_len(id) == 0))
	{
		api_reply_errorf(res, 400, "'id' required: %s needs a non-empty string id", where);
		return NULL;
	}
	if (id != NULL && json_object_is_type(id, json_type_string) &&
		strlen(json_object_get_string(id)) != (size_t) json_object_get_string_len(id))
	{
		api_reply_errorf(res, 400, "the 'id' of %s holds a NUL character", where);
		return NULL;
	}
	if (id_from_path != NULL && id != NULL &&
		(!json_object_is_type(id, json_type_string) ||
		 strcmp(json_object_get_string(id), id_from_path) != 0))
	{
		api_reply_errorf(res, 400, "the body's 'id' differs from the path's");
		return NULL;
	}
	if (attributes != NULL && !json_object_is_type(attributes, json_type_null) &&
		!json_object_is_type(attributes, json_type_object))
	{
		api_reply_errorf(res, 400, "'attributes' of %s must be an object", where);
		return NULL;
	}
	if ((literal = api_parse_vector(res, vector, "vector")) == NULL)
		return NULL;
	json_object_put(literal);

	record = json_object_new_object();
	json_object_object_add(record, "id",
						   json_object_new_string(id_from_path ? id_from_path :
												  json_object_get_string(id)));
	json_object_object_add(record, target->vector_name, json_object_get(vector));
	rest = json_object_new_object();
	if (attributes != NULL && json_object_is_type(attributes, json_type_object))
	{
		json_object_object_foreach(attributes, key, value)
		{
			if (api_is_column(target, key))
				json_object_object_add(record, key, json_object_get(value));
			else if (target->has_attributes)
				json_object_object_add(rest, key, json_object_get(value));
			else
			{
				api_reply_errorf(res, 400,
								 "attribute \"%s\" names no column of foreign table %s, which has no attributes column",
								 key, target->table);
				json_object_put(rest);
				json_object_put(record);
				return NULL;
			}
		}
	}
	if (target->has_attributes && json_object_object_length(rest) > 0)
		json_object_object_add(record, "attributes", rest);
	else
		json_object_put(rest);
	return record;
}

/* INSERTs records (one object, or an array) into the table; false on error. */
static bool
api_insert(ApiRequest *req, ApiResponse *res, const ApiTarget *target,
		   json_object *records, long *inserted)
{
	bool		many = json_object_is_type(records, json_type_array);
	const char *params[1] = {json_object_to_json_string_ext(records, JSON_C_TO_STRING_PLAIN)};
	char	   *sql;
	PGresult   *result;

	if (asprintf(&sql, "INSERT INTO %s SELECT * FROM %s(NULL::%s, $1::jsonb)",
				 target->table, many ? "jsonb_populate_recordset" : "jsonb_populate_record",
				 target->table) < 0)
		return false;
	result = api_query(req, res, sql, 1, params);
	free(sql);
	if (result == NULL)
		return false;
	*inserted = atol(PQcmdTuples(result));
	PQclear(result);
	return true;
}

/* Writes one item, its id from the body or the path. */
static void
api_write_item(ApiRequest *req, ApiResponse *res, const char *id_from_path)
{
	ApiTarget	target;
	json_object *body;
	json_object *record = NULL;
	long		inserted;

	if ((body = api_parse_body(req, res)) == NULL)
		return;
	if (api_find_target(req, res, true, &target) &&
		(record = api_item_record(res, &target, body, id_from_path, "the item")) != NULL &&
		api_insert(req, res, &target, record, &inserted))
		api_reply_text(res, 200, "{\"message\":\"success\"}");
	json_object_put(record);
	json_object_put(body);
	api_target_free(&target);
}

/* POST .../items: writes {id, vector, attributes}, replacing that id's. */
void
api_create_item(ApiRequest *req, ApiResponse *res)
{
	api_write_item(req, res, NULL);
}

/* PUT .../items/{id}: creates or replaces the item. */
void
api_put_item(ApiRequest *req, ApiResponse *res)
{
	api_write_item(req, res, req->segments[5]);
}

/* POST .../items/batch: writes {vectors: [...]} in one statement. */
void
api_create_items_batch(ApiRequest *req, ApiResponse *res)
{
	ApiTarget	target;
	json_object *body;
	json_object *vectors;
	json_object *records;
	long		inserted;

	if ((body = api_parse_body(req, res)) == NULL)
		return;
	vectors = json_object_object_get(body, "vectors");
	if (!json_object_is_type(vectors, json_type_array) || json_object_array_length(vectors) == 0)
	{
		api_reply_errorf(res, 400, "'vectors' required: a non-empty array of {\"id\", \"vector\"}");
		json_object_put(body);
		return;
	}
	if (!api_find_target(req, res, true, &target))
	{
		json_object_put(body);
		return;
	}
	records = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(vectors); i++)
	{
		char		where[64];
		json_object *record;

		snprintf(where, sizeof(where), "vectors[%zu]", i);
		record = api_item_record(res, &target, json_object_array_get_idx(vectors, i), NULL, where);
		if (record == NULL)
			break;
		json_object_array_add(records, record);
	}
	if (json_object_array_length(records) == json_object_array_length(vectors) &&
		api_insert(req, res, &target, records, &inserted))
	{
		json_object *answer = json_object_new_object();

		json_object_object_add(answer, "message", json_object_new_string("success"));
		json_object_object_add(answer, "inserted", json_object_new_int64(inserted));
		api_reply_json(res, 200, answer);
	}
	json_object_put(records);
	json_object_put(body);
	api_target_free(&target);
}

/* GET .../items/{id}: {id, vector, attributes}. */
void
api_get_item(ApiRequest *req, ApiResponse *res)
{
	ApiTarget	target;
	char	   *item_sql;
	char	   *sql = NULL;
	PGresult   *result = NULL;
	const char *params[1] = {req->segments[5]};

	if (!api_find_target(req, res, true, &target))
		return;
	item_sql = api_item_json_sql(&target);
	if (item_sql != NULL &&
		asprintf(&sql, "SELECT (%s)::text FROM %s t WHERE t.id = $1", item_sql, target.table) >= 0 &&
		(result = api_query(req, res, sql, 1, params)) != NULL)
	{
		if (PQntuples(result) == 0)
			api_reply_errorf(res, 404, "item \"%.500s\" not found", req->segments[5]);
		else
			api_reply_text(res, 200, api_query_value(result));
	}
	PQclear(result);
	free(sql);
	free(item_sql);
	api_target_free(&target);
}

/* DELETE .../items/{id}: 404 when there was no such item. */
void
api_delete_item(ApiRequest *req, ApiResponse *res)
{
	ApiTarget	target;
	char	   *sql = NULL;
	PGresult   *result = NULL;
	const char *params[1] = {req->segments[5]};

	if (!api_find_target(req, res, true, &target))
		return;
	if (asprintf(&sql, "DELETE FROM %s t WHERE t.id = $1", target.table) >= 0 &&
		(result = api_query(req, res, sql, 1, params)) != NULL)
	{
		if (strcmp(PQcmdTuples(result), "0") == 0)
			api_reply_errorf(res, 404, "item \"%.500s\" not found", req->segments[5]);
		else
			api_reply_text(res, 200, "{\"message\":\"success\"}");
	}
	PQclear(result);
	free(sql);
	api_target_free(&target);
}

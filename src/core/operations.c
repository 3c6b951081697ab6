/*
 * operations.c - DynamoDB requests, one builder per operation, and their
 * answers.
 *
 * Each builder names its operation once, beside the body it builds, so
 * that a call's operation and table (for errors and statistics) can never
 * disagree with what it sends.  Follow-ups are built from the finished
 * call itself: a page's request again with ExclusiveStartKey, or the
 * unprocessed work, which DynamoDB returns in the shape of RequestItems.
 */
#include "operations.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

/* Points a call at its operation, table and body (taken over). */
static void
wl_op_init(WlDdbCall *call, const char *operation, const char *table,
		   struct json_object *body)
{
	call->operation = operation;
	call->table = table;
	call->request = body;
}

/* A new body {"TableName": table}, or NULL when out of memory. */
static struct json_object *
wl_op_body(const char *table)
{
	struct json_object *body = json_object_new_object();

	if (body != NULL)
		json_object_object_add(body, "TableName", json_object_new_string(table));
	return body;
}

/* Adds "ConsistentRead": true when consistent. */
static void
wl_op_consistent(struct json_object *body, bool consistent)
{
	if (body != NULL && consistent)
		json_object_object_add(body, "ConsistentRead", json_object_new_boolean(1));
}

/* Adds an attribute or drops value when body is NULL (out of memory). */
static void
wl_op_add(struct json_object *body, const char *name, struct json_object *value)
{
	if (body == NULL)
		json_object_put(value);
	else if (value != NULL)
		json_object_object_add(body, name, value);
}

/* GetItem; see the header. */
void
wl_op_get_item(WlDdbCall *call, const char *table, struct json_object *key, bool consistent)
{
	struct json_object *body = wl_op_body(table);

	wl_op_add(body, "Key", key);
	wl_op_consistent(body, consistent);
	wl_op_init(call, "GetItem", table, body);
}

/* PutItem; see the header. */
void
wl_op_put_item(WlDdbCall *call, const char *table, struct json_object *item,
			   const char *condition)
{
	struct json_object *body = wl_op_body(table);

	wl_op_add(body, "Item", item);
	if (condition != NULL)
		wl_op_add(body, "ConditionExpression", json_object_new_string(condition));
	wl_op_init(call, "PutItem", table, body);
}

/* DeleteItem; see the header. */
void
wl_op_delete_item(WlDdbCall *call, const char *table, struct json_object *key)
{
	struct json_object *body = wl_op_body(table);

	wl_op_add(body, "Key", key);
	wl_op_init(call, "DeleteItem", table, body);
}

/* UpdateItem; see the header. */
void
wl_op_update_item(WlDdbCall *call, const char *table, struct json_object *key,
				  const char *update, const char *condition,
				  struct json_object *names, struct json_object *values)
{
	struct json_object *body = wl_op_body(table);

	wl_op_add(body, "Key", key);
	wl_op_add(body, "UpdateExpression", json_object_new_string(update));
	if (condition != NULL)
		wl_op_add(body, "ConditionExpression", json_object_new_string(condition));
	wl_op_add(body, "ExpressionAttributeNames", names);
	wl_op_add(body, "ExpressionAttributeValues", values);
	wl_op_init(call, "UpdateItem", table, body);
}

/*
 * A ProjectionExpression for a comma-separated list of attribute names,
 * each behind a placeholder (#p0, #p1, ...) so that no name can collide
 * with DynamoDB's reserved words.
 */
static void
wl_op_projection(struct json_object *spec, const char *projection)
{
	struct json_object *names = json_object_new_object();
	char		expression[256] = "";
	const char *p = projection;
	int			n = 0;

	while (*p)
	{
		size_t		len = strcspn(p, ",");
		char		name[64];
		char		placeholder[16];

		snprintf(name, sizeof(name), "%.*s", (int) len, p);
		snprintf(placeholder, sizeof(placeholder), "#p%d", n++);
		json_object_object_add(names, placeholder, json_object_new_string(name));
		if (expression[0])
			strncat(expression, ",", sizeof(expression) - strlen(expression) - 1);
		strncat(expression, placeholder, sizeof(expression) - strlen(expression) - 1);
		p += len;
		if (*p == ',')
			p++;
	}
	json_object_object_add(spec, "ProjectionExpression", json_object_new_string(expression));
	json_object_object_add(spec, "ExpressionAttributeNames", names);
}

/*
 * The request's spec of its one table: RequestItems[table], an object of
 * BatchGetItem or an array of BatchWriteItem; NULL when the body is gone.
 */
static struct json_object *
wl_op_request_items(const WlDdbCall *call)
{
	struct json_object *items;
	struct json_object *spec;

	if (call->request == NULL ||
		!json_object_object_get_ex(call->request, "RequestItems", &items) ||
		!json_object_object_get_ex(items, call->table, &spec))
		return NULL;
	return spec;
}

/* A new BatchGetItem with no keys yet. */
static void
wl_op_batch_get(WlDdbCall *call, const char *table, const char *projection, bool consistent)
{
	struct json_object *body = json_object_new_object();
	struct json_object *items = json_object_new_object();
	struct json_object *spec = json_object_new_object();

	if (body == NULL || items == NULL || spec == NULL)
	{
		json_object_put(body);
		json_object_put(items);
		json_object_put(spec);
		wl_op_init(call, "BatchGetItem", table, NULL);
		return;
	}
	json_object_object_add(spec, "Keys", json_object_new_array());
	if (projection != NULL)
		wl_op_projection(spec, projection);
	wl_op_consistent(spec, consistent);
	json_object_object_add(items, table, spec);
	json_object_object_add(body, "RequestItems", items);
	wl_op_init(call, "BatchGetItem", table, body);
}

/* A new BatchWriteItem with no requests yet. */
static void
wl_op_batch_write(WlDdbCall *call, const char *table)
{
	struct json_object *body = json_object_new_object();
	struct json_object *items = json_object_new_object();

	if (body == NULL || items == NULL)
	{
		json_object_put(body);
		json_object_put(items);
		wl_op_init(call, "BatchWriteItem", table, NULL);
		return;
	}
	json_object_object_add(items, table, json_object_new_array());
	json_object_object_add(body, "RequestItems", items);
	wl_op_init(call, "BatchWriteItem", table, body);
}

/*
 * The array a batch call's entries go to: the Keys of a BatchGetItem, the
 * requests of a BatchWriteItem; NULL when the body is gone.
 */
static struct json_object *
wl_op_batch_array(const WlDdbCall *call)
{
	struct json_object *spec = wl_op_request_items(call);
	struct json_object *keys;

	if (spec == NULL || json_object_is_type(spec, json_type_array))
		return spec;
	return json_object_object_get_ex(spec, "Keys", &keys) ? keys : NULL;
}

/* Adds entry to a batch call's array; drops it when the body is gone. */
static void
wl_op_batch_add(WlDdbCall *call, struct json_object *entry)
{
	struct json_object *array = wl_op_batch_array(call);

	if (array != NULL)
		json_object_array_add(array, entry);
	else
		json_object_put(entry);
}

/*
 * Does a batch call hold max entries?  One whose body is gone (out of
 * memory) never fills: it takes no entries and fails when sent, so the
 * calls never outnumber one per max entries.
 */
static bool
wl_op_batch_full(const WlDdbCall *call, int max)
{
	struct json_object *array = wl_op_batch_array(call);

	return array != NULL && (int) json_object_array_length(array) >= max;
}

/* Adds a key to BatchGetItem calls; see the header. */
int
wl_op_batch_get_append(WlDdbCall *calls, int ncalls, const char *table,
					   const char *projection, bool consistent, struct json_object *key)
{
	if (ncalls == 0 || wl_op_batch_full(&calls[ncalls - 1], WL_BATCH_GET_MAX))
		wl_op_batch_get(&calls[ncalls++], table, projection, consistent);
	wl_op_batch_add(&calls[ncalls - 1], key);
	return ncalls;
}

/* Adds a write request to BatchWriteItem calls; see the header. */
int
wl_op_batch_write_append(WlDdbCall *calls, int ncalls, const char *table,
						 struct json_object *request)
{
	if (ncalls == 0 || wl_op_batch_full(&calls[ncalls - 1], WL_BATCH_WRITE_MAX))
		wl_op_batch_write(&calls[ncalls++], table);
	wl_op_batch_add(&calls[ncalls - 1], request);
	return ncalls;
}

/* Wraps value as {outer: {inner: value}}. */
static struct json_object *
wl_op_wrap(const char *outer, const char *inner, struct json_object *value)
{
	struct json_object *wrapper = json_object_new_object();
	struct json_object *body = json_object_new_object();

	if (wrapper == NULL || body == NULL)
	{
		json_object_put(wrapper);
		json_object_put(body);
		json_object_put(value);
		return NULL;
	}
	json_object_object_add(body, inner, value);
	json_object_object_add(wrapper, outer, body);
	return wrapper;
}

/* {"PutRequest": {"Item": item}} */
struct json_object *
wl_op_put_request(struct json_object *item)
{
	return wl_op_wrap("PutRequest", "Item", item);
}

/* {"DeleteRequest": {"Key": key}} */
struct json_object *
wl_op_delete_request(struct json_object *key)
{
	return wl_op_wrap("DeleteRequest", "Key", key);
}

/* Query; see the header. */
void
wl_op_query(WlDdbCall *call, const char *table, const char *condition,
			const char *projection, struct json_object *names,
			struct json_object *values, bool consistent)
{
	struct json_object *body = wl_op_body(table);

	wl_op_add(body, "KeyConditionExpression", json_object_new_string(condition));
	wl_op_add(body, "ExpressionAttributeNames", names);
	wl_op_add(body, "ExpressionAttributeValues", values);
	if (projection != NULL)
		wl_op_add(body, "ProjectionExpression", json_object_new_string(projection));
	wl_op_consistent(body, consistent);
	wl_op_init(call, "Query", table, body);
}

/* Scan; see the header. */
void
wl_op_scan(WlDdbCall *call, const char *table, const char *filter,
		   struct json_object *values, int limit, bool consistent)
{
	struct json_object *body = wl_op_body(table);

	wl_op_consistent(body, consistent);
	if (limit > 0)
		wl_op_add(body, "Limit", json_object_new_int(limit));
	if (filter != NULL)
		wl_op_add(body, "FilterExpression", json_object_new_string(filter));
	wl_op_add(body, "ExpressionAttributeValues", values);
	wl_op_init(call, "Scan", table, body);
}

/* Scan of one segment of a parallel Scan; see the header. */
void
wl_op_scan_segment(WlDdbCall *call, const char *table, int segment, int segments,
				   bool consistent)
{
	struct json_object *body = wl_op_body(table);

	wl_op_consistent(body, consistent);
	wl_op_add(body, "Segment", json_object_new_int(segment));
	wl_op_add(body, "TotalSegments", json_object_new_int(segments));
	wl_op_init(call, "Scan", table, body);
}

/* DescribeTable. */
void
wl_op_describe_table(WlDdbCall *call, const char *table)
{
	wl_op_init(call, "DescribeTable", table, wl_op_body(table));
}

/* DeleteTable. */
void
wl_op_delete_table(WlDdbCall *call, const char *table)
{
	wl_op_init(call, "DeleteTable", table, wl_op_body(table));
}

/* One {"AttributeName": name, key: value} object. */
static struct json_object *
wl_op_pair(const char *name, const char *key, const char *value)
{
	struct json_object *pair = json_object_new_object();

	json_object_object_add(pair, "AttributeName", json_object_new_string(name));
	json_object_object_add(pair, key, json_object_new_string(value));
	return pair;
}

/*
 * CreateTable of an on-demand (PAY_PER_REQUEST) table keyed by strings,
 * like every table of the original library.
 */
void
wl_op_create_table(WlDdbCall *call, const char *table, const char *hash_key,
				   const char *range_key)
{
	struct json_object *body = wl_op_body(table);
	struct json_object *attributes = json_object_new_array();
	struct json_object *schema = json_object_new_array();

	json_object_array_add(attributes, wl_op_pair(hash_key, "AttributeType", "S"));
	json_object_array_add(schema, wl_op_pair(hash_key, "KeyType", "HASH"));
	if (range_key != NULL)
	{
		json_object_array_add(attributes, wl_op_pair(range_key, "AttributeType", "S"));
		json_object_array_add(schema, wl_op_pair(range_key, "KeyType", "RANGE"));
	}
	wl_op_add(body, "AttributeDefinitions", attributes);
	wl_op_add(body, "KeySchema", schema);
	wl_op_add(body, "BillingMode", json_object_new_string("PAY_PER_REQUEST"));
	wl_op_init(call, "CreateTable", table, body);
}

/* LastEvaluatedKey of a page, or NULL when it was the last. */
static struct json_object *
wl_op_last_key(const WlDdbCall *call)
{
	struct json_object *key;

	if (call->response != NULL &&
		json_object_object_get_ex(call->response, "LastEvaluatedKey", &key) &&
		json_object_is_type(key, json_type_object) && json_object_object_length(key) > 0)
		return key;
	return NULL;
}

/* The count of keys or writes in an UnprocessedKeys / UnprocessedItems object. */
static int
wl_op_unprocessed_count(struct json_object *left)
{
	struct json_object_iterator it = json_object_iter_begin(left);
	struct json_object_iterator end = json_object_iter_end(left);
	int			count = 0;

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
	{
		struct json_object *spec = json_object_iter_peek_value(&it);
		struct json_object *keys;

		if (json_object_is_type(spec, json_type_array))
			count += (int) json_object_array_length(spec);
		else if (json_object_object_get_ex(spec, "Keys", &keys) &&
				 json_object_is_type(keys, json_type_array))
			count += (int) json_object_array_length(keys);
	}
	return count;
}

/* The follow-up of a finished call; see the header. */
bool
wl_op_followup(const WlDdbCall *done, WlDdbCall *next, bool *unprocessed)
{
	struct json_object *copy = NULL;
	struct json_object *body = NULL;

	if (done->response == NULL)
		return false;
	if (strcmp(done->operation, "Query") == 0 || strcmp(done->operation, "Scan") == 0)
	{
		struct json_object *last_key = wl_op_last_key(done);

		if (last_key == NULL)
			return false;
		if (done->request != NULL && json_object_deep_copy(done->request, &body, NULL) != 0)
			body = NULL;
		if (body != NULL && json_object_deep_copy(last_key, &copy, NULL) == 0)
			json_object_object_add(body, "ExclusiveStartKey", copy);
	}
	else if (strcmp(done->operation, "BatchGetItem") == 0 ||
			 strcmp(done->operation, "BatchWriteItem") == 0)
	{
		struct json_object *left;

		if (!json_object_object_get_ex(done->response,
									   done->operation[5] == 'G' ? "UnprocessedKeys" :
									   "UnprocessedItems", &left) ||
			!json_object_is_type(left, json_type_object) ||
			wl_op_unprocessed_count(left) == 0)
			return false;
		*unprocessed = true;
		body = json_object_new_object();
		if (body != NULL && json_object_deep_copy(left, &copy, NULL) == 0)
			json_object_object_add(body, "RequestItems", copy);
	}
	else
		return false;
	wl_op_init(next, done->operation, done->table, body);
	return true;
}

/* Did the call fail with this DynamoDB error type? */
bool
wl_op_failed_with(const WlDdbCall *call, const char *type)
{
	return call->error.kind == WL_DDB_SERVICE_ERROR && strcmp(call->error.type, type) == 0;
}

/* The items of a BatchGetItem, Query or Scan response. */
int
wl_op_items(const WlDdbCall *call, struct json_object **items)
{
	struct json_object *found = NULL;
	struct json_object *responses;

	*items = NULL;
	if (call->response == NULL)
		return 0;
	if (json_object_object_get_ex(call->response, "Responses", &responses))
		json_object_object_get_ex(responses, call->table, &found);
	else
		json_object_object_get_ex(call->response, "Items", &found);
	if (found == NULL || !json_object_is_type(found, json_type_array))
		return 0;
	*items = found;
	return (int) json_object_array_length(found);
}

/* The i-th element of an items array. */
struct json_object *
wl_op_item_at(struct json_object *items, int i)
{
	return json_object_array_get_idx(items, i);
}

/* GetItem's Item, or NULL. */
struct json_object *
wl_op_get_item_result(const WlDdbCall *call)
{
	struct json_object *item;

	if (call->response != NULL && json_object_object_get_ex(call->response, "Item", &item) &&
		json_object_is_type(item, json_type_object))
		return item;
	return NULL;
}

/*
 * TableStatus from a DescribeTable ("Table") or CreateTable
 * ("TableDescription") answer.
 */
const char *
wl_op_table_status(const WlDdbCall *call)
{
	struct json_object *table;
	struct json_object *status;

	if (call->response == NULL)
		return NULL;
	if (!json_object_object_get_ex(call->response, "Table", &table) &&
		!json_object_object_get_ex(call->response, "TableDescription", &table))
		return NULL;
	if (!json_object_object_get_ex(table, "TableStatus", &status) ||
		!json_object_is_type(status, json_type_string))
		return NULL;
	return json_object_get_string(status);
}

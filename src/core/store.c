/*
 * store.c - DynamoDB requests and items of a vector collection.
 *
 * The layouts are documented in README.md ("Storage format").  Vectors are
 * float32 little-endian in a B attribute in both formats, so that v1
 * collections written by the original library read back unchanged.
 */
#include "store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ddbjson.h"

/* Writes vector as float32 little-endian, whatever the host's order. */
void
wl_store_encode_vector(const float *vector, int dims, unsigned char *out)
{
	int			i;

	for (i = 0; i < dims; i++)
	{
		uint32_t	bits;

		memcpy(&bits, &vector[i], sizeof(bits));
		out[4 * i] = bits & 0xff;
		out[4 * i + 1] = (bits >> 8) & 0xff;
		out[4 * i + 2] = (bits >> 16) & 0xff;
		out[4 * i + 3] = (bits >> 24) & 0xff;
	}
}

/* Reads float32 little-endian bytes into floats. */
void
wl_store_decode_vector(const unsigned char *bytes, int dims, float *out)
{
	int			i;

	for (i = 0; i < dims; i++)
	{
		uint32_t	bits = (uint32_t) bytes[4 * i] |
			((uint32_t) bytes[4 * i + 1] << 8) |
			((uint32_t) bytes[4 * i + 2] << 16) |
			((uint32_t) bytes[4 * i + 3] << 24);

		memcpy(&out[i], &bits, sizeof(bits));
	}
}

/* {"id": {"S": id}} */
struct json_object *
wl_store_id_key(const char *id)
{
	struct json_object *key = json_object_new_object();

	json_object_object_add(key, WL_ATTR_ID, wl_av_string(id));
	return key;
}

/*
 * A native bucket entry.  A key with fine bits ("<bucket>/<digits>") puts
 * the digits first in the sort key, "<digits>/<id>", so that a Query can
 * read the entries of a longer code prefix with begins_with.
 */
struct json_object *
wl_store_bucket_entry(const char *key, const char *id)
{
	struct json_object *entry = json_object_new_object();
	const char *slash = strchr(key, '/');

	if (slash == NULL)
	{
		json_object_object_add(entry, WL_ATTR_BUCKET, wl_av_string(key));
		json_object_object_add(entry, WL_ATTR_ID, wl_av_string(id));
	}
	else
	{
		size_t		len = strlen(slash + 1) + 1 + strlen(id) + 1;
		char	   *sort = malloc(len);
		char	   *bucket = strndup(key, slash - key);

		if (sort == NULL || bucket == NULL)
		{
			free(sort);
			free(bucket);
			json_object_put(entry);
			return NULL;
		}
		snprintf(sort, len, "%s/%s", slash + 1, id);
		json_object_object_add(entry, WL_ATTR_BUCKET, wl_av_string(bucket));
		json_object_object_add(entry, WL_ATTR_ID, wl_av_string(sort));
		free(bucket);
		free(sort);
	}
	return entry;
}

/* A vector item; see the header. */
struct json_object *
wl_store_vector_item(const char *id, const float *vector, int dims,
					 const char *const *keys, int nkeys)
{
	struct json_object *item = json_object_new_object();
	unsigned char *bytes = malloc((size_t) dims * 4);

	if (item == NULL || bytes == NULL)
	{
		json_object_put(item);
		free(bytes);
		return NULL;
	}
	wl_store_encode_vector(vector, dims, bytes);
	json_object_object_add(item, WL_ATTR_ID, wl_av_string(id));
	json_object_object_add(item, WL_ATTR_VECTOR, wl_av_binary(bytes, (size_t) dims * 4));
	free(bytes);
	if (keys != NULL && nkeys > 0)
		json_object_object_add(item, WL_ATTR_KEYS, wl_av_string_set(keys, nkeys));
	return item;
}

/* A deep copy of item with its keys attribute replaced. */
struct json_object *
wl_store_item_with_keys(struct json_object *item, const char *const *keys, int nkeys)
{
	struct json_object *copy = NULL;

	if (json_object_deep_copy(item, &copy, NULL) != 0 || copy == NULL)
		return NULL;
	json_object_object_add(copy, WL_ATTR_KEYS, wl_av_string_set(keys, nkeys));
	return copy;
}

/* Wraps value as {outer: {inner: value}}. */
static struct json_object *
wl_wrap2(const char *outer, const char *inner, struct json_object *value)
{
	struct json_object *wrapper = json_object_new_object();
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, inner, value);
	json_object_object_add(wrapper, outer, body);
	return wrapper;
}

/* {"PutRequest": {"Item": item}} */
struct json_object *
wl_store_put_request(struct json_object *item)
{
	return wl_wrap2("PutRequest", "Item", item);
}

/* {"DeleteRequest": {"Key": key}} */
struct json_object *
wl_store_delete_request(struct json_object *key)
{
	return wl_wrap2("DeleteRequest", "Key", key);
}

/* Moves objects into a new json array. */
static struct json_object *
wl_array_of(struct json_object *const *objects, int n)
{
	struct json_object *array = json_object_new_array_ext(n);
	int			i;

	for (i = 0; i < n; i++)
		json_object_array_add(array, objects[i]);
	return array;
}

/*
 * Adds a ProjectionExpression for a comma-separated list of attribute
 * names, each behind a placeholder (#p0, #p1, ...) so that no name can
 * collide with DynamoDB's reserved words.
 */
static void
wl_add_projection(struct json_object *spec, const char *projection)
{
	struct json_object *names = json_object_new_object();
	char		expression[256] = "";
	char		name[64];
	const char *p = projection;
	int			n = 0;

	while (*p)
	{
		size_t		len = strcspn(p, ",");
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

/* A BatchGetItem body for one table. */
struct json_object *
wl_store_batch_get(const char *table, struct json_object *const *keys, int nkeys,
				   const char *projection, bool consistent)
{
	struct json_object *request = json_object_new_object();
	struct json_object *items = json_object_new_object();
	struct json_object *spec = json_object_new_object();

	json_object_object_add(spec, "Keys", wl_array_of(keys, nkeys));
	if (projection != NULL)
		wl_add_projection(spec, projection);
	if (consistent)
		json_object_object_add(spec, "ConsistentRead", json_object_new_boolean(1));
	json_object_object_add(items, table, spec);
	json_object_object_add(request, "RequestItems", items);
	return request;
}

/* A BatchWriteItem body for one table. */
struct json_object *
wl_store_batch_write(const char *table, struct json_object *const *requests,
					 int nrequests)
{
	struct json_object *request = json_object_new_object();
	struct json_object *items = json_object_new_object();

	json_object_object_add(items, table, wl_array_of(requests, nrequests));
	json_object_object_add(request, "RequestItems", items);
	return request;
}

/* Adds ExclusiveStartKey (a deep copy of start_key) when given. */
static void
wl_add_start_key(struct json_object *request, struct json_object *start_key)
{
	struct json_object *copy = NULL;

	if (start_key != NULL && json_object_deep_copy(start_key, &copy, NULL) == 0)
		json_object_object_add(request, "ExclusiveStartKey", copy);
}

/*
 * A Query for the entries under a native key: a whole bucket, or for a key
 * with fine bits ("<bucket>/<digits>") the entries whose sort key begins
 * with those digits.  The sort key holds the id, so projecting it alone
 * reads the least.
 */
struct json_object *
wl_store_bucket_query(const char *table, const char *key,
					  struct json_object *start_key)
{
	struct json_object *request = json_object_new_object();
	struct json_object *values = json_object_new_object();
	struct json_object *names = json_object_new_object();
	const char *slash = strchr(key, '/');
	char	   *bucket = slash ? strndup(key, slash - key) : NULL;

	json_object_object_add(request, "TableName", json_object_new_string(table));
	json_object_object_add(request, "KeyConditionExpression",
						   json_object_new_string(slash ? "#b = :b AND begins_with(#i, :p)" :
												  "#b = :b"));
	json_object_object_add(names, "#b", json_object_new_string(WL_ATTR_BUCKET));
	json_object_object_add(names, "#i", json_object_new_string(WL_ATTR_ID));
	json_object_object_add(request, "ExpressionAttributeNames", names);
	json_object_object_add(values, ":b", wl_av_string(slash ? bucket : key));
	if (slash)
		json_object_object_add(values, ":p", wl_av_string(slash + 1));
	free(bucket);
	json_object_object_add(request, "ExpressionAttributeValues", values);
	json_object_object_add(request, "ProjectionExpression", json_object_new_string("#i"));
	wl_add_start_key(request, start_key);
	return request;
}

/*
 * A strongly consistent Scan of a whole table, one page, so that a scan
 * sees every write that came before it, as GetItem and BatchGetItem do.
 */
struct json_object *
wl_store_scan(const char *table, struct json_object *start_key, int limit)
{
	struct json_object *request = json_object_new_object();

	json_object_object_add(request, "TableName", json_object_new_string(table));
	json_object_object_add(request, "ConsistentRead", json_object_new_boolean(1));
	if (limit > 0)
		json_object_object_add(request, "Limit", json_object_new_int(limit));
	wl_add_start_key(request, start_key);
	return request;
}

/*
 * ADD or DELETE of one id in a v1 bucket's string set.  ADD creates the
 * bucket item when absent and is atomic, so concurrent inserts lose
 * nothing (the original's conditional put could).
 */
struct json_object *
wl_store_v1_bucket_update(const char *table, const char *bucket, const char *id,
						  bool add)
{
	struct json_object *request = json_object_new_object();
	struct json_object *values = json_object_new_object();
	const char *one[1];

	one[0] = id;
	json_object_object_add(request, "TableName", json_object_new_string(table));
	json_object_object_add(request, "Key", wl_store_id_key(bucket));
	json_object_object_add(request, "UpdateExpression",
						   json_object_new_string(add ? "ADD ids :i" : "DELETE ids :i"));
	json_object_object_add(values, ":i", wl_av_string_set(one, 1));
	json_object_object_add(request, "ExpressionAttributeValues", values);
	return request;
}

/* A PutItem body, with a condition expression when given. */
struct json_object *
wl_store_put_item(const char *table, struct json_object *item, const char *condition)
{
	struct json_object *request = json_object_new_object();

	json_object_object_add(request, "TableName", json_object_new_string(table));
	json_object_object_add(request, "Item", item);
	if (condition != NULL)
		json_object_object_add(request, "ConditionExpression",
							   json_object_new_string(condition));
	return request;
}

/* A DeleteItem body. */
struct json_object *
wl_store_delete_item(const char *table, struct json_object *key)
{
	struct json_object *request = json_object_new_object();

	json_object_object_add(request, "TableName", json_object_new_string(table));
	json_object_object_add(request, "Key", key);
	return request;
}

/* A strongly consistent GetItem body. */
struct json_object *
wl_store_get_item(const char *table, struct json_object *key)
{
	struct json_object *request = json_object_new_object();

	json_object_object_add(request, "TableName", json_object_new_string(table));
	json_object_object_add(request, "Key", key);
	json_object_object_add(request, "ConsistentRead", json_object_new_boolean(1));
	return request;
}

/* The items of a BatchGetItem, Query or Scan response. */
int
wl_store_items(struct json_object *response, const char *table,
			   struct json_object **items)
{
	struct json_object *found = NULL;
	struct json_object *responses;

	*items = NULL;
	if (response == NULL)
		return 0;
	if (json_object_object_get_ex(response, "Responses", &responses))
		json_object_object_get_ex(responses, table, &found);
	else
		json_object_object_get_ex(response, "Items", &found);
	if (found == NULL || !json_object_is_type(found, json_type_array))
		return 0;
	*items = found;
	return (int) json_object_array_length(found);
}

/* The i-th element of an items array. */
struct json_object *
wl_store_item_at(struct json_object *items, int i)
{
	return json_object_array_get_idx(items, i);
}

/* GetItem's Item, or NULL. */
struct json_object *
wl_store_get_item_result(struct json_object *response)
{
	struct json_object *item;

	if (response != NULL && json_object_object_get_ex(response, "Item", &item) &&
		json_object_is_type(item, json_type_object))
		return item;
	return NULL;
}

/* LastEvaluatedKey, or NULL when this was the last page. */
struct json_object *
wl_store_last_key(struct json_object *response)
{
	struct json_object *key;

	if (response != NULL && json_object_object_get_ex(response, "LastEvaluatedKey", &key) &&
		json_object_is_type(key, json_type_object) && json_object_object_length(key) > 0)
		return key;
	return NULL;
}

/*
 * Builds a follow-up request from UnprocessedKeys (BatchGetItem) or
 * UnprocessedItems (BatchWriteItem): DynamoDB gives them in the exact shape
 * of RequestItems, so they are copied over as they are.
 */
struct json_object *
wl_store_unprocessed(struct json_object *response, const char *operation, int *count)
{
	const char *field = strcmp(operation, "BatchGetItem") == 0 ?
		"UnprocessedKeys" : "UnprocessedItems";
	struct json_object *left;
	struct json_object *copy = NULL;
	struct json_object *request;
	struct json_object_iterator it;
	struct json_object_iterator end;

	*count = 0;
	if (response == NULL || !json_object_object_get_ex(response, field, &left) ||
		!json_object_is_type(left, json_type_object))
		return NULL;
	end = json_object_iter_end(left);
	for (it = json_object_iter_begin(left); !json_object_iter_equal(&it, &end);
		 json_object_iter_next(&it))
	{
		struct json_object *spec = json_object_iter_peek_value(&it);
		struct json_object *keys;

		if (json_object_is_type(spec, json_type_array))
			*count += (int) json_object_array_length(spec);
		else if (json_object_object_get_ex(spec, "Keys", &keys) &&
				 json_object_is_type(keys, json_type_array))
			*count += (int) json_object_array_length(keys);
	}
	if (*count == 0 || json_object_deep_copy(left, &copy, NULL) != 0)
		return NULL;
	request = json_object_new_object();
	json_object_object_add(request, "RequestItems", copy);
	return request;
}

/* The id of an item (S), or NULL. */
const char *
wl_store_item_id(struct json_object *item)
{
	return wl_av_get_string(wl_item_get(item, WL_ATTR_ID));
}

/*
 * The vector of an item into out; -1 when it is missing, not binary, or not
 * exactly dims float32s long.
 */
int
wl_store_item_vector(struct json_object *item, int dims, float *out)
{
	unsigned char *bytes = NULL;
	size_t		len = 0;

	if (wl_av_get_binary(wl_item_get(item, WL_ATTR_VECTOR), &bytes, &len) != 0)
		return -1;
	if (len != (size_t) dims * 4)
	{
		free(bytes);
		return -1;
	}
	wl_store_decode_vector(bytes, dims, out);
	free(bytes);
	return 0;
}

/* The id of a native bucket entry; see the header. */
const char *
wl_store_entry_id(struct json_object *entry, int fine_bits)
{
	const char *sort = wl_store_item_id(entry);

	if (sort == NULL || fine_bits == 0)
		return sort;
	if (strlen(sort) <= (size_t) fine_bits || sort[fine_bits] != '/' ||
		strspn(sort, "01") != (size_t) fine_bits)
		return NULL;
	return sort + fine_bits + 1;
}

/* The key a native bucket entry is under; see the header. */
bool
wl_store_entry_key(struct json_object *entry, int fine_bits, char *out, size_t outlen)
{
	const char *bucket = wl_av_get_string(wl_item_get(entry, WL_ATTR_BUCKET));
	const char *sort = wl_store_item_id(entry);
	int			len;

	if (bucket == NULL || sort == NULL)
		return false;
	if (fine_bits == 0)
		len = snprintf(out, outlen, "%s", bucket);
	else
	{
		if (wl_store_entry_id(entry, fine_bits) == NULL)
			return false;
		len = snprintf(out, outlen, "%s/%.*s", bucket, fine_bits, sort);
	}
	return len >= 0 && (size_t) len < outlen;
}

/* How many bucket keys a native vector item lists (0 when none). */
int
wl_store_item_key_count(struct json_object *item)
{
	int			count = wl_av_set_count(wl_item_get(item, WL_ATTR_KEYS));

	return count < 0 ? 0 : count;
}

/* The n-th bucket key of a native vector item. */
const char *
wl_store_item_key(struct json_object *item, int n)
{
	return wl_av_set_item(wl_item_get(item, WL_ATTR_KEYS), n);
}

/* How many ids a v1 bucket item holds (0 when none). */
int
wl_store_item_id_count(struct json_object *item)
{
	int			count = wl_av_set_count(wl_item_get(item, WL_ATTR_IDS));

	return count < 0 ? 0 : count;
}

/* The n-th id of a v1 bucket item. */
const char *
wl_store_item_id_at(struct json_object *item, int n)
{
	return wl_av_set_item(wl_item_get(item, WL_ATTR_IDS), n);
}

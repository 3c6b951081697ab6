/*
 * test_store.c - unit tests of the JSON side of the core: the attribute
 * codec and base64 (RFC 4648 vectors), request bodies as DynamoDB expects
 * them, reading responses as DynamoDB sends them, metadata items of
 * both formats, and the size of a packed index's cells.
 */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include <json-c/json.h>

#include "ddbjson.h"
#include "format.h"
#include "meta.h"
#include "operations.h"
#include "packed.h"
#include "packed_layout.h"
#include "store.h"
#include "attrs.h"
#include "unit.h"

/* Serialises without spaces, for exact comparisons. */
static const char *
plain(struct json_object *object)
{
	return json_object_to_json_string_ext(object, JSON_C_TO_STRING_PLAIN);
}

/* RFC 4648's base64 test vectors, both ways, and malformed input. */
static void
test_base64(void)
{
	const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	const char *bad[] = {"Zg=", "Z===", "Zm9v!A==", "Zh==", "=Zg=", "Zg==Zg==", "Zm!vZm9v",
	"Zm9\xc3Zm9v"};
	unsigned char all[256];
	unsigned char *decoded;
	size_t		len;
	char	   *text;
	int			ok = 1;
	int			i;

	for (i = 0; i < 7; i++)
	{
		text = wl_base64_encode(in[i], strlen(in[i]));
		ok &= strcmp(text, out[i]) == 0;
		free(text);
		ok &= wl_base64_decode(out[i], strlen(out[i]), &decoded, &len) == 0 &&
			len == strlen(in[i]) && memcmp(decoded, in[i], len) == 0;
		free(decoded);
	}
	CHECK(ok, "RFC 4648 vectors encode and decode");
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char) i;
	text = wl_base64_encode(all, 256);
	CHECK(wl_base64_decode(text, strlen(text), &decoded, &len) == 0 && len == 256 &&
		  memcmp(decoded, all, 256) == 0, "all 256 byte values round-trip");
	free(text);
	free(decoded);
	ok = 1;
	for (i = 0; i < 8; i++)
	{
		ok &= wl_base64_decode(bad[i], strlen(bad[i]), &decoded, &len) == -1 && decoded == NULL;
	}
	CHECK(ok, "malformed base64 is refused");
}

/* Attribute values: builders, and readers on what DynamoDB sends. */
static void
test_attribute_values(void)
{
	const char *set[] = {"x", "y"};
	struct json_object *av;
	struct json_object *item;
	int64_t		n;
	double		d;
	bool		b;
	unsigned char *bytes;
	size_t		len;

	av = wl_av_string("a\"b");
	CHECK_STR(plain(av), "{\"S\":\"a\\\"b\"}", "S builder escapes");
	json_object_put(av);
	av = wl_av_number_int64(INT64_MIN);
	CHECK_STR(plain(av), "{\"N\":\"-9223372036854775808\"}", "N builder takes INT64_MIN");
	CHECK(wl_av_get_int64(av, &n) == 0 && n == INT64_MIN, "INT64_MIN reads back");
	json_object_put(av);
	av = wl_av_number_double(0.1);
	CHECK(wl_av_get_double(av, &d) == 0 && d == 0.1, "doubles round-trip exactly");
	json_object_put(av);
	CHECK(wl_av_number_double(NAN) == NULL, "NaN is not a number DynamoDB takes");
	av = wl_av_string_set(set, 2);
	CHECK_STR(plain(av), "{\"SS\":[\"x\",\"y\"]}", "SS builder");
	json_object_put(av);
	av = wl_av_null();
	CHECK_STR(plain(av), "{\"NULL\":true}", "NULL builder");
	json_object_put(av);

	item = json_tokener_parse("{\"id\":{\"S\":\"a\"},\"vector\":{\"B\":\"AACAPw==\"},"
							  "\"ids\":{\"SS\":[\"x\",\"y\"]},\"n\":{\"N\":\"1.5E+3\"},"
							  "\"m\":{\"M\":{\"k\":{\"BOOL\":true}}},"
							  "\"l\":{\"L\":[{\"NULL\":true},{\"S\":\"z\"}]},"
							  "\"bad\":{\"S\":\"a\",\"N\":\"1\"},\"junk\":{\"N\":\"12abc\"}}");
	CHECK_STR(wl_av_get_string(wl_item_get(item, "id")), "a", "S reads");
	CHECK(wl_av_get_binary(wl_item_get(item, "vector"), &bytes, &len) == 0 && len == 4 &&
		  bytes[3] == 0x3f, "B decodes (1.0f)");
	free(bytes);
	CHECK(wl_av_set_count(wl_item_get(item, "ids")) == 2 &&
		  strcmp(wl_av_set_item(wl_item_get(item, "ids"), 1), "y") == 0, "SS reads");
	CHECK(wl_av_get_double(wl_item_get(item, "n"), &d) == 0 && d == 1500.0, "N with exponent reads");
	CHECK(wl_av_get_int64(wl_item_get(item, "n"), &n) == -1, "a fraction is not an int64");
	CHECK(wl_av_get_bool(json_object_object_get(wl_av_get_map(wl_item_get(item, "m")), "k"), &b) == 0 && b,
		  "M and BOOL read");
	CHECK(wl_av_list_count(wl_item_get(item, "l")) == 2 &&
		  wl_av_type(wl_av_list_item(wl_item_get(item, "l"), 0)) == WL_AV_NULL, "L reads");
	CHECK(wl_av_type(wl_item_get(item, "bad")) == WL_AV_INVALID, "two type keys are invalid");
	CHECK(wl_av_get_int64(wl_item_get(item, "junk"), &n) == -1, "trailing junk is refused");
	CHECK(wl_av_get_string(wl_item_get(item, "missing")) == NULL, "a missing attribute reads NULL");
	CHECK(wl_av_get_string(NULL) == NULL && wl_av_set_count(NULL) == -1, "NULL is handled");
	json_object_put(item);
}

/* The LSH index of a v1 or native collection, as its format opens it. */
static WlLsh *
test_index(const WlMeta *meta)
{
	char		err[256];

	return meta->format->open(meta, NULL, 0, err, sizeof(err));
}

/* A native collection's metadata for format tests: 3 tables, 12 + fine bits. */
static WlMeta *
native_meta(int fine_bits)
{
	return wl_meta_new(&wl_format_native, "p", "s", "docs", 8, WL_METRIC_L2, 3, 12, fine_bits, 42, "abcd1234",
					   NULL, false);
}

/* Request bodies, exactly, as the builders and the formats make them. */
static void
test_requests(void)
{
	WlMeta	   *meta = native_meta(WL_META_FINE_BITS);
	WlMeta		v1meta;
	const char *keys[2] = {"3:a5f", "3:a5f/011"};
	WlEntryChange change = {{"6Q", "id1", NULL, false, false, false, NULL}, true};
	WlDdbCall	calls[3];
	int			ncalls;
	int			i;

	memset(calls, 0, sizeof(calls));
	CHECK(meta->format->read_calls(meta, keys, 2, true, calls) == 2, "a Query per key");
	CHECK_STR(calls[0].operation, "Query", "native buckets are read with Query");
	CHECK_STR(calls[0].table, "p_s_docs_abcd1234_buckets", "of the buckets table");
	CHECK_STR(plain(calls[0].request),
			  "{\"TableName\":\"p_s_docs_abcd1234_buckets\",\"KeyConditionExpression\":\"#b = :b\","
			  "\"ExpressionAttributeNames\":{\"#b\":\"bucket\",\"#i\":\"id\"},"
			  "\"ExpressionAttributeValues\":{\":b\":{\"S\":\"3:a5f\"}},"
			  "\"ProjectionExpression\":\"#i\",\"ConsistentRead\":true}", "bucket Query body");
	CHECK_STR(plain(calls[1].request),
			  "{\"TableName\":\"p_s_docs_abcd1234_buckets\","
			  "\"KeyConditionExpression\":\"#b = :b AND begins_with(#i, :p)\","
			  "\"ExpressionAttributeNames\":{\"#b\":\"bucket\",\"#i\":\"id\"},"
			  "\"ExpressionAttributeValues\":{\":b\":{\"S\":\"3:a5f\"},\":p\":{\"S\":\"011\"}},"
			  "\"ProjectionExpression\":\"#i\",\"ConsistentRead\":true}",
			  "Query of a finer key: begins_with its fine bits");
	for (i = 0; i < 3; i++)
		wl_ddb_call_reset(&calls[i]);

	ncalls = wl_op_batch_get_append(calls, 0, "t", "id,keys", true, wl_store_id_key("a"));
	ncalls = wl_op_batch_get_append(calls, ncalls, "t", "id,keys", true, wl_store_id_key("b"));
	CHECK(ncalls == 1, "keys go to one BatchGetItem until it is full");
	CHECK_STR(plain(calls[0].request),
			  "{\"RequestItems\":{\"t\":{\"Keys\":[{\"id\":{\"S\":\"a\"}},{\"id\":{\"S\":\"b\"}}],"
			  "\"ProjectionExpression\":\"#p0,#p1\","
			  "\"ExpressionAttributeNames\":{\"#p0\":\"id\",\"#p1\":\"keys\"},"
			  "\"ConsistentRead\":true}}}", "BatchGetItem body with placeholders");
	wl_ddb_call_reset(&calls[0]);
	ncalls = 0;
	for (i = 0; i < WL_BATCH_WRITE_MAX + 1; i++)
		ncalls = wl_op_batch_write_append(calls, ncalls, "t",
										  wl_op_delete_request(wl_store_id_key("x")));
	CHECK(ncalls == 2 && strcmp(calls[1].operation, "BatchWriteItem") == 0,
		  "the 26th write starts a second BatchWriteItem");
	for (i = 0; i < 2; i++)
		wl_ddb_call_reset(&calls[i]);

	memset(&v1meta, 0, sizeof(v1meta));
	v1meta.format = &wl_format_v1;
	v1meta.buckets_table = (char *) "v_buckets";
	CHECK(wl_format_v1.change_calls(&v1meta, &change, 1, calls) == 1, "one v1 change, one call");
	CHECK_STR(calls[0].operation, "UpdateItem", "v1 buckets change with UpdateItem");
	CHECK_STR(plain(calls[0].request),
			  "{\"TableName\":\"v_buckets\",\"Key\":{\"id\":{\"S\":\"6Q\"}},"
			  "\"UpdateExpression\":\"ADD ids :i\","
			  "\"ExpressionAttributeValues\":{\":i\":{\"SS\":[\"id1\"]}}}", "v1 bucket ADD");
	wl_ddb_call_reset(&calls[0]);
	wl_meta_free(meta);
}

/* Collects the entries a format reads out of an item. */
typedef struct Collected
{
	char		keys[4][WL_LSH_KEY_MAX];
	char		ids[4][64];
	bool		malformed[4];
	int			n;
} Collected;

/* An entry visitor that keeps copies. */
static void
collect_entry(const WlEntry *entry, void *arg)
{
	Collected  *out = arg;

	if (out->n < 4)
	{
		snprintf(out->keys[out->n], WL_LSH_KEY_MAX, "%s", entry->key ? entry->key : "(none)");
		snprintf(out->ids[out->n], 64, "%s", entry->id);
		out->malformed[out->n] = entry->malformed;
	}
	out->n++;
}

/* The item a native change writes, out of its BatchWriteItem call. */
static struct json_object *
written_entry(WlDdbCall *call)
{
	struct json_object *requests = json_object_object_get(json_object_object_get(call->request,
																				 "RequestItems"),
														  call->table);
	struct json_object *put = json_object_array_get_idx(requests, 0);

	return json_object_object_get(json_object_object_get(put, "PutRequest"), "Item");
}

/*
 * Bucket entries with fine bits: the digits lead the sort key, the id
 * (which may hold "/" itself) follows, and both read back exactly.
 */
static void
test_fine_entries(void)
{
	WlMeta	   *meta = native_meta(4);
	WlMeta	   *whole = native_meta(0);
	WlEntryChange change = {{"3:a5f/0110", "x/1", NULL, false, false, false, NULL}, true};
	WlDdbCall	call;
	Collected	got;
	struct json_object *entry;

	memset(&call, 0, sizeof(call));
	CHECK(meta->format->change_calls(meta, &change, 1, &call) == 1, "one entry, one call");
	entry = written_entry(&call);
	CHECK_STR(plain(entry), "{\"bucket\":{\"S\":\"3:a5f\"},\"id\":{\"S\":\"0110\\/x\\/1\"}}",
			  "an entry with fine bits: digits first in the sort key");
	memset(&got, 0, sizeof(got));
	meta->format->entries(meta, entry, collect_entry, &got);
	CHECK(got.n == 1 && strcmp(got.ids[0], "x/1") == 0 && strcmp(got.keys[0], "3:a5f/0110") == 0 &&
		  !got.malformed[0], "its key and id read back");
	meta->fine_bits = 3;
	memset(&got, 0, sizeof(got));
	meta->format->entries(meta, entry, collect_entry, &got);
	CHECK(got.n == 1 && got.malformed[0] && strcmp(got.keys[0], "3:a5f") == 0 &&
		  strcmp(got.ids[0], "0110/x/1") == 0,
		  "read with the wrong fine bits, it is malformed, not misread, and names its item");
	meta->fine_bits = 4;
	wl_ddb_call_reset(&call);

	change.entry.key = "3:a5f";
	change.entry.id = "0110/x";
	whole->format->change_calls(whole, &change, 1, &call);
	entry = written_entry(&call);
	CHECK_STR(plain(entry), "{\"bucket\":{\"S\":\"3:a5f\"},\"id\":{\"S\":\"0110\\/x\"}}",
			  "an entry without fine bits keeps the id as its sort key");
	memset(&got, 0, sizeof(got));
	whole->format->entries(whole, entry, collect_entry, &got);
	CHECK(got.n == 1 && strcmp(got.ids[0], "0110/x") == 0 && strcmp(got.keys[0], "3:a5f") == 0,
		  "and reads back whole, under the bucket");
	wl_ddb_call_reset(&call);

	entry = json_tokener_parse("{\"id\":{\"S\":\"0110/x\"}}");
	memset(&got, 0, sizeof(got));
	meta->format->entries(meta, entry, collect_entry, &got);
	CHECK(got.n == 1 && strcmp(got.ids[0], "x") == 0 && !got.malformed[0],
		  "an entry a search read (its sort key alone) names its id");
	json_object_put(entry);

	entry = json_tokener_parse("{\"bucket\":{\"S\":\"3:a5f\"},\"id\":{\"S\":\"01x0/x\"}}");
	memset(&got, 0, sizeof(got));
	meta->format->entries(meta, entry, collect_entry, &got);
	CHECK(got.n == 1 && got.malformed[0], "fine bits that are not binary digits are malformed");
	json_object_put(entry);
	wl_meta_free(meta);
	wl_meta_free(whole);
}

/*
 * Finer keys as a collection grows: the search depth follows vector_count,
 * and a query's home key at any depth is a prefix of the key its own
 * vector is written under, so that begins_with finds it.
 */
static void
test_fine_keys(void)
{
	WlMeta	   *meta = native_meta(WL_META_FINE_BITS);
	WlLsh	   *lsh = test_index(meta);
	char		written[3 * WL_LSH_KEY_MAX];
	char		probed[3 * 4 * WL_LSH_KEY_MAX];
	float		vector[8];
	bool		prefixes = true;
	int			depth;
	int			v;
	int			t;

	CHECK(meta->fine_bits == WL_META_FINE_BITS, "new collections keep 12 fine bits");
	CHECK(wl_meta_search_depth(meta, 0, 32) == 0 &&
		  wl_meta_search_depth(meta, 4096 * 32, 32) == 0 &&
		  wl_meta_search_depth(meta, 4096 * 32 + 1, 32) == 1 &&
		  wl_meta_search_depth(meta, 4096 * 256, 32) == 3 &&
		  wl_meta_search_depth(meta, INT64_C(1) << 40, 32) == 12,
		  "search depth: the fewest fine bits that bring a key to the capacity");
	for (v = 0; v < 50; v++)
	{
		for (t = 0; t < 8; t++)
			vector[t] = (float) ((v * 7919 + t * 104729) % 201 - 100);
		wl_meta_vector_keys(meta, lsh, vector, written);
		for (depth = 0; depth <= meta->fine_bits; depth++)
		{
			wl_meta_probe_keys(meta, lsh, vector, 4, depth, probed);
			for (t = 0; t < 3; t++)
			{
				const char *home = probed + (size_t) t * 4 * WL_LSH_KEY_MAX;
				const char *full = written + (size_t) t * WL_LSH_KEY_MAX;
				size_t		len = strlen(home);

				prefixes &= strncmp(home, full, len) == 0 &&
					(full[len] == (depth == 0 ? '/' : '\0') || depth < meta->fine_bits) &&
					(int) strlen(full) == (int) (strchr(full, '/') - full) + 1 + meta->fine_bits;
			}
		}
	}
	CHECK(prefixes, "home probe keys at every depth are prefixes of the written keys");
	CHECK(strncmp(written + WL_LSH_KEY_MAX, "1:", 2) == 0 &&
		  strlen(written + WL_LSH_KEY_MAX) == strlen("1:abc/") + 12,
		  "a written key: table, 3 hex digits, 12 fine bits");
	wl_lsh_destroy(lsh);
	wl_meta_free(meta);
}

/* A call as if DynamoDB had answered it with response (taken over). */
static void
answered(WlDdbCall *call, const char *operation, const char *table, const char *request,
		 const char *response)
{
	memset(call, 0, sizeof(WlDdbCall));
	call->operation = operation;
	call->table = table;
	call->request = json_tokener_parse(request);
	call->response = json_tokener_parse(response);
}

/* Responses: items, continuation, unprocessed work, vectors. */
static void
test_responses(void)
{
	WlDdbCall	call;
	WlDdbCall	next;
	struct json_object *items;
	float		vector[1];
	bool		unprocessed = false;

	answered(&call, "BatchGetItem", "t", "{\"RequestItems\":{}}",
			 "{\"Responses\":{\"t\":[{\"id\":{\"S\":\"a\"},"
			 "\"vector\":{\"B\":\"AACAPw==\"}}]},"
			 "\"UnprocessedKeys\":{\"t\":{\"Keys\":[{\"id\":{\"S\":\"b\"}},"
			 "{\"id\":{\"S\":\"c\"}}]}}}");
	memset(&next, 0, sizeof(next));
	CHECK(wl_op_items(&call, &items) == 1, "BatchGetItem items of the table");
	CHECK(wl_store_item_vector(wl_op_item_at(items, 0), 1, vector) == 0 && vector[0] == 1.0f,
		  "a vector of 1 float32 decodes");
	CHECK(wl_store_item_vector(wl_op_item_at(items, 0), 2, vector) == -1,
		  "a vector of the wrong length is refused");
	CHECK(wl_op_followup(&call, &next, &unprocessed) && unprocessed,
		  "unprocessed keys make a follow-up, after a backoff");
	CHECK_STR(next.operation, "BatchGetItem", "of the same operation");
	CHECK_STR(plain(next.request),
			  "{\"RequestItems\":{\"t\":{\"Keys\":[{\"id\":{\"S\":\"b\"}},{\"id\":{\"S\":\"c\"}}]}}}",
			  "the follow-up asks for exactly those keys");
	wl_ddb_call_reset(&next);
	wl_ddb_call_reset(&call);

	answered(&call, "BatchWriteItem", "t", "{}", "{\"UnprocessedItems\":{}}");
	unprocessed = false;
	CHECK(!wl_op_followup(&call, &next, &unprocessed) && !unprocessed,
		  "empty UnprocessedItems needs no follow-up");
	wl_ddb_call_reset(&call);

	answered(&call, "Scan", "t", "{\"TableName\":\"t\",\"ExclusiveStartKey\":{\"id\":{\"S\":\"a\"}}}",
			 "{\"Items\":[],\"LastEvaluatedKey\":{\"id\":{\"S\":\"z\"}}}");
	CHECK(wl_op_items(&call, &items) == 0, "no items");
	CHECK(wl_op_followup(&call, &next, &unprocessed) && !unprocessed,
		  "LastEvaluatedKey makes a follow-up without a backoff");
	CHECK_STR(plain(next.request),
			  "{\"TableName\":\"t\",\"ExclusiveStartKey\":{\"id\":{\"S\":\"z\"}}}",
			  "the next page: the same request from the last key");
	wl_ddb_call_reset(&next);
	wl_ddb_call_reset(&call);

	wl_op_scan_segment(&call, "t", 2, 5, false);
	CHECK_STR(plain(call.request), "{\"TableName\":\"t\",\"Segment\":2,\"TotalSegments\":5}",
			  "a segment of a parallel Scan names itself and the number of segments");
	call.response = json_tokener_parse("{\"Items\":[],\"LastEvaluatedKey\":{\"id\":{\"S\":\"m\"}}}");
	CHECK(wl_op_followup(&call, &next, &unprocessed),
		  "a segment's LastEvaluatedKey makes a follow-up");
	CHECK_STR(plain(next.request),
			  "{\"TableName\":\"t\",\"Segment\":2,\"TotalSegments\":5,"
			  "\"ExclusiveStartKey\":{\"id\":{\"S\":\"m\"}}}",
			  "the segment's next page stays in its segment");
	wl_ddb_call_reset(&next);
	wl_ddb_call_reset(&call);

	answered(&call, "GetItem", "t", "{}", "{}");
	CHECK(!wl_op_followup(&call, &next, &unprocessed) && wl_op_get_item_result(&call) == NULL,
		  "GetItem of a missing key: no item, no follow-up");
	wl_ddb_call_reset(&call);
}

/*
 * The count update carries its token, as a value and in its condition, and
 * an item read back tells whether that token's update took effect.
 */
static void
test_count_update(void)
{
	WlDdbCall	call;
	struct json_object *request;
	struct json_object *values;
	const char *condition;
	struct json_object *item = json_object_new_object();

	memset(&call, 0, sizeof(call));
	wl_meta_count_call(&call, "meta", "p_s_docs", -3, "t1");
	request = call.request;
	values = json_object_object_get(request, "ExpressionAttributeValues");
	condition = json_object_get_string(json_object_object_get(request, "ConditionExpression"));
	CHECK(strcmp(call.operation, "UpdateItem") == 0 && strcmp(call.table, "meta") == 0 &&
		  strcmp(json_object_get_string(json_object_object_get(request, "UpdateExpression")),
				 "ADD vector_count :d SET count_token = :t") == 0 &&
		  strcmp(wl_av_get_string(json_object_object_get(values, ":t")), "t1") == 0 &&
		  strstr(condition, "attribute_exists(id)") != NULL &&
		  strstr(condition, "count_token <> :t") != NULL,
		  "a count update sets its token and fails once the token is there");
	CHECK(!wl_meta_count_applied(item, "t1"), "an item without a token records no update");
	json_object_object_add(item, "count_token", wl_av_string("t0"));
	CHECK(!wl_meta_count_applied(item, "t1"), "another update's token is not this one's");
	json_object_object_add(item, "count_token", wl_av_string("t1"));
	CHECK(wl_meta_count_applied(item, "t1"), "the update's own token says it took effect");
	json_object_put(item);
	wl_ddb_call_reset(&call);
}

/* Metadata: a native item round-trips; a v1 item reads as the library wrote it. */
static void
test_meta(void)
{
	float		center[2] = {0.5f, -1.0f};
	WlMeta	   *meta = wl_meta_new(&wl_format_native, "p", "s", "docs", 2, WL_METRIC_COSINE, 3, 5,
								   WL_META_FINE_BITS, 12345678901234ULL, "abcd1234", center, false);
	struct json_object *item = wl_meta_to_item(meta);
	char		err[256];
	WlMeta	   *back = wl_meta_from_item(item, err, sizeof(err));
	double		plane[2 * 8];
	char	   *v1json;
	unsigned char *bytes;
	char	   *b64;
	int			i;
	char		keys[6 * WL_LSH_KEY_MAX];
	float		vector[2] = {1.0f, 1.0f};
	WlLsh	   *lsh;

	CHECK_STR(meta->vectors_table, "p_s_docs_abcd1234_vectors", "native tables carry the generation");
	CHECK(back != NULL && back->format == &wl_format_native && back->dims == 2 &&
		  back->ntables == 3 && back->bits[2] == 5 && back->seed == 12345678901234ULL &&
		  back->metric == WL_METRIC_COSINE && back->center && back->center[1] == -1.0f &&
		  strcmp(back->buckets_table, "p_s_docs_abcd1234_buckets") == 0 &&
		  back->fine_bits == WL_META_FINE_BITS,
		  "a native metadata item round-trips");
	wl_meta_free(back);
	json_object_object_del(item, "fine_bits");
	back = wl_meta_from_item(item, err, sizeof(err));
	CHECK(back != NULL && back->fine_bits == 0,
		  "a native item made before fine bits reads with none");
	wl_meta_free(back);
	json_object_object_add(item, "fine_bits", wl_av_number_int64(58));
	back = wl_meta_from_item(item, err, sizeof(err));
	CHECK(back == NULL && strstr(err, "fine_bits") != NULL,
		  "fine bits past 62 bits in all are refused");
	json_object_put(item);
	wl_meta_free(meta);

	/* A v1 item: 2 features, 1 plane of bit_start 8 bits, planes float64. */
	for (i = 0; i < 16; i++)
		plane[i] = i % 3 == 0 ? 1.0 : -1.0;
	bytes = malloc(sizeof(plane));
	memcpy(bytes, plane, sizeof(plane));	/* little-endian host */
	b64 = wl_base64_encode(bytes, sizeof(plane));
	v1json = malloc(1024);
	snprintf(v1json, 1024,
			 "{\"id\":{\"S\":\"whiplash_dev_old\"},\"name\":{\"S\":\"old\"},"
			 "\"project_name\":{\"S\":\"whiplash\"},\"stage\":{\"S\":\"dev\"},"
			 "\"region\":{\"S\":\"us-east-1\"},\"n_features\":{\"N\":\"2\"},"
			 "\"n_planes\":{\"N\":\"1\"},\"bit_start\":{\"N\":\"8\"},"
			 "\"bit_scale_factor\":{\"N\":\"2\"},\"uniform_planes\":{\"M\":{\"0\":{\"B\":\"%s\"}}}}",
			 b64);
	item = json_tokener_parse(v1json);
	meta = wl_meta_from_item(item, err, sizeof(err));
	CHECK(meta != NULL && meta->format == &wl_format_v1 && meta->metric == WL_METRIC_L2 &&
		  meta->bits[0] == 8 && strcmp(meta->vectors_table, "whiplash_dev_old_vectors") == 0,
		  "a v1 metadata item reads");
	lsh = test_index(meta);
	wl_meta_vector_keys(meta, lsh, vector, keys);
	/*
	 * proj[b] = plane[0][b] + plane[1][b] = 0, 0, -2, 0, 0, -2, 0, 0 for
	 * b = 0..7, so the bits are 11011011 (zero counts as 1) = 219 = "63".
	 */
	CHECK_STR(keys, "63", "a v1 key computed from stored planes");
	wl_lsh_destroy(lsh);
	wl_meta_free(meta);
	json_object_put(item);
	free(v1json);
	free(b64);
	free(bytes);

	item = json_tokener_parse("{\"id\":{\"S\":\"x\"},\"name\":{\"S\":\"x\"}}");
	CHECK(wl_meta_from_item(item, err, sizeof(err)) == NULL && strstr(err, "project_name") != NULL,
		  "a malformed item is refused with a reason");
	json_object_put(item);
	item = json_tokener_parse("{\"id\":{\"S\":\"x\"},\"name\":{\"S\":\"x\"},"
							  "\"project_name\":{\"S\":\"p\"},\"stage\":{\"S\":\"s\"},"
							  "\"n_features\":{\"N\":\"2\"},\"format\":{\"N\":\"99\"}}");
	CHECK(wl_meta_from_item(item, err, sizeof(err)) == NULL && strstr(err, "format 99") != NULL,
		  "a format this version does not know is refused with its number");
	json_object_put(item);
}

/*
 * A build's "active_at": set when it begins, read back with the metadata,
 * and judged against whiplash.abandoned_build_timeout; a build of an older
 * release, which has none, is never taken as abandoned.  A claim is
 * conditional on the value seen.
 */
static void
test_build_activity(void)
{
	WlMeta	   *meta = wl_meta_new(&wl_format_packed, "p", "s", "docs", 8, WL_METRIC_L2, 1, 4, 0,
								   42, "abcd1234", NULL, false);
	struct json_object *item = wl_meta_to_item(meta);
	struct json_object *values;
	WlPackedIndex building = {.gen = 1, .tables = 1, .bits = 4, .cells = 16, .rotation = 8,
		.subspaces = 4, .plane_dims = 8, .parts = 1, .bytes = 100, .token = "0123abcd"};
	WlDdbCall	call;
	WlMeta	   *back;
	char		err[256];

	memset(&call, 0, sizeof(call));
	wl_packed_begin_call(&call, "m", meta, &building, NULL, 1000);
	values = json_object_object_get(call.request, "ExpressionAttributeValues");
	json_object_object_add(item, "building", json_object_get(json_object_object_get(values, ":b")));
	wl_ddb_call_reset(&call);
	back = wl_meta_from_item(item, err, sizeof(err));
	CHECK(back != NULL && wl_packed_settings_of(back)->has_building &&
		  wl_packed_settings_of(back)->building_active == 1000,
		  "a build begins active, and reads back so");
	CHECK(!wl_packed_build_abandoned(back, 1600, 600) && wl_packed_build_abandoned(back, 1601, 600),
		  "a build is abandoned past the timeout, not at it");
	wl_meta_free(back);
	json_object_object_del(wl_av_get_map(wl_item_get(item, "building")), "active_at");
	back = wl_meta_from_item(item, err, sizeof(err));
	CHECK(back != NULL && wl_packed_settings_of(back)->has_building &&
		  !wl_packed_build_abandoned(back, 1000000, 600),
		  "a build of an older release is never taken as abandoned");
	wl_meta_free(back);
	json_object_object_add(wl_av_get_map(wl_item_get(item, "building")), "active_at",
						   wl_av_string("soon"));
	CHECK(wl_meta_from_item(item, err, sizeof(err)) == NULL && strstr(err, "active_at") != NULL,
		  "a malformed active_at is refused");
	wl_packed_active_call(&call, "m", meta, &building, 1000, 1700);
	CHECK(strstr(plain(call.request), "#bu.#at = :seen") != NULL &&
		  strstr(plain(call.request), "\":seen\":{\"N\":\"1000\"}") != NULL,
		  "a claim holds only if no other session showed work since");
	wl_ddb_call_reset(&call);
	wl_packed_active_call(&call, "m", meta, &building, 0, 1700);
	CHECK(strstr(plain(call.request), ":seen") == NULL &&
		  strstr(plain(call.request), "#bu.#tk = :tk") != NULL,
		  "a build's own sign of work needs only its token");
	wl_ddb_call_reset(&call);
	json_object_put(item);
	wl_meta_free(meta);
}

/* The first entry an item holds, with its code and slots copied. */
typedef struct FirstEntry
{
	int			n;
	bool		malformed;
	bool		has_slots;
	unsigned char slots[WL_PACKED_SLOTS_MAX];
} FirstEntry;

static void
first_entry(const WlEntry *entry, void *arg)
{
	FirstEntry *out = arg;

	if (out->n++ > 0)
		return;
	out->malformed = entry->malformed;
	out->has_slots = entry->slots != NULL;
	if (entry->slots != NULL)
		memcpy(out->slots, entry->slots, 2 * WL_SLOT_BYTES);
}

/*
 * Records that carry attributes: an index description's "attrs" reads
 * back (and is refused when it names one twice); a record written with
 * its slots reads back with them; one of the code alone, as an older
 * release wrote it, says nothing of them rather than being malformed.
 */
static void
test_record_attrs(void)
{
	WlMeta	   *meta = wl_meta_new(&wl_format_packed, "p", "s", "docs", 8, WL_METRIC_L2, 1, 4, 0,
								   42, "abcd1234", NULL, false);
	struct json_object *item = wl_meta_to_item(meta);
	struct json_object *vector = json_object_new_object();
	struct json_object *chunk;
	WlPackedIndex index = {.gen = 1, .tables = 1, .bits = 4, .cells = 16, .rotation = 8,
		.subspaces = 4, .plane_dims = 8, .parts = 1, .bytes = 100, .token = "0123abcd",
	.nattrs = 2};
	const unsigned char code[2] = {0x12, 0x34};
	unsigned char slots[WL_PACKED_SLOTS_MAX];
	unsigned char *written = NULL;
	size_t		len = 0;
	char		key[WL_LSH_KEY_MAX];
	char		err[256];
	WlEntryChange change;
	WlDdbCall	call;
	FirstEntry	got;
	WlMeta	   *back;

	strcpy(index.attrs[0], "tag");
	strcpy(index.attrs[1], "kind");
	json_object_object_add(item, "index", wl_packed_index_value(&index));
	back = wl_meta_from_item(item, err, sizeof(err));
	CHECK(back != NULL && wl_packed_settings_of(back)->current.nattrs == 2 &&
		  strcmp(wl_packed_settings_of(back)->current.attrs[1], "kind") == 0,
		  "an index description's attributes read back, in order");

	json_object_object_add(vector, "tag", wl_av_number_text("7"));
	json_object_object_add(vector, "kind", wl_av_string("k1"));
	snprintf(key, sizeof(key), "1/0:3/.");
	CHECK(wl_packed_key_record(back, key, vector, slots) == 2 * WL_SLOT_BYTES,
		  "a record of the generation carries two slots");
	memset(&change, 0, sizeof(change));
	change.entry.key = key;
	change.entry.id = "x1";
	change.entry.code = code;
	change.entry.slots = slots;
	change.add = true;
	memset(&call, 0, sizeof(call));
	back->format->change_calls(back, &change, 1, &call);
	wl_av_get_binary(json_object_object_get(json_object_object_get(call.request,
																   "ExpressionAttributeValues"),
											":c0"), &written, &len);
	CHECK(written != NULL && len == 2 + 2 * WL_SLOT_BYTES && memcmp(written, code, 2) == 0 &&
		  memcmp(written + 2, slots, 2 * WL_SLOT_BYTES) == 0,
		  "a record is written as its code, then its slots");
	wl_ddb_call_reset(&call);

	chunk = json_object_new_object();
	json_object_object_add(chunk, "bucket", wl_av_string("1/0:3"));
	json_object_object_add(chunk, "id", wl_av_string("."));
	json_object_object_add(chunk, "~x1", wl_av_binary(written, len));
	memset(&got, 0, sizeof(got));
	back->format->entries(back, chunk, first_entry, &got);
	CHECK(got.n == 1 && !got.malformed && got.has_slots &&
		  memcmp(got.slots, slots, 2 * WL_SLOT_BYTES) == 0, "and reads back with them");
	json_object_object_add(chunk, "~x1", wl_av_binary(code, 2));
	memset(&got, 0, sizeof(got));
	back->format->entries(back, chunk, first_entry, &got);
	CHECK(got.n == 1 && !got.malformed && !got.has_slots,
		  "a record of the code alone says nothing of its attributes");
	json_object_object_add(chunk, "~x1", wl_av_binary(written, len - 1));
	memset(&got, 0, sizeof(got));
	back->format->entries(back, chunk, first_entry, &got);
	CHECK(got.n == 1 && got.malformed, "a record of another length is malformed");
	json_object_put(chunk);
	free(written);
	wl_meta_free(back);

	strcpy(index.attrs[1], "tag");
	json_object_object_add(item, "index", wl_packed_index_value(&index));
	CHECK(wl_meta_from_item(item, err, sizeof(err)) == NULL && strstr(err, "twice") != NULL,
		  "an index description naming an attribute twice is refused");
	json_object_put(vector);
	json_object_put(item);
	wl_meta_free(meta);
}

/* A WlCellRead for which the one cell read is `arg`'s key. */
static bool
test_cell_read(const char *key, void *arg)
{
	return strcmp(key, (const char *) arg) == 0;
}

/*
 * A partition's cells joined into runs: consecutive cells read by one
 * Query where the cells between cost less than a Query, the cells a run
 * reads exactly those whose keys (spelt at the index's width) lie between
 * its bounds, and other keys kept as they are.
 */
static void
test_partition_runs(void)
{
	const char *tenant = "2/p:010000000000000000/0:";
	const char *other = "2/p:020000000000000000/0:";
	const int	probed[] = {0x40, 0x13, 0x10};
	char		keys[5][WL_LSH_KEY_MAX];
	const char *given[5];
	char		out[5 * WL_LSH_KEY_MAX];
	char		cells[4 * WL_LSH_KEY_MAX];
	char		lo[WL_LSH_KEY_MAX];
	char		hi[WL_LSH_KEY_MAX];
	int			spans[5];
	int			n;
	int			inside = 0;
	int			i;

	for (i = 0; i < 3; i++)
		snprintf(keys[i], WL_LSH_KEY_MAX, "%s%03x.", tenant, probed[i]);
	snprintf(keys[3], WL_LSH_KEY_MAX, "%s%03x.", other, 0x11);
	snprintf(keys[4], WL_LSH_KEY_MAX, "%s%03x.01", tenant, 0x11);
	for (i = 0; i < 5; i++)
		given[i] = keys[i];
	/* 500 bytes a cell: four cells fill one read unit, 49 need six */
	n = wl_packed_join_cells(500, given, 5, NULL, NULL, out, spans);
	snprintf(lo, sizeof(lo), "%s010~013", tenant);
	CHECK(n == 4 && strcmp(out, keys[4]) == 0 && spans[0] == 1 &&
		  strcmp(out + WL_LSH_KEY_MAX, lo) == 0 && spans[1] == 4 &&
		  strcmp(out + 2 * WL_LSH_KEY_MAX, keys[0]) == 0 && spans[2] == 1 &&
		  strcmp(out + 3 * WL_LSH_KEY_MAX, keys[3]) == 0 && spans[3] == 1,
		  "a partition's near cells join into a run, far cells and other keys stay apart");
	n = wl_packed_join_cells(5000, given, 5, NULL, NULL, out, spans);
	CHECK(n == 5, "cells that fill a read unit each are read apart");
	snprintf(hi, sizeof(hi), "%s012.", tenant);
	n = wl_packed_join_cells(500, given, 5, test_cell_read, hi, out, spans);
	CHECK(n == 5 && spans[1] == 1 && spans[2] == 1,
		  "a run does not span a cell an earlier round read");

	n = wl_packed_run_cells(lo, 4, cells);
	CHECK(n == 4 && strcmp(cells + 2 * WL_LSH_KEY_MAX, hi) == 0,
		  "a run's cells are spelt each alone, at the index's width");
	CHECK(wl_packed_run_cells(keys[0], 4, cells) == 0, "a key of one cell is no run");
	/* DynamoDB's BETWEEN "0:010." AND "0:013.~" reads exactly its cells */
	for (i = 0; i < 0x200; i++)
	{
		char		record[WL_LSH_KEY_MAX];
		bool		between;

		snprintf(record, sizeof(record), "0:%03x.0110", i);
		between = strcmp(record, "0:010.") >= 0 && strcmp(record, "0:013.~") <= 0;
		inside += between;
		if (between != (i >= 0x10 && i <= 0x13))
			inside = -1000;
	}
	CHECK(inside == 4, "a run's bounds hold its cells' records and no other");
}

/*
 * A partitioned generation: its description reads back partitioned (and
 * is refused without attributes); a record's key is placed in the
 * partition of its first attribute's value, which equal numbers of any
 * spelling share; a search's keys of a cell, and of every cell of a
 * table, are spelt in a value's partition; and entries read from a
 * partition's chunk carry the placed key.
 */
static void
test_partitioned(void)
{
	WlMeta	   *meta = wl_meta_new(&wl_format_packed, "p", "s", "docs", 8, WL_METRIC_L2, 1, 4, 0,
								   42, "abcd1234", NULL, false);
	struct json_object *item = wl_meta_to_item(meta);
	struct json_object *vector = json_object_new_object();
	struct json_object *other = json_object_new_object();
	WlPackedIndex index = {.gen = 2, .tables = 1, .bits = 4, .cells = 16, .rotation = 8,
		.subspaces = 4, .plane_dims = 8, .parts = 1, .bytes = 100, .token = "0123abcd",
	.nattrs = 1, .partitioned = true, .uuid_names = true};
	unsigned char slots[WL_PACKED_SLOTS_MAX];
	unsigned char slot[WL_SLOT_BYTES];
	WlSlotValue value;
	char		key[WL_LSH_KEY_MAX];
	char		again[WL_LSH_KEY_MAX];
	char		spelt[WL_LSH_KEY_MAX];
	char		err[256];
	WlMeta	   *back;

	strcpy(index.attrs[0], "tenant");
	json_object_object_add(item, "index", wl_packed_index_value(&index));
	back = wl_meta_from_item(item, err, sizeof(err));
	CHECK(back != NULL && wl_packed_settings_of(back)->current.partitioned &&
		  wl_packed_settings_of(back)->current.uuid_names && wl_packed_partitioned(back),
		  "a partitioned index description reads back");

	json_object_object_add(vector, "tenant", wl_av_number_text("12"));
	json_object_object_add(other, "tenant", wl_av_number_text("12.0"));
	snprintf(key, sizeof(key), "2/0:3/.01");
	snprintf(again, sizeof(again), "2/0:3/.01");
	CHECK(wl_packed_key_record(back, key, vector, slots) == WL_SLOT_BYTES &&
		  strncmp(key, "2/p:", 4) == 0 && strcmp(key + strlen(key) - 7, "/0:3.01") == 0,
		  "a record's key is placed in its value's partition");
	wl_packed_key_place(back, again, other);
	CHECK(strcmp(key, again) == 0, "equal numbers of any spelling share a partition");
	wl_packed_key_place(back, again, vector);
	CHECK(strcmp(key, again) == 0, "a key placed already stays");
	snprintf(again, sizeof(again), "3/0:3/.01");
	wl_packed_key_place(back, again, vector);
	CHECK(strcmp(again, "3/0:3/.01") == 0, "a key of another generation is not placed");

	wl_slot_number("12", &value);
	wl_slot_write(&value, slot);
	CHECK(wl_packed_partition_key("2/0:3/.01", slot, false, spelt) && strcmp(spelt, key) == 0,
		  "a search spells a cell's key in the partition of a filter's value");
	CHECK(wl_packed_partition_key("2/0:3/.", slot, true, spelt) &&
		  strcmp(spelt + strlen(spelt) - 3, "/0:") == 0 && strncmp(spelt, key, 24) == 0,
		  "and the prefix of every cell of its table there");
	CHECK(!wl_packed_partition_key(key, slot, false, spelt) &&
		  !wl_packed_partition_key("2/model", slot, false, spelt),
		  "keys of no cell are not spelt in a partition");
	wl_meta_free(back);

	index.nattrs = 0;
	json_object_object_add(item, "index", wl_packed_index_value(&index));
	CHECK(wl_meta_from_item(item, err, sizeof(err)) == NULL && strstr(err, "partitioned") != NULL,
		  "a partitioned index description without attributes is refused");
	json_object_put(vector);
	json_object_put(other);
	json_object_put(item);
	wl_meta_free(meta);
}

/*
 * A blocked generation: its description reads back blocked (and is refused
 * without cells); a record's key in a block names its table and cell; a
 * search joins consecutive cells of a block into a run, and keeps cells of
 * other blocks, and a cell whose gap would cost more than a Query, apart;
 * and no filter's partition re-places a block's key.
 */
static void
test_blocked(void)
{
	WlMeta	   *meta = wl_meta_new(&wl_format_packed, "p", "s", "docs", 8, WL_METRIC_L2, 1, 4, 0,
								   42, "abcd1234", NULL, false);
	struct json_object *item = wl_meta_to_item(meta);
	WlPackedIndex index = {.gen = 2, .tables = 1, .bits = 9, .cells = 400, .rotation = 8,
		.subspaces = 4, .plane_dims = 8, .parts = 1, .bytes = 100, .token = "0123abcd",
	.blocked = true, .uuid_names = true};
	const char *given[5] = {"2/b:1/0:012.", "2/b:1/0:010.", "2/b:1/0:011.", "2/b:1/0:01e.",
	"2/b:2/0:020."};
	unsigned char slot[WL_SLOT_BYTES] = {0};
	char		out[5 * WL_LSH_KEY_MAX];
	char		spelt[WL_LSH_KEY_MAX];
	char		err[256];
	int			spans[5];
	int			table;
	unsigned int cell;
	WlMeta	   *back;
	int			n;

	json_object_object_add(item, "index", wl_packed_index_value(&index));
	back = wl_meta_from_item(item, err, sizeof(err));
	CHECK(back != NULL && wl_packed_settings_of(back)->current.blocked &&
		  wl_packed_settings_of(back)->current.uuid_names && !wl_packed_partitioned(back),
		  "a blocked index description reads back");
	CHECK(wl_packed_key_cell("2/b:1/0:01a.0110", &table, &cell) && table == 0 && cell == 0x1a,
		  "a record's key in a block names its table and cell");
	/* 9,000 bytes a cell: a cell between two probed costs more than a Query */
	n = wl_packed_join_cells(9000, given, 5, NULL, NULL, out, spans);
	CHECK(n == 3 && strcmp(out, "2/b:1/0:010~012") == 0 && spans[0] == 3 &&
		  strcmp(out + WL_LSH_KEY_MAX, "2/b:1/0:01e.") == 0 &&
		  strcmp(out + 2 * WL_LSH_KEY_MAX, "2/b:2/0:020.") == 0,
		  "a block's consecutive cells join into a run, other blocks' and far cells stay apart");
	CHECK(!wl_packed_partition_key("2/b:1/0:012.", slot, false, spelt),
		  "a key in a block is not placed in a partition");
	wl_meta_free(back);

	index.cells = 0;
	json_object_object_add(item, "index", wl_packed_index_value(&index));
	CHECK(wl_meta_from_item(item, err, sizeof(err)) == NULL && strstr(err, "blocked") != NULL,
		  "a blocked index description without cells is refused");
	json_object_put(item);
	wl_meta_free(meta);
}

/* Attributes: DynamoDB JSON in, plain JSON out, numbers exact. */
static void
test_attributes(void)
{
	float		vector[2] = {1.0f, 2.0f};
	struct json_object *item = wl_store_vector_item("a", vector, 2);
	struct json_object *old = wl_store_vector_item("a", vector, 2);
	char		err[256];
	char	   *text;
	const char *skip[1] = {"price"};

	CHECK(wl_attrs_add(item, "{\"color\": {\"S\": \"red \\\"x\\\"\"}, "
					   "\"price\": {\"N\": \"12345678901234567890.5\"}, "
					   "\"ok\": {\"BOOL\": true}, \"none\": {\"NULL\": true}, "
					   "\"tags\": {\"L\": [{\"S\": \"a\"}, {\"N\": \"-1E+3\"}]}, "
					   "\"dims\": {\"M\": {\"w\": {\"N\": \"2\"}}}, "
					   "\"set\": {\"SS\": [\"p\", \"q\"]}}", err, sizeof(err)) == 0,
		  "attributes added");
	text = wl_attrs_item_json(item, NULL, 0);
	CHECK_STR(text, "{\"color\": \"red \\\"x\\\"\", \"price\": 12345678901234567890.5, "
			  "\"ok\": true, \"none\": null, \"tags\": [\"a\", -1E+3], "
			  "\"dims\": {\"w\": 2}, \"set\": [\"p\", \"q\"]}",
			  "item attributes as plain JSON, id and vector left out");
	free(text);
	text = wl_attrs_item_json(item, skip, 1);
	CHECK(text != NULL && strstr(text, "price") == NULL, "skipped names left out");
	free(text);
	text = wl_attrs_value_json(wl_item_get(item, "price"));
	CHECK_STR(text, "12345678901234567890.5", "one value as JSON");
	free(text);

	CHECK(wl_attrs_add(item, "{\"vector\": {\"S\": \"x\"}}", err, sizeof(err)) == -1 &&
		  strstr(err, "reserved") != NULL, "reserved name refused");
	CHECK(wl_attrs_add(item, "{\"x\": {\"Q\": \"x\"}}", err, sizeof(err)) == -1 &&
		  strstr(err, "not a DynamoDB value") != NULL, "malformed value refused");
	CHECK(wl_attrs_add(item, "[1]", err, sizeof(err)) == -1, "non-object refused");

	/* An update keeps what it does not manage, and drops what it does. */
	CHECK(wl_attrs_add(old, "{\"color\": {\"S\": \"blue\"}, \"extra\": {\"N\": \"1\"}, "
					   "\"gone\": {\"N\": \"2\"}}", err, sizeof(err)) == 0, "old item");
	{
		struct json_object *fresh = wl_store_vector_item("a", vector, 2);
		const char *managed[1] = {"gone"};

		wl_attrs_add(fresh, "{\"color\": {\"S\": \"green\"}}", err, sizeof(err));
		wl_attrs_carry_over(fresh, old, managed, 1);
		text = wl_attrs_item_json(fresh, NULL, 0);
		CHECK_STR(text, "{\"color\": \"green\", \"extra\": 1}", "carry over");
		free(text);
		json_object_put(fresh);
	}
	json_object_put(item);
	json_object_put(old);
}

/* Counts the ids of a v1 bucket and whether they came in order. */
typedef struct Ids40k
{
	int			n;
	int			in_order;
} Ids40k;

/* An entry visitor for the 40,000-id bucket below. */
static void
count_ids(const WlEntry *entry, void *arg)
{
	Ids40k	   *got = arg;
	char		id[16];

	snprintf(id, sizeof(id), "%08d", got->n++);
	got->in_order &= strcmp(entry->id, id) == 0 && strcmp(entry->key, "6Q") == 0;
}

/*
 * What the fuzzers (test/fuzz) found: crashes, undefined behaviour, invalid
 * JSON and a timeout, each checked here too; the inputs themselves are in
 * test/fuzz/regressions/.
 */
static void
test_fuzz_findings(void)
{
	WlDdbCall	call;
	struct json_object *response;
	struct json_object *items;
	char	   *text;
	char		err[256];
	WlMeta	   *meta;
	int			n;
	int			i;
	int			ok = 1;

	/* A Scan page whose Items are not all objects (fuzz_item, fuzz_attrs). */
	answered(&call, "Scan", "t", "{}", "{\"Items\": [1, null, \"x\", [], "
			 "{\"id\": {\"S\": \"a\"}, \"color\": {\"S\": \"red\"}}]}");
	n = wl_op_items(&call, &items);
	CHECK(n == 5, "a Scan page of 5 elements");
	for (i = 0; i < 4; i++)
		ok &= wl_attrs_item_json(wl_op_item_at(items, i), NULL, 0) == NULL;
	CHECK(ok, "elements that are not objects have no attributes JSON");
	text = wl_attrs_item_json(wl_op_item_at(items, 4), NULL, 0);
	CHECK_STR(text, "{\"color\": \"red\"}", "the object element still reads");
	free(text);
	CHECK(wl_attrs_item_json(NULL, NULL, 0) == NULL, "no item, no attributes JSON");
	wl_ddb_call_reset(&call);

	/*
	 * N values with leading zeros (fuzz_item, fuzz_attrs): JSON, and so
	 * jsonb, has no 007, so they come out as strings, as +5 does.
	 */
	response = json_tokener_parse("{\"a\": {\"N\": \"007\"}, \"b\": {\"N\": \"-01.5\"}, "
								  "\"c\": {\"NS\": [\"0\", \"0.25\", \"-0e0\", \"00\"]}}");
	text = wl_attrs_item_json(response, NULL, 0);
	CHECK_STR(text, "{\"a\": \"007\", \"b\": \"-01.5\", \"c\": [0, 0.25, -0e0, \"00\"]}",
			  "leading zeros make a string, a lone zero a number");
	free(text);
	json_object_put(response);

	/*
	 * A v1 item whose bit count is beyond int (fuzz_meta, UBSan): refused
	 * with the count, not cast to int first (undefined behaviour).
	 */
	response = json_tokener_parse("{\"id\": {\"S\": \"whiplash_dev_x\"}, \"name\": {\"S\": \"x\"}, "
								  "\"project_name\": {\"S\": \"whiplash\"}, \"stage\": {\"S\": \"dev\"}, "
								  "\"n_features\": {\"N\": \"1\"}, \"n_planes\": {\"N\": \"2\"}, "
								  "\"bit_start\": {\"N\": \"8\"}, \"bit_scale_factor\": {\"N\": \"1e300\"}, "
								  "\"uniform_planes\": {\"M\": {\"0\": {\"B\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"}}}}");
	meta = wl_meta_from_item(response, err, sizeof(err));
	CHECK(meta == NULL && strstr(err, "plane 1 would have 1e+300 bits") != NULL,
		  "a v1 bit count beyond int is refused");
	if (meta == NULL && strstr(err, "1e+300") == NULL)
		printf("# reason: %s\n", err);
	wl_meta_free(meta);
	json_object_put(response);

	/*
	 * A v1 bucket of 40,000 ids, about DynamoDB's 400 KB item limit
	 * (fuzz_item's timeout): each id was read after checking the whole
	 * set, 9 s of CPU to read the bucket and 9 more for its JSON; reading
	 * a set must take linear time.
	 */
	{
		struct json_object *ids = json_object_new_array();
		struct json_object *set = json_object_new_object();
		struct json_object *item = json_object_new_object();
		WlMeta	   *v1meta = calloc(1, sizeof(WlMeta));
		Ids40k		got = {0, 1};
		char		id[16];
		clock_t		start;
		double		seconds;

		for (i = 0; i < 40000; i++)
		{
			snprintf(id, sizeof(id), "%08d", i);
			json_object_array_add(ids, json_object_new_string(id));
		}
		json_object_object_add(set, "SS", ids);
		json_object_object_add(item, "ids", set);
		json_object_object_add(item, "id", wl_av_string("6Q"));
		v1meta->format = &wl_format_v1;
		start = clock();
		wl_format_v1.entries(v1meta, item, count_ids, &got);
		ok = got.n == 40000 && got.in_order;
		text = wl_attrs_value_json(set);
		seconds = (double) (clock() - start) / CLOCKS_PER_SEC;
		/* 12 characters an id: 8 digits, 2 quotes and ", " (or the brackets) */
		CHECK(ok && text != NULL && strlen(text) == 12 * 40000,
			  "40,000 ids of a v1 bucket read, and as JSON");
		CHECK(seconds < 1.0, "reading a set of 40,000 takes linear time (< 1 s)");
		if (seconds >= 1.0)
			printf("# %.1f s\n", seconds);
		free(text);
		json_object_put(item);
		free(v1meta);
	}
}

/* What DynamoDB would refuse is found before a write: depth, empty sets. */
static void
test_storable_attributes(void)
{
	char		reason[256];
	char	   *deep = malloc(64 * 40 + 64);
	char	   *p = deep;
	int			i;

	CHECK(wl_attrs_size("{\"c\": {\"S\": \"red\"}, \"n\": {\"N\": \"12\"}}", reason,
						sizeof(reason)) == 1 + 3 + 1 + 2,
		  "sizes as DynamoDB counts them: names, string bytes, number digits");
	CHECK(wl_attrs_size("{\"s\": {\"SS\": []}}", reason, sizeof(reason)) < 0 &&
		  strstr(reason, "empty") != NULL, "an empty set is refused");
	/* 33 nested maps, one past DynamoDB's 32 levels */
	p += sprintf(p, "{\"d\": ");
	for (i = 0; i < 33; i++)
		p += sprintf(p, "{\"M\": {\"a\": ");
	p += sprintf(p, "{\"N\": \"1\"}");
	for (i = 0; i < 33; i++)
		p += sprintf(p, "}}");
	sprintf(p, "}");
	CHECK(wl_attrs_size(deep, reason, sizeof(reason)) < 0 && strstr(reason, "32 levels") != NULL,
		  "33 levels of maps are refused with the reason");
	free(deep);
}

/*
 * Cells hold about 8 KB of records: fewer vectors the longer their codes
 * and names, within 32 to 256 vectors and at least 16 cells.  Up to 2,048
 * cells, and as many as the k-means work of a training allows, are one
 * set; more are in groups of about the square root of their number, as
 * many as a sample of at most 128 MB allows at 16 vectors a cell.
 */
static void
test_cell_sizes(void)
{
	static const struct
	{
		int			dims;
		int			rotation;
		int			subspaces;
		int			name_bytes;
		int64_t		n;
		int			cells;
		int			bits;		/* 0: not checked */
		int			groups;
		const char *name;
	}			cases[] = {
		{384, 384, 188, 23, 40000, 571, 10, 0,
		"384 dimensions, UUIDs: 70 vectors of 117-byte records a cell"},
		{128, 128, 64, 0, 26384, 177, 8, 0, "128 dimensions, names unknown: priced as UUIDs, 149 a cell"},
		{128, 128, 8, 5, 100000, 391, 0, 0, "short codes and ids: 256 vectors a cell at most"},
		{16, 16, 255, 1000, 60000, 1875, 0, 0, "long ids: 32 vectors a cell at least"},
		{16, 16, 255, 1000, 100000, 3125, 12, 56, "past 2,048 cells, cells in groups"},
		{16, 16, 64, 23, 1000, 16, 4, 0, "a small collection: 16 cells"},
		{784, 784, 255, 23, 20000, 370, 9, 0,
		"784 dimensions: one set of cells up to what a training's k-means work allows"},
		{784, 784, 255, 23, 60000, 1111, 11, 34, "784 dimensions: more cells in groups"},
		{384, 384, 192, 23, 300000, 4348, 13, 66,
		"300,000 of 384 dimensions: as many vectors a cell as 40,000"},
		{384, 384, 192, 23, 1000000, 5461, 13, 74,
		"a million of 384 dimensions: as many cells as 87,381 sample vectors allow"},
		{1536, 345, 173, 23, 1000000, 1365, 11, 37,
		"a million of 1,536 dimensions: a sample of 128 MB of the vectors as they are"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		WlPackedIndex index;

		memset(&index, 0, sizeof(index));
		index.rotation = cases[i].rotation;
		index.subspaces = cases[i].subspaces;
		index.name_bytes = cases[i].name_bytes;
		wl_packed_size_cells(&index, cases[i].n, cases[i].dims);
		if (index.cells != cases[i].cells || index.groups != cases[i].groups)
			printf("# %s: %d cells in %d groups\n", cases[i].name, index.cells, index.groups);
		CHECK(index.cells == cases[i].cells && index.groups == cases[i].groups &&
			  (cases[i].bits == 0 || index.bits == cases[i].bits),
			  cases[i].name);
	}
}

int
main(void)
{
	test_base64();
	test_cell_sizes();
	test_attribute_values();
	test_requests();
	test_responses();
	test_count_update();
	test_meta();
	test_build_activity();
	test_record_attrs();
	test_partitioned();
	test_blocked();
	test_partition_runs();
	test_fine_entries();
	test_fine_keys();
	test_attributes();
	test_fuzz_findings();
	test_storable_attributes();
	return unit_done();
}

/*
 * fuzz_item.c - fuzzes every reader of parsed responses and of the items in
 * them: wl_op_items / _item_at / _get_item_result / _followup
 * (operations.c), the item readers wl_store_item_id, _vector (at several
 * dims, larger than the data too) and _key_count / _key (store.c), every
 * format's entries reader (format_*.c), the attribute-value getters wl_av_*
 * (ddbjson.c), and wl_attrs_item_json / wl_attrs_value_json (attrs.c),
 * which turn items into the JSON text Postgres reads.
 *
 * Why: items come from DynamoDB and may have been written by anything (the
 * original Python library, the AWS console, another program, a bug), so
 * each attribute may be missing, of the wrong type or malformed; a response
 * may have any shape.  The glue hands the elements of Items / Responses to
 * these readers as they are, so an element that is not even an object must
 * be survived too.
 *
 * Input: a response body (BatchGetItem, GetItem, Query, Scan,
 * BatchWriteItem), parsed as the client parses it.  The parsed object is
 * also read as an item itself, so a bare item is an input as good as a
 * response.
 */
#include <math.h>

#include "fuzz.h"
#include "attrs.h"
#include "ddbjson.h"
#include "format.h"
#include "operations.h"
#include "store.h"

/* How deep read_value follows M and L values. */
#define MAX_DEPTH 40

/* The tables a response is asked about: ours, and the first it names. */
static const char *const fixed_tables[] = {"t", "whiplash_metadata"};

/* Checks the JSON text of an attribute or item, and frees it. */
static void
check_json_text(char *text, const char *what)
{
	if (text == NULL)
		return;
	if (!fuzz_valid_json(text))
	{
		fprintf(stderr, "not valid JSON from %s: %s\n", what, text);
		FUZZ_CHECK(false, "attribute JSON text is valid JSON");
	}
	free(text);
}

/* Reads one attribute value with every getter, following M and L. */
static void
read_value(struct json_object *av, int depth)
{
	WlAvType	type = wl_av_type(av);
	const char *name = wl_av_type_name(type);
	const char *string = wl_av_get_string(av);
	int64_t		i64;
	double		d;
	bool		b;
	unsigned char *bytes = NULL;
	size_t		len = 7;
	int			n;
	int			i;

	FUZZ_CHECK(name != NULL && strlen(name) <= 4, "a type name");
	FUZZ_CHECK((string != NULL) == (type == WL_AV_S || type == WL_AV_N),
			   "S and N have text");
	if (wl_av_get_int64(av, &i64) == 0)
		FUZZ_CHECK(type == WL_AV_N, "only N is an int64");
	if (wl_av_get_double(av, &d) == 0)
		FUZZ_CHECK(type == WL_AV_N && isfinite(d), "only N is a finite double");
	if (wl_av_get_bool(av, &b) == 0)
		FUZZ_CHECK(type == WL_AV_BOOL, "only BOOL is a bool");
	if (wl_av_get_binary(av, &bytes, &len) == 0)
	{
		unsigned	sum = 0;
		size_t		k;

		FUZZ_CHECK(type == WL_AV_B && bytes != NULL, "only B decodes");
		for (k = 0; k < len; k++)	/* ASan checks that all len bytes are there */
			sum += bytes[k];
		(void) sum;
		free(bytes);
	}
	else
		FUZZ_CHECK(bytes == NULL && len == 0, "a failed decode leaves nothing");

	n = wl_av_set_count(av);
	FUZZ_CHECK((n >= 0) == (type == WL_AV_SS || type == WL_AV_NS || type == WL_AV_BS),
			   "only sets have a set count");
	for (i = -1; i <= n; i++)
	{
		const char *item = wl_av_set_item(av, i);

		FUZZ_CHECK((item != NULL) == (i >= 0 && i < n), "set items exist in range");
		if (item != NULL)
			(void) strlen(item);
	}
	n = wl_av_list_count(av);
	FUZZ_CHECK((n >= 0) == (type == WL_AV_L), "only L has a list count");
	for (i = -1; i <= n; i++)
	{
		struct json_object *element = wl_av_list_item(av, i);

		if (i < 0 || i >= n)
			FUZZ_CHECK(element == NULL, "no list item out of range");
		else if (depth < MAX_DEPTH)
			read_value(element, depth + 1);
	}
	if (type == WL_AV_M)
	{
		struct json_object *map = wl_av_get_map(av);
		struct json_object_iterator it;
		struct json_object_iterator end;

		FUZZ_CHECK(map != NULL && json_object_is_type(map, json_type_object), "M is a map");
		it = json_object_iter_begin(map);
		end = json_object_iter_end(map);
		for (; !json_object_iter_equal(&it, &end) && depth < MAX_DEPTH; json_object_iter_next(&it))
			read_value(json_object_iter_peek_value(&it), depth + 1);
	}
	else
		FUZZ_CHECK(wl_av_get_map(av) == NULL, "only M has a map");

	if (depth == 0)
		check_json_text(wl_attrs_value_json(av), "wl_attrs_value_json");
}

/* Reads the vector of an item at dims dimensions; checks what it gives. */
static void
read_vector(struct json_object *item, int dims, size_t stored)
{
	float	   *out = malloc(sizeof(float) * (size_t) (dims > 0 ? dims : 1));
	int			result;

	if (out == NULL)
		abort();
	result = wl_store_item_vector(item, dims, out);
	if (result == 0)
		FUZZ_CHECK(stored == (size_t) dims * 4, "a vector is exactly dims float32s");
	else
		FUZZ_CHECK(stored != (size_t) dims * 4, "a vector of dims float32s reads");
	free(out);
}

/* Checks one entry a format reads out of an item. */
static void
check_entry(const WlEntry *entry, void *arg)
{
	const WlMeta *meta = arg;

	FUZZ_CHECK(entry->id != NULL, "an entry has an id");
	/* with fine bits a key is built from the item, so it must fit a buffer */
	FUZZ_CHECK(meta->format != &wl_format_native || meta->fine_bits == 0 ||
			   entry->malformed || entry->key == NULL || strlen(entry->key) < WL_LSH_KEY_MAX,
			   "a well-formed native key with fine bits fits a key buffer");
}

/*
 * Reads an item as a bucket item of every format: v1 (an id set), and
 * native without and with fine bits.
 */
static void
read_entries(struct json_object *item)
{
	WlMeta		meta;
	int			fine;

	memset(&meta, 0, sizeof(meta));
	meta.format = &wl_format_v1;
	wl_format_v1.entries(&meta, item, check_entry, &meta);
	meta.format = &wl_format_native;
	for (fine = 0; fine <= 24; fine += 4)
	{
		meta.fine_bits = fine;
		wl_format_native.entries(&meta, item, check_entry, &meta);
	}
}

/* Reads an item (whatever it is) with every item reader. */
static void
read_item(struct json_object *item)
{
	static const char *const skip[] = {"color", "price", ""};
	struct json_object *vector = wl_item_get(item, WL_ATTR_VECTOR);
	unsigned char *bytes = NULL;
	size_t		stored = (size_t) -1;	/* no decodable vector */
	const char *id = wl_store_item_id(item);
	int			n;
	int			i;

	if (id != NULL)
		(void) strlen(id);
	if (wl_av_get_binary(vector, &bytes, &stored) != 0)
		stored = (size_t) -1;
	free(bytes);
	read_vector(item, 0, stored);
	read_vector(item, 1, stored);
	read_vector(item, 2, stored);
	read_vector(item, 3, stored);
	read_vector(item, 16000, stored);	/* the most a collection has */
	if (stored != (size_t) -1 && stored / 4 < 100000)
	{
		read_vector(item, (int) (stored / 4), stored);
		read_vector(item, (int) (stored / 4) + 1, stored);
		if (stored >= 4)
			read_vector(item, (int) (stored / 4) - 1, stored);
	}

	/*
	 * A set's elements, read as the glue reads them: up to the count, which
	 * is 0 for a missing or malformed set.  Beyond it, only a well-formed
	 * set is sure to give NULL (wl_av_set_item checks the one element).
	 */
	n = wl_store_item_key_count(item);
	FUZZ_CHECK(n >= 0, "a key count");
	for (i = 0; i < n; i++)
		FUZZ_CHECK(wl_store_item_key(item, i) != NULL, "keys exist in range");
	FUZZ_CHECK(wl_store_item_key(item, -1) == NULL, "no key -1");
	if (wl_av_set_count(wl_item_get(item, WL_ATTR_KEYS)) >= 0)
		FUZZ_CHECK(wl_store_item_key(item, n) == NULL, "no key past the end");
	read_entries(item);

	check_json_text(wl_attrs_item_json(item, NULL, 0), "wl_attrs_item_json");
	check_json_text(wl_attrs_item_json(item, skip, 3), "wl_attrs_item_json with skip");

	if (json_object_is_type(item, json_type_object))
	{
		struct json_object_iterator it = json_object_iter_begin(item);
		struct json_object_iterator end = json_object_iter_end(item);

		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		{
			FUZZ_CHECK(wl_item_get(item, json_object_iter_peek_name(&it)) ==
					   json_object_iter_peek_value(&it), "wl_item_get finds it");
			read_value(json_object_iter_peek_value(&it), 0);
		}
	}
}

/* A call of operation on table as if DynamoDB had answered response. */
static WlDdbCall
answered(const char *operation, const char *table, struct json_object *response)
{
	WlDdbCall	call;

	memset(&call, 0, sizeof(call));
	call.operation = operation;
	call.table = table;
	call.response = response;
	call.request = json_tokener_parse("{\"TableName\": \"t\"}");
	return call;
}

/* Reads the items a response holds for one table. */
static void
read_items(struct json_object *response, const char *table)
{
	WlDdbCall	call = answered("Scan", table, response);
	struct json_object *items = (struct json_object *) 1;
	int			n = wl_op_items(&call, &items);
	int			i;

	json_object_put(call.request);
	FUZZ_CHECK(n >= 0 && (n == 0 || items != NULL), "an items array");
	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		read_item(wl_op_item_at(items, i));
	FUZZ_CHECK(wl_op_item_at(items, n) == NULL, "nothing past the end");
}

/*
 * The follow-up of a call of every operation that has one (unprocessed
 * work, a next page), serialised as it would be sent.
 */
static void
read_followups(struct json_object *response)
{
	static const char *const operations[] = {"BatchGetItem", "BatchWriteItem", "Query", "Scan"};
	size_t		i;

	for (i = 0; i < sizeof(operations) / sizeof(operations[0]); i++)
	{
		WlDdbCall	call = answered(operations[i], "t", response);
		WlDdbCall	next;
		bool		unprocessed = false;

		memset(&next, 0, sizeof(next));
		if (wl_op_followup(&call, &next, &unprocessed))
		{
			FUZZ_CHECK(strcmp(next.operation, operations[i]) == 0, "a follow-up of the same kind");
			if (next.request != NULL)
				(void) json_object_to_json_string_ext(next.request, JSON_C_TO_STRING_PLAIN);
			json_object_put(next.request);
		}
		json_object_put(call.request);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *response = fuzz_response(data, size);
	struct json_object *responses;
	WlDdbCall	call;
	size_t		i;

	if (response == NULL)
		return 0;

	for (i = 0; i < sizeof(fixed_tables) / sizeof(fixed_tables[0]); i++)
		read_items(response, fixed_tables[i]);
	if (json_object_object_get_ex(response, "Responses", &responses) &&
		json_object_is_type(responses, json_type_object) &&
		json_object_object_length(responses) > 0)
	{
		struct json_object_iterator it = json_object_iter_begin(responses);

		read_items(response, json_object_iter_peek_name(&it));
	}

	call = answered("GetItem", "t", response);
	read_item(wl_op_get_item_result(&call));
	json_object_put(call.request);
	read_item(response);
	read_followups(response);
	(void) wl_ddb_consumed_capacity(response);

	json_object_put(response);
	return 0;
}

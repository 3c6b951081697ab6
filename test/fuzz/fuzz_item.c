/*
 * fuzz_item.c - fuzzes every reader of parsed responses and of the items in
 * them: wl_store_items / _item_at / _get_item_result / _last_key /
 * _unprocessed (store.c), the item readers wl_store_item_id, _vector (at
 * several dims, larger than the data too), _key_count / _key and
 * _id_count / _id_at, the attribute-value getters wl_av_* (ddbjson.c), and
 * wl_attrs_item_json / wl_attrs_value_json (attrs.c), which turn items into
 * the JSON text Postgres reads.
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
	n = wl_store_item_id_count(item);
	FUZZ_CHECK(n >= 0, "an id count");
	for (i = 0; i < n; i++)
		FUZZ_CHECK(wl_store_item_id_at(item, i) != NULL, "ids exist in range");
	FUZZ_CHECK(wl_store_item_id_at(item, -1) == NULL, "no id -1");
	if (wl_av_set_count(wl_item_get(item, WL_ATTR_IDS)) >= 0)
		FUZZ_CHECK(wl_store_item_id_at(item, n) == NULL, "no id past the end");

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

/* Reads the items a response holds for one table. */
static void
read_items(struct json_object *response, const char *table)
{
	struct json_object *items = (struct json_object *) 1;
	int			n = wl_store_items(response, table, &items);
	int			i;

	FUZZ_CHECK(n >= 0 && (n == 0 || items != NULL), "an items array");
	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		read_item(wl_store_item_at(items, i));
	FUZZ_CHECK(wl_store_item_at(items, n) == NULL, "nothing past the end");
}

/* The follow-up of unprocessed work, as the glue sends it. */
static void
read_unprocessed(struct json_object *response, const char *operation)
{
	int			count = -1;
	struct json_object *request = wl_store_unprocessed(response, operation, &count);

	FUZZ_CHECK(count >= 0 || request == NULL, "a count");
	if (request == NULL)
		return;
	FUZZ_CHECK(count > 0, "a follow-up has work");
	(void) json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN);
	json_object_put(request);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *response = fuzz_response(data, size);
	struct json_object *responses;
	struct json_object *last_key;
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

	read_item(wl_store_get_item_result(response));
	read_item(response);

	last_key = wl_store_last_key(response);
	if (last_key != NULL)
	{
		/* The next page's request copies the key, as the glue does. */
		struct json_object *scan = wl_store_scan("t", last_key, 0);
		struct json_object *query = wl_store_bucket_query("t", "0:1", last_key);

		(void) json_object_to_json_string_ext(scan, JSON_C_TO_STRING_PLAIN);
		(void) json_object_to_json_string_ext(query, JSON_C_TO_STRING_PLAIN);
		json_object_put(scan);
		json_object_put(query);
	}
	read_unprocessed(response, "BatchGetItem");
	read_unprocessed(response, "BatchWriteItem");
	(void) wl_ddb_consumed_capacity(response);

	json_object_put(response);
	return 0;
}

/*
 * fuzz_attrs.c - fuzzes attrs.c with attribute text: wl_attrs_add and
 * wl_attrs_complete, which parse the DynamoDB JSON a user writes
 * ('{"color": {"S": "red"}}', a SQL text value), and, on what they build,
 * wl_attrs_item_json / wl_attrs_value_json, which must give valid JSON;
 * the same text, read as an item that DynamoDB returned, goes through
 * wl_attrs_item_json and wl_attrs_carry_over.
 *
 * Why: the text is whatever a SQL user passes, parsed inside a Postgres
 * backend; what it adds to an item is later read back from DynamoDB and
 * handed to jsonb_in, which refuses anything that is not JSON.
 *
 * Input: the text, up to its first zero byte (a SQL text value has none).
 */
#include "fuzz.h"
#include "attrs.h"
#include "ddbjson.h"
#include "store.h"

/* Names an update manages (wl_attrs_complete's keep_out). */
static const char *const managed[] = {"color", "gone", ""};

/* A vector item as the glue builds one: id, 2 dims, native keys. */
static struct json_object *
new_item(const char *id)
{
	static const float vector[2] = {1.0f, -2.5f};
	static const char *const keys[2] = {"0:1", "1:3"};
	struct json_object *item = wl_store_vector_item(id, vector, 2);

	json_object_object_add(item, WL_ATTR_KEYS, wl_av_string_set(keys, 2));
	return item;
}

/* Checks the attributes JSON of an item and each of its values. */
static void
check_item(struct json_object *item)
{
	char	   *text = wl_attrs_item_json(item, NULL, 0);

	if (text != NULL && !fuzz_valid_json(text))
	{
		fprintf(stderr, "not valid JSON from wl_attrs_item_json: %s\n", text);
		FUZZ_CHECK(false, "attribute JSON text is valid JSON");
	}
	free(text);
	text = wl_attrs_item_json(item, managed, 3);
	if (text != NULL && !fuzz_valid_json(text))
	{
		fprintf(stderr, "not valid JSON from wl_attrs_item_json: %s\n", text);
		FUZZ_CHECK(false, "attribute JSON text is valid JSON");
	}
	free(text);
	if (json_object_is_type(item, json_type_object))
	{
		struct json_object_iterator it = json_object_iter_begin(item);
		struct json_object_iterator end = json_object_iter_end(item);

		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		{
			(void) wl_attrs_reserved(json_object_iter_peek_name(&it));
			text = wl_attrs_value_json(json_object_iter_peek_value(&it));
			if (text != NULL && !fuzz_valid_json(text))
			{
				fprintf(stderr, "not valid JSON from wl_attrs_value_json: %s\n", text);
				FUZZ_CHECK(false, "attribute JSON text is valid JSON");
			}
			free(text);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = fuzz_cstring(data, size);
	char		errbuf[256];
	struct json_object *item = new_item("a");
	struct json_object *completed;
	struct json_object *parsed;
	int			result;

	/* An insert: the attributes added to a new item. */
	memset(errbuf, 'x', sizeof(errbuf));
	result = wl_attrs_add(item, text, errbuf, sizeof(errbuf));
	if (result != 0)
		FUZZ_CHECK(result == -1 && memchr(errbuf, '\0', sizeof(errbuf)) != NULL &&
				   errbuf[0] != '\0', "a refusal has a reason");
	else
	{
		FUZZ_CHECK(wl_store_item_id(item) != NULL && strcmp(wl_store_item_id(item), "a") == 0,
				   "the id is untouched");
		FUZZ_CHECK(wl_store_item_key_count(item) == 2, "the keys are untouched");
	}
	check_item(item);

	/* An update: new attributes, the old item's others carried over. */
	memset(errbuf, 'x', sizeof(errbuf));
	completed = wl_attrs_complete(new_item("a"), text, item, managed, 3, errbuf, sizeof(errbuf));
	FUZZ_CHECK((completed == NULL) == (result != 0), "complete refuses what add refuses");
	if (completed != NULL)
	{
		check_item(completed);
		json_object_put(completed);
	}
	else
		FUZZ_CHECK(memchr(errbuf, '\0', sizeof(errbuf)) != NULL && errbuf[0] != '\0',
				   "a refusal has a reason");
	completed = wl_attrs_complete(new_item("b"), NULL, item, NULL, 0, errbuf, sizeof(errbuf));
	FUZZ_CHECK(completed != NULL, "no text, nothing to refuse");
	json_object_put(completed);

	/* The text as an item DynamoDB returned. */
	parsed = json_tokener_parse(text);
	if (parsed != NULL)
	{
		struct json_object *fresh = new_item("c");

		check_item(parsed);
		if (json_object_is_type(parsed, json_type_object))
		{
			wl_attrs_carry_over(fresh, parsed, managed, 3);
			check_item(fresh);
		}
		json_object_put(fresh);
		json_object_put(parsed);
	}

	json_object_put(item);
	free(text);
	return 0;
}

/*
 * test_itemfile.c - unit tests of items kept in a local file under a key:
 * a round trip, and every file that must read as missing (another key, no
 * file, a truncated or foreign file, an array of non-items).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <json-c/json.h>

#include "itemfile.h"
#include "operations.h"
#include "unit.h"

/* Writes text to path, as another program might have left it. */
static void
write_text(const char *path, const char *text)
{
	FILE	   *file = fopen(path, "w");

	if (file != NULL)
	{
		fputs(text, file);
		fclose(file);
	}
}

/* Saves two items and reads them back under their key, and only under it. */
static void
test_round_trip(const char *path)
{
	struct json_object *items[2];
	struct json_object *array;
	int			n;

	items[0] = json_tokener_parse("{\"bucket\": {\"S\": \"1/model\"}, \"id\": {\"S\": \"ab.0\"}}");
	items[1] = json_tokener_parse("{\"bucket\": {\"S\": \"1/model\"}, \"id\": {\"S\": \"ab.1\"}}");
	CHECK(wl_itemfile_save(path, "http://x t current 1.ab.10", items, 2) == 0, "items are saved");
	n = wl_itemfile_load(path, "http://x t current 1.ab.10", &array);
	CHECK(n == 2, "both items read back");
	if (n == 2)
	{
		CHECK_STR(json_object_to_json_string_ext(wl_op_item_at(array, 1),
												 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
				  "{\"bucket\":{\"S\":\"1/model\"},\"id\":{\"S\":\"ab.1\"}}",
				  "the second item as it was saved");
		wl_itemfile_free(array);
	}
	CHECK(wl_itemfile_load(path, "http://x t current 2.cd.10", &array) == -1 && array == NULL,
		  "another key reads nothing");
	CHECK(wl_itemfile_load(path, "http://x t current 1.ab.1", &array) == -1,
		  "a key that is a prefix of the saved one reads nothing");
	CHECK(wl_itemfile_save(path, "two\nlines", items, 2) == -1, "a key of two lines is refused");
	json_object_put(items[0]);
	json_object_put(items[1]);
}

/* Files that are not what a save wrote read as missing. */
static void
test_bad_files(const char *path)
{
	struct json_object *array;

	unlink(path);
	CHECK(wl_itemfile_load(path, "k", &array) == -1, "no file reads nothing");
	write_text(path, "k\n[{\"a\": 1}, {\"b\"");
	CHECK(wl_itemfile_load(path, "k", &array) == -1, "a truncated file reads nothing");
	write_text(path, "k\n{\"a\": 1}\n");
	CHECK(wl_itemfile_load(path, "k", &array) == -1, "an object, not an array, reads nothing");
	write_text(path, "k\n[{\"a\": 1}, 2]\n");
	CHECK(wl_itemfile_load(path, "k", &array) == -1, "an array of non-items reads nothing");
	write_text(path, "k");
	CHECK(wl_itemfile_load(path, "k", &array) == -1, "a key alone reads nothing");
	write_text(path, "k\n[]\n");
	CHECK(wl_itemfile_load(path, "k", &array) == 0, "an empty array reads as no items");
	wl_itemfile_free(array);
	unlink(path);
}

int
main(void)
{
	char		path[] = "/tmp/wl_itemfile_XXXXXX";
	int			fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	test_round_trip(path);
	test_bad_files(path);
	return unit_done();
}

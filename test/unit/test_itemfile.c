/*
 * test_itemfile.c - unit tests of items kept in a local file under a key:
 * a round trip, every file that must read as missing (another key, no
 * file, a truncated or foreign file, an array of non-items), and the
 * pruning of files unused for long.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

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

/* Sets a file's times to seconds before now. */
static void
age(const char *path, long seconds)
{
	struct utimbuf times;

	times.actime = times.modtime = time(NULL) - seconds;
	utime(path, &times);
}

/*
 * Pruning removes exactly the files unused since the given time; a touch
 * (a read) makes a file used again; folders are left alone.
 */
static void
test_prune(void)
{
	char		dir[] = "/tmp/wl_itemfile_dir_XXXXXX";
	char		old[64];
	char		touched[64];
	char		recent[64];
	char		sub[64];

	CHECK(mkdtemp(dir) != NULL, "a folder is made to prune");
	if (access(dir, F_OK) != 0)
		return;
	snprintf(old, sizeof(old), "%s/old", dir);
	snprintf(touched, sizeof(touched), "%s/touched", dir);
	snprintf(recent, sizeof(recent), "%s/recent", dir);
	snprintf(sub, sizeof(sub), "%s/folder", dir);
	write_text(old, "k\n[]\n");
	write_text(touched, "k\n[]\n");
	write_text(recent, "k\n[]\n");
	mkdir(sub, 0700);
	age(old, 8 * 86400);
	age(touched, 8 * 86400);
	age(sub, 8 * 86400);
	age(recent, 86400);
	CHECK(wl_itemfile_touch(touched) == 0, "a read file is marked used");
	CHECK(wl_itemfile_prune(dir, time(NULL) - 7 * 86400) == 1, "one file is unused for a week");
	CHECK(access(old, F_OK) != 0, "the unused file is removed");
	CHECK(access(touched, F_OK) == 0 && access(recent, F_OK) == 0,
		  "files used within the week are kept");
	CHECK(access(sub, F_OK) == 0, "a folder is left alone");
	CHECK(wl_itemfile_prune(dir, time(NULL) - 7 * 86400) == 0, "a second pruning removes nothing");
	CHECK(wl_itemfile_touch(old) == -1, "touching a removed file fails");
	unlink(touched);
	unlink(recent);
	rmdir(sub);
	rmdir(dir);
	CHECK(wl_itemfile_prune(dir, time(NULL)) == -1, "a missing folder cannot be pruned");
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
	test_prune();
	return unit_done();
}

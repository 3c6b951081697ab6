/*
 * state.c - how far an import got, kept in FILE.whiplash-import so that
 * running the same import again continues after the last batch the server
 * acknowledged.
 *
 * The state is a JSON object: the collection (with its project and the
 * server's URL, without any password), the file's size and modification
 * time when the import began, and the byte offset, line number and row
 * count up to which the server has the rows, with a checksum of the bytes
 * before that offset.  A state file written for another collection, or
 * for the file before it changed, does not apply: the import then starts
 * from the beginning, which is safe because writing an item again
 * overwrites it.  A file whose modification time alone changed is the same
 * file if the bytes the server has are unchanged: so a bad line that
 * stopped an import can be fixed in place, and the import resumed.  Each update is written to a
 * temporary file renamed over the last, so that an interrupted import
 * never leaves half a state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define WL_STATE_SUFFIX ".whiplash-import"

/* The state file's name for an import file, to free; NULL when out of memory. */
char *
wl_state_path(const char *file)
{
	size_t		length = strlen(file) + sizeof(WL_STATE_SUFFIX);
	char	   *path = malloc(length);

	if (path != NULL)
		snprintf(path, length, "%s%s", file, WL_STATE_SUFFIX);
	return path;
}

/* A string member of the state object, or NULL when it has none. */
static const char *
wl_state_string(struct json_object *object, const char *key)
{
	struct json_object *value;

	if (!json_object_object_get_ex(object, key, &value) ||
		!json_object_is_type(value, json_type_string))
		return NULL;
	return json_object_get_string(value);
}

/* A whole-number member of the state object into *number; false when absent. */
static bool
wl_state_number(struct json_object *object, const char *key, long long *number)
{
	struct json_object *value;

	if (!json_object_object_get_ex(object, key, &value) ||
		!json_object_is_type(value, json_type_int))
		return false;
	*number = json_object_get_int64(value);
	return *number >= 0;
}

/*
 * The checksum of a file's first length bytes into *checksum; false when
 * the file has fewer or cannot be read.
 */
static bool
wl_prefix_checksum(FILE *file, long long length, unsigned long long *checksum)
{
	char		buffer[65536];

	*checksum = WL_CHECKSUM_START;
	if (fseeko(file, 0, SEEK_SET) != 0)
		return false;
	while (length > 0)
	{
		size_t		wanted = length < (long long) sizeof(buffer) ? (size_t) length : sizeof(buffer);
		size_t		read = fread(buffer, 1, wanted, file);

		if (read == 0)
			return false;
		*checksum = wl_checksum(*checksum, buffer, read);
		length -= read;
	}
	return true;
}

/*
 * Reads the state file at path for the import that state describes (its
 * url, project, collection, size and mtime set), of file, named file_name.
 * When it records that import, of the same file, sets state's offset, line
 * number, rows and checksum and returns true.  The file is the same when
 * its size and mtime are; when only its mtime differs, when the bytes the
 * server has are (a line after them fixed in place, say).  Otherwise leaves
 * state at the file's start and returns false, saying why on stderr
 * unless there is no state file at all.
 */
bool
wl_state_load(const char *path, const char *file_name, FILE *file, WlImportState *state)
{
	struct json_object *saved;
	WlImportState found = {0};
	const char *checksum_text;
	char	   *checksum_end = NULL;
	unsigned long long prefix_checksum;
	bool		applies = false;
	struct stat status;

	state->offset = state->line_number = state->rows = 0;
	state->checksum = WL_CHECKSUM_START;
	if (stat(path, &status) != 0 && errno == ENOENT)
		return false;
	saved = json_object_from_file(path);
	found.url = wl_state_string(saved, "url");
	found.project = wl_state_string(saved, "project");
	found.collection = wl_state_string(saved, "collection");
	checksum_text = wl_state_string(saved, "checksum");
	if (checksum_text != NULL)
		found.checksum = strtoull(checksum_text, &checksum_end, 16);
	if (found.url == NULL || found.project == NULL || found.collection == NULL ||
		checksum_end == NULL || checksum_end == checksum_text || *checksum_end != '\0' ||
		!wl_state_number(saved, "size", &found.size) ||
		!wl_state_number(saved, "mtime", &found.mtime_sec) ||
		!wl_state_number(saved, "mtime_nsec", &found.mtime_nsec) ||
		!wl_state_number(saved, "offset", &found.offset) ||
		!wl_state_number(saved, "line", &found.line_number) ||
		!wl_state_number(saved, "rows", &found.rows) ||
		found.offset > found.size)
		wl_notice("ignoring %s: it is not an import state file this client can read", path);
	else if (strcmp(found.url, state->url) != 0 || strcmp(found.project, state->project) != 0 ||
			 strcmp(found.collection, state->collection) != 0)
		wl_notice("ignoring %s: it records an import into collection \"%s\" of project \"%s\" at %s",
				  path, found.collection, found.project, found.url);
	else if (found.size != state->size)
		wl_notice("ignoring %s: %s changed size since that import", path, file_name);
	else if ((found.mtime_sec != state->mtime_sec || found.mtime_nsec != state->mtime_nsec) &&
			 (!wl_prefix_checksum(file, found.offset, &prefix_checksum) ||
			  prefix_checksum != found.checksum))
		wl_notice("ignoring %s: the part of %s that import sent has changed since", path, file_name);
	else
	{
		if (found.mtime_sec != state->mtime_sec || found.mtime_nsec != state->mtime_nsec)
			wl_notice("%s was modified since that import, but not in the part it sent", file_name);
		state->offset = found.offset;
		state->line_number = found.line_number;
		state->rows = found.rows;
		state->checksum = found.checksum;
		applies = true;
	}
	if (!applies)
		wl_notice("importing %s from its beginning", file_name);
	json_object_put(saved);
	return applies;
}

/*
 * Writes the state to path, through a temporary file renamed over it.
 * False, with errno set, when it cannot.
 */
bool
wl_state_save(const char *path, const WlImportState *state)
{
	struct json_object *object = json_object_new_object();
	size_t		length = strlen(path) + sizeof(".tmp");
	char	   *temporary = malloc(length);
	char		checksum[17];
	bool		saved;

	snprintf(checksum, sizeof(checksum), "%016llx", state->checksum);
	saved = object != NULL && temporary != NULL &&
		wl_json_add(object, "url", json_object_new_string(state->url)) &&
		wl_json_add(object, "project", json_object_new_string(state->project)) &&
		wl_json_add(object, "collection", json_object_new_string(state->collection)) &&
		wl_json_add(object, "size", json_object_new_int64(state->size)) &&
		wl_json_add(object, "mtime", json_object_new_int64(state->mtime_sec)) &&
		wl_json_add(object, "mtime_nsec", json_object_new_int64(state->mtime_nsec)) &&
		wl_json_add(object, "offset", json_object_new_int64(state->offset)) &&
		wl_json_add(object, "line", json_object_new_int64(state->line_number)) &&
		wl_json_add(object, "rows", json_object_new_int64(state->rows)) &&
		wl_json_add(object, "checksum", json_object_new_string(checksum));
	if (!saved)
		errno = ENOMEM;
	else
	{
		snprintf(temporary, length, "%s.tmp", path);
		saved = json_object_to_file_ext(temporary, object, JSON_C_TO_STRING_PLAIN |
									   JSON_C_TO_STRING_NOSLASHESCAPE) == 0 &&
			rename(temporary, path) == 0;
		if (!saved)
		{
			int			saved_errno = errno;

			unlink(temporary);
			errno = saved_errno;
		}
	}
	json_object_put(object);
	free(temporary);
	return saved;
}

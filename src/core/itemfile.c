/*
 * itemfile.c - DynamoDB items kept in a local file under a key; see
 * itemfile.h.  The file is the key on its first line, then the items as one
 * JSON array, as DynamoDB sent them.
 */
#include "itemfile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <json-c/json.h>

/* The most a file may hold: a model is a few megabytes at most. */
#define WL_ITEMFILE_MAX (256L * 1024 * 1024)

/* Writes the file's text to an open stream; 0 or -1. */
static int
wl_itemfile_write(FILE *file, const char *key, struct json_object *const *items, int n)
{
	struct json_object *array = json_object_new_array();
	const char *text;
	int			i;
	int			status = 0;

	if (array == NULL)
		return -1;
	for (i = 0; i < n; i++)
		json_object_array_add(array, json_object_get(items[i]));
	text = json_object_to_json_string_ext(array, JSON_C_TO_STRING_PLAIN);
	if (text == NULL || fprintf(file, "%s\n%s\n", key, text) < 0)
		status = -1;
	json_object_put(array);
	return status;
}

int
wl_itemfile_save(const char *path, const char *key, struct json_object *const *items, int n)
{
	size_t		len = strlen(path) + 32;
	char	   *temporary = malloc(len);
	FILE	   *file;
	int			status;

	if (temporary == NULL || strchr(key, '\n') != NULL)
	{
		free(temporary);
		errno = EINVAL;
		return -1;
	}
	snprintf(temporary, len, "%s.%ld.tmp", path, (long) getpid());
	file = fopen(temporary, "w");
	if (file == NULL)
	{
		free(temporary);
		return -1;
	}
	status = wl_itemfile_write(file, key, items, n);
	if (fclose(file) != 0)
		status = -1;
	if (status == 0 && rename(temporary, path) != 0)
		status = -1;
	if (status != 0)
		unlink(temporary);
	free(temporary);
	return status;
}

/* The whole of a file, NUL-terminated, or NULL. */
static char *
wl_itemfile_read(const char *path)
{
	FILE	   *file = fopen(path, "r");
	char	   *text = NULL;
	long		size;

	if (file == NULL)
		return NULL;
	if (fseek(file, 0, SEEK_END) == 0 && (size = ftell(file)) >= 0 &&
		size <= WL_ITEMFILE_MAX && fseek(file, 0, SEEK_SET) == 0 &&
		(text = malloc(size + 1)) != NULL)
	{
		if (fread(text, 1, size, file) == (size_t) size)
			text[size] = '\0';
		else
		{
			free(text);
			text = NULL;
		}
	}
	fclose(file);
	return text;
}

int
wl_itemfile_load(const char *path, const char *key, struct json_object **array)
{
	char	   *text = wl_itemfile_read(path);
	char	   *newline;
	size_t		keylen = strlen(key);
	struct json_object *parsed = NULL;
	int			count = -1;

	*array = NULL;
	if (text == NULL)
		return -1;
	newline = strchr(text, '\n');
	if (newline != NULL && (size_t) (newline - text) == keylen &&
		memcmp(text, key, keylen) == 0)
		parsed = json_tokener_parse(newline + 1);
	free(text);
	if (parsed != NULL && json_object_is_type(parsed, json_type_array))
	{
		size_t		i;
		size_t		n = json_object_array_length(parsed);

		count = (int) n;
		for (i = 0; i < n && count >= 0; i++)
			if (!json_object_is_type(json_object_array_get_idx(parsed, i), json_type_object))
				count = -1;
	}
	if (count < 0)
		json_object_put(parsed);
	else
		*array = parsed;
	return count;
}

void
wl_itemfile_free(struct json_object *array)
{
	json_object_put(array);
}

int
wl_itemfile_touch(const char *path)
{
	return utime(path, NULL);
}

int
wl_itemfile_prune(const char *dir, time_t unused_since)
{
	DIR		   *folder = opendir(dir);
	struct dirent *entry;
	int			removed = 0;

	if (folder == NULL)
		return -1;
	while ((entry = readdir(folder)) != NULL)
	{
		size_t		len = strlen(dir) + strlen(entry->d_name) + 2;
		char	   *path = malloc(len);
		struct stat st;

		if (path == NULL)
			break;
		snprintf(path, len, "%s/%s", dir, entry->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < unused_since &&
			unlink(path) == 0)
			removed++;
		free(path);
	}
	closedir(folder);
	return removed;
}

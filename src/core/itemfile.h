/*
 * itemfile.h - DynamoDB items kept in a local file under a key, so that
 * what a read returned once can be read again without DynamoDB (a
 * collection's trained model, which never changes once written).
 */
#ifndef WL_ITEMFILE_H
#define WL_ITEMFILE_H

#include <time.h>

struct json_object;

/*
 * Writes key and n items to path, through a temporary file beside it that
 * is renamed over it, so that a reader sees the old file or the whole new
 * one.  Returns 0, or -1 with errno set.
 */
extern int	wl_itemfile_save(const char *path, const char *key,
							 struct json_object *const *items, int n);

/*
 * The items saved at path under key: their count, with the array that
 * holds them in *array (its items by wl_op_item_at; free it with
 * wl_itemfile_free); -1 when the file is missing, unreadable, malformed or
 * saved under another key.
 */
extern int	wl_itemfile_load(const char *path, const char *key, struct json_object **array);

/* Frees what wl_itemfile_load returned. */
extern void wl_itemfile_free(struct json_object *array);

/* Marks the file at path used now (its modification time); 0 or -1. */
extern int	wl_itemfile_touch(const char *path);

/*
 * Removes the regular files of folder dir last used (modified) before
 * unused_since, saved files and temporary ones a crash left alike, so that
 * files nobody reads any more do not pile up.  Returns how many it
 * removed, or -1 with errno set when the folder cannot be read.
 */
extern int	wl_itemfile_prune(const char *dir, time_t unused_since);

#endif							/* WL_ITEMFILE_H */

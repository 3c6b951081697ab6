/*
 * modelcache.c - trained models kept on the server's disk, so that a new
 * session does not read a collection's model from DynamoDB again.
 *
 * A packed collection's model items never change once its build has begun
 * (a new build writes a new generation, with a new token), so the items a
 * backend read are kept in a file under pg_whiplash/models in the data
 * directory, named by a hash of the DynamoDB endpoint and the format's
 * model key, which the file repeats (core/itemfile.c).  A backend that
 * opens the collection later reads the file instead: a new session's first
 * search then reads the metadata item and what it searches, as a warm one
 * does.  A file that cannot be read, or whose items do not open, is
 * removed and the model read from DynamoDB, as it is with
 * whiplash.model_cache off.  Nothing here fails a read: a file that cannot
 * be written is only not kept.
 *
 * A read marks its file used.  Files unread for WL_MODEL_CACHE_UNUSED_DAYS
 * (models of generations a rebuild replaced, of dropped collections, or of
 * collections no new session opened for that long) are removed whenever a
 * backend keeps a new model, so that the folder holds about what is
 * searched.  A file removed just as another backend reads or replaces it
 * costs that backend one read of the model from DynamoDB, nothing more.
 */
#include "postgres.h"

#include <time.h>
#include <unistd.h>

#include "common/hashfn.h"
#include "storage/fd.h"

#include "core/itemfile.h"
#include "whiplash.h"

/* The folder of the kept models, in the data directory. */
#define WL_MODEL_CACHE_DIR "pg_whiplash"
#define WL_MODEL_CACHE_MODELS WL_MODEL_CACHE_DIR "/models"

/* Days a kept model may go unread before it is removed. */
#define WL_MODEL_CACHE_UNUSED_DAYS 7

/* whiplash.model_cache: keep models on the server's disk. */
bool		wl_model_cache = true;

/*
 * The file and key a collection's model is kept under: false when it has
 * none to keep.  The key names the endpoint (or region) too: two DynamoDB
 * servers may hold tables of one name.
 */
static bool
wl_model_cache_names(WlConnection *conn, const WlMeta *meta, char *path, size_t pathlen,
					 char *key, size_t keylen)
{
	const WlDdbConfig *client = &conn->options.client;
	char		model[512];
	int			n;

	if (!wl_model_cache || meta->format->model_key == NULL ||
		!meta->format->model_key(meta, model, sizeof(model)))
		return false;
	n = snprintf(key, keylen, "%s %s",
				 client->endpoint ? client->endpoint : client->region, model);
	if (n <= 0 || (size_t) n >= keylen || strchr(key, '\n') != NULL)
		return false;
	snprintf(path, pathlen, "%s/%016llx", WL_MODEL_CACHE_MODELS,
			 (unsigned long long) hash_bytes_extended((const unsigned char *) key, n, 0));
	return true;
}

/*
 * The model items of a collection kept on disk: their count, with the
 * array holding them in *array (free it with wl_itemfile_free); -1 when
 * none are kept.
 */
int
wl_model_cache_load(WlConnection *conn, const WlMeta *meta, struct json_object **array)
{
	char		path[MAXPGPATH];
	char		key[1024];
	int			n;

	*array = NULL;
	if (!wl_model_cache_names(conn, meta, path, sizeof(path), key, sizeof(key)))
		return -1;
	n = wl_itemfile_load(path, key, array);
	if (n >= 0)
		(void) wl_itemfile_touch(path);
	return n;
}

/*
 * Keeps a collection's model items on disk, unless that fails, and removes
 * the kept models unused for WL_MODEL_CACHE_UNUSED_DAYS.
 */
void
wl_model_cache_save(WlConnection *conn, const WlMeta *meta, struct json_object *const *items,
					int nitems)
{
	char		path[MAXPGPATH];
	char		key[1024];

	if (!wl_model_cache_names(conn, meta, path, sizeof(path), key, sizeof(key)))
		return;
	if ((MakePGDirectory(WL_MODEL_CACHE_DIR) != 0 && errno != EEXIST) ||
		(MakePGDirectory(WL_MODEL_CACHE_MODELS) != 0 && errno != EEXIST) ||
		wl_itemfile_save(path, key, items, nitems) != 0)
		ereport(DEBUG1,
				(errmsg_internal("whiplash: could not keep the model of collection \"%s\" in \"%s\": %m",
								 meta->name, path)));
	(void) wl_itemfile_prune(WL_MODEL_CACHE_MODELS,
							 time(NULL) - (time_t) WL_MODEL_CACHE_UNUSED_DAYS * 86400);
}

/* Removes the kept model of a collection, which did not open. */
void
wl_model_cache_drop(WlConnection *conn, const WlMeta *meta)
{
	char		path[MAXPGPATH];
	char		key[1024];

	if (wl_model_cache_names(conn, meta, path, sizeof(path), key, sizeof(key)))
		(void) unlink(path);
}

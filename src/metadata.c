/*
 * metadata.c - reads and writes of whiplash_metadata: a collection's item,
 * the listing of a project's collections, and the updates writers make
 * (the centre, once, and the vector count).
 *
 * A missing metadata table means whiplash_setup was never run on the
 * server, which every call here reports as such.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "core/operations.h"
#include "whiplash.h"

/* Raises the error of a call that found no metadata table. */
static void
wl_metadata_check_set_up(WlConnection *conn, const WlDdbCall *call)
{
	if (wl_op_failed_with(call, "ResourceNotFoundException"))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("whiplash is not set up on server \"%s\"", conn->server_name),
				 errdetail("Table %s does not exist.", WL_METADATA_TABLE),
				 errhint("Run SELECT whiplash_setup('%s') first.", conn->server_name)));
}

/*
 * Runs one call on the metadata table and raises its failure; a missing
 * table gets its own error.  A failed condition is left for the caller.
 */
void
wl_metadata_run(WlConnection *conn, WlDdbCall *call)
{
	static const char *const tolerated[] = {
		"ResourceNotFoundException", "ConditionalCheckFailedException", NULL
	};

	wl_run_once(conn, call, 1, tolerated);
	wl_metadata_check_set_up(conn, call);
}

/* The metadata item with the given id, strongly consistent; NULL if none. */
struct json_object *
wl_metadata_item(WlConnection *conn, const char *id)
{
	WlDdbCall  *call = wl_calls_new(1);

	wl_meta_get_call(call, WL_METADATA_TABLE, id);
	wl_metadata_run(conn, call);
	return wl_op_get_item_result(call);
}

/*
 * Fixes the centre of a collection that waits for one: the mean of the
 * first batch of vectors written.  Data whose vectors all point one way
 * (pixel intensities, many embeddings) would otherwise fall on one side of
 * every hyperplane through the origin and crowd into a few buckets.  Only
 * one writer wins (a conditional update); the others adopt its centre, so
 * the caller re-reads the metadata after this.
 */
void
wl_metadata_set_center(WlConnection *conn, const WlMeta *meta, float *const *vectors,
					   int nvectors)
{
	WlDdbCall  *call;
	double	   *sum;
	float	   *center;
	int			i;
	int			d;

	if (!meta->auto_center || meta->center != NULL || nvectors == 0)
		return;

	sum = palloc0(sizeof(double) * meta->dims);
	for (i = 0; i < nvectors; i++)
		for (d = 0; d < meta->dims; d++)
			sum[d] += vectors[i][d];
	center = palloc(sizeof(float) * meta->dims);
	for (d = 0; d < meta->dims; d++)
		center[d] = (float) (sum[d] / nvectors);

	call = wl_calls_new(1);
	wl_meta_center_call(call, WL_METADATA_TABLE, meta->id, center, meta->dims);
	wl_metadata_run(conn, call);
}

/* A random lower-case hex string of 2 * nbytes digits (nbytes <= 16). */
static char *
wl_random_hex(int nbytes)
{
	unsigned char bytes[16];
	char	   *out = palloc(2 * nbytes + 1);
	int			i;

	if (!pg_strong_random(bytes, nbytes))
		ereport(ERROR, (errmsg("could not generate random bytes")));
	for (i = 0; i < nbytes; i++)
		sprintf(out + 2 * i, "%02x", bytes[i]);
	return out;
}

/*
 * Whether the count update carrying token took effect, read back from the
 * metadata item after its condition failed: false when the collection is
 * gone.
 */
static bool
wl_count_update_applied(WlConnection *conn, WlMeta *meta, const char *token)
{
	struct json_object *item = wl_metadata_item(conn, meta->id);

	return item != NULL && wl_meta_count_applied(item, token);
}

/*
 * Adds the change in vectors to the collection's count, which sizes the
 * candidate budget and the depth of searches.  Each update carries a fresh
 * token, so that a retry after a lost answer does not count twice.  The
 * count stays approximate: writers racing on one id may both count it, and
 * a retry counts twice if another writer's update came between it and its
 * lost first attempt.
 */
void
wl_update_count(WlConnection *conn, WlMeta *meta, int64 change)
{
	WlDdbCall  *call = wl_calls_new(1);
	char	   *token = wl_random_hex(16);

	wl_meta_count_call(call, WL_METADATA_TABLE, meta->id, change, token);
	wl_metadata_run(conn, call);
	if (wl_op_failed_with(call, "ConditionalCheckFailedException") &&
		!wl_count_update_applied(conn, meta, token))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("collection \"%s\" was dropped during the write", meta->name)));
	meta->vector_count += change;
}

/* Calls visit for one collection, and frees its metadata on every path. */
static void
wl_visit_meta(WlMeta *meta, WlCollectionVisitor visit, void *arg)
{
	PG_TRY();
	{
		visit(meta, arg);
	}
	PG_CATCH();
	{
		wl_meta_free(meta);
		PG_RE_THROW();
	}
	PG_END_TRY();
	wl_meta_free(meta);
}

/*
 * Calls visit for every collection of the connection's project and stage,
 * native and v1, reading all Scan pages.  A malformed metadata item is
 * skipped with a WARNING.
 */
void
wl_for_each_collection(WlConnection *conn, WlCollectionVisitor visit, void *arg)
{
	static const char *const tolerated[] = {"ResourceNotFoundException", NULL};
	WlDdbCall  *call;
	WlPages    *pages = wl_pages_begin(conn, &call);

	wl_meta_scan_call(call, WL_METADATA_TABLE, conn->options.project, conn->options.stage);
	while ((call = wl_pages_next(pages, tolerated)) != NULL)
	{
		struct json_object *items;
		int			nitems;
		int			i;

		wl_metadata_check_set_up(conn, call);
		nitems = wl_op_items(call, &items);
		for (i = 0; i < nitems; i++)
		{
			char		reason[256];
			WlMeta	   *meta = wl_meta_from_item(wl_op_item_at(items, i), reason,
												 sizeof(reason));

			if (meta == NULL)
			{
				ereport(WARNING,
						(errmsg("skipping a malformed collection metadata item: %s", reason)));
				continue;
			}
			wl_visit_meta(meta, visit, arg);
		}
	}
	wl_pages_end(pages);
}

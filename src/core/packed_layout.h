/*
 * packed_layout.h - what the files of the packed format (format 3) share:
 * its number, its buckets table's hash key, its settings, and the parts
 * that format_packed.c calls from packed_meta.c and packed_models.c.  The
 * layout itself is described in format_packed.c.
 */
#ifndef WL_PACKED_LAYOUT_H
#define WL_PACKED_LAYOUT_H

#include "format.h"
#include "model.h"
#include "packed.h"

#define WL_FORMAT_PACKED 3
#define WL_ATTR_BUCKET "bucket"
#define WL_ATTR_FILTERED "filtered"	/* the statistics item's: calibrate.h */
#define WL_PACKED_LEVELS_TEXT 8192

/*
 * A blocked generation's records are keyed by blocks of this many
 * consecutive cells (packed_keys.c), "<gen>/b:<hex of the block>": a
 * search that reads every cell (a rare filter) reads a block in one Query
 * of one page (about 140 KB on 40,000 vectors of 384 dimensions, 380 KB at
 * a million), in one wave of the default 64 max_connections up to 1,024
 * cells, while writes still spread over as many partition keys as a
 * sixteenth of the cells.
 */
#define WL_PACKED_BLOCK_CELLS 16
#define WL_PACKED_BLOCK_PREFIX "b:"

/* What the metadata holds beyond the common settings (meta->private). */
static inline WlPackedSettings *
wl_packed_settings(const WlMeta *meta)
{
	return meta->private;
}

/* Reads the packed settings of a metadata item into meta (packed_meta.c). */
extern bool wl_packed_read_meta(struct json_object *item, WlMeta *meta, char *errbuf,
								size_t errlen);

/* Writes them into a metadata item (packed_meta.c). */
extern void wl_packed_write_meta(const WlMeta *meta, struct json_object *item);

/* Frees them (packed_meta.c). */
extern void wl_packed_free_meta(WlMeta *meta);

/*
 * The generation a key's partition belongs to (0: none), and the
 * description of a collection's generation gen (NULL: none of its)
 * (format_packed.c).
 */
extern int	wl_packed_partition_gen(const char *partition);
extern const WlPackedIndex *wl_packed_gen_index(const WlMeta *meta, int gen);

/*
 * What a record's key spells (packed_keys.c): its partition and chunk, its
 * depth, and the table and cell it names.
 */
extern bool wl_packed_split_key(const char *key, char *partition, char *chunk);
extern int	wl_packed_key_depth(const char *key);
extern bool wl_packed_key_cell(const char *key, int *table, unsigned int *cell);

/*
 * The Queries of the current and the building generation's model items;
 * returns how many (packed_models.c).
 */
extern int	wl_packed_model_calls(const WlMeta *meta, WlDdbCall *calls);
extern bool wl_packed_model_key(const WlMeta *meta, char *buf, size_t len);

/*
 * One generation's model from the model items read, or NULL with the
 * reason in errbuf (packed_models.c).
 */
extern WlModel *wl_packed_load_model(const WlMeta *meta, const WlPackedIndex *index,
									 struct json_object *const *items, int nitems,
									 char *errbuf, size_t errlen);

/*
 * A generation's statistics from the model items read, or NULL: none
 * stored, or none that read (packed_models.c).  The filtered grids of its
 * calibration (calibrate.h), stored with them, go into
 * index->calibration.
 */
extern WlAttrStats *wl_packed_load_stats(WlPackedIndex *index,
										 struct json_object *const *items, int nitems);

#endif							/* WL_PACKED_LAYOUT_H */

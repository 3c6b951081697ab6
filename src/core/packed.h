/*
 * packed.h - what the packed format (format_packed.c) shows beyond the
 * format interface: its index generations, and what building one takes
 * (Postgres-free).
 */
#ifndef WL_PACKED_H
#define WL_PACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attrstats.h"
#include "calibrate.h"
#include "dynamodb.h"
#include "meta.h"
#include "model.h"
#include "recordattrs.h"

/*
 * The most bits of a bucket (a partition) an index of planes may have, and
 * one of cells (WL_CELLS_MAX of them).
 */
#define WL_PACKED_MAX_BITS 16
#define WL_PACKED_MAX_CELL_BITS 22

/* Hex digits of a build's token. */
#define WL_PACKED_TOKEN_LEN 8

/* The most fine bits a chunk key spells, and so the most a search reads. */
#define WL_PACKED_MAX_FINE 20

/* Hash tables an index gets unless its collection asked for others. */
#define WL_PACKED_TABLES 1

/* The fewest vectors a collection trains its first index on. */
#define WL_PACKED_TRAIN_MIN 1000

/* Sample vectors an index is trained on, at least, and a cell's share. */
#define WL_PACKED_SAMPLE_MAX 10000
#define WL_PACKED_SAMPLE_PER_CELL 32

/*
 * Bytes of records a cell holds when an index is built (two 4 KB pages),
 * within a number of vectors; and the most cells.
 */
#define WL_PACKED_CELL_BYTES 8192.0
#define WL_PACKED_CELL_VECTORS_MIN 32.0
#define WL_PACKED_CELL_VECTORS_MAX 256.0
#define WL_PACKED_MAX_CELLS 2048

/*
 * An index of more cells than one k-means trains has them in groups
 * (cells.h), about the square root of their number, trained on a sample of
 * WL_PACKED_SAMPLE_PER_CELL vectors a cell, but of at most
 * WL_PACKED_SAMPLE_FLOATS numbers (128 MB of the vectors as they are; a
 * build holds about four times that while it trains) and at least
 * WL_PACKED_GROUPED_PER_CELL vectors a cell: what bounds its cells.
 */
#define WL_PACKED_SAMPLE_FLOATS (1 << 25)
#define WL_PACKED_GROUPED_PER_CELL 16

/*
 * The most cells an index trains as one set (whiplash.max_ungrouped_cells,
 * WL_PACKED_MAX_CELLS unless set): more are in groups.
 */
extern int	wl_packed_max_flat_cells;

/*
 * Multiply-adds the k-means of one training may take (its sample x cells
 * x components x rounds; a build trains twice, for the two code sizes it
 * tries), which bounds the cells of wide vectors: smaller cells cost the
 * square of their number to train.
 */
#define WL_PACKED_KMEANS_WORK 5.0e10

/*
 * Above this many dimensions an index keeps the principal components that
 * hold WL_PACKED_KEEP_VARIANCE of the variance, WL_PACKED_SUBSPACE_DIMS
 * of them a subspace at the most.
 */
#define WL_PACKED_FULL_DIMS 128
#define WL_PACKED_KEEP_VARIANCE 0.99
#define WL_PACKED_SUBSPACE_DIMS 2

/*
 * Multiply-adds a round of the principal components' subspace iteration
 * (dims x components x (dims + components)) may take, which bounds the
 * components kept of the widest vectors.
 */
#define WL_PACKED_PCA_WORK 1.0e9

/* Times its size at training a collection grows before it retrains. */
#define WL_PACKED_REGROWTH 2

/* One index generation, as the metadata describes it. */
typedef struct WlPackedIndex
{
	int			gen;			/* 1, 2, ...: in every key */
	int			tables;
	int			bits;			/* of a bucket (a partition) */
	int			cells;			/* k-means cells a table are the buckets, or 0:
								 * the planes' bits are */
	int			groups;			/* the cells are in groups (cells.h), or 0 */
	int			fine;			/* chunk depth when built: the most reads use */
	int64_t		vectors;		/* the collection's size when built */
	int			rotation;		/* of the model (model.h) */
	int			subspaces;
	int			plane_dims;
	int			parts;			/* model items */
	size_t		bytes;			/* of the model */
	char		token[WL_PACKED_TOKEN_LEN + 1];	/* random, of the build that
												 * trained it: its model
												 * items' sort keys carry it */
	WlCalibration calibration;	/* measured when built; queries 0: never */
	bool		uuid_names;		/* its records of UUIDs have compact names
								 * (recordname.c) */
	int			name_bytes;		/* mean bytes of its records' names when
								 * built; 0: unknown */
	int			nattrs;			/* attributes its records carry after their
								 * codes (recordattrs.h), in slot order */
	char		attrs[WL_RECORD_ATTRS_MAX][WL_RECORD_ATTR_NAME_MAX + 1];
	bool		partitioned;	/* its records are keyed by the value of its
								 * first attribute (packed_keys.c) */
	bool		blocked;		/* its records are keyed by blocks of
								 * consecutive cells (packed_keys.c) */
	int			stats_bytes;	/* of its attributes' statistics
								 * (attrstats.h), stored beside its model;
								 * 0: none */
	int64_t		unseen_base;	/* the collection's "unseen_overflow" when its
								 * records' Scan began (WlPackedSettings) */
} WlPackedIndex;

/*
 * Values written since an index's statistics were taken that they do not
 * list: "unseen_values", a string set of "<slot>:<attribute>", the slot's
 * bytes and the attribute name's wl_text_hash in hex (35 characters).
 * Writers add theirs while it holds fewer than WL_UNSEEN_ADD_MAX, at most
 * WL_UNSEEN_ADD_EACH at a time, and count a write in "unseen_overflow"
 * otherwise.  The build that lists them takes them out of the set.
 */
#define WL_UNSEEN_ADD_MAX 32
#define WL_UNSEEN_ADD_EACH 16
#define WL_UNSEEN_MAX 256
#define WL_UNSEEN_ELEMENT_LEN (2 * WL_SLOT_BYTES + 1 + 16)

/* One of them: its slot, and a hash of its attribute's name. */
typedef struct WlUnseenValue
{
	unsigned char slot[WL_SLOT_BYTES];
	uint64_t	attr;			/* wl_text_hash of the name */
} WlUnseenValue;

/* The index generations of a collection's metadata. */
typedef struct WlPackedSettings
{
	int			tables;			/* hash tables a new index gets */
	bool		has_current;	/* searched */
	bool		has_building;	/* being built by a re-index */
	WlPackedIndex current;
	WlPackedIndex building;
	int64_t		building_active;	/* when the build's session last showed
									 * it was at work (Unix seconds); 0:
									 * unknown (begun by an older release) */
	int64_t		unseen_overflow;	/* "unseen_overflow": writes of values
									 * too many to list; while it is the
									 * current generation's unseen_base,
									 * its statistics with unseen_values
									 * list every value */
	int			nunseen;		/* -1: unreadable, or more than WL_UNSEEN_MAX */
	WlUnseenValue unseen[WL_UNSEEN_MAX];
	uint64_t	unseen_state;	/* changes when either does */
} WlPackedSettings;

/*
 * The statistics of the current generation's attributes, from its index
 * as a backend holds it (format->open); NULL: none stored, or none that
 * read.
 */
extern const WlAttrStats *wl_packed_current_stats(const WlMeta *meta, const void *index);

/*
 * The calibration of the current generation as a backend holds it, with
 * the filtered grids stored beside its statistics (calibrate.h); NULL
 * when none is searchable.
 */
extern const WlCalibration *wl_packed_current_calibration(const WlMeta *meta,
														  const void *index);

/*
 * The PutItem that stores a generation's statistics beside its model
 * (packed_models.c), with its calibration's filtered grids; their bytes
 * go into index->stats_bytes.  false when out of memory.
 */
extern bool wl_packed_stats_write_call(const WlMeta *meta, WlPackedIndex *index,
									   const WlAttrStats *stats, WlDdbCall *call);

/*
 * Adds to out (n of them so far, room for most) the values of a record
 * written under key that the current generation's statistics do not list
 * and unseen_values does not hold, while the statistics of a generation
 * the record's writes must keep true could still prove a filter empty;
 * returns the new n.  Its writer then reports them (wl_packed_unseen_call).
 */
extern int	wl_packed_record_unseen(const WlMeta *meta, const void *index, const char *key,
									const unsigned char *slots, WlUnseenValue *out, int n,
									int most);

/*
 * The UpdateItem that adds values (n of them) to unseen_values, on
 * condition that it holds fewer than WL_UNSEEN_ADD_MAX; with n 0, the one
 * that counts a write in unseen_overflow instead.
 */
extern void wl_packed_unseen_call(WlDdbCall *call, const char *table, const WlMeta *meta,
								  const WlUnseenValue *values, int n);

/*
 * Do the current generation's statistics prove that a filter, resolved
 * against its attributes, keeps no record: every value listed, and no
 * write of another since they were taken (by the metadata as read)?
 */
extern bool wl_packed_none_kept(const WlMeta *meta, const void *index,
								const WlRecordFilter *filter, const int *slots);

/* The packed settings of a collection's metadata; NULL for other formats. */
extern const WlPackedSettings *wl_packed_settings_of(const WlMeta *meta);

/*
 * The index a collection of n vectors of its dims gets: tables, bits and
 * chunk depth for n, the model's rotation, subspaces and plane dimensions
 * for dims (gen, parts and bytes left for the caller).
 */
extern void wl_packed_plan(const WlMeta *meta, int64_t n, WlPackedIndex *index);

/* Bytes of a record's code in an index generation. */
extern int	wl_packed_index_code_bytes(const WlPackedIndex *index);

/* Bytes of a record's value: its code, then its attributes' slots. */
extern int	wl_packed_index_record_bytes(const WlPackedIndex *index);

/* The most bytes of the slots a record carries. */
#define WL_PACKED_SLOTS_MAX (WL_RECORD_ATTRS_MAX * WL_SLOT_BYTES)

/*
 * The record of a vector item under key (of any generation of the
 * collection): places the key in its partition (wl_packed_key_place), and
 * writes the slots the record carries into out (WL_PACKED_SLOTS_MAX
 * bytes); returns their bytes, 0 when its generation's records carry none.
 */
extern int	wl_packed_key_record(const WlMeta *meta, char *key,
								 struct json_object *item, unsigned char *out);

/*
 * Places the key of a vector item's record in its partition, where the
 * key's generation is partitioned (packed_keys.c); does nothing to
 * other keys, and to keys placed already.
 */
extern void wl_packed_key_place(const WlMeta *meta, char *key, struct json_object *item);

/*
 * A cell's key in the partition of a value's slot, or with every_cell the
 * prefix of all of its table's cells there (packed_keys.c); false for a
 * key of no cell.
 */
extern bool wl_packed_partition_key(const char *key, const unsigned char *slot,
									bool every_cell, char *out);

/*
 * Has the search already read this key of one cell (a wider round's cells
 * between two probed may have been read by an earlier round's run)?
 */
typedef bool (*WlCellRead) (const char *key, void *arg);

/*
 * A round's keys with the whole cells it reads of each partition and
 * table joined into runs (packed_keys.c): consecutive cells, read with the
 * cells between them where that costs fewer read units than a Query of
 * each, taking every cell of a partition to hold cell_bytes, where a
 * run spans at most three times the cells it probes, and where none of
 * the cells between was read before (was_read; NULL: none was).  Writes
 * the keys to read into out (at most nkeys of them, WL_LSH_KEY_MAX bytes
 * each), and how many cells each spans into spans; returns how many, -1
 * when out of memory.  Other keys are kept as they are.
 */
extern int	wl_packed_join_cells(double cell_bytes, const char *const *keys, int nkeys,
								 WlCellRead was_read, void *arg, char *out, int *spans);

/*
 * The cells of a run of wl_packed_join_cells, each as the key of that
 * cell alone, into out (at most `most`); returns how many, 0 for a key of
 * no run.
 */
extern int	wl_packed_run_cells(const char *run, int most, char *out);

/*
 * The attributes the records of a collection's current index carry, and
 * how many; 0 for other formats and untrained collections.
 */
extern int	wl_packed_record_attrs(const WlMeta *meta, const char **names);

/*
 * Is a collection's current index partitioned, its records keyed by the
 * value of its first attribute (packed_keys.c)?
 */
extern bool wl_packed_partitioned(const WlMeta *meta);

/* The attributes the records of an index generation carry, and how many. */
extern int	wl_packed_attr_names(const WlPackedIndex *index, const char **names);

/*
 * Sizes an index's cells (and so its bits and chunk depth) for n vectors
 * of dims, from its codes and the names of its records.
 */
extern void wl_packed_size_cells(WlPackedIndex *index, int64_t n, int dims);

/* Has a collection grown enough that a new index would have more cells? */
extern bool wl_packed_outgrown(const WlMeta *meta, int64_t count);

/* The sample an index of vectors of dims is trained on (wl_packed_plan's). */
extern int	wl_packed_sample_size(const WlPackedIndex *index, int dims);

/*
 * The model of the generation being built of a collection opened with
 * that generation (format->open's index); NULL when none is.
 */
extern const WlModel *wl_packed_building_model(const WlMeta *meta, const void *index);

/* Fits an index's cells to the sample read for it, and keys it by blocks. */
extern void wl_packed_fit_sample(WlPackedIndex *index, int nsample);

/* The model shape of one index generation of a collection. */
extern void wl_packed_shape(const WlMeta *meta, const WlPackedIndex *index,
							WlModelShape *shape);

/* An index description as the metadata's map value (taken by the caller). */
extern struct json_object *wl_packed_index_value(const WlPackedIndex *index);

/* How many model items a model of len bytes is stored in. */
extern int	wl_packed_model_parts(size_t len);

/*
 * The PutItems that store a generation's model under its build's token
 * (room for wl_packed_model_parts(len) calls); returns how many.  Two
 * builds of one generation write distinct items, and only the one whose
 * build begins is ever read.
 */
extern int	wl_packed_model_write_calls(const WlMeta *meta, const WlPackedIndex *index,
										const unsigned char *bytes, size_t len,
										WlDdbCall *calls);

/*
 * The UpdateItem of the metadata that starts building generation
 * `building` (of an index description) on the collection as it is: only if
 * its table generation is still `meta`'s, the current index is the one
 * `building` was planned from (generation building->gen - 1, or none for
 * the first), and no other build is under way (one of the same generation
 * may be resumed; one no newer than the current index was abandoned, and
 * is replaced; so is one whose token is `replacing`, when not NULL: a build
 * whose model cannot be read).  A native collection is
 * converted to the packed format by it, untrained until the build ends.
 * The build's "active_at" is now (Unix seconds).
 */
extern void wl_packed_begin_call(WlDdbCall *call, const char *table, const WlMeta *meta,
								 const WlPackedIndex *building, const char *replacing,
								 int64_t now);

/*
 * The UpdateItem by which a build's session shows it is still at work
 * (every minute or so): sets the build's "active_at" to now, only if it is
 * still the build of token building->token, and when seen > 0, only if
 * "active_at" is still seen (a session taking over an abandoned build
 * claims it, so that only one does).
 */
extern void wl_packed_active_call(WlDdbCall *call, const char *table, const WlMeta *meta,
								  const WlPackedIndex *building, int64_t seen, int64_t now);

/*
 * Has the session building the collection's next index left it: no sign
 * of work for more than timeout seconds?  A build whose "active_at" is
 * unknown is never taken as abandoned.
 */
extern bool wl_packed_build_abandoned(const WlMeta *meta, int64_t now, int64_t timeout);

/*
 * The UpdateItem that makes the building generation the current one: only
 * if it is still the one being built.  It takes the unseen values its
 * statistics list (n of them) out of unseen_values.
 */
extern void wl_packed_finish_call(WlDdbCall *call, const char *table, const WlMeta *meta,
								  const WlPackedIndex *building, const WlUnseenValue *listed,
								  int n);

#endif							/* WL_PACKED_H */

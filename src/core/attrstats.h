/*
 * attrstats.h - statistics of the filterable attributes an index
 * generation's records carry (recordattrs.h), taken when it is built
 * (Postgres-free).
 *
 * For each attribute, the values of its slots (kind byte and payload, so
 * that a test reads them as it reads a record's) with how many records
 * hold each.  While an attribute has at most WL_STATS_VALUES distinct
 * values they are all listed ("complete"); beyond that the list is a
 * sample of WL_STATS_SAMPLE records' values, those of the smallest hashes
 * of their vectors' ids.  Either way the share
 * of records a filter keeps is estimated from the list, and a complete
 * list also proves that a filter can keep no record at all.
 *
 * Stored as bytes, little-endian: "WLS1", the number of attributes, then
 * for each its name's length (2 bytes) and name, whether complete (1), the
 * records counted (8), the values listed (2), and each value's slot
 * (WL_SLOT_BYTES) and count (8).
 */
#ifndef WL_ATTRSTATS_H
#define WL_ATTRSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recordattrs.h"

/*
 * The most values an attribute's statistics list, and the records' values
 * they sample beyond that.
 */
#define WL_STATS_VALUES 1024
#define WL_STATS_SAMPLE 256

/* One listed value: a slot's bytes, and the records holding it. */
typedef struct WlStatValue
{
	unsigned char slot[WL_SLOT_BYTES];
	int64_t		count;
} WlStatValue;

/* The statistics of one attribute. */
typedef struct WlAttrStat
{
	char		name[WL_RECORD_ATTR_NAME_MAX + 1];
	bool		complete;		/* every distinct value is listed */
	int64_t		records;		/* counted */
	int			nvalues;
	WlStatValue values[WL_STATS_VALUES];
	/* where each listed value is: its index + 1; 0: free */
	int16_t		lookup[2 * WL_STATS_VALUES];
	/* while gathering: the records of the smallest id hashes, a sample */
	WlStatValue sample[WL_STATS_SAMPLE];
	uint64_t	sample_hash[WL_STATS_SAMPLE];
	int			nsample;
	int			sample_max;		/* the one of the largest hash */
} WlAttrStat;

/* The statistics of a generation's attributes, in slot order. */
typedef struct WlAttrStats
{
	int			nattrs;
	WlAttrStat	attrs[WL_RECORD_ATTRS_MAX];
} WlAttrStats;

/* Starts gathering the statistics of attributes `names` (n of them). */
extern WlAttrStats *wl_stats_begin(const char *const *names, int n);

/*
 * Counts one record's slots (nattrs * WL_SLOT_BYTES bytes), of the vector
 * whose id hashes to id_hash: the sample is of the smallest hashes, the
 * same whatever order the records come in.
 */
extern void wl_stats_add(WlAttrStats *stats, const unsigned char *slots, uint64_t id_hash);

/*
 * Ends gathering.  The values an earlier generation's statistics listed
 * complete stay listed (count 0) where they still fit: a writer that found
 * its value among the earlier ones did not report it as new (packed.h).
 */
extern void wl_stats_end(WlAttrStats *stats, const WlAttrStats *earlier);

/* Frees statistics (NULL: nothing). */
extern void wl_stats_free(WlAttrStats *stats);

/* The statistics as bytes, malloc'd; NULL when out of memory. */
extern unsigned char *wl_stats_encode(const WlAttrStats *stats, size_t *len);

/*
 * Reads statistics from bytes, for a generation whose records carry
 * attributes `names` (n of them); NULL with the reason in errbuf when
 * they are not statistics of those attributes.
 */
extern WlAttrStats *wl_stats_decode(const unsigned char *bytes, size_t len,
									const char *const *names, int n,
									char *errbuf, size_t errlen);

/*
 * Whether the statistics list a slot of attribute `name`: listed; not,
 * where they list every value (its writer reports it: without it they
 * would prove filters empty that it passes); or not known, where they
 * sample the attribute or have none of it (or are NULL).
 */
typedef enum WlStatsListing
{
	WL_STATS_LISTED,
	WL_STATS_UNLISTED,
	WL_STATS_UNKNOWN
} WlStatsListing;

extern WlStatsListing wl_stats_listing(const WlAttrStats *stats, const char *name,
									   const unsigned char *slot);

/*
 * Lists a value written since the statistics were taken under the
 * attribute whose name's wl_text_hash is attr_hash (none: ignored), with
 * no records: a filter's proof must allow for it.
 */
extern void wl_stats_note(WlAttrStats *stats, uint64_t attr_hash, const unsigned char *slot);

/*
 * The share of records that a filter, with its tests' slots resolved
 * (wl_record_filter_resolve), keeps: those it does not find FALSE.
 */
extern double wl_stats_kept(const WlAttrStats *stats, const WlRecordFilter *filter,
							const int *slots);

/* Do the statistics prove that the filter keeps no record? */
extern bool wl_stats_none_kept(const WlAttrStats *stats, const WlRecordFilter *filter,
							   const int *slots);

/*
 * For the attribute in slot `slot`, where the statistics sample it: the
 * share of records estimated to hold any one value that the sample missed
 * or saw once, one over the distinct values the sample suggests
 * (Haas and Stokes' estimator, which PostgreSQL's ANALYZE uses), and the
 * records the sample holds in *sampled.  0 where they list every value.
 */
extern double wl_stats_rare_share(const WlAttrStats *stats, int slot, double *sampled);

#endif							/* WL_ATTRSTATS_H */

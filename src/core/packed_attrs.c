/*
 * packed_attrs.c - the attributes the records of a packed collection's
 * index generations carry after their codes (recordattrs.h): which ones,
 * and a record's slots of them for a vector item.
 */
#include "packed_layout.h"

#include <stdlib.h>
#include <string.h>

#include "recordattrs.h"

/* The record under key, by its generation's attributes (packed.h). */
int
wl_packed_key_record(const WlMeta *meta, char *key, struct json_object *item,
					 unsigned char *out)
{
	const WlPackedIndex *index = wl_packed_settings_of(meta) != NULL ?
		wl_packed_gen_index(meta, wl_packed_partition_gen(key)) : NULL;
	const char *names[WL_RECORD_ATTRS_MAX];

	if (index == NULL)
		return 0;
	wl_packed_key_place(meta, key, item);
	wl_record_attrs_encode(names, wl_packed_attr_names(index, names), item, out);
	return index->nattrs * WL_SLOT_BYTES;
}

/* The attributes the current generation's records carry (packed.h). */
int
wl_packed_record_attrs(const WlMeta *meta, const char **names)
{
	const WlPackedSettings *settings = wl_packed_settings_of(meta);

	if (settings == NULL || !settings->has_current)
		return 0;
	return wl_packed_attr_names(&settings->current, names);
}

/* Is the current generation partitioned (packed.h)? */
bool
wl_packed_partitioned(const WlMeta *meta)
{
	const WlPackedSettings *settings = wl_packed_settings_of(meta);

	return settings != NULL && settings->has_current && settings->current.partitioned;
}

/* Is a value among the n unseen ones? */
static bool
wl_unseen_has(const WlUnseenValue *values, int n, const WlUnseenValue *value)
{
	int			i;

	for (i = 0; i < n; i++)
		if (values[i].attr == value->attr &&
			memcmp(values[i].slot, value->slot, WL_SLOT_BYTES) == 0)
			return true;
	return false;
}

/*
 * The values of a record that its writer reports (packed.h).  The current
 * generation's statistics prove filters empty while no write was counted
 * too many to list since it was built: a value they do not list is
 * reported.  A generation building will list every value its Scan finds,
 * the values the current one lists and those reported: while it may still
 * prove filters empty once it is current, any other value is reported.
 * Statistics that do not read list nothing.
 */
int
wl_packed_record_unseen(const WlMeta *meta, const void *index, const char *key,
						const unsigned char *slots, WlUnseenValue *out, int n, int most)
{
	const WlPackedSettings *settings = wl_packed_settings_of(meta);
	const WlPackedIndex *desc = settings != NULL ?
		wl_packed_gen_index(meta, wl_packed_partition_gen(key)) : NULL;
	const WlAttrStats *stats;
	bool		current_proves;
	bool		building_may;
	int			i;

	/*
	 * While unseen_overflow is unreadable no statistics prove anything, and
	 * nothing can be counted in it; an unreadable unseen_values counts
	 * writes there (wl_report_unseen), so that proofs stay off even once
	 * the set reads again.
	 */
	if (desc == NULL || desc->nattrs == 0 || settings->unseen_overflow < 0)
		return n;
	current_proves = settings->has_current && settings->current.stats_bytes > 0 &&
		settings->unseen_overflow == settings->current.unseen_base;
	building_may = settings->has_building && settings->building.nattrs > 0 &&
		settings->unseen_overflow == settings->building.unseen_base;
	if (!current_proves && !building_may)
		return n;
	stats = wl_packed_current_stats(meta, index);
	for (i = 0; i < desc->nattrs && n < most; i++)
	{
		WlUnseenValue value;
		WlStatsListing listing;

		memcpy(value.slot, slots + (size_t) i * WL_SLOT_BYTES, WL_SLOT_BYTES);
		value.attr = wl_text_hash(desc->attrs[i]);
		listing = stats == NULL && current_proves ? WL_STATS_UNLISTED :
			wl_stats_listing(stats, desc->attrs[i], value.slot);
		if (listing == WL_STATS_LISTED ||
			(listing == WL_STATS_UNKNOWN && !building_may) ||
			(settings->nunseen > 0 && wl_unseen_has(settings->unseen, settings->nunseen, &value)) ||
			wl_unseen_has(out, n, &value))
			continue;
		out[n++] = value;
	}
	return n;
}

/* Do the statistics prove that a filter keeps no record (packed.h)? */
bool
wl_packed_none_kept(const WlMeta *meta, const void *index, const WlRecordFilter *filter,
					const int *slots)
{
	const WlPackedSettings *settings = wl_packed_settings_of(meta);
	const WlAttrStats *stats = wl_packed_current_stats(meta, index);
	WlAttrStats *noted;
	bool		none;
	int			i;

	if (settings == NULL || !settings->has_current || stats == NULL ||
		settings->current.stats_bytes == 0 || settings->nunseen < 0 ||
		settings->unseen_overflow < 0 ||
		settings->unseen_overflow != settings->current.unseen_base)
		return false;
	if (settings->nunseen == 0)
		return wl_stats_none_kept(stats, filter, slots);
	/* the values written since are there too, with no records counted */
	noted = malloc(sizeof(WlAttrStats));
	if (noted == NULL)
		return false;
	memcpy(noted, stats, sizeof(WlAttrStats));
	for (i = 0; i < settings->nunseen; i++)
		wl_stats_note(noted, settings->unseen[i].attr, settings->unseen[i].slot);
	none = wl_stats_none_kept(noted, filter, slots);
	free(noted);
	return none;
}

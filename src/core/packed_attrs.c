/*
 * packed_attrs.c - the attributes the records of a packed collection's
 * index generations carry after their codes (recordattrs.h): which ones,
 * and a record's slots of them for a vector item.
 */
#include "packed_layout.h"

#include "recordattrs.h"

/* The slots of the record under key, by its generation's attributes. */
int
wl_packed_key_slots(const WlMeta *meta, const char *key, struct json_object *item,
					unsigned char *out)
{
	const WlPackedIndex *index = wl_packed_settings_of(meta) != NULL ?
		wl_packed_gen_index(meta, wl_packed_partition_gen(key)) : NULL;
	const char *names[WL_RECORD_ATTRS_MAX];
	int			i;

	if (index == NULL)
		return 0;
	for (i = 0; i < index->nattrs; i++)
		names[i] = index->attrs[i];
	wl_record_attrs_encode(names, index->nattrs, item, out);
	return index->nattrs * WL_SLOT_BYTES;
}

/* The attributes the current generation's records carry (packed.h). */
int
wl_packed_record_attrs(const WlMeta *meta, const char **names)
{
	const WlPackedSettings *settings = wl_packed_settings_of(meta);
	int			i;

	if (settings == NULL || !settings->has_current)
		return 0;
	for (i = 0; i < settings->current.nattrs; i++)
		names[i] = settings->current.attrs[i];
	return settings->current.nattrs;
}

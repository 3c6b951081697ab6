/*
 * format.c - the registry of storage formats.
 *
 * A metadata item names its format by number (none: v1); collections are
 * created in the current format.  A new format is registered here.
 */
#include "format.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const WlFormat *const wl_formats[] = {
	&wl_format_v1,
	&wl_format_native,
	&wl_format_packed,
};

/* The format of a metadata item's format number; NULL when unknown. */
const WlFormat *
wl_format_by_number(int number)
{
	size_t		i;

	for (i = 0; i < sizeof(wl_formats) / sizeof(wl_formats[0]); i++)
		if (wl_formats[i]->number == number)
			return wl_formats[i];
	return NULL;
}

/* Reads a metadata item of any format; see format.h. */
WlMeta *
wl_meta_from_item(struct json_object *item, char *errbuf, size_t errlen)
{
	int			number;
	WlMeta	   *meta = wl_meta_read_common(item, &number, errbuf, errlen);

	if (meta == NULL)
		return NULL;
	meta->format = wl_format_by_number(number);
	if (meta->format == NULL)
		snprintf(errbuf, errlen, "format %d is not one this version of whiplash reads", number);
	if (meta->format == NULL || !meta->format->read_meta(item, meta, errbuf, errlen) ||
		!wl_meta_tables_own(meta, errbuf, errlen))
	{
		if (errbuf[0] == '\0')
			snprintf(errbuf, errlen, "out of memory");
		wl_meta_free(meta);
		return NULL;
	}
	return meta;
}

/* The format of a name, as whiplash_collections shows it. */
const WlFormat *
wl_format_by_name(const char *name)
{
	size_t		i;

	for (i = 0; i < sizeof(wl_formats) / sizeof(wl_formats[0]); i++)
		if (strcmp(wl_formats[i]->name, name) == 0)
			return wl_formats[i];
	return NULL;
}

/*
 * The format new collections get when none is named: packed, which reads
 * about a tenth of native's units for a higher recall on every benchmark
 * set (BENCHMARKS.md).
 */
const WlFormat *
wl_format_current(void)
{
	return &wl_format_packed;
}

/*
 * format.c - the registry of storage formats.
 *
 * A metadata item names its format by number (none: v1); collections are
 * created in the current format.  A new format is registered here.
 */
#include "format.h"

#include <stddef.h>

static const WlFormat *const wl_formats[] = {
	&wl_format_v1,
	&wl_format_native,
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

/* The format new collections get: the last registered. */
const WlFormat *
wl_format_current(void)
{
	return wl_formats[sizeof(wl_formats) / sizeof(wl_formats[0]) - 1];
}

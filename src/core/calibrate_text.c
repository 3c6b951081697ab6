/*
 * calibrate_text.c - a calibration as the text a collection's metadata
 * stores, and read back (see calibrate.h).  What is read is checked: a
 * grid that another tool spoiled is refused with a reason, and the index
 * is then searched as an uncalibrated one.
 */
#include "calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends printf-style text to out, within len. */
static void
wl_calib_append(char *out, size_t len, size_t *used, const char *text)
{
	size_t		n = strlen(text);

	if (*used + n >= len)
		return;
	memcpy(out + *used, text, n + 1);
	*used += n;
}

/* Appends `name` and a comma list of n integers (each value times scale). */
static void
wl_calib_append_list(char *out, size_t len, size_t *used, const char *name,
					 const int *ints, const float *floats, int n, double scale)
{
	char		number[32];
	int			i;

	wl_calib_append(out, len, used, name);
	for (i = 0; i < n; i++)
	{
		snprintf(number, sizeof(number), "%s%ld", i ? "," : "",
				 ints != NULL ? (long) ints[i] : lround(floats[i] * scale));
		wl_calib_append(out, len, used, number);
	}
}

/* Appends " recall=" and a grid's recalls, per mille, row-major. */
static void
wl_calib_append_grid(char *out, size_t len, size_t *used,
					 const float grid[][WL_CALIB_MAX_AXIS], int rows, int columns)
{
	int			row;

	wl_calib_append(out, len, used, " recall=");
	for (row = 0; row < rows; row++)
	{
		if (row > 0)
			wl_calib_append(out, len, used, ",");
		wl_calib_append_list(out, len, used, "", NULL, grid[row], columns, 1000.0);
	}
}

/*
 * The calibration as text: "q=<queries> k=<k> p=<probes> r=<reranks>
 * recall=<per mille, probes-major>", lists comma-separated.
 */
void
wl_calib_format(const WlCalibration *calibration, char *out, size_t len)
{
	char		number[32];
	size_t		used = 0;

	out[0] = '\0';
	snprintf(number, sizeof(number), "q=%d k=%d", calibration->queries, calibration->k);
	wl_calib_append(out, len, &used, number);
	wl_calib_append_list(out, len, &used, " p=", calibration->probes, NULL,
						 calibration->nprobes, 1);
	wl_calib_append_list(out, len, &used, " r=", calibration->reranks, NULL,
						 calibration->nreranks, 1);
	wl_calib_append_grid(out, len, &used, calibration->recall, calibration->nprobes,
						 calibration->nreranks);
}

/*
 * Reads a comma list of at most `most` integers in [low, high] after
 * `name` at *at; returns how many, -1 when it is not that.
 */
static int
wl_calib_parse_list(const char **at, const char *name, int most, int low, int high,
					int *values)
{
	size_t		len = strlen(name);
	int			n = 0;

	if (strncmp(*at, name, len) != 0)
		return -1;
	*at += len;
	for (;;)
	{
		char	   *end;
		long		value = strtol(*at, &end, 10);

		if (end == *at || value < low || value > high || n == most)
			return -1;
		values[n++] = (int) value;
		*at = end;
		if (**at != ',')
			return n;
		(*at)++;
	}
}

/* Fills a grid of `columns` a row from n recalls read per mille, row-major. */
static void
wl_calib_fill_grid(const int *recall, int n, int columns, float grid[][WL_CALIB_MAX_AXIS])
{
	for (int i = 0; i < n; i++)
		grid[i / columns][i % columns] = recall[i] / 1000.0f;
}

/* Is an axis strictly ascending? */
static bool
wl_calib_ascending(const int *values, int n)
{
	int			i;

	for (i = 1; i < n; i++)
		if (values[i] <= values[i - 1])
			return false;
	return true;
}

/* Reads a calibration back; see the header. */
bool
wl_calib_parse(const char *text, WlCalibration *out, char *errbuf, size_t errlen)
{
	int			recall[WL_CALIB_MAX_AXIS * WL_CALIB_MAX_AXIS];
	const char *at = text;
	int			nrecall = -1;

	memset(out, 0, sizeof(WlCalibration));
	if (wl_calib_parse_list(&at, "q=", 1, 1, 1000000, &out->queries) == 1 &&
		wl_calib_parse_list(&at, " k=", 1, 1, 1000, &out->k) == 1)
	{
		out->nprobes = wl_calib_parse_list(&at, " p=", WL_CALIB_MAX_AXIS, 1, 65535,
										   out->probes);
		if (out->nprobes > 0)
			out->nreranks = wl_calib_parse_list(&at, " r=", WL_CALIB_MAX_AXIS, 1, 1000000,
												out->reranks);
		if (out->nreranks > 0)
			nrecall = wl_calib_parse_list(&at, " recall=",
										  WL_CALIB_MAX_AXIS * WL_CALIB_MAX_AXIS, 0, 1000,
										  recall);
	}
	if (nrecall < 0 || *at != '\0' || nrecall != out->nprobes * out->nreranks ||
		!wl_calib_ascending(out->probes, out->nprobes) ||
		!wl_calib_ascending(out->reranks, out->nreranks))
	{
		snprintf(errbuf, errlen, "its calibration is not a grid of recalls");
		memset(out, 0, sizeof(WlCalibration));
		return false;
	}
	wl_calib_fill_grid(recall, nrecall, out->nreranks, out->recall);
	return true;
}

/*
 * The spread grid as text: "s=<spreads> c=<mean cells, hundredths>
 * m=<most cells> recall=<per mille, spreads-major>".
 */
void
wl_calib_format_spreads(const WlCalibration *calibration, char *out, size_t len)
{
	char		number[32];
	size_t		used = 0;

	out[0] = '\0';
	wl_calib_append_list(out, len, &used, "s=", calibration->spreads, NULL,
						 calibration->nspreads, 1);
	wl_calib_append_list(out, len, &used, " c=", NULL, calibration->spread_cells,
						 calibration->nspreads, 100.0);
	snprintf(number, sizeof(number), " m=%d", calibration->spread_most);
	wl_calib_append(out, len, &used, number);
	wl_calib_append_grid(out, len, &used, calibration->spread_recall, calibration->nspreads,
						 calibration->nreranks);
}

/* Reads a spread grid back; see the header. */
bool
wl_calib_parse_spreads(const char *text, WlCalibration *out, char *errbuf, size_t errlen)
{
	int			recall[WL_CALIB_MAX_AXIS * WL_CALIB_MAX_AXIS];
	int			cells[WL_CALIB_MAX_AXIS];
	const char *at = text;
	int			ncells = -1;
	int			most = -1;
	int			nrecall = -1;
	int			i;

	out->nspreads = wl_calib_parse_list(&at, "s=", WL_CALIB_MAX_AXIS, 1, 1000000,
										out->spreads);
	if (out->nspreads > 0)
		ncells = wl_calib_parse_list(&at, " c=", WL_CALIB_MAX_AXIS, 100, 6553500, cells);
	if (ncells > 0 && wl_calib_parse_list(&at, " m=", 1, 1, 65535, &most) == 1)
		nrecall = wl_calib_parse_list(&at, " recall=",
									  WL_CALIB_MAX_AXIS * WL_CALIB_MAX_AXIS, 0, 1000, recall);
	/* at most the cells the fixed grid reads (all a calibration measured) */
	if (most > WL_CALIB_SPREAD_MOST || out->nprobes == 0 || most > out->probes[out->nprobes - 1])
		nrecall = -1;
	for (i = 0; i < ncells; i++)
		if (cells[i] > most * 100 || (i > 0 && cells[i] < cells[i - 1]))
			ncells = -1;
	if (out->queries == 0 || nrecall < 0 || *at != '\0' || ncells != out->nspreads ||
		nrecall != out->nspreads * out->nreranks ||
		!wl_calib_ascending(out->spreads, out->nspreads))
	{
		snprintf(errbuf, errlen, "its calibration's spreads are not a grid of recalls");
		out->nspreads = 0;
		return false;
	}
	out->spread_most = most;
	for (i = 0; i < out->nspreads; i++)
		out->spread_cells[i] = cells[i] / 100.0f;
	wl_calib_fill_grid(recall, nrecall, out->nreranks, out->spread_recall);
	return true;
}

/*
 * The filtered grids as text: for each level, "f=<keep> p=<cells>
 * recall=<per mille, cells-major>", levels separated by a space; their
 * reranks are the calibration's.
 */
void
wl_calib_format_levels(const WlCalibration *calibration, char *out, size_t len)
{
	char		number[32];
	size_t		used = 0;

	out[0] = '\0';
	for (int l = 0; l < calibration->nlevels; l++)
	{
		const WlCalibLevel *level = &calibration->levels[l];

		snprintf(number, sizeof(number), "%sf=%d", l > 0 ? " " : "", level->keep);
		wl_calib_append(out, len, &used, number);
		wl_calib_append_list(out, len, &used, " p=", level->probes, NULL, level->nprobes, 1);
		wl_calib_append_grid(out, len, &used, level->recall, level->nprobes,
							 calibration->nreranks);
	}
}

/* Reads the filtered grids back; see the header. */
bool
wl_calib_parse_levels(const char *text, WlCalibration *out, char *errbuf, size_t errlen)
{
	int			recall[WL_CALIB_MAX_AXIS * WL_CALIB_MAX_AXIS];
	WlCalibLevel rarer;			/* a level this version does not plan by */
	const char *at = text;
	int			n = 0;
	int			last_keep = 0;
	bool		ok = out->queries > 0 && out->nreranks > 0;

	while (ok && *at != '\0')
	{
		WlCalibLevel *level = n < WL_CALIB_LEVELS ? &out->levels[n] : &rarer;
		int			nrecall = -1;

		ok = wl_calib_parse_list(&at, n > 0 ? " f=" : "f=", 1, 2, 1000000, &level->keep) == 1 &&
			level->keep > last_keep;
		last_keep = level->keep;
		if (ok)
			level->nprobes = wl_calib_parse_list(&at, " p=", WL_CALIB_MAX_AXIS, 1, 65535,
												 level->probes);
		if (ok && level->nprobes > 0)
			nrecall = wl_calib_parse_list(&at, " recall=",
										  WL_CALIB_MAX_AXIS * WL_CALIB_MAX_AXIS, 0, 1000,
										  recall);
		ok = ok && level->nprobes > 0 && nrecall == level->nprobes * out->nreranks &&
			wl_calib_ascending(level->probes, level->nprobes);
		if (ok)
			wl_calib_fill_grid(recall, nrecall, out->nreranks, level->recall);
		n++;
	}
	if (!ok || *at != '\0' || n == 0)
	{
		snprintf(errbuf, errlen, "its calibration's filtered grids are not grids of recalls");
		out->nlevels = 0;
		return false;
	}
	out->nlevels = n < WL_CALIB_LEVELS ? n : WL_CALIB_LEVELS;
	return true;
}

/*
 * packed_keys.c - how the keys of a packed index's records read, and the
 * keys of a partitioned generation.
 *
 * A key spells a record's partition (the buckets table's hash key) and
 * chunk (its sort key), split at the last "/": "2/3:a5/.0110" is chunk
 * ".0110" of cell a5 of table 3 of generation 2.  A generation whose
 * description is partitioned keys its records first by the value of its
 * first attribute (recordattrs.h), so that a search naming that value
 * reads only its records:
 *
 *   bucket (hash key)  "<gen>/p:<18 hex digits>": the value's slot, its
 *                      kind without flags, then its 8 bytes
 *   id (range key)     "<table>:<hex cell>.<fine bits as digits>"
 *
 * as "2/p:03c4.../3:a5.0110".  A search Queries a cell of a partition with
 * begins_with "<table>:<hex cell>.", and a partition's every cell of a
 * table with begins_with "<table>:"; however many partitions there are,
 * a search reads only its own.
 *
 * A generation that no attribute partitions keys its records, since
 * blocks, by blocks of WL_PACKED_BLOCK_CELLS consecutive cells:
 *
 *   bucket (hash key)  "<gen>/b:<hex of cell / WL_PACKED_BLOCK_CELLS>"
 *   id (range key)     "<table>:<hex cell>.<fine bits as digits>"
 *
 * as "2/b:a/3:a5.0110", so that one Query reads a run of a block's
 * cells.  Generations built before keep a partition a cell, "2/3:a5/.0110".
 *
 * A partition holds few records of each cell, and DynamoDB bills every
 * Query at least half a read unit and rounds each up to 4 KB, so a search
 * joins the cells it reads of a partition or block into runs of
 * consecutive cells, read by one Query each between "<table>:<first
 * cell>." and "<table>:<last cell>.~" (the key "<gen>/p:<hex>/<table>:
 * <first>~<last>", or "<gen>/b:<hex>/..."), where the cells between cost
 * less than the Queries saved.  A cell's hex has as many digits as the
 * index's largest (lsh.h's wl_lsh_key_native), so keys sort as cells
 * number, and training numbers near cells near (cells.h's
 * wl_cells_arrange).
 */
#include "packed_layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recordattrs.h"

#define WL_PARTITION_PREFIX "p:"

/*
 * The most cells a run spans, for each cell probed in it: on 384-dimension
 * text, 3 read as few units as no bound and in a Query for every 4 or 5
 * cells probed; 2 in a Query for every 3 or 4.
 */
#define WL_RUN_SPAN 3

/* Splits a key into its partition and chunk, into the buffers given. */
bool
wl_packed_split_key(const char *key, char *partition, char *chunk)
{
	const char *slash = strrchr(key, '/');

	if (slash == NULL || (size_t) (slash - key) >= WL_LSH_KEY_MAX)
		return false;
	memcpy(partition, key, slash - key);
	partition[slash - key] = '\0';
	snprintf(chunk, WL_LSH_KEY_MAX, "%s", slash + 1);
	return true;
}

/* The depth of a key: the digits after the "." of its chunk. */
int
wl_packed_key_depth(const char *key)
{
	const char *slash = strrchr(key, '/');
	const char *dot = slash != NULL ? strchr(slash, '.') : NULL;

	return dot != NULL ? (int) strlen(dot + 1) : 0;
}

/*
 * Is a key (or a partition) one of a partitioned or a blocked
 * generation's, whose partition is not a cell's?
 */
static const char *
wl_partition_of(const char *key)
{
	const char *slash = strchr(key, '/');

	if (slash == NULL || (strncmp(slash + 1, WL_PARTITION_PREFIX, 2) != 0 &&
						  strncmp(slash + 1, WL_PACKED_BLOCK_PREFIX, 2) != 0))
		return NULL;
	return slash + 1;
}

/* The table and cell a record's key names; false when it names none. */
bool
wl_packed_key_cell(const char *key, int *table, unsigned int *cell)
{
	const char *rest = wl_partition_of(key);
	int			gen;

	if (rest != NULL)
		return (rest = strchr(rest, '/')) != NULL &&
			sscanf(rest + 1, "%d:%x", table, cell) == 2;
	return sscanf(key, "%d/%d:%x", &gen, table, cell) == 3;
}

/*
 * The partition of a value's slot, "p:" and 18 hex digits.  Flags are left
 * out, and a zero's sign, so that values SQL finds equal share a partition
 * (a number exact or not).
 */
static void
wl_partition_name(const unsigned char *slot, char *out)
{
	unsigned char bytes[WL_SLOT_BYTES];
	static const unsigned char negative_zero[8] = {0, 0, 0, 0, 0, 0, 0, 0x80};
	int			i;

	memcpy(bytes, slot, WL_SLOT_BYTES);
	bytes[0] &= WL_SLOT_KIND_MASK;
	if ((bytes[0] == WL_SLOT_NUMBER || bytes[0] == WL_SLOT_TIME) &&
		memcmp(bytes + 1, negative_zero, 8) == 0)
		bytes[8] = 0;
	memcpy(out, WL_PARTITION_PREFIX, 2);
	for (i = 0; i < WL_SLOT_BYTES; i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", bytes[i]);
}

/*
 * Spells a cell's key "<gen>/<table>:<cell>/.<digits>" in the partition
 * of a value's slot: "<gen>/p:<hex>/<table>:<cell>.<digits>"; or, with
 * every_cell, the prefix of every cell of its table there,
 * "<gen>/p:<hex>/<table>:".  False for a key of no cell.
 */
bool
wl_packed_partition_key(const char *key, const unsigned char *slot, bool every_cell, char *out)
{
	char		name[2 + 2 * WL_SLOT_BYTES + 1];
	const char *first = strchr(key, '/');
	const char *last = strrchr(key, '/');
	const char *colon;
	int			len;

	if (first == NULL || last == first || wl_partition_of(key) != NULL ||
		(colon = strchr(first, ':')) == NULL || colon > last || last[1] != '.')
		return false;
	wl_partition_name(slot, name);
	if (every_cell)
		len = snprintf(out, WL_LSH_KEY_MAX, "%.*s/%s/%.*s", (int) (first - key), key, name,
					   (int) (colon + 1 - (first + 1)), first + 1);
	else
		len = snprintf(out, WL_LSH_KEY_MAX, "%.*s/%s/%.*s%s", (int) (first - key), key, name,
					   (int) (last - (first + 1)), first + 1, last + 1);
	return len > 0 && len < WL_LSH_KEY_MAX;
}

/* Places a record's key in its partition (packed.h). */
void
wl_packed_key_place(const WlMeta *meta, char *key, struct json_object *item)
{
	const WlPackedIndex *index = wl_packed_settings_of(meta) != NULL ?
		wl_packed_gen_index(meta, wl_packed_partition_gen(key)) : NULL;
	const char *name;
	unsigned char slot[WL_SLOT_BYTES];
	char		placed[WL_LSH_KEY_MAX];

	if (index == NULL || !index->partitioned || wl_partition_of(key) != NULL)
		return;
	name = index->attrs[0];
	wl_record_attrs_encode(&name, 1, item, slot);
	if (wl_packed_partition_key(key, slot, false, placed))
		memcpy(key, placed, WL_LSH_KEY_MAX);
}

/*
 * A key of a whole cell of a partition, which a run may join: its
 * prefix's length, its cell and the digits it is spelt in (at most 8: a
 * cell is an unsigned int); false for other keys.
 */
static bool
wl_whole_cell(const char *key, int *prefix, unsigned int *cell, int *digits)
{
	const char *rest = wl_partition_of(key);
	const char *colon;
	char	   *end;

	if (rest == NULL || (rest = strchr(rest, '/')) == NULL ||
		(colon = strchr(rest, ':')) == NULL)
		return false;
	*cell = (unsigned int) strtoul(colon + 1, &end, 16);
	*prefix = (int) (colon + 1 - key);
	*digits = (int) (end - (colon + 1));
	/* room for a run's "<first>~<last>" */
	return *digits > 0 && *digits <= 8 && strcmp(end, ".") == 0 &&
		*prefix + 2 * *digits + 1 < WL_LSH_KEY_MAX;
}

/* A probed cell, for joining: its key, its prefix and digits, and its cell. */
typedef struct WlProbed
{
	const char *key;
	int			prefix;
	int			digits;
	unsigned int cell;
} WlProbed;

/* Do two probed cells lie in the same partition and table? */
static bool
wl_probed_together(const WlProbed *x, const WlProbed *y)
{
	return x->prefix == y->prefix && x->digits == y->digits &&
		strncmp(x->key, y->key, x->prefix) == 0;
}

/* Orders probed cells by partition and table, then by number. */
static int
wl_probed_cmp(const void *a, const void *b)
{
	const WlProbed *x = a;
	const WlProbed *y = b;
	int			c = x->prefix != y->prefix ? x->prefix - y->prefix :
		x->digits != y->digits ? x->digits - y->digits :
		strncmp(x->key, y->key, x->prefix);

	return c != 0 ? c : (x->cell > y->cell) - (x->cell < y->cell);
}

/*
 * Are the cells strictly between two probed cells of a partition unread,
 * so that a run may span them without reading any twice?
 */
static bool
wl_gap_unread(const WlProbed *from, const WlProbed *to, WlCellRead was_read, void *arg)
{
	char		key[WL_LSH_KEY_MAX];
	unsigned int cell;

	if (was_read == NULL)
		return true;
	for (cell = from->cell + 1; cell < to->cell; cell++)
	{
		snprintf(key, sizeof(key), "%.*s%0*x.", from->prefix, from->key, from->digits, cell);
		if (was_read(key, arg))
			return false;
	}
	return true;
}

/* Joins a round's cells of partitions into runs (packed.h). */
int
wl_packed_join_cells(double cell_bytes, const char *const *keys, int nkeys,
					 WlCellRead was_read, void *arg, char *out, int *spans)
{
	WlProbed   *probed = malloc(sizeof(WlProbed) * (size_t) (nkeys > 0 ? nkeys : 1));
	int			nprobed = 0;
	int			nout = 0;
	int			i;

	if (probed == NULL)
		return -1;
	for (i = 0; i < nkeys; i++)
	{
		WlProbed   *p = &probed[nprobed];

		p->key = keys[i];
		if (wl_whole_cell(keys[i], &p->prefix, &p->cell, &p->digits))
			nprobed++;
		else
		{
			snprintf(out + (size_t) nout * WL_LSH_KEY_MAX, WL_LSH_KEY_MAX, "%s", keys[i]);
			spans[nout++] = 1;
		}
	}
	qsort(probed, nprobed, sizeof(WlProbed), wl_probed_cmp);
	for (i = 0; i < nprobed;)
	{
		const WlProbed *first = &probed[i];
		const WlProbed *last = first;
		char	   *key = out + (size_t) nout * WL_LSH_KEY_MAX;

		/*
		 * The next cell joins when the cells between cost less than its own
		 * Query, and the run spans at most WL_RUN_SPAN times the cells it
		 * probes (so that a partition holding more than cell_bytes, a share
		 * the statistics did not know, reads few more cells than probed),
		 * none of them read before.
		 */
		while (last + 1 < probed + nprobed && wl_probed_together(last + 1, first) &&
			   last[1].cell - first->cell + 1 <= WL_RUN_SPAN * (unsigned int) (last + 2 - first) &&
			   wl_ddb_read_quanta((last[1].cell - first->cell + 1) * cell_bytes) <=
			   wl_ddb_read_quanta((last->cell - first->cell + 1) * cell_bytes) +
			   wl_ddb_read_quanta(cell_bytes) &&
			   wl_gap_unread(last, last + 1, was_read, arg))
			last++;
		if (last == first)
			snprintf(key, WL_LSH_KEY_MAX, "%s", first->key);
		else
			snprintf(key, WL_LSH_KEY_MAX, "%.*s%0*x~%0*x", first->prefix, first->key,
					 first->digits, first->cell, first->digits, last->cell);
		spans[nout++] = (int) (last->cell - first->cell) + 1;
		i = (int) (last - probed) + 1;
	}
	free(probed);
	return nout;
}

/* The cells of a run (wl_packed_join_cells), each as a key of it alone (packed.h). */
int
wl_packed_run_cells(const char *run, int most, char *out)
{
	const char *tilde = strchr(run, '~');
	const char *colon = strrchr(run, ':');
	unsigned int first;
	unsigned int last;
	unsigned int cell;
	int			n = 0;

	if (tilde == NULL || colon == NULL || colon > tilde ||
		sscanf(colon + 1, "%x~%x", &first, &last) != 2)
		return 0;
	for (cell = first; cell <= last && n < most; cell++)
		snprintf(out + (size_t) n++ * WL_LSH_KEY_MAX, WL_LSH_KEY_MAX, "%.*s%0*x.",
				 (int) (colon + 1 - run), run, (int) (tilde - (colon + 1)), cell);
	return n;
}

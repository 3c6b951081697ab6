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
 */
#include "packed_layout.h"

#include <stdio.h>
#include <string.h>

#include "recordattrs.h"

#define WL_PARTITION_PREFIX "p:"

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

/* Is a key (or a partition) one of a partitioned generation's? */
static const char *
wl_partition_of(const char *key)
{
	const char *slash = strchr(key, '/');

	if (slash == NULL || strncmp(slash + 1, WL_PARTITION_PREFIX, 2) != 0)
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

/*
 * recordname.c - the attribute name a packed index gives a vector's record
 * in a chunk item (Postgres-free).
 *
 * A chunk item holds one attribute a record, named by its vector's id, and
 * DynamoDB bills every byte of a name each time a search reads the chunk:
 * with UUID ids, the name was a third of a record.  Generations whose
 * index description says "names": "uuid" (every build after commit
 * 44bc35a) name the record of an id in the canonical text form of a UUID (lower-case hex,
 * 8-4-4-4-12) by its 16 bytes in unpadded base64url, "^" and 22
 * characters, 14 bytes fewer; every other id, and every record of older
 * generations, is named "~<id>".  The two prefixes keep the forms apart,
 * and a compact name whose last character carries bits beyond the 128 is
 * refused, so each id has exactly one name in a generation.
 */
#include "recordname.h"
#include "store.h"

#include <string.h>

#define WL_RECORD_PLAIN '~'
#define WL_RECORD_UUID '^'
#define WL_UUID_BYTES 16
#define WL_UUID_NAME_CHARS (WL_RECORD_UUID_NAME_LEN - 1)

static const char wl_base64url[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Is position i of a UUID's text one of its dashes? */
static bool
wl_uuid_dash(int i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

/* The 16 bytes of an id in canonical lower-case UUID text, or false. */
static bool
wl_uuid_parse(const char *id, unsigned char *bytes)
{
	int			digits = 0;
	int			i;

	for (i = 0; i < WL_UUID_TEXT_LEN; i++)
	{
		char		c = id[i];
		int			value;

		if (wl_uuid_dash(i))
		{
			if (c != '-')
				return false;
			continue;
		}
		value = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (value < 0)
			return false;		/* the end of a shorter id too */
		if (digits % 2 == 0)
			bytes[digits / 2] = (unsigned char) (value << 4);
		else
			bytes[digits / 2] |= (unsigned char) value;
		digits++;
	}
	return id[WL_UUID_TEXT_LEN] == '\0';
}

/* The attribute name of a record; see the header. */
size_t
wl_record_name(const char *id, bool uuid_names, char *out)
{
	unsigned char bytes[WL_UUID_BYTES];
	size_t		len;
	int			bit;
	int			c;

	if (!uuid_names || !wl_uuid_parse(id, bytes))
	{
		len = strlen(id);
		out[0] = WL_RECORD_PLAIN;
		memcpy(out + 1, id, len + 1);
		return len + 1;
	}
	out[0] = WL_RECORD_UUID;
	for (c = 0, bit = 0; c < WL_UUID_NAME_CHARS; c++, bit += 6)
	{
		int			byte = bit / 8;
		int			word = bytes[byte] << 8 | (byte + 1 < WL_UUID_BYTES ? bytes[byte + 1] : 0);

		out[1 + c] = wl_base64url[(word >> (10 - bit % 8)) & 63];
	}
	out[WL_RECORD_UUID_NAME_LEN] = '\0';
	return WL_RECORD_UUID_NAME_LEN;
}

/* The length of a record's name; see the header. */
size_t
wl_record_name_len(const char *id, bool uuid_names)
{
	unsigned char bytes[WL_UUID_BYTES];

	return uuid_names && wl_uuid_parse(id, bytes) ? WL_RECORD_UUID_NAME_LEN : strlen(id) + 1;
}

/* Is an attribute of a chunk item a record? */
bool
wl_record_is_name(const char *name)
{
	return name[0] == WL_RECORD_PLAIN || name[0] == WL_RECORD_UUID;
}

/* The id a record's name spells; see the header. */
const char *
wl_record_id(const char *name, char *uuid)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char bytes[WL_UUID_BYTES] = {0};
	int			digits = 0;
	int			bit;
	int			c;
	int			i;

	/* an id whiplash could not have written: none, or past the sort key's limit */
	if (name[0] == WL_RECORD_PLAIN)
		return name[1] != '\0' && strlen(name + 1) <= WL_SORT_KEY_MAX ? name + 1 : NULL;
	if (name[0] != WL_RECORD_UUID || strlen(name + 1) != WL_UUID_NAME_CHARS)
		return NULL;
	for (c = 0, bit = 0; c < WL_UUID_NAME_CHARS; c++, bit += 6)
	{
		const char *at = name[1 + c] ? strchr(wl_base64url, name[1 + c]) : NULL;
		int			value = at ? (int) (at - wl_base64url) : -1;
		int			shift = 10 - bit % 8;
		int			byte = bit / 8;

		if (value < 0)
			return NULL;
		/* the last character holds 2 bits of the UUID and 4 that must be 0 */
		if (c == WL_UUID_NAME_CHARS - 1 && (value & 15) != 0)
			return NULL;
		bytes[byte] |= (unsigned char) ((value << shift) >> 8);
		if (byte + 1 < WL_UUID_BYTES)
			bytes[byte + 1] |= (unsigned char) (value << shift);
	}
	for (i = 0; i < WL_UUID_TEXT_LEN; i++)
	{
		if (wl_uuid_dash(i))
		{
			uuid[i] = '-';
			continue;
		}
		uuid[i] = hex[digits % 2 == 0 ? bytes[digits / 2] >> 4 : bytes[digits / 2] & 15];
		digits++;
	}
	uuid[WL_UUID_TEXT_LEN] = '\0';
	return uuid;
}

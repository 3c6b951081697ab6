/*
 * test_recordname.c - unit tests of record names (core/recordname.c):
 * every UUID survives the compact form, the form is taken only by
 * canonical lower-case UUIDs and only where the generation asks for it,
 * and names that spell no id, or spell one twice, are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "recordname.h"
#include "store.h"
#include "unit.h"

/* A random canonical UUID's text, from a fixed-seed generator. */
static void
random_uuid(uint64_t *state, char *out)
{
	static const char hex[] = "0123456789abcdef";
	int			i;

	for (i = 0; i < WL_UUID_TEXT_LEN; i++)
		out[i] = (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : hex[test_next(state) % 16];
	out[WL_UUID_TEXT_LEN] = '\0';
}

int
main(void)
{
	char		name[WL_SORT_KEY_MAX + 3];
	char		uuid[WL_UUID_TEXT_LEN + 1];
	char		id[WL_UUID_TEXT_LEN + 1];
	uint64_t	state = 42;
	int			roundtrips = 0;
	int			i;

	/* the plain form: any id, and every id where the generation asks for no other */
	CHECK(wl_record_name("doc-7", true, name) == 6, "a short id is named by itself");
	CHECK_STR(name, "~doc-7", "a plain name is ~ and the id");
	CHECK_STR(wl_record_id(name, uuid), "doc-7", "a plain name spells its id");
	wl_record_name("6ba7b810-9dad-11d1-80b4-00c04fd430c8", false, name);
	CHECK_STR(name, "~6ba7b810-9dad-11d1-80b4-00c04fd430c8",
			  "a generation without compact names names a UUID plainly");

	/* the compact form */
	CHECK(wl_record_name("6ba7b810-9dad-11d1-80b4-00c04fd430c8", true, name) == 23,
		  "a UUID's compact name has 23 bytes");
	CHECK_STR(name, "^a6e4EJ2tEdGAtADAT9QwyA", "a UUID's compact name is its bytes in base64url");
	CHECK(wl_record_name_len("6ba7b810-9dad-11d1-80b4-00c04fd430c8", true) == 23 &&
		  wl_record_name_len("6ba7b810-9dad-11d1-80b4-00c04fd430c8", false) == 37,
		  "the name's length is known without writing it");
	CHECK_STR(wl_record_id(name, uuid), "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
			  "a compact name spells its UUID");
	for (i = 0; i < 2000; i++)
	{
		random_uuid(&state, id);
		wl_record_name(id, true, name);
		roundtrips += name[0] == '^' && wl_record_id(name, uuid) != NULL &&
			strcmp(uuid, id) == 0;
	}
	CHECK(roundtrips == 2000, "2,000 random UUIDs survive their compact names");
	CHECK(wl_record_name("00000000-0000-0000-0000-000000000000", true, name) == 23 &&
		  strcmp(wl_record_id(name, uuid), "00000000-0000-0000-0000-000000000000") == 0 &&
		  wl_record_name("ffffffff-ffff-ffff-ffff-ffffffffffff", true, name) == 23 &&
		  strcmp(wl_record_id(name, uuid), "ffffffff-ffff-ffff-ffff-ffffffffffff") == 0,
		  "the least and greatest UUIDs survive");

	/* ids that look like UUIDs but would not come back the same */
	wl_record_name("6BA7B810-9DAD-11D1-80B4-00C04FD430C8", true, name);
	CHECK(name[0] == '~', "an upper-case UUID keeps its plain name");
	wl_record_name("6ba7b810-9dad-11d1-80b4-00c04fd430c", true, name);
	CHECK(name[0] == '~', "an id a digit short keeps its plain name");
	wl_record_name("6ba7b810-9dad-11d1-80b4-00c04fd430c80", true, name);
	CHECK(name[0] == '~', "an id a digit long keeps its plain name");
	wl_record_name("6ba7b8109dad-11d1-80b4-00c04fd430c8-", true, name);
	CHECK(name[0] == '~', "an id with a dash out of place keeps its plain name");
	wl_record_name("{6ba7b810-9dad-11d1-80b4-00c04fd430c8}", true, name);
	CHECK(name[0] == '~', "a braced UUID keeps its plain name");

	/* names no writer makes */
	CHECK(wl_record_id("~", uuid) == NULL, "an empty plain name spells no id");
	CHECK(wl_record_id("^a6e4EJ2tEdGAtADAT9Qwy", uuid) == NULL, "a short compact name spells none");
	CHECK(wl_record_id("^a6e4EJ2tEdGAtADAT9QwyAA", uuid) == NULL, "a long compact name spells none");
	CHECK(wl_record_id("^a6e4EJ2tEdGAtADAT9Qwy=", uuid) == NULL,
		  "a compact name with a character outside base64url spells none");
	CHECK(wl_record_id("^a6e4EJ2tEdGAtADAT9QwyB", uuid) == NULL,
		  "a compact name with bits beyond the UUID's spells none, so no UUID has two");
	memset(name, 0, sizeof(name));
	name[0] = '~';
	memset(name + 1, 'x', WL_SORT_KEY_MAX);
	CHECK(wl_record_id(name, uuid) == name + 1, "an id of 1,024 bytes, the most a write takes");
	name[1 + WL_SORT_KEY_MAX] = 'x';
	CHECK(wl_record_id(name, uuid) == NULL, "an id of 1,025 bytes spells none");
	CHECK(!wl_record_is_name("bucket") && !wl_record_is_name("id") &&
		  wl_record_is_name("~x") && wl_record_is_name("^x"),
		  "only ~ and ^ names are records");
	return unit_done();
}

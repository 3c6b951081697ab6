/*
 * recordname.h - the attribute names of a packed index's records
 * (recordname.c; Postgres-free).
 */
#ifndef WL_RECORDNAME_H
#define WL_RECORDNAME_H

#include <stdbool.h>
#include <stddef.h>

/* Characters of a UUID in its canonical text form, 8-4-4-4-12 hex digits. */
#define WL_UUID_TEXT_LEN 36

/* Bytes of a UUID's compact record name: "^" and 22 base64url characters. */
#define WL_RECORD_UUID_NAME_LEN 23

/*
 * The attribute name of the record of vector `id` in a generation that
 * names UUIDs compactly (uuid_names) or not, in out of at least
 * strlen(id) + 2 bytes; returns its length.
 */
extern size_t wl_record_name(const char *id, bool uuid_names, char *out);

/* The length of that name, without writing it. */
extern size_t wl_record_name_len(const char *id, bool uuid_names);

/* Is an attribute of a chunk item a record? */
extern bool wl_record_is_name(const char *name);

/*
 * The vector id a record's name spells, decoded into uuid (room for
 * WL_UUID_TEXT_LEN + 1) when it must be; NULL when the name spells none
 * (or an id longer than WL_SORT_KEY_MAX bytes, which no write makes and
 * DynamoDB may refuse as a key).
 */
extern const char *wl_record_id(const char *name, char *uuid);

#endif

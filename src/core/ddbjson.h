/*
 * ddbjson.h - DynamoDB's JSON attribute-value codec on json-c (Postgres-free).
 *
 * DynamoDB wraps every value in a one-key object naming its type:
 * {"S": "text"}, {"N": "1.5"}, {"B": "<base64>"}, {"SS": [...]},
 * {"M": {...}}, {"L": [...]}, {"BOOL": true}, {"NULL": true}.  Builders
 * return new json-c objects owned by the caller (json_object_put); readers
 * borrow from the object they are given and never allocate unless they say
 * so.
 *
 * Only `struct json_object` appears here, never json-c's typedef, so that
 * Postgres glue (whose fmgrprotos.h declares a function json_object) may
 * include this header.
 */
#ifndef WL_DDBJSON_H
#define WL_DDBJSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct json_object;

typedef enum WlAvType
{
	WL_AV_INVALID = 0,			/* not a well-formed attribute value */
	WL_AV_S,
	WL_AV_N,
	WL_AV_B,
	WL_AV_SS,
	WL_AV_NS,
	WL_AV_BS,
	WL_AV_M,
	WL_AV_L,
	WL_AV_BOOL,
	WL_AV_NULL
} WlAvType;

/* Base64 (RFC 4648, with padding).  encode returns a malloc'd string. */
extern char *wl_base64_encode(const void *data, size_t len);

/*
 * Decodes base64 text of length len into a malloc'd buffer (*out, *outlen).
 * Returns 0, or -1 on malformed input (bad characters or padding) or when out
 * of memory; *out is then NULL.
 */
extern int	wl_base64_decode(const char *text, size_t len,
							 unsigned char **out, size_t *outlen);

/* Builders: each returns a new attribute value, or NULL when out of memory. */
/*
 * DynamoDB's limits on an item: 32 levels of nested maps and lists, and
 * 400 KB.  In DynamoDB JSON each level is two JSON levels ({"M": {...}}),
 * and an answer wraps items in a few more, so answers are parsed with room
 * for that.
 */
#define WL_DDB_MAX_NESTING 32
#define WL_DDB_MAX_ITEM_BYTES (400 * 1024)
#define WL_DDB_JSON_DEPTH (2 * WL_DDB_MAX_NESTING + 16)

/*
 * Parses len bytes of JSON text with room for `depth` levels (answers get
 * WL_DDB_JSON_DEPTH); NULL unless it is one complete JSON value.
 */
extern struct json_object *wl_json_parse(const char *text, size_t len, int depth);

/*
 * Checks an attribute value as DynamoDB would take it: at most
 * WL_DDB_MAX_NESTING levels deep, no empty set.  Returns its size as
 * DynamoDB counts it (bytes of strings and binaries, about a byte per two
 * digits of a number, a byte per BOOL or NULL, 3 per map or list and 1 per
 * element), or -1 with the reason in errbuf.
 */
extern long wl_av_check(struct json_object *av, char *errbuf, size_t errlen);

extern struct json_object *wl_av_string(const char *s);
extern struct json_object *wl_av_string_len(const char *s, size_t len);
extern struct json_object *wl_av_number_text(const char *text);
extern struct json_object *wl_av_number_int64(int64_t v);
extern struct json_object *wl_av_number_double(double v);	/* finite only:
															 * NULL for NaN
															 * or infinity */
extern struct json_object *wl_av_binary(const void *data, size_t len);
extern struct json_object *wl_av_string_set(const char *const *items, int n);
extern struct json_object *wl_av_bool(bool b);
extern struct json_object *wl_av_null(void);
/* Wrap a json-c object/array (ownership passes to the result). */
extern struct json_object *wl_av_map(struct json_object *object);
extern struct json_object *wl_av_list(struct json_object *array);

/* The type of an attribute value; WL_AV_INVALID when malformed. */
extern WlAvType wl_av_type(struct json_object *av);

/* The DynamoDB type tag ("S", "SS", ...) for a type, or "?" */
extern const char *wl_av_type_name(WlAvType type);

/* The string of an S value or the text of an N value; NULL otherwise. */
extern const char *wl_av_get_string(struct json_object *av);

/* An N value as int64 or double; returns 0, or -1 when not an N in range. */
extern int	wl_av_get_int64(struct json_object *av, int64_t *out);
extern int	wl_av_get_double(struct json_object *av, double *out);

/* A BOOL value; returns 0, or -1 when not a BOOL. */
extern int	wl_av_get_bool(struct json_object *av, bool *out);

/*
 * A B value decoded into a malloc'd buffer; returns 0, or -1 when not a B or
 * the base64 is malformed.
 */
extern int	wl_av_get_binary(struct json_object *av, unsigned char **out,
							 size_t *outlen);

/*
 * The elements of an SS, NS, BS or L value: the count (or -1 when av is not
 * of that kind) and the i-th element (a string for SS/NS/BS, an attribute
 * value for L).
 */
extern int	wl_av_set_count(struct json_object *av);
extern const char *wl_av_set_item(struct json_object *av, int i);
extern int	wl_av_list_count(struct json_object *av);
extern struct json_object *wl_av_list_item(struct json_object *av, int i);

/* The inner json-c object of an M value (keys → attribute values), or NULL. */
extern struct json_object *wl_av_get_map(struct json_object *av);

/* An item's attribute by name (an item is a plain object of name → value). */
extern struct json_object *wl_item_get(struct json_object *item,
									   const char *name);

#endif							/* WL_DDBJSON_H */

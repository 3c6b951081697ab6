/*
 * store.h - the vector items of a collection, which every format shares
 * (Postgres-free).
 *
 * A vector item holds the id (the hash key), the vector as float32
 * little-endian bytes, the vector's attributes and, in formats that list
 * them, the keys of its bucket entries.  Readers check what they read:
 * it comes from the network.
 */
#ifndef WL_STORE_H
#define WL_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* Attribute names of the items, shared with the original library (v1). */
#define WL_ATTR_ID "id"			/* vectors: the vector's id (S, hash key) */
#define WL_ATTR_VECTOR "vector" /* vectors: float32 little-endian (B) */
#define WL_ATTR_KEYS "keys"		/* native vectors: its bucket keys (SS) */

/* DynamoDB's limits on a hash key and on a sort key, in bytes. */
#define WL_ID_MAX 2048
#define WL_SORT_KEY_MAX 1024

/* Float32 little-endian bytes of a vector, as v1 stores it. */
extern void wl_store_encode_vector(const float *vector, int dims, unsigned char *out);
extern void wl_store_decode_vector(const unsigned char *bytes, int dims, float *out);

/* {"id": {"S": id}}, the key of a vector (and of a v1 bucket). */
extern struct json_object *wl_store_id_key(const char *id);

/*
 * A vector item: its id and vector bytes (a format adds what it keeps about
 * the vector's entries: format.h's decorate).
 */
extern struct json_object *wl_store_vector_item(const char *id, const float *vector,
												int dims);

/*
 * A new copy of a native vector item whose keys attribute lists keys
 * instead (NULL when out of memory): how a repair corrects the list.
 */
extern struct json_object *wl_store_item_with_keys(struct json_object *item,
												   const char *const *keys, int nkeys);

/*
 * An item's id (S) and vector (B of exactly dims float32s) into out.
 * Return NULL / -1 when the attribute is missing or malformed.
 */
extern const char *wl_store_item_id(struct json_object *item);
extern int	wl_store_item_vector(struct json_object *item, int dims, float *out);

/* The bucket keys (SS) of a native vector item: count and the n-th. */
extern int	wl_store_item_key_count(struct json_object *item);
extern const char *wl_store_item_key(struct json_object *item, int n);

#endif							/* WL_STORE_H */

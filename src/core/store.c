/*
 * store.c - the vector items of a collection.
 *
 * The layouts are documented in doc/storage-format.md.  Vectors are
 * float32 little-endian in a B attribute in every format, so that v1
 * collections written by the original library read back unchanged.
 */
#include "store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ddbjson.h"

/* Writes vector as float32 little-endian, whatever the host's order. */
void
wl_store_encode_vector(const float *vector, int dims, unsigned char *out)
{
	int			i;

	for (i = 0; i < dims; i++)
	{
		uint32_t	bits;

		memcpy(&bits, &vector[i], sizeof(bits));
		out[4 * i] = bits & 0xff;
		out[4 * i + 1] = (bits >> 8) & 0xff;
		out[4 * i + 2] = (bits >> 16) & 0xff;
		out[4 * i + 3] = (bits >> 24) & 0xff;
	}
}

/* Reads float32 little-endian bytes into floats. */
void
wl_store_decode_vector(const unsigned char *bytes, int dims, float *out)
{
	int			i;

	for (i = 0; i < dims; i++)
	{
		uint32_t	bits = (uint32_t) bytes[4 * i] |
			((uint32_t) bytes[4 * i + 1] << 8) |
			((uint32_t) bytes[4 * i + 2] << 16) |
			((uint32_t) bytes[4 * i + 3] << 24);

		memcpy(&out[i], &bits, sizeof(bits));
	}
}

/* {"id": {"S": id}} */
struct json_object *
wl_store_id_key(const char *id)
{
	struct json_object *key = json_object_new_object();

	json_object_object_add(key, WL_ATTR_ID, wl_av_string(id));
	return key;
}

/* A vector item; see the header. */
struct json_object *
wl_store_vector_item(const char *id, const float *vector, int dims)
{
	struct json_object *item = json_object_new_object();
	unsigned char *bytes = malloc((size_t) dims * 4);

	if (item == NULL || bytes == NULL)
	{
		json_object_put(item);
		free(bytes);
		return NULL;
	}
	wl_store_encode_vector(vector, dims, bytes);
	json_object_object_add(item, WL_ATTR_ID, wl_av_string(id));
	json_object_object_add(item, WL_ATTR_VECTOR, wl_av_binary(bytes, (size_t) dims * 4));
	free(bytes);
	return item;
}

/* A deep copy of item with its keys attribute replaced. */
struct json_object *
wl_store_item_with_keys(struct json_object *item, const char *const *keys, int nkeys)
{
	struct json_object *copy = NULL;

	if (json_object_deep_copy(item, &copy, NULL) != 0 || copy == NULL)
		return NULL;
	json_object_object_add(copy, WL_ATTR_KEYS, wl_av_string_set(keys, nkeys));
	return copy;
}

/* The id of an item (S), or NULL. */
const char *
wl_store_item_id(struct json_object *item)
{
	return wl_av_get_string(wl_item_get(item, WL_ATTR_ID));
}

/*
 * The vector of an item into out; -1 when it is missing, not binary, or not
 * exactly dims float32s long.
 */
int
wl_store_item_vector(struct json_object *item, int dims, float *out)
{
	unsigned char *bytes = NULL;
	size_t		len = 0;

	if (wl_av_get_binary(wl_item_get(item, WL_ATTR_VECTOR), &bytes, &len) != 0)
		return -1;
	if (len != (size_t) dims * 4)
	{
		free(bytes);
		return -1;
	}
	wl_store_decode_vector(bytes, dims, out);
	free(bytes);
	return 0;
}

/* How many bucket keys a native vector item lists (0 when none). */
int
wl_store_item_key_count(struct json_object *item)
{
	int			count = wl_av_set_count(wl_item_get(item, WL_ATTR_KEYS));

	return count < 0 ? 0 : count;
}

/* The n-th bucket key of a native vector item. */
const char *
wl_store_item_key(struct json_object *item, int n)
{
	return wl_av_set_item(wl_item_get(item, WL_ATTR_KEYS), n);
}

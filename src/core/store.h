/*
 * store.h - the DynamoDB requests and items of a vector collection
 * (Postgres-free).
 *
 * Builders make request bodies for BatchGetItem, BatchWriteItem, Query and
 * Scan, splitting nothing: the caller decides the batch sizes (at most 100
 * keys for BatchGetItem, 25 writes for BatchWriteItem).  Readers pull items,
 * continuation keys and unprocessed work out of responses.  Ownership: a
 * builder takes over the json objects passed to it; readers return borrowed
 * objects that live as long as the response.
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
#define WL_ATTR_BUCKET "bucket" /* native buckets: hash key (S); sort key id */
#define WL_ATTR_IDS "ids"		/* v1 buckets: the ids of the bucket (SS) */

/* DynamoDB's limits on one batch call. */
#define WL_BATCH_GET_MAX 100
#define WL_BATCH_WRITE_MAX 25

/* Float32 little-endian bytes of a vector, as v1 stores it. */
extern void wl_store_encode_vector(const float *vector, int dims, unsigned char *out);
extern void wl_store_decode_vector(const unsigned char *bytes, int dims, float *out);

/* {"id": {"S": id}}, the key of a vector (and of a v1 bucket). */
extern struct json_object *wl_store_id_key(const char *id);

/*
 * The native bucket entry of id under key: {"bucket": {"S": key}, "id":
 * {"S": id}}, or for a key with fine bits, "<bucket>/<digits>",
 * {"bucket": {"S": bucket}, "id": {"S": "<digits>/<id>"}}.
 */
extern struct json_object *wl_store_bucket_entry(const char *key, const char *id);

/*
 * What a native bucket entry read back holds, given the collection's fine
 * bits: the vector's id (NULL when the entry is malformed), and the key it
 * is under, as wl_meta_vector_keys spells it, into out (false when
 * malformed or longer than outlen).
 */
extern const char *wl_store_entry_id(struct json_object *entry, int fine_bits);
extern bool wl_store_entry_key(struct json_object *entry, int fine_bits, char *out,
							   size_t outlen);

/*
 * A vector item: id, vector bytes and, for native collections, the bucket
 * keys it was written under (so that a replace or delete can remove exactly
 * those entries); keys NULL for v1.
 */
extern struct json_object *wl_store_vector_item(const char *id, const float *vector,
												int dims, const char *const *keys,
												int nkeys);

/*
 * A new copy of a native vector item whose keys attribute lists keys
 * instead (NULL when out of memory): how a repair corrects the list.
 */
extern struct json_object *wl_store_item_with_keys(struct json_object *item,
												   const char *const *keys, int nkeys);

/* {"PutRequest": {"Item": item}} and {"DeleteRequest": {"Key": key}}. */
extern struct json_object *wl_store_put_request(struct json_object *item);
extern struct json_object *wl_store_delete_request(struct json_object *key);

/*
 * BatchGetItem of keys (nkeys <= 100) from one table, strongly consistent
 * when consistent, reading only the attributes in projection (a
 * comma-separated list of plain names, or NULL for all).
 */
extern struct json_object *wl_store_batch_get(const char *table,
											  struct json_object *const *keys, int nkeys,
											  const char *projection, bool consistent);

/* BatchWriteItem of write requests (nrequests <= 25) on one table. */
extern struct json_object *wl_store_batch_write(const char *table,
												struct json_object *const *requests,
												int nrequests);

/*
 * Query of the entries under one native key (a bucket, or a longer code
 * prefix with fine bits; sort keys only), continuing after start_key when
 * it is not NULL (a copy is taken).
 */
extern struct json_object *wl_store_bucket_query(const char *table, const char *key,
												 struct json_object *start_key);

/*
 * Scan of a table, continuing after start_key when not NULL (a copy is
 * taken); limit 0 means DynamoDB's own page size (1 MB).
 */
extern struct json_object *wl_store_scan(const char *table, struct json_object *start_key,
										 int limit);

/* UpdateItem adding (add true) or deleting id in a v1 bucket's id set. */
extern struct json_object *wl_store_v1_bucket_update(const char *table, const char *bucket,
													 const char *id, bool add);

/* PutItem / DeleteItem of one item / key, for single-row writes. */
extern struct json_object *wl_store_put_item(const char *table, struct json_object *item,
											 const char *condition);
extern struct json_object *wl_store_delete_item(const char *table, struct json_object *key);

/* GetItem of one key, strongly consistent. */
extern struct json_object *wl_store_get_item(const char *table, struct json_object *key);

/*
 * The items of a response: Responses[table] of BatchGetItem, Items of Query
 * and Scan, or a one-element view of GetItem's Item.  Returns the count and
 * sets *items to a borrowed array (NULL when there are none).
 */
extern int	wl_store_items(struct json_object *response, const char *table,
						   struct json_object **items);

/* The i-th element of an array from wl_store_items. */
extern struct json_object *wl_store_item_at(struct json_object *items, int i);

/* GetItem's Item, or NULL when the key does not exist. */
extern struct json_object *wl_store_get_item_result(struct json_object *response);

/* LastEvaluatedKey of a Query or Scan response (borrowed), or NULL. */
extern struct json_object *wl_store_last_key(struct json_object *response);

/*
 * A new request for what a batch call left undone: BatchGetItem's
 * UnprocessedKeys or BatchWriteItem's UnprocessedItems, or NULL when it
 * left nothing.  *count receives the number of keys or writes in it.
 */
extern struct json_object *wl_store_unprocessed(struct json_object *response,
												const char *operation, int *count);

/*
 * An item's id (S) and vector (B of exactly dims float32s) into out.
 * Return NULL / -1 when the attribute is missing or malformed.
 */
extern const char *wl_store_item_id(struct json_object *item);
extern int	wl_store_item_vector(struct json_object *item, int dims, float *out);

/* The bucket keys (SS) of a native vector item: count and the n-th. */
extern int	wl_store_item_key_count(struct json_object *item);
extern const char *wl_store_item_key(struct json_object *item, int n);

/* The ids (SS) of a v1 bucket item: count and the n-th. */
extern int	wl_store_item_id_count(struct json_object *item);
extern const char *wl_store_item_id_at(struct json_object *item, int n);

#endif							/* WL_STORE_H */

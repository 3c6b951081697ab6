/*
 * operations.h - one builder per DynamoDB operation, the readers of their
 * answers, and the follow-ups of answers that leave work undone
 * (Postgres-free).
 *
 * Every request whiplash sends is assembled by a builder here: it fills a
 * call with its operation, its table (named in errors and counted in
 * statistics) and its body.  Builders take over the json objects passed to
 * them; a builder that runs out of memory leaves the call without a body,
 * which wl_ddb_execute reports as out of memory.  Readers return objects
 * borrowed from the call's response.
 */
#ifndef WL_OPERATIONS_H
#define WL_OPERATIONS_H

#include <stdbool.h>

#include "dynamodb.h"

struct json_object;

/* DynamoDB's limits on one batch call. */
#define WL_BATCH_GET_MAX 100
#define WL_BATCH_WRITE_MAX 25

/* GetItem of one key. */
extern void wl_op_get_item(WlDdbCall *call, const char *table, struct json_object *key,
						   bool consistent);

/* PutItem of one item, under a condition expression when not NULL. */
extern void wl_op_put_item(WlDdbCall *call, const char *table, struct json_object *item,
						   const char *condition);

/* DeleteItem of one key. */
extern void wl_op_delete_item(WlDdbCall *call, const char *table, struct json_object *key);

/*
 * UpdateItem of one key: an update expression, an optional condition, and
 * the expression's attribute names and values (each NULL when none).
 */
extern void wl_op_update_item(WlDdbCall *call, const char *table, struct json_object *key,
							  const char *update, const char *condition,
							  struct json_object *names, struct json_object *values);

/*
 * Adds a key to the last of ncalls BatchGetItem calls of one table, or to
 * a new call when that one holds WL_BATCH_GET_MAX keys already (or there
 * is none); returns the number of calls, so calls needs room for one call
 * per WL_BATCH_GET_MAX keys.  The calls read only the attributes in
 * projection (a comma-separated list of plain names, or NULL for all).
 */
extern int	wl_op_batch_get_append(WlDdbCall *calls, int ncalls, const char *table,
								   const char *projection, bool consistent,
								   struct json_object *key);

/*
 * Adds a write request ({"PutRequest": ...} or {"DeleteRequest": ...}) to
 * the last of ncalls BatchWriteItem calls of one table, or to a new call
 * when that one is full (WL_BATCH_WRITE_MAX) or there is none; returns
 * the number of calls.
 */
extern int	wl_op_batch_write_append(WlDdbCall *calls, int ncalls, const char *table,
									 struct json_object *request);

/* {"PutRequest": {"Item": item}} and {"DeleteRequest": {"Key": key}}. */
extern struct json_object *wl_op_put_request(struct json_object *item);
extern struct json_object *wl_op_delete_request(struct json_object *key);

/*
 * Query of one partition: a key condition, a projection expression (NULL:
 * every attribute), and the expressions' attribute names and values.
 */
extern void wl_op_query(WlDdbCall *call, const char *table, const char *condition,
						const char *projection, struct json_object *names,
						struct json_object *values, bool consistent);

/*
 * Scan of a table, with a filter expression and its values when filter is
 * not NULL; limit 0 means DynamoDB's own page size (1 MB).
 */
extern void wl_op_scan(WlDdbCall *call, const char *table, const char *filter,
					   struct json_object *values, int limit, bool consistent);

/*
 * Scan of segment `segment` (from 0) of `segments` of a table: the calls
 * of all segments, run at once, read the table in parallel, each paging
 * through its own share of the items.
 */
extern void wl_op_scan_segment(WlDdbCall *call, const char *table, int segment,
							   int segments, bool consistent);

/*
 * DescribeTable, DeleteTable, and CreateTable of an on-demand table keyed
 * by strings: hash_key, and range_key when not NULL.
 */
extern void wl_op_describe_table(WlDdbCall *call, const char *table);
extern void wl_op_delete_table(WlDdbCall *call, const char *table);
extern void wl_op_create_table(WlDdbCall *call, const char *table, const char *hash_key,
							   const char *range_key);

/*
 * The call that carries on what a finished call left undone: the next page
 * of a Query or Scan (its LastEvaluatedKey), or what a BatchGetItem or
 * BatchWriteItem left unprocessed (then *unprocessed is set, since
 * DynamoDB asks the client to slow down).  Fills next and returns true, or
 * returns false when done left nothing.  next must be empty.
 */
extern bool wl_op_followup(const WlDdbCall *done, WlDdbCall *next, bool *unprocessed);

/* Did the call fail with this DynamoDB error type? */
extern bool wl_op_failed_with(const WlDdbCall *call, const char *type);

/*
 * The items of a call's response: Responses[table] of BatchGetItem, Items
 * of Query and Scan.  Returns the count and sets *items to a borrowed array
 * (NULL when there are none); wl_op_item_at reads its elements.
 */
extern int	wl_op_items(const WlDdbCall *call, struct json_object **items);
extern struct json_object *wl_op_item_at(struct json_object *items, int i);

/* GetItem's Item, or NULL when the key does not exist. */
extern struct json_object *wl_op_get_item_result(const WlDdbCall *call);

/*
 * The TableStatus of a DescribeTable or CreateTable answer ("ACTIVE",
 * "CREATING", ...) or NULL.
 */
extern const char *wl_op_table_status(const WlDdbCall *call);

#endif							/* WL_OPERATIONS_H */

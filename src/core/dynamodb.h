/*
 * dynamodb.h - a DynamoDB client: signed JSON calls with retries
 * (Postgres-free).
 *
 * A WlDdb holds an endpoint, credentials and a kept-alive HTTP client.
 * wl_ddb_execute sends a batch of calls at once, retries the ones that
 * failed for a transient reason (throttling, HTTP 5xx, no answer) with
 * exponential backoff and full jitter, and leaves each call with either a
 * parsed response or an error that names DynamoDB's error type and message.
 */
#ifndef WL_DYNAMODB_H
#define WL_DYNAMODB_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "http.h"

struct json_object;

typedef struct WlDdb WlDdb;

/* Bytes of the read unit that DynamoDB bills a Query, a Scan or an item by. */
#define WL_DDB_READ_UNIT 4096.0

/*
 * The read units a strongly consistent Query, Scan page or item of `bytes`
 * costs: rounded up to 4 KB once, at least one.  An eventually consistent
 * read costs half.
 */
static inline double
wl_ddb_read_quanta(double bytes)
{
	return ceil(fmax(bytes, 1.0) / WL_DDB_READ_UNIT);
}

/*
 * Recodes a body between the caller's text encoding and DynamoDB's UTF-8:
 * returns a malloc'd copy, NUL-terminated, and sets *outlen, or returns NULL with the reason
 * in errbuf when the text cannot be recoded.
 */
typedef char *(*WlDdbRecode) (const char *text, size_t len, size_t *outlen,
							  char *errbuf, size_t errlen);

/*
 * Checks that a request body, sent as it is, is UTF-8: false with the
 * reason in errbuf when it is not.  For callers whose text is unchecked
 * bytes (PostgreSQL's SQL_ASCII), instead of a recoding copy.
 */
typedef bool (*WlDdbCheck) (const char *text, size_t len, char *errbuf, size_t errlen);

typedef struct WlDdbConfig
{
	const char *endpoint;		/* base URL; NULL: AWS's for region */
	const char *region;
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* NULL when none */
	long		connect_timeout_ms;
	long		request_timeout_ms; /* one attempt */
	int			max_retries;	/* attempts after the first */
	long		retry_base_delay_ms;	/* backoff before the first retry */
	long		retry_max_delay_ms; /* cap of one backoff */
	int			max_connections;
	const char *ca_file;		/* NULL: the system's CA bundle */
	WlDdbRecode to_utf8;		/* request bodies; NULL when already UTF-8 */
	WlDdbRecode from_utf8;		/* response bodies; NULL to keep UTF-8 */
	WlDdbCheck	check_utf8;		/* request bodies sent as they are; or NULL */
} WlDdbConfig;

typedef enum WlDdbErrorKind
{
	WL_DDB_OK = 0,
	WL_DDB_SERVICE_ERROR,		/* DynamoDB answered with an error */
	WL_DDB_NO_RESPONSE,			/* connect failure, timeout, reset */
	WL_DDB_BAD_RESPONSE,		/* an answer that is not DynamoDB JSON */
	WL_DDB_BAD_TEXT,			/* text that is not UTF-8, or has no
								 * equivalent in the caller's encoding */
	WL_DDB_OUT_OF_MEMORY
} WlDdbErrorKind;

typedef struct WlDdbError
{
	WlDdbErrorKind kind;
	WlHttpFailure failure;		/* for WL_DDB_NO_RESPONSE */
	long		http_status;	/* 0 when there was no response */
	char		type[128];		/* "ResourceNotFoundException" */
	char		message[1024];
} WlDdbError;

typedef struct WlDdbCall
{
	const char *operation;		/* "GetItem", also the X-Amz-Target suffix */
	const char *table;			/* named in errors; may be NULL */
	struct json_object *request;	/* the body; owned by the call */
	struct json_object *response;	/* set on success; owned by the call */
	WlDdbError error;
	int			attempts;
} WlDdbCall;

/* Counters of what a client has done since it was created. */
typedef struct WlDdbStats
{
	long		calls;			/* DynamoDB calls completed */
	long		retries;		/* attempts after the first */
	long		requests;		/* HTTP requests sent */
	long		connections;	/* connections opened */
	long		bytes_received; /* response bodies, every attempt's */
	double		capacity_units; /* ConsumedCapacity of successful calls */
} WlDdbStats;

/* Results of wl_ddb_execute. */
#define WL_DDB_DONE		0		/* every call has a response or an error */
#define WL_DDB_ABORTED	1		/* the abort check fired */

/*
 * The default endpoint for an AWS region ("https://dynamodb.<region>.
 * amazonaws.com", ".com.cn" for China regions) into buf.
 */
extern void wl_ddb_default_endpoint(const char *region, char *buf, size_t len);

/*
 * Whether region has the form AWS's region names take: an area, an optional
 * partition, a direction and a number ("eu-west-1", "us-gov-east-1",
 * "ap-southeast-2"), so that a typo such as "eu-wset-1" is caught before a
 * request is sent to a host that does not exist.
 */
extern bool wl_ddb_region_form(const char *region);

/* Is this DynamoDB error type one that a retry may cure? */
extern bool wl_ddb_is_throttling(const char *type);

/*
 * Creates a client (copying everything in config), or returns NULL with a
 * reason in errbuf.
 */
extern WlDdb *wl_ddb_create(const WlDdbConfig *config, char *errbuf, size_t errlen);

/* Closes the client's connections and frees it; NULL is a no-op. */
extern void wl_ddb_destroy(WlDdb *ddb);

/*
 * Sends the calls concurrently, retrying transient failures, until each has
 * a response or a final error.  abort_check is polled during every wait
 * (network and backoff); when it fires, WL_DDB_ABORTED is returned and the
 * calls' results are not to be used.
 */
extern int	wl_ddb_execute(WlDdb *ddb, WlDdbCall *calls, int ncalls,
						   WlHttpAbortCheck abort_check, void *abort_arg);

/*
 * Reads DynamoDB's answer to a call, HTTP status and body (len bytes; no
 * terminating zero needed): a 200 whose body is a complete JSON object
 * becomes *response (the caller's to json_object_put); anything else
 * leaves *response NULL and fills error with DynamoDB's error type and
 * message.  Returns true when another attempt may cure the failure.
 * wl_ddb_execute reads every answer with it; it is exported so that the
 * reading of these untrusted bytes can be tested (and fuzzed) without a
 * server.
 */
extern bool wl_ddb_read_response(long status, const char *body, size_t len,
								 struct json_object **response, WlDdbError *error);

/* Frees a call's request and response and clears its results. */
extern void wl_ddb_call_reset(WlDdbCall *call);

/*
 * Adds "ReturnConsumedCapacity": "TOTAL" to the request of an operation
 * that reports capacity, so that the counters can sum it.
 */
extern void wl_ddb_ask_capacity(const char *operation, struct json_object *request);

/* The CapacityUnits a response reports (summed over tables), or 0. */
extern double wl_ddb_consumed_capacity(struct json_object *response);

/* Copies the client's counters. */
extern void wl_ddb_get_stats(const WlDdb *ddb, WlDdbStats *stats);

/*
 * Sleeps the backoff before round `round` (1 for the first retry) of some
 * work: exponential with full jitter, a uniform delay in [0, min(max_ms,
 * base_ms * 2^(round - 1))], in short slices, polling abort_check between
 * them.  Returns true when aborted.  wl_ddb_execute backs off with it
 * between its retries; callers use it wherever else they wait (for work
 * DynamoDB left unprocessed, for a table to become ACTIVE).
 */
extern bool wl_ddb_backoff(WlDdb *ddb, int round, long base_ms, long max_ms,
						   WlHttpAbortCheck abort_check, void *abort_arg);

#endif							/* WL_DYNAMODB_H */

/*
 * dynamodb.c - signed DynamoDB JSON calls with retries.
 *
 * Every call is a POST of a JSON body to the endpoint with an X-Amz-Target
 * naming the operation, signed with SigV4.  wl_ddb_execute runs a batch of
 * calls in rounds: each round sends every call still pending at once, then
 * sorts the answers into done, failed for good, or worth another try; the
 * next round starts after an exponential backoff with full jitter (AWS's
 * recommended scheme: a uniform delay in [0, min(cap, base * 2^round)]).
 */
#include "dynamodb.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ddbjson.h"
#include "sigv4.h"

#define WL_DDB_TARGET_PREFIX "DynamoDB_20120810."
#define WL_DDB_CONTENT_TYPE "application/x-amz-json-1.0"
#define WL_DDB_HEADERS 6
#define WL_DDB_SLEEP_SLICE_MS 20
/* Retries a refused connection gets, in case the server is restarting. */
#define WL_DDB_REFUSED_RETRIES 2

struct WlDdb
{
	WlHttpClient *http;
	WlEndpoint	endpoint;
	char	   *region;
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;
	int			max_retries;
	long		retry_base_delay_ms;
	long		retry_max_delay_ms;
	uint64_t	jitter_state;
	WlDdbRecode to_utf8;
	WlDdbRecode from_utf8;
	WlDdbCheck	check_utf8;
	WlDdbStats	stats;
};

/* One attempt of one call: its signed headers and its HTTP exchange. */
typedef struct WlAttempt
{
	WlDdbCall  *call;
	const char *body;			/* borrowed from call->request, or recoded */
	char	   *recoded;		/* the body recoded to UTF-8, or NULL */
	char	   *header_lines[WL_DDB_HEADERS];
	const char *headers[WL_DDB_HEADERS];
	WlHttpRequest http;
} WlAttempt;

/* Error types DynamoDB uses to ask a client to slow down. */
bool
wl_ddb_is_throttling(const char *type)
{
	return strcmp(type, "ThrottlingException") == 0 ||
		strcmp(type, "ProvisionedThroughputExceededException") == 0 ||
		strcmp(type, "RequestLimitExceeded") == 0;
}

/* Whether word, of len bytes, is one of the NULL-terminated words. */
static bool
wl_word_in(const char *word, size_t len, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strlen(*words) == len && strncmp(word, *words, len) == 0)
			return true;
	return false;
}

/* Does region have the form of AWS's region names; see the header. */
bool
wl_ddb_region_form(const char *region)
{
	static const char *const partitions[] = {"gov", "iso", "isob", "isoe", "isof", NULL};
	static const char *const directions[] = {"north", "south", "east", "west", "central",
		"northeast", "northwest", "southeast", "southwest", NULL};
	const char *word = region;
	const char *dash;
	size_t		len;

	/* an area of two letters: "us", "eu", "ap", "cn", ... */
	if (strlen(region) < 3 || !islower((unsigned char) region[0]) ||
		!islower((unsigned char) region[1]) || region[2] != '-')
		return false;
	word = region + 3;
	dash = strchr(word, '-');
	if (dash == NULL)
		return false;
	len = (size_t) (dash - word);
	if (wl_word_in(word, len, partitions))
	{
		word = dash + 1;
		dash = strchr(word, '-');
		if (dash == NULL)
			return false;
		len = (size_t) (dash - word);
	}
	if (!wl_word_in(word, len, directions))
		return false;
	word = dash + 1;
	len = strlen(word);
	return len >= 1 && len <= 2 && strspn(word, "0123456789") == len;
}

/* AWS's public DynamoDB endpoint for a region. */
void
wl_ddb_default_endpoint(const char *region, char *buf, size_t len)
{
	const char *suffix = strncmp(region, "cn-", 3) == 0 ? ".com.cn" : ".com";

	snprintf(buf, len, "https://dynamodb.%s.amazonaws%s", region, suffix);
}

/* strdup that keeps NULL as NULL; sets *failed when out of memory. */
static char *
wl_strdup_or_null(const char *s, bool *failed)
{
	char	   *copy;

	if (s == NULL)
		return NULL;
	copy = strdup(s);
	if (copy == NULL)
		*failed = true;
	return copy;
}

/* Milliseconds on a monotonic clock. */
static int64_t
wl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Creates a client: parses the endpoint, copies the credentials and opens
 * the HTTP client.  The jitter generator is seeded from the clock and the
 * process id so that backends retrying together spread out.
 */
WlDdb *
wl_ddb_create(const WlDdbConfig *config, char *errbuf, size_t errlen)
{
	WlDdb	   *ddb;
	char		default_url[256];
	const char *url = config->endpoint;
	WlHttpConfig http_config;
	bool		failed = false;

	ddb = calloc(1, sizeof(WlDdb));
	if (ddb == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	if (url == NULL)
	{
		wl_ddb_default_endpoint(config->region, default_url, sizeof(default_url));
		url = default_url;
	}
	if (wl_http_parse_endpoint(url, &ddb->endpoint, errbuf, errlen) != 0)
	{
		free(ddb);
		return NULL;
	}

	ddb->region = wl_strdup_or_null(config->region, &failed);
	ddb->access_key_id = wl_strdup_or_null(config->access_key_id, &failed);
	ddb->secret_access_key = wl_strdup_or_null(config->secret_access_key, &failed);
	ddb->session_token = wl_strdup_or_null(config->session_token, &failed);
	ddb->max_retries = config->max_retries;
	ddb->retry_base_delay_ms = config->retry_base_delay_ms;
	ddb->retry_max_delay_ms = config->retry_max_delay_ms;
	ddb->to_utf8 = config->to_utf8;
	ddb->from_utf8 = config->from_utf8;
	ddb->check_utf8 = config->check_utf8;
	ddb->jitter_state = ((uint64_t) time(NULL) << 20) ^ (uint64_t) getpid() ^
		(uint64_t) (uintptr_t) ddb;
	if (ddb->jitter_state == 0)
		ddb->jitter_state = 1;

	http_config.connect_timeout_ms = config->connect_timeout_ms;
	http_config.request_timeout_ms = config->request_timeout_ms;
	http_config.max_connections = config->max_connections;
	http_config.ca_file = config->ca_file;
	if (!failed)
		ddb->http = wl_http_create(&http_config, errbuf, errlen);
	else
		snprintf(errbuf, errlen, "out of memory");
	if (ddb->http == NULL)
	{
		wl_ddb_destroy(ddb);
		return NULL;
	}
	return ddb;
}

/*
 * Frees the client.  The secret is overwritten before its memory is given
 * back.
 */
void
wl_ddb_destroy(WlDdb *ddb)
{
	if (ddb == NULL)
		return;
	wl_http_destroy(ddb->http);
	if (ddb->secret_access_key != NULL)
		memset(ddb->secret_access_key, 0, strlen(ddb->secret_access_key));
	free(ddb->region);
	free(ddb->access_key_id);
	free(ddb->secret_access_key);
	free(ddb->session_token);
	free(ddb);
}

/* Frees a call's request and response and clears its results. */
void
wl_ddb_call_reset(WlDdbCall *call)
{
	if (call->request != NULL)
		json_object_put(call->request);
	if (call->response != NULL)
		json_object_put(call->response);
	call->request = NULL;
	call->response = NULL;
	memset(&call->error, 0, sizeof(WlDdbError));
	call->attempts = 0;
}

/* The operations that report the capacity they consume when asked. */
static const char *const wl_capacity_operations[] = {
	"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
	"BatchWriteItem", "TransactGetItems", "TransactWriteItems"
};

/*
 * Asks DynamoDB to report consumed capacity (ReturnConsumedCapacity TOTAL)
 * on a request of an operation that can, unless the request says otherwise.
 */
void
wl_ddb_ask_capacity(const char *operation, struct json_object *request)
{
	size_t		i;

	if (operation == NULL || request == NULL ||
		!json_object_is_type(request, json_type_object) ||
		json_object_object_get_ex(request, "ReturnConsumedCapacity", NULL))
		return;
	for (i = 0; i < sizeof(wl_capacity_operations) / sizeof(wl_capacity_operations[0]); i++)
		if (strcmp(operation, wl_capacity_operations[i]) == 0)
		{
			json_object_object_add(request, "ReturnConsumedCapacity",
								   json_object_new_string("TOTAL"));
			return;
		}
}

/* The CapacityUnits of one ConsumedCapacity object, or 0. */
static double
wl_capacity_units(struct json_object *consumed)
{
	struct json_object *units;

	if (!json_object_is_type(consumed, json_type_object) ||
		!json_object_object_get_ex(consumed, "CapacityUnits", &units) ||
		!(json_object_is_type(units, json_type_double) ||
		  json_object_is_type(units, json_type_int)))
		return 0;
	return json_object_get_double(units);
}

/*
 * The capacity units a response reports: its ConsumedCapacity is an object
 * for single-table operations and an array for batch and transact ones.
 * 0 when absent or malformed.
 */
double
wl_ddb_consumed_capacity(struct json_object *response)
{
	struct json_object *consumed;
	double		total = 0;
	size_t		i;

	if (response == NULL ||
		!json_object_object_get_ex(response, "ConsumedCapacity", &consumed))
		return 0;
	if (!json_object_is_type(consumed, json_type_array))
		return wl_capacity_units(consumed);
	for (i = 0; i < json_object_array_length(consumed); i++)
		total += wl_capacity_units(json_object_array_get_idx(consumed, i));
	return total;
}

/* Copies the client's counters, the HTTP client's included. */
void
wl_ddb_get_stats(const WlDdb *ddb, WlDdbStats *stats)
{
	WlHttpStats http_stats;

	wl_http_get_stats(ddb->http, &http_stats);
	*stats = ddb->stats;
	stats->requests = http_stats.requests;
	stats->connections = http_stats.connections;
}

/* Formats into a new malloc'd string; NULL when out of memory. */
static char *
wl_format(const char *format, const char *a, const char *b)
{
	int			len = snprintf(NULL, 0, format, a, b);
	char	   *out = malloc(len + 1);

	if (out != NULL)
		snprintf(out, len + 1, format, a, b);
	return out;
}

/* Frees an attempt's header lines and HTTP response. */
static void
wl_attempt_release(WlAttempt *attempt)
{
	int			i;

	for (i = 0; i < WL_DDB_HEADERS; i++)
	{
		free(attempt->header_lines[i]);
		attempt->header_lines[i] = NULL;
	}
	wl_http_request_reset(&attempt->http);
}

/*
 * Signs one attempt: builds the headers DynamoDB needs, signs them with the
 * current time, and points the HTTP request at them.  Returns false when
 * out of memory.
 */
static bool
wl_attempt_sign(WlDdb *ddb, WlAttempt *attempt)
{
	char		amz_date[WL_AMZ_DATE_LEN];
	char		target[128];
	char		authorization[WL_SIGV4_AUTH_MAX];
	WlSigv4Header sign_headers[WL_DDB_HEADERS];
	WlSigv4Credentials credentials;
	WlSigv4Request request;
	int			nheaders = 0;
	int			i;

	wl_sigv4_amz_date(time(NULL), amz_date);
	snprintf(target, sizeof(target), WL_DDB_TARGET_PREFIX "%s", attempt->call->operation);

	sign_headers[nheaders++] = (WlSigv4Header) {"Host", ddb->endpoint.host};
	sign_headers[nheaders++] = (WlSigv4Header) {"Content-Type", WL_DDB_CONTENT_TYPE};
	sign_headers[nheaders++] = (WlSigv4Header) {"X-Amz-Date", amz_date};
	sign_headers[nheaders++] = (WlSigv4Header) {"X-Amz-Target", target};
	if (ddb->session_token != NULL)
		sign_headers[nheaders++] = (WlSigv4Header) {"X-Amz-Security-Token", ddb->session_token};

	credentials.access_key_id = ddb->access_key_id;
	credentials.secret_access_key = ddb->secret_access_key;
	credentials.session_token = ddb->session_token;
	request.method = "POST";
	request.path = ddb->endpoint.path;
	request.query = "";
	request.headers = sign_headers;
	request.nheaders = nheaders;
	request.payload = (const unsigned char *) attempt->body;
	request.payload_len = strlen(attempt->body);
	request.region = ddb->region;
	request.service = "dynamodb";
	request.amz_date = amz_date;
	if (wl_sigv4_authorization(&request, &credentials, authorization,
							   sizeof(authorization)) != 0)
		return false;

	for (i = 0; i < nheaders; i++)
		attempt->header_lines[i] = wl_format("%s: %s", sign_headers[i].name,
											 sign_headers[i].value);
	attempt->header_lines[nheaders++] = wl_format("%s: %s", "Authorization", authorization);
	memset(authorization, 0, sizeof(authorization));
	for (i = 0; i < nheaders; i++)
	{
		if (attempt->header_lines[i] == NULL)
			return false;
		attempt->headers[i] = attempt->header_lines[i];
	}

	attempt->http.url = ddb->endpoint.url;
	attempt->http.headers = attempt->headers;
	attempt->http.nheaders = nheaders;
	attempt->http.body = attempt->body;
	attempt->http.body_len = request.payload_len;
	return true;
}

/*
 * Reads DynamoDB's error type and message from an error body.  The type
 * comes as "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException";
 * only the part after '#' is kept.  The message key is "message" on AWS
 * and dynalite, "Message" on DynamoDB Local.
 */
static void
wl_parse_error_body(const char *body, size_t len, WlDdbError *error)
{
	struct json_object *parsed = wl_json_parse(body, len, WL_DDB_JSON_DEPTH);
	struct json_object *value;

	if (parsed != NULL && json_object_is_type(parsed, json_type_object))
	{
		if (json_object_object_get_ex(parsed, "__type", &value) &&
			json_object_is_type(value, json_type_string))
		{
			const char *type = json_object_get_string(value);
			const char *hash = strrchr(type, '#');

			snprintf(error->type, sizeof(error->type), "%s", hash ? hash + 1 : type);
		}
		if ((json_object_object_get_ex(parsed, "message", &value) ||
			 json_object_object_get_ex(parsed, "Message", &value)) &&
			json_object_is_type(value, json_type_string))
			snprintf(error->message, sizeof(error->message), "%s",
					 json_object_get_string(value));
	}
	if (parsed != NULL)
		json_object_put(parsed);
}

/*
 * Says what an answer that is not DynamoDB's was: its status and the first
 * line of its body, cut short, so that an HTML page becomes one line.
 */
static void
wl_summarise_body(long status, const char *body, size_t len, WlDdbError *error)
{
	size_t		start = 0;
	size_t		end;

	while (body != NULL && start < len && isspace((unsigned char) body[start]))
		start++;
	end = start;
	while (body != NULL && end < len && body[end] != '\n' && body[end] != '\r' &&
		   end - start < 80)
		end++;
	if (body == NULL || start == len)
		snprintf(error->message, sizeof(error->message),
				 "the answer is not DynamoDB's: HTTP status %ld with an empty body", status);
	else
		snprintf(error->message, sizeof(error->message),
				 "the answer is not DynamoDB's: HTTP status %ld, body begins \"%.*s%s\"",
				 status, (int) (end - start), body + start,
				 end < len && body[end] != '\n' && body[end] != '\r' ? "..." : "");
}

/*
 * Reads DynamoDB's answer to one call (see dynamodb.h): a 200 whose body is
 * a complete JSON object becomes *response; anything else is an error.
 */
bool
wl_ddb_read_response(long status, const char *body, size_t len,
					 struct json_object **response, WlDdbError *error)
{
	memset(error, 0, sizeof(WlDdbError));
	error->http_status = status;
	*response = NULL;
	if (status == 200)
	{
		struct json_object *parsed = wl_json_parse(body, len, WL_DDB_JSON_DEPTH);

		if (parsed != NULL && !json_object_is_type(parsed, json_type_object))
		{
			json_object_put(parsed);
			parsed = NULL;
		}
		if (parsed == NULL)
		{
			error->kind = WL_DDB_BAD_RESPONSE;
			snprintf(error->message, sizeof(error->message),
					 "the response is not a complete JSON object (%zu bytes)", len);
			return true;
		}
		*response = parsed;
		return false;
	}

	error->kind = WL_DDB_SERVICE_ERROR;
	wl_parse_error_body(body, len, error);
	if (error->type[0] == '\0' && status >= 400)
	{
		/* not DynamoDB's error: a proxy's or a web server's page */
		error->kind = WL_DDB_BAD_RESPONSE;
		wl_summarise_body(status, body, len, error);
		/* 501: a server that does not take POST, which no retry changes */
		return (status >= 500 && status != 501) || status == 429;
	}
	if (status >= 500 || status == 429)
		return true;
	if (status >= 400)
		return wl_ddb_is_throttling(error->type);
	error->kind = WL_DDB_BAD_RESPONSE;
	wl_summarise_body(status, body, len, error);
	return false;
}

/*
 * Sorts out one finished attempt: a failure to get any answer is recorded
 * here, an answer is read by wl_ddb_read_response.  Returns true when
 * another attempt may cure the failure.
 */
static bool
wl_attempt_conclude(WlDdb *ddb, WlAttempt *attempt)
{
	WlDdbCall  *call = attempt->call;
	WlHttpRequest *http = &attempt->http;
	WlDdbError *error = &call->error;
	char	   *recoded = NULL;
	size_t		recoded_len = 0;
	bool		retry;

	memset(error, 0, sizeof(WlDdbError));
	error->http_status = http->status;

	if (http->failure == WL_HTTP_OUT_OF_MEMORY)
	{
		error->kind = WL_DDB_OUT_OF_MEMORY;
		snprintf(error->message, sizeof(error->message), "out of memory");
		return false;
	}
	if (http->failure != WL_HTTP_NO_FAILURE)
	{
		error->kind = WL_DDB_NO_RESPONSE;
		error->failure = http->failure;
		snprintf(error->message, sizeof(error->message), "%s", http->error);
		/* a refused connection gets two quick retries: a server restarting */
		if (http->failure == WL_HTTP_REFUSED)
			return call->attempts <= WL_DDB_REFUSED_RETRIES;
		return http->failure != WL_HTTP_MISMATCH;
	}
	if (ddb->from_utf8 != NULL && http->response_len > 0)
	{
		recoded = ddb->from_utf8(http->response, http->response_len, &recoded_len,
								 error->message, sizeof(error->message));
		if (recoded == NULL)
		{
			error->kind = WL_DDB_BAD_TEXT;
			return false;
		}
	}
	retry = wl_ddb_read_response(http->status, recoded ? recoded : http->response,
								 recoded ? recoded_len : http->response_len,
								 &call->response, error);
	free(recoded);
	if (error->kind == WL_DDB_BAD_RESPONSE && http->content_type[0] != '\0' &&
		strncmp(http->content_type, "application/x-amz-json", 22) != 0)
	{
		size_t		used = strlen(error->message);

		snprintf(error->message + used, sizeof(error->message) - used,
				 " (content type %s)", http->content_type);
	}
	return retry;
}

/* The next value of the client's xorshift64 generator. */
static uint64_t
wl_ddb_random(WlDdb *ddb)
{
	uint64_t	x = ddb->jitter_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	ddb->jitter_state = x;
	return x;
}

/* Sleeps a jittered backoff, interruptibly; see the header. */
bool
wl_ddb_backoff(WlDdb *ddb, int round, long base_ms, long max_ms,
			   WlHttpAbortCheck abort_check, void *abort_arg)
{
	int64_t		ceiling = base_ms;
	int64_t		delay;
	int64_t		deadline;
	int			i;

	for (i = 1; i < round && ceiling < max_ms; i++)
		ceiling *= 2;
	if (ceiling > max_ms)
		ceiling = max_ms;
	delay = ceiling > 0 ? (int64_t) (wl_ddb_random(ddb) % (uint64_t) (ceiling + 1)) : 0;
	deadline = wl_now_ms() + delay;

	for (;;)
	{
		int64_t		left;
		struct timespec ts;

		if (abort_check != NULL && abort_check(abort_arg))
			return true;
		left = deadline - wl_now_ms();
		if (left <= 0)
			return false;
		if (left > WL_DDB_SLEEP_SLICE_MS)
			left = WL_DDB_SLEEP_SLICE_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long) left * 1000000;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		{
			if (abort_check != NULL && abort_check(abort_arg))
				return true;
		}
	}
}

/*
 * Runs the calls to completion in rounds, as the file header describes.
 * Every call's body is serialised once; only the signature is redone per
 * attempt, since it covers the time.
 */
int
wl_ddb_execute(WlDdb *ddb, WlDdbCall *calls, int ncalls,
			   WlHttpAbortCheck abort_check, void *abort_arg)
{
	WlAttempt  *attempts;
	int		   *pending;		/* indexes of calls still to send */
	WlHttpRequest **batch;		/* their HTTP requests, this round */
	int			npending = 0;
	int			round = 0;
	int			result = WL_DDB_DONE;
	int			i;

	attempts = calloc(ncalls > 0 ? ncalls : 1, sizeof(WlAttempt));
	pending = calloc(ncalls > 0 ? ncalls : 1, sizeof(int));
	batch = calloc(ncalls > 0 ? ncalls : 1, sizeof(WlHttpRequest *));
	for (i = 0; i < ncalls; i++)
	{
		WlDdbCall  *call = &calls[i];

		if (call->response != NULL)
			json_object_put(call->response);
		call->response = NULL;
		call->attempts = 0;
		memset(&call->error, 0, sizeof(WlDdbError));
		if (attempts == NULL || pending == NULL || batch == NULL ||
			call->request == NULL)
		{
			call->error.kind = WL_DDB_OUT_OF_MEMORY;
			snprintf(call->error.message, sizeof(call->error.message), "out of memory");
			continue;
		}
		attempts[i].call = call;
		wl_ddb_ask_capacity(call->operation, call->request);
		attempts[i].body = json_object_to_json_string_ext(call->request,
														  JSON_C_TO_STRING_PLAIN);
		if (attempts[i].body == NULL)
		{
			call->error.kind = WL_DDB_OUT_OF_MEMORY;
			snprintf(call->error.message, sizeof(call->error.message), "out of memory");
			continue;
		}
		if (ddb->to_utf8 != NULL)
		{
			size_t		len;

			attempts[i].recoded = ddb->to_utf8(attempts[i].body, strlen(attempts[i].body), &len,
											   call->error.message, sizeof(call->error.message));
			if (attempts[i].recoded == NULL)
			{
				call->error.kind = WL_DDB_BAD_TEXT;
				continue;
			}
			attempts[i].body = attempts[i].recoded;
		}
		if (ddb->check_utf8 != NULL &&
			!ddb->check_utf8(attempts[i].body, strlen(attempts[i].body),
							 call->error.message, sizeof(call->error.message)))
		{
			call->error.kind = WL_DDB_BAD_TEXT;
			continue;
		}
		pending[npending++] = i;
	}

	while (npending > 0)
	{
		int			nsent;

		if (round > 0)
		{
			if (wl_ddb_backoff(ddb, round, ddb->retry_base_delay_ms, ddb->retry_max_delay_ms,
							   abort_check, abort_arg))
			{
				result = WL_DDB_ABORTED;
				break;
			}
			ddb->stats.retries += npending;
		}
		nsent = 0;
		for (i = 0; i < npending; i++)
		{
			WlAttempt  *attempt = &attempts[pending[i]];

			wl_attempt_release(attempt);
			attempt->call->attempts++;
			if (!wl_attempt_sign(ddb, attempt))
			{
				attempt->call->error.kind = WL_DDB_OUT_OF_MEMORY;
				snprintf(attempt->call->error.message,
						 sizeof(attempt->call->error.message), "out of memory");
				ddb->stats.calls++;
				continue;
			}
			pending[nsent] = pending[i];
			batch[nsent++] = &attempt->http;
		}
		if (wl_http_perform(ddb->http, batch, nsent, abort_check, abort_arg) == WL_HTTP_ABORTED)
		{
			result = WL_DDB_ABORTED;
			break;
		}

		npending = 0;
		for (i = 0; i < nsent; i++)
		{
			WlAttempt  *attempt = &attempts[pending[i]];
			bool		retry = wl_attempt_conclude(ddb, attempt);

			ddb->stats.bytes_received += (long) attempt->http.response_len;
			if (attempt->call->response != NULL)
				ddb->stats.capacity_units += wl_ddb_consumed_capacity(attempt->call->response);
			if (retry && attempt->call->attempts <= ddb->max_retries)
				pending[npending++] = pending[i];
			else
				ddb->stats.calls++;
		}
		round++;
	}

	if (attempts != NULL)
		for (i = 0; i < ncalls; i++)
		{
			wl_attempt_release(&attempts[i]);
			free(attempts[i].recoded);
		}
	free(attempts);
	free(pending);
	free(batch);
	return result;
}

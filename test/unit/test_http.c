/*
 * test_http.c - unit tests of the HTTP client and the DynamoDB call layer
 * that need no DynamoDB: endpoint parsing, error classification, retries
 * against a port nobody listens on, and abandoning a wait.  Everything
 * that needs a real server is covered by the pg_regress suite, which runs
 * against dynalite and DynamoDB Local.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dynamodb.h"
#include "operations.h"
#include "unit.h"

/* A loopback port with nothing listening: bind, read the port, close. */
static int
closed_port(void)
{
	struct sockaddr_in addr;
	socklen_t	len = sizeof(addr);
	int			fd = socket(AF_INET, SOCK_STREAM, 0);
	int			port;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *) &addr, sizeof(addr));
	getsockname(fd, (struct sockaddr *) &addr, &len);
	port = ntohs(addr.sin_port);
	close(fd);
	return port;
}

/* Milliseconds on a monotonic clock. */
static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Asks to abort once 100 ms have passed since *arg (a start time). */
static bool
abort_after_100ms(void *arg)
{
	return now_ms() - *(long *) arg > 100;
}

/* Endpoint URLs: what is accepted and how Host and path come out. */
/* Region names are checked for AWS's form, so that typos are caught. */
static void
test_region_form(void)
{
	CHECK(wl_ddb_region_form("us-east-1") && wl_ddb_region_form("eu-west-3") &&
		  wl_ddb_region_form("ap-southeast-2") && wl_ddb_region_form("us-gov-west-1") &&
		  wl_ddb_region_form("cn-northwest-1") && wl_ddb_region_form("me-central-1"),
		  "AWS's region names have its form");
	CHECK(!wl_ddb_region_form("eu-wset-1") && !wl_ddb_region_form("us-east") &&
		  !wl_ddb_region_form("useast1") && !wl_ddb_region_form("us-east-1a") &&
		  !wl_ddb_region_form("local") && !wl_ddb_region_form("") &&
		  !wl_ddb_region_form("us-gov-1") && !wl_ddb_region_form("US-EAST-1"),
		  "typos and other names do not");
}

static void
test_endpoints(void)
{
	WlEndpoint	ep;
	char		err[256];

	CHECK(wl_http_parse_endpoint("http://127.0.0.1:8000", &ep, err, sizeof(err)) == 0,
		  "plain http endpoint parses");
	CHECK_STR(ep.host, "127.0.0.1:8000", "host keeps an explicit port");
	CHECK_STR(ep.path, "/", "path defaults to /");
	CHECK_STR(ep.url, "http://127.0.0.1:8000/", "url is normalised");
	CHECK(!ep.tls, "http is not tls");

	CHECK(wl_http_parse_endpoint("https://dynamodb.eu-west-1.amazonaws.com", &ep, err, sizeof(err)) == 0,
		  "AWS endpoint parses");
	CHECK_STR(ep.host, "dynamodb.eu-west-1.amazonaws.com", "default port is not in Host");
	CHECK(ep.tls, "https is tls");

	CHECK(wl_http_parse_endpoint("http://[::1]:4567/prefix", &ep, err, sizeof(err)) == 0,
		  "IPv6 endpoint with a path parses");
	CHECK_STR(ep.host, "[::1]:4567", "IPv6 host is bracketed");
	CHECK_STR(ep.path, "/prefix", "path is kept");

	CHECK(wl_http_parse_endpoint("ftp://example.com", &ep, err, sizeof(err)) != 0,
		  "ftp is refused");
	CHECK(strstr(err, "http or https") != NULL, "the reason names the schemes");
	CHECK(wl_http_parse_endpoint("not a url", &ep, err, sizeof(err)) != 0,
		  "garbage is refused");
	CHECK(wl_http_parse_endpoint("http://user:pw@example.com", &ep, err, sizeof(err)) != 0,
		  "a user part is refused");
	CHECK(wl_http_parse_endpoint("http://example.com/?a=b", &ep, err, sizeof(err)) != 0,
		  "a query is refused");
	CHECK(wl_http_parse_endpoint("", &ep, err, sizeof(err)) != 0, "empty is refused");
}

/* AWS endpoints by region and the throttling error types. */
static void
test_defaults(void)
{
	char		url[256];

	wl_ddb_default_endpoint("eu-west-1", url, sizeof(url));
	CHECK_STR(url, "https://dynamodb.eu-west-1.amazonaws.com", "regional endpoint");
	wl_ddb_default_endpoint("cn-north-1", url, sizeof(url));
	CHECK_STR(url, "https://dynamodb.cn-north-1.amazonaws.com.cn", "China endpoint");

	CHECK(wl_ddb_is_throttling("ThrottlingException"), "ThrottlingException retries");
	CHECK(wl_ddb_is_throttling("ProvisionedThroughputExceededException"),
		  "ProvisionedThroughputExceededException retries");
	CHECK(wl_ddb_is_throttling("RequestLimitExceeded"), "RequestLimitExceeded retries");
	CHECK(!wl_ddb_is_throttling("ValidationException"), "ValidationException does not");
	CHECK(!wl_ddb_is_throttling("ResourceNotFoundException"), "ResourceNotFound does not");
}

/* A client for a local port with the given retry settings. */
static WlDdb *
make_client(int port, int max_retries, long base_delay_ms)
{
	char		url[64];
	char		err[256];
	WlDdbConfig config;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	memset(&config, 0, sizeof(config));
	config.endpoint = url;
	config.region = "us-east-1";
	config.access_key_id = "AKIDEXAMPLE";
	config.secret_access_key = "secret";
	config.connect_timeout_ms = 1000;
	config.request_timeout_ms = 2000;
	config.max_retries = max_retries;
	config.retry_base_delay_ms = base_delay_ms;
	config.retry_max_delay_ms = 1000;
	config.max_connections = 4;
	return wl_ddb_create(&config, err, sizeof(err));
}

/*
 * A refused connection is retried twice, fewer than max_retries, for every
 * call of a batch, then reported as refused: nothing listens there.
 */
static void
test_refused_retries(void)
{
	WlDdb	   *ddb = make_client(closed_port(), 3, 1);
	WlDdbCall	calls[3];
	WlDdbStats	stats;
	int			i;
	int			all_refused = 1;

	memset(calls, 0, sizeof(calls));
	for (i = 0; i < 3; i++)
	{
		wl_op_describe_table(&calls[i], "t");
	}
	CHECK(wl_ddb_execute(ddb, calls, 3, NULL, NULL) == WL_DDB_DONE, "refused batch completes");
	for (i = 0; i < 3; i++)
		all_refused &= calls[i].error.kind == WL_DDB_NO_RESPONSE &&
			calls[i].error.failure == WL_HTTP_REFUSED &&
			calls[i].attempts == 3 && calls[i].response == NULL;
	CHECK(all_refused, "each refused call gave up after 1 + 2 attempts, though 3 retries were allowed");
	wl_ddb_get_stats(ddb, &stats);
	CHECK(stats.requests == 9, "9 HTTP requests were sent");
	CHECK(stats.retries == 6, "6 of them were retries");
	CHECK(stats.calls == 3, "3 calls completed");
	for (i = 0; i < 3; i++)
		wl_ddb_call_reset(&calls[i]);
	wl_ddb_destroy(ddb);
}

/*
 * An abort check that fires ends a long backoff at once.  Five retries with
 * a 1 s base delay wait far longer than 100 ms unless the check works.
 */
static void
test_abort_backoff(void)
{
	WlDdb	   *ddb = make_client(closed_port(), 5, 1000);
	WlDdbCall	call;
	long		start;
	int			result;

	memset(&call, 0, sizeof(call));
	wl_op_describe_table(&call, "t");
	start = now_ms();
	result = wl_ddb_execute(ddb, &call, 1, abort_after_100ms, &start);
	CHECK(result == WL_DDB_ABORTED, "execute reports the abort");
	CHECK(now_ms() - start < 300, "the abort ends a backoff of up to 1 s within 300 ms");
	wl_ddb_call_reset(&call);
	wl_ddb_destroy(ddb);
}

/* Consumed capacity: asked for on data calls, summed from either shape. */
static void
test_consumed_capacity(void)
{
	struct json_object *request = json_tokener_parse("{\"TableName\": \"t\"}");
	struct json_object *own = json_tokener_parse("{\"ReturnConsumedCapacity\": \"NONE\"}");
	struct json_object *table = json_tokener_parse("{\"TableName\": \"t\"}");
	struct json_object *single = json_tokener_parse(
		"{\"ConsumedCapacity\": {\"TableName\": \"t\", \"CapacityUnits\": 1.5}}");
	struct json_object *batch = json_tokener_parse(
		"{\"ConsumedCapacity\": [{\"CapacityUnits\": 2}, {\"CapacityUnits\": 0.5}, {}]}");
	struct json_object *none = json_tokener_parse("{\"Item\": {}}");
	struct json_object *odd = json_tokener_parse(
		"{\"ConsumedCapacity\": {\"CapacityUnits\": \"9\"}}");
	struct json_object *value;

	wl_ddb_ask_capacity("BatchGetItem", request);
	CHECK(json_object_object_get_ex(request, "ReturnConsumedCapacity", &value) &&
		  strcmp(json_object_get_string(value), "TOTAL") == 0, "capacity asked for");
	wl_ddb_ask_capacity("Query", own);
	CHECK(json_object_object_get_ex(own, "ReturnConsumedCapacity", &value) &&
		  strcmp(json_object_get_string(value), "NONE") == 0, "the request's own choice kept");
	wl_ddb_ask_capacity("DescribeTable", table);
	CHECK(!json_object_object_get_ex(table, "ReturnConsumedCapacity", NULL),
		  "not asked of DescribeTable");
	CHECK(wl_ddb_consumed_capacity(single) == 1.5, "single-table capacity");
	CHECK(wl_ddb_consumed_capacity(batch) == 2.5, "batch capacity summed");
	CHECK(wl_ddb_consumed_capacity(none) == 0, "absent capacity is 0");
	CHECK(wl_ddb_consumed_capacity(odd) == 0, "malformed capacity is 0");
	json_object_put(request);
	json_object_put(own);
	json_object_put(table);
	json_object_put(single);
	json_object_put(batch);
	json_object_put(none);
	json_object_put(odd);
}

/*
 * Answers as AWS, DynamoDB Local and dynalite give them, read without a
 * server (test/fuzz/fuzz_response.c fuzzes the same function).
 */
static void
test_read_response(void)
{
	const char *aws = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
		"\"message\":\"Requested resource not found\"}";
	const char *local = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ValidationException\","
		"\"Message\":\"One or more parameter values were invalid\"}";
	const char *throttled = "{\"__type\":\"com.amazon.coral.availability#ThrottlingException\","
		"\"message\":\"Rate of requests exceeds the allowed throughput.\"}";
	const char *page = "\n  <!DOCTYPE HTML>\n<html lang=\"en\">\n<head>";
	char		long_line[300];
	struct json_object *response;
	WlDdbError	error;
	bool		retry;

	memset(long_line, 'x', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	retry = wl_ddb_read_response(200, "{\"Item\": {}} ", 13, &response, &error);
	CHECK(!retry && response != NULL && error.kind == WL_DDB_OK && error.http_status == 200,
		  "a 200 object is a response");
	json_object_put(response);
	retry = wl_ddb_read_response(200, "[1]", 3, &response, &error);
	CHECK(retry && response == NULL && error.kind == WL_DDB_BAD_RESPONSE &&
		  strstr(error.message, "(3 bytes)") != NULL, "a 200 non-object is retried");
	retry = wl_ddb_read_response(200, "{\"Item\": {}}", 5, &response, &error);
	CHECK(retry && response == NULL, "a truncated 200 is retried");
	retry = wl_ddb_read_response(400, aws, strlen(aws), &response, &error);
	CHECK(!retry && response == NULL && error.kind == WL_DDB_SERVICE_ERROR &&
		  error.http_status == 400, "an AWS error is final");
	CHECK_STR(error.type, "ResourceNotFoundException", "the type after '#'");
	CHECK_STR(error.message, "Requested resource not found", "AWS's message");
	wl_ddb_read_response(400, local, strlen(local), &response, &error);
	CHECK_STR(error.message, "One or more parameter values were invalid",
			  "DynamoDB Local's Message");
	CHECK(wl_ddb_read_response(400, throttled, strlen(throttled), &response, &error) &&
		  strcmp(error.type, "ThrottlingException") == 0, "throttling is retried");
	CHECK(wl_ddb_read_response(503, "<html>busy</html>", 17, &response, &error) &&
		  error.kind == WL_DDB_BAD_RESPONSE, "a 503 page is retried");
	CHECK_STR(error.message,
			  "the answer is not DynamoDB's: HTTP status 503, body begins \"<html>busy</html>\"",
			  "a page is summarised");
	CHECK(wl_ddb_read_response(429, NULL, 0, &response, &error), "an empty 429 is retried");
	CHECK_STR(error.message, "the answer is not DynamoDB's: HTTP status 429 with an empty body",
			  "an empty body is said to be empty");
	CHECK(!wl_ddb_read_response(301, "moved", 5, &response, &error) &&
		  error.kind == WL_DDB_BAD_RESPONSE, "a 301 is final");
	CHECK(!wl_ddb_read_response(404, page, strlen(page), &response, &error),
		  "a web server's 404 is final");
	CHECK_STR(error.message,
			  "the answer is not DynamoDB's: HTTP status 404, body begins \"<!DOCTYPE HTML>\"",
			  "only the first line of a page, after its leading blanks");
	CHECK(!wl_ddb_read_response(501, long_line, strlen(long_line), &response, &error) &&
		  strlen(error.message) < 160 && strstr(error.message, "xxx...\"") != NULL,
		  "a 501 is final, and a long line cut short");
	wl_ddb_read_response(500, "oops, and more", 4, &response, &error);
	CHECK_STR(error.message, "the answer is not DynamoDB's: HTTP status 500, body begins \"oops\"",
			  "no byte past len is read");
}

int
main(void)
{
	test_read_response();
	test_consumed_capacity();
	test_endpoints();
	test_region_form();
	test_defaults();
	test_refused_retries();
	test_abort_backoff();
	return unit_done();
}

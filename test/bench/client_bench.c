/*
 * client_bench.c - request rate of the core DynamoDB client, without
 * Postgres: sequential GetItem calls (one at a time, one kept-alive
 * connection) and concurrent batches (many calls in flight at once).
 *
 *   client_bench ENDPOINT [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "dynamodb.h"

#define TABLE "whiplash_bench_client"

/* Seconds on a monotonic clock. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs one call and exits with its error if it failed (ignoring `ok_type`). */
static void
run_one(WlDdb *ddb, const char *operation, struct json_object *request, const char *ok_type)
{
	WlDdbCall	call;

	memset(&call, 0, sizeof(call));
	call.operation = operation;
	call.table = TABLE;
	call.request = request;
	wl_ddb_execute(ddb, &call, 1, NULL, NULL);
	if (call.error.kind != WL_DDB_OK &&
		!(ok_type && strcmp(call.error.type, ok_type) == 0))
	{
		fprintf(stderr, "%s failed: %s: %s\n", operation, call.error.type, call.error.message);
		exit(1);
	}
	wl_ddb_call_reset(&call);
}

/* A GetItem request for the one item of the bench table. */
static struct json_object *
get_request(void)
{
	struct json_object *request = json_object_new_object();
	struct json_object *key = json_object_new_object();
	struct json_object *id = json_object_new_object();

	json_object_object_add(id, "S", json_object_new_string("item-1"));
	json_object_object_add(key, "id", id);
	json_object_object_add(request, "TableName", json_object_new_string(TABLE));
	json_object_object_add(request, "Key", key);
	return request;
}

/*
 * Sends batches of `concurrency` GetItem calls for `seconds`; returns calls
 * per second.
 */
static double
measure(WlDdb *ddb, int concurrency, double seconds)
{
	WlDdbCall  *calls = calloc(concurrency, sizeof(WlDdbCall));
	double		start = now_s();
	long		done = 0;
	int			i;

	while (now_s() - start < seconds)
	{
		for (i = 0; i < concurrency; i++)
		{
			calls[i].operation = "GetItem";
			calls[i].table = TABLE;
			calls[i].request = get_request();
		}
		wl_ddb_execute(ddb, calls, concurrency, NULL, NULL);
		for (i = 0; i < concurrency; i++)
		{
			if (calls[i].error.kind != WL_DDB_OK)
			{
				fprintf(stderr, "GetItem failed: %s\n", calls[i].error.message);
				exit(1);
			}
			wl_ddb_call_reset(&calls[i]);
		}
		done += concurrency;
	}
	free(calls);
	return done / (now_s() - start);
}

int
main(int argc, char **argv)
{
	WlDdbConfig config;
	WlDdb	   *ddb;
	WlDdbStats	stats;
	char		err[256];
	double		seconds = argc > 2 ? atof(argv[2]) : 3.0;
	struct json_object *put;
	int			levels[] = {1, 4, 16, 64};
	int			i;

	if (argc < 2)
	{
		fprintf(stderr, "usage: client_bench ENDPOINT [SECONDS]\n");
		return 2;
	}
	memset(&config, 0, sizeof(config));
	config.endpoint = argv[1];
	config.region = "us-east-1";
	config.access_key_id = "benchkey";
	config.secret_access_key = "benchsecret";
	config.connect_timeout_ms = 5000;
	config.request_timeout_ms = 10000;
	config.max_retries = 3;
	config.retry_base_delay_ms = 25;
	config.retry_max_delay_ms = 1000;
	config.max_connections = 16;
	ddb = wl_ddb_create(&config, err, sizeof(err));
	if (ddb == NULL)
	{
		fprintf(stderr, "%s\n", err);
		return 1;
	}

	run_one(ddb, "CreateTable", wl_ddb_create_table_request(TABLE, "id", NULL),
			"ResourceInUseException");
	put = json_object_new_object();
	json_object_object_add(put, "TableName", json_object_new_string(TABLE));
	json_object_object_add(put, "Item", json_tokener_parse("{\"id\":{\"S\":\"item-1\"},\"v\":{\"S\":\"x\"}}"));
	run_one(ddb, "PutItem", put, NULL);

	printf("| calls in flight | GetItem calls/s | mean latency per call (ms) |\n");
	printf("|---:|---:|---:|\n");
	for (i = 0; i < (int) (sizeof(levels) / sizeof(levels[0])); i++)
	{
		double		rate = measure(ddb, levels[i], seconds);

		printf("| %d | %.0f | %.3f |\n", levels[i], rate, 1000.0 * levels[i] / rate);
	}
	wl_ddb_get_stats(ddb, &stats);
	printf("\n%ld HTTP requests over %ld connection(s) (max_connections %d)\n",
		   stats.requests, stats.connections, config.max_connections);
	wl_ddb_destroy(ddb);
	return 0;
}

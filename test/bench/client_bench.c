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
#include "operations.h"

#define TABLE "whiplash_bench_client"

/* Seconds on a monotonic clock. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs a built call and exits with its error if it failed (ignoring `ok_type`). */
static void
run_one(WlDdb *ddb, WlDdbCall *call, const char *ok_type)
{
	wl_ddb_execute(ddb, call, 1, NULL, NULL);
	if (call->error.kind != WL_DDB_OK && !(ok_type && wl_op_failed_with(call, ok_type)))
	{
		fprintf(stderr, "%s failed: %s: %s\n", call->operation, call->error.type,
				call->error.message);
		exit(1);
	}
	wl_ddb_call_reset(call);
}

/* The key of the one item of the bench table. */
static struct json_object *
item_key(void)
{
	return json_tokener_parse("{\"id\":{\"S\":\"item-1\"}}");
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
			wl_op_get_item(&calls[i], TABLE, item_key(), false);
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
	WlDdbCall	call;
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

	memset(&call, 0, sizeof(call));
	wl_op_create_table(&call, TABLE, "id", NULL);
	run_one(ddb, &call, "ResourceInUseException");
	wl_op_put_item(&call, TABLE,
				   json_tokener_parse("{\"id\":{\"S\":\"item-1\"},\"v\":{\"S\":\"x\"}}"), NULL);
	run_one(ddb, &call, NULL);

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

/*
 * replay.c - the network floor of recorded DynamoDB traffic: replays the
 * requests that test/bench/record_proxy.py logged, with the core client
 * alone (no Postgres), as concurrently as the extension sent them.
 *
 *   replay floor LOG ENDPOINT [--ops OPS] [--connections N] [--repeat N]
 *   replay throughput LOG ENDPOINT --sessions S [--ops OPS] [--connections N]
 *          [--seconds N]
 *   replay writes LOG ENDPOINT [--ops OPS] [--connections N]
 *
 * The log's marks split it into units (a search each); requests before the
 * first mark are ignored.  Only the operations in OPS (default
 * Query,BatchGetItem; BatchWriteItem for writes) are kept, and only the
 * requests that succeeded when recorded: a failed attempt was retried, and
 * its retry is in the log too.  Within a unit, a phase is a run of requests
 * of one operation, sent as one wl_ddb_execute: a round trip the extension
 * made.  Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN, the region from AWS_REGION.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "dynamodb.h"

/* One recorded request. */
typedef struct Request
{
	char	   *op;
	char	   *body;
} Request;

/* The requests between two marks: requests[first, first + nrequests). */
typedef struct Unit
{
	char	   *label;			/* JSON text: quoted and escaped */
	int			first;
	int			nrequests;
	int			nphases;
} Unit;

/* A log's kept requests, in order, and its units. */
typedef struct Log
{
	Request    *requests;
	int			nrequests;
	Unit	   *units;
	int			nunits;
} Log;

/* The command line. */
typedef struct Options
{
	const char *mode;
	const char *log;
	const char *endpoint;
	const char *ops;
	int			connections;
	int			repeat;
	int			sessions;
	double		seconds;
} Options;

/* A client with its own parsed copy of every request, and what it measured. */
typedef struct Session
{
	const Log  *log;
	WlDdb	   *ddb;
	WlDdbCall  *calls;			/* one per log->requests[i] */
	long		unprocessed;	/* UnprocessedItems entries answered */
	int			next_unit;		/* throughput: the unit to replay next */
	double		deadline;		/* throughput: when to stop */
	double	   *ms;				/* throughput: each unit's time */
	int			nms;
	int			ms_cap;
} Session;

/* Seconds on a monotonic clock. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Prints a message and exits: the tool has no use for partial results. */
static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "replay: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* Returns array with room for element n, doubling *cap when it is full. */
static void *
grow(void *array, int *cap, int n, size_t size)
{
	if (n < *cap)
		return array;
	*cap = *cap > 0 ? *cap * 2 : 64;
	array = realloc(array, (size_t) *cap * size);
	if (array == NULL)
		die("out of memory", NULL);
	return array;
}

/* strdup that exits when out of memory. */
static char *
copy(const char *text)
{
	char	   *result = strdup(text);

	if (result == NULL)
		die("out of memory", NULL);
	return result;
}

/* Is op one of the comma-separated operations in ops? */
static bool
op_kept(const char *ops, const char *op)
{
	size_t		len = strlen(op);
	const char *item = ops;

	while (item != NULL)
	{
		if (strncmp(item, op, len) == 0 && (item[len] == ',' || item[len] == '\0'))
			return true;
		item = strchr(item, ',');
		if (item != NULL)
			item++;
	}
	return false;
}

/* Starts a unit, first dropping the previous one if it kept no request. */
static void
start_unit(Log *log, int *cap, const char *label)
{
	if (log->nunits > 0 && log->units[log->nunits - 1].nrequests == 0)
		free(log->units[--log->nunits].label);
	log->units = grow(log->units, cap, log->nunits, sizeof(Unit));
	log->units[log->nunits].label = copy(label);
	log->units[log->nunits].first = log->nrequests;
	log->units[log->nunits].nrequests = 0;
	log->units[log->nunits++].nphases = 0;
}

/*
 * Reads a record_proxy.py log into units, keeping the requests of the
 * operations in ops that succeeded.  Without use_marks the whole log is one
 * unit.
 */
static void
load_log(Log *log, const char *path, const char *ops, bool use_marks)
{
	FILE	   *file = fopen(path, "r");
	char	   *line = NULL;
	size_t		size = 0;
	int			request_cap = 0,
				unit_cap = 0;
	long		failed = 0;
	struct json_object *entry,
			   *mark,
			   *op,
			   *body,
			   *status;

	if (file == NULL)
		die("cannot open the log", path);
	memset(log, 0, sizeof(Log));
	if (!use_marks)
		start_unit(log, &unit_cap, "\"all\"");
	while (getline(&line, &size, file) != -1)
	{
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if ((entry = json_tokener_parse(line)) == NULL)
			die("a log line is not JSON", line);
		if (json_object_object_get_ex(entry, "mark", &mark))
		{
			if (use_marks)
				start_unit(log, &unit_cap,
						   json_object_to_json_string_ext(mark, JSON_C_TO_STRING_PLAIN |
														  JSON_C_TO_STRING_NOSLASHESCAPE));
		}
		else if (log->nunits > 0 &&
				 json_object_object_get_ex(entry, "op", &op) &&
				 json_object_object_get_ex(entry, "body", &body) &&
				 json_object_object_get_ex(entry, "status", &status) &&
				 op_kept(ops, json_object_get_string(op)))
		{
			Unit	   *unit = &log->units[log->nunits - 1];

			if (json_object_get_int(status) != 200)
				failed++;
			else
			{
				if (unit->nrequests == 0 ||
					strcmp(log->requests[log->nrequests - 1].op, json_object_get_string(op)) != 0)
					unit->nphases++;
				log->requests = grow(log->requests, &request_cap, log->nrequests, sizeof(Request));
				log->requests[log->nrequests].op = copy(json_object_get_string(op));
				log->requests[log->nrequests++].body = copy(json_object_get_string(body));
				unit->nrequests++;
			}
		}
		json_object_put(entry);
	}
	if (log->nunits > 0 && log->units[log->nunits - 1].nrequests == 0)
		free(log->units[--log->nunits].label);
	free(line);
	fclose(file);
	if (failed > 0)
		fprintf(stderr, "replay: left out %ld requests that had failed when recorded\n", failed);
	if (log->nunits == 0)
		die("no requests of the chosen operations in the log", path);
}

/* Frees what load_log allocated. */
static void
free_log(Log *log)
{
	int			i;

	for (i = 0; i < log->nrequests; i++)
	{
		free(log->requests[i].op);
		free(log->requests[i].body);
	}
	for (i = 0; i < log->nunits; i++)
		free(log->units[i].label);
	free(log->requests);
	free(log->units);
}

/* The environment variable name, or fallback when it is unset or empty. */
static const char *
env_or(const char *name, const char *fallback)
{
	const char *value = getenv(name);

	return value != NULL && value[0] != '\0' ? value : fallback;
}

/* Creates a session's client and parses its own copy of every request. */
static void
open_session(Session *session, const Log *log, const Options *options)
{
	WlDdbConfig config;
	char		err[256];
	int			i;

	memset(session, 0, sizeof(Session));
	memset(&config, 0, sizeof(config));
	config.endpoint = options->endpoint;
	config.region = env_or("AWS_REGION", "us-east-1");
	config.access_key_id = env_or("AWS_ACCESS_KEY_ID", "bench");
	config.secret_access_key = env_or("AWS_SECRET_ACCESS_KEY", "bench");
	config.session_token = env_or("AWS_SESSION_TOKEN", NULL);
	config.connect_timeout_ms = 2000;
	config.request_timeout_ms = 30000;
	config.max_retries = 3;
	config.retry_base_delay_ms = 25;
	config.retry_max_delay_ms = 1000;
	config.max_connections = options->connections;
	session->log = log;
	session->ddb = wl_ddb_create(&config, err, sizeof(err));
	if (session->ddb == NULL)
		die("cannot create the client", err);
	session->calls = calloc(log->nrequests, sizeof(WlDdbCall));
	if (session->calls == NULL)
		die("out of memory", NULL);
	for (i = 0; i < log->nrequests; i++)
	{
		session->calls[i].operation = log->requests[i].op;
		session->calls[i].request = json_tokener_parse(log->requests[i].body);
		if (session->calls[i].request == NULL)
			die("a recorded body is not JSON", log->requests[i].body);
	}
}

/* Frees a session's calls, client and times. */
static void
close_session(Session *session)
{
	int			i;

	for (i = 0; i < session->log->nrequests; i++)
		wl_ddb_call_reset(&session->calls[i]);
	free(session->calls);
	wl_ddb_destroy(session->ddb);
	free(session->ms);
}

/*
 * The PutRequest and DeleteRequest entries of a RequestItems or
 * UnprocessedItems object ({table: [entry, ...]}).
 */
static long
count_writes(struct json_object *items)
{
	long		n = 0;
	size_t		i;

	if (!json_object_is_type(items, json_type_object))
		return 0;
	json_object_object_foreach(items, table, entries)
	{
		(void) table;
		for (i = 0; json_object_is_type(entries, json_type_array) &&
			 i < json_object_array_length(entries); i++)
		{
			struct json_object *entry = json_object_array_get_idx(entries, i);

			if (json_object_object_get_ex(entry, "PutRequest", NULL) ||
				json_object_object_get_ex(entry, "DeleteRequest", NULL))
				n++;
		}
	}
	return n;
}

/*
 * Sends calls[first, first + count) as one wl_ddb_execute and returns its
 * milliseconds.  Exits on any failed call; counts unprocessed items, then
 * frees the responses so that a long replay does not hold them all.
 */
static double
run_calls(Session *session, int first, int count)
{
	double		start = now_s();
	double		ms;
	int			i;

	wl_ddb_execute(session->ddb, &session->calls[first], count, NULL, NULL);
	ms = (now_s() - start) * 1000.0;
	for (i = first; i < first + count; i++)
	{
		WlDdbCall  *call = &session->calls[i];
		struct json_object *unprocessed;

		if (call->error.kind != WL_DDB_OK)
		{
			fprintf(stderr, "replay: %s failed: %s: %s\n", call->operation,
					call->error.type[0] ? call->error.type : "no answer", call->error.message);
			exit(1);
		}
		if (json_object_object_get_ex(call->response, "UnprocessedItems", &unprocessed))
			session->unprocessed += count_writes(unprocessed);
		json_object_put(call->response);
		call->response = NULL;
	}
	return ms;
}

/*
 * Replays one unit, each run of requests of one operation (a phase) as one
 * wl_ddb_execute after the other; returns the unit's milliseconds.
 */
static double
replay_unit(Session *session, const Unit *unit)
{
	const Request *requests = session->log->requests;
	int			end = unit->first + unit->nrequests;
	int			i,
				j;
	double		ms = 0.0;

	for (i = unit->first; i < end; i = j)
	{
		for (j = i + 1; j < end && strcmp(requests[j].op, requests[i].op) == 0; j++)
			;
		ms += run_calls(session, i, j - i);
	}
	return ms;
}

/* qsort comparison of doubles, ascending. */
static int
compare_doubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * The p-th percentile of values (sorted in place), interpolated between
 * the nearest ranks, so that p = 50 is the median of an even count too;
 * 0 for no values.
 */
static double
percentile(double *values, int n, double p)
{
	double		rank = p / 100.0 * (n - 1);
	int			low = (int) rank;

	if (n == 0)
		return 0.0;
	qsort(values, n, sizeof(double), compare_doubles);
	if (low + 1 >= n)
		return values[n - 1];
	return values[low] + (values[low + 1] - values[low]) * (rank - low);
}

/*
 * floor mode: one client replays every unit once to warm up, then
 * options->repeat times; a unit's time is its median over the passes.
 */
static void
run_floor(const Log *log, const Options *options)
{
	Session		session;
	int			repeat = options->repeat;
	double	   *times = malloc(sizeof(double) * log->nunits * repeat);
	double	   *medians = malloc(sizeof(double) * log->nunits);
	double		sum = 0.0;
	long		nphases = 0;
	int			pass,
				u;

	if (times == NULL || medians == NULL)
		die("out of memory", NULL);
	open_session(&session, log, options);
	for (u = 0; u < log->nunits; u++)
		replay_unit(&session, &log->units[u]);
	for (pass = 0; pass < repeat; pass++)
		for (u = 0; u < log->nunits; u++)
			times[u * repeat + pass] = replay_unit(&session, &log->units[u]);
	for (u = 0; u < log->nunits; u++)
	{
		medians[u] = percentile(&times[u * repeat], repeat, 50);
		sum += medians[u];
		nphases += log->units[u].nphases;
		printf("{\"unit\":%s,\"phases\":%d,\"requests\":%d,\"ms\":%.3f}\n",
			   log->units[u].label, log->units[u].nphases, log->units[u].nrequests, medians[u]);
	}
	printf("{\"summary\":\"floor\",\"units\":%d,\"mean_ms\":%.3f,\"p50_ms\":%.3f,"
		   "\"p95_ms\":%.3f,\"requests_per_unit\":%.3f,\"phases_per_unit\":%.3f}\n",
		   log->nunits, sum / log->nunits, percentile(medians, log->nunits, 50),
		   percentile(medians, log->nunits, 95), (double) log->nrequests / log->nunits,
		   (double) nphases / log->nunits);
	close_session(&session);
	free(times);
	free(medians);
}

/* A throughput thread: replays units in turn until the deadline. */
static void *
throughput_thread(void *arg)
{
	Session    *session = arg;
	const Log  *log = session->log;

	while (now_s() < session->deadline)
	{
		session->ms = grow(session->ms, &session->ms_cap, session->nms, sizeof(double));
		session->ms[session->nms++] = replay_unit(session, &log->units[session->next_unit]);
		session->next_unit = (session->next_unit + 1) % log->nunits;
	}
	return NULL;
}

/*
 * throughput mode: options->sessions threads, each with its own client,
 * replay units for options->seconds; reports units a second and the
 * percentiles of the units' times.
 */
static void
run_throughput(const Log *log, const Options *options)
{
	int			nsessions = options->sessions;
	Session    *sessions = calloc(nsessions, sizeof(Session));
	pthread_t  *threads = calloc(nsessions, sizeof(pthread_t));
	double	   *all = NULL;
	int			nall = 0,
				cap = 0,
				i,
				j;
	double		start,
				elapsed;

	if (sessions == NULL || threads == NULL)
		die("out of memory", NULL);
	for (i = 0; i < nsessions; i++)
		open_session(&sessions[i], log, options);
	start = now_s();
	for (i = 0; i < nsessions; i++)
	{
		sessions[i].next_unit = i % log->nunits;
		sessions[i].deadline = start + options->seconds;
		if (pthread_create(&threads[i], NULL, throughput_thread, &sessions[i]) != 0)
			die("cannot start a thread", NULL);
	}
	for (i = 0; i < nsessions; i++)
		pthread_join(threads[i], NULL);
	elapsed = now_s() - start;
	for (i = 0; i < nsessions; i++)
	{
		for (j = 0; j < sessions[i].nms; j++)
		{
			all = grow(all, &cap, nall, sizeof(double));
			all[nall++] = sessions[i].ms[j];
		}
		close_session(&sessions[i]);
	}
	printf("{\"summary\":\"throughput\",\"sessions\":%d,\"units_per_s\":%.3f,\"p50_ms\":%.3f,"
		   "\"p95_ms\":%.3f,\"p99_ms\":%.3f,\"units\":%d}\n",
		   nsessions, nall / elapsed, percentile(all, nall, 50), percentile(all, nall, 95),
		   percentile(all, nall, 99), nall);
	free(all);
	free(threads);
	free(sessions);
}

/*
 * writes mode: every kept request of the log as one wl_ddb_execute, so that
 * options->connections calls are in flight all along; reports items and
 * calls a second.
 */
static void
run_writes(const Log *log, const Options *options)
{
	Session		session;
	struct json_object *items;
	long		nitems = 0;
	double		seconds;
	int			i;

	open_session(&session, log, options);
	for (i = 0; i < log->nrequests; i++)
		if (json_object_object_get_ex(session.calls[i].request, "RequestItems", &items))
			nitems += count_writes(items);
	seconds = run_calls(&session, 0, log->nrequests) / 1000.0;
	printf("{\"summary\":\"writes\",\"calls\":%d,\"items\":%ld,\"seconds\":%.3f,"
		   "\"items_per_s\":%.3f,\"calls_per_s\":%.3f",
		   log->nrequests, nitems, seconds, nitems / seconds, log->nrequests / seconds);
	if (session.unprocessed > 0)
		printf(",\"unprocessed\":%ld", session.unprocessed);
	printf("}\n");
	close_session(&session);
}

/* Prints the usage and exits with status 2. */
static void
usage(void)
{
	fprintf(stderr,
			"usage: replay floor LOG ENDPOINT [--ops OPS] [--connections N] [--repeat N]\n"
			"       replay throughput LOG ENDPOINT --sessions S [--ops OPS] [--connections N] [--seconds N]\n"
			"       replay writes LOG ENDPOINT [--ops OPS] [--connections N]\n");
	exit(2);
}

/* The positive number given for option name, or usage. */
static double
positive(const char *name, const char *value)
{
	char	   *end;
	double		number = strtod(value, &end);

	if (end == value || *end != '\0' || !(number > 0))
	{
		fprintf(stderr, "replay: %s wants a positive number, not \"%s\"\n", name, value);
		usage();
	}
	return number;
}

/* Parses the command line into options, with the defaults of each mode. */
static void
parse_options(Options *options, int argc, char **argv)
{
	bool		throughput;
	int			i;

	if (argc < 4 || (strcmp(argv[1], "floor") != 0 && strcmp(argv[1], "throughput") != 0 &&
					 strcmp(argv[1], "writes") != 0))
		usage();
	options->mode = argv[1];
	options->log = argv[2];
	options->endpoint = argv[3];
	options->ops = strcmp(argv[1], "writes") == 0 ? "BatchWriteItem" : "Query,BatchGetItem";
	options->connections = 16;
	options->repeat = 3;
	options->sessions = 0;
	options->seconds = 10.0;
	for (i = 4; i + 1 < argc; i += 2)
	{
		if (strcmp(argv[i], "--ops") == 0)
			options->ops = argv[i + 1];
		else if (strcmp(argv[i], "--connections") == 0)
			options->connections = (int) positive(argv[i], argv[i + 1]);
		else if (strcmp(argv[i], "--repeat") == 0)
			options->repeat = (int) positive(argv[i], argv[i + 1]);
		else if (strcmp(argv[i], "--sessions") == 0)
			options->sessions = (int) positive(argv[i], argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			options->seconds = positive(argv[i], argv[i + 1]);
		else
			usage();
	}
	throughput = strcmp(options->mode, "throughput") == 0;
	if (i != argc || options->connections < 1 || options->repeat < 1 ||
		throughput != (options->sessions >= 1))
		usage();
}

int
main(int argc, char **argv)
{
	Options		options;
	Log			log;

	parse_options(&options, argc, argv);
	load_log(&log, options.log, options.ops, strcmp(options.mode, "writes") != 0);
	if (strcmp(options.mode, "floor") == 0)
		run_floor(&log, &options);
	else if (strcmp(options.mode, "throughput") == 0)
		run_throughput(&log, &options);
	else
		run_writes(&log, &options);
	free_log(&log);
	return 0;
}

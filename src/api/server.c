/*
 * server.c - whiplash-api's HTTP side: libmicrohttpd, one thread per
 * connection; a request's lifetime from its first byte to its log line;
 * and an orderly exit on SIGTERM.
 *
 * A request with a key borrows a pooled PostgreSQL connection and runs as
 * one transaction as the key's role, with the request time limit as its
 * statement_timeout; its answer is sent only after COMMIT succeeded, since
 * the extension writes to DynamoDB at COMMIT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"

/* One request in progress: its body so far. */
typedef struct ApiCall
{
	char	   *body;
	size_t		body_len;
	bool		too_large;
	struct timespec started;
} ApiCall;

static ApiConfig api_config;
static ApiPool *api_pool;
static pthread_mutex_t api_inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t api_inflight_done = PTHREAD_COND_INITIALIZER;
static int	api_inflight = 0;
static volatile bool api_stopping = false;	/* SIGTERM came: finish, take no more */

/* Leaves the URL as sent: segments and arguments are decoded one by one. */
static size_t
api_keep_escaped(void *cls, struct MHD_Connection *connection, char *text)
{
	return strlen(text);
}

/* Splits the URL's path into decoded segments, skipping empty ones. */
static bool
api_split_path(const char *url, ApiRequest *req)
{
	const char *start = url;

	while (*start != '\0')
	{
		const char *end = strchr(start, '/');
		size_t		len = end ? (size_t) (end - start) : strlen(start);

		if (len > 0)
		{
			char	   *raw = strndup(start, len);

			if (raw == NULL)
				return false;
			if (req->nsegments == API_MAX_SEGMENTS)
			{
				free(raw);
				req->nsegments = API_MAX_SEGMENTS + 1;
				return true;	/* longer than any route: a 404 */
			}
			req->segments[req->nsegments] = api_decode(raw, false);
			free(raw);
			if (req->segments[req->nsegments] == NULL)
				return false;
			req->nsegments++;
		}
		start += len;
		if (*start == '/')
			start++;
	}
	return true;
}

/*
 * Begins a request's transaction as the key's role on a pooled connection:
 * NULL after answering the error.  A pooled connection that PostgreSQL
 * closed while it was idle (a restart, idle_session_timeout) fails its
 * BEGIN; nothing has run yet, so the request retries once on a new one,
 * and the other idle connections, likely closed too, are dropped.
 */
static PGconn *
api_begin(ApiRequest *req, ApiResponse *res)
{
	for (int attempt = 0; attempt < 2; attempt++)
	{
		char		error[512];
		char	   *role;
		char	   *begin = NULL;
		PGconn	   *pg = api_pool_get(api_pool, api_config.request_timeout_ms, error,
									  sizeof(error));
		PGresult   *result;

		if (pg == NULL)
		{
			api_reply_error(res, 503, error, NULL,
							"Retry later; check that PostgreSQL is up and the pool_size setting.",
							NULL);
			return NULL;
		}
		role = PQescapeIdentifier(pg, req->role, strlen(req->role));
		if (role == NULL ||
			asprintf(&begin, "BEGIN; SET LOCAL ROLE %s; SET LOCAL statement_timeout = %d",
					 role, api_config.request_timeout_ms) < 0)
			begin = NULL;
		PQfreemem(role);
		result = begin ? PQexec(pg, begin) : NULL;
		free(begin);
		if (PQresultStatus(result) == PGRES_COMMAND_OK)
		{
			PQclear(result);
			return pg;
		}
		if (PQstatus(pg) == CONNECTION_BAD && attempt == 0)
		{
			PQclear(result);
			api_pool_put(api_pool, pg);
			api_pool_discard_idle(api_pool);
			continue;
		}
		/* a key whose role is gone is the server's misconfiguration */
		api_reply_pg_error(res, result, pg, 500);
		PQclear(result);
		if (PQtransactionStatus(pg) == PQTRANS_INERROR)
			PQclear(PQexec(pg, "ROLLBACK"));
		api_pool_put(api_pool, pg);
		return NULL;
	}
	return NULL;
}

/*
 * Runs a keyed request's handler in a transaction as the key's role, and
 * commits it when it answered success: a COMMIT that rolled back (its tag
 * says so) or failed turns the answer into the error.
 */
static void
api_run_as_role(ApiRequest *req, ApiResponse *res, ApiHandler handler)
{
	PGresult   *result;
	bool		success;

	if ((req->pg = api_begin(req, res)) == NULL)
		return;
	handler(req, res);
	success = res->status < 400;
	result = PQexec(req->pg, success ? "COMMIT" : "ROLLBACK");
	if (success && (PQresultStatus(result) != PGRES_COMMAND_OK ||
					strcmp(PQcmdStatus(result), "COMMIT") != 0))
		api_reply_pg_error(res, result, req->pg, 0);
	PQclear(result);
	api_pool_put(api_pool, req->pg);
	req->pg = NULL;
}

/* Routes, authenticates and runs one request whose body has arrived. */
static void
api_dispatch(struct MHD_Connection *connection, const char *url, const char *method,
			 ApiCall *call, ApiResponse *res, const char **role_out)
{
	ApiRequest	req = {0};
	ApiHandler	handler;
	const char *allow = "";
	bool		needs_key = true;

	req.method = method;
	req.url = url;
	req.body = call->body;
	req.body_len = call->body_len;
	req.config = &api_config;
	req.connection = connection;
	if (!api_split_path(url, &req))
		api_reply_errorf(res, 400, "malformed percent-encoding in the path");
	else if ((handler = api_route(method, req.segments, req.nsegments, &allow, &needs_key)) == NULL)
	{
		if (allow[0] == '\0')
			api_reply_errorf(res, 404, "no route for %s %s", method, url);
		else
		{
			api_reply_errorf(res, 405, "%s is not allowed on %s; allowed: %s", method, url, allow);
			res->allow = allow;
		}
	}
	else if (needs_key &&
			 (req.role = api_key_role(&api_config,
									  MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
																  "x-api-key"))) == NULL)
		api_reply_error(res, 401, "missing or unknown API key", NULL,
						"Send a key of the server's configuration in the x-api-key header.", NULL);
	else if (call->too_large)
		api_reply_errorf(res, 413, "the request body is larger than max_body (%zu bytes)",
						 api_config.max_body);
	else if (needs_key && api_stopping)
		api_reply_error(res, 503, "the server is stopping", NULL,
						"Send the request again: another server, or this one restarted, will take it.",
						NULL);
	else if (needs_key)
		api_run_as_role(&req, res, handler);
	else
		handler(&req, res);
	/* a handler that could not even build its answer ran out of memory */
	if (res->body == NULL)
		api_reply_errorf(res, 500, "the server ran out of memory answering");
	*role_out = req.role;
	for (int i = 0; i < req.nsegments && i < API_MAX_SEGMENTS; i++)
		free(req.segments[i]);
}

/* Writes the request's log line: never its key, body or arguments. */
static void
api_log(struct MHD_Connection *connection, const char *method, const char *url,
		int status, size_t bytes, const ApiCall *call, const char *role)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char		address[INET6_ADDRSTRLEN] = "-";
	char		when[32];
	struct timespec now;
	struct tm	tm;

	if (info != NULL && info->client_addr != NULL)
	{
		if (info->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *) info->client_addr)->sin_addr,
					  address, sizeof(address));
		else if (info->client_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *) info->client_addr)->sin6_addr,
					  address, sizeof(address));
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	clock_gettime(CLOCK_MONOTONIC, &now);
	fprintf(stderr, "%s %s %s %s %d %zu %.1fms role=%s\n", when, address, method, url,
			status, bytes,
			(now.tv_sec - call->started.tv_sec) * 1e3 +
			(now.tv_nsec - call->started.tv_nsec) / 1e6,
			role ? role : "-");
}

/* Sends res, with its Allow and Retry-After headers. */
static enum MHD_Result
api_send(struct MHD_Connection *connection, ApiResponse *res)
{
	struct MHD_Response *response;
	enum MHD_Result result;
	char	   *body = res->body;
	size_t		len;

	if (body == NULL)
		return MHD_NO;			/* out of memory even for the error: close */
	len = strlen(body);
	res->body = NULL;
	response = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (response == NULL)
	{
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(response, "Content-Type", "application/json");
	if (res->allow != NULL)
		MHD_add_response_header(response, "Allow", res->allow);
	if (res->retry_after)
		MHD_add_response_header(response, "Retry-After", "1");
	if (api_stopping)
		MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
	result = MHD_queue_response(connection, res->status, response);
	MHD_destroy_response(response);
	return result;
}

/* libmicrohttpd's handler: gathers the body, then answers. */
static enum MHD_Result
api_access(void *cls, struct MHD_Connection *connection, const char *url,
		   const char *method, const char *version, const char *upload_data,
		   size_t *upload_data_size, void **state)
{
	ApiCall    *call = *state;
	ApiResponse res = {.status = 500};
	const char *role = NULL;
	enum MHD_Result result;
	const char *length;
	size_t		bytes;

	if (call == NULL)
	{
		call = calloc(1, sizeof(ApiCall));
		if (call == NULL)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &call->started);
		*state = call;
		pthread_mutex_lock(&api_inflight_lock);
		api_inflight++;
		pthread_mutex_unlock(&api_inflight_lock);
		length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
											 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (length == NULL || strtoull(length, NULL, 10) <= api_config.max_body)
			return MHD_YES;
		/* too large to read: answer now, and the body is never read */
		call->too_large = true;
	}
	else if (*upload_data_size > 0)
	{
		if (!call->too_large && call->body_len + *upload_data_size <= api_config.max_body)
		{
			char	   *grown = realloc(call->body, call->body_len + *upload_data_size + 1);

			if (grown == NULL)
				call->too_large = true;
			else
			{
				call->body = grown;
				memcpy(call->body + call->body_len, upload_data, *upload_data_size);
				call->body_len += *upload_data_size;
				call->body[call->body_len] = '\0';
			}
		}
		else
		{
			/* read and drop the rest, so that the 413 reaches the client */
			call->too_large = true;
			free(call->body);
			call->body = NULL;
			call->body_len = 0;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	api_dispatch(connection, url, method, call, &res, &role);
	bytes = res.body ? strlen(res.body) : 2;
	api_log(connection, method, url, res.status, bytes, call, role);
	result = api_send(connection, &res);
	free(res.body);
	return result;
}

/* Frees a request's state when it ends, and counts it out. */
static void
api_completed(void *cls, struct MHD_Connection *connection, void **state,
			  enum MHD_RequestTerminationCode code)
{
	ApiCall    *call = *state;

	if (call == NULL)
		return;
	free(call->body);
	free(call);
	*state = NULL;
	pthread_mutex_lock(&api_inflight_lock);
	api_inflight--;
	pthread_cond_broadcast(&api_inflight_done);
	pthread_mutex_unlock(&api_inflight_lock);
}

/* libmicrohttpd's own errors, on the log. */
static void
api_mhd_log(void *cls, const char *fmt, va_list args)
{
	flockfile(stderr);
	fprintf(stderr, "whiplash-api: ");
	vfprintf(stderr, fmt, args);
	funlockfile(stderr);
}

/* Waits up to timeout_ms for the requests in flight to finish. */
static void
api_drain(int timeout_ms)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000 + 1;
	pthread_mutex_lock(&api_inflight_lock);
	while (api_inflight > 0)
		if (pthread_cond_timedwait(&api_inflight_done, &api_inflight_lock, &deadline) == ETIMEDOUT)
			break;
	if (api_inflight > 0)
		fprintf(stderr, "whiplash-api: %d request(s) still running at exit\n", api_inflight);
	pthread_mutex_unlock(&api_inflight_lock);
}

/* Starts the daemon on the configured address; NULL when it cannot. */
static struct MHD_Daemon *
api_start(void)
{
	struct sockaddr_in6 addr6 = {0};
	struct sockaddr_in addr4 = {0};
	struct sockaddr *addr;
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_POLL;

	if (inet_pton(AF_INET, api_config.listen, &addr4.sin_addr) == 1)
	{
		addr4.sin_family = AF_INET;
		addr4.sin_port = htons(api_config.port);
		addr = (struct sockaddr *) &addr4;
	}
	else if (inet_pton(AF_INET6, api_config.listen, &addr6.sin6_addr) == 1)
	{
		addr6.sin6_family = AF_INET6;
		addr6.sin6_port = htons(api_config.port);
		addr = (struct sockaddr *) &addr6;
		flags |= MHD_USE_IPv6;
	}
	else
	{
		fprintf(stderr, "whiplash-api: listen must be an IPv4 or IPv6 address, not \"%s\"\n",
				api_config.listen);
		return NULL;
	}
	return MHD_start_daemon(flags, api_config.port, NULL, NULL, api_access, NULL,
							MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, NULL,
							MHD_OPTION_SOCK_ADDR, addr,
							MHD_OPTION_CONNECTION_LIMIT, (unsigned int) api_config.connection_limit,
							MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 60,
							MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 256 * 1024,
							MHD_OPTION_NOTIFY_COMPLETED, api_completed, NULL,
							MHD_OPTION_UNESCAPE_CALLBACK, api_keep_escaped, NULL,
							MHD_OPTION_END);
}

/* Reads the settings, serves until SIGTERM or SIGINT, then drains. */
int
main(int argc, char **argv)
{
	struct MHD_Daemon *daemon;
	MHD_socket	listener;
	sigset_t	signals;
	int			signal_number = 0;
	int			exit_code;

	if (!api_config_load(&api_config, argc, argv, &exit_code))
		return exit_code;
	setvbuf(stderr, NULL, _IOLBF, 0);

	/* block the signals in every thread; the main thread waits for them */
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	api_pool = api_pool_create(&api_config);
	daemon = api_pool ? api_start() : NULL;
	if (daemon == NULL)
	{
		fprintf(stderr, "whiplash-api: could not listen on %s port %d\n",
				api_config.listen, api_config.port);
		api_pool_free(api_pool);
		api_config_free(&api_config);
		return 1;
	}
	fprintf(stderr, "whiplash-api: listening on %s port %d, %d PostgreSQL connection(s), %d key(s)\n",
			api_config.listen, api_config.port, api_config.pool_size, api_config.nkeys);
	sigwait(&signals, &signal_number);
	fprintf(stderr, "whiplash-api: %s: finishing the requests in flight\n",
			signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
	/* refuse new connections at once; kept-alive ones get 503 and close */
	api_stopping = true;
	listener = MHD_quiesce_daemon(daemon);
	if (listener != MHD_INVALID_SOCKET)
		shutdown(listener, SHUT_RDWR);
	api_drain(api_config.request_timeout_ms);
	MHD_stop_daemon(daemon);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);
	api_pool_free(api_pool);
	api_config_free(&api_config);
	fprintf(stderr, "whiplash-api: stopped\n");
	return 0;
}

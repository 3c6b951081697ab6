/*
 * pool.c - a fixed pool of PostgreSQL connections shared by the request
 * threads.
 *
 * Connections open lazily and stay open, so each backend keeps the
 * extension's cached collection settings and DynamoDB connections warm
 * across requests.  A connection that broke, or was handed back inside a
 * transaction, is closed and opened again on its next use.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"

struct ApiPool
{
	pthread_mutex_t lock;
	pthread_cond_t freed;
	const ApiConfig *config;
	int			size;
	PGconn	  **idle;			/* connections not in use (NULL: not opened) */
	bool	   *taken;
};

/* Makes a pool of config->pool_size connections, none opened yet. */
ApiPool *
api_pool_create(const ApiConfig *config)
{
	ApiPool    *pool = calloc(1, sizeof(ApiPool));

	if (pool == NULL)
		return NULL;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->freed, NULL);
	pool->config = config;
	pool->size = config->pool_size;
	pool->idle = calloc(pool->size, sizeof(PGconn *));
	pool->taken = calloc(pool->size, sizeof(bool));
	if (pool->idle == NULL || pool->taken == NULL)
	{
		api_pool_free(pool);
		return NULL;
	}
	return pool;
}

/*
 * PostgreSQL's NOTICEs (a collection's index trained, say) as one log line
 * each, without their DETAIL and HINT lines.
 */
static void
api_pool_notice(void *arg, const PGresult *result)
{
	const char *severity = PQresultErrorField(result, PG_DIAG_SEVERITY);
	const char *message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);

	fprintf(stderr, "whiplash-api: PostgreSQL %s: %s\n",
			severity ? severity : "NOTICE", message ? message : "");
}

/*
 * Opens a connection named whiplash-api in pg_stat_activity.  A host that
 * stops answering must not hold a request (or the exit) for TCP's fifteen
 * minutes: connecting gives up after 10 s, and the kernel drops a
 * connection whose data goes unacknowledged past the request's time limit.
 * conninfo, given last, may override any of these.
 */
static PGconn *
api_pool_connect(const ApiConfig *config, char *error, size_t error_len)
{
	char		user_timeout[24];
	const char *keywords[] = {"connect_timeout", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout", "fallback_application_name", "dbname", NULL};
	const char *values[] = {"10", "30", "10", "3", user_timeout, "whiplash-api",
	config->conninfo, NULL};
	PGconn	   *conn;

	snprintf(user_timeout, sizeof(user_timeout), "%d", config->request_timeout_ms + 10000);
	conn = PQconnectdbParams(keywords, values, 1);

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
	{
		PQsetNoticeReceiver(conn, api_pool_notice, NULL);
		return conn;
	}
	/* libpq's message names host and database, never the password */
	snprintf(error, error_len, "could not connect to PostgreSQL: %s",
			 conn ? PQerrorMessage(conn) : "out of memory");
	error[strcspn(error, "\n")] = '\0';
	PQfinish(conn);
	return NULL;
}

/*
 * Takes a connection, waiting up to wait_ms for one to come free; opens it
 * if needed.  NULL with a message in error when none came free or
 * PostgreSQL could not be reached.
 */
PGconn *
api_pool_get(ApiPool *pool, int wait_ms, char *error, size_t error_len)
{
	struct timespec deadline;
	int			slot = -1;
	PGconn	   *conn;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long) (wait_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000)
	{
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&pool->lock);
	for (;;)
	{
		/* prefer an open connection, then any free slot */
		for (int i = 0; i < pool->size && slot < 0; i++)
			if (!pool->taken[i] && pool->idle[i] != NULL)
				slot = i;
		for (int i = 0; i < pool->size && slot < 0; i++)
			if (!pool->taken[i])
				slot = i;
		if (slot >= 0)
			break;
		if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT)
		{
			pthread_mutex_unlock(&pool->lock);
			snprintf(error, error_len,
					 "all %d PostgreSQL connections stayed busy for %d ms",
					 pool->size, wait_ms);
			return NULL;
		}
	}
	pool->taken[slot] = true;
	conn = pool->idle[slot];
	pool->idle[slot] = NULL;
	pthread_mutex_unlock(&pool->lock);

	if (conn != NULL && PQstatus(conn) != CONNECTION_OK)
	{
		PQfinish(conn);
		conn = NULL;
	}
	if (conn == NULL)
		conn = api_pool_connect(pool->config, error, error_len);
	if (conn == NULL)
	{
		pthread_mutex_lock(&pool->lock);
		pool->taken[slot] = false;
		pthread_cond_signal(&pool->freed);
		pthread_mutex_unlock(&pool->lock);
		return NULL;
	}
	return conn;
}

/*
 * Hands a connection back.  One that broke or is still inside a
 * transaction is closed: its next user gets a fresh one.
 */
void
api_pool_put(ApiPool *pool, PGconn *conn)
{
	if (PQstatus(conn) != CONNECTION_OK ||
		PQtransactionStatus(conn) != PQTRANS_IDLE)
	{
		PQfinish(conn);
		conn = NULL;
	}
	pthread_mutex_lock(&pool->lock);
	for (int i = 0; i < pool->size; i++)
		if (pool->taken[i] && pool->idle[i] == NULL)
		{
			pool->taken[i] = false;
			pool->idle[i] = conn;
			break;
		}
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
}

/*
 * Closes the idle connections: one was found closed by PostgreSQL (a
 * restart, idle_session_timeout), so the others most likely were too.
 */
void
api_pool_discard_idle(ApiPool *pool)
{
	pthread_mutex_lock(&pool->lock);
	for (int i = 0; i < pool->size; i++)
		if (!pool->taken[i] && pool->idle[i] != NULL)
		{
			PQfinish(pool->idle[i]);
			pool->idle[i] = NULL;
		}
	pthread_mutex_unlock(&pool->lock);
}

/* Closes every connection and frees the pool. */
void
api_pool_free(ApiPool *pool)
{
	if (pool == NULL)
		return;
	for (int i = 0; pool->idle != NULL && i < pool->size; i++)
		PQfinish(pool->idle[i]);
	free(pool->idle);
	free(pool->taken);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->freed);
	free(pool);
}

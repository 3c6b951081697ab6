/*
 * api.h - whiplash-api, the original whiplash's HTTP API served over the
 * extension.
 *
 * Each HTTP request borrows a PostgreSQL connection from the pool, runs as
 * the role its API key maps to (SET LOCAL ROLE inside one transaction),
 * and answers from SQL: projects are whiplash foreign servers, collections
 * the foreign tables that map them.  The server holds no authority of its
 * own; GRANTs decide what a key may do.
 */
#ifndef WHIPLASH_API_H
#define WHIPLASH_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#define API_MAX_KEYS 256
#define API_MAX_SEGMENTS 8

/* One API key: the SHA-256 of the key and the role it runs as. */
typedef struct ApiKey
{
	unsigned char hash[32];
	char	   *role;
} ApiKey;

/* What the server was told by its configuration file and command line. */
typedef struct ApiConfig
{
	char	   *listen;			/* address to bind */
	int			port;
	char	   *conninfo;		/* libpq connection string */
	int			pool_size;		/* PostgreSQL connections */
	int			request_timeout_ms; /* statement_timeout of a request */
	size_t		max_body;		/* bytes of a request body */
	char	   *schema;			/* where created collections' tables go */
	int			connection_limit;	/* HTTP connections at once */
	ApiKey		keys[API_MAX_KEYS];
	int			nkeys;
} ApiConfig;

/* config.c */
extern bool api_config_load(ApiConfig *config, int argc, char **argv, int *exit_code);
extern const char *api_key_role(const ApiConfig *config, const char *key);
extern void api_config_free(ApiConfig *config);

/* pool.c */
typedef struct ApiPool ApiPool;
extern ApiPool *api_pool_create(const ApiConfig *config);
extern PGconn *api_pool_get(ApiPool *pool, int wait_ms, char *error, size_t error_len);
extern void api_pool_put(ApiPool *pool, PGconn *conn);
extern void api_pool_discard_idle(ApiPool *pool);
extern void api_pool_free(ApiPool *pool);

/* A request as the handlers see it. */
typedef struct ApiRequest
{
	const char *method;
	const char *url;
	char	   *segments[API_MAX_SEGMENTS];	/* decoded path segments */
	int			nsegments;
	const char *body;			/* NUL-terminated, or NULL */
	size_t		body_len;
	const char *role;			/* the key's role */
	PGconn	   *pg;				/* in a transaction, as role */
	const ApiConfig *config;
	void	   *connection;		/* the MHD connection, for query arguments */
} ApiRequest;

/* The answer a handler fills in. */
typedef struct ApiResponse
{
	int			status;
	char	   *body;			/* malloc'd JSON text */
	const char *allow;			/* methods, for a 405 */
	bool		retry_after;	/* a 503 that may be retried */
} ApiResponse;

typedef void (*ApiHandler) (ApiRequest *req, ApiResponse *res);

/* problems.c */
extern void api_reply_json(ApiResponse *res, int status, json_object *body);
extern void api_reply_text(ApiResponse *res, int status, const char *json_text);
extern void api_reply_error(ApiResponse *res, int status, const char *message,
							const char *sqlstate, const char *hint, const char *detail);
extern void api_reply_errorf(ApiResponse *res, int status, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
extern void api_reply_pg_error(ApiResponse *res, const PGresult *result, PGconn *conn,
							   int status_wanted);
extern int	api_status_for_sqlstate(const char *sqlstate);

/* sql.c */
extern PGresult *api_query(ApiRequest *req, ApiResponse *res, const char *sql,
						   int nparams, const char *const *params);
extern const char *api_query_value(PGresult *result);

/* routes.c */
extern ApiHandler api_route(const char *method, char **segments, int nsegments,
							const char **allow, bool *needs_key);

/* catalog.c: a project's server and a collection's foreign table */
typedef struct ApiTarget
{
	char	   *server;			/* foreign server name */
	char	   *stage;
	char	   *table;			/* regclass text, ready for SQL; NULL if none */
	char	   *vector_column;	/* its vector column, quoted for SQL */
	char	   *vector_name;	/* the same, as it is named */
	char	   *attribute_columns;	/* "jsonb_build_object(...)" or NULL */
	bool		has_attributes;	/* an attributes jsonb column */
	json_object *columns;		/* column names that attributes may name */
} ApiTarget;

/*
 * The whiplash foreign servers as a query: oid, server, project (its
 * project option, default "whiplash") and stage (default "dev").  Both
 * finding a project's server and listing the projects read it.
 */
#define API_SERVERS_SQL \
"SELECT s.oid, s.srvname::text AS server, coalesce(o.project, 'whiplash') AS project," \
"       coalesce(o.stage, 'dev') AS stage" \
"  FROM pg_foreign_server s" \
"  JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw AND w.fdwname = 'whiplash'" \
" CROSS JOIN LATERAL (SELECT max(option_value) FILTER (WHERE option_name = 'project') AS project," \
"                            max(option_value) FILTER (WHERE option_name = 'stage') AS stage" \
"                       FROM pg_options_to_table(s.srvoptions)) o"

extern bool api_find_target(ApiRequest *req, ApiResponse *res, bool need_table,
							ApiTarget *target);
extern void api_target_free(ApiTarget *target);
extern char *api_item_json_sql(const ApiTarget *target);

/* collections.c */
extern void api_list_projects(ApiRequest *req, ApiResponse *res);
extern void api_get_project(ApiRequest *req, ApiResponse *res);
extern void api_list_collections(ApiRequest *req, ApiResponse *res);
extern void api_create_collection(ApiRequest *req, ApiResponse *res);
extern void api_get_collection(ApiRequest *req, ApiResponse *res);
extern void api_delete_collection(ApiRequest *req, ApiResponse *res);

/* items.c */
extern void api_create_item(ApiRequest *req, ApiResponse *res);
extern void api_create_items_batch(ApiRequest *req, ApiResponse *res);
extern void api_get_item(ApiRequest *req, ApiResponse *res);
extern void api_put_item(ApiRequest *req, ApiResponse *res);
extern void api_delete_item(ApiRequest *req, ApiResponse *res);

/* search.c */
extern void api_search_post(ApiRequest *req, ApiResponse *res);
extern void api_search_get(ApiRequest *req, ApiResponse *res);

/* body.c: what a request carries */
extern char *api_decode(const char *text, bool plus_is_blank);
extern json_object *api_parse_json(const char *text, size_t len, const char **problem);
extern json_object *api_parse_body(ApiRequest *req, ApiResponse *res);
extern json_object *api_parse_vector(ApiResponse *res, json_object *value, const char *field);

/* openapi.c (generated from openapi.json) */
extern const char api_openapi_json[];


#endif

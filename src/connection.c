/*
 * connection.c - per-backend DynamoDB clients and the credentials policy.
 *
 * A backend keeps one client per user mapping, so its kept-alive
 * connections serve every statement of the session.  A change to any
 * server or user mapping marks the clients stale; a stale one is rebuilt
 * from the catalogs on its next use.  Calls run through wl_execute, which
 * lets a query cancel or statement_timeout abandon the network wait.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_client_stats);

typedef struct WlConnectionEntry
{
	Oid			umid;			/* hash key: the user mapping */
	bool		stale;
	MemoryContext context;		/* holds the names and options */
	WlConnection conn;
} WlConnectionEntry;

/* The credentials a connection signs with; never kept after connecting. */
typedef struct WlCredentials
{
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;
} WlCredentials;

/* The calls a memory context owns, freed when the context goes. */
typedef struct WlCallsOwner
{
	MemoryContextCallback callback;
	WlDdbCall  *calls;
	int			ncalls;
} WlCallsOwner;

static HTAB *wl_connections = NULL;

/* Marks every client stale when a server or user mapping changes. */
static void
wl_invalidate_connections(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	WlConnectionEntry *entry;

	hash_seq_init(&scan, wl_connections);
	while ((entry = hash_seq_search(&scan)) != NULL)
		entry->stale = true;
}

/* Creates the client table and hooks cache invalidation, once. */
static void
wl_init_connections(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(WlConnectionEntry);
	wl_connections = hash_create("whiplash connections", 8, &ctl,
								 HASH_ELEM | HASH_BLOBS);
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, wl_invalidate_connections, (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, wl_invalidate_connections, (Datum) 0);
}

/* Reads an environment variable, treating an empty one as absent. */
static char *
wl_getenv(const char *name)
{
	char	   *value = getenv(name);

	return value && value[0] ? value : NULL;
}

/*
 * Works out the credentials for a user mapping.  Keys in the mapping win.
 * Otherwise the Postgres server's environment (AWS_ACCESS_KEY_ID, ...) is
 * used only when the mapping says use_env_credentials, which only a
 * superuser can set, so no other role can borrow the server's identity.
 */
static void
wl_resolve_credentials(UserMapping *mapping, const char *server_name,
					   WlCredentials *creds)
{
	bool		use_env = false;
	ListCell   *cell;

	memset(creds, 0, sizeof(WlCredentials));
	foreach(cell, mapping->options)
	{
		DefElem    *def = (DefElem *) lfirst(cell);

		if (strcmp(def->defname, "access_key_id") == 0)
			creds->access_key_id = defGetString(def);
		else if (strcmp(def->defname, "secret_access_key") == 0)
			creds->secret_access_key = defGetString(def);
		else if (strcmp(def->defname, "session_token") == 0)
			creds->session_token = defGetString(def);
		else if (strcmp(def->defname, "use_env_credentials") == 0)
			use_env = defGetBoolean(def);
	}
	if (creds->access_key_id != NULL)
		return;

	if (!use_env)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("user mapping for server \"%s\" has no AWS credentials", server_name),
				 errhint("Set access_key_id and secret_access_key on the user mapping, or have a superuser set use_env_credentials 'true' on it.")));

	creds->access_key_id = wl_getenv("AWS_ACCESS_KEY_ID");
	creds->secret_access_key = wl_getenv("AWS_SECRET_ACCESS_KEY");
	creds->session_token = wl_getenv("AWS_SESSION_TOKEN");
	if (creds->access_key_id == NULL || creds->secret_access_key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set in the PostgreSQL server's environment"),
				 errhint("The user mapping for server \"%s\" has use_env_credentials set.", server_name)));
}

/*
 * Builds the client of an entry from the catalogs.  Options and names are
 * copied into the entry's own context; credentials go only into the core
 * client, which keeps its own copy.
 */
static void
wl_build_connection(WlConnectionEntry *entry, UserMapping *mapping)
{
	ForeignServer *server = GetForeignServer(mapping->serverid);
	WlServerOptions options;
	WlCredentials creds;
	WlDdbConfig config;
	MemoryContext oldcontext;
	char		reason[256];

	wl_server_options(server->serverid, &options);
	wl_resolve_credentials(mapping, server->servername, &creds);

	memset(&config, 0, sizeof(config));
	config.endpoint = options.endpoint;
	config.region = options.region;
	config.access_key_id = creds.access_key_id;
	config.secret_access_key = creds.secret_access_key;
	config.session_token = creds.session_token;
	config.connect_timeout_ms = options.connect_timeout_ms;
	config.request_timeout_ms = options.request_timeout_ms;
	config.max_retries = options.max_retries;
	config.retry_base_delay_ms = options.retry_base_delay_ms;
	config.retry_max_delay_ms = options.retry_max_delay_ms;
	config.max_connections = options.max_connections;
	config.ca_file = options.ca_file;

	entry->context = AllocSetContextCreate(TopMemoryContext, "whiplash connection",
										   ALLOCSET_SMALL_SIZES);
	oldcontext = MemoryContextSwitchTo(entry->context);
	entry->conn.serverid = server->serverid;
	entry->conn.umid = mapping->umid;
	entry->conn.server_name = pstrdup(server->servername);
	entry->conn.options = options;
	entry->conn.options.endpoint = options.endpoint ? pstrdup(options.endpoint) : NULL;
	entry->conn.options.region = pstrdup(options.region);
	entry->conn.options.project = pstrdup(options.project);
	entry->conn.options.stage = pstrdup(options.stage);
	entry->conn.options.ca_file = options.ca_file ? pstrdup(options.ca_file) : NULL;
	MemoryContextSwitchTo(oldcontext);

	entry->conn.ddb = wl_ddb_create(&config, reason, sizeof(reason));
	if (entry->conn.ddb == NULL)
	{
		MemoryContextDelete(entry->context);
		entry->context = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("could not create a DynamoDB client for server \"%s\": %s",
						server->servername, reason)));
	}
	entry->stale = false;
}

/* Frees an entry's client and memory. */
static void
wl_drop_connection(WlConnectionEntry *entry)
{
	wl_ddb_destroy(entry->conn.ddb);
	entry->conn.ddb = NULL;
	if (entry->context != NULL)
		MemoryContextDelete(entry->context);
	entry->context = NULL;
}

/*
 * Returns the current user's client for a server, creating it on first use
 * or after a catalog change.  Requires a user mapping, like postgres_fdw.
 */
WlConnection *
wl_connect(Oid serverid)
{
	UserMapping *mapping;
	WlConnectionEntry *entry;
	bool		found;

	if (wl_connections == NULL)
		wl_init_connections();

	/* Let pending invalidations mark entries stale before we look. */
	AcceptInvalidationMessages();

	mapping = GetUserMapping(GetUserId(), serverid);
	entry = hash_search(wl_connections, &mapping->umid, HASH_ENTER, &found);
	if (!found)
	{
		entry->conn.ddb = NULL;
		entry->conn.round_trips = 0;
		entry->context = NULL;
		entry->stale = true;
	}
	if (entry->stale || entry->conn.ddb == NULL)
	{
		wl_drop_connection(entry);
		wl_build_connection(entry, mapping);
	}
	return &entry->conn;
}

/* Frees the json-c objects of calls whose memory context is going away. */
static void
wl_calls_release(void *arg)
{
	WlCallsOwner *owner = arg;
	int			i;

	for (i = 0; i < owner->ncalls; i++)
		wl_ddb_call_reset(&owner->calls[i]);
}

/*
 * Allocates ncalls zeroed calls in the current memory context.  Their
 * requests and responses (json-c, outside Postgres memory) are freed when
 * the context is reset or deleted, so an ERROR anywhere leaks nothing.
 */
WlDdbCall *
wl_calls_new(int ncalls)
{
	WlCallsOwner *owner = palloc0(sizeof(WlCallsOwner));

	owner->calls = palloc0(sizeof(WlDdbCall) * Max(ncalls, 1));
	owner->ncalls = ncalls;
	owner->callback.func = wl_calls_release;
	owner->callback.arg = owner;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &owner->callback);
	return owner->calls;
}

/* Tells the core to stop waiting when a cancel or termination is pending. */
static bool
wl_interrupt_requested(void *arg)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

/*
 * Runs calls through the connection's client.  A cancel, statement_timeout
 * or termination stops the wait at once and is raised as the usual ERROR;
 * the abandoned connections are closed, so the next statement starts clean.
 * Each call's own error is left for the caller to judge.
 */
void
wl_execute(WlConnection *conn, WlDdbCall *calls, int ncalls)
{
	if (ncalls == 0)
		return;
	conn->round_trips++;
	if (wl_ddb_execute(conn->ddb, calls, ncalls, wl_interrupt_requested, NULL) == WL_DDB_ABORTED)
	{
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling DynamoDB requests to server \"%s\"", conn->server_name)));
	}
}

/*
 * whiplash_client_stats(): what each of this backend's clients has done,
 * so that connection reuse and retries can be observed from SQL.
 */
Datum
whiplash_client_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS scan;
	WlConnectionEntry *entry;

	InitMaterializedSRF(fcinfo, 0);
	if (wl_connections == NULL)
		return (Datum) 0;

	hash_seq_init(&scan, wl_connections);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		WlDdbStats	stats;
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		if (entry->conn.ddb == NULL)
			continue;
		wl_ddb_get_stats(entry->conn.ddb, &stats);
		values[0] = CStringGetTextDatum(entry->conn.server_name);
		values[1] = Int64GetDatum(stats.calls);
		values[2] = Int64GetDatum(stats.requests);
		values[3] = Int64GetDatum(stats.retries);
		values[4] = Int64GetDatum(stats.connections);
		values[5] = Int64GetDatum(entry->conn.round_trips);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

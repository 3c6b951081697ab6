/*
 * connection.c - per-backend DynamoDB clients and the credentials policy.
 *
 * A backend keeps one client per user mapping, so its kept-alive
 * connections serve every statement of the session.  A change to any
 * server or user mapping marks the clients stale; a stale one is rebuilt
 * from the catalogs on its next use.  Servers are looked up here too, with
 * the privilege check that using one needs.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_user_mapping.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
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
	wl_user_mapping_credentials(mapping, creds);
	if (creds->access_key_id != NULL)
		return;

	if (!creds->use_env)
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
 * Builds the client of an entry from the catalogs.  The server's options
 * and name are read into the entry's own context; credentials go only into
 * the core client, which keeps its own copy.
 */
static void
wl_build_connection(WlConnectionEntry *entry, UserMapping *mapping)
{
	MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "whiplash connection",
												  ALLOCSET_SMALL_SIZES);
	MemoryContext oldcontext = MemoryContextSwitchTo(context);
	ForeignServer *server = GetForeignServer(mapping->serverid);
	WlCredentials creds;
	WlDdbConfig config;
	char		reason[256];

	wl_server_options(server->serverid, &entry->conn.options);
	entry->conn.serverid = server->serverid;
	entry->conn.umid = mapping->umid;
	entry->conn.nchecks = 0;
	entry->conn.checks_statement = 0;
	entry->conn.server_name = pstrdup(server->servername);
	MemoryContextSwitchTo(oldcontext);

	wl_resolve_credentials(mapping, server->servername, &creds);
	config = entry->conn.options.client;
	config.access_key_id = creds.access_key_id;
	config.secret_access_key = creds.secret_access_key;
	config.session_token = creds.session_token;
	wl_encoding_hooks(&config);
	entry->conn.ddb = wl_ddb_create(&config, reason, sizeof(reason));
	if (entry->conn.ddb == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("could not create a DynamoDB client for server \"%s\": %s",
						server->servername, reason)));

	/* Built: the entry keeps it for the session. */
	MemoryContextSetParent(context, TopMemoryContext);
	entry->context = context;
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
 * Looks up a whiplash server by name and checks that the current user may
 * use it.
 */
ForeignServer *
wl_lookup_server(Name name)
{
	ForeignServer *server = GetForeignServerByName(NameStr(*name), false);
	ForeignDataWrapper *fdw = GetForeignDataWrapper(server->fdwid);
	AclResult	aclresult;

	if (strcmp(fdw->fdwname, "whiplash") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" does not use the whiplash foreign-data wrapper",
						server->servername)));
	aclresult = wl_server_aclcheck(server->serverid, GetUserId(), ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, server->servername);
	return server;
}

/*
 * The current user's mapping for a server, or PUBLIC's; without one, an
 * error that names the server (PostgreSQL's own names only the user).
 */
static UserMapping *
wl_user_mapping(Oid serverid)
{
	Oid			userid = GetUserId();

	if (!OidIsValid(GetSysCacheOid2(USERMAPPINGUSERSERVER, Anum_pg_user_mapping_oid,
									ObjectIdGetDatum(userid), ObjectIdGetDatum(serverid))) &&
		!OidIsValid(GetSysCacheOid2(USERMAPPINGUSERSERVER, Anum_pg_user_mapping_oid,
									ObjectIdGetDatum(InvalidOid), ObjectIdGetDatum(serverid))))
	{
		ForeignServer *server = GetForeignServer(serverid);

		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("user mapping not found for user \"%s\" and server \"%s\"",
						GetUserNameFromId(userid, false), server->servername),
				 errhint("Create one with CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (access_key_id '...', secret_access_key '...').",
						 quote_identifier(server->servername))));
	}
	return GetUserMapping(userid, serverid);
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

	mapping = wl_user_mapping(serverid);
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

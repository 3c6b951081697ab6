/*
 * builds.c - the SQL functions of index builds: whiplash_reindex, in the
 * foreground or in a background worker; what the background builds of
 * this server are doing (whiplash_builds); and waiting for a collection's
 * (whiplash_wait_for_index).
 *
 * A build worker (worker.c) keeps its phase and counts in the progress
 * parameters of its backend status, and its collection in its activity,
 * as pg_stat_progress_create_index reads an index build's.  Like those
 * views, a row shows its numbers only to those who may see the worker's
 * role's activity.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "core/packed.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_reindex);
PG_FUNCTION_INFO_V1(whiplash_builds);
PG_FUNCTION_INFO_V1(whiplash_wait_for_index);

/* How long whiplash_wait_for_index sleeps between looks, in ms. */
#define WL_WAIT_POLL_MS 100

/* Names of the phases and causes, as whiplash_builds shows them. */
static const char *const wl_build_phases[] = {
	"starting", "training", "indexing vectors", "switching", "cleaning up", "waiting to retry"
};
static const char *const wl_build_causes[] = {
	NULL, "whiplash_reindex", "first training", "retraining on growth", "abandoned build", NULL
};

/*
 * The status of the index-build worker at a position of this backend's
 * snapshot of backend statuses, or NULL when it is no build worker.  Its
 * collection's name, the quoted part of its activity, goes to collection.
 */
static PgBackendStatus *
wl_build_status(int position, char *collection, size_t size)
{
	LocalPgBackendStatus *local = pgstat_get_local_beentry_by_index(position);
	PgBackendStatus *status;
	const char *type;
	const char *open;
	const char *close;

	if (local == NULL)
		return NULL;
	status = &local->backendStatus;
	if (status->st_backendType != B_BG_WORKER)
		return NULL;
	type = GetBackgroundWorkerTypeByPid(status->st_procpid);
	if (type == NULL || strcmp(type, WL_BUILD_WORKER_TYPE) != 0)
		return NULL;
	open = strchr(status->st_activity_raw, '"');
	close = strrchr(status->st_activity_raw, '"');
	if (open == NULL || close <= open)
		return NULL;
	snprintf(collection, size, "%.*s", (int) (close - open - 1), open + 1);
	return status;
}

/*
 * whiplash_builds(): a row per index-build worker running on this server:
 * pid, database, server, collection, phase, cause, attempt, vectors done
 * and their total, and when it started.
 */
Datum
whiplash_builds(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			nstatuses;
	int			position;

	InitMaterializedSRF(fcinfo, 0);
	nstatuses = pgstat_fetch_stat_numbackends();
	for (position = 1; position <= nstatuses; position++)
	{
		char		collection[WL_COLLECTION_NAME_MAX + 1];
		PgBackendStatus *status = wl_build_status(position, collection, sizeof(collection));
		Datum		values[10];
		bool		nulls[10];
		const int64 *param;
		Oid			role;
		ForeignServer *server = NULL;
		char	   *database;

		if (status == NULL)
			continue;
		param = status->st_progress_param;
		role = (Oid) param[WL_BUILD_PARAM_ROLE];
		memset(nulls, true, sizeof(nulls));
		values[0] = Int32GetDatum(status->st_procpid);
		nulls[0] = false;
		database = get_database_name(status->st_databaseid);
		values[1] = database ? CStringGetTextDatum(database) : (Datum) 0;
		nulls[1] = database == NULL;
		if (!OidIsValid(role) ||
			!(has_privs_of_role(GetUserId(), role) ||
			  has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS)))
		{
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			continue;
		}
		if (status->st_databaseid == MyDatabaseId)
			server = GetForeignServerExtended((Oid) param[WL_BUILD_PARAM_SERVER],
											  FSV_MISSING_OK);
		values[2] = server ? CStringGetTextDatum(server->servername) : (Datum) 0;
		nulls[2] = server == NULL;
		values[3] = CStringGetTextDatum(collection);
		nulls[3] = false;
		if (param[WL_BUILD_PARAM_PHASE] >= 0 &&
			param[WL_BUILD_PARAM_PHASE] < (int64) lengthof(wl_build_phases))
		{
			values[4] = CStringGetTextDatum(wl_build_phases[param[WL_BUILD_PARAM_PHASE]]);
			nulls[4] = false;
		}
		if (param[WL_BUILD_PARAM_CAUSE] >= 0 &&
			param[WL_BUILD_PARAM_CAUSE] < (int64) lengthof(wl_build_causes) &&
			wl_build_causes[param[WL_BUILD_PARAM_CAUSE]] != NULL)
		{
			values[5] = CStringGetTextDatum(wl_build_causes[param[WL_BUILD_PARAM_CAUSE]]);
			nulls[5] = false;
		}
		values[6] = Int32GetDatum((int32) param[WL_BUILD_PARAM_ATTEMPT]);
		values[7] = Int64GetDatum(param[WL_BUILD_PARAM_DONE]);
		values[8] = Int64GetDatum(param[WL_BUILD_PARAM_TOTAL]);
		values[9] = TimestampTzGetDatum(status->st_proc_start_timestamp);
		nulls[6] = nulls[7] = nulls[8] = nulls[9] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * Is a build of a collection at work on this server: a worker this backend
 * started, or one whose status shows it?
 */
static bool
wl_build_running_here(Oid serverid, const char *name, const char *vectors_table)
{
	int			nstatuses;
	int			position;

	if (wl_autotrain_running(serverid, vectors_table) || wl_build_locked(serverid, name))
		return true;
	pgstat_clear_snapshot();
	nstatuses = pgstat_fetch_stat_numbackends();
	for (position = 1; position <= nstatuses; position++)
	{
		char		collection[WL_COLLECTION_NAME_MAX + 1];
		PgBackendStatus *status = wl_build_status(position, collection, sizeof(collection));

		if (status != NULL && status->st_databaseid == MyDatabaseId &&
			(Oid) status->st_progress_param[WL_BUILD_PARAM_SERVER] == serverid &&
			strcmp(collection, name) == 0)
			return true;
	}
	return false;
}

/*
 * whiplash_wait_for_index(collection regclass) returns boolean: waits until
 * no build of the collection's index runs on this server, then says
 * whether the collection has a trained index and no build left unfinished.
 * statement_timeout and a cancel end the wait.
 */
Datum
whiplash_wait_for_index(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	WlConnection *conn;
	WlCollection *collection;
	const WlPackedSettings *settings;
	char	   *name;
	char	   *vectors_table;

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_TABLE, get_rel_name(relid));
	collection = wl_collection_for_relation(relid, &conn);
	name = pstrdup(collection->meta->name);
	vectors_table = pstrdup(collection->meta->vectors_table);
	if (wl_autotrain_awaits_us(conn->serverid, vectors_table))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the index build of collection \"%s\" waits for this transaction to end",
						name),
				 errdetail("This transaction changed the catalog before it started the build."),
				 errhint("Wait for the index after COMMIT.")));
	while (wl_build_running_here(conn->serverid, name, vectors_table))
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 WL_WAIT_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	wl_collection_expire(conn->serverid, name);
	collection = wl_collection_open(conn, name);
	settings = wl_packed_settings_of(collection->meta);
	PG_RETURN_BOOL(settings != NULL && settings->has_current && !settings->has_building);
}

/*
 * Leaves a collection's build to a background worker (worker.c), with a
 * row saying whether one was started or one is at it already.  The index
 * carries the filterable columns of relid, the foreign table asked of.
 */
static void
wl_reindex_background(WlConnection *conn, const WlCollection *collection, Oid relid,
					  ReturnSetInfo *rsinfo)
{
	const WlMeta *meta = collection->meta;
	bool		busy;
	struct BackgroundWorkerHandle *worker;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	wl_reindex_check_format(meta);
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot start a background index build during recovery"),
				 errhint("Build the index on the primary server.")));
	worker = wl_build_launch(conn, meta->name, WL_REINDEX_ASKED, relid, &busy);
	if (worker == NULL && !busy)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a background worker to build the index of collection \"%s\"",
						meta->name),
				 errhint("Raise max_worker_processes, or run whiplash_reindex in the foreground.")));
	if (worker != NULL)
		wl_autotrain_note(conn->serverid, meta->vectors_table, meta->vector_count, worker);
	values[0] = CStringGetTextDatum(busy ? "already being built" : "started in the background");
	values[1] = Int64GetDatum(meta->vector_count);
	values[2] = Int64GetDatum(0);
	values[3] = Float8GetDatum(0);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * whiplash_reindex(collection regclass, background boolean) returns (step,
 * items, requests, seconds): trains and builds the collection's index (see
 * the header), or has a background worker do it.
 */
Datum
whiplash_reindex(PG_FUNCTION_ARGS)
{
	WlConnection *conn;
	WlCollection *collection;
	Oid			relid = PG_GETARG_OID(0);
	bool		background = PG_NARGS() > 1 && PG_GETARG_BOOL(1);
	WlBuildAttrs attrs;

	if (pg_class_aclcheck(relid, GetUserId(), ACL_UPDATE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_TABLE, get_rel_name(relid));
	collection = wl_collection_for_relation(relid, &conn);
	InitMaterializedSRF(fcinfo, 0);
	if (background)
		wl_reindex_background(conn, collection, relid, (ReturnSetInfo *) fcinfo->resultinfo);
	else
	{
		wl_relation_filterable(relid, &attrs);
		wl_reindex(conn, pstrdup(collection->meta->name), WL_REINDEX_ASKED, &attrs,
				   (ReturnSetInfo *) fcinfo->resultinfo);
	}
	return (Datum) 0;
}

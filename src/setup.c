/*
 * setup.c - whiplash_setup: the shared metadata table.
 *
 * whiplash_metadata has the original library's key schema (id, a string),
 * so that both can share one table.  Setting up is idempotent: a second
 * call, or a call racing another session, finds the table and only waits
 * for it to be ACTIVE.
 */
#include "postgres.h"

#include "foreign/foreign.h"

#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_setup);

/*
 * whiplash_setup(server name) returns boolean: creates whiplash_metadata if
 * it is absent and waits until it is ACTIVE.  Returns true when this call
 * created it, false when it was already there.  When the table is there and
 * ACTIVE, this costs one DescribeTable.
 */
Datum
whiplash_setup(PG_FUNCTION_ARGS)
{
	ForeignServer *server;
	WlConnection *conn;
	const char *status;
	bool		created = false;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("server name must not be null")));
	server = wl_lookup_server(PG_GETARG_NAME(0));
	conn = wl_connect(server->serverid);

	status = wl_describe_table(conn, WL_METADATA_TABLE);
	if (status == NULL)
		created = wl_create_table(conn, WL_METADATA_TABLE, "id", NULL);
	if (status == NULL || strcmp(status, "ACTIVE") != 0)
		wl_wait_table_active(conn, WL_METADATA_TABLE);

	PG_RETURN_BOOL(created);
}

/*
 * tables.c - the life cycle of DynamoDB tables: describe, create, wait.
 *
 * CreateTable only starts the work: a new table is CREATING for a while
 * (seconds on AWS) and reads of it fail until it is ACTIVE.  The wait polls
 * DescribeTable with a growing pause on the backend's latch, so that a
 * cancel or statement_timeout interrupts it.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "whiplash.h"

/* How long wl_wait_table_active waits in all (whiplash.table_wait_timeout). */
int			wl_table_wait_timeout_ms = 300000;

/*
 * The TableStatus of a table ("ACTIVE", "CREATING", ...), or NULL when it
 * does not exist.  Any other failure is raised.
 */
const char *
wl_describe_table(WlConnection *conn, const char *table)
{
	WlDdbCall  *call = wl_calls_new(1);
	const char *status;

	call->operation = "DescribeTable";
	call->table = table;
	call->request = wl_ddb_table_request(table);
	wl_execute(conn, call, 1);

	if (call->error.kind == WL_DDB_SERVICE_ERROR &&
		strcmp(call->error.type, "ResourceNotFoundException") == 0)
		return NULL;
	if (call->error.kind != WL_DDB_OK)
		wl_report_call_error(conn, call);

	status = wl_ddb_table_status(call->response);
	if (status == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("DynamoDB DescribeTable on table \"%s\" returned no TableStatus", table)));
	return pstrdup(status);
}

/*
 * Starts creating an on-demand table keyed by strings.  Returns false when
 * the table already exists (or another session is creating it).
 */
bool
wl_create_table(WlConnection *conn, const char *table,
				const char *hash_key, const char *range_key)
{
	WlDdbCall  *call = wl_calls_new(1);

	call->operation = "CreateTable";
	call->table = table;
	call->request = wl_ddb_create_table_request(table, hash_key, range_key);
	wl_execute(conn, call, 1);

	if (call->error.kind == WL_DDB_SERVICE_ERROR &&
		strcmp(call->error.type, "ResourceInUseException") == 0)
		return false;
	if (call->error.kind != WL_DDB_OK)
		wl_report_call_error(conn, call);
	return true;
}

/*
 * Waits until a table is ACTIVE.  A table just created may be briefly
 * unknown to DescribeTable (AWS is eventually consistent here), so "not
 * found" is waited out like CREATING, within the same time limit.
 */
void
wl_wait_table_active(WlConnection *conn, const char *table)
{
	TimestampTz start = GetCurrentTimestamp();
	long		pause_ms = 25;

	for (;;)
	{
		const char *status = wl_describe_table(conn, table);

		if (status != NULL && strcmp(status, "ACTIVE") == 0)
			return;
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), wl_table_wait_timeout_ms))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("DynamoDB table \"%s\" did not become ACTIVE within %d ms",
							table, wl_table_wait_timeout_ms),
					 errdetail("Its status is %s.", status ? status : "not found"),
					 errhint("Raise whiplash.table_wait_timeout, or try again later.")));

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 pause_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		pause_ms = Min(pause_ms * 2, 1000);
	}
}

/*
 * tables.c - the life cycle of DynamoDB tables: describe, create, wait,
 * delete.
 *
 * CreateTable only starts the work: a new table is CREATING for a while
 * (seconds on AWS) and reads of it fail until it is ACTIVE.  The wait polls
 * DescribeTable with a growing, jittered pause that a cancel or
 * statement_timeout interrupts.
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "core/operations.h"
#include "whiplash.h"

/* The pauses between DescribeTable polls grow from and up to these. */
#define WL_TABLE_POLL_MIN_MS 25
#define WL_TABLE_POLL_MAX_MS 1000

/* How long wl_wait_table_active waits in all (whiplash.table_wait_timeout). */
int			wl_table_wait_timeout_ms = 300000;

/*
 * The TableStatus of a table ("ACTIVE", "CREATING", ...), or NULL when it
 * does not exist.  Any other failure is raised.
 */
const char *
wl_describe_table(WlConnection *conn, const char *table)
{
	static const char *const tolerated[] = {"ResourceNotFoundException", NULL};
	WlDdbCall  *call = wl_calls_new(1);
	const char *status;

	wl_op_describe_table(call, table);
	wl_run_once(conn, call, 1, tolerated);
	if (call->error.kind != WL_DDB_OK)
		return NULL;

	status = wl_op_table_status(call);
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
	static const char *const tolerated[] = {"ResourceInUseException", NULL};
	WlDdbCall  *call = wl_calls_new(1);

	wl_op_create_table(call, table, hash_key, range_key);
	wl_run_once(conn, call, 1, tolerated);
	return call->error.kind == WL_DDB_OK;
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
	int			round;

	for (round = 1;; round++)
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
		wl_backoff(conn, round, WL_TABLE_POLL_MIN_MS, WL_TABLE_POLL_MAX_MS);
	}
}

/*
 * Deletes tables, all at once; tables already gone are fine.  With report
 * false, failures are ignored (a clean-up on an error path that already
 * has its own error to raise).
 */
void
wl_delete_tables(WlConnection *conn, const char *const *tables, int ntables, bool report)
{
	static const char *const gone[] = {"ResourceNotFoundException", NULL};
	static const char *const any[] = {"*", NULL};
	WlDdbCall  *calls = wl_calls_new(ntables);
	int			i;

	for (i = 0; i < ntables; i++)
		wl_op_delete_table(&calls[i], tables[i]);
	wl_run_once(conn, calls, ntables, report ? gone : any);
}

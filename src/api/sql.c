/*
 * sql.c - queries of a request, run on its connection.
 */
#include "api.h"

/*
 * Runs sql with text parameters.  On success returns the result (the
 * caller clears it); on failure answers the error and returns NULL.
 */
PGresult *
api_query(ApiRequest *req, ApiResponse *res, const char *sql,
		  int nparams, const char *const *params)
{
	PGresult   *result = PQexecParams(req->pg, sql, nparams, NULL, params,
									  NULL, NULL, 0);
	ExecStatusType status = PQresultStatus(result);

	if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
		return result;
	api_reply_pg_error(res, result, req->pg, 0);
	PQclear(result);
	return NULL;
}

/* The first column of the first row, or NULL when there is none. */
const char *
api_query_value(PGresult *result)
{
	if (PQntuples(result) < 1 || PQnfields(result) < 1 || PQgetisnull(result, 0, 0))
		return NULL;
	return PQgetvalue(result, 0, 0);
}

/*
 * problems.c - answers, and errors a client can act on.
 *
 * Errors keep the original whiplash's shape, {"error": {"status",
 * "message"}}, and add PostgreSQL's SQLSTATE, hint and detail.  The HTTP
 * status follows the SQLSTATE's class, so that a GRANT missing is a 403
 * and DynamoDB throttling a 503 a client may retry.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* Answers status with body (consumed) as JSON text. */
void
api_reply_json(ApiResponse *res, int status, json_object *body)
{
	free(res->body);
	res->status = status;
	res->body = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
													 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(body);
}

/* Answers status with JSON text made elsewhere (PostgreSQL's). */
void
api_reply_text(ApiResponse *res, int status, const char *json_text)
{
	free(res->body);
	res->status = status;
	res->body = strdup(json_text);
}

/* Answers an error; sqlstate, hint and detail may be NULL. */
void
api_reply_error(ApiResponse *res, int status, const char *message,
				const char *sqlstate, const char *hint, const char *detail)
{
	json_object *error = json_object_new_object();
	json_object *body = json_object_new_object();

	json_object_object_add(error, "status", json_object_new_int(status));
	json_object_object_add(error, "message", json_object_new_string(message));
	if (sqlstate != NULL)
		json_object_object_add(error, "sqlstate", json_object_new_string(sqlstate));
	if (hint != NULL)
		json_object_object_add(error, "hint", json_object_new_string(hint));
	if (detail != NULL)
		json_object_object_add(error, "detail", json_object_new_string(detail));
	json_object_object_add(body, "error", error);
	api_reply_json(res, status, body);
	res->retry_after = (status == 503);
}

/* api_reply_error with a formatted message and nothing else. */
void
api_reply_errorf(ApiResponse *res, int status, const char *fmt,...)
{
	char		message[1024];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	api_reply_error(res, status, message, NULL, NULL, NULL);
}

/* The HTTP status for a PostgreSQL error, by its SQLSTATE. */
int
api_status_for_sqlstate(const char *sqlstate)
{
	static const struct
	{
		const char *prefix;
		int			status;
	}			classes[] = {
		{"42501", 403},			/* insufficient_privilege */
		{"42P01", 404},			/* undefined_table */
		{"42704", 404},			/* undefined_object */
		{"42883", 500},			/* undefined_function: no extension */
		{"HV00R", 404},			/* fdw_table_not_found: DynamoDB table gone */
		{"42710", 409},			/* duplicate_object */
		{"42P07", 409},			/* duplicate_table */
		{"23505", 409},			/* unique_violation */
		{"54", 413},			/* program_limit_exceeded */
		{"53", 503},			/* insufficient resources: throttling */
		{"HV00N", 503},			/* unable to reach DynamoDB */
		{"57014", 503},			/* statement_timeout */
		{"57P", 503},			/* shutdown in progress */
		{"08", 503},			/* connection exception */
		{"40", 503},			/* serialization failure, deadlock */
		{"55006", 503},			/* a collection re-created since a session read it */
		{"22", 400},			/* data exception */
		{"23", 400},			/* integrity constraint violation */
		{"42", 400},			/* syntax error or access rule violation */
		{"0A", 400},			/* feature not supported */
		{"HV004", 400},			/* fdw_invalid_data_type */
		{"HV005", 400},			/* fdw_column_name_not_found */
		{"HV024", 400},			/* fdw_invalid_attribute_value */
	};

	if (sqlstate == NULL)
		return 500;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strncmp(sqlstate, classes[i].prefix, strlen(classes[i].prefix)) == 0)
			return classes[i].status;
	return 500;
}

/*
 * Answers the error of a failed query, or of a connection that broke
 * (then the result has no SQLSTATE and PostgreSQL is unreachable: 503).
 * A status other than 0 replaces the SQLSTATE's, but for a 503.
 */
void
api_reply_pg_error(ApiResponse *res, const PGresult *result, PGconn *conn, int status_wanted)
{
	const char *sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
	const char *message = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int			status;
	char		fallback[512];

	if (message == NULL)
	{
		snprintf(fallback, sizeof(fallback), "PostgreSQL failed: %s",
				 conn ? PQerrorMessage(conn) : "no connection");
		fallback[strcspn(fallback, "\n")] = '\0';
		message = fallback;
	}
	if (sqlstate == NULL && conn != NULL && PQstatus(conn) != CONNECTION_OK)
		status = 503;
	else
		status = api_status_for_sqlstate(sqlstate);
	if (status_wanted != 0 && status != 503)
		status = status_wanted;
	api_reply_error(res, status, message, sqlstate,
					result ? PQresultErrorField(result, PG_DIAG_MESSAGE_HINT) : NULL,
					result ? PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL) : NULL);
}

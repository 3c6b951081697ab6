/*
 * errors.c - DynamoDB call failures as Postgres errors.
 *
 * Every failure names the operation, the table, DynamoDB's error type and
 * message, and the HTTP status and attempts in the detail.  Nothing here
 * can carry a secret: the core's error holds only what DynamoDB or libcurl
 * said, and neither repeats credentials.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "whiplash.h"

/*
 * How many times a collection's table was found missing: it was dropped or
 * re-created elsewhere, so the collection cache re-reads every collection's
 * settings when this changes (collection.c).
 */
uint64		wl_tables_found_missing = 0;

/* The SQLSTATE for a DynamoDB error type. */
static int
wl_service_errcode(const char *type)
{
	if (strcmp(type, "ResourceNotFoundException") == 0)
		return ERRCODE_FDW_TABLE_NOT_FOUND;
	if (strcmp(type, "InvalidSignatureException") == 0 ||
		strcmp(type, "UnrecognizedClientException") == 0 ||
		strcmp(type, "MissingAuthenticationTokenException") == 0 ||
		strcmp(type, "IncompleteSignatureException") == 0 ||
		strcmp(type, "ExpiredTokenException") == 0 ||
		strcmp(type, "AccessDeniedException") == 0)
		return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
	if (wl_ddb_is_throttling(type))
		return ERRCODE_INSUFFICIENT_RESOURCES;
	return ERRCODE_FDW_ERROR;
}

/* A hint for the error types whose cure is in the user mapping. */
static char *
wl_service_hint(const char *type, const char *server_name)
{
	if (strcmp(type, "InvalidSignatureException") == 0)
		return psprintf("The signature was rejected: check the secret_access_key of the user mapping for server \"%s\".",
						server_name);
	if (strcmp(type, "UnrecognizedClientException") == 0 ||
		strcmp(type, "ExpiredTokenException") == 0)
		return psprintf("Check the access_key_id and session_token of the user mapping for server \"%s\".",
						server_name);
	if (wl_ddb_is_throttling(type))
		return pstrdup("DynamoDB kept throttling after every retry; raise the table's capacity or the server's max_retries.");
	return NULL;
}

/* DynamoDB's message without a trailing period, as Postgres style wants. */
static char *
wl_trim_message(const char *message)
{
	char	   *copy = pstrdup(message);
	size_t		len = strlen(copy);

	if (len > 0 && copy[len - 1] == '.')
		copy[len - 1] = '\0';
	return copy;
}

/* How a request that got no answer failed, in words. */
static const char *
wl_failure_words(WlHttpFailure failure)
{
	switch (failure)
	{
		case WL_HTTP_CONNECT_FAILED:
		case WL_HTTP_REFUSED:
			return "could not connect to";
		case WL_HTTP_MISMATCH:
			return "could not talk to";
		case WL_HTTP_TIMED_OUT:
			return "no response in time from";
		default:
			return "connection lost to";
	}
}

/*
 * Raises the ERROR for a failed call.  The call's own buffers are copied
 * first, since error cleanup frees them.
 */
void
wl_report_call_error(WlConnection *conn, const WlDdbCall *call)
{
	WlDdbError	error = call->error;
	const char *operation = call->operation;
	const char *table = call->table ? call->table : "(none)";
	char		endpoint[256];

	/* the host a request went to, also when the region chose it */
	if (conn->options.client.endpoint != NULL)
		snprintf(endpoint, sizeof(endpoint), "%s", conn->options.client.endpoint);
	else
		wl_ddb_default_endpoint(conn->options.client.region, endpoint, sizeof(endpoint));
	switch (error.kind)
	{
		case WL_DDB_SERVICE_ERROR:
			{
				char	   *hint = wl_service_hint(error.type, conn->server_name);

				if (strcmp(error.type, "ResourceNotFoundException") == 0 &&
					strcmp(table, WL_METADATA_TABLE) != 0)
				{
					wl_tables_found_missing++;
					hint = pstrdup("The collection may have been dropped or re-created by another session; run the statement again.");
				}

				ereport(ERROR,
						(errcode(wl_service_errcode(error.type)),
						 errmsg("DynamoDB %s on table \"%s\" failed: %s: %s",
								operation, table,
								error.type[0] ? error.type : "unknown error",
								wl_trim_message(error.message)),
						 errdetail("HTTP status %ld, after %d attempt(s), server \"%s\".",
								   error.http_status, call->attempts, conn->server_name),
						 hint ? errhint("%s", hint) : 0));
			}
			break;
		case WL_DDB_NO_RESPONSE:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("DynamoDB %s on table \"%s\" failed: %s %s",
							operation, table, wl_failure_words(error.failure), endpoint),
					 errdetail("No response after %d attempt(s), server \"%s\"; libcurl said: %s.",
							   call->attempts, conn->server_name,
							   wl_trim_message(error.message)),
					 error.failure == WL_HTTP_MISMATCH ?
					 errhint("Check the scheme (http:// or https://) and port of the endpoint option of server \"%s\", and its ca_file.",
							 conn->server_name) :
					 conn->options.client.endpoint == NULL ?
					 errhint("Check the region option of server \"%s\", and its connect_timeout and request_timeout.",
							 conn->server_name) :
					 errhint("Check the endpoint, connect_timeout and request_timeout options of server \"%s\".",
							 conn->server_name)));
			break;
		case WL_DDB_BAD_RESPONSE:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("DynamoDB %s on table \"%s\" failed: %s",
							operation, table, error.message),
					 errdetail("HTTP status %ld, after %d attempt(s), server \"%s\", %s.",
							   error.http_status, call->attempts, conn->server_name, endpoint),
					 errhint("Check that the endpoint option of server \"%s\" points at DynamoDB or a DynamoDB-compatible server.",
							 conn->server_name)));
			break;
		case WL_DDB_BAD_TEXT:
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("DynamoDB %s on table \"%s\" failed: %s",
							operation, table, error.message),
					 errdetail("DynamoDB stores text as UTF-8; the database's encoding is %s.",
							   GetDatabaseEncodingName())));
			break;
		case WL_DDB_OUT_OF_MEMORY:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory during DynamoDB %s on table \"%s\"",
							operation, table)));
			break;
		case WL_DDB_OK:
			break;
	}
	elog(ERROR, "DynamoDB %s reported as failed without an error", operation);
}

/* Raises the error for memory the core could not allocate. */
void
wl_report_out_of_memory(void)
{
	ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
}

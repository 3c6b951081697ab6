/*
 * options.c - the foreign data wrapper's options: validation and reading.
 *
 * Servers carry where DynamoDB is and how to talk to it, user mappings carry
 * credentials, foreign tables name a collection.  Every value is checked
 * when it is set (CREATE / ALTER), by the same code that later reads it, so
 * that a malformed value never survives until first use.
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "core/attrs.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_fdw_validator);

/* An option and the catalog (object kind) it belongs to. */
typedef struct WlOption
{
	const char *name;
	Oid			context;
} WlOption;

static const WlOption wl_options[] = {
	{"endpoint", ForeignServerRelationId},
	{"region", ForeignServerRelationId},
	{"project", ForeignServerRelationId},
	{"stage", ForeignServerRelationId},
	{"connect_timeout", ForeignServerRelationId},
	{"request_timeout", ForeignServerRelationId},
	{"max_retries", ForeignServerRelationId},
	{"retry_base_delay", ForeignServerRelationId},
	{"retry_max_delay", ForeignServerRelationId},
	{"max_connections", ForeignServerRelationId},
	{"ca_file", ForeignServerRelationId},
	{"access_key_id", UserMappingRelationId},
	{"secret_access_key", UserMappingRelationId},
	{"session_token", UserMappingRelationId},
	{"use_env_credentials", UserMappingRelationId},
	{"collection", ForeignTableRelationId},
	{"column_name", AttributeRelationId},
};

/* The defaults of every server setting. */
static void
wl_server_option_defaults(WlServerOptions *options)
{
	memset(options, 0, sizeof(WlServerOptions));
	options->project = "whiplash";
	options->stage = "dev";
	options->connect_timeout_ms = 5000;
	options->request_timeout_ms = 10000;
	options->max_retries = 8;
	options->retry_base_delay_ms = 25;
	options->retry_max_delay_ms = 5000;
	options->max_connections = 16;
}

/* Reports an option value that does not parse or is out of range. */
static void
wl_invalid_value(DefElem *def, const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("invalid value for option \"%s\": %s", def->defname, what),
			 hint ? errhint("%s", hint) : 0));
}

/* Parses a duration such as '5s' or '250ms' (bare numbers are ms). */
static int
wl_duration_option(DefElem *def, int min_ms)
{
	const char *value = defGetString(def);
	const char *hint = NULL;
	int			ms;

	if (!parse_int(value, &ms, GUC_UNIT_MS, &hint))
		wl_invalid_value(def, psprintf("\"%s\" is not a duration", value),
						 hint ? hint : "Give milliseconds, or a number with a unit: ms, s, min.");
	if (ms < min_ms)
		wl_invalid_value(def, psprintf("must be at least %d ms", min_ms), NULL);
	return ms;
}

/* Parses an integer in [min, max]. */
static int
wl_integer_option(DefElem *def, int min, int max)
{
	const char *value = defGetString(def);
	int			n;

	if (!parse_int(value, &n, 0, NULL))
		wl_invalid_value(def, psprintf("\"%s\" is not an integer", value), NULL);
	if (n < min || n > max)
		wl_invalid_value(def, psprintf("must be between %d and %d", min, max), NULL);
	return n;
}

/*
 * Checks a name that becomes part of DynamoDB table names: DynamoDB allows
 * letters, digits, '_', '-' and '.'.
 */
static char *
wl_name_option(DefElem *def, int max_len)
{
	char	   *value = defGetString(def);
	size_t		len = strlen(value);

	if (len == 0 || len > (size_t) max_len ||
		strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != len)
		wl_invalid_value(def, psprintf("\"%s\" is not a valid name", value),
						 psprintf("Use 1 to %d letters, digits, '_', '-' or '.'.", max_len));
	return value;
}

/*
 * Checks a credential: non-empty printable ASCII without spaces, since it
 * travels in HTTP headers.  The value itself is never shown.
 */
static char *
wl_credential_option(DefElem *def)
{
	char	   *value = defGetString(def);
	const char *p;

	if (value[0] == '\0')
		wl_invalid_value(def, "must not be empty", NULL);
	for (p = value; *p; p++)
		if (*p <= ' ' || *p > '~')
			wl_invalid_value(def, "must be printable ASCII without spaces", NULL);
	return value;
}

/* Checks an AWS region name such as "eu-west-1". */
static char *
wl_region_option(DefElem *def)
{
	char	   *value = defGetString(def);
	size_t		len = strlen(value);

	if (len == 0 || len > 64 ||
		strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-") != len)
		wl_invalid_value(def, psprintf("\"%s\" is not an AWS region name", value),
						 "A region looks like \"us-east-1\".");
	return value;
}

/* Checks an endpoint URL with the core's parser. */
static char *
wl_endpoint_option(DefElem *def)
{
	char	   *value = defGetString(def);
	WlEndpoint	endpoint;
	char		reason[256];

	if (wl_http_parse_endpoint(value, &endpoint, reason, sizeof(reason)) != 0)
		wl_invalid_value(def, reason,
						 "An endpoint looks like \"https://dynamodb.eu-west-1.amazonaws.com\" or \"http://127.0.0.1:8000\".");
	return value;
}

/*
 * Parses one server option into options; raises an error for a malformed
 * value.  Used both by the validator and when a connection is made.
 */
static void
wl_apply_server_option(DefElem *def, WlServerOptions *options)
{
	const char *name = def->defname;

	if (strcmp(name, "endpoint") == 0)
		options->endpoint = wl_endpoint_option(def);
	else if (strcmp(name, "region") == 0)
		options->region = wl_region_option(def);
	else if (strcmp(name, "project") == 0)
		options->project = wl_name_option(def, 64);
	else if (strcmp(name, "stage") == 0)
		options->stage = wl_name_option(def, 64);
	else if (strcmp(name, "connect_timeout") == 0)
		options->connect_timeout_ms = wl_duration_option(def, 1);
	else if (strcmp(name, "request_timeout") == 0)
		options->request_timeout_ms = wl_duration_option(def, 1);
	else if (strcmp(name, "max_retries") == 0)
		options->max_retries = wl_integer_option(def, 0, 100);
	else if (strcmp(name, "retry_base_delay") == 0)
		options->retry_base_delay_ms = wl_duration_option(def, 0);
	else if (strcmp(name, "retry_max_delay") == 0)
		options->retry_max_delay_ms = wl_duration_option(def, 0);
	else if (strcmp(name, "max_connections") == 0)
		options->max_connections = wl_integer_option(def, 1, 256);
	else if (strcmp(name, "ca_file") == 0)
	{
		options->ca_file = defGetString(def);
		if (!is_absolute_path(options->ca_file))
			wl_invalid_value(def, "must be an absolute path", NULL);
	}
}

/* Checks the settings of a server that only make sense together. */
static void
wl_check_server_options(const WlServerOptions *options)
{
	if (options->endpoint == NULL && options->region == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("a whiplash server needs option \"region\" or \"endpoint\""),
				 errhint("Give region for AWS DynamoDB, or endpoint for a DynamoDB-compatible server.")));
	if (options->retry_max_delay_ms < options->retry_base_delay_ms)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("retry_max_delay must not be less than retry_base_delay")));
}

/* The names of the options valid in a catalog, for hints. */
static char *
wl_valid_option_names(Oid context)
{
	StringInfoData names;
	size_t		i;

	initStringInfo(&names);
	for (i = 0; i < lengthof(wl_options); i++)
	{
		if (wl_options[i].context != context)
			continue;
		if (names.len > 0)
			appendStringInfoString(&names, ", ");
		appendStringInfoString(&names, wl_options[i].name);
	}
	return names.data;
}

/* Is name an option of this catalog? */
static bool
wl_is_valid_option(const char *name, Oid context)
{
	size_t		i;

	for (i = 0; i < lengthof(wl_options); i++)
		if (wl_options[i].context == context && strcmp(wl_options[i].name, name) == 0)
			return true;
	return false;
}

/*
 * Validates the options of a whiplash server, user mapping or foreign
 * table.  Each value is parsed as it will be used; an unknown name gets a
 * hint listing the valid ones; use_env_credentials may be turned on only by
 * a superuser, since it lets a role use the Postgres server's own AWS
 * identity.
 */
Datum
whiplash_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	WlServerOptions server;
	bool		has_key_id = false;
	bool		has_secret = false;
	ListCell   *cell;

	wl_server_option_defaults(&server);
	foreach(cell, options)
	{
		DefElem    *def = (DefElem *) lfirst(cell);

		if (!wl_is_valid_option(def->defname, catalog))
		{
			char	   *valid = wl_valid_option_names(catalog);

			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 valid[0] ? errhint("Valid options in this context are: %s.", valid)
					 : errhint("There are no valid options in this context.")));
		}

		if (catalog == ForeignServerRelationId)
			wl_apply_server_option(def, &server);
		else if (strcmp(def->defname, "access_key_id") == 0)
			has_key_id = wl_credential_option(def) != NULL;
		else if (strcmp(def->defname, "secret_access_key") == 0)
			has_secret = wl_credential_option(def) != NULL;
		else if (strcmp(def->defname, "session_token") == 0)
			wl_credential_option(def);
		else if (strcmp(def->defname, "use_env_credentials") == 0)
		{
			if (defGetBoolean(def) && !superuser())
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("only a superuser may set use_env_credentials"),
						 errhint("It lets a role use the AWS credentials of the PostgreSQL server's own environment.")));
		}
		else if (strcmp(def->defname, "collection") == 0)
			wl_name_option(def, 64);
		else if (strcmp(def->defname, "column_name") == 0 &&
				 (defGetString(def)[0] == '\0' || wl_attrs_reserved(defGetString(def))))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("column_name \"%s\" is not a valid attribute name", defGetString(def)),
					 errhint("The names id, vector and keys are whiplash's own.")));
	}

	if (catalog == ForeignServerRelationId)
		wl_check_server_options(&server);
	if (catalog == UserMappingRelationId && has_key_id != has_secret)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("access_key_id and secret_access_key must be given together")));
	if (catalog == ForeignServerRelationId && server.ca_file != NULL && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only a superuser may set ca_file"),
				 errhint("It names a file that the PostgreSQL server reads.")));

	PG_RETURN_VOID();
}

/*
 * Reads a server's settings, with defaults for what it does not set, in the
 * current memory context.
 */
void
wl_server_options(Oid serverid, WlServerOptions *options)
{
	ForeignServer *server = GetForeignServer(serverid);
	ListCell   *cell;

	wl_server_option_defaults(options);
	foreach(cell, server->options)
		wl_apply_server_option((DefElem *) lfirst(cell), options);
	wl_check_server_options(options);
	if (options->region == NULL)
		options->region = "us-east-1";
}

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

/* How an option's value is checked, and where a server option goes. */
typedef enum WlOptionKind
{
	WL_OPTION_ENDPOINT,			/* char *: an endpoint URL */
	WL_OPTION_REGION,			/* char *: an AWS region name */
	WL_OPTION_NAME,				/* char *: DynamoDB table-name characters */
	WL_OPTION_DURATION,			/* long: milliseconds, at least min */
	WL_OPTION_INTEGER,			/* int: in [min, max] */
	WL_OPTION_PATH,				/* char *: an absolute path, superuser only */
	WL_OPTION_CREDENTIAL,		/* printable ASCII, never shown */
	WL_OPTION_BOOLEAN,
	WL_OPTION_ATTRIBUTE			/* a column's DynamoDB attribute name */
} WlOptionKind;

/*
 * Every option: its catalog (object kind), how its value is checked, and
 * for server options where it is stored in WlServerOptions.  A new server
 * option is one line here, and a field of WlDdbConfig if the client uses
 * it.
 */
typedef struct WlOption
{
	const char *name;
	Oid			context;
	WlOptionKind kind;
	int			min;
	int			max;
	size_t		offset;			/* server options: into WlServerOptions */
} WlOption;

#define WL_CLIENT(field) offsetof(WlServerOptions, client.field)

static const WlOption wl_options[] = {
	{"endpoint", ForeignServerRelationId, WL_OPTION_ENDPOINT, 0, 0, WL_CLIENT(endpoint)},
	{"region", ForeignServerRelationId, WL_OPTION_REGION, 0, 0, WL_CLIENT(region)},
	{"project", ForeignServerRelationId, WL_OPTION_NAME, 1, 64, offsetof(WlServerOptions, project)},
	{"stage", ForeignServerRelationId, WL_OPTION_NAME, 1, 64, offsetof(WlServerOptions, stage)},
	{"connect_timeout", ForeignServerRelationId, WL_OPTION_DURATION, 1, 0,
	WL_CLIENT(connect_timeout_ms)},
	{"request_timeout", ForeignServerRelationId, WL_OPTION_DURATION, 1, 0,
	WL_CLIENT(request_timeout_ms)},
	{"max_retries", ForeignServerRelationId, WL_OPTION_INTEGER, 0, 100, WL_CLIENT(max_retries)},
	{"retry_base_delay", ForeignServerRelationId, WL_OPTION_DURATION, 0, 0,
	WL_CLIENT(retry_base_delay_ms)},
	{"retry_max_delay", ForeignServerRelationId, WL_OPTION_DURATION, 0, 0,
	WL_CLIENT(retry_max_delay_ms)},
	{"max_connections", ForeignServerRelationId, WL_OPTION_INTEGER, 1, 256,
	WL_CLIENT(max_connections)},
	{"ca_file", ForeignServerRelationId, WL_OPTION_PATH, 0, 0, WL_CLIENT(ca_file)},
	{"consistent_searches", ForeignServerRelationId, WL_OPTION_BOOLEAN, 0, 0,
	offsetof(WlServerOptions, consistent_searches)},
	{"access_key_id", UserMappingRelationId, WL_OPTION_CREDENTIAL},
	{"secret_access_key", UserMappingRelationId, WL_OPTION_CREDENTIAL},
	{"session_token", UserMappingRelationId, WL_OPTION_CREDENTIAL},
	{"use_env_credentials", UserMappingRelationId, WL_OPTION_BOOLEAN},
	{"collection", ForeignTableRelationId, WL_OPTION_NAME, 1, 64},
	{"consistent_searches", ForeignTableRelationId, WL_OPTION_BOOLEAN},
	{"column_name", AttributeRelationId, WL_OPTION_ATTRIBUTE},
	{"filterable", AttributeRelationId, WL_OPTION_BOOLEAN},
	{"partition", AttributeRelationId, WL_OPTION_BOOLEAN},
};

/* The defaults of every server setting. */
static void
wl_server_option_defaults(WlServerOptions *options)
{
	memset(options, 0, sizeof(WlServerOptions));
	options->project = "whiplash";
	options->stage = "dev";
	options->client.connect_timeout_ms = 5000;
	options->client.request_timeout_ms = 10000;
	options->client.max_retries = 8;
	options->client.retry_base_delay_ms = 25;
	options->client.retry_max_delay_ms = 5000;
	options->client.max_connections = 64;
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

/* The entry of an option of a catalog, or NULL when there is none. */
static const WlOption *
wl_find_option(const char *name, Oid context)
{
	size_t		i;

	for (i = 0; i < lengthof(wl_options); i++)
		if (wl_options[i].context == context && strcmp(wl_options[i].name, name) == 0)
			return &wl_options[i];
	return NULL;
}

/*
 * Checks one option's value as its kind says, raising an error for a
 * malformed one; a server option's value is stored in server.  Used both
 * by the validator and when a connection is made, so that what is accepted
 * is what is used.
 */
static void
wl_apply_option(const WlOption *option, DefElem *def, WlServerOptions *server)
{
	char	   *target = (char *) server + option->offset;
	char	   *text = NULL;

	switch (option->kind)
	{
		case WL_OPTION_ENDPOINT:
			text = wl_endpoint_option(def);
			break;
		case WL_OPTION_REGION:
			text = wl_region_option(def);
			break;
		case WL_OPTION_NAME:
			text = wl_name_option(def, option->max);
			break;
		case WL_OPTION_DURATION:
			*(long *) target = wl_duration_option(def, option->min);
			return;
		case WL_OPTION_INTEGER:
			*(int *) target = wl_integer_option(def, option->min, option->max);
			return;
		case WL_OPTION_PATH:
			text = defGetString(def);
			if (!is_absolute_path(text))
				wl_invalid_value(def, "must be an absolute path", NULL);
			break;
		case WL_OPTION_CREDENTIAL:
			wl_credential_option(def);
			return;
		case WL_OPTION_BOOLEAN:
			if (option->context == ForeignServerRelationId)
				*(bool *) target = defGetBoolean(def);
			else
				(void) defGetBoolean(def);
			return;
		case WL_OPTION_ATTRIBUTE:
			if (defGetString(def)[0] == '\0' || strcmp(defGetString(def), WL_ATTR_KEYS) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("column_name \"%s\" is not a valid attribute name",
								defGetString(def)),
						 errhint("The name keys is whiplash's own; column_name 'id' and column_name 'vector' make a column the item's id or vector.")));
			return;
	}
	if (option->context == ForeignServerRelationId)
		*(const char **) target = text;
}

/* Checks the settings of a server that only make sense together. */
static void
wl_check_server_options(const WlServerOptions *options)
{
	if (options->client.endpoint == NULL && options->client.region == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("a whiplash server needs option \"region\" or \"endpoint\""),
				 errhint("Give region for AWS DynamoDB, or endpoint for a DynamoDB-compatible server.")));
	/* without an endpoint the region names the host a request goes to */
	if (options->client.endpoint == NULL && !wl_ddb_region_form(options->client.region))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("\"%s\" is not the name of an AWS region", options->client.region),
				 errhint("AWS regions are named like \"us-east-1\", \"eu-west-2\" or \"ap-southeast-1\"; for a DynamoDB-compatible server, give its endpoint.")));
	if (options->client.retry_max_delay_ms < options->client.retry_base_delay_ms)
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
		const WlOption *option = wl_find_option(def->defname, catalog);

		if (option == NULL)
		{
			char	   *valid = wl_valid_option_names(catalog);

			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 valid[0] ? errhint("Valid options in this context are: %s.", valid)
					 : errhint("There are no valid options in this context.")));
		}

		wl_apply_option(option, def, &server);
		has_key_id |= strcmp(def->defname, "access_key_id") == 0;
		has_secret |= strcmp(def->defname, "secret_access_key") == 0;
		if (strcmp(def->defname, "use_env_credentials") == 0 && defGetBoolean(def) &&
			!superuser())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("only a superuser may set use_env_credentials"),
					 errhint("It lets a role use the AWS credentials of the PostgreSQL server's own environment.")));
	}

	if (catalog == ForeignServerRelationId)
		wl_check_server_options(&server);
	if (catalog == UserMappingRelationId && has_key_id != has_secret)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("access_key_id and secret_access_key must be given together")));
	if (catalog == ForeignServerRelationId && server.client.ca_file != NULL && !superuser())
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
	{
		DefElem    *def = (DefElem *) lfirst(cell);
		const WlOption *option = wl_find_option(def->defname, ForeignServerRelationId);

		if (option != NULL)
			wl_apply_option(option, def, options);
	}
	wl_check_server_options(options);
	if (options->client.region == NULL)
		options->client.region = "us-east-1";
}

/*
 * Reads a user mapping's credentials (pointing into its options) into
 * creds; what it does not set stays NULL.
 */
void
wl_user_mapping_credentials(UserMapping *mapping, WlCredentials *creds)
{
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
			creds->use_env = defGetBoolean(def);
	}
}

/*
 * Whether searches through a foreign table read strongly consistent: its
 * consistent_searches option, or its server's (default false: eventually
 * consistent reads cost half, and miss at most the last second's writes).
 */
bool
wl_table_consistent_searches(Oid relid, WlConnection *conn)
{
	ListCell   *cell;

	foreach(cell, GetForeignTable(relid)->options)
	{
		DefElem    *def = (DefElem *) lfirst(cell);

		if (strcmp(def->defname, "consistent_searches") == 0)
			return defGetBoolean(def);
	}
	return conn->options.consistent_searches;
}

/* The collection option of a foreign table, or NULL when it has none. */
char *
wl_table_collection_name(Oid relid)
{
	ForeignTable *table = GetForeignTable(relid);
	ListCell   *cell;

	foreach(cell, table->options)
	{
		DefElem    *def = (DefElem *) lfirst(cell);

		if (strcmp(def->defname, "collection") == 0)
			return defGetString(def);
	}
	return NULL;
}

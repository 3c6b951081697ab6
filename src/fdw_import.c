/*
 * fdw_import.c - IMPORT FOREIGN SCHEMA: one foreign table per collection.
 *
 * The collections of the server's project and stage become foreign tables
 * (id text, vector real[], attributes jsonb) named after the collection:
 * attributes holds every attribute of a vector.  The remote schema name is
 * not used: a server has one set of collections (by convention,
 * IMPORT FOREIGN SCHEMA collections ...).  LIMIT TO and EXCEPT are applied
 * by PostgreSQL to the statements returned here.
 */
#include "postgres.h"

#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "fdw.h"
#include "whiplash.h"

/*
 * Collects the name of one collection, or skips it with a WARNING when it
 * cannot name a table: empty, longer than an identifier (PostgreSQL would
 * cut it short, and two such names could collide), or not text in the
 * database's encoding.  One such collection must not fail the import of
 * the others.
 */
static void
wl_import_collection(const WlMeta *meta, void *arg)
{
	List	  **names = arg;
	const char *name = meta->name;
	int			len = strlen(name);
	const char *why = NULL;

	if (len == 0)
		why = "its name is empty";
	else if (len >= NAMEDATALEN)
		why = psprintf("its name is longer than the %d bytes of a table name", NAMEDATALEN - 1);
	else if (!pg_verifymbstr(name, len, true))
		why = "its name is not valid text in the database's encoding";
	if (why != NULL)
	{
		ereport(WARNING,
				(errmsg("skipping collection \"%s\": %s",
						pg_verifymbstr(name, len, true) ? name : "(not valid text)", why),
				 errhint("Map it with CREATE FOREIGN TABLE under a name of your choice, OPTIONS (collection '...').")));
		return;
	}
	*names = lappend(*names, pstrdup(name));
}

/* Orders collection names. */
static int
wl_name_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/*
 * ImportForeignSchema: a CREATE FOREIGN TABLE for every collection, in
 * name order so that the outcome does not depend on DynamoDB's Scan order.
 */
List *
wl_import_foreign_schema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	List	   *names = NIL;
	List	   *commands = NIL;
	ListCell   *cell;

	wl_for_each_collection(wl_connect(serverOid), wl_import_collection, &names);
	list_sort(names, wl_name_cmp);
	foreach(cell, names)
	{
		const char *name = lfirst(cell);
		StringInfoData command;

		initStringInfo(&command);
		appendStringInfo(&command,
						 "CREATE FOREIGN TABLE %s (id text, vector real[], attributes jsonb) "
						 "SERVER %s OPTIONS (collection %s)",
						 quote_identifier(name), quote_identifier(stmt->server_name),
						 quote_literal_cstr(name));
		commands = lappend(commands, command.data);
	}
	return commands;
}

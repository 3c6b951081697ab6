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
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "fdw.h"
#include "whiplash.h"

/* Collects the name of one collection. */
static void
wl_import_collection(const WlMeta *meta, void *arg)
{
	List	  **names = arg;

	*names = lappend(*names, pstrdup(meta->name));
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

/*
 * ddlcheck.c - the event trigger that checks a whiplash foreign table's
 * definition where it is made: at the end of CREATE and ALTER FOREIGN
 * TABLE, ALTER TABLE and IMPORT FOREIGN SCHEMA, every whiplash foreign
 * table the command created or altered must name a collection and have a
 * column that can hold the vector (columns.c), so that a table that cannot
 * map its collection's items is refused there, never read with NULL
 * vectors.  An FDW's validator sees options, not columns: hence a trigger.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "fdw.h"
#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_ddl_check);

/* Is this foreign table one of whiplash's? */
static bool
wl_is_whiplash_table(Oid relid)
{
	ForeignTable *table = GetForeignTable(relid);
	ForeignServer *server = GetForeignServer(table->serverid);

	return strcmp(GetForeignDataWrapper(server->fdwid)->fdwname, "whiplash") == 0;
}

/*
 * Checks a whiplash foreign table's definition: a collection option,
 * columns that map an item (wl_columns), and filterable columns an index
 * can carry.
 */
static void
wl_check_table(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	WlColumns  *columns;
	WlColumnRoles roles;
	WlBuildAttrs attrs;

	if (wl_table_collection_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("foreign table \"%s\" has no collection option",
						RelationGetRelationName(rel)),
				 errhint("Add OPTIONS (collection 'name'), naming a collection whiplash_create_collection made.")));
	columns = wl_columns(rel, true);
	roles.id_attno = columns->id_attno;
	roles.vector_attno = columns->vector_attno;
	roles.attributes_attno = columns->attributes_attno;
	wl_columns_filterable(rel, &roles, &attrs);
	table_close(rel, AccessShareLock);
}

/*
 * The event trigger at the end of CREATE and ALTER FOREIGN TABLE, ALTER
 * TABLE and IMPORT FOREIGN SCHEMA: checks every whiplash foreign table
 * the command created or altered, so that a table that cannot map its
 * collection's items is refused where it is defined, not at first use
 * (an FDW's validator sees options, not columns).
 */
Datum
whiplash_ddl_check(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("whiplash_ddl_check() must be called as an event trigger")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT DISTINCT objid FROM pg_catalog.pg_event_trigger_ddl_commands() "
					"WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "cannot read the DDL commands of an event trigger");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1,
														   &isnull));

		if (!isnull && get_rel_relkind(relid) == RELKIND_FOREIGN_TABLE &&
			wl_is_whiplash_table(relid))
			wl_check_table(relid);
	}
	SPI_finish();
	PG_RETURN_NULL();
}

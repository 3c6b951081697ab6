/*
 * fdw.h - what the foreign data wrapper's files share.
 */
#ifndef WL_FDW_H
#define WL_FDW_H

#include "postgres.h"

#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "optimizer/pathnode.h"
#include "utils/rel.h"

/* The DynamoDB read a scan makes. */
typedef enum WlScanKind
{
	WL_SCAN_FULL,				/* Scan, page by page */
	WL_SCAN_GET,				/* GetItem: id = value */
	WL_SCAN_MULTI,				/* BatchGetItem: id = ANY(array) */
	WL_SCAN_SEARCH				/* LSH search: ORDER BY vector <op> q LIMIT k */
} WlScanKind;

/* The planner's choice, kept in baserel->fdw_private. */
typedef struct WlPlanState
{
	WlScanKind	kind;
	Expr	   *value;			/* the id value or array, for GET / MULTI */
} WlPlanState;

/* PG 17 added the restrictinfo list to create_foreignscan_path. */
#if PG_VERSION_NUM >= 170000
#define wl_create_foreignscan_path(root, rel, target, rows, startup, total, pathkeys, outer, outerpath, priv) \
	create_foreignscan_path(root, rel, target, rows, startup, total, pathkeys, outer, outerpath, NIL, priv)
#else
#define wl_create_foreignscan_path create_foreignscan_path
#endif

/* fdw.c */
extern AttrNumber wl_column_attno(Relation rel, const char *name);

/* fdw_import.c */
extern List *wl_import_foreign_schema(ImportForeignSchemaStmt *stmt, Oid serverOid);

/* fdw_scan.c */
extern void wl_begin_scan(ForeignScanState *node, int eflags);
extern TupleTableSlot *wl_iterate_scan(ForeignScanState *node);
extern void wl_rescan(ForeignScanState *node);
extern void wl_end_scan(ForeignScanState *node);
extern void wl_explain_scan_counts(ForeignScanState *node, ExplainState *es);
extern char *wl_relation_collection_name(Oid relid);
extern void wl_check_columns(Relation rel, AttrNumber *id_attno, AttrNumber *vector_attno);

/* fdw_modify.c; PG 14 changed how a row's identity is requested. */
#if PG_VERSION_NUM >= 140000
extern void wl_add_update_targets(PlannerInfo *root, Index rtindex,
								  RangeTblEntry *target_rte, Relation target_relation);
#else
extern void wl_add_update_targets(Query *parsetree, RangeTblEntry *target_rte,
								  Relation target_relation);
#endif
extern List *wl_plan_modify(PlannerInfo *root, ModifyTable *plan, Index resultRelation,
							int subplan_index);
extern void wl_begin_modify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
							List *fdw_private, int subplan_index, int eflags);
extern TupleTableSlot *wl_exec_insert(EState *estate, ResultRelInfo *rinfo,
									  TupleTableSlot *slot, TupleTableSlot *planSlot);
extern TupleTableSlot *wl_exec_update(EState *estate, ResultRelInfo *rinfo,
									  TupleTableSlot *slot, TupleTableSlot *planSlot);
extern TupleTableSlot *wl_exec_delete(EState *estate, ResultRelInfo *rinfo,
									  TupleTableSlot *slot, TupleTableSlot *planSlot);
extern void wl_end_modify(EState *estate, ResultRelInfo *rinfo);
extern void wl_begin_insert(ModifyTableState *mtstate, ResultRelInfo *rinfo);
extern void wl_end_insert(EState *estate, ResultRelInfo *rinfo);

#endif							/* WL_FDW_H */

/*
 * fdw.h - what the foreign data wrapper's files share.
 */
#ifndef WL_FDW_H
#define WL_FDW_H

#include "postgres.h"

#include "foreign/fdwapi.h"
#include "optimizer/pathnode.h"
#include "utils/jsonb.h"
#include "utils/rel.h"

#include "compat.h"
#include "core/distance.h"
#include "core/recordattrs.h"

struct json_object;

/* The DynamoDB read a scan makes. */
typedef enum WlScanKind
{
	WL_SCAN_FULL,				/* Scan, page by page */
	WL_SCAN_GET,				/* GetItem: id = value */
	WL_SCAN_MULTI,				/* BatchGetItem: id = ANY(array) */
	WL_SCAN_SEARCH				/* LSH search: ORDER BY vector <op> q LIMIT k */
} WlScanKind;

/*
 * What a ForeignScan's fdw_private holds, by position, as postgres_fdw
 * names its own: the kind of read, and for a search how many nearest.
 */
enum WlScanPrivateIndex
{
	WlScanPrivateKind,			/* WlScanKind, an Integer */
	WlScanPrivateK,				/* SEARCH: k, an Integer */
	WlScanPrivateMetric,		/* SEARCH: its operator's WlMetric, an Integer */
	WlScanPrivateSelectivity,	/* SEARCH: its restrictions' selectivity, a Float */
	WlScanPrivateRecordSelectivity	/* SEARCH: that of those its records
									 * answer (recordfilter.c), a Float */
};

/*
 * What the search path's fdw_private holds: its kind, the query vector's
 * expression, k, its operator's metric, the selectivity of the
 * restrictions it checks on each candidate, and that of those the index's
 * records answer.
 */
enum WlSearchPathPrivateIndex
{
	WlSearchPathKind,
	WlSearchPathQuery,
	WlSearchPathK,
	WlSearchPathMetric,
	WlSearchPathSelectivity,
	WlSearchPathRecordSelectivity
};

/*
 * A ForeignScan's fdw_exprs: the id, id array or query vector first, then
 * for a search its restrictions.
 */
#define WL_SCAN_EXPR_VALUE 0

/* The planner's choice, kept in baserel->fdw_private. */
typedef struct WlPlanState
{
	WlScanKind	kind;
	Expr	   *value;			/* the id value or array, for GET / MULTI */
	AttrNumber	id_attno;
	AttrNumber	vector_attno;
	Oid			vector_type;	/* real[], or a type with casts to and from it */
	double		vectors;		/* in the collection, about */
	double		item_bytes;		/* of one vector item, about */
	WlMetric	metric;
	Oid			relid;			/* the foreign table */
	bool		readable;		/* the role may read it: the collection was read */
	Cost		scan_cost;		/* of a full Scan, unfiltered */
} WlPlanState;

/* A column that maps one attribute of the vector items. */
typedef struct WlMappedColumn
{
	AttrNumber	attno;
	char	   *name;			/* the DynamoDB attribute */
	Oid			type;
	int32		typmod;
	Oid			input_func;
	Oid			input_param;
} WlMappedColumn;

/* The columns that hold an item's id, vector and attributes (columns.c). */
typedef struct WlColumnRoles
{
	AttrNumber	id_attno;		/* InvalidAttrNumber when absent */
	AttrNumber	vector_attno;
	AttrNumber	attributes_attno;	/* jsonb: the unmapped attributes */
} WlColumnRoles;

/* A vector column of a type other than real[]: its casts (columns.c). */
typedef struct WlVectorCasts
{
	ExprState  *to_real;		/* the column's type to real[] */
	ExprState  *from_real;		/* real[] to the column's type */
	ExprContext *context;		/* gives the casts their input */
} WlVectorCasts;

/* How a foreign table's columns map to a vector item (attributes.c). */
typedef struct WlColumns
{
	AttrNumber	id_attno;		/* InvalidAttrNumber when absent */
	AttrNumber	vector_attno;
	AttrNumber	attributes_attno;	/* jsonb: the unmapped attributes */
	WlVectorCasts *casts;		/* NULL for a real[] vector column */
	WlMappedColumn *mapped;
	int			nmapped;
	const char **names;			/* the mapped attributes' names */
	bool		vector_unused;	/* a stored vector that does not decode
								 * reads as NULL: the statement discards it */
} WlColumns;

/* columns.c */
extern char *wl_column_item_name(Relation rel, Form_pg_attribute attr);
extern AttrNumber wl_column_attno(Relation rel, const char *name);
extern void wl_column_roles(Relation rel, WlColumnRoles *roles, bool ambiguous_ok);
extern WlVectorCasts *wl_vector_casts(Relation rel, AttrNumber vector_attno);
extern Datum wl_vector_cast(WlVectorCasts *casts, ExprState *cast, Datum value);
struct WlBuildAttrs;
extern void wl_columns_filterable(Relation rel, const WlColumnRoles *roles,
								  struct WlBuildAttrs *attrs);

/* attributes.c */
extern WlColumns *wl_columns(Relation rel, bool defining);
extern bool wl_columns_has_attributes(const WlColumns *columns);
extern void wl_columns_fill_slot(WlColumns *columns, struct json_object *item, int dims,
								 const char *collection, TupleTableSlot *slot);
extern char *wl_columns_row_attributes(WlColumns *columns, TupleTableSlot *slot);

extern bool wl_mapped_read(WlMappedColumn *mapped, struct json_object *item, const char *id,
						   Datum *value);

/* filter.c */
typedef struct WlFilter WlFilter;
extern WlFilter *wl_filter_compile(Oid relid, Jsonb *filter);
extern bool wl_filter_matches(struct json_object *item, void *filter);
extern WlRecordFilter *wl_filter_records(const WlFilter *filter);

/* recordfilter.c */
extern bool wl_slot_of_datum(Datum value, Oid type, Oid collation, WlSlotValue *slot,
							 bool *ordered);
extern WlRecordFilter *wl_record_filter_new(int ntests);
extern WlPredicate *wl_predicate_node(WlPredicateKind kind, int nargs);
extern bool wl_is_time_type(Oid type);
extern bool wl_record_comparable(const WlMappedColumn *column, Oid type);
extern WlRecordFilter *wl_record_filter_from_quals(Relation rel, Index varno, List *quals,
												   ParamListInfo params);
struct WlMeta;
struct WlCollection;
struct WlPartitions;
struct WlSearchPlan;
extern char *wl_record_filter_attributes(const WlRecordFilter *filter,
										 const struct WlMeta *meta);
extern double wl_record_selectivity(PlannerInfo *root, RelOptInfo *baserel,
									const struct WlCollection *collection, bool *whole);
extern double wl_record_filter_kept(const WlRecordFilter *filter,
									const struct WlCollection *collection, bool *whole);
extern void wl_record_partitions(const WlRecordFilter *filter,
								 const struct WlCollection *collection,
								 struct WlPartitions *partitions);
extern void wl_record_plan_filtered(const WlRecordFilter *records,
									const struct WlCollection *collection, int k,
									double selectivity, double record_selectivity,
									struct WlSearchPlan *plan);

/* fdw_analyze.c */
extern bool wl_analyze_foreign_table(Relation relation, AcquireSampleRowsFunc *func,
									 BlockNumber *totalpages);

/* fdw_import.c */
extern List *wl_import_foreign_schema(ImportForeignSchemaStmt *stmt, Oid serverOid);

/* fdw_scan.c */
extern void wl_begin_scan(ForeignScanState *node, int eflags);
extern TupleTableSlot *wl_iterate_scan(ForeignScanState *node);
extern void wl_rescan(ForeignScanState *node);
extern void wl_end_scan(ForeignScanState *node);
extern void wl_explain_scan_counts(ForeignScanState *node, ExplainState *es);

/* fdw_modify.c */
extern void wl_add_update_targets(PlannerInfo *root, Index rtindex,
								  RangeTblEntry *target_rte, Relation target_relation);
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

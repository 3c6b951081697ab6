/*
 * whiplash.h - declarations shared by the Postgres glue.
 *
 * The glue turns SQL objects (servers, user mappings, foreign tables) into
 * settings for the Postgres-free core under src/core, runs the core's
 * DynamoDB calls in a way that honours query cancel, and maps the core's
 * errors to ereport.  json-c never appears here: the core hands out
 * `struct json_object *` and reads it back.
 */
#ifndef WHIPLASH_H
#define WHIPLASH_H

#include "postgres.h"

#include "foreign/foreign.h"

#include "compat.h"

#include "core/dynamodb.h"
#include "core/format.h"
#include "core/meta.h"
#include "core/recordattrs.h"
#include "core/store.h"
#include "utils/array.h"

/* The shared metadata table, the same name as the original library's. */
#define WL_METADATA_TABLE "whiplash_metadata"

/*
 * Settings of a foreign server, with defaults applied: what its DynamoDB
 * client is made with (all but the credentials, which come from the user
 * mapping), and the project and stage its collections belong to.
 */
typedef struct WlServerOptions
{
	WlDdbConfig client;
	const char *project;
	const char *stage;
	bool		consistent_searches;	/* searches read strongly consistent */
} WlServerOptions;

/* The credentials of a user mapping. */
typedef struct WlCredentials
{
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;
	bool		use_env;		/* use_env_credentials: the server's environment */
} WlCredentials;

/* A per-backend DynamoDB client for one (server, user mapping). */
/* The longest collection name: a DynamoDB table name leaves room for 64. */
#define WL_COLLECTION_NAME_MAX 64

/* The most cached collections one round of calls confirms. */
#define WL_MAX_CHECKS 8

typedef struct WlConnection
{
	Oid			serverid;
	Oid			umid;			/* user mapping */
	char	   *server_name;
	WlServerOptions options;	/* in the connection's own memory */
	WlDdb	   *ddb;
	long		round_trips;	/* rounds of concurrent calls sent */

	/*
	 * Cached collections the statement opened, to confirm in its next round
	 * of calls (collection.c): their names, and the statement's start.
	 */
	char		checks[WL_MAX_CHECKS][WL_COLLECTION_NAME_MAX + 1];
	int			nchecks;
	int64		checks_statement;
} WlConnection;

/* The most neighbours one search returns. */
#define WL_MAX_K 10000

/* The most dimensions a vector may have, as in pgvector. */
#define WL_MAX_DIMS WL_META_MAX_DIMS

/*
 * A collection's settings and its index (hash functions, and code model
 * where the format has one, as core/format.h describes), cached per
 * backend.
 */
typedef struct WlCollection
{
	WlMeta	   *meta;			/* core objects (malloc'd) */
	void	   *index;
} WlCollection;

/* Items read by DynamoDB calls, borrowed from their responses. */
typedef struct WlItems
{
	struct json_object **items;
	int			count;
	int			capacity;
} WlItems;

/* options.c */
extern void wl_server_options(Oid serverid, WlServerOptions *options);
extern void wl_user_mapping_credentials(UserMapping *mapping, WlCredentials *creds);
extern char *wl_table_collection_name(Oid relid);
extern bool wl_table_consistent_searches(Oid relid, WlConnection *conn);

/* connection.c */
extern ForeignServer *wl_lookup_server(Name name);
extern WlConnection *wl_connect(Oid serverid);

/* encoding.c */
extern void wl_encoding_hooks(WlDdbConfig *config);
extern const char *wl_text_utf8_for_hash(const char *text);
extern void wl_check_utf8(const char *what, const char *text);

/* calls.c */
extern bool wl_commit_timed_out;
extern bool wl_interrupt_requested(void *arg);

/* xact.c */
extern int	wl_commit_timeout_ms;
extern void wl_xact_init(void);
extern WlDdbCall *wl_calls_new(int ncalls);
typedef int (*WlChecksTake) (WlConnection *conn, WlDdbCall **calls, char ***names);
typedef void (*WlChecksJudge) (WlConnection *conn, WlDdbCall *calls, char **names,
							   int ncalls);
extern void wl_calls_set_checks(WlChecksTake take, WlChecksJudge judge);
extern void wl_run_once(WlConnection *conn, WlDdbCall *calls, int ncalls,
						const char *const *tolerated);
extern void wl_run(WlConnection *conn, WlDdbCall *calls, int ncalls, WlItems *items);
extern void wl_backoff(WlConnection *conn, int round, long base_ms, long max_ms);
typedef struct WlPages WlPages;
extern WlPages *wl_pages_begin(WlConnection *conn, WlDdbCall **first);
extern WlDdbCall *wl_pages_next(WlPages *pages, const char *const *tolerated);
extern void wl_pages_end(WlPages *pages);
extern int	wl_batch_get(WlConnection *conn, const char *table, char *const *ids,
						 int nids, const char *projection, struct json_object ***items);

/* collection.c */
extern int	wl_collection_cache_ttl_ms;
extern void wl_check_collection_name(const char *name);
extern char *wl_metadata_id(WlConnection *conn, const char *name);
extern WlMeta *wl_read_metadata(WlConnection *conn, const char *name, bool *taken);
extern void wl_collection_init_memory(void);
extern WlCollection *wl_collection_open(WlConnection *conn, const char *name);
extern WlCollection *wl_collection_for_relation(Oid relid, WlConnection **conn);
extern Oid	wl_relation_of_name(text *name);
extern void wl_collection_forget(Oid serverid, const char *name);
extern void wl_collection_unseen_changed(Oid serverid, const char *name);
extern void wl_collection_expire(Oid serverid, const char *name);

/*
 * What of a collection's index could not be read (its format left it out:
 * searches read every vector instead, whiplash_reindex rebuilds it), or
 * NULL when nothing.
 */
extern const char *wl_collection_damage(const WlCollection *collection);
extern bool wl_collection_stale(WlConnection *conn, const WlCollection *collection);
extern int	wl_collection_checks_take(WlConnection *conn, WlDdbCall **calls, char ***names);
extern void wl_collection_checks_judge(WlConnection *conn, WlDdbCall *calls, char **names,
									   int ncalls);

/* metadata.c */
extern void wl_metadata_run(WlConnection *conn, WlDdbCall *call);
extern struct json_object *wl_metadata_item(WlConnection *conn, const char *id);
extern void wl_metadata_set_center(WlConnection *conn, const WlMeta *meta,
								   float *const *vectors, int nvectors);
extern void wl_update_count(WlConnection *conn, WlMeta *meta, int64 change);
typedef void (*WlCollectionVisitor) (const WlMeta *meta, void *arg);
extern void wl_for_each_collection(WlConnection *conn, WlCollectionVisitor visit, void *arg);

/* reindex.c */
struct ReturnSetInfo;
/* Why an index is (re)built: asked for, or automatically by a write. */
typedef enum WlReindexCause
{
	WL_REINDEX_NONE,			/* (a write that needs none) */
	WL_REINDEX_ASKED,			/* whiplash_reindex: reports its steps */
	WL_REINDEX_FIRST,			/* a collection reached WL_PACKED_TRAIN_MIN */
	WL_REINDEX_GROWN,			/* a collection outgrew its cells */
	WL_REINDEX_ABANDONED,		/* a build's session left it unfinished */
	WL_REINDEX_RETRY			/* a background build again after an error */
} WlReindexCause;
/*
 * The attributes a build's records are to carry: asked for (a table's
 * filterable columns), or, when not asked, those of the current index.
 */
typedef struct WlBuildAttrs
{
	bool		asked;
	bool		partitioned;	/* by names[0] (option partition) */
	int			n;
	char		names[WL_RECORD_ATTRS_MAX][WL_RECORD_ATTR_NAME_MAX + 1];
} WlBuildAttrs;
extern void wl_relation_filterable(Oid relid, WlBuildAttrs *attrs);	/* columns.c */
extern bool wl_reindex(WlConnection *conn, const char *name, WlReindexCause cause,
					   const WlBuildAttrs *attrs, struct ReturnSetInfo *rsinfo);
extern void wl_reindex_check_format(const WlMeta *meta);

/* The phases of a build, as whiplash_builds shows them. */
typedef enum WlBuildPhase
{
	WL_BUILD_STARTING,			/* connecting, waiting for its writer's COMMIT */
	WL_BUILD_TRAINING,			/* sampling vectors, training the model */
	WL_BUILD_INDEXING,			/* writing every vector's records */
	WL_BUILD_SWITCHING,			/* making the new index the current one */
	WL_BUILD_CLEANING,			/* deleting older indexes' items */
	WL_BUILD_RETRYING			/* waiting to try again after an error */
} WlBuildPhase;

/* Called as a build moves on: its phase, vectors done and their total. */
typedef void (*WlBuildProgressHook) (WlBuildPhase phase, int64 done, int64 total);
extern WlBuildProgressHook wl_build_progress_hook;
/* Called for each vector item: its id, its vector decoded, the item itself. */
typedef void (*WlVectorVisitor) (const char *id, const float *vector,
								 struct json_object *item, void *arg);
extern int64 wl_visit_vectors(WlConnection *conn, const WlMeta *meta, int64 most,
							 WlVectorVisitor visit, void *arg);
extern bool wl_retrain_on_growth;
extern int	wl_abandoned_build_timeout;

/* modelcache.c */
extern bool wl_model_cache;
extern int	wl_model_cache_load(WlConnection *conn, const WlMeta *meta,
								struct json_object **array);
extern void wl_model_cache_save(WlConnection *conn, const WlMeta *meta,
								struct json_object *const *items, int nitems);
extern void wl_model_cache_drop(WlConnection *conn, const WlMeta *meta);

/* autotrain.c */
extern WlReindexCause wl_autotrain_due(WlConnection *conn, const WlCollection *collection,
									   int64 count);
extern void wl_autotrain(WlConnection *conn, const char *name, const char *vectors_table,
						 WlReindexCause cause, int64 count, bool at_commit, Oid relid);
extern bool wl_autotrain_running(Oid serverid, const char *vectors_table);
extern bool wl_autotrain_awaits_us(Oid serverid, const char *vectors_table);
struct BackgroundWorkerHandle;
extern void wl_autotrain_note(Oid serverid, const char *vectors_table, int64 count,
							  struct BackgroundWorkerHandle *worker);
extern bool wl_background_builds;

/* worker.c */
/* A build worker's backend_type in pg_stat_activity. */
#define WL_BUILD_WORKER_TYPE "whiplash index build"
/* Where a build worker keeps its progress among its progress parameters. */
#define WL_BUILD_PARAM_PHASE 0
#define WL_BUILD_PARAM_DONE 1
#define WL_BUILD_PARAM_TOTAL 2
#define WL_BUILD_PARAM_CAUSE 3
#define WL_BUILD_PARAM_ATTEMPT 4
#define WL_BUILD_PARAM_SERVER 5
#define WL_BUILD_PARAM_ROLE 6
extern struct BackgroundWorkerHandle *wl_build_launch(WlConnection *conn, const char *collection,
													  WlReindexCause cause, Oid relid,
													  bool *busy);
extern bool wl_build_worker_running(struct BackgroundWorkerHandle *handle);
extern bool wl_build_locked(Oid serverid, const char *collection);

/* search_plan.c */
typedef enum WlSearchKind
{
	WL_SEARCH_PROBE,			/* probed buckets of every table */
	WL_SEARCH_CODES,			/* every code of one table */
	WL_SEARCH_SCAN				/* every vector */
} WlSearchKind;
/*
 * The partitions of a partitioned index (core/packed_keys.c) that a search
 * reads: those of the values its filter names (recordfilter.c).
 */
#define WL_PARTITIONS_MAX 64
typedef struct WlPartitions
{
	int			n;				/* how many; 0: the filter names none, -1: the
								 * index is not partitioned */
	double		share;			/* of the records, theirs */
	double		listed;			/* that share as the statistics list it,
								 * without estimates for values a sample
								 * missed */
	bool		counted;		/* do the index's statistics count them?
								 * (else share is a floor, or 1 without
								 * statistics) */
	double		cell_bytes;		/* what a cell of one of them holds, as the
								 * plan took it (search_plan.c) */
	unsigned char slots[WL_PARTITIONS_MAX][WL_SLOT_BYTES];	/* their values */
} WlPartitions;

typedef struct WlSearchPlan
{
	WlSearchKind kind;
	WlMetric	metric;			/* what candidates are ranked by: the
								 * collection's, unless a caller asks for an
								 * exact search by another */
	int			probes;			/* buckets probed per table (at a spread:
								 * about as many on average) */
	double		spread;			/* > 0: the first round reads the cells
								 * within it of the nearest (up to
								 * spread_most), not `probes` cells */
	int			spread_most;
	double		cells_read;		/* cells read on average, at a spread */
	int			depth;			/* fine bits read beyond a bucket's */
	int			budget;			/* candidates fetched whole and re-ranked */
	int			cells;			/* k-means cells a table has, or 0 (LSH buckets) */
	int			groups;			/* the groups they are in, or 0 */
	bool		consistent;		/* strongly consistent reads */
	double		read_units;		/* estimated, as DynamoDB bills them */
	double		requests;		/* estimated, before the candidates' fetch */
	double		recall;			/* estimated recall@10, or -1: unknown */
	bool		below_target;	/* the calibration reaches no recall_target */
	double		rerank_scale;	/* of the calibration's candidates: growth, k */
	const char *why;			/* the reason for the kind, for EXPLAIN */
	int			probes_arg;		/* the probes and candidates the caller */
	int			budget_arg;		/* asked for, or -1: the defaults */
	/* what widening costs a filtered search of a packed collection */
	int			probe_limit;	/* distinct probes a table has */
	double		probe_units;	/* read units of one probe of every table */
	double		probe_codes;	/* candidates one probe adds */
	double		fetch_units;	/* read units of one candidate fetched */
	double		selectivity;	/* the filter's share of vectors, or -1: none */
	double		record_selectivity; /* the share its records keep (1: all) */
	bool		whole;			/* do they answer the whole filter */
	bool		filter_calibrated;	/* planned by the filtered grids */
	int			rounds;			/* rounds expected (1 unfiltered) */
	double		fetched;		/* candidates expected to be fetched */
	double		vectors;		/* in the collection, as the plan took it */
	double		scan_units;		/* read units of a Scan of every vector */
	double		scan_requests;	/* and its requests */
	WlPartitions partitions;	/* what a partitioned index's search reads:
								 * with kind CODES, every cell of them */
	double		block_cell_bytes;	/* > 0: a blocked index's, whose cells a
									 * search reads in runs, each cell taken
									 * to hold these bytes */
} WlSearchPlan;
extern void wl_search_plan(const WlCollection *collection, int k, int probes_arg,
						   int budget_arg, bool consistent, WlSearchPlan *plan);
extern void wl_search_plan_exact(const WlCollection *collection, WlMetric metric,
								 bool consistent, const char *why, WlSearchPlan *plan);
extern void wl_search_plan_filtered(const WlCollection *collection, WlSearchPlan *plan, int k,
									double selectivity, double record_selectivity, bool whole,
									const WlPartitions *partitions);
extern int	wl_search_plan_rerank(const WlCollection *collection, const WlSearchPlan *plan,
								  double kept, int k);
extern const char *wl_search_kind_name(WlSearchKind kind);
extern double wl_vector_item_bytes(const WlMeta *meta);
extern int	wl_probes;
extern int	wl_max_probes;
extern int	wl_max_scan_candidates;
extern int	wl_max_candidates;
extern int	wl_bucket_capacity;
extern double wl_candidate_fraction;
extern double wl_search_effort;
extern double wl_recall_target;
extern double wl_max_search_units;

/* search_partitions.c */
extern int	wl_partition_keys(const WlPartitions *partitions, bool codes, char **keybuf,
							  int nkeys);
extern int	wl_cell_runs(double cell_bytes, struct HTAB *read, const char **keys, int nkeys);
extern int	wl_partition_budget(const WlCollection *collection, const WlSearchPlan *plan, int k,
								double read, double kept, bool *undercounted);

/* search.c */
typedef struct WlSearchStats
{
	int			probes;			/* buckets probed per hash table */
	int			buckets;		/* distinct buckets read */
	long		bucket_entries; /* ids read from them */
	long		candidates;		/* distinct ids among them */
	long		vectors_read;	/* candidate vectors fetched */
	long		requests;		/* HTTP requests sent */
	long		round_trips;	/* rounds of concurrent requests */
	int			results;
	int			rounds;			/* search rounds (more than 1: widened) */
	long		matched;		/* candidates that passed the filter */
	int			fine_bits;		/* code bits read beyond each bucket's */
	long		bytes_read;		/* response bodies */
	double		capacity_units; /* read capacity DynamoDB reported */
	WlSearchKind kind;			/* the plan that ran */
	double		recall;			/* the plan's estimate, or -1: unknown */
	long		records_dropped;	/* records whose attributes failed the
									 * filter (recordattrs.h) */
	bool		none_kept;		/* the index's statistics proved that no
								 * vector passes: nothing was searched */
} WlSearchStats;
typedef struct WlSearchHit
{
	struct json_object *item;	/* the vector item (id, vector) */
	double		distance;
} WlSearchHit;
typedef bool (*WlSearchFilter) (struct json_object *item, void *arg);
extern int	wl_search_run(WlConnection *conn, WlCollection *collection, const float *query,
						  int k, const WlSearchPlan *plan, const char *projection,
						  WlSearchFilter filter, void *filter_arg,
						  const WlRecordFilter *records, WlSearchHit **hits);
extern const WlSearchStats *wl_search_last_stats(void);

/* explain.c */
extern void wl_explain_count_search(const WlSearchStats *stats, double estimated_units);
extern void wl_explain_init(void);

/* write.c */
typedef struct WlWriteBuffer WlWriteBuffer;
extern int	wl_write_batch_size;
extern void wl_check_id(const char *id, int max_len);
extern void wl_report_unseen(WlConnection *conn, const WlCollection *collection,
							 const WlEntryChange *changes, int n);
extern WlWriteBuffer *wl_write_begin(WlConnection *conn, WlCollection *collection,
									 int hold_limit, Oid relid);
extern void wl_write_statement(WlWriteBuffer *buffer, bool reads);
extern void wl_write_statement_end(WlWriteBuffer *buffer);
extern long wl_write_pending(WlWriteBuffer *buffer);
extern void wl_write_carry_over(WlWriteBuffer *buffer, const char *const *managed,
								int nmanaged);
extern void wl_write_move(WlWriteBuffer *buffer, const char *old_id, const char *id,
						  const float *vector, int dims, const char *attributes);
extern void wl_write_put(WlWriteBuffer *buffer, const char *id, const float *vector, int dims,
						 const char *attributes);
extern void wl_write_delete(WlWriteBuffer *buffer, const char *id);
extern void wl_write_flush(WlWriteBuffer *buffer);
extern void wl_write_train(WlWriteBuffer *buffer, bool at_commit);
extern void wl_write_end(WlWriteBuffer *buffer);

/* xact.c */
extern int	wl_write_hold_limit;
extern WlWriteBuffer *wl_xact_buffer(WlConnection *conn, WlCollection *collection, bool reads,
									 Oid relid);
extern void wl_xact_before_read(WlConnection *conn, const char *collection);

/* vecarray.c */
extern float *wl_array_to_vector(ArrayType *array, int dims, const char *what, int *ndims);
extern ArrayType *wl_vector_to_array(const float *vector, int dims);

/* operators.c */
extern WlMetric wl_metric_of_name(const char *name);
extern bool wl_operator_metric(Oid opno, Oid vector_type, WlMetric *metric);

/* attributes.c */
extern Datum wl_item_attributes_jsonb(struct json_object *item, const char *const *skip,
									  int nskip);

/* errors.c */
extern uint64 wl_tables_found_missing;
extern void wl_report_call_error(WlConnection *conn, const WlDdbCall *call) pg_attribute_noreturn();
extern void wl_report_out_of_memory(void) pg_attribute_noreturn();

/* tables.c */
extern int	wl_table_wait_timeout_ms;
extern const char *wl_describe_table(WlConnection *conn, const char *table);
extern bool wl_create_table(WlConnection *conn, const char *table,
							const char *hash_key, const char *range_key);
extern void wl_wait_table_active(WlConnection *conn, const char *table);
extern void wl_delete_tables(WlConnection *conn, const char *const *tables, int ntables,
							 bool report);
#endif							/* WHIPLASH_H */

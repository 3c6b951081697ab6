/*
 * whiplash.c - module entry point and settings.
 *
 * Whiplash keeps vectors in Amazon DynamoDB and searches them from SQL.
 * This file only registers the whiplash.* settings; each concern lives in
 * its own file (options.c, connection.c, setup.c, ...) and the
 * Postgres-free client in src/core.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "compat.h"
#include "whiplash.h"
#include "core/cells.h"
#include "core/packed.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Registers the whiplash.* settings, reserves the prefix, gives the LSH its
 * memory, hands calls.c the checks of cached collections that every round
 * carries, and the records' hashes of text its conversion to UTF-8.
 */
void
_PG_init(void)
{
	DefineCustomIntVariable("whiplash.table_wait_timeout",
							"How long to wait for a new DynamoDB table to become ACTIVE.",
							NULL,
							&wl_table_wait_timeout_ms,
							300000, 1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("whiplash.collection_cache_ttl",
							"How long a backend keeps a collection's settings before re-reading them.",
							NULL,
							&wl_collection_cache_ttl_ms,
							60000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("whiplash.probes",
							"Buckets read per hash table by a search (multi-probe); more raises recall and cost.",
							NULL,
							&wl_probes,
							12, 1, 1024,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("whiplash.max_candidates",
							"Most candidate vectors a search fetches and re-ranks.",
							NULL,
							&wl_max_candidates,
							2000, 1, 10000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomRealVariable("whiplash.candidate_fraction",
							 "Share of a native collection's vectors a search may fetch (at least 100).",
							 NULL,
							 &wl_candidate_fraction,
							 0.08, 0.0, 1.0,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("whiplash.bucket_capacity",
							"Entries a search expects under one probed key: as a collection grows past this many per bucket, searches read finer keys.",
							NULL,
							&wl_bucket_capacity,
							16, 1, 1000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("whiplash.max_probes",
							"Most buckets per hash table a filtered search probes as it widens.",
							NULL,
							&wl_max_probes,
							192, 1, 1024,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("whiplash.max_scan_candidates",
							"Most candidate vectors a filtered search fetches over all its rounds.",
							NULL,
							&wl_max_scan_candidates,
							20000, 1, 10000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomRealVariable("whiplash.recall_target",
							 "Recall@10 a search of a calibrated packed collection aims for, at the fewest read units its calibration shows.",
							 "A collection is calibrated when its index is built; whiplash_recall() measures what a search reaches.",
							 &wl_recall_target,
							 0.95, 0.0, 1.0,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomRealVariable("whiplash.max_search_units",
							 "Most read units a search of a calibrated packed collection plans to read; 0 is no limit.",
							 "Within it a search takes the highest recall its calibration measured, and says so when that is below whiplash.recall_target.",
							 &wl_max_search_units,
							 0.0, 0.0, 1.0e9,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomRealVariable("whiplash.search_effort",
							 "How hard a search of a packed collection built before calibration looks: probes and re-ranked candidates grow with it.",
							 "0.25 is cheap, 1 the default, 4 reaches a recall of about 0.99.  Calibrated collections follow whiplash.recall_target instead.",
							 &wl_search_effort,
							 1.0, 0.05, 100.0,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("whiplash.commit_timeout",
							"Most time the writes a COMMIT sends to DynamoDB may take; -1 takes statement_timeout.",
							"PostgreSQL stops the statement timer before a commit's writes; 0 is no limit.",
							&wl_commit_timeout_ms,
							-1, -1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	wl_xact_init();
	DefineCustomIntVariable("whiplash.write_hold_limit",
							"Most rows a transaction holds until COMMIT; beyond it, rows are written early.",
							NULL,
							&wl_write_hold_limit,
							100000, 1, INT_MAX / 4,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("whiplash.retrain_on_growth",
							 "A write that brings a packed collection to twice the vectors its index was trained on retrains the index.",
							 "Off leaves retraining to whiplash_reindex; searches then read more codes as cells grow.",
							 &wl_retrain_on_growth,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("whiplash.model_cache",
							 "Keep the trained models that backends read from DynamoDB on the server's disk, for later sessions.",
							 "Off, every new session reads a collection's model from DynamoDB.",
							 &wl_model_cache,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("whiplash.background_builds",
							 "A write that leaves a packed collection's index due starts a background worker to build it.",
							 "Off, the write's COMMIT trains the index; whiplash_reindex always builds in the foreground.",
							 &wl_background_builds,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("whiplash.abandoned_build_timeout",
							"A packed collection's index build that showed no work for this long is resumed by the next write.",
							"A build shows it is at work every minute; a cancelled or crashed one stops.",
							&wl_abandoned_build_timeout,
							600, 1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("whiplash.max_ungrouped_cells",
							"The most k-means cells a packed collection's index build trains as one set.",
							"A build that needs more cells, for a larger collection, puts them in groups, so that a search ranks only the nearest groups' cells.",
							&wl_packed_max_flat_cells,
							WL_PACKED_MAX_CELLS, 16, WL_CELLS_FLAT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("whiplash.write_batch_size",
							"Rows written to DynamoDB per batch of ordered phases.",
							NULL,
							&wl_write_batch_size,
							1000, 1, 100000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("whiplash");
	wl_collection_init_memory();
	wl_calls_set_checks(wl_collection_checks_take, wl_collection_checks_judge);
	wl_slot_text_to_utf8 = wl_text_utf8_for_hash;
	wl_explain_init();
}

/*
 * fuzz_stats.c - fuzzes wl_stats_decode (attrstats.c): the statistics of a
 * packed index's attributes, which any tool that writes the buckets table
 * can replace.  Bytes that decode must encode back to themselves, and a
 * filter's estimate and proof on them must run inside their values.
 *
 * Why: a backend decodes them whenever it reads a trained model, and then
 * reads slots and counts by what they say; nothing else checks them.
 *
 * Input: the bytes of a statistics item's "model" attribute, for the
 * attributes "tag" and "price"; and, as text, its "filtered" attribute
 * (calibrate.h), whose grids must stay within their axes and choose a
 * point for any filter.
 */
#include "fuzz.h"
#include "attrstats.h"
#include "calibrate.h"

/* The input as the filtered grids' text of a calibration of two reranks. */
static void
fuzz_levels(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);
	WlCalibration calibration;
	WlCalibChoice choice;
	char		reason[128];

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&calibration, 0, sizeof(calibration));
	calibration.queries = 100;
	calibration.k = 10;
	calibration.nreranks = 2;
	calibration.reranks[0] = 10;
	calibration.reranks[1] = 40;
	if (wl_calib_parse_levels(text, &calibration, reason, sizeof(reason)))
	{
		FUZZ_CHECK(calibration.nlevels >= 1 && calibration.nlevels <= WL_CALIB_LEVELS,
				   "levels within their most");
		for (int l = 0; l < calibration.nlevels; l++)
			FUZZ_CHECK(calibration.levels[l].keep >= 2 &&
					   calibration.levels[l].nprobes >= 1 &&
					   calibration.levels[l].nprobes <= WL_CALIB_MAX_AXIS, "a level's axes");
		FUZZ_CHECK(wl_calib_choose_filtered(&calibration, 0.0005, 0.95, 0, 10, 5000, 1.0, 0.5,
											1.0, &choice) &&
				   choice.probes >= 1 && choice.probes <= 5000 && choice.recall >= 0 &&
				   choice.recall <= 1, "a rare filter's choice within every cell");
		FUZZ_CHECK(wl_calib_choose_filtered(&calibration, 0.3, 0.95, 0, 10, 5000, 1.0, 0.5,
											1.0, &choice) && choice.rerank >= 10,
				   "a common filter's choice");
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"tag", "price"};
	unsigned char *bytes = malloc(size ? size : 1);	/* exact size: ASan sees overreads */
	char		reason[128];
	WlAttrStats *stats;
	WlSlotTest	test;
	WlSlotValue value;
	WlPredicate leaf = {WL_PRED_TEST, 0, 0, NULL};
	WlRecordFilter filter = {&leaf, &test, 1};
	int			slots[1] = {0};
	unsigned char *encoded;
	size_t		len = 0;
	double		kept;

	if (bytes == NULL)
		abort();
	memcpy(bytes, data, size);
	stats = wl_stats_decode(bytes, size, names, 2, reason, sizeof(reason));
	if (stats != NULL)
	{
		encoded = wl_stats_encode(stats, &len);
		FUZZ_CHECK(encoded != NULL && len == size && memcmp(encoded, bytes, size) == 0,
				   "statistics encode back to their bytes");
		free(encoded);
		memset(&test, 0, sizeof(test));
		wl_slot_string("shoes", &value);
		test.attribute = "tag";
		test.op = WL_SLOT_EQ;
		test.nvalues = 1;
		test.values = &value;
		kept = wl_stats_kept(stats, &filter, slots);
		FUZZ_CHECK(kept >= 0 && kept <= 1, "a share");
		(void) wl_stats_none_kept(stats, &filter, slots);
		if (size >= WL_SLOT_BYTES)
			wl_stats_note(stats, wl_text_hash("tag"), bytes);
		wl_stats_free(stats);
	}
	free(bytes);
	fuzz_levels(data, size);
	return 0;
}

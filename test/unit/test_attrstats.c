/*
 * test_attrstats.c - unit tests of the statistics of records' attributes
 * (core/attrstats.c): the share a filter keeps against a count over the
 * records themselves, proofs that a filter keeps nothing checked against
 * every record (a proof must never drop a record the filter keeps), bytes
 * read back, and values of an earlier generation kept listed.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "attrstats.h"
#include "ddbjson.h"
#include "unit.h"

#define NRECORDS 5000
#define NATTRS 2

static const char *names[NATTRS] = {"tag", "price"};

/* What the tests' filters allocate, freed at the end. */
static void *allocated[8192];
static int	nallocated;

/* calloc, remembered to be freed by free_all. */
static void *
tcalloc(size_t n, size_t size)
{
	void	   *p = calloc(n, size);

	if (nallocated < 8192)
		allocated[nallocated++] = p;
	return p;
}

/* Frees what tcalloc allocated. */
static void
free_all(void)
{
	while (nallocated > 0)
		free(allocated[--nallocated]);
}
static const char *tags[] = {"red", "green", "blue", "old"};

/* The slots of record i: a tag of three (or none), a price of 2000. */
static void
record_slots(int i, unsigned char *slots)
{
	struct json_object *item = json_object_new_object();
	char		price[16];

	if (i % 10 != 0)
		json_object_object_add(item, "tag", wl_av_string(tags[i % 3]));
	snprintf(price, sizeof(price), "%d", (i * 7919) % 2000);
	json_object_object_add(item, "price", wl_av_number_text(price));
	wl_record_attrs_encode(names, NATTRS, item, slots);
	json_object_put(item);
}

/* A test of attribute `attr`: op with one value (a string, or a number). */
static void
make_test(WlSlotTest *test, int attr, WlSlotOp op, bool negate, const char *value)
{
	memset(test, 0, sizeof(*test));
	test->attribute = names[attr];
	test->op = op;
	test->negate = negate;
	test->nvalues = 1;
	test->values = tcalloc(1, sizeof(WlSlotValue));
	if (attr == 0)
		wl_slot_string(value, test->values);
	else
		wl_slot_number(value, test->values);
}

/* A filter of one test, or of two under AND/OR. */
static WlRecordFilter *
make_filter(WlSlotTest *tests, int ntests, WlPredicateKind kind, bool negate_all)
{
	WlRecordFilter *filter = tcalloc(1, sizeof(WlRecordFilter));
	WlPredicate *top = tcalloc(1, sizeof(WlPredicate));
	int			i;

	filter->tests = tests;
	filter->ntests = ntests;
	top->kind = ntests == 1 ? WL_PRED_TEST : kind;
	top->nargs = ntests == 1 ? 0 : ntests;
	if (ntests > 1)
	{
		top->args = tcalloc(ntests, sizeof(WlPredicate *));
		for (i = 0; i < ntests; i++)
		{
			top->args[i] = tcalloc(1, sizeof(WlPredicate));
			top->args[i]->kind = WL_PRED_TEST;
			top->args[i]->test = i;
		}
	}
	filter->predicate = top;
	if (negate_all)
	{
		WlPredicate *not = tcalloc(1, sizeof(WlPredicate));

		not->kind = WL_PRED_NOT;
		not->nargs = 1;
		not->args = tcalloc(1, sizeof(WlPredicate *));
		not->args[0] = top;
		filter->predicate = not;
	}
	return filter;
}

/*
 * The share of the records a filter keeps: those it does not find FALSE,
 * or with `sql`, those SQL's WHERE may keep: TRUE, or UNKNOWN unless the
 * tag is absent (a NULL), since a record's UNKNOWN may stand for TRUE.
 */
static double
share_kept(const WlRecordFilter *filter, const int *slots, bool sql)
{
	unsigned char record[NATTRS * WL_SLOT_BYTES];
	int			kept = 0;
	int			i;

	for (i = 0; i < NRECORDS; i++)
	{
		WlTruth		truth;

		record_slots(i, record);
		truth = wl_record_filter_eval(filter, slots, record);
		kept += sql ? truth == WL_TRUE || (truth == WL_UNKNOWN && i % 10 != 0) :
			truth != WL_FALSE;
	}
	return (double) kept / NRECORDS;
}

/* The share of the records a filter does not find FALSE. */
static double
true_kept(const WlRecordFilter *filter, const int *slots)
{
	return share_kept(filter, slots, false);
}

/* Gathers the statistics of the records, after an earlier generation's. */
static WlAttrStats *
gather(const WlAttrStats *earlier)
{
	WlAttrStats *stats = wl_stats_begin(names, NATTRS);
	unsigned char record[NATTRS * WL_SLOT_BYTES];
	int			i;

	for (i = 0; i < NRECORDS; i++)
	{
		record_slots(i, record);
		wl_stats_add(stats, record, (uint64_t) i * UINT64_C(0x9e3779b97f4a7c15));
	}
	wl_stats_end(stats, earlier);
	return stats;
}

int
main(void)
{
	WlAttrStats *stats = gather(NULL);
	WlAttrStats *read;
	WlAttrStats *later;
	WlAttrStats *noted;
	unsigned char *bytes;
	unsigned char record[NATTRS * WL_SLOT_BYTES];
	size_t		len;
	char		reason[128];
	int			slots[2] = {0, 1};
	int			price_slot[1] = {1};
	int			price_slots[2] = {1, 1};
	WlSlotTest	tests[2];
	WlRecordFilter *filter;
	int			op;
	int			i;
	int			proofs = 0;
	bool		sound = true;

	CHECK(stats->attrs[0].complete && stats->attrs[0].nvalues == 4,
		  "three tags and absent are listed complete");
	CHECK(!stats->attrs[1].complete && stats->attrs[1].nvalues <= WL_STATS_SAMPLE,
		  "two thousand prices are a sample");

	make_test(&tests[0], 0, WL_SLOT_EQ, false, "red");
	filter = make_filter(tests, 1, WL_PRED_TEST, false);
	CHECK(fabs(wl_stats_kept(stats, filter, slots) - true_kept(filter, slots)) < 1e-9,
		  "the share of a tag is its count");
	CHECK(!wl_stats_none_kept(stats, filter, slots), "a listed tag can match");
	make_test(&tests[0], 0, WL_SLOT_EQ, false, "purple");
	CHECK(wl_stats_none_kept(stats, filter, slots), "a tag never written matches nothing");
	CHECK(fabs(wl_stats_kept(stats, filter, slots) - true_kept(filter, slots)) < 1e-9,
		  "and is priced at the records without a tag, which records cannot settle");
	filter = make_filter(tests, 1, WL_PRED_TEST, true);
	CHECK(!wl_stats_none_kept(stats, filter, slots), "its NOT can match");

	make_test(&tests[1], 1, WL_SLOT_LT, false, "100");
	filter = make_filter(tests, 2, WL_PRED_OR, false);
	CHECK(!wl_stats_none_kept(stats, filter, slots), "OR with a sampled price can match");
	CHECK(fabs(wl_stats_kept(stats, filter, slots) - true_kept(filter, slots)) < 0.06,
		  "a sampled range is priced near its share");
	filter = make_filter(tests, 2, WL_PRED_AND, false);
	CHECK(wl_stats_none_kept(stats, filter, slots), "AND with an unwritten tag matches nothing");

	filter = make_filter(&tests[1], 1, WL_PRED_TEST, false);
	CHECK(!wl_stats_none_kept(stats, filter, price_slot), "a sample proves nothing");

	/* a range's two ends read one attribute: taken together, not as independent */
	make_test(&tests[0], 1, WL_SLOT_GE, false, "500");
	make_test(&tests[1], 1, WL_SLOT_LT, false, "700");
	filter = make_filter(tests, 2, WL_PRED_AND, false);
	CHECK(fabs(wl_stats_kept(stats, filter, price_slots) - true_kept(filter, price_slots)) < 0.04 &&
		  true_kept(filter, price_slots) > 0.05,
		  "a range of a sampled price is priced near its share");

	/*
	 * 2,000 prices in 5,000 records, sampled by well-mixed id hashes: a
	 * price the sample missed holds about 1/2,000 of them.
	 */
	{
		WlAttrStats *mixed = wl_stats_begin(names, NATTRS);
		double		sampled;
		double		rare;

		for (i = 0; i < NRECORDS; i++)
		{
			uint64_t	h = (uint64_t) (i + 1) * UINT64_C(0x9e3779b97f4a7c15);

			h = (h ^ (h >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
			h = (h ^ (h >> 27)) * UINT64_C(0x94d049bb133111eb);
			record_slots(i, record);
			wl_stats_add(mixed, record, h ^ (h >> 31));
		}
		wl_stats_end(mixed, NULL);
		rare = wl_stats_rare_share(mixed, 1, &sampled);
		CHECK(sampled == WL_STATS_SAMPLE && rare > 1.0 / 4000 && rare < 1.0 / 1000,
			  "a value a sample missed is as rare as the distinct values it suggests");
		CHECK(wl_stats_rare_share(mixed, 0, &sampled) == 0,
			  "a value of an attribute listed complete has no such estimate");
		wl_stats_free(mixed);
	}

	/* soundness: no proof over records any of which the filter keeps */
	for (op = 0; op < 400; op++)
	{
		const char *values[] = {"red", "green", "blue", "purple", "old"};
		const char *prices[] = {"-1", "0", "500", "1999", "2000", "12.5"};
		WlPredicateKind kind = op % 2 ? WL_PRED_AND : WL_PRED_OR;

		make_test(&tests[0], 0, (WlSlotOp) (op % 3 == 0 ? WL_SLOT_MISSING : WL_SLOT_EQ),
				  op % 5 == 0, values[op % 5]);
		make_test(&tests[1], op % 7 == 0 ? 0 : 1, (WlSlotOp) (op % 7 == 0 ? WL_SLOT_EQ : op % 5),
				  op % 11 == 0, op % 7 == 0 ? values[op % 4] : prices[op % 6]);
		filter = make_filter(tests, 1 + op % 2, kind, op % 13 == 0);
		if (wl_stats_none_kept(stats, filter, slots))
		{
			proofs++;
			sound = sound && share_kept(filter, slots, true) == 0;
		}
	}
	CHECK(sound, "every proof that nothing matches is true of every record");
	CHECK(proofs > 10, "and some filters are proved to match nothing");

	bytes = wl_stats_encode(stats, &len);
	read = wl_stats_decode(bytes, len, names, NATTRS, reason, sizeof(reason));
	CHECK(read != NULL && wl_stats_listing(read, "tag", stats->attrs[0].values[2].slot) == WL_STATS_LISTED &&
		  read->attrs[0].nvalues == 4 && read->attrs[1].records == NRECORDS &&
		  read->attrs[0].complete && !read->attrs[1].complete,
		  "statistics read back from their bytes");
	CHECK(wl_stats_decode(bytes, len - 1, names, NATTRS, reason, sizeof(reason)) == NULL,
		  "cut bytes do not read");
	bytes[5] ^= 1;
	CHECK(wl_stats_decode(bytes, len, names, NATTRS, reason, sizeof(reason)) == NULL,
		  "statistics of another attribute do not read");
	CHECK(wl_stats_decode(bytes, len, names, 1, reason, sizeof(reason)) == NULL,
		  "nor those of more attributes");
	free(bytes);

	record_slots(1, record);
	CHECK(wl_stats_listing(stats, "tag", record) == WL_STATS_LISTED &&
		  wl_stats_listing(stats, "price", record + WL_SLOT_BYTES) == WL_STATS_UNKNOWN,
		  "a tag is listed, a price of a sample not known");
	{
		struct json_object *item = json_object_new_object();

		json_object_object_add(item, "tag", wl_av_string("purple"));
		json_object_object_add(item, "price", wl_av_number_text("5"));
		wl_record_attrs_encode(names, NATTRS, item, record);
		json_object_put(item);
	}
	CHECK(wl_stats_listing(stats, "tag", record) == WL_STATS_UNLISTED, "a new tag is not listed");
	CHECK(wl_stats_listing(NULL, "tag", record) == WL_STATS_UNKNOWN &&
		  wl_stats_listing(stats, "size", record) == WL_STATS_UNKNOWN,
		  "nor known without statistics");
	make_test(&tests[0], 0, WL_SLOT_EQ, false, "purple");
	filter = make_filter(tests, 1, WL_PRED_TEST, false);
	bytes = wl_stats_encode(stats, &len);
	noted = wl_stats_decode(bytes, len, names, NATTRS, reason, sizeof(reason));
	free(bytes);
	wl_stats_note(noted, wl_text_hash("tag"), record);
	CHECK(!wl_stats_none_kept(noted, filter, slots) && wl_stats_listing(noted, "tag", record) == WL_STATS_LISTED,
		  "a value noted as written since can match");
	wl_stats_free(noted);

	/* a value listed before stays listed: a writer did not report it */
	{
		struct json_object *item = json_object_new_object();

		json_object_object_add(item, "tag", wl_av_string("old"));
		wl_record_attrs_encode(names, 1, item, record);
		json_object_put(item);
	}
	memcpy(read->attrs[0].values[0].slot, record, WL_SLOT_BYTES);
	later = gather(read);
	make_test(&tests[0], 0, WL_SLOT_EQ, false, "old");
	filter = make_filter(tests, 1, WL_PRED_TEST, false);
	CHECK(later->attrs[0].complete && later->attrs[0].nvalues == 5 &&
		  !wl_stats_none_kept(later, filter, slots),
		  "an earlier generation's value stays listed, with no records");
	CHECK(wl_stats_none_kept(stats, filter, slots), "where it was not listed it matches nothing");
	bytes = wl_stats_encode(later, &len);
	noted = wl_stats_decode(bytes, len, names, NATTRS, reason, sizeof(reason));
	CHECK(noted != NULL, "and the statistics still read");
	free(bytes);
	wl_stats_free(noted);
	wl_stats_free(stats);
	wl_stats_free(read);
	wl_stats_free(later);
	free_all();
	return unit_done();
}

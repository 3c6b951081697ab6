/*
 * test_recordattrs.c - unit tests of the attributes packed records carry
 * (core/recordattrs.c): values read back from their slots, ISO 8601 times
 * as instants, and, over many random values and tests, a record's answer
 * is always SQL's answer on the value itself or UNKNOWN, never the other
 * answer, so that a record is dropped only when its vector cannot match.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ddbjson.h"
#include "recordattrs.h"
#include "unit.h"

/* One random attribute value, and what SQL compares of it. */
typedef struct Value
{
	int			kind;			/* 0 absent, 1 number, 2 string, 3 bool, 4 time */
	long		cents;			/* number: the value times 100 */
	int			word;			/* string: which word */
	int			boolean;
	long		seconds;		/* time: the instant */
	char		text[64];		/* number, string, time: as DynamoDB holds it */
} Value;

static const char *words[] = {"shoes", "hats", "k1", "k2", "2026-01-01 x"};

/* A random value; a time is spelled at a random offset from UTC. */
static void
random_value(Value *v)
{
	memset(v, 0, sizeof(*v));
	v->kind = rand() % 5;
	if (v->kind == 1)
	{
		v->cents = (rand() % 41 - 20) * (rand() % 2 ? 100 : 25);
		if (v->cents % 100 == 0)
			snprintf(v->text, sizeof(v->text), "%ld", v->cents / 100);
		else
			snprintf(v->text, sizeof(v->text), "%.2f", v->cents / 100.0);
	}
	else if (v->kind == 2)
	{
		v->word = rand() % 5;
		snprintf(v->text, sizeof(v->text), "%s", words[v->word]);
	}
	else if (v->kind == 3)
		v->boolean = rand() % 2;
	else if (v->kind == 4)
	{
		int			offset = (rand() % 5 - 2) * 60;	/* minutes east of UTC */
		long		local = 1767225600L + 3 * 3600 + (rand() % 6) * 1800;	/* the clock */

		v->seconds = local - offset * 60;
		snprintf(v->text, sizeof(v->text), "2026-01-01T%02ld:%02ld:00%c%02d:%02d",
				 (local - 1767225600L) / 3600, (local - 1767225600L) % 3600 / 60,
				 offset < 0 ? '-' : '+', abs(offset) / 60, abs(offset) % 60);
	}
}

/* The DynamoDB attribute value of a value (NULL: absent). */
static struct json_object *
value_av(const Value *v)
{
	switch (v->kind)
	{
		case 1:
			return wl_av_number_text(v->text);
		case 2:
		case 4:
			return wl_av_string(v->text);
		case 3:
			return wl_av_bool(v->boolean);
	}
	return NULL;
}

/* The test's value: its summary, as a filter's constant gives it. */
static void
test_slot(const Value *v, WlSlotValue *slot)
{
	if (v->kind == 1)
		wl_slot_number(v->text, slot);
	else if (v->kind == 3)
		wl_slot_bool(v->boolean, slot);
	else
		wl_slot_string(v->text, slot);
}

/*
 * SQL's answer to record op test (a value of the test's kind), or -1 when
 * SQL would not compare them (different kinds, ranges of text).
 */
static int
sql_answer(const Value *record, WlSlotOp op, const Value *test)
{
	long		a;
	long		b;

	if (op == WL_SLOT_EXISTS || op == WL_SLOT_MISSING)
		return (record->kind != 0) == (op == WL_SLOT_EXISTS) ? WL_TRUE : WL_FALSE;
	if (record->kind == 0)
		return WL_UNKNOWN;
	if (record->kind != test->kind || (op != WL_SLOT_EQ && (record->kind == 2 || record->kind == 3)))
		return -1;
	a = record->kind == 1 ? record->cents : record->kind == 4 ? record->seconds :
		record->kind == 2 ? record->word : record->boolean;
	b = test->kind == 1 ? test->cents : test->kind == 4 ? test->seconds :
		test->kind == 2 ? test->word : test->boolean;
	switch (op)
	{
		case WL_SLOT_EQ:
			return a == b ? WL_TRUE : WL_FALSE;
		case WL_SLOT_LT:
			return a < b ? WL_TRUE : WL_FALSE;
		case WL_SLOT_LE:
			return a <= b ? WL_TRUE : WL_FALSE;
		case WL_SLOT_GT:
			return a > b ? WL_TRUE : WL_FALSE;
		default:
			return a >= b ? WL_TRUE : WL_FALSE;
	}
}

/*
 * The values a filter requires of an attribute: those of an equality or
 * IN on it, ANDed with anything, or of every side of an OR; none where
 * any side names none, under a NOT, or for another attribute.
 */
static void
test_filter_values(void)
{
	WlSlotValue a[2];
	WlSlotValue b[1];
	WlSlotValue found[8];
	WlSlotTest tests[3] = {
		{.attribute = "tenant", .op = WL_SLOT_EQ, .nvalues = 2, .values = a},
		{.attribute = "tenant", .op = WL_SLOT_EQ, .nvalues = 1, .values = b},
		{.attribute = "price", .op = WL_SLOT_LT, .nvalues = 1, .values = b},
	};
	WlPredicate leaves[3] = {{WL_PRED_TEST, 0, 0, NULL}, {WL_PRED_TEST, 1, 0, NULL},
	{WL_PRED_TEST, 2, 0, NULL}};
	WlPredicate *first_and_price[2] = {&leaves[0], &leaves[2]};
	WlPredicate *first_or_second[2] = {&leaves[0], &leaves[1]};
	WlPredicate *first_or_price[2] = {&leaves[0], &leaves[2]};
	WlPredicate and = {WL_PRED_AND, 0, 2, first_and_price};
	WlPredicate or = {WL_PRED_OR, 0, 2, first_or_second};
	WlPredicate or_price = {WL_PRED_OR, 0, 2, first_or_price};
	WlPredicate *negated_args[1] = {&leaves[1]};
	WlPredicate not = {WL_PRED_NOT, 0, 1, negated_args};
	WlRecordFilter filter = {&and, tests, 3};
	int			slots[3] = {0, 0, 1};

	wl_slot_string("t1", &a[0]);
	wl_slot_string("t2", &a[1]);
	wl_slot_string("t3", &b[0]);
	CHECK(wl_record_filter_values(&filter, slots, 0, found, 8) == 2 &&
		  found[0].hash == a[0].hash && found[1].hash == a[1].hash,
		  "an IN ANDed with another test requires its values");
	CHECK(wl_record_filter_values(&filter, slots, 0, found, 1) == -1,
		  "more values than asked for require none");
	CHECK(wl_record_filter_values(&filter, slots, 1, found, 8) == -1,
		  "a range requires no values");
	filter.predicate = &or;
	CHECK(wl_record_filter_values(&filter, slots, 0, found, 8) == 3 &&
		  found[2].hash == b[0].hash, "an OR requires the values of every side");
	filter.predicate = &or_price;
	CHECK(wl_record_filter_values(&filter, slots, 0, found, 8) == -1,
		  "an OR with a side of another attribute requires none");
	filter.predicate = &not;
	CHECK(wl_record_filter_values(&filter, slots, 0, found, 8) == -1, "nor does a NOT");
	filter.predicate = &leaves[1];
	tests[1].negate = true;
	CHECK(wl_record_filter_values(&filter, slots, 0, found, 8) == -1, "nor does a <>");
}

int
main(void)
{
	const char *names[] = {"a"};
	struct json_object *item;
	unsigned char slots[WL_SLOT_BYTES];
	WlSlotValue read;
	WlSlotValue slot;
	WlSlotTest test = {"a", WL_SLOT_EQ, false, true, 1, &slot};
	WlPredicate leaf = {WL_PRED_TEST, 0, 0, NULL};
	WlRecordFilter filter = {&leaf, &test, 1};
	int			slot_of[1];
	int			sound = 1;
	int			decided = 0;
	int			compared = 0;
	int			i;

	/* a time is an instant, whatever its offset */
	wl_slot_string("2026-01-01T10:00:00+02:00", &read);
	wl_slot_string("2026-01-01T08:00:00", &slot);
	CHECK(read.kind == WL_SLOT_TIME && slot.kind == WL_SLOT_TIME && read.number == slot.number &&
		  read.exact, "ISO 8601 times with and without an offset are the same instant");
	wl_slot_string("2026-01-01", &read);
	CHECK(read.kind == WL_SLOT_TIME && read.number == 1767225600.0, "a date is its midnight UTC");
	wl_slot_string("2026-13-01", &read);
	CHECK(read.kind == WL_SLOT_STRING, "text that is not a time is a string");
	CHECK(wl_slot_number("42", &read) && read.exact && wl_slot_number("4.20", &slot) &&
		  !slot.exact && !wl_slot_number("NaN", &slot),
		  "integers are exact, decimals not, and NaN no number");
	CHECK(wl_slot_number("12.00", &read) && read.exact && wl_slot_number("1.2E1", &slot) &&
		  slot.exact && read.number == slot.number && wl_slot_number("-0", &read) &&
		  read.exact && !signbit(read.number) && wl_slot_number("1234567890123456", &slot) &&
		  !slot.exact && wl_slot_number("0.0012e4", &slot) && slot.exact && slot.number == 12,
		  "exactness follows the value, not its spelling (DynamoDB returns its own)");
	wl_slot_string("2026-01-01T00:00:00.1234567", &read);
	CHECK(read.kind == WL_SLOT_STRING, "a time of more than six fraction digits is no time");

	/* a slot reads back as written, and DynamoDB's NULL says nothing */
	item = json_object_new_object();
	json_object_object_add(item, "a", wl_av_number_text("-17"));
	wl_record_attrs_encode(names, 1, item, slots);
	wl_slot_read(slots, 0, &read);
	CHECK(read.kind == WL_SLOT_NUMBER && read.number == -17 && read.exact,
		  "a number's slot reads back");
	json_object_object_add(item, "a", wl_av_null());
	wl_record_attrs_encode(names, 1, item, slots);
	wl_slot_read(slots, 0, &read);
	CHECK(read.kind == WL_SLOT_UNREAD, "a NULL attribute's slot says nothing");
	slots[0] = 0x7f;
	wl_slot_read(slots, 0, &read);
	CHECK(read.kind == WL_SLOT_UNREAD, "a kind this version does not know says nothing");
	wl_record_attrs_encode(names, 1, NULL, slots);
	slot_of[0] = 0;
	test.op = WL_SLOT_EXISTS;
	CHECK(wl_record_filter_eval(&filter, slot_of, slots) == WL_UNKNOWN,
		  "a record written without its item answers nothing, not even EXISTS");

	/* random values and tests: SQL's answer or UNKNOWN, never the other */
	srand(7);
	for (i = 0; i < 20000; i++)
	{
		Value		record;
		Value		operand;
		int			want;
		int			got;

		random_value(&record);
		do
			random_value(&operand);
		while (operand.kind == 0);
		json_object_object_del(item, "a");
		if (record.kind != 0)
			json_object_object_add(item, "a", value_av(&record));
		wl_record_attrs_encode(names, 1, item, slots);
		test_slot(&operand, &slot);
		test.op = (WlSlotOp) (rand() % 7);
		test.negate = rand() % 2;
		test.instants = operand.kind == 4;
		want = sql_answer(&record, test.op, &operand);
		if (want < 0)
			continue;
		if (test.negate && want != WL_UNKNOWN)
			want = want == WL_TRUE ? WL_FALSE : WL_TRUE;
		got = wl_record_filter_eval(&filter, slot_of, slots);
		if (got != WL_UNKNOWN && got != want)
		{
			printf("# record %s (kind %d), op %d%s, test %s: got %d, SQL says %d\n",
				   record.text, record.kind, test.op, test.negate ? " negated" : "",
				   operand.text, got, want);
			sound = 0;
		}
		/* where SQL's answer is NULL, UNKNOWN is the answer */
		decided += got != WL_UNKNOWN && want != WL_UNKNOWN;
		compared += want != WL_UNKNOWN;
	}
	CHECK(sound, "a record's answer is SQL's or UNKNOWN, for 20,000 random tests");
	printf("# %d of the %d answers that are not NULL decided on the record\n", decided, compared);
	CHECK(decided > compared * 3 / 4, "most answers are decided on the record");
	json_object_put(item);
	test_filter_values();
	return unit_done();
}

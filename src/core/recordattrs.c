/*
 * recordattrs.c - the slots of filterable attributes in a packed index's
 * records, and filters tested on them (see recordattrs.h).
 */
#include "recordattrs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ddbjson.h"

const char *(*wl_slot_text_to_utf8) (const char *text) = NULL;

/* The 64-bit FNV-1a hash of a string's bytes (recordattrs.h). */
uint64_t
wl_text_hash(const char *text)
{
	uint64_t	hash = UINT64_C(14695981039346656037);

	for (; *text; text++)
	{
		hash ^= (unsigned char) *text;
		hash *= UINT64_C(1099511628211);
	}
	return hash;
}

/* Reads n decimal digits at *p into *out; false when they are not there. */
static bool
wl_iso_digits(const char **p, int n, int *out)
{
	int			value = 0;

	for (; n > 0; n--, (*p)++)
	{
		if (**p < '0' || **p > '9')
			return false;
		value = value * 10 + (**p - '0');
	}
	*out = value;
	return true;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar. */
static int64_t
wl_days_from_civil(int year, int month, int day)
{
	int64_t		y = year - (month <= 2);
	int64_t		era = (y >= 0 ? y : y - 399) / 400;
	int64_t		yoe = y - era * 400;
	int64_t		doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/*
 * Seconds since 1970 UTC of ISO 8601 text as PostgreSQL's to_json writes
 * dates and timestamps: "YYYY-MM-DD", then optionally "THH:MM:SS" with a
 * fraction of at most six digits (as PostgreSQL writes them), then
 * optionally "Z" or an offset "+HH", "+HH:MM" or "+HHMM"; *form says which
 * parts it had.  A time without an offset is read as UTC: tests compare
 * it only with times of the same form (WlSlotTest's instants).  False when
 * the text is not of that form.
 */
static bool
wl_iso_seconds(const char *text, double *seconds, bool *exact, int *form)
{
	const char *p = text;
	int			year,
				month,
				day,
				hour = 0,
				minute = 0,
				second = 0;
	double		fraction = 0;
	int			digits = 0;

	if (!wl_iso_digits(&p, 4, &year) || *p++ != '-' || !wl_iso_digits(&p, 2, &month) ||
		*p++ != '-' || !wl_iso_digits(&p, 2, &day) || month < 1 || month > 12 ||
		day < 1 || day > 31)
		return false;
	*form = 0;
	if (*p == 'T')
	{
		*form |= WL_SLOT_CLOCK;
		p++;
		if (!wl_iso_digits(&p, 2, &hour) || *p++ != ':' || !wl_iso_digits(&p, 2, &minute) ||
			*p++ != ':' || !wl_iso_digits(&p, 2, &second) || hour > 24 || minute > 59 ||
			second > 60)
			return false;
		if (*p == '.')
		{
			double		scale = 0.1;

			for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10, digits++)
				fraction += (*p - '0') * scale;
			/* PostgreSQL rounds more digits than its own six differently */
			if (digits > 6)
				return false;
		}
		fraction = rint(fraction * 1e6) / 1e6;	/* the six digits, exactly */
		if (*p == 'Z')
		{
			*form |= WL_SLOT_OFFSET;
			p++;
		}
		else if (*p == '+' || *p == '-')
		{
			int			sign = *p++ == '-' ? -1 : 1;
			int			oh,
						om = 0;

			*form |= WL_SLOT_OFFSET;
			if (!wl_iso_digits(&p, 2, &oh))
				return false;
			if (*p == ':')
				p++;
			if (*p != '\0' && !wl_iso_digits(&p, 2, &om))
				return false;
			hour -= sign * oh;
			minute -= sign * om;
		}
	}
	if (*p != '\0')
		return false;
	*seconds = (double) wl_days_from_civil(year, month, day) * 86400.0 +
		hour * 3600.0 + minute * 60.0 + second + fraction;
	/* within 2^33 s, distinct microseconds are distinct doubles */
	*exact = fabs(*seconds) < 8589934592.0;
	return true;
}

/*
 * Is decimal text an integer of at most 15 digits, whatever its spelling
 * ("12", "12.00", "1.2E1": DynamoDB returns numbers in a form of its own)?
 * Such a number is a double exactly.
 */
static bool
wl_decimal_is_small_integer(const char *text)
{
	int			significant = 0;	/* digits from the first nonzero one */
	int			trailing = 0;	/* zeros at the end of those */
	int			fraction = 0;	/* digits after the point */
	bool		point = false;
	long		exponent = 0;
	const char *p = text[0] == '-' || text[0] == '+' ? text + 1 : text;

	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++)
	{
		if (*p == '.')
		{
			point = true;
			continue;
		}
		fraction += point;
		if (*p != '0' || significant > 0)
		{
			significant++;
			trailing = *p == '0' ? trailing + 1 : 0;
		}
	}
	if (*p == 'e' || *p == 'E')
		exponent = strtol(p + 1, NULL, 10);
	if (significant == 0)
		return true;			/* zero */
	/* the value is (significant digits without trailing zeros) x 10^scale */
	exponent += trailing - fraction;
	return exponent >= 0 && exponent < 16 && significant - trailing + exponent <= 15;
}

/* A number from its decimal text; see recordattrs.h. */
bool
wl_slot_number(const char *text, WlSlotValue *value)
{
	char	   *end;

	memset(value, 0, sizeof(*value));
	value->number = strtod(text, &end);
	if (end == text || *end != '\0' || !isfinite(value->number))
		return false;
	if (value->number == 0)
		value->number = 0;		/* -0 is 0, as DynamoDB returns it */
	value->kind = WL_SLOT_NUMBER;
	value->exact = wl_decimal_is_small_integer(text);
	return true;
}

/*
 * A UUID in a spelling PostgreSQL's uuid type reads (any case, hyphens
 * between groups of four digits, braces) as its 32 lower-case digits, so
 * that its spellings hash alike; false for other text.
 */
static bool
wl_uuid_digits(const char *text, char *digits)
{
	size_t		len = strlen(text);
	int			n = 0;
	size_t		i;

	if (len >= 2 && text[0] == '{' && text[len - 1] == '}')
	{
		text++;
		len -= 2;
	}
	for (i = 0; i < len; i++)
	{
		char		c = text[i];

		if (c == '-' && n > 0 && n % 4 == 0 && i + 1 < len && text[i + 1] != '-')
			continue;
		if (n == 32 || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
						 (c >= 'A' && c <= 'F')))
			return false;
		digits[n++] = c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c;
	}
	digits[n] = '\0';
	return n == 32;
}

/* A string: a time when it reads as ISO 8601, else its hash. */
void
wl_slot_string(const char *text, WlSlotValue *value)
{
	char		digits[33];

	memset(value, 0, sizeof(*value));
	if (wl_iso_seconds(text, &value->number, &value->exact, &value->form))
		value->kind = WL_SLOT_TIME;
	else
	{
		value->kind = WL_SLOT_STRING;
		value->hash = wl_text_hash(wl_uuid_digits(text, digits) ? digits :
								   wl_slot_text_to_utf8 != NULL ? wl_slot_text_to_utf8(text) :
								   text);
	}
}

/* A boolean. */
void
wl_slot_bool(bool boolean, WlSlotValue *value)
{
	memset(value, 0, sizeof(*value));
	value->kind = WL_SLOT_BOOL;
	value->boolean = boolean;
}

/* The summary of a DynamoDB value, by its type; NULL is absent. */
void
wl_slot_of_av(struct json_object *av, WlSlotValue *value)
{
	bool		boolean;

	memset(value, 0, sizeof(*value));
	value->kind = WL_SLOT_ABSENT;
	if (av == NULL)
		return;
	switch (wl_av_type(av))
	{
		case WL_AV_N:
			if (!wl_slot_number(wl_av_get_string(av), value))
				value->kind = WL_SLOT_OTHER;
			break;
		case WL_AV_S:
			wl_slot_string(wl_av_get_string(av), value);
			break;
		case WL_AV_BOOL:
			if (wl_av_get_bool(av, &boolean) == 0)
				wl_slot_bool(boolean, value);
			else
				value->kind = WL_SLOT_OTHER;
			break;
		case WL_AV_NULL:
			/* NULL to a filter's $exists, not to WHERE's IS NULL: say nothing */
			value->kind = WL_SLOT_UNREAD;
			break;
		default:
			value->kind = WL_SLOT_OTHER;
			break;
	}
}

/* Writes a value's slot, bytes 1-8 little-endian. */
void
wl_slot_write(const WlSlotValue *value, unsigned char *out)
{
	uint64_t	bits = 0;
	int			i;

	if (value->kind == WL_SLOT_NUMBER || value->kind == WL_SLOT_TIME)
		memcpy(&bits, &value->number, sizeof(bits));
	else if (value->kind == WL_SLOT_STRING)
		bits = value->hash;
	else if (value->kind == WL_SLOT_BOOL)
		bits = value->boolean ? 1 : 0;
	out[0] = (unsigned char) value->kind;
	if ((value->kind == WL_SLOT_NUMBER || value->kind == WL_SLOT_TIME) && value->exact)
		out[0] |= WL_SLOT_EXACT;
	if (value->kind == WL_SLOT_TIME)
		out[0] |= value->form;
	for (i = 0; i < 8; i++)
		out[1 + i] = (unsigned char) (bits >> (8 * i));
}

/* The slots of an item's attributes, in the order of names. */
void
wl_record_attrs_encode(const char *const *names, int n, struct json_object *item,
					   unsigned char *out)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		WlSlotValue value;

		wl_slot_of_av(item != NULL ? wl_item_get(item, names[i]) : NULL, &value);
		if (item == NULL)
			value.kind = WL_SLOT_UNREAD;
		wl_slot_write(&value, out + (size_t) i * WL_SLOT_BYTES);
	}
}

/* Reads a slot back; a kind this version does not know is unread. */
void
wl_slot_read(const unsigned char *slots, int slot, WlSlotValue *value)
{
	const unsigned char *in = slots + (size_t) slot * WL_SLOT_BYTES;
	uint64_t	bits = 0;
	int			i;

	memset(value, 0, sizeof(*value));
	for (i = 7; i >= 0; i--)
		bits = (bits << 8) | in[1 + i];
	value->kind = (in[0] & WL_SLOT_KIND_MASK) <= WL_SLOT_OTHER ?
		(WlSlotKind) (in[0] & WL_SLOT_KIND_MASK) : WL_SLOT_UNREAD;
	value->exact = (in[0] & WL_SLOT_EXACT) != 0;
	value->form = in[0] & (WL_SLOT_OFFSET | WL_SLOT_CLOCK);
	if (value->kind == WL_SLOT_NUMBER || value->kind == WL_SLOT_TIME)
	{
		memcpy(&value->number, &bits, sizeof(bits));
		if (!isfinite(value->number))
			value->kind = WL_SLOT_UNREAD;
	}
	else if (value->kind == WL_SLOT_STRING)
		value->hash = bits;
	else if (value->kind == WL_SLOT_BOOL)
		value->boolean = bits != 0;
}

/*
 * Compares a record's value with a test's, when the summaries can: -1, 0
 * or 1 for less, equal, greater (numbers and times), or 0 / 1 for equal or
 * not (the others); 2 when they cannot be compared.  `exact` says an equal
 * answer is certain: booleans, numbers whose doubles are both exact, and
 * such times compared as instants (others may stand for two decimals, two
 * spellings of a time, or two strings of one hash).
 */
static int
wl_slot_compare(const WlSlotValue *record, const WlSlotValue *test, bool ordered,
				bool instants, bool *exact)
{
	*exact = false;
	if (record->kind != test->kind)
		return 2;
	/* a time of another form, or one no ISO 8601 reads, is no instant */
	if (instants && (record->kind != WL_SLOT_TIME || record->form != test->form))
		return 2;
	switch (record->kind)
	{
		case WL_SLOT_NUMBER:
		case WL_SLOT_TIME:
			/* two spellings of one instant are equal times, not equal text */
			*exact = record->exact && test->exact &&
				(record->kind == WL_SLOT_NUMBER || instants);
			return record->number < test->number ? -1 : record->number > test->number ? 1 : 0;
		case WL_SLOT_STRING:
			return ordered ? 2 : record->hash != test->hash;
		case WL_SLOT_BOOL:
			*exact = true;
			return ordered ? 2 : record->boolean != test->boolean;
		default:
			return 2;
	}
}

/*
 * A test's truth on a record's value.  A value that rounds to a double
 * keeps its order (rounding is monotone), so distinct doubles order their
 * decimals and only equal ones leave a range test UNKNOWN.
 */
static WlTruth
wl_slot_test(const WlSlotTest *test, const WlSlotValue *value)
{
	bool		ordered = test->op != WL_SLOT_EQ;
	bool		exact;
	WlTruth		result = WL_FALSE;
	int			cmp;
	int			i;

	if (value->kind == WL_SLOT_UNREAD)
		return WL_UNKNOWN;
	if (test->op == WL_SLOT_EXISTS || test->op == WL_SLOT_MISSING)
		return (value->kind != WL_SLOT_ABSENT) == (test->op == WL_SLOT_EXISTS) ?
			WL_TRUE : WL_FALSE;
	if (value->kind == WL_SLOT_ABSENT)
		return WL_UNKNOWN;
	if (test->op == WL_SLOT_EQ)
	{
		for (i = 0; i < test->nvalues; i++)
		{
			cmp = wl_slot_compare(value, &test->values[i], false, test->instants, &exact);
			if (cmp == 0 && exact)
				return WL_TRUE;
			if (cmp != 1 && cmp != -1)
				result = WL_UNKNOWN;
		}
		return result;
	}
	if (test->nvalues != 1)
		return WL_UNKNOWN;
	cmp = wl_slot_compare(value, &test->values[0], ordered, test->instants, &exact);
	if (cmp == 0 && exact)
		return test->op == WL_SLOT_LE || test->op == WL_SLOT_GE ? WL_TRUE : WL_FALSE;
	if (cmp == 2 || cmp == 0)
		return WL_UNKNOWN;
	switch (test->op)
	{
		case WL_SLOT_LT:
		case WL_SLOT_LE:
			return cmp < 0 ? WL_TRUE : WL_FALSE;
		case WL_SLOT_GT:
		case WL_SLOT_GE:
			return cmp > 0 ? WL_TRUE : WL_FALSE;
		default:
			return WL_UNKNOWN;
	}
}

/* Finds each test's attribute among a generation's. */
int
wl_record_filter_resolve(const WlRecordFilter *filter, const char *const *names, int n,
						 int *slots)
{
	int			resolved = 0;
	int			i;
	int			j;

	for (i = 0; i < filter->ntests; i++)
	{
		slots[i] = -1;
		for (j = 0; filter->tests[i].attribute != NULL && j < n; j++)
			if (strcmp(filter->tests[i].attribute, names[j]) == 0)
			{
				slots[i] = j;
				resolved++;
				break;
			}
	}
	return resolved;
}

/* What evaluating a filter on one record needs. */
typedef struct WlRecordEval
{
	const WlRecordFilter *filter;
	const int  *slots;
	const unsigned char *record_slots;
} WlRecordEval;

/* The truth of a filter's test on one slot, negated when it asks. */
WlTruth
wl_record_test_eval(const WlRecordFilter *filter, int test, const unsigned char *slot)
{
	const WlSlotTest *slot_test = &filter->tests[test];
	WlSlotValue value;
	WlTruth		truth;

	wl_slot_read(slot, 0, &value);
	truth = wl_slot_test(slot_test, &value);
	if (slot_test->negate && truth != WL_UNKNOWN)
		truth = truth == WL_TRUE ? WL_FALSE : WL_TRUE;
	return truth;
}

/* Answers test number `test` from the record's slot. */
static WlTruth
wl_record_eval_test(int test, void *arg)
{
	WlRecordEval *eval = arg;

	if (eval->slots[test] < 0)
		return WL_UNKNOWN;
	return wl_record_test_eval(eval->filter, test,
							   eval->record_slots + (size_t) eval->slots[test] * WL_SLOT_BYTES);
}

/* The filter's truth on one record, in three-valued logic. */
WlTruth
wl_record_filter_eval(const WlRecordFilter *filter, const int *slots,
					  const unsigned char *record_slots)
{
	WlRecordEval eval = {filter, slots, record_slots};

	return wl_predicate_eval(filter->predicate, wl_record_eval_test, &eval);
}

/*
 * The values a predicate's node requires of the attribute in slot `slot`
 * (wl_record_filter_values), into values from index `used`.
 */
static int
wl_predicate_values(const WlRecordFilter *filter, const WlPredicate *node, const int *slots,
					int slot, WlSlotValue *values, int used, int most)
{
	const WlSlotTest *test;
	int			found = 0;
	int			i;

	switch (node->kind)
	{
		case WL_PRED_TEST:
			test = &filter->tests[node->test];
			if (slots[node->test] != slot || test->op != WL_SLOT_EQ || test->negate ||
				test->instants || used + test->nvalues > most)
				return -1;
			memcpy(values + used, test->values, sizeof(WlSlotValue) * test->nvalues);
			return test->nvalues;
		case WL_PRED_AND:
			/* what any of its arguments requires, the first that says */
			for (i = 0; i < node->nargs; i++)
			{
				found = wl_predicate_values(filter, node->args[i], slots, slot, values, used,
											most);
				if (found >= 0)
					return found;
			}
			return -1;
		case WL_PRED_OR:
			/* what every argument requires, together */
			for (i = 0; i < node->nargs; i++)
			{
				int			more = wl_predicate_values(filter, node->args[i], slots, slot,
													   values, used + found, most);

				if (more < 0)
					return -1;
				found += more;
			}
			return node->nargs > 0 ? found : -1;
		case WL_PRED_NOT:
			break;
	}
	return -1;
}

/* The values a filter requires of the attribute in slot `slot` (recordattrs.h). */
int
wl_record_filter_values(const WlRecordFilter *filter, const int *slots, int slot,
						WlSlotValue *values, int most)
{
	if (filter == NULL || filter->predicate == NULL)
		return -1;
	return wl_predicate_values(filter, filter->predicate, slots, slot, values, 0, most);
}

/*
 * recordattrs.h - filterable attributes carried in a packed index's records
 * (Postgres-free).
 *
 * An index generation may name attributes that every record of it carries
 * after the vector's code: one slot of WL_SLOT_BYTES a named attribute, in
 * the order the generation names them.  A slot holds a summary of the
 * value, enough to drop a record that a filter cannot keep before its
 * vector is fetched:
 *
 *   byte 0    the kind (WlSlotKind, 0: unread), plus WL_SLOT_EXACT when
 *             the double is the value itself (an integer of at most 15
 *             digits, a time to the microsecond within 2^33 seconds of
 *             1970), and for a time its form: WL_SLOT_OFFSET when it gave
 *             an offset or "Z", WL_SLOT_CLOCK when a time of day
 *   bytes 1-8 little-endian: a number's or a time's IEEE double (a time is
 *             seconds since 1970 UTC, read from ISO 8601 text), a string's
 *             64-bit FNV-1a hash, a boolean's 0 or 1
 *
 * A test of a slot answers as SQL would on the value itself, or UNKNOWN
 * where the summary cannot tell (equal hashes, equal doubles that are not
 * exact, a kind the test cannot compare); where SQL's answer is NULL it may
 * also answer TRUE or FALSE.  Kleene's logic is monotone, so a filter
 * evaluated on a record is FALSE only where SQL's is not TRUE on the
 * vector's item, which is still tested after the fetch.
 */
#ifndef WL_RECORDATTRS_H
#define WL_RECORDATTRS_H

#include <stdbool.h>
#include <stdint.h>

#include "predicate.h"

struct json_object;

/* The most attributes an index generation carries, and a slot's bytes. */
#define WL_RECORD_ATTRS_MAX 8
#define WL_SLOT_BYTES 9

/* The flags of a slot's kind byte: its double is exact; a time's form. */
#define WL_SLOT_EXACT 0x80
#define WL_SLOT_OFFSET 0x40
#define WL_SLOT_CLOCK 0x20
#define WL_SLOT_KIND_MASK 0x1f

/* The longest name of an attribute records carry. */
#define WL_RECORD_ATTR_NAME_MAX 255

typedef enum WlSlotKind
{
	WL_SLOT_UNREAD = 0,			/* not known when written: tests say UNKNOWN */
	WL_SLOT_ABSENT = 1,			/* no such attribute: SQL's NULL */
	WL_SLOT_NUMBER = 2,
	WL_SLOT_STRING = 3,			/* not ISO 8601; a UUID in any spelling
								 * PostgreSQL reads hashes as one */
	WL_SLOT_BOOL = 4,
	WL_SLOT_TIME = 5,			/* a string in ISO 8601 */
	WL_SLOT_OTHER = 6			/* a list, map, set, binary or JSON null */
} WlSlotKind;

/* A slot's value, read or to be compared with. */
typedef struct WlSlotValue
{
	WlSlotKind	kind;
	double		number;			/* NUMBER, TIME */
	bool		exact;			/* NUMBER, TIME: number is the value itself */
	int			form;			/* TIME: WL_SLOT_OFFSET, WL_SLOT_CLOCK */
	uint64_t	hash;			/* STRING */
	bool		boolean;		/* BOOL */
} WlSlotValue;

/* What a test asks of its slot's value. */
typedef enum WlSlotOp
{
	WL_SLOT_EQ,					/* equal to the value (IN: to any of them) */
	WL_SLOT_LT,
	WL_SLOT_LE,
	WL_SLOT_GT,
	WL_SLOT_GE,
	WL_SLOT_EXISTS,				/* the attribute is there (IS NOT NULL) */
	WL_SLOT_MISSING				/* it is not (IS NULL) */
} WlSlotOp;

/*
 * One test of a record filter: on attribute `attribute`, whose slot a
 * generation resolves; a test no slot can answer (attribute NULL, or not
 * one the generation carries) is UNKNOWN.  negate turns it into its NOT
 * (!= from =, NOT IN from IN).
 */
typedef struct WlSlotTest
{
	const char *attribute;
	WlSlotOp	op;
	bool		negate;
	bool		instants;		/* compares times as instants (a date or
								 * timestamp column), not their text: only
								 * those of its values' form (PostgreSQL
								 * reads another form of a column's type
								 * otherwise) */
	int			nvalues;		/* EQ: any of them; the others: one */
	WlSlotValue *values;
} WlSlotTest;

/* A filter as records can answer it: a predicate over slot tests. */
typedef struct WlRecordFilter
{
	WlPredicate *predicate;
	WlSlotTest *tests;
	int			ntests;
} WlRecordFilter;

/*
 * The summary of a number's decimal text, a string (ISO 8601 or not) or a
 * boolean; false when the text is not a finite number.
 */
extern bool wl_slot_number(const char *text, WlSlotValue *value);
extern void wl_slot_string(const char *text, WlSlotValue *value);
extern void wl_slot_bool(bool boolean, WlSlotValue *value);

/*
 * The 64-bit FNV-1a hash of a string's bytes: a string slot's, and the
 * order in which reindex.c samples ids, which no server chooses.
 */
extern uint64_t wl_text_hash(const char *text);

/*
 * Converts a string to UTF-8 before it is hashed, where the caller's
 * strings are in another encoding (the glue's, in a database that is not
 * UTF-8), so that a record's hash does not depend on the encoding of the
 * database that wrote it.  Returns the text itself or a converted copy
 * that the caller's memory owns; NULL: strings are UTF-8 already.
 */
extern const char *(*wl_slot_text_to_utf8) (const char *text);

/* The summary of a DynamoDB attribute value (NULL: absent). */
extern void wl_slot_of_av(struct json_object *av, WlSlotValue *value);

/*
 * The slots of an item's attributes `names` (n of them), into out
 * (n * WL_SLOT_BYTES bytes); all UNREAD when item is NULL.
 */
extern void wl_record_attrs_encode(const char *const *names, int n,
								   struct json_object *item, unsigned char *out);

/* Reads slot number `slot` of a record's slots. */
extern void wl_slot_read(const unsigned char *slots, int slot, WlSlotValue *value);

/*
 * The filter's slot of each test among a generation's attributes `names`
 * (n of them), into slots (filter->ntests); -1 where none.  Returns how
 * many tests have one.
 */
extern int	wl_record_filter_resolve(const WlRecordFilter *filter, const char *const *names,
									 int n, int *slots);

/* Writes a value's slot, WL_SLOT_BYTES bytes, as a record carries it. */
extern void wl_slot_write(const WlSlotValue *value, unsigned char *out);

/*
 * The values a filter requires of the attribute in slot `slot`, its tests'
 * slots resolved: every vector it keeps holds one of them, by an equality
 * or IN on the attribute ANDed with anything, or an OR of such.  Into
 * values (at most `most`); returns how many, or -1 where it requires none
 * or more than most.
 */
extern int	wl_record_filter_values(const WlRecordFilter *filter, const int *slots, int slot,
									WlSlotValue *values, int most);

/* The truth of test number `test` of a filter on one slot's bytes. */
extern WlTruth wl_record_test_eval(const WlRecordFilter *filter, int test,
								   const unsigned char *slot);

/* The filter's truth on a record's slots, with the tests' resolved slots. */
extern WlTruth wl_record_filter_eval(const WlRecordFilter *filter, const int *slots,
									 const unsigned char *record_slots);

#endif							/* WL_RECORDATTRS_H */

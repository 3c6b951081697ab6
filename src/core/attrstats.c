/*
 * attrstats.c - statistics of the attributes an index generation's records
 * carry: gathered while its records are written, stored with its model,
 * and read to price and to settle filters (see attrstats.h).
 */
#include "attrstats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WL_STATS_MAGIC "WLS1"
#define WL_STATS_LOOKUP (2 * WL_STATS_VALUES)

/*
 * The truths SQL may give a test or a filter on an item, as bits: a test
 * of an absent attribute is NULL, and a record's UNKNOWN otherwise may
 * stand for any of the three.
 */
#define WL_CAN_TRUE 1
#define WL_CAN_FALSE 2
#define WL_CAN_NULL 4
#define WL_CAN_ANY (WL_CAN_TRUE | WL_CAN_FALSE | WL_CAN_NULL)

/* A slot's hash, to find it among an attribute's listed values. */
static unsigned int
wl_slot_hash(const unsigned char *slot)
{
	uint64_t	hash = UINT64_C(14695981039346656037);
	int			i;

	for (i = 0; i < WL_SLOT_BYTES; i++)
	{
		hash ^= slot[i];
		hash *= UINT64_C(1099511628211);
	}
	return (unsigned int) (hash ^ (hash >> 32));
}

/* Where a slot is listed in an attribute's lookup, or its free place. */
static int
wl_stats_find(const WlAttrStat *attr, const unsigned char *slot)
{
	unsigned int at = wl_slot_hash(slot) % WL_STATS_LOOKUP;

	while (attr->lookup[at] != 0 &&
		   memcmp(attr->values[attr->lookup[at] - 1].slot, slot, WL_SLOT_BYTES) != 0)
		at = (at + 1) % WL_STATS_LOOKUP;
	return (int) at;
}

/* Lists a value with its count; false when the list is full. */
static bool
wl_stats_list(WlAttrStat *attr, const unsigned char *slot, int64_t count)
{
	int			at = wl_stats_find(attr, slot);

	if (attr->lookup[at] != 0)
	{
		attr->values[attr->lookup[at] - 1].count += count;
		return true;
	}
	if (attr->nvalues == WL_STATS_VALUES)
		return false;
	memcpy(attr->values[attr->nvalues].slot, slot, WL_SLOT_BYTES);
	attr->values[attr->nvalues].count = count;
	attr->lookup[at] = (int16_t) ++attr->nvalues;
	return true;
}

/* Starts gathering statistics (attrstats.h). */
WlAttrStats *
wl_stats_begin(const char *const *names, int n)
{
	WlAttrStats *stats = calloc(1, sizeof(WlAttrStats));
	int			i;

	if (stats == NULL)
		return NULL;
	stats->nattrs = n;
	for (i = 0; i < n; i++)
	{
		WlAttrStat *attr = &stats->attrs[i];

		strncpy(attr->name, names[i], WL_RECORD_ATTR_NAME_MAX);
		attr->complete = true;
	}
	return stats;
}

/* Samples a record's slot of an attribute, by its vector's id hash. */
static void
wl_stats_sample(WlAttrStat *attr, const unsigned char *slot, uint64_t id_hash)
{
	int			at = attr->nsample;
	int			i;

	if (attr->nsample == WL_STATS_SAMPLE)
	{
		if (id_hash >= attr->sample_hash[attr->sample_max])
			return;
		at = attr->sample_max;
	}
	else
		attr->nsample++;
	memcpy(attr->sample[at].slot, slot, WL_SLOT_BYTES);
	attr->sample[at].count = 1;
	attr->sample_hash[at] = id_hash;
	attr->sample_max = 0;
	for (i = 1; i < attr->nsample; i++)
		if (attr->sample_hash[i] > attr->sample_hash[attr->sample_max])
			attr->sample_max = i;
}

/* Counts one record's slots: listed while they fit, and sampled. */
void
wl_stats_add(WlAttrStats *stats, const unsigned char *slots, uint64_t id_hash)
{
	int			i;

	for (i = 0; i < stats->nattrs; i++)
	{
		WlAttrStat *attr = &stats->attrs[i];
		const unsigned char *slot = slots + (size_t) i * WL_SLOT_BYTES;

		attr->records++;
		wl_stats_sample(attr, slot, id_hash);
		if (attr->complete && !wl_stats_list(attr, slot, 1))
			attr->complete = false;
	}
}

/* Lists an attribute's sample in place of its values. */
static void
wl_stats_list_sample(WlAttrStat *attr)
{
	int			i;

	attr->nvalues = 0;
	memset(attr->lookup, 0, sizeof(attr->lookup));
	for (i = 0; i < attr->nsample; i++)
		wl_stats_list(attr, attr->sample[i].slot, 1);
}

/* The attribute of the statistics with this name, or NULL. */
static const WlAttrStat *
wl_stats_attr(const WlAttrStats *stats, const char *name)
{
	int			i;

	for (i = 0; stats != NULL && i < stats->nattrs; i++)
		if (strcmp(stats->attrs[i].name, name) == 0)
			return &stats->attrs[i];
	return NULL;
}

/* Ends gathering (attrstats.h). */
void
wl_stats_end(WlAttrStats *stats, const WlAttrStats *earlier)
{
	int			i;
	int			v;

	for (i = 0; i < stats->nattrs; i++)
	{
		WlAttrStat *attr = &stats->attrs[i];
		const WlAttrStat *was = wl_stats_attr(earlier, attr->name);

		for (v = 0; was != NULL && attr->complete && v < was->nvalues; v++)
			if (!wl_stats_list(attr, was->values[v].slot, 0))
				attr->complete = false;
		if (!attr->complete)
			wl_stats_list_sample(attr);
	}
}

/* Frees statistics. */
void
wl_stats_free(WlAttrStats *stats)
{
	free(stats);
}

/* Appends n bytes of a little-endian integer. */
static unsigned char *
wl_put_le(unsigned char *out, uint64_t value, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		*out++ = (unsigned char) (value >> (8 * i));
	return out;
}

/* The statistics as bytes (attrstats.h). */
unsigned char *
wl_stats_encode(const WlAttrStats *stats, size_t *len)
{
	size_t		size = 5;
	unsigned char *bytes;
	unsigned char *out;
	int			i;
	int			v;

	for (i = 0; i < stats->nattrs; i++)
		size += 2 + strlen(stats->attrs[i].name) + 1 + 8 + 2 +
			(size_t) stats->attrs[i].nvalues * (WL_SLOT_BYTES + 8);
	bytes = malloc(size);
	if (bytes == NULL)
		return NULL;
	memcpy(bytes, WL_STATS_MAGIC, 4);
	out = bytes + 4;
	*out++ = (unsigned char) stats->nattrs;
	for (i = 0; i < stats->nattrs; i++)
	{
		const WlAttrStat *attr = &stats->attrs[i];
		size_t		name_len = strlen(attr->name);

		out = wl_put_le(out, name_len, 2);
		memcpy(out, attr->name, name_len);
		out += name_len;
		*out++ = attr->complete ? 1 : 0;
		out = wl_put_le(out, (uint64_t) attr->records, 8);
		out = wl_put_le(out, (uint64_t) attr->nvalues, 2);
		for (v = 0; v < attr->nvalues; v++)
		{
			memcpy(out, attr->values[v].slot, WL_SLOT_BYTES);
			out = wl_put_le(out + WL_SLOT_BYTES, (uint64_t) attr->values[v].count, 8);
		}
	}
	*len = size;
	return bytes;
}

/* Reads n bytes of a little-endian integer; false past the end. */
static bool
wl_get_le(const unsigned char **in, const unsigned char *end, int n, uint64_t *value)
{
	int			i;

	if (end - *in < n)
		return false;
	*value = 0;
	for (i = n - 1; i >= 0; i--)
		*value = (*value << 8) | (*in)[i];
	*in += n;
	return true;
}

/* Reads one attribute's statistics; false when they are malformed. */
static bool
wl_stats_decode_attr(const unsigned char **in, const unsigned char *end, const char *name,
					 WlAttrStat *attr)
{
	uint64_t	name_len;
	uint64_t	complete;
	uint64_t	records;
	uint64_t	nvalues;
	uint64_t	count;
	uint64_t	total = 0;
	int			at;
	int			v;

	if (!wl_get_le(in, end, 2, &name_len) || name_len != strlen(name) ||
		(size_t) (end - *in) < name_len || memcmp(*in, name, name_len) != 0)
		return false;
	*in += name_len;
	strcpy(attr->name, name);
	if (!wl_get_le(in, end, 1, &complete) || complete > 1 ||
		!wl_get_le(in, end, 8, &records) || records > INT64_MAX ||
		!wl_get_le(in, end, 2, &nvalues) || nvalues > WL_STATS_VALUES)
		return false;
	attr->complete = complete == 1;
	attr->records = (int64_t) records;
	attr->nvalues = (int) nvalues;
	for (v = 0; v < attr->nvalues; v++)
	{
		if (end - *in < WL_SLOT_BYTES)
			return false;
		memcpy(attr->values[v].slot, *in, WL_SLOT_BYTES);
		*in += WL_SLOT_BYTES;
		if (!wl_get_le(in, end, 8, &count) || count > records - total)
			return false;
		attr->values[v].count = (int64_t) count;
		total += count;
		/* listed once each, so that a value is found by its slot */
		at = wl_stats_find(attr, attr->values[v].slot);
		if (attr->lookup[at] != 0)
			return false;
		attr->lookup[at] = (int16_t) (v + 1);
	}
	/* a complete list counts every record (an earlier one's values, none) */
	return !attr->complete || total == records;
}

/* Reads statistics from bytes (attrstats.h). */
WlAttrStats *
wl_stats_decode(const unsigned char *bytes, size_t len, const char *const *names, int n,
				char *errbuf, size_t errlen)
{
	const unsigned char *in;
	const unsigned char *end = bytes + len;
	WlAttrStats *stats;
	int			i;

	if (len < 5 || memcmp(bytes, WL_STATS_MAGIC, 4) != 0 || bytes[4] != n)
	{
		snprintf(errbuf, errlen, "they are not statistics of %d attributes", n);
		return NULL;
	}
	in = bytes + 5;
	stats = calloc(1, sizeof(WlAttrStats));
	if (stats == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	stats->nattrs = n;
	for (i = 0; i < n; i++)
		if (!wl_stats_decode_attr(&in, end, names[i], &stats->attrs[i]))
		{
			snprintf(errbuf, errlen, "those of attribute \"%s\" are malformed", names[i]);
			free(stats);
			return NULL;
		}
	if (in != end)
	{
		snprintf(errbuf, errlen, "they end in %zu bytes too many", (size_t) (end - in));
		free(stats);
		return NULL;
	}
	return stats;
}

/* Whether the statistics list a slot of an attribute (attrstats.h). */
WlStatsListing
wl_stats_listing(const WlAttrStats *stats, const char *name, const unsigned char *slot)
{
	const WlAttrStat *attr = wl_stats_attr(stats, name);

	if (attr == NULL || !attr->complete)
		return WL_STATS_UNKNOWN;
	return attr->lookup[wl_stats_find(attr, slot)] != 0 ? WL_STATS_LISTED : WL_STATS_UNLISTED;
}

/* Lists a value written since, with no records (attrstats.h). */
void
wl_stats_note(WlAttrStats *stats, uint64_t attr_hash, const unsigned char *slot)
{
	int			i;

	for (i = 0; i < stats->nattrs; i++)
	{
		WlAttrStat *attr = &stats->attrs[i];

		if (wl_text_hash(attr->name) == attr_hash && attr->complete &&
			!wl_stats_list(attr, slot, 0))
			attr->complete = false;
	}
}

/* What a filter's test or node finds on the records, estimated. */
typedef struct WlStatsTruth
{
	double		share[3];		/* of records: TRUE, FALSE, UNKNOWN */
	int			can;			/* WL_CAN_ bits that SQL may give some item */
} WlStatsTruth;

/* The one slot the tests under a node read; -1: none resolved, or several. */
static int
wl_stats_node_slot(const WlRecordFilter *filter, const int *slots, const WlPredicate *node)
{
	int			slot;
	int			i;

	if (node->kind == WL_PRED_TEST)
		return slots[node->test];
	if (node->nargs == 0)
		return -1;
	slot = wl_stats_node_slot(filter, slots, node->args[0]);
	for (i = 1; i < node->nargs && slot >= 0; i++)
		if (wl_stats_node_slot(filter, slots, node->args[i]) != slot)
			slot = -1;
	return slot;
}

/* A node evaluated on one listed value of its slot. */
typedef struct WlStatsEval
{
	const WlRecordFilter *filter;
	const unsigned char *slot;
} WlStatsEval;

/* Answers test number `test` from the value being evaluated. */
static WlTruth
wl_stats_eval_test(int test, void *arg)
{
	WlStatsEval *eval = arg;

	return wl_record_test_eval(eval->filter, test, eval->slot);
}

/*
 * The truths that nodes whose tests all read one slot take, combined by
 * AND (or OR), on that attribute's listed values: exact for its values,
 * so that a range's two ends, or an IN and a <>, are taken together.
 */
static WlStatsTruth
wl_stats_joint(const WlAttrStats *stats, const WlRecordFilter *filter,
			   const WlPredicate *const *nodes, int n, bool and, int slot)
{
	const WlAttrStat *attr = &stats->attrs[slot];
	WlStatsTruth truth = {{0, 0, 0}, attr->complete ? 0 : WL_CAN_ANY};
	double		total = 0;
	int			v;
	int			k;

	for (v = 0; v < attr->nvalues; v++)
	{
		WlStatsEval eval = {filter, attr->values[v].slot};
		bool		absent = (eval.slot[0] & WL_SLOT_KIND_MASK) == WL_SLOT_ABSENT;
		WlTruth		found = and ? WL_TRUE : WL_FALSE;

		/* Kleene's AND (OR): FALSE (TRUE) decides, else UNKNOWN taints */
		for (k = 0; k < n && found != (and ? WL_FALSE : WL_TRUE); k++)
		{
			WlTruth		one = wl_predicate_eval(nodes[k], wl_stats_eval_test, &eval);

			if (one != (and ? WL_TRUE : WL_FALSE))
				found = one;
		}
		truth.share[found] += attr->values[v].count;
		total += attr->values[v].count;
		/* with every test on one attribute, an absent one's UNKNOWN is NULL */
		truth.can |= found == WL_TRUE ? WL_CAN_TRUE : found == WL_FALSE ? WL_CAN_FALSE :
			absent ? WL_CAN_NULL : WL_CAN_ANY;
	}
	for (v = 0; v < 3; v++)
		truth.share[v] = total > 0 ? truth.share[v] / total : v == WL_FALSE;
	return truth;
}

/* The truths Kleene's AND (or OR) takes of two that a and b take. */
static int
wl_stats_combine_can(int a, int b, bool and)
{
	int			dominant = and ? WL_CAN_FALSE : WL_CAN_TRUE;
	int			neutral = and ? WL_CAN_TRUE : WL_CAN_FALSE;
	int			can = 0;

	if (a == 0 || b == 0)
		return 0;
	if ((a | b) & dominant)
		can |= dominant;
	if ((a & neutral) && (b & neutral))
		can |= neutral;
	if (((a & WL_CAN_NULL) && (b & (WL_CAN_NULL | neutral))) ||
		((b & WL_CAN_NULL) && (a & neutral)))
		can |= WL_CAN_NULL;
	return can;
}

/*
 * A node's truths over the records: its arguments that read one attribute
 * taken together on its values (wl_stats_joint), those of different ones
 * as independent for the shares.  The truths SQL may give an item are
 * exact for nodes of one attribute listed complete, a superset above.
 */
static WlStatsTruth
wl_stats_node(const WlAttrStats *stats, const WlRecordFilter *filter, const int *slots,
			  const WlPredicate *node)
{
	bool		and = node->kind == WL_PRED_AND;
	WlTruth		dominant = and ? WL_FALSE : WL_TRUE;
	WlTruth		neutral = and ? WL_TRUE : WL_FALSE;
	const WlPredicate **group;
	bool	   *taken;
	WlStatsTruth truth = {{0, 0, 0}, 0};
	WlStatsTruth arg;
	int			slot = wl_stats_node_slot(filter, slots, node);
	int			i;

	if (slot >= 0 && slot < stats->nattrs)
		return wl_stats_joint(stats, filter, &node, 1, true, slot);
	if (node->kind == WL_PRED_TEST)
	{
		/* a test no slot answers may be anything */
		truth.share[WL_UNKNOWN] = 1;
		truth.can = WL_CAN_ANY;
		return truth;
	}
	if (node->kind == WL_PRED_NOT)
	{
		arg = wl_stats_node(stats, filter, slots, node->args[0]);
		truth = arg;
		truth.share[WL_TRUE] = arg.share[WL_FALSE];
		truth.share[WL_FALSE] = arg.share[WL_TRUE];
		truth.can = (arg.can & WL_CAN_NULL) | ((arg.can & WL_CAN_TRUE) ? WL_CAN_FALSE : 0) |
			((arg.can & WL_CAN_FALSE) ? WL_CAN_TRUE : 0);
		return truth;
	}
	/* an empty AND is TRUE, an empty OR FALSE */
	truth.share[neutral] = 1;
	truth.can = and ? WL_CAN_TRUE : WL_CAN_FALSE;
	group = calloc(node->nargs + 1, sizeof(WlPredicate *));
	taken = calloc(node->nargs + 1, sizeof(bool));
	for (i = 0; group != NULL && taken != NULL && i < node->nargs; i++)
	{
		int			own = wl_stats_node_slot(filter, slots, node->args[i]);
		int			n = 0;
		int			j;

		if (taken[i])
			continue;
		for (j = i; own >= 0 && own < stats->nattrs && j < node->nargs; j++)
			if (!taken[j] && wl_stats_node_slot(filter, slots, node->args[j]) == own)
			{
				taken[j] = true;
				group[n++] = node->args[j];
			}
		arg = n > 0 ? wl_stats_joint(stats, filter, group, n, and, own) :
			wl_stats_node(stats, filter, slots, node->args[i]);
		truth.share[dominant] = 1 - (1 - truth.share[dominant]) * (1 - arg.share[dominant]);
		truth.share[neutral] *= arg.share[neutral];
		truth.share[WL_UNKNOWN] = 1 - truth.share[dominant] - truth.share[neutral];
		truth.can = wl_stats_combine_can(truth.can, arg.can, and);
	}
	if (group == NULL || taken == NULL)
	{
		/* out of memory: nothing known */
		memset(&truth, 0, sizeof(truth));
		truth.share[WL_UNKNOWN] = 1;
		truth.can = WL_CAN_ANY;
	}
	free(group);
	free(taken);
	return truth;
}

/* The share of records a filter keeps, estimated (attrstats.h). */
double
wl_stats_kept(const WlAttrStats *stats, const WlRecordFilter *filter, const int *slots)
{
	WlStatsTruth truth = wl_stats_node(stats, filter, slots, filter->predicate);
	double		kept = 1 - truth.share[WL_FALSE];

	return kept < 0 ? 0 : kept > 1 ? 1 : kept;
}

/* A value's share of records where the sample misses it (attrstats.h). */
double
wl_stats_rare_share(const WlAttrStats *stats, int slot, double *sampled)
{
	const WlAttrStat *attr;
	double		once = 0;
	double		distinct;
	double		records;
	int			v;

	*sampled = 0;
	if (stats == NULL || slot < 0 || slot >= stats->nattrs)
		return 0;
	attr = &stats->attrs[slot];
	if (attr->complete || attr->nvalues == 0 || attr->records <= 0)
		return 0;
	for (v = 0; v < attr->nvalues; v++)
	{
		*sampled += (double) attr->values[v].count;
		once += attr->values[v].count == 1;
	}
	records = fmax((double) attr->records, *sampled);
	/* n d / (n - f1 + f1 n / N), between the values seen and the records */
	distinct = *sampled * attr->nvalues /
		(*sampled - once + once * *sampled / records);
	distinct = fmin(fmax(distinct, (double) attr->nvalues), records);
	return 1.0 / distinct;
}

/* Do the statistics prove that the filter keeps no record? */
bool
wl_stats_none_kept(const WlAttrStats *stats, const WlRecordFilter *filter, const int *slots)
{
	WlStatsTruth truth = wl_stats_node(stats, filter, slots, filter->predicate);

	return (truth.can & WL_CAN_TRUE) == 0;
}

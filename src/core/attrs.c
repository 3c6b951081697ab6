/*
 * attrs.c - a vector's attributes as DynamoDB values and as JSON text.
 *
 * Reading turns DynamoDB's typed values into plain JSON by hand rather than
 * through json-c's number objects, so that an N value such as
 * 12345678901234567890.5 comes out exactly as stored.
 */
#include "attrs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ddbjson.h"
#include "store.h"

/* JSON levels parsed when checking a row's attributes: far past DynamoDB's. */
#define WL_ATTRS_CHECK_DEPTH 4096

/* A growing text buffer; text is NULL once an allocation failed. */
typedef struct WlText
{
	char	   *text;
	size_t		len;
	size_t		cap;
} WlText;

/* Appends len bytes of s. */
static void
wl_text_add(WlText *out, const char *s, size_t len)
{
	if (out->text == NULL)
		return;
	if (out->len + len + 1 > out->cap)
	{
		size_t		cap = (out->len + len + 1) * 2;
		char	   *grown = realloc(out->text, cap);

		if (grown == NULL)
		{
			free(out->text);
			out->text = NULL;
			return;
		}
		out->text = grown;
		out->cap = cap;
	}
	memcpy(out->text + out->len, s, len);
	out->len += len;
	out->text[out->len] = '\0';
}

/* Appends a C string. */
static void
wl_text_str(WlText *out, const char *s)
{
	wl_text_add(out, s, strlen(s));
}

/* Appends s as a quoted, escaped JSON string. */
static void
wl_text_quoted(WlText *out, const char *s)
{
	struct json_object *string = json_object_new_string(s);

	if (string == NULL)
	{
		free(out->text);
		out->text = NULL;
		return;
	}
	wl_text_str(out, json_object_to_json_string_ext(string, JSON_C_TO_STRING_PLAIN |
													JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(string);
}

/*
 * Is s a JSON number literal: -?digits(.digits)?([eE][+-]?digits)?, with no
 * leading zero before another digit (JSON, and so jsonb, refuses "007")?
 */
static bool
wl_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.')
	{
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

/* Appends a number: as is when JSON takes it, else as a string. */
static void
wl_text_number(WlText *out, const char *s)
{
	if (wl_json_number(s))
		wl_text_str(out, s);
	else
		wl_text_quoted(out, s);
}

static bool wl_text_value(WlText *out, struct json_object *av);

/*
 * Appends the members of an item (is_item: leaving out reserved names and
 * skip) or of an M payload as a JSON object.
 */
static bool
wl_text_object(WlText *out, struct json_object *object, bool is_item,
			   const char *const *skip, int nskip)
{
	struct json_object_iterator it = json_object_iter_begin(object);
	struct json_object_iterator end = json_object_iter_end(object);
	bool		first = true;

	wl_text_str(out, "{");
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
	{
		const char *name = json_object_iter_peek_name(&it);
		int			i;

		if (is_item && wl_attrs_reserved(name))
			continue;
		for (i = 0; i < nskip; i++)
			if (strcmp(skip[i], name) == 0)
				break;
		if (i < nskip)
			continue;
		if (!first)
			wl_text_str(out, ", ");
		first = false;
		wl_text_quoted(out, name);
		wl_text_str(out, ": ");
		if (!wl_text_value(out, json_object_iter_peek_value(&it)))
			return false;
	}
	wl_text_str(out, "}");
	return true;
}

/* Appends one attribute value as plain JSON; false when malformed. */
static bool
wl_text_value(WlText *out, struct json_object *av)
{
	WlAvType	type = wl_av_type(av);
	int			n;
	int			i;
	bool		flag;

	switch (type)
	{
		case WL_AV_S:
		case WL_AV_B:
			wl_text_quoted(out, wl_av_get_string(av) ? wl_av_get_string(av) :
						   json_object_get_string(json_object_object_get(av, "B")));
			return true;
		case WL_AV_N:
			wl_text_number(out, wl_av_get_string(av));
			return true;
		case WL_AV_BOOL:
			wl_av_get_bool(av, &flag);
			wl_text_str(out, flag ? "true" : "false");
			return true;
		case WL_AV_NULL:
			wl_text_str(out, "null");
			return true;
		case WL_AV_M:
			return wl_text_object(out, wl_av_get_map(av), false, NULL, 0);
		case WL_AV_L:
			n = wl_av_list_count(av);
			wl_text_str(out, "[");
			for (i = 0; i < n; i++)
			{
				if (i > 0)
					wl_text_str(out, ", ");
				if (!wl_text_value(out, wl_av_list_item(av, i)))
					return false;
			}
			wl_text_str(out, "]");
			return true;
		case WL_AV_SS:
		case WL_AV_NS:
		case WL_AV_BS:
			n = wl_av_set_count(av);
			wl_text_str(out, "[");
			for (i = 0; i < n; i++)
			{
				if (i > 0)
					wl_text_str(out, ", ");
				if (type == WL_AV_NS)
					wl_text_number(out, wl_av_set_item(av, i));
				else
					wl_text_quoted(out, wl_av_set_item(av, i));
			}
			wl_text_str(out, "]");
			return true;
		case WL_AV_INVALID:
			break;
	}
	return false;
}

/* id, vector and keys belong to whiplash. */
bool
wl_attrs_reserved(const char *name)
{
	return strcmp(name, WL_ATTR_ID) == 0 || strcmp(name, WL_ATTR_VECTOR) == 0 ||
		strcmp(name, WL_ATTR_KEYS) == 0;
}

/* Parses attributes text into a JSON object, or NULL with the reason. */
static struct json_object *
wl_attrs_parse(const char *text, int depth, char *errbuf, size_t errlen)
{
	struct json_object *attrs = wl_json_parse(text, strlen(text), depth);

	if (attrs == NULL || !json_object_is_type(attrs, json_type_object))
	{
		snprintf(errbuf, errlen, "attributes are not a JSON object");
		json_object_put(attrs);
		return NULL;
	}
	return attrs;
}

/* One attribute's size as DynamoDB counts it, or -1 with why it cannot be stored. */
static long
wl_attr_size(const char *name, struct json_object *value, char *errbuf, size_t errlen)
{
	char		reason[128];
	long		size = wl_av_check(value, reason, sizeof(reason));

	if (size < 0)
	{
		snprintf(errbuf, errlen, "attribute \"%.100s\" cannot be stored: %s", name, reason);
		return -1;
	}
	return (long) strlen(name) + size;
}

/* Parses text and adds its members to item, checking each value. */
int
wl_attrs_add(struct json_object *item, const char *text, char *errbuf, size_t errlen)
{
	struct json_object *attrs = wl_attrs_parse(text, WL_DDB_JSON_DEPTH, errbuf, errlen);
	struct json_object_iterator it;
	struct json_object_iterator end;

	if (attrs == NULL)
		return -1;
	it = json_object_iter_begin(attrs);
	end = json_object_iter_end(attrs);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
	{
		const char *name = json_object_iter_peek_name(&it);
		struct json_object *value = json_object_iter_peek_value(&it);

		if (wl_attrs_reserved(name) || name[0] == '\0')
		{
			snprintf(errbuf, errlen, "attribute name \"%.100s\" is %s", name,
					 name[0] == '\0' ? "empty" : "reserved by whiplash");
			json_object_put(attrs);
			return -1;
		}
		if (wl_av_type(value) == WL_AV_INVALID)
		{
			snprintf(errbuf, errlen, "attribute \"%.100s\" is not a DynamoDB value", name);
			json_object_put(attrs);
			return -1;
		}
		if (wl_attr_size(name, value, errbuf, errlen) < 0)
		{
			json_object_put(attrs);
			return -1;
		}
		json_object_object_add(item, name, json_object_get(value));
	}
	json_object_put(attrs);
	return 0;
}

/* The size of the attributes in text, checked; see the header. */
long
wl_attrs_size(const char *text, char *errbuf, size_t errlen)
{
	/* room to find how deep: a value past DynamoDB's limit is refused below */
	struct json_object *attrs = wl_attrs_parse(text, WL_ATTRS_CHECK_DEPTH, errbuf, errlen);
	long		size = 0;

	if (attrs == NULL)
		return -1;
	{
		json_object_object_foreach(attrs, name, value)
		{
			long		one = wl_attr_size(name, value, errbuf, errlen);

			if (one < 0)
			{
				json_object_put(attrs);
				return -1;
			}
			size += one;
		}
	}
	json_object_put(attrs);
	return size;
}

/* Copies the old item's unmanaged attributes that item lacks. */
void
wl_attrs_carry_over(struct json_object *item, struct json_object *old_item,
					const char *const *keep_out, int nkeep)
{
	struct json_object_iterator it = json_object_iter_begin(old_item);
	struct json_object_iterator end = json_object_iter_end(old_item);

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
	{
		const char *name = json_object_iter_peek_name(&it);
		int			i;

		if (wl_attrs_reserved(name) || json_object_object_get_ex(item, name, NULL))
			continue;
		for (i = 0; i < nkeep; i++)
			if (strcmp(keep_out[i], name) == 0)
				break;
		if (i == nkeep)
			json_object_object_add(item, name,
								   json_object_get(json_object_iter_peek_value(&it)));
	}
}

/* Adds attributes and carries old ones over; frees item on failure. */
struct json_object *
wl_attrs_complete(struct json_object *item, const char *text, struct json_object *old_item,
				  const char *const *keep_out, int nkeep, char *errbuf, size_t errlen)
{
	if (item == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	if (text != NULL && wl_attrs_add(item, text, errbuf, errlen) != 0)
	{
		json_object_put(item);
		return NULL;
	}
	if (old_item != NULL)
		wl_attrs_carry_over(item, old_item, keep_out, nkeep);
	return item;
}

/* One value as plain JSON text. */
char *
wl_attrs_value_json(struct json_object *av)
{
	WlText		out = {malloc(64), 0, 64};

	if (out.text == NULL)
		return NULL;
	out.text[0] = '\0';
	if (!wl_text_value(&out, av))
	{
		free(out.text);
		return NULL;
	}
	return out.text;
}

/*
 * An item's attributes as a plain JSON object.  The item may be any element
 * of a response's Items, which need not even be an object.
 */
char *
wl_attrs_item_json(struct json_object *item, const char *const *skip, int nskip)
{
	WlText		out = {NULL, 0, 64};

	if (!json_object_is_type(item, json_type_object))
		return NULL;
	out.text = malloc(64);
	if (out.text == NULL)
		return NULL;
	out.text[0] = '\0';
	if (!wl_text_object(&out, item, true, skip, nskip))
	{
		free(out.text);
		return NULL;
	}
	return out.text;
}

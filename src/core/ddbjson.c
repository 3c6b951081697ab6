/*
 * ddbjson.c - DynamoDB's JSON attribute values on json-c.
 *
 * Every value is a one-key object naming its type; see ddbjson.h.  Readers
 * check the shape of what they are given, since it comes from the network,
 * and answer NULL / -1 rather than trusting it.
 */
#include "ddbjson.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static const char wl_base64_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 with padding, in a new string. */
char *
wl_base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char	   *out = malloc(4 * ((len + 2) / 3) + 1);
	size_t		i;
	size_t		o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < len; i += 3)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		out[o++] = wl_base64_alphabet[(v >> 18) & 63];
		out[o++] = wl_base64_alphabet[(v >> 12) & 63];
		out[o++] = wl_base64_alphabet[(v >> 6) & 63];
		out[o++] = wl_base64_alphabet[v & 63];
	}
	if (i < len)
	{
		uint32_t	v = (uint32_t) in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t) in[i + 1] << 8;
		out[o++] = wl_base64_alphabet[(v >> 18) & 63];
		out[o++] = wl_base64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? wl_base64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

/* The value of each byte as a base64 digit, or -1. */
static const signed char wl_base64_values[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/*
 * Decodes padded base64.  Padding may only end the text, at most two '='
 * characters, and the bits they stand for must be zero.
 */
int
wl_base64_decode(const char *text, size_t len, unsigned char **out, size_t *outlen)
{
	unsigned char *bytes;
	size_t		pad = 0;
	size_t		i;
	size_t		o = 0;

	*out = NULL;
	*outlen = 0;
	if (text == NULL || len % 4 != 0)
		return -1;
	if (len > 0 && text[len - 1] == '=')
		pad = (len > 1 && text[len - 2] == '=') ? 2 : 1;
	bytes = malloc(len / 4 * 3 + 1);
	if (bytes == NULL)
		return -1;
	/* Every group but the last has four digits and no padding. */
	for (i = 0; i + 4 < len; i += 4)
	{
		const unsigned char *group = (const unsigned char *) text + i;
		int			a = wl_base64_values[group[0]];
		int			b = wl_base64_values[group[1]];
		int			c = wl_base64_values[group[2]];
		int			d = wl_base64_values[group[3]];

		if ((a | b | c | d) < 0)
		{
			free(bytes);
			return -1;
		}
		bytes[o++] = (unsigned char) ((a << 2) | (b >> 4));
		bytes[o++] = (unsigned char) (((b & 15) << 4) | (c >> 2));
		bytes[o++] = (unsigned char) (((c & 3) << 6) | d);
	}
	for (; i < len; i += 4)
	{
		int			v[4];
		int			j;
		int			digits = (i + 4 == len) ? 4 - (int) pad : 4;

		for (j = 0; j < 4; j++)
		{
			v[j] = j < digits ? wl_base64_values[(unsigned char) text[i + j]] : 0;
			if (v[j] < 0 || (j >= digits && text[i + j] != '='))
			{
				free(bytes);
				return -1;
			}
		}
		if ((digits == 2 && (v[1] & 15) != 0) || (digits == 3 && (v[2] & 3) != 0))
		{
			free(bytes);
			return -1;
		}
		bytes[o++] = (unsigned char) ((v[0] << 2) | (v[1] >> 4));
		if (digits > 2)
			bytes[o++] = (unsigned char) (((v[1] & 15) << 4) | (v[2] >> 2));
		if (digits > 3)
			bytes[o++] = (unsigned char) (((v[2] & 3) << 6) | v[3]);
	}
	*out = bytes;
	*outlen = o;
	return 0;
}

/* {type: payload}; frees payload when the wrapper cannot be made. */
static struct json_object *
wl_av_wrap(const char *type, struct json_object *payload)
{
	struct json_object *av;

	if (payload == NULL)
		return NULL;
	av = json_object_new_object();
	if (av == NULL)
	{
		json_object_put(payload);
		return NULL;
	}
	json_object_object_add(av, type, payload);
	return av;
}

/* {"S": s} */
struct json_object *
wl_av_string(const char *s)
{
	return wl_av_wrap("S", json_object_new_string(s));
}

/* {"S": s} for a string of known length. */
struct json_object *
wl_av_string_len(const char *s, size_t len)
{
	return wl_av_wrap("S", json_object_new_string_len(s, (int) len));
}

/* {"N": text} */
struct json_object *
wl_av_number_text(const char *text)
{
	return wl_av_wrap("N", json_object_new_string(text));
}

/* {"N": "<v>"} */
struct json_object *
wl_av_number_int64(int64_t v)
{
	char		text[32];

	snprintf(text, sizeof(text), "%" PRId64, v);
	return wl_av_number_text(text);
}

/* {"N": "<v>"} with the shortest-safe 17 significant digits. */
struct json_object *
wl_av_number_double(double v)
{
	char		text[64];

	if (!isfinite(v))
		return NULL;
	snprintf(text, sizeof(text), "%.17g", v);
	return wl_av_number_text(text);
}

/* {"B": "<base64>"} */
struct json_object *
wl_av_binary(const void *data, size_t len)
{
	char	   *text = wl_base64_encode(data, len);
	struct json_object *av;

	if (text == NULL)
		return NULL;
	av = wl_av_wrap("B", json_object_new_string(text));
	free(text);
	return av;
}

/* {"SS": [items...]} */
struct json_object *
wl_av_string_set(const char *const *items, int n)
{
	struct json_object *array = json_object_new_array_ext(n > 0 ? n : 1);
	int			i;

	if (array == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		json_object_array_add(array, json_object_new_string(items[i]));
	return wl_av_wrap("SS", array);
}

/* {"BOOL": b} */
struct json_object *
wl_av_bool(bool b)
{
	return wl_av_wrap("BOOL", json_object_new_boolean(b));
}

/* {"NULL": true} */
struct json_object *
wl_av_null(void)
{
	return wl_av_wrap("NULL", json_object_new_boolean(1));
}

/* {"M": object} */
struct json_object *
wl_av_map(struct json_object *object)
{
	return wl_av_wrap("M", object);
}

/* {"L": array} */
struct json_object *
wl_av_list(struct json_object *array)
{
	return wl_av_wrap("L", array);
}

/* Type tags, indexed by WlAvType. */
static const char *const wl_av_names[] = {
	"?", "S", "N", "B", "SS", "NS", "BS", "M", "L", "BOOL", "NULL"
};

/* The tag of a type. */
const char *
wl_av_type_name(WlAvType type)
{
	if (type < WL_AV_S || type > WL_AV_NULL)
		return "?";
	return wl_av_names[type];
}

/* Are all elements of an array strings? */
static bool
wl_all_strings(struct json_object *array)
{
	size_t		n = json_object_array_length(array);
	size_t		i;

	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(array, i), json_type_string))
			return false;
	return true;
}

/*
 * The type of a well-formed attribute value: one key, a known tag, and a
 * payload of the json type that tag requires.
 */
WlAvType
wl_av_type(struct json_object *av)
{
	struct json_object_iterator it;
	const char *tag;
	struct json_object *payload;
	int			t;

	if (av == NULL || !json_object_is_type(av, json_type_object) ||
		json_object_object_length(av) != 1)
		return WL_AV_INVALID;
	it = json_object_iter_begin(av);
	tag = json_object_iter_peek_name(&it);
	payload = json_object_iter_peek_value(&it);
	for (t = WL_AV_S; t <= WL_AV_NULL; t++)
		if (strcmp(tag, wl_av_names[t]) == 0)
			break;
	switch (t)
	{
		case WL_AV_S:
		case WL_AV_N:
		case WL_AV_B:
			return json_object_is_type(payload, json_type_string) ? t : WL_AV_INVALID;
		case WL_AV_SS:
		case WL_AV_NS:
		case WL_AV_BS:
			return json_object_is_type(payload, json_type_array) &&
				wl_all_strings(payload) ? t : WL_AV_INVALID;
		case WL_AV_L:
			return json_object_is_type(payload, json_type_array) ? t : WL_AV_INVALID;
		case WL_AV_M:
			return json_object_is_type(payload, json_type_object) ? t : WL_AV_INVALID;
		case WL_AV_BOOL:
			return json_object_is_type(payload, json_type_boolean) ? t : WL_AV_INVALID;
		case WL_AV_NULL:
			return json_object_is_type(payload, json_type_boolean) &&
				json_object_get_boolean(payload) ? t : WL_AV_INVALID;
		default:
			return WL_AV_INVALID;
	}
}

/* The payload of av when it is of type `type`, else NULL. */
static struct json_object *
wl_av_payload(struct json_object *av, WlAvType type)
{
	struct json_object *payload;

	if (wl_av_type(av) != type ||
		!json_object_object_get_ex(av, wl_av_names[type], &payload))
		return NULL;
	return payload;
}

/* The text of an S or N value. */
const char *
wl_av_get_string(struct json_object *av)
{
	struct json_object *payload = wl_av_payload(av, WL_AV_S);

	if (payload == NULL)
		payload = wl_av_payload(av, WL_AV_N);
	return payload ? json_object_get_string(payload) : NULL;
}

/* An N value as a whole int64, rejecting junk and overflow. */
int
wl_av_get_int64(struct json_object *av, int64_t *out)
{
	struct json_object *payload = wl_av_payload(av, WL_AV_N);
	const char *text;
	char	   *end;
	long long	value;

	if (payload == NULL)
		return -1;
	text = json_object_get_string(payload);
	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0')
		return -1;
	*out = value;
	return 0;
}

/* An N value as a double, rejecting junk. */
int
wl_av_get_double(struct json_object *av, double *out)
{
	struct json_object *payload = wl_av_payload(av, WL_AV_N);
	const char *text;
	char	   *end;
	double		value;

	if (payload == NULL)
		return -1;
	text = json_object_get_string(payload);
	errno = 0;
	value = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !isfinite(value))
		return -1;
	*out = value;
	return 0;
}

/* A BOOL value. */
int
wl_av_get_bool(struct json_object *av, bool *out)
{
	struct json_object *payload = wl_av_payload(av, WL_AV_BOOL);

	if (payload == NULL)
		return -1;
	*out = json_object_get_boolean(payload);
	return 0;
}

/* A B value, decoded into a new buffer. */
int
wl_av_get_binary(struct json_object *av, unsigned char **out, size_t *outlen)
{
	struct json_object *payload = wl_av_payload(av, WL_AV_B);

	*out = NULL;
	*outlen = 0;
	if (payload == NULL)
		return -1;
	return wl_base64_decode(json_object_get_string(payload),
							(size_t) json_object_get_string_len(payload), out, outlen);
}

/* The array payload of an SS, NS or BS value, or NULL. */
static struct json_object *
wl_av_set_payload(struct json_object *av)
{
	struct json_object *payload = wl_av_payload(av, WL_AV_SS);

	if (payload == NULL)
		payload = wl_av_payload(av, WL_AV_NS);
	if (payload == NULL)
		payload = wl_av_payload(av, WL_AV_BS);
	return payload;
}

/* The element count of a set, or -1. */
int
wl_av_set_count(struct json_object *av)
{
	struct json_object *payload = wl_av_set_payload(av);

	return payload ? (int) json_object_array_length(payload) : -1;
}

/*
 * The i-th string of a set, or NULL.  Only that element is checked: going
 * through wl_av_type, which checks them all, would make reading a whole set
 * quadratic (a v1 bucket holds thousands of ids).
 */
const char *
wl_av_set_item(struct json_object *av, int i)
{
	struct json_object *payload;
	struct json_object *element;

	if (av == NULL || !json_object_is_type(av, json_type_object) ||
		json_object_object_length(av) != 1 ||
		!(json_object_object_get_ex(av, "SS", &payload) ||
		  json_object_object_get_ex(av, "NS", &payload) ||
		  json_object_object_get_ex(av, "BS", &payload)) ||
		!json_object_is_type(payload, json_type_array) ||
		i < 0 || (size_t) i >= json_object_array_length(payload))
		return NULL;
	element = json_object_array_get_idx(payload, i);
	return json_object_is_type(element, json_type_string) ?
		json_object_get_string(element) : NULL;
}

/* The element count of an L value, or -1. */
int
wl_av_list_count(struct json_object *av)
{
	struct json_object *payload = wl_av_payload(av, WL_AV_L);

	return payload ? (int) json_object_array_length(payload) : -1;
}

/* The i-th element of an L value, or NULL. */
struct json_object *
wl_av_list_item(struct json_object *av, int i)
{
	struct json_object *payload = wl_av_payload(av, WL_AV_L);

	if (payload == NULL || i < 0 || (size_t) i >= json_object_array_length(payload))
		return NULL;
	return json_object_array_get_idx(payload, i);
}

/* The inner object of an M value, or NULL. */
struct json_object *
wl_av_get_map(struct json_object *av)
{
	return wl_av_payload(av, WL_AV_M);
}

/* An item's attribute value by name, or NULL. */
struct json_object *
wl_item_get(struct json_object *item, const char *name)
{
	struct json_object *value;

	if (item == NULL || !json_object_is_type(item, json_type_object) ||
		!json_object_object_get_ex(item, name, &value))
		return NULL;
	return value;
}

/* Parses JSON text with room for depth levels; see the header. */
struct json_object *
wl_json_parse(const char *text, size_t len, int depth)
{
	struct json_tokener *tokener = json_tokener_new_ex(depth);
	struct json_object *parsed = NULL;

	if (tokener == NULL || text == NULL)
	{
		if (tokener != NULL)
			json_tokener_free(tokener);
		return NULL;
	}
	parsed = json_tokener_parse_ex(tokener, text, (int) len);
	if (parsed != NULL)
	{
		/* trailing blanks are fine; anything else is not one value */
		size_t		rest = json_tokener_get_parse_end(tokener);

		while (rest < len && (text[rest] == ' ' || text[rest] == '\n' ||
							  text[rest] == '\r' || text[rest] == '\t'))
			rest++;
		if (json_tokener_get_error(tokener) != json_tokener_success || rest < len)
		{
			json_object_put(parsed);
			parsed = NULL;
		}
	}
	json_tokener_free(tokener);
	return parsed;
}

/* The size of av at nesting level `level`, as wl_av_check counts it. */
static long
wl_av_check_level(struct json_object *av, int level, char *errbuf, size_t errlen)
{
	WlAvType	type = wl_av_type(av);
	struct json_object *payload = NULL;
	long		size = 0;
	int			i;

	if (type == WL_AV_INVALID)
	{
		snprintf(errbuf, errlen, "a value is not a DynamoDB attribute value");
		return -1;
	}
	json_object_object_get_ex(av, wl_av_names[type], &payload);
	switch (type)
	{
		case WL_AV_S:
		case WL_AV_B:
			return (long) json_object_get_string_len(payload);
		case WL_AV_N:
			return (long) (json_object_get_string_len(payload) + 1) / 2 + 1;
		case WL_AV_BOOL:
		case WL_AV_NULL:
			return 1;
		case WL_AV_SS:
		case WL_AV_NS:
		case WL_AV_BS:
			if (json_object_array_length(payload) == 0)
			{
				snprintf(errbuf, errlen, "a set is empty, which DynamoDB does not store");
				return -1;
			}
			for (i = 0; i < (int) json_object_array_length(payload); i++)
				size += (long) json_object_get_string_len(json_object_array_get_idx(payload, i));
			return size;
		case WL_AV_L:
		case WL_AV_M:
			if (level >= WL_DDB_MAX_NESTING)
			{
				snprintf(errbuf, errlen, "it is nested more than %d levels deep, DynamoDB's limit",
						 WL_DDB_MAX_NESTING);
				return -1;
			}
			size = 3;
			if (type == WL_AV_L)
				for (i = 0; i < (int) json_object_array_length(payload); i++)
				{
					long		one = wl_av_check_level(json_object_array_get_idx(payload, i),
														level + 1, errbuf, errlen);

					if (one < 0)
						return -1;
					size += one + 1;
				}
			else
			{
				json_object_object_foreach(payload, name, value)
				{
					long		one = wl_av_check_level(value, level + 1, errbuf, errlen);

					if (one < 0)
						return -1;
					size += (long) strlen(name) + one + 1;
				}
			}
			return size;
		case WL_AV_INVALID:
			break;
	}
	return -1;
}

/* Checks an attribute value as DynamoDB would take it; see the header. */
long
wl_av_check(struct json_object *av, char *errbuf, size_t errlen)
{
	return wl_av_check_level(av, 0, errbuf, errlen);
}

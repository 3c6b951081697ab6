/*
 * body.c - what a request carries: percent-encoded text, JSON bodies, and
 * vectors checked before PostgreSQL sees them.
 */
#include <ctype.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/*
 * Percent-decodes text (and '+' as a blank when plus_is_blank) into a new
 * string; NULL when an escape is malformed or decodes to NUL.
 */
char *
api_decode(const char *text, bool plus_is_blank)
{
	size_t		len = strlen(text);
	char	   *out = malloc(len + 1);
	size_t		n = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
	{
		unsigned int byte;

		if (text[i] == '%')
		{
			if (i + 2 >= len || !isxdigit((unsigned char) text[i + 1]) ||
				!isxdigit((unsigned char) text[i + 2]) ||
				sscanf(text + i + 1, "%2x", &byte) != 1 || byte == 0)
				goto bad;
			out[n++] = (char) byte;
			i += 2;
		}
		else if (text[i] == '+' && plus_is_blank)
			out[n++] = ' ';
		else
			out[n++] = text[i];
	}
	out[n] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/*
 * Whether text, outside its double-quoted strings, holds what json-c
 * accepts and JSON does not: single quotes and comments.
 */
static bool
api_json_has_extensions(const char *text, size_t len)
{
	bool		in_string = false;

	for (size_t i = 0; i < len; i++)
	{
		if (in_string && text[i] == '\\')
			i++;
		else if (text[i] == '"')
			in_string = !in_string;
		else if (!in_string && (text[i] == '\'' || text[i] == '/'))
			return true;
	}
	return false;
}

/*
 * text (len bytes, all of it) parsed as JSON, strictly: no single quotes,
 * comments or trailing bytes but blanks.  NULL, with *problem saying why,
 * when it is not JSON.
 */
json_object *
api_parse_json(const char *text, size_t len, const char **problem)
{
	json_tokener *tokener;
	json_object *value;
	enum json_tokener_error error;

	*problem = NULL;
	if (strlen(text) != len)
	{
		*problem = "it holds a NUL byte";
		return NULL;
	}
	if (len > INT_MAX || (tokener = json_tokener_new()) == NULL)
	{
		*problem = "it is too large";
		return NULL;
	}
	json_tokener_set_flags(tokener, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	value = json_tokener_parse_ex(tokener, text, (int) len);
	error = json_tokener_get_error(tokener);
	/* only blanks may follow the value */
	for (size_t i = json_tokener_get_parse_end(tokener);
		 error == json_tokener_success && i < len; i++)
		if (strchr(" \t\r\n", text[i]) == NULL)
			error = json_tokener_error_parse_unexpected;
	if (error == json_tokener_success && api_json_has_extensions(text, len))
		error = json_tokener_error_parse_unexpected;
	if (error != json_tokener_success)
	{
		*problem = error == json_tokener_continue ? "it ends too early" :
			json_tokener_error_desc(error);
		json_object_put(value);
		value = NULL;
	}
	json_tokener_free(tokener);
	return value;
}

/*
 * The request body as a JSON object; NULL after answering 400 when it is
 * empty, not JSON, not one object, or not UTF-8.
 */
json_object *
api_parse_body(ApiRequest *req, ApiResponse *res)
{
	json_object *body;
	const char *problem;

	if (req->body == NULL || req->body_len == 0)
	{
		api_reply_errorf(res, 400, "no data provided: the request needs a JSON body");
		return NULL;
	}
	if ((body = api_parse_json(req->body, req->body_len, &problem)) == NULL)
		api_reply_errorf(res, 400, "malformed JSON body: %s", problem);
	else if (!json_object_is_type(body, json_type_object))
	{
		api_reply_errorf(res, 400, "the JSON body must be an object");
		json_object_put(body);
		body = NULL;
	}
	return body;
}

/*
 * A vector's JSON array as a PostgreSQL real[] literal (a new string, as
 * a json string object to be freed with json_object_put), or NULL after
 * answering 400 when it is missing, empty or holds anything but finite
 * numbers in float4's range.  Each number keeps the 17 digits of its
 * double, so that PostgreSQL rounds the client's own number to real once,
 * as SQL given the same number does.
 */
json_object *
api_parse_vector(ApiResponse *res, json_object *value, const char *field)
{
	size_t		n;
	char	   *text;
	size_t		len = 1;
	json_object *literal;

	if (value == NULL || !json_object_is_type(value, json_type_array) ||
		(n = json_object_array_length(value)) == 0)
	{
		api_reply_errorf(res, 400, "'%s' is required and must be a non-empty array of numbers",
						 field);
		return NULL;
	}
	if ((text = malloc(n * 32 + 3)) == NULL)
	{
		api_reply_errorf(res, 500, "out of memory");
		return NULL;
	}
	text[0] = '{';
	for (size_t i = 0; i < n; i++)
	{
		json_object *element = json_object_array_get_idx(value, i);
		double		number;

		if (!json_object_is_type(element, json_type_double) &&
			!json_object_is_type(element, json_type_int))
		{
			api_reply_errorf(res, 400, "'%s' element %zu is not a number", field, i);
			free(text);
			return NULL;
		}
		number = json_object_get_double(element);
		/* json-c clamps integers past 64 bits to the limits */
		if (!isfinite(number) || fabs(number) > FLT_MAX ||
			(json_object_is_type(element, json_type_int) &&
			 (json_object_get_int64(element) == INT64_MAX ||
			  json_object_get_int64(element) == INT64_MIN)))
		{
			api_reply_errorf(res, 400, "'%s' element %zu is out of range for a real", field, i);
			free(text);
			return NULL;
		}
		len += snprintf(text + len, 32, "%s%.17g", i > 0 ? "," : "", number);
	}
	text[len++] = '}';
	text[len] = '\0';
	literal = json_object_new_string(text);
	free(text);
	return literal;
}

/*
 * fuzz.h - helpers shared by the libFuzzer targets of the Postgres-free core.
 *
 * Each target is one fuzz_<name>.c with its own LLVMFuzzerTestOneInput; this
 * header only holds what several of them need: a NUL-terminated copy of the
 * input, the response parse the client itself uses, a check that text is
 * valid JSON, and a way to stop on a broken invariant.  A failed check
 * aborts, which libFuzzer reports as a crash and saves the input.
 */
#ifndef WL_FUZZ_H
#define WL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dynamodb.h"

/* Stops with a message when an invariant does not hold. */
#define FUZZ_CHECK(cond, what) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz check failed at %s:%d: %s (%s)\n", \
					__FILE__, __LINE__, (what), #cond); \
			abort(); \
		} \
	} while (0)

/*
 * The input as a C string (malloc'd): text that reaches the core as a C
 * string (an option, a SQL text value) cannot hold a zero byte, so it ends
 * at the first one, as it would there.
 */
static inline char *
fuzz_cstring(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

/*
 * The input as a 200 response body, parsed exactly as wl_ddb_execute parses
 * one; NULL when DynamoDB's client would have refused it.
 */
static inline struct json_object *
fuzz_response(const uint8_t *data, size_t size)
{
	struct json_object *response = NULL;
	WlDdbError	error;

	if (wl_ddb_read_response(200, (const char *) data, size, &response, &error))
		FUZZ_CHECK(response == NULL, "a refused body leaves no response");
	return response;
}

/*
 * Is text one JSON value (RFC 8259, which is also what PostgreSQL's json
 * and jsonb accept)?  json-c's strict tokener checks the syntax (leading
 * zeros, trailing commas, ...), given the value inside [ ] so that a bare
 * number is complete; a raw control character, which json-c lets through
 * in strings, is refused here.
 */
static inline bool
fuzz_valid_json(const char *text)
{
	size_t		len = strlen(text);
	char	   *wrapped = malloc(len + 3);
	struct json_tokener *tokener = json_tokener_new_ex(256);
	struct json_object *parsed;
	bool		valid;
	size_t		i;

	if (wrapped == NULL || tokener == NULL)
		abort();
	for (i = 0; i < len; i++)
		if ((unsigned char) text[i] < 0x20)
			break;
	wrapped[0] = '[';
	memcpy(wrapped + 1, text, len);
	wrapped[len + 1] = ']';
	wrapped[len + 2] = '\0';
	json_tokener_set_flags(tokener, JSON_TOKENER_STRICT);
	parsed = json_tokener_parse_ex(tokener, wrapped, (int) (len + 2));
	valid = i == len && parsed != NULL &&
		json_tokener_get_error(tokener) == json_tokener_success &&
		json_tokener_get_parse_end(tokener) == len + 2 &&
		json_object_array_length(parsed) == 1;
	json_object_put(parsed);
	json_tokener_free(tokener);
	free(wrapped);
	return valid;
}

#endif							/* WL_FUZZ_H */

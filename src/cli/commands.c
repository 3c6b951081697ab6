/*
 * commands.c - the whiplash client's one-request commands: collections,
 * create, get, search and delete, and their human-readable output.
 *
 * Under --json each prints the server's body as it came; otherwise it
 * parses the body and prints a table, "key: value" lines or ranked
 * results.  Errors go to stderr (http.c); usage errors, and the reading of
 * options, counts and vectors, are args.c's.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * Sends one request and checks its answer: under --json prints it as it
 * is (leaving *parsed NULL), otherwise parses it as JSON of the given type
 * into *parsed, for the caller to print and put.  A NULL path is one whose
 * making ran out of memory, already reported.  Returns an exit code.
 */
static int
wl_call(const WlSettings *settings, const char *method, const char *path,
		const char *body, enum json_type type, struct json_object **parsed)
{
	WlClient	client;
	WlResponse	response = {0};
	int			code;

	*parsed = NULL;
	if (path == NULL)
		return WL_EXIT_ERROR;
	code = wl_client_open(&client, settings);
	if (code != WL_EXIT_OK)
		return code;
	code = wl_request(&client, method, path, body, &response);
	if (code != WL_EXIT_OK || response.status < 200 || response.status >= 300)
		code = wl_report_failure(&client, code, &response);
	else if (settings->json)
		wl_print_body(&response);
	else
		code = wl_parse_body(&response, type, parsed);
	wl_response_free(&response);
	wl_client_close(&client);
	return code;
}

/*
 * A JSON value as a person reads it: a string without quotes, null as "-",
 * anything else as compact JSON.  The text lives until the value is freed
 * or printed again.
 */
static const char *
wl_value_text(struct json_object *value)
{
	if (value == NULL)
		return "-";
	if (json_object_is_type(value, json_type_string))
		return json_object_get_string(value);
	return json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN |
										  JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* A member of an object as wl_value_text shows it; "-" when absent. */
static const char *
wl_member_text(struct json_object *object, const char *member)
{
	struct json_object *value = NULL;

	if (!json_object_object_get_ex(object, member, &value))
		return "-";
	return wl_value_text(value);
}

/* How many columns a UTF-8 text takes: its characters, not its bytes. */
static size_t
wl_text_width(const char *text)
{
	size_t		width = 0;

	for (; *text != '\0'; text++)
		if ((*text & 0xC0) != 0x80)
			width++;
	return width;
}

/* Prints text and the spaces that pad it to width, plus two between columns. */
static void
wl_print_cell(const char *text, size_t width)
{
	size_t		pad = width - wl_text_width(text) + 2;

	fputs(text, stdout);
	while (pad-- > 0)
		putchar(' ');
}

/*
 * Prints the collections of a list as an aligned table of name, dimensions,
 * metric, format and table.
 */
static void
wl_print_collections(const WlSettings *settings, struct json_object *list)
{
	static const char *const headings[] = {"name", "dimensions", "metric", "format", "table"};
	static const char *const members[] = {"name", "n_features", "metric", "format", "table"};
	size_t		widths[5];
	size_t		count = json_object_array_length(list);
	size_t		row;
	int			column;

	if (count == 0)
	{
		printf("no collections in project \"%s\"\n", settings->project);
		return;
	}
	for (column = 0; column < 5; column++)
	{
		widths[column] = strlen(headings[column]);
		for (row = 0; row < count; row++)
		{
			const char *text = wl_member_text(json_object_array_get_idx(list, row),
											  members[column]);

			if (wl_text_width(text) > widths[column])
				widths[column] = wl_text_width(text);
		}
	}
	for (row = 0; row <= count; row++)
	{
		for (column = 0; column < 5; column++)
		{
			const char *text = row == 0 ? headings[column] :
				wl_member_text(json_object_array_get_idx(list, row - 1), members[column]);

			if (column < 4)
				wl_print_cell(text, widths[column]);
			else
				puts(text);
		}
	}
}

/*
 * Prints an object's members as "key: value" lines, in the server's order;
 * an array's elements are separated by ", " (a vector reads better so).
 */
static void
wl_print_members(struct json_object *object)
{
	json_object_object_foreach(object, key, value)
	{
		if (json_object_is_type(value, json_type_array))
		{
			size_t		length = json_object_array_length(value);
			size_t		i;

			printf("%s: [", key);
			for (i = 0; i < length; i++)
				printf("%s%s", i > 0 ? ", " : "",
					   wl_value_text(json_object_array_get_idx(value, i)));
			printf("]\n");
		}
		else
			printf("%s: %s\n", key, wl_value_text(value));
	}
}

/* Lists the project's collections. */
int
wl_run_collections(const WlSettings *settings, const WlArgs *args)
{
	char	   *path = wl_collection_path(settings->project, NULL, NULL, NULL);
	struct json_object *list;
	int			code = wl_call(settings, "GET", path, NULL, json_type_array, &list);

	free(path);
	if (list != NULL)
	{
		wl_print_collections(settings, list);
		json_object_put(list);
	}
	return code;
}

/* Creates a collection and prints its settings. */
int
wl_run_create(const WlSettings *settings, const WlArgs *args)
{
	const char *dimensions = wl_option(args, "--dimensions");
	const char *metric = wl_option(args, "--metric");
	const char *format = wl_option(args, "--format");
	struct json_object *body;
	struct json_object *created;
	char	   *text = NULL;
	char	   *path;
	long		count;
	int			code;

	if (dimensions == NULL)
		return wl_usage_error(args->command, "missing --dimensions N");
	if (!wl_parse_count(dimensions, 1, INT_MAX, &count))
		return wl_usage_error(args->command, "--dimensions must be a positive whole number, not \"%s\"",
							  dimensions);
	body = json_object_new_object();
	if (body != NULL &&
		wl_json_add(body, "name", json_object_new_string(args->args[0])) &&
		wl_json_add(body, "n_features", json_object_new_int((int) count)) &&
		(metric == NULL || wl_json_add(body, "metric", json_object_new_string(metric))) &&
		(format == NULL || wl_json_add(body, "format", json_object_new_string(format))))
		text = wl_json_text(body);
	else
		wl_error("out of memory preparing the request");
	json_object_put(body);
	if (text == NULL)
		return WL_EXIT_ERROR;
	path = wl_collection_path(settings->project, NULL, NULL, NULL);
	code = wl_call(settings, "POST", path, text, json_type_object, &created);
	free(path);
	free(text);
	if (created != NULL)
	{
		wl_print_members(created);
		json_object_put(created);
	}
	return code;
}

/* Prints a collection's settings, or one of its items. */
int
wl_run_get(const WlSettings *settings, const WlArgs *args)
{
	const char *item = args->nargs > 1 ? args->args[1] : NULL;
	char	   *path = wl_collection_path(settings->project, args->args[0],
										  item ? "items" : NULL, item);
	struct json_object *found;
	int			code = wl_call(settings, "GET", path, NULL, json_type_object, &found);

	free(path);
	if (found != NULL)
	{
		wl_print_members(found);
		json_object_put(found);
	}
	return code;
}

/*
 * Reads a whole file ("-": standard input) into memory the caller frees;
 * NULL, reported, when it cannot.
 */
static char *
wl_read_file(const char *name)
{
	bool		from_stdin = strcmp(name, "-") == 0;
	FILE	   *file = from_stdin ? stdin : fopen(name, "r");
	char	   *text = NULL;
	size_t		length = 0;
	size_t		capacity = 0;
	bool		failed = file == NULL;

	while (!failed)
	{
		size_t		read;

		if (capacity - length < 4096)
		{
			char	   *grown = realloc(text, capacity * 2 + 4096);

			failed = grown == NULL;
			if (failed)
				break;
			text = grown;
			capacity = capacity * 2 + 4096;
		}
		read = fread(text + length, 1, capacity - length - 1, file);
		length += read;
		if (read == 0)
		{
			failed = ferror(file) != 0;
			text[length] = '\0';
			break;
		}
	}
	if (failed)
	{
		wl_error("cannot read %s: %s", name, strerror(errno));
		free(text);
		text = NULL;
	}
	if (file != NULL && !from_stdin)
		fclose(file);
	return text;
}

/*
 * Parses a whole text as one JSON value, strictly: NULL when it is not
 * JSON, or has more than white space after its value.
 */
static struct json_object *
wl_parse_json(const char *text)
{
	struct json_tokener *tokener = json_tokener_new();
	struct json_object *parsed = NULL;

	if (tokener == NULL)
		return NULL;
	json_tokener_set_flags(tokener, JSON_TOKENER_STRICT);
	parsed = json_tokener_parse_ex(tokener, text, (int) strlen(text));
	if (json_tokener_get_error(tokener) != json_tokener_success)
	{
		json_object_put(parsed);
		parsed = NULL;
	}
	json_tokener_free(tokener);
	return parsed;
}

/*
 * Parses a query vector: a JSON array, its numbers without the brackets,
 * or an object with a "vector" array (an item as `get --json` prints it).
 * Returns the array for the caller to put, or NULL.
 */
static struct json_object *
wl_parse_query(const char *text)
{
	const char *start = text + strspn(text, " \t\r\n");
	struct json_object *parsed;
	struct json_object *vector = NULL;

	if (*start == '[' || *start == '{')
		parsed = wl_parse_json(start);
	else
	{
		size_t		length = strlen(start) + 3;
		char	   *bracketed = malloc(length);

		if (bracketed == NULL)
			return NULL;
		snprintf(bracketed, length, "[%s]", start);
		parsed = wl_parse_json(bracketed);
		free(bracketed);
	}
	if (json_object_is_type(parsed, json_type_object) &&
		json_object_object_get_ex(parsed, "vector", &vector))
	{
		json_object_get(vector);
		json_object_put(parsed);
		parsed = vector;
	}
	if (!wl_number_array(parsed))
	{
		json_object_put(parsed);
		return NULL;
	}
	return parsed;
}

/* Prints search results as lines of rank, id and distance, aligned. */
static void
wl_print_results(struct json_object *results)
{
	size_t		count = json_object_array_length(results);
	size_t		id_width = 0;
	int			rank_width = snprintf(NULL, 0, "%zu", count);
	size_t		i;

	for (i = 0; i < count; i++)
	{
		size_t		width = wl_text_width(wl_member_text(json_object_array_get_idx(results, i), "id"));

		if (width > id_width)
			id_width = width;
	}
	for (i = 0; i < count; i++)
	{
		struct json_object *result = json_object_array_get_idx(results, i);

		printf("%*zu  ", rank_width, i + 1);
		wl_print_cell(wl_member_text(result, "id"), id_width);
		printf("%s\n", wl_member_text(result, "dist"));
	}
}

/* Searches a collection for the items closest to a vector. */
int
wl_run_search(const WlSettings *settings, const WlArgs *args)
{
	const char *query = wl_option(args, "--query");
	const char *query_file = wl_option(args, "--query-file");
	const char *limit = wl_option(args, "--limit");
	const char *filter = wl_option(args, "--filter");
	struct json_object *body = NULL;
	struct json_object *vector = NULL;
	struct json_object *conditions = NULL;
	struct json_object *results;
	char	   *read_text = NULL;
	char	   *text = NULL;
	char	   *path;
	long		count = 0;
	int			code;

	if ((query == NULL) == (query_file == NULL))
		return wl_usage_error(args->command, "give either --query or --query-file");
	if (limit != NULL && !wl_parse_count(limit, 1, INT_MAX, &count))
		return wl_usage_error(args->command, "--limit must be a positive whole number, not \"%s\"",
							  limit);
	if (filter != NULL)
	{
		conditions = wl_parse_json(filter);
		if (!json_object_is_type(conditions, json_type_object))
		{
			json_object_put(conditions);
			return wl_usage_error(args->command, "--filter must be a JSON object");
		}
	}
	if (query_file != NULL)
	{
		read_text = wl_read_file(query_file);
		if (read_text == NULL)
		{
			json_object_put(conditions);
			return WL_EXIT_ERROR;
		}
	}
	vector = wl_parse_query(query_file != NULL ? read_text : query);
	free(read_text);
	if (vector == NULL)
	{
		json_object_put(conditions);
		return wl_usage_error(args->command, "the query is not a vector: it needs one or more numbers, as [0.1, 0.2]");
	}

	body = json_object_new_object();
	if (body != NULL && wl_json_add(body, "query", json_object_get(vector)) &&
		(limit == NULL || wl_json_add(body, "limit", json_object_new_int((int) count))) &&
		(filter == NULL || wl_json_add(body, "filter", json_object_get(conditions))))
		text = wl_json_text(body);
	else
		wl_error("out of memory preparing the request");
	json_object_put(vector);
	json_object_put(conditions);
	json_object_put(body);
	if (text == NULL)
		return WL_EXIT_ERROR;

	path = wl_collection_path(settings->project, args->args[0], "search", NULL);
	code = wl_call(settings, "POST", path, text, json_type_array, &results);
	free(path);
	free(text);
	if (results != NULL)
	{
		wl_print_results(results);
		json_object_put(results);
	}
	return code;
}

/* Deletes an item, or with --yes a whole collection. */
int
wl_run_delete(const WlSettings *settings, const WlArgs *args)
{
	const char *name = args->args[0];
	const char *item = args->nargs > 1 ? args->args[1] : NULL;
	char	   *path;
	struct json_object *answer;
	int			code;

	if (item == NULL && wl_option(args, "--yes") == NULL)
		return wl_usage_error(args->command,
							  "deleting collection \"%s\" drops all its items and its foreign table; --yes confirms it",
							  name);
	path = wl_collection_path(settings->project, name, item ? "items" : NULL, item);
	code = wl_call(settings, "DELETE", path, NULL, json_type_object, &answer);
	free(path);
	if (answer != NULL)
	{
		if (item != NULL)
			printf("deleted item \"%s\" of collection \"%s\"\n", item, name);
		else
			printf("deleted collection \"%s\"\n", name);
		json_object_put(answer);
	}
	return code;
}

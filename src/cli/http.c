/*
 * http.c - the whiplash client's requests to whiplash-api through libcurl,
 * and what it prints of their answers.
 *
 * One libcurl handle serves all of a command's requests, so that an
 * import's batches reuse one connection.  The API key is only ever put in
 * the x-api-key header: no message prints it, and libcurl's own messages,
 * which name the host, never hold headers.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/* Prints "whiplash: KIND: " and the message on stderr. */
static void
wl_message(const char *kind, const char *format, va_list ap)
{
	fprintf(stderr, "whiplash: %s: ", kind);
	vfprintf(stderr, format, ap);
	fputc('\n', stderr);
}

/* Prints "whiplash: error: " and the message on stderr. */
void
wl_error(const char *format,...)
{
	va_list		ap;

	va_start(ap, format);
	wl_message("error", format, ap);
	va_end(ap);
}

/* Prints "whiplash: notice: " and the message on stderr. */
void
wl_notice(const char *format,...)
{
	va_list		ap;

	va_start(ap, format);
	wl_message("notice", format, ap);
	va_end(ap);
}

/* A copy of the first length bytes of text, or NULL when out of memory. */
static char *
wl_copy(const char *text, size_t length)
{
	char	   *copy = malloc(length + 1);

	if (copy != NULL)
	{
		memcpy(copy, text, length);
		copy[length] = '\0';
	}
	return copy;
}

/* Appends a body's chunk to the response; libcurl fails the request on 0. */
static size_t
wl_collect_body(char *data, size_t size, size_t count, void *userdata)
{
	WlResponse *response = userdata;
	size_t		length = size * count;

	if (response->length + length + 1 > response->capacity)
	{
		size_t		capacity = (response->length + length + 1) * 2;
		char	   *grown = realloc(response->body, capacity);

		if (grown == NULL)
			return 0;
		response->body = grown;
		response->capacity = capacity;
	}
	memcpy(response->body + response->length, data, length);
	response->length += length;
	response->body[response->length] = '\0';
	return length;
}

/*
 * Notes a Retry-After header given in seconds (its date form is left to
 * the caller's own backoff).  A status line starts a new response (after a
 * 100 Continue), whose headers replace the last one's.
 */
static size_t
wl_collect_header(char *data, size_t size, size_t count, void *userdata)
{
	WlResponse *response = userdata;
	size_t		length = size * count;
	static const char name[] = "Retry-After:";

	if (length >= 5 && strncmp(data, "HTTP/", 5) == 0)
		response->retry_after = -1;
	else if (length > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0)
	{
		size_t		i = sizeof(name) - 1;
		long		seconds = 0;

		while (i < length && (data[i] == ' ' || data[i] == '\t'))
			i++;
		if (i == length || !isdigit((unsigned char) data[i]))
			return length;
		for (; i < length && isdigit((unsigned char) data[i]) && seconds < 86400; i++)
			seconds = seconds * 10 + (data[i] - '0');
		response->retry_after = seconds;
	}
	return length;
}

/*
 * The URL as messages show it: without the user:password@ it may hold,
 * which is as secret as the key.
 */
static char *
wl_shown_url(const char *url)
{
	const char *scheme_end = strstr(url, "://");
	const char *host = scheme_end != NULL ? scheme_end + 3 : url;
	const char *at = memchr(host, '@', strcspn(host, "/?#"));
	size_t		scheme = host - url;
	char	   *shown;

	if (at == NULL)
		return wl_copy(url, strlen(url));
	shown = malloc(strlen(url) + 1);
	if (shown == NULL)
		return NULL;
	memcpy(shown, url, scheme);
	strcpy(shown + scheme, at + 1);
	return shown;
}

/* Adds a header to the client's; false when out of memory. */
static bool
wl_add_header(WlClient *client, const char *header)
{
	struct curl_slist *headers = curl_slist_append(client->headers, header);

	if (headers == NULL)
		return false;
	client->headers = headers;
	return true;
}

/*
 * Prepares a client for the settings' server: its handle, its headers and
 * its URLs.  Returns WL_EXIT_OK, or an exit code after printing why not.
 */
int
wl_client_open(WlClient *client, const WlSettings *settings)
{
	size_t		url_length = strlen(settings->url);
	bool		prepared;

	memset(client, 0, sizeof(*client));
	while (url_length > 0 && settings->url[url_length - 1] == '/')
		url_length--;
	client->base_url = wl_copy(settings->url, url_length);
	client->shown_url = client->base_url ? wl_shown_url(client->base_url) : NULL;
	client->curl = curl_easy_init();
	/* an empty Expect spares a 100-continue round trip before each batch */
	prepared = client->base_url != NULL && client->shown_url != NULL &&
		client->curl != NULL &&
		wl_add_header(client, "Accept: application/json") &&
		wl_add_header(client, "Content-Type: application/json") &&
		wl_add_header(client, "Expect:");
	if (prepared && settings->key != NULL)
	{
		size_t		length = strlen("x-api-key: ") + strlen(settings->key) + 1;
		char	   *header = malloc(length);

		prepared = header != NULL;
		if (prepared)
		{
			snprintf(header, length, "x-api-key: %s", settings->key);
			prepared = wl_add_header(client, header);
			free(header);
		}
		client->has_key = true;
	}
	if (!prepared)
	{
		wl_error("out of memory preparing the request");
		wl_client_close(client);
		return WL_EXIT_ERROR;
	}
	curl_easy_setopt(client->curl, CURLOPT_HTTPHEADER, client->headers);
	curl_easy_setopt(client->curl, CURLOPT_USERAGENT, "whiplash-cli");
	curl_easy_setopt(client->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(client->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(client->curl, CURLOPT_WRITEFUNCTION, wl_collect_body);
	curl_easy_setopt(client->curl, CURLOPT_HEADERFUNCTION, wl_collect_header);
	return WL_EXIT_OK;
}

/* Frees what wl_client_open made; safe on a client it half made. */
void
wl_client_close(WlClient *client)
{
	if (client->curl != NULL)
		curl_easy_cleanup(client->curl);
	curl_slist_free_all(client->headers);
	free(client->base_url);
	free(client->shown_url);
	memset(client, 0, sizeof(*client));
}

/*
 * A path segment percent-encoded: every byte but the unreserved ones, and
 * the dots of a segment "." or "..", which URL normalisation would drop.
 */
static char *
wl_encode_segment(const char *segment)
{
	static const char hex[] = "0123456789ABCDEF";
	bool		only_dots = strspn(segment, ".") == strlen(segment);
	char	   *encoded = malloc(strlen(segment) * 3 + 1);
	char	   *out = encoded;
	const unsigned char *c;

	if (encoded == NULL)
		return NULL;
	for (c = (const unsigned char *) segment; *c != '\0'; c++)
	{
		if ((isalnum(*c) && *c < 0x80) || *c == '-' || *c == '_' || *c == '~' ||
			(*c == '.' && !only_dots))
			*out++ = *c;
		else
		{
			*out++ = '%';
			*out++ = hex[*c >> 4];
			*out++ = hex[*c & 15];
		}
	}
	*out = '\0';
	return encoded;
}

/*
 * The path /projects/P/collections[/C[/TAIL[/ITEM]]], its names
 * percent-encoded (tail is literal, e.g. "items/batch"); NULL when out of
 * memory, which it reports.
 */
char *
wl_collection_path(const char *project, const char *collection,
				   const char *tail, const char *item)
{
	char	   *encoded_project = wl_encode_segment(project);
	char	   *encoded_collection = collection ? wl_encode_segment(collection) : NULL;
	char	   *encoded_item = item ? wl_encode_segment(item) : NULL;
	char	   *path = NULL;

	if (encoded_project != NULL && (collection == NULL) == (encoded_collection == NULL) &&
		(item == NULL) == (encoded_item == NULL))
	{
		size_t		length = strlen(encoded_project) + 64 +
			(collection ? strlen(encoded_collection) : 0) +
			(tail ? strlen(tail) : 0) + (item ? strlen(encoded_item) : 0);

		path = malloc(length);
		if (path != NULL)
			snprintf(path, length, "/projects/%s/collections%s%s%s%s%s%s",
					 encoded_project,
					 collection ? "/" : "", collection ? encoded_collection : "",
					 tail ? "/" : "", tail ? tail : "",
					 item ? "/" : "", item ? encoded_item : "");
	}
	if (path == NULL)
		wl_error("out of memory preparing the request");
	free(encoded_project);
	free(encoded_collection);
	free(encoded_item);
	return path;
}

/* Empties a response for the next request. */
void
wl_response_free(WlResponse *response)
{
	free(response->body);
	memset(response, 0, sizeof(*response));
	response->retry_after = -1;
}

/*
 * Sends one request (with a JSON body, or none when body is NULL) and
 * keeps its answer in response.  Returns WL_EXIT_OK when the server
 * answered, whatever its status; WL_EXIT_UNREACHABLE when no answer came,
 * with response->failure saying why; WL_EXIT_USAGE when the URL is not one
 * libcurl can use; WL_EXIT_ERROR when out of memory.
 * Errors are left to the caller to print (wl_report_failure), so that it
 * can retry first.
 */
int
wl_request(WlClient *client, const char *method, const char *path,
		   const char *body, WlResponse *response)
{
	size_t		length = strlen(client->base_url) + strlen(path) + 1;
	char	   *url = malloc(length);
	CURLcode	result;

	wl_response_free(response);
	if (url == NULL)
	{
		snprintf(response->failure, sizeof(response->failure), "out of memory");
		return WL_EXIT_ERROR;
	}
	snprintf(url, length, "%s%s", client->base_url, path);
	curl_easy_setopt(client->curl, CURLOPT_URL, url);
	if (body != NULL)
	{
		curl_easy_setopt(client->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body));
		curl_easy_setopt(client->curl, CURLOPT_POSTFIELDS, body);
	}
	else
		curl_easy_setopt(client->curl, CURLOPT_HTTPGET, 1L);
	/* POST and GET are implied by the body; DELETE and PUT are named */
	curl_easy_setopt(client->curl, CURLOPT_CUSTOMREQUEST,
					 strcmp(method, body != NULL ? "POST" : "GET") == 0 ? NULL : method);
	curl_easy_setopt(client->curl, CURLOPT_WRITEDATA, response);
	curl_easy_setopt(client->curl, CURLOPT_HEADERDATA, response);
	curl_easy_setopt(client->curl, CURLOPT_ERRORBUFFER, response->failure);
	result = curl_easy_perform(client->curl);
	curl_easy_setopt(client->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(client->curl, CURLOPT_POSTFIELDS, NULL);
	free(url);
	if (result != CURLE_OK)
	{
		if (response->failure[0] == '\0')
			snprintf(response->failure, sizeof(response->failure), "%s",
					 curl_easy_strerror(result));
		if (result == CURLE_URL_MALFORMAT || result == CURLE_UNSUPPORTED_PROTOCOL)
			return WL_EXIT_USAGE;
		if (result == CURLE_OUT_OF_MEMORY || result == CURLE_WRITE_ERROR)
			return WL_EXIT_ERROR;
		return WL_EXIT_UNREACHABLE;
	}
	curl_easy_getinfo(client->curl, CURLINFO_RESPONSE_CODE, &response->status);
	return WL_EXIT_OK;
}

/*
 * Is the outcome one worth sending the request again for: no answer, or
 * a server too busy (503) or limiting the rate (429)?
 */
bool
wl_retryable(const WlResponse *response)
{
	return response->status == 0 || response->status == 503 || response->status == 429;
}

/* Prints a member of the server's error object, when it is a string. */
static void
wl_print_error_member(struct json_object *error, const char *member, const char *label)
{
	struct json_object *value;

	if (json_object_object_get_ex(error, member, &value) &&
		json_object_is_type(value, json_type_string))
		fprintf(stderr, "%s: %s\n", label, json_object_get_string(value));
}

/*
 * Prints why a request failed: why no answer came (code, from wl_request,
 * is not WL_EXIT_OK), or the server's error message with its detail and
 * hint.  Returns the exit code: WL_EXIT_NOT_FOUND for a 404.
 */
int
wl_report_failure(const WlClient *client, int code, const WlResponse *response)
{
	struct json_object *parsed = NULL;
	struct json_object *error = NULL;
	struct json_object *message = NULL;

	if (code != WL_EXIT_OK)
	{
		if (code == WL_EXIT_UNREACHABLE)
			wl_error("could not reach the server at %s: %s", client->shown_url,
					 response->failure);
		else if (code == WL_EXIT_USAGE)
			wl_error("cannot use the URL %s: %s", client->shown_url, response->failure);
		else
			wl_error("%s", response->failure);
		return code;
	}
	if (response->body != NULL)
		parsed = json_tokener_parse(response->body);
	if (parsed != NULL && json_object_object_get_ex(parsed, "error", &error) &&
		json_object_object_get_ex(error, "message", &message) &&
		json_object_is_type(message, json_type_string))
	{
		wl_error("%s", json_object_get_string(message));
		wl_print_error_member(error, "detail", "detail");
		wl_print_error_member(error, "hint", "hint");
		if (response->status == 401 && !client->has_key &&
			!json_object_object_get_ex(error, "hint", NULL))
			fprintf(stderr, "hint: pass --key KEY or set WHIPLASH_API_KEY\n");
	}
	else
		wl_error("the server at %s answered HTTP %ld%s", client->shown_url,
				 response->status,
				 response->status < 400 ? ", which is not what was expected" : "");
	json_object_put(parsed);
	return response->status == 404 ? WL_EXIT_NOT_FOUND : WL_EXIT_ERROR;
}

/*
 * Parses a successful answer's body as JSON of the given type.  Returns
 * WL_EXIT_OK with *parsed set (for the caller to put), or WL_EXIT_ERROR
 * after saying the server's answer is not what the API promises.
 */
int
wl_parse_body(const WlResponse *response, enum json_type type,
			  struct json_object **parsed)
{
	*parsed = response->body != NULL ? json_tokener_parse(response->body) : NULL;
	if (*parsed != NULL && json_object_is_type(*parsed, type))
		return WL_EXIT_OK;
	json_object_put(*parsed);
	*parsed = NULL;
	wl_error("the server's answer is not the JSON %s expected",
			 type == json_type_array ? "array" : "object");
	return WL_EXIT_ERROR;
}

/* Prints the body as the server sent it, ending in a newline (--json). */
void
wl_print_body(const WlResponse *response)
{
	if (response->length > 0)
		fwrite(response->body, 1, response->length, stdout);
	if (response->length == 0 || response->body[response->length - 1] != '\n')
		putchar('\n');
}

/*
 * Adds a member to an object, which then holds the value; false when out of
 * memory (value NULL, as a failed constructor returns), the value then put.
 */
bool
wl_json_add(struct json_object *object, const char *key, struct json_object *value)
{
	if (value == NULL || json_object_object_add(object, key, value) != 0)
	{
		json_object_put(value);
		return false;
	}
	return true;
}

/*
 * The compact JSON text of an object, in memory the caller frees; NULL
 * (reported) when out of memory.
 */
char *
wl_json_text(struct json_object *object)
{
	const char *text = json_object_to_json_string_ext(object, JSON_C_TO_STRING_PLAIN |
													  JSON_C_TO_STRING_NOSLASHESCAPE);
	char	   *copy = text != NULL ? wl_copy(text, strlen(text)) : NULL;

	if (copy == NULL)
		wl_error("out of memory preparing the request");
	return copy;
}

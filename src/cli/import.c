/*
 * import.c - `whiplash import NAME FILE`: a file's items sent to a
 * collection in batches (POST .../items/batch, all or nothing each).
 *
 * After each batch the server acknowledges, the file's offset past it is
 * recorded (state.c), so that running the import again after a failure
 * sends only what follows; resending a batch is harmless, as writing an
 * item overwrites it.  A busy server (503, 429) or a lost connection is
 * retried with backoff before the import gives up.  Progress shows as a
 * bar on stderr when it is a terminal, and a summary line ends the import.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define WL_DEFAULT_BATCH 500
/* Far more rows than any server's max_body lets through in one request. */
#define WL_MAX_BATCH 1000000
/* How many times a request is sent before the import gives up. */
#define WL_TRIES 5
/* The longest wait between two tries, whatever Retry-After says. */
#define WL_MAX_WAIT 60
/* Characters of the progress bar, and seconds between its redraws. */
#define WL_BAR_WIDTH 30
#define WL_BAR_INTERVAL 0.1

/* One import under way. */
typedef struct WlImport
{
	const WlSettings *settings;
	const char *collection;
	const char *file_name;
	char	   *state_path;
	WlClient	client;
	WlRowReader reader;
	WlImportState state;		/* how far the server has the rows */
	long long	rows_before;	/* rows earlier runs imported */
	bool		progress_bar;	/* stderr is a terminal */
	bool		bar_shown;		/* a bar is on stderr's last line */
	bool		state_failed;	/* a state file could not be written */
	struct timespec started;
	double		drawn;			/* seconds since started at the last redraw */
} WlImport;

/* Seconds since the import started. */
static double
wl_elapsed(const WlImport *import)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - import->started.tv_sec) +
		(now.tv_nsec - import->started.tv_nsec) / 1e9;
}

/* Rows per second this run has imported. */
static double
wl_rate(const WlImport *import, double seconds)
{
	return seconds > 0 ? (import->state.rows - import->rows_before) / seconds : 0;
}

/* Erases the progress bar, so that a message can take its line. */
static void
wl_clear_bar(WlImport *import)
{
	if (import->bar_shown)
		fputs("\r\033[K", stderr);
	import->bar_shown = false;
}

/*
 * Draws the progress bar (rows done, rows per second, share of the file's
 * bytes), at most every WL_BAR_INTERVAL seconds.
 */
static void
wl_draw_bar(WlImport *import)
{
	double		seconds = wl_elapsed(import);
	int			percent = import->state.size > 0 ?
		(int) (import->state.offset * 100 / import->state.size) : 100;
	char		bar[WL_BAR_WIDTH + 1];
	int			filled = percent * WL_BAR_WIDTH / 100;

	if (!import->progress_bar ||
		(import->bar_shown && seconds - import->drawn < WL_BAR_INTERVAL))
		return;
	memset(bar, '#', filled);
	memset(bar + filled, '-', WL_BAR_WIDTH - filled);
	bar[WL_BAR_WIDTH] = '\0';
	fprintf(stderr, "\r\033[K%lld rows  %.0f rows/s  [%s] %3d%%",
			import->state.rows, wl_rate(import, seconds), bar, percent);
	fflush(stderr);
	import->bar_shown = true;
	import->drawn = seconds;
}

/* Sleeps for whole seconds. */
static void
wl_sleep(long seconds)
{
	struct timespec wait = {seconds, 0};

	while (nanosleep(&wait, &wait) != 0 && errno == EINTR)
		continue;
}

/*
 * Sends a request until the server answers it other than busy, up to
 * WL_TRIES times, waiting between tries as long as Retry-After says or,
 * without it, 1, 2, 4 and 8 seconds.  what names the request in messages.
 * Returns WL_EXIT_OK with a 2xx answer in response, or the exit code after
 * reporting the failure.
 */
static int
wl_send(WlImport *import, const char *method, const char *path, const char *body,
		WlResponse *response, const char *what)
{
	int			try;

	for (try = 1;; try++)
	{
		int			code = wl_request(&import->client, method, path, body, response);
		long		wait = response->retry_after >= 0 ? response->retry_after : 1L << (try - 1);

		if (code == WL_EXIT_OK && response->status >= 200 && response->status < 300)
			return WL_EXIT_OK;
		wl_clear_bar(import);
		if ((code != WL_EXIT_OK && code != WL_EXIT_UNREACHABLE) ||
			!wl_retryable(response) || try == WL_TRIES)
			return wl_report_failure(&import->client, code, response);
		if (wait > WL_MAX_WAIT)
			wait = WL_MAX_WAIT;
		if (response->status == 0)
			wl_notice("%s: no answer from the server (%s); trying again in %ld s (try %d of %d)",
					  what, response->failure, wait, try + 1, WL_TRIES);
		else
			wl_notice("%s: the server answered HTTP %ld; trying again in %ld s (try %d of %d)",
					  what, response->status, wait, try + 1, WL_TRIES);
		wl_sleep(wait);
	}
}

/*
 * Reads the collection's dimensions from the server, to check every row's
 * vector before its batch is sent.  Returns an exit code: WL_EXIT_NOT_FOUND
 * when there is no such collection.
 */
static int
wl_collection_dimensions(WlImport *import, int *dimensions)
{
	char	   *path = wl_collection_path(import->settings->project, import->collection,
										  NULL, NULL);
	WlResponse	response = {0};
	struct json_object *collection = NULL;
	struct json_object *features;
	int			code;

	if (path == NULL)
		return WL_EXIT_ERROR;
	code = wl_send(import, "GET", path, NULL, &response, "reading the collection");
	if (code == WL_EXIT_OK)
		code = wl_parse_body(&response, json_type_object, &collection);
	if (code == WL_EXIT_OK)
	{
		if (json_object_object_get_ex(collection, "n_features", &features) &&
			json_object_is_type(features, json_type_int) &&
			json_object_get_int(features) > 0)
			*dimensions = json_object_get_int(features);
		else
		{
			wl_error("the server's answer does not say the collection's dimensions (n_features)");
			code = WL_EXIT_ERROR;
		}
	}
	json_object_put(collection);
	wl_response_free(&response);
	free(path);
	return code;
}

/*
 * Sends one batch, {"vectors": [...]}, whose rows came from lines
 * first_line up to the reader's line.  Returns an exit code.
 */
static int
wl_send_batch(WlImport *import, const char *path, struct json_object *vectors,
			  long long first_line)
{
	struct json_object *body = json_object_new_object();
	WlResponse	response = {0};
	char		what[64];
	char	   *text = NULL;
	int			code;

	if (body != NULL && wl_json_add(body, "vectors", json_object_get(vectors)))
		text = wl_json_text(body);
	else
		wl_error("out of memory preparing the request");
	json_object_put(body);
	if (text == NULL)
		return WL_EXIT_ERROR;
	snprintf(what, sizeof(what), "the batch of lines %lld-%lld", first_line,
			 import->reader.line_number);
	code = wl_send(import, "POST", path, text, &response, what);
	if (code != WL_EXIT_OK)
		wl_notice("%s was not imported", what);
	if (response.status == 413)
		wl_notice("the server takes smaller requests than %zu rows: give a smaller --batch",
				  json_object_array_length(vectors));
	wl_response_free(&response);
	free(text);
	return code;
}

/*
 * Records that the server has the rows up to the reader's offset.  A state
 * file that cannot be written costs only the resumption, which is said once.
 */
static void
wl_record_progress(WlImport *import, int rows)
{
	import->state.offset = import->reader.offset;
	import->state.line_number = import->reader.line_number;
	import->state.checksum = import->reader.checksum;
	import->state.rows += rows;
	if (!wl_state_save(import->state_path, &import->state) && !import->state_failed)
	{
		wl_clear_bar(import);
		wl_notice("cannot record the import's progress in %s: %s; if it fails, it will start over",
				  import->state_path, strerror(errno));
		import->state_failed = true;
	}
	wl_draw_bar(import);
}

/*
 * Reads the file's rows from the reader's offset and sends them in batches
 * of batch_size, recording each acknowledged one.  Returns an exit code.
 */
static int
wl_import_rows(WlImport *import, int batch_size)
{
	char	   *path = wl_collection_path(import->settings->project, import->collection,
										  "items/batch", NULL);
	int			code = path != NULL ? WL_EXIT_OK : WL_EXIT_ERROR;
	int			result = 1;

	while (code == WL_EXIT_OK && result == 1)
	{
		struct json_object *vectors = json_object_new_array();
		struct json_object *item;
		long long	first_line = import->reader.line_number + 1;
		int			count = 0;

		if (vectors == NULL)
		{
			wl_error("out of memory reading %s", import->file_name);
			code = WL_EXIT_ERROR;
			break;
		}
		while (count < batch_size && (result = wl_rows_next(&import->reader, &item)) == 1)
		{
			if (json_object_array_add(vectors, item) != 0)
			{
				json_object_put(item);
				snprintf(import->reader.error, sizeof(import->reader.error), "out of memory");
				result = -1;
				break;
			}
			count++;
		}
		if (result < 0)
		{
			wl_clear_bar(import);
			wl_error("%s: %s", import->file_name, import->reader.error);
			code = WL_EXIT_ERROR;
		}
		else if (count > 0)
		{
			code = wl_send_batch(import, path, vectors, first_line);
			if (code == WL_EXIT_OK)
				wl_record_progress(import, count);
		}
		json_object_put(vectors);
	}
	free(path);
	return code;
}

/* Prints the import's last line: a summary, or JSON of it under --json. */
static void
wl_print_summary(WlImport *import)
{
	double		seconds = wl_elapsed(import);
	long long	rows = import->state.rows - import->rows_before;

	wl_clear_bar(import);
	fprintf(stderr, "imported %lld row%s into collection \"%s\" in %.1f s (%.0f rows/s)",
			rows, rows == 1 ? "" : "s", import->collection, seconds, wl_rate(import, seconds));
	if (import->rows_before > 0)
		fprintf(stderr, ", after the %lld an earlier run imported", import->rows_before);
	fputc('\n', stderr);
	if (import->settings->json)
	{
		struct json_object *summary = json_object_new_object();
		char		rounded[32];

		snprintf(rounded, sizeof(rounded), "%.3f", seconds);
		if (summary != NULL &&
			wl_json_add(summary, "collection", json_object_new_string(import->collection)) &&
			wl_json_add(summary, "rows", json_object_new_int64(rows)) &&
			wl_json_add(summary, "total_rows", json_object_new_int64(import->state.rows)) &&
			wl_json_add(summary, "seconds", json_object_new_double_s(seconds, rounded)))
			puts(json_object_to_json_string_ext(summary, JSON_C_TO_STRING_PLAIN |
												JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			wl_error("out of memory printing the summary");
		json_object_put(summary);
	}
}

/*
 * The format of the file to import: --format's, or its name's extension's.
 * Returns WL_EXIT_OK, or WL_EXIT_USAGE after saying what is wrong.
 */
static int
wl_import_format(const WlArgs *args, const char *file_name, WlFormat *format)
{
	const char *given = wl_option(args, "--format");
	const char *extension = strrchr(file_name, '.');

	if (given == NULL && extension != NULL && strchr(extension, '/') == NULL)
		given = extension + 1;
	if (given != NULL && (strcasecmp(given, "jsonl") == 0 || strcasecmp(given, "ndjson") == 0 ||
						  strcasecmp(given, "json") == 0))
		*format = WL_FORMAT_JSONL;
	else if (given != NULL && strcasecmp(given, "csv") == 0)
		*format = WL_FORMAT_CSV;
	else if (wl_option(args, "--format") != NULL)
		return wl_usage_error(args->command, "--format must be jsonl or csv, not \"%s\"", given);
	else
		return wl_usage_error(args->command, "cannot tell the format of %s from its name; give --format jsonl or --format csv",
							  file_name);
	return WL_EXIT_OK;
}

/*
 * Opens the file to import and notes its size and mtime.  Returns an exit
 * code.
 */
static int
wl_open_file(WlImport *import, FILE **file)
{
	struct stat status;
	const char *reason;

	*file = fopen(import->file_name, "r");
	if (*file == NULL || fstat(fileno(*file), &status) != 0)
		reason = strerror(errno);
	else if (!S_ISREG(status.st_mode))
		reason = "not a regular file";
	else
	{
		import->state.size = status.st_size;
		import->state.mtime_sec = status.st_mtim.tv_sec;
		import->state.mtime_nsec = status.st_mtim.tv_nsec;
		return WL_EXIT_OK;
	}
	wl_error("cannot import %s: %s", import->file_name, reason);
	if (*file != NULL)
		fclose(*file);
	*file = NULL;
	return WL_EXIT_ERROR;
}

/* Imports a file's rows into a collection, resuming an earlier import. */
int
wl_run_import(const WlSettings *settings, const WlArgs *args)
{
	const char *batch = wl_option(args, "--batch");
	WlImport	import = {0};
	FILE	   *file = NULL;
	WlFormat	format = WL_FORMAT_JSONL;
	int			dimensions = 0;
	long		batch_size = WL_DEFAULT_BATCH;
	int			code;

	if (batch != NULL && !wl_parse_count(batch, 1, WL_MAX_BATCH, &batch_size))
		return wl_usage_error(args->command, "--batch must be a whole number from 1 to %d, not \"%s\"",
							  WL_MAX_BATCH, batch);
	import.settings = settings;
	import.collection = args->args[0];
	import.file_name = args->args[1];
	code = wl_import_format(args, import.file_name, &format);
	if (code != WL_EXIT_OK)
		return code;
	code = wl_open_file(&import, &file);
	if (code != WL_EXIT_OK)
		return code;
	import.state_path = wl_state_path(import.file_name);
	if (import.state_path == NULL)
	{
		wl_error("out of memory");
		code = WL_EXIT_ERROR;
	}
	else
		code = wl_client_open(&import.client, settings);
	if (code == WL_EXIT_OK)
		code = wl_collection_dimensions(&import, &dimensions);
	if (code == WL_EXIT_OK)
	{
		import.state.url = import.client.shown_url;
		import.state.project = settings->project;
		import.state.collection = import.collection;
		if (wl_state_load(import.state_path, import.file_name, file, &import.state))
			wl_notice("continuing the import of %s after line %lld, where an earlier run stopped (remove %s to start over)",
					  import.file_name, import.state.line_number, import.state_path);
		import.rows_before = import.state.rows;
		if (!wl_rows_open(&import.reader, file, format, dimensions, &import.state))
		{
			wl_error("cannot read %s: %s", import.file_name, strerror(errno));
			code = WL_EXIT_ERROR;
		}
	}
	if (code == WL_EXIT_OK)
	{
		import.progress_bar = isatty(STDERR_FILENO);
		clock_gettime(CLOCK_MONOTONIC, &import.started);
		wl_draw_bar(&import);
		code = wl_import_rows(&import, (int) batch_size);
	}
	if (code == WL_EXIT_OK)
	{
		if (unlink(import.state_path) != 0 && errno != ENOENT)
			wl_notice("cannot remove %s: %s", import.state_path, strerror(errno));
		wl_print_summary(&import);
	}
	else if (import.state.offset > 0 && !import.state_failed)
		wl_notice("the server has the rows up to line %lld; running the same import again continues from there",
				  import.state.line_number);
	wl_rows_close(&import.reader);
	wl_client_close(&import.client);
	free(import.state_path);
	fclose(file);
	return code;
}

/*
 * cli.h - the whiplash command-line client: its settings, its parsed
 * arguments and the helpers that read them (args.c), its HTTP client
 * (http.c), its commands (commands.c, import.c), which only main.c calls,
 * and the reading of an import's rows (rows.c) and state (state.c).
 *
 * Every function that can fail returns an exit code (WL_EXIT_*) after
 * printing why on stderr, so that main() only has to return it.
 */
#ifndef WL_CLI_H
#define WL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <json-c/json.h>

/* Exit codes, as the API's contract lists them. */
#define WL_EXIT_OK 0
#define WL_EXIT_ERROR 1			/* the server answered an error, or bad input */
#define WL_EXIT_USAGE 2
#define WL_EXIT_UNREACHABLE 3
#define WL_EXIT_NOT_FOUND 4

/* The most options one command takes besides the global ones. */
#define WL_MAX_OPTIONS 4
/* The most positional arguments one command takes. */
#define WL_MAX_ARGS 2

/* What every command needs: where the server is, as whom, and how to print. */
typedef struct WlSettings
{
	const char *url;
	const char *key;			/* NULL when none was given; never printed */
	const char *project;
	bool		json;			/* print the server's JSON bodies as they are */
} WlSettings;

struct WlArgs;

/* One command: its name, its help, the options it takes and its code. */
typedef struct WlCommand
{
	const char *name;
	const char *usage;			/* the arguments after the command's name */
	const char *summary;		/* one line for the global help */
	const char *help;			/* the rest of `whiplash COMMAND --help` */
	/* "--name=" takes a value, "--name" is a flag */
	const char *options[WL_MAX_OPTIONS + 1];
	int			min_args;
	int			max_args;
	const char *arg_names[WL_MAX_ARGS];	/* for messages: "NAME", "ID" */
	int			(*run) (const WlSettings *settings, const struct WlArgs *args);
} WlCommand;

/* A command's arguments, as main.c's parser found them. */
typedef struct WlArgs
{
	const WlCommand *command;
	const char *args[WL_MAX_ARGS];
	int			nargs;
	/* per command->options[i]: its value, "" for a flag given, or NULL */
	const char *values[WL_MAX_OPTIONS];
} WlArgs;

/* An HTTP client for one server, keeping its connection between requests. */
typedef struct WlClient
{
	CURL	   *curl;
	struct curl_slist *headers;	/* holds the key: freed, never printed */
	char	   *base_url;		/* the settings' URL without trailing slashes */
	char	   *shown_url;		/* the same without any user:password@ */
	bool		has_key;
} WlClient;

/* One request's outcome: the server's answer, or why none came. */
typedef struct WlResponse
{
	long		status;			/* HTTP status; 0 when no answer came */
	char	   *body;			/* NUL-terminated; NULL when empty */
	size_t		length;
	size_t		capacity;
	long		retry_after;	/* seconds of a Retry-After header, or -1 */
	char		failure[CURL_ERROR_SIZE];	/* why no answer came */
} WlResponse;

/* args.c: what main.c, the commands and rows.c share; calls no other file */
extern int	wl_usage_error(const WlCommand *command, const char *format,...)
			__attribute__((format(printf, 2, 3)));
extern const char *wl_option(const WlArgs *args, const char *name);
extern bool wl_parse_count(const char *text, long minimum, long maximum, long *count);
extern bool wl_number_array(struct json_object *array);

/* http.c */
extern void wl_error(const char *format,...) __attribute__((format(printf, 1, 2)));
extern void wl_notice(const char *format,...) __attribute__((format(printf, 1, 2)));
extern int	wl_client_open(WlClient *client, const WlSettings *settings);
extern void wl_client_close(WlClient *client);
extern char *wl_collection_path(const char *project, const char *collection,
								const char *tail, const char *item);
extern int	wl_request(WlClient *client, const char *method, const char *path,
					   const char *body, WlResponse *response);
extern bool wl_retryable(const WlResponse *response);
extern int	wl_report_failure(const WlClient *client, int code, const WlResponse *response);
extern int	wl_parse_body(const WlResponse *response, enum json_type type,
						  struct json_object **parsed);
extern void wl_print_body(const WlResponse *response);
extern void wl_response_free(WlResponse *response);
extern bool wl_json_add(struct json_object *object, const char *key,
						struct json_object *value);
extern char *wl_json_text(struct json_object *object);

/* commands.c: the commands, which main.c alone calls */
extern int	wl_run_collections(const WlSettings *settings, const WlArgs *args);
extern int	wl_run_create(const WlSettings *settings, const WlArgs *args);
extern int	wl_run_get(const WlSettings *settings, const WlArgs *args);
extern int	wl_run_search(const WlSettings *settings, const WlArgs *args);
extern int	wl_run_delete(const WlSettings *settings, const WlArgs *args);

/* import.c: the import command, which main.c alone calls */
extern int	wl_run_import(const WlSettings *settings, const WlArgs *args);

/* state.c: how far an import got, kept beside its file */
typedef struct WlImportState
{
	const char *url;			/* shown_url: no password is written */
	const char *project;
	const char *collection;
	long long	size;			/* the file's size and mtime when it began */
	long long	mtime_sec;
	long long	mtime_nsec;
	long long	offset;			/* bytes acknowledged by the server */
	long long	line_number;	/* lines up to offset */
	long long	rows;			/* rows acknowledged */
	unsigned long long checksum;	/* wl_checksum of the bytes up to offset */
} WlImportState;

extern char *wl_state_path(const char *file);
extern bool wl_state_load(const char *path, const char *file_name, FILE *file,
						  WlImportState *state);
extern bool wl_state_save(const char *path, const WlImportState *state);

/* rows.c: an import file's rows, one JSON item at a time */
typedef enum WlFormat
{
	WL_FORMAT_JSONL,
	WL_FORMAT_CSV
} WlFormat;

typedef struct WlRowReader
{
	FILE	   *file;
	WlFormat	format;
	int			dimensions;		/* every vector's length */
	off_t		offset;			/* bytes of the file read so far */
	long long	line_number;	/* lines read so far */
	unsigned long long checksum;	/* wl_checksum of the bytes read so far */
	char	   *line;			/* getline's buffer */
	size_t		line_capacity;
	char	  **fields;			/* a CSV line's fields, within line */
	size_t		fields_capacity;
	struct json_tokener *tokener;
	char		error[256];		/* why the last row could not be read */
} WlRowReader;

/* FNV-1a's offset basis: the checksum of no bytes */
#define WL_CHECKSUM_START 0xcbf29ce484222325ULL

extern unsigned long long wl_checksum(unsigned long long checksum, const char *bytes,
									  size_t length);
extern bool wl_rows_open(WlRowReader *reader, FILE *file, WlFormat format,
						 int dimensions, const WlImportState *from);
extern int	wl_rows_next(WlRowReader *reader, struct json_object **item);
extern void wl_rows_close(WlRowReader *reader);

#endif							/* WL_CLI_H */

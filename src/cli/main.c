/*
 * main.c - the whiplash command-line client: its commands, their help, and
 * the parsing of the command line.  It is the only file that calls the
 * commands (commands.c, import.c); what they share with it, an option's
 * value and the usage error, is in args.c.
 *
 *   whiplash [--url URL] [--key KEY] [--project P] [--json] COMMAND [ARGS]
 *
 * The global options may also follow the command, so that
 * `whiplash search docs --json ...` works as well.  The URL, key and project
 * come from WHIPLASH_API_URL, WHIPLASH_API_KEY and WHIPLASH_PROJECT when
 * no flag gives them.  The key is only ever sent, as `x-api-key`.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

#define WL_DEFAULT_URL "http://127.0.0.1:8080"
#define WL_DEFAULT_PROJECT "whiplash"

/* The commands, in the order the global help lists them. */
static const WlCommand wl_commands[] = {
	{
		"collections", "", "list the project's collections",
		"Lists the project's collections: name, dimensions, metric, format and the\n"
		"foreign table that maps each (\"-\" when none does).\n",
		{NULL}, 0, 0, {NULL}, wl_run_collections
	},
	{
		"create", "NAME --dimensions N [--metric M] [--format F]",
		"create a collection",
		"Creates a collection of N-dimensional vectors and the foreign table that\n"
		"maps it, and prints its settings.\n"
		"\n"
		"  --dimensions N   the vectors' length\n"
		"  --metric M       cosine (the default), l2 or inner_product\n"
		"  --format F       packed or native (the server's default when not given)\n",
		{"--dimensions=", "--metric=", "--format=", NULL}, 1, 1, {"NAME"}, wl_run_create
	},
	{
		"get", "NAME [ID]", "a collection's settings, or one item",
		"Prints the collection's settings, or with ID the item's id, vector and\n"
		"attributes.\n",
		{NULL}, 1, 2, {"NAME", "ID"}, wl_run_get
	},
	{
		"search", "NAME (--query '[0.1,...]' | --query-file FILE) [--limit K] [--filter JSON]",
		"the items closest to a vector",
		"Prints the items closest to the query vector, closest first, one line each:\n"
		"rank, id and distance.\n"
		"\n"
		"  --query V        the vector, as a JSON array (the brackets may be left out)\n"
		"  --query-file F   read the vector from file F (\"-\": standard input): a JSON\n"
		"                   array, or an item as `whiplash --json get NAME ID` prints it\n"
		"  --limit K        how many items (the server's default is 5; at most 1000)\n"
		"  --filter JSON    a JSON object of attribute conditions, as whiplash_search's\n"
		"                   filter argument takes\n",
		{"--query=", "--query-file=", "--limit=", "--filter=", NULL}, 1, 1, {"NAME"},
		wl_run_search
	},
	{
		"delete", "NAME [ID] [--yes]", "delete an item, or a collection (--yes)",
		"Deletes the item ID of the collection; without ID, deletes the collection\n"
		"itself, with all its items and its foreign table, which --yes confirms.\n"
		"\n"
		"  --yes            confirm deleting a whole collection\n",
		{"--yes", NULL}, 1, 2, {"NAME", "ID"}, wl_run_delete
	},
	{
		"import", "NAME FILE [--batch N] [--format jsonl|csv]",
		"load JSON lines or CSV, resuming after a failure",
		"Inserts the file's items into the collection, N rows per request (500 by\n"
		"default), replacing items of the same id.\n"
		"\n"
		"  --batch N        rows per request\n"
		"  --format F       jsonl or csv; by default the file's extension tells\n"
		"                   (.jsonl, .ndjson and .json are JSON lines, .csv is CSV)\n"
		"\n"
		"JSON lines: one object per line, {\"id\": \"...\", \"vector\": [...]} with an\n"
		"optional \"attributes\" object.  CSV: the id, then the vector's numbers; a\n"
		"first line whose second field is not a number is a header.\n"
		"\n"
		"After each batch the server acknowledges, FILE.whiplash-import records how\n"
		"far the import got; running the same import again continues from there,\n"
		"unless the file changed size or its part already sent changed (a bad line\n"
		"after it may be fixed in place).  It is removed when the import succeeds.\n"
		"A batch the server is too busy for (503, 429), or whose connection fails, is\n"
		"sent up to 5 times, 1 to 8 s apart (or as Retry-After says).  A progress\n"
		"bar shows on a terminal.\n",
		{"--batch=", "--format=", NULL}, 2, 2, {"NAME", "FILE"}, wl_run_import
	},
};

#define WL_NCOMMANDS (sizeof(wl_commands) / sizeof(wl_commands[0]))

/* Prints the global help on stdout. */
static void
wl_print_help(void)
{
	size_t		i;

	printf("whiplash - the command-line client of whiplash-api\n"
		   "\n"
		   "usage: whiplash [--url URL] [--key KEY] [--project P] [--json] COMMAND [ARGS]\n"
		   "\n"
		   "commands:\n");
	for (i = 0; i < WL_NCOMMANDS; i++)
		printf("  %s%s%s\n      %s\n", wl_commands[i].name,
			   wl_commands[i].usage[0] ? " " : "", wl_commands[i].usage,
			   wl_commands[i].summary);
	printf("\n"
		   "options (also accepted after the command):\n"
		   "  --url URL      the server (WHIPLASH_API_URL; default " WL_DEFAULT_URL ")\n"
		   "  --key KEY      the API key (WHIPLASH_API_KEY, which other users cannot see\n"
		   "                 in the process list as they can a flag)\n"
		   "  --project P    the project (WHIPLASH_PROJECT; default " WL_DEFAULT_PROJECT ")\n"
		   "  --json         print the server's JSON answer as it is\n"
		   "  --help         this help; `whiplash COMMAND --help` describes a command\n"
		   "\n"
		   "exit status: 0 ok, 1 the server answered an error (or the input is bad),\n"
		   "2 usage error, 3 could not reach the server, 4 not found\n");
}

/* Prints a command's help on stdout. */
static void
wl_print_command_help(const WlCommand *command)
{
	printf("usage: whiplash [GLOBAL OPTIONS] %s%s%s\n\n%s", command->name,
		   command->usage[0] ? " " : "", command->usage, command->help);
	printf("\nGlobal options: --url URL, --key KEY, --project P, --json (see whiplash --help).\n");
}

/*
 * Does argv[*index] give the option spec ("--name=" takes a value, "--name"
 * is a flag)?  Returns 1 and sets *value (to "" for a flag), taking the
 * next argument when the value is not joined by '='; 0 when it is another
 * argument; -1 when a value is missing or a flag was given one.
 */
static int
wl_match_option(const char *spec, int argc, char **argv, int *index, const char **value)
{
	const char *arg = argv[*index];
	size_t		name_length = strcspn(spec, "=");
	bool		takes_value = spec[name_length] == '=';

	if (strncmp(arg, spec, name_length) != 0 ||
		(arg[name_length] != '\0' && arg[name_length] != '='))
		return 0;
	if (!takes_value)
	{
		*value = "";
		return arg[name_length] == '\0' ? 1 : -1;
	}
	if (arg[name_length] == '=')
		*value = arg + name_length + 1;
	else if (*index + 1 < argc)
		*value = argv[++*index];
	else
		return -1;
	return 1;
}

/*
 * Prints the usage error of an option given without its value, or a flag
 * given one; returns its exit code.
 */
static int
wl_option_error(const WlCommand *command, const char *spec)
{
	size_t		name_length = strcspn(spec, "=");

	return wl_usage_error(command, "option %.*s %s", (int) name_length, spec,
						  spec[name_length] == '=' ? "needs a value" : "takes no value");
}

/*
 * Matches argv[*index] against the global options, setting what it gives.
 * Returns as wl_match_option does; on -1, the usage error is printed and
 * *code holds its exit code.
 */
static int
wl_match_global(const WlCommand *command, WlSettings *settings, int argc,
				char **argv, int *index, int *code)
{
	static const char *const specs[] = {"--url=", "--key=", "--project=", "--json"};
	const char *value = NULL;
	int			i;

	for (i = 0; i < 4; i++)
	{
		int			matched = wl_match_option(specs[i], argc, argv, index, &value);

		if (matched == 0)
			continue;
		if (matched < 0)
		{
			*code = wl_option_error(command, specs[i]);
			return -1;
		}
		if (i == 0)
			settings->url = value;
		else if (i == 1)
			settings->key = value;
		else if (i == 2)
			settings->project = value;
		else
			settings->json = true;
		return 1;
	}
	return 0;
}

/*
 * Parses a command's arguments (argv[0] is the first one after its name)
 * into args and settings.  Returns -1 to run the command, or the exit code
 * to end with: 0 after printing its help, WL_EXIT_USAGE after an error.
 */
static int
wl_parse_command(const WlCommand *command, int argc, char **argv,
				 WlSettings *settings, WlArgs *args)
{
	bool		options_done = false;
	int			index;

	memset(args, 0, sizeof(*args));
	args->command = command;
	for (index = 0; index < argc; index++)
	{
		const char *arg = argv[index];
		int			matched = 0;
		int			i;

		if (!options_done && strcmp(arg, "--") == 0)
		{
			options_done = true;
			continue;
		}
		if (!options_done && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0))
		{
			wl_print_command_help(command);
			return WL_EXIT_OK;
		}
		if (options_done || arg[0] != '-' || arg[1] == '\0')
		{
			if (args->nargs == command->max_args)
				return wl_usage_error(command, "unexpected argument \"%s\"", arg);
			args->args[args->nargs++] = arg;
			continue;
		}
		for (i = 0; command->options[i] != NULL && matched == 0; i++)
		{
			matched = wl_match_option(command->options[i], argc, argv, &index,
									  &args->values[i]);
			if (matched < 0)
				return wl_option_error(command, command->options[i]);
		}
		if (matched == 0)
		{
			int			code;

			matched = wl_match_global(command, settings, argc, argv, &index, &code);
			if (matched < 0)
				return code;
		}
		if (matched == 0)
			return wl_usage_error(command, "unknown option \"%s\"", arg);
	}
	if (args->nargs < command->min_args)
		return wl_usage_error(command, "missing %s", command->arg_names[args->nargs]);
	for (index = 0; index < args->nargs; index++)
		if (args->args[index][0] == '\0')
			return wl_usage_error(command, "empty %s", command->arg_names[index]);
	return -1;
}

/* An environment variable's value, or NULL when it is unset or empty. */
static const char *
wl_getenv(const char *name)
{
	const char *value = getenv(name);

	return value != NULL && value[0] != '\0' ? value : NULL;
}

/*
 * Checks the settings that libcurl would otherwise misuse: an http(s) URL,
 * a project, and a key that cannot break the request's headers.  The key's
 * text is never part of the message.
 */
static int
wl_check_settings(const WlSettings *settings)
{
	const char *c;

	if (strncasecmp(settings->url, "http://", 7) != 0 &&
		strncasecmp(settings->url, "https://", 8) != 0)
		return wl_usage_error(NULL, "the URL \"%s\" is not an http:// or https:// URL",
							  settings->url);
	if (settings->project[0] == '\0')
		return wl_usage_error(NULL, "empty project name");
	if (settings->key != NULL)
	{
		if (settings->key[0] == '\0')
			return wl_usage_error(NULL, "empty API key");
		for (c = settings->key; *c != '\0'; c++)
			if (iscntrl((unsigned char) *c))
				return wl_usage_error(NULL, "the API key contains a control character");
	}
	return -1;
}

/* Parses the command line and runs its command. */
int
main(int argc, char **argv)
{
	WlSettings	settings;
	const WlCommand *command = NULL;
	WlArgs		args;
	int			index;
	int			code;
	size_t		i;

	settings.url = wl_getenv("WHIPLASH_API_URL");
	settings.key = wl_getenv("WHIPLASH_API_KEY");
	settings.project = wl_getenv("WHIPLASH_PROJECT");
	settings.json = false;
	if (settings.url == NULL)
		settings.url = WL_DEFAULT_URL;
	if (settings.project == NULL)
		settings.project = WL_DEFAULT_PROJECT;

	for (index = 1; index < argc; index++)
	{
		const char *arg = argv[index];
		int			matched;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
		{
			wl_print_help();
			return WL_EXIT_OK;
		}
		if (arg[0] != '-')
			break;
		matched = wl_match_global(NULL, &settings, argc, argv, &index, &code);
		if (matched < 0)
			return code;
		if (matched == 0)
			return wl_usage_error(NULL, "unknown option \"%s\"", arg);
	}
	if (index == argc)
		return wl_usage_error(NULL, "no command given");
	for (i = 0; i < WL_NCOMMANDS; i++)
		if (strcmp(argv[index], wl_commands[i].name) == 0)
			command = &wl_commands[i];
	if (command == NULL)
		return wl_usage_error(NULL, "unknown command \"%s\"", argv[index]);

	code = wl_parse_command(command, argc - index - 1, argv + index + 1, &settings, &args);
	if (code < 0)
		code = wl_check_settings(&settings);
	if (code >= 0)
		return code;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
	{
		wl_error("could not initialise libcurl");
		return WL_EXIT_ERROR;
	}
	code = command->run(&settings, &args);
	curl_global_cleanup();
	return code;
}

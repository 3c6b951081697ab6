/*
 * config.c - whiplash-api's settings, from a configuration file and the
 * command line, and its API keys.
 *
 * Keys are stored as SHA-256 hashes ("key = ROLE sha256:HEX" lines of the
 * file), so a stolen configuration file gives no working key; they are
 * never taken on the command line, where ps would show them.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api.h"

#define API_VERSION "0.4.0"

/* Prints the usage text. */
static void
api_usage(FILE *out)
{
	fprintf(out,
			"Usage: whiplash-api [OPTION]...\n"
			"Serves the whiplash HTTP API over a PostgreSQL database with the whiplash extension.\n\n"
			"  --config FILE            settings and API keys (name = value lines)\n"
			"  --listen ADDR            address to listen on (default 127.0.0.1)\n"
			"  --port N                 port (default 8080)\n"
			"  --conninfo STR           libpq connection string (default: PG* environment)\n"
			"  --pool-size N            PostgreSQL connections (default 8)\n"
			"  --request-timeout DUR    a request's statement_timeout (default 30s)\n"
			"  --max-body SIZE          largest request body (default 64MB)\n"
			"  --schema NAME            schema of the foreign tables of created collections\n"
			"                           (default public)\n"
			"  --connection-limit N     HTTP connections at once (default 256)\n"
			"  --hash-key               read a key on standard input, print its hash for a\n"
			"                           \"key = ROLE sha256:HASH\" line, and exit\n"
			"  --version, --help\n\n"
			"Options given on the command line override the file's.\n");
}

/* SHA-256 of text, into hash. */
static void
api_sha256(const char *text, size_t len, unsigned char hash[32])
{
	unsigned int hash_len = 32;

	EVP_Digest(text, len, hash, &hash_len, EVP_sha256(), NULL);
}

/* Reads one key on stdin and prints "sha256:HEX". */
static int
api_hash_key_command(void)
{
	char		line[4096];
	size_t		len;
	unsigned char hash[32];

	if (fgets(line, sizeof(line), stdin) == NULL)
	{
		fprintf(stderr, "whiplash-api: no key on standard input\n");
		return 2;
	}
	len = strcspn(line, "\r\n");
	if (len < 16)
	{
		fprintf(stderr, "whiplash-api: a key needs at least 16 characters\n");
		return 2;
	}
	api_sha256(line, len, hash);
	OPENSSL_cleanse(line, sizeof(line));
	printf("sha256:");
	for (int i = 0; i < 32; i++)
		printf("%02x", hash[i]);
	printf("\n");
	return 0;
}

/* Parses a duration ("250ms", "30s", "2min", bare ms) into ms; -1 if bad. */
static int
api_parse_duration(const char *text)
{
	char	   *end;
	long		value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || end == text || value < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "ms") == 0)
		;
	else if (strcmp(end, "s") == 0)
		value *= 1000;
	else if (strcmp(end, "min") == 0)
		value *= 60000;
	else
		return -1;
	return value > 86400000 ? -1 : (int) value;
}

/* Parses a size ("512kB", "64MB", bare bytes); 0 if bad. */
static size_t
api_parse_size(const char *text)
{
	char	   *end;
	unsigned long long value;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno != 0 || end == text || text[0] == '-')
		return 0;
	if (strcmp(end, "kB") == 0)
		value *= 1024;
	else if (strcmp(end, "MB") == 0)
		value *= 1024 * 1024;
	else if (strcmp(end, "GB") == 0)
		value *= 1024ULL * 1024 * 1024;
	else if (*end != '\0')
		return 0;
	/* json-c parses at most INT_MAX bytes */
	return value > INT_MAX ? 0 : (size_t) value;
}

/* Parses a positive integer no greater than max; -1 if bad. */
static int
api_parse_count(const char *text, int max)
{
	char	   *end;
	long		value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < 1 || value > max)
		return -1;
	return (int) value;
}

/* Parses "ROLE sha256:HEX" into a key; false if malformed. */
static bool
api_parse_key(const char *value, ApiKey *key)
{
	const char *space = strchr(value, ' ');
	const char *hex;

	/* PostgreSQL's names hold at most 63 bytes */
	if (space == NULL || space == value || space - value > 63)
		return false;
	hex = space + 1;
	while (*hex == ' ')
		hex++;
	if (strncmp(hex, "sha256:", 7) != 0 || strlen(hex + 7) != 64)
		return false;
	hex += 7;
	for (int i = 0; i < 32; i++)
	{
		unsigned int byte;

		if (!isxdigit((unsigned char) hex[2 * i]) ||
			!isxdigit((unsigned char) hex[2 * i + 1]) ||
			sscanf(hex + 2 * i, "%2x", &byte) != 1)
			return false;
		key->hash[i] = (unsigned char) byte;
	}
	key->role = strndup(value, space - value);
	return true;
}

/* Sets one setting by name; false (with a message) if name or value is bad. */
static bool
api_set(ApiConfig *config, const char *name, const char *value, const char *where)
{
	if (strcmp(name, "listen") == 0)
	{
		free(config->listen);
		config->listen = strdup(value);
	}
	else if (strcmp(name, "port") == 0)
	{
		if ((config->port = api_parse_count(value, 65535)) < 0)
			goto bad;
	}
	else if (strcmp(name, "conninfo") == 0)
	{
		free(config->conninfo);
		config->conninfo = strdup(value);
	}
	else if (strcmp(name, "pool_size") == 0 || strcmp(name, "pool-size") == 0)
	{
		if ((config->pool_size = api_parse_count(value, 1000)) < 0)
			goto bad;
	}
	else if (strcmp(name, "request_timeout") == 0 || strcmp(name, "request-timeout") == 0)
	{
		if ((config->request_timeout_ms = api_parse_duration(value)) <= 0)
			goto bad;
	}
	else if (strcmp(name, "max_body") == 0 || strcmp(name, "max-body") == 0)
	{
		if ((config->max_body = api_parse_size(value)) == 0)
			goto bad;
	}
	else if (strcmp(name, "schema") == 0)
	{
		free(config->schema);
		config->schema = strdup(value);
	}
	else if (strcmp(name, "connection_limit") == 0 || strcmp(name, "connection-limit") == 0)
	{
		if ((config->connection_limit = api_parse_count(value, 100000)) < 0)
			goto bad;
	}
	else if (strcmp(name, "key") == 0 && where != NULL)
	{
		if (config->nkeys >= API_MAX_KEYS)
		{
			fprintf(stderr, "whiplash-api: %s: more than %d keys\n", where, API_MAX_KEYS);
			return false;
		}
		if (!api_parse_key(value, &config->keys[config->nkeys]))
		{
			/* the value may hold a real key pasted by mistake: never echo it */
			fprintf(stderr, "whiplash-api: %s: a key line is \"key = ROLE sha256:HASH\"\n"
					"hint: whiplash-api --hash-key prints the hash of a key read on standard input\n",
					where);
			return false;
		}
		config->nkeys++;
	}
	else
	{
		fprintf(stderr, "whiplash-api: %s%sunknown setting \"%s\"\n",
				where ? where : "", where ? ": " : "", name);
		return false;
	}
	return true;

bad:
	fprintf(stderr, "whiplash-api: %s%sinvalid value for %s: \"%s\"\n",
			where ? where : "", where ? ": " : "", name, value);
	return false;
}

/* Removes surrounding blanks and one pair of single quotes, in place. */
static char *
api_trim(char *text)
{
	char	   *end;

	while (isspace((unsigned char) *text))
		text++;
	end = text + strlen(text);
	while (end > text && isspace((unsigned char) end[-1]))
		*--end = '\0';
	if (end - text >= 2 && text[0] == '\'' && end[-1] == '\'')
	{
		end[-1] = '\0';
		text++;
	}
	return text;
}

/* Reads a configuration file of "name = value" lines. */
static bool
api_read_file(ApiConfig *config, const char *path)
{
	FILE	   *file = fopen(path, "r");
	char		line[8192];
	int			lineno = 0;
	bool		ok = true;

	if (file == NULL)
	{
		fprintf(stderr, "whiplash-api: could not open configuration file \"%s\": %s\n",
				path, strerror(errno));
		return false;
	}
	while (ok && fgets(line, sizeof(line), file) != NULL)
	{
		char		where[1100];
		char	   *text = line;
		char	   *equals;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		text[strcspn(text, "\r\n")] = '\0';
		text = api_trim(text);
		if (*text == '\0' || *text == '#')
			continue;
		equals = strchr(text, '=');
		if (equals == NULL)
		{
			fprintf(stderr, "whiplash-api: %s: expected \"name = value\"\n", where);
			ok = false;
			break;
		}
		*equals = '\0';
		ok = api_set(config, api_trim(text), api_trim(equals + 1), where);
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(file);
	return ok;
}

/*
 * Fills config from the defaults, the --config file and the other flags,
 * in that order.  Returns false when the program should exit with
 * *exit_code (after --help, --version, --hash-key or a bad setting).
 */
bool
api_config_load(ApiConfig *config, int argc, char **argv, int *exit_code)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 'l'},
		{"port", required_argument, NULL, 'p'},
		{"conninfo", required_argument, NULL, 'd'},
		{"pool-size", required_argument, NULL, 'n'},
		{"request-timeout", required_argument, NULL, 't'},
		{"max-body", required_argument, NULL, 'b'},
		{"schema", required_argument, NULL, 's'},
		{"connection-limit", required_argument, NULL, 'L'},
		{"hash-key", no_argument, NULL, 'H'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *config_file = NULL;
	int			opt;

	memset(config, 0, sizeof(*config));
	config->listen = strdup("127.0.0.1");
	config->port = 8080;
	config->conninfo = strdup("");
	config->pool_size = 8;
	config->request_timeout_ms = 30000;
	config->max_body = 64 * 1024 * 1024;
	config->schema = strdup("public");
	config->connection_limit = 256;
	*exit_code = 2;

	/* the file first, wherever --config stands, so that flags override it */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1)
	{
		if (opt == 'h')
		{
			api_usage(stdout);
			*exit_code = 0;
			return false;
		}
		if (opt == 'V')
		{
			printf("whiplash-api " API_VERSION "\n");
			*exit_code = 0;
			return false;
		}
		if (opt == 'H')
		{
			*exit_code = api_hash_key_command();
			return false;
		}
		if (opt == 'c')
			config_file = optarg;
		if (opt == '?')
		{
			fprintf(stderr, "whiplash-api: unknown or incomplete option \"%s\"\n"
					"Try \"whiplash-api --help\".\n", argv[optind - 1]);
			return false;
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "whiplash-api: unexpected argument \"%s\"\n", argv[optind]);
		return false;
	}
	if (config_file != NULL && !api_read_file(config, config_file))
		return false;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1)
	{
		if (opt == 'c')
			continue;
		for (int i = 0; options[i].name != NULL; i++)
			if (options[i].val == opt && !api_set(config, options[i].name, optarg, NULL))
				return false;
	}
	if (config->nkeys == 0)
	{
		fprintf(stderr, "whiplash-api: no API keys configured\n"
				"hint: add \"key = ROLE sha256:HASH\" lines to the --config file; "
				"whiplash-api --hash-key prints a key's hash\n");
		return false;
	}
	return true;
}

/* The role of an API key, or NULL if no configured key matches. */
const char *
api_key_role(const ApiConfig *config, const char *key)
{
	unsigned char hash[32];
	const char *role = NULL;

	if (key == NULL)
		return NULL;
	api_sha256(key, strlen(key), hash);
	/* compare with every key in constant time, so timing tells nothing */
	for (int i = 0; i < config->nkeys; i++)
		if (CRYPTO_memcmp(hash, config->keys[i].hash, 32) == 0)
			role = config->keys[i].role;
	return role;
}

/* Frees what api_config_load allocated. */
void
api_config_free(ApiConfig *config)
{
	free(config->listen);
	free(config->conninfo);
	free(config->schema);
	for (int i = 0; i < config->nkeys; i++)
		free(config->keys[i].role);
}

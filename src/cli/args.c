/*
 * args.c - the helpers the whiplash client's commands share for reading
 * their arguments: an option's value, the usage error that ends a command,
 * and the checks of a count and of a vector that both the commands and an
 * import's rows make.
 *
 * It calls no other file of the client, so that main.c, the commands
 * (commands.c, import.c) and the reading of an import's rows (rows.c) can
 * all call it without any of them calling back into another.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * Prints a usage error, and the usage line of the command (or of whiplash
 * when command is NULL), on stderr; returns the exit code of usage errors.
 */
int
wl_usage_error(const WlCommand *command, const char *format,...)
{
	va_list		ap;

	fputs("whiplash: error: ", stderr);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	if (command != NULL)
		fprintf(stderr, "\nusage: whiplash [GLOBAL OPTIONS] %s%s%s\n"
				"(whiplash %s --help describes it)\n", command->name,
				command->usage[0] ? " " : "", command->usage, command->name);
	else
		fprintf(stderr, "\nusage: whiplash [--url URL] [--key KEY] [--project P] [--json] COMMAND [ARGS]\n"
				"(whiplash --help lists the commands)\n");
	return WL_EXIT_USAGE;
}

/*
 * The value of a command's option as given (by its name without "="), ""
 * for a flag given, or NULL when not given.
 */
const char *
wl_option(const WlArgs *args, const char *name)
{
	size_t		name_length = strlen(name);
	int			i;

	for (i = 0; args->command->options[i] != NULL; i++)
	{
		const char *spec = args->command->options[i];

		if (strncmp(spec, name, name_length) == 0 &&
			(spec[name_length] == '\0' || spec[name_length] == '='))
			return args->values[i];
	}
	return NULL;
}

/*
 * Parses a whole-number option's value, from minimum to maximum; false
 * when it is not one.
 */
bool
wl_parse_count(const char *text, long minimum, long maximum, long *count)
{
	char	   *end;

	errno = 0;
	*count = strtol(text, &end, 10);
	return text[0] != '\0' && *end == '\0' && errno == 0 && *count >= minimum &&
		*count <= maximum;
}

/* Is the JSON value a non-empty array of finite numbers, as a vector is? */
bool
wl_number_array(struct json_object *array)
{
	size_t		length;
	size_t		i;

	if (!json_object_is_type(array, json_type_array))
		return false;
	length = json_object_array_length(array);
	for (i = 0; i < length; i++)
	{
		struct json_object *number = json_object_array_get_idx(array, i);

		if (!json_object_is_type(number, json_type_int) &&
			!(json_object_is_type(number, json_type_double) &&
			  isfinite(json_object_get_double(number))))
			return false;
	}
	return length > 0;
}

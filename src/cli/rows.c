/*
 * rows.c - an import file's rows, read one line at a time and turned into
 * the items a batch request sends: {"id": ..., "vector": [...],
 * "attributes": {...}}.
 *
 * JSON lines hold one item object per line.  CSV lines hold the id, then
 * the vector's numbers; a first line whose second field is not a number is
 * a header.  A row that is not one (malformed JSON, a field of the wrong
 * type, a number that is not one, a vector of another length than the
 * collection's) stops the import with an error naming its line, so that no
 * batch holding it is sent.  The reader counts the bytes and lines it has
 * consumed, and sums them up, which an import records to resume after its
 * last batch.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The UTF-8 byte order mark some tools put at a file's start. */
#define WL_BOM "\xEF\xBB\xBF"

/*
 * Adds bytes to a checksum (64-bit FNV-1a), by which a resumed import
 * tells whether the part of its file the server has is still the same.
 */
unsigned long long
wl_checksum(unsigned long long checksum, const char *bytes, size_t length)
{
	size_t		i;

	for (i = 0; i < length; i++)
	{
		checksum ^= (unsigned char) bytes[i];
		checksum *= 0x100000001b3ULL;
	}
	return checksum;
}

/*
 * Prepares a reader of file's rows from where the state from says the
 * server's rows end (its offset, line number and checksum).  False, with
 * errno, when it cannot.
 */
bool
wl_rows_open(WlRowReader *reader, FILE *file, WlFormat format, int dimensions,
			 const WlImportState *from)
{
	memset(reader, 0, sizeof(*reader));
	reader->file = file;
	reader->format = format;
	reader->dimensions = dimensions;
	reader->offset = from->offset;
	reader->line_number = from->line_number;
	reader->checksum = from->checksum;
	reader->tokener = json_tokener_new();
	if (reader->tokener == NULL)
	{
		errno = ENOMEM;
		return false;
	}
	json_tokener_set_flags(reader->tokener, JSON_TOKENER_STRICT);
	return fseeko(file, from->offset, SEEK_SET) == 0;
}

/* Frees a reader's buffers; its file stays open. */
void
wl_rows_close(WlRowReader *reader)
{
	free(reader->line);
	free(reader->fields);
	if (reader->tokener != NULL)
		json_tokener_free(reader->tokener);
	memset(reader, 0, sizeof(*reader));
}

/* Sets the reader's error about its current line; returns -1. */
static int
wl_row_error(WlRowReader *reader, const char *format,...)
{
	va_list		ap;
	int			length;

	length = snprintf(reader->error, sizeof(reader->error), "line %lld: ", reader->line_number);
	va_start(ap, format);
	vsnprintf(reader->error + length, sizeof(reader->error) - length, format, ap);
	va_end(ap);
	return -1;
}

/* Checks a vector against the collection's dimensions. */
static int
wl_check_vector(WlRowReader *reader, struct json_object *vector)
{
	size_t		length = json_object_array_length(vector);

	if (length != (size_t) reader->dimensions)
		return wl_row_error(reader, "the vector's length is %zu, the collection's vectors' %d",
							length, reader->dimensions);
	return 0;
}

/*
 * Reads a JSON line's item into *item: an object of a non-empty string
 * "id", a "vector" of numbers and optionally an "attributes" object (a null
 * one is left out).  Returns 1, or -1 with the reader's error set.
 */
static int
wl_jsonl_row(WlRowReader *reader, const char *text, size_t length,
			 struct json_object **item)
{
	struct json_object *row;
	struct json_object *id = NULL;
	struct json_object *vector = NULL;
	struct json_object *attributes = NULL;
	enum json_tokener_error error;
	const char *unknown = NULL;

	json_tokener_reset(reader->tokener);
	row = json_tokener_parse_ex(reader->tokener, text, (int) length);
	error = json_tokener_get_error(reader->tokener);
	if (error != json_tokener_success)
	{
		json_object_put(row);
		return wl_row_error(reader, "malformed JSON (%s)",
							error == json_tokener_continue ? "it ends too soon" :
							json_tokener_error_desc(error));
	}
	if (!json_object_is_type(row, json_type_object))
	{
		json_object_put(row);
		return wl_row_error(reader, "not a JSON object");
	}
	json_object_object_foreach(row, key, value)
	{
		if (strcmp(key, "id") == 0)
			id = value;
		else if (strcmp(key, "vector") == 0)
			vector = value;
		else if (strcmp(key, "attributes") == 0)
			attributes = value;
		else if (unknown == NULL)
			unknown = key;
	}
	if (unknown != NULL)
		wl_row_error(reader, "unknown field \"%s\" (an item has \"id\", \"vector\" and \"attributes\")",
					 unknown);
	else if (!json_object_is_type(id, json_type_string) || json_object_get_string_len(id) == 0)
		wl_row_error(reader, "\"id\" must be a non-empty string");
	else if (!wl_number_array(vector))
		wl_row_error(reader, "\"vector\" must be an array of one or more numbers");
	else if (attributes != NULL && !json_object_is_type(attributes, json_type_object))
		wl_row_error(reader, "\"attributes\" must be a JSON object");
	else if (wl_check_vector(reader, vector) == 0)
	{
		if (json_object_object_get_ex(row, "attributes", NULL) && attributes == NULL)
			json_object_object_del(row, "attributes");
		*item = row;
		return 1;
	}
	json_object_put(row);
	return -1;
}

/*
 * Splits a CSV line into reader->fields, in place: a field may be quoted
 * ("..." with "" for a quote), and holds no line break.  Returns the number
 * of fields, or -1 with the reader's error set.
 */
static int
wl_csv_split(WlRowReader *reader, char *text)
{
	char	   *in = text;
	char	   *out = text;
	size_t		count = 0;

	for (;;)
	{
		char	   *field = out;

		if (*in == '"')
		{
			for (in++; *in != '"' || in[1] == '"'; in++)
			{
				if (*in == '\0')
					return wl_row_error(reader, "field %zu's quote is not closed", count + 1);
				if (*in == '"')
					in++;
				*out++ = *in;
			}
			in += 1 + strspn(in + 1, " \t");
			if (*in != ',' && *in != '\0')
				return wl_row_error(reader, "text after field %zu's closing quote", count + 1);
		}
		else
		{
			while (*in != ',' && *in != '\0')
				*out++ = *in++;
		}
		if (count == reader->fields_capacity)
		{
			size_t		capacity = count * 2 + 16;
			char	  **grown = realloc(reader->fields, capacity * sizeof(char *));

			if (grown == NULL)
				return wl_row_error(reader, "out of memory");
			reader->fields = grown;
			reader->fields_capacity = capacity;
		}
		reader->fields[count++] = field;
		if (*in == '\0')
		{
			*out = '\0';
			return (int) count;
		}
		in++;
		*out++ = '\0';
	}
}

/* Is text a number as JSON writes one: -?digits[.digits][e[+-]digits]? */
static bool
wl_json_number_syntax(const char *text)
{
	const char *c = text;

	if (*c == '-')
		c++;
	if (!isdigit((unsigned char) *c))
		return false;
	if (*c == '0')
		c++;
	else
		while (isdigit((unsigned char) *c))
			c++;
	if (*c == '.')
	{
		if (!isdigit((unsigned char) *++c))
			return false;
		while (isdigit((unsigned char) *c))
			c++;
	}
	if (*c == 'e' || *c == 'E')
	{
		c++;
		if (*c == '+' || *c == '-')
			c++;
		if (!isdigit((unsigned char) *c))
			return false;
		while (isdigit((unsigned char) *c))
			c++;
	}
	return *c == '\0';
}

/*
 * Parses a CSV field as a finite decimal number (spaces around it allowed)
 * into a JSON number, which keeps the field's text when JSON can carry it
 * as it is, so that the server reads exactly the file's digits.  Returns
 * NULL when the field is not a number.  Trims the field in place.
 */
static struct json_object *
wl_csv_number(char *field)
{
	char	   *start = field + strspn(field, " \t");
	size_t		length = strlen(start);
	char	   *end;
	double		value;

	while (length > 0 && (start[length - 1] == ' ' || start[length - 1] == '\t'))
		start[--length] = '\0';
	if (length == 0 || strpbrk(start, "xX") != NULL)
		return NULL;
	errno = 0;
	value = strtod(start, &end);
	if (*end != '\0' || !isfinite(value) || (errno == ERANGE && value != 0))
		return NULL;
	if (wl_json_number_syntax(start))
		return json_object_new_double_s(value, start);
	return json_object_new_double(value);
}

/*
 * Reads a CSV line's item into *item.  A file's first line whose second
 * field is not a number is its header: returns 0 for it.  Returns 1 for an
 * item, -1 with the reader's error set.
 */
static int
wl_csv_row(WlRowReader *reader, char *text, bool first_line, struct json_object **item)
{
	int			count = wl_csv_split(reader, text);
	struct json_object *row;
	struct json_object *vector;
	struct json_object *number;
	int			i;

	if (count < 0)
		return -1;
	if (count < 2)
		return wl_row_error(reader, "a row needs an id and one or more numbers");
	number = wl_csv_number(reader->fields[1]);
	if (number == NULL && first_line)
		return 0;
	if (reader->fields[0][0] == '\0')
	{
		json_object_put(number);
		return wl_row_error(reader, "empty id");
	}
	row = json_object_new_object();
	vector = json_object_new_array();
	if (row == NULL || vector == NULL ||
		!wl_json_add(row, "id", json_object_new_string(reader->fields[0])) ||
		!wl_json_add(row, "vector", json_object_get(vector)))
	{
		json_object_put(number);
		json_object_put(vector);
		json_object_put(row);
		return wl_row_error(reader, "out of memory");
	}
	json_object_put(vector);	/* the row holds it now */
	for (i = 1; i < count; i++)
	{
		/* the first number was parsed above, to tell a header */
		if (i > 1)
			number = wl_csv_number(reader->fields[i]);
		if (number == NULL)
		{
			json_object_put(row);
			return wl_row_error(reader, "field %d (\"%s\") is not a number", i + 1,
								reader->fields[i]);
		}
		if (json_object_array_add(vector, number) != 0)
		{
			json_object_put(number);
			json_object_put(row);
			return wl_row_error(reader, "out of memory");
		}
	}
	if (wl_check_vector(reader, vector) < 0)
	{
		json_object_put(row);
		return -1;
	}
	*item = row;
	return 1;
}

/*
 * Reads the next row's item into *item for the caller to put, skipping
 * blank lines and a CSV header.  Returns 1 for an item, 0 at the file's
 * end, -1 with reader->error set.
 */
int
wl_rows_next(WlRowReader *reader, struct json_object **item)
{
	for (;;)
	{
		bool		first_line = reader->offset == 0;
		ssize_t		length;
		char	   *text;
		int			result;

		errno = 0;
		length = getline(&reader->line, &reader->line_capacity, reader->file);
		if (length < 0)
		{
			if (ferror(reader->file))
			{
				reader->line_number++;
				return wl_row_error(reader, "cannot read it: %s",
									strerror(errno ? errno : EIO));
			}
			return 0;
		}
		reader->offset += length;
		reader->line_number++;
		reader->checksum = wl_checksum(reader->checksum, reader->line, length);
		text = reader->line;
		if (first_line && strncmp(text, WL_BOM, 3) == 0)
		{
			text += 3;
			length -= 3;
		}
		while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r'))
			text[--length] = '\0';
		if (strlen(text) != (size_t) length)
			return wl_row_error(reader, "a NUL byte in the text");
		if (strspn(text, " \t") == (size_t) length)
			continue;
		if (reader->format == WL_FORMAT_JSONL)
			return wl_jsonl_row(reader, text, length, item);
		result = wl_csv_row(reader, text, first_line, item);
		if (result != 0)
			return result;
	}
}

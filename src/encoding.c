/*
 * encoding.c - text between the database's encoding and DynamoDB's UTF-8.
 *
 * DynamoDB stores strings as UTF-8.  In a UTF8 database text goes as it is.
 * In any other encoding, every request body is converted to UTF-8 and every
 * answer back, so an id or attribute written from a LATIN1 database reads
 * the same from a UTF8 one; text with no equivalent in the database's
 * encoding is an error.  SQL_ASCII has no encoding to convert from: its
 * bytes go as they are, and must be valid UTF-8.  Rows written are checked
 * one by one (wl_check_utf8), so that the error names the row; the bodies
 * are checked too, for text that reaches DynamoDB another way (a key, a
 * filter).
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "whiplash.h"

/* A malloc'd, NUL-terminated copy of len bytes of text, or NULL. */
static char *
wl_malloc_copy(const char *text, size_t len, size_t *outlen, char *errbuf, size_t errlen)
{
	char	   *copy = malloc(len + 1);

	if (copy == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	*outlen = len;
	return copy;
}

/*
 * Converts text between the database's encoding and UTF-8 (to_utf8 says
 * which way), returning the error's message in errbuf when PostgreSQL's
 * conversion refuses it.  The core calls this mid-request, so no ERROR may
 * escape.
 */
static char *
wl_convert(const char *text, size_t len, bool to_utf8, size_t *outlen,
		   char *errbuf, size_t errlen)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	char	   *converted = NULL;
	char	   *copy = NULL;

	PG_TRY();
	{
		converted = to_utf8 ? pg_server_to_any(text, (int) len, PG_UTF8) :
			pg_any_to_server(text, (int) len, PG_UTF8);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		snprintf(errbuf, errlen, "%s", edata->message);
		FreeErrorData(edata);
		return NULL;
	}
	PG_END_TRY();
	copy = wl_malloc_copy(converted, strlen(converted), outlen, errbuf, errlen);
	if (converted != text)
		pfree(converted);
	return copy;
}

/* A request body to UTF-8, from a database neither UTF8 nor SQL_ASCII. */
static char *
wl_server_to_utf8(const char *text, size_t len, size_t *outlen, char *errbuf, size_t errlen)
{
	return wl_convert(text, len, true, outlen, errbuf, errlen);
}

/* An answer from UTF-8, into a database neither UTF8 nor SQL_ASCII. */
static char *
wl_utf8_to_server(const char *text, size_t len, size_t *outlen, char *errbuf, size_t errlen)
{
	return wl_convert(text, len, false, outlen, errbuf, errlen);
}

/* Is a request body from a SQL_ASCII database UTF-8, to be sent as it is? */
static bool
wl_is_utf8(const char *text, size_t len, char *errbuf, size_t errlen)
{
	if (pg_verify_mbstr(PG_UTF8, text, (int) len, true))
		return true;
	snprintf(errbuf, errlen,
			 "the request holds text that is not valid UTF-8, which DynamoDB needs");
	return false;
}

/*
 * Text as UTF-8, for the hash a record's slot keeps of it
 * (core/recordattrs.h): converted in a database of another encoding but
 * SQL_ASCII, whose bytes are taken as they are.
 */
const char *
wl_text_utf8_for_hash(const char *text)
{
	int			encoding = GetDatabaseEncoding();

	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII)
		return text;
	return pg_server_to_any(text, (int) strlen(text), PG_UTF8);
}

/* Sets a client's recoding for the database's encoding; see the header. */
void
wl_encoding_hooks(WlDdbConfig *config)
{
	switch (GetDatabaseEncoding())
	{
		case PG_UTF8:
			config->to_utf8 = NULL;
			config->from_utf8 = NULL;
			config->check_utf8 = NULL;
			break;
		case PG_SQL_ASCII:
			config->to_utf8 = NULL;
			config->from_utf8 = NULL;
			config->check_utf8 = wl_is_utf8;
			break;
		default:
			config->to_utf8 = wl_server_to_utf8;
			config->from_utf8 = wl_utf8_to_server;
			config->check_utf8 = NULL;
			break;
	}
}

/*
 * Refuses text of a row that DynamoDB could not store: in a SQL_ASCII
 * database, bytes that are not UTF-8.  (Other encodings convert.)  what
 * names the value, as "id" or "attributes".
 */
void
wl_check_utf8(const char *what, const char *text)
{
	if (text == NULL || GetDatabaseEncoding() != PG_SQL_ASCII ||
		pg_verify_mbstr(PG_UTF8, text, strlen(text), true))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("%s is not valid UTF-8, which DynamoDB stores", what),
			 errhint("The database's encoding is SQL_ASCII, which does not check text: write UTF-8, or use a database in another encoding.")));
}

/*
 * sigv4.c - AWS Signature Version 4 request signing (Postgres-free).
 *
 * Implements the four tasks of the SigV4 process: the canonical request,
 * the string to sign, the derived signing key and the Authorization header
 * value.  Hashing and HMAC come from OpenSSL 3's libcrypto through APIs that
 * are not deprecated there (EVP_Digest and the one-shot HMAC).  Memory comes
 * from malloc and is released on every path; key material is cleansed
 * before it is freed or goes out of scope.
 */
#include "sigv4.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR	"aws4_request"
#define SIGV4_DATE8_LEN		8	/* "yyyymmdd" */
#define SHA256_LEN			32
#define SHA256_HEX_LEN		64

/* A growable NUL-terminated string; out_of_memory sticks once set. */
typedef struct StrBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		out_of_memory;
} StrBuf;

/* One query parameter, pointing into the caller's query string. */
typedef struct QueryParam
{
	const char *name;
	size_t		name_len;
	const char *value;
	size_t		value_len;
} QueryParam;

/* One header with its position in the caller's array, for stable sorting. */
typedef struct SortedHeader
{
	const WlSigv4Header *header;
	int			position;
} SortedHeader;

/*
 * Appends len bytes of s to buf, doubling the allocation as needed.  After a
 * failed allocation the buffer stays marked and later appends do nothing, so
 * callers check once at the end instead of after every append.
 */
static void
strbuf_append_len(StrBuf *buf, const char *s, size_t len)
{
	size_t		needed;

	if (buf->out_of_memory)
		return;
	if (len > SIZE_MAX - buf->len - 1)
	{
		buf->out_of_memory = true;
		return;
	}
	needed = buf->len + len + 1;
	if (needed > buf->cap)
	{
		size_t		new_cap = buf->cap ? buf->cap : 256;
		char	   *new_data;

		while (new_cap < needed)
			new_cap = (new_cap > SIZE_MAX / 2) ? needed : new_cap * 2;
		new_data = realloc(buf->data, new_cap);
		if (new_data == NULL)
		{
			buf->out_of_memory = true;
			return;
		}
		buf->data = new_data;
		buf->cap = new_cap;
	}
	memcpy(buf->data + buf->len, s, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

/* Appends the NUL-terminated string s to buf. */
static void
strbuf_append(StrBuf *buf, const char *s)
{
	strbuf_append_len(buf, s, strlen(s));
}

/* Appends one character to buf. */
static void
strbuf_append_char(StrBuf *buf, char c)
{
	strbuf_append_len(buf, &c, 1);
}

/*
 * Hands over the built string, or frees it and returns NULL when an append
 * ran out of memory.  An empty buffer yields a malloc'd "".
 */
static char *
strbuf_finish(StrBuf *buf)
{
	if (!buf->out_of_memory && buf->data == NULL)
		strbuf_append_len(buf, "", 0);
	if (buf->out_of_memory)
	{
		free(buf->data);
		return NULL;
	}
	return buf->data;
}

/* Writes len bytes as lower-case hex into out[2 * len + 1]. */
static void
hex_encode(const unsigned char *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t		i;

	for (i = 0; i < len; i++)
	{
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

/* Lower-case hex SHA-256 of data into out[65]; false if libcrypto fails. */
static bool
sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char digest[SHA256_LEN];
	unsigned int digest_len = 0;

	if (!EVP_Digest(len > 0 ? data : "", len, digest, &digest_len,
					EVP_sha256(), NULL) ||
		digest_len != SHA256_LEN)
	{
		out[0] = '\0';
		return false;
	}
	hex_encode(digest, SHA256_LEN, out);
	return true;
}

/* HMAC-SHA256 of data under key into out[32]; false if libcrypto fails. */
static bool
hmac_sha256(const void *key, size_t key_len, const void *data,
			size_t data_len, unsigned char *out)
{
	unsigned int out_len = 0;

	if (key_len > INT_MAX)
		return false;
	if (HMAC(EVP_sha256(), key, (int) key_len, data, data_len,
			 out, &out_len) == NULL)
		return false;
	return out_len == SHA256_LEN;
}

/* ASCII lower-casing that ignores the locale, as header names require. */
static unsigned char
ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c - 'A' + 'a') : c;
}

/* Whether c is HTTP whitespace (space or horizontal tab). */
static bool
is_header_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Byte-wise comparison of two counted strings; a prefix sorts first. */
static int
compare_counted(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int			cmp = memcmp(a, b, a_len < b_len ? a_len : b_len);

	if (cmp != 0)
		return cmp;
	if (a_len != b_len)
		return a_len < b_len ? -1 : 1;
	return 0;
}

/* qsort comparator: query parameters by name, then by value. */
static int
query_param_cmp(const void *a, const void *b)
{
	const QueryParam *pa = a;
	const QueryParam *pb = b;
	int			cmp;

	cmp = compare_counted(pa->name, pa->name_len, pb->name, pb->name_len);
	if (cmp != 0)
		return cmp;
	return compare_counted(pa->value, pa->value_len, pb->value, pb->value_len);
}

/*
 * Appends the canonical query string: the '&'-separated parameters of query
 * (already URI-encoded) sorted by name and then value, each written as
 * name=value; a parameter without '=' gets an empty value.  Empty segments
 * (as in "a=1&&b=2") carry no parameter and are skipped.  Returns false when
 * out of memory.
 */
static bool
append_canonical_query(StrBuf *buf, const char *query)
{
	QueryParam *params;
	size_t		max_params = 1;
	size_t		nparams = 0;
	const char *segment = query;
	const char *p;
	size_t		i;

	if (query == NULL || query[0] == '\0')
		return true;

	for (p = query; *p; p++)
		if (*p == '&')
			max_params++;
	params = malloc(max_params * sizeof(QueryParam));
	if (params == NULL)
		return false;

	for (;;)
	{
		size_t		segment_len = strcspn(segment, "&");

		if (segment_len > 0)
		{
			const char *equals = memchr(segment, '=', segment_len);
			QueryParam *param = &params[nparams++];

			param->name = segment;
			if (equals != NULL)
			{
				param->name_len = (size_t) (equals - segment);
				param->value = equals + 1;
				param->value_len = segment_len - param->name_len - 1;
			}
			else
			{
				param->name_len = segment_len;
				param->value = "";
				param->value_len = 0;
			}
		}
		if (segment[segment_len] == '\0')
			break;
		segment += segment_len + 1;
	}

	qsort(params, nparams, sizeof(QueryParam), query_param_cmp);
	for (i = 0; i < nparams; i++)
	{
		if (i > 0)
			strbuf_append_char(buf, '&');
		strbuf_append_len(buf, params[i].name, params[i].name_len);
		strbuf_append_char(buf, '=');
		strbuf_append_len(buf, params[i].value, params[i].value_len);
	}
	free(params);
	return true;
}

/* Compares two header names as their lower-cased forms would compare. */
static int
header_name_cmp(const char *a, const char *b)
{
	for (;; a++, b++)
	{
		unsigned char ca = ascii_lower((unsigned char) *a);
		unsigned char cb = ascii_lower((unsigned char) *b);

		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (ca == '\0')
			return 0;
	}
}

/*
 * qsort comparator: headers by lower-cased name, and repeated names in the
 * order the caller gave them, so that their values combine in that order.
 */
static int
sorted_header_cmp(const void *a, const void *b)
{
	const SortedHeader *ha = a;
	const SortedHeader *hb = b;
	int			cmp = header_name_cmp(ha->header->name, hb->header->name);

	if (cmp != 0)
		return cmp;
	return (ha->position > hb->position) - (ha->position < hb->position);
}

/* Appends name lower-cased. */
static void
append_lower(StrBuf *buf, const char *name)
{
	for (; *name; name++)
		strbuf_append_char(buf, (char) ascii_lower((unsigned char) *name));
}

/*
 * Appends a header value trimmed of leading and trailing whitespace, with
 * each inner run of spaces and tabs folded into one space, as the canonical
 * headers require.
 */
static void
append_trimmed_value(StrBuf *buf, const char *value)
{
	const char *p = value;

	while (is_header_space(*p))
		p++;
	while (*p)
	{
		size_t		word_len = 0;

		while (p[word_len] && !is_header_space(p[word_len]))
			word_len++;
		strbuf_append_len(buf, p, word_len);
		p += word_len;
		while (is_header_space(*p))
			p++;
		if (*p)
			strbuf_append_char(buf, ' ');
	}
}

/*
 * Appends the canonical headers to creq (one "name:values\n" line per
 * distinct lower-cased name, sorted, repeated names' values joined with ',')
 * and the signed headers list (names joined with ';') to signed_headers.
 * Returns false when out of memory.
 */
static bool
append_canonical_headers(StrBuf *creq, StrBuf *signed_headers,
						 const WlSigv4Header *headers, int nheaders)
{
	SortedHeader *sorted;
	int			i;

	if (nheaders == 0)
		return true;
	sorted = malloc((size_t) nheaders * sizeof(SortedHeader));
	if (sorted == NULL)
		return false;
	for (i = 0; i < nheaders; i++)
	{
		sorted[i].header = &headers[i];
		sorted[i].position = i;
	}
	qsort(sorted, (size_t) nheaders, sizeof(SortedHeader), sorted_header_cmp);

	for (i = 0; i < nheaders; i++)
	{
		const WlSigv4Header *header = sorted[i].header;
		bool		same_name_as_previous = i > 0 &&
			header_name_cmp(sorted[i - 1].header->name, header->name) == 0;

		if (same_name_as_previous)
			strbuf_append_char(creq, ',');
		else
		{
			if (i > 0)
			{
				strbuf_append_char(creq, '\n');
				strbuf_append_char(signed_headers, ';');
			}
			append_lower(creq, header->name);
			strbuf_append_char(creq, ':');
			append_lower(signed_headers, header->name);
		}
		append_trimmed_value(creq, header->value);
	}
	strbuf_append_char(creq, '\n');
	free(sorted);
	return true;
}

/*
 * Checks the fields every task needs, so that the builders below never
 * dereference a NULL the caller left in place of a string, and that amz_date
 * has the length of an x-amz-date value, whose first eight characters are
 * the credential scope's date.
 */
static bool
request_is_valid(const WlSigv4Request *req)
{
	int			i;

	if (req == NULL || req->method == NULL || req->region == NULL ||
		req->service == NULL || req->amz_date == NULL ||
		strlen(req->amz_date) != WL_AMZ_DATE_LEN - 1)
		return false;
	if (req->nheaders < 0 || (req->nheaders > 0 && req->headers == NULL))
		return false;
	for (i = 0; i < req->nheaders; i++)
		if (req->headers[i].name == NULL || req->headers[i].value == NULL)
			return false;
	return req->payload != NULL || req->payload_len == 0;
}

/*
 * Builds the canonical request for req and, when signed_headers_out is not
 * NULL, hands over the signed headers list as well (both malloc'd).  A NULL
 * query counts as no query and an empty path as "/".  Returns NULL when req
 * is incomplete or memory runs out, freeing everything built so far.
 */
static char *
build_canonical_request(const WlSigv4Request *req, char **signed_headers_out)
{
	StrBuf		creq = {0};
	StrBuf		signed_headers = {0};
	char		payload_hash[SHA256_HEX_LEN + 1];
	bool		ok;
	char	   *creq_text;
	char	   *signed_text;

	if (!request_is_valid(req) ||
		!sha256_hex(req->payload, req->payload_len, payload_hash))
		return NULL;

	strbuf_append(&creq, req->method);
	strbuf_append_char(&creq, '\n');
	strbuf_append(&creq, (req->path && req->path[0]) ? req->path : "/");
	strbuf_append_char(&creq, '\n');
	ok = append_canonical_query(&creq, req->query);
	strbuf_append_char(&creq, '\n');
	ok = ok && append_canonical_headers(&creq, &signed_headers,
										req->headers, req->nheaders);
	strbuf_append_char(&creq, '\n');
	strbuf_append_len(&creq, signed_headers.data ? signed_headers.data : "",
					  signed_headers.len);
	strbuf_append_char(&creq, '\n');
	strbuf_append(&creq, payload_hash);

	creq_text = strbuf_finish(&creq);
	signed_text = strbuf_finish(&signed_headers);
	if (!ok || creq_text == NULL || signed_text == NULL)
	{
		free(creq_text);
		free(signed_text);
		return NULL;
	}
	if (signed_headers_out != NULL)
		*signed_headers_out = signed_text;
	else
		free(signed_text);
	return creq_text;
}

/*
 * Builds the string to sign for req from its already-built canonical
 * request: algorithm, x-amz-date, credential scope and the request's hash.
 */
static char *
build_string_to_sign(const WlSigv4Request *req, const char *creq)
{
	StrBuf		sts = {0};
	char		creq_hash[SHA256_HEX_LEN + 1];

	if (!sha256_hex(creq, strlen(creq), creq_hash))
		return NULL;
	strbuf_append(&sts, SIGV4_ALGORITHM "\n");
	strbuf_append(&sts, req->amz_date);
	strbuf_append_char(&sts, '\n');
	strbuf_append_len(&sts, req->amz_date, SIGV4_DATE8_LEN);
	strbuf_append_char(&sts, '/');
	strbuf_append(&sts, req->region);
	strbuf_append_char(&sts, '/');
	strbuf_append(&sts, req->service);
	strbuf_append(&sts, "/" SIGV4_TERMINATOR "\n");
	strbuf_append(&sts, creq_hash);
	return strbuf_finish(&sts);
}

/*
 * Derives the signing key: HMAC chain from "AWS4" + secret over the date,
 * region, service and "aws4_request".  The secret copy and intermediate keys
 * are cleansed.  Returns false when out of memory or libcrypto fails.
 */
static bool
derive_signing_key(const char *secret, const char *date8, size_t date8_len,
				   const char *region, const char *service,
				   unsigned char *key)
{
	size_t		secret_len = strlen(secret);
	size_t		prefixed_len = 4 + secret_len;
	char	   *prefixed_secret;
	unsigned char date_key[SHA256_LEN];
	unsigned char region_key[SHA256_LEN];
	unsigned char service_key[SHA256_LEN];
	bool		ok;

	prefixed_secret = malloc(prefixed_len);
	if (prefixed_secret == NULL)
		return false;
	memcpy(prefixed_secret, "AWS4", 4);
	memcpy(prefixed_secret + 4, secret, secret_len);

	ok = hmac_sha256(prefixed_secret, prefixed_len, date8, date8_len,
					 date_key) &&
		hmac_sha256(date_key, SHA256_LEN, region, strlen(region),
					region_key) &&
		hmac_sha256(region_key, SHA256_LEN, service, strlen(service),
					service_key) &&
		hmac_sha256(service_key, SHA256_LEN, SIGV4_TERMINATOR,
					strlen(SIGV4_TERMINATOR), key);

	OPENSSL_cleanse(prefixed_secret, prefixed_len);
	free(prefixed_secret);
	OPENSSL_cleanse(date_key, sizeof(date_key));
	OPENSSL_cleanse(region_key, sizeof(region_key));
	OPENSSL_cleanse(service_key, sizeof(service_key));
	if (!ok)
		OPENSSL_cleanse(key, SHA256_LEN);
	return ok;
}

/*
 * Formats t as an x-amz-date value (UTC, "yyyymmddThhmmssZ").  gmtime_r keeps
 * this thread-safe; a time gmtime_r cannot represent yields "".
 */
void
wl_sigv4_amz_date(time_t t, char *out)
{
	struct tm	tm_utc;

	if (gmtime_r(&t, &tm_utc) == NULL ||
		strftime(out, WL_AMZ_DATE_LEN, "%Y%m%dT%H%M%SZ", &tm_utc) !=
		WL_AMZ_DATE_LEN - 1)
		out[0] = '\0';
}

/* Lower-case hex SHA-256 of data into out[65]; "" if libcrypto fails. */
void
wl_sigv4_sha256_hex(const unsigned char *data, size_t len, char *out)
{
	sha256_hex(data, len, out);
}

/* Builds the canonical request (task 1); malloc'd, or NULL. */
char *
wl_sigv4_canonical_request(const WlSigv4Request *req)
{
	return build_canonical_request(req, NULL);
}

/* Builds the string to sign (task 2); malloc'd, or NULL. */
char *
wl_sigv4_string_to_sign(const WlSigv4Request *req)
{
	char	   *creq = build_canonical_request(req, NULL);
	char	   *sts;

	if (creq == NULL)
		return NULL;
	sts = build_string_to_sign(req, creq);
	free(creq);
	return sts;
}

/*
 * Derives the signing key (task 3) into key[32].  The header gives this no
 * way to report failure, so on NULL arguments or out of memory the key is
 * zeroed rather than left uninitialized.
 */
void
wl_sigv4_signing_key(const char *secret, const char *date8,
					 const char *region, const char *service,
					 unsigned char *key)
{
	if (secret == NULL || date8 == NULL || region == NULL || service == NULL ||
		!derive_signing_key(secret, date8, strlen(date8), region, service,
							key))
		memset(key, 0, SHA256_LEN);
}

/*
 * Signs req (tasks 1 to 4) and writes the Authorization header value into
 * out.  On any failure out is left empty rather than holding a partial or
 * truncated value, and -1 is returned.
 */
int
wl_sigv4_authorization(const WlSigv4Request *req,
					   const WlSigv4Credentials *cred,
					   char *out, size_t outlen)
{
	char	   *signed_headers = NULL;
	char	   *creq = NULL;
	char	   *sts = NULL;
	unsigned char signing_key[SHA256_LEN];
	unsigned char signature[SHA256_LEN];
	char		signature_hex[SHA256_HEX_LEN + 1];
	int			written = -1;

	if (out == NULL || outlen == 0)
		return -1;
	out[0] = '\0';
	if (cred == NULL || cred->access_key_id == NULL ||
		cred->secret_access_key == NULL)
		return -1;

	creq = build_canonical_request(req, &signed_headers);
	if (creq != NULL)
		sts = build_string_to_sign(req, creq);
	if (sts != NULL &&
		derive_signing_key(cred->secret_access_key, req->amz_date,
						   SIGV4_DATE8_LEN, req->region, req->service,
						   signing_key))
	{
		if (hmac_sha256(signing_key, SHA256_LEN, sts, strlen(sts), signature))
		{
			hex_encode(signature, SHA256_LEN, signature_hex);
			written = snprintf(out, outlen,
							   SIGV4_ALGORITHM " Credential=%s/%.*s/%s/%s/"
							   SIGV4_TERMINATOR
							   ", SignedHeaders=%s, Signature=%s",
							   cred->access_key_id,
							   SIGV4_DATE8_LEN, req->amz_date,
							   req->region, req->service,
							   signed_headers, signature_hex);
		}
		OPENSSL_cleanse(signing_key, sizeof(signing_key));
	}

	free(signed_headers);
	free(creq);
	free(sts);
	if (written < 0 || (size_t) written >= outlen)
	{
		out[0] = '\0';
		return -1;
	}
	return 0;
}

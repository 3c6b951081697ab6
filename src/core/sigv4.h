/*
 * sigv4.h - AWS Signature Version 4 request signing (Postgres-free).
 *
 * The signer takes a request as already-encoded pieces (method, canonical
 * path, query string, headers, payload) and produces the Authorization
 * header value.  It is general enough to reproduce the worked examples of
 * AWS's SigV4 documentation, and the DynamoDB client uses it for every call.
 */
#ifndef WL_SIGV4_H
#define WL_SIGV4_H

#include <stddef.h>
#include <time.h>

/* Length of an x-amz-date value such as "20150830T123600Z", plus NUL. */
#define WL_AMZ_DATE_LEN 17

/* Buffer size that always holds an Authorization header value we build. */
#define WL_SIGV4_AUTH_MAX 1024

typedef struct WlSigv4Header
{
	const char *name;			/* any case; lower-cased for signing */
	const char *value;			/* trimmed, inner runs of spaces folded */
} WlSigv4Header;

typedef struct WlSigv4Credentials
{
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* NULL when none; the caller sends it as
								 * x-amz-security-token and lists it in
								 * headers so that it is signed */
} WlSigv4Credentials;

typedef struct WlSigv4Request
{
	const char *method;			/* "GET", "POST" */
	const char *path;			/* URI-encoded path, e.g. "/" */
	const char *query;			/* URI-encoded query without '?', "" if none;
								 * parameters are sorted by the signer */
	const WlSigv4Header *headers;	/* must include host and x-amz-date */
	int			nheaders;
	const unsigned char *payload;
	size_t		payload_len;
	const char *region;			/* "us-east-1" */
	const char *service;		/* "dynamodb" */
	const char *amz_date;		/* "20150830T123600Z" (UTC) */
} WlSigv4Request;

/* Formats t (UTC) as an x-amz-date value into out[WL_AMZ_DATE_LEN]. */
extern void wl_sigv4_amz_date(time_t t, char *out);

/* Lower-case hex SHA-256 of data into out[65]. */
extern void wl_sigv4_sha256_hex(const unsigned char *data, size_t len, char *out);

/*
 * Builds the canonical request (task 1 of the spec).  Returns a malloc'd
 * string the caller frees, or NULL when out of memory.
 */
extern char *wl_sigv4_canonical_request(const WlSigv4Request *req);

/*
 * Builds the string to sign (task 2).  Returns a malloc'd string, or NULL.
 */
extern char *wl_sigv4_string_to_sign(const WlSigv4Request *req);

/*
 * Derives the signing key (task 3) for secret, yyyymmdd date, region and
 * service into key[32].
 */
extern void wl_sigv4_signing_key(const char *secret, const char *date8,
								 const char *region, const char *service,
								 unsigned char *key);

/*
 * Signs req and writes the full Authorization header value
 * ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...")
 * into out.  Returns 0 on success, -1 when out is too small or memory ran
 * out.
 */
extern int	wl_sigv4_authorization(const WlSigv4Request *req,
								   const WlSigv4Credentials *cred,
								   char *out, size_t outlen);

#endif							/* WL_SIGV4_H */

/*
 * http.h - a pool of kept-alive HTTP connections on libcurl (Postgres-free).
 *
 * One client lives as long as the backend that owns it.  Its libcurl multi
 * handle keeps connections (and TLS sessions) open between calls, and
 * wl_http_perform sends any number of requests at once, up to the
 * configured number of connections, and returns when all have answered.  A
 * caller-supplied check is polled while waiting so that a query cancel can
 * abandon the transfers promptly.
 */
#ifndef WL_HTTP_H
#define WL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct WlHttpClient WlHttpClient;

typedef struct WlHttpConfig
{
	long		connect_timeout_ms; /* TCP + TLS set-up */
	long		request_timeout_ms; /* one whole request, connect included */
	int			max_connections;	/* in flight at once per host */
	const char *ca_file;		/* CA bundle; NULL for the system's */
} WlHttpConfig;

/* Why a request got no HTTP response. */
typedef enum WlHttpFailure
{
	WL_HTTP_NO_FAILURE = 0,
	WL_HTTP_CONNECT_FAILED,		/* resolve or TLS handshake */
	WL_HTTP_REFUSED,			/* nothing accepts connections there */
	WL_HTTP_MISMATCH,			/* no retry cures it: TLS spoken to plain
								 * HTTP, a certificate that does not verify,
								 * an answer that is not HTTP/1.x */
	WL_HTTP_TIMED_OUT,			/* connect_timeout or request_timeout */
	WL_HTTP_TRANSPORT_FAILED,	/* reset, malformed HTTP, ... */
	WL_HTTP_OUT_OF_MEMORY
} WlHttpFailure;

typedef struct WlHttpRequest
{
	/* Set by the caller; must stay valid during wl_http_perform. */
	const char *url;
	const char *const *headers; /* "Name: value" lines */
	int			nheaders;
	const char *body;			/* POST body; NULL sends a GET */
	size_t		body_len;

	/* Set by wl_http_perform. */
	long		status;			/* HTTP status; 0 when failure is set */
	WlHttpFailure failure;
	char		error[256];		/* libcurl's explanation of a failure */
	char	   *response;		/* malloc'd body, NUL-terminated, or NULL */
	size_t		response_len;
	char		content_type[64];	/* the answer's, cut short; "" if none */
} WlHttpRequest;

/* Counters of what a client has done since it was created. */
typedef struct WlHttpStats
{
	long		requests;		/* HTTP requests sent */
	long		connections;	/* new connections opened */
} WlHttpStats;

/* Polled while waiting; returning true abandons all transfers. */
typedef bool (*WlHttpAbortCheck) (void *arg);

/* Results of wl_http_perform. */
#define WL_HTTP_DONE		0	/* every request has a status or a failure */
#define WL_HTTP_ABORTED		1	/* the abort check fired; results undefined */

/*
 * Creates a client, or returns NULL with a reason in errbuf.  Sets up
 * libcurl's global state on first use.
 */
extern WlHttpClient *wl_http_create(const WlHttpConfig *config,
									char *errbuf, size_t errlen);

/* Closes every connection and frees the client; NULL is a no-op. */
extern void wl_http_destroy(WlHttpClient *client);

/*
 * Sends all requests concurrently and waits for all of them.  Clears any
 * earlier response of each request first.
 */
extern int	wl_http_perform(WlHttpClient *client, WlHttpRequest *const *requests,
							int nrequests, WlHttpAbortCheck abort_check,
							void *abort_arg);

/* Frees a request's response and resets its results. */
extern void wl_http_request_reset(WlHttpRequest *request);

/* Copies the client's counters into stats. */
extern void wl_http_get_stats(const WlHttpClient *client, WlHttpStats *stats);

/* The parts of an endpoint URL a signer and a Host header need. */
typedef struct WlEndpoint
{
	char		url[512];		/* scheme://host[:port]/path, normalised */
	char		host[300];		/* Host header value: host[:port] */
	char		path[256];		/* canonical path, "/" at least */
	bool		tls;			/* https */
} WlEndpoint;

/*
 * Parses and checks an endpoint URL: http or https, a host, an optional
 * port and path, and nothing else (no user, query or fragment).  Returns 0,
 * or -1 with a lower-case reason in errbuf.
 */
extern int	wl_http_parse_endpoint(const char *url, WlEndpoint *endpoint,
								   char *errbuf, size_t errlen);

#endif							/* WL_HTTP_H */

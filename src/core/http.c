/*
 * http.c - a pool of kept-alive HTTP connections on libcurl.
 *
 * The client owns one multi handle, whose connection cache keeps sockets
 * and TLS sessions open between calls, and a small stack of idle easy
 * handles that are reused so that each request costs no set-up.  Requests
 * of one wl_http_perform call run concurrently, up to max_connections.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

/* How long one wait for socket activity may last before the abort check. */
#define WL_HTTP_POLL_MS 20

/* Idle easy handles kept for reuse. */
#define WL_HTTP_IDLE_MAX 64

struct WlHttpClient
{
	CURLM	   *multi;
	WlHttpConfig config;
	char	   *ca_file;		/* our copy of config.ca_file */
	CURL	   *idle[WL_HTTP_IDLE_MAX];
	int			nidle;
	WlHttpStats stats;
};

/* One transfer in flight: the request and what curl needs for it. */
typedef struct WlTransfer
{
	WlHttpRequest *request;
	CURL	   *easy;
	struct curl_slist *headers;
	size_t		capacity;		/* allocated size of request->response */
	char		errbuf[CURL_ERROR_SIZE];
} WlTransfer;

static bool curl_ready = false;

/*
 * Appends received bytes to the request's response buffer, doubling it as
 * needed.  Returning less than asked makes curl fail the transfer, which is
 * how running out of memory is reported.
 */
static size_t
wl_http_write(char *data, size_t size, size_t nmemb, void *arg)
{
	WlTransfer *transfer = arg;
	WlHttpRequest *request = transfer->request;
	size_t		len = size * nmemb;

	if (request->response_len + len + 1 > transfer->capacity)
	{
		size_t		capacity = transfer->capacity ? transfer->capacity : 4096;
		char	   *grown;

		while (request->response_len + len + 1 > capacity)
			capacity *= 2;
		grown = realloc(request->response, capacity);
		if (grown == NULL)
		{
			request->failure = WL_HTTP_OUT_OF_MEMORY;
			return 0;
		}
		request->response = grown;
		transfer->capacity = capacity;
	}
	memcpy(request->response + request->response_len, data, len);
	request->response_len += len;
	request->response[request->response_len] = '\0';
	return len;
}

/*
 * Creates a client with its multi handle.  Connection limits go on the
 * multi handle, so that curl itself queues requests beyond them.
 */
WlHttpClient *
wl_http_create(const WlHttpConfig *config, char *errbuf, size_t errlen)
{
	WlHttpClient *client;

	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		{
			snprintf(errbuf, errlen, "could not initialise libcurl");
			return NULL;
		}
		curl_ready = true;
	}

	client = calloc(1, sizeof(WlHttpClient));
	if (client == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	client->config = *config;
	if (config->ca_file != NULL)
	{
		client->ca_file = strdup(config->ca_file);
		client->config.ca_file = client->ca_file;
	}
	client->multi = curl_multi_init();
	if (client->multi == NULL || (config->ca_file != NULL && client->ca_file == NULL))
	{
		snprintf(errbuf, errlen, "could not create an HTTP client");
		wl_http_destroy(client);
		return NULL;
	}
	curl_multi_setopt(client->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
					  (long) config->max_connections);
	curl_multi_setopt(client->multi, CURLMOPT_MAXCONNECTS,
					  (long) config->max_connections);
	return client;
}

/* Frees every idle handle, then the multi handle and its connections. */
void
wl_http_destroy(WlHttpClient *client)
{
	if (client == NULL)
		return;
	while (client->nidle > 0)
		curl_easy_cleanup(client->idle[--client->nidle]);
	if (client->multi != NULL)
		curl_multi_cleanup(client->multi);
	free(client->ca_file);
	free(client);
}

/* Frees a request's response and clears its results. */
void
wl_http_request_reset(WlHttpRequest *request)
{
	free(request->response);
	request->response = NULL;
	request->response_len = 0;
	request->status = 0;
	request->failure = WL_HTTP_NO_FAILURE;
	request->error[0] = '\0';
	request->content_type[0] = '\0';
}

/* Copies the client's counters. */
void
wl_http_get_stats(const WlHttpClient *client, WlHttpStats *stats)
{
	*stats = client->stats;
}

/* Takes an idle easy handle, or makes a new one; NULL when out of memory. */
static CURL *
wl_http_take_handle(WlHttpClient *client)
{
	if (client->nidle > 0)
	{
		CURL	   *easy = client->idle[--client->nidle];

		curl_easy_reset(easy);
		return easy;
	}
	return curl_easy_init();
}

/* Returns an easy handle to the idle stack, or frees it when that is full. */
static void
wl_http_give_handle(WlHttpClient *client, CURL *easy)
{
	if (client->nidle < WL_HTTP_IDLE_MAX)
		client->idle[client->nidle++] = easy;
	else
		curl_easy_cleanup(easy);
}

/*
 * Sets up one transfer: its easy handle, headers and options.  Returns false
 * when out of memory.  "Expect:" suppresses curl's 100-continue wait, which
 * would add a round trip to every POST over 1 KB.
 */
static bool
wl_http_prepare(WlHttpClient *client, WlTransfer *transfer)
{
	WlHttpRequest *request = transfer->request;
	const WlHttpConfig *config = &client->config;
	CURL	   *easy;
	int			i;

	for (i = 0; i < request->nheaders; i++)
	{
		struct curl_slist *list = curl_slist_append(transfer->headers,
													request->headers[i]);

		if (list == NULL)
			return false;
		transfer->headers = list;
	}
	transfer->headers = curl_slist_append(transfer->headers, "Expect:");
	if (transfer->headers == NULL)
		return false;

	easy = wl_http_take_handle(client);
	if (easy == NULL)
		return false;
	transfer->easy = easy;

	curl_easy_setopt(easy, CURLOPT_URL, request->url);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
	if (request->body != NULL)
	{
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
						 (curl_off_t) request->body_len);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request->body);
	}
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, wl_http_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->errbuf);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, config->connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, config->request_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
	if (config->ca_file != NULL)
		curl_easy_setopt(easy, CURLOPT_CAINFO, config->ca_file);
	return true;
}

/* Maps a libcurl result code to why the request got no response. */
static WlHttpFailure
wl_http_failure_kind(CURLcode code, const char *explanation)
{
	switch (code)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			return WL_HTTP_CONNECT_FAILED;
		case CURLE_COULDNT_CONNECT:
			return WL_HTTP_REFUSED;
		case CURLE_SSL_CONNECT_ERROR:
			/* OpenSSL's words for a handshake answered by plain HTTP */
			return strstr(explanation, "wrong version number") != NULL ?
				WL_HTTP_MISMATCH : WL_HTTP_CONNECT_FAILED;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_UNSUPPORTED_PROTOCOL:	/* also "Received HTTP/0.9" */
			return WL_HTTP_MISMATCH;
		case CURLE_OPERATION_TIMEDOUT:
			return WL_HTTP_TIMED_OUT;
		case CURLE_OUT_OF_MEMORY:
			return WL_HTTP_OUT_OF_MEMORY;
		default:
			return WL_HTTP_TRANSPORT_FAILED;
	}
}

/* Records the outcome of a finished transfer in its request. */
static void
wl_http_finish(WlHttpClient *client, WlTransfer *transfer, CURLcode code)
{
	WlHttpRequest *request = transfer->request;
	long		connects = 0;

	if (curl_easy_getinfo(transfer->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
		client->stats.connections += connects;

	if (code == CURLE_OK)
	{
		char	   *content_type = NULL;

		curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &request->status);
		if (curl_easy_getinfo(transfer->easy, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK &&
			content_type != NULL)
			snprintf(request->content_type, sizeof(request->content_type), "%s",
					 content_type);
		return;
	}
	snprintf(request->error, sizeof(request->error), "%s",
			 transfer->errbuf[0] ? transfer->errbuf : curl_easy_strerror(code));
	if (request->failure == WL_HTTP_NO_FAILURE)
		request->failure = wl_http_failure_kind(code, request->error);
	request->status = 0;
}

/*
 * Detaches every transfer still attached to the multi handle and releases
 * what each holds.  A transfer cut off mid-way closes its connection, so
 * no half-read response can confuse the next call.
 */
static void
wl_http_release(WlHttpClient *client, WlTransfer *transfers, int ntransfers,
				bool keep_handles)
{
	int			i;

	for (i = 0; i < ntransfers; i++)
	{
		WlTransfer *transfer = &transfers[i];

		if (transfer->easy != NULL)
		{
			curl_multi_remove_handle(client->multi, transfer->easy);
			if (keep_handles)
				wl_http_give_handle(client, transfer->easy);
			else
				curl_easy_cleanup(transfer->easy);
		}
		curl_slist_free_all(transfer->headers);
	}
	free(transfers);
}

/*
 * Prepares a transfer and attaches it to the multi handle.  Returns 1 when
 * it is running, 0 when it could not start (its request says why).
 */
static int
wl_http_start(WlHttpClient *client, WlTransfer *transfer)
{
	if (!wl_http_prepare(client, transfer) ||
		curl_multi_add_handle(client->multi, transfer->easy) != CURLM_OK)
	{
		transfer->request->failure = WL_HTTP_OUT_OF_MEMORY;
		snprintf(transfer->request->error, sizeof(transfer->request->error),
				 "could not start the request");
		return 0;
	}
	client->stats.requests++;
	return 1;
}

/*
 * Sends all requests, max_connections at a time, and waits until each has
 * an answer or a failure.  Between rounds of socket activity it calls abort_check (at least
 * every WL_HTTP_POLL_MS); when that returns true the transfers are dropped
 * and WL_HTTP_ABORTED is returned.
 */
int
wl_http_perform(WlHttpClient *client, WlHttpRequest *const *requests,
				int nrequests, WlHttpAbortCheck abort_check, void *abort_arg)
{
	WlTransfer *transfers;
	int			running = 0;
	int			next = 0;
	int			i;

	transfers = calloc(nrequests > 0 ? nrequests : 1, sizeof(WlTransfer));
	if (transfers == NULL)
	{
		for (i = 0; i < nrequests; i++)
		{
			wl_http_request_reset(requests[i]);
			requests[i]->failure = WL_HTTP_OUT_OF_MEMORY;
			snprintf(requests[i]->error, sizeof(requests[i]->error), "out of memory");
		}
		return WL_HTTP_DONE;
	}

	for (i = 0; i < nrequests; i++)
	{
		transfers[i].request = requests[i];
		wl_http_request_reset(requests[i]);
	}

	for (;;)
	{
		CURLMsg    *msg;
		int			queued;
		int			still_running = 0;

		/*
		 * Attach transfers only while a connection is free: a request's
		 * timeout then measures the exchange, not a wait in curl's queue.
		 */
		while (running < client->config.max_connections && next < nrequests)
			running += wl_http_start(client, &transfers[next++]);
		if (running == 0)
			break;

		curl_multi_perform(client->multi, &still_running);
		while ((msg = curl_multi_info_read(client->multi, &queued)) != NULL)
		{
			WlTransfer *transfer;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &transfer);
			wl_http_finish(client, transfer, msg->data.result);
			curl_multi_remove_handle(client->multi, transfer->easy);
			wl_http_give_handle(client, transfer->easy);
			transfer->easy = NULL;
			running--;
		}
		if (running == 0 && next >= nrequests)
			break;
		if (abort_check != NULL && abort_check(abort_arg))
		{
			wl_http_release(client, transfers, nrequests, false);
			return WL_HTTP_ABORTED;
		}
		if (running > 0)
			curl_multi_poll(client->multi, NULL, 0, WL_HTTP_POLL_MS, NULL);
	}

	wl_http_release(client, transfers, nrequests, true);
	return WL_HTTP_DONE;
}

/*
 * Parses an endpoint URL with libcurl's URL parser and keeps what the
 * signer and the Host header need.  The Host value carries the port only
 * when it is not the scheme's default, as curl and AWS's signers do.
 */
int
wl_http_parse_endpoint(const char *url, WlEndpoint *endpoint,
					   char *errbuf, size_t errlen)
{
	CURLU	   *parsed = curl_url();
	char	   *scheme = NULL;
	char	   *host = NULL;
	char	   *port = NULL;
	char	   *path = NULL;
	char	   *extra = NULL;
	int			result = -1;

	memset(endpoint, 0, sizeof(WlEndpoint));
	if (parsed == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	if (curl_url_set(parsed, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK)
	{
		snprintf(errbuf, errlen, "\"%s\" is not a URL of the form http[s]://host[:port]", url);
		goto done;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
	{
		snprintf(errbuf, errlen, "endpoint scheme must be http or https, not \"%s\"", scheme);
		goto done;
	}
	if (curl_url_get(parsed, CURLUPART_USER, &extra, 0) == CURLUE_OK ||
		curl_url_get(parsed, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
		curl_url_get(parsed, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK)
	{
		snprintf(errbuf, errlen, "endpoint must not contain a user, query or fragment");
		goto done;
	}
	curl_url_get(parsed, CURLUPART_PORT, &port, 0);
	if (curl_url_get(parsed, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		path = NULL;

	endpoint->tls = strcmp(scheme, "https") == 0;
	if (strlen(host) + (port ? strlen(port) + 1 : 0) >= sizeof(endpoint->host) ||
		(path && strlen(path) >= sizeof(endpoint->path)))
	{
		snprintf(errbuf, errlen, "endpoint is too long");
		goto done;
	}
	snprintf(endpoint->host, sizeof(endpoint->host), "%s%s%s",
			 host, port ? ":" : "", port ? port : "");
	snprintf(endpoint->path, sizeof(endpoint->path), "%s",
			 path && path[0] ? path : "/");
	if ((size_t) snprintf(endpoint->url, sizeof(endpoint->url), "%s://%s%s",
						  scheme, endpoint->host, endpoint->path) >= sizeof(endpoint->url))
	{
		snprintf(errbuf, errlen, "endpoint is too long");
		goto done;
	}
	result = 0;

done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(extra);
	curl_url_cleanup(parsed);
	return result;
}

/*
 * fuzz_endpoint.c - fuzzes wl_http_parse_endpoint (http.c), which checks a
 * server's endpoint option and splits it into the URL, Host header and
 * canonical path that requests are sent to and signed with, and
 * wl_ddb_default_endpoint, which builds the endpoint from the region
 * option when there is none.
 *
 * Why: both options are free text typed by a user into CREATE SERVER, and
 * what comes out is copied into fixed-size buffers and signed.
 *
 * Input: the option's text, up to its first zero byte.  Inputs starting
 * with "region:" fuzz the region instead.
 */
#include "fuzz.h"
#include "http.h"

/* Parses url and checks the parts it gives. */
static void
parse(const char *url)
{
	WlEndpoint	endpoint;
	char		errbuf[256];
	char		rebuilt[sizeof(endpoint.url)];
	int			result;

	memset(errbuf, 'x', sizeof(errbuf));
	result = wl_http_parse_endpoint(url, &endpoint, errbuf, sizeof(errbuf));
	FUZZ_CHECK(result == 0 || result == -1, "a result");
	if (result != 0)
	{
		FUZZ_CHECK(memchr(errbuf, '\0', sizeof(errbuf)) != NULL && errbuf[0] != '\0',
				   "a refusal has a reason");
		return;
	}
	FUZZ_CHECK(memchr(endpoint.url, '\0', sizeof(endpoint.url)) != NULL &&
			   memchr(endpoint.host, '\0', sizeof(endpoint.host)) != NULL &&
			   memchr(endpoint.path, '\0', sizeof(endpoint.path)) != NULL,
			   "the parts are terminated");
	FUZZ_CHECK(endpoint.host[0] != '\0', "a host");
	FUZZ_CHECK(endpoint.path[0] == '/', "the path is absolute");
	snprintf(rebuilt, sizeof(rebuilt), "%s://%s%s", endpoint.tls ? "https" : "http",
			 endpoint.host, endpoint.path);
	FUZZ_CHECK(strcmp(rebuilt, endpoint.url) == 0, "url = scheme://host path");
	FUZZ_CHECK(strpbrk(endpoint.host, "\r\n") == NULL, "no line break in the Host header");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = fuzz_cstring(data, size);

	if (strncmp(text, "region:", 7) == 0)
	{
		char		url[256];

		memset(url, 'x', sizeof(url));
		wl_ddb_default_endpoint(text + 7, url, sizeof(url));
		FUZZ_CHECK(memchr(url, '\0', sizeof(url)) != NULL, "the URL is terminated");
		parse(url);
	}
	else
		parse(text);
	free(text);
	return 0;
}

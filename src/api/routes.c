/*
 * routes.c - which handler serves a method and path.
 *
 * The original whiplash's routes (serverless.yml and its client), plus
 * item PUT and DELETE, collection DELETE, search by GET, /openapi.json and
 * /healthz.  A path pattern's "*" matches one non-empty segment.
 */
#include <string.h>

#include "api.h"

/* GET /healthz: the server is up (PostgreSQL is not asked). */
static void
api_health(ApiRequest *req, ApiResponse *res)
{
	api_reply_text(res, 200, "{\"status\":\"ok\"}");
}

/* GET /openapi.json: the OpenAPI 3 document of these routes. */
static void
api_openapi(ApiRequest *req, ApiResponse *res)
{
	api_reply_text(res, 200, api_openapi_json);
}

typedef struct ApiRoute
{
	const char *method;
	const char *pattern[API_MAX_SEGMENTS];
	ApiHandler	handler;
	bool		needs_key;
} ApiRoute;

#define COLLECTION "projects", "*", "collections", "*"

static const ApiRoute api_routes[] = {
	{"GET", {"healthz"}, api_health, false},
	{"GET", {"openapi.json"}, api_openapi, false},
	{"GET", {"projects"}, api_list_projects, true},
	{"GET", {"projects", "*"}, api_get_project, true},
	{"GET", {"projects", "*", "collections"}, api_list_collections, true},
	{"POST", {"projects", "*", "collections"}, api_create_collection, true},
	{"GET", {COLLECTION}, api_get_collection, true},
	{"DELETE", {COLLECTION}, api_delete_collection, true},
	{"POST", {COLLECTION, "items"}, api_create_item, true},
	{"POST", {COLLECTION, "items", "batch"}, api_create_items_batch, true},
	{"GET", {COLLECTION, "items", "*"}, api_get_item, true},
	{"PUT", {COLLECTION, "items", "*"}, api_put_item, true},
	{"DELETE", {COLLECTION, "items", "*"}, api_delete_item, true},
	{"POST", {COLLECTION, "search"}, api_search_post, true},
	{"GET", {COLLECTION, "search"}, api_search_get, true},
};

/* Whether segments match a route's pattern. */
static bool
api_route_matches(const ApiRoute *route, char **segments, int nsegments)
{
	int			n = 0;

	while (n < API_MAX_SEGMENTS && route->pattern[n] != NULL)
		n++;
	if (n != nsegments)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(route->pattern[i], "*") != 0 &&
			strcmp(route->pattern[i], segments[i]) != 0)
			return false;
	return true;
}

/*
 * The handler of method on the path's segments, or NULL: then *allow lists
 * the methods the path has ("" when it is no route at all).  No two routes
 * of one method match the same path (items/batch is POST's, items/{id}
 * GET's, PUT's and DELETE's), so the first match is the only one.
 */
ApiHandler
api_route(const char *method, char **segments, int nsegments,
		  const char **allow, bool *needs_key)
{
	static const char *const allow_lists[] = {"", "GET", "POST", "GET, POST", "DELETE",
		"GET, DELETE", "POST, DELETE", "GET, POST, DELETE", "PUT", "GET, PUT",
		"POST, PUT", "GET, POST, PUT", "DELETE, PUT", "GET, DELETE, PUT",
	"POST, DELETE, PUT", "GET, POST, DELETE, PUT"};
	static const char *const methods[] = {"GET", "POST", "DELETE", "PUT"};
	int			allowed = 0;

	for (size_t i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++)
	{
		const ApiRoute *route = &api_routes[i];

		if (!api_route_matches(route, segments, nsegments))
			continue;
		if (strcmp(route->method, method) == 0 ||
			(strcmp(method, "HEAD") == 0 && strcmp(route->method, "GET") == 0))
		{
			*needs_key = route->needs_key;
			return route->handler;
		}
		for (int m = 0; m < 4; m++)
			if (strcmp(route->method, methods[m]) == 0)
				allowed |= 1 << m;
	}
	*allow = allow_lists[allowed];
	return NULL;
}

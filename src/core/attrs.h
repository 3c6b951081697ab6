/*
 * attrs.h - a vector's attributes: between DynamoDB attribute values and
 * plain JSON text (Postgres-free).
 *
 * Attributes are top-level attributes of a vector item, next to id and
 * vector, in DynamoDB's own types, so that any DynamoDB tool reads them.
 * The glue writes them as DynamoDB JSON text (numbers are strings there,
 * so no precision is lost on the way) and reads them back as plain JSON
 * text, numbers kept digit for digit.
 */
#ifndef WL_ATTRS_H
#define WL_ATTRS_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/*
 * Is name one that whiplash itself stores in a vector item (id, vector,
 * keys)?  Such names cannot be attributes.
 */
extern bool wl_attrs_reserved(const char *name);

/*
 * Adds the attributes in text, a DynamoDB JSON object of name -> attribute
 * value ({"color": {"S": "red"}}), to item.  Returns 0, or -1 with a reason
 * in errbuf when text is not such an object or names a reserved attribute.
 */
extern int	wl_attrs_add(struct json_object *item, const char *text,
						 char *errbuf, size_t errlen);

/*
 * The size DynamoDB counts for the attributes in text (as wl_attrs_add
 * takes them), checking each as DynamoDB would (wl_av_check): returns it,
 * or -1 with the reason in errbuf.  Lets a write refuse a row before
 * anything is sent.
 */
extern long wl_attrs_size(const char *text, char *errbuf, size_t errlen);

/*
 * Completes a new vector item: adds the attributes in text (NULL: none) as
 * wl_attrs_add does and, when old_item is not NULL, carries over its
 * attributes as wl_attrs_carry_over does.  Returns item, or on failure
 * frees item and returns NULL with a reason in errbuf.
 */
extern struct json_object *wl_attrs_complete(struct json_object *item, const char *text,
											 struct json_object *old_item,
											 const char *const *keep_out, int nkeep,
											 char *errbuf, size_t errlen);

/*
 * Copies into item every attribute of old_item that item does not have,
 * that is not reserved and that is not among the nkeep names in keep_out:
 * how an update keeps attributes that the writer does not manage.
 */
extern void wl_attrs_carry_over(struct json_object *item, struct json_object *old_item,
								const char *const *keep_out, int nkeep);

/*
 * The plain JSON text of one attribute value: S a string, N a number, BOOL,
 * NULL, M an object, L/SS/NS/BS arrays, B a base64 string.  malloc'd, or
 * NULL when out of memory or av is malformed.
 */
extern char *wl_attrs_value_json(struct json_object *av);

/*
 * The plain JSON object of an item's attributes, leaving out reserved names
 * and the nskip names in skip.  malloc'd, or NULL when out of memory or
 * item is malformed (not an object, or holding a malformed value).
 */
extern char *wl_attrs_item_json(struct json_object *item, const char *const *skip,
								int nskip);

#endif							/* WL_ATTRS_H */

/*
 * fuzz_response.c - fuzzes the reading of DynamoDB's HTTP answers
 * (wl_ddb_read_response in dynamodb.c), then wl_ddb_consumed_capacity and
 * wl_op_table_status on the parsed response.
 *
 * Why: every byte of an answer comes from the network, from AWS, from a
 * local DynamoDB or from anything that listens on the endpoint, and is read
 * inside a Postgres backend, where a crash takes the server down.
 *
 * Input: the HTTP status in decimal, a newline, then the body, so that the
 * corpus reads as the answers it stands for ("200\n{...}").  Without a
 * status line the whole input is a 200 body.  The body is handed over
 * without a terminating zero, which wl_ddb_read_response must not need.
 */
#include "fuzz.h"
#include "operations.h"

/* Splits the input into a status and a body. */
static long
split_status(const uint8_t *data, size_t size, const uint8_t **body, size_t *len)
{
	long		status = 0;
	size_t		i;

	for (i = 0; i < size && i < 4 && data[i] >= '0' && data[i] <= '9'; i++)
		status = status * 10 + (data[i] - '0');
	if (i == 0 || i >= size || data[i] != '\n')
	{
		*body = data;
		*len = size;
		return 200;
	}
	*body = data + i + 1;
	*len = size - i - 1;
	return status;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *body;
	size_t		len;
	long		status = split_status(data, size, &body, &len);
	struct json_object *response = (struct json_object *) 1;	/* must be cleared */
	WlDdbError	error;
	bool		retry;
	uint8_t    *copy;

	/* An exact-size copy, so that ASan sees any read past the body. */
	copy = malloc(len ? len : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, body, len);
	retry = wl_ddb_read_response(status, len ? (const char *) copy : NULL, len,
								 &response, &error);

	FUZZ_CHECK(error.http_status == status, "the status is recorded");
	FUZZ_CHECK(memchr(error.type, '\0', sizeof(error.type)) != NULL, "type is terminated");
	FUZZ_CHECK(memchr(error.message, '\0', sizeof(error.message)) != NULL,
			   "message is terminated");
	if (response != NULL)
	{
		double		units;
		const char *table_status;
		WlDdbCall	call;

		FUZZ_CHECK(status == 200 && !retry && error.kind == WL_DDB_OK,
				   "only a 200 gives a response");
		FUZZ_CHECK(json_object_is_type(response, json_type_object),
				   "a response is an object");
		memset(&call, 0, sizeof(call));
		units = wl_ddb_consumed_capacity(response);
		(void) units;
		call.response = response;
		table_status = wl_op_table_status(&call);
		if (table_status != NULL)
			(void) strlen(table_status);
		json_object_put(response);
	}
	else
	{
		FUZZ_CHECK(error.kind == WL_DDB_SERVICE_ERROR || error.kind == WL_DDB_BAD_RESPONSE,
				   "no response means an error");
		FUZZ_CHECK(error.kind != WL_DDB_BAD_RESPONSE || status != 200 || retry,
				   "a bad 200 body is worth another try");
		if (error.type[0] != '\0')
			(void) wl_ddb_is_throttling(error.type);
	}
	free(copy);
	return 0;
}

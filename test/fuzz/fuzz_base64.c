/*
 * fuzz_base64.c - fuzzes wl_base64_decode (ddbjson.c) on raw text, and
 * checks it against wl_base64_encode both ways: text that decodes is the
 * encoding of what it decodes to (the decoder takes canonical base64
 * only), and any bytes encoded decode back to themselves.
 *
 * Why: every vector, centre and v1 plane matrix arrives as base64 in a B
 * attribute, and its decoded length decides whether it is read as a
 * vector; fuzz_item reaches the decoder only through json-c strings, this
 * target feeds it directly, with lengths and bytes json-c would not give.
 *
 * Input: the base64 text (its length is passed, no terminating zero).
 */
#include "fuzz.h"
#include "ddbjson.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *text = malloc(size ? size : 1);	/* exact size: ASan sees overreads */
	unsigned char *decoded = (unsigned char *) 1;
	size_t		len = 7;
	char	   *encoded;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	if (wl_base64_decode((const char *) text, size, &decoded, &len) == 0)
	{
		FUZZ_CHECK(decoded != NULL && len <= size / 4 * 3, "a decoded length");
		encoded = wl_base64_encode(decoded, len);
		FUZZ_CHECK(encoded != NULL && strlen(encoded) == size &&
				   memcmp(encoded, text, size) == 0, "canonical base64 re-encodes to itself");
		free(encoded);
		free(decoded);
	}
	else
		FUZZ_CHECK(decoded == NULL && len == 0, "a refusal leaves nothing");

	encoded = wl_base64_encode(data, size);
	FUZZ_CHECK(encoded != NULL, "encodes");
	FUZZ_CHECK(wl_base64_decode(encoded, strlen(encoded), &decoded, &len) == 0 &&
			   len == size && memcmp(decoded, data, size) == 0, "round trip");
	free(decoded);
	free(encoded);
	free(text);
	return 0;
}

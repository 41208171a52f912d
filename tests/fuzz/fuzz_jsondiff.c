/* Differential: utm_json_parse() accepts a text exactly when the
 * independent strict validator of tests/json_oracle.h does (RFC 8259,
 * nesting up to UTMSTACK_JSON_DEPTH). Any disagreement aborts.             */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include <stdlib.h>
#include <string.h>
#include "../json_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static utm_json_token_t tok[4200]; /* more than any text of this size has */
    utm_json_t j;
    int ours, theirs;
    if (size > 8192) return 0;
    ours = utm_json_parse(&j, (const char *)data, size, tok, 4200);
    theirs = oracle_json_valid(data, size, UTMSTACK_JSON_DEPTH);
    if ((ours == UTM_OK) != theirs) abort();
    if (ours != UTM_OK && ours != UTM_ERR_JSON && ours != UTM_ERR_JSON_DEPTH) abort();
    return 0;
}

/* The request writer's encoders. Invariants: JSON string escaping always
 * parses back to the input (valid UTF-8) or refuses it (invalid UTF-8);
 * percent-encoding of a query value decodes back to the input and leaves
 * only characters that are safe in a query. A double (the first 8 bytes) is
 * written as a JSON number that reads back as the same double.             */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include <stdlib.h>

static int hexv(int c) { return c <= '9' ? c - '0' : c - 'A' + 10; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char w[8192 * 6 + 8], back[8192 + 8], in[8192 + 1], q[8192 * 3 + 8];
    static utm_json_token_t tok[2];
    utm_json_t j;
    utm__out_t o;
    size_t i, k;
    int n;
    if (size > 8192) return 0;
    n = utm_json_write_string(w, sizeof w, (const char *)data, size);
    if (utm__utf8_chars((const char *)data, size) >= 0) {
        if (n <= 0) abort();
        if (utm_json_parse(&j, w, (size_t)n, tok, 2) != UTM_OK) abort();
        if (utm_json_string(&j, 0, back, sizeof back) != (int)size || memcmp(back, data, size) != 0) abort();
    } else if (n != UTM_ERR_ARG) {
        abort();
    }
    /* query encoding works on C strings */
    memcpy(in, data, size);
    in[size] = 0;
    memset(&o, 0, sizeof o);
    o.buf = q;
    o.cap = sizeof q;
    utm__put_enc(&o, NULL, in, utm__query_keep);
    if (o.err) abort();
    for (i = 0, k = 0; i < o.len; i++) {
        char ch = q[i];
        if (ch == '%') {
            if (i + 2 >= o.len) abort();
            back[k++] = (char)(hexv(q[i + 1]) * 16 + hexv(q[i + 2]));
            i += 2;
        } else {
            if (!utm__query_keep((unsigned char)ch)) abort();
            back[k++] = ch;
        }
    }
    if (k != strlen(in) || memcmp(back, in, k) != 0) abort();
    if (size >= 8) {
        double d, again;
        uint64_t bits, bits2;
        memcpy(&bits, data, 8);
        memcpy(&d, &bits, 8);
        if (((bits >> 52) & 0x7ff) != 0x7ff) {
            int len = utm_json_write_double(q, 26, d); /* 26 bytes always suffice */
            if (len <= 0 || len > 25 || !utm__is_json_number(q, (size_t)len)) abort();
            again = strtod(q, NULL);
            memcpy(&bits2, &again, 8);
            if (bits2 != bits) abort(); /* -0 stays -0: the sign is written */
        }
    }
    return 0;
}

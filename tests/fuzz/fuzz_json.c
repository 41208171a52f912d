/* The JSON layer: parse, walk every token, typed reads, unescape.
 * Invariants: each string token that unescapes, written back with
 * utm_json_write_string and read again, gives the same bytes; numbers
 * that read as integers read as doubles too; lookups stay in bounds.        */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static utm_json_token_t tok[256], tok2[4];
    static char s[4096], w[4096 * 6 + 8], s2[4096];
    utm_json_t j, j2;
    int i;
    if (utm_json_parse(&j, (const char *)data, size, tok, 256) != UTM_OK) return 0;
    for (i = 0; i < j.count; i++) {
        int ty = utm_json_type(&j, i), n, m, k, b;
        int64_t v;
        double d;
        size_t rawlen;
        const char *raw = utm_json_raw(&j, i, &rawlen);
        if (ty == UTM_JSON_INVALID || !raw || raw < j.js || raw + rawlen > j.js + j.len) abort();
        k = utm_json_next(&j, i);
        if (k >= 0 && (k <= i || k >= j.count)) abort();
        if (ty == UTM_JSON_STRING) {
            n = utm_json_string(&j, i, s, sizeof s);
            if (n >= 0) {
                m = utm_json_write_string(w, sizeof w, s, (size_t)n);
                if (m > 0) { /* valid UTF-8: it must come back the same */
                    if (utm_json_parse(&j2, w, (size_t)m, tok2, 4) != UTM_OK) abort();
                    if (utm_json_string(&j2, 0, s2, sizeof s2) != n || memcmp(s, s2, (size_t)n) != 0) abort();
                }
            }
        } else if (ty == UTM_JSON_NUMBER) {
            if (utm_json_double(&j, i, &d) != UTM_OK && rawlen < 60) abort();
            if (utm_json_int(&j, i, &v) == UTM_OK && d != (double)v && (v < 1000000000000000LL && v > -1000000000000000LL)) abort();
        } else if (ty == UTM_JSON_BOOL) {
            if (utm_json_bool(&j, i, &b) != UTM_OK) abort();
        }
        if (ty == UTM_JSON_OBJECT || ty == UTM_JSON_ARRAY) {
            if (utm_json_count(&j, i) < 0) abort();
        }
    }
    /* a path built from the input's first bytes */
    {
        char path[16];
        size_t n = size < sizeof path - 1 ? size : sizeof path - 1;
        memcpy(path, data, n);
        path[n] = 0;
        i = utm_json_find(&j, 0, path);
        if (i >= j.count) abort();
    }
    return 0;
}

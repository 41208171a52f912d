/* The search-result splitter and jsmn on each document. The input is a
 * response body, sent chunked with chunk sizes from the first byte.
 * Invariants: every document handed over parses again by itself; the same
 * body cut into other pieces gives exactly the same documents, the same
 * counts and the same result; the client stays usable.                      */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "../fake.h"
#include <stdio.h>
#include <stdlib.h>

static utm_client_t C;
static fake_t F;
static char resp[1 << 17];

typedef struct digest { uint64_t docs, hash; } digest_t;

static int on_doc(void *user, const utm_json_t *doc, uint64_t index)
{
    digest_t *d = (digest_t *)user;
    utm_json_token_t tok[UTMSTACK_JSON_TOKENS];
    utm_json_t again;
    size_t n, i;
    const char *raw = utm_json_raw(doc, 0, &n);
    if (index != d->docs) abort();
    if (utm_json_type(doc, 0) == UTM_JSON_STRING) { raw--; n += 2; } /* the quotes */
    if (utm_json_parse(&again, raw, n, tok, UTMSTACK_JSON_TOKENS) != UTM_OK) abort();
    for (i = 0; i < n; i++) d->hash = (d->hash ^ (unsigned char)raw[i]) * 1099511628211u;
    d->hash ^= 0xff;
    d->docs++;
    return 0;
}

static int run(const uint8_t *body, size_t size, size_t chunk, size_t piece, digest_t *d, utm_search_result_t *r)
{
    utm_config_t cfg;
    utm_search_t s;
    size_t len, i;
    int rc;
    len = (size_t)snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (i = 0; i < size; i += chunk) {
        size_t k = size - i < chunk ? size - i : chunk;
        len += (size_t)snprintf(resp + len, sizeof resp - len, "%zx\r\n", k);
        memcpy(resp + len, body + i, k);
        len += k;
        memcpy(resp + len, "\r\n", 2);
        len += 2;
    }
    memcpy(resp + len, "0\r\n\r\n", 5);
    len += 5;
    fake_reset(&F, NULL);
    F.script[0] = resp;
    F.script_len[0] = len;
    F.nconn = 1;
    F.piece = piece;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "http://fuzz.test";
    cfg.allow_plain_credentials = 1;
    cfg.port = &fake_port;
    cfg.port_ctx = &F;
    if (utm_client_init(&C, &cfg) != UTM_OK) abort();
    utm_auth_use_internal_key(&C, "k");
    memset(&s, 0, sizeof s);
    memset(d, 0, sizeof *d);
    s.index_pattern = "alert-*";
    s.on_doc = on_doc;
    s.user = d;
    s.flags = UTM_SEARCH_SKIP_OVERSIZED;
    rc = utm_search(&C, &s, r);
    utm_client_free(&C);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    digest_t a, b;
    utm_search_result_t ra, rb;
    int rca, rcb;
    if (size < 1 || size > 30000 || memchr(data, FAKE_NEXT, size)) return 0;
    rca = run(data + 1, size - 1, (size_t)(data[0] % 64) + 1, 0, &a, &ra);
    rcb = run(data + 1, size - 1, size, 1, &b, &rb); /* one chunk, read a byte at a time */
    if (rca != rcb || a.docs != b.docs || a.hash != b.hash || ra.skipped != rb.skipped || ra.docs != a.docs) abort();
    if (rca != UTM_OK && rca != UTM_ERR_JSON) abort();
    return 0;
}

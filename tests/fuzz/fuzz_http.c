/* The HTTP response reader (status, headers, framing, chunked, limits), fed
 * through the fake port in pieces chosen by the first input byte.
 * Invariants: a known result code; on success a sane status, a body that
 * matches its Content-Length, pieces no larger than the buffer; and the
 * client answers the next request correctly, whatever came before.         */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "../fake.h"
#include <stdlib.h>

static utm_client_t C;
static fake_t F;
static const char GOOD[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

typedef struct seen { uint64_t bytes; size_t max_piece; char tail[3]; } seen_t;

static int on_body(void *user, const char *p, size_t n)
{
    seen_t *s = (seen_t *)user;
    size_t i;
    s->bytes += n;
    if (n > s->max_piece) s->max_piece = n;
    for (i = 0; i < n; i++) { s->tail[0] = s->tail[1]; s->tail[1] = p[i]; }
    return 0;
}

static int get(const char *method, seen_t *s, utm_response_t *r)
{
    utm_request_t q;
    memset(&q, 0, sizeof q);
    memset(s, 0, sizeof *s);
    q.method = method;
    q.path = "/api/x";
    q.flags = UTM_REQ_NO_AUTH;
    q.on_body = on_body;
    q.user = s;
    return utm_request(&C, &q, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    utm_config_t cfg;
    utm_response_t r;
    seen_t s;
    int rc, head;
    if (size < 1) return 0;
    head = data[0] & 0x80;
    fake_reset(&F, NULL);
    F.piece = data[0] & 0x1f;
    F.script[0] = (const char *)data + 1;
    F.script_len[0] = size - 1;
    F.script[1] = GOOD;
    F.script_len[1] = sizeof GOOD - 1;
    F.nconn = 2;
    F.tick = 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "http://fuzz.test";
    cfg.allow_plain_credentials = 1;
    cfg.port = &fake_port;
    cfg.port_ctx = &F;
    if (utm_client_init(&C, &cfg) != UTM_OK) abort();
    rc = get(head ? "HEAD" : "GET", &s, &r);
    if (strcmp(utm_strerror(rc), "unknown error") == 0) abort();
    if (rc == UTM_OK) {
        if (r.status < 100 || r.status > 599) abort();
        if (!head && r.content_length >= 0 && r.status != 204 && r.status != 304 && s.bytes != (uint64_t)r.content_length) abort();
        if (s.bytes != r.body_bytes || s.max_piece > UTMSTACK_BUF_SIZE) abort();
    }
    /* the next request, on a fresh connection, must work */
    utm_client_close(&C);
    F.conn = 1;
    rc = get("GET", &s, &r);
    if (rc != UTM_OK || r.status != 200 || s.bytes != 2 || memcmp(s.tail, "ok", 2) != 0) abort();
    utm_client_free(&C);
    return 0;
}

/* A fake port: each connection serves one scripted byte string, in pieces
 * of a chosen size, records every byte sent, and runs a fake clock. A byte
 * FAKE_NEXT in a script ends one answer: a recv never reads past it, and a
 * probe (timeout 0) finds nothing there until the client has sent again, as
 * a server never answers a request it has not had. The same
 * struct-of-pointers mechanism a user fills in for a custom transport.     */
#ifndef UTM_FAKE_H
#define UTM_FAKE_H
#include <stdlib.h>
#include <string.h>

#define FAKE_CONNS 8
#define FAKE_NEXT '\x1e'

typedef struct fake {
    const char *script[FAKE_CONNS];  /* what connection i receives */
    size_t script_len[FAKE_CONNS];
    int end_code[FAKE_CONNS];        /* recv at the end: 0 closed, or an error */
    int nconn;
    int conn;                        /* connections opened so far */
    int open;
    size_t pos;
    size_t piece;                    /* bytes per recv (0: all there is) */
    size_t first_piece;              /* the first recv of a connection, if set */
    int recvs;
    char sent[1 << 16];
    size_t sent_len;
    int send_error;                  /* nonzero: send fails with this */
    int connect_error;
    uint32_t now, tick;              /* clock: now, advanced by tick per recv */
    int64_t wall;                    /* time_fn: 0 = unknown */
    uint32_t last_timeout;
    size_t sent_mark;                /* sent_len when a recv stopped at FAKE_NEXT */
    int probes;                      /* recvs with timeout 0 */
} fake_t;

static int fake_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    fake_t *f = (fake_t *)ctx;
    (void)host; (void)port; (void)timeout_ms;
    if (f->connect_error) return f->connect_error;
    if (f->conn >= f->nconn) return UTM_ERR_CONNECT;
    f->conn++;
    f->open = 1;
    f->pos = 0;
    f->recvs = 0;
    return 0;
}

static int fake_send(void *ctx, const unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    fake_t *f = (fake_t *)ctx;
    (void)timeout_ms;
    if (!f->open) return UTM_ERR_NET;
    if (f->send_error) return f->send_error;
    if (len > sizeof f->sent - f->sent_len) len = sizeof f->sent - f->sent_len;
    memcpy(f->sent + f->sent_len, buf, len);
    f->sent_len += len;
    return (int)(len ? len : 1);
}

static int fake_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    fake_t *f = (fake_t *)ctx;
    int i = f->conn - 1;
    size_t n, left;
    f->last_timeout = timeout_ms;
    f->now += f->tick;
    if (!f->open || i < 0) return UTM_ERR_NET;
    if (timeout_ms == 0) f->probes++;
    if (f->pos < f->script_len[i] && f->script[i][f->pos] == FAKE_NEXT) {
        if (timeout_ms == 0 && f->sent_len == f->sent_mark) return UTM_ERR_TIMEOUT; /* no new request yet */
        f->pos++;
    }
    left = f->script_len[i] - f->pos;
    if (left == 0) return f->end_code[i];
    {
        const char *next = (const char *)memchr(f->script[i] + f->pos, FAKE_NEXT, left);
        if (next) left = (size_t)(next - (f->script[i] + f->pos));
    }
    n = f->recvs == 0 && f->first_piece ? f->first_piece : f->piece ? f->piece : left;
    if (n > left) n = left;
    if (n > len) n = len;
    memcpy(buf, f->script[i] + f->pos, n);
    f->pos += n;
    f->recvs++;
    if (f->pos < f->script_len[i] && f->script[i][f->pos] == FAKE_NEXT) f->sent_mark = f->sent_len;
    return (int)n;
}

static void fake_close(void *ctx) { ((fake_t *)ctx)->open = 0; }
static uint32_t fake_now(void *ctx) { return ((fake_t *)ctx)->now; }
/* Deterministic, but not a repeating pattern (the library's health check
 * refuses those): a multiplicative hash of each byte's position. */
static int fake_entropy(void *ctx, unsigned char *buf, size_t len)
{
    size_t i;
    (void)ctx;
    for (i = 0; i < len; i++) buf[i] = (unsigned char)(((uint32_t)i * 2654435761u) >> 24);
    return 0;
}
static int64_t fake_time(void *ctx) { return ((fake_t *)ctx)->wall; }

static const utm_port_t fake_port = { fake_connect, fake_send, fake_recv, fake_close, fake_now, fake_entropy, fake_time };

static void fake_script(fake_t *f, int i, const char *s)
{
    f->script[i] = s;
    f->script_len[i] = strlen(s);
    if (f->nconn < i + 1) f->nconn = i + 1;
}

/* A fresh fake with one connection serving s. */
static void fake_reset(fake_t *f, const char *s)
{
    memset(f, 0, sizeof *f);
    f->now = 1000;
    if (s) fake_script(f, 0, s);
}

/* How often needle occurs in what was sent. */
#if defined(__GNUC__)
__attribute__((unused))
#endif
static int fake_sent_count(const fake_t *f, const char *needle)
{
    size_t n = strlen(needle), i;
    int k = 0;
    for (i = 0; n && i + n <= f->sent_len; i++)
        if (memcmp(f->sent + i, needle, n) == 0) k++;
    return k;
}
#endif

/* Bring your own transport: a utm_port_t over a cellular modem's AT-command
 * TCP stack (or any vendor socket API). Fill in the six functions with the
 * modem driver's calls; the library needs nothing else from the platform.
 * The unit tests run the whole client through such a port: tests/fake.h,
 * and mcu/firmware.c runs TLS on an emulated Cortex-M4 through one. Stack:
 * 4.7 KiB for the library and mbedTLS (Cortex-M4), plus the driver's calls.
 * One client per task; the functions are only called from that task.     */
#include "utmstack.h"

/* The modem driver's API, as a vendor SDK would declare it. */
extern int modem_tcp_open(const char *host, unsigned port, unsigned timeout_ms);   /* link id or < 0 */
extern int modem_tcp_write(int link, const void *data, unsigned len, unsigned timeout_ms);
extern int modem_tcp_read(int link, void *data, unsigned len, unsigned timeout_ms); /* 0 closed, -2 timeout */
extern void modem_tcp_close(int link);
extern uint32_t board_millis(void);
extern int board_rng(unsigned char *buf, size_t len);

typedef struct modem_ctx { int link; } modem_ctx_t; /* link + 1: 0 = closed */

static int modem_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    modem_ctx_t *m = (modem_ctx_t *)ctx;
    int link = modem_tcp_open(host, port, timeout_ms); /* the modem resolves names itself */
    if (link < 0) return link == -2 ? UTM_ERR_TIMEOUT : UTM_ERR_CONNECT;
    m->link = link + 1;
    return UTM_OK;
}

static int modem_send(void *ctx, const unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    modem_ctx_t *m = (modem_ctx_t *)ctx;
    int n = modem_tcp_write(m->link - 1, buf, (unsigned)(len > 1460 ? 1460 : len), timeout_ms);
    return n > 0 ? n : n == -2 ? UTM_ERR_TIMEOUT : UTM_ERR_NET; /* partial writes are fine */
}

/* timeout_ms 0 is a probe (before a kept connection is reused): return what
 * the modem already holds, or UTM_ERR_TIMEOUT at once; never block. */
static int modem_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    modem_ctx_t *m = (modem_ctx_t *)ctx;
    int n = modem_tcp_read(m->link - 1, buf, (unsigned)(len > 1460 ? 1460 : len), timeout_ms);
    return n >= 0 ? n : n == -2 ? UTM_ERR_TIMEOUT : UTM_ERR_NET; /* 0: the peer closed */
}

static void modem_close(void *ctx)
{
    modem_ctx_t *m = (modem_ctx_t *)ctx;
    if (m->link) modem_tcp_close(m->link - 1);
    m->link = 0;
}

static uint32_t modem_now(void *ctx) { (void)ctx; return board_millis(); }

static int modem_entropy(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    return board_rng(buf, len);
}

/* time_fn is optional: NULL, the server's Date header dates the token. */
const utm_port_t modem_port = { modem_connect, modem_send, modem_recv, modem_close, modem_now, modem_entropy, NULL };

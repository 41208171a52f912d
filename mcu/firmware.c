/* The footprint firmware: a login, a search and a generic request, as a
 * device would make them, then one more request on a new connection. `make
 * size` links it for Cortex-M4, M0+ and RISC-V and measures it; `make
 * test-qemu` runs it on qemu (MPS2-AN386, RISC-V virt) against the emulator,
 * TLS and all, and reports the deepest stack and the peak heap.
 *
 * Its network is semihosting: the port below writes to and reads from a
 * pair of FIFOs on the host (a new pair for each connection), which
 * mcu/bridge.py joins to a TCP connection (the
 * stand-in for lwIP or a modem; its reads block, so timeouts are not
 * enforced here). Entropy comes from the host's /dev/urandom through
 * semihosting: the stand-in for a hardware RNG. Arguments (qemu -append):
 * URL CA-FILE FIFO-DIR USER PASSWORD (built with FW_INTERNAL_KEY: the
 * password is the internal key, and the firmware never logs in).
 *
 * Built with FW_REQUEST_ONLY it sends requests and never searches; with
 * FW_SEARCH_ONLY it logs in and searches and sends no request of its own
 * (login + search: the image issue 17 sets a goal for); FW_EVERYTHING links
 * every public function besides, as an application calling them all would. */
#include "utmstack.h"
#include "semihost.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if MBEDTLS_VERSION_NUMBER >= 0x04000000
#include <psa/crypto.h>
#endif

typedef struct { int tx, rx; unsigned n; char dir[128]; } link_t;

static int path_open(const char *dir, const char *name, unsigned n, int mode)
{
    char p[160];
    snprintf(p, sizeof p, "%s/%s%u", dir, name, n);
    return sh_open(p, mode);
}

static void link_close(void *ctx)
{
    link_t *l = (link_t *)ctx;
    if (l->tx >= 0) sh_close(l->tx);
    if (l->rx >= 0) sh_close(l->rx);
    l->tx = l->rx = -1;
}

static int link_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    link_t *l = (link_t *)ctx;
    (void)host; (void)port; (void)timeout_ms; /* the bridge knows where */
    link_close(l);
    l->tx = path_open(l->dir, "tx", l->n, 3 /* "r+b": no O_CREAT, the FIFO must exist */);
    l->rx = l->tx < 0 ? -1 : path_open(l->dir, "rx", l->n, 1 /* "rb" */);
    l->n++;
    if (l->rx < 0) { link_close(l); return UTM_ERR_CONNECT; }
    return 0;
}

static int link_send(void *ctx, const unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    link_t *l = (link_t *)ctx;
    (void)timeout_ms;
    return l->tx >= 0 && sh_write(l->tx, buf, len) == (long)len ? (int)len : UTM_ERR_NET;
}

static int link_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    link_t *l = (link_t *)ctx;
    long n;
    if (timeout_ms == 0) return UTM_ERR_TIMEOUT; /* a probe: a FIFO read would block, so: nothing seen */
    n = l->rx >= 0 ? sh_read(l->rx, buf, len) : -1;
    return n < 0 ? UTM_ERR_NET : (int)n;
}

static uint32_t link_now_ms(void *ctx) { (void)ctx; return sh_clock_cs() * 10u; }
static int64_t link_time(void *ctx) { (void)ctx; return (int64_t)sh_time(); }

/* The stand-in for a hardware RNG, one for the whole device: the port's
 * entropy function and, on mbedTLS 4.x, PSA's too (the implementation is
 * built with -DUTMSTACK_PSA_ENTROPY_FN=fw_entropy). */
int fw_entropy(void *ctx, unsigned char *buf, size_t len);
int fw_entropy(void *ctx, unsigned char *buf, size_t len)
{
    static int rng = -1;
    (void)ctx;
    if (rng < 0) rng = sh_open("/dev/urandom", 1);
    return rng >= 0 && sh_read(rng, buf, len) == (long)len ? 0 : -1;
}

static const utm_port_t link_port = { link_connect, link_send, link_recv, link_close,
                                      link_now_ms, fw_entropy, link_time };

#if defined(MBEDTLS_PLATFORM_TIME_ALT)
/* the lean configurations: the calendar (certificate dates) and, on 3.6 and
 * 4.x, the millisecond clock (TLS 1.3 ticket ages) from the port's clocks */
#include "mbedtls/platform_time.h"
static mbedtls_time_t fw_time(mbedtls_time_t *t)
{
    mbedtls_time_t now = (mbedtls_time_t)link_time(NULL);
    if (t) *t = now;
    return now;
}
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
mbedtls_ms_time_t mbedtls_ms_time(void) { return (mbedtls_ms_time_t)link_now_ms(NULL); }
#endif
#endif

/* ---- measuring: the stack is painted, mbedTLS's heap counted ---- */
extern uint32_t __stack_bottom[];
#define PAINT 0xC5C5C5C5u

static void paint_stack(void)
{
    uint32_t *p = __stack_bottom, *sp = (uint32_t *)__builtin_frame_address(0) - 64;
    while (p < sp) *p++ = PAINT;
}

static size_t stack_used(void)
{
    extern uint32_t __stack_top[];
    uint32_t *p = __stack_bottom;
    while (p < __stack_top && *p == PAINT) p++;
    return (size_t)((char *)__stack_top - (char *)p);
}

#if defined(MBEDTLS_PLATFORM_MEMORY)
#include "mbedtls/platform.h"
static size_t heap_now, heap_peak;
static void *counting_calloc(size_t n, size_t size)
{
    size_t *p;
    if (size && n > (SIZE_MAX - 8) / size) return NULL;
    p = (size_t *)calloc(1, n * size + 8);
    if (!p) return NULL;
    p[0] = n * size;
    heap_now += p[0];
    if (heap_now > heap_peak) heap_peak = heap_now;
    return p + 2;
}
static void counting_free(void *q)
{
    size_t *p = (size_t *)q;
    if (!p) return;
    heap_now -= p[-2];
    free(p - 2);
}
#endif

static unsigned docs_seen;
#if !defined(FW_REQUEST_ONLY)
static int on_doc(void *user, const utm_json_t *doc, uint64_t index)
{
    char name[64] = "?";
    (void)user;
    utm_json_string(doc, utm_json_find(doc, 0, "name"), name, sizeof name);
    if (index < 3) printf("  alert %u: %s\n", (unsigned)index + 1, name);
    docs_seen++;
    return 0;
}
#endif

/* Results as the library's texts; a request-only device links neither the
 * result table nor the log: it prints the codes and the server's reason. */
static const char *fw_err(int rc)
{
#if defined(FW_REQUEST_ONLY)
    static char num[16];
    snprintf(num, sizeof num, "result %d", rc);
    return num;
#else
    return utm_strerror(rc);
#endif
}

#if defined(FW_EVERYTHING)
/* every public function, so that the image holds all of the library (never
 * called through: void (*)(void) is the type any function converts to)     */
typedef void (*fw_any_fn)(void);
static const fw_any_fn volatile everything[] = {
    (fw_any_fn)utm_json_parse, (fw_any_fn)utm_json_find, (fw_any_fn)utm_json_type, (fw_any_fn)utm_json_count,
    (fw_any_fn)utm_json_child, (fw_any_fn)utm_json_next, (fw_any_fn)utm_json_raw, (fw_any_fn)utm_json_string,
    (fw_any_fn)utm_json_int, (fw_any_fn)utm_json_double, (fw_any_fn)utm_json_bool, (fw_any_fn)utm_json_eq,
    (fw_any_fn)utm_json_write_string, (fw_any_fn)utm_json_write_double, (fw_any_fn)(utm_client_init),
    (fw_any_fn)utm_client_init_sized, (fw_any_fn)utm_client_use_cert, (fw_any_fn)utm_client_free,
    (fw_any_fn)utm_client_close, (fw_any_fn)utm_last_error, (fw_any_fn)utm_strerror, (fw_any_fn)utm_version,
    (fw_any_fn)utm_status_error, (fw_any_fn)utm_client_stats, (fw_any_fn)utm_backoff_ms, (fw_any_fn)utm_retryable,
    (fw_any_fn)utm_auth_use_password, (fw_any_fn)utm_auth_use_password_fn, (fw_any_fn)utm_auth_set_token,
    (fw_any_fn)utm_auth_use_internal_key, (fw_any_fn)utm_auth_use_bearer, (fw_any_fn)utm_auth_clear,
    (fw_any_fn)utm_auth_login, (fw_any_fn)utm_auth_tfa_verify, (fw_any_fn)utm_auth_token, (fw_any_fn)utm_auth_expires,
    (fw_any_fn)utm_auth_subject, (fw_any_fn)utm_auth_refused, (fw_any_fn)utm_auth_check, (fw_any_fn)utm_request,
    (fw_any_fn)utm_operator_name, (fw_any_fn)utm_operator_from_name, (fw_any_fn)utm_value_string,
    (fw_any_fn)utm_value_int, (fw_any_fn)utm_value_double, (fw_any_fn)utm_value_bool, (fw_any_fn)utm_value_list,
    (fw_any_fn)utm_value_json, (fw_any_fn)utm_search, (fw_any_fn)utm_search_all, (fw_any_fn)utm_search_body };
#endif

static utm_client_t client; /* static: never on the stack */
#if defined(MBEDTLS_PLATFORM_MEMORY)
#define CHECKS 6 /* login, search, request, a resumed reconnect, stack, no heap left */
#else
#define CHECKS 5
#endif

int main(void)
{
    static char cmd[512], ca[8192];
    static link_t net;
    static const char *const newest_first[] = { "@timestamp,desc" };
    char *arg[6] = { 0 };
    utm_config_t cfg;
    utm_search_t s;
    utm_search_result_t r;
    utm_filter_t f;
    utm_request_t q;
    utm_response_t resp;
    utm_stats_t st;
    char body[256];
    uintptr_t a[2];
    long n;
    int i, fd, rc, failed = 0;

    paint_stack();
#if defined(MBEDTLS_PLATFORM_MEMORY)
    mbedtls_platform_set_calloc_free(counting_calloc, counting_free);
#endif
#if defined(MBEDTLS_PLATFORM_TIME_ALT)
    mbedtls_platform_set_time(fw_time);
#endif
    a[0] = (uintptr_t)cmd; a[1] = sizeof cmd - 1;
    if (sh_call(0x15 /* SYS_GET_CMDLINE */, a) != 0) return 2;
    strtok(cmd, " "); /* the program's name */
    for (i = 0, arg[0] = strtok(NULL, " "); i < 5 && arg[i]; i++) arg[i + 1] = strtok(NULL, " ");
    if (!arg[4]) { printf("usage: -append 'URL CA-FILE FIFO-DIR USER PASSWORD [expired]'\n"); return 2; }
    if ((fd = sh_open(arg[1], 1)) < 0) { printf("cannot open %s\n", arg[1]); return 2; }
    n = sh_read(fd, ca, sizeof ca - 1);
    sh_close(fd);
    net.tx = net.rx = -1;
    strncpy(net.dir, arg[2], sizeof net.dir - 1);

    memset(&cfg, 0, sizeof cfg);
    cfg.url = arg[0];
    cfg.ca = (const unsigned char *)ca;
    cfg.ca_len = (size_t)n + 1; /* PEM: with its NUL */
    cfg.port = &link_port;
    cfg.port_ctx = &net;
    rc = utm_client_init(&client, &cfg);
#if !defined(FW_SEARCH_ONLY) /* (there, the expired mode is not built: it sends a request) */
    if (arg[5] && strcmp(arg[5], "expired") == 0) {
        /* the server's certificate expired: refused, where the build checks dates */
        memset(&q, 0, sizeof q);
        q.path = "/api/ping";
        q.flags = UTM_REQ_NO_AUTH;
        if (!rc) rc = utm_request(&client, &q, &resp);
        printf("expired certificate: %s (%s)\n", fw_err(rc), utm_last_error(&client));
        utm_client_free(&client);
        printf("firmware: %d passed, %d failed\n", rc == UTM_ERR_TLS_VERIFY, rc != UTM_ERR_TLS_VERIFY);
        return rc == UTM_ERR_TLS_VERIFY ? 0 : 1;
    }
#endif
#if defined(FW_INTERNAL_KEY) /* a device with the Utm-Internal-Key: no login is linked */
    if (!rc) rc = utm_auth_use_internal_key(&client, arg[4]);
    printf("internal key: %s\n", fw_err(rc));
#else
    if (!rc) rc = utm_auth_use_password(&client, arg[3], arg[4], 0);
    if (!rc) rc = utm_auth_login(&client);
    printf("login: %s, subject %s\n", fw_err(rc), rc ? "-" : utm_auth_subject(&client));
#endif
    failed += rc != UTM_OK;

#if !defined(FW_REQUEST_ONLY) /* (a device that only sends requests: no search linked) */
    memset(&s, 0, sizeof s);
    f.field = "severity"; /* 1 low, 2 medium, 3 high */
    f.op = UTM_OP_IS_GREATER_THAN;
    f.value = utm_value_int(1);
    s.index_pattern = "alert-*";
    s.filters = &f;
    s.filter_count = 1;
    s.sort = newest_first;
    s.sort_count = 1;
    s.size = 25;
    s.on_doc = on_doc;
    rc = utm_search(&client, &s, &r);
    printf("search: %s, %u documents of %ld, %lu bytes\n", fw_err(rc), docs_seen, (long)r.total,
           (unsigned long)r.bytes);
    failed += rc != UTM_OK || docs_seen == 0 || r.docs != docs_seen;
#else
    (void)s; (void)r; (void)f; (void)newest_first; (void)docs_seen;
    printf("search: not built in (FW_REQUEST_ONLY)\n");
#endif

#if !defined(FW_SEARCH_ONLY)
    memset(&q, 0, sizeof q);
    q.path = "/api/account";
    q.body_buf = body;
    q.body_size = sizeof body;
    rc = utm_request(&client, &q, &resp);
    printf("GET /api/account: %s, HTTP %d, %lu bytes\n", fw_err(rc), resp.status, (unsigned long)resp.body_bytes);
    failed += rc != UTM_OK || resp.status != 200;

    /* a new connection: the TLS session is resumed */
    utm_client_close(&client);
    rc = utm_request(&client, &q, &resp);
    utm_client_stats(&client, &st);
    printf("again on a new connection: %s, HTTP %d; %u connections, %u full handshakes, %u resumed, TLS 1.%d\n",
           fw_err(rc), resp.status, (unsigned)st.connects, (unsigned)st.handshakes_full,
           (unsigned)st.handshakes_resumed, st.tls_version - 0x0301);
    failed += rc != UTM_OK || resp.status != 200 || st.connects != 2 || st.handshakes_resumed != 1;
#else
    (void)body; (void)st; (void)q; (void)resp;
    printf("requests: not built in (FW_SEARCH_ONLY)\n");
#endif
#if defined(FW_EVERYTHING)
    for (i = 0, n = 0; i < (int)(sizeof everything / sizeof everything[0]); i++) n += everything[i] != NULL;
    printf("public functions linked: %ld\n", n);
#endif

    utm_client_free(&client);
    link_close(&net);
#if MBEDTLS_VERSION_NUMBER >= 0x04000000
    mbedtls_psa_crypto_free(); /* PSA's process-wide state, before the heap check */
#endif
    printf("utm_client_t: %u bytes (static)\n", (unsigned)sizeof client);
    {
        extern uint32_t __stack_top[];
        size_t room = (size_t)((char *)__stack_top - (char *)__stack_bottom);
        printf("stack: %u bytes at most (login, search, request, reconnect; TLS included), of %u\n",
               (unsigned)stack_used(), (unsigned)room);
        failed += stack_used() + 256 > room; /* the paint is gone to the bottom: it overflowed */
    }
#if defined(MBEDTLS_PLATFORM_MEMORY)
    printf("heap: %u bytes at most (mbedTLS), %u at the end\n", (unsigned)heap_peak, (unsigned)heap_now);
    failed += heap_now != 0; /* everything given back */
    /* the session's whole RAM: the client, mbedTLS's peak heap, the deepest stack */
    printf("RAM of a session: %u bytes (client %u + heap %u + stack %u)\n",
           (unsigned)(sizeof client + heap_peak + stack_used()), (unsigned)sizeof client, (unsigned)heap_peak,
           (unsigned)stack_used());
#if defined(FW_RAM_BUDGET)
    failed += sizeof client + heap_peak + stack_used() > FW_RAM_BUDGET; /* a check of its own below */
#endif
#endif
#if defined(FW_RAM_BUDGET)
    printf("firmware: %d passed, %d failed\n", CHECKS + 1 - failed, failed); /* the budget too */
#elif defined(FW_REQUEST_ONLY)
    printf("firmware: %d passed, %d failed\n", CHECKS - 1 - failed, failed); /* no search */
#elif defined(FW_SEARCH_ONLY)
    printf("firmware: %d passed, %d failed\n", CHECKS - 2 - failed, failed); /* no request, no reconnect */
#else
    printf("firmware: %d passed, %d failed\n", CHECKS - failed, failed);
#endif
    return failed ? 1 : 0;
}

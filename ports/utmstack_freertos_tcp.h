/* utmstack_freertos_tcp.h - the FreeRTOS-Plus-TCP port of utmstack.h
 * (FreeRTOS-Plus-TCP V4.x, its Berkeley-style sockets API).
 *
 *   static utm_freertos_tcp_t net;          (zeroed)
 *   net.entropy_fn = my_hw_rng;             (required for TLS: no invented entropy)
 *   net.entropy_user = NULL;
 *   cfg.port = utm_freertos_tcp_port();
 *   cfg.port_ctx = &net;
 *
 * Sockets: FreeRTOS_socket / FreeRTOS_connect / FreeRTOS_send /
 * FreeRTOS_recv / FreeRTOS_shutdown / FreeRTOS_closesocket, each wait bounded
 * by the socket's FREERTOS_SO_RCVTIMEO / FREERTOS_SO_SNDTIMEO (set per call
 * from the library's timeouts), FREERTOS_MSG_DONTWAIT for the zero-wait
 * probe. Addresses: IPv4 literals always, IPv6 literals with
 * ipconfigUSE_IPv6, names through FreeRTOS_getaddrinfo with ipconfigUSE_DNS
 * (each address tried in turn; the lookup waits as long as the stack's DNS
 * does, ipconfigDNS_RECEIVE_BLOCK_TIME_TICKS and ipconfigDNS_REQUEST_ATTEMPTS).
 * Clock: the kernel's tick count in ms (with configTICK_RATE_HZ 1000 it
 * wraps every 49.7 days, which the library handles). Wall clock: time_fn
 * below, optional (an SNTP client's or RTC time; needed to check
 * certificate dates).
 *
 * Threads: one client per task; the stack's sockets API is thread-safe, the
 * client is not shared. Stack of the calling task, measured by the RTOS
 * firmware (make test-rtos: Cortex-M4 -Os, the lean mbedTLS configurations,
 * login + search + request + resumed reconnect + timeout, FreeRTOS_send /
 * recv / connect and the library's own frames included): 4,716 bytes at most
 * on mbedTLS 2.28 (TLS 1.2), 3,136 on 3.6, 4,828 on 4.0 (TLS 1.3). Give it
 * 8 KiB and check uxTaskGetStackHighWaterMark(). The client itself (27 KiB)
 * is not for the stack: make it static.
 */
#ifndef UTMSTACK_FREERTOS_TCP_H
#define UTMSTACK_FREERTOS_TCP_H
#include "utmstack.h"

#ifdef __cplusplus
extern "C" {
#endif
typedef struct utm_freertos_tcp {
    void *sock;      /* the Socket_t; NULL when closed (so zeroed is closed) */
    long last_error; /* the stack's -pdFREERTOS_ERRNO_* of the last failure */
    /* the firmware's entropy source (hardware RNG): 0 on success */
    int (*entropy_fn)(void *user, unsigned char *buf, size_t len);
    void *entropy_user;
    /* optional wall clock, seconds since 1970 (0: unknown) */
    int64_t (*time_fn)(void *user);
    void *time_user;
} utm_freertos_tcp_t;

UTMSTACK_API const utm_port_t *utm_freertos_tcp_port(void);
#ifdef __cplusplus
}
#endif
#endif /* UTMSTACK_FREERTOS_TCP_H */

#if defined(UTMSTACK_IMPLEMENTATION) && !defined(UTMSTACK_FREERTOS_TCP_IMPLEMENTED)
#define UTMSTACK_FREERTOS_TCP_IMPLEMENTED
#include "FreeRTOS.h"
#include "task.h"
#include "FreeRTOS_IP.h"
#include "FreeRTOS_Sockets.h"
#if ipconfigUSE_DNS
#include "FreeRTOS_DNS.h"
#endif
#include <string.h>

#if !ipconfigUSE_TCP
#error "utmstack_freertos_tcp.h needs TCP (ipconfigUSE_TCP 1)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

static uint32_t utm__frt_now(void *ctx)
{
    (void)ctx;
    return (uint32_t)((uint64_t)xTaskGetTickCount() * 1000u / configTICK_RATE_HZ);
}

static int64_t utm__frt_time(void *ctx)
{
    utm_freertos_tcp_t *p = (utm_freertos_tcp_t *)ctx;
    return p->time_fn ? p->time_fn(p->time_user) : 0;
}

static int utm__frt_entropy(void *ctx, unsigned char *buf, size_t len)
{
    utm_freertos_tcp_t *p = (utm_freertos_tcp_t *)ctx;
    return p->entropy_fn ? p->entropy_fn(p->entropy_user, buf, len) : -1;
}

/* Set the socket's wait for the next call (0 ms: never block). */
static void utm__frt_wait(Socket_t s, BaseType_t opt, uint32_t ms)
{
    TickType_t t = pdMS_TO_TICKS(ms);
    if (ms > 0 && t == 0) t = 1;
    (void)FreeRTOS_setsockopt(s, 0, opt, &t, sizeof t);
}

static void utm__frt_close(void *ctx)
{
    utm_freertos_tcp_t *p = (utm_freertos_tcp_t *)ctx;
    if (p->sock) {
        (void)FreeRTOS_shutdown((Socket_t)p->sock, FREERTOS_SHUT_RDWR);
        (void)FreeRTOS_closesocket((Socket_t)p->sock);
    }
    p->sock = NULL;
}

/* One attempt at one address within ms. */
static int utm__frt_try(utm_freertos_tcp_t *p, const struct freertos_sockaddr *to, uint32_t ms)
{
    Socket_t s = FreeRTOS_socket(to->sin_family, FREERTOS_SOCK_STREAM, FREERTOS_IPPROTO_TCP);
    BaseType_t r;
    if (s == FREERTOS_INVALID_SOCKET || s == NULL) { p->last_error = -pdFREERTOS_ERRNO_ENOMEM; return UTM_ERR_CONNECT; }
    utm__frt_wait(s, FREERTOS_SO_RCVTIMEO, ms); /* FreeRTOS_connect waits this long */
    r = FreeRTOS_connect(s, to, sizeof *to);
    if (r != 0) {
        p->last_error = (long)r;
        (void)FreeRTOS_closesocket(s);
        return r == -pdFREERTOS_ERRNO_ETIMEDOUT ? UTM_ERR_TIMEOUT : UTM_ERR_CONNECT;
    }
    p->sock = s;
    return UTM_OK;
}

static int utm__frt_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    utm_freertos_tcp_t *p = (utm_freertos_tcp_t *)ctx;
    struct freertos_sockaddr to;
    uint32_t start = utm__frt_now(NULL);
    int rc = UTM_ERR_DNS;
    utm__frt_close(p);
    memset(&to, 0, sizeof to);
    to.sin_len = (uint8_t)sizeof to;
    to.sin_port = FreeRTOS_htons(port);
    if (FreeRTOS_inet_pton(FREERTOS_AF_INET, host, &to.sin_address.ulIP_IPv4) == pdPASS) {
        to.sin_family = FREERTOS_AF_INET;
        return utm__frt_try(p, &to, timeout_ms);
    }
#if ipconfigUSE_IPv6
    if (FreeRTOS_inet_pton(FREERTOS_AF_INET6, host, to.sin_address.xIP_IPv6.ucBytes) == pdPASS) {
        to.sin_family = FREERTOS_AF_INET6;
        return utm__frt_try(p, &to, timeout_ms);
    }
#endif
#if ipconfigUSE_DNS
    {
        struct freertos_addrinfo *list = NULL, *ai;
        BaseType_t r = FreeRTOS_getaddrinfo(host, NULL, NULL, &list);
        if (r != 0 || !list) { p->last_error = (long)r; return UTM_ERR_DNS; }
        for (ai = list; ai; ai = ai->ai_next) {
            uint32_t spent = utm__frt_now(NULL) - start;
            if (spent >= timeout_ms) { rc = UTM_ERR_TIMEOUT; break; }
            to = *ai->ai_addr;
            to.sin_port = FreeRTOS_htons(port);
            rc = utm__frt_try(p, &to, timeout_ms - spent);
            if (rc == UTM_OK) break;
        }
        FreeRTOS_freeaddrinfo(list);
    }
#else
    (void)start;
#endif
    return rc;
}

static int utm__frt_send(void *ctx, const unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    utm_freertos_tcp_t *p = (utm_freertos_tcp_t *)ctx;
    BaseType_t n;
    if (!p->sock) return UTM_ERR_NET;
    utm__frt_wait((Socket_t)p->sock, FREERTOS_SO_SNDTIMEO, timeout_ms);
    n = FreeRTOS_send((Socket_t)p->sock, buf, len, 0);
    if (n > 0) return (int)n;
    p->last_error = (long)n;
    return n == 0 || n == -pdFREERTOS_ERRNO_ENOSPC ? UTM_ERR_TIMEOUT : UTM_ERR_NET;
}

static int utm__frt_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    utm_freertos_tcp_t *p = (utm_freertos_tcp_t *)ctx;
    BaseType_t n;
    if (!p->sock) return UTM_ERR_NET;
    utm__frt_wait((Socket_t)p->sock, FREERTOS_SO_RCVTIMEO, timeout_ms);
    n = FreeRTOS_recv((Socket_t)p->sock, buf, len, timeout_ms ? 0 : FREERTOS_MSG_DONTWAIT);
    if (n > 0) return (int)n;
    if (n == 0) return UTM_ERR_TIMEOUT;
    p->last_error = (long)n;
    /* every byte was read and the peer closed (or reset): the end */
    return n == -pdFREERTOS_ERRNO_ENOTCONN ? 0 : UTM_ERR_NET;
}

static const utm_port_t utm__frt_table = { utm__frt_connect, utm__frt_send, utm__frt_recv, utm__frt_close,
                                           utm__frt_now, utm__frt_entropy, utm__frt_time };

UTMSTACK_API const utm_port_t *utm_freertos_tcp_port(void) { return &utm__frt_table; }

#ifdef __cplusplus
}
#endif
#endif /* UTMSTACK_IMPLEMENTATION */

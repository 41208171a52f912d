/* utmstack_lwip.h - the lwIP port of utmstack.h (FreeRTOS + lwIP, or any
 * lwIP with NO_SYS=0 and the sockets API).
 *
 *   static utm_lwip_t net;                  (zeroed)
 *   net.entropy_fn = my_hw_rng;             (required for TLS: no invented entropy)
 *   net.entropy_user = NULL;
 *   cfg.port = utm_lwip_port();
 *   cfg.port_ctx = &net;
 *
 * Sockets: lwip_socket / lwip_connect / lwip_send / lwip_recv / lwip_close, by
 * those names, so it builds whether or not LWIP_COMPAT_SOCKETS or
 * LWIP_POSIX_SOCKETS_IO_NAMES turn send/recv/close into macros. Waits:
 * lwip_poll (LWIP_SOCKET_POLL), else lwip_select (LWIP_SOCKET_SELECT), else
 * SO_RCVTIMEO/SO_SNDTIMEO. Names: lwip_getaddrinfo with LWIP_DNS, otherwise
 * numeric IPv4/IPv6 addresses only (UTM_ERR_DNS for a name). Clock: sys_now()
 * (FreeRTOS: the tick count in ms; its wrap every 49.7 days is handled).
 * Wall clock: time_fn below, optional (an SNTP client's time).
 *
 * Threads: one client per task; lwIP's sockets API is thread-safe, the
 * client is not shared. Stack of the calling task: the library and mbedTLS
 * need 4.7 KiB for a TLS login + search on a Cortex-M4 (measured by painting,
 * make test-qemu); lwip_send/lwip_recv/lwip_poll run in the caller's task on
 * top of that. Give it 8 KiB and check uxTaskGetStackHighWaterMark()
 * (examples/freertos_lwip/utmstack_task.c). The client itself (27 KiB) is
 * not for the stack: make it static.
 */
#ifndef UTMSTACK_LWIP_H
#define UTMSTACK_LWIP_H
#include "utmstack.h"

#ifdef __cplusplus
extern "C" {
#endif
typedef struct utm_lwip {
    int fd_plus1;   /* the socket + 1; 0 when closed (so zeroed is closed) */
    int last_errno; /* lwIP errno of the last failure */
    /* the firmware's entropy source (hardware RNG): 0 on success */
    int (*entropy_fn)(void *user, unsigned char *buf, size_t len);
    void *entropy_user;
    /* optional wall clock, seconds since 1970 (0: unknown) */
    int64_t (*time_fn)(void *user);
    void *time_user;
} utm_lwip_t;

UTMSTACK_API const utm_port_t *utm_lwip_port(void);
#ifdef __cplusplus
}
#endif
#endif /* UTMSTACK_LWIP_H */

#if defined(UTMSTACK_IMPLEMENTATION) && !defined(UTMSTACK_LWIP_IMPLEMENTED)
#define UTMSTACK_LWIP_IMPLEMENTED
#include "lwip/opt.h"
#include "lwip/def.h"
#include "lwip/sockets.h"
#include "lwip/sys.h"
#include "lwip/inet.h"
#if LWIP_DNS
#include "lwip/netdb.h"
#endif
#include <string.h>

#if !LWIP_SOCKET || NO_SYS
#error "utmstack_lwip.h needs lwIP's sockets API (LWIP_SOCKET=1, NO_SYS=0)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifndef UTM__LWIP_EINPROGRESS
#ifdef EINPROGRESS
#define UTM__LWIP_EINPROGRESS EINPROGRESS
#else
#define UTM__LWIP_EINPROGRESS 115
#endif
#endif

static uint32_t utm__lwip_now(void *ctx)
{
    (void)ctx;
    return (uint32_t)sys_now();
}

static int64_t utm__lwip_time(void *ctx)
{
    utm_lwip_t *p = (utm_lwip_t *)ctx;
    return p->time_fn ? p->time_fn(p->time_user) : 0;
}

static int utm__lwip_entropy(void *ctx, unsigned char *buf, size_t len)
{
    utm_lwip_t *p = (utm_lwip_t *)ctx;
    return p->entropy_fn ? p->entropy_fn(p->entropy_user, buf, len) : -1;
}

static int utm__lwip_errno(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (lwip_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -1;
    return err;
}

/* Wait until fd is readable (want_write 0) or writable: 1, 0 timeout, -1 error. */
static int utm__lwip_wait(int fd, int want_write, uint32_t ms)
{
#if LWIP_SOCKET_POLL
    struct pollfd pfd;
    int r;
    pfd.fd = fd;
    pfd.events = (short)(want_write ? POLLOUT : POLLIN);
    pfd.revents = 0;
    r = lwip_poll(&pfd, 1, (int)(ms > 0x7fffffffu ? 0x7fffffff : ms));
    return r > 0 ? 1 : r;
#elif LWIP_SOCKET_SELECT
    fd_set set;
    struct timeval tv;
    int r;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    tv.tv_sec = (long)(ms / 1000);
    tv.tv_usec = (long)(ms % 1000) * 1000;
    r = lwip_select(fd + 1, want_write ? NULL : &set, want_write ? &set : NULL, NULL, &tv);
    return r > 0 ? 1 : r;
#else
    /* no poll, no select: the blocking call itself times out (SO_RCVTIMEO/SNDTIMEO) */
    struct timeval tv;
    tv.tv_sec = (long)(ms / 1000);
    tv.tv_usec = (long)(ms % 1000) * 1000;
    lwip_setsockopt(fd, SOL_SOCKET, want_write ? SO_SNDTIMEO : SO_RCVTIMEO, &tv, sizeof tv);
    return 1;
#endif
}

static void utm__lwip_close(void *ctx)
{
    utm_lwip_t *p = (utm_lwip_t *)ctx;
    if (p->fd_plus1 > 0) lwip_close(p->fd_plus1 - 1);
    p->fd_plus1 = 0;
}

/* A numeric address (or, with LWIP_DNS, a name) into ss. */
static int utm__lwip_resolve(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)ss;
#if LWIP_IPV6
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)ss;
#endif
    memset(ss, 0, sizeof *ss);
    if (lwip_inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = (in_port_t)lwip_htons(port);
        *len = sizeof *v4;
        return UTM_OK;
    }
#if LWIP_IPV6
    if (lwip_inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = (in_port_t)lwip_htons(port);
        *len = sizeof *v6;
        return UTM_OK;
    }
#endif
#if LWIP_DNS
    {
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        if (lwip_getaddrinfo(host, NULL, &hints, &res) != 0 || !res) return UTM_ERR_DNS;
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *len = (socklen_t)res->ai_addrlen;
        if (ss->ss_family == AF_INET) v4->sin_port = (in_port_t)lwip_htons(port);
#if LWIP_IPV6
        else v6->sin6_port = (in_port_t)lwip_htons(port);
#endif
        lwip_freeaddrinfo(res);
        return UTM_OK;
    }
#else
    return UTM_ERR_DNS; /* LWIP_DNS is off: numeric addresses only */
#endif
}

static int utm__lwip_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    utm_lwip_t *p = (utm_lwip_t *)ctx;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    int fd, rc, one = 1;
    p->fd_plus1 = 0;
    p->last_errno = 0;
    rc = utm__lwip_resolve(host, port, &ss, &len);
    if (rc) return rc;
    fd = lwip_socket(ss.ss_family, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) { p->last_errno = errno; return UTM_ERR_CONNECT; }
    (void)lwip_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#if LWIP_SOCKET_POLL || LWIP_SOCKET_SELECT
    (void)lwip_fcntl(fd, F_SETFL, O_NONBLOCK); /* connect bounded by the wait below */
#else
    (void)timeout_ms; /* without poll or select, connect blocks for lwIP's own SYN retries */
#endif
    if (lwip_connect(fd, (struct sockaddr *)(void *)&ss, len) != 0) {
        int err = errno;
        if (err != UTM__LWIP_EINPROGRESS) { p->last_errno = err; lwip_close(fd); return UTM_ERR_CONNECT; }
        rc = utm__lwip_wait(fd, 1, timeout_ms);
        if (rc == 0) { lwip_close(fd); return UTM_ERR_TIMEOUT; }
        err = utm__lwip_errno(fd);
        if (rc < 0 || err != 0) { p->last_errno = err; lwip_close(fd); return UTM_ERR_CONNECT; }
    }
    p->fd_plus1 = fd + 1;
    return UTM_OK;
}

static int utm__lwip_send(void *ctx, const unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    utm_lwip_t *p = (utm_lwip_t *)ctx;
    int fd = p->fd_plus1 - 1, r;
    ssize_t n;
    if (fd < 0) return UTM_ERR_NET;
    r = utm__lwip_wait(fd, 1, timeout_ms);
    if (r == 0) return UTM_ERR_TIMEOUT;
    if (r < 0) { p->last_errno = errno; return UTM_ERR_NET; }
    n = lwip_send(fd, buf, len, 0);
    if (n > 0) return (int)n;
    p->last_errno = errno;
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? UTM_ERR_TIMEOUT : UTM_ERR_NET;
}

static int utm__lwip_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    utm_lwip_t *p = (utm_lwip_t *)ctx;
    int fd = p->fd_plus1 - 1, r;
    ssize_t n;
    if (fd < 0) return UTM_ERR_NET;
    if (timeout_ms == 0) { /* a probe: what is there, never a wait */
        n = lwip_recv(fd, buf, len, MSG_DONTWAIT);
        if (n >= 0) return (int)n;
        p->last_errno = errno;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? UTM_ERR_TIMEOUT : UTM_ERR_NET;
    }
    r = utm__lwip_wait(fd, 0, timeout_ms);
    if (r == 0) return UTM_ERR_TIMEOUT;
    if (r < 0) { p->last_errno = errno; return UTM_ERR_NET; }
    n = lwip_recv(fd, buf, len, 0);
    if (n >= 0) return (int)n;
    p->last_errno = errno;
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? UTM_ERR_TIMEOUT : UTM_ERR_NET;
}

static const utm_port_t utm__lwip_table = {
    utm__lwip_connect, utm__lwip_send, utm__lwip_recv, utm__lwip_close,
    utm__lwip_now, utm__lwip_entropy, utm__lwip_time
};

UTMSTACK_API const utm_port_t *utm_lwip_port(void) { return &utm__lwip_table; }

#ifdef __cplusplus
}
#endif
#endif /* UTMSTACK_IMPLEMENTATION */

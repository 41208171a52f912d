/* utmstack_zephyr.h - the Zephyr port of utmstack.h.
 *
 *   static utm_zephyr_t net;                (zeroed)
 *   cfg.port = utm_zephyr_port();
 *   cfg.port_ctx = &net;
 *
 * zsock_* sockets (CONFIG_NET_SOCKETS), zsock_getaddrinfo (CONFIG_DNS_RESOLVER
 * for names; numeric addresses always), zsock_poll for every wait,
 * k_uptime_get() for the clock, sys_csrand_get() for entropy
 * (CONFIG_CSPRNG_ENABLED, backed by an entropy driver). The wall clock is
 * optional: time_fn (an SNTP client's time), else the Date header decides.
 *
 * Threads: one client per thread. Stack: the library and mbedTLS need
 * 4.7 KiB for a TLS login + search on a Cortex-M4 (make test-qemu), zsock_*
 * calls come on top: 8 KiB (examples/zephyr/prj.conf). The client itself
 * (27 KiB) is not for the stack: make it static.
 * examples/zephyr/ is an application; zephyr/ makes this repository a module.
 */
#ifndef UTMSTACK_ZEPHYR_H
#define UTMSTACK_ZEPHYR_H
#include "utmstack.h"

#ifdef __cplusplus
extern "C" {
#endif
typedef struct utm_zephyr {
    int fd_plus1;   /* the socket + 1; 0 when closed (so zeroed is closed) */
    int last_errno; /* errno of the last failure */
    int64_t (*time_fn)(void *user); /* optional: seconds since 1970, 0 unknown */
    void *time_user;
} utm_zephyr_t;

UTMSTACK_API const utm_port_t *utm_zephyr_port(void);
#ifdef __cplusplus
}
#endif
#endif /* UTMSTACK_ZEPHYR_H */

#if defined(UTMSTACK_IMPLEMENTATION) && !defined(UTMSTACK_ZEPHYR_IMPLEMENTED)
#define UTMSTACK_ZEPHYR_IMPLEMENTED
#include <errno.h>
#include <string.h>
#include <zephyr/kernel.h>
#include <zephyr/net/socket.h>
#if defined(__has_include)
#if __has_include(<zephyr/random/random.h>)
#include <zephyr/random/random.h> /* Zephyr 3.5 and later */
#else
#include <zephyr/random/rand32.h>
#endif
#else
#include <zephyr/random/random.h>
#endif

/* Zephyr 3.7 named fcntl's constants ZVFS_*; Zephyr 4.4 moved the socket
 * names into the net_ / NET_ / ZSOCK_ namespace (the bare POSIX names are
 * left to CONFIG_NET_NAMESPACE_COMPAT_MODE). Whichever this tree has.      */
#if defined(ZVFS_O_NONBLOCK)
#define UTM__Z_F_GETFL ZVFS_F_GETFL
#define UTM__Z_F_SETFL ZVFS_F_SETFL
#define UTM__Z_O_NONBLOCK ZVFS_O_NONBLOCK
#else
#include <fcntl.h>
#define UTM__Z_F_GETFL F_GETFL
#define UTM__Z_F_SETFL F_SETFL
#define UTM__Z_O_NONBLOCK O_NONBLOCK
#endif
#if defined(NET_AF_UNSPEC)
#define UTM__Z_AF_UNSPEC NET_AF_UNSPEC
#define UTM__Z_SOCK_STREAM NET_SOCK_STREAM
typedef net_socklen_t utm__z_socklen_t;
#else
#define UTM__Z_AF_UNSPEC AF_UNSPEC
#define UTM__Z_SOCK_STREAM SOCK_STREAM
typedef socklen_t utm__z_socklen_t;
#endif
#if defined(ZSOCK_SO_ERROR)
#define UTM__Z_SOL_SOCKET ZSOCK_SOL_SOCKET
#define UTM__Z_SO_ERROR ZSOCK_SO_ERROR
#else
#define UTM__Z_SOL_SOCKET SOL_SOCKET
#define UTM__Z_SO_ERROR SO_ERROR
#endif

#ifdef __cplusplus
extern "C" {
#endif

static uint32_t utm__zephyr_now(void *ctx)
{
    (void)ctx;
    return (uint32_t)k_uptime_get();
}

static int64_t utm__zephyr_time(void *ctx)
{
    utm_zephyr_t *p = (utm_zephyr_t *)ctx;
    return p->time_fn ? p->time_fn(p->time_user) : 0;
}

static int utm__zephyr_entropy(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    return sys_csrand_get(buf, len) == 0 ? 0 : -1;
}

static void utm__zephyr_close(void *ctx)
{
    utm_zephyr_t *p = (utm_zephyr_t *)ctx;
    if (p->fd_plus1 > 0) zsock_close(p->fd_plus1 - 1);
    p->fd_plus1 = 0;
}

/* 1 ready, 0 timeout, -1 error */
static int utm__zephyr_wait(int fd, short events, uint32_t ms)
{
    struct zsock_pollfd pfd;
    int r;
    pfd.fd = fd;
    pfd.events = events;
    pfd.revents = 0;
    r = zsock_poll(&pfd, 1, (int)(ms > 0x7fffffffu ? 0x7fffffff : ms));
    if (r > 0 && (pfd.revents & (ZSOCK_POLLERR | ZSOCK_POLLNVAL)) && !(pfd.revents & events)) return -1;
    return r > 0 ? 1 : r;
}

static int utm__zephyr_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    utm_zephyr_t *p = (utm_zephyr_t *)ctx;
    struct zsock_addrinfo hints, *list = NULL, *ai;
    char service[8];
    uint32_t start = utm__zephyr_now(NULL);
    int rc = UTM_ERR_CONNECT;
    p->fd_plus1 = 0;
    p->last_errno = 0;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = UTM__Z_AF_UNSPEC;
    hints.ai_socktype = UTM__Z_SOCK_STREAM;
    {
        char *s = service + sizeof service;
        unsigned v = port;
        *--s = 0;
        do { *--s = (char)('0' + v % 10); v /= 10; } while (v);
        memmove(service, s, strlen(s) + 1);
    }
    if (zsock_getaddrinfo(host, service, &hints, &list) != 0 || !list) return UTM_ERR_DNS;
    for (ai = list; ai; ai = ai->ai_next) {
        uint32_t spent = utm__zephyr_now(NULL) - start;
        int fd, flags, ready, err = 0;
        utm__z_socklen_t len = sizeof err;
        if (spent >= timeout_ms) { rc = UTM_ERR_TIMEOUT; break; }
        fd = zsock_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) { p->last_errno = errno; continue; }
        flags = zsock_fcntl(fd, UTM__Z_F_GETFL, 0);
        (void)zsock_fcntl(fd, UTM__Z_F_SETFL, flags | UTM__Z_O_NONBLOCK);
        if (zsock_connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            p->last_errno = errno;
            zsock_close(fd);
            continue;
        }
        ready = utm__zephyr_wait(fd, ZSOCK_POLLOUT, timeout_ms - spent);
        if (ready == 1 && zsock_getsockopt(fd, UTM__Z_SOL_SOCKET, UTM__Z_SO_ERROR, &err, &len) == 0 && err == 0) {
            p->fd_plus1 = fd + 1;
            rc = UTM_OK;
            break;
        }
        p->last_errno = err ? err : errno;
        zsock_close(fd);
        rc = ready == 0 ? UTM_ERR_TIMEOUT : UTM_ERR_CONNECT;
    }
    zsock_freeaddrinfo(list);
    return rc;
}

static int utm__zephyr_send(void *ctx, const unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    utm_zephyr_t *p = (utm_zephyr_t *)ctx;
    int fd = p->fd_plus1 - 1, r;
    ssize_t n;
    if (fd < 0) return UTM_ERR_NET;
    r = utm__zephyr_wait(fd, ZSOCK_POLLOUT, timeout_ms);
    if (r == 0) return UTM_ERR_TIMEOUT;
    if (r < 0) { p->last_errno = errno; return UTM_ERR_NET; }
    n = zsock_send(fd, buf, len, 0);
    if (n > 0) return (int)n;
    p->last_errno = errno;
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? UTM_ERR_TIMEOUT : UTM_ERR_NET;
}

static int utm__zephyr_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    utm_zephyr_t *p = (utm_zephyr_t *)ctx;
    int fd = p->fd_plus1 - 1, r;
    ssize_t n;
    if (fd < 0) return UTM_ERR_NET;
    r = utm__zephyr_wait(fd, ZSOCK_POLLIN, timeout_ms);
    if (r == 0) return UTM_ERR_TIMEOUT;
    if (r < 0) { p->last_errno = errno; return UTM_ERR_NET; }
    n = zsock_recv(fd, buf, len, 0);
    if (n >= 0) return (int)n;
    p->last_errno = errno;
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? UTM_ERR_TIMEOUT : UTM_ERR_NET;
}

static const utm_port_t utm__zephyr_table = {
    utm__zephyr_connect, utm__zephyr_send, utm__zephyr_recv, utm__zephyr_close,
    utm__zephyr_now, utm__zephyr_entropy, utm__zephyr_time
};

UTMSTACK_API const utm_port_t *utm_zephyr_port(void) { return &utm__zephyr_table; }

#ifdef __cplusplus
}
#endif
#endif /* UTMSTACK_IMPLEMENTATION */

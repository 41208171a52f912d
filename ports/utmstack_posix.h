/* utmstack_posix.h - the POSIX port of utmstack.h (Linux, BSD, macOS).
 *
 *   utm_posix_t net;                      (zeroed or not: connect resets it)
 *   cfg.port = utm_posix_port();
 *   cfg.port_ctx = &net;
 *
 * getaddrinfo() with IPv4 and IPv6 (each address tried in turn within the
 * connect timeout), non-blocking connect, poll()-bounded send and recv, no
 * SIGPIPE, CLOCK_MONOTONIC, entropy from getrandom() or /dev/urandom.
 * getaddrinfo() itself cannot be bounded by a timeout: it waits as long as
 * the system resolver does (see resolv.conf "timeout" and "attempts").
 * One utm_posix_t per client; no global state. Stack: under 1 KiB of its own.
 * Include it after utmstack.h, in the file that defines UTMSTACK_IMPLEMENTATION
 * (the implementation), or anywhere (the declarations).
 */
#ifndef UTMSTACK_POSIX_H
#define UTMSTACK_POSIX_H
#include "utmstack.h"

#if !defined(__unix__) && !defined(__APPLE__)
#error "utmstack_posix.h needs a POSIX system; see ports/ for the others"
#endif

#ifdef __cplusplus
extern "C" {
#endif
typedef struct utm_posix {
    int fd_plus1;    /* the socket + 1; 0 when closed (so zeroed is closed) */
    int last_errno;  /* errno of the last failure, for diagnostics */
    int last_gai;    /* getaddrinfo() result of the last failed lookup */
} utm_posix_t;

UTMSTACK_API const utm_port_t *utm_posix_port(void);
#ifdef __cplusplus
}
#endif
#endif /* UTMSTACK_POSIX_H */

#if defined(UTMSTACK_IMPLEMENTATION) && !defined(UTMSTACK_POSIX_IMPLEMENTED)
#define UTMSTACK_POSIX_IMPLEMENTED
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifdef MSG_NOSIGNAL
#define UTM__POSIX_SEND_FLAGS MSG_NOSIGNAL
#else
#define UTM__POSIX_SEND_FLAGS 0
#endif

static uint32_t utm__posix_now(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static int64_t utm__posix_time(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

static void utm__posix_close(void *ctx)
{
    utm_posix_t *p = (utm_posix_t *)ctx;
    if (p->fd_plus1 > 0) close(p->fd_plus1 - 1);
    p->fd_plus1 = 0;
}

/* Wait for `events` on fd, at most ms: 1 ready, 0 timeout, -1 error. */
static int utm__posix_poll(int fd, short events, uint32_t ms)
{
    uint32_t start = utm__posix_now(NULL);
    for (;;) {
        struct pollfd pfd;
        uint32_t spent = utm__posix_now(NULL) - start;
        int r;
        if (spent >= ms) return 0;
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        r = poll(&pfd, 1, (int)((ms - spent) > (uint32_t)INT_MAX ? INT_MAX : (ms - spent)));
        if (r > 0) return 1;
        if (r == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

static int utm__posix_try(utm_posix_t *p, const struct addrinfo *ai, uint32_t ms)
{
    int fd, one = 1, err = 0, ready;
    socklen_t len = sizeof err;
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) { p->last_errno = errno; return UTM_ERR_CONNECT; }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK) != 0) { p->last_errno = errno; close(fd); return UTM_ERR_CONNECT; }
#ifdef SO_NOSIGPIPE
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) { p->last_errno = errno; close(fd); return UTM_ERR_CONNECT; }
        ready = utm__posix_poll(fd, POLLOUT, ms);
        if (ready == 0) { close(fd); p->last_errno = ETIMEDOUT; return UTM_ERR_TIMEOUT; }
        if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            p->last_errno = err ? err : errno;
            close(fd);
            return UTM_ERR_CONNECT;
        }
    }
    p->fd_plus1 = fd + 1;
    return UTM_OK;
}

static int utm__posix_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    utm_posix_t *p = (utm_posix_t *)ctx;
    struct addrinfo hints, *list = NULL, *ai;
    char service[8];
    uint32_t start = utm__posix_now(NULL);
    int rc = UTM_ERR_CONNECT, g;
    p->fd_plus1 = 0;
    p->last_errno = 0;
    p->last_gai = 0;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    service[sizeof service - 1] = 0;
    {
        char *s = service + sizeof service - 1;
        unsigned v = port;
        do { *--s = (char)('0' + v % 10); v /= 10; } while (v);
        memmove(service, s, strlen(s) + 1);
    }
    g = getaddrinfo(host, service, &hints, &list);
    if (g != 0 || !list) { p->last_gai = g; return UTM_ERR_DNS; }
    for (ai = list; ai; ai = ai->ai_next) {
        uint32_t spent = utm__posix_now(NULL) - start;
        if (spent >= timeout_ms) { rc = UTM_ERR_TIMEOUT; break; }
        rc = utm__posix_try(p, ai, timeout_ms - spent);
        if (rc == UTM_OK) break;
    }
    freeaddrinfo(list);
    return rc;
}

static int utm__posix_send(void *ctx, const unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    utm_posix_t *p = (utm_posix_t *)ctx;
    int fd = p->fd_plus1 - 1;
    if (fd < 0) return UTM_ERR_NET;
    for (;;) {
        ssize_t n = send(fd, buf, len, UTM__POSIX_SEND_FLAGS);
        int ready;
        if (n > 0) return (int)n;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { p->last_errno = errno; return UTM_ERR_NET; }
        ready = utm__posix_poll(fd, POLLOUT, timeout_ms);
        if (ready == 0) return UTM_ERR_TIMEOUT;
        if (ready < 0) { p->last_errno = errno; return UTM_ERR_NET; }
    }
}

static int utm__posix_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    utm_posix_t *p = (utm_posix_t *)ctx;
    int fd = p->fd_plus1 - 1;
    if (fd < 0) return UTM_ERR_NET;
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        int ready;
        if (n >= 0) return (int)n;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) { p->last_errno = errno; return UTM_ERR_NET; }
        ready = utm__posix_poll(fd, POLLIN, timeout_ms);
        if (ready == 0) return UTM_ERR_TIMEOUT;
        if (ready < 0) { p->last_errno = errno; return UTM_ERR_NET; }
    }
}

static int utm__posix_entropy(void *ctx, unsigned char *buf, size_t len)
{
    size_t got = 0;
    (void)ctx;
#if defined(__linux__)
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0) { if (errno == EINTR) continue; break; }
        got += (size_t)n;
    }
#endif
    if (got < len) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0) return -1;
        while (got < len) {
            ssize_t n = read(fd, buf + got, len - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += (size_t)n;
        }
        close(fd);
    }
    return got == len ? 0 : -1;
}

static const utm_port_t utm__posix_table = {
    utm__posix_connect, utm__posix_send, utm__posix_recv, utm__posix_close,
    utm__posix_now, utm__posix_entropy, utm__posix_time
};

UTMSTACK_API const utm_port_t *utm_posix_port(void) { return &utm__posix_table; }

#ifdef __cplusplus
}
#endif
#endif /* UTMSTACK_IMPLEMENTATION */

/* STUB for tests/cross_compile.sh: the zsock_* API our port uses, with
 * Zephyr's signatures (include/zephyr/net/socket.h). */
#ifndef STUB_ZEPHYR_NET_SOCKET_H
#define STUB_ZEPHYR_NET_SOCKET_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <fcntl.h>
typedef uint32_t socklen_t;
typedef unsigned short sa_family_t;
struct sockaddr { sa_family_t sa_family; char data[24]; };
#define AF_UNSPEC 0
#define AF_INET 1
#define AF_INET6 2
#define SOCK_STREAM 1
#define SOL_SOCKET 1
#define SO_ERROR 4
struct zsock_addrinfo {
    struct zsock_addrinfo *ai_next;
    int ai_flags, ai_family, ai_socktype, ai_protocol;
    socklen_t ai_addrlen;
    struct sockaddr *ai_addr;
    char *ai_canonname;
};
struct zsock_pollfd { int fd; short events; short revents; };
#define ZSOCK_POLLIN 1
#define ZSOCK_POLLOUT 4
#define ZSOCK_POLLERR 8
#define ZSOCK_POLLNVAL 0x20
int zsock_socket(int family, int type, int proto);
int zsock_close(int sock);
int zsock_connect(int sock, const struct sockaddr *addr, socklen_t addrlen);
ssize_t zsock_send(int sock, const void *buf, size_t len, int flags);
ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags);
int zsock_fcntl(int sock, int cmd, int flags);
int zsock_poll(struct zsock_pollfd *fds, int nfds, int timeout);
int zsock_getsockopt(int sock, int level, int optname, void *optval, socklen_t *optlen);
int zsock_getaddrinfo(const char *host, const char *service, const struct zsock_addrinfo *hints,
                      struct zsock_addrinfo **res);
void zsock_freeaddrinfo(struct zsock_addrinfo *ai);
#endif

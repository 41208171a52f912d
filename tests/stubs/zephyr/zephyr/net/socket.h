/* STUB for tests/cross_compile.sh: the zsock_* API our port uses, with
 * Zephyr's signatures (include/zephyr/net/socket.h, net_ip.h,
 * sys/fdtable.h). Two generations: the default has the bare POSIX names of
 * Zephyr 3.x; with STUB_ZEPHYR_NET_NAMESPACE, only the names of Zephyr 4.4's
 * net_ / NET_ / ZSOCK_ namespace and the ZVFS_ fcntl constants (3.7+). */
#ifndef STUB_ZEPHYR_NET_SOCKET_H
#define STUB_ZEPHYR_NET_SOCKET_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#if defined(STUB_ZEPHYR_NET_NAMESPACE)
typedef uint32_t net_socklen_t;
typedef unsigned short net_sa_family_t;
struct net_sockaddr { net_sa_family_t sa_family; char data[24]; };
#define NET_PF_UNSPEC 0
#define NET_AF_UNSPEC NET_PF_UNSPEC
enum net_sock_type { NET_SOCK_STREAM = 1, NET_SOCK_DGRAM, NET_SOCK_RAW };
#define ZSOCK_SOL_SOCKET 1
#define ZSOCK_SO_ERROR 4
#define ZVFS_O_NONBLOCK 0x4000
#define ZVFS_F_GETFL 3
#define ZVFS_F_SETFL 4
#define STUB_SOCKLEN net_socklen_t
#define STUB_SOCKADDR struct net_sockaddr
#else
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
#define STUB_SOCKLEN socklen_t
#define STUB_SOCKADDR struct sockaddr
#endif
struct zsock_addrinfo {
    struct zsock_addrinfo *ai_next;
    int ai_flags, ai_family, ai_socktype, ai_protocol;
    STUB_SOCKLEN ai_addrlen;
    STUB_SOCKADDR *ai_addr;
    char *ai_canonname;
};
struct zsock_pollfd { int fd; short events; short revents; };
#define ZSOCK_POLLIN 1
#define ZSOCK_POLLOUT 4
#define ZSOCK_POLLERR 8
#define ZSOCK_POLLNVAL 0x20
int zsock_socket(int family, int type, int proto);
int zsock_close(int sock);
int zsock_connect(int sock, const STUB_SOCKADDR *addr, STUB_SOCKLEN addrlen);
ssize_t zsock_send(int sock, const void *buf, size_t len, int flags);
ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags);
int zsock_fcntl(int sock, int cmd, int flags);
int zsock_poll(struct zsock_pollfd *fds, int nfds, int timeout);
int zsock_getsockopt(int sock, int level, int optname, void *optval, STUB_SOCKLEN *optlen);
int zsock_getaddrinfo(const char *host, const char *service, const struct zsock_addrinfo *hints,
                      struct zsock_addrinfo **res);
void zsock_freeaddrinfo(struct zsock_addrinfo *ai);
#endif

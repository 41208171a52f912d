/* A minimal lwIP configuration for the Cortex-M cross-compile check: an OS
 * (FreeRTOS), the sockets API with poll, IPv4 and IPv6, DNS. */
#ifndef STUB_LWIPOPTS_H
#define STUB_LWIPOPTS_H
#define NO_SYS 0
#define LWIP_SOCKET 1
#define LWIP_NETCONN 1
#define LWIP_SOCKET_POLL 1
#define LWIP_COMPAT_SOCKETS 0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_DNS 1
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_SO_RCVTIMEO 1
#define LWIP_SO_SNDTIMEO 1
#define LWIP_TIMEVAL_PRIVATE 1
#define LWIP_ERRNO_STDINCLUDE 1
#define MEM_ALIGNMENT 4
#endif

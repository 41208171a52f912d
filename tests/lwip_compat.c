/* Compile check: the lwIP port where the firmware's lwIP turns the POSIX
 * names into macros (LWIP_COMPAT_SOCKETS=1 / LWIP_POSIX_SOCKETS_IO_NAMES). */
#include "lwip/opt.h"
#include "lwip/sockets.h"
#define send(s, d, l, f) lwip_send(s, d, l, f)
#define recv(s, m, l, f) lwip_recv(s, m, l, f)
#define close(s) lwip_close(s)
#define connect(s, n, l) lwip_connect(s, n, l)
#define read(s, m, l) lwip_read(s, m, l)
#define write(s, d, l) lwip_write(s, d, l)
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_lwip.h"
int main(void) { return utm_lwip_port()->send_fn == NULL; }

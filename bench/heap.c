/* heap: the peak heap of a real session (a TLS login and one search of 25
 * alerts), counted by wrapping mbedTLS's calloc and free at link time
 * (-Wl,--wrap=calloc,--wrap=free: Debian's build has no
 * MBEDTLS_PLATFORM_MEMORY to hook). `make heap` links it twice: with
 * Debian's libmbedtls.a and with Debian's source built with
 * config/mbedtls_lean_config.h. Usage: heap URL CA.pem LABEL           */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_posix.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_calloc(size_t n, size_t size);
void __real_free(void *p);
void *__wrap_calloc(size_t n, size_t size);
void __wrap_free(void *p);
static size_t now_bytes, peak_bytes, calls;

void *__wrap_calloc(size_t n, size_t size)
{
    size_t *p;
    if (size && n > (SIZE_MAX - 16) / size) return NULL;
    p = (size_t *)__real_calloc(1, n * size + 16);
    if (!p) return NULL;
    p[0] = n * size;
    now_bytes += p[0];
    calls++;
    if (now_bytes > peak_bytes) peak_bytes = now_bytes;
    return p + 2;
}

void __wrap_free(void *q)
{
    size_t *p = (size_t *)q;
    if (!p) return;
    now_bytes -= p[-2];
    __real_free(p - 2);
}

static int count_doc(void *user, const utm_json_t *doc, uint64_t index)
{
    (void)user; (void)doc; (void)index;
    return 0;
}

int main(int argc, char **argv)
{
    static utm_client_t c;
    static char ca[16384];
    utm_posix_t net = { 0, 0, 0 };
    utm_config_t cfg;
    utm_search_t s;
    utm_search_result_t r;
    size_t n;
    FILE *f;
    int rc;
    if (argc != 4 || !(f = fopen(argv[2], "rb"))) { fprintf(stderr, "usage: heap URL CA.pem LABEL\n"); return 2; }
    n = fread(ca, 1, sizeof ca - 1, f);
    fclose(f);
    memset(&cfg, 0, sizeof cfg);
    cfg.url = argv[1];
    cfg.ca = (const unsigned char *)ca;
    cfg.ca_len = n + 1;
    cfg.port = utm_posix_port();
    cfg.port_ctx = &net;
    rc = utm_client_init(&c, &cfg);
    if (!rc) rc = utm_auth_use_password(&c, "admin", "s3cret-Passw0rd", 0);
    memset(&s, 0, sizeof s);
    s.index_pattern = "alert-*";
    s.size = 25;
    s.on_doc = count_doc;
    if (!rc) rc = utm_search(&c, &s, &r); /* logs in first */
    utm_client_free(&c);
    if (rc || r.docs != 25 || now_bytes != 0) {
        fprintf(stderr, "heap: %s (%s), %lu documents, %lu bytes not freed\n", utm_strerror(rc), utm_last_error(&c),
                (unsigned long)(rc ? 0 : r.docs), (unsigned long)now_bytes);
        return 1;
    }
    printf("%-70s peak heap %6lu bytes (%lu allocations), utm_client_t %lu bytes\n", argv[3],
           (unsigned long)peak_bytes, (unsigned long)calls, (unsigned long)sizeof c);
    return 0;
}

/* The lwIP port over a real lwIP stack (Debian's liblwip: lwIP 2.1.3, unix
 * port, tapif, sockets). tests/run.sh creates a network namespace with a TAP
 * device (10.77.0.1 on the host side) and the emulator on 10.77.0.1; lwIP
 * gets 10.77.0.2 and every byte of TCP goes through lwIP.
 * Env: UTM_LWIP_PORT (emulator port), UTM_PKI, PRECONFIGURED_TAPIF.       */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_lwip.h"
#include "check.h"

#include "lwip/init.h"
#include "lwip/tcpip.h"
#include "lwip/netif.h"
#include "netif/tapif.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

static struct netif tap;
static volatile int tcpip_ready;
static utm_client_t C;
static utm_lwip_t NET;
static char URL[64], CA[512];

static void on_tcpip_ready(void *arg)
{
    (void)arg;
    tcpip_ready = 1;
}

/* A test's "hardware RNG": the host's. */
static int host_rng(void *user, unsigned char *buf, size_t len)
{
    (void)user;
    return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

static int open_client(void)
{
    utm_config_t cfg;
    utm_client_free(&C);
    memset(&cfg, 0, sizeof cfg);
    cfg.url = URL;
    cfg.servername = "localhost"; /* the certificate's name; we connect by address */
    cfg.ca_file = CA;
    cfg.port = utm_lwip_port();
    cfg.port_ctx = &NET;
    cfg.request_timeout_ms = 20000;
    return utm_client_init(&C, &cfg);
}

static int count_doc(void *user, const utm_json_t *doc, uint64_t index)
{
    int64_t sev;
    (void)index;
    if (utm_json_int(doc, utm_json_find(doc, 0, "severity"), &sev) == UTM_OK && sev == 3) ++*(int *)user;
    return 0;
}

static void test_tls_login_and_search_over_lwip(void)
{
    utm_search_t s;
    utm_search_result_t r;
    utm_filter_t f;
    utm_stats_t st;
    int high = 0;
    CHECK_INT(open_client(), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 0), UTM_OK);
    memset(&s, 0, sizeof s);
    f.field = "severity";
    f.op = UTM_OP_IS;
    f.value = utm_value_int(3);
    s.index_pattern = "alert-*";
    s.filters = &f;
    s.filter_count = 1;
    s.size = 10;
    s.on_doc = count_doc;
    s.user = &high;
    CHECK_INT(utm_search(&C, &s, &r), UTM_OK); /* the login, then the search */
    CHECK(r.docs > 0 && high == (int)r.docs);
    CHECK_STR(utm_auth_subject(&C), "admin");
    utm_client_stats(&C, &st);
    CHECK_INT(st.connects, 1);
    CHECK_INT(st.handshakes_full, 1);
    /* the server saw lwIP's address: the host's own stack would have been 10.77.0.1 */
    {
        static char body[1024];
        utm_request_t q;
        utm_response_t resp;
        memset(&q, 0, sizeof q);
        q.path = "/_emulator/stats";
        q.flags = UTM_REQ_NO_AUTH;
        q.body_buf = body;
        q.body_size = sizeof body;
        CHECK_INT(utm_request(&C, &q, &resp), UTM_OK);
        CHECK(strstr(body, "\"last_client\": \"10.77.0.2\"") != NULL);
    }
    /* a second connection resumes the TLS session, still over lwIP */
    utm_client_close(&C);
    CHECK_INT(utm_search(&C, &s, &r), UTM_OK);
    utm_client_stats(&C, &st);
    CHECK_INT(st.handshakes_resumed, 1);
}

static void test_errors_over_lwip(void)
{
    char body[512];
    utm_request_t q;
    utm_response_t resp;
    CHECK_INT(open_client(), UTM_OK);
    CHECK_INT(utm_auth_use_internal_key(&C, "wrong"), UTM_OK);
    memset(&q, 0, sizeof q);
    q.path = "/api/account";
    q.body_buf = body;
    q.body_size = sizeof body;
    CHECK_INT(utm_request(&C, &q, &resp), UTM_OK);
    CHECK_INT(resp.status, 401);
    /* names need LWIP_DNS, which this lwIP lacks */
    utm_client_free(&C);
    {
        utm_config_t cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.url = "https://utm.invalid";
        cfg.ca_file = CA;
        cfg.port = utm_lwip_port();
        cfg.port_ctx = &NET;
        CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
        utm_auth_use_internal_key(&C, "k");
        CHECK_INT(utm_request(&C, &q, &resp), UTM_ERR_DNS);
    }
    /* nobody listening on that port: refused by the peer, through lwIP */
    snprintf(URL, sizeof URL, "https://10.77.0.1:1");
    CHECK_INT(open_client(), UTM_OK);
    utm_auth_use_internal_key(&C, "k");
    CHECK_INT(utm_request(&C, &q, &resp), UTM_ERR_CONNECT);
    /* no entropy source given: refused at init, nothing invented */
    {
        utm_lwip_t none;
        utm_config_t cfg;
        memset(&none, 0, sizeof none);
        memset(&cfg, 0, sizeof cfg);
        cfg.url = "https://10.77.0.1";
        cfg.ca_file = CA;
        cfg.port = utm_lwip_port();
        cfg.port_ctx = &none;
        utm_client_free(&C);
        CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_ENTROPY);
    }
}

int main(void)
{
    ip4_addr_t ip, mask, gw;
    const char *port = getenv("UTM_LWIP_PORT"), *pki = getenv("UTM_PKI");
    int i;
    if (!port || !pki || !getenv("PRECONFIGURED_TAPIF")) {
        fprintf(stderr, "lwip_test: run it through tests/run.sh (UTM_LWIP_PORT, UTM_PKI, PRECONFIGURED_TAPIF)\n");
        return 2;
    }
    snprintf(URL, sizeof URL, "https://10.77.0.1:%s", port);
    snprintf(CA, sizeof CA, "%s/ca.pem", pki);
    NET.entropy_fn = host_rng;
    tcpip_init(on_tcpip_ready, NULL);
    for (i = 0; i < 500 && !tcpip_ready; i++) usleep(10000);
    IP4_ADDR(&ip, 10, 77, 0, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 77, 0, 1);
    LOCK_TCPIP_CORE();
    netif_add(&tap, &ip, &mask, &gw, NULL, tapif_init, tcpip_input);
    /* Debian's liblwip (a GNU Hurd build) copies a received frame into one
     * pool pbuf of PBUF_POOL_BUFSIZE (616 bytes here) even when it is longer:
     * a small MTU keeps every frame, and so our TCP MSS, inside it. */
    tap.mtu = 560;
    netif_set_default(&tap);
    netif_set_up(&tap);
    netif_set_link_up(&tap);
    UNLOCK_TCPIP_CORE();
    RUN(test_tls_login_and_search_over_lwip);
    RUN(test_errors_over_lwip);
    utm_client_free(&C);
    return CHECK_SUMMARY("lwip");
}

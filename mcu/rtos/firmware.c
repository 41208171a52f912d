/* The RTOS firmware: utmstack.h inside a FreeRTOS task, over
 * FreeRTOS-Plus-TCP and the LAN9118 Ethernet controller of qemu's
 * mps2-an386 board, with qemu's user-mode network (-nic user) between it and
 * the emulator on the host (10.0.2.2 from the board). `make test-rtos` runs
 * it; its closing line is "rtos: N passed, N failed".
 *
 * It gets an address by DHCP, then logs in over TLS, searches, makes a
 * request, reconnects with a resumed session, lives through the server
 * closing the connection and a request that times out, and reports its
 * task's stack high-water mark and the heap left. Arguments (qemu -append):
 * PORT CA-FILE (the emulator's port on the host, its CA as a host file).
 *
 * TEST ONLY: this board has no RNG, so entropy is the host's /dev/urandom
 * read through semihosting; a device takes it from its hardware RNG. The
 * wall clock (certificate dates) is the host's, through semihosting too.  */
#include "FreeRTOS.h"
#include "task.h"
#include "FreeRTOS_IP.h"
#include "FreeRTOS_Sockets.h"
#include "FreeRTOS_Routing.h"
#include "utmstack.h"
#include "utmstack_freertos_tcp.h"
#include "semihost.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if MBEDTLS_VERSION_NUMBER >= 0x04000000
#include <psa/crypto.h>
#endif
#include "mbedtls/platform.h"
#if defined(MBEDTLS_PLATFORM_TIME_ALT)
#include "mbedtls/platform_time.h"
#endif

#define CLIENT_STACK_BYTES (12 * 1024)

/* ---- the board: vectors, interrupt priorities, entropy, clock ---- */
extern uint32_t __stack_top[];
void Reset_Handler(void);
void Fault_Handler(void);
void SVC_Handler(void);
void PendSV_Handler(void);
void SysTick_Handler(void);
void EthernetISR(void); /* FreeRTOS-Plus-TCP's MPS2 interface, which declares no header for these */
NetworkInterface_t *pxMPS2_FillInterfaceDescriptor(BaseType_t index, NetworkInterface_t *itf);

#define F Fault_Handler
__attribute__((section(".vectors"), used)) static void (*const vectors[16 + 32])(void) = {
    (void (*)(void))(uintptr_t)__stack_top, Reset_Handler, F, F, F, F, F, 0, 0, 0, 0, SVC_Handler, F, 0,
    PendSV_Handler, SysTick_Handler,
    F, F, F, F, F, F, F, F, F, F, F, F, F, EthernetISR /* IRQ 13 */, F, F,
    F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, F,
};
#undef F

void fw_assert(const char *file, int line)
{
    printf("assert: %s:%d\n", file, line);
    sh_exit(98);
}
void vApplicationMallocFailedHook(void);
void vApplicationMallocFailedHook(void) { printf("FreeRTOS heap exhausted\n"); sh_exit(97); }
void vApplicationStackOverflowHook(TaskHandle_t task, char *name);
void vApplicationStackOverflowHook(TaskHandle_t task, char *name)
{
    (void)task;
    printf("stack overflow in task %s\n", name);
    sh_exit(96);
}

/* TEST ONLY (see the top): the port's entropy, PSA's on mbedTLS 4.x
 * (-DUTMSTACK_PSA_ENTROPY_FN=fw_entropy) and the TCP/IP stack's. */
static int rng = -1;
int fw_entropy(void *ctx, unsigned char *buf, size_t len);
int fw_entropy(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    return rng >= 0 && sh_read(rng, buf, len) == (long)len ? 0 : -1;
}
BaseType_t xApplicationGetRandomNumber(uint32_t *out)
{
    return fw_entropy(NULL, (unsigned char *)out, sizeof *out) == 0 ? pdTRUE : pdFALSE;
}
uint32_t ulApplicationGetNextSequenceNumber(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
    uint32_t n = 0;
    (void)src; (void)sport; (void)dst; (void)dport;
    (void)fw_entropy(NULL, (unsigned char *)&n, sizeof n);
    return n;
}

static int64_t board_time(void *user) { (void)user; return (int64_t)sh_time(); }
#if defined(MBEDTLS_PLATFORM_TIME_ALT)
static mbedtls_time_t fw_time(mbedtls_time_t *t)
{
    mbedtls_time_t now = (mbedtls_time_t)sh_time();
    if (t) *t = now;
    return now;
}
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
mbedtls_ms_time_t mbedtls_ms_time(void)
{
    return (mbedtls_ms_time_t)xTaskGetTickCount() * (1000 / configTICK_RATE_HZ);
}
#endif
#endif

/* mbedTLS's heap is the kernel's (heap_4), counted */
static size_t heap_now, heap_peak;
static void *fw_calloc(size_t n, size_t size)
{
    size_t *p;
    if (size && n > (SIZE_MAX - 8) / size) return NULL;
    p = (size_t *)pvPortMalloc(n * size + 8);
    if (!p) return NULL;
    memset(p, 0, n * size + 8);
    p[0] = n * size;
    heap_now += p[0];
    if (heap_now > heap_peak) heap_peak = heap_now;
    return p + 2;
}
static void fw_free(void *q)
{
    size_t *p = (size_t *)q;
    if (!p) return;
    heap_now -= p[-2];
    vPortFree(p - 2);
}

/* ---- the network ---- */
static NetworkInterface_t eth;
static NetworkEndPoint_t endpoint;
static TaskHandle_t client_task;

void vApplicationIPNetworkEventHook_Multi(eIPCallbackEvent_t event, NetworkEndPoint_t *ep)
{
    (void)ep;
    if (event == eNetworkUp && client_task) xTaskNotifyGive(client_task);
}

/* ---- the client's task ---- */
static char cmd[512], ca[8192];
static long ca_n;
static utm_client_t client; /* static: never on a task stack */
static utm_freertos_tcp_t net;
static int passed, failed;
static unsigned docs_seen;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok" : "FAIL", what);
    if (ok) passed++; else failed++;
}

static int on_doc(void *user, const utm_json_t *doc, uint64_t index)
{
    (void)user; (void)doc; (void)index;
    docs_seen++;
    return 0;
}

/* A request with a JSON body and no answer body kept: the emulator's faults */
static int fault(const char *json)
{
    utm_request_t q;
    utm_response_t r;
    memset(&q, 0, sizeof q);
    q.method = "POST";
    q.path = "/_emulator/fault";
    q.body = json;
    q.body_len = strlen(json);
    q.flags = UTM_REQ_NO_AUTH;
    return utm_request(&client, &q, &r) == UTM_OK && r.status == 200;
}

static void client_main(void *arg)
{
    static const char *const newest_first[] = { "@timestamp,desc" };
    const char *port_arg = (const char *)arg;
    char url[64], body[256], line[160];
    utm_config_t cfg;
    utm_search_t s;
    utm_search_result_t r;
    utm_request_t q;
    utm_response_t resp;
    utm_stats_t st;
    uint32_t ip = 0, t0;
    int rc;

    if (ulTaskNotifyTake(pdTRUE, pdMS_TO_TICKS(30000)) == 0) {
        check(0, "an address by DHCP within 30 s");
        goto done;
    }
    FreeRTOS_GetEndPointConfiguration(&ip, NULL, NULL, NULL, &endpoint);
    FreeRTOS_inet_ntoa(ip, line);
    printf("address %s by DHCP after %u ms\n", line, (unsigned)(xTaskGetTickCount() * portTICK_PERIOD_MS));

    snprintf(url, sizeof url, "https://10.0.2.2:%s", port_arg); /* the host, through qemu's network */
    memset(&cfg, 0, sizeof cfg);
    cfg.url = url;
    cfg.servername = "localhost"; /* the name in its certificate */
    cfg.ca = (const unsigned char *)ca;
    cfg.ca_len = (size_t)ca_n + 1;
    cfg.io_timeout_ms = 3000;
    cfg.port = utm_freertos_tcp_port();
    cfg.port_ctx = &net;
    net.entropy_fn = fw_entropy;
    net.time_fn = board_time;
    rc = utm_client_init(&client, &cfg);
    if (!rc) rc = utm_auth_use_password(&client, "admin", "s3cret-Passw0rd", 0);
    if (!rc) rc = utm_auth_login(&client);
    utm_client_stats(&client, &st);
    snprintf(line, sizeof line, "login over TLS 1.%d: %s", st.tls_version - 0x0301, utm_strerror(rc));
    check(rc == UTM_OK && strcmp(utm_auth_subject(&client), "admin") == 0, line);

    memset(&s, 0, sizeof s);
    s.index_pattern = "alert-*";
    s.sort = newest_first;
    s.sort_count = 1;
    s.size = 25;
    s.on_doc = on_doc;
    rc = utm_search(&client, &s, &r);
    snprintf(line, sizeof line, "search: %s, %u documents of %ld", utm_strerror(rc), docs_seen, (long)r.total);
    check(rc == UTM_OK && docs_seen == 25 && r.docs == 25, line);

    memset(&q, 0, sizeof q);
    q.path = "/api/account";
    q.body_buf = body;
    q.body_size = sizeof body;
    rc = utm_request(&client, &q, &resp);
    snprintf(line, sizeof line, "GET /api/account: %s, HTTP %d", utm_strerror(rc), resp.status);
    check(rc == UTM_OK && resp.status == 200 && strstr(body, "\"admin\"") != NULL, line);

    utm_client_close(&client); /* a new connection: the session is resumed */
    rc = utm_request(&client, &q, &resp);
    utm_client_stats(&client, &st);
    snprintf(line, sizeof line, "a new connection, resumed: %s, HTTP %d, %u full / %u resumed handshakes",
             utm_strerror(rc), resp.status, (unsigned)st.handshakes_full, (unsigned)st.handshakes_resumed);
    check(rc == UTM_OK && resp.status == 200 && st.connects == 2 && st.handshakes_resumed == 1, line);

    /* the server answers, then closes the kept connection without saying so */
    check(fault("{\"fault\":\"close-after\",\"path\":\"/api/account\"}"), "fault set: close-after");
    rc = utm_request(&client, &q, &resp);
    if (!rc && resp.status == 200) rc = utm_request(&client, &q, &resp);
    utm_client_stats(&client, &st);
    snprintf(line, sizeof line, "server closed the connection: next request %s, HTTP %d, on connection %u",
             utm_strerror(rc), resp.status, (unsigned)st.connects);
    check(rc == UTM_OK && resp.status == 200 && st.connects == 3 && st.stale_closed + st.retries >= 1, line);

    /* the server stops answering: the request times out, the client stays usable */
    check(fault("{\"fault\":\"stall-before\",\"seconds\":6,\"path\":\"/api/account\"}"), "fault set: stall-before");
    t0 = xTaskGetTickCount();
    rc = utm_request(&client, &q, &resp);
    t0 = (uint32_t)(xTaskGetTickCount() - t0) * portTICK_PERIOD_MS;
    snprintf(line, sizeof line, "a stalled answer: %s after %u ms (io_timeout_ms 3000)", utm_strerror(rc), (unsigned)t0);
    check(rc == UTM_ERR_TIMEOUT && t0 >= 2900 && t0 < 6000, line);
    rc = utm_request(&client, &q, &resp);
    snprintf(line, sizeof line, "and the next request: %s, HTTP %d", utm_strerror(rc), resp.status);
    check(rc == UTM_OK && resp.status == 200, line);

    utm_client_free(&client);
#if MBEDTLS_VERSION_NUMBER >= 0x04000000
    mbedtls_psa_crypto_free(); /* PSA's process-wide state, before the heap check */
#endif
    {
        unsigned used = CLIENT_STACK_BYTES - (unsigned)uxTaskGetStackHighWaterMark(NULL) * sizeof(StackType_t);
        snprintf(line, sizeof line, "client task stack: %u bytes used of %u (high-water mark)", used,
                 (unsigned)CLIENT_STACK_BYTES);
        check(used + 512 <= CLIENT_STACK_BYTES, line);
    }
    snprintf(line, sizeof line, "heap: mbedTLS peak %u bytes, %u at the end; FreeRTOS heap %u of %u free at worst",
             (unsigned)heap_peak, (unsigned)heap_now, (unsigned)xPortGetMinimumEverFreeHeapSize(),
             (unsigned)configTOTAL_HEAP_SIZE);
    check(heap_now == 0, line);
done:
    printf("rtos: %d passed, %d failed\n", passed, failed);
    sh_exit(failed || !passed ? 1 : 0);
}

int main(void)
{
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }; /* qemu's LAN9118 default */
    static const uint8_t none[4] = { 0, 0, 0, 0 };
    uintptr_t a[2];
    char *port_arg, *ca_file;
    int fd;
    a[0] = (uintptr_t)cmd; a[1] = sizeof cmd - 1;
    if (sh_call(0x15 /* SYS_GET_CMDLINE */, a) != 0) return 2;
    strtok(cmd, " "); /* the program's name */
    port_arg = strtok(NULL, " ");
    ca_file = strtok(NULL, " ");
    if (!ca_file) { printf("usage: -append 'PORT CA-FILE'\n"); return 2; }
    if ((fd = sh_open(ca_file, 1)) < 0) { printf("cannot open %s\n", ca_file); return 2; }
    ca_n = sh_read(fd, ca, sizeof ca - 1);
    sh_close(fd);
    rng = sh_open("/dev/urandom", 1);
    printf("entropy: the host's /dev/urandom through semihosting (TEST ONLY: the board has no RNG)\n");
    mbedtls_platform_set_calloc_free(fw_calloc, fw_free);
#if defined(MBEDTLS_PLATFORM_TIME_ALT)
    mbedtls_platform_set_time(fw_time);
#endif
    *(volatile uint8_t *)(0xE000E400u + 13u) = 0xC0; /* the LAN9118's priority, before its first frame */

    pxMPS2_FillInterfaceDescriptor(0, &eth);
    FreeRTOS_FillEndPoint(&eth, &endpoint, none, none, none, none, mac);
    endpoint.bits.bWantDHCP = pdTRUE;
    if (FreeRTOS_IPInit_Multi() != pdPASS) { printf("FreeRTOS_IPInit_Multi failed\n"); return 1; }
    if (xTaskCreate(client_main, "utmstack", CLIENT_STACK_BYTES / sizeof(StackType_t), port_arg, tskIDLE_PRIORITY + 2,
                    &client_task) != pdPASS)
        return 1;
    vTaskStartScheduler();
    return 1;
}

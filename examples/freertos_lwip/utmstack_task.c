/* FreeRTOS + lwIP: a task that logs in, searches the last open high-severity
 * alerts and prints their names. Call utm_example_start() once lwIP is up
 * (after tcpip_init() and a netif with an address). The board supplies
 * board_rng() (its hardware RNG) and the CA certificate in flash.
 *
 * Stack: UTM_TASK_STACK_BYTES, 8 KiB. The client itself is static (27.1 KiB
 * on a 32-bit MCU, not on the stack). The deepest stack of a login, a search
 * and a request over TLS, mbedTLS and printf included, measured on a
 * Cortex-M4 (qemu, make test-qemu, by painting the stack): 4.7 KiB with an
 * ECDSA server certificate, 3.0 KiB with RSA-2048. The rest of the 8 KiB is
 * for lwIP's socket calls, which run in this task, and a longer chain; the
 * high-water mark printed at the end tells what this firmware really used.
 */
#include "FreeRTOS.h"
#include "task.h"
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_lwip.h"
#include <stdio.h>
#include <string.h>

#ifndef UTM_TASK_STACK_BYTES
#define UTM_TASK_STACK_BYTES (8 * 1024)
#endif

extern int board_rng(void *user, unsigned char *buf, size_t len); /* the hardware RNG */
extern const unsigned char utm_ca_pem[];                           /* PEM, NUL-terminated */
extern const size_t utm_ca_pem_len;                                /* with its NUL */

static utm_client_t client; /* static: never on a task stack */
static utm_lwip_t net;

static int print_alert(void *user, const utm_json_t *doc, uint64_t index)
{
    char name[96] = "?";
    (void)user;
    utm_json_string(doc, utm_json_find(doc, 0, "name"), name, sizeof name);
    printf("%u: %s\n", (unsigned)index + 1, name);
    return 0;
}

static void utm_task(void *arg)
{
    static const char *const newest_first[] = { "@timestamp,desc" };
    utm_config_t cfg;
    utm_search_t s;
    utm_search_result_t r;
    utm_filter_t f[2];
    unsigned attempt;
    int rc;
    (void)arg;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "https://192.0.2.10";      /* lwIP without DNS: an address */
    cfg.servername = "utm.example.com";  /* the name in its certificate */
    cfg.ca = utm_ca_pem;
    cfg.ca_len = utm_ca_pem_len;
    cfg.port = utm_lwip_port();
    cfg.port_ctx = &net;
    net.entropy_fn = board_rng;
    rc = utm_client_init(&client, &cfg);
    if (rc == UTM_OK) rc = utm_auth_use_password(&client, "appliance", "from-secure-storage", 0);
    memset(&s, 0, sizeof s);
    f[0].field = "severity";
    f[0].op = UTM_OP_IS;
    f[0].value = utm_value_int(3);
    f[1].field = "status";
    f[1].op = UTM_OP_IS;
    f[1].value = utm_value_int(2);
    s.index_pattern = "alert-*";
    s.filters = f;
    s.filter_count = 2;
    s.sort = newest_first;
    s.sort_count = 1;
    s.size = s.top = 10;
    s.on_doc = print_alert;
    for (attempt = 0; rc == UTM_OK || utm_retryable(rc); attempt++) {
        if (rc != UTM_OK) /* a network failure or 5xx: wait with jitter (or Retry-After) */
            vTaskDelay(pdMS_TO_TICKS(utm_backoff_ms(&client, attempt - 1, 1000, 60000)));
        rc = utm_search(&client, &s, &r);
        if (rc == UTM_OK || attempt == 5) break;
    }
    if (rc != UTM_OK) printf("utmstack: %s (%s)\n", utm_strerror(rc), utm_last_error(&client));
    printf("utmstack: stack left unused: %u words\n", (unsigned)uxTaskGetStackHighWaterMark(NULL));
    utm_client_free(&client);
    vTaskDelete(NULL);
}

int utm_example_start(void)
{
    return xTaskCreate(utm_task, "utmstack", (configSTACK_DEPTH_TYPE)(UTM_TASK_STACK_BYTES / sizeof(StackType_t)), NULL,
                       tskIDLE_PRIORITY + 2, NULL) == pdPASS ? 0 : -1;
}

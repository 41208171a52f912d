/* Zephyr: log in to UTMStack and print the names of the last ten alerts.
 * The thread's stack is CONFIG_MAIN_STACK_SIZE (prj.conf). */
#include <zephyr/kernel.h>
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_zephyr.h"
#include <string.h>

extern const unsigned char utm_ca_pem[]; /* PEM, NUL-terminated, in flash */
extern const size_t utm_ca_pem_len;

static utm_client_t client; /* static: never on the stack */
static utm_zephyr_t net;

static int print_alert(void *user, const utm_json_t *doc, uint64_t index)
{
    char name[96] = "?";
    (void)user;
    utm_json_string(doc, utm_json_find(doc, 0, "name"), name, sizeof name);
    printk("%u: %s\n", (unsigned)index + 1, name);
    return 0;
}

int main(void)
{
    static const char *const newest_first[] = { "@timestamp,desc" };
    utm_config_t cfg;
    utm_search_t s;
    utm_search_result_t r;
    unsigned attempt;
    int rc;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "https://utm.example.com";
    cfg.ca = utm_ca_pem;
    cfg.ca_len = utm_ca_pem_len;
    cfg.port = utm_zephyr_port();
    cfg.port_ctx = &net;
    rc = utm_client_init(&client, &cfg);
    if (rc == UTM_OK) rc = utm_auth_use_password(&client, "appliance", "from-secure-storage", 0);
    memset(&s, 0, sizeof s);
    s.index_pattern = "alert-*";
    s.sort = newest_first;
    s.sort_count = 1;
    s.size = s.top = 10;
    s.on_doc = print_alert;
    for (attempt = 0; rc == UTM_OK || utm_retryable(rc); attempt++) {
        if (rc != UTM_OK) /* a network failure or 5xx: wait with jitter (or Retry-After) */
            k_msleep((int32_t)utm_backoff_ms(&client, attempt - 1, 1000, 60000));
        rc = utm_search(&client, &s, &r);
        if (rc == UTM_OK || attempt == 5) break;
    }
    if (rc != UTM_OK) printk("utmstack: %s (%s)\n", utm_strerror(rc), utm_last_error(&client));
    utm_client_free(&client);
    return 0;
}

/* quickstart: log in and print the names of the last 10 alerts.
 *   UTMSTACK_URL=https://utm.example.com UTMSTACK_USER=admin \
 *   UTMSTACK_PASSWORD=... [UTMSTACK_CA=ca.pem] ./quickstart              */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_posix.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_alert(void *user, const utm_json_t *doc, uint64_t index)
{
    char name[256], when[40];
    (void)user;
    if (utm_json_string(doc, utm_json_find(doc, 0, "name"), name, sizeof name) < 0) strcpy(name, "?");
    if (utm_json_string(doc, utm_json_find(doc, 0, "@timestamp"), when, sizeof when) < 0) strcpy(when, "?");
    printf("%2llu  %s  %s\n", (unsigned long long)index + 1, when, name);
    return 0; /* nonzero would stop the search */
}

int main(void)
{
    static utm_client_t client; /* about 27 KiB: keep it off small stacks */
    static const char *const sort[] = { "@timestamp,desc" };
    utm_posix_t net = { 0, 0, 0 };
    utm_config_t cfg;
    utm_search_t search;
    utm_search_result_t result;
    int rc;

    memset(&cfg, 0, sizeof cfg);
    cfg.url = getenv("UTMSTACK_URL");
    cfg.ca_file = getenv("UTMSTACK_CA"); /* NULL: the system bundle */
    cfg.port = utm_posix_port();
    cfg.port_ctx = &net;
    rc = utm_client_init(&client, &cfg);
    if (rc == UTM_OK)
        rc = utm_auth_use_password(&client, getenv("UTMSTACK_USER") ? getenv("UTMSTACK_USER") : "",
                                   getenv("UTMSTACK_PASSWORD") ? getenv("UTMSTACK_PASSWORD") : "", 0);

    memset(&search, 0, sizeof search);
    search.index_pattern = "alert-*";
    search.size = 10;
    search.top = 10;
    search.sort = sort;
    search.sort_count = 1;
    search.on_doc = print_alert;
    if (rc == UTM_OK) rc = utm_search(&client, &search, &result); /* logs in first */

    if (rc != UTM_OK) fprintf(stderr, "error: %s (%s)\n", utm_strerror(rc), utm_last_error(&client));
    else printf("%lld alerts in all\n", (long long)result.total);
    utm_client_free(&client); /* closes, frees, wipes the password and token */
    return rc == UTM_OK ? 0 : 1;
}

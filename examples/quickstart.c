/* quickstart: log in and print the last 10 alerts.
 *   UTMSTACK_URL=https://utm.example.com UTMSTACK_USER=admin \
 *   UTMSTACK_PASSWORD=... [UTMSTACK_CA=ca.pem] build/quickstart */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_posix.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_alert(void *user, const utm_json_t *doc, uint64_t index)
{
    char name[200] = "?", when[40] = "?";
    (void)user;
    utm_json_string(doc, utm_json_find(doc, 0, "name"), name, sizeof name);
    utm_json_string(doc, utm_json_find(doc, 0, "@timestamp"), when, sizeof when);
    printf("%2d  %s  %s\n", (int)index + 1, when, name);
    return 0; /* nonzero stops the search */
}

int main(void)
{
    static utm_client_t client; /* about 29 KiB: keep it off small stacks */
    static const char *const newest_first[] = { "@timestamp,desc" };
    utm_posix_t net = { 0, 0, 0 };
    utm_config_t cfg = { 0 };      /* all zero: defaults */
    utm_search_t search = { 0 };
    utm_search_result_t result;
    int rc;

    cfg.url = getenv("UTMSTACK_URL");
    cfg.ca_file = getenv("UTMSTACK_CA"); /* NULL: the system bundle */
    cfg.port = utm_posix_port();
    cfg.port_ctx = &net;
    rc = utm_client_init(&client, &cfg);
    if (!rc) rc = utm_auth_use_password(&client, getenv("UTMSTACK_USER"), getenv("UTMSTACK_PASSWORD"), 0);

    search.index_pattern = "alert-*";
    search.size = search.top = 10;
    search.sort = newest_first;
    search.sort_count = 1;
    search.on_doc = print_alert;
    if (!rc) rc = utm_search(&client, &search, &result); /* logs in first */

    if (rc) fprintf(stderr, "error: %s (%s)\n", utm_strerror(rc), utm_last_error(&client));
    else printf("%lld alerts in all\n", (long long)result.total);
    utm_client_free(&client); /* closes, frees, wipes the password and token */
    return rc ? 1 : 0;
}

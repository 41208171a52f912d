/* minimal: who am I, with the instance's internal key (UTMSTACK_API_KEY). */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_posix.h"
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    static utm_client_t c;
    static char body[4096];
    utm_posix_t net = { 0, 0, 0 };
    utm_config_t cfg = { 0 };
    utm_request_t req = { 0 };
    utm_response_t resp;
    int rc;
    cfg.url = getenv("UTMSTACK_URL");
    cfg.ca_file = getenv("UTMSTACK_CA");
    cfg.port = utm_posix_port();
    cfg.port_ctx = &net;
    req.path = "/api/account";
    req.body_buf = body;
    req.body_size = sizeof body;
    if ((rc = utm_client_init(&c, &cfg)) == UTM_OK && (rc = utm_auth_use_internal_key(&c, getenv("UTMSTACK_API_KEY"))) == UTM_OK)
        rc = utm_request(&c, &req, &resp);
    if (rc == UTM_OK) printf("%d %s\n", resp.status, body);
    else fprintf(stderr, "%s: %s\n", utm_strerror(rc), utm_last_error(&c));
    utm_client_free(&c);
    return rc != UTM_OK || resp.status != 200;
}

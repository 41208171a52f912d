/* The text levels (UTMSTACK_TEXT 0, 1, 2), built by tests/compile_matrix.sh
 * once per level and run: the result codes never change; what
 * utm_last_error(), utm_strerror() and the log give does.
 * Exit 0 when every check holds, else the number of the first that failed. */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "fake.h"
#include <stdio.h>

static int log_lines;
static void count_log(void *user, int level, const char *msg)
{
    (void)user; (void)level; (void)msg;
    log_lines++;
}

int main(void)
{
    static utm_client_t c;
    static fake_t f;
    utm_config_t cfg;
    utm_request_t q;
    utm_response_t r;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "http://utm.test";
    cfg.port = &fake_port;
    cfg.port_ctx = &f;
    cfg.allow_plain_credentials = 1;
    cfg.log_fn = count_log;
    cfg.log_level = UTM_LOG_DEBUG;
    fake_reset(&f, "HTTP/1.1 400 Bad Request\r\nX-UtmStack-error: field severity is unknown\r\nContent-Length: 0\r\n\r\n");
    if (utm_client_init(&c, &cfg) != UTM_OK) return 1;
    memset(&q, 0, sizeof q);
    q.path = "/api/x";
    q.flags = UTM_REQ_NO_AUTH;
    if (utm_request(&c, &q, &r) != UTM_OK || r.status != 400) return 2;
    /* the server's reason: kept at levels 1 and 2 (in the response always) */
    if (strcmp(r.error, "field severity is unknown") != 0) return 3;
    if (strcmp(utm_last_error(&c), UTMSTACK_TEXT >= 1 ? "field severity is unknown" : "") != 0) return 4;
    /* a refusal of the library's own: its words only at level 2 */
    q.path = "/a/../b";
    if (utm_request(&c, &q, &r) != UTM_ERR_ARG) return 5;
    if ((utm_last_error(&c)[0] != 0) != (UTMSTACK_TEXT >= 2)) return 6;
    /* the table of result texts and the log */
    if ((utm_strerror(UTM_ERR_NET)[0] != 0) != (UTMSTACK_TEXT >= 2)) return 7;
    if ((log_lines > 0) != (UTMSTACK_TEXT >= 2)) return 8;
    utm_client_free(&c);
    return 0;
}

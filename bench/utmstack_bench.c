/* utmstack_bench: the benchmark client over utmstack.h (contract in
 * bench/README or issue: one summary line, exit 0 iff every search is ok).
 * --parse also cuts each answer into documents and parses each with jsmn
 * (utm_search), reporting documents per second.                             */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_posix.h"
#include "bench_common.h"

static bench_body_t body;

static int on_body(void *user, const char *p, size_t n)
{
    (void)user;
    bench_body_feed(&body, p, n);
    return 0;
}

static unsigned long long parsed_docs;

static int on_doc(void *user, const utm_json_t *doc, uint64_t index)
{
    (void)user;
    (void)index;
    parsed_docs += utm_json_type(doc, 0) == UTM_JSON_OBJECT;
    return 0;
}

int main(int argc, char **argv)
{
    static utm_client_t c;
    static const char *const sort[] = { "@timestamp,desc" };
    utm_posix_t net = { 0, 0, 0 };
    utm_config_t cfg;
    bench_args_t a;
    char url[300], size[16];
    unsigned i, ok = 0;
    unsigned long long bytes = 0;
    double t0, secs;
    utm_stats_t st;
    int rc;
    bench_parse(&a, argc, argv, 1);
    snprintf(url, sizeof url, "https://%s:%u%s", a.host, a.port, a.chunked ? "/chunked" : "");
    snprintf(size, sizeof size, "%u", a.size);
    memset(&cfg, 0, sizeof cfg);
    cfg.url = url;
    cfg.servername = a.servername;
    cfg.ca_file = a.ca;
    cfg.no_resume = a.no_resume;
    cfg.port = utm_posix_port();
    cfg.port_ctx = &net;
    rc = utm_client_init(&c, &cfg);
    if (rc == UTM_OK && strcmp(a.mode, "bearer") == 0) {
        rc = utm_auth_use_password(&c, a.user, a.password, 0);
        if (rc == UTM_OK) rc = utm_auth_login(&c);
        if (a.no_reuse) utm_client_close(&c);
    } else if (rc == UTM_OK) {
        rc = utm_auth_use_internal_key(&c, a.api_key);
    }
    if (rc) { fprintf(stderr, "bench: %s (%s)\n", utm_strerror(rc), utm_last_error(&c)); return 1; }
    t0 = bench_now();
    for (i = 0; i < a.requests; i++) {
        if (a.parse) {
            utm_search_t s;
            utm_search_result_t r;
            utm_filter_t f;
            memset(&s, 0, sizeof s);
            f.field = "status";
            f.op = UTM_OP_IS;
            f.value = utm_value_int(2);
            s.index_pattern = "alert-*";
            s.filters = &f;
            s.filter_count = 1;
            s.sort = sort;
            s.sort_count = 1;
            s.page = 0 + 1; /* the server treats 0 and 1 alike */
            s.size = a.size;
            s.top = a.size > 100 ? a.size : 100; /* the static answers hold `size` documents */
            s.on_doc = on_doc;
            rc = utm_search(&c, &s, &r);
            bytes += r.bytes;
            ok += rc == UTM_OK && r.status == 200;
        } else {
            utm_param_t q[5] = { { "page", "0" }, { "size", NULL }, { "top", "100" }, { "indexPattern", "alert-*" },
                                 { "sort", "@timestamp,desc" } };
            utm_request_t req;
            utm_response_t resp;
            q[1].value = size;
            memset(&req, 0, sizeof req);
            memset(&body, 0, sizeof body);
            req.method = "POST";
            req.path = "/api/elasticsearch/search";
            req.query = q;
            req.query_count = 5;
            req.body = BENCH_FILTER;
            req.body_len = sizeof BENCH_FILTER - 1;
            req.flags = UTM_REQ_RETRY_SAFE;
            req.on_body = on_body;
            rc = utm_request(&c, &req, &resp);
            bytes += body.bytes;
            ok += rc == UTM_OK && resp.status == 200 && bench_body_ok(&body);
        }
        if (rc) fprintf(stderr, "bench: %s (%s)\n", utm_strerror(rc), utm_last_error(&c));
        if (a.no_reuse) utm_client_close(&c);
    }
    secs = bench_now() - t0;
    utm_client_stats(&c, &st);
    printf("requests=%u ok=%u connects=%u bytes=%llu seconds=%.6f handshakes_full=%u handshakes_resumed=%u", a.requests,
           ok, st.connects, bytes, secs, st.handshakes_full, st.handshakes_resumed);
    if (a.parse) printf(" docs=%llu docs_per_second=%.0f", parsed_docs, (double)parsed_docs / secs);
    printf("\n");
    utm_client_free(&c);
    return ok == a.requests ? 0 : 1;
}

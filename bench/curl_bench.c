#define _POSIX_C_SOURCE 200809L /* clock_gettime */
/* curl_bench: the same benchmark client over libcurl (link it against
 * libcurl over OpenSSL, or over mbedTLS: see bench/build_curl_mbedtls.sh). */
#include <curl/curl.h>
#include "bench_common.h"

static bench_body_t body;
static char login_answer[8192];
static size_t login_len;

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    (void)user;
    bench_body_feed(&body, p, size * n);
    return size * n;
}

static size_t on_login(char *p, size_t size, size_t n, void *user)
{
    size_t k = size * n;
    (void)user;
    if (login_len + k < sizeof login_answer) { memcpy(login_answer + login_len, p, k); login_len += k; }
    return k;
}

int main(int argc, char **argv)
{
    bench_args_t a;
    CURL *h;
    struct curl_slist *hdr = NULL, *resolve = NULL;
    char url[700], base[300], line[2300], res[400];
    unsigned i, ok = 0, connects = 0;
    unsigned long long bytes = 0;
    double t0, secs;
    long n;
    bench_parse(&a, argc, argv, 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    h = curl_easy_init();
    /* connect to --host, verify and send SNI for --servername */
    snprintf(res, sizeof res, "%s:%u:%s", a.servername, a.port, a.host);
    resolve = curl_slist_append(resolve, res);
    curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(h, CURLOPT_CAINFO, a.ca);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, a.no_resume ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, a.no_reuse ? 1L : 0L);
    snprintf(base, sizeof base, "https://%s:%u", a.servername, a.port);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Accept: application/json");
    if (strcmp(a.mode, "bearer") == 0) {
        char req[600], *tok, *end;
        snprintf(url, sizeof url, "%s/api/authenticate", base);
        snprintf(req, sizeof req, "{\"username\":\"%s\",\"password\":\"%s\",\"rememberMe\":false}", a.user, a.password);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_login);
        if (curl_easy_perform(h) != CURLE_OK) { fprintf(stderr, "bench: login failed\n"); return 1; }
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &n);
        connects += (unsigned)n;
        login_answer[login_len] = 0;
        tok = strstr(login_answer, "\"id_token\":\"");
        if (!tok || !(end = strchr(tok + 12, '"'))) { fprintf(stderr, "bench: no token\n"); return 1; }
        *end = 0;
        snprintf(line, sizeof line, "Authorization: Bearer %s", tok + 12);
    } else {
        snprintf(line, sizeof line, "Utm-Internal-Key: %s", a.api_key);
    }
    hdr = curl_slist_append(hdr, line);
    snprintf(url, sizeof url, "%s%s/api/elasticsearch/search?page=0&size=%u&top=100&indexPattern=alert-*&sort=@timestamp,desc",
             base, a.chunked ? "/chunked" : "", a.size);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, BENCH_FILTER);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    t0 = bench_now();
    for (i = 0; i < a.requests; i++) {
        long status = 0;
        CURLcode rc;
        memset(&body, 0, sizeof body);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &n);
        connects += (unsigned)n;
        bytes += body.bytes;
        ok += rc == CURLE_OK && status == 200 && bench_body_ok(&body);
        if (rc != CURLE_OK) fprintf(stderr, "bench: %s\n", curl_easy_strerror(rc));
    }
    secs = bench_now() - t0;
    printf("requests=%u ok=%u connects=%u bytes=%llu seconds=%.6f\n", a.requests, ok, connects, bytes, secs);
    curl_slist_free_all(hdr);
    curl_slist_free_all(resolve);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return ok == a.requests ? 0 : 1;
}

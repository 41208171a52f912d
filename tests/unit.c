#define _GNU_SOURCE 1 /* memmem */
/* Unit tests: no network. Every byte comes from the fake port in tests/fake.h.
 * Built with tiny limits (see TINY in the Makefile) so the limit paths run. */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "check.h"
#include "json_oracle.h"
#include "fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static utm_client_t C;
static fake_t F;
static char logbuf[1 << 16];
static size_t loglen;

static void log_capture(void *user, int level, const char *msg)
{
    size_t n = strlen(msg);
    (void)user;
    (void)level;
    if (n + 2 < sizeof logbuf - loglen) {
        memcpy(logbuf + loglen, msg, n);
        loglen += n;
        logbuf[loglen++] = '\n';
        logbuf[loglen] = 0;
    }
}

static int client_with(const char *url, int log_level)
{
    utm_config_t cfg;
    utm_client_free(&C);
    memset(&cfg, 0, sizeof cfg);
    cfg.url = url;
    cfg.port = &fake_port;
    cfg.port_ctx = &F;
    cfg.log_fn = log_capture;
    cfg.log_level = log_level;
    cfg.allow_plain_credentials = 1; /* the fake server speaks plain HTTP */
    loglen = 0;
    logbuf[0] = 0;
    return utm_client_init(&C, &cfg);
}

static int client(void) { return client_with("http://utm.test:8080", UTM_LOG_WARN); }

/* GET path without credentials; the body into buf. */
static int get(const char *path, char *buf, size_t size, utm_response_t *resp)
{
    utm_request_t q;
    memset(&q, 0, sizeof q);
    q.path = path;
    q.body_buf = buf;
    q.body_size = size;
    q.flags = UTM_REQ_NO_AUTH;
    return utm_request(&C, &q, resp);
}

static int get_status(const char *script)
{
    char body[600];
    utm_response_t r;
    int rc;
    fake_reset(&F, script);
    client();
    rc = get("/x", body, sizeof body, &r);
    return rc ? rc : r.status;
}

/* ---- base64url, for making tokens ---- */
static void b64url(const char *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i;
    uint32_t acc = 0;
    int bits = 0;
    for (i = 0; i < n; i++) {
        acc = (acc << 8) | (unsigned char)in[i];
        bits += 8;
        while (bits >= 6) { bits -= 6; *out++ = a[(acc >> bits) & 63]; }
    }
    if (bits) *out++ = a[(acc << (6 - bits)) & 63];
    *out = 0;
}

static const char *make_jwt(const char *sub, long long exp, int authenticated)
{
    static char tok[2][800];
    static int which;
    char payload[300], part[500], num[24];
    char *t = tok[which ^= 1];
    snprintf(payload, sizeof payload, "{\"sub\":\"%s\",\"auth\":\"ROLE_ADMIN\",\"authenticated\":%s,\"exp\":%s}", sub,
             authenticated ? "true" : "false", check_ll(num, exp));
    b64url("{\"alg\":\"HS512\"}", 15, t);
    strcat(t, ".");
    b64url(payload, strlen(payload), part);
    strcat(t, part);
    strcat(t, ".c2lnbmF0dXJl");
    return t;
}

static const char *http_json(int status, const char *extra_headers, const char *body)
{
    static char buf[4][2048];
    static int which;
    char *b = buf[which = (which + 1) & 3];
    snprintf(b, sizeof buf[0], "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%sContent-Length: %u\r\n\r\n%s\x1e", status,
             extra_headers ? extra_headers : "", (unsigned)strlen(body), body);
    return b;
}

static const char *login_answer(const char *token, int authenticated)
{
    static char body[1200];
    snprintf(body, sizeof body, "{\"id_token\":\"%s\",\"authenticated\":%s}", token, authenticated ? "true" : "false");
    return http_json(200, "Date: Sat, 01 Jan 2000 00:00:00 GMT\r\n", body);
}
#define Y2K 946684800LL

/* ======================================================================== */

static void test_strerror_and_version(void)
{
    static const int codes[] = { UTM_OK, UTM_TFA_REQUIRED, UTM_ERR_ARG, UTM_ERR_TLS_VERIFY, UTM_ERR_HTTP_CHUNK, UTM_ERR_FILTER };
    size_t i;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) CHECK(strcmp(utm_strerror(codes[i]), "unknown error") != 0);
    CHECK_STR(utm_strerror(-9998), "unknown error");
    CHECK_STR(utm_strerror(UTM_ERR_LOCKED), "login locked: too many failures from this address (423)");
    CHECK_STR(utm_version(), UTMSTACK_VERSION_STRING);
    CHECK_INT(UTMSTACK_VERSION, UTMSTACK_VERSION_MAJOR * 10000 + UTMSTACK_VERSION_MINOR * 100 + UTMSTACK_VERSION_PATCH);
    CHECK_INT(utm_status_error(200), UTM_OK);
    CHECK_INT(utm_status_error(401), UTM_ERR_AUTH);
    CHECK_INT(utm_status_error(403), UTM_ERR_FORBIDDEN);
    CHECK_INT(utm_status_error(423), UTM_ERR_LOCKED);
    CHECK_INT(utm_status_error(400), UTM_ERR_BAD_REQUEST);
    CHECK_INT(utm_status_error(503), UTM_ERR_SERVER);
    CHECK_INT(utm_status_error(404), UTM_ERR_HTTP_STATUS);
}

static void test_urls(void)
{
    static const char *bad[] = { "ftp://x", "https://", "https://:443", "https://h:0", "https://h:65536", "https://h:12a",
                                 "https://user@h", "https://h?x=1", "https://[::1", "https://h/a?b", "h:443", NULL };
    int i;
    fake_reset(&F, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
#ifdef UTMSTACK_DEFAULT_CA_FILE
    CHECK_INT(client_with("https://utm.example.com", 0), UTM_OK); /* the system CA bundle */
#else
    CHECK_INT(client_with("https://utm.example.com", 0), UTM_ERR_TLS_CA); /* no CA and no bundle (on the chip) */
#endif
    for (i = 0; bad[i]; i++) {
        int rc = client_with(bad[i], 0);
        if (rc != UTM_ERR_URL) fprintf(stderr, "  url %s -> %d\n", bad[i], rc);
        CHECK_INT(rc, UTM_ERR_URL);
        CHECK_INT(utm_request(&C, NULL, NULL), UTM_ERR_STATE); /* a failed init leaves it unusable, not unsafe */
    }
    CHECK_INT(client_with("http://[::1]:8080/utm/", 0), UTM_OK);
    CHECK_INT(get_status("HTTP/1.1 204 No Content\r\n\r\n"), 204);
    fake_reset(&F, "HTTP/1.1 204 No Content\r\n\r\n");
    client_with("http://[::1]:8080/utm/", 0);
    get("/api/ping", NULL, 0, NULL);
    CHECK(fake_sent_count(&F, "GET /utm/api/ping HTTP/1.1\r\nHost: [::1]:8080\r\n") == 1);
    fake_reset(&F, "HTTP/1.1 204 No Content\r\n\r\n");
    client_with("HTTP://Utm.Test", 0);
    get("/p", NULL, 0, NULL);
    CHECK(fake_sent_count(&F, "Host: Utm.Test\r\n") == 1);
}

static void test_request_bytes(void)
{
    utm_request_t q;
    utm_response_t r;
    utm_param_t p[3] = { { "indexPattern", "alert-*" }, { "q", "a b&c=d+e/é" }, { "skip", NULL } };
    fake_reset(&F, http_json(200, NULL, "{}"));
    client();
    CHECK_INT(utm_auth_use_internal_key(&C, "k3y"), UTM_OK);
    memset(&q, 0, sizeof q);
    q.method = "POST";
    q.path = "/api/x";
    q.query = p;
    q.query_count = 3;
    q.body = "[1,2]";
    q.body_len = 5;
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK_INT(r.status, 200);
    F.sent[F.sent_len] = 0;
    CHECK_STR(F.sent, "POST /api/x?indexPattern=alert-*&q=a%20b%26c%3Dd%2Be/%C3%A9 HTTP/1.1\r\n"
                      "Host: utm.test:8080\r\nUser-Agent: utmstack/" UTMSTACK_VERSION_STRING "\r\n"
                      "Accept: application/json, text/plain, */*\r\nUtm-Internal-Key: k3y\r\n"
                      "Content-Type: application/json\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n[1,2]");
    /* bearer mode, default port, GET without body */
    fake_reset(&F, http_json(200, NULL, "{}"));
    client_with("http://utm.test", 0);
    utm_auth_use_bearer(&C, "v11-api-key");
    memset(&q, 0, sizeof q);
    q.path = "/api/account?x=1";
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    F.sent[F.sent_len] = 0;
    CHECK(strstr(F.sent, "GET /api/account?x=1 HTTP/1.1\r\nHost: utm.test\r\n") == F.sent);
    CHECK(strstr(F.sent, "Authorization: Bearer v11-api-key\r\n") != NULL);
    CHECK(strstr(F.sent, "Content-Length") == NULL);
    /* a path with a control character or a method that is no token is refused */
    q.path = "/a\r\nX: y";
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG);
    q.path = "/a";
    q.method = "GE T";
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG);
    /* the caller's own headers: sent after ours, Accept and Content-Type
     * replacing ours; the library's own, bad names and control bytes refused
     * before anything is sent */
    {
        static const utm_param_t mine[] = { { "X-Trace", "a\tb c" }, { "accept", "text/csv" },
                                            { "Content-Type", "application/x-ndjson" } };
        static const char *const refused[] = { "Host", "content-length", "Transfer-Encoding", "Connection",
                                               "AUTHORIZATION", "Utm-Internal-Key" };
        utm_param_t bad;
        size_t k;
        fake_reset(&F, http_json(200, NULL, "{}"));
        client_with("http://utm.test", 0);
        utm_auth_use_bearer(&C, "v11-api-key");
        memset(&q, 0, sizeof q);
        q.method = "POST";
        q.path = "/api/x";
        q.body = "{}";
        q.body_len = 2;
        q.headers = mine;
        q.header_count = 3;
        CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
        F.sent[F.sent_len] = 0;
        CHECK(strstr(F.sent, "\r\nX-Trace: a\tb c\r\naccept: text/csv\r\nContent-Type: application/x-ndjson\r\n") != NULL);
        CHECK_INT(fake_sent_count(&F, "Accept: application/json"), 0);
        CHECK_INT(fake_sent_count(&F, "Content-Type: application/json"), 0);
        CHECK_INT(fake_sent_count(&F, "Content-Length: 2\r\n"), 1);
        q.headers = &bad;
        q.header_count = 1;
        for (k = 0; k < sizeof refused / sizeof refused[0]; k++) {
            F.sent_len = 0;
            bad.name = refused[k];
            bad.value = "x";
            CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_HEADER_VALUE);
            CHECK_INT((int)F.sent_len, 0);
        }
        bad.name = "X-A";
        bad.value = "x\r\nTransfer-Encoding: chunked";
        CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_HEADER_VALUE);
        bad.value = "\x7f";
        CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_HEADER_VALUE);
        bad.name = "X A";
        bad.value = "x";
        CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG);
        bad.name = "X-A:";
        CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG);
        q.header_count = 1;
        q.headers = NULL;
        CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG);
        CHECK_INT((int)F.sent_len, 0);
        q.headers = mine; /* and the client is still usable */
        q.header_count = 1;
        fake_reset(&F, http_json(200, NULL, "{}"));
        CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
        CHECK_INT(r.status, 200);
    }
    /* a body larger than the buffer goes out whole */
    {
        static char big[3000];
        memset(big, 'x', sizeof big);
        fake_reset(&F, http_json(200, NULL, "{}"));
        client();
        memset(&q, 0, sizeof q);
        q.method = "PUT";
        q.path = "/big";
        q.body = big;
        q.body_len = sizeof big;
        q.flags = UTM_REQ_NO_AUTH;
        CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
        CHECK(F.sent_len > sizeof big && memcmp(F.sent + F.sent_len - sizeof big, big, sizeof big) == 0);
        CHECK_INT(fake_sent_count(&F, "Content-Length: 3000\r\n"), 1);
    }
}

typedef struct pieces { char data[4096]; size_t len, max_piece; int calls; } pieces_t;

static int collect(void *user, const char *data, size_t len)
{
    pieces_t *p = (pieces_t *)user;
    if (len > p->max_piece) p->max_piece = len;
    if (p->len + len < sizeof p->data) memcpy(p->data + p->len, data, len);
    p->len += len;
    p->calls++;
    return 0;
}

/* The response parsed with every first-recv split and byte by byte. */
static void check_all_splits(const char *resp, const char *want_body, int want_status)
{
    size_t len = strlen(resp), split;
    int bad = 0;
    for (split = 0; split <= len; split++) {
        int mode;
        for (mode = 0; mode < 2; mode++) {
            utm_request_t q;
            utm_response_t r;
            pieces_t p;
            int rc;
            fake_reset(&F, resp);
            if (mode == 0) F.first_piece = split ? split : 1;
            else F.piece = split ? split : 1;
            if (mode == 1 && split > 3) continue;
            client();
            memset(&q, 0, sizeof q);
            memset(&p, 0, sizeof p);
            q.path = "/";
            q.flags = UTM_REQ_NO_AUTH;
            q.on_body = collect;
            q.user = &p;
            rc = utm_request(&C, &q, &r);
            if (rc != UTM_OK || r.status != want_status || p.len != strlen(want_body) ||
                memcmp(p.data, want_body, p.len) != 0 || p.max_piece > UTMSTACK_BUF_SIZE) {
                if (!bad++) fprintf(stderr, "  split %u mode %d: rc %d status %d body %u\n", (unsigned)split, mode, rc, r.status, (unsigned)p.len);
            }
        }
    }
    CHECK_INT(bad, 0);
}

static void test_content_length_splits(void)
{
    check_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: b\r\n\r\nhello world", "hello world", 200);
    check_all_splits("HTTP/1.1 404 Not Found\r\ncontent-length:3\r\n\r\nabc", "abc", 404);
    check_all_splits("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", "ok", 200);        /* no reason phrase */
    check_all_splits("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "ok", 200);           /* bare LF */
    check_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nfiver", "fiver", 200);
}

static void test_chunked_splits(void)
{
    check_all_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
                     "hello world", 200);
    check_all_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\nA \t;a=\"b\"\r\n0123456789\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n",
                     "0123456789", 200);
    check_all_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "", 200);
    check_all_splits("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", "abc", 200);
}

static void test_body_pieces_bounded(void)
{
    static char resp[5000];
    pieces_t p;
    utm_request_t q;
    utm_response_t r;
    int i;
    strcpy(resp, "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n");
    for (i = 0; i < 4000; i++) strcat(resp, "z");
    fake_reset(&F, resp);
    client();
    memset(&q, 0, sizeof q);
    memset(&p, 0, sizeof p);
    q.path = "/";
    q.flags = UTM_REQ_NO_AUTH;
    q.on_body = collect;
    q.user = &p;
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK_INT(p.len, 4000);
    CHECK(p.max_piece <= UTMSTACK_BUF_SIZE);
    CHECK(p.calls >= 8);
}

static void test_no_body_cases(void)
{
    CHECK_INT(get_status("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"), 204);
    CHECK_INT(get_status("HTTP/1.1 304 Not Modified\r\n\r\n"), 304);
    /* read until close */
    check_all_splits("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", "until the end", 200);
    check_all_splits("HTTP/1.0 200 OK\r\n\r\nold", "old", 200);
    /* 1xx first */
    check_all_splits("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n!",
                     "!", 201);
    /* HEAD: Content-Length without a body */
    {
        utm_request_t q;
        utm_response_t r;
        fake_reset(&F, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n\x1eHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
        client();
        memset(&q, 0, sizeof q);
        q.method = "HEAD";
        q.path = "/";
        q.flags = UTM_REQ_NO_AUTH;
        CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
        CHECK_INT(r.content_length, 100);
        CHECK_INT(r.body_bytes, 0);
        q.method = "GET";
        CHECK_INT(utm_request(&C, &q, &r), UTM_OK); /* same connection: the HEAD left no bytes behind */
        CHECK_INT(r.body_bytes, 1);
        CHECK_INT(F.conn, 1);
    }
}

static void test_malformed(void)
{
    static const char *status_lines[] = { "HTTP/1.1 2OO OK\r\n\r\n", "HTTP/2 200 OK\r\n\r\n", "ICY 200 OK\r\n\r\n",
                                          "HTTP/1.1 200OK\r\n\r\n", "HTTP/1.1 99 Low\r\n\r\n", "HTTP/1.1 600 High\r\n\r\n",
                                          "HTTP/1.1  200 OK\r\n\r\n", "http/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 O\x01K\r\n\r\n", NULL };
    static const char *headers[] = { "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
                                     "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", "HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
                                     "HTTP/1.1 200 OK\r\nX: a\x01" "b\r\n\r\n", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", NULL };
    int i;
    for (i = 0; status_lines[i]; i++) CHECK_INT(get_status(status_lines[i]), UTM_ERR_HTTP_STATUS_LINE);
    for (i = 0; headers[i]; i++) CHECK_INT(get_status(headers[i]), UTM_ERR_HTTP_HEADER);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"), UTM_ERR_HTTP_CONTENT_LENGTH);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!"), UTM_ERR_HTTP_CONTENT_LENGTH);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello"), UTM_ERR_HTTP_CONTENT_LENGTH);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"), UTM_ERR_HTTP_CONTENT_LENGTH);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"), UTM_ERR_HTTP_CONTENT_LENGTH);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), UTM_ERR_HTTP_TRANSFER_ENCODING);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"), UTM_ERR_HTTP_TRANSFER_ENCODING);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"), UTM_ERR_HTTP_CHUNK);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"), UTM_ERR_HTTP_CHUNK);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nx\r\n0\r\n\r\n"), UTM_ERR_HTTP_CHUNK);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n"), UTM_ERR_HTTP_CHUNK);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\na\r\n0\r\n\r\n"), UTM_ERR_HTTP_CHUNK);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\na\r\n0\r\n\r\n"), UTM_ERR_HTTP_CHUNK);
    CHECK_INT(get_status("HTTP/1.1 101 Switching Protocols\r\n\r\n"), UTM_ERR_HTTP_STATUS);
    /* TE and CL together: chunked wins (RFC 9112 6.3) */
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"), 200);
    /* obsolete line folding is joined */
    {
        char body[64];
        utm_response_t r;
        fake_reset(&F, "HTTP/1.1 500 E\r\nX-UtmStack-error: first\r\n  second\r\n\tthird\r\nContent-Length: 0\r\n\r\n");
        client();
        CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
        CHECK_STR(r.error, "first    second  \tthird"); /* each fold became spaces */
    }
}

static void test_limits(void)
{
    static char resp[8000];
    int i;
    /* a line longer than the buffer */
    strcpy(resp, "HTTP/1.1 200 OK\r\nX-Long: ");
    for (i = 0; i < 600; i++) strcat(resp, "a");
    strcat(resp, "\r\nContent-Length: 0\r\n\r\n");
    CHECK_INT(get_status(resp), UTM_ERR_HTTP_LINE_TOO_LONG);
    /* a status line longer than the buffer */
    strcpy(resp, "HTTP/1.1 200 ");
    for (i = 0; i < 600; i++) strcat(resp, "b");
    strcat(resp, "\r\n\r\n");
    CHECK_INT(get_status(resp), UTM_ERR_HTTP_STATUS_LINE);
    /* more header lines than UTMSTACK_MAX_HEADERS (16) */
    strcpy(resp, "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < 17; i++) strcat(resp, "X: 1\r\n");
    strcat(resp, "\r\n");
    CHECK_INT(get_status(resp), UTM_ERR_HTTP_TOO_MANY_HEADERS);
    strcpy(resp, "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < 15; i++) strcat(resp, "X: 1\r\n");
    strcat(resp, "Content-Length: 0\r\n\r\n");
    CHECK_INT(get_status(resp), 200);
    /* more header bytes than UTMSTACK_MAX_HEADER_BYTES (2048) in few lines */
    strcpy(resp, "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < 6; i++) {
        int k;
        strcat(resp, "X: ");
        for (k = 0; k < 400; k++) strcat(resp, "v");
        strcat(resp, "\r\n");
    }
    strcat(resp, "\r\n");
    CHECK_INT(get_status(resp), UTM_ERR_HTTP_HEADERS_TOO_LARGE);
    /* trailers count against the same limit */
    strcpy(resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
    for (i = 0; i < 20; i++) strcat(resp, "T: 1\r\n");
    strcat(resp, "\r\n");
    CHECK_INT(get_status(resp), UTM_ERR_HTTP_TOO_MANY_HEADERS);
    /* the body buffer */
    {
        char small[4];
        utm_response_t r;
        fake_reset(&F, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
        fake_script(&F, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        client();
        CHECK_INT(get("/", small, sizeof small, &r), UTM_ERR_HTTP_BODY_TOO_LARGE);
        CHECK_INT(get("/", small, sizeof small, &r), UTM_OK); /* usable after */
        CHECK_STR(small, "ok");
        CHECK_INT(F.conn, 2);
    }
}

/* A client whose first connection serves `first` and whose second answers
 * "b": what a kept connection's end looks like from the next request. */
static void answers_then_b(const char *first)
{
    fake_reset(&F, first);
    fake_script(&F, 1, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb");
    client();
}

static void test_keep_alive(void)
{
    char body[32];
    utm_response_t r;
    utm_stats_t st;
    const char *two = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\x1eHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n";
    fake_reset(&F, two);
    client();
    CHECK_INT(get("/1", body, sizeof body, &r), UTM_OK);
    CHECK_STR(body, "a");
    CHECK_INT(get("/2", body, sizeof body, &r), UTM_OK);
    CHECK_STR(body, "b");
    CHECK_INT(F.conn, 1);
    utm_client_stats(&C, &st);
    CHECK_INT(st.connects, 1);
    CHECK_INT(st.requests, 2);
    /* Connection: close, and HTTP/1.0 without keep-alive, end the connection */
    fake_reset(&F, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na");
    fake_script(&F, 1, "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb");
    fake_script(&F, 2, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nc\x1eHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nd");
    client();
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_STR(body, "d");
    CHECK_INT(F.conn, 3);
    /* bytes beyond the response: the connection is not trusted again */
    answers_then_b("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naXYZ");
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_STR(body, "b");
    CHECK_INT(F.conn, 2);
}

static void test_retry(void)
{
    char body[32];
    utm_response_t r;
    utm_request_t q;
    utm_stats_t st;
    /* the server closed the kept-alive connection while it was idle: the
     * check before reuse finds it, no request is lost, no retry needed */
    answers_then_b("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na");
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_STR(body, "b");
    utm_client_stats(&C, &st);
    CHECK_INT(st.retries, 0);
    CHECK_INT(st.stale_closed, 1);
    CHECK_INT(st.connects, 2);
    CHECK_INT(fake_sent_count(&F, "GET / "), 2);
    /* it closed when the request came: one transparent retry */
    answers_then_b("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\x1e");
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_STR(body, "b");
    utm_client_stats(&C, &st);
    CHECK_INT(st.retries, 1);
    CHECK_INT(st.stale_closed, 0);
    /* a reset counts too */
    answers_then_b("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\x1e");
    F.end_code[0] = UTM_ERR_NET;
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    /* a stray CRLF and then the close: like no answer at all, retried */
    answers_then_b("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\x1e\r\n");
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_STR(body, "b");
    utm_client_stats(&C, &st);
    CHECK_INT(st.retries, 1);
    /* POST without the retry flag: not sent twice */
    answers_then_b("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\x1e");
    memset(&q, 0, sizeof q);
    q.method = "POST";
    q.path = "/p";
    q.flags = UTM_REQ_NO_AUTH;
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_CLOSED);
    CHECK_INT(fake_sent_count(&F, "POST /p"), 2);
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK); /* fresh connection */
    /* a fresh connection that fails is not retried; nor one that sent bytes */
    answers_then_b("");
    CHECK_INT(get("/", body, sizeof body, &r), UTM_ERR_CLOSED);
    answers_then_b("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\x1eHTTP/1.1 20");
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_INT(get("/", body, sizeof body, &r), UTM_ERR_CLOSED);
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    CHECK_STR(body, "b");
}

/* Bytes after a complete answer (a body with a 204 or 304 or a HEAD answer,
 * more than Content-Length, a pushed second answer, a stray line end) are
 * never read as the next request's answer (RFC 9112 6.3): the connection is
 * found out of step before reuse and replaced. Every delivery pattern: all
 * at once, a byte per read, the server keeping the connection open. */
static void test_stale_bytes_never_answer(void)
{
    static const struct { const char *method, *first; } cases[] = {
        { "GET", "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale" },
        { "GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nstale" },
        { "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale" },
        { "GET", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nastale" },
        { "GET", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale" },
        { "GET", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\r\n" },
        { "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nstale" },
    };
    size_t i;
    int pattern;
    for (pattern = 0; pattern < 3; pattern++)
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char body[32];
            utm_request_t q;
            utm_response_t r;
            utm_stats_t st;
            fake_reset(&F, cases[i].first);
            fake_script(&F, 1, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh");
            if (pattern == 1) F.piece = 1;
            if (pattern == 2) F.end_code[0] = UTM_ERR_TIMEOUT; /* still open after */
            client();
            memset(&q, 0, sizeof q);
            q.method = cases[i].method;
            q.path = "/";
            q.flags = UTM_REQ_NO_AUTH;
            CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
            CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
            if (strcmp(body, "fresh") != 0) fprintf(stderr, "  case %u, pattern %d: %s\n", (unsigned)i, pattern, body);
            CHECK_STR(body, "fresh");
            utm_client_stats(&C, &st);
            CHECK_INT(F.conn, 2);
            CHECK_INT(st.retries, 0);
        }
}

/* A bare LF ends a line (RFC 9112 2.2), but a status line and header block
 * that mixes it with CRLF is refused: a proxy that reads the line ends
 * otherwise would see other headers (response splitting). */
static void test_line_ends(void)
{
    static const struct { const char *answer; int rc; } cases[] = {
        { "HTTP/1.1 200 OK\nContent-Length: 1\n\na", UTM_OK },
        { "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", UTM_OK },
        { "HTTP/1.1 200 OK\r\nX-A: x\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", UTM_ERR_HTTP_HEADER },
        { "HTTP/1.1 200 OK\r\nX-A: x\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", UTM_ERR_HTTP_HEADER },
        { "HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\na", UTM_ERR_HTTP_HEADER },
        { "HTTP/1.1 200 OK\r\nContent-Length: 1\n\na", UTM_ERR_HTTP_HEADER },
        { "HTTP/1.1 200 OK\r\nX-A: x\r\n y\nContent-Length: 1\r\n\r\na", UTM_ERR_HTTP_HEADER },
    };
    size_t i;
    int piece;
    for (piece = 0; piece < 2; piece++)
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char body[8];
            utm_response_t r;
            int rc;
            fake_reset(&F, cases[i].answer);
            F.piece = (size_t)piece;
            client();
            rc = get("/", body, sizeof body, &r);
            if (rc != cases[i].rc) fprintf(stderr, "  line ends %u: %d\n", (unsigned)i, rc);
            CHECK_INT(rc, cases[i].rc);
        }
}

static void test_truncation_and_timeouts(void)
{
    static const char *cuts[] = { "HTTP/1.1 20", "HTTP/1.1 200 OK\r\nContent-Le", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n", NULL };
    char body[32];
    utm_response_t r;
    int i;
    for (i = 0; cuts[i]; i++) {
        fake_reset(&F, cuts[i]);
        fake_script(&F, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        client();
        CHECK_INT(get("/", body, sizeof body, &r), UTM_ERR_CLOSED);
        CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
        CHECK_STR(body, "ok");
        fake_reset(&F, cuts[i]);
        F.end_code[0] = UTM_ERR_TIMEOUT; /* a stall instead of a close */
        fake_script(&F, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        client();
        CHECK_INT(get("/", body, sizeof body, &r), UTM_ERR_TIMEOUT);
        CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
    }
    /* the request deadline: a trickle that never ends is cut off */
    {
        static char slow[4000];
        utm_config_t cfg;
        strcpy(slow, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n");
        memset(slow + strlen(slow), 'x', 2000);
        fake_reset(&F, slow);
        F.piece = 1;
        F.tick = 100; /* 100 ms per byte */
        utm_client_free(&C);
        memset(&cfg, 0, sizeof cfg);
        cfg.url = "http://utm.test";
        cfg.port = &fake_port;
        cfg.port_ctx = &F;
        cfg.request_timeout_ms = 5000;
        cfg.allow_plain_credentials = 1;
        CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
        CHECK_INT(get("/", NULL, 0, &r), UTM_ERR_TIMEOUT);
        CHECK(F.now - 1000 <= 5200);
        CHECK(F.last_timeout <= 5000);
    }
    /* connect errors pass through */
    fake_reset(&F, NULL);
    F.connect_error = UTM_ERR_DNS;
    client();
    CHECK_INT(get("/", body, sizeof body, &r), UTM_ERR_DNS);
    CHECK(strstr(utm_last_error(&C), "utm.test") != NULL);
    F.connect_error = 0;
    fake_script(&F, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    CHECK_INT(get("/", body, sizeof body, &r), UTM_OK);
}

/* ---- JSON ---- */
static void test_json_reads(void)
{
    static const char js[] = "{\"a\":{\"b\":[10,-2.5e1,true,null,\"x\\\"y\\\\z\\/\\u00e9\\ud83d\\udd12\\n\"]},"
                             "\"source.ip\":\"1.2.3.4\",\"big\":9223372036854775807,\"neg\":-9223372036854775808,"
                             "\"over\":9223372036854775808,\"e\":{},\"k\":\"v\"}";
    utm_json_token_t tok[64];
    utm_json_t j;
    char s[64];
    int64_t i;
    double d;
    int b, at, n;
    CHECK_INT(utm_json_parse(&j, js, strlen(js), tok, 64), UTM_OK);
    CHECK_INT(utm_json_type(&j, 0), UTM_JSON_OBJECT);
    CHECK_INT(utm_json_count(&j, 0), 7);
    at = utm_json_find(&j, 0, "a.b.0");
    CHECK_INT(utm_json_int(&j, at, &i), UTM_OK);
    CHECK_INT(i, 10);
    at = utm_json_find(&j, 0, "a.b.1");
    CHECK_INT(utm_json_int(&j, at, &i), UTM_ERR_JSON_TYPE);
    CHECK_INT(utm_json_double(&j, at, &d), UTM_OK);
    CHECK(d == -25.0);
    CHECK_INT(utm_json_bool(&j, utm_json_find(&j, 0, "a.b.2"), &b), UTM_OK);
    CHECK_INT(b, 1);
    CHECK_INT(utm_json_type(&j, utm_json_find(&j, 0, "a.b.3")), UTM_JSON_NULL);
    n = utm_json_string(&j, utm_json_find(&j, 0, "a.b.4"), s, sizeof s);
    CHECK_STR(s, "x\"y\\z/\xc3\xa9\xf0\x9f\x94\x92\n");
    CHECK_INT(n, (int)strlen("x\"y\\z/\xc3\xa9\xf0\x9f\x94\x92\n"));
    CHECK_INT(utm_json_string(&j, utm_json_find(&j, 0, "a.b.4"), s, 5), UTM_ERR_TOO_LONG);
    CHECK_INT(utm_json_find(&j, 0, "a.b.5"), UTM_ERR_NOT_FOUND);
    CHECK_INT(utm_json_find(&j, 0, "a.c"), UTM_ERR_NOT_FOUND);
    CHECK_INT(utm_json_find(&j, 0, "k.x"), UTM_ERR_NOT_FOUND);
    /* a key with a dot is found by walking the object's members */
    CHECK_INT(utm_json_find(&j, 0, "source.ip"), UTM_ERR_NOT_FOUND);
    at = utm_json_child(&j, 0);
    n = 0;
    while (at >= 0) {
        if (utm_json_eq(&j, at, "source.ip")) { n = 1; CHECK_INT(utm_json_string(&j, at + 1, s, sizeof s), 7); }
        at = utm_json_next(&j, at + 1);
    }
    CHECK_INT(n, 1);
    CHECK_INT(utm_json_int(&j, utm_json_find(&j, 0, "big"), &i), UTM_OK);
    CHECK(i == INT64_MAX);
    CHECK_INT(utm_json_int(&j, utm_json_find(&j, 0, "neg"), &i), UTM_OK);
    CHECK(i == INT64_MIN);
    CHECK_INT(utm_json_int(&j, utm_json_find(&j, 0, "over"), &i), UTM_ERR_TOO_LONG);
    CHECK_INT(utm_json_count(&j, utm_json_find(&j, 0, "e")), 0);
    CHECK_INT(utm_json_string(&j, utm_json_find(&j, 0, "big"), s, sizeof s), UTM_ERR_JSON_TYPE);
    CHECK_INT(utm_json_string(&j, 999, s, sizeof s), UTM_ERR_NOT_FOUND);
    /* array iteration */
    at = utm_json_find(&j, 0, "a.b");
    CHECK_INT(utm_json_count(&j, at), 5);
    n = 0;
    for (at = utm_json_child(&j, at); at >= 0 && n < 10; at = utm_json_next(&j, at)) n++;
    CHECK(n >= 5);
}

static void test_json_invalid(void)
{
    static const char *bad[] = { "", "{", "[1,2", "{\"a\":1}}", "1 2", "{} {}", "\"unterminated", "{\"a\":tru}", "[01x]",
                                 "{\"a\":\"\\x\"}", NULL };
    static const char *bad_strings[] = { "\"\\u12\"", "\"\\q\"", NULL };
    utm_json_token_t tok[8];
    utm_json_t j;
    char s[16];
    int i;
    for (i = 0; bad[i]; i++) {
        int rc = utm_json_parse(&j, bad[i], strlen(bad[i]), tok, 8);
        if (rc == UTM_OK) fprintf(stderr, "  accepted: %s\n", bad[i]);
        CHECK(rc != UTM_OK);
    }
    for (i = 0; bad_strings[i]; i++) CHECK_INT(utm_json_parse(&j, bad_strings[i], strlen(bad_strings[i]), tok, 8), UTM_ERR_JSON);
    /* a lone surrogate escape is legal JSON and no character: U+FFFD, the rest kept */
    CHECK_INT(utm_json_parse(&j, "\"\\ud800\"", 8, tok, 8), UTM_OK);
    CHECK_INT(utm_json_string(&j, 0, s, sizeof s), 3);
    CHECK_STR(s, "\xef\xbf\xbd");
    CHECK_INT(utm_json_parse(&j, "\"\\udc00x\"", 9, tok, 8), UTM_OK);
    CHECK_INT(utm_json_string(&j, 0, s, sizeof s), 4);
    CHECK_STR(s, "\xef\xbf\xbdx");
    CHECK_INT(utm_json_parse(&j, "\"\\ud83d\\u0041\"", 14, tok, 8), UTM_OK);
    CHECK_INT(utm_json_string(&j, 0, s, sizeof s), 4);
    CHECK_STR(s, "\xef\xbf\xbd" "A");
    CHECK_INT(utm_json_parse(&j, "\"\\ud83d\\ude00\"", 14, tok, 8), UTM_OK); /* a pair: one character */
    CHECK_INT(utm_json_string(&j, 0, s, sizeof s), 4);
    CHECK_STR(s, "\xf0\x9f\x98\x80");
    CHECK_INT(utm_json_parse(&j, "[1,2,3,4,5,6,7,8,9]", 19, tok, 8), UTM_ERR_JSON_TOKENS);
    CHECK_INT(utm_json_parse(&j, " 42 ", 4, tok, 8), UTM_OK); /* a bare number is a document too */
    CHECK_INT(utm_json_type(&j, 0), UTM_JSON_NUMBER);
    CHECK_INT(utm_json_parse(&j, "-", 1, tok, 8), UTM_ERR_JSON);
    CHECK_INT(utm_json_parse(&j, "[1e5,-0.5,true,false,null]", 26, tok, 8), UTM_OK);
    CHECK_INT(utm_json_parse(&j, "[1.]", 4, tok, 8), UTM_ERR_JSON);
    CHECK_INT(utm_json_parse(&j, "[nulll]", 7, tok, 8), UTM_ERR_JSON);
}

static int login_rc(const char *answer);

/* Every kind of byte at every offset of a long string (the grammar check
 * reads strings eight bytes at a time): the verdict is the oracle's. */
static void test_json_string_offsets(void)
{
    static const char *specials[] = { "\"", "\\n", "\\u00e9", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x9c\x93",
                                      "\xf0\x9f\x94\x92", "\xff", "\xc3", "\xed\xa0\x80", "\\", "\\x", " ", "~" };
    utm_json_token_t tok[4];
    utm_json_t j;
    char text[64];
    size_t k, sp, tail;
    for (sp = 0; sp < sizeof specials / sizeof specials[0]; sp++)
        for (k = 0; k < 20; k++)
            for (tail = 0; tail < 10; tail += 9) {
                size_t n = 0;
                int ours, theirs;
                text[n++] = '"';
                memset(text + n, 'a', k);
                n += k;
                memcpy(text + n, specials[sp], strlen(specials[sp]));
                n += strlen(specials[sp]);
                memset(text + n, 'b', tail);
                n += tail;
                text[n++] = '"';
                ours = utm_json_parse(&j, text, n, tok, 4) == UTM_OK;
                theirs = oracle_json_valid((const unsigned char *)text, n, UTMSTACK_JSON_DEPTH);
                if (ours != theirs) fprintf(stderr, "  special %u at %u: ours %d, oracle %d\n", (unsigned)sp, (unsigned)k, ours, theirs);
                CHECK_INT(ours, theirs);
            }
}


/* ---- edges: each accessor, parser and check at its boundaries ---- */

/* A small deterministic generator for the differential runs. */
static uint32_t edge_rand(uint32_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 17;
    *st ^= *st << 5;
    return *st;
}

/* Random JSON-shaped texts, with escapes, UTF-8 of every length (and broken
 * ones), controls and literals at every offset: our verdict is the oracle's. */
static void test_json_differential(void)
{
    static const char *const atoms[] = {
        "\"", "\\", "\\u", "\\ud83d", "\\ude00", "\\u00e9", "\\uD83D\\uDE00", "\\x", "\\b", "\\f", "\\n", "\\r", "\\t",
        "\\/", "\\\"", "\\\\", "a", "abcdefgh", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x9c\x93", "\xf0\x9f\x94\x92",
        "\xc0\x80", "\xe0\x80\x80", "\xe0\xa0\x80", "\xed\xa0\x80", "\xed\x9f\xbf", "\xf0\x80\x80\x80", "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xc3", "\xe2\x9c", "\x80", "\xff", ",", ":", "{", "}",
        "[", "]", " ", "\t", "\n", "1", "-", ".", "e", "E", "+", "0", "true", "false", "null", "tru", "nul", "fals" };
    static utm_json_token_t tok[64];
    char text[96];
    utm_json_t j;
    uint32_t st = 12345;
    int run, diffs = 0;
    for (run = 0; run < 60000; run++) {
        size_t n = 0, k, parts = 1 + edge_rand(&st) % 8;
        int ours, theirs;
        if (edge_rand(&st) % 3) text[n++] = '"';
        for (k = 0; k < parts; k++) {
            const char *a = atoms[edge_rand(&st) % (sizeof atoms / sizeof atoms[0])];
            size_t m = strlen(a);
            if (n + m + 2 > sizeof text) break;
            memcpy(text + n, a, m);
            n += m;
        }
        if (edge_rand(&st) % 2) text[n++] = '"';
        if (run % 2) { /* as an object's key */
            memmove(text + 1, text, n);
            text[0] = '{';
            memcpy(text + n + 1, ":1}", 3);
            n += 4;
        }
        ours = utm_json_parse(&j, text, n, tok, 64) == UTM_OK;
        theirs = oracle_json_valid((const unsigned char *)text, n, UTMSTACK_JSON_DEPTH);
        if (ours != theirs && diffs++ < 5) fprintf(stderr, "  differential: ours %d, oracle %d: %.*s\n", ours, theirs, (int)n, text);
    }
    CHECK_INT(diffs, 0);
}

static void test_json_accessor_edges(void)
{
    static utm_json_token_t tok[64];
    static const char doc[] = "{\"s\":\"a\\b\\f\\n\\r\\t\\/\\\\\\\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\udc00x\\ud800\",\"i\":-12,"
                              "\"big\":123456789012345678901,\"d\":-2.5e-3,\"e\":1E+2,\"t\":true,\"f\":false,\"n\":null,"
                              "\"a\":[1,[2],{\"k\":3}],\"o\":{}}";
    utm_json_t j;
    char buf[64];
    int64_t v = 0;
    double d = 0;
    int b = 7, at;
    size_t len = 9;
    CHECK_INT(utm_json_parse(NULL, doc, strlen(doc), tok, 64), UTM_ERR_ARG);
    CHECK_INT(utm_json_parse(&j, NULL, 1, tok, 64), UTM_ERR_ARG);
    CHECK_INT(utm_json_parse(&j, doc, strlen(doc), NULL, 64), UTM_ERR_ARG);
    CHECK_INT(utm_json_parse(&j, doc, strlen(doc), tok, 0), UTM_ERR_ARG);
    CHECK_INT(utm_json_parse(&j, doc, (size_t)INT_MAX + 1u, tok, 64), UTM_ERR_ARG);
    CHECK_INT(utm_json_parse(&j, "", 0, tok, 64), UTM_ERR_JSON);
    CHECK_INT(utm_json_parse(&j, doc, strlen(doc), tok, 64), UTM_OK);
    /* every escape decoded; a pair is one character, lone surrogates U+FFFD */
    CHECK(utm_json_string(&j, utm_json_find(&j, 0, "s"), buf, sizeof buf) > 0);
    CHECK_STR(buf, "a\b\f\n\r\t/\\\"A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbdx\xef\xbf\xbd");
    CHECK_INT(utm_json_string(&j, utm_json_find(&j, 0, "s"), buf, 8), UTM_ERR_TOO_LONG);
    CHECK_INT(utm_json_string(&j, utm_json_find(&j, 0, "s"), NULL, 8), UTM_ERR_ARG);
    CHECK_INT(utm_json_string(&j, utm_json_find(&j, 0, "s"), buf, 0), UTM_ERR_ARG);
    CHECK_INT(utm_json_string(&j, utm_json_find(&j, 0, "i"), buf, sizeof buf), UTM_ERR_JSON_TYPE);
    CHECK_INT(utm_json_int(&j, utm_json_find(&j, 0, "i"), &v), UTM_OK);
    CHECK(v == -12);
    CHECK_INT(utm_json_int(&j, utm_json_find(&j, 0, "big"), &v), UTM_ERR_TOO_LONG);
    CHECK_INT(utm_json_int(&j, utm_json_find(&j, 0, "d"), &v), UTM_ERR_JSON_TYPE);
    CHECK_INT(utm_json_int(&j, utm_json_find(&j, 0, "i"), NULL), UTM_ERR_ARG);
    CHECK_INT(utm_json_int(&j, utm_json_find(&j, 0, "s"), &v), UTM_ERR_JSON_TYPE);
    CHECK_INT(utm_json_int(&j, 999, &v), UTM_ERR_NOT_FOUND);
    CHECK_INT(utm_json_double(&j, utm_json_find(&j, 0, "d"), &d), UTM_OK);
    CHECK(d == -2.5e-3);
    CHECK_INT(utm_json_double(&j, utm_json_find(&j, 0, "e"), &d), UTM_OK);
    CHECK(d == 100.0);
    CHECK_INT(utm_json_double(&j, utm_json_find(&j, 0, "e"), NULL), UTM_ERR_ARG);
    CHECK_INT(utm_json_double(&j, utm_json_find(&j, 0, "t"), &d), UTM_ERR_JSON_TYPE);
    CHECK_INT(utm_json_double(&j, -1, &d), UTM_ERR_NOT_FOUND);
    CHECK_INT(utm_json_bool(&j, utm_json_find(&j, 0, "t"), &b), UTM_OK);
    CHECK_INT(b, 1);
    CHECK_INT(utm_json_bool(&j, utm_json_find(&j, 0, "f"), &b), UTM_OK);
    CHECK_INT(b, 0);
    CHECK_INT(utm_json_bool(&j, utm_json_find(&j, 0, "n"), &b), UTM_ERR_JSON_TYPE);
    CHECK_INT(utm_json_bool(&j, utm_json_find(&j, 0, "t"), NULL), UTM_ERR_ARG);
    CHECK_INT(utm_json_bool(&j, 999, &b), UTM_ERR_NOT_FOUND);
    CHECK_INT(utm_json_type(&j, utm_json_find(&j, 0, "n")), UTM_JSON_NULL);
    CHECK_INT(utm_json_type(NULL, 0), UTM_JSON_INVALID);
    CHECK_INT(utm_json_type(&j, -1), UTM_JSON_INVALID);
    CHECK_INT(utm_json_count(&j, utm_json_find(&j, 0, "a")), 3);
    CHECK_INT(utm_json_count(&j, utm_json_find(&j, 0, "i")), 0);
    CHECK_INT(utm_json_count(&j, utm_json_find(&j, 0, "o")), 0);
    CHECK_INT(utm_json_child(&j, utm_json_find(&j, 0, "o")), UTM_ERR_NOT_FOUND);
    CHECK_INT(utm_json_child(&j, 999), UTM_ERR_NOT_FOUND);
    at = utm_json_find(&j, 0, "a.2.k");
    CHECK_INT(utm_json_type(&j, at), UTM_JSON_NUMBER);
    CHECK_INT(utm_json_find(&j, 0, "a.3"), UTM_ERR_NOT_FOUND);
    CHECK_INT(utm_json_find(&j, 0, "a.x"), UTM_ERR_NOT_FOUND);
    CHECK_INT(utm_json_find(&j, 0, "i.x"), UTM_ERR_NOT_FOUND);
    CHECK_INT(utm_json_find(&j, 0, NULL), UTM_ERR_ARG);
    CHECK_INT(utm_json_find(&j, 999, "a"), UTM_ERR_ARG);
    CHECK_INT(utm_json_next(&j, 999), UTM_ERR_NOT_FOUND);
    CHECK(utm_json_next(&j, utm_json_child(&j, utm_json_find(&j, 0, "a"))) > 0);
    CHECK(utm_json_raw(&j, 999, &len) == NULL && len == 0);
    CHECK(utm_json_raw(&j, 999, NULL) == NULL);
    CHECK(utm_json_raw(&j, utm_json_find(&j, 0, "i"), NULL) != NULL);
    CHECK_INT(utm_json_eq(&j, utm_json_find(&j, 0, "i"), "-12"), 0); /* not a string */
    CHECK_INT(utm_json_eq(&j, utm_json_find(&j, 0, "s"), NULL), 0);
    CHECK_INT(utm_json_eq(&j, 1, "s"), 1);
    CHECK_INT(utm_json_eq(&j, 1, "sx"), 0);
    /* strings the decoder refuses though the tokenizer saw them (written directly) */
    CHECK_INT(utm__unescape("a\\", 2, buf, sizeof buf), UTM_ERR_JSON);
    CHECK_INT(utm__unescape("\\u12", 4, buf, sizeof buf), UTM_ERR_JSON);
    CHECK_INT(utm__unescape("\\u12zz", 6, buf, sizeof buf), UTM_ERR_JSON);
    CHECK_INT(utm__unescape("\\q", 2, buf, sizeof buf), UTM_ERR_JSON);
    CHECK_INT(utm__unescape("\\ud83d\\u0041", 12, buf, sizeof buf), 4); /* a high surrogate, then no low one */
    CHECK_INT(utm__unescape("abc", 3, buf, 3), UTM_ERR_TOO_LONG);
    /* high surrogates followed by anything but a low one: U+FFFD, the rest kept */
    CHECK_INT(utm__unescape("\\ud800", 6, buf, sizeof buf), 3);
    CHECK_INT(utm__unescape("\\ud800xxxxxx", 12, buf, sizeof buf), 9);
    CHECK_INT(utm__unescape("\\ud800\\nxxxx", 12, buf, sizeof buf), 8);
    CHECK_INT(utm__unescape("\\ud800\\ud800", 12, buf, sizeof buf), 6);
    CHECK_INT(utm__unescape("\\ud800\\uzzzz", 12, buf, sizeof buf), UTM_ERR_JSON);
    CHECK_INT(utm_json_string(&j, 1, buf, (size_t)INT_MAX + 1u), UTM_ERR_ARG);
    /* writing */
    CHECK_INT(utm_json_write_string(NULL, 8, "a", 1), UTM_ERR_ARG);
    CHECK_INT(utm_json_write_string(buf, 0, "a", 1), UTM_ERR_ARG);
    CHECK_INT(utm_json_write_string(buf, sizeof buf, NULL, 1), UTM_ERR_ARG);
    CHECK_INT(utm_json_write_string(buf, (size_t)INT_MAX + 1u, "a", 1), UTM_ERR_ARG);
    CHECK_INT(utm_json_write_string(buf, sizeof buf, NULL, 0), 2);
    CHECK_STR(buf, "\"\"");
    CHECK_INT(utm_json_write_string(buf, 4, "abcdef", 6), UTM_ERR_TOO_LONG);
    CHECK_INT(utm_json_write_string(buf, sizeof buf, "\xc3", 1), UTM_ERR_ARG); /* not UTF-8 */
}

static void test_text_parsers(void)
{
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    static const char *const bad_dates[] = {
        "Sun, 06 Nov 1994 08:49:37 GMT ", "Sun; 06 Nov 1994 08:49:37 GMT", "Sun,x06 Nov 1994 08:49:37 GMT",
        "Sun, 06xNov 1994 08:49:37 GMT", "Sun, 06 Novx1994 08:49:37 GMT", "Sun, 06 Nov 1994x08:49:37 GMT",
        "Sun, 06 Nov 1994 08x49:37 GMT", "Sun, 06 Nov 1994 08:49x37 GMT", "Sun, 06 Nov 1994 08:49:37xGMT",
        "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Xyz 1994 08:49:37 GMT", "Sun, 0x Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 19x4 08:49:37 GMT", "Sun, 06 Nov 1994 0x:49:37 GMT", "Sun, 06 Nov 1994 08:4x:37 GMT",
        "Sun, 06 Nov 1994 08:49:3x GMT", "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:49:37 GMT", "Sun, 06 Nov 1994 08:60:37 GMT", "Sun, 06 Nov 1994 08:49:61 GMT", NULL };
    char date[40];
    unsigned char ip[16], out[32];
    int m, i;
    CHECK(utm__http_date("Sun, 06 Nov 1994 08:49:37 GMT", 29, 0) == 784111777);
    CHECK(utm__http_date("Sat, 29 Feb 2000 23:59:60 GMT", 29, 0) == 951868800); /* a leap second */
    for (m = 0; m < 12; m++) { /* the first of each month of 2026 */
        static const int64_t firsts[] = { 1767225600, 1769904000, 1772323200, 1775001600, 1777593600, 1780272000,
                                          1782864000, 1785542400, 1788220800, 1790812800, 1793491200, 1796083200 };
        snprintf(date, sizeof date, "Thu, 01 %s 2026 00:00:00 GMT", months[m]);
        CHECK(utm__http_date(date, 29, 0) == firsts[m]);
    }
    for (i = 0; bad_dates[i]; i++) CHECK(utm__http_date(bad_dates[i], strlen(bad_dates[i]), 0) == -1);
    /* IP literals */
    CHECK_INT((int)utm__parse_ip("10.0.2.2", ip), 4);
    CHECK_INT((int)utm__parse_ip("255.255.255.255", ip), 4);
    CHECK_INT((int)utm__parse_ip("256.0.0.1", ip), 0);
    CHECK_INT((int)utm__parse_ip("1.2.3", ip), 0);
    CHECK_INT((int)utm__parse_ip("1.2.3.4.5", ip), 0);
    CHECK_INT((int)utm__parse_ip("1.2.3.0004", ip), 0);
    CHECK_INT((int)utm__parse_ip("1..2.3", ip), 0);
    CHECK_INT((int)utm__parse_ip("::1", ip), 16);
    CHECK(ip[15] == 1 && ip[0] == 0);
    CHECK_INT((int)utm__parse_ip("fe80::1:2", ip), 16);
    CHECK_INT((int)utm__parse_ip("1:2:3:4:5:6:7:8", ip), 16);
    CHECK_INT((int)utm__parse_ip("::ffff:10.0.0.1", ip), 16);
    CHECK(ip[10] == 0xff && ip[12] == 10 && ip[15] == 1);
    CHECK_INT((int)utm__parse_ip("1:2:3:4:5:6:7:8:9", ip), 0);
    CHECK_INT((int)utm__parse_ip("1::2::3", ip), 0);
    CHECK_INT((int)utm__parse_ip("12345::1", ip), 0);
    CHECK_INT((int)utm__parse_ip("1:2", ip), 0);
    CHECK_INT((int)utm__parse_ip("g::1", ip), 0);
    CHECK_INT((int)utm__parse_ip("::ffff:1.2.3", ip), 0);
    CHECK_INT((int)utm__parse_ip("", ip), 0);
    CHECK_INT((int)utm__parse_ip("1.2.3.12345", ip), 0);
    CHECK_INT((int)utm__parse_ip(":1", ip), 0);
    CHECK_INT((int)utm__parse_ip("1:", ip), 0);
    CHECK_INT((int)utm__parse_ip("1:::2", ip), 0);
    CHECK_INT((int)utm__parse_ip("1:2:3:4:5:6:7:8:", ip), 0);
    CHECK_INT((int)utm__parse_ip("1:2:3:4:5:6:7", ip), 0);
    CHECK(utm__http_date("Sat, 01 Jan 0000 00:00:00 GMT", 29, 0) == -62167219200LL); /* year 0: before the era */
    CHECK(utm__b64url_decode("aGk==", 5, out, sizeof out) == 2);
    CHECK(utm__b64url_decode("a{", 2, out, sizeof out) < 0);
    /* base64url, and the classic alphabet a JWT should not hold but may */
    CHECK(utm__b64url_decode("aGk", 3, out, sizeof out) == 2 && memcmp(out, "hi", 2) == 0);
    CHECK(utm__b64url_decode("aGk=", 4, out, sizeof out) == 2);
    CHECK(utm__b64url_decode("-_+/", 4, out, sizeof out) == 3 && out[0] == 0xfb && out[1] == 0xff && out[2] == 0xbf);
    CHECK(utm__b64url_decode("a$", 2, out, sizeof out) < 0);
    CHECK(utm__b64url_decode("aGVsbG8", 7, out, 3) < 0);
    CHECK(utm__b64url_decode("a", 1, out, sizeof out) <= 0);
    /* whole numbers in JWT claims: exponents, fractions, limits */
    {
        int64_t v = 0;
        CHECK_INT(utm__json_whole("1.7e9", 5, &v), UTM_OK);
        CHECK(v == 1700000000);
        CHECK_INT(utm__json_whole("17E+8", 5, &v), UTM_OK);
        CHECK(v == 1700000000);
        CHECK_INT(utm__json_whole("-12.9", 5, &v), UTM_OK);
        CHECK(v == -12);
        CHECK_INT(utm__json_whole("5e-1", 4, &v), UTM_OK);
        CHECK(v == 0);
        CHECK_INT(utm__json_whole("1e30", 4, &v), UTM_ERR_TOO_LONG);
        CHECK_INT(utm__json_whole("12345678901234567890123", 23, &v), UTM_ERR_TOO_LONG);
        CHECK_INT(utm__json_whole("0.000000000000000000001", 23, &v), UTM_OK);
        CHECK(v == 0);
    }
    /* status lines */
    {
        int st = 0, minor = 0;
        CHECK_INT(utm__parse_status("HTTP/1.1 200 OK", 15, &st, &minor), UTM_OK);
        CHECK(st == 200 && minor == 1);
        CHECK_INT(utm__parse_status("HTTP/1.0 204", 12, &st, &minor), UTM_OK);
        CHECK(minor == 0);
        CHECK_INT(utm__parse_status("HTTP/2.0 200 OK", 15, &st, &minor), UTM_ERR_HTTP_STATUS_LINE);
        CHECK_INT(utm__parse_status("HTTP/1.x 200 OK", 15, &st, &minor), UTM_ERR_HTTP_STATUS_LINE);
        CHECK_INT(utm__parse_status("HTTP/1.1 099 OK", 15, &st, &minor), UTM_ERR_HTTP_STATUS_LINE);
        CHECK_INT(utm__parse_status("HTTP/1.1 600 OK", 15, &st, &minor), UTM_ERR_HTTP_STATUS_LINE);
        CHECK_INT(utm__parse_status("HTTP/1.1 2a0 OK", 15, &st, &minor), UTM_ERR_HTTP_STATUS_LINE);
        CHECK_INT(utm__parse_status("HTTP/1.1 200xOK", 15, &st, &minor), UTM_ERR_HTTP_STATUS_LINE);
        CHECK_INT(utm__parse_status("HTTP/1.1 200 O\x01", 15, &st, &minor), UTM_ERR_HTTP_STATUS_LINE);
        CHECK_INT(utm__parse_status("HTTP/1.1 200 O\x7f", 15, &st, &minor), UTM_ERR_HTTP_STATUS_LINE);
        CHECK_INT(utm__parse_status("HTTP/1.1 200 \tOK", 16, &st, &minor), UTM_OK);
        CHECK_INT(utm__parse_status("HTTP/1.1 20", 11, &st, &minor), UTM_ERR_HTTP_STATUS_LINE);
    }
    /* every result has its text; the HTTP statuses map as documented */
    for (i = -100; i <= 1; i++) {
        const char *t = utm_strerror(i);
        CHECK(t != NULL && t[0] != 0);
    }
    CHECK_INT(utm_status_error(199), UTM_ERR_HTTP_STATUS);
    CHECK_INT(utm_status_error(299), UTM_OK);
    CHECK_INT(utm_status_error(300), UTM_ERR_HTTP_STATUS);
    CHECK_INT(utm_status_error(599), UTM_ERR_SERVER);
    CHECK_INT(utm_status_error(600), UTM_ERR_HTTP_STATUS);
    CHECK_INT(utm_retryable(UTM_OK), 0);
}

/* RFC 8259 exactly, whatever jsmn lets through: separators, literals,
 * numbers, escapes, raw control bytes, UTF-8; depth bounded. */
static void test_json_strict(void)
{
    static const char *bad[] = {
        "{\"id_token\" \"a.b.c\"}", "{\"id_token\":a.b.c}", "{\"id_token\":\"a.b.c\",}", "{\"id_token\"::\"a\"}",
        "{\"id_token\":}", "{:\"a\"}", "{,\"a\":1}", "{\"a\":1,,\"b\":2}", "{\"a\":1 \"b\":2}", "{\"a\" \"b\"}",
        "{\"a\",\"b\"}", "{\"a\":1:2}", "{1:2}", "[1,]", "[,1]", "[1 2]", "[1,,2]", "[:]", "{\"a\":[1}", "[{]}",
        "\"tab\there\"", "\"nl\nhere\"", "\"\x01\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
        "\"\xe2\x82\"", "\"\x80\"", "\"\xff\"", "\"\xf0\x80\x80\x80\"", "01", "1.", ".5", "+1", "1e", "1e+", "-",
        "--1", "0x10", "1.5.2", "True", "nul", "nulll", "[tru]", "\xef\xbb\xbf{}", "{}x", "[] ,", "\"\\u00g0\"", "\"\\",
        "\"a", "[\"a\\\"]", "{\"a\":1}}", "[[]", "\x00", NULL };
    static const char *good[] = {
        "{}", "[]", " { } ", "[ ]", "0", "-0", "-0.0e-0", "1E+5", "123.456e789", "\"\"", "\"\\u0000\"", "true", "null",
        "{\"a\":{\"b\":[1,{\"c\":null},\"x\"]},\"d\":false}", " [ 1 , 2 ] ", "\"\xc3\xa9\xe2\x9c\x93\xf0\x9f\x94\x92\"",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "{\"\":\"\"}", "\r\n\t [\r\n\t] \r\n\t", "\"\x7f\"", NULL };
    static utm_json_token_t tok[200];
    static char deep[100003];
    utm_json_t j;
    size_t n;
    int i;
    for (i = 0; bad[i]; i++) {
        int rc = utm_json_parse(&j, bad[i], strlen(bad[i]) + (bad[i][0] == 0), tok, 200);
        if (rc != UTM_ERR_JSON) fprintf(stderr, "  bad %d (%s) -> %d\n", i, bad[i], rc);
        CHECK_INT(rc, UTM_ERR_JSON);
    }
    for (i = 0; good[i]; i++) {
        int rc = utm_json_parse(&j, good[i], strlen(good[i]), tok, 200);
        if (rc != UTM_OK) fprintf(stderr, "  good %d (%s) -> %d\n", i, good[i], rc);
        CHECK_INT(rc, UTM_OK);
    }
    CHECK_INT(utm_json_parse(&j, "{\"a\":1}\0", 8, tok, 200), UTM_ERR_JSON); /* a NUL after the value */
    CHECK_INT(utm_json_parse(&j, "\"a\0b\"", 5, tok, 200), UTM_ERR_JSON);      /* a raw NUL in a string */
    /* depth: UTMSTACK_JSON_DEPTH levels read, one more is its own error,
     * and a hundred thousand are refused at once (linear time) */
    for (n = 0; n < UTMSTACK_JSON_DEPTH; n++) { deep[n] = '['; deep[2 * UTMSTACK_JSON_DEPTH - 1 - n] = ']'; }
    CHECK_INT(utm_json_parse(&j, deep, 2 * UTMSTACK_JSON_DEPTH, tok, 200), UTM_OK);
    memmove(deep + 1, deep, 2 * UTMSTACK_JSON_DEPTH);
    deep[0] = '[';
    deep[2 * UTMSTACK_JSON_DEPTH + 1] = ']';
    CHECK_INT(utm_json_parse(&j, deep, 2 * UTMSTACK_JSON_DEPTH + 2, tok, 200), UTM_ERR_JSON_DEPTH);
    memset(deep, '[', sizeof deep);
    CHECK_INT(utm_json_parse(&j, deep, sizeof deep, tok, 200), UTM_ERR_JSON_DEPTH);
    /* numbers of any length read as doubles, rounded as the whole text
     * (as this libc's strtod reads the whole text: glibc and newlib round
     * correctly, picolibc's does not) */
    {
        static char num[1200];
        double d = 0;
        strcpy(num, "1");
        memset(num + 1, '0', 100);
        strcpy(num + 101, "e-100");
        CHECK_INT(utm_json_parse(&j, num, strlen(num), tok, 200), UTM_OK);
        CHECK_INT(utm_json_double(&j, 0, &d), UTM_OK);
        CHECK(d == 1.0);
        strcpy(num, "-0.");
        memset(num + 3, '0', 80);
        strcpy(num + 83, "123e82");
        CHECK_INT(utm_json_parse(&j, num, strlen(num), tok, 200), UTM_OK);
        CHECK_INT(utm_json_double(&j, 0, &d), UTM_OK);
        CHECK(d == -12.3);
        /* 2^53 + 1 is halfway: even below it, but a 1 after 800 zeros tips it up */
        strcpy(num, "9007199254740993.");
        memset(num + 17, '0', 800);
        strcpy(num + 817, "1");
        CHECK_INT(utm_json_parse(&j, num, strlen(num), tok, 200), UTM_OK);
        CHECK_INT(utm_json_double(&j, 0, &d), UTM_OK);
        CHECK(d == strtod(num, NULL));
        num[817] = 0;
        CHECK_INT(utm_json_parse(&j, num, strlen(num), tok, 200), UTM_OK);
        CHECK_INT(utm_json_double(&j, 0, &d), UTM_OK);
        CHECK(d == strtod(num, NULL));
        CHECK_INT(utm_json_parse(&j, "[0.0e99999999999999999999, -0]", 30, tok, 200), UTM_OK);
        CHECK_INT(utm_json_double(&j, 1, &d), UTM_OK);
        CHECK(d == 0.0);
        CHECK_INT(utm_json_double(&j, 2, &d), UTM_OK);
        CHECK(d == 0.0);
    }
    /* a login answer that is not JSON gives no session */
    CHECK_INT(login_rc(http_json(200, NULL, "{\"id_token\" \"a.b.c\",\"authenticated\":true}")), UTM_ERR_JSON);
    CHECK(utm_auth_token(&C) == NULL);
}

static void test_json_write(void)
{
    char out[64];
    CHECK_INT(utm_json_write_string(out, sizeof out, "a\"b\\c\n\x01\x7f\xc3\xa9", 10), 20);
    CHECK_STR(out, "\"a\\\"b\\\\c\\n\\u0001\x7f\xc3\xa9\"");
    CHECK_INT(utm_json_write_string(out, sizeof out, "\xc3", 1), UTM_ERR_ARG);          /* truncated UTF-8 */
    CHECK_INT(utm_json_write_string(out, sizeof out, "\xc0\xaf", 2), UTM_ERR_ARG);      /* overlong */
    CHECK_INT(utm_json_write_string(out, sizeof out, "\xed\xa0\x80", 3), UTM_ERR_ARG);  /* surrogate */
    CHECK_INT(utm_json_write_string(out, 4, "abcdef", 6), UTM_ERR_TOO_LONG);
    CHECK_STR(out, "");
    /* round trip through the reader, every byte value */
    {
        char in[128], w[1024], back[256];
        utm_json_token_t tok[2];
        utm_json_t j;
        int i, n;
        for (i = 0; i < 127; i++) in[i] = (char)(i + 1);
        n = utm_json_write_string(w, sizeof w, in, 127);
        CHECK(n > 0);
        CHECK_INT(utm_json_parse(&j, w, (size_t)n, tok, 2), UTM_OK);
        CHECK_INT(utm_json_string(&j, 0, back, sizeof back), 127);
        CHECK(memcmp(in, back, 127) == 0);
    }
}

/* ---- search: filters ---- */
static void test_filters_all_operators(void)
{
    static const struct { utm_operator_t op; const char *json; } want[] = {
        { UTM_OP_IS, "\"IS\",\"value\":2" }, { UTM_OP_IS_NOT, "\"IS_NOT\",\"value\":2" },
        { UTM_OP_CONTAIN, "\"CONTAIN\",\"value\":2" }, { UTM_OP_DOES_NOT_CONTAIN, "\"DOES_NOT_CONTAIN\",\"value\":2" },
        { UTM_OP_CONTAIN_ONE_OF, "\"CONTAIN_ONE_OF\",\"value\":2" },
        { UTM_OP_DOES_NOT_CONTAIN_ONE_OF, "\"DOES_NOT_CONTAIN_ONE_OF\",\"value\":2" },
        { UTM_OP_IS_IN_FIELDS, "\"IS_IN_FIELDS\",\"value\":2" }, { UTM_OP_IS_NOT_IN_FIELDS, "\"IS_NOT_IN_FIELDS\",\"value\":2" },
        { UTM_OP_ENDS_WITH, "\"ENDS_WITH\",\"value\":2" }, { UTM_OP_NOT_ENDS_WITH, "\"NOT_ENDS_WITH\",\"value\":2" },
        { UTM_OP_START_WITH, "\"START_WITH\",\"value\":2" }, { UTM_OP_NOT_START_WITH, "\"NOT_START_WITH\",\"value\":2" },
        { UTM_OP_IS_GREATER_THAN, "\"IS_GREATER_THAN\",\"value\":2" },
        { UTM_OP_IS_LESS_THAN_OR_EQUALS, "\"IS_LESS_THAN_OR_EQUALS\",\"value\":2" },
    };
    utm_filter_t f;
    utm_value_t items[3];
    char out[400], why[200], expect[200];
    size_t i;
    int n = 0;
    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        f.field = "status";
        f.op = want[i].op;
        f.value = utm_value_int(2);
        CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
        snprintf(expect, sizeof expect, "[{\"field\":\"status\",\"operator\":%s}]", want[i].json);
        CHECK_STR(out, expect);
        n++;
    }
    /* the list operators */
    items[0] = utm_value_string("a\"b");
    items[1] = utm_value_int(-7);
    items[2] = utm_value_bool(1);
    f.field = "tags";
    f.op = UTM_OP_IS_ONE_OF;
    f.value = utm_value_list(items, 3);
    CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
    CHECK_STR(out, "[{\"field\":\"tags\",\"operator\":\"IS_ONE_OF\",\"value\":[\"a\\\"b\",-7,true]}]");
    f.op = UTM_OP_IS_NOT_ONE_OF;
    CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
    f.op = UTM_OP_IS_ONE_OF_TERMS;
    CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
    n += 3;
    /* ranges: date math and ISO times */
    items[0] = utm_value_string("now-7d");
    items[1] = utm_value_string("2026-11-27T10:00:00Z");
    f.field = "@timestamp";
    f.op = UTM_OP_IS_BETWEEN;
    f.value = utm_value_list(items, 2);
    CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
    CHECK_STR(out, "[{\"field\":\"@timestamp\",\"operator\":\"IS_BETWEEN\",\"value\":[\"now-7d\",\"2026-11-27T10:00:00Z\"]}]");
    f.op = UTM_OP_IS_NOT_BETWEEN;
    CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
    n += 2;
    /* EXIST takes no value */
    f.field = "tags";
    f.op = UTM_OP_EXIST;
    memset(&f.value, 0, sizeof f.value);
    CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
    CHECK_STR(out, "[{\"field\":\"tags\",\"operator\":\"EXIST\"}]");
    f.op = UTM_OP_DOES_NOT_EXIST;
    CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
    n += 2;
    CHECK_INT(n, UTM_OP_COUNT);
    /* doubles, JSON values */
    f.field = "score";
    f.op = UTM_OP_IS_GREATER_THAN;
    f.value = utm_value_double(0.5);
    CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
    CHECK_STR(out, "[{\"field\":\"score\",\"operator\":\"IS_GREATER_THAN\",\"value\":0.5}]");
    { /* doubles as "%.17g" prints them, without printf (newlib-nano has none for them) */
        static const struct { double d; const char *text; } dbl[] = {
            { 0.1, "0.10000000000000001" }, { -2.5, "-2.5" }, { 3.0, "3" }, { 1e21, "1e+21" },
            { 1e-5, "1.0000000000000001e-5" }, { 0.0001, "0.0001" }, { 123456789012345678.0, "1.2345678901234568e+17" },
            { 1e16, "10000000000000000" }, { 5e-324, "4.9406564584124654e-324" }, { 0.0, "0" }, { 99999999999999999.0, "1e+17" },
            { 1.7976931348623157e308, "1.7976931348623157e+308" }, { 2.2250738585072014e-308, "2.2250738585072014e-308" } };
        size_t k;
        for (k = 0; k < sizeof dbl / sizeof dbl[0]; k++) {
            f.value = utm_value_double(dbl[k].d);
            CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
            strcpy(expect, "[{\"field\":\"score\",\"operator\":\"IS_GREATER_THAN\",\"value\":");
            strcat(strcat(expect, dbl[k].text), "}]");
            CHECK_STR(out, expect);
        }
    }
    { /* the formatter on its own, and a double made by hand without it */
        char d[32];
        CHECK_INT(utm_json_write_double(d, sizeof d, -5e-324), 24);
        CHECK_STR(d, "-4.9406564584124654e-324");
        CHECK_INT(utm_json_write_double(d, 25, -5e-324), 24); /* with its NUL */
        CHECK_INT(utm_json_write_double(d, 24, -5e-324), UTM_ERR_TOO_LONG);
        CHECK_STR(d, "");
        CHECK_INT(utm_json_write_double(d, sizeof d, 1e308 * 10), UTM_ERR_ARG);
        CHECK_INT(utm_json_write_double(NULL, 8, 1.0), UTM_ERR_ARG);
        CHECK_INT(utm_json_write_double(d, 0, 1.0), UTM_ERR_ARG);
        f.value = utm_value_double(0.5);
        f.value.write_dbl = NULL;
        CHECK_INT(utm_search_body(&f, 1, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
        if (UTMSTACK_TEXT >= 1)
            CHECK_STR(why, "filter 1 (score IS_GREATER_THAN): a double needs utm_value_double() or UTM_VALUE_DOUBLE()");
    }
    f.value = utm_value_json(" [1, \"x\" ,false] ");
    f.op = UTM_OP_IS_ONE_OF;
    CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
    CHECK_STR(out, "[{\"field\":\"score\",\"operator\":\"IS_ONE_OF\",\"value\":[1, \"x\" ,false] }]");
    CHECK_INT(utm_search_body(NULL, 0, out, sizeof out, why, sizeof why), 2);
    CHECK_STR(out, "[]");
    CHECK_STR(utm_operator_name(UTM_OP_IS_NOT_IN_FIELDS), "IS_NOT_IN_FIELDS");
    CHECK_INT(utm_operator_from_name("EXIST", 5), UTM_OP_EXIST);
    CHECK_INT(utm_operator_from_name("EXISTS", 6), UTM_OP_COUNT);
}

static void test_filters_rules(void)
{
    utm_filter_t f[2];
    utm_value_t one[1], three[3];
    char out[300], why[200];
    one[0] = utm_value_int(1);
    three[0] = three[1] = three[2] = utm_value_int(1);
    f[0].field = "ok";
    f[0].op = UTM_OP_IS;
    f[0].value = utm_value_int(1);
    f[1].field = "@timestamp";
    f[1].op = UTM_OP_IS_BETWEEN;
    f[1].value = utm_value_list(three, 3);
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    CHECK_STR(why, "filter 2 (@timestamp IS_BETWEEN): needs a list of two values");
    f[1].value = utm_value_string("now-7d");
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    f[1].op = UTM_OP_IS_ONE_OF;
    f[1].value = utm_value_list(one, 0);
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    CHECK_STR(why, "filter 2 (@timestamp IS_ONE_OF): needs a list of values");
    f[1].op = UTM_OP_EXIST;
    f[1].value = utm_value_int(1);
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    CHECK_STR(why, "filter 2 (@timestamp EXIST): takes no value");
    f[1].op = UTM_OP_IS;
    memset(&f[1].value, 0, sizeof f[1].value);
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    CHECK_STR(why, "filter 2 (@timestamp IS): needs a value");
    f[1].field = "";
    f[1].value = utm_value_int(1);
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    CHECK_STR(why, "filter 2 ( IS): needs a field");
    f[1].field = NULL;
    f[1].op = UTM_OP_IS_IN_FIELDS; /* the one that needs no field */
    CHECK(utm_search_body(f, 2, out, sizeof out, why, sizeof why) > 0);
    memset(&f[1].value, 0, sizeof f[1].value);
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    f[1].field = "x";
    f[1].op = UTM_OP_IS;
    f[1].value = utm_value_json("{\"a\":1}");
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    f[1].value = utm_value_json("[[1]]");
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    f[1].value = utm_value_json("nul");
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    f[1].value = utm_value_double(1.0 / 0.0 * 0.0 + 1e308 * 10);
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    f[1].value = utm_value_string("\xff");
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    f[1].op = (utm_operator_t)99;
    f[1].value = utm_value_int(1);
    CHECK_INT(utm_search_body(f, 2, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    CHECK_STR(why, "filter 2 (x ?): unknown operator");
}

/* ---- search: streaming ---- */
typedef struct docs { int n; char ids[64][24]; int stop_after; } docs_t;

static int on_doc(void *user, const utm_json_t *doc, uint64_t index)
{
    docs_t *d = (docs_t *)user;
    if (d->n < 64) {
        int at = utm_json_find(doc, 0, "id");
        if (utm_json_string(doc, at, d->ids[d->n], sizeof d->ids[0]) < 0) {
            size_t n;
            const char *raw = utm_json_raw(doc, 0, &n);
            if (n > 20) n = 20;
            memcpy(d->ids[d->n], raw, n);
            d->ids[d->n][n] = 0;
        }
    }
    CHECK_INT(index, d->n);
    d->n++;
    return d->stop_after && d->n >= d->stop_after;
}

static int run_search(const char *resp, size_t first_piece, size_t piece, int flags, docs_t *d, utm_search_result_t *r)
{
    utm_search_t s;
    fake_reset(&F, resp);
    F.first_piece = first_piece;
    F.piece = piece;
    client();
    utm_auth_use_internal_key(&C, "k");
    memset(&s, 0, sizeof s);
    memset(d, 0, sizeof *d);
    s.index_pattern = "alert-*";
    s.on_doc = on_doc;
    s.user = d;
    s.flags = flags;
    return utm_search(&C, &s, r);
}

static const char *chunked_of(const char *body, size_t chunk)
{
    static char out[8192];
    size_t n = strlen(body), i;
    strcpy(out, "HTTP/1.1 200 OK\r\nX-Total-Count: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        sprintf(out + strlen(out), "%x\r\n", (unsigned)k);
        strncat(out, body + i, k);
        strcat(out, "\r\n");
    }
    strcat(out, "0\r\n\r\n");
    return out;
}

static void test_split_documents(void)
{
    static const char body[] = " [ {\"id\":\"a\",\"s\":\"}]\\\"[{\",\"n\":[1,{\"x\":[]}]} ,\n{\"id\":\"b\",\"e\":\"\\\\\"},"
                               "{\"id\":\"c\\u00e9\",\"t\":\"caf\xc3\xa9 \xe2\x9c\x93\"}] ";
    utm_search_result_t r;
    docs_t d;
    size_t chunk, split;
    int bad = 0;
    /* every chunk size, and every first-recv split of the chunked stream */
    for (chunk = 1; chunk <= sizeof body; chunk++) {
        const char *resp = chunked_of(body, chunk);
        int rc = run_search(resp, 0, 0, 0, &d, &r);
        if (rc || d.n != 3 || strcmp(d.ids[0], "a") || strcmp(d.ids[1], "b") || strcmp(d.ids[2], "c\xc3\xa9") || r.total != 3) {
            if (!bad++) fprintf(stderr, "  chunk %u: rc %d docs %d\n", (unsigned)chunk, rc, d.n);
        }
    }
    {
        const char *resp = chunked_of(body, 7);
        size_t len = strlen(resp);
        for (split = 1; split < len; split++) {
            int rc = run_search(resp, split, 0, 0, &d, &r);
            if (rc || d.n != 3) { if (!bad++) fprintf(stderr, "  split %u: rc %d docs %d\n", (unsigned)split, rc, d.n); }
            rc = run_search(resp, 0, split < 40 ? split : 0, 0, &d, &r);
            if (rc || d.n != 3) { if (!bad++) fprintf(stderr, "  piece %u: rc %d docs %d\n", (unsigned)split, rc, d.n); }
        }
    }
    CHECK_INT(bad, 0);
    /* top-level scalars are documents too */
    CHECK_INT(run_search(http_json(200, NULL, "[1,\"two\",true,null,{\"id\":\"x\"},[2]]"), 0, 1, 0, &d, &r), UTM_OK);
    CHECK_INT(d.n, 6);
    CHECK_STR(d.ids[1], "two"); /* raw string text, without quotes */
    CHECK_STR(d.ids[4], "x");
    CHECK_INT(r.total, -1);
    CHECK_INT(run_search(http_json(200, "X-Total-Count: 0\r\n", "[]"), 0, 0, 0, &d, &r), UTM_OK);
    CHECK_INT(d.n, 0);
    CHECK_INT(r.total, 0);
}

static void test_split_limits(void)
{
    static char body[3000], resp[3500];
    utm_search_result_t r;
    docs_t d;
    int i;
    /* a document larger than UTMSTACK_DOC_SIZE (512) between two small ones */
    strcpy(body, "[{\"id\":\"1\"},{\"id\":\"big\",\"pad\":\"");
    for (i = 0; i < 1000; i++) strcat(body, "p");
    strcat(body, "\"},{\"id\":\"3\"}]");
    strcpy(resp, chunked_of(body, 100));
    CHECK_INT(run_search(resp, 0, 0, 0, &d, &r), UTM_ERR_DOC_TOO_LARGE);
    CHECK_INT(d.n, 2); /* the search went on */
    CHECK_STR(d.ids[1], "3");
    CHECK_INT(r.skipped, 1);
    CHECK_INT(run_search(resp, 0, 0, UTM_SEARCH_SKIP_OVERSIZED, &d, &r), UTM_OK);
    CHECK_INT(r.skipped, 1);
    CHECK_INT(r.docs, 2);
    /* the client is usable after: the same connection even */
    /* a document with more tokens than UTMSTACK_JSON_TOKENS (64) */
    strcpy(body, "[{\"id\":\"1\"},[");
    for (i = 0; i < 70; i++) strcat(body, i ? ",1" : "1");
    strcat(body, "],{\"id\":\"3\"}]");
    CHECK_INT(run_search(http_json(200, NULL, body), 0, 0, UTM_SEARCH_SKIP_OVERSIZED, &d, &r), UTM_OK);
    CHECK_INT(d.n, 2);
    CHECK_INT(r.skipped, 1);
    /* malformed arrays */
    CHECK_INT(run_search(http_json(200, NULL, "{\"error\":1}"), 0, 0, 0, &d, &r), UTM_ERR_JSON);
    CHECK_INT(run_search(http_json(200, NULL, "[{\"id\":\"1\"} {\"id\":\"2\"}]"), 0, 0, 0, &d, &r), UTM_ERR_JSON);
    CHECK_INT(run_search(http_json(200, NULL, "[{\"id\":\"1\"},]"), 0, 0, 0, &d, &r), UTM_ERR_JSON);
    CHECK_INT(run_search(http_json(200, NULL, "[{\"id\":\"1\"}] x"), 0, 0, 0, &d, &r), UTM_ERR_JSON);
    CHECK_INT(run_search(http_json(200, NULL, "[{\"id\":\"1\""), 0, 0, 0, &d, &r), UTM_ERR_JSON);
    CHECK_INT(run_search(http_json(200, NULL, ""), 0, 0, 0, &d, &r), UTM_ERR_JSON);
    /* errors the server reports */
    CHECK_INT(run_search("HTTP/1.1 500 Internal Server Error\r\nX-UtmStack-error: IS_BETWEEN needs two values\r\nContent-Length: 0\r\n\r\n",
                         0, 0, 0, &d, &r), UTM_ERR_SERVER);
    CHECK_STR(r.error, "IS_BETWEEN needs two values");
    CHECK_STR(utm_last_error(&C), "IS_BETWEEN needs two values");
    CHECK_INT(run_search(http_json(401, NULL, "{\"status\":401,\"error\":\"Unauthorized\"}"), 0, 0, 0, &d, &r), UTM_ERR_AUTH);
    CHECK_INT(r.status, 401);
    CHECK_INT(run_search(http_json(403, NULL, "{\"status\":403,\"error\":\"Forbidden\"}"), 0, 0, 0, &d, &r), UTM_ERR_FORBIDDEN);
    /* the callback stops the search cleanly */
    {
        utm_search_t s;
        fake_reset(&F, http_json(200, NULL, "[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":\"3\"}]"));
        fake_script(&F, 1, http_json(200, NULL, "[]"));
        client();
        utm_auth_use_internal_key(&C, "k");
        memset(&s, 0, sizeof s);
        memset(&d, 0, sizeof d);
        d.stop_after = 2;
        s.index_pattern = "alert-*";
        s.on_doc = on_doc;
        s.user = &d;
        CHECK_INT(utm_search(&C, &s, &r), UTM_OK);
        CHECK_INT(r.stopped, 1);
        CHECK_INT(d.n, 2);
        d.stop_after = 0;
        CHECK_INT(utm_search(&C, &s, &r), UTM_OK);
    }
}

static void test_search_request(void)
{
    static const char *const sort[] = { "@timestamp,desc", "severity,asc" };
    utm_search_t s;
    utm_search_result_t r;
    utm_filter_t f;
    docs_t d;
    fake_reset(&F, http_json(200, "X-Total-Count: 42\r\nLink: </api/elasticsearch/search?indexPattern=a&page=3&size=5>; rel=\"next\","
                                  "</api/elasticsearch/search?indexPattern=a&page=9&size=5>; rel=\"last\"\r\n", "[]"));
    client();
    utm_auth_use_internal_key(&C, "k");
    memset(&s, 0, sizeof s);
    memset(&d, 0, sizeof d);
    f.field = "name";
    f.op = UTM_OP_CONTAIN;
    f.value = utm_value_string("a&b c");
    s.index_pattern = "log-* with space";
    s.filters = &f;
    s.filter_count = 1;
    s.sort = sort;
    s.sort_count = 2;
    s.page = 2;
    s.size = 5;
    s.top = 45;
    s.on_doc = on_doc;
    s.user = &d;
    CHECK_INT(utm_search(&C, &s, &r), UTM_OK);
    CHECK_INT(r.total, 42);
    CHECK_INT(r.next_page, 3);
    CHECK_INT(r.last_page, 9);
    F.sent[F.sent_len] = 0;
    CHECK(strstr(F.sent, "POST /api/elasticsearch/search?indexPattern=log-*%20with%20space&top=45&page=2&size=5"
                         "&sort=@timestamp,desc&sort=severity,asc HTTP/1.1\r\n") == F.sent);
    CHECK(strstr(F.sent, "\r\n\r\n[{\"field\":\"name\",\"operator\":\"CONTAIN\",\"value\":\"a&b c\"}]") != NULL);
    /* a bad filter is refused before anything is sent */
    fake_reset(&F, http_json(200, NULL, "[]"));
    f.op = UTM_OP_IS_BETWEEN;
    CHECK_INT(utm_search(&C, &s, &r), UTM_ERR_FILTER);
    CHECK_STR(utm_last_error(&C), "filter 1 (name IS_BETWEEN): needs a list of two values");
    CHECK_INT((int)F.sent_len, 0);
}

/* The fake server answers these pages on one connection (p2 may be NULL). */
static void serve_pages(const char *p1, const char *p2, docs_t *d)
{
    static char all[4096];
    fake_reset(&F, NULL);
    strcpy(all, p1);
    if (p2) strcat(all, p2);
    fake_script(&F, 0, all);
    client();
    utm_auth_use_internal_key(&C, "k");
    memset(d, 0, sizeof *d);
}

static void test_search_all_pages(void)
{
    utm_search_t s;
    utm_search_result_t r;
    docs_t d;
    fake_reset(&F, NULL);
    /* pages of 2, top 5: 2 + 2 + 1 documents, then it stops by itself */
    fake_script(&F, 0, http_json(200, "X-Total-Count: 5\r\n", "[{\"id\":\"1\"},{\"id\":\"2\"}]"
                                     "")); /* keep-alive: pages come on one connection */
    {
        static char all[2048];
        strcpy(all, http_json(200, "X-Total-Count: 5\r\n", "[{\"id\":\"1\"},{\"id\":\"2\"}]"));
        strcat(all, http_json(200, "X-Total-Count: 5\r\n", "[{\"id\":\"3\"},{\"id\":\"4\"}]"));
        strcat(all, http_json(200, "X-Total-Count: 5\r\n", "[{\"id\":\"5\"}]"));
        fake_script(&F, 0, all);
    }
    client();
    utm_auth_use_internal_key(&C, "k");
    memset(&s, 0, sizeof s);
    memset(&d, 0, sizeof d);
    s.index_pattern = "alert-*";
    s.size = 2;
    s.top = 5;
    s.on_doc = on_doc;
    s.user = &d;
    CHECK_INT(utm_search_all(&C, &s, &r), UTM_OK);
    CHECK_INT(r.docs, 5);
    CHECK_INT(r.pages, 3);
    CHECK_INT(r.total, 5);
    CHECK_STR(d.ids[4], "5");
    CHECK_INT(F.conn, 1);
    CHECK_INT(fake_sent_count(&F, "page=3&size=2"), 1);
    /* a short page ends it early */
    {
        serve_pages(http_json(200, "X-Total-Count: 3\r\n", "[{\"id\":\"1\"},{\"id\":\"2\"}]"),
                    http_json(200, "X-Total-Count: 3\r\n", "[{\"id\":\"3\"}]"), &d);
        s.top = 100;
        CHECK_INT(utm_search_all(&C, &s, &r), UTM_OK);
        CHECK_INT(r.docs, 3);
        CHECK_INT(r.pages, 2);
    }
    /* a server that answers more than asked: size per page and top in all
     * bound what on_doc gets; the excess is counted, the result says so */
    {
        serve_pages(http_json(200, "X-Total-Count: 3\r\n", "[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":\"x\"}]"), NULL, &d);
        s.size = 2;
        s.top = 100;
        CHECK_INT(utm_search_all(&C, &s, &r), UTM_ERR_SEARCH_EXCESS);
        CHECK_INT(r.docs, 2);
        CHECK_INT(d.n, 2);
        CHECK_INT(r.excess, 1);
        CHECK_INT(r.pages, 1);
        CHECK(strstr(utm_last_error(&C), "more") != NULL);
        /* top 3 in pages of 2: the second page may give one */
        serve_pages(http_json(200, "X-Total-Count: 3\r\n", "[{\"id\":\"1\"},{\"id\":\"2\"}]"),
                    http_json(200, "X-Total-Count: 3\r\n", "[{\"id\":\"3\"},{\"id\":\"y\"}]"), &d);
        s.top = 3;
        CHECK_INT(utm_search_all(&C, &s, &r), UTM_ERR_SEARCH_EXCESS);
        CHECK_INT(r.docs, 3);
        CHECK_INT(r.excess, 1);
        CHECK_STR(d.ids[2], "3");
        {
            utm_response_t resp;
            fake_script(&F, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            CHECK_INT(get("/", NULL, 0, &resp), UTM_OK); /* and the client is usable after */
        }
    }
}

/* ---- auth ---- */
static void test_login_body_escaping(void)
{
    fake_reset(&F, login_answer(make_jwt("admin", Y2K + 86400, 1), 1));
    client();
    CHECK_INT(utm_auth_use_password(&C, "us\"er", "p\"a\\s\ts\xc3\xa9\xe2\x9c\x93", 1), UTM_ERR_HEADER_VALUE); /* a tab */
    CHECK_INT(utm_auth_use_password(&C, "us\"er", "p\"a\\ss\xc3\xa9\xe2\x9c\x93", 1), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    CHECK_INT(fake_sent_count(&F, "{\"username\":\"us\\\"er\",\"password\":\"p\\\"a\\\\ss\xc3\xa9\xe2\x9c\x93\",\"rememberMe\":true}"), 1);
    CHECK_INT(fake_sent_count(&F, "POST /api/authenticate HTTP/1.1"), 1);
    CHECK_INT(fake_sent_count(&F, "Authorization"), 0); /* the login carries no credential */
    CHECK_STR(utm_auth_subject(&C), "admin");
    CHECK_INT(utm_auth_expires(&C), Y2K + 86400);
    /* the server's bounds are checked here */
    client();
    CHECK_INT(utm_auth_use_password(&C, "u", "abc", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_ERR_ARG);
    CHECK_INT(utm_auth_use_password(&C, "u", "\xe2\x9c\x93\xe2\x9c\x93\xe2\x9c\x93\xe2\x9c\x93", 0), UTM_OK); /* 4 chars, 12 bytes */
    fake_reset(&F, login_answer(make_jwt("u", Y2K + 86400, 1), 1));
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "012345678901234567890123456789012345678901234567890", "abcd", 0), UTM_ERR_TOO_LONG);
    CHECK_INT(utm_auth_use_password(&C, "", "abcd", 0), UTM_ERR_ARG);
    CHECK_INT(utm_auth_use_password(&C, "u\r\nX-Evil: 1", "abcd", 0), UTM_ERR_HEADER_VALUE);
    CHECK_INT(utm_auth_use_internal_key(&C, "key\nX: y"), UTM_ERR_HEADER_VALUE);
    CHECK_INT(utm_auth_use_bearer(&C, "a b"), UTM_ERR_HEADER_VALUE);
}

/* Does the client hold these bytes anywhere? */
static int client_holds(const char *s)
{
    const unsigned char *p = (const unsigned char *)&C;
    size_t n = strlen(s), i;
    for (i = 0; i + n <= sizeof C; i++)
        if (memcmp(p + i, s, n) == 0) return 1;
    return 0;
}

/* After utm_auth_clear() no copy of the token is left: not in the document
 * buffer, not in the I/O buffer the answer passed through. */
static void test_login_answer_wiped(void)
{
    char sig[64], jwt[800];
    snprintf(jwt, sizeof jwt, "%s", make_jwt("admin", Y2K + 86400, 1));
    snprintf(sig, sizeof sig, "%s", strrchr(jwt, '.') + 1);
    fake_reset(&F, login_answer(jwt, 1));
    client();
    CHECK_INT(utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    CHECK(client_holds(sig)); /* the session's own copy */
    CHECK_STR(utm_auth_subject(&C), "admin");
    /* a subject cut by a \u0000, or with control bytes, is no login name */
    {
        static const char *subs[] = { "ad\\u0000min", "ad\\u0007min", "ad\\nmin" };
        int k;
        for (k = 0; k < 3; k++) {
            fake_reset(&F, login_answer(make_jwt(subs[k], Y2K + 86400, 1), 1));
            CHECK_INT(utm_auth_login(&C), UTM_OK);
            CHECK_STR(utm_auth_subject(&C), "");
        }
        fake_reset(&F, login_answer(jwt, 1));
        CHECK_INT(utm_auth_login(&C), UTM_OK);
    }
    utm_auth_clear(&C);
    CHECK(!client_holds(sig));
    CHECK(!client_holds("s3cret-Passw0rd"));
}

/* Credentials over http:// only when the config says so, with a warning on
 * every connect; refused before anything is sent otherwise. */
static void test_plain_credentials(void)
{
    utm_config_t cfg;
    char body[64];
    utm_response_t r;
    utm_request_t q;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "http://utm.test";
    cfg.port = &fake_port;
    cfg.port_ctx = &F;
    cfg.log_fn = log_capture;
    cfg.log_level = UTM_LOG_WARN;
    fake_reset(&F, login_answer(make_jwt("admin", Y2K + 86400, 1), 1));
    utm_client_free(&C);
    CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_ERR_PLAINTEXT);
    CHECK(strstr(utm_last_error(&C), "https://") != NULL);
    CHECK_INT(utm_auth_use_internal_key(&C, "the-key"), UTM_OK);
    memset(&q, 0, sizeof q);
    q.path = "/api/account";
    q.body_buf = body;
    q.body_size = sizeof body;
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_PLAINTEXT);
    CHECK_INT((int)F.sent_len, 0); /* nothing went out */
    CHECK_INT(F.conn, 0);
    memset(&q, 0, sizeof q); /* a request without credentials is fine */
    q.path = "/api/ping";
    q.flags = UTM_REQ_NO_AUTH;
    fake_reset(&F, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    /* allowed: sent, and a warning on the connect */
    cfg.allow_plain_credentials = 1;
    loglen = 0;
    logbuf[0] = 0;
    utm_client_free(&C);
    CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
    fake_reset(&F, login_answer(make_jwt("admin", Y2K + 86400, 1), 1));
    CHECK_INT(utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    CHECK(strstr(logbuf, "in clear") != NULL);
}

/* A path built from data cannot walk the API: dot segments (plain or
 * percent-encoded) are refused, and '#', a stray '%' and spaces are sent
 * encoded, as data. */
static void test_request_paths(void)
{
    static const char *refused[] = { "/api/../admin", "/api/./x", "/..", "/api/%2e%2E/x", "/api/.%2e",
                                     "/api/%2E/x", "/a/..?q=1", NULL };
    static const struct { const char *path, *sent; } encoded[] = {
        { "/a#b", "GET /a%23b HTTP/1.1" }, { "/a%zz", "GET /a%25zz HTTP/1.1" }, { "/a%4", "GET /a%254 HTTP/1.1" },
        { "/a%41", "GET /a%41 HTTP/1.1" }, { "/a b", "GET /a%20b HTTP/1.1" }, { "/api/..x/.y", "GET /api/..x/.y HTTP/1.1" },
        { "/api/x?q=../..", "GET /api/x?q=../.. HTTP/1.1" }, { "/x?a=1#f", "GET /x?a=1%23f HTTP/1.1" },
    };
    utm_response_t r;
    size_t i;
    for (i = 0; refused[i]; i++) {
        fake_reset(&F, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        client();
        if (get(refused[i], NULL, 0, &r) != UTM_ERR_ARG) fprintf(stderr, "  path %s was not refused\n", refused[i]);
        CHECK_INT(get(refused[i], NULL, 0, &r), UTM_ERR_ARG);
        CHECK_INT((int)F.sent_len, 0);
    }
    for (i = 0; i < sizeof encoded / sizeof encoded[0]; i++) {
        fake_reset(&F, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        client();
        CHECK_INT(get(encoded[i].path, NULL, 0, &r), UTM_OK);
        if (fake_sent_count(&F, encoded[i].sent) != 1) fprintf(stderr, "  path %s: want %s\n", encoded[i].path, encoded[i].sent);
        CHECK_INT(fake_sent_count(&F, encoded[i].sent), 1);
    }
}

/* Calls back into the client from its own callbacks: refused at once, and
 * the exchange under way is not disturbed. */
static int reentry_rc;
static int reenter_on_doc(void *user, const utm_json_t *doc, uint64_t index)
{
    utm_request_t q;
    utm_response_t r;
    (void)user; (void)doc; (void)index;
    memset(&q, 0, sizeof q);
    q.path = "/api/account";
    reentry_rc = utm_request(&C, &q, &r);
    utm_client_close(&C); /* ignored: the answer is still being read */
    return 0;
}

static int reenter_on_body(void *user, const char *p, size_t n)
{
    utm_search_t s;
    utm_search_result_t r;
    (void)user; (void)p; (void)n;
    memset(&s, 0, sizeof s);
    s.index_pattern = "alert-*";
    reentry_rc = utm_search(&C, &s, &r);
    return 0;
}

static void test_reentry_and_layout(void)
{
    static utm_client_t other;
    utm_config_t cfg;
    utm_search_t s;
    utm_search_result_t r;
    utm_request_t q;
    utm_response_t resp;
    size_t i;
    int same = 1;
    fake_reset(&F, http_json(200, NULL, "[{\"id\":\"1\"},{\"id\":\"2\"}]"));
    client();
    utm_auth_use_internal_key(&C, "k");
    memset(&s, 0, sizeof s);
    s.index_pattern = "alert-*";
    s.on_doc = reenter_on_doc;
    reentry_rc = 0;
    CHECK_INT(utm_search(&C, &s, &r), UTM_OK);
    CHECK_INT(reentry_rc, UTM_ERR_REENTRANT);
    CHECK_INT(r.docs, 2);
    CHECK_INT(fake_sent_count(&F, "GET /api/account"), 0);
    fake_reset(&F, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
    client();
    memset(&q, 0, sizeof q);
    q.path = "/x";
    q.flags = UTM_REQ_NO_AUTH;
    q.on_body = reenter_on_body;
    reentry_rc = 0;
    CHECK_INT(utm_request(&C, &q, &resp), UTM_OK);
    CHECK_INT(reentry_rc, UTM_ERR_REENTRANT);
    /* a client of another size (a file built with other layout macros) is
     * refused before a byte of it is written */
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "http://utm.test";
    cfg.port = &fake_port;
    cfg.port_ctx = &F;
    memset(&other, 0xab, sizeof other);
    CHECK_INT(utm_client_init_sized(&other, &cfg, sizeof other - 64), UTM_ERR_LAYOUT);
    CHECK_INT(utm_client_init_sized(&other, &cfg, sizeof other + 64), UTM_ERR_LAYOUT);
    for (i = 0; i < sizeof other; i++) same &= ((unsigned char *)&other)[i] == 0xab;
    CHECK(same);
    CHECK_INT(utm_client_init(&other, &cfg), UTM_OK); /* the macro passes the right size */
    CHECK_INT((utm_client_init)(&other, &cfg), UTM_OK); /* and the plain function is there */
    utm_client_free(&other);
}

/* on_doc gets only complete, valid documents: an unclosed element that
 * swallows the next one is refused whole; those before it were valid. The
 * largest document held is UTMSTACK_DOC_SIZE bytes, exactly. */
static void test_split_hands_only_valid_documents(void)
{
    static char big[2 * UTMSTACK_DOC_SIZE + 8];
    utm_search_t s;
    utm_search_result_t r;
    docs_t d;
    fake_reset(&F, http_json(200, NULL, "[{\"id\":\"1\"},{\"id\":[1,2},{\"id\":\"3\"}]"));
    client();
    utm_auth_use_internal_key(&C, "k");
    memset(&s, 0, sizeof s);
    memset(&d, 0, sizeof d);
    s.index_pattern = "alert-*";
    s.on_doc = on_doc;
    s.user = &d;
    CHECK_INT(utm_search(&C, &s, &r), UTM_ERR_JSON);
    CHECK_INT(d.n, 1);
    CHECK_STR(d.ids[0], "1");
    /* one document of exactly UTMSTACK_DOC_SIZE bytes, then one a byte larger */
    {
        size_t n = UTMSTACK_DOC_SIZE;
        char *p = big;
        static char answer[3 * UTMSTACK_DOC_SIZE];
        *p++ = '[';
        memcpy(p, "{\"id\":\"", 7);
        memset(p + 7, 'x', n - 9);
        memcpy(p + n - 2, "\"}", 2);
        p += n;
        *p++ = ',';
        memcpy(p, "{\"id\":\"", 7);
        memset(p + 7, 'y', n - 8);
        memcpy(p + n - 1, "\"}", 2);
        p += n + 1;
        *p++ = ']';
        *p = 0;
        snprintf(answer, sizeof answer, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n%s", (unsigned)strlen(big), big);
        fake_reset(&F, answer);
        client();
        utm_auth_use_internal_key(&C, "k");
        memset(&d, 0, sizeof d);
        s.flags = UTM_SEARCH_SKIP_OVERSIZED;
        CHECK_INT(utm_search(&C, &s, &r), UTM_OK);
        CHECK_INT(r.docs, 1);
        CHECK_INT(r.skipped, 1);
    }
}

static int login_rc(const char *answer)
{
    fake_reset(&F, answer);
    fake_script(&F, 1, login_answer(make_jwt("admin", Y2K + 86400, 1), 1));
    client();
    utm_auth_use_password(&C, "admin", "s3cret", 0);
    return utm_auth_login(&C);
}

/* A fleet must not lock its account: a refused password is not tried again
 * by itself (nothing sent, the callback not asked) until credentials are set
 * again or the cool-down ends; a lock holds at least the server's ten
 * minutes. */
static int pass_calls;
static int counted_password(void *user, char *buf, size_t size)
{
    (void)user;
    pass_calls++;
    snprintf(buf, size, "s3cret-Passw0rd");
    return 0;
}

static void test_refused_login_is_not_retried(void)
{
    static const char refused[] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    utm_request_t q;
    utm_response_t r;
    size_t sent;
    fake_reset(&F, refused);
    fake_script(&F, 1, login_answer(make_jwt("admin", Y2K + 86400, 1), 1));
    client();
    pass_calls = 0;
    CHECK_INT(utm_auth_use_password_fn(&C, "admin", counted_password, NULL, 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_ERR_AUTH);
    sent = F.sent_len;
    memset(&q, 0, sizeof q);
    q.path = "/api/account";
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_AUTH); /* every call: the kept refusal */
    CHECK_INT(utm_auth_login(&C), UTM_ERR_AUTH);
    CHECK_INT((int)F.sent_len, (int)sent);
    CHECK_INT(F.conn, 1);
    CHECK_INT(pass_calls, 1);
    CHECK(strstr(utm_last_error(&C), "not tried again") != NULL);
    F.now += 300 * 1000 + 1; /* the default cool-down, then one new try */
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    CHECK_INT(pass_calls, 2);
    /* 423: at least the server's ten minutes, whatever the cool-down */
    {
        utm_config_t cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.url = "http://utm.test";
        cfg.port = &fake_port;
        cfg.port_ctx = &F;
        cfg.allow_plain_credentials = 1;
        cfg.login_cooldown_s = 10;
        fake_reset(&F, "HTTP/1.1 423 Locked\r\nContent-Length: 0\r\n\r\n");
        fake_script(&F, 1, refused);
        fake_script(&F, 2, login_answer(make_jwt("admin", Y2K + 86400, 1), 1));
        utm_client_free(&C);
        CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
        utm_auth_use_password(&C, "admin", "s3cret", 0);
        CHECK_INT(utm_auth_login(&C), UTM_ERR_LOCKED);
        F.now += 11 * 1000;
        CHECK_INT(utm_auth_login(&C), UTM_ERR_LOCKED);
        CHECK_INT(F.conn, 1);
        F.now += 600 * 1000;
        CHECK_INT(utm_auth_login(&C), UTM_ERR_AUTH); /* tried again: now refused, for 10 s */
        CHECK_INT(F.conn, 2);
        CHECK_INT(utm_auth_login(&C), UTM_ERR_AUTH);
        CHECK_INT(F.conn, 2);
        F.now += 10 * 1000 + 1;
        CHECK_INT(utm_auth_login(&C), UTM_OK);
    }
}

/* Renewals of clients that logged in together are spread over the window
 * before the margin, from each port's entropy; none past the margin. */
static uint32_t spread_seed;
static int spread_entropy(void *ctx, unsigned char *buf, size_t len)
{
    size_t i;
    (void)ctx;
    for (i = 0; i < len; i++) { spread_seed = spread_seed * 1103515245u + 12345u; buf[i] = (unsigned char)(spread_seed >> 16); }
    return 0;
}

static void test_renewal_spread(void)
{
    static utm_client_t many;
    utm_port_t port = fake_port;
    utm_config_t cfg;
    uint64_t lo = (uint64_t)-1, hi = 0;
    const uint64_t margin = 60000, window = 3600000; /* a 24 h token: a fifth, at most an hour */
    int i;
    port.entropy_fn = spread_entropy;
    spread_seed = 42;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "http://utm.test";
    cfg.port = &port;
    cfg.port_ctx = &F;
    cfg.allow_plain_credentials = 1;
    for (i = 0; i < 200; i++) {
        uint64_t early;
        fake_reset(&F, login_answer(make_jwt("admin", Y2K + 86400, 1), 1));
        F.wall = Y2K;
        CHECK_INT(utm_client_init(&many, &cfg), UTM_OK);
        utm_auth_use_password(&many, "admin", "s3cret", 0);
        CHECK_INT(utm_auth_login(&many), UTM_OK);
        early = many.tok_deadline_ - many.tok_renew_at_;
        if (early < lo) lo = early;
        if (early > hi) hi = early;
        CHECK(early >= margin && early <= margin + window);
        utm_client_free(&many);
    }
    CHECK(hi - lo > window / 2); /* spread, not bunched */
}

/* Backoff: full jitter under base * 2^attempt and the cap; Retry-After wins. */
static void test_backoff(void)
{
    utm_port_t port = fake_port;
    utm_config_t cfg;
    utm_response_t r;
    unsigned attempt;
    int k, above_half = 0;
    uint32_t w;
    port.entropy_fn = spread_entropy;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "http://utm.test";
    cfg.port = &port;
    cfg.port_ctx = &F;
    fake_reset(&F, "HTTP/1.1 503 Unavailable\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n\x1e"
                   "HTTP/1.1 503 Unavailable\r\nDate: Sat, 01 Jan 2000 00:00:00 GMT\r\n"
                   "Retry-After: Sat, 01 Jan 2000 00:01:30 GMT\r\nContent-Length: 0\r\n\r\n\x1e"
                   "HTTP/1.1 503 Unavailable\r\nDate: Sat Jan  1 00:00:00 2000\r\n"
                   "Retry-After: Saturday, 01-Jan-00 00:01:30 GMT\r\nContent-Length: 0\r\n\r\n\x1e"
                   "HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n");
    utm_client_free(&C);
    CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
    for (attempt = 0; attempt < 12; attempt++)
        for (k = 0; k < 50; k++) {
            uint32_t top = attempt < 9 ? 100u << attempt : 30000;
            w = utm_backoff_ms(&C, attempt, 100, 30000);
            if (top > 30000) top = 30000;
            CHECK(w <= top);
            above_half += attempt == 11 && w > 15000;
        }
    CHECK(above_half > 10 && above_half < 40); /* drawn over the whole range */
    CHECK_INT(get("/", NULL, 0, &r), UTM_OK);
    CHECK_INT(r.status, 503);
    for (k = 0, above_half = 0; k < 50; k++) { /* Retry-After: 7, spread over 7 to 8.75 s */
        w = utm_backoff_ms(&C, 0, 100, 1000);
        CHECK(w >= 7000 && w <= 8750);
        above_half += w > 7875;
    }
    CHECK(above_half > 10 && above_half < 40);
    CHECK_INT(get("/", NULL, 0, &r), UTM_OK);
    w = utm_backoff_ms(&C, 0, 100, 1000);
    CHECK(w >= 90000 && w <= 112500); /* a date, 90 s after the server's */
    CHECK_INT(get("/", NULL, 0, &r), UTM_OK);
    w = utm_backoff_ms(&C, 0, 100, 1000);
    CHECK(w >= 90000 && w <= 112500); /* the same in the obsolete forms (RFC 9110 5.6.7) */
    CHECK_INT(get("/", NULL, 0, &r), UTM_OK);
    CHECK(utm_backoff_ms(&C, 0, 100, 1000) <= 100); /* none: the jitter again */
    for (k = 0; k > -80; k--) /* what another try can change: the network and 5xx */
        CHECK_INT(utm_retryable(k), k == UTM_ERR_DNS || k == UTM_ERR_CONNECT || k == UTM_ERR_TIMEOUT ||
                                        k == UTM_ERR_NET || k == UTM_ERR_CLOSED || k == UTM_ERR_SERVER);
    utm_client_free(&C); /* its port lives on this stack */
}

static void test_login_failures(void)
{
    char big[451];
    CHECK_INT(login_rc("HTTP/1.1 401 Unauthorized\r\nX-UtmStack-error: Bad credentials\r\nContent-Length: 0\r\n\r\n"), UTM_ERR_AUTH);
    CHECK_STR(utm_last_error(&C), "Bad credentials");
    utm_auth_use_password(&C, "admin", "s3cret", 0);
    CHECK_INT(utm_auth_login(&C), UTM_OK); /* usable after, with credentials set again */
    CHECK_INT(login_rc("HTTP/1.1 423 Locked\r\nX-UtmStack-error: locked\r\nContent-Length: 0\r\n\r\n"), UTM_ERR_LOCKED);
    CHECK_INT(F.conn, 1); /* never retried by itself */
    CHECK_INT(login_rc("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), UTM_ERR_BAD_REQUEST);
    CHECK_INT(login_rc("HTTP/1.1 500 Error\r\nX-UtmStack-error: db down\r\nContent-Length: 0\r\n\r\n"), UTM_ERR_SERVER);
    CHECK_STR(utm_last_error(&C), "db down");
    CHECK_INT(login_rc(http_json(200, NULL, "{\"id_token\":")), UTM_ERR_JSON);
    CHECK_INT(login_rc(http_json(200, NULL, "[\"id_token\"]")), UTM_ERR_JSON);
    CHECK_INT(login_rc(http_json(200, NULL, "{\"authenticated\":true}")), UTM_ERR_TOKEN);
    CHECK_INT(login_rc(http_json(200, NULL, "{\"id_token\":42}")), UTM_ERR_TOKEN);
    CHECK_INT(login_rc(http_json(200, NULL, "{\"id_token\":\"a\\nb\"}")), UTM_ERR_TOKEN);
    CHECK_INT(login_rc(http_json(200, NULL, "{\"id_token\":\"not-a-jwt\"}")), UTM_ERR_JWT);
    CHECK_INT(login_rc(http_json(200, NULL, "{\"id_token\":\"a.!!!.c\"}")), UTM_ERR_JWT);
    CHECK_INT(login_rc(http_json(200, NULL, "{\"id_token\":\"a.bm90IGpzb24.c\"}")), UTM_ERR_JWT); /* "not json" */
    CHECK(utm_auth_token(&C) == NULL);
    /* a token larger than UTMSTACK_TOKEN_MAX (400 here) is an error, not a truncation */
    memset(big, 'A', sizeof big);
    big[0] = 'x';
    memcpy(big + 10, ".", 1);
    memcpy(big + 400, ".", 1);
    big[sizeof big - 1] = 0;
    {
        char body[800];
        snprintf(body, sizeof body, "{\"id_token\":\"%s\",\"authenticated\":true}", big);
        CHECK_INT(login_rc(http_json(200, NULL, body)), UTM_ERR_TOO_LONG);
        CHECK_STR(utm_last_error(&C), "token longer than UTMSTACK_TOKEN_MAX");
    }
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    /* extra keys in any order, a decoy id_token nested inside */
    {
        char body[1200];
        snprintf(body, sizeof body, "{\"tfaConfigured\":false,\"x\":{\"id_token\":\"decoy\",\"authenticated\":false},"
                                    "\"firstLogin\":false,\"authenticated\":true,\"id_token\":\"%s\"}", make_jwt("v11", Y2K + 60, 1));
        CHECK_INT(login_rc(http_json(200, NULL, body)), UTM_OK);
        CHECK_STR(utm_auth_subject(&C), "v11");
    }
}

static void test_tfa(void)
{
    const char *pre = make_jwt("tfa", Y2K + 300, 0);
    static char first[4000];
    strcpy(first, login_answer(pre, 0));
    strcat(first, "HTTP/1.1 401 Unauthorized\r\nX-UtmStack-error: Invalid verification code\r\nContent-Length: 0\r\n\r\n\x1e");
    strcat(first, login_answer(make_jwt("tfa", Y2K + 86400, 1), 1));
    fake_reset(&F, first);
    client();
    utm_auth_use_password(&C, "tfa", "tfa-pass", 0);
    CHECK_INT(utm_auth_login(&C), UTM_TFA_REQUIRED);
    CHECK(utm_auth_token(&C) == NULL); /* the temporary token is not handed out */
    {
        utm_request_t q;
        utm_response_t r;
        memset(&q, 0, sizeof q);
        q.path = "/api/account";
        CHECK_INT(utm_request(&C, &q, &r), UTM_TFA_REQUIRED); /* nothing sent with a half login */
    }
    CHECK_INT(utm_auth_tfa_verify(&C, "000000"), UTM_ERR_TFA_CODE);
    CHECK_INT(fake_sent_count(&F, "GET /api/tfa/verifyCode?code=000000 HTTP/1.1"), 1);
    CHECK_INT(fake_sent_count(&F, pre), 1); /* with the temporary token */
    CHECK_INT(utm_auth_tfa_verify(&C, "123456"), UTM_OK);
    CHECK(utm_auth_token(&C) != NULL);
    CHECK_INT(utm_auth_expires(&C), Y2K + 86400);
    CHECK_INT(utm_auth_tfa_verify(&C, "123456"), UTM_ERR_STATE);
}

static int tfa_code_fn(void *user, char *buf, size_t size)
{
    (void)user;
    strncpy(buf, "654321", size);
    return 0;
}

static void test_tfa_callback(void)
{
    utm_config_t cfg;
    static char first[4000];
    strcpy(first, login_answer(make_jwt("tfa", Y2K + 300, 0), 0));
    strcat(first, login_answer(make_jwt("tfa", Y2K + 86400, 1), 1));
    strcat(first, http_json(200, NULL, "{}"));
    fake_reset(&F, first);
    utm_client_free(&C);
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "http://utm.test";
    cfg.port = &fake_port;
    cfg.port_ctx = &F;
    cfg.tfa_fn = tfa_code_fn;
    cfg.allow_plain_credentials = 1;
    CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
    utm_auth_use_password(&C, "tfa", "tfa-pass", 0);
    {
        utm_request_t q;
        utm_response_t r;
        memset(&q, 0, sizeof q);
        q.path = "/api/account";
        CHECK_INT(utm_request(&C, &q, &r), UTM_OK); /* login, code, request */
        CHECK_INT(r.status, 200);
    }
    CHECK_INT(fake_sent_count(&F, "code=654321"), 1);
}

static void test_renewal_before_expiry(void)
{
    static char all[6000];
    utm_request_t q;
    utm_response_t r;
    /* server time Y2K (Date header), exp Y2K+100: renewal 60 s before */
    strcpy(all, login_answer(make_jwt("admin", Y2K + 100, 1), 1));
    strcat(all, http_json(200, NULL, "{}"));
    strcat(all, http_json(200, NULL, "{}"));
    strcat(all, login_answer(make_jwt("admin", Y2K + 200, 1), 1));
    strcat(all, http_json(200, NULL, "{}"));
    fake_reset(&F, all);
    client();
    F.wall = 12345; /* a device whose own clock is wrong by decades: the Date header rules */
    utm_auth_use_password(&C, "admin", "s3cret", 0);
    memset(&q, 0, sizeof q);
    q.path = "/api/account";
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK); /* logs in first */
    CHECK_INT(fake_sent_count(&F, "POST /api/authenticate"), 1);
    F.now += 30000; /* 70 s left: still good */
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK_INT(fake_sent_count(&F, "POST /api/authenticate"), 1);
    F.now += 15000; /* 55 s left: renew first */
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK_INT(r.status, 200);
    CHECK_INT(fake_sent_count(&F, "POST /api/authenticate"), 2);
    CHECK_INT(utm_auth_expires(&C), Y2K + 200);
    CHECK_INT(F.conn, 1);
}

static void test_relogin_after_401(void)
{
    static char all[4000];
    utm_request_t q;
    utm_response_t r;
    char body[64];
    const char *t2 = make_jwt("admin", Y2K + 86400, 1);
    strcpy(all, http_json(401, NULL, "{\"status\":401,\"error\":\"Unauthorized\"}"));
    strcat(all, login_answer(t2, 1));
    strcat(all, http_json(200, NULL, "{\"login\":\"admin\"}"));
    fake_reset(&F, all);
    client();
    utm_auth_use_password(&C, "admin", "s3cret", 0);
    CHECK_INT(utm_auth_set_token(&C, make_jwt("admin", Y2K + 86399, 1)), UTM_OK); /* a cached token the server forgot */
    memset(&q, 0, sizeof q);
    q.path = "/api/account";
    q.body_buf = body;
    q.body_size = sizeof body;
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK_INT(r.status, 200);
    CHECK_STR(body, "{\"login\":\"admin\"}"); /* the 401 body was not delivered */
    CHECK_INT(fake_sent_count(&F, "GET /api/account"), 2);
    CHECK_INT(fake_sent_count(&F, t2), 1);
    /* a second 401 is the answer: no loop */
    strcpy(all, http_json(401, NULL, "{}"));
    strcat(all, login_answer(t2, 1));
    strcat(all, http_json(401, NULL, "{}"));
    fake_reset(&F, all);
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK_INT(r.status, 401);
    CHECK_INT(fake_sent_count(&F, "POST /api/authenticate"), 1);
    /* the internal key gets no re-login */
    fake_reset(&F, http_json(401, NULL, "{}"));
    client();
    utm_auth_use_internal_key(&C, "bad");
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK_INT(r.status, 401);
    CHECK_INT(fake_sent_count(&F, "POST /api/authenticate"), 0);
}

static int password_cb(void *user, char *buf, size_t size)
{
    int *calls = (int *)user;
    ++*calls;
    strncpy(buf, "from-callback", size);
    return 0;
}

static void test_password_callback_and_modes(void)
{
    int calls = 0;
    utm_request_t q;
    utm_response_t r;
    static char all[2000];
    strcpy(all, login_answer(make_jwt("admin", Y2K + 86400, 1), 1));
    strcat(all, http_json(200, NULL, "{}"));
    fake_reset(&F, all);
    client();
    CHECK_INT(utm_auth_use_password_fn(&C, "admin", password_cb, &calls, 0), UTM_OK);
    memset(&q, 0, sizeof q);
    q.path = "/api/account";
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK_INT(calls, 1);
    CHECK_INT(fake_sent_count(&F, "\"password\":\"from-callback\""), 1);
    CHECK(memmem(&C, sizeof C, "from-callback", 13) == NULL); /* not kept */
    /* no credentials at all */
    fake_reset(&F, http_json(200, NULL, "{}"));
    client();
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_NO_CREDENTIALS);
    CHECK_INT((int)F.sent_len, 0);
    /* a cached token alone: used, not renewed */
    CHECK_INT(utm_auth_set_token(&C, make_jwt("cached", Y2K + 86400, 1)), UTM_OK);
    CHECK_STR(utm_auth_subject(&C), "cached");
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK_INT(fake_sent_count(&F, "Authorization: Bearer ey"), 1);
    CHECK_INT(utm_auth_set_token(&C, "garbage"), UTM_ERR_JWT);
    CHECK(utm_auth_token(&C) == NULL);
}

static void test_secrets_never_leak(void)
{
    static char all[3000];
    const char *tok = make_jwt("admin", Y2K + 86400, 1);
    utm_request_t q;
    utm_response_t r;
    char sig[16];
    strcpy(all, login_answer(tok, 1));
    strcat(all, http_json(200, NULL, "{}"));
    fake_reset(&F, all);
    fake_script(&F, 1, http_json(200, "Authorization: Bearer zzz-secret-echo\r\n", "{}"));
    client_with("http://utm.test", UTM_LOG_DEBUG);
    utm_auth_use_password(&C, "admin", "Pa55-secret-word", 0);
    memset(&q, 0, sizeof q);
    q.path = "/api/account";
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    strncpy(sig, strrchr(tok, '.') + 1, 8);
    sig[8] = 0;
    CHECK(strstr(logbuf, "> POST /api/authenticate HTTP/1.1") != NULL); /* the log is on */
    CHECK(strstr(logbuf, "Authorization: Bearer ***") != NULL);
    CHECK(strstr(logbuf, "Pa55-secret-word") == NULL);
    CHECK(strstr(logbuf, sig) == NULL);
    CHECK(memmem(C.buf_, sizeof C.buf_, "Pa55-secret-word", 16) == NULL); /* not left in the I/O buffer */
    CHECK(memmem(C.doc_, sizeof C.doc_, sig, 8) == NULL);
    /* the internal key, and a TFA code in a query */
    utm_client_close(&C);
    utm_auth_use_internal_key(&C, "Key-secret-123");
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK(strstr(logbuf, "Utm-Internal-Key: ***") != NULL);
    CHECK(strstr(logbuf, "Key-secret-123") == NULL);
    CHECK(strstr(logbuf, "zzz-secret-echo") == NULL);
    /* free: no byte of any secret remains */
    utm_auth_use_password(&C, "admin", "Pa55-secret-word", 0);
    fake_reset(&F, login_answer(tok, 1));
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    CHECK(memmem(&C, sizeof C, "Pa55-secret-word", 16) != NULL); /* kept for renewal... */
    CHECK(memmem(&C, sizeof C, tok, strlen(tok)) != NULL);
    utm_client_free(&C);
    CHECK(memmem(&C, sizeof C, "Pa55-secret-word", 16) == NULL); /* ...and gone */
    CHECK(memmem(&C, sizeof C, tok, strlen(tok)) == NULL);
    CHECK(memmem(&C, sizeof C, sig, 8) == NULL);
    {
        size_t i, nonzero = 0;
        for (i = 0; i < sizeof C; i++) nonzero += ((unsigned char *)&C)[i] != 0;
        CHECK_INT(nonzero, 0);
    }
    client();
    utm_auth_use_internal_key(&C, "Key-secret-123");
    utm_auth_use_internal_key(&C, "other"); /* replaced: wiped */
    CHECK(memmem(&C, sizeof C, "Key-secret-123", 14) == NULL);
    utm_client_free(&C);
    CHECK(memmem(&C, sizeof C, "other", 5) == NULL);
}

static void test_jwt_edges(void)
{
    fake_reset(&F, NULL);
    client();
    /* base64url with - and _ and no padding; exp as a double; no exp at all */
    CHECK_INT(utm_auth_set_token(&C, "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhPz4_IiwiZXhwIjoxLjVlOX0.sig"), UTM_OK); /* {"sub":"a?>?","exp":1.5e9} */
    CHECK_STR(utm_auth_subject(&C), "a?>?");
    CHECK_INT(utm_auth_expires(&C), 1500000000);
    CHECK_INT(utm_auth_set_token(&C, "a.e30.c"), UTM_OK); /* {} */
    CHECK_INT(utm_auth_expires(&C), 0);
    CHECK_INT(utm_auth_set_token(&C, "a.e30"), UTM_ERR_JWT);
    CHECK_INT(utm_auth_set_token(&C, "a.e30.c.d"), UTM_ERR_JWT);
    CHECK_INT(utm_auth_set_token(&C, ".e30.c"), UTM_ERR_JWT);
    CHECK_INT(utm_auth_set_token(&C, "a.e.c"), UTM_ERR_JWT);
    CHECK_INT(utm_auth_set_token(&C, "a.W10.c"), UTM_ERR_JWT); /* [] */
    { /* exp in every form JSON allows, read without floating point */
        static const struct { const char *exp; long long want; } e[] = {
            { "1500000000", 1500000000 }, { "15e8", 1500000000 }, { "0.15E10", 1500000000 },
            { "1500000000.99", 1500000000 }, { "1.5e+9", 1500000000 }, { "150000000000e-2", 1500000000 },
            { "0.000000000000000000000000001500000000e36", 1500000000 }, { "1234567890123456789012e-13", 123456789 },
            { "9e15", 9000000000000000LL }, { "9.1e15", 0 }, { "1e300", 0 }, { "-5", -5 }, { "0", 0 },
            { "1e-400", 0 }, { "\"1500000000\"", 0 } };
        char payload[100], tok[200];
        size_t k;
        for (k = 0; k < sizeof e / sizeof e[0]; k++) {
            strcpy(payload, "{\"exp\":");
            strcat(strcat(payload, e[k].exp), "}");
            strcpy(tok, "a.");
            b64url(payload, strlen(payload), tok + 2);
            strcat(tok, ".c");
            CHECK_INT(utm_auth_set_token(&C, tok), UTM_OK);
            if (utm_auth_expires(&C) != e[k].want) fprintf(stderr, "  exp %s\n", e[k].exp);
            CHECK_INT(utm_auth_expires(&C), e[k].want);
        }
    }
}

static int no_password(void *user, char *buf, size_t size)
{
    (void)user; (void)buf; (void)size;
    return -1;
}

static int bad_entropy(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx; (void)buf; (void)len;
    return -1;
}

/* Sources that "succeed" with output a stuck RNG gives: one byte value, or
 * a short pattern of STUCK_PERIOD bytes. */
static size_t STUCK_PERIOD;
static int stuck_entropy(void *ctx, unsigned char *buf, size_t len)
{
    size_t i;
    (void)ctx;
    for (i = 0; i < len; i++) buf[i] = (unsigned char)(0xa0 + i % STUCK_PERIOD);
    return 0;
}

static void test_small_paths(void)
{
    utm_config_t cfg;
    utm_port_t port = fake_port;
    char s[32];
    utm_json_token_t tok[4];
    utm_json_t j;
    utm_filter_t f;
    char out[128];
    /* IP address literals (a server named by address gets no SNI and is
     * matched against iPAddress entries only) */
    {
        static const struct { const char *s; size_t n; unsigned char last, first; } ip[] = {
            { "127.0.0.1", 4, 1, 127 }, { "::1", 16, 1, 0 }, { "::", 16, 0, 0 }, { "fe80::1:2", 16, 2, 0xfe },
            { "1:2:3:4:5:6:7:8", 16, 8, 0 }, { "::ffff:10.0.0.5", 16, 5, 0 }, { "2001:db8::", 16, 0, 0x20 },
            { "256.0.0.1", 0, 0, 0 }, { "1.2.3", 0, 0, 0 }, { "1.2.3.4.5", 0, 0, 0 }, { "1:2:3:4:5:6:7:8:9", 0, 0, 0 },
            { "1::2::3", 0, 0, 0 }, { ":1", 0, 0, 0 }, { "1:", 0, 0, 0 }, { "12345::", 0, 0, 0 }, { "localhost", 0, 0, 0 },
            { "1.2.3.4x", 0, 0, 0 }, { "", 0, 0, 0 }, { "1:2:3:4:5:6:7::8", 0, 0, 0 },
        };
        unsigned char b[16];
        size_t i, n;
        for (i = 0; i < sizeof ip / sizeof ip[0]; i++) {
            n = utm__parse_ip(ip[i].s, b);
            if (n != ip[i].n) fprintf(stderr, "  ip %s -> %u\n", ip[i].s, (unsigned)n);
            CHECK_INT(n, ip[i].n);
            if (n && n == ip[i].n) CHECK(b[n - 1] == ip[i].last && b[0] == ip[i].first);
        }
    }
    /* HTTP dates: the three forms a recipient must accept (RFC 9110 5.6.7) */
    CHECK_INT(utm__http_date("Sun, 06 Nov 1994 08:49:37 GMT", 29, 0), 784111777);
    CHECK_INT(utm__http_date("Sat, 01 Jan 2000 00:00:00 GMT", 29, 0), Y2K);
    CHECK_INT(utm__http_date("Sun, 06 Foo 1994 08:49:37 GMT", 29, 0), -1);
    CHECK_INT(utm__http_date("Sun, 32 Nov 1994 08:49:37 GMT", 29, 0), -1);
    CHECK_INT(utm__http_date("Sun, 06 Nov 1994 24:49:37 GMT", 29, 0), -1);
    CHECK_INT(utm__http_date("Sunday, 06-Nov-94 08:49:37 GMT", 30, 0), 784111777);
    CHECK_INT(utm__http_date("Sun Nov  6 08:49:37 1994", 24, 0), 784111777);
    CHECK_INT(utm__http_date("Sat Jan 01 00:00:00 2000", 24, 0), Y2K);
    CHECK_INT(utm__http_date("Wednesday, 01-Jan-00 00:00:00 GMT", 33, 0), Y2K);
    { /* two-digit years: the century of now, unless that is more than 50 years ahead */
        const int64_t now = 1796083200; /* 2026-12-01 */
        CHECK_INT(utm__http_date("Sunday, 06-Nov-94 08:49:37 GMT", 30, now), 784111777);      /* 2094: back to 1994 */
        CHECK_INT(utm__http_date("Tuesday, 01-Dec-26 00:00:00 GMT", 31, now), now);           /* 2026 */
        CHECK_INT(utm__http_date("Thursday, 01-Jan-70 00:00:00 GMT", 32, now), 3155760000LL); /* 2070: 44 years on */
        CHECK_INT(utm__http_date("Thursday, 01-Jan-70 00:00:00 GMT", 32, 0), 0);              /* no clock: 1970 */
        CHECK_INT(utm__http_date("Monday, 01-Jan-77 00:00:00 GMT", 30, now), 220924800);      /* 2077: back to 1977 */
        /* at a century's first second and the one before it */
        CHECK_INT(utm__http_date("Saturday, 01-Jan-00 00:00:00 GMT", 32, Y2K), Y2K);
        CHECK_INT(utm__http_date("Friday, 31-Dec-99 23:59:59 GMT", 30, Y2K - 1), Y2K - 1);
        CHECK_INT(utm__http_date("Saturday, 01-Jan-00 00:00:00 GMT", 32, Y2K - 1), Y2K); /* 2000, a second ahead */
    }
    { /* each form's separators, and none mixed with another's */
        static const char *const bad[] = {
            "Sunday, 06-Nov-94 08:49:37 UTC", "Sunday, 06 Nov 94 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37GMT ", "Sunday,06-Nov-94 08:49:37 GMT ", "Sunday, 06-Nov-9x 08:49:37 GMT",
            "Sun Nov  6 08:49:37 94  ", "Sun Nov 6 08:49:37 1994 ", "Sun Nov  6 08-49:37 1994", "Sun Nov 06 08:49:37 199x",
            "Sun Nov  6 08:49:37 1994 GMT", "Sun Foo  6 08:49:37 1994", "Sun Nov  0 08:49:37 1994", ", 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994x", NULL };
        int k;
        for (k = 0; bad[k]; k++) {
            int64_t v = utm__http_date(bad[k], strlen(bad[k]), 0);
            if (v != -1) fprintf(stderr, "  date %s -> %lld\n", bad[k], (long long)v);
            CHECK(v == -1);
        }
    }
    /* \u escapes: upper-case hex, three-byte UTF-8 */
    CHECK_INT(utm_json_parse(&j, "\"\\u00E9\\u2713\"", 14, tok, 4), UTM_OK);
    CHECK_INT(utm_json_string(&j, 0, s, sizeof s), 5);
    CHECK_STR(s, "\xc3\xa9\xe2\x9c\x93");
    /* a JSON filter value with escapes */
    f.field = "name";
    f.op = UTM_OP_IS;
    f.value = utm_value_json("\"caf\\u00e9 \\\"x\\\"\"");
    CHECK(utm_search_body(&f, 1, out, sizeof out, NULL, 0) > 0);
    f.value = utm_value_json("\"bad \\u12\"");
    CHECK_INT(utm_search_body(&f, 1, out, sizeof out, NULL, 0), UTM_ERR_FILTER);
    /* a password callback that has none */
    fake_reset(&F, NULL);
    client();
    CHECK_INT(utm_auth_use_password_fn(&C, "admin", no_password, NULL, 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_ERR_NO_CREDENTIALS);
    CHECK_INT((int)F.sent_len, 0);
    /* TLS without entropy, or with a failing source */
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "https://utm.test";
    cfg.port = &port;
    cfg.port_ctx = &F;
    port.entropy_fn = NULL;
    utm_client_free(&C);
    CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_ENTROPY);
    port.entropy_fn = bad_entropy;
    utm_client_free(&C);
    CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_ENTROPY);
    CHECK(strstr(utm_last_error(&C), "entropy") != NULL);
    utm_client_free(&C);
    /* a reseed that fails mid-session is an entropy error, not a generic TLS one */
    CHECK_INT(client(), UTM_OK);
#ifdef UTM__MBEDTLS4
    CHECK_INT(utm__tls_fail(&C, PSA_ERROR_INSUFFICIENT_ENTROPY), UTM_ERR_ENTROPY);
#else
    CHECK_INT(utm__tls_fail(&C, MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED), UTM_ERR_ENTROPY);
#endif
    CHECK(strstr(utm_last_error(&C), "entropy") != NULL);
    utm_client_free(&C);
    port.entropy_fn = stuck_entropy;
    for (STUCK_PERIOD = 1; STUCK_PERIOD <= 8; STUCK_PERIOD++) {
        CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_ENTROPY);
        CHECK(strstr(utm_last_error(&C), "repeats") != NULL);
        utm_client_free(&C);
    }
    /* CA from a buffer: PEM (its NUL counted), and garbage. A P-256 CA made
     * for this test: the lean on-chip configuration has no SHA-1, which the
     * first certificates of the system bundle need. */
    {
        static const char pem[] =
            "-----BEGIN CERTIFICATE-----\n"
            "MIIBmDCCAT2gAwIBAgIUQcuInOtMYopZvPW/wIMy/thNo5kwCgYIKoZIzj0EAwIw\n"
            "IDEeMBwGA1UEAwwVdXRtc3RhY2sgdW5pdCB0ZXN0IENBMCAXDTI2MTEyNzEwMTYw\n"
            "NVoYDzIxMjYxMTAzMTAxNjA1WjAgMR4wHAYDVQQDDBV1dG1zdGFjayB1bml0IHRl\n"
            "c3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAART9j2Pf2XYMnT71ef7kBJ0\n"
            "pgXjdmH847mMJVRPXl1xqN9r9VFFUNu0XbVqCh9e8D1+uY7Q/pPxclIu/9esn7LI\n"
            "o1MwUTAdBgNVHQ4EFgQUidlIB+esu9EvcEhe2IAB0BOBp0swHwYDVR0jBBgwFoAU\n"
            "idlIB+esu9EvcEhe2IAB0BOBp0swDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQD\n"
            "AgNJADBGAiEA5uIMbS9g9dFaRT+Ums4QGLpVQrTGlT4q4XiD6jd3tFMCIQDIYYbd\n"
            "My9hKxGZtSuGxc0sHGihIxzcEwsQZn/ukcGDtw==\n"
            "-----END CERTIFICATE-----\n";
        cfg.ca = (const unsigned char *)pem;
        cfg.ca_len = sizeof pem;
        port.entropy_fn = fake_port.entropy_fn;
        CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
        utm_client_free(&C);
        cfg.ca_len = sizeof pem - 1; /* its NUL not counted (strlen): PEM all the same */
        CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
        utm_client_free(&C);
        {   /* two of them in a bundle with text around, and no NUL */
            static char two[sizeof pem * 2 + 64];
            size_t n = (size_t)sprintf(two, "# bundle\n%s\ntext between\n%s", pem, pem);
            cfg.ca = (const unsigned char *)two;
            cfg.ca_len = n;
            CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
            utm_client_free(&C);
            cfg.ca_len = n - 30; /* the last one cut short: the first still loads */
            CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
            utm_client_free(&C);
            cfg.ca_len = 40; /* only the start of the first: nothing */
            CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_TLS_CA);
            utm_client_free(&C);
            cfg.ca = (const unsigned char *)pem;
        }
        cfg.ca_len = 0; /* a CA with no length is a mistake, not "no CA" */
        CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_ARG);
        utm_client_free(&C);
        cfg.ca = (const unsigned char *)"not a certificate";
        cfg.ca_len = 18;
        CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_TLS_CA);
        utm_client_free(&C);
        cfg.insecure = 1; /* no CA at all is allowed only when insecure */
        CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
        utm_client_free(&C);
    }
}


static int abort_header(void *user, const char *name, size_t nn, const char *value, size_t vn)
{
    (void)user; (void)value; (void)vn;
    return nn == 6 && memcmp(name, "X-Stop", 6) == 0;
}

/* Every public call with what it must refuse, and the client usable after. */
static void test_api_edges(void)
{
    static const char *const bad_urls[] = { "https://a b", "https://a\x01", "https://x/p?q", "https://x/p#f", NULL };
    utm_config_t cfg;
    utm_port_t port = fake_port;
    utm_request_t q;
    utm_response_t r;
    utm_param_t qp[2];
    utm_search_t s;
    utm_search_result_t sr;
    const char *sorts[2] = { "a,asc", NULL };
    char buf[256], big_host[300];
    uint32_t left = 7;
    int i;
    /* the port table: each required function */
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "http://utm.test";
    cfg.port = &port;
    cfg.port_ctx = &F;
    for (i = 0; i < 5; i++) {
        port = fake_port;
        if (i == 0) port.connect_fn = NULL;
        if (i == 1) port.send_fn = NULL;
        if (i == 2) port.recv_fn = NULL;
        if (i == 3) port.close_fn = NULL;
        if (i == 4) port.now_ms_fn = NULL;
        CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_ARG);
        utm_client_free(&C);
    }
    port = fake_port;
    cfg.url = NULL;
    CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_URL);
    utm_client_free(&C);
    for (i = 0; bad_urls[i]; i++) {
        cfg.url = bad_urls[i];
        CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_URL);
        utm_client_free(&C);
    }
    memset(big_host, 'h', sizeof big_host);
    memcpy(big_host, "http://", 7);
    big_host[sizeof big_host - 1] = 0;
    cfg.url = big_host;
    CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_URL);
    utm_client_free(&C);
    cfg.url = "http://utm.test";
    cfg.servername = "";
    CHECK(utm_client_init(&C, &cfg) != UTM_OK);
    utm_client_free(&C);
    cfg.servername = "a\nb";
    CHECK(utm_client_init(&C, &cfg) != UTM_OK);
    utm_client_free(&C);
    cfg.servername = big_host + 7;
    CHECK(utm_client_init(&C, &cfg) != UTM_OK);
    utm_client_free(&C);

    /* requests refused before anything is sent */
    fake_reset(&F, http_json(200, NULL, "{}"));
    client();
    memset(&q, 0, sizeof q);
    CHECK_INT(utm_request(&C, NULL, &r), UTM_ERR_ARG);
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG); /* no path */
    q.path = "api";
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG);
    q.path = "/a";
    q.body_len = 3;
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG); /* a length and no body */
    q.body_len = 0;
    q.body_buf = buf;
    q.body_size = 0;
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG);
    q.body_buf = NULL;
    q.content_type = "text/plain\r\nX: y";
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_HEADER_VALUE);
    q.content_type = NULL;
    q.query_count = 1;
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG); /* a count and no table */
    qp[0].name = "";
    qp[0].value = "x";
    q.query = qp;
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG);
    qp[0].name = NULL;
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG);
    CHECK_INT((int)F.sent_len, 0);
    q.query_count = 0;
    q.query = NULL;
    for (i = 0; i < 5; i++) { /* the methods that may be sent twice */
        static const char *const m[] = { "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH" };
        fake_reset(&F, http_json(200, NULL, "{}"));
        q.method = m[i];
        q.flags = UTM_REQ_NO_AUTH;
        CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
        CHECK_INT(fake_sent_count(&F, m[i]), 1);
    }
    q.method = NULL;
    /* a header callback that stops the answer */
    fake_reset(&F, "HTTP/1.1 200 OK\r\nX-Stop: 1\r\nContent-Length: 2\r\n\r\n{}");
    q.on_header = abort_header;
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ABORTED);
    q.on_header = NULL;

    /* searches refused before anything is sent */
    memset(&s, 0, sizeof s);
    CHECK_INT(utm_search(&C, &s, &sr), UTM_ERR_ARG);
    s.index_pattern = "";
    CHECK_INT(utm_search(&C, &s, &sr), UTM_ERR_ARG);
    s.index_pattern = "alert-*";
    CHECK_INT(utm_search(&C, &s, NULL), UTM_ERR_ARG);
    s.sort_count = 1;
    CHECK_INT(utm_search(&C, &s, &sr), UTM_ERR_ARG); /* a count and no table */
    s.sort = sorts;
    s.sort_count = 2;
    CHECK_INT(utm_search(&C, &s, &sr), UTM_ERR_ARG); /* a NULL entry */
    CHECK_INT(utm_search_all(&C, &s, &sr), UTM_ERR_ARG);
    CHECK_INT(utm_search_body(NULL, 1, buf, sizeof buf, NULL, 0), UTM_ERR_ARG);
    CHECK_INT(utm_search_body(NULL, 0, NULL, 8, NULL, 0), UTM_ERR_ARG);
    CHECK_INT(utm_search_body(NULL, 0, buf, 0, NULL, 0), UTM_ERR_ARG);
    CHECK_INT(utm_search_body(NULL, 0, buf, 2, NULL, 0), UTM_ERR_TOO_LONG);
    CHECK_INT(utm_search_body(NULL, 0, buf, sizeof buf, NULL, 0), 2);
    CHECK_STR(buf, "[]");

    /* the auth calls on a client that is not one, and their own refusals */
    CHECK_INT(utm_auth_use_password(NULL, "a", "b", 0), UTM_ERR_ARG);
    CHECK_INT(utm_auth_use_password(&C, NULL, "password", 0), UTM_ERR_ARG);
    CHECK_INT(utm_auth_use_password(&C, "", "password", 0), UTM_ERR_ARG);
    CHECK_INT(utm_auth_use_password_fn(&C, "admin", NULL, NULL, 0), UTM_ERR_ARG);
    CHECK_INT(utm_auth_use_bearer(&C, "a b"), UTM_ERR_HEADER_VALUE);
    CHECK_INT(utm_auth_use_bearer(NULL, "ab"), UTM_ERR_ARG);
    CHECK_INT(utm_auth_use_internal_key(NULL, "k"), UTM_ERR_ARG);
    CHECK_INT(utm_auth_set_token(NULL, "a.b.c"), UTM_ERR_ARG);
    CHECK_INT(utm_auth_set_token(&C, "a b.c.d"), UTM_ERR_HEADER_VALUE);
    CHECK(utm_auth_token(NULL) == NULL);
    CHECK_STR(utm_auth_subject(NULL), "");
    CHECK(utm_auth_expires(NULL) == 0);
    CHECK_INT(utm_auth_refused(NULL, &left), 0);
    CHECK_INT((int)left, 0);
    CHECK_INT(utm_auth_refused(&C, NULL), 0);
    CHECK_INT(utm_auth_check(&C, NULL, 8), UTM_ERR_ARG);
    CHECK_INT(utm_auth_check(&C, buf, 0), UTM_ERR_ARG);
    CHECK_INT(utm_auth_check(NULL, buf, 8), UTM_ERR_ARG);
    CHECK_INT(utm_auth_login(NULL), UTM_ERR_ARG);
    CHECK_INT(utm_auth_tfa_verify(NULL, "1"), UTM_ERR_ARG);
    utm_auth_clear(NULL);
    CHECK_INT((int)utm_backoff_ms(NULL, 3, 100, 5000), 5000);
    utm_client_stats(NULL, NULL);
    utm_client_close(NULL);
    CHECK_STR(utm_last_error(NULL), "");
    /* and still usable */
    fake_reset(&F, http_json(200, NULL, "{}"));
    CHECK_INT(get("/x", buf, sizeof buf, &r), UTM_OK);
    CHECK_INT(r.status, 200);
}

/* Response headers the reader interprets, in their less common forms. */
static void test_header_forms(void)
{
    utm_response_t r;
    char body[64];
    /* Link with quoted and unquoted rel, several links, page past the limit;
     * X-Total-Count too large for int64; Retry-After as a date */
    fake_reset(&F, "HTTP/1.1 200 OK\r\nLink: <https://x/api?page=3&size=20>; rel=\"next\",<https://x/api?size=2&page=9>; "
                   "rel=last, <https://x/api?page=1>; rel=\"first\"\r\nX-Total-Count: 99999999999999999999\r\n"
                   "Retry-After: Sat, 01 Jan 2000 00:00:30 GMT\r\nDate: Sat, 01 Jan 2000 00:00:00 GMT\r\n"
                   "Set-Cookie: secret=1\r\nProxy-Authorization: x\r\nCookie: y\r\nX-Tabs: \t a b \t\r\n"
                   "Content-Length: 2\r\n\r\n{}");
    client_with("http://utm.test:8080", UTM_LOG_DEBUG);
    CHECK_INT(get("/x", body, sizeof body, &r), UTM_OK);
    CHECK(r.total_count == -1); /* not representable: not sent, as far as we know */
    CHECK(utm_backoff_ms(&C, 0, 10, 100) >= 30000);
    CHECK(strstr(logbuf, "secret=1") == NULL && strstr(logbuf, "Set-Cookie: ***") != NULL);
    CHECK(strstr(logbuf, "Proxy-Authorization: ***") != NULL && strstr(logbuf, "Cookie: ***") != NULL);
    /* a header with a control byte, an empty name, a 1xx flood */
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nX-A: a\x01" "b\r\nContent-Length: 0\r\n\r\n"), UTM_ERR_HTTP_HEADER);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n"), UTM_ERR_HTTP_HEADER);
    CHECK_INT(get_status("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
                         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
                         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
                         "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), UTM_ERR_HTTP_STATUS_LINE);
    CHECK_INT(get_status("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"), 204);
    /* names that only begin like ours are other headers; a length of 20 digits is no length */
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nContent-Lengthy: 5\r\nTransfer-Encodingz: x\r\nContent-Length: 0\r\n\r\n"), 200);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nContent-Length: 00000000000000000001\r\n\r\nx"), UTM_ERR_HTTP_CONTENT_LENGTH);
    /* DEL in a path is refused; a long path and a tab in a value reach the log cut and cleaned */
    fake_reset(&F, "HTTP/1.1 200 OK\r\nX-Tab: a\tb\r\nContent-Length: 0\r\n\r\n");
    client_with("http://utm.test:8080", UTM_LOG_DEBUG);
    CHECK_INT(get("/a\x7f", body, sizeof body, &r), UTM_ERR_ARG);
    {
        static char longpath[700];
        memset(longpath, 'p', sizeof longpath - 1);
        longpath[0] = '/';
        CHECK_INT(get(longpath, body, sizeof body, &r), UTM_OK);
        CHECK(strstr(logbuf, "X-Tab: a?b") != NULL);
    }
    /* list headers with empty items and padding; a coding that is not chunked; a
     * Retry-After that is neither; DEL in a value; blank lines before the status */
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nConnection: , keep-alive \t,\r\nContent-Length: 0\r\n\r\n"), 200);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx"), UTM_ERR_HTTP_TRANSFER_ENCODING);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: , \r\n\r\nxx"), UTM_ERR_HTTP_TRANSFER_ENCODING);
    fake_reset(&F, "HTTP/1.1 200 OK\r\nX-Total-Count: 9223372036854775808\r\nContent-Length: 0\r\n\r\n\x1e"
                   "HTTP/1.1 200 OK\r\nX-Total-Count: 12x\r\nContent-Length: 0\r\n\r\n\x1e"
                   "HTTP/1.1 200 OK\r\nX-Total-Count: 9223372036854775807\r\nContent-Length: 0\r\n\r\n");
    client();
    CHECK_INT(get("/x", body, sizeof body, &r), UTM_OK);
    CHECK(r.total_count == -1); /* past int64: not a count we can hold */
    CHECK_INT(get("/x", body, sizeof body, &r), UTM_OK);
    CHECK(r.total_count == -1);
    CHECK_INT(get("/x", body, sizeof body, &r), UTM_OK);
    CHECK(r.total_count == INT64_MAX);
    CHECK_INT(get_status("HTTP/1.1 503 X\r\nRetry-After: soon\r\nContent-Length: 0\r\n\r\n"), 503);
    CHECK(utm_backoff_ms(&C, 0, 10, 100) <= 10);
    CHECK_INT(get_status("HTTP/1.1 200 OK\r\nX-A: a\x7f\r\nContent-Length: 0\r\n\r\n"), UTM_ERR_HTTP_HEADER);
    CHECK_INT(get_status("\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"), 204);
    CHECK_INT(get_status("\r\n\r\n\r\n\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"), UTM_ERR_HTTP_STATUS_LINE);
    /* Link: pages too large to be one, no page at all, other rels */
    fake_reset(&F, "HTTP/1.1 200 OK\r\nLink: <https://x/a?page=123456789012&size=1>; rel=\"next\", <https://x/a?size=1>; "
                   "rel=\"last\", <https://x/a?page=2>; rel=\"prev\", <https://x/a?page=2\r\nContent-Length: 0\r\n\r\n");
    client();
    CHECK_INT(get("/x", body, sizeof body, &r), UTM_OK);
    /* paths: the characters kept, the ones encoded, dot segments however spelt */
    fake_reset(&F, http_json(200, NULL, "{}"));
    CHECK_INT(get("/a~b@c,d:e*f!g$h", body, sizeof body, &r), UTM_OK);
    CHECK_INT(fake_sent_count(&F, "GET /a~b@c,d:e*f!g$h HTTP/1.1"), 1);
    {
        utm_request_t q;
        utm_param_t qp = { "v", "~@,:*/!$ A-Z_0.9" };
        memset(&q, 0, sizeof q);
        q.path = "/q";
        q.query = &qp;
        q.query_count = 1;
        q.flags = UTM_REQ_NO_AUTH;
        fake_reset(&F, http_json(200, NULL, "{}"));
        CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
        CHECK_INT(fake_sent_count(&F, "GET /q?v=~@,:*/%21%24%20A-Z_0.9 HTTP/1.1"), 1);
    }
    CHECK_INT(get("/a/%2e%2E/b", body, sizeof body, &r), UTM_ERR_ARG);
    CHECK_INT(get("/a/.%2e/b", body, sizeof body, &r), UTM_ERR_ARG);
    fake_reset(&F, http_json(200, NULL, "{}"));
    CHECK_INT(get("/a/%2f/%2x/b", body, sizeof body, &r), UTM_OK);
    /* a client that is not one has no last error */
    {
        static utm_client_t zero;
        utm_stats_t st;
        uint32_t left = 5;
        CHECK_STR(utm_last_error(&zero), "");
        CHECK_INT((int)utm_backoff_ms(&zero, 1, 10, 777), 777);
        utm_client_stats(&zero, &st);
        CHECK_INT((int)st.connects, 0);
        utm_client_close(&zero);
        utm_auth_clear(&zero);
        CHECK_INT(utm_auth_refused(&zero, &left), 0);
        CHECK(utm_auth_token(&zero) == NULL);
        CHECK_INT(utm_auth_login(&zero), UTM_ERR_ARG);
        CHECK_INT(utm_auth_use_internal_key(&C, NULL), UTM_ERR_ARG);
    }
    /* HTTP/1.0 without a length: the body runs to the close */
    CHECK_INT(get_status("HTTP/1.0 200 OK\r\n\r\n{}"), 200);
}


/* Filter values given as JSON text, and doubles formatted at their edges. */
static void test_filter_value_edges(void)
{
    static const char *const good[] = { "1", "-0.5e+3", "true", "false", "\"a\\u00e9\\n\"", "[1, 2 ,3]", " [ \"a\" ] ",
                                        "\t\"x\"\r\n", "[true,false]", NULL };
    static const char *const bad[] = { "", "nul", "tru", "fals", "\"a", "\"a\x01\"", "\"\\x\"", "\"\\", "\"\xc3\"",
                                       "[1,]", "[1 2]", "[", "[1", "[[1]]", "[{}]", "{}", "1 2", "01", "1.", "-", "+1",
                                       "[1,\"a\"x]", "\"a\" x", NULL };
    static const double dbl[] = { 0.1, 1e300, -1e-300, 9.999999999999999e22, 9007199254740993.0, 0.99999999999999994,
                                  5e-324, 1.7976931348623157e308, 123456789.0, 0.5, 2.5, 1e21, 1e22, 999999999999999900000.0 };
    utm_filter_t f;
    utm_value_t items[2];
    char out[400], why[200], expect[64];
    int i;
    memset(&f, 0, sizeof f);
    f.field = "x";
    f.op = UTM_OP_IS;
    for (i = 0; good[i]; i++) {
        f.value = utm_value_json(good[i]);
        if (utm_search_body(&f, 1, out, sizeof out, why, sizeof why) <= 0) fprintf(stderr, "  good json value %s: %s\n", good[i], why);
        CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
    }
    for (i = 0; bad[i]; i++) {
        f.value = utm_value_json(bad[i]);
        CHECK_INT(utm_search_body(&f, 1, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    }
    f.value = utm_value_json(NULL);
    CHECK_INT(utm_search_body(&f, 1, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    f.value = utm_value_string(NULL);
    CHECK_INT(utm_search_body(&f, 1, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    f.value = utm_value_string("\xff");
    CHECK_INT(utm_search_body(&f, 1, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    f.value = utm_value_bool(1);
    CHECK(utm_search_body(&f, 1, out, sizeof out, NULL, 0) > 0 && strstr(out, "\"value\":true") != NULL);
    f.value = utm_value_bool(0);
    CHECK(utm_search_body(&f, 1, out, sizeof out, NULL, 0) > 0 && strstr(out, "\"value\":false") != NULL);
    f.value.type = 99; /* not a value type */
    CHECK_INT(utm_search_body(&f, 1, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    CHECK_INT(utm_search_body(&f, 1, out, sizeof out, NULL, 5), UTM_ERR_FILTER); /* no room for why: none written */
    {
        static const char *const not_utf8[] = { "\xc3(", "\xe0\x80\x80", "\xed\xa0\x80", "\xf0\x80\x80\x80",
                                                "\xf4\x90\x80\x80", "\xe2\x9c", "\xf0\x9f\x94", "\x80", "\xf8\x88\x80\x80\x80", NULL };
        static const char *const utf8[] = { "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xf0\x90\x80\x80",
                                            "\xf4\x8f\xbf\xbf", "\xc2\x80", NULL };
        f.value = utm_value_int(1);
        for (i = 0; not_utf8[i]; i++) {
            f.field = not_utf8[i];
            CHECK_INT(utm_search_body(&f, 1, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
            CHECK(strstr(why, "UTF-8") != NULL);
        }
        for (i = 0; utf8[i]; i++) {
            f.field = utf8[i];
            CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0);
        }
    }
    /* lists: no table for a count, an item that is no scalar */
    f.field = "x";
    f.op = UTM_OP_IS_ONE_OF;
    f.value = utm_value_list(NULL, 2);
    CHECK_INT(utm_search_body(&f, 1, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    items[0] = utm_value_int(1);
    items[1] = utm_value_json("[1]");
    f.value = utm_value_list(items, 2);
    CHECK_INT(utm_search_body(&f, 1, out, sizeof out, why, sizeof why), UTM_ERR_FILTER);
    items[1] = utm_value_bool(1);
    CHECK(utm_search_body(&f, 1, out, sizeof out, why, sizeof why) > 0 && strstr(out, "[1,true]") != NULL);
    f.value = utm_value_json("1");
    CHECK_INT(utm_search_body(&f, 1, out, sizeof out, why, sizeof why), UTM_ERR_FILTER); /* a list operator */
    /* doubles: the shortest text that reads back, as %.17g would round */
    f.op = UTM_OP_IS;
    for (i = 0; i < (int)(sizeof dbl / sizeof dbl[0]); i++) {
        const char *v;
        double back;
        f.value = utm_value_double(dbl[i]);
        CHECK(utm_search_body(&f, 1, out, sizeof out, NULL, 0) > 0);
        v = strstr(out, "\"value\":");
        CHECK(v != NULL);
        if (!v) continue;
        back = strtod(v + 8, NULL);
        CHECK(back == dbl[i]);
        /* and %.17g's digits, where this libc prints them exactly (glibc, newlib;
         * newlib-nano prints none, picolibc rounds some otherwise) */
        snprintf(expect, sizeof expect, "%.17g", 5e-324);
        if (strcmp(expect, "4.9406564584124654e-324") != 0) continue;
        snprintf(expect, sizeof expect, "%.17g", dbl[i]);
        CHECK(strncmp(v + 8, expect, strlen(expect)) == 0);
    }
}

static int stop_at_two(void *user, const utm_json_t *doc, uint64_t index)
{
    (void)user; (void)doc;
    return index == 1;
}

/* Searches through every page rule, and documents that are not objects. */
static void test_search_edges(void)
{
    utm_search_t s;
    utm_search_result_t r;
    memset(&s, 0, sizeof s);
    s.index_pattern = "alert-*";
    /* an array of scalars: each a document (numbers, literals, strings) */
    fake_reset(&F, http_json(200, "X-Total-Count: 6\r\n", "[ 1 , -2.5e3,true ,false, null,\"s\" ]"));
    client();
    utm_auth_use_internal_key(&C, "k3y");
    CHECK_INT(utm_search(&C, &s, &r), UTM_OK);
    CHECK(r.docs == 6);
    /* defaults: size 20, top 10000; a short page ends utm_search_all */
    fake_reset(&F, http_json(200, NULL, "[{\"a\":1},{\"a\":2}]"));
    CHECK_INT(utm_search_all(&C, &s, &r), UTM_OK);
    CHECK(r.docs == 2 && r.pages == 1);
    CHECK_INT(fake_sent_count(&F, "size=20"), 1);
    /* on_doc stops the search: no more pages */
    s.size = 2;
    s.on_doc = stop_at_two;
    fake_reset(&F, http_json(200, NULL, "[{\"a\":1},{\"a\":2}]"));
    CHECK_INT(utm_search_all(&C, &s, &r), UTM_OK);
    CHECK(r.stopped == 1 && r.docs == 2 && r.pages == 1);
    s.on_doc = NULL;
    /* a page past top asks for nothing and delivers nothing */
    s.page = 3;
    s.top = 4;
    fake_reset(&F, http_json(200, NULL, "[]"));
    CHECK_INT(utm_search(&C, &s, &r), UTM_OK);
    CHECK(r.docs == 0);
    s.page = 0;
    s.top = 0;
    /* an error status on the second page ends the walk with it */
    fake_reset(&F, "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n[{\"a\":1},{\"a\":2}]\x1e"
                   "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
    CHECK_INT(utm_search_all(&C, &s, &r), UTM_ERR_HTTP_STATUS);
    CHECK(r.docs == 2 && r.status == 302);
}

/* The auth layer's own limits: user, password, code, token, login answer. */
static void test_auth_edges(void)
{
    static char long_user[64], long_pass[120];
    memset(long_user, 'u', 51);
    memset(long_pass, 'p', 101);
    fake_reset(&F, "");
    client();
    CHECK_INT(utm_auth_use_password(&C, long_user, "password", 0), UTM_ERR_TOO_LONG);
    CHECK_INT(utm_auth_use_password(&C, "a\x01", "password", 0), UTM_ERR_HEADER_VALUE);
    CHECK_INT(utm_auth_use_password(&C, "\xff", "password", 0), UTM_ERR_ARG);
    /* a password too short or too long is refused at login, nothing sent */
    CHECK_INT(utm_auth_use_password(&C, "admin", "abc", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_ERR_ARG);
    CHECK_INT(utm_auth_use_password(&C, "admin", long_pass, 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_ERR_TOO_LONG);
    CHECK_INT(utm_auth_use_password(&C, "admin", "pass\x01word", 0), UTM_ERR_HEADER_VALUE);
    CHECK_INT((int)F.sent_len, 0);
    /* two-factor codes, once the server asked for one */
    CHECK_INT(utm_auth_use_password(&C, "admin", "password", 0), UTM_OK);
    fake_reset(&F, login_answer(make_jwt("admin", Y2K + 300, 0), 0));
    CHECK_INT(utm_auth_login(&C), UTM_TFA_REQUIRED);
    CHECK_INT(utm_auth_tfa_verify(&C, NULL), UTM_ERR_ARG);
    CHECK_INT(utm_auth_tfa_verify(&C, ""), UTM_ERR_ARG);
    CHECK_INT(utm_auth_tfa_verify(&C, "12\n34"), UTM_ERR_ARG);
    /* login answers: a token with a space, authenticated not a boolean, too large */
    CHECK_INT(utm_auth_use_password(&C, "admin", "password", 0), UTM_OK);
    fake_reset(&F, http_json(200, NULL, "{\"id_token\":\"a b.c.d\"}"));
    CHECK_INT(utm_auth_login(&C), UTM_ERR_TOKEN);
    fake_reset(&F, login_answer(make_jwt("admin", Y2K + 86400, 1), 1));
    {
        static char odd[600];
        snprintf(odd, sizeof odd, "{\"id_token\":\"%s\",\"authenticated\":\"yes\"}", make_jwt("admin", Y2K + 86400, 1));
        fake_reset(&F, http_json(200, "Date: Sat, 01 Jan 2000 00:00:00 GMT\r\n", odd));
        CHECK_INT(utm_auth_login(&C), UTM_OK); /* read as authenticated, as the server's own field name says */
    }
    {
        static char huge[1200];
        memset(huge, ' ', sizeof huge - 1);
        huge[0] = '{';
        huge[sizeof huge - 2] = '}';
        fake_reset(&F, http_json(200, NULL, huge));
        CHECK_INT(utm_auth_login(&C), UTM_ERR_HTTP_BODY_TOO_LARGE);
        CHECK(strstr(utm_last_error(&C), "UTMSTACK_DOC_SIZE") != NULL);
    }
    utm_client_free(&C);
}


/* What the reader keeps as text and the layers above read: Date for the
 * login's clock, Retry-After for the backoff; and the result named by
 * utm_last_error() when nothing more was said. */
static void test_kept_header_texts(void)
{
    utm_request_t q;
    utm_response_t r;
    char body[64];
    uint32_t w;
    /* Retry-After as a date and no Date: the device's own clock, when it has one */
    fake_reset(&F, "HTTP/1.1 503 X\r\nRetry-After: Sat, 01 Jan 2000 00:01:00 GMT\r\nContent-Length: 0\r\n\r\n");
    client();
    F.wall = Y2K;
    CHECK_INT(get("/x", body, sizeof body, &r), UTM_OK);
    w = utm_backoff_ms(&C, 0, 10, 100);
    CHECK(w >= 60000 && w <= 75000);
    F.wall = Y2K + 120; /* the date is past: no wait of the server's, the jitter */
    CHECK(utm_backoff_ms(&C, 0, 10, 100) <= 10);
    F.wall = 0; /* no clock at all: likewise */
    CHECK(utm_backoff_ms(&C, 0, 10, 100) <= 10);
    /* a Date too long to be one is no date */
    fake_reset(&F, "HTTP/1.1 503 X\r\nDate: Saturday, 01-January-2000 00:00:00 Greenwich Mean Time\r\n"
                   "Retry-After: Sat, 01 Jan 2000 00:00:30 GMT\r\nContent-Length: 0\r\n\r\n");
    client();
    F.wall = Y2K;
    CHECK_INT(get("/x", body, sizeof body, &r), UTM_OK);
    w = utm_backoff_ms(&C, 0, 10, 100);
    CHECK(w >= 30000 && w <= 37500);
    /* a login answer without Date: the device's clock; without one either, the
     * server's known lifetimes (24 h; 30 days with remember-me) */
    {
        static char answer[1200];
        snprintf(answer, sizeof answer, "{\"id_token\":\"%s\"}", make_jwt("admin", Y2K + 86400, 1));
        fake_reset(&F, http_json(200, NULL, answer));
        client();
        F.wall = Y2K + 86400 - 30; /* 30 s left by the device's clock: renewal due at once */
        CHECK_INT(utm_auth_use_password(&C, "admin", "password", 0), UTM_OK);
        CHECK_INT(utm_auth_login(&C), UTM_OK);
        CHECK(utm_auth_expires(&C) == Y2K + 86400);
        fake_reset(&F, http_json(200, NULL, answer));
        F.wall = 0;
        CHECK_INT(utm_auth_use_password(&C, "admin", "password", 1), UTM_OK);
        CHECK_INT(utm_auth_login(&C), UTM_OK); /* no clock: the 30 days remember-me gives */
        CHECK(utm_auth_token(&C) != NULL);
    }
    /* a failure with no more to say: utm_last_error() names the result */
    memset(&q, 0, sizeof q);
    q.path = "relative";
    CHECK_INT(utm_request(&C, &q, &r), UTM_ERR_ARG);
    CHECK_STR(utm_last_error(&C), utm_strerror(UTM_ERR_ARG));
    /* a content type of the caller's, sent as given */
    fake_reset(&F, http_json(200, NULL, "{}"));
    q.path = "/x";
    q.method = "POST";
    q.body = "a,b";
    q.body_len = 3;
    q.content_type = "text/csv";
    q.flags = UTM_REQ_NO_AUTH;
    CHECK_INT(utm_request(&C, &q, &r), UTM_OK);
    CHECK_INT(fake_sent_count(&F, "Content-Type: text/csv\r\n"), 1);
    CHECK_STR(utm_last_error(&C), "");
    F.wall = 0;
}

static void test_misuse(void)
{
    utm_config_t cfg;
    utm_search_result_t r;
    utm_search_t s;
    memset(&cfg, 0, sizeof cfg);
    CHECK_INT(utm_client_init(NULL, &cfg), UTM_ERR_ARG);
    CHECK_INT(utm_client_init(&C, NULL), UTM_ERR_ARG);
    cfg.url = "http://x";
    CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_ARG); /* no port */
    utm_client_free(&C);
    utm_client_free(&C); /* twice is harmless */
    CHECK_INT(utm_search(&C, NULL, NULL), UTM_ERR_ARG);
    client();
    memset(&s, 0, sizeof s);
    CHECK_INT(utm_search(&C, &s, &r), UTM_ERR_ARG);
    CHECK_INT(utm_auth_login(&C), UTM_ERR_NO_CREDENTIALS);
    CHECK_INT(utm_auth_tfa_verify(&C, "1"), UTM_ERR_STATE);
    CHECK(utm_last_error(NULL)[0] == 0);
}

int main(void)
{
    RUN(test_strerror_and_version);
    RUN(test_urls);
    RUN(test_request_bytes);
    RUN(test_content_length_splits);
    RUN(test_chunked_splits);
    RUN(test_body_pieces_bounded);
    RUN(test_no_body_cases);
    RUN(test_malformed);
    RUN(test_limits);
    RUN(test_keep_alive);
    RUN(test_retry);
    RUN(test_stale_bytes_never_answer);
    RUN(test_line_ends);
    RUN(test_truncation_and_timeouts);
    RUN(test_json_reads);
    RUN(test_json_invalid);
    RUN(test_json_strict);
    RUN(test_json_string_offsets);
    RUN(test_json_write);
    RUN(test_filters_all_operators);
    RUN(test_filters_rules);
    RUN(test_split_documents);
    RUN(test_split_limits);
    RUN(test_search_request);
    RUN(test_search_all_pages);
    RUN(test_login_body_escaping);
    RUN(test_login_answer_wiped);
    RUN(test_reentry_and_layout);
    RUN(test_refused_login_is_not_retried);
    RUN(test_renewal_spread);
    RUN(test_backoff);
    RUN(test_split_hands_only_valid_documents);
    RUN(test_plain_credentials);
    RUN(test_request_paths);
    RUN(test_login_failures);
    RUN(test_tfa);
    RUN(test_tfa_callback);
    RUN(test_renewal_before_expiry);
    RUN(test_relogin_after_401);
    RUN(test_password_callback_and_modes);
    RUN(test_secrets_never_leak);
    RUN(test_jwt_edges);
    RUN(test_small_paths);
    RUN(test_misuse);
    RUN(test_json_differential);
    RUN(test_json_accessor_edges);
    RUN(test_text_parsers);
    RUN(test_api_edges);
    RUN(test_header_forms);
    RUN(test_filter_value_edges);
    RUN(test_search_edges);
    RUN(test_auth_edges);
    RUN(test_kept_header_texts);
    utm_client_free(&C);
    return CHECK_SUMMARY("unit");
}

/* Integration tests: the POSIX port, TLS with verification on, against the
 * emulators tests/run.sh starts on 127.0.0.1 (ports in UTM_PORT_* variables). */
#define _GNU_SOURCE 1
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_posix.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static utm_client_t C, S; /* S reads the emulators' statistics */
static utm_posix_t NET, SNET;
static char CA[512], ROGUE_CA[512], LOG[1 << 15];
static size_t LOGLEN;

static void log_keep(void *user, int level, const char *msg)
{
    size_t n = strlen(msg);
    (void)user;
    (void)level;
    if (LOGLEN + n + 2 < sizeof LOG) {
        memcpy(LOG + LOGLEN, msg, n);
        LOGLEN += n;
        LOG[LOGLEN++] = '\n';
        LOG[LOGLEN] = 0;
    }
}

static const char *port_of(const char *name)
{
    const char *p = getenv(name);
    if (!p) { fprintf(stderr, "integration: %s not set (run through tests/run.sh)\n", name); exit(2); }
    return p;
}

static const char *url(const char *scheme, const char *host, const char *port_var)
{
    static char buf[4][128];
    static int k;
    char *b = buf[k = (k + 1) & 3];
    snprintf(b, sizeof buf[0], "%s://%s:%s", scheme, host, port_of(port_var));
    return b;
}

typedef struct opts {
    const char *servername, *ca;
    const unsigned char *pin;
    int insecure, no_ca, plain;
    uint32_t renew, timeout;
    const utm_port_t *port; /* the POSIX port unless set */
} opts_t;

static int open_client(utm_client_t *c, utm_posix_t *net, const char *u, const opts_t *o)
{
    utm_config_t cfg;
    utm_client_free(c);
    memset(&cfg, 0, sizeof cfg);
    cfg.url = u;
    cfg.port = o && o->port ? o->port : utm_posix_port();
    cfg.port_ctx = net;
    cfg.ca_file = o && o->no_ca ? NULL : o && o->ca ? o->ca : CA;
    cfg.servername = o ? o->servername : NULL;
    cfg.pin_sha256 = o ? o->pin : NULL;
    cfg.insecure = o ? o->insecure : 0;
    cfg.allow_plain_credentials = o ? o->plain : 0;
    cfg.renew_margin_s = o ? o->renew : 0;
    cfg.request_timeout_ms = o && o->timeout ? o->timeout : 20000;
    cfg.io_timeout_ms = cfg.request_timeout_ms;
    cfg.log_fn = log_keep;
    cfg.log_level = UTM_LOG_INFO;
    LOGLEN = 0;
    LOG[0] = 0;
    return utm_client_init(c, &cfg);
}

static int main_client(void) { return open_client(&C, &NET, url("https", "localhost", "UTM_PORT_MAIN"), NULL); }

/* An emulator's /_emulator/stats as text, read on a client of its own. */
static int stat_text(const char *port_var, char *body, size_t size)
{
    utm_request_t q;
    utm_response_t r;
    int tls = strcmp(port_var, "UTM_PORT_PLAIN") != 0;
    opts_t o;
    memset(&o, 0, sizeof o);
    o.insecure = 1; /* test plumbing: it reads the bad-certificate emulators too */
    if (open_client(&S, &SNET, url(tls ? "https" : "http", "localhost", port_var), &o) != UTM_OK) return -2;
    memset(&q, 0, sizeof q);
    q.path = "/_emulator/stats";
    q.flags = UTM_REQ_NO_AUTH;
    q.body_buf = body;
    q.body_size = size;
    if (utm_request(&S, &q, &r) != UTM_OK || r.status != 200) return -3;
    utm_client_free(&S);
    return 0;
}

/* One counter of an emulator's /_emulator/stats. */
static long long stat_of(const char *port_var, const char *name)
{
    static char body[2048];
    utm_json_token_t tok[64];
    utm_json_t j;
    int64_t v = -1;
    int rc = stat_text(port_var, body, sizeof body);
    if (rc) return rc;
    if (utm_json_parse(&j, body, strlen(body), tok, 64) != UTM_OK) return -4;
    if (utm_json_int(&j, utm_json_find(&j, 0, name), &v) != UTM_OK) return -5;
    return v;
}

static void fault(const char *port_var, const char *json)
{
    utm_request_t q;
    utm_response_t r;
    opts_t o;
    int tls = strcmp(port_var, "UTM_PORT_PLAIN") != 0;
    memset(&o, 0, sizeof o);
    o.insecure = 1;
    open_client(&S, &SNET, url(tls ? "https" : "http", "localhost", port_var), &o);
    memset(&q, 0, sizeof q);
    q.method = "POST";
    q.path = "/_emulator/fault";
    q.flags = UTM_REQ_NO_AUTH;
    q.body = json;
    q.body_len = strlen(json);
    CHECK_INT(utm_request(&S, &q, &r), UTM_OK);
    utm_client_free(&S);
}

typedef struct seen { uint64_t n; char first_id[64]; int severity_ok; char ids[400][40]; } seen_t;

static int count_doc(void *user, const utm_json_t *doc, uint64_t index)
{
    seen_t *s = (seen_t *)user;
    int64_t sev = 0;
    (void)index;
    if (s->n < 400) utm_json_string(doc, utm_json_find(doc, 0, "id"), s->ids[s->n], sizeof s->ids[0]);
    if (s->n == 0) utm_json_string(doc, utm_json_find(doc, 0, "id"), s->first_id, sizeof s->first_id);
    if (utm_json_int(doc, utm_json_find(doc, 0, "severity"), &sev) == UTM_OK && sev == 3) s->severity_ok++;
    s->n++;
    return 0;
}

static int search_high(utm_client_t *c, seen_t *seen, utm_search_result_t *r)
{
    utm_search_t s;
    utm_filter_t f[2];
    utm_value_t range[2];
    static const char *const sort[] = { "@timestamp,desc" };
    memset(&s, 0, sizeof s);
    memset(seen, 0, sizeof *seen);
    range[0] = utm_value_string("now-30d");
    range[1] = utm_value_string("now");
    f[0].field = "severity";
    f[0].op = UTM_OP_IS;
    f[0].value = utm_value_int(3);
    f[1].field = "@timestamp";
    f[1].op = UTM_OP_IS_BETWEEN;
    f[1].value = utm_value_list(range, 2);
    s.index_pattern = "alert-*";
    s.filters = f;
    s.filter_count = 2;
    s.sort = sort;
    s.sort_count = 1;
    s.size = 10;
    s.top = 100;
    s.on_doc = count_doc;
    s.user = seen;
    return utm_search(c, &s, r);
}

static int get_account(utm_client_t *c, char *login, size_t size)
{
    static char body[1024];
    utm_request_t q;
    utm_response_t r;
    utm_json_token_t tok[64];
    utm_json_t j;
    int rc;
    memset(&q, 0, sizeof q);
    q.path = "/api/account";
    q.body_buf = body;
    q.body_size = sizeof body;
    rc = utm_request(c, &q, &r);
    if (rc) return rc;
    if (r.status != 200) return utm_status_error(r.status);
    if (utm_json_parse(&j, body, strlen(body), tok, 64) != UTM_OK) return UTM_ERR_JSON;
    return utm_json_string(&j, utm_json_find(&j, 0, "login"), login, size) < 0 ? UTM_ERR_JSON : UTM_OK;
}

/* ======================================================================== */

static void test_password_mode(void)
{
    seen_t seen;
    utm_search_result_t r;
    char login[64];
    time_t now = time(NULL);
    CHECK_INT(main_client(), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 0), UTM_OK);
    CHECK_INT(search_high(&C, &seen, &r), UTM_OK); /* logs in on first use */
    CHECK(seen.n > 0 && seen.n <= 10);
    CHECK_INT(seen.severity_ok, (long long)seen.n);
    CHECK(r.total >= (int64_t)seen.n);
    CHECK_STR(utm_auth_subject(&C), "admin");
    CHECK(utm_auth_expires(&C) > now + 86400 - 60 && utm_auth_expires(&C) <= now + 86400 + 5);
    CHECK_INT(utm_auth_check(&C, login, sizeof login), UTM_OK);
    CHECK_STR(login, "admin");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_STR(login, "admin");
    /* rememberMe: a 30-day token */
    CHECK_INT(utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 1), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    CHECK(utm_auth_expires(&C) > now + 29 * 86400);
}

static void test_internal_key_and_bearer(void)
{
    seen_t seen;
    utm_search_result_t r;
    char login[64];
    CHECK_INT(main_client(), UTM_OK);
    CHECK_INT(utm_auth_use_internal_key(&C, "test-internal-key-0123456789"), UTM_OK);
    CHECK_INT(search_high(&C, &seen, &r), UTM_OK);
    CHECK(seen.n > 0);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_STR(login, "admin");
    CHECK(strstr(LOG, "authenticate") == NULL); /* no login in this mode */
    CHECK_INT(utm_auth_use_internal_key(&C, "wrong-key"), UTM_OK);
    CHECK_INT(search_high(&C, &seen, &r), UTM_ERR_AUTH);
    CHECK_INT(r.status, 401);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_AUTH);
    /* a v11 API key as a fixed bearer credential */
    CHECK_INT(utm_auth_use_bearer(&C, "v11-api-key-abcdef"), UTM_OK);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_STR(login, "apikey");
    CHECK_INT(search_high(&C, &seen, &r), UTM_OK);
    CHECK_INT(utm_auth_use_bearer(&C, "not-a-key"), UTM_OK);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_AUTH);
    /* no credential at all: nothing is sent */
    {
        long long before = stat_of("UTM_PORT_MAIN", "requests");
        utm_auth_clear(&C);
        CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_NO_CREDENTIALS);
        CHECK_INT(stat_of("UTM_PORT_MAIN", "requests"), before + 1); /* only the stats request itself */
    }
}

static void test_wrong_password_and_lock(void)
{
    long long attempts;
    int i, rc = UTM_OK;
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_LOCK"), NULL), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "admin", "wrong-password", 0), UTM_OK);
    /* a refused password is not tried again by itself: one request for ten calls */
    for (i = 0; i < 10; i++) CHECK_INT(utm_auth_login(&C), UTM_ERR_AUTH);
    CHECK_INT(stat_of("UTM_PORT_LOCK", "login_attempts"), 1);
    /* an application that sets the same wrong password again each time gets
     * through to the server, and its lock */
    for (i = 1; i < 10; i++) {
        utm_auth_use_password(&C, "admin", "wrong-password", 0);
        rc = utm_auth_login(&C);
        if (rc != UTM_ERR_AUTH) break;
    }
    CHECK_INT(i, 10);
    CHECK_STR(utm_last_error(&C), "Bad credentials");
    CHECK_INT(utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_ERR_LOCKED); /* even the right password now */
    attempts = stat_of("UTM_PORT_LOCK", "login_attempts");
    CHECK_INT(attempts, 11); /* one request per login: the client did not retry by itself */
    {
        seen_t seen;
        utm_search_result_t r;
        CHECK_INT(search_high(&C, &seen, &r), UTM_ERR_LOCKED); /* the lock is kept, not tried */
        CHECK_INT(stat_of("UTM_PORT_LOCK", "login_attempts"), 11);
    }
}

static void test_keep_alive_and_resumption(void)
{
    long long conns, resumed, tls13_resumed;
    char login[64];
    utm_stats_t st;
    int i;
    CHECK_INT(main_client(), UTM_OK);
    CHECK_INT(utm_auth_use_internal_key(&C, "test-internal-key-0123456789"), UTM_OK);
    resumed = stat_of("UTM_PORT_MAIN", "resumed");
    tls13_resumed = stat_of("UTM_PORT_MAIN", "tls13_resumed");
    conns = stat_of("UTM_PORT_MAIN", "connections"); /* counts its own */
    for (i = 0; i < 10; i++) CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    utm_client_stats(&C, &st);
    CHECK_INT(st.connects, 1);
    CHECK_INT(st.handshakes_full, 1);
    CHECK_INT(stat_of("UTM_PORT_MAIN", "connections"), conns + 1 + 1); /* ours, and this stats reader's */
    CHECK_INT(stat_of("UTM_PORT_MAIN", "max_requests_per_connection") >= 10, 1);
    /* a new connection resumes the TLS session */
    utm_client_close(&C);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    utm_client_close(&C);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    utm_client_stats(&C, &st);
    CHECK_INT(st.connects, 3);
    CHECK_INT(st.handshakes_full, 1);
    CHECK_INT(st.handshakes_resumed, 2);
    CHECK_INT(stat_of("UTM_PORT_MAIN", "resumed"), resumed + 2);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
    /* the emulator offers TLS 1.3: negotiated, and resumed with tickets */
    CHECK_INT(st.tls_version, 0x0304);
    CHECK_INT(stat_of("UTM_PORT_MAIN", "tls13_resumed"), tls13_resumed + 2);
    printf("  TLS 1.3: full handshake and 2 resumptions (mbedTLS %s)\n", MBEDTLS_VERSION_STRING);
#else
    CHECK_INT(st.tls_version, 0x0303);
    (void)tls13_resumed;
#endif
}

/* TLS 1.2 where the client also speaks 1.3: a server that stops at 1.2
 * still gets a full handshake and session-ID/ticket resumption. */
static void test_tls12_resumption(void)
{
    long long resumed;
    char login[64];
    utm_stats_t st;
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_TLS12"), NULL), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    resumed = stat_of("UTM_PORT_TLS12", "resumed");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    utm_client_close(&C);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    utm_client_stats(&C, &st);
    CHECK_INT(st.tls_version, 0x0303);
    CHECK_INT(st.handshakes_full, 1);
    CHECK_INT(st.handshakes_resumed, 1);
    CHECK_INT(stat_of("UTM_PORT_TLS12", "resumed"), resumed + 1);
    CHECK_INT(stat_of("UTM_PORT_TLS12", "tls13"), 0);
}

/* An answer nobody asked for, pushed on a kept connection, is never taken
 * for the next request's: the connection is found out of step and replaced. */
static void test_pushed_answer_is_not_an_answer(void)
{
    char login[64];
    utm_stats_t st;
    CHECK_INT(main_client(), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    fault("UTM_PORT_MAIN", "{\"fault\":\"push-extra\",\"path\":\"/api/account\"}");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_STR(login, "admin");
    usleep(100 * 1000); /* the pushed bytes arrive */
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_STR(login, "admin");
    utm_client_stats(&C, &st);
    CHECK_INT(st.stale_closed, 1);
    CHECK_INT(st.connects, 2);
}

static void test_server_closes_kept_connection(void)
{
    char login[64];
    utm_stats_t st;
    CHECK_INT(main_client(), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    fault("UTM_PORT_MAIN", "{\"fault\":\"close-after\",\"path\":\"/api/account\"}");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK); /* answered, then closed without a word */
    /* found closed before reuse, or (when the close is still on its way)
     * retried on a new one: either way one new connection, no failure */
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    utm_client_stats(&C, &st);
    CHECK_INT(st.retries + st.stale_closed, 1);
    CHECK_INT(st.connects, 2);
}

static void test_certificate_refusals(void)
{
    static const struct { const char *port, *why; } bad[] = {
        { "UTM_PORT_ROGUE", "not correctly signed" }, { "UTM_PORT_WRONGHOST", "CN" },
        { "UTM_PORT_EXPIRED", "expired" }, { "UTM_PORT_FUTURE", "future" } };
    char login[64];
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long before;
        int rc;
        utm_stats_t st;
        CHECK_INT(open_client(&C, &NET, url("https", "localhost", bad[i].port), NULL), UTM_OK);
        utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
        rc = get_account(&C, login, sizeof login);
        CHECK_INT(rc, UTM_ERR_TLS_VERIFY);
        if (!strstr(utm_last_error(&C), bad[i].why)) fprintf(stderr, "  %s: %s\n", bad[i].port, utm_last_error(&C));
        CHECK(strstr(utm_last_error(&C), bad[i].why) != NULL);
        utm_client_stats(&C, &st);
        CHECK(st.verify_flags != 0);
        CHECK(st.tls_error != 0);
        before = stat_of(bad[i].port, "requests");
        CHECK_INT(before, 1); /* only the stats reader's own: nothing of ours got through */
    }
    /* insecure mode accepts the rogue certificate, with a warning */
    {
        opts_t o;
        memset(&o, 0, sizeof o);
        o.insecure = 1;
        CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_ROGUE"), &o), UTM_OK);
        utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
        CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
        CHECK(strstr(LOG, "insecure") != NULL);
    }
}

/* A device that does not know the time yet (time_fn says 0): dates cannot
 * be judged, so they are not, and the log and utm_last_error() say so; the
 * chain and the name still are. */
static int64_t no_time(void *ctx) { (void)ctx; return 0; }

static void test_dates_without_a_clock(void)
{
    static const char *const ports[] = { "UTM_PORT_EXPIRED", "UTM_PORT_FUTURE" };
    utm_port_t noclock = *utm_posix_port();
    char login[64];
    opts_t o;
    size_t i;
    noclock.time_fn = no_time;
    memset(&o, 0, sizeof o);
    o.port = &noclock;
    for (i = 0; i < 2; i++) {
        CHECK_INT(open_client(&C, &NET, url("https", "localhost", ports[i]), &o), UTM_OK);
        utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
        CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
        CHECK(strstr(utm_last_error(&C), "dates not checked") != NULL);
        CHECK(strstr(LOG, "dates not checked") != NULL);
    }
    /* the chain still counts */
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_ROGUE"), &o), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_TLS_VERIFY);
    /* with the time known, the expired certificate is refused */
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_EXPIRED"), NULL), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_TLS_VERIFY);
}

static void test_old_tls_refused(void)
{
    static const char *const names[] = { "TLS10", "TLS11" };
    char login[64], var[32], path[600], stats[512];
    size_t i;
    for (i = 0; i < 2; i++) {
        FILE *f;
        size_t n = 0;
        snprintf(var, sizeof var, "UTM_PORT_%s", names[i]);
        CHECK_INT(open_client(&C, &NET, url("https", "localhost", var), NULL), UTM_OK);
        utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
        CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_TLS);
        CHECK(strstr(utm_last_error(&C), "handshake") != NULL);
        /* the server saw a failed handshake and no request (it keeps its
         * counters in a file: our client cannot speak TLS 1.0 to ask) */
        snprintf(path, sizeof path, "%s/%s.stats", getenv("UTM_STATS_DIR"), names[i]);
        for (n = 0; n < 50; n++) { /* the server writes it after its side of the failure */
            size_t k = 0;
            f = fopen(path, "r");
            if (f) { k = fread(stats, 1, sizeof stats - 1, f); fclose(f); }
            stats[k] = 0;
            if (strstr(stats, "handshake_failures")) break;
            usleep(20000);
        }
        CHECK(strstr(stats, "\"requests\": 0,") != NULL);
        CHECK(strstr(stats, "\"handshake_failures\": 1") != NULL);
    }
}

static void test_servername_and_ip(void)
{
    char login[64];
    opts_t o;
    memset(&o, 0, sizeof o);
    /* by IP address, verified against the name given */
    o.servername = "localhost";
    CHECK_INT(open_client(&C, &NET, url("https", "127.0.0.1", "UTM_PORT_MAIN"), &o), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    o.servername = "wrong.example";
    CHECK_INT(open_client(&C, &NET, url("https", "127.0.0.1", "UTM_PORT_MAIN"), &o), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_TLS_VERIFY);
    /* by IP address alone: matched against the certificate's iPAddress
     * entries only (on every mbedTLS), and no SNI goes out (RFC 6066 3) */
    CHECK_INT(open_client(&C, &NET, url("https", "127.0.0.1", "UTM_PORT_MAIN"), NULL), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    {
        static char stats[2048];
        long long before;
        CHECK_INT(stat_text("UTM_PORT_MAIN", stats, sizeof stats), 0);
        /* the server names it saw: ours (none), then this reader's */
        if (!strstr(stats, "\"sni\": [\"\", \"localhost\"]")) fprintf(stderr, "  SNI: %s\n", stats);
        CHECK(strstr(stats, "\"sni\": [\"\", \"localhost\"]") != NULL);
        /* a certificate whose CN and DNS names only look like the address */
        before = stat_of("UTM_PORT_IPWILD", "requests");
        CHECK_INT(open_client(&C, &NET, url("https", "127.0.0.1", "UTM_PORT_IPWILD"), NULL), UTM_OK);
        utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
        CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_TLS_VERIFY);
        if (!strstr(utm_last_error(&C), "127.0.0.1")) fprintf(stderr, "  ip: %s\n", utm_last_error(&C));
        CHECK(strstr(utm_last_error(&C), "iPAddress") != NULL);
        CHECK_INT(stat_of("UTM_PORT_IPWILD", "requests"), before + 1);
    }
}

static int hexval(int ch) { return ch <= '9' ? ch - '0' : (ch | 32) - 'a' + 10; }

static void test_pin(void)
{
    unsigned char pin[32];
    const char *hex = getenv("UTM_PIN");
    char login[64];
    opts_t o;
    int i;
    CHECK(hex && strlen(hex) == 64);
    if (!hex || strlen(hex) != 64) return;
    for (i = 0; i < 32; i++) pin[i] = (unsigned char)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
    memset(&o, 0, sizeof o);
    o.pin = pin;
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_MAIN"), &o), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    pin[5] ^= 1;
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_MAIN"), &o), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_TLS_PIN);
    if (!strstr(utm_last_error(&C), "pin")) fprintf(stderr, "  pin: %s\n", utm_last_error(&C));
    CHECK(strstr(utm_last_error(&C), "pin") != NULL);
    /* even insecure mode keeps the pin */
    o.insecure = 1;
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_MAIN"), &o), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_TLS_PIN);
}

/* The pin holds whatever CA loaded and whatever `insecure` says: with no CA
 * mbedTLS verifies nothing and calls no verify callback. */
static void test_pin_without_ca(void)
{
    unsigned char pin[32];
    const char *hex = getenv("UTM_PIN");
    char login[64];
    utm_stats_t st;
    long long before;
    opts_t o;
    int i;
    if (!hex || strlen(hex) != 64) { CHECK(0); return; }
    for (i = 0; i < 32; i++) pin[i] = (unsigned char)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
    memset(&o, 0, sizeof o);
    o.pin = pin;
    /* a man in the middle with another key: insecure, and a CA file that does
     * not load, so nothing but the pin stands between him and the key */
    o.insecure = 1;
    o.ca = "/nonexistent/ca.pem";
    before = stat_of("UTM_PORT_ROGUE", "requests");
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_ROGUE"), &o), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_TLS_PIN);
    CHECK(strstr(utm_last_error(&C), "pin") != NULL);
    utm_client_stats(&C, &st);
    CHECK_INT(st.handshakes_full, 1);
    CHECK_INT(st.handshakes_resumed, 0);
    CHECK_INT(st.requests, 0);
    CHECK_INT(stat_of("UTM_PORT_ROGUE", "requests"), before + 1); /* only the stats request */
    /* insecure with no CA and the right pin: the handshake is a full one */
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_MAIN"), &o), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    utm_client_stats(&C, &st);
    CHECK_INT(st.handshakes_full, 1);
    CHECK_INT(st.handshakes_resumed, 0);
    /* the firmware mode: a pin and no CA store (not insecure); the pin is the trust */
    o.insecure = 0;
    o.ca = NULL;
    o.no_ca = 1;
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_MAIN"), &o), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK(strcmp(login, "admin") == 0);
    utm_client_close(&C);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK); /* a resumed session */
    utm_client_stats(&C, &st);
    CHECK_INT(st.handshakes_full, 1);
    CHECK_INT(st.handshakes_resumed, 1);
    CHECK(strstr(LOG, "insecure") == NULL);
    before = stat_of("UTM_PORT_ROGUE", "requests");
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_ROGUE"), &o), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_TLS_PIN);
    CHECK_INT(stat_of("UTM_PORT_ROGUE", "requests"), before + 1);
    /* with no pin, no CA is no mode at all */
    o.pin = NULL;
    o.no_ca = 0;
    o.ca = "/nonexistent/ca.pem";
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_MAIN"), &o), UTM_ERR_TLS_CA);
}

static char *slurp(const char *name, size_t *len)
{
    static char buf[3][4096];
    static int k;
    char path[600], *b = buf[k++ % 3];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", getenv("UTM_PKI"), name);
    f = fopen(path, "rb");
    *len = f ? fread(b, 1, sizeof buf[0] - 1, f) : 0;
    if (f) fclose(f);
    b[*len] = 0;
    *len += 1; /* mbedTLS wants a PEM's NUL counted */
    return b;
}

static void test_client_certificate(void)
{
    utm_config_t cfg;
    char login[64];
    size_t clen, klen, olen;
    const char *cert = slurp("client.pem", &clen), *key = slurp("client.key", &klen);
    const char *other = slurp("server.key", &olen); /* (slurp keeps three) */
    /* without one, the server refuses the handshake */
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_MTLS"), NULL), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    {
        int rc = get_account(&C, login, sizeof login); /* an alert, or a reset right after it */
        CHECK(rc == UTM_ERR_TLS || rc == UTM_ERR_NET);
        /* TLS 1.2 fails the handshake; TLS 1.3 (mbedTLS 3.6) the first read after it */
        const char *e = utm_last_error(&C);
        if (!strstr(e, "handshake") && !strstr(e, "alert") && !strstr(e, "before answering"))
            fprintf(stderr, "  without a client certificate: %s\n", e);
        CHECK(strstr(e, "handshake") != NULL || strstr(e, "alert") != NULL || strstr(e, "before answering") != NULL);
    }
    /* with it */
    utm_client_free(&C);
    memset(&cfg, 0, sizeof cfg);
    cfg.url = url("https", "localhost", "UTM_PORT_MTLS");
    cfg.port = utm_posix_port();
    cfg.port_ctx = &NET;
    cfg.ca_file = CA;
    cfg.client_cert = (const unsigned char *)cert;
    cfg.client_cert_len = clen;
    cfg.client_key = (const unsigned char *)key;
    cfg.client_key_len = klen;
    CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    /* PEM without its NUL counted (strlen, as ESP-IDF embeds files): the same */
    utm_client_free(&C);
    cfg.client_cert_len = clen - 1;
    cfg.client_key_len = klen - 1;
    CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    cfg.client_cert_len = clen;
    /* a key that is not the certificate's, garbage, or no key: refused at init */
    utm_client_free(&C);
    cfg.client_key = (const unsigned char *)other;
    cfg.client_key_len = olen;
    CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_TLS_CLIENT_CERT);
    CHECK_STR(utm_last_error(&C), "client key unreadable, or not the certificate's");
    utm_client_free(&C);
    cfg.client_key = (const unsigned char *)"garbage";
    cfg.client_key_len = 8;
    CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_TLS_CLIENT_CERT);
    utm_client_free(&C);
    cfg.client_key = (const unsigned char *)key;
    cfg.client_key_len = klen;
    cfg.client_cert = (const unsigned char *)"garbage";
    cfg.client_cert_len = 8;
    CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_TLS_CLIENT_CERT);
    CHECK_STR(utm_last_error(&C), "client certificate unreadable");
    utm_client_free(&C);
    cfg.client_key = NULL;
    CHECK_INT(utm_client_init(&C, &cfg), UTM_ERR_TLS_CLIENT_CERT);
    utm_client_free(&C);
    /* the call of its own: refused parts keep nothing and leave the client usable */
    cfg.client_cert = NULL;
    CHECK_INT(utm_client_init(&C, &cfg), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(utm_client_use_cert(&C, (const unsigned char *)cert, clen, (const unsigned char *)key, 0, NULL),
              UTM_ERR_TLS_CLIENT_CERT);
    CHECK_STR(utm_last_error(&C), "client certificate and key: both are needed");
    CHECK_INT(utm_client_use_cert(&C, (const unsigned char *)"garbage", 8, (const unsigned char *)key, klen, NULL),
              UTM_ERR_TLS_CLIENT_CERT);
    CHECK_STR(utm_last_error(&C), "client certificate unreadable");
    CHECK_INT(utm_client_use_cert(&C, (const unsigned char *)cert, clen, (const unsigned char *)other, olen, NULL),
              UTM_ERR_TLS_CLIENT_CERT);
    CHECK_STR(utm_last_error(&C), "client key unreadable, or not the certificate's");
    {
        int rc = get_account(&C, login, sizeof login); /* nothing kept: still none offered */
        CHECK(rc == UTM_ERR_TLS || rc == UTM_ERR_NET);
    }
    CHECK_INT(utm_client_use_cert(&C, (const unsigned char *)cert, clen - 1, (const unsigned char *)key, klen - 1, NULL),
              UTM_OK);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_INT(utm_client_use_cert(&C, (const unsigned char *)cert, clen, (const unsigned char *)key, klen, NULL),
              UTM_ERR_STATE);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK); /* and still in use */
    utm_client_free(&C);
    CHECK_INT(utm_client_use_cert(NULL, NULL, 0, NULL, 0, NULL), UTM_ERR_ARG);
    /* a plain http:// client has no TLS to present it in */
    CHECK_INT(open_client(&C, &NET, url("http", "localhost", "UTM_PORT_PLAIN"), NULL), UTM_OK);
    CHECK_INT(utm_client_use_cert(&C, (const unsigned char *)cert, clen, (const unsigned char *)key, klen, NULL),
              UTM_ERR_ARG);
    utm_client_free(&C);
}

static void test_tfa(void)
{
    char login[64];
    CHECK_INT(main_client(), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "tfauser", "tfa-Passw0rd", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_TFA_REQUIRED);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_TFA_REQUIRED);
    CHECK_INT(utm_auth_tfa_verify(&C, "999999"), UTM_ERR_TFA_CODE);
    CHECK_STR(utm_last_error(&C), "Invalid verification code");
    CHECK_INT(utm_auth_tfa_verify(&C, "123456"), UTM_OK);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_STR(login, "tfauser");
    /* the same against v11's answers (extra keys, id_token last) */
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_V11"), NULL), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "tfauser", "tfa-Passw0rd", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_TFA_REQUIRED);
    CHECK_INT(utm_auth_tfa_verify(&C, "123456"), UTM_OK);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
}

static void test_v11_and_odd_passwords(void)
{
    char login[64];
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_V11"), NULL), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    CHECK_STR(utm_auth_subject(&C), "admin");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    /* quotes, backslashes, non-ASCII */
    CHECK_INT(main_client(), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "j\xc3\xb6rg", "q\"uote \\back\\ sl\xc3\xa4sh \xe2\x9c\x93 \xf0\x9f\x94\x92", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_STR(login, "j\xc3\xb6rg");
    /* a 2 KB token */
    CHECK_INT(utm_auth_use_password(&C, "bigtoken", "bigtoken-Passw0rd", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    CHECK(utm_auth_token(&C) && strlen(utm_auth_token(&C)) > 2040 && strlen(utm_auth_token(&C)) <= 2048);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_STR(login, "bigtoken");
}

static void test_renewal_and_relogin(void)
{
    char login[64], token[3000];
    opts_t o;
    long long logins;
    memset(&o, 0, sizeof o);
    o.renew = 3; /* tokens of this emulator live 5 s: renew when 3 s are left */
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_SHORT"), &o), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 0), UTM_OK);
    logins = stat_of("UTM_PORT_SHORT", "logins");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_INT(stat_of("UTM_PORT_SHORT", "logins"), logins + 1);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_INT(stat_of("UTM_PORT_SHORT", "logins"), logins + 1); /* still fresh */
    usleep(2500 * 1000);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);     /* renewed before it could fail */
    CHECK_INT(stat_of("UTM_PORT_SHORT", "logins"), logins + 2);
    /* a cached token the server refuses (another server's): one re-login */
    CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_V11"), NULL), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 0), UTM_OK);
    CHECK_INT(utm_auth_login(&C), UTM_OK);
    strcpy(token, utm_auth_token(&C));
    CHECK_INT(main_client(), UTM_OK);
    CHECK_INT(utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 0), UTM_OK);
    CHECK_INT(utm_auth_set_token(&C, token), UTM_OK);
    logins = stat_of("UTM_PORT_MAIN", "logins");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK_INT(stat_of("UTM_PORT_MAIN", "logins"), logins + 1);
    CHECK(strcmp(utm_auth_token(&C), token) != 0);
    /* the same token without a password: the 401 is the answer */
    CHECK_INT(main_client(), UTM_OK);
    CHECK_INT(utm_auth_set_token(&C, token), UTM_OK);
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_AUTH);
}

static void test_paging(void)
{
    utm_search_t s;
    utm_search_result_t r, all;
    seen_t seen, pages;
    static const char *const sort[] = { "@timestamp,desc" };
    uint32_t page;
    int i, j, dup = 0;
    CHECK_INT(main_client(), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    memset(&s, 0, sizeof s);
    memset(&pages, 0, sizeof pages);
    s.index_pattern = "alert-*";
    s.sort = sort;
    s.sort_count = 1;
    s.size = 7;
    s.top = 30;
    s.on_doc = count_doc;
    s.user = &pages;
    for (page = 1; page <= 5; page++) {
        s.page = page;
        CHECK_INT(utm_search(&C, &s, &r), UTM_OK);
        CHECK_INT(r.total, 30);
        CHECK_INT(r.last_page, 5);
        CHECK_INT(r.next_page, page < 5 ? page + 1 : 0);
    }
    CHECK_INT(pages.n, 30); /* 7 7 7 7 2: the server stops at top */
    s.page = 1;
    memset(&seen, 0, sizeof seen);
    s.user = &seen;
    CHECK_INT(utm_search_all(&C, &s, &all), UTM_OK);
    CHECK_INT(all.docs, 30);
    CHECK_INT(all.pages, 5);
    for (i = 0; i < 30; i++) {
        CHECK_STR(seen.ids[i], pages.ids[i]);
        for (j = 0; j < i; j++) dup += strcmp(seen.ids[i], seen.ids[j]) == 0;
    }
    CHECK_INT(dup, 0);
    /* a server-side rule broken: 500 and the reason */
    {
        utm_filter_t f;
        f.field = "severity";
        f.op = UTM_OP_IS;
        f.value = utm_value_json("[1,2]");
        s.filters = &f;
        s.filter_count = 1;
        CHECK_INT(utm_search(&C, &s, &r), UTM_OK); /* a list is a value for IS */
        s.index_pattern = "nothing-*";
        CHECK_INT(utm_search(&C, &s, &r), UTM_OK);
        CHECK_INT(r.docs, 0);
    }
}

static void test_plain_http_and_ipv6(void)
{
    char login[64];
    long long before = stat_of("UTM_PORT_PLAIN", "requests");
    opts_t plain;
    memset(&plain, 0, sizeof plain);
    /* the key goes over http:// only when the config says so */
    CHECK_INT(open_client(&C, &NET, url("http", "localhost", "UTM_PORT_PLAIN"), NULL), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_PLAINTEXT);
    CHECK_INT(stat_of("UTM_PORT_PLAIN", "requests"), before + 1); /* only the stats request */
    plain.plain = 1;
    CHECK_INT(open_client(&C, &NET, url("http", "localhost", "UTM_PORT_PLAIN"), &plain), UTM_OK);
    utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    CHECK(strstr(LOG, "in clear") != NULL);
    if (getenv("UTM_PORT_V6")) {
        opts_t o;
        memset(&o, 0, sizeof o);
        o.servername = "localhost";
        CHECK_INT(open_client(&C, &NET, url("https", "[::1]", "UTM_PORT_V6"), &o), UTM_OK);
        utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
        CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
        /* and by the address alone: the certificate's IP:::1 entry */
        CHECK_INT(open_client(&C, &NET, url("https", "[::1]", "UTM_PORT_V6"), NULL), UTM_OK);
        utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
        CHECK_INT(get_account(&C, login, sizeof login), UTM_OK);
    }
    /* nobody listening */
    CHECK_INT(open_client(&C, &NET, "http://127.0.0.1:1", &plain), UTM_OK);
    utm_auth_use_internal_key(&C, "k");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_CONNECT);
    CHECK_INT(open_client(&C, &NET, "http://no-such-host.invalid", &plain), UTM_OK);
    utm_auth_use_internal_key(&C, "k");
    CHECK_INT(get_account(&C, login, sizeof login), UTM_ERR_DNS);
}

static void test_faults(void)
{
    static const struct { const char *json; int rc; } f[] = {
        { "{\"fault\":\"truncate-status\",\"path\":\"/api/account\"}", UTM_ERR_CLOSED },
        { "{\"fault\":\"truncate-headers\",\"path\":\"/api/account\"}", UTM_ERR_CLOSED },
        { "{\"fault\":\"truncate-body\",\"path\":\"/api/account\"}", UTM_ERR_CLOSED },
        { "{\"fault\":\"truncate-chunk\",\"path\":\"/api/account\"}", UTM_ERR_CLOSED },
        { "{\"fault\":\"cl-lies\",\"path\":\"/api/account\"}", UTM_ERR_CLOSED },
        { "{\"fault\":\"reset\",\"path\":\"/api/account\"}", UTM_ERR_NET },
        { "{\"fault\":\"malformed-status\",\"path\":\"/api/account\"}", UTM_ERR_HTTP_STATUS_LINE },
        { "{\"fault\":\"oversized-headers\",\"path\":\"/api/account\"}", UTM_ERR_HTTP_LINE_TOO_LONG },
        { "{\"fault\":\"endless-headers\",\"path\":\"/api/account\"}", UTM_ERR_HTTP_TOO_MANY_HEADERS },
        { "{\"fault\":\"bad-chunk-size\",\"path\":\"/api/account\"}", UTM_ERR_HTTP_CHUNK },
        { "{\"fault\":\"overflow-chunk\",\"path\":\"/api/account\"}", UTM_ERR_HTTP_CHUNK },
        { "{\"fault\":\"tls-alert\",\"path\":\"/api/account\"}", UTM_ERR_TLS },
        { "{\"fault\":\"tls-close-notify\",\"path\":\"/api/account\"}", UTM_ERR_CLOSED },
        /* a body that ends with the connection is whole only after a close_notify
         * (a man in the middle can end the TCP connection anywhere) */
        { "{\"fault\":\"close-delimited\",\"path\":\"/api/account\"}", UTM_OK },
        { "{\"fault\":\"close-delimited-no-notify\",\"path\":\"/api/account\"}", UTM_ERR_CLOSED },
        { "{\"fault\":\"stall-before\",\"path\":\"/api/account\",\"seconds\":3}", UTM_ERR_TIMEOUT },
        { "{\"fault\":\"stall-body\",\"path\":\"/api/account\",\"seconds\":3}", UTM_ERR_TIMEOUT },
    };
    char login[64];
    size_t i;
    opts_t o;
    memset(&o, 0, sizeof o);
    o.timeout = 1000;
    for (i = 0; i < sizeof f / sizeof f[0]; i++) {
        int rc;
        time_t t0;
        CHECK_INT(open_client(&C, &NET, url("https", "localhost", "UTM_PORT_MAIN"), &o), UTM_OK);
        utm_auth_use_internal_key(&C, "test-internal-key-0123456789");
        fault("UTM_PORT_MAIN", f[i].json);
        t0 = time(NULL);
        rc = get_account(&C, login, sizeof login);
        if (rc != f[i].rc) fprintf(stderr, "  %s -> %d (%s)\n", f[i].json, rc, utm_last_error(&C));

        CHECK_INT(rc, f[i].rc);
        CHECK(time(NULL) - t0 <= 2); /* within the 1 s deadline (whole seconds) */
        CHECK_INT(get_account(&C, login, sizeof login), UTM_OK); /* and usable after */
    }
}

/* The deepest stack of a login, a search and a request over TLS (mbedTLS
 * included), measured by painting a thread's stack before the work. */
static int stack_job_rc;

static void *stack_job(void *arg)
{
    seen_t *seen = (seen_t *)arg;
    utm_search_result_t r;
    char login[64];
    stack_job_rc = main_client();
    if (!stack_job_rc) stack_job_rc = utm_auth_use_password(&C, "admin", "s3cret-Passw0rd", 0);
    if (!stack_job_rc) stack_job_rc = search_high(&C, seen, &r);
    if (!stack_job_rc) stack_job_rc = get_account(&C, login, sizeof login);
    return NULL;
}

static void test_stack_use(void)
{
    static seen_t seen;
    const size_t size = 256 * 1024;
    unsigned char *stack = (unsigned char *)aligned_alloc(4096, size);
    pthread_attr_t attr;
    pthread_t t;
    size_t unused = 0;
    CHECK(stack != NULL);
    if (!stack) return;
    memset(stack, 0xa5, size);
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack, size);
    CHECK_INT(pthread_create(&t, &attr, stack_job, &seen), 0);
    pthread_join(t, NULL);
    while (unused < size && stack[unused] == 0xa5) unused++; /* the stack grows down */
    CHECK_INT(stack_job_rc, UTM_OK);
    printf("  stack: %lu bytes at most for login + search + request over TLS (x86_64, mbedTLS %s)\n",
           (unsigned long)(size - unused), MBEDTLS_VERSION_STRING);
    CHECK(size - unused < 64 * 1024);
    pthread_attr_destroy(&attr);
    free(stack);
}


/* The POSIX port on its own, against sockets of the test's: what each
 * failure returns, and that no wait outlasts its timeout. */
static int listener(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) { close(fd); return -1; }
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_posix_port(void)
{
    const utm_port_t *p = utm_posix_port();
    utm_posix_t net;
    unsigned char buf[4096];
    uint16_t port = 0;
    uint32_t t0;
    int lfd = listener(&port), peer, rc;
    struct linger lg;
    memset(&net, 0, sizeof net);
    CHECK(lfd >= 0);
    if (lfd < 0) return;
    /* nothing connected: send and recv say so */
    CHECK_INT(p->send_fn(&net, buf, 1, 10), UTM_ERR_NET);
    CHECK_INT(p->recv_fn(&net, buf, 1, 10), UTM_ERR_NET);
    /* a name that does not resolve, and a port nobody listens on */
    CHECK_INT(p->connect_fn(&net, "no-such-host.invalid", 443, 2000), UTM_ERR_DNS);
    CHECK(net.last_gai != 0);
    {
        uint16_t closed = 0;
        int cfd = listener(&closed);
        close(cfd); /* the port is free now: refused */
        CHECK_INT(p->connect_fn(&net, "127.0.0.1", closed, 2000), UTM_ERR_CONNECT);
        CHECK_INT(net.last_errno, ECONNREFUSED);
    }
    /* connected: a probe and a short wait find nothing, data arrives, then the close */
    CHECK_INT(p->connect_fn(&net, "127.0.0.1", port, 2000), UTM_OK);
    peer = accept(lfd, NULL, NULL);
    CHECK(peer >= 0);
    CHECK_INT(p->recv_fn(&net, buf, sizeof buf, 0), UTM_ERR_TIMEOUT);
    t0 = p->now_ms_fn(&net);
    CHECK_INT(p->recv_fn(&net, buf, sizeof buf, 50), UTM_ERR_TIMEOUT);
    CHECK(p->now_ms_fn(&net) - t0 >= 45);
    CHECK_INT((int)write(peer, "hi", 2), 2);
    CHECK_INT(p->recv_fn(&net, buf, sizeof buf, 1000), 2);
    CHECK_INT(p->send_fn(&net, (const unsigned char *)"yo", 2, 1000), 2);
    /* the peer does not read: the send buffer fills and a send times out */
    memset(buf, 'x', sizeof buf);
    t0 = p->now_ms_fn(&net);
    do rc = p->send_fn(&net, buf, sizeof buf, 100); while (rc > 0 && p->now_ms_fn(&net) - t0 < 10000);
    CHECK_INT(rc, UTM_ERR_TIMEOUT);
    close(peer);
    /* the peer closed: the end (0), then sends fail */
    do rc = p->recv_fn(&net, buf, sizeof buf, 1000); while (rc > 0);
    CHECK(rc == 0 || rc == UTM_ERR_NET); /* our unread data in its buffer makes its close a reset */
    do rc = p->send_fn(&net, buf, sizeof buf, 100); while (rc > 0);
    CHECK_INT(rc, UTM_ERR_NET);
    p->close_fn(&net);
    p->close_fn(&net); /* twice is harmless */
    /* a reset (SO_LINGER 0) while we wait: a network error, not the end */
    CHECK_INT(p->connect_fn(&net, "localhost", port, 2000), UTM_OK);
    peer = accept(lfd, NULL, NULL);
    lg.l_onoff = 1;
    lg.l_linger = 0;
    setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(peer);
    CHECK_INT(p->recv_fn(&net, buf, sizeof buf, 1000), UTM_ERR_NET);
    CHECK_INT(net.last_errno, ECONNRESET);
    p->close_fn(&net);
    close(lfd);
    /* entropy and the clocks */
    CHECK_INT(p->entropy_fn(&net, buf, 64), 0);
    CHECK(p->time_fn(&net) > 1700000000);
}

int main(void)
{
    const char *pki = getenv("UTM_PKI");
    if (!pki) { fprintf(stderr, "integration: UTM_PKI not set (run through tests/run.sh)\n"); return 2; }
    snprintf(CA, sizeof CA, "%s/ca.pem", pki);
    snprintf(ROGUE_CA, sizeof ROGUE_CA, "%s/rogue-ca.pem", pki);
    RUN(test_posix_port);
    RUN(test_password_mode);
    RUN(test_internal_key_and_bearer);
    RUN(test_wrong_password_and_lock);
    RUN(test_keep_alive_and_resumption);
    RUN(test_tls12_resumption);
    RUN(test_pushed_answer_is_not_an_answer);
    RUN(test_server_closes_kept_connection);
    RUN(test_certificate_refusals);
    RUN(test_dates_without_a_clock);
    RUN(test_old_tls_refused);
    RUN(test_servername_and_ip);
    RUN(test_pin);
    RUN(test_pin_without_ca);
    RUN(test_client_certificate);
    RUN(test_tfa);
    RUN(test_v11_and_odd_passwords);
    RUN(test_renewal_and_relogin);
    RUN(test_paging);
    RUN(test_plain_http_and_ipv6);
    RUN(test_faults);
    if (getenv("UTM_UNDER_VALGRIND")) /* it marks a finished thread's stack unreadable */
        printf("  stack: not measured under valgrind (test_stack_use skipped, not counted)\n");
    else
        RUN(test_stack_use);
    utm_client_free(&C);
    utm_client_free(&S);
    return CHECK_SUMMARY("integration");
}

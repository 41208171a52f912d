/* utmstack - the command-line client of utmstack.h (POSIX).
 *
 *   utmstack [options] COMMAND [ARGS]      (utmstack --help for the reference)
 *
 * Its options, environment variables, output and exit codes are a contract
 * (docs/utmstack.1, README "The command-line tool"): scripts and the
 * integration tests depend on them. New ones are added, none changed.
 */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_posix.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <mbedtls/base64.h>
#include <mbedtls/version.h>

enum { EX_OK = 0, EX_USAGE = 2, EX_CRED = 3, EX_TLS = 4, EX_NET = 5, EX_HTTP = 6, EX_LOCKED = 7, EX_LOCAL = 8 };

static const char usage_text[] =
    "usage: utmstack [options] COMMAND [ARGS]\n"
    "\n"
    "Commands (utmstack help COMMAND for one):\n"
    "  login                       log in; prints {\"authenticated\":true,\"user\":...,\"expires\":...}\n"
    "  search --index PATTERN [--filter FIELD:OPERATOR[:VALUE]]... [--page N] [--size N]\n"
    "         [--top N] [--sort FIELD,asc|desc]... [--all]\n"
    "                              one JSON document per line; total=N on stderr\n"
    "  get PATH | delete PATH      the response body on stdout\n"
    "  post PATH [-d JSON | -d @FILE | -d @-] | put PATH [...]\n"
    "  version                     the tool's, the library's and mbedTLS's versions\n"
    "  help [COMMAND | filter]     this text, one command's, or the filter operators\n"
    "\n"
    "Options (environment variable in brackets; the option wins):\n"
    "  --url URL              [UTMSTACK_URL] https://host[:port] (http:// allowed)\n"
    "  --ca FILE              [UTMSTACK_CA] PEM CA bundle (default: the system bundle)\n"
    "  --servername NAME      [UTMSTACK_SERVERNAME] name the certificate must hold\n"
    "  --insecure             no certificate check (warns)\n"
    "  --user NAME            [UTMSTACK_USER]\n"
    "  --password-file FILE   [UTMSTACK_PASSWORD: the password itself]\n"
    "  --api-key-file FILE    [UTMSTACK_API_KEY: the key itself] sent as Utm-Internal-Key\n"
    "  --bearer-file FILE     [UTMSTACK_BEARER: the credential itself] v11 API key\n"
    "  --token-file FILE      [UTMSTACK_TOKEN_FILE] session cache (mode 0600), one entry\n"
    "                         per server and user\n"
    "  --allow-insecure-token use a cached token over http:// or with --insecure too\n"
    "  --remember-me          ask for a 30-day token at login\n"
    "  --pin SHA256           the server's public key must have this SHA-256 (hex, colons\n"
    "                         allowed, or sha256//BASE64); with no --ca it is the trust\n"
    "  --cert FILE --key FILE a client certificate and its key (PEM)\n"
    "  --retry N              retry get and search up to N times after a network\n"
    "                         failure or 5xx, with backoff and jitter (Retry-After)\n"
    "  --timeout MS           [UTMSTACK_TIMEOUT_MS] deadline of each request, in ms; with\n"
    "                         a unit: 500ms, 5s, 1.5s, 2m\n"
    "  -m, --max-time SECONDS the same in seconds, as curl takes it (1.5 allowed)\n"
    "  -H 'Name: value'       one more request header (get, post, put, delete)\n"
    "  -s, --silent           no total= line and no progress\n"
    "  -v, --verbose          request and response lines on stderr (secrets as ***)\n"
    "  -V, --version          the versions, then exit\n"
    "\n"
    "With --user and no password given, the tool asks for it when standard input is a\n"
    "terminal (without echo). A PATH may be a whole URL on the --url server.\n"
    "\n"
    "Exit status: 0 success, 2 usage, 3 credentials refused, 4 TLS or certificate,\n"
    "5 network or timeout, 6 other HTTP error, 7 account locked (423),\n"
    "8 local file error (the token cache, or writing the output).\n";

static const char help_login[] =
    "usage: utmstack [options] login [--remember-me]\n"
    "\n"
    "POST /api/authenticate with --user and the password (--password-file,\n"
    "UTMSTACK_PASSWORD, or asked on the terminal); prints\n"
    "{\"authenticated\":true,\"user\":\"...\",\"expires\":EPOCH} and, with --token-file, keeps\n"
    "the session there for the next commands. A two-factor code is asked for on the\n"
    "terminal, or read as one line from standard input.\n";
static const char help_search[] =
    "usage: utmstack [options] search --index PATTERN [--filter FIELD:OPERATOR[:VALUE]]...\n"
    "       [--page N] [--size N] [--top N] [--sort FIELD,asc|desc]... [--all] [-s]\n"
    "\n"
    "POST /api/elasticsearch/search: one JSON document per line on stdout (NDJSON), then\n"
    "total=N (X-Total-Count) on stderr. --page starts at 1, --size is the page size\n"
    "(20; 1000 with --all), --top the most documents in all pages (10000). --all follows\n"
    "the pages up to --top, with done/total progress on a terminal, and says when it\n"
    "stopped at --top with more left. `utmstack help filter` lists the operators.\n";
static const char help_http[] =
    "usage: utmstack [options] get|delete PATH [-H 'Name: value']...\n"
    "       utmstack [options] post|put PATH [-d JSON | -d @FILE | -d @-] [-H 'Name: value']...\n"
    "\n"
    "Any endpoint: the response body on stdout when the status is 2xx (a newline added\n"
    "on a terminal), else on stderr with the status and X-UtmStack-error. PATH starts\n"
    "with / (it may hold ?query) or is a whole URL on the --url server. A body is sent\n"
    "as application/json unless -H 'Content-Type: ...' says otherwise.\n";

/* The options that belong to some commands only: given to another, an error. */
enum { OPT_INDEX = 1, OPT_FILTER = 2, OPT_PAGE = 4, OPT_SIZE = 8, OPT_TOP = 16, OPT_SORT = 32, OPT_ALL = 64,
       OPT_DATA = 128, OPT_HEADER = 256 };

typedef struct cli {
    const char *url, *ca, *servername, *user, *token_file, *command, *path, *data, *index;
    const char *cert_file, *key_file;
    int insecure, remember, verbose, all, allow_insecure_token, silent;
    unsigned given;              /* OPT_* bits: the command's own options given */
    utm_param_t headers[32];     /* -H */
    size_t nheaders;
    unsigned char pin[32];
    int have_pin;
    int last_out;                /* the last byte written to stdout (-1: none) */
    char url_path[4096];         /* a whole URL given as PATH, cut to its path */
    unsigned long timeout_ms, retry;
    int last_status;             /* of the last answer (for --retry) */
    unsigned long long printed;  /* documents or body bytes written to stdout */
    int werr;                    /* errno of the first failed write to stdout */
    char password[512], api_key[4096], bearer[4096], token[4096];
    int have_password, have_api_key, have_bearer, token_valid;
    char cache_note[800]; /* why a cached session was not used */
    /* search */
    utm_filter_t *filters;
    size_t nfilters;
    void **owned;      /* what the filters point into */
    size_t nowned;
    const char **sorts;
    size_t nsorts;
    unsigned long page, size, top;
    int progress;
    const utm_search_result_t *result; /* X-Total-Count once a page is in: done/total */
    /* response */
    utm_response_t resp;
    FILE *err_body;
} cli_t;

static void die_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "utmstack: %s%s%s\n(utmstack --help for the reference)\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(EX_USAGE);
}

static void wipe(void *p, size_t n) { mbedtls_platform_zeroize(p, n); }

/* First line of a file into buf, without its line end. 0 or -1. */
static int read_secret_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n;
    if (!f) return -1;
    if (!fgets(buf, (int)size, f)) buf[0] = 0;
    fclose(f);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = 0;
    return 0;
}

static void take_secret(const char *file, const char *env, char *buf, size_t size, int *have, const char *what)
{
    const char *v;
    if (file) {
        if (read_secret_file(file, buf, size) != 0) {
            fprintf(stderr, "utmstack: cannot read %s file %s: %s\n", what, file, strerror(errno));
            exit(EX_USAGE);
        }
        *have = buf[0] != 0;
        if (!*have) die_usage("empty secret file", file);
        return;
    }
    v = getenv(env);
    if (v && v[0]) {
        if (strlen(v) >= size) die_usage("secret too long in", env);
        memcpy(buf, v, strlen(v) + 1);
        *have = 1;
    }
}

static const char *env_or(const char *v, const char *env)
{
    const char *e;
    if (v) return v;
    e = getenv(env);
    return e && e[0] ? e : NULL;
}

/* The option's value as a whole number: "--page: not a number: x". */
static unsigned long parse_num(const char *s, const char *opt)
{
    char *end, msg[64];
    unsigned long v;
    errno = 0;
    v = strtoul(s, &end, 10);
    snprintf(msg, sizeof msg, "%s: not a whole number", opt);
    if (!s[0] || *end || errno || s[0] == '-' || s[0] == '+' || isspace((unsigned char)s[0])) die_usage(msg, s);
    return v;
}

/* A duration in ms: a bare number is `bare_ms` ms (--timeout and
 * UTMSTACK_TIMEOUT_MS: 1, as they always took milliseconds; --max-time:
 * 1000), or with a unit: 500ms, 5s, 1.5s, 2m. */
static unsigned long parse_duration(const char *s, const char *opt, double bare_ms)
{
    char *end, msg[96];
    double v, unit = bare_ms;
    errno = 0;
    v = strtod(s, &end);
    snprintf(msg, sizeof msg, "%s: not a duration (5s, 1.5s, 500ms, 2m)", opt);
    if (end == s || errno || !(v >= 0) || !isdigit((unsigned char)s[0])) die_usage(msg, s);
    if (!strcmp(end, "ms")) unit = 1;
    else if (!strcmp(end, "s")) unit = 1000;
    else if (!strcmp(end, "m")) unit = 60000;
    else if (*end) die_usage(msg, s);
    if (v * unit > 4294967295.0) {
        snprintf(msg, sizeof msg, "%s: longer than 49 days", opt);
        die_usage(msg, s);
    }
    if (v > 0 && v * unit < 1) return 1;
    return (unsigned long)(v * unit + 0.5);
}

/* Bytes from the server (an error body, X-UtmStack-error) for a terminal:
 * control bytes written as \xNN, never raw; line ends and tabs kept where
 * `lines` says so. */
static void put_escaped(FILE *f, const char *p, size_t n, int lines)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if ((ch < 0x20 && !(lines && (ch == '\n' || ch == '\t'))) || ch == 0x7f) fprintf(f, "\\x%02x", ch);
        else fputc(ch, f);
    }
}

/* "utmstack: HTTP 404: <the server's reason>" */
static void http_error_line(int status, const char *reason)
{
    fprintf(stderr, "utmstack: HTTP %d%s", status, reason[0] ? ": " : "");
    put_escaped(stderr, reason, strlen(reason), 0);
    fputc('\n', stderr);
}

/* "scheme://host:port" of a URL (scheme and host lower-case, the port
 * explicit) into origin; *path points at what follows ("/prefix...", "?q",
 * or ""). */
static void split_url(const char *url, char *origin, size_t size, const char **path)
{
    const char *rest = strstr(url, "://"), *end, *host_end, *h;
    int https = strncmp(url, "http://", 7) != 0 && strncmp(url, "HTTP://", 7) != 0;
    size_t n;
    rest = rest ? rest + 3 : url;
    end = rest + strcspn(rest, "/?#");
    host_end = *rest == '[' ? (const char *)memchr(rest, ']', (size_t)(end - rest)) : NULL; /* an IPv6 literal */
    host_end = host_end ? host_end + 1 : rest + strcspn(rest, ":/?#");
    n = (size_t)snprintf(origin, size, "%s://", https ? "https" : "http");
    for (h = rest; h < host_end && n + 1 < size; h++) origin[n++] = (char)tolower((unsigned char)*h);
    if (host_end < end && *host_end == ':') snprintf(origin + n, size - n, "%.*s", (int)(end - host_end), host_end);
    else snprintf(origin + n, size - n, ":%s", https ? "443" : "80");
    *path = end;
}

/* A whole URL given as PATH: its path, when the URL is on --url's server
 * (same origin, under its prefix). */
static void path_from_url(cli_t *o)
{
    char want[600], have[600];
    const char *wpath, *hpath;
    size_t plen;
    split_url(o->url, want, sizeof want, &wpath);
    split_url(o->path, have, sizeof have, &hpath);
    plen = strlen(wpath);
    while (plen > 0 && wpath[plen - 1] == '/') plen--;
    if (strcmp(want, have) != 0 || strncmp(hpath, wpath, plen) != 0 ||
        (hpath[plen] && hpath[plen] != '/' && hpath[plen] != '?')) {
        fprintf(stderr, "utmstack: %s is not on the --url server (%s%.*s)\n", o->path, want, (int)plen, wpath);
        exit(EX_USAGE);
    }
    snprintf(o->url_path, sizeof o->url_path, "%s%s", hpath[plen] == '/' ? "" : "/", hpath + plen);
    o->path = o->url_path;
}

/* -H 'Name: value' */
static void add_header(cli_t *o, char *spec)
{
    char *colon = strchr(spec, ':'), *v, *e;
    size_t i;
    static const char *const ours[] = { "authorization", "utm-internal-key", "host", "content-length",
                                        "transfer-encoding", "connection" };
    if (o->nheaders == sizeof o->headers / sizeof o->headers[0]) die_usage("-H: at most 32 headers", NULL);
    if (!colon || colon == spec) die_usage("-H wants 'Name: value'", spec);
    for (e = spec; *e; e++)
        if (*e == '\r' || *e == '\n') die_usage("-H: a line break in a header is refused", NULL);
    *colon = 0;
    for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {}
    for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--) *(e - 1) = 0;
    for (i = 0; i < sizeof ours / sizeof ours[0]; i++)
        if (!strcasecmp(spec, ours[i]))
            die_usage("-H: the tool sends this header itself (credentials: --api-key-file, --bearer-file)", spec);
    o->headers[o->nheaders].name = spec;
    o->headers[o->nheaders++].value = v;
}

/* --pin: 64 hex digits (colons allowed, as openssl prints them) or
 * sha256//BASE64 (as curl's --pinnedpubkey takes it). */
static void parse_pin(cli_t *o, const char *s)
{
    size_t n = 0, olen = 0;
    if (!strncmp(s, "sha256//", 8)) {
        if (mbedtls_base64_decode(o->pin, sizeof o->pin, &olen, (const unsigned char *)s + 8, strlen(s + 8)) != 0 ||
            olen != 32)
            die_usage("--pin: sha256// wants the base64 of 32 bytes", s);
        o->have_pin = 1;
        return;
    }
    for (; *s; s++) {
        int d = isdigit((unsigned char)*s) ? *s - '0' : isxdigit((unsigned char)*s) ? (tolower((unsigned char)*s) - 'a' + 10) : -1;
        if (*s == ':') continue;
        if (d < 0 || n == 64) die_usage("--pin wants the SHA-256 of the server's public key: 64 hex digits", NULL);
        o->pin[n / 2] = (unsigned char)(n % 2 ? o->pin[n / 2] | d : d << 4);
        n++;
    }
    if (n != 64) die_usage("--pin wants the SHA-256 of the server's public key: 64 hex digits", NULL);
    o->have_pin = 1;
}

static int is_list_op(utm_operator_t op)
{
    return op == UTM_OP_IS_ONE_OF || op == UTM_OP_IS_NOT_ONE_OF || op == UTM_OP_IS_ONE_OF_TERMS ||
           op == UTM_OP_CONTAIN_ONE_OF || op == UTM_OP_DOES_NOT_CONTAIN_ONE_OF || op == UTM_OP_IS_BETWEEN ||
           op == UTM_OP_IS_NOT_BETWEEN;
}

/* JSON type of text, or UTM_JSON_INVALID when it is not one JSON value. */
static int json_kind(const char *text)
{
    size_t n = strlen(text), ntok = n / 2 + 2;
    utm_json_token_t *tok = (utm_json_token_t *)calloc(ntok, sizeof *tok);
    utm_json_t j;
    int kind = UTM_JSON_INVALID;
    if (!tok) exit(EX_USAGE);
    if (n && utm_json_parse(&j, text, n, tok, (int)ntok) == UTM_OK) kind = utm_json_type(&j, 0);
    free(tok);
    return kind;
}

/* One list item of a comma-separated value: numbers stay numbers. */
static utm_value_t list_item(char *s)
{
    char *end;
    size_t n;
    while (*s == ' ' || *s == '\t') s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
    if (json_kind(s) == UTM_JSON_NUMBER) {
        long long v;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (!*end && !errno) return utm_value_int(v);
        return utm_value_double(strtod(s, NULL));
    }
    return utm_value_string(s);
}

static void *own(cli_t *o, void *p)
{
    o->owned = (void **)realloc((void *)o->owned, (o->nowned + 1) * sizeof *o->owned);
    if (!p || !o->owned) exit(EX_USAGE);
    o->owned[o->nowned++] = p;
    return p;
}

/* Levenshtein distance of a and b, for "did you mean" (short words only). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, row[40];
    if (la >= 40 || lb >= 40) return 99;
    for (j = 0; j <= lb; j++) row[j] = j;
    for (i = 1; i <= la; i++) {
        size_t diag = row[0], up;
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t best = diag + (toupper((unsigned char)a[i - 1]) != b[j - 1]);
            up = row[j];
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

/* A filter with no known operator: the nearest one to any of its words,
 * when it is near (a case slip, a letter or two). */
static void near_operator(const char *spec)
{
    const char *p, *best = NULL, *word = NULL;
    size_t best_d = 3, wlen = 0;
    for (p = strchr(spec, ':'); p; p = strchr(p + 1, ':')) {
        char w[40];
        const char *stop = strchr(p + 1, ':');
        size_t n = stop ? (size_t)(stop - p - 1) : strlen(p + 1);
        int op;
        if (n == 0 || n >= sizeof w) continue;
        memcpy(w, p + 1, n);
        w[n] = 0;
        for (op = 0; op < UTM_OP_COUNT; op++) {
            size_t d = distance(w, utm_operator_name((utm_operator_t)op));
            if (d < best_d) { best_d = d; best = utm_operator_name((utm_operator_t)op); word = p + 1; wlen = n; }
        }
    }
    if (best) {
        fprintf(stderr, "utmstack: unknown operator %.*s in --filter %s; did you mean %s?\n"
                        "(utmstack help filter lists them)\n", (int)wlen, word, spec, best);
        exit(EX_USAGE);
    }
}

/* FIELD:OPERATOR[:VALUE]; a field may itself hold ':'; the operator is the
 * first ':'-separated word that names one.                                 */
static void parse_filter(cli_t *o, const char *spec, utm_filter_t *f)
{
    const char *p;
    for (p = strchr(spec, ':'); p; p = strchr(p + 1, ':')) {
        const char *name = p + 1, *stop = strchr(name, ':');
        size_t n = stop ? (size_t)(stop - name) : strlen(name);
        utm_operator_t op = utm_operator_from_name(name, n);
        char *field, *value;
        if (op == UTM_OP_COUNT) continue;
        memset(f, 0, sizeof *f);
        field = (char *)own(o, malloc((size_t)(p - spec) + 1));
        memcpy(field, spec, (size_t)(p - spec));
        field[p - spec] = 0;
        f->field = field[0] ? field : NULL;
        f->op = op;
        if (!stop) return;
        value = (char *)own(o, strdup(stop + 1));
        if (json_kind(value) != UTM_JSON_INVALID && json_kind(value) != UTM_JSON_OBJECT &&
            json_kind(value) != UTM_JSON_NULL) {
            f->value = utm_value_json(value);
        } else if (is_list_op(op)) {
            size_t count = 1, i = 0;
            char *s, *save = NULL;
            utm_value_t *items;
            for (s = value; *s; s++) count += *s == ',';
            items = (utm_value_t *)own(o, calloc(count, sizeof *items));
            for (s = strtok_r(value, ",", &save); s; s = strtok_r(NULL, ",", &save)) items[i++] = list_item(s);
            f->value = utm_value_list(items, i);
        } else {
            f->value = utm_value_string(value);
        }
        return;
    }
    near_operator(spec);
    die_usage("filter is not FIELD:OPERATOR[:VALUE] with a known operator (utmstack help filter)", spec);
}

static void free_search_args(cli_t *o)
{
    size_t i;
    for (i = 0; i < o->nowned; i++) free(o->owned[i]);
    free((void *)o->owned);
    free(o->filters);
    free((void *)o->sorts);
}

static int exit_code(int rc)
{
    switch (rc) {
    case UTM_OK: return EX_OK;
    case UTM_ERR_AUTH: case UTM_ERR_FORBIDDEN: case UTM_ERR_TFA_CODE: case UTM_TFA_REQUIRED: return EX_CRED;
    case UTM_ERR_LOCKED: return EX_LOCKED;
    case UTM_ERR_TLS: case UTM_ERR_TLS_VERIFY: case UTM_ERR_TLS_PIN: case UTM_ERR_TLS_CA:
    case UTM_ERR_TLS_CLIENT_CERT: case UTM_ERR_TLS_ALLOC: case UTM_ERR_ENTROPY: return EX_TLS;
    case UTM_ERR_DNS: case UTM_ERR_CONNECT: case UTM_ERR_TIMEOUT: case UTM_ERR_NET: case UTM_ERR_CLOSED:
    case UTM_ERR_HTTP_STATUS_LINE: case UTM_ERR_HTTP_HEADER: case UTM_ERR_HTTP_LINE_TOO_LONG:
    case UTM_ERR_HTTP_TOO_MANY_HEADERS: case UTM_ERR_HTTP_HEADERS_TOO_LARGE: case UTM_ERR_HTTP_CONTENT_LENGTH:
    case UTM_ERR_HTTP_CHUNK: case UTM_ERR_HTTP_TRANSFER_ENCODING: return EX_NET;
    case UTM_ERR_ARG: case UTM_ERR_URL: case UTM_ERR_FILTER: case UTM_ERR_HEADER_VALUE: case UTM_ERR_TOO_LONG:
    case UTM_ERR_NO_CREDENTIALS: return EX_USAGE;
    default: return EX_HTTP;
    }
}

/* A whole file ("-": standard input) into a NUL-terminated buffer; *len
 * without the NUL. 0, or EX_USAGE after "cannot read OPT file PATH: why". */
static int read_file(const char *path, const char *opt, char **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 4096, n = 0;
    char *buf = f ? (char *)malloc(cap) : NULL, *more;
    int e = f ? ENOMEM : errno;
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        cap *= 2;
        if (!(more = (char *)realloc(buf, cap))) { free(buf); buf = NULL; }
        else buf = more;
    }
    if (f && f != stdin) fclose(f);
    if (!buf) {
        fprintf(stderr, "utmstack: cannot read %s file %s: %s\n", opt, path, strerror(e));
        return EX_USAGE;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

static utm_posix_t net;          /* the client's port: its errno says why a connect failed */
static const cli_t *log_opts;    /* the options, for the messages */

/* What failed, and what would fix it: the library's text, then the file,
 * address or option concerned. */
static int fail(utm_client_t *c, int rc, const char *what)
{
    const cli_t *o = log_opts;
    char origin[600];
    const char *path, *detail = utm_last_error(c);
    const char *host;
    utm_stats_t st;
    fprintf(stderr, "utmstack: %s: ", what);
    if (o) split_url(o->url, origin, sizeof origin, &path);
    host = o ? strstr(origin, "://") + 3 : "";
    if (o && rc == UTM_ERR_TLS_CA && o->ca) {
        FILE *f = fopen(o->ca, "r");
        if (!f) fprintf(stderr, "cannot read --ca file %s: %s\n", o->ca, strerror(errno));
        else { fclose(f); fprintf(stderr, "no usable CA certificate in --ca file %s\n", o->ca); }
        return exit_code(rc);
    }
    if (o && (rc == UTM_ERR_CONNECT || (rc == UTM_ERR_TIMEOUT && net.last_errno == ETIMEDOUT)) && net.last_errno) {
        const char *why = net.last_errno == ECONNREFUSED ? "connection refused (nothing listens there?)"
                        : net.last_errno == ETIMEDOUT ? "timed out" : net.last_errno == EHOSTUNREACH ||
                          net.last_errno == ENETUNREACH ? "no route to the host" : strerror(net.last_errno);
        fprintf(stderr, "could not connect to %s: %s\n", host, why);
        return exit_code(rc);
    }
    if (o && rc == UTM_ERR_DNS && net.last_gai) {
        fprintf(stderr, "cannot find the address of %s: %s\n", host, gai_strerror(net.last_gai));
        return exit_code(rc);
    }
    fputs(utm_strerror(rc), stderr);
    if (detail[0] && strcmp(detail, utm_strerror(rc)) != 0) {
        fputs(": ", stderr);
        put_escaped(stderr, detail, strlen(detail), 0);
    }
    fputc('\n', stderr);
    if (o && rc == UTM_ERR_TLS_VERIFY && !o->servername) {
        int ip = *host == '[' || strspn(host, "0123456789.:") == strlen(host);
        utm_client_stats(c, &st);
        if (ip && (st.verify_flags & MBEDTLS_X509_BADCERT_CN_MISMATCH))
            fputs("utmstack: the URL names the server by address, and the certificate does not hold that "
                  "address: give the name it holds with --servername NAME\n", stderr);
    }
    return exit_code(rc);
}

static void log_cb(void *user, int level, const char *msg)
{
    (void)user;
    /* --insecure warned once already, in the tool's own words */
    if (log_opts && log_opts->insecure && !log_opts->verbose && !strncmp(msg, "insecure: ", 10)) return;
    fprintf(stderr, "utmstack: %s%s\n", level <= UTM_LOG_WARN ? "warning: " : "", msg);
}

/* A PEM file (certificate or key) whole, its NUL counted. 0 or EX_USAGE. */
static int read_pem(const char *path, const char *opt, unsigned char **out, size_t *len)
{
    char *buf;
    int rc = read_file(path, opt, &buf, len);
    if (rc) return rc;
    *out = (unsigned char *)buf;
    *len += 1;
    return 0;
}

static int tfa_cb(void *user, char *buf, size_t size)
{
    size_t n;
    (void)user;
    if (isatty(STDIN_FILENO)) {
        fputs("Two-factor code: ", stderr);
        fflush(stderr);
    }
    if (!fgets(buf, (int)size, stdin)) return -1;
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = 0;
    return n ? 0 : -1;
}

/* ---- the token cache --------------------------------------------------------
 * One file, several sessions, like gh's hosts file: a header line, then one
 * line per origin and user, "ORIGIN USER EXPIRES TOKEN" (the user with
 * '%', spaces and line ends %-encoded, "-" for none). A token is used only
 * for the origin (scheme, host, port, path prefix) and user it was issued
 * for; never over http:// or with --insecure unless --allow-insecure-token.
 * The file must be a regular file of the caller's, unreadable by others; it
 * is replaced through a new file (O_EXCL, 0600) in its own directory.      */
#define CACHE_HEADER "utmstack-token-cache 1"
#define CACHE_MAX 32768

typedef struct cache { char text[CACHE_MAX + 1]; size_t len; } cache_t;

static int local_error(const char *what, const char *file, const char *why)
{
    fprintf(stderr, "utmstack: %s %s: %s\n", what, file, why);
    return EX_LOCAL;
}

/* scheme://host:port/prefix, lower-case scheme and host, the port explicit */
static void cache_origin(const cli_t *o, char *out, size_t size)
{
    const char *path;
    size_t n;
    split_url(o->url, out, size, &path);
    n = strlen(out);
    snprintf(out + n, size - n, "%s", path);
    n = strlen(out);
    while (n > 0 && out[n - 1] == '/') out[--n] = 0;
}

/* Does the cache line p[0..n) hold this origin's entry for this user (NULL:
 * any user)? */
static int cache_line_is(const char *p, size_t n, const char *origin, const char *user)
{
    size_t lo = strlen(origin), lu = user ? strlen(user) : 0;
    if (n <= lo || strncmp(p, origin, lo) != 0 || p[lo] != ' ') return 0;
    return !user || (n > lo + 1 + lu && strncmp(p + lo + 1, user, lu) == 0 && p[lo + 1 + lu] == ' ');
}

static void iso_time(int64_t t, char *out, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tmv;
    if (!gmtime_r(&tt, &tmv) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tmv)) snprintf(out, size, "?");
}

static void cache_user(const char *user, char *out, size_t size)
{
    size_t n = 0;
    if (!user) { snprintf(out, size, "-"); return; }
    for (; *user && n + 4 < size; user++) {
        unsigned char ch = (unsigned char)*user;
        if (ch <= ' ' || ch == '%' || ch == 0x7f) n += (size_t)snprintf(out + n, size - n, "%%%02X", ch);
        else out[n++] = (char)ch;
    }
    out[n] = 0;
}

/* 0 read (or no file: empty), else the exit code after a message. */
static int cache_read(const cli_t *o, cache_t *k)
{
    struct stat st;
    ssize_t n;
    int fd = open(o->token_file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    k->len = 0;
    k->text[0] = 0;
    if (fd < 0 && errno == ENOENT) return 0;
    if (fd < 0) return local_error("token cache", o->token_file, errno == ELOOP ? "is a symbolic link: refused" : strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) { close(fd); return local_error("token cache", o->token_file, "not a regular file: refused"); }
    if (st.st_uid != geteuid()) { close(fd); return local_error("token cache", o->token_file, "owned by another user: refused"); }
    if (st.st_mode & 077) { close(fd); return local_error("token cache", o->token_file, "readable or writable by others (chmod 600 it): refused"); }
    while ((n = read(fd, k->text + k->len, CACHE_MAX - k->len)) > 0) k->len += (size_t)n;
    close(fd);
    if (n < 0) return local_error("token cache", o->token_file, strerror(errno));
    if (k->len == CACHE_MAX) return local_error("token cache", o->token_file, "larger than 32 KiB: refused");
    k->text[k->len] = 0;
    return 0;
}

/* The entry for this origin and user (any user when none is given): its
 * token into o->token and its expiry; 0 when none. */
static int cache_find(cli_t *o, const cache_t *k, int64_t *exp)
{
    char origin[600], user[600], line[4800];
    const char *p = k->text;
    int found = 0;
    cache_origin(o, origin, sizeof origin);
    cache_user(o->user, user, sizeof user);
    if (strncmp(p, CACHE_HEADER "\n", sizeof CACHE_HEADER) != 0) return 0; /* none, or an old bare token */
    for (p = strchr(p, '\n'); p && *++p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char f_origin[600], f_user[600], f_token[4096];
        long long f_exp;
        if (n < sizeof line && cache_line_is(p, n, origin, o->user ? user : NULL)) {
            memcpy(line, p, n);
            line[n] = 0;
            if (sscanf(line, "%599s %599s %lld %4095s", f_origin, f_user, &f_exp, f_token) == 4) {
                snprintf(o->token, sizeof o->token, "%s", f_token);
                *exp = f_exp;
                found = 1;
            }
            wipe(line, sizeof line);
            wipe(f_token, sizeof f_token);
        }
        if (!end) break;
        p = end;
    }
    return found;
}

/* Rewrite the cache with this origin and user's entry replaced; every
 * other origin's entry is kept. 0, or the exit code after a message. */
static int cache_save(const cli_t *o, const char *token, int64_t exp)
{
    static cache_t k;
    char origin[600], user[600], tmp[4200], dir[4200], *slash;
    const char *p;
    int fd, rc, ok;
    FILE *f;
    if (!o->token_file || !token) return 0;
    rc = cache_read(o, &k);
    if (rc) return rc;
    cache_origin(o, origin, sizeof origin);
    cache_user(o->user, user, sizeof user);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", o->token_file) >= sizeof tmp)
        return local_error("token cache", o->token_file, "name too long");
    fd = mkstemp(tmp); /* O_CREAT|O_EXCL, 0600, in the cache's own directory */
    if (fd < 0) return local_error("cannot write token cache", o->token_file, strerror(errno));
    f = fdopen(fd, "w");
    if (!f) { close(fd); unlink(tmp); return local_error("cannot write token cache", o->token_file, strerror(errno)); }
    fprintf(f, "%s\n", CACHE_HEADER);
    if (!strncmp(k.text, CACHE_HEADER "\n", sizeof CACHE_HEADER))
        for (p = strchr(k.text, '\n'); p && *++p;) {
            const char *end = strchr(p, '\n');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            if (!cache_line_is(p, n, origin, user)) fprintf(f, "%.*s\n", (int)n, p);
            if (!end) break;
            p = end;
        }
    fprintf(f, "%s %s %lld %s\n", origin, user, (long long)exp, token);
    ok = fflush(f) == 0 && fsync(fd) == 0;
    ok = fclose(f) == 0 && ok;
    wipe(&k, sizeof k);
    if (!ok || rename(tmp, o->token_file) != 0) {
        int e = errno;
        unlink(tmp);
        return local_error("cannot write token cache", o->token_file, strerror(e));
    }
    /* the rename itself durable: the directory too */
    snprintf(dir, sizeof dir, "%s", o->token_file);
    slash = strrchr(dir, '/');
    if (slash) *(slash == dir ? slash + 1 : slash) = 0;
    else snprintf(dir, sizeof dir, ".");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) { (void)fsync(fd); close(fd); }
    return 0;
}

/* A refused login (401/423) goes into the cache with the time it holds, so
 * that the next invocations (cron) do not try the same password again. */
static void cache_refusal(utm_client_t *c, const cli_t *o)
{
    uint32_t left;
    int rc = utm_auth_refused(c, &left);
    if (rc && o->token_file && o->user)
        (void)cache_save(o, rc == UTM_ERR_LOCKED ? "refused:423" : "refused:401", (int64_t)time(NULL) + left);
}

/* ---- output ---- */
static void print_json_string(FILE *f, const char *s)
{
    char buf[600];
    if (utm_json_write_string(buf, sizeof buf, s, strlen(s)) < 0) fputs("\"\"", f);
    else fputs(buf, f);
}

/* A document on one line: white space outside strings dropped. Inside
 * strings, DEL and the C1 controls (U+0080-U+009F, which a terminal may
 * take for commands) are written as \u escapes, the same JSON text; the
 * grammar check already refused raw C0 controls. */
static void print_compact(const char *p, size_t n)
{
    size_t i, run = 0;
    int in_str = 0, esc = 0;
    for (i = 0; i < n; i++) {
        char ch = p[i];
        if (in_str) {
            unsigned char u = (unsigned char)ch;
            if (esc) esc = 0;
            else if (ch == '\\') esc = 1;
            else if (ch == '"') in_str = 0;
            else if (u == 0x7f || (u == 0xc2 && i + 1 < n && (unsigned char)p[i + 1] >= 0x80 &&
                                   (unsigned char)p[i + 1] <= 0x9f)) {
                fwrite(p + run, 1, i - run, stdout);
                printf("\\u%04x", u == 0x7f ? 0x7f : (unsigned char)p[i + 1]);
                if (u == 0xc2) i++;
                run = i + 1;
            }
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') {
            fwrite(p + run, 1, i - run, stdout);
            run = i + 1;
        }
    }
    fwrite(p + run, 1, n - run, stdout);
    fputc('\n', stdout);
}

static int on_doc(void *user, const utm_json_t *doc, uint64_t index)
{
    cli_t *o = (cli_t *)user;
    size_t n;
    const char *p = utm_json_raw(doc, 0, &n);
    print_compact(p, n);
    o->printed++;
    if (o->progress && (index + 1) % 100 == 0) {
        int64_t total = o->result ? o->result->total : -1;
        if (total > (int64_t)o->top) total = (int64_t)o->top;
        if (total > 0)
            fprintf(stderr, "\r%llu/%lld documents", (unsigned long long)index + 1, (long long)total);
        else
            fprintf(stderr, "\r%llu documents", (unsigned long long)index + 1);
        fflush(stderr);
    }
    if (ferror(stdout)) {
        if (!o->werr) o->werr = errno;
        return 1;
    }
    return 0;
}

static int on_body(void *user, const char *data, size_t len)
{
    cli_t *o = (cli_t *)user;
    FILE *out = (o->resp.status >= 200 && o->resp.status < 300) ? stdout : stderr;
    if (out == stdout) o->printed += len;
    if (len) o->last_out = (unsigned char)data[len - 1];
    if (out == stderr) { /* an error body on the terminal: no raw control bytes */
        put_escaped(stderr, data, len, 1);
        return 0;
    }
    if (fwrite(data, 1, len, out) == len) return 0;
    if (out == stdout && !o->werr) o->werr = errno;
    return 1;
}

/* ---- commands ---- */
static int cmd_login(utm_client_t *c, cli_t *o)
{
    int rc;
    const char *who;
    if (!o->user || !o->have_password) die_usage("login needs --user and a password (--password-file or UTMSTACK_PASSWORD)", NULL);
    rc = utm_auth_login(c);
    if (rc) return fail(c, rc, "login");
    rc = cache_save(o, utm_auth_token(c), utm_auth_expires(c));
    if (rc) return rc;
    who = utm_auth_subject(c)[0] ? utm_auth_subject(c) : o->user;
    fputs("{\"authenticated\":true,\"user\":", stdout);
    print_json_string(stdout, who);
    printf(",\"expires\":%lld}\n", (long long)utm_auth_expires(c));
    return EX_OK;
}

static int cmd_search(utm_client_t *c, cli_t *o)
{
    utm_search_t s;
    utm_search_result_t r;
    int rc;
    if (!o->index) die_usage("search needs --index PATTERN", NULL);
    if (o->path) die_usage("search takes no PATH", o->path);
    if (!(o->given & OPT_SIZE) && o->all) o->size = 1000; /* fewer, larger pages (the server's window allows) */
    memset(&s, 0, sizeof s);
    s.index_pattern = o->index;
    s.filters = o->filters;
    s.filter_count = o->nfilters;
    s.sort = o->sorts;
    s.sort_count = o->nsorts;
    if (o->page > UINT32_MAX || o->size > UINT32_MAX || o->top > UINT32_MAX) die_usage("number too large", NULL);
    s.page = (uint32_t)o->page;
    s.size = (uint32_t)o->size;
    s.top = (uint32_t)o->top;
    s.on_doc = on_doc;
    s.user = o;
    s.flags = UTM_SEARCH_SKIP_OVERSIZED;
    o->progress = o->all && !o->silent && isatty(STDERR_FILENO);
    o->result = &r;
    rc = o->all ? utm_search_all(c, &s, &r) : utm_search(c, &s, &r);
    o->result = NULL;
    o->last_status = r.status;
    fflush(stdout);
    if (o->progress) fputs("\r\033[K", stderr);
    if (rc == UTM_ERR_ABORTED && ferror(stdout)) return EX_LOCAL; /* main says: write error */
    if (rc && !(rc == UTM_ERR_DOC_TOO_LARGE)) {
        if (r.status && r.status != 200) http_error_line(r.status, r.error);
        return fail(c, rc, "search");
    }
    if (!o->silent) fprintf(stderr, "total=%lld\n", (long long)(r.total >= 0 ? r.total : (int64_t)r.docs));
    if (r.skipped) fprintf(stderr, "utmstack: warning: %llu documents too large were skipped\n", (unsigned long long)r.skipped);
    /* --all stopped by --top, not by the end of the results: say so */
    if (o->all && r.docs + r.skipped >= o->top) /* (X-Total-Count is capped at top: it cannot tell) */
        fprintf(stderr, "utmstack: warning: stopped at --top %lu; there may be more\n", o->top);
    return EX_OK;
}


static int cmd_http(utm_client_t *c, cli_t *o, const char *method)
{
    utm_request_t q;
    char *body = NULL;
    size_t len = 0;
    int rc;
    if (!o->path) die_usage("missing PATH for", o->command);
    if (!strncasecmp(o->path, "https://", 8) || !strncasecmp(o->path, "http://", 7)) path_from_url(o);
    if (o->path[0] != '/') die_usage("PATH must start with / (or be a whole URL on the --url server)", o->path);
    if (o->data && o->data[0] == '@') {
        if (read_file(o->data + 1, "-d", &body, &len)) exit(EX_USAGE);
    } else if (o->data) {
        len = strlen(o->data);
        body = (char *)malloc(len + 1);
        if (!body) exit(EX_USAGE);
        memcpy(body, o->data, len + 1);
    }
    memset(&q, 0, sizeof q);
    q.method = method;
    q.path = o->path;
    q.body = body;
    q.body_len = len;
    q.on_body = on_body;
    q.user = o;
    q.headers = o->headers;
    q.header_count = o->nheaders;
    o->last_out = -1;
    rc = utm_request(c, &q, &o->resp);
    o->last_status = o->resp.status;
    free(body);
    /* a body without a final line end does not leave the prompt after it */
    if (o->last_out >= 0 && o->last_out != '\n' &&
        isatty(o->resp.status >= 200 && o->resp.status < 300 ? STDOUT_FILENO : STDERR_FILENO))
        fputc('\n', o->resp.status >= 200 && o->resp.status < 300 ? stdout : stderr);
    fflush(stdout);
    if (rc == UTM_ERR_ABORTED && ferror(stdout)) return EX_LOCAL; /* main says: write error */
    if (rc) return fail(c, rc, o->command);
    rc = utm_status_error(o->resp.status);
    if (rc) {
        if (o->last_out >= 0 && o->last_out != '\n' && !isatty(STDERR_FILENO)) fputc('\n', stderr); /* after the error body */
        http_error_line(o->resp.status, o->resp.error);
        return rc == UTM_ERR_AUTH || rc == UTM_ERR_FORBIDDEN ? EX_CRED : rc == UTM_ERR_LOCKED ? EX_LOCKED : EX_HTTP;
    }
    return EX_OK;
}

static const struct { unsigned bit; const char *name; const char *commands; } opt_scope[] = {
    { OPT_INDEX, "--index", " search " }, { OPT_FILTER, "--filter", " search " }, { OPT_PAGE, "--page", " search " },
    { OPT_SIZE, "--size", " search " }, { OPT_TOP, "--top", " search " }, { OPT_SORT, "--sort", " search " },
    { OPT_ALL, "--all", " search " }, { OPT_DATA, "--data", " post put " },
    { OPT_HEADER, "-H", " get delete post put " },
};

static void check_scope(const cli_t *o)
{
    char cmd[32];
    size_t i;
    snprintf(cmd, sizeof cmd, " %s ", o->command);
    for (i = 0; i < sizeof opt_scope / sizeof opt_scope[0]; i++)
        if ((o->given & opt_scope[i].bit) && !strstr(opt_scope[i].commands, cmd)) {
            fprintf(stderr, "utmstack: %s does not apply to %s (only to:%s)\n", opt_scope[i].name, o->command,
                    opt_scope[i].commands);
            exit(EX_USAGE);
        }
}

static void print_version(void)
{
    printf("utmstack %s (utmstack.h %s, mbedTLS %s)\n", utm_version(), utm_version(), MBEDTLS_VERSION_STRING);
}

static void print_help(const char *topic)
{
    int op;
    if (!topic) fputs(usage_text, stdout);
    else if (!strcmp(topic, "login")) fputs(help_login, stdout);
    else if (!strcmp(topic, "search")) fputs(help_search, stdout);
    else if (!strcmp(topic, "get") || !strcmp(topic, "delete") || !strcmp(topic, "post") || !strcmp(topic, "put"))
        fputs(help_http, stdout);
    else if (!strcmp(topic, "version")) fputs("usage: utmstack version (or --version): the versions\n", stdout);
    else if (!strcmp(topic, "filter")) {
        fputs("--filter FIELD:OPERATOR[:VALUE], repeatable (all must match). Operators:\n", stdout);
        for (op = 0; op < UTM_OP_COUNT; op++) printf("  %s\n", utm_operator_name((utm_operator_t)op));
        fputs("A VALUE that is JSON (3, true, \"quoted\", [1,2]) is that JSON; otherwise a string, and\n"
              "for IS_ONE_OF, IS_NOT_ONE_OF, IS_ONE_OF_TERMS, CONTAIN_ONE_OF, DOES_NOT_CONTAIN_ONE_OF,\n"
              "IS_BETWEEN and IS_NOT_BETWEEN a comma-separated list (numbers stay numbers).\n"
              "EXIST and DOES_NOT_EXIST take no value. Example: --filter severity:IS_GREATER_THAN:1\n", stdout);
    } else die_usage("no help on", topic);
    exit(EX_OK);
}

static void parse_args(cli_t *o, int argc, char **argv)
{
    int i;
    const char *pwfile = NULL, *keyfile = NULL, *bearerfile = NULL, *timeout = NULL, *max_time = NULL;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        char name[64];
        const char *val = NULL;
        size_t n = eq && a[0] == '-' && a[1] == '-' ? (size_t)(eq - a) : strlen(a);
        if (n >= sizeof name) n = sizeof name - 1;
        memcpy(name, a, n);
        name[n] = 0;
#define TAKES(opt) (strcmp(name, opt) == 0 && ((val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL)) != NULL || (die_usage("missing value for", opt), 0)))
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) print_help(NULL);
        else if (!strcmp(a, "-V") || !strcmp(a, "--version")) { print_version(); exit(EX_OK); }
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) o->verbose = 1;
        else if (!strcmp(a, "-s") || !strcmp(a, "--silent")) o->silent = 1;
        else if (!strcmp(a, "--insecure")) o->insecure = 1;
        else if (!strcmp(a, "--allow-insecure-token")) o->allow_insecure_token = 1;
        else if (!strcmp(a, "--remember-me")) o->remember = 1;
        else if (!strcmp(a, "--all")) { o->all = 1; o->given |= OPT_ALL; }
        else if (TAKES("--url")) o->url = val;
        else if (TAKES("--ca")) o->ca = val;
        else if (TAKES("--servername")) o->servername = val;
        else if (TAKES("--user")) o->user = val;
        else if (TAKES("--password-file")) pwfile = val;
        else if (TAKES("--api-key-file")) keyfile = val;
        else if (TAKES("--bearer-file")) bearerfile = val;
        else if (TAKES("--token-file")) o->token_file = val;
        else if (TAKES("--timeout")) timeout = val;
        else if (TAKES("--max-time") || TAKES("-m")) max_time = val;
        else if (TAKES("--pin")) parse_pin(o, val);
        else if (TAKES("--cert")) o->cert_file = val;
        else if (TAKES("--key")) o->key_file = val;
        else if (TAKES("-H") || TAKES("--header")) { add_header(o, (char *)(uintptr_t)val); o->given |= OPT_HEADER; }
        else if (TAKES("--index")) { o->index = val; o->given |= OPT_INDEX; }
        else if (TAKES("--page")) { o->page = parse_num(val, "--page"); o->given |= OPT_PAGE; }
        else if (TAKES("--size")) { o->size = parse_num(val, "--size"); o->given |= OPT_SIZE; }
        else if (TAKES("--top")) { o->top = parse_num(val, "--top"); o->given |= OPT_TOP; }
        else if (TAKES("--retry")) o->retry = parse_num(val, "--retry");
        else if (TAKES("--data") || TAKES("-d")) { o->data = val; o->given |= OPT_DATA; }
        else if (TAKES("--sort")) {
            o->given |= OPT_SORT;
            const char *comma = strrchr(val, ',');
            if (!comma || comma == val || (strcmp(comma, ",asc") != 0 && strcmp(comma, ",desc") != 0))
                die_usage("--sort wants FIELD,asc or FIELD,desc", val);
            o->sorts = (const char **)realloc((void *)o->sorts, (o->nsorts + 1) * sizeof *o->sorts);
            if (!o->sorts) exit(EX_USAGE);
            o->sorts[o->nsorts++] = val;
        } else if (TAKES("--filter")) {
            o->given |= OPT_FILTER;
            o->filters = (utm_filter_t *)realloc(o->filters, (o->nfilters + 1) * sizeof *o->filters);
            if (!o->filters) exit(EX_USAGE);
            parse_filter(o, val, &o->filters[o->nfilters++]);
        } else if (a[0] == '-' && a[1] != 0) die_usage("unknown option", a);
        else if (!o->command) o->command = a;
        else if (!o->path) o->path = a;
        else die_usage("unexpected argument", a);
#undef TAKES
    }
    if (!o->command) die_usage("no command", NULL);
    if (!strcmp(o->command, "version")) { print_version(); exit(EX_OK); }
    if (!strcmp(o->command, "help")) print_help(o->path);
    if (strcmp(o->command, "login") && strcmp(o->command, "search") && strcmp(o->command, "get") &&
        strcmp(o->command, "post") && strcmp(o->command, "put") && strcmp(o->command, "delete"))
        die_usage("unknown command (utmstack help lists them)", o->command);
    check_scope(o);
    if ((o->given & OPT_SIZE) && o->size == 0) die_usage("--size: at least 1", NULL);
    if ((o->given & OPT_PAGE) && o->page == 0) die_usage("--page: the first page is 1", NULL);
    if ((o->given & OPT_TOP) && o->top == 0) die_usage("--top: at least 1", NULL);
    if (!strcmp(o->command, "login") && o->path) die_usage("login takes no PATH", o->path);
    if ((o->cert_file != NULL) != (o->key_file != NULL)) die_usage("--cert and --key go together", NULL);
    o->url = env_or(o->url, "UTMSTACK_URL");
    o->ca = env_or(o->ca, "UTMSTACK_CA");
    o->servername = env_or(o->servername, "UTMSTACK_SERVERNAME");
    o->user = env_or(o->user, "UTMSTACK_USER");
    o->token_file = env_or(o->token_file, "UTMSTACK_TOKEN_FILE");
    if (max_time) o->timeout_ms = parse_duration(max_time, "--max-time", 1000);
    else if (timeout) o->timeout_ms = parse_duration(timeout, "--timeout", 1);
    else if ((timeout = env_or(NULL, "UTMSTACK_TIMEOUT_MS")) != NULL)
        o->timeout_ms = parse_duration(timeout, "UTMSTACK_TIMEOUT_MS", 1);
    take_secret(pwfile, "UTMSTACK_PASSWORD", o->password, sizeof o->password, &o->have_password, "password");
    take_secret(keyfile, "UTMSTACK_API_KEY", o->api_key, sizeof o->api_key, &o->have_api_key, "API key");
    take_secret(bearerfile, "UTMSTACK_BEARER", o->bearer, sizeof o->bearer, &o->have_bearer, "bearer");
    if (!o->url) die_usage("no server: --url or UTMSTACK_URL", NULL);
}

/* The cached session for this origin and user, when there is one and it may
 * be sent here: o->token_valid, or a note saying why not. 0, or EX_LOCAL. */
static int cache_load(utm_client_t *c, cli_t *o)
{
    static cache_t k;
    char origin[600];
    char when[40];
    int64_t exp = 0;
    int rc, plain;
    if (!o->token_file || !strcmp(o->command, "login")) return 0;
    rc = cache_read(o, &k);
    if (rc) return rc;
    cache_origin(o, origin, sizeof origin);
    plain = strncmp(origin, "http://", 7) == 0;
    if (!cache_find(o, &k, &exp)) {
        snprintf(o->cache_note, sizeof o->cache_note, "no cached session for %s%s%s in %s: run `utmstack login`", origin,
                 o->user ? " and user " : "", o->user ? o->user : "", o->token_file);
    } else if (!strncmp(o->token, "refused:", 8)) { /* a refused login, recorded: cron must not lock the account */
        if (exp > (int64_t)time(NULL) && o->user && o->have_password) {
            iso_time(exp, when, sizeof when);
            fprintf(stderr, "utmstack: %s refused this login (HTTP %s): not tried again before %s; "
                            "`utmstack login` tries it now\n", origin, o->token + 8, when);
            wipe(&k, sizeof k);
            return strcmp(o->token + 8, "423") == 0 ? EX_LOCKED : EX_CRED;
        }
        snprintf(o->cache_note, sizeof o->cache_note, "no cached session for %s: run `utmstack login`", origin);
    } else if ((plain || o->insecure) && !o->allow_insecure_token) {
        snprintf(o->cache_note, sizeof o->cache_note, "the cached session for %s is not sent %s (--allow-insecure-token)",
                 origin, plain ? "over http://" : "with --insecure");
    } else if (utm_auth_set_token(c, o->token) == UTM_OK && utm_auth_expires(c) > (int64_t)time(NULL) + 60) {
        o->token_valid = 1; /* judged by its exp claim against our clock, with a minute to spare */
    } else {
        iso_time(utm_auth_expires(c) ? utm_auth_expires(c) : exp, when, sizeof when);
        snprintf(o->cache_note, sizeof o->cache_note, "the cached session for %s expired at %s: run `utmstack login`",
                 origin, when);
    }
    utm_auth_clear(c);
    wipe(&k, sizeof k);
    return 0;
}

/* The password from the terminal, without echo, when standard input is one. */
static void prompt_password(cli_t *o)
{
    struct termios was, quiet;
    size_t n;
    int ok;
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &was) != 0) return;
    quiet = was;
    quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
    /* echo off (and what was typed before it dropped) first, then the prompt:
     * an answer typed as soon as the prompt shows is never flushed */
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) return;
    fprintf(stderr, "Password for %s: ", o->user);
    fflush(stderr);
    ok = fgets(o->password, sizeof o->password, stdin) != NULL;
    (void)tcsetattr(STDIN_FILENO, TCSANOW, &was);
    fputc('\n', stderr);
    if (!ok) o->password[0] = 0;
    n = strlen(o->password);
    while (n > 0 && (o->password[n - 1] == '\n' || o->password[n - 1] == '\r')) o->password[--n] = 0;
    o->have_password = n > 0;
}

/* Credentials, in order: internal key, fixed bearer, user and password
 * (with a cached token when one is valid), a valid cached token alone.      */
static int setup_auth(utm_client_t *c, cli_t *o)
{
    int rc = UTM_OK, login = strcmp(o->command, "login") == 0;
    if (o->have_api_key) return utm_auth_use_internal_key(c, o->api_key);
    if (o->have_bearer) return utm_auth_use_bearer(c, o->bearer);
    if (o->user && !o->have_password && (login || !o->token_valid)) prompt_password(o);
    if (o->user && o->have_password) {
        rc = utm_auth_use_password(c, o->user, o->password, o->remember);
        if (rc == UTM_OK && o->token_valid) rc = utm_auth_set_token(c, o->token);
        return rc;
    }
    if (o->token_valid && !login) return utm_auth_set_token(c, o->token);
    if (login) die_usage("login needs --user and a password (--password-file or UTMSTACK_PASSWORD)", NULL);
    if (o->token_file && o->cache_note[0]) { /* the cache's own reason, not a usage text */
        fprintf(stderr, "utmstack: %s\n", o->cache_note);
        exit(EX_USAGE);
    }
    die_usage("no credentials: --user with a password, --api-key-file, --bearer-file or a valid --token-file", NULL);
    return rc;
}

int main(int argc, char **argv)
{
    static utm_client_t client;
    static cli_t o;
    utm_config_t cfg;
    unsigned char *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    int rc, code;
    unsigned attempt;
    memset(&net, 0, sizeof net);
    o.page = 1;
    o.size = 20;
    o.top = 10000;
    o.last_out = -1;
    parse_args(&o, argc, argv);
    memset(&cfg, 0, sizeof cfg);
    cfg.url = o.url;
    cfg.servername = o.servername;
    cfg.ca_file = o.ca;
    cfg.insecure = o.insecure;
    if (o.have_pin) cfg.pin_sha256 = o.pin;
    if (o.cert_file) {
        code = read_pem(o.cert_file, "--cert", &cert, &cert_len);
        if (!code) code = read_pem(o.key_file, "--key", &key, &key_len);
        if (code) return code;
    }
    cfg.port = utm_posix_port();
    cfg.port_ctx = &net;
    cfg.log_fn = log_cb;
    cfg.log_level = o.verbose ? UTM_LOG_DEBUG : UTM_LOG_WARN;
    cfg.tfa_fn = tfa_cb;
    /* the tool's contract allows http:// URLs; the library warns on every
     * such connect (on stderr, through log_cb) */
    cfg.allow_plain_credentials = 1;
    if (o.timeout_ms) {
        cfg.request_timeout_ms = (uint32_t)o.timeout_ms;
        cfg.io_timeout_ms = (uint32_t)o.timeout_ms;
        cfg.connect_timeout_ms = (uint32_t)o.timeout_ms;
    }
    if (o.insecure) fputs("utmstack: warning: --insecure: the server certificate is not checked\n", stderr);
    log_opts = &o;
    rc = utm_client_init(&client, &cfg);
    if (rc == UTM_OK && cert) rc = utm_client_use_cert(&client, cert, cert_len, key, key_len, NULL);
    if (cert) { wipe(key, key_len); free(cert); free(key); }
    if (rc) {
        code = fail(&client, rc, "setup");
        utm_client_free(&client);
        return rc == UTM_ERR_URL || rc == UTM_ERR_ARG ? EX_USAGE : code;
    }
    code = cache_load(&client, &o);
    if (code) {
        utm_client_free(&client);
        return code;
    }
    rc = setup_auth(&client, &o);
    if (rc) {
        code = fail(&client, rc, "credentials");
        utm_client_free(&client);
        return EX_USAGE;
    }
    if (o.retry > 100) die_usage("--retry: at most 100", NULL);
    for (attempt = 0;; attempt++) {
        int safe = !strcmp(o.command, "get") || !strcmp(o.command, "search");
        o.last_status = 0;
        if (!strcmp(o.command, "login")) code = cmd_login(&client, &o);
        else if (!strcmp(o.command, "search")) code = cmd_search(&client, &o);
        else if (!strcmp(o.command, "get")) code = cmd_http(&client, &o, "GET");
        else if (!strcmp(o.command, "delete")) code = cmd_http(&client, &o, "DELETE");
        else if (!strcmp(o.command, "post")) code = cmd_http(&client, &o, "POST");
        else code = cmd_http(&client, &o, "PUT");
        /* a safe call, after a network failure or a 5xx, with nothing written
         * yet (never after 4xx: a refused request stays refused) */
        if (attempt < o.retry && safe && o.printed == 0 &&
            (code == EX_NET || (code == EX_HTTP && o.last_status >= 500))) {
            uint32_t ms = utm_backoff_ms(&client, attempt, 1000, 30000);
            struct timespec ts;
            fprintf(stderr, "utmstack: retry %u of %lu in %.1f s\n", attempt + 1, o.retry, ms / 1000.0);
            ts.tv_sec = (time_t)(ms / 1000);
            ts.tv_nsec = (long)(ms % 1000) * 1000000L;
            nanosleep(&ts, NULL);
            continue;
        }
        break;
    }
    cache_refusal(&client, &o);
    /* a renewed token goes back to the cache */
    if (strcmp(o.command, "login") != 0 && o.token_file && utm_auth_token(&client) &&
        o.user && o.have_password && strcmp(utm_auth_token(&client), o.token) != 0) {
        int saved = cache_save(&o, utm_auth_token(&client), utm_auth_expires(&client));
        if (saved && code == EX_OK) code = saved;
    }
    utm_client_free(&client);
    free_search_args(&o);
    /* output that did not reach its file is a failure, said once (a closed
     * pipe ends the tool by SIGPIPE before this, quietly, as grep does) */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "utmstack: write error: %s\n", strerror(o.werr ? o.werr : errno ? errno : EIO));
        code = EX_LOCAL;
    }
    wipe(&o, sizeof o);
    return code;
}

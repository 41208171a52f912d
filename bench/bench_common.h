/* What every benchmark client shares: the command line, the search request,
 * the check that a body is a JSON array, the summary line. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bench_args {
    const char *host, *ca, *mode, *servername, *user, *password, *api_key;
    unsigned port, requests, size;
    int no_reuse, no_resume, chunked, parse;
} bench_args_t;

static void bench_usage(const char *why)
{
    fprintf(stderr, "bench: %s\nusage: CLIENT --host H --port P --ca CA.pem --mode bearer|apikey --requests N\n"
                    "       --size 25|1000 [--no-reuse] [--no-resume] [--chunked] [--servername NAME]\n"
                    "       [--user U] [--password P] [--api-key K] [--parse]\n", why);
    exit(2);
}

static unsigned bench_num(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v == 0 || v > 100000000ul) bench_usage("not a positive number");
    return (unsigned)v;
}

static void bench_parse(bench_args_t *a, int argc, char **argv, int has_parse)
{
    int i;
    memset(a, 0, sizeof *a);
    a->user = "admin";
    a->password = "s3cret-Passw0rd";
    a->api_key = "bench-internal-key";
    for (i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL(name) (strcmp(o, name) == 0 && (v ? (i++, 1) : (bench_usage("missing value"), 0)))
        if (!strcmp(o, "--no-reuse")) a->no_reuse = 1;
        else if (!strcmp(o, "--no-resume")) a->no_resume = 1;
        else if (!strcmp(o, "--chunked")) a->chunked = 1;
        else if (has_parse && !strcmp(o, "--parse")) a->parse = 1;
        else if (VAL("--host")) a->host = v;
        else if (VAL("--port")) a->port = bench_num(v);
        else if (VAL("--ca")) a->ca = v;
        else if (VAL("--mode")) a->mode = v;
        else if (VAL("--requests")) a->requests = bench_num(v);
        else if (VAL("--size")) a->size = bench_num(v);
        else if (VAL("--servername")) a->servername = v;
        else if (VAL("--user")) a->user = v;
        else if (VAL("--password")) a->password = v;
        else if (VAL("--api-key")) a->api_key = v;
        else bench_usage("unknown argument");
#undef VAL
    }
    if (!a->host || !a->port || !a->ca || !a->mode || !a->requests || !a->size) bench_usage("missing argument");
    if (strcmp(a->mode, "bearer") != 0 && strcmp(a->mode, "apikey") != 0) bench_usage("--mode bearer|apikey");
    if (a->port > 65535) bench_usage("bad port");
    if (!a->servername) a->servername = a->host;
}

static const char BENCH_FILTER[] = "[{\"field\":\"status\",\"operator\":\"IS\",\"value\":2}]";

/* "Checked as a JSON array": first and last non-blank bytes are [ and ]. */
typedef struct bench_body { unsigned long long bytes; int first, last; } bench_body_t;

static void bench_body_feed(bench_body_t *b, const char *p, size_t n)
{
    size_t i;
    b->bytes += n;
    for (i = 0; i < n; i++) {
        char ch = p[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
        if (!b->first) b->first = ch;
        break;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == '\t')) n--;
    if (n > 0) b->last = p[n - 1];
}

static int bench_body_ok(const bench_body_t *b) { return b->first == '[' && b->last == ']'; }

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
#endif

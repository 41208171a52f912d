/* fleet: N devices, each a thread with its own utm_client_t, against one
 * UTMStack emulator (bench/fleet.py runs it; `make fleet`).
 *
 *   fleet PORT CA DEVICES SECONDS MODE [PERIOD_MS] [shared]
 *
 * Each device asks GET /api/account every PERIOD_MS (default 2000, each
 * device's period drawn once within +-10%: clocks and work differ), logged in
 * with the emulator's admin password. MODE:
 *   now     the library as it is: a refused login is kept (no new attempt
 *           until the cool-down), renewals spread over renew_window_s,
 *           failures waited out with utm_backoff_ms (which honours
 *           Retry-After);
 *   before  what a device did before: the password set again after every
 *           refusal (each call logs in again), renewal at a fixed margin
 *           (a 1 s window), a retry loop with a fixed 1 s wait.
 * Every device connects from its own loopback address (127.1.x.y), as
 * devices behind their own addresses; `shared` puts them all behind
 * 127.0.0.1, as behind one NAT address. Prints one line:
 *   fleet: devices=N ok=R failed=F
 * The emulator's event log (/_emulator/events) has the rest.              */
#define _GNU_SOURCE
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_posix.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct device {
    utm_posix_t net; /* first: the port's context is the device */
    struct in_addr src;
    utm_client_t c;
    unsigned ok, failed;
    pthread_t th;
} device_t;

static const char *ca_file;
static unsigned short server_port;
static double run_s, period_ms = 2000;
static int before, shared;
static double t_start;
static utm_port_t fleet_port;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(double ms)
{
    struct timespec ts;
    if (ms <= 0) return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
    while (nanosleep(&ts, &ts) != 0) {}
}

/* The POSIX port's connect, from the device's own address. */
static int fleet_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    device_t *d = (device_t *)ctx;
    struct sockaddr_in to, from;
    struct pollfd pfd;
    int fd, err = 0;
    socklen_t len = sizeof err;
    (void)host;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return UTM_ERR_CONNECT;
    if (!shared) {
        memset(&from, 0, sizeof from);
        from.sin_family = AF_INET;
        from.sin_addr = d->src;
        if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0) { close(fd); return UTM_ERR_CONNECT; }
    }
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS) { close(fd); return UTM_ERR_CONNECT; }
    pfd.fd = fd;
    pfd.events = POLLOUT;
    if (poll(&pfd, 1, (int)timeout_ms) != 1) { close(fd); return UTM_ERR_TIMEOUT; }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err) { close(fd); return UTM_ERR_CONNECT; }
    d->net.fd_plus1 = fd + 1;
    return UTM_OK;
}

static void *device_run(void *arg)
{
    device_t *d = (device_t *)arg;
    unsigned char r[2];
    char body[512];
    double period, end = t_start + run_s;
    unsigned attempt = 0;
    utm_request_t q;
    utm_response_t resp;
    fleet_port.entropy_fn(NULL, r, sizeof r);
    period = period_ms * (0.9 + 0.2 * (double)(r[0] | r[1] << 8) / 65535.0);
    memset(&q, 0, sizeof q);
    q.method = "GET";
    q.path = "/api/account";
    q.body_buf = body;
    q.body_size = sizeof body;
    q.flags = UTM_REQ_RETRY_SAFE;
    sleep_ms((t_start - now_s()) * 1000); /* boot together */
    while (now_s() < end) {
        int rc = utm_request(&d->c, &q, &resp);
        double wait = period;
        if (rc == UTM_OK && resp.status >= 500) rc = UTM_ERR_SERVER;
        if (rc == UTM_OK && resp.status == 200) {
            d->ok++;
            attempt = 0;
        } else {
            d->failed++;
            if (utm_retryable(rc))
                wait = before ? 1000 : utm_backoff_ms(&d->c, attempt++, 500, 30000);
            else if (before && (rc == UTM_ERR_AUTH || rc == UTM_ERR_LOCKED))
                utm_auth_use_password(&d->c, "admin", "s3cret-Passw0rd", 0);
        }
        if (wait > (end - now_s()) * 1000) wait = (end - now_s()) * 1000;
        sleep_ms(wait);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    device_t *dev;
    unsigned n, i, ok = 0, failed = 0;
    char url[64];
    if (argc < 6) {
        fprintf(stderr, "usage: fleet PORT CA DEVICES SECONDS now|before [PERIOD_MS] [shared]\n");
        return 2;
    }
    server_port = (unsigned short)atoi(argv[1]);
    ca_file = argv[2];
    n = (unsigned)atoi(argv[3]);
    run_s = atof(argv[4]);
    before = strcmp(argv[5], "before") == 0;
    if (argc > 6) period_ms = atof(argv[6]);
    shared = argc > 7 && strcmp(argv[7], "shared") == 0;
    if (n < 1 || n > 5000 || run_s <= 0 || run_s > 600) { fprintf(stderr, "fleet: 1-5000 devices, 1-600 s\n"); return 2; }
    fleet_port = *utm_posix_port();
    fleet_port.connect_fn = fleet_connect;
    snprintf(url, sizeof url, "https://localhost:%u", server_port);
    dev = calloc(n, sizeof *dev);
    if (!dev) return 1;
    for (i = 0; i < n; i++) {
        utm_config_t cfg;
        int rc;
        memset(&cfg, 0, sizeof cfg);
        cfg.url = url;
        cfg.ca_file = ca_file;
        cfg.port = &fleet_port;
        cfg.port_ctx = &dev[i];
        cfg.renew_margin_s = 2;
        if (before) cfg.renew_window_s = 1;
        dev[i].src.s_addr = htonl(0x7f010000u + 2u + i); /* 127.1.0.2 ... */
        rc = utm_client_init(&dev[i].c, &cfg);
        if (rc == UTM_OK) rc = utm_auth_use_password(&dev[i].c, "admin", "s3cret-Passw0rd", 0);
        if (rc) { fprintf(stderr, "fleet: device %u: %s\n", i, utm_strerror(rc)); return 1; }
    }
    t_start = now_s() + 0.5;
    for (i = 0; i < n; i++)
        if (pthread_create(&dev[i].th, NULL, device_run, &dev[i]) != 0) { fprintf(stderr, "fleet: no thread\n"); return 1; }
    for (i = 0; i < n; i++) {
        pthread_join(dev[i].th, NULL);
        ok += dev[i].ok;
        failed += dev[i].failed;
        utm_client_free(&dev[i].c);
    }
    free(dev);
    printf("fleet: devices=%u ok=%u failed=%u\n", n, ok, failed);
    return 0;
}

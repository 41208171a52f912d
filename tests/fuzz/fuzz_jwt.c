/* JWT payload decoding (base64url, then jsmn) through utm_auth_set_token,
 * and base64url itself. Invariants: a token with a control character or a
 * space is refused; an accepted one is kept byte for byte; decoding what a
 * reference encoder made gives the input back.                              */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "../fake.h"
#include <stdlib.h>

static utm_client_t C;
static fake_t F;

static size_t b64url(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i, o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) { bits -= 6; out[o++] = a[(acc >> bits) & 63]; }
    }
    if (bits) out[o++] = a[(acc << (6 - bits)) & 63];
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char tok[UTMSTACK_TOKEN_MAX + 64], enc[8192];
    static unsigned char dec[8192];
    utm_config_t cfg;
    size_t n = size < sizeof tok - 1 ? size : sizeof tok - 1;
    int rc;
    long k;
    memcpy(tok, data, n);
    tok[n] = 0;
    fake_reset(&F, NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.url = "http://fuzz.test";
    cfg.allow_plain_credentials = 1;
    cfg.port = &fake_port;
    cfg.port_ctx = &F;
    if (utm_client_init(&C, &cfg) != UTM_OK) abort();
    rc = utm_auth_set_token(&C, tok);
    if (rc == UTM_OK) {
        if (!utm_auth_token(&C) || strcmp(utm_auth_token(&C), tok) != 0 || utm__has_ctl(tok, strlen(tok)) || strchr(tok, ' '))
            abort();
    } else if (strcmp(utm_strerror(rc), "unknown error") == 0) {
        abort();
    }
    utm_client_free(&C);
    /* base64url round trip */
    if (size <= 6000) {
        size_t e = b64url(data, size, enc);
        k = utm__b64url_decode(enc, e, dec, sizeof dec);
        if (k != (long)size || memcmp(dec, data, size) != 0) abort();
    }
    return 0;
}

/* sizes: what a utm_client_t costs, and of that what mbedTLS's contexts
 * take (`make sizes`). The figures in README.md come from this program.     */
#include "utmstack.h"
#include <stdio.h>

#define ROW(what, n) printf("%-40s %7lu\n", what, (unsigned long)(n))
#if MBEDTLS_VERSION_NUMBER < 0x04000000
#define DRBG(c) sizeof (c)->drbg_
#else
#define DRBG(c) 0 /* PSA's generator: process-wide, not in the client */
#endif

int main(void)
{
    utm_client_t *c = NULL;
    size_t tls = sizeof c->ssl_ + sizeof c->conf_ + DRBG(c) + sizeof c->ca_ + sizeof c->own_cert_ +
                 sizeof c->own_key_ + sizeof c->session_;
    printf("utmstack.h %s, mbedTLS %s, defaults\n", UTMSTACK_VERSION_STRING, MBEDTLS_VERSION_STRING);
    ROW("utm_client_t (bytes)", sizeof(utm_client_t));
    ROW("  I/O buffer (UTMSTACK_BUF_SIZE)", sizeof c->buf_);
    ROW("  document buffer (UTMSTACK_DOC_SIZE)", sizeof c->doc_);
    ROW("  JSON tokens (UTMSTACK_JSON_TOKENS)", sizeof c->tok_);
    ROW("  credentials (token, user, password)", sizeof c->cred_ + sizeof c->user_ + sizeof c->pass_ + sizeof c->sub_);
    ROW("  mbedTLS contexts, of which:", tls);
    ROW("    mbedtls_ssl_context", sizeof c->ssl_);
    ROW("    mbedtls_ssl_config", sizeof c->conf_);
    ROW("    mbedtls_ctr_drbg_context", DRBG(c));
    ROW("    mbedtls_x509_crt x2 (CA, own)", sizeof c->ca_ + sizeof c->own_cert_);
    ROW("    mbedtls_pk_context", sizeof c->own_key_);
    ROW("    mbedtls_ssl_session", sizeof c->session_);
    ROW("  everything else", sizeof(utm_client_t) - tls - sizeof c->buf_ - sizeof c->doc_ - sizeof c->tok_ -
                                  sizeof c->cred_ - sizeof c->user_ - sizeof c->pass_ - sizeof c->sub_);
    return 0;
}

/* A lean mbedTLS 2.28 / 3.6 configuration for utmstack.h on a microcontroller:
 * TLS 1.2 client only, ECDHE with ECDSA or RSA certificates, AES-GCM and
 * ChaCha20-Poly1305, X25519 / P-256 / P-384, no server code, no file system.
 * Use: -DMBEDTLS_CONFIG_FILE='"mbedtls_lean_config.h"' (mbedTLS 3.x: the same
 * macro, or MBEDTLS_USER_CONFIG_FILE on top of a default).
 *
 * Trade-offs, on purpose:
 * - MBEDTLS_SSL_IN_CONTENT_LEN stays 16384: a server may send full-size TLS
 *   records and not every one honours max_fragment_length. OUT is 4096: our
 *   requests are small, larger bodies go out in several records. Where the
 *   server does honour it (OpenSSL 1.1.1 and later do), build mbedTLS and
 *   the application with -DMBEDTLS_SSL_IN_CONTENT_LEN=4096: utmstack.h then
 *   asks for 4 KiB records and the session's heap drops by 12 KiB (measured
 *   by make test-qemu). A server that ignores the request sends records the
 *   client cannot take, and the connection fails (UTM_ERR_TLS).
 * - Certificate validity dates are checked against the firmware's clock:
 *   MBEDTLS_PLATFORM_TIME_ALT, and the firmware calls
 *   mbedtls_platform_set_time() with a function over its port's time_fn
 *   (mcu/firmware.c); 3.6 also wants mbedtls_ms_time() from the firmware
 *   (MBEDTLS_PLATFORM_MS_TIME_ALT). While the port's time_fn says 0 (no
 *   clock yet), utm_client skips the date check and says so.
 * - No TLS 1.3, no RSA key exchange, no CBC suites, no DHE, no SHA-1 in
 *   certificates.
 * - Entropy comes from the port (the DRBG is seeded by utm_port_t.entropy_fn):
 *   no MBEDTLS_ENTROPY_C.
 */
#ifndef UTMSTACK_MBEDTLS_LEAN_CONFIG_H
#define UTMSTACK_MBEDTLS_LEAN_CONFIG_H

/* system */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY            /* mbedtls_platform_set_calloc_free() */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_TIME_ALT          /* mbedtls_platform_set_time() */
#define MBEDTLS_PLATFORM_MS_TIME_ALT       /* 3.6: the firmware's mbedtls_ms_time() */

/* TLS: a 1.2 client */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#ifndef MBEDTLS_SSL_IN_CONTENT_LEN
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#endif
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED

/* ciphers */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES              /* tables in flash, not RAM */
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C                    /* SHA-384 suites and certificates */
#define MBEDTLS_CTR_DRBG_C

/* public keys and certificates */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_OID_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_BASE64_C

#if defined(MBEDTLS_VERSION_MAJOR) || defined(MBEDTLS_VERSION_NUMBER)
#endif
#if !defined(MBEDTLS_BUILD_INFO_H) /* 2.28 wants its checks here; 3.x runs them itself */
#include "mbedtls/check_config.h"
#endif
#endif

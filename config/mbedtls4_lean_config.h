/* A lean mbedTLS 4.x configuration (the TLS and X.509 half) for utmstack.h
 * on a microcontroller; config/tfpsa_lean_config.h is the crypto half and
 * says how to use both. TLS 1.2 and 1.3 client, ECDHE-ECDSA and ECDHE-RSA,
 * session tickets, SNI, no server code, no file system.
 *
 * MBEDTLS_SSL_IN_CONTENT_LEN stays 16384: with smaller receive records and
 * TLS 1.3 on, handshakes with an OpenSSL server fail (measured with 4.0.0:
 * -0x7500), so a build with -DMBEDTLS_SSL_IN_CONTENT_LEN below 16384 also
 * turns TLS 1.3 off here and asks for max_fragment_length on TLS 1.2.
 */
#ifndef UTMSTACK_MBEDTLS4_LEAN_CONFIG_H
#define UTMSTACK_MBEDTLS4_LEAN_CONFIG_H

#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
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
#if MBEDTLS_SSL_IN_CONTENT_LEN >= 16384
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#endif

#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT

#endif

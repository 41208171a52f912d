/* A lean TF-PSA-Crypto 1.x configuration (the crypto half of mbedTLS 4.x)
 * for utmstack.h on a microcontroller; config/mbedtls4_lean_config.h is
 * the TLS half. Use both:
 *   -DTF_PSA_CRYPTO_CONFIG_FILE='"tfpsa_lean_config.h"'
 *   -DMBEDTLS_CONFIG_FILE='"mbedtls4_lean_config.h"'
 *
 * What it gives: ECDHE with X25519 and P-256 (P-384 for certificates),
 * ECDSA and RSA (PKCS#1 v1.5 and PSS) verification, AES-GCM and
 * ChaCha20-Poly1305, SHA-256/384, HKDF and the TLS 1.2 PRF.
 *
 * Entropy: no operating system source. MBEDTLS_PSA_DRIVER_GET_ENTROPY makes
 * PSA call mbedtls_platform_get_entropy(); build utmstack.h's implementation
 * with -DUTMSTACK_PSA_ENTROPY_FN=your_rng (the port's entropy function, C
 * linkage, full entropy) and the library provides that hook from it.
 *
 * Dates: MBEDTLS_HAVE_TIME_DATE with MBEDTLS_PLATFORM_TIME_ALT: the
 * mbedtls_platform_set_time() (mcu/firmware.c: from the port's time_fn)
 * and certificate validity dates are checked. TLS 1.3 ticket ages need a
 * millisecond clock: the firmware defines mbedtls_ms_time() (from the
 * port's now_ms_fn).
 *
 * Threads: PSA's generator and key store are process-wide; with more than
 * one task using TLS add MBEDTLS_THREADING_C and MBEDTLS_THREADING_ALT.
 */
#ifndef UTMSTACK_TFPSA_LEAN_CONFIG_H
#define UTMSTACK_TFPSA_LEAN_CONFIG_H

#define PSA_WANT_ALG_ECDH                       1
#define PSA_WANT_ALG_ECDSA                      1
#define PSA_WANT_ALG_DETERMINISTIC_ECDSA        1
#define PSA_WANT_ALG_RSA_PKCS1V15_SIGN          1
#define PSA_WANT_ALG_RSA_PSS                    1
#define PSA_WANT_ALG_GCM                        1
#define PSA_WANT_ALG_CHACHA20_POLY1305          1
#define PSA_WANT_ALG_SHA_256                    1
#define PSA_WANT_ALG_SHA_384                    1
#define PSA_WANT_ALG_HMAC                       1
#define PSA_WANT_ALG_HKDF                       1
#define PSA_WANT_ALG_HKDF_EXTRACT               1
#define PSA_WANT_ALG_HKDF_EXPAND                1
#define PSA_WANT_ALG_TLS12_PRF                  1
#define PSA_WANT_ECC_MONTGOMERY_255             1
#define PSA_WANT_ECC_SECP_R1_256                1
#define PSA_WANT_ECC_SECP_R1_384                1
#define PSA_WANT_KEY_TYPE_AES                   1
#define PSA_WANT_KEY_TYPE_CHACHA20              1
#define PSA_WANT_KEY_TYPE_DERIVE                1
#define PSA_WANT_KEY_TYPE_HMAC                  1
#define PSA_WANT_KEY_TYPE_RAW_DATA              1
#define PSA_WANT_KEY_TYPE_ECC_PUBLIC_KEY        1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_BASIC    1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_IMPORT   1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_EXPORT   1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_GENERATE 1
#define PSA_WANT_KEY_TYPE_RSA_PUBLIC_KEY        1
/* mbedTLS 4.0's checks ask these of ECDHE-RSA and of PSS certificates,
 * though a client only verifies */
#define PSA_WANT_KEY_TYPE_RSA_KEY_PAIR_BASIC    1
#define PSA_WANT_ALG_RSA_PKCS1V15_CRYPT         1
#define PSA_WANT_ALG_RSA_OAEP                   1

#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_DRIVER_GET_ENTROPY          /* from the port: see above */
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS    /* no copies of each record */

#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY                 /* mbedtls_platform_set_calloc_free() */
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_TIME_ALT               /* mbedtls_platform_set_time() */
#define MBEDTLS_PLATFORM_MS_TIME_ALT            /* the firmware's mbedtls_ms_time() */

#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_MD_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C

#define MBEDTLS_HAVE_ASM
#define MBEDTLS_AES_ROM_TABLES                  /* tables in flash, not RAM */
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_MPI_MAX_SIZE 512                /* RSA-4096 certificates */

#endif

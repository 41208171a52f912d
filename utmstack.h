/* utmstack.h - a single-header C client for the UTMStack SIEM REST API.
 * https://github.com/utmstack (the server); this file: MIT license, see the end.
 *
 * QUICK START
 *
 *   In exactly one C file of your project:
 *
 *       #define UTMSTACK_IMPLEMENTATION
 *       #include "utmstack.h"
 *       #include "utmstack_posix.h"     (or your own port: see PORT)
 *
 *   Everywhere else just #include "utmstack.h". Link mbedTLS 2.28, 3.6 or
 *   4.x (libmbedtls, libmbedx509, libmbedcrypto; on 4.x TF-PSA-Crypto's
 *   libtfpsacrypto); jsmn.h must be on the include path.
 *
 *   Then: zero a utm_config_t, set url, port (utm_posix_port()) and
 *   port_ctx; utm_client_init(); choose credentials (utm_auth_use_*); call
 *   utm_search() / utm_request(); utm_client_free() wipes every secret.
 *   examples/quickstart.c is that program in 40 lines (built by `make`).
 *
 * LAYERS (each a section of the implementation, in data order; PORT is
 * the utm_port_t contract, below)
 *
 *   util     strings, numbers, base64url, UTF-8, percent-encoding
 *   json     jsmn behind our own accessors; JSON string writer; the
 *            streaming splitter that cuts a result array into documents
 *   port     connect/send/recv/close with timeouts, a monotonic clock and
 *            entropy: a const table of function pointers plus a context
 *   tls      mbedTLS over the port's send/recv; session resumption
 *   http     request writer; response reader (a state machine over the
 *            receive buffer: status, headers, Content-Length, chunked,
 *            read-until-close); keep-alive and one safe retry. Upper
 *            layers read their own response headers through a hook
 *            (utm__req_t.hdr_hook) and hand down the credential header
 *            (utm__req_t.cred); Date and Retry-After are kept as text
 *   auth     none / login (JWT, renewal, TFA) / fixed bearer / internal key
 *   api      utm_request (any endpoint), utm_search, utm_search_all
 *   (docs/HACKING.md: the map, the rules for callbacks, recipes)
 *
 * RESULTS
 *
 *   Every function returns an int: UTM_OK (0) on success, a negative UTM_ERR_*
 *   on failure, utm_strerror() names each. UTM_TFA_REQUIRED (1) is the one
 *   positive code: the login needs a two-factor code. An HTTP status is data,
 *   not an error code: utm_request() returns UTM_OK for a 404 and puts 404 in
 *   the response; utm_status_error() maps a status to a code. After any error
 *   the client stays usable: the next call opens a fresh connection if needed.
 *   utm_last_error() gives details (the server's X-UtmStack-error text, the
 *   certificate verification reason, which filter was refused).
 *
 * CONFIGURATION MACROS (define before including; equal in every file where
 * marked LAYOUT, since they change the size of utm_client_t)
 *
 *   UTMSTACK_CONFIG_FILE        "file.h" included first, for all of these
 *   UTMSTACK_BUF_SIZE           LAYOUT 4096   bytes, 512..1M: send/receive
 *                               buffer; also the longest status/header line
 *   UTMSTACK_DOC_SIZE           LAYOUT 8192   bytes, 256..16M: the largest
 *                               search document / login answer held at once
 *   UTMSTACK_JSON_TOKENS        LAYOUT 512    tokens, 16..1M: jsmn tokens of
 *                               one document (20 bytes each)
 *   UTMSTACK_TOKEN_MAX          LAYOUT 2048   bytes: longest JWT / API key
 *   UTMSTACK_USER_MAX           LAYOUT 200    bytes: user name (50 chars UTF-8)
 *   UTMSTACK_PASSWORD_MAX       LAYOUT 400    bytes: password (100 chars UTF-8)
 *   UTMSTACK_HOST_MAX           LAYOUT 255    bytes: host name / server name
 *   UTMSTACK_PREFIX_MAX         LAYOUT 64     bytes: path prefix of the URL
 *   UTMSTACK_ERRMSG_MAX         LAYOUT 160    bytes: utm_last_error() text
 *   UTMSTACK_MAX_HEADERS        impl   100    header lines in one response
 *   UTMSTACK_MAX_HEADER_BYTES   impl   32768  bytes of headers (+ trailers)
 *   UTMSTACK_JSON_DEPTH         impl   64     levels, 2..4096: deepest JSON
 *                               nesting read (UTM_ERR_JSON_DEPTH beyond;
 *                               bounds jsmn's closing walk: linear time)
 *   UTMSTACK_LOG_LINE           impl   200    bytes: longest log line
 *   UTMSTACK_TEXT               impl   2: the message texts in the image.
 *                               2 all; 1 only the server's and the
 *                               certificate's reasons (X-UtmStack-error
 *                               and why verification failed, in
 *                               utm_last_error()): no strerror table, no
 *                               log lines, no library messages; 0 none:
 *                               utm_strerror() and utm_last_error() give
 *                               "", log_fn is never called, filter errors
 *                               come without their reason. The result
 *                               codes are the same at every level
 *   UTMSTACK_NO_TEXT            impl   the same as UTMSTACK_TEXT 0 (kept for
 *                               the 0.x line)
 *   UTMSTACK_PREFER_AES         impl   off: AES-GCM before ChaCha20-Poly1305
 *                               (for an MCU with an AES accelerator)
 *   UTMSTACK_DEFAULT_CA_FILE    impl   "/etc/ssl/certs/ca-certificates.crt"
 *                               on Linux with MBEDTLS_FS_IO, else none
 *   UTMSTACK_PSA_ENTROPY_FN     impl   none. mbedTLS 4.x built with
 *                               MBEDTLS_PSA_DRIVER_GET_ENTROPY: the name of a
 *                               function with entropy_fn's signature (C
 *                               linkage, full entropy, lives as long as the
 *                               process); the implementation then defines
 *                               mbedtls_platform_get_entropy() from it
 *   UTMSTACK_PSA_ENTROPY_CTX    impl   NULL: its first argument
 *   UTMSTACK_DEPRECATED_REMOVED LAYOUT off: 1.0's API now. utm_config_t
 *                               loses client_cert, client_key and
 *                               client_key_password (utm_client_use_cert()
 *                               instead), and every firmware the key parser
 *                               those fields link
 *   UTMSTACK_STATIC             every public function static (unused ones
 *                               marked so, no warnings)
 *   UTMSTACK_API                decorator of public functions (extern)
 *
 * SIZES (defaults, mbedTLS 2.28; `make sizes`, `make size`, `make heap`)
 *
 *   utm_client_t holds every byte the library uses: 29,528 bytes on x86_64,
 *   27,920 on a Cortex-M4 (4 KiB I/O buffer, 8 KiB document, 10 KiB JSON
 *   tokens, mbedTLS contexts). mbedTLS allocates the TLS session: peak heap
 *   of a login + search 42.7 KiB with Debian's build, 27.7 KiB with
 *   config/mbedtls_lean_config.h (26.0 KiB on a Cortex-M4); route it with
 *   mbedtls_platform_set_calloc_free(). Deepest stack of a login + search +
 *   request over TLS on a Cortex-M4, mbedTLS included: 4.7 KiB. Flash of the
 *   library's own code (jsmn in, mbedTLS out) at -Os on a Cortex-M4: 26.1 KiB
 *   for a login + search + request, 9.9 KiB for a key-only device that sends
 *   requests (UTMSTACK_TEXT 1). README.md has the tables.
 *
 * THREADS: one utm_client_t per task. Two clients in two tasks need no lock;
 * the library has no global mutable state. On mbedTLS 4.x (and 3.6 with
 * PSA) the crypto's generator and key store are process-wide: build it with
 * MBEDTLS_THREADING_C when clients live in several tasks.
 *
 * SECURITY: verification is on by default; `insecure` turns it off and logs
 * a warning on every connect. A pin is checked on every full handshake,
 * whatever `insecure` says. Credentials over http:// only with
 * allow_plain_credentials (warns on every connect). Passwords, tokens and keys are copied into the
 * client, never logged (the log shows ***), never put in a URL, and wiped
 * with mbedtls_platform_zeroize() when replaced and by utm_client_free().
 * Credentials or header values with CR, LF or other controls are refused.
 */
#ifndef UTMSTACK_H
#define UTMSTACK_H

/* Strict -std=c99 hides POSIX in glibc; the POSIX port needs it (glibc's
 * default outside strict modes). Effective when this is the first header. */
#if defined(__linux__) && !defined(_POSIX_C_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE) && !defined(_XOPEN_SOURCE)
#define _DEFAULT_SOURCE 1
#endif

#ifdef UTMSTACK_CONFIG_FILE
#include UTMSTACK_CONFIG_FILE
#endif

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/version.h>
#if MBEDTLS_VERSION_NUMBER < 0x021C0000
#error "utmstack.h needs mbedTLS 2.28 or later"
#endif
#include <mbedtls/ssl.h>
#if MBEDTLS_VERSION_NUMBER < 0x04000000
#include <mbedtls/ctr_drbg.h> /* 4.x: PSA's one random generator instead */
#endif
#include <mbedtls/x509_crt.h>
#include <mbedtls/pk.h>

#define UTMSTACK_VERSION_MAJOR 0
#define UTMSTACK_VERSION_MINOR 1
#define UTMSTACK_VERSION_PATCH 0
#define UTMSTACK_VERSION (UTMSTACK_VERSION_MAJOR * 10000 + UTMSTACK_VERSION_MINOR * 100 + UTMSTACK_VERSION_PATCH)
#define UTMSTACK_VERSION_STRING "0.1.0"

/* ---- configuration ---------------------------------------------------- */
#ifndef UTMSTACK_BUF_SIZE
#define UTMSTACK_BUF_SIZE 4096
#endif
#ifndef UTMSTACK_DOC_SIZE
#define UTMSTACK_DOC_SIZE 8192
#endif
#ifndef UTMSTACK_JSON_TOKENS
#define UTMSTACK_JSON_TOKENS 512
#endif
#ifndef UTMSTACK_TOKEN_MAX
#define UTMSTACK_TOKEN_MAX 2048
#endif
#ifndef UTMSTACK_USER_MAX
#define UTMSTACK_USER_MAX 200
#endif
#ifndef UTMSTACK_PASSWORD_MAX
#define UTMSTACK_PASSWORD_MAX 400
#endif
#ifndef UTMSTACK_HOST_MAX
#define UTMSTACK_HOST_MAX 255
#endif
#ifndef UTMSTACK_PREFIX_MAX
#define UTMSTACK_PREFIX_MAX 64
#endif
#ifndef UTMSTACK_ERRMSG_MAX
#define UTMSTACK_ERRMSG_MAX 160
#endif

#if UTMSTACK_BUF_SIZE < 512
#error "UTMSTACK_BUF_SIZE must be at least 512"
#endif
#if UTMSTACK_DOC_SIZE < 256
#error "UTMSTACK_DOC_SIZE must be at least 256"
#endif
#if UTMSTACK_JSON_TOKENS < 16
#error "UTMSTACK_JSON_TOKENS must be at least 16"
#endif

#ifndef UTMSTACK_API
#ifdef UTMSTACK_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define UTMSTACK_API static __attribute__((unused))
#else
#define UTMSTACK_API static
#endif
#else
#define UTMSTACK_API extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- results ---------------------------------------------------------- */
/* One list makes both the enum and utm_strerror(), so they cannot drift. */
#define UTM__RESULTS(X) \
    X(UTM_OK, 0, "success") \
    X(UTM_TFA_REQUIRED, 1, "two-factor code required to finish the login") \
    X(UTM_ERR_ARG, -1, "invalid argument") \
    X(UTM_ERR_URL, -2, "malformed URL (want https://host[:port][/prefix])") \
    X(UTM_ERR_HEADER_VALUE, -3, "CR, LF or another control character in a header value or credential") \
    X(UTM_ERR_TOO_LONG, -4, "value longer than its buffer or than the server accepts") \
    X(UTM_ERR_NO_CREDENTIALS, -5, "no credentials: set a password, token, bearer or internal key") \
    X(UTM_ERR_STATE, -6, "call not valid in this state") \
    X(UTM_ERR_PLAINTEXT, -7, "a credential over http:// refused (use https://, or allow_plain_credentials)") \
    X(UTM_ERR_LAYOUT, -8, "utm_client_t has another size here than in the implementation (layout macros differ)") \
    X(UTM_ERR_REENTRANT, -9, "called from inside one of this client's own callbacks") \
    X(UTM_ERR_DNS, -10, "host name lookup failed") \
    X(UTM_ERR_CONNECT, -11, "could not connect") \
    X(UTM_ERR_TIMEOUT, -12, "timed out") \
    X(UTM_ERR_NET, -13, "network error (connection reset or send failed)") \
    X(UTM_ERR_CLOSED, -14, "connection closed before the response was complete") \
    X(UTM_ERR_ENTROPY, -15, "entropy source failed or missing") \
    X(UTM_ERR_TLS, -20, "TLS error") \
    X(UTM_ERR_TLS_VERIFY, -21, "server certificate verification failed") \
    X(UTM_ERR_TLS_PIN, -22, "server public key does not match the pin") \
    X(UTM_ERR_TLS_CA, -23, "CA certificates missing or unreadable") \
    X(UTM_ERR_TLS_CLIENT_CERT, -24, "client certificate or key unreadable") \
    X(UTM_ERR_TLS_ALLOC, -25, "TLS memory allocation failed") \
    X(UTM_ERR_HTTP_STATUS_LINE, -30, "malformed HTTP status line") \
    X(UTM_ERR_HTTP_HEADER, -31, "malformed HTTP header") \
    X(UTM_ERR_HTTP_LINE_TOO_LONG, -32, "HTTP line longer than UTMSTACK_BUF_SIZE") \
    X(UTM_ERR_HTTP_TOO_MANY_HEADERS, -33, "more header lines than UTMSTACK_MAX_HEADERS") \
    X(UTM_ERR_HTTP_HEADERS_TOO_LARGE, -34, "headers larger than UTMSTACK_MAX_HEADER_BYTES") \
    X(UTM_ERR_HTTP_CONTENT_LENGTH, -35, "invalid or conflicting Content-Length") \
    X(UTM_ERR_HTTP_CHUNK, -36, "malformed chunked encoding") \
    X(UTM_ERR_HTTP_TRANSFER_ENCODING, -37, "unsupported Transfer-Encoding") \
    X(UTM_ERR_HTTP_BODY_TOO_LARGE, -38, "response body larger than the buffer for it") \
    X(UTM_ERR_HTTP_STATUS, -39, "unexpected HTTP status") \
    X(UTM_ERR_ABORTED, -40, "stopped by the callback") \
    X(UTM_ERR_JSON, -50, "malformed JSON") \
    X(UTM_ERR_JSON_TOKENS, -51, "JSON document has more tokens than UTMSTACK_JSON_TOKENS") \
    X(UTM_ERR_JSON_TYPE, -52, "JSON value has another type") \
    X(UTM_ERR_NOT_FOUND, -53, "JSON key or element not found") \
    X(UTM_ERR_DOC_TOO_LARGE, -54, "document larger than UTMSTACK_DOC_SIZE") \
    X(UTM_ERR_JSON_DEPTH, -55, "JSON nested deeper than UTMSTACK_JSON_DEPTH") \
    X(UTM_ERR_AUTH, -60, "credentials refused (401)") \
    X(UTM_ERR_FORBIDDEN, -61, "forbidden (403)") \
    X(UTM_ERR_LOCKED, -62, "login locked: too many failures from this address (423)") \
    X(UTM_ERR_TFA_CODE, -63, "two-factor code refused") \
    X(UTM_ERR_TOKEN, -64, "login answer without a usable token") \
    X(UTM_ERR_JWT, -65, "token is not a decodable JWT") \
    X(UTM_ERR_BAD_REQUEST, -66, "request refused as invalid (400)") \
    X(UTM_ERR_SERVER, -67, "server error (5xx)") \
    X(UTM_ERR_SEARCH_EXCESS, -68, "the server sent more documents than the page size or top allow (not delivered)") \
    X(UTM_ERR_FILTER, -70, "invalid search filter")

#define UTM__ENUM_ITEM(name, value, text) name = value,
typedef enum utm_result { UTM__RESULTS(UTM__ENUM_ITEM) UTM__RESULT_END = -9999 } utm_result_t;
#undef UTM__ENUM_ITEM

/* ---- logging ---------------------------------------------------------- */
enum { UTM_LOG_ERROR = 1, UTM_LOG_WARN = 2, UTM_LOG_INFO = 3, UTM_LOG_DEBUG = 4 };
/* msg is one NUL-terminated line without newline; it never holds a secret. */
typedef void (*utm_log_fn)(void *user, int level, const char *msg);

/* ---- port -------------------------------------------------------------- */
/* The platform below the library. One connection per context at a time.
 * connect_fn: 0, or UTM_ERR_DNS / UTM_ERR_CONNECT / UTM_ERR_TIMEOUT.
 * send_fn:    bytes written (1..len, partial is fine) or a negative UTM_ERR_*
 *             (UTM_ERR_TIMEOUT when nothing could be written in timeout_ms).
 * recv_fn:    bytes read (1..len), 0 when the peer closed in order, or a
 *             negative UTM_ERR_* (UTM_ERR_TIMEOUT, UTM_ERR_NET on reset).
 *             timeout_ms 0 is a probe: return what is already there (or
 *             the close), else UTM_ERR_TIMEOUT at once, never block. It
 *             runs before each reuse of a kept connection.
 * close_fn:   closes the connection; harmless when none is open.
 * now_ms_fn:  a monotonic millisecond clock; wrapping at 2^32 is fine.
 * entropy_fn: fills buf with len bytes of real entropy (a hardware RNG,
 *             getrandom(), sys_csrand_get()); 0 or nonzero on failure.
 * time_fn:    optional: wall-clock seconds since 1970, 0 when unknown. Judges
 *             a cached token's expiry (a login learns the time from the
 *             server's Date header); while it says 0, certificate validity
 *             dates are not checked (mbedTLS's own clock would be 1970 and
 *             refuse every certificate), and the log and utm_last_error()
 *             say so. Give mbedTLS the same clock (mbedtls_platform_set_time,
 *             see README) so that dates are checked once it is known.     */
typedef struct utm_port {
    int (*connect_fn)(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms);
    int (*send_fn)(void *ctx, const unsigned char *buf, size_t len, uint32_t timeout_ms);
    int (*recv_fn)(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms);
    void (*close_fn)(void *ctx);
    uint32_t (*now_ms_fn)(void *ctx);
    int (*entropy_fn)(void *ctx, unsigned char *buf, size_t len);
    int64_t (*time_fn)(void *ctx);
} utm_port_t;

/* ---- JSON --------------------------------------------------------------- */
/* Token storage with the layout of a jsmn token (built with parent links);
 * use the accessors below.                                                 */
typedef struct utm_json_token { int type_, start_, end_, size_, parent_; } utm_json_token_t;
/* A parsed document: index 0 is its root value. Valid during the callback. */
typedef struct utm_json {
    const char *js;
    size_t len;
    const utm_json_token_t *tok;
    int count;
} utm_json_t;

enum { UTM_JSON_INVALID = 0, UTM_JSON_OBJECT, UTM_JSON_ARRAY, UTM_JSON_STRING,
       UTM_JSON_NUMBER, UTM_JSON_BOOL, UTM_JSON_NULL };

/* Parse js[0..len) into tok[0..max); *out describes it. */
UTMSTACK_API int utm_json_parse(utm_json_t *out, const char *js, size_t len,
                                utm_json_token_t *tok, int max_tokens);
/* Token index of a dotted path below `at` ("source.ip", "tags.0"), or < 0. */
UTMSTACK_API int utm_json_find(const utm_json_t *j, int at, const char *path);
UTMSTACK_API int utm_json_type(const utm_json_t *j, int at);
/* Members of an object / elements of an array (0 for scalars). */
UTMSTACK_API int utm_json_count(const utm_json_t *j, int at);
/* First child (array element, or object key: its value is key + 1) and the
 * next sibling after `at`'s whole subtree; < 0 when there is none.          */
UTMSTACK_API int utm_json_child(const utm_json_t *j, int at);
UTMSTACK_API int utm_json_next(const utm_json_t *j, int at);
/* The raw text of a value (strings without their quotes, not unescaped). */
UTMSTACK_API const char *utm_json_raw(const utm_json_t *j, int at, size_t *len);
/* A string unescaped into buf (NUL-terminated): its length, or an error
 * (UTM_ERR_TOO_LONG when it does not fit: never truncated).               */
UTMSTACK_API int utm_json_string(const utm_json_t *j, int at, char *buf, size_t size);
UTMSTACK_API int utm_json_int(const utm_json_t *j, int at, int64_t *out);
UTMSTACK_API int utm_json_double(const utm_json_t *j, int at, double *out);
UTMSTACK_API int utm_json_bool(const utm_json_t *j, int at, int *out);
/* Key comparison helper: does string token `at` equal the C string s? */
UTMSTACK_API int utm_json_eq(const utm_json_t *j, int at, const char *s);
/* Write s[0..len) as a quoted JSON string into out (NUL-terminated).
 * Returns the length written or an error; UTF-8 is checked.               */
UTMSTACK_API int utm_json_write_string(char *out, size_t size, const char *s, size_t len);
/* Write a finite double as a JSON number, as printf's "%.17g" would (it reads
 * back as the same double; no printf or floating point used): its length,
 * UTM_ERR_ARG for an infinity or NaN, UTM_ERR_TOO_LONG if it does not fit
 * (26 bytes always do).                                                     */
UTMSTACK_API int utm_json_write_double(char *out, size_t size, double d);

/* ---- client --------------------------------------------------------------- */
/* Two-factor code supplier: write the code (NUL-terminated) into buf. */
typedef int (*utm_tfa_fn)(void *user, char *buf, size_t size);
/* Password supplier for logins and renewals when the client keeps none. */
typedef int (*utm_password_fn)(void *user, char *buf, size_t size);

typedef struct utm_config {
    const char *url;                 /* required: https://host[:port][/prefix] */
    const char *servername;          /* name the certificate must hold (URL host) */
    const utm_port_t *port;          /* required */
    void *port_ctx;                  /* handed to every port call */
    const unsigned char *ca;         /* PEM (its NUL counted in ca_len or not) or DER */
    size_t ca_len;
    const char *ca_file;             /* PEM bundle file (UTMSTACK_DEFAULT_CA_FILE) */
    const unsigned char *pin_sha256; /* 32 bytes: SHA-256 of the server's
                                        SubjectPublicKeyInfo, kept by the caller
                                        while the client lives; checked on every
                                        full handshake. With no ca/ca_file the
                                        pin alone is the trust (no pin) */
#if !defined(UTMSTACK_DEPRECATED_REMOVED)
    /* deprecated: utm_client_use_cert(), which links the key parser only
     * where it is called; these fields link it into every firmware, and go
     * in 1.0 (UTMSTACK_DEPRECATED_REMOVED: gone now)                      */
    const unsigned char *client_cert;/* PEM (with or without its NUL) or DER (none) */
    size_t client_cert_len;
    const unsigned char *client_key; /* PEM (with or without its NUL) or DER (none) */
    size_t client_key_len;
    const char *client_key_password; /* (none) */
#endif
    int insecure;                    /* 1: no certificate check, warns (0) */
    int no_resume;                   /* 1: a full TLS handshake every time (0) */
    uint32_t connect_timeout_ms;     /* TCP connect + TLS handshake (10000) */
    uint32_t io_timeout_ms;          /* each read or write wait (15000) */
    uint32_t request_timeout_ms;     /* whole request deadline (60000) */
    uint32_t renew_margin_s;         /* renew the token this early (60) */
    utm_log_fn log_fn;               /* (none) */
    void *log_user;
    int log_level;                   /* UTM_LOG_* to pass on (UTM_LOG_WARN) */
    utm_tfa_fn tfa_fn;               /* asked for a TFA code at login (none:
                                        login returns UTM_TFA_REQUIRED) */
    void *tfa_user;
    int allow_plain_credentials;     /* 1: password, token and key may go over
                                        http:// in clear; warns on every
                                        connect (0: UTM_ERR_PLAINTEXT) */
    uint32_t login_cooldown_s;       /* after a refused login (401), no new one
                                        for this long unless credentials are set
                                        again; after 423 at least 600, the
                                        server's lock (300) */
    uint32_t renew_window_s;         /* renewals are spread at random over this
                                        window before renew_margin_s (a fifth
                                        of the token's lifetime, at most 3600) */
} utm_config_t;

/* Everything below is private state: read it through the functions. */
typedef struct utm_client {
    /* (the order is for the chip: flags in the first 32 bytes and words in
     * the first 128 take Thumb's 2-byte loads; the big buffers go last)  */
    unsigned char tls_, ipv6_host_, connected_, full_hs_;
    unsigned char pin_failed_, have_session_, tls_ready_, rx_any_, ready_, eof_unsigned_;
    unsigned char ip_len_, ip_failed_; /* the server named by address (ip_) */
    unsigned char dates_unknown_;
    unsigned char probe_, eol_mask_; /* a zero-wait read; line ends seen (1 CRLF, 2 LF) */
    unsigned char in_cb_;            /* inside a user callback: no calls back in */
    uint16_t tcp_port_;
    uint32_t magic_;
    size_t rpos_, rlen_, wlen_;
    int net_err_;
    int tls_err_;
    int auth_mode_;
    int tok_state_;
    int last_rc_;                    /* the last call's result, for utm_last_error() */
    uint32_t conn_requests_;
    uint32_t clock_last_;
    int remember_me_;
    int refused_rc_;                 /* a refused login (401/423) kept... */
    uint32_t verify_flags_;
    int tls_version_;
    utm_password_fn pass_fn_;
    void *pass_user_;
    int (*login_fn_)(struct utm_client *); /* set in login mode: unused logins are not linked */
    /* statistics (utm_client_stats) */
    uint32_t st_connects_, st_full_, st_resumed_, st_requests_, st_retries_, st_stale_;
    /* time */
    uint64_t clock_;
    uint64_t deadline_;
    int64_t tok_exp_;
    uint64_t tok_deadline_;
    uint64_t tok_renew_at_;          /* drawn once per token inside the window */
    uint64_t refused_until_;         /* ...until then, or new credentials */
    utm_config_t cfg_;
    unsigned char ip_[16];
    char date_[36];                  /* the last answer's Date (33 bytes at most): for the login and utm_backoff_ms */
    char retry_after_[36];           /* the last answer's Retry-After as sent ("": none) */
    char host_[UTMSTACK_HOST_MAX + 1];
    char sni_[UTMSTACK_HOST_MAX + 1];
    char prefix_[UTMSTACK_PREFIX_MAX + 1];
    char errmsg_[UTMSTACK_ERRMSG_MAX];
    /* credentials */
    char user_[UTMSTACK_USER_MAX + 1];
    char pass_[UTMSTACK_PASSWORD_MAX + 1];
    char cred_[UTMSTACK_TOKEN_MAX + 1];
    char sub_[UTMSTACK_USER_MAX + 1];
    mbedtls_ssl_context ssl_;
    mbedtls_ssl_config conf_;
#if MBEDTLS_VERSION_NUMBER < 0x04000000
    mbedtls_ctr_drbg_context drbg_;
#endif
    mbedtls_x509_crt ca_;
    mbedtls_x509_crt own_cert_;
    mbedtls_pk_context own_key_;
    mbedtls_ssl_session session_;
    unsigned char buf_[UTMSTACK_BUF_SIZE];
    char doc_[UTMSTACK_DOC_SIZE];
    utm_json_token_t tok_[UTMSTACK_JSON_TOKENS];
} utm_client_t;

/* Sets up c from cfg (copied; the strings and buffers it points to must
 * live as long as c). Every file that includes utmstack.h must see the same
 * LAYOUT macros: the macro below passes the caller's sizeof(utm_client_t),
 * and a client of another size is refused (UTM_ERR_LAYOUT), nothing written.
 * No call on a client may be made from inside its own callbacks (on_doc,
 * on_header, on_body, tfa_fn, password_fn, log_fn): UTM_ERR_REENTRANT.     */
UTMSTACK_API int utm_client_init(utm_client_t *c, const utm_config_t *cfg);
UTMSTACK_API int utm_client_init_sized(utm_client_t *c, const utm_config_t *cfg, size_t client_size);
#define utm_client_init(c, cfg) utm_client_init_sized((c), (cfg), sizeof(utm_client_t))
/* A client certificate and its key for mutual TLS (PEM, its NUL counted or
 * not, or DER; key_password NULL: none), offered from the next connection
 * on; parsed here, so the buffers need not outlive the call. Once per
 * client (UTM_ERR_STATE after that); UTM_ERR_TLS_CLIENT_CERT when either does
 * not parse or the key is not the certificate's, and then nothing is kept.
 * Only a firmware that calls it links mbedTLS's key parser (2 KB).        */
UTMSTACK_API int utm_client_use_cert(utm_client_t *c, const unsigned char *cert, size_t cert_len,
                                     const unsigned char *key, size_t key_len, const char *key_password);
/* Closes the connection, frees mbedTLS state and wipes the whole struct. */
UTMSTACK_API void utm_client_free(utm_client_t *c);
/* Closes the connection (the next request opens one, resuming TLS). */
UTMSTACK_API void utm_client_close(utm_client_t *c);
UTMSTACK_API const char *utm_last_error(const utm_client_t *c);
UTMSTACK_API const char *utm_strerror(int code);
UTMSTACK_API const char *utm_version(void);
UTMSTACK_API int utm_status_error(int http_status);

typedef struct utm_stats {
    uint32_t connects;          /* TCP connections opened */
    uint32_t handshakes_full;   /* TLS handshakes with a certificate */
    uint32_t handshakes_resumed;/* abbreviated (resumed) handshakes */
    uint32_t requests;          /* requests sent, retries included */
    uint32_t retries;           /* transparent retries on a fresh connection */
    int tls_error;              /* last mbedTLS result (0) */
    uint32_t verify_flags;      /* last certificate verification flags */
    int tls_version;            /* of the last handshake: 0x0303 TLS 1.2,
                                   0x0304 TLS 1.3 (0: none yet) */
    uint32_t stale_closed;      /* kept connections found with unexpected
                                   bytes or closed before reuse: replaced */
} utm_stats_t;
UTMSTACK_API void utm_client_stats(const utm_client_t *c, utm_stats_t *out);

/* How long to wait before retry number `attempt` (0, 1, 2...) of a failed
 * call: exponential backoff with full jitter (a random wait from 0 to
 * base_ms * 2^attempt, never above cap_ms), drawn from the port's entropy,
 * so that devices failing together do not retry together; when the last
 * answer carried Retry-After, that instead (at most a day), plus a random
 * quarter of it so that the fleet it sent away comes back spread out. Retry only safe
 * calls, and only after network failures and 5xx, never after 4xx.        */
UTMSTACK_API uint32_t utm_backoff_ms(utm_client_t *c, unsigned attempt, uint32_t base_ms, uint32_t cap_ms);
/* 1 when a call that returned rc is worth trying again after that wait: a
 * network failure or 5xx (UTM_ERR_DNS, _CONNECT, _TIMEOUT, _NET, _CLOSED,
 * _SERVER); 0 for everything else, which another try would only repeat.   */
UTMSTACK_API int utm_retryable(int rc);

/* ---- authentication --------------------------------------------------------- */
/* Login mode: the client keeps user and password (wiped on free) and logs in
 * on the first request, again shortly before the token expires, and once
 * more when a request gets 401.                                           */
UTMSTACK_API int utm_auth_use_password(utm_client_t *c, const char *user,
                                       const char *password, int remember_me);
/* Login mode without keeping the password: fn supplies it when needed. */
UTMSTACK_API int utm_auth_use_password_fn(utm_client_t *c, const char *user,
                                          utm_password_fn fn, void *fn_user, int remember_me);
/* A token from an earlier login (a session cache). Its expiry is read from
 * the JWT; with a password set as well it is renewed like a fresh one.     */
UTMSTACK_API int utm_auth_set_token(utm_client_t *c, const char *jwt);
/* Utm-Internal-Key on every request. */
UTMSTACK_API int utm_auth_use_internal_key(utm_client_t *c, const char *key);
/* A fixed bearer credential (v11 API key): no login, no expiry handling. */
UTMSTACK_API int utm_auth_use_bearer(utm_client_t *c, const char *credential);
/* Forget (and wipe) every credential. */
UTMSTACK_API void utm_auth_clear(utm_client_t *c);
/* Log in now: UTM_OK, UTM_TFA_REQUIRED, or an error. */
UTMSTACK_API int utm_auth_login(utm_client_t *c);
/* Finish a login that returned UTM_TFA_REQUIRED. */
UTMSTACK_API int utm_auth_tfa_verify(utm_client_t *c, const char *code);
/* The current token (login or set_token), NULL when there is none. */
UTMSTACK_API const char *utm_auth_token(const utm_client_t *c);
/* The token's `exp` (seconds since 1970) and `sub` (login), 0 / "" if none. */
UTMSTACK_API int64_t utm_auth_expires(const utm_client_t *c);
UTMSTACK_API const char *utm_auth_subject(const utm_client_t *c);
/* UTM_ERR_AUTH or UTM_ERR_LOCKED while a refused login is kept (no new
 * attempt is sent), with the seconds it still holds in *seconds_left; else 0. */
UTMSTACK_API int utm_auth_refused(utm_client_t *c, uint32_t *seconds_left);
/* GET /api/authenticate: UTM_OK and the login in buf when the token is good. */
UTMSTACK_API int utm_auth_check(utm_client_t *c, char *login, size_t size);

/* ---- any endpoint ------------------------------------------------------------ */
typedef struct utm_param { const char *name; const char *value; } utm_param_t;
/* Called for every response header; return nonzero to stop (UTM_ERR_ABORTED). */
typedef int (*utm_header_fn)(void *user, const char *name, size_t name_len,
                             const char *value, size_t value_len);
/* Called with body bytes in pieces of at most UTMSTACK_BUF_SIZE. */
typedef int (*utm_body_fn)(void *user, const char *data, size_t len);

enum {
    UTM_REQ_RETRY_SAFE = 1,  /* may be sent twice (implied by GET/HEAD/PUT/DELETE) */
    UTM_REQ_NO_AUTH = 2      /* send no credential (public endpoints) */
};

typedef struct utm_request_s {
    const char *method;              /* "GET" (default), "POST", "PUT", ... */
    const char *path;                /* "/api/account"; may hold "?query" */
    const utm_param_t *query;        /* percent-encoded by the library */
    size_t query_count;
    const char *body;                /* sent as is (none) */
    size_t body_len;
    const char *content_type;        /* ("application/json" when a body) */
    int flags;                       /* UTM_REQ_* */
    utm_header_fn on_header;
    utm_body_fn on_body;             /* either this ... */
    char *body_buf;                  /* ... or a buffer: NUL-terminated, */
    size_t body_size;                /* UTM_ERR_HTTP_BODY_TOO_LARGE if short */
    void *user;
    const utm_param_t *headers;      /* more request headers (none): a name
                                        (a token) and a value without control
                                        characters; one named User-Agent,
                                        Accept or Content-Type replaces ours;
                                        Host, Content-Length, Transfer-
                                        Encoding, Connection, Authorization
                                        and Utm-Internal-Key are the library's
                                        (UTM_ERR_HEADER_VALUE)               */
    size_t header_count;
} utm_request_t;

typedef struct utm_response {
    int status;                      /* HTTP status */
    int64_t content_length;          /* -1 when not sent */
    int64_t total_count;             /* X-Total-Count, -1 when not sent */
    uint64_t body_bytes;             /* body bytes delivered */
    char error[UTMSTACK_ERRMSG_MAX]; /* X-UtmStack-error ("" when none) */
} utm_response_t;

/* UTM_OK when a whole response arrived, whatever its status. */
UTMSTACK_API int utm_request(utm_client_t *c, const utm_request_t *req, utm_response_t *resp);

/* ---- search ---------------------------------------------------------------------- */
#define UTM__OPERATORS(X) \
    X(UTM_OP_IS, "IS") X(UTM_OP_IS_NOT, "IS_NOT") X(UTM_OP_CONTAIN, "CONTAIN") \
    X(UTM_OP_DOES_NOT_CONTAIN, "DOES_NOT_CONTAIN") X(UTM_OP_CONTAIN_ONE_OF, "CONTAIN_ONE_OF") \
    X(UTM_OP_DOES_NOT_CONTAIN_ONE_OF, "DOES_NOT_CONTAIN_ONE_OF") X(UTM_OP_IS_ONE_OF, "IS_ONE_OF") \
    X(UTM_OP_IS_NOT_ONE_OF, "IS_NOT_ONE_OF") X(UTM_OP_IS_ONE_OF_TERMS, "IS_ONE_OF_TERMS") \
    X(UTM_OP_EXIST, "EXIST") X(UTM_OP_DOES_NOT_EXIST, "DOES_NOT_EXIST") \
    X(UTM_OP_IS_BETWEEN, "IS_BETWEEN") X(UTM_OP_IS_NOT_BETWEEN, "IS_NOT_BETWEEN") \
    X(UTM_OP_IS_IN_FIELDS, "IS_IN_FIELDS") X(UTM_OP_IS_NOT_IN_FIELDS, "IS_NOT_IN_FIELDS") \
    X(UTM_OP_ENDS_WITH, "ENDS_WITH") X(UTM_OP_NOT_ENDS_WITH, "NOT_ENDS_WITH") \
    X(UTM_OP_START_WITH, "START_WITH") X(UTM_OP_NOT_START_WITH, "NOT_START_WITH") \
    X(UTM_OP_IS_GREATER_THAN, "IS_GREATER_THAN") \
    X(UTM_OP_IS_LESS_THAN_OR_EQUALS, "IS_LESS_THAN_OR_EQUALS")

#define UTM__OP_ITEM(name, text) name,
typedef enum utm_operator { UTM__OPERATORS(UTM__OP_ITEM) UTM_OP_COUNT } utm_operator_t;
#undef UTM__OP_ITEM

/* The operator's wire name, or NULL; and back (UTM_OP_COUNT if unknown). */
UTMSTACK_API const char *utm_operator_name(utm_operator_t op);
UTMSTACK_API utm_operator_t utm_operator_from_name(const char *name, size_t len);

enum { UTM_VAL_NONE = 0, UTM_VAL_STRING, UTM_VAL_INT, UTM_VAL_DOUBLE, UTM_VAL_BOOL,
       UTM_VAL_LIST, UTM_VAL_JSON };
/* A filter value. UTM_VAL_LIST holds `count` items (scalars); UTM_VAL_JSON
 * is JSON text sent as is after it is checked to be one valid value. Make
 * values with the functions or initialisers below: a DOUBLE carries its
 * writer (utm_json_write_double), so that only a firmware that sends
 * doubles links the formatter; one without it is refused (UTM_ERR_FILTER). */
typedef struct utm_value {
    int type;
    const char *str;                 /* STRING and JSON (NUL-terminated) */
    int64_t num;                     /* INT; BOOL (0 / 1) */
    double dbl;                      /* DOUBLE */
    const struct utm_value *items;   /* LIST */
    size_t count;
    int (*write_dbl)(char *out, size_t size, double d); /* DOUBLE */
} utm_value_t;

UTMSTACK_API utm_value_t utm_value_string(const char *s);
UTMSTACK_API utm_value_t utm_value_int(int64_t v);
UTMSTACK_API utm_value_t utm_value_double(double v);
UTMSTACK_API utm_value_t utm_value_bool(int v);
UTMSTACK_API utm_value_t utm_value_list(const utm_value_t *items, size_t count);
UTMSTACK_API utm_value_t utm_value_json(const char *json);
/* The same as brace initialisers, for filter tables in flash:
 *   static const utm_filter_t high[] = {
 *       { "severity", UTM_OP_IS, UTM_VALUE_INT(3) },
 *       { "status", UTM_OP_IS_ONE_OF, UTM_VALUE_LIST(open_states, 2) } };      */
#define UTM_VALUE_STRING(s) { UTM_VAL_STRING, (s), 0, 0.0, NULL, 0, NULL }
#define UTM_VALUE_INT(v) { UTM_VAL_INT, NULL, (v), 0.0, NULL, 0, NULL }
#define UTM_VALUE_DOUBLE(v) { UTM_VAL_DOUBLE, NULL, 0, (v), NULL, 0, utm_json_write_double }
#define UTM_VALUE_BOOL(v) { UTM_VAL_BOOL, NULL, (v) ? 1 : 0, 0.0, NULL, 0, NULL }
#define UTM_VALUE_LIST(items, n) { UTM_VAL_LIST, NULL, 0, 0.0, (items), (n), NULL }
#define UTM_VALUE_JSON(s) { UTM_VAL_JSON, (s), 0, 0.0, NULL, 0, NULL }
#define UTM_VALUE_NONE { UTM_VAL_NONE, NULL, 0, 0.0, NULL, 0, NULL }

typedef struct utm_filter {
    const char *field;
    utm_operator_t op;
    utm_value_t value;
} utm_filter_t;

/* Return 0 to go on, nonzero to stop the search cleanly. `index` counts
 * documents across pages.                                                  */
typedef int (*utm_doc_fn)(void *user, const utm_json_t *doc, uint64_t index);

enum { UTM_SEARCH_SKIP_OVERSIZED = 1 };

typedef struct utm_search_s {
    const char *index_pattern;       /* required: "alert-*", "log-*", ... */
    const utm_filter_t *filters;
    size_t filter_count;
    const char *const *sort;         /* "field,asc" / "field,desc" */
    size_t sort_count;
    uint32_t page;                   /* 1-based (1) */
    uint32_t size;                   /* page size (20) */
    uint32_t top;                    /* most documents in all pages (10000) */
    int flags;                       /* UTM_SEARCH_* */
    utm_doc_fn on_doc;
    void *user;
} utm_search_t;

typedef struct utm_search_result {
    int status;                      /* HTTP status of the last page */
    int64_t total;                   /* X-Total-Count (-1 when not sent) */
    uint64_t docs;                   /* documents handed to on_doc */
    uint64_t skipped;                /* documents too large or too complex */
    uint64_t bytes;                  /* body bytes received */
    uint32_t pages;                  /* pages fetched */
    uint32_t next_page;              /* Link rel="next" page, 0 when none */
    uint32_t last_page;              /* Link rel="last" page, 0 when none */
    int stopped;                     /* 1 when on_doc asked to stop */
    char error[UTMSTACK_ERRMSG_MAX]; /* X-UtmStack-error */
    uint64_t excess;                 /* documents past `size` in a page or past
                                        `top` in all: not handed to on_doc */
} utm_search_result_t;

/* One page. Documents larger than UTMSTACK_DOC_SIZE (or with more tokens
 * than UTMSTACK_JSON_TOKENS) are counted in `skipped`; the search goes on
 * and then returns UTM_ERR_DOC_TOO_LARGE unless UTM_SEARCH_SKIP_OVERSIZED.
 * on_doc gets only whole documents that passed the strict grammar (RFC
 * 8259). When the answer turns out malformed (UTM_ERR_JSON, a network
 * error...) the documents delivered before were each whole and valid, but
 * the answer was not: treat the page as incomplete; nothing after the fault
 * is delivered. on_doc must not call the client (UTM_ERR_REENTRANT).     */
UTMSTACK_API int utm_search(utm_client_t *c, const utm_search_t *s, utm_search_result_t *r);
/* Page after page from s->page, until `top` documents, a short page, or
 * on_doc asks to stop. Neither call hands on_doc more than `size` documents
 * of a page or `top` in all (counting from page 1, as the server does): a
 * server that sends more gets UTM_ERR_SEARCH_EXCESS, the rest counted in
 * `excess`; the documents delivered before are valid.                      */
UTMSTACK_API int utm_search_all(utm_client_t *c, const utm_search_t *s, utm_search_result_t *r);
/* Write the search body (the filter array) into out; checks each filter
 * against the server's rules first. Returns the length or an error.        */
UTMSTACK_API int utm_search_body(const utm_filter_t *filters, size_t count, char *out,
                                 size_t size, char *why, size_t why_size);

#ifdef __cplusplus
}
#endif
#endif /* UTMSTACK_H */

/* ======================================================================== */
/*                            IMPLEMENTATION                                */
/* ======================================================================== */
#if defined(UTMSTACK_IMPLEMENTATION) && !defined(UTMSTACK_IMPLEMENTED)
#define UTMSTACK_IMPLEMENTED

#include <string.h>
#include <stdlib.h>
#include <limits.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509.h>
#include <mbedtls/ssl_ciphersuites.h>
#if MBEDTLS_VERSION_NUMBER >= 0x04000000
#define UTM__MBEDTLS4 1 /* PSA only: no ctr_drbg, no legacy hashes */
#include <psa/crypto.h>
#define UTM__NEED_PSA 1
#else
#include <mbedtls/sha256.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && (defined(MBEDTLS_USE_PSA_CRYPTO) || defined(MBEDTLS_SSL_PROTO_TLS1_3))
#include <psa/crypto.h>
#define UTM__NEED_PSA 1
#endif
#endif

#if defined(JSMN_H) && !defined(JSMN_PARENT_LINKS)
#error "jsmn.h was included before utmstack.h without JSMN_PARENT_LINKS: include utmstack.h first (or define JSMN_PARENT_LINKS and JSMN_STATIC before including jsmn.h)"
#endif
/* jsmn stays private to this translation unit (static). It only tokenizes
 * text our own pass has checked against the grammar, so its strict mode
 * would check again for nothing: left off. */
#ifndef JSMN_STATIC
#define JSMN_STATIC
#endif
/* Parent links make closing brackets and commas O(1) instead of a scan back
 * over the tokens: the difference between linear and quadratic per document. */
#ifndef JSMN_PARENT_LINKS
#define JSMN_PARENT_LINKS
#endif
#include <jsmn.h>

#ifndef UTMSTACK_MAX_HEADERS
#define UTMSTACK_MAX_HEADERS 100
#endif
#ifndef UTMSTACK_JSON_DEPTH
#define UTMSTACK_JSON_DEPTH 64
#endif
#if UTMSTACK_JSON_DEPTH < 2 || UTMSTACK_JSON_DEPTH > 4096
#error "UTMSTACK_JSON_DEPTH must be 2..4096"
#endif
#ifndef UTMSTACK_MAX_HEADER_BYTES
#define UTMSTACK_MAX_HEADER_BYTES 32768
#endif
#ifndef UTMSTACK_LOG_LINE
#define UTMSTACK_LOG_LINE 200
#endif
#if !defined(UTMSTACK_DEFAULT_CA_FILE) && defined(MBEDTLS_FS_IO) && defined(__linux__)
#define UTMSTACK_DEFAULT_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* utm_json_token_t must be a jsmn token in all but name. */
typedef char utm__tok_size_check[(sizeof(utm_json_token_t) == sizeof(jsmntok_t)) ? 1 : -1];

#define UTM__MAGIC 0x55544d31u
/* Internal, positive: never returned to the caller. */
#define UTM__FULL 100
#define UTM__EOF 101
#define UTM__STOP 102

enum { UTM__AUTH_NONE = 0, UTM__AUTH_LOGIN, UTM__AUTH_TOKEN, UTM__AUTH_BEARER, UTM__AUTH_KEY };
enum { UTM__TOK_NONE = 0, UTM__TOK_VALID, UTM__TOK_PRE };
enum { UTM__REQ_SECRET_QUERY = 0x100, UTM__REQ_DRAIN_401 = 0x200, UTM__REQ_HEAD = 0x400, UTM__REQ_SECRET_BODY = 0x800 };

#define UTM__MIN(a, b) ((a) < (b) ? (a) : (b))

/* ==== util ============================================================== */

static void utm__wipe(void *p, size_t n) { mbedtls_platform_zeroize(p, n); }

static int utm__lower(int ch) { return (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch; }

/* Case-insensitive: does a[0..n) equal the NUL-terminated b? */
static int utm__ieq(const char *a, size_t n, const char *b)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i] == 0 || utm__lower((unsigned char)a[i]) != utm__lower((unsigned char)b[i])) return 0;
    return b[n] == 0;
}

static int utm__is_digit(int ch) { return ch >= '0' && ch <= '9'; }

/* A control byte in s[0..n) (a tab allowed where htab_ok: field values
 * and reason phrases, RFC 9110 5.5)?                                      */
static int utm__ctl_in(const char *s, size_t n, int htab_ok)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (((unsigned char)s[i] < 0x20 && !(htab_ok && s[i] == '\t')) || s[i] == 0x7f) return 1;
    return 0;
}
static int utm__has_ctl(const char *s, size_t n) { return utm__ctl_in(s, n, 0); }

/* Decimal digits of v written backwards ending at end; returns the start. */
static char *utm__u64_str(char *end, uint64_t v)
{
    *--end = 0;
    do { *--end = (char)('0' + (int)(v % 10)); v /= 10; } while (v);
    return end;
}

/* Strict unsigned decimal: digits only, no overflow. */
static int utm__parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;
    if (n == 0 || n > 19) return -1;
    for (i = 0; i < n; i++) {
        if (!utm__is_digit((unsigned char)s[i])) return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Length of s bounded by max+1, so callers can tell "too long". */
static size_t utm__len(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n]) n++;
    return n;
}

static void utm__copy_text(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Replace a secret buffer's content: old bytes are wiped first. */
static int utm__set_secret(char *dst, size_t cap, const char *src, size_t min)
{
    size_t n;
    utm__wipe(dst, cap);
    if (!src) return UTM_ERR_ARG;
    n = utm__len(src, cap - 1);
    if (n >= cap) return UTM_ERR_TOO_LONG;
    if (n < min) return UTM_ERR_ARG;
    if (utm__has_ctl(src, n)) return UTM_ERR_HEADER_VALUE;
    memcpy(dst, src, n);
    dst[n] = 0;
    return UTM_OK;
}

/* Length of one UTF-8 sequence at s[0..n) (1..4), or 0 when it is not well
 * formed (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).       */
static size_t utm__utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c0 = s[0];
    size_t len, i;
    uint32_t cp;
    if (c0 < 0x80) return 1;
    if (c0 >= 0xc2 && c0 <= 0xdf) { len = 2; cp = c0 & 0x1f; }
    else if (c0 >= 0xe0 && c0 <= 0xef) { len = 3; cp = c0 & 0x0f; }
    else if (c0 >= 0xf0 && c0 <= 0xf4) { len = 4; cp = c0 & 0x07; }
    else return 0;
    if (n < len) return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* Characters (code points) in valid UTF-8, or -1. */
static long utm__utf8_chars(const char *s, size_t n)
{
    size_t i = 0;
    long chars = 0;
    while (i < n) {
        size_t k = utm__utf8_seq((const unsigned char *)s + i, n - i);
        if (!k) return -1;
        i += k;
        chars++;
    }
    return chars;
}

static int utm__b64url_val(int ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '-' || ch == '+') return 62;
    if (ch == '_' || ch == '/') return 63;
    return -1;
}

/* base64url without padding (padding tolerated) into out; length or -1. */
static long utm__b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    uint32_t acc = 0;
    size_t i, o = 0;
    int bits = 0;
    while (n > 0 && in[n - 1] == '=') n--;
    if (n % 4 == 1) return -1;
    for (i = 0; i < n; i++) {
        int v = utm__b64url_val((unsigned char)in[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return (long)o;
}

/* n (1..4) decimal digits at p: their value, or -1. */
static long utm__dec(const char *p, size_t n)
{
    long v = 0;
    for (; n > 0; n--, p++) {
        if (!utm__is_digit((unsigned char)*p)) return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian), years
 * 0..10099: 32-bit arithmetic is enough, and costs a Cortex-M no libcalls. */
static long utm__days(long y, int m, int d)
{
    long era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* An HTTP-date -> seconds, or -1. All three forms, as RFC 9110 5.6.7 has a
 * recipient accept them:
 *   IMF-fixdate   "Sun, 06 Nov 1994 08:49:37 GMT"
 *   rfc850-date   "Sunday, 06-Nov-94 08:49:37 GMT"
 *   asctime-date  "Sun Nov  6 08:49:37 1994"
 * A two-digit year is the one within 50 years of `now` (seconds, 0:
 * unknown), so never more than 50 years ahead (RFC 9110 5.6.7); with no
 * `now`, 70-99 are 19xx and 00-69 20xx.                                   */
static int64_t utm__http_date(const char *s, size_t n, int64_t now)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *comma = (const char *)memchr(s, ',', n), *dd, *mon, *yr, *t;
    size_t dn = 2, yn = 4;
    long d, y, hh, mi, ss;
    int64_t at;
    int m;
    if (comma == s + 3 && n == 29 && s[4] == ' ' && s[7] == ' ' && s[11] == ' ') {
        dd = s + 5; mon = s + 8; yr = s + 12; t = s + 16;
    } else if (comma > s + 5 && n == (size_t)(comma - s) + 24 && comma[1] == ' ' && comma[4] == '-' && comma[8] == '-') {
        dd = comma + 2; mon = comma + 5; yr = comma + 9; yn = 2; t = comma + 11;
    } else if (!comma && n == 24 && s[3] == ' ' && s[7] == ' ' && s[19] == ' ') {
        dd = s + 8; mon = s + 4; yr = s + 20; t = s + 10;
        if (*dd == ' ') { dd++; dn = 1; }
    } else {
        return -1;
    }
    if (t[0] != ' ' || t[3] != ':' || t[6] != ':' || (comma && memcmp(t + 9, " GMT", 4) != 0)) return -1;
    for (m = 0; m < 12; m++)
        if (memcmp(mon, months + 3 * m, 3) == 0) break;
    d = utm__dec(dd, dn);
    y = utm__dec(yr, yn);
    hh = utm__dec(t + 1, 2);
    mi = utm__dec(t + 4, 2);
    ss = utm__dec(t + 7, 2);
    if (m == 12 || y < 0 || d < 1 || d > 31 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60) return -1;
    if (yn == 2) y += now > 0 || y >= 70 ? 1900 : 2000;
    for (;;) {
        at = (int64_t)utm__days(y, m + 1, (int)d) * 86400;
        /* a two-digit year: a century on while more than 50 mean years (1,577,847,600 s) ago */
        if (yn != 2 || at + INT64_C(1577847600) > now || y >= 9999) break;
        y += 100;
    }
    return at + (hh * 3600 + mi * 60 + ss);
}

/* A hex digit's value, or -1. */
static int utm__hexdigit(int ch)
{
    return utm__is_digit(ch) ? ch - '0' : ((ch | 32) >= 'a' && (ch | 32) <= 'f') ? (ch | 32) - 'a' + 10 : -1;
}

/* An IP address literal: 4 (IPv4 dotted quad) or 16 (IPv6, "::" allowed,
 * a dotted quad at the end too) bytes into out; 0 for anything else.      */
static size_t utm__parse_ip4(const char *s, unsigned char *out)
{
    int part;
    for (part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        while (utm__is_digit((unsigned char)*s) && digits < 4) { v = v * 10 + (unsigned)(*s++ - '0'); digits++; }
        if (digits == 0 || digits > 3 || v > 255) return 0;
        out[part] = (unsigned char)v;
        if (part < 3 && *s++ != '.') return 0;
    }
    return *s ? 0 : 4;
}

static size_t utm__parse_ip(const char *s, unsigned char out[16])
{
    unsigned char w[16];
    size_t n = 0, gap = 16, i;
    if (!strchr(s, ':')) return utm__parse_ip4(s, out);
    if (s[0] == ':' && s[1] == ':') { gap = 0; s += 2; }
    else if (s[0] == ':') return 0;
    while (*s) {
        unsigned v = 0, digits = 0;
        if (n + 4 <= 16 && strchr(s, '.') && !strchr(s, ':')) { /* the last 32 bits as a dotted quad */
            if (utm__parse_ip4(s, w + n) != 4) return 0;
            n += 4;
            break;
        }
        while (utm__hexdigit((unsigned char)*s) >= 0) {
            if (++digits > 4) return 0;
            v = v * 16 + (unsigned)utm__hexdigit((unsigned char)*s++);
        }
        if (digits == 0 || n + 2 > 16) return 0;
        w[n++] = (unsigned char)(v >> 8);
        w[n++] = (unsigned char)v;
        if (*s == 0) break;
        if (*s++ != ':') return 0;
        if (*s == ':') {
            if (gap != 16) return 0; /* one "::" at most */
            gap = n;
            s++;
        } else if (*s == 0) {
            return 0; /* a trailing single ':' */
        }
    }
    if (gap == 16 ? n != 16 : n > 14) return 0;
    memset(out, 0, 16);
    if (gap == 16) gap = n;
    for (i = 0; i < gap; i++) out[i] = w[i];
    for (i = gap; i < n; i++) out[16 - (n - i)] = w[i];
    return 16;
}

/* ==== client basics ===================================================== */

/* A user callback runs with the client marked busy: a call back into the
 * client from it gets UTM_ERR_REENTRANT. UTM__CB(c, call) is the call's
 * value; the comma sequences the mark before it.                           */
static int utm__cb_done(utm_client_t *c, int r)
{
    c->in_cb_--;
    return r;
}
#define UTM__CB(c, call) ((c)->in_cb_++, utm__cb_done((c), (call)))

#ifndef UTMSTACK_TEXT
#if defined(UTMSTACK_NO_TEXT)
#define UTMSTACK_TEXT 0
#else
#define UTMSTACK_TEXT 2
#endif
#endif
#if UTMSTACK_TEXT < 2
#define UTM__HAS_TEXT 0
#define UTM__T(text) ""
UTMSTACK_API const char *utm_strerror(int code) { (void)code; return ""; }
#else
#define UTM__HAS_TEXT 1
#define UTM__T(text) text
#define UTM__RESULT_TEXT(name, value, text) case value: return text;
UTMSTACK_API const char *utm_strerror(int code)
{
    switch (code) {
        UTM__RESULTS(UTM__RESULT_TEXT)
    default: return "unknown error";
    }
}
#undef UTM__RESULT_TEXT
#endif

UTMSTACK_API const char *utm_version(void) { return UTMSTACK_VERSION_STRING; }

/* The detail of the last failure; with none, the failure's own text (so
 * that the strerror table is linked only where someone asks for text). */
UTMSTACK_API const char *utm_last_error(const utm_client_t *c)
{
    if (!c || c->magic_ != UTM__MAGIC) return "";
    return c->errmsg_[0] || c->last_rc_ >= 0 ? c->errmsg_ : utm_strerror(c->last_rc_);
}

/* utm__seterr: the library's own words (UTMSTACK_TEXT 2); utm__seterr_srv:
 * the server's and the certificate's reasons (UTMSTACK_TEXT 1 and 2).     */
#if UTMSTACK_TEXT < 1
#define utm__seterr_srv(c, a, b) ((void)((c)->errmsg_[0] = 0))
#else
static void utm__seterr_srv(utm_client_t *c, const char *a, const char *b)
{
    size_t n = 0, k;
    if (a) { k = utm__len(a, sizeof c->errmsg_ - 1); memmove(c->errmsg_, a, k); n = k; }
    if (b) {
        k = utm__len(b, sizeof c->errmsg_ - 1 - n);
        if (n + k >= sizeof c->errmsg_) k = sizeof c->errmsg_ - 1 - n;
        memcpy(c->errmsg_ + n, b, k);
        n += k;
    }
    c->errmsg_[n] = 0;
}
#endif
#if UTM__HAS_TEXT
#define utm__seterr(c, a, b) utm__seterr_srv((c), (a), (b))
#else
#define utm__seterr(c, a, b) ((void)((c)->errmsg_[0] = 0))
#endif

UTMSTACK_API int utm_status_error(int status)
{
    if (status >= 200 && status < 300) return UTM_OK;
    switch (status) {
    case 400: return UTM_ERR_BAD_REQUEST;
    case 401: return UTM_ERR_AUTH;
    case 403: return UTM_ERR_FORBIDDEN;
    case 423: return UTM_ERR_LOCKED;
    default: return status >= 500 && status < 600 ? UTM_ERR_SERVER : UTM_ERR_HTTP_STATUS;
    }
}

/* ---- logging: a line built from pieces, no printf in the library ---- */
typedef struct utm__line { char b[UTMSTACK_LOG_LINE]; size_t n; } utm__line_t;

static int utm__want(const utm_client_t *c, int level)
{
    return UTM__HAS_TEXT && c->cfg_.log_fn != NULL && c->cfg_.log_level >= level;
}

static void utm__add(utm__line_t *l, const char *s, size_t n)
{
    size_t room = sizeof l->b - 1 - l->n;
    if (n > room) n = room;
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

static void utm__adds(utm__line_t *l, const char *s) { utm__add(l, s, strlen(s)); }

static void utm__addn(utm__line_t *l, int64_t v)
{
    char tmp[24];
    if (v < 0) { utm__add(l, "-", 1); v = -v; }
    utm__adds(l, utm__u64_str(tmp + sizeof tmp, (uint64_t)v));
}

static void utm__emit(utm_client_t *c, int level, utm__line_t *l)
{
    size_t i;
    l->b[l->n] = 0;
    for (i = 0; i < l->n; i++) /* a log line never carries raw controls */
        if ((unsigned char)l->b[i] < 0x20) l->b[i] = '?';
    c->in_cb_++;
    c->cfg_.log_fn(c->cfg_.log_user, level, l->b);
    c->in_cb_--;
}

static void utm__log2(utm_client_t *c, int level, const char *a, const char *b)
{
    utm__line_t l;
    if (!utm__want(c, level)) return;
    l.n = 0;
    utm__adds(&l, a);
    if (b) utm__adds(&l, b);
    utm__emit(c, level, &l);
}

/* ---- a 64-bit monotonic clock from the port's wrapping 32-bit one ---- */
static uint64_t utm__now(utm_client_t *c)
{
    uint32_t t = c->cfg_.port->now_ms_fn(c->cfg_.port_ctx);
    c->clock_ += (uint32_t)(t - c->clock_last_);
    c->clock_last_ = t;
    return c->clock_;
}

/* The wait for one operation: its own limit, cut to the request deadline. */
static uint32_t utm__wait(utm_client_t *c, uint32_t limit)
{
    uint64_t now = utm__now(c);
    if (c->deadline_ == 0) return limit;
    if (now >= c->deadline_) return 0;
    return (uint32_t)UTM__MIN((uint64_t)limit, c->deadline_ - now);
}

/* The port's wall clock: seconds since 1970, 0 when it has none or does not
 * know the time yet. */
static int64_t utm__wall(const utm_client_t *c)
{
    return c->cfg_.port->time_fn ? c->cfg_.port->time_fn(c->cfg_.port_ctx) : 0;
}

/* ==== json ============================================================== */

static int utm__skip(const utm_json_t *j, int at);
static int utm__is_ws_byte(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }
static int utm__hex4(const char *s, uint32_t *out);

/* ---- the strict grammar: RFC 8259, one pass, no recursion ---- */

/* Length of the JSON number at s[0..n), or 0: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
static size_t utm__number_len(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return 0;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (i < n && utm__is_digit((unsigned char)s[i])) i++;
    else return 0;
    if (i < n && s[i] == '.') {
        if (++i >= n || !utm__is_digit((unsigned char)s[i])) return 0;
        while (i < n && utm__is_digit((unsigned char)s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || !utm__is_digit((unsigned char)s[i])) return 0;
        while (i < n && utm__is_digit((unsigned char)s[i])) i++;
    }
    return i;
}

static int utm__is_json_number(const char *s, size_t n) { return n > 0 && utm__number_len(s, n) == n; }

/* Length of the string at s[0] == '"' through its closing quote, or 0:
 * escapes as the grammar has them, no raw control byte, valid UTF-8. A
 * \u escape of a lone surrogate is grammatical (RFC 8259 8.2) and passes;
 * utm_json_string() turns it into U+FFFD.                                  */
#if defined(__GNUC__)
#define UTM__HOT static inline __attribute__((always_inline))
#else
#define UTM__HOT static
#endif
UTM__HOT size_t utm__string_len(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 1;
    while (i < n) {
        unsigned char ch;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* a machine word at a time (8 bytes, or 4 on a 32-bit MCU) to the
         * first byte that is not plain (a control, quote, backslash or
         * non-ASCII byte): the bulk of a document is string content. The
         * lowest flagged byte is always a true one.                        */
        if (n - i >= sizeof(size_t)) {
            const size_t ones = (size_t)-1 / 0xff, high = ones * 0x80;
            size_t v, q, b, m;
            memcpy(&v, u + i, sizeof v);
            q = v ^ (ones * '"');
            b = v ^ (ones * '\\');
            m = (((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b) | v) & high;
            if (!m) { i += sizeof v; continue; }
            i += (size_t)(sizeof m > sizeof(unsigned) ? __builtin_ctzll((unsigned long long)m)
                                                      : __builtin_ctz((unsigned)m)) / 8;
        }
#endif
        ch = u[i];
        if (ch == '"') return i + 1;
        if (ch < 0x20) return 0;
        if (ch == '\\') {
            if (i + 1 >= n) return 0;
            ch = u[i + 1];
            if (ch == 'u') {
                uint32_t v;
                if (i + 6 > n || utm__hex4(s + i + 2, &v) != 0) return 0;
                i += 6;
            } else if (ch == '"' || ch == '\\' || ch == '/' || ch == 'b' || ch == 'f' || ch == 'n' || ch == 'r' ||
                       ch == 't') {
                i += 2;
            } else {
                return 0;
            }
        } else if (ch < 0x80) {
            i++;
        } else {
            size_t k = utm__utf8_seq(u + i, n - i);
            if (k == 0) return 0;
            i += k;
        }
    }
    return 0;
}

static size_t utm__ws_end(const char *js, size_t n, size_t i)
{
    while (i < n && (unsigned char)js[i] <= ' ' && utm__is_ws_byte(js[i])) i++;
    return i;
}

/* Is js[0..n) exactly one JSON text (RFC 8259), nested at most
 * UTMSTACK_JSON_DEPTH deep? UTM_OK, UTM_ERR_JSON or UTM_ERR_JSON_DEPTH.
 * Linear in n: each byte is looked at a bounded number of times.           */
static int utm__json_check(const char *js, size_t n)
{
    unsigned char in_obj[(UTMSTACK_JSON_DEPTH + 7) / 8]; /* a bit per level: object or array */
    size_t i = 0, depth = 0, k;
    int want_value = 1;
    for (;;) {
        i = utm__ws_end(js, n, i);
        if (want_value) {
            if (i >= n) return UTM_ERR_JSON;
            switch (js[i]) {
            case '{':
            case '[': {
                int obj = js[i] == '{';
                if (depth >= UTMSTACK_JSON_DEPTH) return UTM_ERR_JSON_DEPTH;
                if (obj) in_obj[depth / 8] = (unsigned char)(in_obj[depth / 8] | (1u << (depth % 8)));
                else in_obj[depth / 8] = (unsigned char)(in_obj[depth / 8] & ~(1u << (depth % 8)));
                depth++;
                i++;
                i = utm__ws_end(js, n, i);
                if (i < n && js[i] == (obj ? '}' : ']')) { /* empty (white space between is fine) */
                    depth--;
                    i++;
                    want_value = 0;
                    continue;
                }
                if (obj) goto key;
                continue; /* an array's first value */
            }
            case '"':
                k = utm__string_len(js + i, n - i);
                break;
            case 't': k = n - i >= 4 && memcmp(js + i, "true", 4) == 0 ? 4 : 0; break;
            case 'f': k = n - i >= 5 && memcmp(js + i, "false", 5) == 0 ? 5 : 0; break;
            case 'n': k = n - i >= 4 && memcmp(js + i, "null", 4) == 0 ? 4 : 0; break;
            default: k = utm__number_len(js + i, n - i);
            }
            if (k == 0) return UTM_ERR_JSON;
            i += k;
            want_value = 0;
            continue;
        }
        /* after a value: the end, a separator, or a close */
        if (depth == 0) return i == n ? UTM_OK : UTM_ERR_JSON;
        if (i >= n) return UTM_ERR_JSON;
        {
            int obj = in_obj[(depth - 1) / 8] >> ((depth - 1) % 8) & 1;
            if (js[i] == (obj ? '}' : ']')) {
                depth--;
                i++;
                continue;
            }
            if (js[i] != ',') return UTM_ERR_JSON;
            i++;
            want_value = 1;
            if (!obj) continue;
            i = utm__ws_end(js, n, i);
        }
    key: /* an object member: "key" : value */
        if (i >= n || js[i] != '"' || (k = utm__string_len(js + i, n - i)) == 0) return UTM_ERR_JSON;
        i += k;
        i = utm__ws_end(js, n, i);
        if (i >= n || js[i] != ':') return UTM_ERR_JSON;
        i++;
        want_value = 1;
    }
}

static const jsmntok_t *utm__toks(const utm_json_t *j) { return (const jsmntok_t *)(const void *)j->tok; }

UTMSTACK_API int utm_json_parse(utm_json_t *out, const char *js, size_t len, utm_json_token_t *tok, int max)
{
    jsmn_parser p;
    int n;
    if (!out || !js || !tok || max <= 0 || len > (size_t)INT_MAX) return UTM_ERR_ARG;
    n = utm__json_check(js, len); /* the grammar first: jsmn only tokenizes */
    if (n) return n;
    jsmn_init(&p);
    n = jsmn_parse(&p, js, len, (jsmntok_t *)(void *)tok, (unsigned int)max);
    if (n == JSMN_ERROR_NOMEM) return UTM_ERR_JSON_TOKENS;
    if (n <= 0) return UTM_ERR_JSON;
    out->js = js;
    out->len = len;
    out->tok = tok;
    out->count = n;
    return UTM_OK;
}

/* Index just past the subtree rooted at `at` (no recursion). */
static int utm__skip(const utm_json_t *j, int at)
{
    const jsmntok_t *t = utm__toks(j);
    int pending = 1;
    while (pending > 0 && at < j->count) {
        pending += t[at].size;
        pending--;
        at++;
    }
    return at;
}

static int utm__valid(const utm_json_t *j, int at) { return j && at >= 0 && at < j->count; }

UTMSTACK_API int utm_json_type(const utm_json_t *j, int at)
{
    const jsmntok_t *t;
    if (!utm__valid(j, at)) return UTM_JSON_INVALID;
    t = utm__toks(j) + at;
    switch (t->type) {
    case JSMN_OBJECT: return UTM_JSON_OBJECT;
    case JSMN_ARRAY: return UTM_JSON_ARRAY;
    case JSMN_STRING: return UTM_JSON_STRING;
    case JSMN_PRIMITIVE:
        switch (j->js[t->start]) {
        case 't': case 'f': return UTM_JSON_BOOL;
        case 'n': return UTM_JSON_NULL;
        default: return UTM_JSON_NUMBER;
        }
    default: return UTM_JSON_INVALID;
    }
}

UTMSTACK_API int utm_json_count(const utm_json_t *j, int at)
{
    int ty = utm_json_type(j, at);
    return (ty == UTM_JSON_OBJECT || ty == UTM_JSON_ARRAY) ? utm__toks(j)[at].size : 0;
}

UTMSTACK_API int utm_json_child(const utm_json_t *j, int at)
{
    return utm_json_count(j, at) > 0 ? at + 1 : UTM_ERR_NOT_FOUND;
}

/* Next sibling: only meaningful for a child of an array or an object key. */
UTMSTACK_API int utm_json_next(const utm_json_t *j, int at)
{
    int n;
    if (!utm__valid(j, at)) return UTM_ERR_NOT_FOUND;
    n = utm__skip(j, at);
    return n < j->count ? n : UTM_ERR_NOT_FOUND;
}

UTMSTACK_API const char *utm_json_raw(const utm_json_t *j, int at, size_t *len)
{
    const jsmntok_t *t;
    if (!utm__valid(j, at)) { if (len) *len = 0; return NULL; }
    t = utm__toks(j) + at;
    if (len) *len = (size_t)(t->end - t->start);
    return j->js + t->start;
}

UTMSTACK_API int utm_json_eq(const utm_json_t *j, int at, const char *s)
{
    size_t n;
    const char *p;
    if (utm_json_type(j, at) != UTM_JSON_STRING || !s) return 0;
    p = utm_json_raw(j, at, &n);
    return strlen(s) == n && memcmp(p, s, n) == 0;
}

/* The member value of `key` (length klen) in object `obj`, or < 0. */
static int utm__member(const utm_json_t *j, int obj, const char *key, size_t klen)
{
    const jsmntok_t *t = utm__toks(j);
    int i, k, n = t[obj].size;
    for (i = 0, k = obj + 1; i < n && k + 1 < j->count; i++) {
        if (t[k].type == JSMN_STRING && (size_t)(t[k].end - t[k].start) == klen &&
            memcmp(j->js + t[k].start, key, klen) == 0)
            return k + 1;
        k = utm__skip(j, k + 1);
    }
    return UTM_ERR_NOT_FOUND;
}

UTMSTACK_API int utm_json_find(const utm_json_t *j, int at, const char *path)
{
    const jsmntok_t *t;
    if (!utm__valid(j, at) || !path) return UTM_ERR_ARG;
    t = utm__toks(j);
    while (*path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (t[at].type == JSMN_OBJECT) {
            at = utm__member(j, at, path, n);
        } else if (t[at].type == JSMN_ARRAY) {
            uint64_t idx;
            int i;
            if (utm__parse_u64(path, n, &idx) || idx >= (uint64_t)t[at].size) return UTM_ERR_NOT_FOUND;
            for (i = 0, at = at + 1; i < (int)idx; i++) at = utm__skip(j, at);
        } else {
            return UTM_ERR_NOT_FOUND;
        }
        if (at < 0) return at;
        path += n + (dot ? 1 : 0);
    }
    return at;
}

static int utm__hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        int d = utm__hexdigit((unsigned char)s[i]);
        if (d < 0) return -1;
        v = (v << 4) | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* Unescape JSON string content s[0..n) into out (cap bytes incl. NUL). */
static int utm__unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)s[i++];
        char enc[4];
        size_t k = 0;
        if (ch != '\\') {
            enc[k++] = (char)ch;
        } else {
            if (i >= n) return UTM_ERR_JSON;
            ch = (unsigned char)s[i++];
            switch (ch) {
            case '"': case '\\': case '/': enc[k++] = (char)ch; break;
            case 'b': enc[k++] = '\b'; break;
            case 'f': enc[k++] = '\f'; break;
            case 'n': enc[k++] = '\n'; break;
            case 'r': enc[k++] = '\r'; break;
            case 't': enc[k++] = '\t'; break;
            case 'u': {
                uint32_t cp, lo;
                if (i + 4 > n || utm__hex4(s + i, &cp)) return UTM_ERR_JSON;
                i += 4;
                /* a surrogate pair is one character; a lone surrogate (legal
                 * JSON, no character) becomes U+FFFD, the rest of the string kept */
                if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' &&
                    utm__hex4(s + i + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                    i += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xd800 && cp <= 0xdfff) {
                    cp = 0xfffd;
                }
                if (cp < 0x80) enc[k++] = (char)cp;
                else if (cp < 0x800) { enc[k++] = (char)(0xc0 | (cp >> 6)); enc[k++] = (char)(0x80 | (cp & 0x3f)); }
                else if (cp < 0x10000) {
                    enc[k++] = (char)(0xe0 | (cp >> 12)); enc[k++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                    enc[k++] = (char)(0x80 | (cp & 0x3f));
                } else {
                    enc[k++] = (char)(0xf0 | (cp >> 18)); enc[k++] = (char)(0x80 | ((cp >> 12) & 0x3f));
                    enc[k++] = (char)(0x80 | ((cp >> 6) & 0x3f)); enc[k++] = (char)(0x80 | (cp & 0x3f));
                }
                break;
            }
            default: return UTM_ERR_JSON;
            }
        }
        if (o + k >= cap) return UTM_ERR_TOO_LONG;
        memcpy(out + o, enc, k);
        o += k;
    }
    if (o >= cap) return UTM_ERR_TOO_LONG;
    out[o] = 0;
    return (int)o;
}

UTMSTACK_API int utm_json_string(const utm_json_t *j, int at, char *buf, size_t size)
{
    size_t n;
    const char *p;
    if (!buf || size == 0 || size > (size_t)INT_MAX) return UTM_ERR_ARG;
    buf[0] = 0;
    if (utm_json_type(j, at) != UTM_JSON_STRING) return utm__valid(j, at) ? UTM_ERR_JSON_TYPE : UTM_ERR_NOT_FOUND;
    p = utm_json_raw(j, at, &n);
    return utm__unescape(p, n, buf, size);
}

UTMSTACK_API int utm_json_int(const utm_json_t *j, int at, int64_t *out)
{
    size_t n, i = 0;
    const char *p;
    uint64_t v = 0;
    int neg = 0;
    if (!out) return UTM_ERR_ARG;
    if (utm_json_type(j, at) != UTM_JSON_NUMBER) return utm__valid(j, at) ? UTM_ERR_JSON_TYPE : UTM_ERR_NOT_FOUND;
    p = utm_json_raw(j, at, &n);
    if (!utm__is_json_number(p, n)) return UTM_ERR_JSON;
    if (p[0] == '-') { neg = 1; i = 1; }
    for (; i < n; i++) {
        if (!utm__is_digit((unsigned char)p[i])) return UTM_ERR_JSON_TYPE; /* fraction or exponent */
        if (v > (UINT64_MAX - 9) / 10) return UTM_ERR_TOO_LONG;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg) return UTM_ERR_TOO_LONG;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return UTM_OK;
}

/* A number of any length read with strtod: its significant digits (780 at
 * most: more than the 767 that any double's halfway points need) and a
 * sticky digit for the rest, then the decimal exponent; so it rounds as the
 * whole text would, whatever its length.                                   */
UTMSTACK_API int utm_json_double(const utm_json_t *j, int at, double *out)
{
    enum { MAXD = 780 };
    char tmp[MAXD + 32], num[24], *o = tmp;
    const char *p, *end;
    size_t n, nd = 0;
    long point = 0, e = 0, x;
    int sticky = 0, frac = 0;
    if (!out) return UTM_ERR_ARG;
    if (utm_json_type(j, at) != UTM_JSON_NUMBER) return utm__valid(j, at) ? UTM_ERR_JSON_TYPE : UTM_ERR_NOT_FOUND;
    p = utm_json_raw(j, at, &n);
    if (!utm__is_json_number(p, n)) return UTM_ERR_JSON;
    end = p + n;
    if (*p == '-') *o++ = *p++;
    *o++ = '0';
    *o++ = '.';
    for (; p < end && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') { frac = 1; continue; }
        if (nd == 0 && *p == '0') { point -= frac; continue; } /* leading zeros */
        point += !frac;
        if (nd < MAXD) *o++ = *p;
        else sticky |= *p != '0';
        nd++;
    }
    if (p < end) {
        int neg;
        p++;
        neg = *p == '-';
        if (*p == '+' || *p == '-') p++;
        for (; p < end; p++) if (e < 100000) e = e * 10 + (*p - '0'); /* past that: 0 or infinity anyway */
        if (neg) e = -e;
    }
    if (nd == 0) { *out = tmp[0] == '-' ? -0.0 : 0.0; return UTM_OK; }
    if (sticky) *o++ = '1';
    *o++ = 'e';
    x = point + e;
    if (x < 0) { *o++ = '-'; x = -x; }
    p = utm__u64_str(num + sizeof num, (uint64_t)x);
    memcpy(o, p, strlen(p) + 1);
    *out = strtod(tmp, NULL);
    return UTM_OK;
}

UTMSTACK_API int utm_json_bool(const utm_json_t *j, int at, int *out)
{
    size_t n;
    const char *p;
    if (!out) return UTM_ERR_ARG;
    if (utm_json_type(j, at) != UTM_JSON_BOOL) return utm__valid(j, at) ? UTM_ERR_JSON_TYPE : UTM_ERR_NOT_FOUND;
    p = utm_json_raw(j, at, &n);
    if (n == 4 && memcmp(p, "true", 4) == 0) *out = 1;
    else if (n == 5 && memcmp(p, "false", 5) == 0) *out = 0;
    else return UTM_ERR_JSON;
    return UTM_OK;
}

/* ---- output: one writer for counting, a caller buffer, or the socket ---- */
typedef struct utm__out {
    utm_client_t *c;   /* send mode: through c->buf_ to the connection, */
    int (*flush_fn)(utm_client_t *c, const unsigned char *p, size_t n); /* the http layer's sender */
    size_t used;       /* send mode: how much of c->buf_ was ever written */
    char *buf;         /* buffer mode */
    size_t cap, len;
    uint64_t total;    /* bytes produced, in every mode */
    int err;
} utm__out_t;

static int utm__flush(utm__out_t *o)
{
    if (o->c && o->c->wlen_ > 0 && !o->err) {
        int rc;
        if (o->c->wlen_ > o->used) o->used = o->c->wlen_;
        rc = o->flush_fn(o->c, o->c->buf_, o->c->wlen_);
        o->c->wlen_ = 0;
        if (rc) o->err = rc;
    }
    return o->err;
}

static void utm__put(utm__out_t *o, const char *p, size_t n)
{
    o->total += n;
    if (o->err) return;
    if (o->c) {
        while (n > 0) {
            size_t room = sizeof o->c->buf_ - o->c->wlen_, k = UTM__MIN(room, n);
            memcpy(o->c->buf_ + o->c->wlen_, p, k);
            o->c->wlen_ += k;
            p += k;
            n -= k;
            if (o->c->wlen_ == sizeof o->c->buf_ && utm__flush(o)) return;
        }
    } else if (o->buf) {
        if (o->len + n >= o->cap) { o->err = UTM_ERR_TOO_LONG; return; }
        memcpy(o->buf + o->len, p, n);
        o->len += n;
        o->buf[o->len] = 0;
    }
}

static void utm__puts(utm__out_t *o, const char *s) { utm__put(o, s, strlen(s)); }

static void utm__put_u64(utm__out_t *o, uint64_t v)
{
    char tmp[24];
    utm__puts(o, utm__u64_str(tmp + sizeof tmp, v));
}

/* A JSON string with quotes; invalid UTF-8 sets UTM_ERR_ARG. */
static void utm__put_jstr(utm__out_t *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, run = 0;
    utm__put(o, "\"", 1);
    while (i < n) {
        unsigned char ch = (unsigned char)s[i];
        char esc[6];
        size_t k;
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            k = ch < 0x80 ? 1 : utm__utf8_seq((const unsigned char *)s + i, n - i);
            if (!k) { if (!o->err) o->err = UTM_ERR_ARG; return; }
            i += k;
            run += k;
            continue;
        }
        utm__put(o, s + i - run, run);
        run = 0;
        esc[0] = '\\';
        k = 2;
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0'; esc[4] = hex[ch >> 4]; esc[5] = hex[ch & 15];
            k = 6;
        }
        utm__put(o, esc, k);
        i++;
    }
    utm__put(o, s + i - run, run);
    utm__put(o, "\"", 1);
}

UTMSTACK_API int utm_json_write_string(char *out, size_t size, const char *s, size_t len)
{
    utm__out_t o;
    if (!out || size == 0 || (!s && len) || size > (size_t)INT_MAX) return UTM_ERR_ARG;
    memset(&o, 0, sizeof o);
    o.buf = out;
    o.cap = size;
    out[0] = 0;
    utm__put_jstr(&o, s ? s : "", len);
    if (o.err) { out[0] = 0; return o.err; }
    return (int)o.len;
}

/* finite: the exponent is not all ones (no floating point needed) */
static int utm__finite(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return ((bits >> 52) & 0x7ff) != 0x7ff;
}

/* Bignum helpers for utm__put_double: little-endian 32-bit words. */
static uint32_t utm__big_div(uint32_t *w, int *n, uint32_t d) /* w /= d; the remainder */
{
    uint64_t r = 0;
    int i;
    for (i = *n - 1; i >= 0; i--) {
        uint64_t cur = (r << 32) | w[i];
        w[i] = (uint32_t)(cur / d);
        r = cur % d;
    }
    while (*n > 0 && !w[*n - 1]) (*n)--;
    return (uint32_t)r;
}

static void utm__big_set(uint32_t *w, uint64_t m, int shift) /* w |= m << shift */
{
    int q = shift / 32, r = shift % 32;
    w[q] |= (uint32_t)(m << r);
    w[q + 1] |= (uint32_t)(m >> (32 - r));
    if (r) w[q + 2] |= (uint32_t)(m >> (64 - r));
}

/* A finite double as JSON, exactly as printf's "%.17g" would (17 significant
 * digits, correctly rounded, trailing zeros dropped: it reads back as the same
 * double), without printf: newlib-nano's has no floating point unless the
 * firmware links it in, and prints nothing at all instead. The exact decimal
 * expansion of m * 2^e comes from a small bignum: the integer part by
 * division, the fraction by multiplication.                                 */
static void utm__put_double(utm__out_t *o, double d)
{
    uint64_t bits, m;
    uint32_t w[37];
    unsigned char dg[18];
    char txt[330];
    int be, e, n, t = 0, nd = 0, x10 = -1, sticky = 0, i;
    memcpy(&bits, &d, sizeof bits);
    if (bits >> 63) utm__put(o, "-", 1);
    be = (int)((bits >> 52) & 0x7ff);
    m = bits & ((1ull << 52) - 1);
    if (be) m |= 1ull << 52; /* finite: the callers refused the rest */
    else be = 1;
    e = be - 1075;
    if (!m) { utm__put(o, "0", 1); return; }
    /* the integer part, in decimal (least significant digit first) */
    memset(w, 0, sizeof w);
    if (e >= 0) utm__big_set(w, m, e);
    else if (e > -64) utm__big_set(w, m >> -e, 0);
    for (n = 36; n > 0 && !w[n - 1]; n--) {}
    while (n > 0) {
        uint32_t r = utm__big_div(w, &n, 1000000000u);
        for (i = 0; i < 9; i++, r /= 10) txt[t++] = (char)(r % 10);
    }
    while (t > 0 && !txt[t - 1]) t--;
    if (t) x10 = t - 1;
    for (i = t - 1; i >= 0; i--) {
        if (nd < 18) dg[nd++] = (unsigned char)txt[i];
        else if (txt[i]) sticky = 1;
    }
    /* the fraction F / 2^k: times ten, the digit is what rises above bit k */
    if (e < 0) {
        int k = -e, nw = k / 32 + 2, live = 1;
        memset(w, 0, sizeof w);
        utm__big_set(w, k >= 64 ? m : m & ((1ull << k) - 1), 0);
        while (live && nd < 18) {
            uint64_t carry = 0;
            unsigned digit;
            for (i = 0; i < nw; i++) {
                carry += (uint64_t)w[i] * 10;
                w[i] = (uint32_t)carry;
                carry >>= 32;
            }
            digit = (unsigned)(((((uint64_t)w[k / 32 + 1]) << 32 | w[k / 32]) >> (k % 32)) & 15);
            w[k / 32] &= (uint32_t)((1ull << (k % 32)) - 1);
            w[k / 32 + 1] = 0;
            for (live = 0, i = 0; i < nw; i++) live |= w[i] != 0;
            if (!nd && !digit) x10--;
            else dg[nd++] = (unsigned char)digit;
        }
        sticky |= live;
    }
    while (nd < 18) dg[nd++] = 0;
    /* 17 significant digits, rounded half to even on the exact value */
    if (dg[17] > 5 || (dg[17] == 5 && (sticky || (dg[16] & 1)))) {
        for (i = 16; i >= 0 && dg[i] == 9; i--) dg[i] = 0;
        if (i < 0) { dg[0] = 1; x10++; }
        else dg[i]++;
    }
    for (nd = 17; nd > 1 && !dg[nd - 1]; nd--) {}
    for (i = 0; i < nd; i++) dg[i] = (unsigned char)(dg[i] + '0');
    if (x10 < -4 || x10 >= 17) { /* d.ddde+XX */
        utm__put(o, (const char *)dg, 1);
        if (nd > 1) { utm__put(o, ".", 1); utm__put(o, (const char *)dg + 1, (size_t)nd - 1); }
        utm__put(o, x10 < 0 ? "e-" : "e+", 2);
        utm__put_u64(o, (uint64_t)(x10 < 0 ? -x10 : x10));
    } else if (x10 >= 0) { /* ddd.ddd */
        for (i = 0; i <= x10; i++) utm__put(o, i < nd ? (const char *)dg + i : "0", 1);
        if (nd > x10 + 1) { utm__put(o, ".", 1); utm__put(o, (const char *)dg + x10 + 1, (size_t)(nd - x10 - 1)); }
    } else { /* 0.000ddd */
        utm__put(o, "0.", 2);
        for (i = -1; i > x10; i--) utm__put(o, "0", 1);
        utm__put(o, (const char *)dg, (size_t)nd);
    }
}

UTMSTACK_API int utm_json_write_double(char *out, size_t size, double d)
{
    utm__out_t o;
    if (!out || size == 0 || size > (size_t)INT_MAX) return UTM_ERR_ARG;
    out[0] = 0;
    if (!utm__finite(d)) return UTM_ERR_ARG;
    memset(&o, 0, sizeof o);
    o.buf = out;
    o.cap = size;
    utm__put_double(&o, d);
    if (o.err) { out[0] = 0; return o.err; }
    return (int)o.len;
}

/* ==== port / tls ======================================================== */

#ifndef MBEDTLS_ERR_NET_SEND_FAILED
#define MBEDTLS_ERR_NET_SEND_FAILED -0x004E
#endif
#ifndef MBEDTLS_ERR_NET_RECV_FAILED
#define MBEDTLS_ERR_NET_RECV_FAILED -0x004C
#endif

/* mbedTLS BIO callbacks: the port, with our timeouts; the port's own error
 * is kept in net_err_ so it is not lost in a generic TLS code.             */
static int utm__bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    utm_client_t *c = (utm_client_t *)ctx;
    uint32_t w = utm__wait(c, c->cfg_.io_timeout_ms);
    int n;
    if (w == 0) { c->net_err_ = UTM_ERR_TIMEOUT; return MBEDTLS_ERR_SSL_TIMEOUT; }
    n = c->cfg_.port->send_fn(c->cfg_.port_ctx, buf, UTM__MIN(len, (size_t)INT_MAX), w);
    if (n > 0) return n;
    c->net_err_ = n == 0 ? UTM_ERR_NET : n;
    return n == UTM_ERR_TIMEOUT ? MBEDTLS_ERR_SSL_TIMEOUT : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int utm__bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    utm_client_t *c = (utm_client_t *)ctx;
    uint32_t w;
    int n;
    if (c->probe_) { /* only what is there already */
        n = c->cfg_.port->recv_fn(c->cfg_.port_ctx, buf, UTM__MIN(len, (size_t)INT_MAX), 0);
        return n == UTM_ERR_TIMEOUT ? MBEDTLS_ERR_SSL_WANT_READ : n >= 0 ? n : MBEDTLS_ERR_NET_RECV_FAILED;
    }
    w = utm__wait(c, c->cfg_.io_timeout_ms);
    if (w == 0) { c->net_err_ = UTM_ERR_TIMEOUT; return MBEDTLS_ERR_SSL_TIMEOUT; }
    n = c->cfg_.port->recv_fn(c->cfg_.port_ctx, buf, UTM__MIN(len, (size_t)INT_MAX), w);
    if (n >= 0) return n; /* 0: closed */
    c->net_err_ = n;
    return n == UTM_ERR_TIMEOUT ? MBEDTLS_ERR_SSL_TIMEOUT : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* ---- mbedTLS 2.28 / 3.6 / 4.x: what differs, in this one place ----------
 * Randomness: 2.28 and 3.6 seed a ctr_drbg per client from the port's
 * entropy_fn. 4.x has one process-wide PSA generator fed by the platform
 * (getrandom() on Linux; on a firmware mbedtls_platform_get_entropy(), which
 * UTMSTACK_PSA_ENTROPY_FN makes from the port's function). The port's
 * function is asked on every version, so no entropy is no connection.
 * Hashes: 4.x only through PSA. Keys: 3.6 parses with an RNG, 2.28 and 4.x
 * without. Version and group selection: 3.6 and 4.x alike.               */

/* The port's entropy, health-checked: output that repeats itself (all bytes
 * equal, or any pattern of period 8 or less, as a stuck or shorted RNG
 * gives) is a failure. SP 800-90B's continuous tests, cut to what needs no
 * state; a false alarm has odds below 2^-56.                              */
static int utm__entropy_ok(int (*fn)(void *, unsigned char *, size_t), void *ctx, unsigned char *buf, size_t len)
{
    size_t p;
    if (!fn || fn(ctx, buf, len) != 0) return 0;
    for (p = 1; p <= 8 && p + 7 <= len; p++)
        if (memcmp(buf, buf + p, len - p) == 0) return 0;
    return 1;
}

static const char utm__entropy_text[] = "entropy: the port's entropy_fn failed or repeats itself";

#ifdef UTM__MBEDTLS4
#define UTM__ERR_NO_ENTROPY PSA_ERROR_INSUFFICIENT_ENTROPY
static int utm__random_setup(utm_client_t *c)
{
    unsigned char probe[32];
    int ok = utm__entropy_ok(c->cfg_.port->entropy_fn, c->cfg_.port_ctx, probe, sizeof probe);
    utm__wipe(probe, sizeof probe);
    if (!ok) { utm__seterr(c, utm__entropy_text, NULL); return UTM_ERR_ENTROPY; }
    /* before any handshake, certificate or key parse; idempotent */
    if (psa_crypto_init() != PSA_SUCCESS) {
        utm__seterr(c, "entropy: psa_crypto_init() failed (the platform's entropy source?)", NULL);
        return UTM_ERR_ENTROPY;
    }
    return UTM_OK;
}

static int utm__sha256(const unsigned char *p, size_t n, unsigned char out[32])
{
    size_t len = 0;
    return psa_hash_compute(PSA_ALG_SHA_256, p, n, out, 32, &len) == PSA_SUCCESS && len == 32 ? 0 : -1;
}

#if defined(UTMSTACK_PSA_ENTROPY_FN)
#if !defined(MBEDTLS_PSA_DRIVER_GET_ENTROPY)
#error "UTMSTACK_PSA_ENTROPY_FN needs MBEDTLS_PSA_DRIVER_GET_ENTROPY (and not MBEDTLS_PSA_BUILTIN_GET_ENTROPY) in the crypto configuration"
#endif
#ifndef UTMSTACK_PSA_ENTROPY_CTX
#define UTMSTACK_PSA_ENTROPY_CTX NULL
#endif
int UTMSTACK_PSA_ENTROPY_FN(void *ctx, unsigned char *buf, size_t len);
/* PSA's entropy hook, from the port's function: full entropy or failure. */
int mbedtls_platform_get_entropy(psa_driver_get_entropy_flags_t flags, size_t *estimate_bits,
                                 unsigned char *output, size_t output_size)
{
    if (flags != 0) return PSA_ERROR_NOT_SUPPORTED;
    if (!utm__entropy_ok(UTMSTACK_PSA_ENTROPY_FN, UTMSTACK_PSA_ENTROPY_CTX, output, output_size))
        return PSA_ERROR_INSUFFICIENT_ENTROPY;
    *estimate_bits = 8 * output_size;
    return 0;
}
#endif

#else /* 2.28, 3.6 */
#define UTM__ERR_NO_ENTROPY MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED
static int utm__entropy(void *ctx, unsigned char *buf, size_t len)
{
    utm_client_t *c = (utm_client_t *)ctx;
    return utm__entropy_ok(c->cfg_.port->entropy_fn, c->cfg_.port_ctx, buf, len) ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

static int utm__random_setup(utm_client_t *c)
{
    static const unsigned char pers[] = "utmstack.h";
#ifdef UTM__NEED_PSA
    if (psa_crypto_init() != PSA_SUCCESS) return UTM_ERR_ENTROPY;
#endif
    if (mbedtls_ctr_drbg_seed(&c->drbg_, utm__entropy, c, pers, sizeof pers - 1) != 0) {
        utm__seterr(c, utm__entropy_text, NULL);
        return UTM_ERR_ENTROPY;
    }
    mbedtls_ssl_conf_rng(&c->conf_, mbedtls_ctr_drbg_random, &c->drbg_);
    return UTM_OK;
}

static int utm__sha256(const unsigned char *p, size_t n, unsigned char out[32])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_sha256(p, n, out, 0);
#else
    return mbedtls_sha256_ret(p, n, out, 0);
#endif
}
#endif

/* PEM handed over without its NUL counted (strlen'd, as ESP-IDF embeds
 * text files) would be taken for DER by mbedTLS: it is parsed from a
 * NUL-terminated copy on mbedTLS's heap, freed at once. Else as given.     */
static int utm__pem_unterminated(const unsigned char *b, size_t n)
{
    static const char begin[] = "-----BEGIN ";
    size_t i;
    if (!n || b[n - 1] == 0) return 0;
    for (i = 0; i + sizeof begin - 1 <= n; i++)
        if (b[i] == '-' && memcmp(b + i, begin, sizeof begin - 1) == 0) return 1;
    return 0;
}

/* *b, *n made ready for mbedTLS: an unterminated PEM is pointed at a
 * NUL-terminated copy (*copy, given back with utm__pem_free); -1 when that
 * copy cannot be had.                                                      */
static int utm__pem_ready(const unsigned char **b, size_t *n, unsigned char **copy)
{
    *copy = NULL;
    if (!utm__pem_unterminated(*b, *n)) return 0;
    if (!(*copy = (unsigned char *)mbedtls_calloc(1, *n + 1))) return -1;
    memcpy(*copy, *b, *n);
    *b = *copy;
    (*n)++;
    return 0;
}

static void utm__pem_free(unsigned char *p, size_t n)
{
    if (p) { utm__wipe(p, n); mbedtls_free(p); } /* a key's copy: wiped */
}

/* mbedtls_x509_crt_parse, PEM with or without its NUL */
static int utm__crt_parse(mbedtls_x509_crt *crt, const unsigned char *b, size_t n)
{
    unsigned char *copy;
    int r;
    if (utm__pem_ready(&b, &n, &copy)) return -1;
    r = mbedtls_x509_crt_parse(crt, b, n);
    utm__pem_free(copy, n);
    return r;
}

static int utm__parse_key(utm_client_t *c, const unsigned char *key, size_t len, const unsigned char *pw, size_t pwlen)
{
    unsigned char *copy;
    int r;
    if (utm__pem_ready(&key, &len, &copy)) return -1;
#if defined(UTM__MBEDTLS4) || MBEDTLS_VERSION_NUMBER < 0x03000000
    r = mbedtls_pk_parse_key(&c->own_key_, key, len, pw, pwlen);
    if (r == 0) r = mbedtls_pk_check_pair(&c->own_cert_.pk, &c->own_key_);
#else
    r = mbedtls_pk_parse_key(&c->own_key_, key, len, pw, pwlen, mbedtls_ctr_drbg_random, &c->drbg_);
    if (r == 0) r = mbedtls_pk_check_pair(&c->own_cert_.pk, &c->own_key_, mbedtls_ctr_drbg_random, &c->drbg_);
#endif
    utm__pem_free(copy, len);
    return r;
}

/* The server named by address: the certificate must hold that address as an
 * iPAddress entry; its CN and DNS names (wildcards included) do not count. */
static int utm__verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    utm_client_t *c = (utm_client_t *)ctx;
    const mbedtls_x509_sequence *san;
    /* a device that does not know the time yet: dates cannot be judged */
    if (c->dates_unknown_) *flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
    if (depth != 0 || !c->ip_len_) return 0;
    for (san = &crt->subject_alt_names; san && san->buf.p; san = san->next)
        if (san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && san->buf.len == c->ip_len_ &&
            memcmp(san->buf.p, c->ip_, c->ip_len_) == 0)
            return 0;
    c->ip_failed_ = 1;
    *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    return 0;
}

/* The pin, checked after the handshake on the certificate the session holds,
 * not in a verify callback: with no CA, or insecure, mbedTLS may verify
 * nothing and call no callback. No certificate at hand is a mismatch.      */
static int utm__pin_check(utm_client_t *c)
{
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&c->ssl_);
    unsigned char h[32];
    unsigned diff = 0;
    int i;
    memset(h, 0, sizeof h);
    if (!peer || utm__sha256(peer->pk_raw.p, peer->pk_raw.len, h) != 0) diff = 1;
    for (i = 0; i < 32; i++) diff |= (unsigned)(h[i] ^ c->cfg_.pin_sha256[i]);
    if (!diff) return UTM_OK;
    c->pin_failed_ = 1;
    return UTM_ERR_TLS_PIN;
}

/* The error a failed mbedTLS call stands for; the port's cause wins. */
static int utm__tls_fail(utm_client_t *c, int r)
{
    c->tls_err_ = r;
    if (c->net_err_) return c->net_err_;
    if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        /* TLS 1.3 reports a refused client certificate here, after the handshake */
        utm__seterr(c, "the server ended the TLS session with a fatal alert", NULL);
        return UTM_ERR_TLS;
    }
    {
        char hex[12], *p = hex + sizeof hex;
        unsigned v = (unsigned)(-r);
        *--p = 0;
        do { *--p = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
        *--p = 'x'; *--p = '0'; *--p = '-';
        utm__seterr(c, "mbedTLS error ", p);
    }
    if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) return UTM_ERR_TLS_VERIFY;
    if (r == MBEDTLS_ERR_SSL_ALLOC_FAILED) return UTM_ERR_TLS_ALLOC;
    if (r == UTM__ERR_NO_ENTROPY) { utm__seterr(c, utm__entropy_text, NULL); return UTM_ERR_ENTROPY; }
    return UTM_ERR_TLS;
}

/* The client's certificate and key, parsed and offered on every handshake;
 * on failure nothing is kept. Only a firmware that calls this (through
 * utm_client_use_cert, or the deprecated config fields) links the key parser. */
static int utm__own_cert(utm_client_t *c, const unsigned char *cert, size_t cert_len, const unsigned char *key,
                         size_t key_len, const char *password)
{
    const unsigned char *pw = (const unsigned char *)password;
    int rc = UTM_ERR_TLS_CLIENT_CERT;
    if (!cert || !key || !cert_len || !key_len) utm__seterr(c, "client certificate and key: both are needed", NULL);
    else if (utm__crt_parse(&c->own_cert_, cert, cert_len) != 0) utm__seterr(c, "client certificate unreadable", NULL);
    else if (utm__parse_key(c, key, key_len, pw, pw ? strlen(password) : 0) != 0 ||
             mbedtls_ssl_conf_own_cert(&c->conf_, &c->own_cert_, &c->own_key_) != 0)
        utm__seterr(c, "client key unreadable, or not the certificate's", NULL);
    else
        rc = UTM_OK;
    if (rc) { /* as it was: nothing parsed is kept */
        mbedtls_x509_crt_free(&c->own_cert_);
        mbedtls_x509_crt_init(&c->own_cert_);
        mbedtls_pk_free(&c->own_key_);
        mbedtls_pk_init(&c->own_key_);
    }
    return rc;
}

/* Trust: a CA given (ca, or ca_file), else with a pin the pin alone (no
 * bundle: the pinned key is the trust anchor), else the system bundle. A
 * CA asked for and not loaded is an error unless insecure.               */
static int utm__tls_load(utm_client_t *c, const utm_config_t *k)
{
    int r = 0, have_ca = 0, want_ca = 1;
    if (k->ca && !k->ca_len) { utm__seterr(c, "config: ca given with ca_len 0", NULL); return UTM_ERR_ARG; }
    if (k->ca)
        r = utm__crt_parse(&c->ca_, k->ca, k->ca_len);
    else if (k->ca_file)
#if defined(MBEDTLS_FS_IO)
        r = mbedtls_x509_crt_parse_file(&c->ca_, k->ca_file);
#else
        r = -1; /* no file system in this mbedTLS */
#endif
    else if (k->pin_sha256)
        want_ca = 0;
#if defined(MBEDTLS_FS_IO) && defined(UTMSTACK_DEFAULT_CA_FILE)
    else
        r = mbedtls_x509_crt_parse_file(&c->ca_, UTMSTACK_DEFAULT_CA_FILE);
#endif
    have_ca = r >= 0 && c->ca_.version != 0;
    if (!have_ca && want_ca && !k->insecure) { utm__seterr(c, "no usable CA certificate", NULL); return UTM_ERR_TLS_CA; }
#if !defined(MBEDTLS_SSL_KEEP_PEER_CERTIFICATE)
    if (k->pin_sha256) { utm__seterr(c, "config: a pin needs MBEDTLS_SSL_KEEP_PEER_CERTIFICATE", NULL); return UTM_ERR_ARG; }
#endif
    if (have_ca) mbedtls_ssl_conf_ca_chain(&c->conf_, &c->ca_, NULL);
#if !defined(UTMSTACK_DEPRECATED_REMOVED)
    if (k->client_cert || k->client_key) /* the 0.x fields: utm_client_use_cert() now */
        return utm__own_cert(c, k->client_cert, k->client_cert_len, k->client_key, k->client_key_len,
                             k->client_key_password);
#endif
    return UTM_OK;
}

/* Key exchange groups, cheapest first: X25519 and P-256 cost a fraction of
 * P-384 and P-521 (which mbedTLS 2.28 otherwise offers first), on x86 and
 * far more on a Cortex-M where a P-521 handshake takes seconds.            */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
static const uint16_t utm__groups[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED) || defined(PSA_WANT_ECC_MONTGOMERY_255)
    MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
#endif
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE };
#else
static const mbedtls_ecp_group_id utm__groups[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
    MBEDTLS_ECP_DP_CURVE25519,
#endif
#if defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED)
    MBEDTLS_ECP_DP_SECP256R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED)
    MBEDTLS_ECP_DP_SECP384R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP521R1_ENABLED)
    MBEDTLS_ECP_DP_SECP521R1,
#endif
    MBEDTLS_ECP_DP_NONE };
#endif

/* Cipher suites: forward-secret AEAD only (ECDHE-AES-CBC last, for old
 * TLS 1.2 servers). ChaCha20-Poly1305 first: with mbedTLS 2.28 it costs less
 * than AES-GCM even on x86 with AES-NI (measured: 36 against 51
 * instructions per byte, 0.18 s against 0.30 s of CPU for 69 MB), and far
 * less than software AES on a Cortex-M. UTMSTACK_PREFER_AES puts AES-GCM
 * first, for an MCU whose mbedTLS drives an AES accelerator.               */
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define UTM__SUITES_13_AES MBEDTLS_TLS1_3_AES_128_GCM_SHA256, MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
#define UTM__SUITES_13_CHACHA MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
#else
#define UTM__SUITES_13_AES
#define UTM__SUITES_13_CHACHA
#endif
#define UTM__SUITES_AES UTM__SUITES_13_AES MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
#define UTM__SUITES_CHACHA UTM__SUITES_13_CHACHA MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, \
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
static const int utm__suites[] = {
#if defined(UTMSTACK_PREFER_AES)
    UTM__SUITES_AES UTM__SUITES_CHACHA
#else
    UTM__SUITES_CHACHA UTM__SUITES_AES
#endif
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, 0 };

static int utm__tls_setup(utm_client_t *c, const utm_config_t *cfg)
{
    int r;
    if (mbedtls_ssl_config_defaults(&c->conf_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        return UTM_ERR_TLS;
    r = utm__random_setup(c);
    if (r) return r;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_ssl_conf_min_tls_version(&c->conf_, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_groups(&c->conf_, utm__groups);
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED)
    /* TLS 1.3 tickets come after the handshake; without this they are dropped */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(&c->conf_, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
#else
    mbedtls_ssl_conf_min_version(&c->conf_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_curves(&c->conf_, utm__groups);
#endif
    mbedtls_ssl_conf_ciphersuites(&c->conf_, utm__suites);
    mbedtls_ssl_conf_verify(&c->conf_, utm__verify_cb, c);
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH) && defined(MBEDTLS_SSL_IN_CONTENT_LEN) && MBEDTLS_SSL_IN_CONTENT_LEN < 16384
    /* a receive buffer below TLS's 16 KiB records: ask the server for records
     * that fit (RFC 6066 max_fragment_length; OpenSSL servers honour it) */
    (void)mbedtls_ssl_conf_max_frag_len(&c->conf_, MBEDTLS_SSL_IN_CONTENT_LEN >= 4096 ? MBEDTLS_SSL_MAX_FRAG_LEN_4096
                                                   : MBEDTLS_SSL_IN_CONTENT_LEN >= 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048
                                                   : MBEDTLS_SSL_IN_CONTENT_LEN >= 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024
                                                                                        : MBEDTLS_SSL_MAX_FRAG_LEN_512);
#endif
    r = utm__tls_load(c, cfg);
    if (r) return r;
    /* A CA: required (insecure: verified to report why, then accepted). No CA:
     * nothing to verify against; a pin, checked after the handshake, is then
     * the whole trust, and insecure without a pin trusts anything.         */
    mbedtls_ssl_conf_authmode(&c->conf_, !c->ca_.version ? MBEDTLS_SSL_VERIFY_NONE
                                         : c->cfg_.insecure ? MBEDTLS_SSL_VERIFY_OPTIONAL : MBEDTLS_SSL_VERIFY_REQUIRED);
    r = mbedtls_ssl_setup(&c->ssl_, &c->conf_);
    if (r) return utm__tls_fail(c, r);
    mbedtls_ssl_set_bio(&c->ssl_, c, utm__bio_send, utm__bio_recv, NULL);
    c->tls_ready_ = 1;
    return UTM_OK;
}

static void utm__tls_verify_text(utm_client_t *c)
{
    char info[UTMSTACK_ERRMSG_MAX];
    int n;
    c->verify_flags_ = mbedtls_ssl_get_verify_result(&c->ssl_);
    if (c->verify_flags_ == (uint32_t)-1) c->verify_flags_ = 0;
    if (c->pin_failed_) { utm__seterr_srv(c, "certificate: public key does not match the pin", NULL); return; }
    if (c->ip_failed_) { utm__seterr_srv(c, "certificate: no iPAddress entry for ", c->sni_); return; }
    if (UTMSTACK_TEXT < 1) return;
    n = mbedtls_x509_crt_verify_info(info, sizeof info, "", c->verify_flags_);
    if (n > 0) {
        char *nl;
        while ((nl = strchr(info, '\n')) != NULL) *nl = ';';
        utm__seterr_srv(c, "certificate: ", info);
    }
}

/* Keep the session for resumption on the next connection. */
static void utm__save_session(utm_client_t *c)
{
    mbedtls_ssl_session_free(&c->session_);
    mbedtls_ssl_session_init(&c->session_);
    c->have_session_ = mbedtls_ssl_get_session(&c->ssl_, &c->session_) == 0;
}

/* The handshake state, read to tell a full handshake (the server sent its
 * certificate) from a resumed one: mbedTLS has no public call for it, and
 * a verify callback is not called when nothing is verified.              */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define UTM__HS_STATE(ssl) ((ssl)->MBEDTLS_PRIVATE(state))
#else
#define UTM__HS_STATE(ssl) ((ssl)->state)
#endif

static int utm__tls_handshake(utm_client_t *c)
{
    int r = 0, rounds = 0;
    /* every connection starts from a clean context (keys, state, buffers) */
    if (mbedtls_ssl_session_reset(&c->ssl_) != 0) return UTM_ERR_TLS_ALLOC;
    /* an address is no server name (RFC 6066 3): no SNI, and mbedTLS matches
     * no name; the verify callback matches the iPAddress entries instead */
    if (mbedtls_ssl_set_hostname(&c->ssl_, c->ip_len_ ? NULL : c->sni_) != 0) return UTM_ERR_TLS_ALLOC;
    if (c->have_session_ && !c->cfg_.no_resume) mbedtls_ssl_set_session(&c->ssl_, &c->session_);
    if (c->cfg_.insecure) utm__log2(c, UTM_LOG_WARN, "insecure: the server certificate is NOT verified for ", c->sni_);
    c->full_hs_ = 0;
    c->pin_failed_ = 0;
    c->ip_failed_ = 0;
    c->dates_unknown_ = c->cfg_.port->time_fn && c->cfg_.port->time_fn(c->cfg_.port_ctx) <= 0;
    c->net_err_ = 0;
    while (UTM__HS_STATE(&c->ssl_) != MBEDTLS_SSL_HANDSHAKE_OVER) {
        if (UTM__HS_STATE(&c->ssl_) == MBEDTLS_SSL_SERVER_CERTIFICATE) c->full_hs_ = 1;
        r = mbedtls_ssl_handshake_step(&c->ssl_);
        if (r == 0 || ((r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) && ++rounds <= 1000))
            continue;
        {
            int tls = r;
            r = utm__tls_fail(c, r);
            if (r == UTM_ERR_TLS_VERIFY) utm__tls_verify_text(c);
            else if (c->net_err_) utm__seterr(c, r == UTM_ERR_TIMEOUT ? "timed out" : "network error", " during the TLS handshake");
            else if (tls == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) utm__seterr(c, "the server refused the TLS handshake (alert)", NULL);
            else utm__seterr(c, c->errmsg_, " in the TLS handshake");
            return r;
        }
    }
    if (c->full_hs_) c->st_full_++;
    else c->st_resumed_++;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    c->tls_version_ = (int)mbedtls_ssl_get_version_number(&c->ssl_);
#else
    c->tls_version_ = 0x0300 | c->ssl_.minor_ver;
#endif
    /* the pin on every full handshake, whatever CA and `insecure` say; a
     * resumed session is one a pinned full handshake made */
    if (c->full_hs_ && c->cfg_.pin_sha256 && utm__pin_check(c) != UTM_OK) {
        utm__tls_verify_text(c);
        return UTM_ERR_TLS_PIN;
    }
    if (c->full_hs_ && c->ca_.version) { /* dates: said plainly when not checked */
#if defined(MBEDTLS_HAVE_TIME_DATE)
        const char *why = c->dates_unknown_ ? "certificate dates not checked: the device does not know the time yet" : NULL;
#else
        const char *why = "certificate dates not checked: mbedTLS is built without MBEDTLS_HAVE_TIME_DATE";
#endif
        if (why) {
            utm__seterr(c, why, NULL);
            utm__log2(c, UTM_LOG_WARN, why, NULL);
        }
    }
    if (c->cfg_.insecure && c->full_hs_ && mbedtls_ssl_get_verify_result(&c->ssl_) != 0) {
        utm__tls_verify_text(c);
        utm__log2(c, UTM_LOG_WARN, "insecure: accepted an unverified ", c->errmsg_);
    }
    /* a TLS 1.3 session is worth keeping only once its ticket arrives */
    if (c->tls_version_ != 0x0303) return UTM_OK;
    utm__save_session(c);
    return UTM_OK;
}

static void utm__disconnect(utm_client_t *c)
{
    if (!c->connected_) return;
    if (c->tls_ && c->tls_ready_) {
        uint64_t saved = c->deadline_;
        c->deadline_ = utm__now(c) + 100; /* a close_notify is a courtesy, not a wait */
        (void)mbedtls_ssl_close_notify(&c->ssl_);
        c->deadline_ = saved;
    }
    c->cfg_.port->close_fn(c->cfg_.port_ctx);
    c->connected_ = 0;
    c->rpos_ = c->rlen_ = c->wlen_ = 0;
}

UTMSTACK_API void utm_client_close(utm_client_t *c)
{
    if (c && c->magic_ == UTM__MAGIC && !c->in_cb_) utm__disconnect(c);
}

static int utm__connect(utm_client_t *c)
{
    int rc;
    uint64_t saved = c->deadline_;
    utm__disconnect(c);
    c->net_err_ = 0;
    c->tls_err_ = 0;
    rc = c->cfg_.port->connect_fn(c->cfg_.port_ctx, c->host_, c->tcp_port_, utm__wait(c, c->cfg_.connect_timeout_ms));
    if (rc) {
        rc = rc < 0 ? rc : UTM_ERR_CONNECT;
        utm__seterr(c, rc == UTM_ERR_DNS ? "host name lookup failed: " : "could not connect to ", c->host_);
        return rc;
    }
    c->st_connects_++;
    if (!c->tls_ && c->cfg_.allow_plain_credentials)
        utm__log2(c, UTM_LOG_WARN, "plain http://: credentials go in clear to ", c->host_);
    if (c->tls_) {
        uint64_t hs = utm__now(c) + c->cfg_.connect_timeout_ms;
        if (c->deadline_ == 0 || hs < c->deadline_) c->deadline_ = hs;
        rc = utm__tls_handshake(c);
        c->deadline_ = saved;
        c->connected_ = 1; /* so a failure below closes the socket */
        if (rc) { utm__disconnect(c); return rc; }
    }
    c->connected_ = 1;
    c->conn_requests_ = 0;
    c->rpos_ = c->rlen_ = c->wlen_ = 0;
    return UTM_OK;
}

static int utm__send_all(utm_client_t *c, const unsigned char *p, size_t n)
{
    int rounds = 0;
    while (n > 0) {
        int r;
        if (c->tls_) {
            r = mbedtls_ssl_write(&c->ssl_, p, n);
            if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
                if (++rounds > 1000) return UTM_ERR_TLS;
                continue;
            }
            if (r <= 0) return utm__tls_fail(c, r);
        } else {
            r = utm__bio_send(c, p, n);
            if (r <= 0) return c->net_err_ ? c->net_err_ : UTM_ERR_NET;
        }
        p += r;
        n -= (size_t)r;
    }
    return UTM_OK;
}

/* Bytes read (> 0), 0 at the end of the stream, or an error. */
static int utm__recv_some(utm_client_t *c, unsigned char *p, size_t n)
{
    int rounds = 0;
    for (;;) {
        int r;
        if (!c->tls_) {
            r = utm__bio_recv(c, p, n);
            if (r == MBEDTLS_ERR_SSL_WANT_READ) return UTM_ERR_TIMEOUT; /* a probe found nothing */
            return r >= 0 ? r : (c->net_err_ ? c->net_err_ : UTM_ERR_NET);
        }
        r = mbedtls_ssl_read(&c->ssl_, p, n);
        if (r > 0) return r;
        /* the end: signed by the server (close_notify), or just the TCP
         * connection's, which anyone on the path can forge */
        c->eof_unsigned_ = r != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY;
        if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF) return 0;
#ifdef MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) { /* TLS 1.3: keep it, read on */
            utm__save_session(c);
            r = MBEDTLS_ERR_SSL_WANT_READ;
        }
#endif
        if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) return utm__tls_fail(c, r);
        if (c->probe_) return UTM_ERR_TIMEOUT; /* nothing there (a ticket at most) */
        if (++rounds > 1000) return UTM_ERR_TLS;
    }
}

/* ==== http ============================================================== */

typedef int (*utm__gen_fn)(utm__out_t *o, const void *arg);
/* 0 to go on; nonzero stops the response (returned as it is). */
typedef int (*utm__sink_fn)(void *ctx, const char *p, size_t n);

typedef struct utm__req {
    const char *method, *path;
    const utm_param_t *query;
    size_t nquery;
    const char *rep_name;            /* one repeated parameter (sort=...) */
    const char *const *rep_vals;
    size_t nrep;
    const char *body;                /* the body: bytes, or a generator */
    size_t body_len;
    utm__gen_fn gen;
    const void *gen_arg;
    const char *ctype;
    const utm_param_t *hdrs;         /* the caller's own headers */
    size_t nhdrs;
    int flags;
    utm_header_fn on_header;
    void *user;
    /* an upper layer's own headers (search: Link), seen before on_header */
    void (*hdr_hook)(struct utm__req *q, const char *name, size_t nn, const char *v, size_t vn);
    /* the credential header the auth layer hands down (cred NULL: none) */
    const char *cred_hdr, *cred_pre, *cred;
    utm__sink_fn sink;
    void *sink_ctx;
    /* out */
    utm_response_t *resp;
    uint32_t next_page, last_page;
} utm__req_t;

/* Characters a query value keeps as they are (RFC 3986 unreserved plus a
 * few that are safe in a query and read better in logs: "@,:*"). '+' and
 * '&' '=' are always encoded: servers decode '+' as a space.               */
static int utm__query_keep(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || utm__is_digit(ch) || ch == '-' || ch == '.' ||
           ch == '_' || ch == '~' || ch == '@' || ch == ',' || ch == ':' || ch == '*' || ch == '/';
}

/* A caller's path may carry its own query: keep visible ASCII that is legal
 * in a request target, encode the rest.                                      */
static int utm__path_keep(int ch)
{
    return ch > 0x20 && ch < 0x7f && !strchr("\"#<>\\^`{|}", ch);
}

/* A dot segment ("." or "..", plainly or as %2e) in the path part (before
 * '?'): a path built from data must not walk up the API.                   */
static int utm__has_dot_segment(const char *p)
{
    while (*p && *p != '?') {
        int dots = 0, other = 0;
        p++; /* past the '/' */
        while (*p && *p != '/' && *p != '?') {
            if (*p == '.') { dots++; p++; }
            else if (p[0] == '%' && p[1] == '2' && (p[2] | 32) == 'e') { dots++; p += 3; }
            else { other = 1; p++; }
        }
        if (!other && (dots == 1 || dots == 2)) return 1;
    }
    return 0;
}

static void utm__put_enc(utm__out_t *o, utm__line_t *l, const char *s, int (*keep)(int))
{
    static const char hex[] = "0123456789ABCDEF";
    const char *run = s;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char e[3];
        /* a '%' that starts no escape is data, sent as %25 */
        if (keep(ch) && (ch != '%' || (utm__hexdigit((unsigned char)s[1]) >= 0 && utm__hexdigit((unsigned char)s[2]) >= 0)))
            continue;
        utm__put(o, run, (size_t)(s - run));
        if (l) utm__add(l, run, (size_t)(s - run));
        e[0] = '%'; e[1] = hex[ch >> 4]; e[2] = hex[ch & 15];
        utm__put(o, e, 3);
        if (l) utm__add(l, e, 3);
        run = s + 1;
    }
    utm__put(o, run, (size_t)(s - run));
    if (l) utm__add(l, run, (size_t)(s - run));
}

static void utm__put_param(utm__out_t *o, utm__line_t *l, char *sep, const char *name, const char *value, int secret)
{
    utm__put(o, sep, 1);
    if (l) utm__add(l, sep, 1);
    *sep = '&';
    utm__put_enc(o, l, name, utm__query_keep);
    utm__put(o, "=", 1);
    if (l) utm__add(l, "=", 1);
    if (secret) {
        utm__put_enc(o, NULL, value, utm__query_keep);
        if (l) utm__add(l, "***", 3);
    } else {
        utm__put_enc(o, l, value, utm__query_keep);
    }
}

/* A header line; secret values reach the log as ***. */
static void utm__put_hdr(utm_client_t *c, utm__out_t *o, const char *name, const char *v1, const char *v2, int secret)
{
    utm__puts(o, name);
    utm__put(o, ": ", 2);
    utm__puts(o, v1);
    if (v2) utm__puts(o, v2);
    utm__put(o, "\r\n", 2);
    if (utm__want(c, UTM_LOG_DEBUG)) {
        utm__line_t l;
        l.n = 0;
        utm__adds(&l, "> ");
        utm__adds(&l, name);
        utm__adds(&l, ": ");
        if (secret) { if (v2) utm__adds(&l, v1); utm__adds(&l, "***"); }
        else { utm__adds(&l, v1); if (v2) utm__adds(&l, v2); }
        utm__emit(c, UTM_LOG_DEBUG, &l);
    }
}

static uint64_t utm__body_len(const utm__req_t *q)
{
    utm__out_t cnt;
    if (!q->gen) return q->body_len;
    memset(&cnt, 0, sizeof cnt);
    q->gen(&cnt, q->gen_arg);
    return cnt.total;
}

/* Does the caller give header `name` itself? */
static int utm__own_hdr(const utm__req_t *q, const char *name)
{
    size_t i;
    for (i = 0; i < q->nhdrs; i++)
        if (utm__ieq(q->hdrs[i].name, strlen(q->hdrs[i].name), name)) return 1;
    return 0;
}

static int utm__write_request(utm_client_t *c, const utm__req_t *q)
{
    utm__out_t o;
    utm__line_t l, *lp = NULL;
    char sep = strchr(q->path, '?') ? '&' : '?';
    char num[24];
    size_t i;
    int has_body = q->body || q->gen || strcmp(q->method, "POST") == 0 || strcmp(q->method, "PUT") == 0;
    memset(&o, 0, sizeof o);
    o.c = c;
    o.flush_fn = utm__send_all;
    c->wlen_ = 0;
    if (utm__want(c, UTM_LOG_DEBUG)) { lp = &l; l.n = 0; utm__adds(&l, "> "); }
    utm__puts(&o, q->method);
    utm__put(&o, " ", 1);
    if (lp) { utm__adds(lp, q->method); utm__adds(lp, " "); }
    utm__put_enc(&o, lp, c->prefix_, utm__path_keep);
    utm__put_enc(&o, lp, q->path, utm__path_keep);
    for (i = 0; i < q->nquery; i++)
        if (q->query[i].value)
            utm__put_param(&o, lp, &sep, q->query[i].name, q->query[i].value, (q->flags & UTM__REQ_SECRET_QUERY) != 0);
    for (i = 0; i < q->nrep; i++) utm__put_param(&o, lp, &sep, q->rep_name, q->rep_vals[i], 0);
    utm__puts(&o, " HTTP/1.1\r\n");
    if (lp) { utm__adds(lp, " HTTP/1.1"); utm__emit(c, UTM_LOG_DEBUG, lp); }
    {
        char host[UTMSTACK_HOST_MAX + 10], port[8];
        size_t n = strlen(c->host_);
        const char *p = utm__u64_str(port + sizeof port, c->tcp_port_);
        char *h = host;
        if (c->ipv6_host_) *h++ = '[';
        memcpy(h, c->host_, n);
        h += n;
        if (c->ipv6_host_) *h++ = ']';
        if (c->tcp_port_ != (c->tls_ ? 443 : 80)) { *h++ = ':'; memcpy(h, p, strlen(p)); h += strlen(p); }
        *h = 0;
        utm__put_hdr(c, &o, "Host", host, NULL, 0);
    }
    if (!utm__own_hdr(q, "user-agent")) utm__put_hdr(c, &o, "User-Agent", "utmstack/" UTMSTACK_VERSION_STRING, NULL, 0);
    if (!utm__own_hdr(q, "accept")) utm__put_hdr(c, &o, "Accept", "application/json, text/plain, */*", NULL, 0);
    for (i = 0; i < q->nhdrs; i++) utm__put_hdr(c, &o, q->hdrs[i].name, q->hdrs[i].value, NULL, 0);
    if (q->cred) utm__put_hdr(c, &o, q->cred_hdr, q->cred_pre ? q->cred_pre : q->cred, q->cred_pre ? q->cred : NULL, 1);
    if (has_body) {
        uint64_t n = utm__body_len(q);
        if (!utm__own_hdr(q, "content-type"))
            utm__put_hdr(c, &o, "Content-Type", q->ctype ? q->ctype : "application/json", NULL, 0);
        utm__put_hdr(c, &o, "Content-Length", utm__u64_str(num + sizeof num, n), NULL, 0);
    }
    utm__put_hdr(c, &o, "Connection", "keep-alive", NULL, 0);
    utm__put(&o, "\r\n", 2);
    if (q->gen) q->gen(&o, q->gen_arg);
    else if (q->body) utm__put(&o, q->body, q->body_len);
    if (c->wlen_ > o.used) o.used = c->wlen_; /* a failed send leaves wlen_ */
    utm__flush(&o);
    /* what was written may hold a password, a token or a key */
    utm__wipe(c->buf_, o.used);
    return o.err;
}

/* ---- response reader ---- */

/* Make room and read more: 0, UTM__FULL (the buffer holds one unfinished
 * line), UTM__EOF, or an error.                                             */
static int utm__fill(utm_client_t *c)
{
    int n;
    if (c->rpos_ > 0) {
        memmove(c->buf_, c->buf_ + c->rpos_, c->rlen_ - c->rpos_);
        c->rlen_ -= c->rpos_;
        c->rpos_ = 0;
    }
    if (c->rlen_ == sizeof c->buf_) return UTM__FULL;
    n = utm__recv_some(c, c->buf_ + c->rlen_, sizeof c->buf_ - c->rlen_);
    if (n < 0) return n;
    if (n == 0) return UTM__EOF;
    if (!c->rx_any_) { /* stray line ends are no answer (for the retry rule) */
        const unsigned char *b = c->buf_ + c->rlen_;
        int i;
        for (i = 0; i < n; i++)
            if (b[i] != '\r' && b[i] != '\n') { c->rx_any_ = 1; break; }
    }
    c->rlen_ += (size_t)n;
    return UTM_OK;
}

/* One line without its CRLF (a bare LF ends a line too, RFC 9112 2.2).
 * With `fold`, obsolete line folding is joined in place with spaces.        */
static int utm__read_line(utm_client_t *c, int fold, char **line, size_t *len)
{
    size_t scan = 0;
    for (;;) {
        char *s = (char *)c->buf_ + c->rpos_;
        size_t avail = c->rlen_ - c->rpos_;
        char *nl = (char *)memchr(s + scan, '\n', avail - scan);
        int rc;
        if (nl) {
            size_t end = (size_t)(nl - s);
            size_t content = (end > 0 && s[end - 1] == '\r') ? end - 1 : end;
            c->eol_mask_ |= content < end ? 1 : 2;
            if (fold && content > 0) {
                if (end + 1 == avail) {
                    scan = end; /* need the next byte to know */
                    goto more;
                }
                if (s[end + 1] == ' ' || s[end + 1] == '\t') {
                    s[end] = ' ';
                    if (content < end) s[content] = ' ';
                    scan = end + 1;
                    continue;
                }
            }
            *line = s;
            *len = content;
            c->rpos_ += end + 1;
            return UTM_OK;
        }
        scan = avail;
    more:
        rc = utm__fill(c);
        if (rc == UTM__FULL) return UTM_ERR_HTTP_LINE_TOO_LONG;
        if (rc == UTM__EOF) return UTM_ERR_CLOSED;
        if (rc) return rc;
    }
}

static int utm__parse_status(const char *l, size_t n, int *status, int *minor)
{
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || !utm__is_digit((unsigned char)l[7]) || l[8] != ' ' ||
        !utm__is_digit((unsigned char)l[9]) || !utm__is_digit((unsigned char)l[10]) ||
        !utm__is_digit((unsigned char)l[11]) || (n > 12 && l[12] != ' '))
        return UTM_ERR_HTTP_STATUS_LINE;
    *minor = l[7] - '0';
    *status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    if (*status < 100 || *status > 599) return UTM_ERR_HTTP_STATUS_LINE;
    return n > 13 && utm__ctl_in(l + 13, n - 13, 1) ? UTM_ERR_HTTP_STATUS_LINE : UTM_OK;
}

static int utm__tchar(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || utm__is_digit(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

typedef struct utm__head {
    int status, minor;
    int chunked, te, close, keep_alive;
    int has_cl;
    uint64_t cl;
    unsigned headers;
    size_t bytes;
} utm__head_t;

/* Next list element of a comma-separated header value, trimmed. */
static int utm__list_next(const char **p, const char *end, const char **item, size_t *n)
{
    const char *s = *p, *e;
    while (s < end && (*s == ' ' || *s == '\t' || *s == ',')) s++;
    if (s >= end) return 0;
    e = s;
    while (e < end && *e != ',') e++;
    *p = e;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    *item = s;
    *n = (size_t)(e - s);
    return 1;
}

/* The last answer's Date, in seconds (<= 0: none or unreadable); wall is
 * the device's clock (utm__wall), read once by the caller. */
static int64_t utm__answer_date(const utm_client_t *c, int64_t wall)
{
    return utm__http_date(c->date_, strlen(c->date_), wall);
}

/* A header's value as it came, when it fits (else none). */
static void utm__keep_raw(char *dst, size_t size, const char *v, size_t n)
{
    if (n >= size) n = 0;
    memcpy(dst, v, n);
    dst[n] = 0;
}

static int utm__on_header(utm_client_t *c, utm__req_t *q, utm__head_t *h, const char *name, size_t nn,
                          const char *v, size_t vn, int suppress_user)
{
    const char *p = v, *end = v + vn, *item;
    size_t in;
    if (utm__ieq(name, nn, "content-length")) {
        while (utm__list_next(&p, end, &item, &in)) {
            uint64_t x;
            if (utm__parse_u64(item, in, &x) || (h->has_cl && x != h->cl)) return UTM_ERR_HTTP_CONTENT_LENGTH;
            h->has_cl = 1;
            h->cl = x;
        }
        if (!h->has_cl) return UTM_ERR_HTTP_CONTENT_LENGTH;
    } else if (utm__ieq(name, nn, "transfer-encoding")) {
        while (utm__list_next(&p, end, &item, &in)) {
            /* only chunked, once and last; we ask for no other coding */
            if (!utm__ieq(item, in, "chunked") || h->chunked) return UTM_ERR_HTTP_TRANSFER_ENCODING;
            h->chunked = 1;
        }
        h->te = 1;
        if (!h->chunked) return UTM_ERR_HTTP_TRANSFER_ENCODING;
    } else if (utm__ieq(name, nn, "connection")) {
        while (utm__list_next(&p, end, &item, &in)) {
            if (utm__ieq(item, in, "close")) h->close = 1;
            if (utm__ieq(item, in, "keep-alive")) h->keep_alive = 1;
        }
    } else if (utm__ieq(name, nn, "x-total-count")) {
        uint64_t x;
        if (q->resp && utm__parse_u64(v, vn, &x) == 0 && x <= (uint64_t)INT64_MAX) q->resp->total_count = (int64_t)x;
    } else if (utm__ieq(name, nn, "x-utmstack-error")) {
        if (q->resp) utm__copy_text(q->resp->error, sizeof q->resp->error, v, vn);
    } else if (utm__ieq(name, nn, "date")) { /* kept as text: the layers that need a time read it */
        utm__keep_raw(c->date_, sizeof c->date_, v, vn);
    } else if (utm__ieq(name, nn, "retry-after")) {
        utm__keep_raw(c->retry_after_, sizeof c->retry_after_, v, vn);
    }
    if (q->hdr_hook) q->hdr_hook(q, name, nn, v, vn);
    if (q->on_header && !suppress_user && UTM__CB(c, q->on_header(q->user, name, nn, v, vn))) return UTM_ERR_ABORTED;
    return UTM_OK;
}

static int utm__secret_header(const char *name, size_t n)
{
    return utm__ieq(name, n, "authorization") || utm__ieq(name, n, "utm-internal-key") ||
           utm__ieq(name, n, "set-cookie") || utm__ieq(name, n, "cookie") || utm__ieq(name, n, "proxy-authorization");
}

/* Header lines until the empty one. trailer: count only, no meaning. */
static int utm__read_headers(utm_client_t *c, utm__req_t *q, utm__head_t *h, int trailer, int suppress_user)
{
    for (;;) {
        char *l, *colon, *v, *e;
        size_t n, nn;
        int rc = utm__read_line(c, 1, &l, &n);
        if (rc) return rc;
        h->bytes += n + 2;
        if (h->bytes > UTMSTACK_MAX_HEADER_BYTES) return UTM_ERR_HTTP_HEADERS_TOO_LARGE;
        /* CRLF or bare LF (RFC 9112 2.2), not both: a bare LF inside a CRLF
         * block is where a proxy and we could cut lines differently */
        if (c->eol_mask_ == 3) return UTM_ERR_HTTP_HEADER;
        if (n == 0) return UTM_OK;
        if (++h->headers > UTMSTACK_MAX_HEADERS) return UTM_ERR_HTTP_TOO_MANY_HEADERS;
        colon = (char *)memchr(l, ':', n);
        if (!colon || colon == l) return UTM_ERR_HTTP_HEADER;
        nn = (size_t)(colon - l);
        {
            size_t i;
            for (i = 0; i < nn; i++) if (!utm__tchar((unsigned char)l[i])) return UTM_ERR_HTTP_HEADER;
        }
        v = colon + 1;
        e = l + n;
        while (v < e && (*v == ' ' || *v == '\t')) v++;
        while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
        if (utm__ctl_in(v, (size_t)(e - v), 1)) return UTM_ERR_HTTP_HEADER;
        if (utm__want(c, UTM_LOG_DEBUG)) {
            utm__line_t ll;
            int secret = utm__secret_header(l, nn);
            ll.n = 0;
            utm__adds(&ll, "< ");
            utm__add(&ll, l, nn);
            utm__adds(&ll, ": ");
            if (secret) utm__adds(&ll, "***");
            else utm__add(&ll, v, (size_t)(e - v));
            utm__emit(c, UTM_LOG_DEBUG, &ll);
        }
        if (!trailer) {
            rc = utm__on_header(c, q, h, l, nn, v, (size_t)(e - v), suppress_user);
            if (rc) return rc;
        }
    }
}

/* Hand `n` buffered-or-arriving body bytes to the sink. */
static int utm__body_bytes(utm_client_t *c, utm__req_t *q, uint64_t n, utm__sink_fn sink, void *ctx)
{
    while (n > 0) {
        size_t take;
        int rc;
        if (c->rpos_ == c->rlen_) {
            int r = utm__recv_some(c, c->buf_, sizeof c->buf_);
            c->rpos_ = c->rlen_ = 0;
            if (r < 0) return r;
            if (r == 0) return UTM_ERR_CLOSED;
            c->rlen_ = (size_t)r;
        }
        take = (size_t)UTM__MIN((uint64_t)(c->rlen_ - c->rpos_), n);
        rc = sink ? sink(ctx, (const char *)c->buf_ + c->rpos_, take) : 0;
        if (q->resp) q->resp->body_bytes += take;
        c->rpos_ += take;
        n -= take;
        if (rc) return rc;
    }
    return UTM_OK;
}

static int utm__chunk_size(const char *l, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n; i++) {
        int ch = (unsigned char)l[i], d;
        if (ch >= '0' && ch <= '9') d = ch - '0';
        else if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
        else break;
        if (v >> 59) return UTM_ERR_HTTP_CHUNK; /* would overflow */
        v = (v << 4) | (uint64_t)d;
    }
    if (i == 0) return UTM_ERR_HTTP_CHUNK;
    while (i < n && (l[i] == ' ' || l[i] == '\t')) i++; /* BWS before ; */
    if (i < n && l[i] != ';') return UTM_ERR_HTTP_CHUNK;
    *out = v;
    return UTM_OK;
}

static int utm__read_chunked(utm_client_t *c, utm__req_t *q, utm__head_t *h, utm__sink_fn sink, void *ctx)
{
    for (;;) {
        char *l;
        size_t n;
        uint64_t size;
        int rc = utm__read_line(c, 0, &l, &n);
        if (rc) return rc == UTM_ERR_HTTP_LINE_TOO_LONG ? UTM_ERR_HTTP_CHUNK : rc;
        rc = utm__chunk_size(l, n, &size);
        if (rc) return rc;
        if (size == 0) {
            c->eol_mask_ = 0; /* the trailer block is judged on its own */
            return utm__read_headers(c, q, h, 1, 1);
        }
        rc = utm__body_bytes(c, q, size, sink, ctx);
        if (rc) return rc;
        rc = utm__read_line(c, 0, &l, &n);
        if (rc) return rc == UTM_ERR_HTTP_LINE_TOO_LONG ? UTM_ERR_HTTP_CHUNK : rc;
        if (n != 0) return UTM_ERR_HTTP_CHUNK;
    }
}

static int utm__read_to_close(utm_client_t *c, utm__req_t *q, utm__sink_fn sink, void *ctx)
{
    for (;;) {
        int rc;
        if (c->rpos_ == c->rlen_) {
            int r = utm__recv_some(c, c->buf_, sizeof c->buf_);
            c->rpos_ = c->rlen_ = 0;
            if (r < 0) return r;
            if (r == 0 && c->tls_ && c->eof_unsigned_) {
                /* RFC 8446 6.1, as curl does: without close_notify the body may be cut */
                utm__seterr(c, "TLS: the connection ended without close_notify: the body may be truncated", NULL);
                return UTM_ERR_CLOSED;
            }
            if (r == 0) return UTM_OK;
            c->rlen_ = (size_t)r;
        }
        rc = utm__body_bytes(c, q, c->rlen_ - c->rpos_, sink, ctx);
        if (rc) return rc;
    }
}

static int utm__drain(void *ctx, const char *p, size_t n) { (void)ctx; (void)p; (void)n; return 0; }

/* Reads one response; *reuse tells whether the connection may carry another. */
static int utm__read_response(utm_client_t *c, utm__req_t *q, int *reuse)
{
    utm__head_t h;
    utm__sink_fn sink = q->sink;
    int rc, informational = 0, suppress = 0;
    char *l;
    size_t n;
    *reuse = 0;
    for (;;) {
        int blank = 0;
        memset(&h, 0, sizeof h);
        /* a few stray empty lines before a status line are tolerated */
        do {
            c->eol_mask_ = 0;
            rc = utm__read_line(c, 0, &l, &n);
            if (rc) return rc == UTM_ERR_HTTP_LINE_TOO_LONG ? UTM_ERR_HTTP_STATUS_LINE : rc;
        } while (n == 0 && ++blank < 4);
        rc = utm__parse_status(l, n, &h.status, &h.minor);
        if (rc) return rc;
        if (utm__want(c, UTM_LOG_DEBUG)) {
            utm__line_t ll;
            ll.n = 0;
            utm__adds(&ll, "< ");
            utm__add(&ll, l, n);
            utm__emit(c, UTM_LOG_DEBUG, &ll);
        }
        if (q->resp) q->resp->status = h.status;
        if (h.status == 401 && (q->flags & UTM__REQ_DRAIN_401)) { sink = utm__drain; suppress = 1; }
        rc = utm__read_headers(c, q, &h, 0, suppress);
        if (rc) return rc;
        if (h.status >= 200 || h.status == 101) break;
        if (++informational > 8) return UTM_ERR_HTTP_STATUS_LINE; /* 100, 103 ... then the real one */
    }
    if (h.status == 101) return UTM_ERR_HTTP_STATUS;
    if (q->resp) q->resp->content_length = h.has_cl && !h.te ? (int64_t)h.cl : -1;
    if ((q->flags & UTM__REQ_HEAD) || h.status == 204 || h.status == 304) {
        rc = UTM_OK;
    } else if (h.te) {
        rc = utm__read_chunked(c, q, &h, sink, q->sink_ctx);
        if (h.has_cl || h.minor == 0) h.close = 1; /* RFC 9112 6.3: close after */
    } else if (h.has_cl) {
        rc = utm__body_bytes(c, q, h.cl, sink, q->sink_ctx);
    } else {
        rc = utm__read_to_close(c, q, sink, q->sink_ctx);
        h.close = 1;
    }
    if (rc) return rc;
    *reuse = !h.close && (h.minor >= 1 || h.keep_alive) && c->rpos_ == c->rlen_;
    return UTM_OK;
}

static void utm__resp_init(utm__req_t *q)
{
    if (q->resp) {
        memset(q->resp, 0, sizeof *q->resp);
        q->resp->content_length = -1;
        q->resp->total_count = -1;
    }
    q->next_page = q->last_page = 0;
}

/* Would this request carry a secret: a credential header, a password in
 * the body, a code in the query?                                          */
static int utm__carries_secret(const utm__req_t *q)
{
    return (q->flags & (UTM__REQ_SECRET_QUERY | UTM__REQ_SECRET_BODY)) || q->cred != NULL;
}

/* Before a kept connection carries another request: bytes waiting on it
 * (what the last answer did not account for: a body after a 204, a second
 * answer, a stray line end) or its end mean it is out of step, and reading
 * them as the next answer would be wrong (RFC 9112 6.3): close it.         */
static int utm__stale(utm_client_t *c)
{
    int r;
    if (c->rpos_ != c->rlen_) return 1;
    c->probe_ = 1;
    r = utm__recv_some(c, c->buf_, sizeof c->buf_);
    c->probe_ = 0;
    c->rpos_ = c->rlen_ = 0;
    return r != UTM_ERR_TIMEOUT;
}

/* Send one request and read its answer, with one transparent retry on a
 * fresh connection when a reused one failed before any answer byte.        */
static int utm__exchange(utm_client_t *c, utm__req_t *q)
{
    int attempt;
    if (!c->tls_ && !c->cfg_.allow_plain_credentials && utm__carries_secret(q)) {
        utm__seterr(c, "http:// would send a credential in clear: use https://, or set allow_plain_credentials", NULL);
        return UTM_ERR_PLAINTEXT;
    }
    for (attempt = 0;; attempt++) {
        int rc, reused, reuse = 0;
        if (c->connected_ && c->conn_requests_ > 0 && utm__stale(c)) {
            c->st_stale_++;
            utm__log2(c, UTM_LOG_INFO, "the kept connection held unexpected bytes or was closed: a new one", NULL);
            utm__disconnect(c);
        }
        if (!c->connected_) {
            rc = utm__connect(c);
            if (rc) return rc;
        }
        reused = c->conn_requests_ > 0;
        c->rx_any_ = 0;
        c->net_err_ = 0;
        c->date_[0] = 0;
        c->retry_after_[0] = 0;
        utm__resp_init(q);
        c->st_requests_++;
        rc = utm__write_request(c, q);
        if (rc == UTM_OK) rc = utm__read_response(c, q, &reuse);
        if (rc == UTM_OK) {
            c->conn_requests_++;
            if (!reuse) utm__disconnect(c);
            return UTM_OK;
        }
        utm__disconnect(c);
        if (rc == UTM__STOP) return rc;
        if (attempt == 0 && reused && !c->rx_any_ && (rc == UTM_ERR_CLOSED || rc == UTM_ERR_NET || rc == UTM_ERR_TLS) &&
            (q->flags & UTM_REQ_RETRY_SAFE)) {
            c->st_retries_++;
            utm__log2(c, UTM_LOG_INFO, "kept-alive connection was closed by the server; retrying on a new one", NULL);
            continue;
        }
        if (!c->rx_any_ && (rc == UTM_ERR_CLOSED || rc == UTM_ERR_NET) && c->errmsg_[0] == 0)
            utm__seterr(c, "the server ended the connection before answering", NULL);
        return rc;
    }
}

/* A body sink into a caller buffer, kept NUL-terminated. */
typedef struct utm__cap { char *buf; size_t cap, len; } utm__cap_t;

static int utm__capture(void *ctx, const char *p, size_t n)
{
    utm__cap_t *k = (utm__cap_t *)ctx;
    if (n >= k->cap - k->len) return UTM_ERR_HTTP_BODY_TOO_LARGE;
    memcpy(k->buf + k->len, p, n);
    k->len += n;
    k->buf[k->len] = 0;
    return UTM_OK;
}

/* Every public call starts its own deadline and error text. */
static int utm__begin(utm_client_t *c)
{
    if (!c || c->magic_ != UTM__MAGIC) return UTM_ERR_ARG;
    if (c->in_cb_) return UTM_ERR_REENTRANT; /* the exchange under way would be broken */
    if (!c->ready_) return UTM_ERR_STATE;
    c->errmsg_[0] = 0;
    c->last_rc_ = 0;
    c->deadline_ = c->cfg_.request_timeout_ms ? utm__now(c) + c->cfg_.request_timeout_ms : 0;
    return UTM_OK;
}

static int utm__end(utm_client_t *c, int rc)
{
    c->last_rc_ = rc; /* utm_last_error() names it when nothing more was said */
    return rc;
}

/* ==== auth ============================================================== */

static void utm__token_forget(utm_client_t *c)
{
    utm__wipe(c->cred_, sizeof c->cred_);
    utm__wipe(c->sub_, sizeof c->sub_);
    c->tok_state_ = UTM__TOK_NONE;
    c->tok_exp_ = 0;
    c->tok_deadline_ = 0;
    c->tok_renew_at_ = 0;
}

/* The whole part of a valid JSON number (`exp` may be written 1.5e9),
 * without strtod or floating point; UTM_ERR_TOO_LONG beyond 9e15.        */
static int utm__json_whole(const char *p, size_t n, int64_t *out)
{
    uint64_t m = 0;
    long scale = 0, e = 0;
    int digits = 0, neg = 0, eneg = 0;
    size_t i = 0;
    if (p[0] == '-') { neg = 1; i++; }
    for (; i < n && utm__is_digit((unsigned char)p[i]); i++) {
        if (digits < 18) { m = m * 10 + (uint64_t)(p[i] - '0'); digits += m != 0; }
        else scale++;
    }
    if (i < n && p[i] == '.')
        for (i++; i < n && utm__is_digit((unsigned char)p[i]); i++)
            if (digits < 18) { m = m * 10 + (uint64_t)(p[i] - '0'); digits += m != 0; scale--; }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (p[i] == '+' || p[i] == '-') eneg = p[i++] == '-';
        for (; i < n; i++) if (e < 100000) e = e * 10 + (p[i] - '0');
    }
    scale += eneg ? -e : e;
    for (; scale < 0 && m; scale++) m /= 10;
    for (; scale > 0 && m; scale--) {
        if (m > UINT64_C(900000000000000)) return UTM_ERR_TOO_LONG;
        m *= 10;
    }
    if (m > UINT64_C(9000000000000000)) return UTM_ERR_TOO_LONG;
    *out = neg ? -(int64_t)m : (int64_t)m;
    return UTM_OK;
}

/* A random number from the port's entropy (0 when it has none). */
static uint32_t utm__random32(utm_client_t *c)
{
    unsigned char b[4];
    uint32_t v;
    if (!c->cfg_.port->entropy_fn || c->cfg_.port->entropy_fn(c->cfg_.port_ctx, b, sizeof b) != 0) return 0;
    v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    utm__wipe(b, sizeof b);
    return v;
}

/* When to renew a token good for `left` more seconds: at a point drawn at
 * random, once per token, inside a window that ends renew_margin_s before
 * the expiry, so that devices which logged in together renew apart and
 * none ever uses an expired token.                                          */
static uint64_t utm__renew_point(utm_client_t *c, int64_t left)
{
    uint64_t margin = c->cfg_.renew_margin_s, window = c->cfg_.renew_window_s;
    uint64_t life = (uint64_t)left, early;
    if (!window) window = UTM__MIN(life / 5, 3600);
    if (margin >= life) return utm__now(c); /* renew at once */
    window = UTM__MIN(window, life - margin);
    early = margin * 1000u + (window ? (uint64_t)utm__random32(c) % (window * 1000u + 1u) : 0);
    return c->tok_deadline_ - UTM__MIN(early, c->tok_deadline_);
}

/* Read `exp` and `sub` from the JWT in cred_ and plan its renewal. `fresh`:
 * it came from the server just now, so the Date header is its clock.      */
static int utm__jwt_load(utm_client_t *c, int fresh, int pre)
{
    const char *t = c->cred_, *d1 = strchr(t, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    long n;
    utm_json_t j;
    int i, rc = UTM_ERR_JWT;
    int64_t exp = 0, ref = 0, left;
    if (!d2 || d1 == t || strchr(d2 + 1, '.')) return UTM_ERR_JWT;
    n = utm__b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), (unsigned char *)c->doc_, sizeof c->doc_);
    if (n <= 0) return UTM_ERR_JWT;
    if (utm_json_parse(&j, c->doc_, (size_t)n, c->tok_, UTMSTACK_JSON_TOKENS) == UTM_OK &&
        utm_json_type(&j, 0) == UTM_JSON_OBJECT) {
        size_t len;
        const char *num;
        i = utm_json_find(&j, 0, "exp");
        num = utm_json_type(&j, i) == UTM_JSON_NUMBER ? utm_json_raw(&j, i, &len) : NULL;
        if (!num || !utm__is_json_number(num, len) || utm__json_whole(num, len, &exp) != UTM_OK) exp = 0;
        i = utm_json_find(&j, 0, "sub");
        rc = i < 0 ? -1 : utm_json_string(&j, i, c->sub_, sizeof c->sub_);
        /* a login name: not one cut at a \u0000, none with control bytes */
        if (rc < 0 || strlen(c->sub_) != (size_t)rc || utm__has_ctl(c->sub_, (size_t)rc)) utm__wipe(c->sub_, sizeof c->sub_);
        rc = UTM_OK;
    }
    utm__wipe(c->doc_, (size_t)n);
    if (rc) return rc;
    c->tok_exp_ = exp;
    c->tok_deadline_ = 0;
    if (exp > 0) {
        int64_t wall = utm__wall(c);
        if (fresh) ref = utm__answer_date(c, wall); /* the server's clock, when it said */
        if (ref <= 0) ref = wall;
        if (ref > 0) left = exp - ref;
        else if (fresh) left = pre ? 300 : c->remember_me_ ? 30 * 86400 : 86400; /* the server's lifetimes */
        else return UTM_OK;                                                   /* unknown: the 401 tells */
        if (left < 0) left = 0;
        c->tok_deadline_ = utm__now(c) + (uint64_t)left * 1000u + 1u;
        c->tok_renew_at_ = utm__renew_point(c, left);
    }
    return UTM_OK;
}

/* {"id_token": "...", "authenticated": bool, ...} from doc_[0..len). */
static int utm__take_token(utm_client_t *c, size_t len)
{
    utm_json_t j;
    int i, authenticated = 1, rc;
    utm__token_forget(c);
    rc = utm_json_parse(&j, c->doc_, len, c->tok_, UTMSTACK_JSON_TOKENS);
    if (rc) { utm__seterr(c, "login answer is not valid JSON", NULL); return rc == UTM_ERR_JSON_TOKENS ? rc : UTM_ERR_JSON; }
    if (utm_json_type(&j, 0) != UTM_JSON_OBJECT) { utm__seterr(c, "login answer is not a JSON object", NULL); return UTM_ERR_JSON; }
    i = utm__member(&j, 0, "authenticated", 13);
    if (i >= 0 && utm_json_bool(&j, i, &authenticated) != UTM_OK) authenticated = 1;
    i = utm__member(&j, 0, "id_token", 8);
    if (i < 0 || utm_json_type(&j, i) != UTM_JSON_STRING) { utm__seterr(c, "login answer has no id_token", NULL); return UTM_ERR_TOKEN; }
    rc = utm_json_string(&j, i, c->cred_, sizeof c->cred_);
    if (rc == UTM_ERR_TOO_LONG) {
        utm__token_forget(c);
        utm__seterr(c, "token longer than UTMSTACK_TOKEN_MAX", NULL);
        return UTM_ERR_TOO_LONG;
    }
    if (rc <= 0 || utm__has_ctl(c->cred_, (size_t)rc) || strchr(c->cred_, ' ')) {
        utm__token_forget(c);
        utm__seterr(c, "id_token is empty or holds control characters", NULL);
        return UTM_ERR_TOKEN;
    }
    rc = utm__jwt_load(c, 1, !authenticated);
    if (rc) { utm__token_forget(c); utm__seterr(c, "id_token is not a JWT", NULL); return rc; }
    c->tok_state_ = authenticated ? UTM__TOK_VALID : UTM__TOK_PRE;
    return authenticated ? UTM_OK : UTM_TFA_REQUIRED;
}

typedef struct utm__login_body { const char *user, *pass; int remember; } utm__login_body_t;

static int utm__gen_login(utm__out_t *o, const void *arg)
{
    const utm__login_body_t *b = (const utm__login_body_t *)arg;
    utm__puts(o, "{\"username\":");
    utm__put_jstr(o, b->user, strlen(b->user));
    utm__puts(o, ",\"password\":");
    utm__put_jstr(o, b->pass, strlen(b->pass));
    utm__puts(o, b->remember ? ",\"rememberMe\":true}" : ",\"rememberMe\":false}");
    return o->err;
}

/* The credential header of the client's auth mode, handed to the request
 * (the http layer writes what it is given and knows no auth mode).       */
static void utm__cred_header(const utm_client_t *c, utm__req_t *q)
{
    q->cred = NULL;
    if (q->flags & UTM_REQ_NO_AUTH) return;
    if (c->auth_mode_ == UTM__AUTH_KEY) {
        q->cred_hdr = "Utm-Internal-Key";
        q->cred_pre = NULL;
        q->cred = c->cred_;
    } else if (c->cred_[0]) {
        q->cred_hdr = "Authorization";
        q->cred_pre = "Bearer ";
        q->cred = c->cred_;
    }
}

/* An exchange whose JSON answer lands in doc_; non-2xx becomes an error
 * code with the server's X-UtmStack-error text.                            */
static int utm__auth_exchange(utm_client_t *c, utm__req_t *q, size_t *len, int refused)
{
    utm_response_t resp;
    utm__cap_t k;
    int rc;
    k.buf = c->doc_;
    k.cap = sizeof c->doc_;
    k.len = 0;
    c->doc_[0] = 0;
    q->sink = utm__capture;
    q->sink_ctx = &k;
    q->resp = &resp;
    utm__cred_header(c, q);
    rc = utm__exchange(c, q);
    *len = k.len;
    /* the answer (id_token, the Authorization header) passed through the I/O
     * buffer: keep only bytes not yet read, wipe the rest */
    if (c->rpos_ > 0) {
        memmove(c->buf_, c->buf_ + c->rpos_, c->rlen_ - c->rpos_);
        c->rlen_ -= c->rpos_;
        c->rpos_ = 0;
    }
    utm__wipe(c->buf_ + c->rlen_, sizeof c->buf_ - c->rlen_);
    if (rc == UTM_ERR_HTTP_BODY_TOO_LARGE) utm__seterr(c, "login answer larger than UTMSTACK_DOC_SIZE", NULL);
    if (rc == UTM_OK && resp.status != 200) {
        rc = resp.status == 401 ? refused : utm_status_error(resp.status);
        if (resp.error[0]) utm__seterr_srv(c, resp.error, NULL);
    }
    if (rc) utm__wipe(c->doc_, k.len);
    return rc;
}

static int utm__tfa_verify(utm_client_t *c, const char *code)
{
    utm__req_t q;
    utm_param_t p;
    size_t len, n;
    int rc;
    if (c->auth_mode_ != UTM__AUTH_LOGIN || c->tok_state_ != UTM__TOK_PRE) return UTM_ERR_STATE;
    n = code ? utm__len(code, 64) : 0;
    if (n == 0 || n > 64 || utm__has_ctl(code, n)) return UTM_ERR_ARG;
    memset(&q, 0, sizeof q);
    p.name = "code";
    p.value = code;
    q.method = "GET";
    q.path = "/api/tfa/verifyCode";
    q.query = &p;
    q.nquery = 1;
    q.flags = UTM_REQ_RETRY_SAFE | UTM__REQ_SECRET_QUERY;
    rc = utm__auth_exchange(c, &q, &len, UTM_ERR_TFA_CODE);
    if (rc) return rc;
    rc = utm__take_token(c, len);
    utm__wipe(c->doc_, len);
    if (rc == UTM_TFA_REQUIRED) { utm__token_forget(c); rc = UTM_ERR_TOKEN; }
    return rc;
}

static int utm__login(utm_client_t *c)
{
    utm__login_body_t b;
    utm__req_t q;
    size_t len = 0;
    long chars;
    int rc;
    if (c->auth_mode_ != UTM__AUTH_LOGIN) return UTM_ERR_NO_CREDENTIALS;
    /* a refused password is not tried again by itself: ten tries lock the
     * account (and every device behind the same address) */
    if (c->refused_rc_ && utm__now(c) < c->refused_until_) {
        utm__seterr(c, "the login was refused: not tried again until credentials are set or the cool-down ends", NULL);
        return c->refused_rc_;
    }
    c->refused_rc_ = 0;
    if (c->pass_fn_) {
        utm__wipe(c->pass_, sizeof c->pass_);
        if (UTM__CB(c, c->pass_fn_(c->pass_user_, c->pass_, sizeof c->pass_)) != 0 ||
            memchr(c->pass_, 0, sizeof c->pass_) == NULL) {
            utm__wipe(c->pass_, sizeof c->pass_);
            utm__seterr(c, "the password callback gave no password", NULL);
            return UTM_ERR_NO_CREDENTIALS;
        }
    }
    /* the server's bounds, in characters: refused here, not 400 there */
    chars = utm__has_ctl(c->pass_, strlen(c->pass_)) ? -1 : utm__utf8_chars(c->pass_, strlen(c->pass_));
    if (chars < 4 || chars > 100) {
        rc = chars > 100 ? UTM_ERR_TOO_LONG : UTM_ERR_ARG;
        utm__seterr(c, "password must be 4 to 100 characters of valid UTF-8", NULL);
        if (c->pass_fn_) utm__wipe(c->pass_, sizeof c->pass_);
        return rc;
    }
    memset(&q, 0, sizeof q);
    b.user = c->user_;
    b.pass = c->pass_;
    b.remember = c->remember_me_;
    q.method = "POST";
    q.path = "/api/authenticate";
    q.gen = utm__gen_login;
    q.gen_arg = &b;
    q.flags = UTM_REQ_NO_AUTH | UTM_REQ_RETRY_SAFE | UTM__REQ_SECRET_BODY;
    utm__token_forget(c);
    utm__log2(c, UTM_LOG_INFO, "logging in as ", c->user_);
    rc = utm__auth_exchange(c, &q, &len, UTM_ERR_AUTH);
    if (c->pass_fn_) utm__wipe(c->pass_, sizeof c->pass_);
    if (rc == UTM_ERR_AUTH || rc == UTM_ERR_LOCKED) {
        uint32_t s = c->cfg_.login_cooldown_s;
        if (rc == UTM_ERR_LOCKED && s < 600) s = 600; /* the server locks for ten minutes */
        c->refused_rc_ = rc;
        c->refused_until_ = utm__now(c) + (uint64_t)s * 1000u;
    }
    if (rc) return rc;
    rc = utm__take_token(c, len);
    utm__wipe(c->doc_, len);
    return rc;
}

/* A login, finished with the TFA callback when the server asks for one. */
static int utm__login_full(utm_client_t *c)
{
    int rc = utm__login(c);
    if (rc == UTM_TFA_REQUIRED && c->cfg_.tfa_fn) {
        char code[72];
        memset(code, 0, sizeof code);
        if (UTM__CB(c, c->cfg_.tfa_fn(c->cfg_.tfa_user, code, sizeof code - 1)) != 0) {
            utm__seterr(c, "no two-factor code given", NULL);
            rc = UTM_ERR_TFA_CODE;
        } else {
            rc = utm__tfa_verify(c, code);
        }
        utm__wipe(code, sizeof code);
    }
    return rc;
}

/* Credentials in place before a request; renews a token that is due. */
static int utm__auth_prepare(utm_client_t *c, int flags)
{
    if (flags & UTM_REQ_NO_AUTH) return UTM_OK;
    switch (c->auth_mode_) {
    case UTM__AUTH_KEY:
    case UTM__AUTH_BEARER:
    case UTM__AUTH_TOKEN: return UTM_OK;
    case UTM__AUTH_LOGIN:
        if (c->tok_state_ == UTM__TOK_PRE) return UTM_TFA_REQUIRED;
        if (c->tok_state_ == UTM__TOK_NONE) return c->login_fn_(c);
        if (c->tok_renew_at_ && utm__now(c) >= c->tok_renew_at_) {
            utm__log2(c, UTM_LOG_INFO, "token expires soon: renewing it", NULL);
            return c->login_fn_(c);
        }
        return UTM_OK;
    default: return UTM_ERR_NO_CREDENTIALS;
    }
}

/* An authenticated exchange: a 401 in login mode logs in once more and
 * repeats the request once (its 401 body is drained, not delivered).       */
static int utm__call(utm_client_t *c, utm__req_t *q)
{
    int rc = utm__auth_prepare(c, q->flags);
    int relogin = c->auth_mode_ == UTM__AUTH_LOGIN && !(q->flags & UTM_REQ_NO_AUTH);
    if (rc) return rc;
    if (relogin) q->flags |= UTM__REQ_DRAIN_401;
    utm__cred_header(c, q);
    rc = utm__exchange(c, q);
    q->flags &= ~UTM__REQ_DRAIN_401;
    if (rc == UTM_OK && relogin && q->resp->status == 401) {
        utm__log2(c, UTM_LOG_INFO, "token refused (401): logging in again", NULL);
        rc = c->login_fn_(c);
        utm__cred_header(c, q);
        if (rc == UTM_OK) rc = utm__exchange(c, q);
    }
    return rc;
}

static int utm__ready(utm_client_t *c)
{
    return c && c->magic_ == UTM__MAGIC && c->ready_ ? UTM_OK : (c && c->magic_ == UTM__MAGIC ? UTM_ERR_STATE : UTM_ERR_ARG);
}

UTMSTACK_API void utm_auth_clear(utm_client_t *c)
{
    if (!c || c->magic_ != UTM__MAGIC) return;
    utm__token_forget(c);
    utm__wipe(c->user_, sizeof c->user_);
    utm__wipe(c->pass_, sizeof c->pass_);
    c->pass_fn_ = NULL;
    c->pass_user_ = NULL;
    c->auth_mode_ = UTM__AUTH_NONE;
    c->refused_rc_ = 0;
}

static int utm__use_user(utm_client_t *c, const char *user, int remember_me)
{
    long chars;
    int rc = utm__ready(c);
    if (rc) return rc;
    if (!user) return UTM_ERR_ARG;
    if (c->auth_mode_ == UTM__AUTH_KEY || c->auth_mode_ == UTM__AUTH_BEARER) utm__token_forget(c);
    rc = utm__set_secret(c->user_, sizeof c->user_, user, 1);
    if (rc) return rc;
    chars = utm__utf8_chars(user, strlen(user));
    if (chars < 1 || chars > 50) { utm__wipe(c->user_, sizeof c->user_); return chars < 0 ? UTM_ERR_ARG : UTM_ERR_TOO_LONG; }
    c->remember_me_ = remember_me != 0;
    c->auth_mode_ = UTM__AUTH_LOGIN;
    c->refused_rc_ = 0; /* new credentials: a refusal no longer holds */
    c->login_fn_ = utm__login_full; /* only a firmware that logs in links the login */
    return UTM_OK;
}

UTMSTACK_API int utm_auth_use_password(utm_client_t *c, const char *user, const char *password, int remember_me)
{
    int rc = utm__use_user(c, user, remember_me);
    if (rc) return rc;
    c->pass_fn_ = NULL;
    rc = utm__set_secret(c->pass_, sizeof c->pass_, password, 1);
    if (rc) c->auth_mode_ = UTM__AUTH_NONE;
    return rc;
}

UTMSTACK_API int utm_auth_use_password_fn(utm_client_t *c, const char *user, utm_password_fn fn, void *fn_user,
                                          int remember_me)
{
    int rc;
    if (!fn) return UTM_ERR_ARG;
    rc = utm__use_user(c, user, remember_me);
    if (rc) return rc;
    utm__wipe(c->pass_, sizeof c->pass_);
    c->pass_fn_ = fn;
    c->pass_user_ = fn_user;
    return UTM_OK;
}

UTMSTACK_API int utm_auth_set_token(utm_client_t *c, const char *jwt)
{
    int rc = utm__ready(c);
    if (rc) return rc;
    if (c->auth_mode_ != UTM__AUTH_LOGIN) { utm_auth_clear(c); c->auth_mode_ = UTM__AUTH_TOKEN; }
    rc = utm__set_secret(c->cred_, sizeof c->cred_, jwt, 1);
    if (rc == UTM_OK && strchr(c->cred_, ' ')) rc = UTM_ERR_HEADER_VALUE;
    if (rc == UTM_OK) rc = utm__jwt_load(c, 0, 0);
    if (rc) {
        utm__token_forget(c);
        if (c->auth_mode_ == UTM__AUTH_TOKEN) c->auth_mode_ = UTM__AUTH_NONE;
        return rc;
    }
    c->tok_state_ = UTM__TOK_VALID;
    return UTM_OK;
}

static int utm__use_fixed(utm_client_t *c, const char *cred, int mode)
{
    int rc = utm__ready(c);
    if (rc) return rc;
    utm_auth_clear(c);
    rc = utm__set_secret(c->cred_, sizeof c->cred_, cred, 1);
    if (rc) return rc;
    c->auth_mode_ = mode;
    c->tok_state_ = UTM__TOK_VALID;
    return UTM_OK;
}

UTMSTACK_API int utm_auth_use_internal_key(utm_client_t *c, const char *key) { return utm__use_fixed(c, key, UTM__AUTH_KEY); }

UTMSTACK_API int utm_auth_use_bearer(utm_client_t *c, const char *credential)
{
    if (credential && strchr(credential, ' ')) return UTM_ERR_HEADER_VALUE;
    return utm__use_fixed(c, credential, UTM__AUTH_BEARER);
}

UTMSTACK_API int utm_auth_login(utm_client_t *c)
{
    int rc = utm__begin(c);
    if (rc) return rc;
    return utm__end(c, utm__login_full(c));
}

UTMSTACK_API int utm_auth_tfa_verify(utm_client_t *c, const char *code)
{
    int rc = utm__begin(c);
    if (rc) return rc;
    return utm__end(c, utm__tfa_verify(c, code));
}

UTMSTACK_API const char *utm_auth_token(const utm_client_t *c)
{
    if (!c || c->magic_ != UTM__MAGIC || c->tok_state_ != UTM__TOK_VALID) return NULL;
    return (c->auth_mode_ == UTM__AUTH_LOGIN || c->auth_mode_ == UTM__AUTH_TOKEN) ? c->cred_ : NULL;
}

UTMSTACK_API int64_t utm_auth_expires(const utm_client_t *c) { return utm_auth_token(c) ? c->tok_exp_ : 0; }

UTMSTACK_API const char *utm_auth_subject(const utm_client_t *c) { return utm_auth_token(c) ? c->sub_ : ""; }

UTMSTACK_API int utm_auth_refused(utm_client_t *c, uint32_t *seconds_left)
{
    uint64_t now;
    if (seconds_left) *seconds_left = 0;
    if (!c || c->magic_ != UTM__MAGIC || !c->refused_rc_) return 0;
    now = utm__now(c);
    if (now >= c->refused_until_) return 0;
    if (seconds_left) *seconds_left = (uint32_t)((c->refused_until_ - now + 999) / 1000);
    return c->refused_rc_;
}

UTMSTACK_API int utm_auth_check(utm_client_t *c, char *login, size_t size)
{
    utm__req_t q;
    utm_response_t resp;
    utm__cap_t k;
    int rc = utm__begin(c);
    if (rc) return rc;
    if (!login || size == 0) return UTM_ERR_ARG;
    memset(&q, 0, sizeof q);
    k.buf = login;
    k.cap = size;
    k.len = 0;
    login[0] = 0;
    q.method = "GET";
    q.path = "/api/authenticate";
    q.flags = UTM_REQ_RETRY_SAFE;
    q.sink = utm__capture;
    q.sink_ctx = &k;
    q.resp = &resp;
    rc = utm__call(c, &q);
    if (rc == UTM_OK) rc = utm_status_error(resp.status);
    if (rc == UTM_OK && (k.len == 0 || utm__has_ctl(login, k.len))) rc = UTM_ERR_AUTH; /* 200 without a login */
    if (rc) login[0] = 0;
    return utm__end(c, rc);
}

/* ==== api =============================================================== */

/* The plain function, for callers that cannot use the macro (another
 * language through an FFI): no size check. */
UTMSTACK_API int (utm_client_init)(utm_client_t *c, const utm_config_t *cfg)
{
    return utm_client_init_sized(c, cfg, sizeof(utm_client_t));
}

UTMSTACK_API int utm_client_init_sized(utm_client_t *c, const utm_config_t *cfg, size_t client_size)
{
    const char *u, *h, *he, *p;
    size_t n;
    int rc;
    if (!c || !cfg) return UTM_ERR_ARG;
    if (client_size != sizeof(utm_client_t)) return UTM_ERR_LAYOUT; /* writing would overrun it */
    if (c->magic_ == UTM__MAGIC && c->in_cb_) return UTM_ERR_REENTRANT;
    memset(c, 0, sizeof *c);
    c->magic_ = UTM__MAGIC;
    mbedtls_ssl_init(&c->ssl_);
    mbedtls_ssl_config_init(&c->conf_);
#ifndef UTM__MBEDTLS4
    mbedtls_ctr_drbg_init(&c->drbg_);
#endif
    mbedtls_x509_crt_init(&c->ca_);
    mbedtls_x509_crt_init(&c->own_cert_);
    mbedtls_pk_init(&c->own_key_);
    mbedtls_ssl_session_init(&c->session_);
    c->cfg_ = *cfg;
    if (!cfg->port || !cfg->port->connect_fn || !cfg->port->send_fn || !cfg->port->recv_fn ||
        !cfg->port->close_fn || !cfg->port->now_ms_fn) {
        utm__seterr(c, "config: port functions missing", NULL);
        return UTM_ERR_ARG;
    }
    if (!c->cfg_.connect_timeout_ms) c->cfg_.connect_timeout_ms = 10000;
    if (!c->cfg_.io_timeout_ms) c->cfg_.io_timeout_ms = 15000;
    if (!c->cfg_.request_timeout_ms) c->cfg_.request_timeout_ms = 60000;
    if (!c->cfg_.renew_margin_s) c->cfg_.renew_margin_s = 60;
    if (!c->cfg_.login_cooldown_s) c->cfg_.login_cooldown_s = 300;
    if (!c->cfg_.log_level) c->cfg_.log_level = UTM_LOG_WARN;
    /* not kept: the caller's strings may go away (the TLS setup reads the
     * certificates from cfg, once) */
    c->cfg_.url = NULL;
    c->cfg_.servername = NULL;
    c->cfg_.ca = NULL;
    c->cfg_.ca_file = NULL;
#if !defined(UTMSTACK_DEPRECATED_REMOVED)
    c->cfg_.client_cert = c->cfg_.client_key = NULL;
    c->cfg_.client_key_password = NULL;
#endif
    c->clock_last_ = cfg->port->now_ms_fn(cfg->port_ctx);
    c->clock_ = 1;
    /* https://host[:port][/prefix] */
    u = cfg->url;
    if (!u) { utm__seterr(c, "config: no url", NULL); return UTM_ERR_URL; }
    /* utm__ieq stops at the first difference, so a short url is never overread */
    if (utm__ieq(u, 8, "https://")) { c->tls_ = 1; h = u + 8; }
    else if (utm__ieq(u, 7, "http://")) { c->tls_ = 0; h = u + 7; }
    else { utm__seterr(c, "url must start with https:// or http://", NULL); return UTM_ERR_URL; }
    if (*h == '[') {
        he = strchr(h, ']');
        if (!he) return UTM_ERR_URL;
        h++;
        c->ipv6_host_ = 1;
        p = he + 1;
    } else {
        he = h + strcspn(h, ":/?#");
        p = he;
    }
    n = (size_t)(he - h);
    if (n == 0 || n > UTMSTACK_HOST_MAX || utm__has_ctl(h, n) || memchr(h, '@', n) || memchr(h, ' ', n)) {
        utm__seterr(c, "url: bad host", NULL);
        return UTM_ERR_URL;
    }
    memcpy(c->host_, h, n);
    c->tcp_port_ = c->tls_ ? 443 : 80;
    if (*p == ':') {
        uint64_t port;
        size_t k = strcspn(p + 1, "/?#");
        if (utm__parse_u64(p + 1, k, &port) || port == 0 || port > 65535) { utm__seterr(c, "url: bad port", NULL); return UTM_ERR_URL; }
        c->tcp_port_ = (uint16_t)port;
        p += 1 + k;
    }
    if (*p && *p != '/') { utm__seterr(c, "url: query or fragment not allowed", NULL); return UTM_ERR_URL; }
    n = strlen(p);
    while (n > 0 && p[n - 1] == '/') n--;
    if (n > UTMSTACK_PREFIX_MAX || utm__has_ctl(p, n) || memchr(p, '?', n) || memchr(p, '#', n)) {
        utm__seterr(c, "url: bad path prefix", NULL);
        return UTM_ERR_URL;
    }
    memcpy(c->prefix_, p, n);
    p = cfg->servername ? cfg->servername : c->host_;
    n = utm__len(p, UTMSTACK_HOST_MAX);
    if (n == 0 || n > UTMSTACK_HOST_MAX || utm__has_ctl(p, n)) { utm__seterr(c, "config: bad servername", NULL); return UTM_ERR_ARG; }
    memcpy(c->sni_, p, n);
    c->ip_len_ = (unsigned char)utm__parse_ip(c->sni_, c->ip_);
    if (c->tls_) {
        if (!cfg->port->entropy_fn) { utm__seterr(c, "config: TLS needs the port's entropy_fn", NULL); return UTM_ERR_ENTROPY; }
        rc = utm__tls_setup(c, cfg);
        if (rc) return rc;
    }
    c->ready_ = 1;
    return UTM_OK;
}

UTMSTACK_API void utm_client_free(utm_client_t *c)
{
    if (!c || c->magic_ != UTM__MAGIC || c->in_cb_) return;
    utm__disconnect(c);
    mbedtls_ssl_free(&c->ssl_);
    mbedtls_ssl_config_free(&c->conf_);
#ifndef UTM__MBEDTLS4
    mbedtls_ctr_drbg_free(&c->drbg_);
#endif
    mbedtls_x509_crt_free(&c->ca_);
    mbedtls_x509_crt_free(&c->own_cert_);
    mbedtls_pk_free(&c->own_key_);
    mbedtls_ssl_session_free(&c->session_);
    utm__wipe(c, sizeof *c);
}

UTMSTACK_API int utm_client_use_cert(utm_client_t *c, const unsigned char *cert, size_t cert_len,
                                     const unsigned char *key, size_t key_len, const char *key_password)
{
    int rc = utm__begin(c);
    if (rc) return rc;
    if (!c->tls_) { utm__seterr(c, "a client certificate needs an https:// url", NULL); return utm__end(c, UTM_ERR_ARG); }
    if (c->own_cert_.version) { utm__seterr(c, "a client certificate is set already", NULL); return utm__end(c, UTM_ERR_STATE); }
    rc = utm__own_cert(c, cert, cert_len, key, key_len, key_password);
    if (rc == UTM_OK) { /* the next handshake presents it: no session made without it is resumed */
        utm__disconnect(c);
        mbedtls_ssl_session_free(&c->session_);
        mbedtls_ssl_session_init(&c->session_);
        c->have_session_ = 0;
    }
    return utm__end(c, rc);
}

UTMSTACK_API uint32_t utm_backoff_ms(utm_client_t *c, unsigned attempt, uint32_t base_ms, uint32_t cap_ms)
{
    uint64_t top = base_ms, after = 0;
    if (!c || c->magic_ != UTM__MAGIC) return cap_ms;
    if (c->retry_after_[0]) { /* delay-seconds or an HTTP-date (RFC 9110 10.2.3) */
        size_t n = strlen(c->retry_after_);
        if (utm__parse_u64(c->retry_after_, n, &after) == 0) {
            after = UTM__MIN(after, 86400);
        } else {
            int64_t wall = utm__wall(c), now = utm__answer_date(c, wall), at; /* the server's clock, else ours */
            if (now <= 0) now = wall;
            at = utm__http_date(c->retry_after_, n, now);
            after = now > 0 && at > now ? (uint64_t)UTM__MIN(at - now, 86400) : 0;
        }
    }
    if (after) /* not before the server's time, spread over a quarter more */
        return (uint32_t)(after * 1000u + utm__random32(c) % (after * 250u + 1u));
    while (attempt-- > 0 && top < cap_ms) top *= 2;
    top = UTM__MIN(top, (uint64_t)cap_ms);
    return (uint32_t)(utm__random32(c) % (top + 1));
}

UTMSTACK_API int utm_retryable(int rc)
{
    return (rc <= UTM_ERR_DNS && rc >= UTM_ERR_CLOSED) || rc == UTM_ERR_SERVER;
}

UTMSTACK_API void utm_client_stats(const utm_client_t *c, utm_stats_t *out)
{
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!c || c->magic_ != UTM__MAGIC) return;
    out->connects = c->st_connects_;
    out->handshakes_full = c->st_full_;
    out->handshakes_resumed = c->st_resumed_;
    out->requests = c->st_requests_;
    out->retries = c->st_retries_;
    out->tls_error = c->tls_err_;
    out->verify_flags = c->verify_flags_;
    out->tls_version = c->tls_version_;
    out->stale_closed = c->st_stale_;
}

/* ---- any endpoint ---- */
typedef struct utm__user_sink { utm_body_fn fn; void *user; utm_client_t *c; } utm__user_sink_t;

static int utm__to_user(void *ctx, const char *p, size_t n)
{
    const utm__user_sink_t *u = (const utm__user_sink_t *)ctx;
    return UTM__CB(u->c, u->fn(u->user, p, n)) ? UTM_ERR_ABORTED : UTM_OK;
}

static int utm__is_token(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++) if (!utm__tchar((unsigned char)*s)) return 0;
    return 1;
}

UTMSTACK_API int utm_request(utm_client_t *c, const utm_request_t *r, utm_response_t *resp)
{
    utm__req_t q;
    utm_response_t local;
    utm__user_sink_t us;
    utm__cap_t k;
    const char *m;
    size_t i;
    int rc = utm__begin(c);
    if (rc) return rc;
    if (!r || !r->path || r->path[0] != '/' || utm__has_ctl(r->path, strlen(r->path)) ||
        (r->body_len && !r->body) || (r->body_buf && r->body_size == 0))
        return utm__end(c, UTM_ERR_ARG);
    if (utm__has_dot_segment(r->path)) {
        utm__seterr(c, "path: a . or .. segment is refused", NULL);
        return utm__end(c, UTM_ERR_ARG);
    }
    m = r->method ? r->method : "GET";
    if (!utm__is_token(m)) return utm__end(c, UTM_ERR_ARG);
    if (r->content_type && utm__has_ctl(r->content_type, strlen(r->content_type))) return utm__end(c, UTM_ERR_HEADER_VALUE);
    for (i = 0; i < r->query_count; i++)
        if (!r->query || !r->query[i].name || !r->query[i].name[0]) return utm__end(c, UTM_ERR_ARG);
    for (i = 0; i < r->header_count; i++) {
        static const char *const ours[] = { "host", "content-length", "transfer-encoding", "connection",
                                            "authorization", "utm-internal-key" };
        const utm_param_t *h = r->headers ? &r->headers[i] : NULL;
        size_t j;
        if (!h || !utm__is_token(h->name) || !h->value) return utm__end(c, UTM_ERR_ARG);
        for (j = 0; j < sizeof ours / sizeof ours[0]; j++)
            if (utm__ieq(h->name, strlen(h->name), ours[j])) {
                utm__seterr(c, "header: the library sends this one itself: ", h->name);
                return utm__end(c, UTM_ERR_HEADER_VALUE);
            }
        if (utm__ctl_in(h->value, strlen(h->value), 1)) return utm__end(c, UTM_ERR_HEADER_VALUE);
    }
    memset(&q, 0, sizeof q);
    q.hdrs = r->headers;
    q.nhdrs = r->header_count;
    q.method = m;
    q.path = r->path;
    q.query = r->query;
    q.nquery = r->query_count;
    q.body = r->body; /* POST and PUT without one still send Content-Length: 0 */
    q.body_len = r->body_len;
    q.ctype = r->content_type;
    q.flags = r->flags & (UTM_REQ_RETRY_SAFE | UTM_REQ_NO_AUTH);
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") || !strcmp(m, "DELETE") || !strcmp(m, "OPTIONS"))
        q.flags |= UTM_REQ_RETRY_SAFE;
    if (!strcmp(m, "HEAD")) q.flags |= UTM__REQ_HEAD;
    q.on_header = r->on_header;
    q.user = r->user;
    if (r->on_body) {
        us.fn = r->on_body;
        us.user = r->user;
        us.c = c;
        q.sink = utm__to_user;
        q.sink_ctx = &us;
    } else if (r->body_buf) {
        k.buf = r->body_buf;
        k.cap = r->body_size;
        k.len = 0;
        r->body_buf[0] = 0;
        q.sink = utm__capture;
        q.sink_ctx = &k;
    }
    q.resp = resp ? resp : &local;
    utm__resp_init(&q); /* defined even when no answer comes */
    rc = utm__call(c, &q);
    if (q.resp->error[0]) utm__seterr_srv(c, q.resp->error, NULL);
    return utm__end(c, rc);
}

/* ---- search ---- */

#define UTM__OP_NAME(name, text) text,
static const char *const utm__op_names[] = { UTM__OPERATORS(UTM__OP_NAME) NULL };
#undef UTM__OP_NAME

UTMSTACK_API const char *utm_operator_name(utm_operator_t op)
{
    return ((unsigned)op < (unsigned)UTM_OP_COUNT) ? utm__op_names[op] : NULL;
}

UTMSTACK_API utm_operator_t utm_operator_from_name(const char *name, size_t len)
{
    int i;
    for (i = 0; i < (int)UTM_OP_COUNT; i++)
        if (name && strlen(utm__op_names[i]) == len && memcmp(utm__op_names[i], name, len) == 0) return (utm_operator_t)i;
    return UTM_OP_COUNT;
}

static utm_value_t utm__value(int type)
{
    utm_value_t v;
    memset(&v, 0, sizeof v);
    v.type = type;
    return v;
}

UTMSTACK_API utm_value_t utm_value_string(const char *s) { utm_value_t v = utm__value(UTM_VAL_STRING); v.str = s; return v; }
UTMSTACK_API utm_value_t utm_value_int(int64_t n) { utm_value_t v = utm__value(UTM_VAL_INT); v.num = n; return v; }
UTMSTACK_API utm_value_t utm_value_double(double d)
{
    utm_value_t v = utm__value(UTM_VAL_DOUBLE);
    v.dbl = d;
    v.write_dbl = utm_json_write_double; /* the formatter: linked only from here */
    return v;
}
UTMSTACK_API utm_value_t utm_value_bool(int b) { utm_value_t v = utm__value(UTM_VAL_BOOL); v.num = b != 0; return v; }
UTMSTACK_API utm_value_t utm_value_json(const char *json) { utm_value_t v = utm__value(UTM_VAL_JSON); v.str = json; return v; }
UTMSTACK_API utm_value_t utm_value_list(const utm_value_t *items, size_t count)
{
    utm_value_t v = utm__value(UTM_VAL_LIST);
    v.items = items;
    v.count = count;
    return v;
}

static const char *utm__ws(const char *s) { while (utm__is_ws_byte(*s)) s++; return s; }

/* One JSON scalar at s (no null); its end, or NULL. */
static const char *utm__json_scalar(const char *s)
{
    const char *e;
    if (*s == '"') {
        for (e = s + 1; *e && *e != '"'; e++) {
            if ((unsigned char)*e < 0x20) return NULL;
            if (*e == '\\') {
                uint32_t cp;
                e++;
                if (*e == 'u') { if (utm__hex4(e + 1, &cp)) return NULL; e += 4; }
                else if (!*e || !strchr("\"\\/bfnrt", *e)) return NULL;
            }
        }
        if (*e != '"') return NULL;
        return utm__utf8_chars(s, (size_t)(e - s)) < 0 ? NULL : e + 1;
    }
    if (strncmp(s, "true", 4) == 0) return s + 4;
    if (strncmp(s, "false", 5) == 0) return s + 5;
    e = s;
    while (*e && (utm__is_digit((unsigned char)*e) || strchr("+-.eE", *e))) e++;
    return (e > s && utm__is_json_number(s, (size_t)(e - s))) ? e : NULL;
}

/* What a JSON text holds: 1 scalar, 2 list of scalars (*count items), or 0
 * for anything the server would not take as a filter value.                 */
static int utm__json_value_kind(const char *s, size_t *count)
{
    *count = 0;
    if (!s) return 0;
    s = utm__ws(s);
    if (*s == '[') {
        s = utm__ws(s + 1);
        if (*s != ']') {
            for (;;) {
                s = utm__json_scalar(s);
                if (!s) return 0;
                ++*count;
                s = utm__ws(s);
                if (*s == ']') break;
                if (*s != ',') return 0;
                s = utm__ws(s + 1);
            }
        }
        return *utm__ws(s + 1) ? 0 : 2;
    }
    s = utm__json_scalar(s);
    return (s && !*utm__ws(s)) ? 1 : 0;
}

static int utm__scalar_ok(const utm_value_t *v)
{
    switch (v->type) {
    case UTM_VAL_STRING: return v->str != NULL && utm__utf8_chars(v->str, strlen(v->str)) >= 0;
    case UTM_VAL_INT: case UTM_VAL_BOOL: return 1;
    case UTM_VAL_DOUBLE: return v->write_dbl && utm__finite(v->dbl);
    default: return 0;
    }
}

/* 0 none, 1 scalar, 2 list (*count), -1 malformed. */
static int utm__value_kind(const utm_value_t *v, size_t *count)
{
    size_t i;
    *count = 0;
    switch (v->type) {
    case UTM_VAL_NONE: return 0;
    case UTM_VAL_JSON: { int k = utm__json_value_kind(v->str, count); return k ? k : -1; }
    case UTM_VAL_LIST:
        if (v->count && !v->items) return -1;
        for (i = 0; i < v->count; i++) if (!utm__scalar_ok(&v->items[i])) return -1;
        *count = v->count;
        return 2;
    default: return utm__scalar_ok(v) ? 1 : -1;
    }
}

static const char *utm__filter_problem(const utm_filter_t *f)
{
    size_t count;
    int kind, needs_field = f->op != UTM_OP_IS_IN_FIELDS && f->op != UTM_OP_IS_NOT_IN_FIELDS;
    if ((unsigned)f->op >= (unsigned)UTM_OP_COUNT) return UTM__T("unknown operator");
    if (needs_field && (!f->field || !f->field[0])) return UTM__T("needs a field");
    if (f->field && utm__utf8_chars(f->field, strlen(f->field)) < 0) return UTM__T("field is not valid UTF-8");
    if (f->value.type == UTM_VAL_DOUBLE && !f->value.write_dbl)
        return UTM__T("a double needs utm_value_double() or UTM_VALUE_DOUBLE()");
    kind = utm__value_kind(&f->value, &count);
    if (kind < 0) return UTM__T("value is not a number, string, boolean or list of them");
    switch (f->op) {
    case UTM_OP_EXIST: case UTM_OP_DOES_NOT_EXIST:
        return kind ? UTM__T("takes no value") : NULL;
    case UTM_OP_IS_BETWEEN: case UTM_OP_IS_NOT_BETWEEN:
        return kind == 2 && count == 2 ? NULL : UTM__T("needs a list of two values");
    case UTM_OP_IS_ONE_OF: case UTM_OP_IS_NOT_ONE_OF: case UTM_OP_IS_ONE_OF_TERMS:
        return kind == 2 && count > 0 ? NULL : UTM__T("needs a list of values");
    default:
        return kind ? NULL : UTM__T("needs a value");
    }
}

static int utm__check_filters(const utm_filter_t *f, size_t n, char *why, size_t why_size)
{
    size_t i;
    if (n && !f) return UTM_ERR_ARG;
    for (i = 0; i < n; i++) {
        const char *problem = utm__filter_problem(&f[i]);
        if (problem) {
            if (why && why_size) why[0] = 0;
            if (UTM__HAS_TEXT && why && why_size) {
                utm__line_t l;
                l.n = 0;
                utm__adds(&l, "filter ");
                utm__addn(&l, (int64_t)i + 1);
                utm__adds(&l, " (");
                utm__adds(&l, f[i].field ? f[i].field : "");
                utm__adds(&l, " ");
                utm__adds(&l, utm_operator_name(f[i].op) ? utm_operator_name(f[i].op) : "?");
                utm__adds(&l, "): ");
                utm__adds(&l, problem);
                utm__copy_text(why, why_size, l.b, l.n);
            }
            return UTM_ERR_FILTER;
        }
    }
    return UTM_OK;
}

static void utm__put_scalar(utm__out_t *o, const utm_value_t *v)
{
    switch (v->type) {
    case UTM_VAL_STRING: utm__put_jstr(o, v->str, strlen(v->str)); break;
    case UTM_VAL_BOOL: utm__puts(o, v->num ? "true" : "false"); break;
    case UTM_VAL_INT:
        if (v->num < 0) utm__put(o, "-", 1);
        utm__put_u64(o, v->num < 0 ? 0 - (uint64_t)v->num : (uint64_t)v->num);
        break;
    case UTM_VAL_DOUBLE: {
        char t[32];
        int n = v->write_dbl(t, sizeof t, v->dbl);
        if (n > 0) utm__put(o, t, (size_t)n);
        else if (!o->err) o->err = UTM_ERR_FILTER;
        break;
    }
    case UTM_VAL_JSON: utm__puts(o, utm__ws(v->str)); break;
    default: break;
    }
}

static int utm__gen_filters(utm__out_t *o, const void *arg)
{
    const utm_search_t *s = (const utm_search_t *)arg;
    size_t i, k;
    utm__put(o, "[", 1);
    for (i = 0; i < s->filter_count; i++) {
        const utm_filter_t *f = &s->filters[i];
        if (i) utm__put(o, ",", 1);
        utm__put(o, "{", 1);
        if (f->field) {
            utm__puts(o, "\"field\":");
            utm__put_jstr(o, f->field, strlen(f->field));
            utm__put(o, ",", 1);
        }
        utm__puts(o, "\"operator\":\"");
        utm__puts(o, utm_operator_name(f->op));
        utm__put(o, "\"", 1);
        if (f->value.type != UTM_VAL_NONE) {
            utm__puts(o, ",\"value\":");
            if (f->value.type == UTM_VAL_LIST) {
                utm__put(o, "[", 1);
                for (k = 0; k < f->value.count; k++) {
                    if (k) utm__put(o, ",", 1);
                    utm__put_scalar(o, &f->value.items[k]);
                }
                utm__put(o, "]", 1);
            } else {
                utm__put_scalar(o, &f->value);
            }
        }
        utm__put(o, "}", 1);
    }
    utm__put(o, "]", 1);
    return o->err;
}

UTMSTACK_API int utm_search_body(const utm_filter_t *filters, size_t count, char *out, size_t size, char *why,
                                 size_t why_size)
{
    utm_search_t s;
    utm__out_t o;
    int rc;
    if (why && why_size) why[0] = 0;
    if (!out || size == 0 || size > (size_t)INT_MAX) return UTM_ERR_ARG;
    out[0] = 0;
    rc = utm__check_filters(filters, count, why, why_size);
    if (rc) return rc;
    memset(&s, 0, sizeof s);
    s.filters = filters;
    s.filter_count = count;
    memset(&o, 0, sizeof o);
    o.buf = out;
    o.cap = size;
    utm__gen_filters(&o, &s);
    if (o.err) { out[0] = 0; return o.err; }
    return (int)o.len;
}

/* ---- the streaming splitter: a result array cut into documents ---- */
enum { UTM__SP_START, UTM__SP_FIRST, UTM__SP_VALUE, UTM__SP_IN, UTM__SP_SCALAR, UTM__SP_AFTER, UTM__SP_END };

typedef struct utm__split {
    utm_client_t *c;
    const utm_search_t *s;
    utm_search_result_t *r;
    const utm_response_t *resp;
    int state, in_str, esc, oversize, err;
    long depth;
    size_t dlen;
    uint64_t page_docs;   /* documents seen in this page, skipped included */
    uint64_t page_skipped;
    uint64_t limit;       /* the most this page may deliver: size, and top */
} utm__split_t;

static void utm__split_append(utm__split_t *sp, const char *p, size_t n)
{
    if (sp->oversize) return;
    if (n > sizeof sp->c->doc_ - sp->dlen) { sp->oversize = 1; return; }
    memcpy(sp->c->doc_ + sp->dlen, p, n);
    sp->dlen += n;
}

static int utm__split_emit(utm__split_t *sp)
{
    utm_json_t doc;
    int rc;
    sp->page_docs++;
    sp->state = UTM__SP_AFTER;
    if (sp->page_docs > sp->limit) { sp->r->excess++; return 0; }
    if (sp->oversize) { sp->r->skipped++; sp->page_skipped++; sp->err = UTM_ERR_DOC_TOO_LARGE; return 0; }
    rc = utm_json_parse(&doc, sp->c->doc_, sp->dlen, sp->c->tok_, UTMSTACK_JSON_TOKENS);
    if (rc == UTM_ERR_JSON_TOKENS) { sp->r->skipped++; sp->page_skipped++; sp->err = UTM_ERR_DOC_TOO_LARGE; return 0; }
    if (rc) return UTM_ERR_JSON;
    sp->r->docs++;
    if (sp->s->on_doc && UTM__CB(sp->c, sp->s->on_doc(sp->s->user, &doc, sp->r->docs - 1))) {
        sp->r->stopped = 1;
        return UTM__STOP;
    }
    return 0;
}

static void utm__split_begin(utm__split_t *sp)
{
    sp->dlen = 0;
    sp->oversize = 0;
    sp->depth = 0;
    sp->in_str = 0;
    sp->esc = 0;
}

static int utm__split_feed(void *ctx, const char *p, size_t n)
{
    utm__split_t *sp = (utm__split_t *)ctx;
    const char *end = p + n;
    sp->r->bytes += n;
    if (sp->resp->status != 200) return 0; /* an error body: not ours to split */
    while (p < end) {
        int ch = (unsigned char)*p;
        switch (sp->state) {
        case UTM__SP_START:
            if (utm__is_ws_byte(*p)) { p++; break; }
            if (ch != '[') return UTM_ERR_JSON;
            sp->state = UTM__SP_FIRST;
            p++;
            break;
        case UTM__SP_FIRST:
        case UTM__SP_VALUE:
            if (utm__is_ws_byte(*p)) { p++; break; }
            if (ch == ']' && sp->state == UTM__SP_FIRST) { sp->state = UTM__SP_END; p++; break; }
            utm__split_begin(sp);
            if (ch == '{' || ch == '[' || ch == '"') {
                sp->state = UTM__SP_IN;
                if (ch == '"') sp->in_str = 1;
                else sp->depth = 1;
                utm__split_append(sp, p, 1);
                p++;
                if (ch == '"') break;
            } else if (ch == '-' || utm__is_digit(ch) || ch == 't' || ch == 'f' || ch == 'n') {
                sp->state = UTM__SP_SCALAR;
            } else {
                return UTM_ERR_JSON;
            }
            break;
        case UTM__SP_IN: {
            /* the hot loop: runs of plain bytes are skipped, then copied once */
            const char *q = p;
            int done = 0;
            if (sp->esc) { /* the byte after a backslash that ended the last piece */
                sp->esc = 0;
                utm__split_append(sp, p, 1);
                p++;
                break;
            }
            while (q < end) {
                if (sp->in_str) {
                    /* the next quote, then any backslash before it: most strings have none */
                    const char *quote = (const char *)memchr(q, '"', (size_t)(end - q));
                    const char *bs = (const char *)memchr(q, '\\', (size_t)((quote ? quote : end) - q));
                    q = bs ? bs : quote ? quote : end;
                    if (q == end) break;
                    if (*q == '\\') { if (++q < end) q++; else sp->esc = 1; continue; }
                    sp->in_str = 0;
                    q++;
                    if (sp->depth == 0) { done = 1; break; }
                } else {
                    while (q < end && *q != '"' && *q != '{' && *q != '}' && *q != '[' && *q != ']') q++;
                    if (q == end) break;
                    if (*q == '"') sp->in_str = 1;
                    else if (*q == '{' || *q == '[') sp->depth++;
                    else if (--sp->depth == 0) { q++; done = 1; break; }
                    q++;
                }
            }
            utm__split_append(sp, p, (size_t)(q - p));
            p = q;
            if (done) { int rc = utm__split_emit(sp); if (rc) return rc; }
            break;
        }
        case UTM__SP_SCALAR: {
            const char *q = p;
            while (q < end && *q != ',' && *q != ']' && !utm__is_ws_byte(*q)) q++;
            utm__split_append(sp, p, (size_t)(q - p));
            p = q;
            if (q < end) { int rc = utm__split_emit(sp); if (rc) return rc; }
            break;
        }
        case UTM__SP_AFTER:
            if (utm__is_ws_byte(*p)) { p++; break; }
            if (ch == ',') sp->state = UTM__SP_VALUE;
            else if (ch == ']') sp->state = UTM__SP_END;
            else return UTM_ERR_JSON;
            p++;
            break;
        default: /* END: only white space may follow */
            if (!utm__is_ws_byte(*p)) return UTM_ERR_JSON;
            p++;
        }
    }
    return 0;
}

/* The page number in a Link URL (page=N), 0 when none. */
static uint32_t utm__link_page(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i + 5 < n; i++) {
        if ((s[i] == '?' || s[i] == '&') && memcmp(s + i + 1, "page=", 5) == 0) {
            uint64_t v = 0;
            size_t k = i + 6;
            while (k < n && utm__is_digit((unsigned char)s[k]) && v < 100000000u) v = v * 10 + (uint64_t)(s[k++] - '0');
            return (uint32_t)v;
        }
    }
    return 0;
}

/* Link: <url>; rel="next", <url>; rel="last" -> page numbers. */
static void utm__parse_link(utm__req_t *q, const char *v, size_t n)
{
    const char *end = v + n;
    while (v < end) {
        const char *lt = (const char *)memchr(v, '<', (size_t)(end - v)), *gt, *stop;
        if (!lt) return;
        gt = (const char *)memchr(lt, '>', (size_t)(end - lt));
        if (!gt) return;
        stop = gt;
        while (stop < end && *stop != ',') stop++;
        {
            const char *r = gt;
            for (; r + 4 < stop; r++) {
                if (memcmp(r, "rel=", 4) == 0) {
                    const char *w = r + 4;
                    size_t wn = (size_t)(stop - w);
                    if (wn > 0 && *w == '"') { w++; wn--; }
                    if (wn >= 4 && memcmp(w, "next", 4) == 0) q->next_page = utm__link_page(lt, (size_t)(gt - lt));
                    if (wn >= 4 && memcmp(w, "last", 4) == 0) q->last_page = utm__link_page(lt, (size_t)(gt - lt));
                    break;
                }
            }
        }
        v = stop + (stop < end);
    }
}

/* The search layer's own header: the reader hands it over (q->hdr_hook). */
static void utm__search_hdr(utm__req_t *q, const char *name, size_t nn, const char *v, size_t vn)
{
    if (utm__ieq(name, nn, "link")) utm__parse_link(q, v, vn);
}

static int utm__search_page(utm_client_t *c, const utm_search_t *s, uint32_t page, utm_search_result_t *r,
                            uint64_t *page_docs)
{
    utm__req_t q;
    utm__split_t sp;
    utm_response_t resp;
    utm_param_t params[4];
    char top[24], pg[24], size[24];
    int rc;
    memset(&q, 0, sizeof q);
    memset(&sp, 0, sizeof sp);
    params[0].name = "indexPattern";
    params[0].value = s->index_pattern;
    params[1].name = "top";
    params[1].value = utm__u64_str(top + sizeof top, s->top ? s->top : 10000);
    params[2].name = "page";
    params[2].value = utm__u64_str(pg + sizeof pg, page);
    params[3].name = "size";
    params[3].value = utm__u64_str(size + sizeof size, s->size ? s->size : 20);
    q.method = "POST";
    q.path = "/api/elasticsearch/search";
    q.query = params;
    q.nquery = 4;
    q.rep_name = "sort";
    q.rep_vals = s->sort;
    q.nrep = s->sort_count;
    q.gen = utm__gen_filters;
    q.gen_arg = s;
    q.flags = UTM_REQ_RETRY_SAFE; /* a search changes nothing */
    q.resp = &resp;
    q.hdr_hook = utm__search_hdr;
    q.sink = utm__split_feed;
    q.sink_ctx = &sp;
    sp.c = c;
    sp.s = s;
    sp.r = r;
    sp.resp = &resp;
    {   /* the server's window: [(page-1)*size, min(page*size, top)) */
        uint64_t n = s->size ? s->size : 20, all = s->top ? s->top : 10000, first = (uint64_t)(page - 1) * n;
        sp.limit = first < all ? UTM__MIN(n, all - first) : 0;
    }
    rc = utm__call(c, &q);
    *page_docs = sp.page_docs;
    r->pages++;
    if (rc == UTM__STOP) return UTM_OK;
    if (rc == UTM_ERR_JSON) utm__seterr(c, "search answer is not a JSON array", NULL);
    if (rc) return rc;
    r->status = resp.status;
    r->total = resp.total_count;
    r->next_page = q.next_page;
    r->last_page = q.last_page;
    utm__copy_text(r->error, sizeof r->error, resp.error, strlen(resp.error));
    if (resp.status != 200) {
        rc = utm_status_error(resp.status);
        if (rc == UTM_OK) rc = UTM_ERR_HTTP_STATUS;
        if (resp.error[0]) utm__seterr_srv(c, resp.error, NULL);
        return rc;
    }
    if (sp.state != UTM__SP_END) { utm__seterr(c, "search answer is not a complete JSON array", NULL); return UTM_ERR_JSON; }
    if (r->excess) {
        utm__seterr(c, "the server sent more documents than size/top allow: the rest was not delivered", NULL);
        return UTM_ERR_SEARCH_EXCESS;
    }
    if (sp.err && !(s->flags & UTM_SEARCH_SKIP_OVERSIZED)) {
        utm__seterr(c, "documents larger than UTMSTACK_DOC_SIZE / UTMSTACK_JSON_TOKENS were skipped", NULL);
        return sp.err;
    }
    return UTM_OK;
}

static int utm__search_check(utm_client_t *c, const utm_search_t *s, utm_search_result_t *r)
{
    size_t i;
    if (!s || !r || !s->index_pattern || !s->index_pattern[0] || (s->sort_count && !s->sort)) return UTM_ERR_ARG;
    memset(r, 0, sizeof *r);
    r->total = -1;
    for (i = 0; i < s->sort_count; i++) if (!s->sort[i]) return UTM_ERR_ARG;
    return utm__check_filters(s->filters, s->filter_count, c->errmsg_, sizeof c->errmsg_);
}

UTMSTACK_API int utm_search(utm_client_t *c, const utm_search_t *s, utm_search_result_t *r)
{
    uint64_t got;
    int rc = utm__begin(c);
    if (rc) return rc;
    rc = utm__search_check(c, s, r);
    if (rc) return utm__end(c, rc);
    return utm__end(c, utm__search_page(c, s, s->page ? s->page : 1, r, &got));
}

UTMSTACK_API int utm_search_all(utm_client_t *c, const utm_search_t *s, utm_search_result_t *r)
{
    uint32_t page, size, top;
    int rc = utm__begin(c), kept = UTM_OK;
    if (rc) return rc;
    rc = utm__search_check(c, s, r);
    if (rc) return utm__end(c, rc);
    size = s->size ? s->size : 20;
    top = s->top ? s->top : 10000;
    for (page = s->page ? s->page : 1;; page++) {
        uint64_t got = 0;
        rc = utm__begin(c);
        if (rc == UTM_OK) rc = utm__search_page(c, s, page, r, &got);
        if (rc == UTM_ERR_DOC_TOO_LARGE) { kept = rc; rc = UTM_OK; } /* the search goes on */
        if (rc || r->stopped || got < size || (uint64_t)page * size >= top || page == UINT32_MAX) break;
    }
    if (rc == UTM_OK && kept) utm__seterr(c, "documents larger than UTMSTACK_DOC_SIZE / UTMSTACK_JSON_TOKENS were skipped", NULL);
    return utm__end(c, rc ? rc : kept);
}

#ifdef __cplusplus
}
#endif
#endif /* UTMSTACK_IMPLEMENTATION */

/*
 * MIT License
 *
 * Copyright (c) 2026 the utmstack.h authors
 *
 * Permission is hereby granted, free of charge, to any person obtaining a copy
 * of this software and associated documentation files (the "Software"), to deal
 * in the Software without restriction, including without limitation the rights
 * to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 * copies of the Software, and to permit persons to whom the Software is
 * furnished to do so, subject to the following conditions:
 *
 * The above copyright notice and this permission notice shall be included in
 * all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 * IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 * FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 * AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 * LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 * OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 * SOFTWARE.
 */

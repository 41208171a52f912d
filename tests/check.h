/* A tiny test harness: TEST bodies run CHECKs; a test passes when all of its
 * checks do. The summary line is "N passed, N failed" (N = tests).           */
#ifndef UTM_CHECK_H
#define UTM_CHECK_H
#include <stdio.h>
#include <string.h>

/* long long as text: newlib-nano's printf (the on-chip tests) has no %lld */
static const char *check_ll(char *buf, long long v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    *--p = 0;
    do { *--p = (char)('0' + (int)(u % 10)); u /= 10; } while (u);
    if (v < 0) *--p = '-';
    return strcpy(buf, p);
}

static int check_tests_passed, check_tests_failed, check_failures_here;
static const char *check_name = "";

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            check_failures_here++;                                                           \
            fprintf(stderr, "FAIL %s (%s:%d): %s\n", check_name, __FILE__, __LINE__, #cond); \
        }                                                                                    \
    } while (0)

#define CHECK_INT(a, b)                                                                               \
    do {                                                                                              \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                               \
        if (check_a_ != check_b_) {                                                                   \
            char check_ta_[24], check_tb_[24];                                                        \
            check_failures_here++;                                                                    \
            fprintf(stderr, "FAIL %s (%s:%d): %s == %s, want %s == %s\n", check_name, __FILE__,      \
                    __LINE__, #a, check_ll(check_ta_, check_a_), #b, check_ll(check_tb_, check_b_));  \
        }                                                                                             \
    } while (0)

#define CHECK_STR(a, b)                                                                                      \
    do {                                                                                                     \
        const char *check_a_ = (a), *check_b_ = (b);                                                         \
        if (!check_a_ || strcmp(check_a_, check_b_) != 0) {                                                  \
            check_failures_here++;                                                                           \
            fprintf(stderr, "FAIL %s (%s:%d): %s == \"%s\", want \"%s\"\n", check_name, __FILE__, __LINE__, \
                    #a, check_a_ ? check_a_ : "(null)", check_b_);                                           \
        }                                                                                                    \
    } while (0)

#define RUN(fn)                                                       \
    do {                                                              \
        check_name = #fn;                                             \
        check_failures_here = 0;                                      \
        fn();                                                         \
        if (check_failures_here) check_tests_failed++;                \
        else check_tests_passed++;                                    \
        if (getenv("CHECK_VERBOSE")) fprintf(stderr, "ok %s\n", #fn); \
    } while (0)

#define CHECK_SUMMARY(suite)                                                                     \
    (printf("%s: %d passed, %d failed\n", suite, check_tests_passed, check_tests_failed), \
     check_tests_failed ? 1 : 0)
#endif

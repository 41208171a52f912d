/* STUB for tests/cross_compile.sh: Zephyr's CSPRNG entry point. */
#ifndef STUB_ZEPHYR_RANDOM_H
#define STUB_ZEPHYR_RANDOM_H
#include <stddef.h>
int sys_csrand_get(void *dst, size_t len);
#endif

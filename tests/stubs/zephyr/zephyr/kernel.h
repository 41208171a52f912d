/* STUB for tests/cross_compile.sh: the Zephyr kernel functions our code uses. */
#ifndef STUB_ZEPHYR_KERNEL_H
#define STUB_ZEPHYR_KERNEL_H
#include <stdint.h>
#include <stddef.h>
int64_t k_uptime_get(void);
void k_msleep(int32_t ms);
int printk(const char *fmt, ...);
#endif

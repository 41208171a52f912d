/* lwIP arch for the Cortex-M cross-compile check (newlib). */
#ifndef STUB_LWIP_ARCH_CC_H
#define STUB_LWIP_ARCH_CC_H
#include <stdio.h>
#include <stdlib.h>
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { printf("assert: %s\n", x); abort(); } while (0)
#define LWIP_RAND() ((u32_t)rand())
#endif

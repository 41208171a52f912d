/* Semihosting: the debugger's (here qemu's) console, files and clock,
 * reached with BKPT 0xAB on Cortex-M, or the EBREAK sequence of the RISC-V
 * semihosting spec. Enough for the on-chip tests and the footprint firmware:
 * no libc needed for it.                                                    */
#ifndef UTM_SEMIHOST_H
#define UTM_SEMIHOST_H
#include <stddef.h>
#include <stdint.h>

#define SH_OPEN 0x01
#define SH_CLOSE 0x02
#define SH_WRITE0 0x04
#define SH_WRITE 0x05
#define SH_READ 0x06
#define SH_CLOCK 0x10
#define SH_TIME 0x11
#define SH_EXIT_EXTENDED 0x20

static inline uintptr_t sh_call(uintptr_t op, const void *arg)
{
#if defined(__riscv)
    register uintptr_t r0 __asm__("a0") = op;
    register const void *r1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n.option norvc\n.balign 16\n"
                     "slli x0, x0, 0x1f\nebreak\nsrai x0, x0, 7\n.option pop"
                     : "+r"(r0) : "r"(r1) : "memory");
#else
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
#endif
    return r0;
}

/* mode: 0 "r", 1 "rb", 4 "w", 5 "wb" ...; -1 on failure */
static inline int sh_open(const char *path, int mode)
{
    uintptr_t a[3];
    size_t n = 0;
    while (path[n]) n++;
    a[0] = (uintptr_t)path; a[1] = (uintptr_t)mode; a[2] = n;
    return (int)sh_call(SH_OPEN, a);
}
static inline void sh_close(int fd) { uintptr_t a[1]; a[0] = (uintptr_t)fd; sh_call(SH_CLOSE, a); }
/* bytes written, or -1 */
static inline long sh_write(int fd, const void *buf, size_t len)
{
    uintptr_t a[3];
    a[0] = (uintptr_t)fd; a[1] = (uintptr_t)buf; a[2] = len;
    return (long)len - (long)sh_call(SH_WRITE, a);
}
/* bytes read (0: end of file), or -1 */
static inline long sh_read(int fd, void *buf, size_t len)
{
    uintptr_t a[3], left;
    a[0] = (uintptr_t)fd; a[1] = (uintptr_t)buf; a[2] = len;
    left = sh_call(SH_READ, a);
    return left > len ? -1 : (long)(len - left);
}
static inline void sh_puts(const char *s) { sh_call(SH_WRITE0, s); }
static inline uint32_t sh_clock_cs(void) { return (uint32_t)sh_call(SH_CLOCK, NULL); } /* centiseconds */
static inline uint32_t sh_time(void) { return (uint32_t)sh_call(SH_TIME, NULL); }      /* Unix seconds */
__attribute__((noreturn)) static inline void sh_exit(int code)
{
    uintptr_t a[2];
    a[0] = 0x20026; /* ADP_Stopped_ApplicationExit */
    a[1] = (uintptr_t)code;
    sh_call(SH_EXIT_EXTENDED, a);
    for (;;) {}
}
#endif

/* A bare Cortex-M start: vector table, .data copied from flash, .bss zeroed,
 * main(), and the newlib-nano system calls over semihosting (the console,
 * the heap, exit, the wall clock). Linked by mcu/mps2.ld; runs on qemu's MPS2 boards and is the
 * startup of the footprint firmware.                                        */
#include "semihost.h"
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __heap_start[], __heap_end[], __stack_top[];
int main(void);
void Reset_Handler(void);
void Fault_Handler(void);

#ifndef STARTUP_OWN_VECTORS /* (the RTOS firmware has its own, with interrupts) */
/* unused functions the vector table names: every fault ends the run */
__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_top, Reset_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, 0, 0, 0, 0, Fault_Handler, Fault_Handler, 0,
    Fault_Handler, Fault_Handler,
};
#endif

void Reset_Handler(void)
{
    uint32_t *s = __data_load, *d = __data_start;
    while (d < __data_end) *d++ = *s++;
    for (d = __bss_start; d < __bss_end;) *d++ = 0;
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: FPU on */
#endif
    sh_exit(main());
}

void Fault_Handler(void)
{
    sh_puts("fault: the program crashed (HardFault or another exception)\n");
    sh_exit(99);
}

/* newlib-nano's system calls: the console (":tt" is semihosting's; mode 4
 * is stdout, 8 stderr), the heap between .bss and the end of RAM, exit */
int _write(int fd, const char *p, int n);
int _write(int fd, const char *p, int n)
{
    static int out = -1, err = -1;
    int *h = fd == 2 ? &err : &out;
    if (*h < 0) *h = sh_open(":tt", fd == 2 ? 8 : 4);
    return (int)sh_write(*h, p, (size_t)n);
}
int _read(int fd, char *p, int n);
int _read(int fd, char *p, int n) { (void)fd; (void)p; (void)n; return 0; }
int _close(int fd);
int _close(int fd) { (void)fd; return -1; }
int _lseek(int fd, int off, int whence);
int _lseek(int fd, int off, int whence) { (void)fd; (void)off; (void)whence; return 0; }
int _fstat(int fd, struct stat *st);
int _fstat(int fd, struct stat *st) { (void)fd; st->st_mode = S_IFCHR; return 0; }
int _isatty(int fd);
int _isatty(int fd) { (void)fd; return 1; }
int _getpid(void);
int _getpid(void) { return 1; }
int _kill(int pid, int sig);
int _kill(int pid, int sig) { (void)pid; (void)sig; errno = EINVAL; return -1; }
void _exit(int code);
void _exit(int code) { sh_exit(code); }
void *_sbrk(int incr);
void *_sbrk(int incr)
{
    static char *brk = (char *)__heap_start;
    char *old = brk;
    if (incr > (char *)__heap_end - brk) { errno = ENOMEM; return (void *)-1; }
    brk += incr;
    return old;
}
/* time(): mbedTLS 4.x's default clock before the firmware sets its own */
int _gettimeofday(struct timeval *tv, void *tz);
int _gettimeofday(struct timeval *tv, void *tz)
{
    (void)tz;
    tv->tv_sec = (time_t)sh_time();
    tv->tv_usec = 0;
    return 0;
}

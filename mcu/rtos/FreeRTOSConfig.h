/* The kernel's configuration for the RTOS firmware (mcu/rtos/firmware.c):
 * qemu's mps2-an386 (Cortex-M4 with FPU, 25 MHz), the ARM_CM4F port, heap_4,
 * 1 ms ticks. qemu 7.2 implements all 8 NVIC priority bits, so priorities
 * are written as 8-bit values: the kernel's at the lowest (0xFF), interrupts
 * that call FromISR functions (the LAN9118's, IRQ 13, at 0xC0) numerically
 * at or above configMAX_SYSCALL_INTERRUPT_PRIORITY (0xA0).                   */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#define configCPU_CLOCK_HZ                   25000000UL
#define configTICK_RATE_HZ                   1000
#define configUSE_PREEMPTION                 1
#define configUSE_TIME_SLICING               1
#define configUSE_PORT_OPTIMISED_TASK_SELECTION 0
#define configUSE_IDLE_HOOK                  0
#define configUSE_TICK_HOOK                  0
#define configMAX_PRIORITIES                 7
#define configMINIMAL_STACK_SIZE             256 /* words */
#define configMAX_TASK_NAME_LEN              12
#define configTICK_TYPE_WIDTH_IN_BITS        TICK_TYPE_WIDTH_32_BITS
#define configIDLE_SHOULD_YIELD              1
#define configUSE_TASK_NOTIFICATIONS         1
#define configUSE_MUTEXES                    1
#define configUSE_RECURSIVE_MUTEXES          0
#define configUSE_COUNTING_SEMAPHORES        1
#define configQUEUE_REGISTRY_SIZE            0
#define configUSE_QUEUE_SETS                 0
#define configUSE_TIMERS                     0
#define configUSE_CO_ROUTINES                0
#define configSUPPORT_DYNAMIC_ALLOCATION     1
#define configSUPPORT_STATIC_ALLOCATION      0
/* the whole heap of the device: the kernel, the TCP/IP stack's buffers and
 * sockets, and mbedTLS (the firmware routes its calloc/free here) */
#define configTOTAL_HEAP_SIZE                (160 * 1024)
#define configUSE_MALLOC_FAILED_HOOK         1
#define configCHECK_FOR_STACK_OVERFLOW       2
#define configUSE_TRACE_FACILITY             0
#define configGENERATE_RUN_TIME_STATS        0
#define configUSE_NEWLIB_REENTRANT           0 /* only the client's task uses the C library */
#define configENABLE_MPU                     0 /* (the ARM_CM0 port asks; the cross-compile suite uses it) */

#define configKERNEL_INTERRUPT_PRIORITY      0xFF
#define configMAX_SYSCALL_INTERRUPT_PRIORITY 0xA0
#define configMAX_API_CALL_INTERRUPT_PRIORITY configMAX_SYSCALL_INTERRUPT_PRIORITY

#define INCLUDE_vTaskDelay                   1
#define INCLUDE_vTaskDelete                  1
#define INCLUDE_vTaskSuspend                 1
#define INCLUDE_xTaskGetCurrentTaskHandle    1
#define INCLUDE_uxTaskGetStackHighWaterMark  1
#define INCLUDE_xTaskGetSchedulerState       1
#define INCLUDE_vTaskPrioritySet             0
#define INCLUDE_uxTaskPriorityGet            0

void fw_assert(const char *file, int line);
#define configASSERT(x) do { if (!(x)) fw_assert(__FILE__, __LINE__); } while (0)

/* the port's handlers under the names of the vector table */
#define vPortSVCHandler    SVC_Handler
#define xPortPendSVHandler PendSV_Handler
#define xPortSysTickHandler SysTick_Handler
#endif

/* STUB for tests/cross_compile.sh: the FreeRTOS declarations our examples use. */
#ifndef STUB_FREERTOS_H
#define STUB_FREERTOS_H
#include <stdint.h>
typedef long BaseType_t;
typedef unsigned long UBaseType_t;
typedef uint32_t TickType_t;
typedef uint16_t configSTACK_DEPTH_TYPE;
typedef uint32_t StackType_t;
typedef void *TaskHandle_t;
typedef void (*TaskFunction_t)(void *);
#define pdPASS ((BaseType_t)1)
#define configMINIMAL_STACK_SIZE ((configSTACK_DEPTH_TYPE)128)
#define tskIDLE_PRIORITY ((UBaseType_t)0U)
#define configTICK_RATE_HZ ((TickType_t)1000)
#define pdMS_TO_TICKS(ms) ((TickType_t)(((uint64_t)(ms) * (uint64_t)configTICK_RATE_HZ) / (uint64_t)1000U))
#endif

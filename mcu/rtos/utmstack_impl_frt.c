/* The library and its FreeRTOS-Plus-TCP port in the RTOS firmware: their
 * own object, so that `make size` can tell them from the rest.            */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_freertos_tcp.h"

/* The library's one implementation file in the firmware: its own object,
 * so that `make size` can tell utmstack.h (with jsmn) from the rest.      */
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"

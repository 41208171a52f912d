#!/bin/sh
# Every port and example, cross-compiled for Cortex-M4 (arm-none-eabi-gcc,
# newlib, -mcpu=cortex-m4 -mthumb -Os), warning-free (-Werror), with the lean
# mbedTLS configuration (config/). FreeRTOS (for the lwIP example) and Zephyr
# come from the stub headers in tests/stubs/ (declarations only: see its
# README); the FreeRTOS-Plus-TCP port is compiled against the real sources.
# Closing line: cross: N passed, N failed.
cd "$(dirname "$0")/.." || exit 1
CC=${ARM_CC:-arm-none-eabi-gcc}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/inc"
ln -s /usr/include/mbedtls "$T/inc/mbedtls"     # mbedTLS headers only, not the host's libc
ln -s /usr/include/jsmn.h "$T/inc/jsmn.h"
mkdir -p "$T/lwip"
ln -s /usr/include/lwip/lwip "$T/lwip/lwip"    # lwIP's core headers; its port config is ours
ln -s /usr/include/lwip/netif "$T/lwip/netif"
F="-mcpu=cortex-m4 -mthumb -Os -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror
   -ffunction-sections -fdata-sections -I. -Iports -Iconfig -isystem $T/inc -DMBEDTLS_CONFIG_FILE=\"mbedtls_lean_config.h\""
pass=0 fail=0
run() { # description file [flags]
    _d=$1 _f=$2; shift 2
    # shellcheck disable=SC2086
    if $CC $F "$@" -c "$_f" -o "$T/o.o" >"$T/log" 2>&1; then pass=$((pass + 1)); echo "ok $_d"
    else fail=$((fail + 1)); echo "FAIL $_d"; head -20 "$T/log"; fi
}
command -v "$CC" >/dev/null || { echo "cross: $CC missing"; echo "cross: 0 passed, 1 failed"; exit 1; }
printf '#define UTMSTACK_IMPLEMENTATION\n#include "utmstack.h"\n' >"$T/impl.c"
run "utmstack.h (Cortex-M4)" "$T/impl.c"
run "utmstack.h (Cortex-M0+)" "$T/impl.c" -mcpu=cortex-m0plus
run "utmstack.h, UTMSTACK_STATIC" "$T/impl.c" -DUTMSTACK_STATIC
run "FreeRTOS + lwIP example (lwIP port)" examples/freertos_lwip/utmstack_task.c \
    -Itests/stubs/freertos -Itests/stubs/lwip-arm -isystem "$T/lwip"
run "Zephyr example (Zephyr port)" examples/zephyr/src/main.c -isystem tests/stubs/zephyr
run "Zephyr example, Zephyr 4.4 net_ namespace" examples/zephyr/src/main.c -isystem tests/stubs/zephyr \
    -DSTUB_ZEPHYR_NET_NAMESPACE
run "bring-your-own transport (modem)" examples/custom_port.c
# the FreeRTOS-Plus-TCP port against the real kernel and stack headers, where
# ../shared/third_party has them (mcu/rtos/freertos_source.sh unpacks them)
if FRT=$(sh mcu/rtos/freertos_source.sh 2>"$T/frt.log"); then
    K=$FRT/FreeRTOS-Kernel P=$FRT/FreeRTOS-Plus-TCP/source
    FRT_INC="-Imcu/rtos -isystem $K/include -isystem $P/include -isystem $P/portable/Compiler/GCC"
    # shellcheck disable=SC2086
    run "FreeRTOS-Plus-TCP port (Cortex-M4)" mcu/rtos/utmstack_impl_frt.c $FRT_INC -isystem "$K/portable/GCC/ARM_CM4F"
    # shellcheck disable=SC2086
    run "FreeRTOS-Plus-TCP port (Cortex-M0+)" mcu/rtos/utmstack_impl_frt.c $FRT_INC -isystem "$K/portable/GCC/ARM_CM0" \
        -mcpu=cortex-m0plus
    # shellcheck disable=SC2086
    run "FreeRTOS-Plus-TCP port, IPv6 (Cortex-M4)" mcu/rtos/utmstack_impl_frt.c $FRT_INC \
        -isystem "$K/portable/GCC/ARM_CM4F" -DipconfigUSE_IPv6=1
else
    echo "FreeRTOS-Plus-TCP port: NOT RUN: $(cat "$T/frt.log"); not counted"
fi
echo "cross: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

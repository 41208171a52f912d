#!/bin/sh
# mcu/rtos/build_freertos.sh SRC OUTDIR CC FLAGS...: the FreeRTOS kernel
# (ARM_CM4F port, heap_4) and FreeRTOS-Plus-TCP (BufferAllocation_2, the
# MPS2 LAN9118 interface) compiled with mcu/rtos's configuration into
# OUTDIR/libfreertos-kernel.a and OUTDIR/libfreertos-tcp.a. Their own code,
# built as upstream writes it: not with our warning flags.
set -eu
SRC=$1 OUT=$2
shift 2
K=$SRC/FreeRTOS-Kernel
T=$SRC/FreeRTOS-Plus-TCP/source
N=$T/portable/NetworkInterface/MPS2_AN385
INC="-Imcu/rtos -I$K/include -I$K/portable/GCC/ARM_CM4F -I$T/include -I$T/portable/Compiler/GCC -I$N -I$N/ether_lan9118"
mkdir -p "$OUT/kernel" "$OUT/tcp"
rm -f "$OUT"/kernel/*.o "$OUT"/tcp/*.o "$OUT/libfreertos-kernel.a" "$OUT/libfreertos-tcp.a"
for f in "$K"/*.c "$K/portable/GCC/ARM_CM4F/port.c" "$K/portable/MemMang/heap_4.c"; do
    "$@" $INC -c "$f" -o "$OUT/kernel/$(basename "$f" .c).o"
done
for f in "$T"/*.c "$T/portable/BufferManagement/BufferAllocation_2.c" "$N/NetworkInterface.c" \
    "$N/ether_lan9118/smsc9220_eth_drv.c"; do
    "$@" $INC -c "$f" -o "$OUT/tcp/$(basename "$f" .c).o"
done
arm-none-eabi-ar rcs "$OUT/libfreertos-kernel.a" "$OUT"/kernel/*.o
arm-none-eabi-ar rcs "$OUT/libfreertos-tcp.a" "$OUT"/tcp/*.o

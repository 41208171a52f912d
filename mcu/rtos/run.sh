#!/bin/sh
# mcu/rtos/run.sh DIR: the RTOS firmware on qemu's mps2-an386 (FreeRTOS,
# FreeRTOS-Plus-TCP, the LAN9118 on qemu's user-mode network) against the
# emulator on the host, once per mbedTLS the chip targets build. Each run's
# "rtos: N passed, N failed", then the total.
cd "$(dirname "$0")/../.." || exit 1
DIR=${1:-build/mcu}
. tests/tally.sh
. tests/emulators.sh
OUT=$(mktemp)
trap 'emu_stop_all; rm -f "$OUT"' EXIT
if [ ! -f "$DIR/rtos/firmware.elf" ]; then
    echo "rtos: NOT RUN: no FreeRTOS kernel / FreeRTOS-Plus-TCP sources" \
         "(../shared/third_party/FreeRTOS-*.tar.gz), nothing counted"
    exit 0
fi
sh tests/mkcerts.sh "$EMU_DIR/pki" >/dev/null 2>&1
emu_start EC --cert "$EMU_DIR/pki/server.pem" --key "$EMU_DIR/pki/server.key"
emu_wait EC || exit 1
all_passed=0 all_failed=0
run() { # ELF WHAT
    # the emulator's counters and faults from the run before do not carry over
    python3 -c "import ssl,urllib.request as u; u.urlopen(u.Request('https://localhost:$UTM_PORT_EC/_emulator/reset',
        data=b'{}'), context=ssl.create_default_context(cafile='$EMU_DIR/pki/ca.pem'))" >/dev/null
    timeout 120 qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native \
        -nic user,model=lan9118 -kernel "$1" -append "$UTM_PORT_EC $EMU_DIR/pki/ca.pem" >"$OUT" 2>&1
    grep -av '^rtos: ' "$OUT" | sed 's/^/  /'
    passed=0 failed=0
    tally rtos "$OUT" "$2"
    all_passed=$((all_passed + passed)) all_failed=$((all_failed + failed))
}
W="FreeRTOS + FreeRTOS-Plus-TCP, Cortex-M4 on qemu mps2-an386, LAN9118, TLS to the emulator"
run "$DIR/rtos/firmware.elf" "$W, mbedTLS 2.28"
if [ -f "$DIR/rtos-v36/firmware.elf" ]; then run "$DIR/rtos-v36/firmware.elf" "$W, mbedTLS 3.6"
else echo "rtos (mbedTLS 3.6): NOT RUN: no mbedTLS 3.6.6 sources, not counted"; fi
if [ -f "$DIR/rtos-v4/firmware.elf" ]; then run "$DIR/rtos-v4/firmware.elf" "$W, mbedTLS 4.0"
else echo "rtos (mbedTLS 4.0): NOT RUN: no mbedTLS 4.0.0 sources, not counted"; fi
echo "rtos: $all_passed passed, $all_failed failed"
[ "$all_failed" -eq 0 ]

#!/bin/sh
# mcu/run_qemu.sh DIR: the on-chip suites under qemu (Cortex-M4 on MPS2-AN386,
# RISC-V rv32imac on virt), each one's "NAME: N passed, N failed" line, then
# the total.
cd "$(dirname "$0")/.." || exit 1
DIR=${1:-build/mcu}
QEMU="qemu-system-arm -nographic -semihosting-config enable=on,target=native -M"
RV="qemu-system-riscv32 -M virt -nographic -bios none -semihosting-config enable=on,target=native"
. tests/tally.sh
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
# unit tests on a Cortex-M4 (MPS2 AN386): 32-bit size_t, newlib-nano, 64 KiB stack
timeout 300 $QEMU mps2-an386 -kernel "$DIR/unit-m4.elf" >"$OUT" 2>&1
grep -av '^unit: ' "$OUT"
tally unit "$OUT" "Cortex-M4, qemu mps2-an386"
# and on RISC-V rv32imac (qemu virt): picolibc
timeout 300 $RV -kernel "$DIR/unit-rv32.elf" >"$OUT" 2>&1
grep -av '^unit: ' "$OUT"
tally unit "$OUT" "RISC-V rv32imac, qemu virt"

# the footprint firmware: a login, a search and requests over TLS to the
# emulator, through semihosting FIFOs and mcu/bridge.py
. tests/emulators.sh
trap 'kill "$BRIDGE" 2>/dev/null; emu_stop_all; rm -f "$OUT"' EXIT
sh tests/mkcerts.sh "$EMU_DIR/pki" >/dev/null 2>&1
emu_start EC --cert "$EMU_DIR/pki/server.pem" --key "$EMU_DIR/pki/server.key" --internal-key fw-internal-key-0123456789
emu_start RSA --cert "$EMU_DIR/pki/rsa.pem" --key "$EMU_DIR/pki/rsa.key"
emu_start EXPIRED --cert "$EMU_DIR/pki/expired.pem" --key "$EMU_DIR/pki/expired.key"
firmware() { # ELF SERVER WHAT [QEMU COMMAND] [PASSWORD] [MODE]
    if ! emu_wait "$2"; then echo "firmware: the emulator did not start"; failed=$((failed + 1)); return; fi
    eval "_port=\$UTM_PORT_$2"
    _ca=$EMU_DIR/pki/ca.pem
    [ "$2" = RSA ] && _ca=$EMU_DIR/pki/rsa.pem
    rm -rf "$EMU_DIR/link" && mkdir "$EMU_DIR/link"
    python3 mcu/bridge.py "$EMU_DIR/link" 127.0.0.1 "$_port" &
    BRIDGE=$!
    _i=0
    while [ ! -p "$EMU_DIR/link/rx1" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
    timeout 300 ${4:-$QEMU mps2-an386} -kernel "$1" \
        -append "https://localhost:$_port $_ca $EMU_DIR/link admin ${5:-s3cret-Passw0rd} ${6:-}" >"$OUT" 2>&1
    kill $BRIDGE 2>/dev/null; wait $BRIDGE 2>/dev/null
    sleep 0.1
    grep -av '^firmware: ' "$OUT"
    tally firmware "$OUT" "$3"
}
M4="Cortex-M4, qemu mps2-an386, TLS to the emulator"
firmware "$DIR/m4/firmware.elf" EC "$M4, ECDSA P-256 certificate"
firmware "$DIR/m4/firmware.elf" RSA "$M4, RSA-2048 certificate"
firmware "$DIR/m4/firmware.elf" EXPIRED "$M4, expired certificate refused (dates checked)" "" "" expired
firmware "$DIR/m4-notext/firmware.elf" EC "$M4, ECDSA P-256 certificate, UTMSTACK_NO_TEXT"
firmware "$DIR/m4-in4k/firmware.elf" EC "$M4, ECDSA P-256 certificate, 4 KiB records (max_fragment_length), 64 KiB of RAM"
firmware "$DIR/m4-key/firmware.elf" EC "$M4, ECDSA P-256 certificate, internal key (no login linked)" "" \
    fw-internal-key-0123456789
firmware "$DIR/m4-small/firmware.elf" EC "$M4, ECDSA P-256 certificate, the small RAM profile (internal key, 4 KiB records, 2 KB documents): a session in 32 KiB" "" \
    fw-internal-key-0123456789
firmware "$DIR/m4-req/firmware.elf" EC "$M4, ECDSA P-256 certificate, internal key + utm_request only, UTMSTACK_TEXT 1" "" \
    fw-internal-key-0123456789
firmware "$DIR/m4-req-v1/firmware.elf" EC "$M4, ECDSA P-256 certificate, internal key + utm_request only, UTMSTACK_TEXT 1, 1.0 API" "" \
    fw-internal-key-0123456789
firmware "$DIR/m4-search/firmware.elf" EC "$M4, ECDSA P-256 certificate, login + search only"
firmware "$DIR/m4-all/firmware.elf" EC "$M4, ECDSA P-256 certificate, every public function linked"
firmware "$DIR/rv32/firmware.elf" EC "RISC-V rv32imac, qemu virt, TLS to the emulator, ECDSA P-256 certificate" "$RV"
# upstream mbedTLS 3.6 LTS with the same lean header (TLS 1.2)
if [ -f "$DIR/m4-v36/firmware.elf" ]; then
    firmware "$DIR/m4-v36/firmware.elf" EC "$M4, ECDSA P-256 certificate, mbedTLS 3.6"
    firmware "$DIR/m4-v36/firmware.elf" EXPIRED "$M4, expired certificate refused (dates checked), mbedTLS 3.6" "" "" expired
else
    echo "firmware (mbedTLS 3.6): NOT RUN: no mbedTLS 3.6.6 sources (../shared/third_party/mbedtls-3.6.6.tar.gz), not counted"
fi
# mbedTLS 4.0 (TF-PSA-Crypto 1.0, the lean pair of configurations, PSA's
# entropy from the port): TLS 1.3 to the emulator, resumed with a ticket
if [ -f "$DIR/m4-v4/firmware.elf" ]; then
    firmware "$DIR/m4-v4/firmware.elf" EC "$M4, ECDSA P-256 certificate, mbedTLS 4.0"
    firmware "$DIR/m4-v4/firmware.elf" RSA "$M4, RSA-2048 certificate, mbedTLS 4.0"
    firmware "$DIR/m4-v4/firmware.elf" EXPIRED "$M4, expired certificate refused (dates checked), mbedTLS 4.0" "" "" expired
else
    echo "firmware (mbedTLS 4.0): NOT RUN: no mbedTLS 4.0.0 sources (../shared/third_party/mbedtls-4.0.0.tar.gz), not counted"
fi
echo "qemu: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# mcu/run_qemu.sh DIR: the on-chip suites under qemu-system-arm, each one's
# "NAME: N passed, N failed" line, then the total.
cd "$(dirname "$0")/.." || exit 1
DIR=${1:-build/mcu}
QEMU="qemu-system-arm -nographic -semihosting-config enable=on,target=native -M"
passed=0 failed=0
tally() { # NAME OUTPUT WHERE
    _line=$(grep -aE "^$1: [0-9]+ passed, [0-9]+ failed" "$2" | tail -1)
    if [ -z "$_line" ]; then
        cat "$2"; echo "$1 ($3): no summary line: the suite crashed or did not run"; failed=$((failed + 1)); return
    fi
    grep -av "^$1: " "$2"
    echo "$_line ($3)"
    passed=$((passed + $(echo "$_line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
    failed=$((failed + $(echo "$_line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
# unit tests on a Cortex-M4 (MPS2 AN386): 32-bit size_t, newlib-nano, 64 KiB stack
timeout 300 $QEMU mps2-an386 -kernel "$DIR/unit.elf" >"$OUT" 2>&1
tally unit "$OUT" "Cortex-M4, qemu mps2-an386"
echo "qemu: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

# Sourced by tests/run.sh and mcu/run_qemu.sh. tally NAME FILE [WHERE]: add
# the suite's "NAME: N passed, N failed" line in FILE to $passed and $failed
# and print it (followed by " (WHERE)"); a suite without one is one failure.
passed=0 failed=0
tally() {
    _line=$(grep -aE "^$1: [0-9]+ passed, [0-9]+ failed" "$2" | tail -1)
    if [ -z "$_line" ]; then
        echo "$1${3:+ ($3)}: no summary line: the suite crashed or did not run"; failed=$((failed + 1)); return
    fi
    echo "$_line${3:+ ($3)}"
    _p=$(echo "$_line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
    _f=$(echo "$_line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    passed=$((passed + _p)); failed=$((failed + _f))
}

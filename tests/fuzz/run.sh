#!/bin/sh
# Runs each fuzz harness for FUZZ_SECONDS (default 30) from the seed corpus in
# tests/corpus/NAME (copied to build-fuzz/corpus/NAME, where it grows).
# Closing line: fuzz: N passed, N failed (one per harness).
cd "$(dirname "$0")/../.." || exit 1
secs=${FUZZ_SECONDS:-30}
pass=0 fail=0
for name in http split json jwt encode jsondiff; do
    corpus=build-fuzz/corpus/$name
    mkdir -p "$corpus"
    cp -n tests/corpus/$name/* "$corpus"/ 2>/dev/null
    log=build-fuzz/$name.log
    if build-fuzz/fuzz_$name -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
        -print_final_stats=1 "$corpus" >"$log" 2>&1; then
        runs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}')
        echo "ok fuzz_$name: $runs executions in ${secs}s, corpus $(ls "$corpus" | wc -l) inputs"
        pass=$((pass + 1))
    else
        echo "FAIL fuzz_$name (build-fuzz/$name.log; the crashing input is named there):"
        grep -a -A12 'ERROR\|==ERROR\|deadly signal\|SUMMARY' "$log" | head -30
        fail=$((fail + 1))
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

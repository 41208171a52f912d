#!/bin/sh
# utmstack.h with the POSIX port under C99, C11 and C++11, UTMSTACK_STATIC on
# and off, gcc and clang, -Werror; then the link test: two files, one
# implementation, one file including the header twice.
cd "$(dirname "$0")/.." || exit 1
W="-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror"
# another mbedTLS: the Makefile's MBEDTLS_CFLAGS / MBEDTLS_LIBS (Debian's by default)
MI=${MBEDTLS_CFLAGS:-}
ML=${MBEDTLS_LIBS:--lmbedtls -lmbedx509 -lmbedcrypto}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
printf '#define UTMSTACK_IMPLEMENTATION\n#include "utmstack.h"\n#include "utmstack_posix.h"\nint main(void){return utm_version()[0] == 0;}\n' >"$T/impl.c"
run() { # description command...
    _d=$1; shift
    if "$@" >"$T/log" 2>&1; then pass=$((pass + 1)); echo "ok $_d"
    else fail=$((fail + 1)); echo "FAIL $_d: $*"; head -20 "$T/log"; fi
}
for cc in gcc clang; do
    command -v $cc >/dev/null || { echo "FAIL $cc missing"; fail=$((fail + 1)); continue; }
    for std in c99 c11; do
        for st in "" "-DUTMSTACK_STATIC"; do
            run "$cc -std=$std $st" $cc -std=$std $st $W -I. -Iports $MI -c "$T/impl.c" -o "$T/o.o"
        done
    done
done
for cxx in g++ clang++; do
    command -v $cxx >/dev/null || { echo "FAIL $cxx missing"; fail=$((fail + 1)); continue; }
    for st in "" "-DUTMSTACK_STATIC"; do
        run "$cxx -std=c++11 $st" $cxx -x c++ -std=c++11 $st $W -I. -Iports $MI -c "$T/impl.c" -o "$T/o.o"
    done
done
# the lwIP port, warning-free, also where lwIP turns send/recv/close into macros
run "lwIP port (gcc -std=c99)" gcc -std=c99 -D_DEFAULT_SOURCE $W -I. -Iports $MI -I/usr/include/lwip -c tests/lwip_compat.c -o "$T/l.o"
run "lwIP port (g++ -std=c++11)" g++ -x c++ -std=c++11 $W -I. -Iports $MI -I/usr/include/lwip -c tests/lwip_compat.c -o "$T/l.o"

# UTMSTACK_NO_TEXT: no text at all, the same result codes
cat >"$T/notext.c" <<'EOF2'
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include "utmstack_posix.h"
#include <string.h>
int main(void)
{
    utm_filter_t f;
    char out[64], why[64] = "x";
    memset(&f, 0, sizeof f);
    f.op = UTM_OP_IS; /* no field, no value */
    return !(utm_strerror(UTM_ERR_NET)[0] == 0 && utm_strerror(UTM_OK)[0] == 0 &&
             utm_search_body(&f, 1, out, sizeof out, why, sizeof why) == UTM_ERR_FILTER && why[0] == 0);
}
EOF2
run "UTMSTACK_NO_TEXT (gcc -std=c99, runs)" sh -c \
    "gcc -std=c99 -DUTMSTACK_NO_TEXT $W -I. -Iports $MI $T/notext.c -o $T/nt $ML && $T/nt"
run "UTMSTACK_NO_TEXT (clang++ -std=c++11)" clang++ -x c++ -std=c++11 -DUTMSTACK_NO_TEXT $W -I. -Iports $MI -c "$T/notext.c" -o "$T/o.o"

# the link test
printf '#include "utmstack.h"\n#include "utmstack.h"\n#include "utmstack_posix.h"\n#ifdef __cplusplus\nextern "C"\n#endif\nint other(void);\nint other(void){ return utm_strerror(UTM_OK)[0] == 0 || utm_posix_port() == 0; }\n' >"$T/a.c"
printf '#include "utmstack.h"\n#define UTMSTACK_IMPLEMENTATION\n#include "utmstack.h"\n#include "utmstack_posix.h"\nint other(void);\nint main(void){ return other() + (utm_version()[0] == 0); }\n' >"$T/b.c"
run "link: two files, one implementation, header twice" sh -c \
    "cc -std=c99 $W -I. -Iports $MI -c $T/a.c -o $T/a.o && cc -std=c99 $W -I. -Iports $MI -c $T/b.c -o $T/b.o && cc $T/a.o $T/b.o -o $T/ab $ML && $T/ab"
run "link: C++ user of a C implementation" sh -c \
    "g++ -x c++ -std=c++11 $W -I. -Iports $MI -c $T/a.c -o $T/a.o && cc -std=c99 $W -I. -Iports $MI -c $T/b.c -o $T/b.o && g++ $T/a.o $T/b.o -o $T/ab $ML && $T/ab"
# every C block in README.md is part of a compiled file
run "README code blocks are compiled files" python3 -c '
import re, sys
readme = open("README.md").read()
blocks = re.findall(r"```c\n(.*?)```", readme, re.S)
files = "".join(open(f).read() for f in ("examples/quickstart.c", "examples/minimal.c", "examples/utmstack_cli.c"))
missing = [b for b in blocks if b not in files]
sys.exit(1 if missing or not blocks else 0)
'
echo "matrix: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

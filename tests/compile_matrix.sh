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

# UTMSTACK_DEPRECATED_REMOVED (1.0's API now): the tool builds without the
# deprecated fields, and a file that still sets one does not compile
run "UTMSTACK_DEPRECATED_REMOVED: the tool builds (gcc -std=c99)" gcc -std=c99 -D_DEFAULT_SOURCE $W \
    -DUTMSTACK_DEPRECATED_REMOVED -I. -Iports $MI -c examples/utmstack_cli.c -o "$T/o.o"
printf '#define UTMSTACK_IMPLEMENTATION\n#include "utmstack.h"\nint main(void){utm_config_t c; c.client_cert = 0; return c.client_cert != 0;}\n' >"$T/dep.c"
run "UTMSTACK_DEPRECATED_REMOVED: config.client_cert is gone" sh -c \
    "gcc -std=c99 $W -I. $MI -c $T/dep.c -o $T/o.o && ! gcc -std=c99 -DUTMSTACK_DEPRECATED_REMOVED -I. $MI -c $T/dep.c -o $T/o.o"

# the text levels: the same codes, the texts each level keeps
for lvl in 0 1 2; do
    run "UTMSTACK_TEXT $lvl (gcc -std=c99, runs)" sh -c \
        "gcc -std=c99 -DUTMSTACK_TEXT=$lvl $W -I. -Itests $MI tests/text_levels.c -o $T/tl $ML && $T/tl"
done

# filter tables as static const data: the brace initialisers build the same
# filters as the constructor functions (C99 and C++11)
cat >"$T/table.c" <<'EOF2'
#define UTMSTACK_IMPLEMENTATION
#include "utmstack.h"
#include <string.h>
static const utm_value_t states[] = { UTM_VALUE_STRING("open"), UTM_VALUE_INT(2) };
static const utm_filter_t table[] = {
    { "severity", UTM_OP_IS, UTM_VALUE_INT(3) }, { "name", UTM_OP_CONTAIN, UTM_VALUE_STRING("ssh") },
    { "score", UTM_OP_IS_GREATER_THAN, UTM_VALUE_DOUBLE(0.5) }, { "ack", UTM_OP_IS, UTM_VALUE_BOOL(0) },
    { "status", UTM_OP_IS_ONE_OF, UTM_VALUE_LIST(states, 2) }, { "raw", UTM_OP_IS, UTM_VALUE_JSON("[1,2]") },
    { "tag", UTM_OP_EXIST, UTM_VALUE_NONE } };
int main(void)
{
    utm_value_t s2[2];
    utm_filter_t f[7];
    char a[512], b[512];
    memset(f, 0, sizeof f);
    s2[0] = utm_value_string("open"); s2[1] = utm_value_int(2);
    f[0].field = "severity"; f[0].op = UTM_OP_IS; f[0].value = utm_value_int(3);
    f[1].field = "name"; f[1].op = UTM_OP_CONTAIN; f[1].value = utm_value_string("ssh");
    f[2].field = "score"; f[2].op = UTM_OP_IS_GREATER_THAN; f[2].value = utm_value_double(0.5);
    f[3].field = "ack"; f[3].op = UTM_OP_IS; f[3].value = utm_value_bool(0);
    f[4].field = "status"; f[4].op = UTM_OP_IS_ONE_OF; f[4].value = utm_value_list(s2, 2);
    f[5].field = "raw"; f[5].op = UTM_OP_IS; f[5].value = utm_value_json("[1,2]");
    f[6].field = "tag"; f[6].op = UTM_OP_EXIST;
    if (utm_search_body(table, 7, a, sizeof a, NULL, 0) < 0 || utm_search_body(f, 7, b, sizeof b, NULL, 0) < 0) return 1;
    return strcmp(a, b) != 0;
}
EOF2
run "static const filter tables (gcc -std=c99, runs)" sh -c \
    "gcc -std=c99 $W -I. $MI $T/table.c -o $T/tb $ML && $T/tb"
run "static const filter tables (g++ -std=c++11, runs)" sh -c \
    "g++ -x c++ -std=c++11 $W -I. $MI $T/table.c -x none -o $T/tb $ML && $T/tb"
# jsmn.h included first (without parent links): our #error says what to do
printf '#include <jsmn.h>\n#define UTMSTACK_IMPLEMENTATION\n#include "utmstack.h"\n' >"$T/jsmnfirst.c"
run "jsmn.h before utmstack.h: a clear #error" sh -c \
    "! gcc -std=c99 -I. $MI -c $T/jsmnfirst.c -o $T/o.o 2>$T/j.log && grep -q 'include utmstack.h first' $T/j.log"

# the link test
printf '#include "utmstack.h"\n#include "utmstack.h"\n#include "utmstack_posix.h"\n#ifdef __cplusplus\nextern "C"\n#endif\nint other(void);\nint other(void){ return utm_strerror(UTM_OK)[0] == 0 || utm_posix_port() == 0; }\n' >"$T/a.c"
printf '#include "utmstack.h"\n#define UTMSTACK_IMPLEMENTATION\n#include "utmstack.h"\n#include "utmstack_posix.h"\nint other(void);\nint main(void){ return other() + (utm_version()[0] == 0); }\n' >"$T/b.c"
run "link: two files, one implementation, header twice" sh -c \
    "cc -std=c99 $W -I. -Iports $MI -c $T/a.c -o $T/a.o && cc -std=c99 $W -I. -Iports $MI -c $T/b.c -o $T/b.o && cc $T/a.o $T/b.o -o $T/ab $ML && $T/ab"
run "link: C++ user of a C implementation" sh -c \
    "g++ -x c++ -std=c++11 $W -I. -Iports $MI -c $T/a.c -o $T/a.o && cc -std=c99 $W -I. -Iports $MI -c $T/b.c -o $T/b.o && g++ $T/a.o $T/b.o -o $T/ab $ML && $T/ab"
# README's vendoring commands, run as written (Debian's mbedTLS: they name its libraries)
if [ -z "$MI" ]; then
    sed -n '/^<!-- vendoring -->$/,/^<!-- \/vendoring -->$/p' README.md | sed '/^<!--/d; /^```/d' >"$T/vendor.sh"
    run "README's vendoring commands, as written" sh -c "test -s $T/vendor.sh && cd $T && UTMSTACK=$PWD sh -e $T/vendor.sh | grep -q '^utmstack.h '"
fi
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

#!/bin/sh
# make install / uninstall with pkg-config, the CMake package three ways
# (add_subdirectory, FetchContent, find_package after both installs), and the
# metadata of the ESP-IDF, Zephyr and PlatformIO files.
# Closing line: packaging: N passed, N failed.
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() { # description command...
    _d=$1; shift
    if "$@" >"$T/log" 2>&1; then pass=$((pass + 1)); echo "ok $_d"
    else fail=$((fail + 1)); echo "FAIL $_d"; tail -20 "$T/log"; fi
}

# make install into a prefix, build the quick start from pkg-config alone
cp examples/quickstart.c "$T/quickstart.c"   # away from the source tree's headers
check "make install" make --no-print-directory install PREFIX="$T/usr"
check "pkg-config: utmstack $(sed -n 's/^#define UTMSTACK_VERSION_STRING "\(.*\)"/\1/p' utmstack.h)" sh -c \
    "PKG_CONFIG_PATH=$T/usr/lib/pkgconfig pkg-config --modversion utmstack | grep -qx \"\$(sed -n 's/^#define UTMSTACK_VERSION_STRING \"\\(.*\\)\"/\\1/p' utmstack.h)\""
check "build with pkg-config --cflags --libs utmstack" sh -c \
    "cd $T && cc -std=c99 -Wall -Werror quickstart.c -o qs \$(PKG_CONFIG_PATH=$T/usr/lib/pkgconfig pkg-config --cflags --libs utmstack) && ./qs 2>&1 | grep -q '^error: '"
check "find_package(utmstack) after make install" sh -c \
    "cmake -S tests/cmake -B $T/pkg1 -DUTM_HOW=package -DUTMSTACK_SOURCE=$ROOT -DCMAKE_PREFIX_PATH=$T/usr && cmake --build $T/pkg1"
check "make install: the tool, its man page, bash completion" sh -c \
    "$T/usr/bin/utmstack --version | grep -q '^utmstack ' && \
     test -z \"\$(LC_ALL=C.UTF-8 groff -man -ww -z $T/usr/share/man/man1/utmstack.1 2>&1)\" && \
     test -f $T/usr/share/zsh/site-functions/_utmstack && \
     bash -c '. $T/usr/share/bash-completion/completions/utmstack; COMP_WORDS=(utmstack search --fil); COMP_CWORD=2; _utmstack; [ \"\${COMPREPLY[*]}\" = --filter ] && COMP_WORDS=(utmstack search --filter sev:IS_GR); COMP_CWORD=3; _utmstack; [ \"\${COMPREPLY[*]}\" = sev:IS_GREATER_THAN ]'"
check "make uninstall leaves nothing" sh -c \
    "make --no-print-directory uninstall PREFIX=$T/usr && test -z \"\$(find $T/usr -type f)\""

# CMake: add_subdirectory, FetchContent, cmake --install + find_package
check "cmake: add_subdirectory" sh -c \
    "cmake -S tests/cmake -B $T/sub -DUTM_HOW=subdir -DUTMSTACK_SOURCE=$ROOT && cmake --build $T/sub && $T/sub/quickstart 2>&1 | grep -q error:"
check "cmake: add_subdirectory installs nothing into the parent (UTMSTACK_INSTALL)" sh -c \
    "cmake --install $T/sub --prefix $T/subinst >/dev/null && test -z \"\$(find $T/subinst -type f 2>/dev/null)\" && \
     cmake -S tests/cmake -B $T/sub2 -DUTM_HOW=subdir -DUTMSTACK_SOURCE=$ROOT -DUTMSTACK_INSTALL=ON >/dev/null && \
     cmake --install $T/sub2 --prefix $T/subinst2 >/dev/null && test -f $T/subinst2/include/utmstack.h"
check "cmake: FetchContent (git, this commit)" sh -c \
    "cmake -S tests/cmake -B $T/fetch -DUTM_HOW=fetch -DUTMSTACK_SOURCE=$ROOT -DUTMSTACK_COMMIT=\$(git rev-parse HEAD) && cmake --build $T/fetch"
check "cmake --install, then find_package(utmstack 0.1)" sh -c \
    "cmake -S . -B $T/self -DCMAKE_INSTALL_PREFIX=$T/cm && cmake --build $T/self && cmake --install $T/self && cmake -S tests/cmake -B $T/pkg2 -DUTM_HOW=package -DUTMSTACK_SOURCE=$ROOT -DCMAKE_PREFIX_PATH=$T/cm && cmake --build $T/pkg2"
check "find_package(utmstack 1.0) is refused by 0.x" sh -c \
    "! cmake -S tests/cmake -B $T/pkg3 -DUTM_HOW=package -DUTMSTACK_SOURCE=$ROOT -DCMAKE_PREFIX_PATH=$T/cm -Dutmstack_DIR=$T/cm/lib/cmake/utmstack -DUTM_WANT=1.0 2>/dev/null || false"
# mbedTLS 4.x's CMake package names its crypto MbedTLS::tfpsacrypto
if inst=$(sh scripts/mbedtls_build.sh 4.0.0 2>/dev/null); then
    check "cmake: add_subdirectory on mbedTLS 4.0's CMake package (MbedTLS::tfpsacrypto)" sh -c \
        "cmake -S tests/cmake -B $T/sub4 -DUTM_HOW=subdir -DUTMSTACK_SOURCE=$ROOT -DMbedTLS_DIR=$inst/lib/cmake/MbedTLS && cmake --build $T/sub4 && $T/sub4/quickstart 2>&1 | grep -q error:"
else
    echo "cmake on mbedTLS 4.0: NOT RUN: no mbedTLS 4.0.0 sources (not counted)"
fi

# metadata: syntax, the files it names, one version everywhere
check "ESP-IDF, Zephyr, PlatformIO metadata and versions" /usr/bin/python3 tests/test_packaging.py

echo "packaging: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

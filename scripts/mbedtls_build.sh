#!/bin/sh
# scripts/mbedtls_build.sh VERSION: an upstream mbedTLS (3.6.6, 4.0.0, ...)
# built for this host as static libraries (no tests, no programs) and
# installed into third_party/inst/mbedtls-VERSION (git-ignored); prints that
# directory. Done once: a second call finds the install and returns at once.
#
# Sources, in this order: ../shared/third_party/mbedtls-VERSION.tar.gz
# (checked against SHA256SUMS beside it), else a git clone of the tag
# vVERSION with its submodules (TF-PSA-Crypto, framework) where the network
# allows it. Exit 0 built, 2 no sources to be had (say so, run nothing),
# 1 the build failed. With --source: only unpack, and print the source tree.
set -u
SOURCE_ONLY=
if [ "${1:-}" = --source ]; then SOURCE_ONLY=1; shift; fi
V=${1:?usage: scripts/mbedtls_build.sh [--source] VERSION}
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
TP=$ROOT/third_party
SRC=$TP/src/mbedtls-$V
BLD=$TP/build/mbedtls-$V
INST=$TP/inst/mbedtls-$V
SHARED=${UTM_THIRD_PARTY:-$ROOT/../shared/third_party}

if [ -z "$SOURCE_ONLY" ] && [ -f "$INST/.done" ]; then echo "$INST"; exit 0; fi

if [ ! -f "$SRC/CMakeLists.txt" ]; then
    mkdir -p "$TP/src"
    if [ -f "$SHARED/mbedtls-$V.tar.gz" ]; then
        if [ -f "$SHARED/SHA256SUMS" ] && ! (cd "$SHARED" && grep " mbedtls-$V.tar.gz\$" SHA256SUMS | sha256sum -c --quiet -) >&2; then
            echo "mbedtls_build: $SHARED/mbedtls-$V.tar.gz does not match SHA256SUMS" >&2
            exit 1
        fi
        tar xzf "$SHARED/mbedtls-$V.tar.gz" -C "$TP/src" || exit 1
    elif command -v git >/dev/null &&
        git clone -q --depth 1 --branch "v$V" --recurse-submodules --shallow-submodules \
            https://github.com/Mbed-TLS/mbedtls.git "$SRC.tmp" >&2 2>/dev/null; then
        mv "$SRC.tmp" "$SRC"
    else
        rm -rf "$SRC.tmp"
        echo "mbedtls_build: no sources for mbedTLS $V (no $SHARED/mbedtls-$V.tar.gz, and git could not fetch tag v$V)" >&2
        exit 2
    fi
fi

if [ -n "$SOURCE_ONLY" ]; then echo "$SRC"; exit 0; fi

# 4.x generates sources with Python and jinja2 (Debian: python3-jinja2)
rm -rf "$BLD" && mkdir -p "$TP/build"
cmake -S "$SRC" -B "$BLD" -DCMAKE_BUILD_TYPE=Release -DENABLE_TESTING=OFF -DENABLE_PROGRAMS=OFF \
    -DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DCMAKE_INSTALL_PREFIX="$INST" >"$BLD.log" 2>&1 &&
    cmake --build "$BLD" -j2 >>"$BLD.log" 2>&1 &&
    cmake --install "$BLD" >>"$BLD.log" 2>&1 || {
    echo "mbedtls_build: mbedTLS $V did not build; the end of $BLD.log:" >&2
    tail -20 "$BLD.log" >&2
    exit 1
}
rm -rf "$BLD"
touch "$INST/.done"
echo "$INST"

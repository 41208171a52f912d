#!/bin/sh
# mcu/build_mbedtls4.sh SRC OUT.a CC [CFLAGS...]: mbedTLS 4.x with its
# TF-PSA-Crypto from the source tree SRC, cross-built by its own CMake (it
# generates sources with Python) with CC, CFLAGS and the lean configuration
# pair config/mbedtls4_lean_config.h + config/tfpsa_lean_config.h; the
# three libraries merged into OUT.a.
set -eu
SRC=$1 OUT=$2 CC=$3
shift 3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BLD=$OUT.build
rm -rf "$BLD"
case $CC in
*-gcc) AR=${CC%gcc}ar ;;
*) AR=${AR:-ar} ;;
esac
cmake -S "$SRC" -B "$BLD" -DCMAKE_SYSTEM_NAME=Generic -DCMAKE_C_COMPILER="$CC" -DCMAKE_AR="$(command -v "$AR")" \
    -DCMAKE_TRY_COMPILE_TARGET_TYPE=STATIC_LIBRARY -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="$*" \
    -DMBEDTLS_CONFIG_FILE="$ROOT/config/mbedtls4_lean_config.h" \
    -DTF_PSA_CRYPTO_CONFIG_FILE="$ROOT/config/tfpsa_lean_config.h" \
    -DENABLE_TESTING=OFF -DENABLE_PROGRAMS=OFF -DUSE_SHARED_MBEDTLS_LIBRARY=OFF >"$BLD.log" 2>&1 &&
    cmake --build "$BLD" -j2 >>"$BLD.log" 2>&1 || { tail -30 "$BLD.log" >&2; exit 1; }
rm -f "$OUT"
{
    echo "create $OUT"
    for l in library/libmbedtls.a library/libmbedx509.a tf-psa-crypto/core/libtfpsacrypto.a; do echo "addlib $BLD/$l"; done
    echo save
    echo end
} | "$AR" -M
rm -rf "$BLD" "$BLD.log"

#!/bin/sh
# mcu/build_mbedtls.sh SRC OUT.a CC [CFLAGS...]: mbedTLS's library/*.c from the
# source tree SRC, compiled with CC and CFLAGS (the target's and the lean
# configuration's), archived into OUT.a. Two jobs at a time.
set -eu
SRC=$1 OUT=$2 CC=$3
shift 3
OBJ=$OUT.objs
rm -rf "$OBJ" && mkdir -p "$OBJ"
export CC OBJ SRC
ls "$SRC"/library/*.c | xargs -P 2 -I{} sh -c 'f={}; b=${f##*/}; exec "$CC" "$@" -I"$SRC/include" -c "$f" -o "$OBJ/${b%.c}.o"' sh "$@"
case $CC in
*-gcc) AR=${CC%gcc}ar ;;  # the cross toolchain's archiver
*) AR=${AR:-ar} ;;
esac
rm -f "$OUT"
"$AR" rcs "$OUT" "$OBJ"/*.o
rm -rf "$OBJ"

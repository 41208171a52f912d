#!/bin/sh
# libcurl over Debian's mbedTLS 2.28, the fair peer of utmstack.h: built from
# Debian's curl source package, outside the repository (DIR, default
# /tmp/utmstack-bench), never committed. Prints the install prefix.
set -eu
DIR=${1:-/tmp/utmstack-bench}
PREFIX=$DIR/curl-mbedtls
[ -f "$PREFIX/lib/libcurl.a" ] && { echo "$PREFIX"; exit 0; }
SRC=$(sh "$(dirname "$0")/../scripts/debian_source.sh" curl "$DIR")
cd "$SRC"
./configure --prefix="$PREFIX" --with-mbedtls --without-openssl --without-gnutls --disable-shared --enable-static \
    --disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
    --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt \
    --without-libpsl --without-brotli --without-zstd --without-libidn2 --without-nghttp2 --without-librtmp \
    --without-libssh2 --disable-manual --disable-docs >&2
make -j2 -C lib >&2
make -C lib install >&2
make -C include install >&2
echo "$PREFIX"

#!/bin/sh
# libcurl over Debian's mbedTLS 2.28, the fair peer of utmstack.h: built from
# Debian's curl source package, outside the repository (DIR, default
# /tmp/utmstack-bench), never committed. Prints the install prefix.
set -eu
DIR=${1:-/tmp/utmstack-bench}
PREFIX=$DIR/curl-mbedtls
[ -f "$PREFIX/lib/libcurl.a" ] && { echo "$PREFIX"; exit 0; }
mkdir -p "$DIR/apt/lists/partial" "$DIR/src"
# Debian's source list, read privately (the machine's apt lists only binaries)
sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$DIR/apt/src.sources"
APT="-o Dir::Etc::SourceList=$DIR/apt/src.sources -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$DIR/apt/lists"
cd "$DIR/src"
if ! ls curl_*.orig.tar.gz >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    apt-get $APT update -qq >&2
    # shellcheck disable=SC2086
    apt-get $APT source --download-only curl >&2
fi
rm -rf curl-src && mkdir curl-src
tar -xzf curl_*.orig.tar.gz -C curl-src --strip-components=1
cd curl-src
./configure --prefix="$PREFIX" --with-mbedtls --without-openssl --without-gnutls --disable-shared --enable-static \
    --disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
    --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt \
    --without-libpsl --without-brotli --without-zstd --without-libidn2 --without-nghttp2 --without-librtmp \
    --without-libssh2 --disable-manual --disable-docs >&2
make -j2 -C lib >&2
make -C lib install >&2
make -C include install >&2
echo "$PREFIX"

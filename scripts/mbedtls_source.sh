#!/bin/sh
# Debian's mbedTLS source package (2.28), fetched with apt-get from Debian's
# archive into DIR (default third_party/, git-ignored, never committed) and
# unpacked once. Prints the source tree. make test, make size and make heap
# build it with config/mbedtls_lean_config.h (for the chips, and the host).
set -eu
DIR=${1:-third_party}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ ! -f "$DIR/mbedtls-debian/include/mbedtls/ssl.h" ]; then
    mkdir -p "$DIR/apt/lists/partial" "$DIR/debian-src"
    # Debian's source list, read privately (the machine's apt lists only binaries)
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$DIR/apt/src.sources"
    APT="-o Dir::Etc::SourceList=$DIR/apt/src.sources -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$DIR/apt/lists"
    cd "$DIR/debian-src"
    if ! ls mbedtls_*.orig.tar.* >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        apt-get $APT update -qq >&2
        # shellcheck disable=SC2086
        apt-get $APT source --download-only mbedtls >&2
    fi
    rm -rf "$DIR/mbedtls-debian.tmp" && mkdir "$DIR/mbedtls-debian.tmp"
    tar -xzf mbedtls_*.orig.tar.gz -C "$DIR/mbedtls-debian.tmp" --strip-components=1
    rm -rf "$DIR/mbedtls-debian" && mv "$DIR/mbedtls-debian.tmp" "$DIR/mbedtls-debian"
fi
echo "$DIR/mbedtls-debian"

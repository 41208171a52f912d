#!/bin/sh
# scripts/debian_source.sh PACKAGE DIR: Debian's source package PACKAGE,
# fetched once with apt-get from Debian's archive into DIR (outside git:
# third_party/ is ignored) and unpacked into DIR/PACKAGE-debian (the upstream
# tarball). Prints that directory. Used by the on-chip builds (mbedtls) and
# by make bench (curl).
set -eu
PKG=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
OUT=$DIR/$PKG-debian
if [ ! -f "$OUT/.unpacked" ]; then
    mkdir -p "$DIR/apt/lists/partial" "$DIR/debian-src"
    # Debian's source list, read privately (the machine's apt lists only binaries)
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$DIR/apt/src.sources"
    APT="-o Dir::Etc::SourceList=$DIR/apt/src.sources -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$DIR/apt/lists"
    cd "$DIR/debian-src"
    if ! ls "${PKG}"_*.orig.tar.* >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        apt-get $APT update -qq >&2
        # shellcheck disable=SC2086
        apt-get $APT source --download-only "$PKG" >&2
    fi
    for f in "${PKG}"_*.orig.tar.*; do
        case $f in *.asc) ;; *) tarball=$f ;; esac # not the signature
    done
    rm -rf "$OUT" && mkdir "$OUT"
    tar -xf "$tarball" -C "$OUT" --strip-components=1
    touch "$OUT/.unpacked"
fi
echo "$OUT"

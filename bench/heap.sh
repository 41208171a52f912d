#!/bin/sh
# bench/heap.sh BUILD-DIR: peak heap of a TLS login + one search against the
# emulator, with Debian's mbedTLS and with the lean configuration (make heap).
cd "$(dirname "$0")/.." || exit 1
B=${1:-build}
. tests/emulators.sh
trap 'emu_stop_all' EXIT INT TERM
P=$EMU_DIR/pki
sh tests/mkcerts.sh "$P" >/dev/null 2>&1
emu_start EC --cert "$P/server.pem" --key "$P/server.key"
emu_start RSA --cert "$P/rsa.pem" --key "$P/rsa.key"
emu_wait EC RSA || exit 1
rc=0
for cert in EC RSA; do
    eval "port=\$UTM_PORT_$cert"
    ca=$P/ca.pem what="ECDSA P-256"
    [ $cert = RSA ] && ca=$P/rsa.pem what="RSA-2048"
    "$B/heap-debian" "https://localhost:$port" "$ca" "$what server certificate, Debian's libmbedtls (default config)" || rc=1
    "$B/heap-lean" "https://localhost:$port" "$ca" "$what server certificate, config/mbedtls_lean_config.h" || rc=1
done
exit $rc

#!/bin/sh
# bench/heap.sh BUILD-DIR: peak heap of a TLS login + one search against the
# emulator, with Debian's mbedTLS and with the lean configuration (make heap).
cd "$(dirname "$0")/.." || exit 1
B=${1:-build}
. tests/emulators.sh
trap 'emu_stop_all' EXIT INT TERM
sh tests/mkcerts.sh "$EMU_DIR/pki" >/dev/null 2>&1
rc=0
for cert in EC RSA; do
    if [ $cert = EC ]; then ca=$EMU_DIR/pki/ca.pem; emu_start EC --cert "$EMU_DIR/pki/server.pem" --key "$EMU_DIR/pki/server.key"
    else
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$EMU_DIR/rsa.key" -out "$EMU_DIR/rsa.pem" -days 2 \
            -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
        ca=$EMU_DIR/rsa.pem; emu_start RSA --cert "$EMU_DIR/rsa.pem" --key "$EMU_DIR/rsa.key"
    fi
    emu_wait $cert || exit 1
    eval "port=\$UTM_PORT_$cert"
    what="ECDSA P-256 server certificate"
    [ $cert = RSA ] && what="RSA-2048 server certificate"
    "$B/heap-debian" "https://localhost:$port" "$ca" "$what, Debian's libmbedtls (default config)" || rc=1
    "$B/heap-lean" "https://localhost:$port" "$ca" "$what, config/mbedtls_lean_config.h" || rc=1
done
exit $rc

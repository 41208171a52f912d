#!/bin/sh
# Runs every suite; the last line is the total: N passed, N failed.
# Needs the programs `make all build/unit build/integration` builds.
cd "$(dirname "$0")/.." || exit 1
set -u
B=${B:-build}   # where the programs are (make B=dir ... builds elsewhere)
export UTM_TOOL="$PWD/$B/utmstack"
# RUNNER wraps every test program (valgrind, say); the CLI suite reads it too
RUNNER=${RUNNER:-}
export UTM_RUNNER="$RUNNER"
. tests/emulators.sh
trap 'emu_stop_all' EXIT INT TERM
OUT=$EMU_DIR/out
mkdir -p "$OUT"
. tests/tally.sh
# the mbedTLS a build links (MBEDTLS_CFLAGS/LIBS; Debian's by default)
mbedtls_of() { echo "mbedTLS $(./$1/sizes | sed -n '1s/.*mbedTLS \([^,]*\),.*/\1/p')"; }
MBEDTLS=$(mbedtls_of "$B")

# unit: no network
$RUNNER ./$B/unit >"$OUT/unit" 2>&1
grep -av '^unit:' "$OUT/unit"
tally unit "$OUT/unit" "$MBEDTLS"

# the compile matrix and the link test
sh tests/compile_matrix.sh >"$OUT/matrix" 2>&1
grep -av '^matrix:' "$OUT/matrix" | grep -av '^ok ' || true
tally matrix "$OUT/matrix" "$MBEDTLS"

# every port and example cross-compiled for Cortex-M (once, in the plain build)
if [ "$B" = build ] && [ -z "$RUNNER" ]; then
    sh tests/cross_compile.sh >"$OUT/cross" 2>&1
    grep -av '^cross:' "$OUT/cross" | grep -av '^ok '
    tally cross "$OUT/cross"
fi

# packaging: install, pkg-config, CMake, metadata (once, in the plain build)
if [ "$B" = build ] && [ -z "$RUNNER" ]; then
    sh tests/test_packaging.sh >"$OUT/packaging" 2>&1
    grep -av '^packaging:' "$OUT/packaging" | grep -av '^ok '
    tally packaging "$OUT/packaging"
fi

# on the chip: the unit tests and the TLS firmware on qemu (Cortex-M4, RISC-V),
# once, in the plain build (make test-qemu runs this alone)
if [ "$B" = build ] && [ -z "$RUNNER" ]; then
    sh mcu/run_qemu.sh "$B/mcu" >"$OUT/qemu" 2>&1
    if grep -aqE '^qemu: [0-9]+ passed, 0 failed' "$OUT/qemu"; then
        grep -aE '^(unit|firmware): ' "$OUT/qemu" | sed 's/^/  /'
    else
        grep -av '^qemu: ' "$OUT/qemu"
    fi
    tally qemu "$OUT/qemu"
    # in a FreeRTOS task over FreeRTOS-Plus-TCP and an emulated network card
    sh mcu/rtos/run.sh "$B/mcu" >"$OUT/rtos" 2>&1
    if grep -aqE '^rtos: [0-9]+ passed, 0 failed$' "$OUT/rtos"; then
        grep -aE '^rtos[ :(]' "$OUT/rtos" | sed '$d' | sed 's/^/  /'
    else
        cat "$OUT/rtos"
    fi
    if grep -aq '^rtos: NOT RUN' "$OUT/rtos"; then grep -a '^rtos: NOT RUN' "$OUT/rtos"
    else tally rtos "$OUT/rtos"; fi
fi

# integration and the tool: emulators on loopback with a throwaway PKI, fresh
# for each build (the lock emulators remember failures)
PKI=$B/pki
sh tests/mkcerts.sh "$PKI"
export UTM_PKI=$PKI
export UTM_PIN=$(openssl x509 -in "$PKI/server.pem" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
export UTM_STATS_DIR=$EMU_DIR
tls_suites() { # BUILD_DIR WHERE: integration and cli of that build
    KEYS="--internal-key test-internal-key-0123456789 --api-key v11-api-key-abcdef"
    S="--cert $PKI/server.pem --key $PKI/server.key"
    emu_start MAIN $S $KEYS --user "$(printf 'j\303\266rg:q"uote \\back\\ sl\303\244sh \342\234\223 \360\237\224\222')" \
        --user bigtoken:bigtoken-Passw0rd --tfa-user tfauser:tfa-Passw0rd
    emu_start V11 $S $KEYS --v11 --tfa-user tfauser:tfa-Passw0rd
    emu_start SHORT $S $KEYS --token-lifetime 5
    emu_start LOCK $S $KEYS
    emu_start PLAIN $KEYS
    emu_start ROGUE --cert $PKI/rogue.pem --key $PKI/rogue.key $KEYS
    emu_start WRONGHOST --cert $PKI/wronghost.pem --key $PKI/wronghost.key $KEYS
    emu_start IPWILD --cert $PKI/ipwild.pem --key $PKI/ipwild.key $KEYS
    emu_start EXPIRED --cert $PKI/expired.pem --key $PKI/expired.key $KEYS
    emu_start FUTURE --cert $PKI/future.pem --key $PKI/future.key $KEYS
    emu_start MTLS $S $KEYS --client-ca $PKI/ca.pem
    emu_start TLS10 $S $KEYS --tls-max 1.0 --stats-file "$EMU_DIR/TLS10.stats"
    emu_start TLS11 $S $KEYS --tls-max 1.1 --stats-file "$EMU_DIR/TLS11.stats"
    emu_start TLS12 $S $KEYS --tls-max 1.2
    emu_start CLI $S $KEYS --tfa-user tfauser:tfa-Passw0rd
    emu_start CLILOCK $S $KEYS
    if emu_wait MAIN V11 SHORT LOCK PLAIN ROGUE WRONGHOST IPWILD EXPIRED FUTURE MTLS TLS10 TLS11 TLS12 CLI CLILOCK; then
        # IPv6 loopback, where the machine has it
        if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
            emu_start V6 --host ::1 $S $KEYS && emu_wait V6
        else
            echo "integration: no ::1 on this machine: the IPv6 check is skipped (not counted)"
        fi
        $RUNNER ./$1/integration >"$OUT/integration" 2>&1
        grep -av '^integration:' "$OUT/integration"   # failures, and the measured stack
        tally integration "$OUT/integration" "$2"
        UTM_TOOL="$PWD/$1/utmstack" UTM_PORT=$UTM_PORT_CLI UTM_LOCK_PORT=$UTM_PORT_CLILOCK \
            "$PYTHON" tests/test_cli.py >"$OUT/cli" 2>&1
        grep -av '^cli:' "$OUT/cli"
        tally cli "$OUT/cli" "$2"
    else
        failed=$((failed + 1))
    fi
    emu_stop
}
tls_suites "$B" "$MBEDTLS"

# The same unit, integration and CLI suites on upstream mbedTLS 3.6 LTS and
# 4.0 (with TF-PSA-Crypto), built once into third_party/ (once, in the plain
# build). Where their sources cannot be had, say so: not run, not counted.
if [ "$B" = build ] && [ -z "$RUNNER" ]; then
    for v in ${UTM_MBEDTLS_VERSIONS:-3.6.6 4.0.0}; do
        inst=$(sh scripts/mbedtls_build.sh "$v" 2>"$OUT/mbedtls-$v")
        rc=$?
        if [ $rc = 2 ]; then
            echo "mbedTLS $v: NOT RUN: $(cat "$OUT/mbedtls-$v")"
            continue
        fi
        vb=build-mbedtls-$v
        vcflags="-I$inst/include"
        vlibs="$inst/lib/libmbedtls.a $inst/lib/libmbedx509.a $inst/lib/libmbedcrypto.a"
        if [ $rc != 0 ] || ! make --no-print-directory -s B=$vb MBEDTLS_CFLAGS="$vcflags" MBEDTLS_LIBS="$vlibs" \
                all $vb/unit $vb/integration >>"$OUT/mbedtls-$v" 2>&1; then
            cat "$OUT/mbedtls-$v"
            echo "mbedTLS $v: the build failed"
            failed=$((failed + 1))
            continue
        fi
        where=$(mbedtls_of $vb)
        ./$vb/unit >"$OUT/unit" 2>&1
        grep -av '^unit:' "$OUT/unit"
        tally unit "$OUT/unit" "$where"
        MBEDTLS_CFLAGS="$vcflags" MBEDTLS_LIBS="$vlibs" sh tests/compile_matrix.sh >"$OUT/matrix" 2>&1
        grep -av '^matrix:' "$OUT/matrix" | grep -av '^ok ' || true
        tally matrix "$OUT/matrix" "$where"
        tls_suites $vb "$where"
    done
fi

# the lwIP port on a real lwIP stack, in a network namespace of our own (root;
# CI always runs it, a developer without root is told it did not run)
if [ "$(id -u)" = 0 ] || [ -n "${CI:-}" ]; then
    sh tests/lwip_run.sh >"$OUT/lwip" 2>&1
    grep -av '^lwip:' "$OUT/lwip"
    tally lwip "$OUT/lwip"
else
    echo "lwip: NOT RUN: the lwIP test needs root for its network namespace (not counted)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

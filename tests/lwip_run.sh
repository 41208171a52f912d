#!/bin/sh
# The lwIP port on a real lwIP stack: a network namespace of our own with a TAP
# device (10.77.0.1 on the host side, lwIP is 10.77.0.2), the emulator on
# 10.77.0.1 inside it, build/lwip_test inside it. Needs root (namespaces, TAP).
# Prints the suite's own "lwip: N passed, N failed" line.
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
PKI=${UTM_PKI:-$B/pki}
NS=utm-lwip-$$
TAP=utmtap0
T=$(mktemp -d)
cleanup() {
    [ -f "$T/emu.pid" ] && kill "$(cat "$T/emu.pid")" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
if ! ip netns add "$NS" 2>"$T/err"; then
    echo "lwip: cannot create a network namespace here ($(cat "$T/err")): the lwIP test did not run"
    echo "lwip: 0 passed, 1 failed"
    exit 1
fi
ip netns exec "$NS" sh -c "ip link set lo up && ip tuntap add dev $TAP mode tap && ip addr add 10.77.0.1/24 dev $TAP && ip link set $TAP up" || exit 1
sh tests/mkcerts.sh "$PKI" >/dev/null
ip netns exec "$NS" ${PYTHON:-python3} tests/emulator.py --host 10.77.0.1 --port-file "$T/port" \
    --cert "$PKI/server.pem" --key "$PKI/server.key" --internal-key test-internal-key-0123456789 >"$T/emu.log" 2>&1 &
echo $! >"$T/emu.pid"
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { cat "$T/emu.log"; echo "lwip: 0 passed, 1 failed"; exit 1; }
ip netns exec "$NS" env PRECONFIGURED_TAPIF=$TAP UTM_LWIP_PORT="$(cat "$T/port")" UTM_PKI="$PKI" \
    timeout 300 ${RUNNER:-} ./$B/lwip_test

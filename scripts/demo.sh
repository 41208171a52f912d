#!/bin/sh
# `make demo`: a UTMStack emulator on 127.0.0.1 with a throwaway CA, and the
# `utmstack` tool run against it the way an appliance script would.
cd "$(dirname "$0")/.." || exit 1
set -e
. tests/emulators.sh
trap 'emu_stop_all' EXIT INT TERM
PKI=build/pki
sh tests/mkcerts.sh "$PKI"
emu_start DEMO --cert "$PKI/server.pem" --key "$PKI/server.key" --internal-key demo-internal-key
emu_wait DEMO
export UTMSTACK_URL="https://localhost:$UTM_PORT_DEMO" UTMSTACK_CA="$PKI/ca.pem"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
T=build/demo-token

echo "UTMStack emulator: $UTMSTACK_URL (pid $(cat "$EMU_DIR/DEMO.pid")), CA $UTMSTACK_CA"
step "UTMSTACK_USER=admin UTMSTACK_PASSWORD=*** utmstack --token-file $T login"
UTMSTACK_USER=admin UTMSTACK_PASSWORD=s3cret-Passw0rd build/utmstack --token-file $T login

step "utmstack --token-file $T search --index 'alert-*' --filter severity:IS:3 --filter status:IS:2 \\
    --filter @timestamp:IS_BETWEEN:now-7d,now --sort @timestamp,desc --size 5   # recent open high-severity alerts"
build/utmstack --token-file $T search --index 'alert-*' --filter severity:IS:3 --filter status:IS:2 \
    --filter @timestamp:IS_BETWEEN:now-7d,now --sort @timestamp,desc --size 5 | cut -c1-150

step "UTMSTACK_API_KEY=*** utmstack search ... (the same search with the internal key)"
UTMSTACK_API_KEY=demo-internal-key build/utmstack search --index 'alert-*' --filter severity:IS:3 \
    --filter status:IS:2 --filter @timestamp:IS_BETWEEN:now-7d,now --sort @timestamp,desc --size 5 | cut -c1-150

step "UTMSTACK_API_KEY=*** utmstack get /api/account"
UTMSTACK_API_KEY=demo-internal-key build/utmstack get /api/account
echo

step "utmstack --user admin (wrong password) login; echo exit=\$?"
UTMSTACK_USER=admin UTMSTACK_PASSWORD=wrong-password build/utmstack login || echo "exit=$?"
rm -f $T
printf '\nDemo done; stopping the emulator.\n'

#!/bin/sh
# `make demo`: a UTMStack emulator on 127.0.0.1 with a throwaway CA, the C
# library's quick start against it, then the `utmstack` tool the way an
# appliance script would use it. Needs only the demo's packages
# (scripts/deps.sh demo): a C compiler, mbedTLS, jsmn, python3, openssl.
cd "$(dirname "$0")/.." || exit 1
set -e
B=${B:-build}
. tests/emulators.sh
trap 'emu_stop_all; rm -f "$T"' EXIT INT TERM
PKI=$B/pki
sh tests/mkcerts.sh "$PKI" >/dev/null
emu_start DEMO --cert "$PKI/server.pem" --key "$PKI/server.key" --internal-key demo-internal-key
emu_wait DEMO
# by address: the demo needs no /etc/hosts (the certificate holds 127.0.0.1)
export UTMSTACK_URL="https://127.0.0.1:$UTM_PORT_DEMO" UTMSTACK_CA="$PKI/ca.pem"
T=$(mktemp "${TMPDIR:-/tmp}/utm-demo-token.XXXXXX")
rm -f "$T" # the tool makes it, mode 0600
if [ -t 1 ]; then BOLD=$(printf '\033[1m') PLAIN=$(printf '\033[0m'); else BOLD= PLAIN=; fi
step() { printf '\n%s$ %s%s\n' "$BOLD" "$*" "$PLAIN"; }
# NDJSON documents as one short line each: time (as a date), severity, name
table() {
    python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    print("  %-20s  severity %s  %s" % (d.get("@timestamp", "?")[:19].replace("T", " "), d.get("severity", "?"),
                                        d.get("name", "?")))'
}

echo "UTMStack emulator: $UTMSTACK_URL (pid $(cat "$EMU_DIR/DEMO.pid")), CA $UTMSTACK_CA"

step "UTMSTACK_USER=admin UTMSTACK_PASSWORD=*** $B/quickstart   # examples/quickstart.c: the C library itself"
UTMSTACK_USER=admin UTMSTACK_PASSWORD=s3cret-Passw0rd "$B/quickstart"

step "UTMSTACK_USER=admin UTMSTACK_PASSWORD=*** utmstack --token-file TOKEN login"
UTMSTACK_USER=admin UTMSTACK_PASSWORD=s3cret-Passw0rd "$B/utmstack" --token-file "$T" login |
    python3 -c 'import json, sys, time
line = sys.stdin.read()
print(line, end="")
print("  (expires %s UTC)" % time.strftime("%Y-%m-%d %H:%M", time.gmtime(json.loads(line)["expires"])))'

step "utmstack --token-file TOKEN search --index 'alert-*' --filter severity:IS:3 --filter status:IS:2 \\
    --filter @timestamp:IS_BETWEEN:now-7d,now --sort @timestamp,desc --size 5   # open high-severity alerts"
"$B/utmstack" --token-file "$T" search --index 'alert-*' --filter severity:IS:3 --filter status:IS:2 \
    --filter @timestamp:IS_BETWEEN:now-7d,now --sort @timestamp,desc --size 5 | table
echo "  (one JSON document per line on stdout, shown here as time, severity, name; total= on stderr)"

step "UTMSTACK_API_KEY=*** utmstack search -s --index 'alert-*' --all | wc -l   # every alert, with the internal key"
UTMSTACK_API_KEY=demo-internal-key "$B/utmstack" search -s --index 'alert-*' --all | wc -l

step "UTMSTACK_API_KEY=*** utmstack get /api/account"
UTMSTACK_API_KEY=demo-internal-key "$B/utmstack" get /api/account
echo

step "UTMSTACK_USER=admin UTMSTACK_PASSWORD=wrong utmstack login; echo exit=\$?"
UTMSTACK_USER=admin UTMSTACK_PASSWORD=wrong-password "$B/utmstack" login || echo "exit=$?"
printf '\nDemo done; stopping the emulator.\n'

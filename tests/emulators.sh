# Sourced by tests/run.sh and scripts/demo.sh: start UTMStack emulators on
# loopback (each on a free port), wait for them, stop them by their pids.
EMU_DIR=$(mktemp -d "${TMPDIR:-/tmp}/utm-emu.XXXXXX")
PYTHON=${PYTHON:-python3}

emu_start() { # NAME [emulator options]
    _name=$1; shift
    "$PYTHON" tests/emulator.py --port-file "$EMU_DIR/$_name.port" "$@" >"$EMU_DIR/$_name.log" 2>&1 &
    echo $! >"$EMU_DIR/$_name.pid"
}

emu_wait() { # NAME... : exports UTM_PORT_NAME for each that came up
    for _name in "$@"; do
        _i=0
        while [ ! -s "$EMU_DIR/$_name.port" ] && [ $_i -lt 100 ]; do
            kill -0 "$(cat "$EMU_DIR/$_name.pid")" 2>/dev/null || break
            sleep 0.1; _i=$((_i + 1))
        done
        if [ -s "$EMU_DIR/$_name.port" ]; then
            export "UTM_PORT_$_name=$(cat "$EMU_DIR/$_name.port")"
        else
            echo "emulator $_name did not start:" >&2; cat "$EMU_DIR/$_name.log" >&2
            return 1
        fi
    done
}

emu_stop() { # every emulator started so far; EMU_DIR stays for new ones
    for _p in "$EMU_DIR"/*.pid; do
        if [ -f "$_p" ]; then kill "$(cat "$_p")" 2>/dev/null || true; fi
    done
    sleep 0.1
    for _p in "$EMU_DIR"/*.pid; do
        if [ -f "$_p" ]; then kill -9 "$(cat "$_p")" 2>/dev/null || true; fi
    done
    rm -f "$EMU_DIR"/*.pid "$EMU_DIR"/*.port "$EMU_DIR"/*.stats
}

emu_stop_all() {
    emu_stop
    rm -rf "$EMU_DIR"
}

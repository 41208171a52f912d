#!/bin/sh
# The Debian packages the build, the tests and the demo need: installed when
# missing (as root, or through sudo), checked otherwise. `--check` only checks.
# Used by `make deps` (hence `make test`, `make demo`) and by .ci/run.
# `--bench` adds what `make bench` needs.
BENCH_PACKAGES="nginx libcurl4-openssl-dev curl bc valgrind zlib1g-dev"
if [ "${1:-}" = "--bench" ]; then shift; EXTRA=$BENCH_PACKAGES; else EXTRA=""; fi
PACKAGES="$EXTRA build-essential gcc g++ clang libclang-rt-14-dev make libmbedtls-dev libjsmn-dev python3 openssl ca-certificates time valgrind gcovr cmake pkg-config git python3-yaml python3-jinja2 liblwip-dev iproute2 gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "${1:-}" = "--check" ]; then
    echo "missing Debian packages:$missing" >&2
    exit 1
fi
echo "installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || exit 1
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || exit 1

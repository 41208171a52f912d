#!/bin/sh
# scripts/deps.sh [--check] [GROUP...]: the Debian packages a make target
# needs, installed when missing (as root, or through sudo), checked only
# with --check. Groups (default: test):
#   demo   `make demo` and `make utmstack`: a C compiler, mbedTLS, jsmn, python3, openssl
#   test   `make test` and the CI: demo, chip, and the suites' tools (clang, valgrind, lwIP...)
#   chip   `make size`, `make test-qemu`, `make test-rtos`: the Arm and RISC-V compilers, qemu
#   bench  `make bench`: nginx, libcurl, curl
set -u
CHECK=
if [ "${1:-}" = --check ]; then CHECK=1; shift; fi
[ $# -eq 0 ] && set -- test
DEMO="gcc make libc6-dev libmbedtls-dev libjsmn-dev python3 openssl"
CHIP="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
      qemu-system-misc cmake python3-jinja2"
TEST="$DEMO $CHIP build-essential g++ clang libclang-rt-14-dev ca-certificates time valgrind gcovr pkg-config git
      python3-yaml liblwip-dev iproute2 groff-base bash"
BENCH="$DEMO nginx libcurl4-openssl-dev curl bc valgrind zlib1g-dev"
PACKAGES=""
for g in "$@"; do
    case $g in
        demo) PACKAGES="$PACKAGES $DEMO" ;;
        test) PACKAGES="$PACKAGES $TEST" ;;
        chip) PACKAGES="$PACKAGES $DEMO $CHIP" ;;
        bench) PACKAGES="$PACKAGES $BENCH" ;;
        *) echo "deps.sh: no group $g (demo, test, chip, bench)" >&2; exit 2 ;;
    esac
done
missing=""
for p in $PACKAGES; do
    case " $missing " in *" $p "*) continue ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ -n "$CHECK" ]; then
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

#!/bin/sh
# mcu/rtos/freertos_source.sh: the FreeRTOS kernel and FreeRTOS-Plus-TCP
# V4.4.1 sources for the RTOS firmware, unpacked once into
# third_party/src/freertos (git-ignored) from ../shared/third_party (checked
# against SHA256SUMS there where it lists them), with one fix applied to our copy (below); prints
# that directory. Exit 0 ready, 2 no sources here (say so, run nothing).
#
# The fix: V4.4.1's LAN9118 driver (ether_lan9118/smsc9220_eth_drv.c) reads
# one more 32-bit word from the RX data FIFO after every frame, also when the
# frame's length is a multiple of 4 and there are no remainder bytes; when a
# second frame is already queued, that read eats its first word and the frame
# is lost (seen on qemu's mps2-an386 as 1.5 s retransmission stalls). Our copy
# reads that word only when there are remainder bytes.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
OUT=$ROOT/third_party/src/freertos
SHARED=${UTM_THIRD_PARTY:-$ROOT/../shared/third_party}
KERNEL=FreeRTOS-Kernel-4269c69a.tar.gz
TCP=FreeRTOS-Plus-TCP-V4.4.1.tar.gz
if [ -f "$OUT/.done" ]; then echo "$OUT"; exit 0; fi
for f in $KERNEL $TCP; do
    if [ ! -f "$SHARED/$f" ]; then
        echo "freertos_source: no $SHARED/$f" >&2
        exit 2
    fi
    # (checked where SHA256SUMS lists it; the FreeRTOS archives are not listed today)
    if grep -q " $f\$" "$SHARED/SHA256SUMS" 2>/dev/null &&
        ! (cd "$SHARED" && grep " $f\$" SHA256SUMS | sha256sum -c --quiet -) >&2; then
        echo "freertos_source: $SHARED/$f does not match SHA256SUMS" >&2
        exit 1
    fi
done
rm -rf "$OUT" && mkdir -p "$OUT" || exit 1
tar xzf "$SHARED/$KERNEL" -C "$OUT" && tar xzf "$SHARED/$TCP" -C "$OUT" || exit 1
DRV=$OUT/FreeRTOS-Plus-TCP/source/portable/NetworkInterface/MPS2_AN385/ether_lan9118/smsc9220_eth_drv.c
python3 - "$DRV" <<'PY' || exit 1
import sys
p = sys.argv[1]
s = open(p).read()
old = """    rx_data_port_tmp = register_map->rx_data_port;

    for( uint32_t i = 0; i < remainder_bytes; i++ )
    {
        data[ i ] = rx_data_port_tmp_ptr[ i ];
    }"""
new = """    if( remainder_bytes > 0 ) /* utmstack: no extra read after a whole-word frame */
    {
        rx_data_port_tmp = register_map->rx_data_port;

        for( uint32_t i = 0; i < remainder_bytes; i++ )
        {
            data[ i ] = rx_data_port_tmp_ptr[ i ];
        }
    }"""
if s.count(old) != 1:
    sys.exit("freertos_source: the LAN9118 driver is not the V4.4.1 one expected; not patched")
open(p, "w").write(s.replace(old, new))
PY
touch "$OUT/.done"
echo "$OUT"

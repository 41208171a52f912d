#!/usr/bin/env python3
"""mcu/size.py [--check README.md] [stack=FILE.su] NAME=MAP...: flash and RAM
of each linked image, split by who brought the bytes, from the GNU ld map
file: utmstack.h (with jsmn; its own object, mcu/utmstack_impl.c), mbedTLS,
the C library and the compiler's runtime, and the firmware itself
(mcu/firmware.c, the startup). Flash = text + rodata + initialised data; RAM =
data + bss (static; the stack and the heap are measured by running the
firmware, make test-qemu). With stack=, the largest frames gcc -fstack-usage
found; with --check, the README's table, which must be in FILE as it is."""
import os
import re
import sys

PARTS = ["utmstack.h + jsmn", "mbedTLS (lean config)", "libc + libgcc", "firmware + startup"]
# the RTOS firmware's two more parts (mcu/rtos/), in a table of their own
RTOS = ["FreeRTOS kernel", "FreeRTOS-Plus-TCP + LAN9118"]
WHOLE = "whole image"
# the goals for the library's own bytes (utmstack.h + jsmn, Cortex-M4 -Os),
# "Small on the chip": printed beside what each image measures, and checked
# against the README with the rest (a goal missed shows by how much)
GOALS = [("Cortex-M4, key + utm_request, server texts", 8192),
         ("Cortex-M0+, key + utm_request, server texts", 8192),
         ("Cortex-M4, key + utm_request, no texts", 7700),
         ("Cortex-M4, login + search, every text", 18 * 1024),
         ("Cortex-M4, everything, every text", 20 * 1024)]
KINDS = {".text": "text", ".ARM.exidx": "text", ".rodata": "text", ".srodata": "text",
         ".data": "data", ".sdata": "data", ".bss": "bss", ".sbss": "bss"}
ENTRY = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")


def part_of(obj):
    if "utmstack_impl" in obj:
        return PARTS[0]
    if "libmbedtls" in obj:
        return PARTS[1]
    if "libfreertos-kernel" in obj:
        return RTOS[0]
    if "libfreertos-tcp" in obj:
        return RTOS[1]
    if "firmware" in obj or "startup" in obj or "crt0" in obj:
        return PARTS[3]
    return PARTS[2]


def measure(path):
    """{part: {text, data, bss}} from the map's memory map section."""
    sizes = {p: {"text": 0, "data": 0, "bss": 0} for p in PARTS + RTOS + [WHOLE]}
    out, pending, started = None, None, False
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if not started:
            started = line.startswith("Linker script and memory map")
            continue
        if line and not line.startswith(" "):  # an output section: its size, padding included
            f = line.split()
            out = f[0]
            if out in KINDS and len(f) >= 3:
                sizes[WHOLE][KINDS[out]] += int(f[2], 16)
            continue
        if out not in KINDS:
            continue
        m = ENTRY.match(line)  # an input section, its name on this line or the one before
        name = (m.group(1) or pending) if m else None
        pending = line.strip() if line.startswith(" .") and len(line.split()) == 1 else None
        if name and not name.startswith("*") and not name.startswith(".debug"):
            sizes[part_of(m.group(4))][KINDS[out]] += int(m.group(3), 16)
    return sizes


def flash(v):
    return v["text"] + v["data"]


def ram(v):
    return v["data"] + v["bss"]


def main():
    args = sys.argv[1:]
    check = args[args.index("--check") + 1] if "--check" in args else None
    maps = [a.split("=", 1) for a in args if "=" in a and not a.startswith("stack=") and a != check]
    missing = [label for label, path in maps if not os.path.exists(path)]
    for label in missing:  # an optional image whose sources were absent (mbedTLS 4.0)
        print("size: %s NOT MEASURED: no map (its sources were not there); its README row is not checked" % label)
    images = [(label, measure(path)) for label, path in maps if label not in missing]
    print("%-24s %-22s %8s %8s %8s %6s %7s" % ("target", "part", "flash", "RAM", "text", "data", "bss"))
    for label, s in images:
        for p in PARTS + [p for p in RTOS if ram(s[p]) + flash(s[p])] + [WHOLE]:
            v = s[p]
            print("%-24s %-22s %8d %8d %8d %6d %7d" % (label, p, flash(v), ram(v), v["text"], v["data"], v["bss"]))
    for su in (a[6:] for a in args if a.startswith("stack=")):
        frames = []
        for line in open(su, encoding="utf-8"):
            where, size, _ = line.rstrip("\n").split("\t")
            frames.append((int(size), where.split(":")[-1]))
        frames.sort(reverse=True)
        print("\nlargest stack frames in utmstack.h (%s, gcc -fstack-usage):" % su)
        print("  " + ", ".join("%s %d" % (f, n) for n, f in frames[:8]))
    if not check:
        return
    bare = [(label, s) for label, s in images if not any(flash(s[p]) for p in RTOS)]
    rtos = [(label, s) for label, s in images if any(flash(s[p]) for p in RTOS)]
    table = "\n".join(["| target | utmstack.h + jsmn | mbedTLS (lean config) | libc + libgcc | firmware + startup "
                       "| whole image: flash | RAM (static) |", "|---|---:|---:|---:|---:|---:|---:|"] +
                      ["| %s | **%d** | %d | %d | %d | **%d** | %d |" %
                       ((label,) + tuple(flash(s[p]) for p in PARTS) + (flash(s[WHOLE]), ram(s[WHOLE])))
                       for label, s in bare])
    measured = dict(bare)
    goals = [(label, flash(measured[label][PARTS[0]]), limit) for label, limit in GOALS if label in measured]
    if goals:
        table += "\n\n" + "\n".join(
            ["| goal: the library's own bytes | measured | at most | over by |", "|---|---:|---:|---:|"] +
            ["| %s | %d | %d | %s |" % (label, have, limit, "%d" % (have - limit) if have > limit else "met")
             for label, have, limit in goals])
    if rtos:  # flash / static RAM per part (the kernel's RAM is its heap, mbedTLS's included)
        table += "\n\n" + "\n".join(
            ["| FreeRTOS firmware | utmstack.h + port + jsmn | mbedTLS (lean config) | FreeRTOS kernel "
             "| FreeRTOS-Plus-TCP + LAN9118 | libc + libgcc | firmware + startup | whole image |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"] +
            ["| %s | " % label + " | ".join("%d / %d" % (flash(s[p]), ram(s[p]))
                                           for p in PARTS[:2] + RTOS + PARTS[2:] + [WHOLE]) + " |"
             for label, s in rtos])
    print("\n" + table)
    text = open(check, encoding="utf-8").read()
    begin, end = "<!-- make size -->\n", "\n<!-- /make size -->"
    have = text[text.find(begin) + len(begin):text.find(end)] if begin in text and end in text else None
    if have is not None:
        have = "\n".join(row for row in have.split("\n") if not any(row.startswith("| %s |" % m) for m in missing))
        if not rtos:  # no RTOS image measured (no FreeRTOS sources): its table is not checked
            have = "\n\n".join(t for t in have.split("\n\n") if not t.startswith("| FreeRTOS firmware"))
    if have != table:
        print("size: %s does not show these figures (paste the table above between its "
              "<!-- make size --> markers)" % check)
        sys.exit(1)
    print("size: %s shows the same figures" % check)


if __name__ == "__main__":
    main()

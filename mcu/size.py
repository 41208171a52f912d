#!/usr/bin/env python3
"""mcu/size.py [--markdown [--check README.md]] NAME=MAP... [stack=FILE.su]: flash and RAM of each linked image,
split by who brought the bytes, from the GNU ld map file: utmstack.h (with
jsmn; its own object, mcu/utmstack_impl.c), mbedTLS, the C library and the
compiler's runtime, and the firmware itself (mcu/firmware.c, the startup).
Flash = text + rodata + initialised data; RAM = data + bss (static; the stack
and the heap are measured by running the firmware, make test-qemu)."""
import re
import sys

PARTS = ["utmstack.h + jsmn", "mbedTLS (lean config)", "libc + libgcc", "firmware + startup"]
ENTRY = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")


def part_of(obj):
    if "utmstack_impl" in obj:
        return PARTS[0]
    if "libmbedtls" in obj:
        return PARTS[1]
    if "firmware" in obj or "startup" in obj or "crt0" in obj:
        return PARTS[3]
    return PARTS[2]


def measure(path):
    sizes = {p: {"text": 0, "data": 0, "bss": 0} for p in PARTS + ["whole image"]}
    out, pending, started = None, None, False
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("Linker script and memory map"):
            started = True
            continue
        if not started:
            continue
        kinds = {".text": "text", ".ARM.exidx": "text", ".data": "data", ".bss": "bss",
                 ".rodata": "text", ".srodata": "text", ".sdata": "data", ".sbss": "bss"}
        if line and not line.startswith(" "):
            f = line.split()
            out = f[0]
            if out in kinds and len(f) >= 3:  # the output section, padding included
                sizes["whole image"][kinds[out]] += int(f[2], 16)
            continue
        kind = kinds.get(out)
        if kind is None:
            pending = None
            continue
        m = ENTRY.match(line)
        if m and m.group(1) is None and pending:
            name = pending
        elif m and m.group(1) and not m.group(1).startswith("*"):
            name = m.group(1)
        else:
            pending = line.strip() if line.startswith(" .") and len(line.split()) == 1 else None
            continue
        pending = None
        if "(" in m.group(4) and m.group(4).lstrip().startswith("0x"):
            continue
        size = int(m.group(3), 16)
        if size and not name.startswith(".debug"):
            sizes[part_of(m.group(4))][kind] += size
    return sizes


def main():
    args = sys.argv[1:]
    md = "--markdown" in args
    check = args[args.index("--check") + 1] if "--check" in args else None
    images = [a.split("=", 1) for a in args if "=" in a and not a.startswith("stack=") and a != check]
    stacks = [a[6:] for a in args if a.startswith("stack=")]
    rows = []
    for label, path in images:
        s = measure(path)
        for p in PARTS + ["whole image"]:
            v = s[p]
            rows.append((label, p, v["text"] + v["data"], v["data"] + v["bss"], v["text"], v["data"], v["bss"]))
    if md:  # one row per target: the README's table (--check FILE compares it)
        out = ["| target | utmstack.h + jsmn | mbedTLS (lean config) | libc + libgcc | firmware + startup "
               "| whole image: flash | RAM (static) |", "|---|---:|---:|---:|---:|---:|---:|"]
        for i in range(0, len(rows), len(PARTS) + 1):
            r = rows[i:i + len(PARTS) + 1]
            out.append("| %s | **%d** | %d | %d | %d | **%d** | %d |" % (r[0][0], r[0][2], r[1][2], r[2][2], r[3][2],
                                                                     r[4][2], r[4][3]))
        table = "\n".join(out)
        print(table)
        if check:
            text = open(check, encoding="utf-8").read()
            begin, end = "<!-- make size -->\n", "\n<!-- /make size -->"
            have = text[text.find(begin) + len(begin):text.find(end)] if begin in text and end in text else None
            if have != table:
                print("size: %s does not show these figures (paste the table above between its "
                      "<!-- make size --> markers)" % check)
                sys.exit(1)
            print("size: %s shows the same figures" % check)
    else:
        print("%-24s %-22s %8s %8s %8s %6s %7s" % ("target", "part", "flash", "RAM", "text", "data", "bss"))
        for r in rows:
            print("%-24s %-22s %8d %8d %8d %6d %7d" % r)
    for su in stacks:  # gcc -fstack-usage: the largest frames of the library's functions
        frames = []
        for line in open(su, encoding="utf-8"):
            where, size, kind = line.rstrip("\n").split("\t")
            frames.append((int(size), where.split(":")[-1], kind))
        frames.sort(reverse=True)
        print("\nlargest stack frames in utmstack.h (%s, gcc -fstack-usage):" % su)
        print("  " + ", ".join("%s %d" % (f, n) for n, f, _ in frames[:8]))


if __name__ == "__main__":
    main()

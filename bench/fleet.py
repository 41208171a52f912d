#!/usr/bin/env python3
"""`make fleet`: a fleet of devices against one emulated UTMStack server.

Runs bench/fleet (N threads, each its own utm_client_t) against
tests/emulator.py with short token lifetimes, in four scenarios, each twice:
with the library as it is ("now") and with what a device did before
("before": every call logs in again after a refusal, renewal at a fixed
margin, a fixed 1 s retry loop). A fresh emulator per run; the emulator's
event log gives the figures. Prints a Markdown table (README's fleet table).

  python3 bench/fleet.py BUILD_DIR [--devices N] [--quick]
"""
import argparse
import collections
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Run:
    def __init__(self, a, tmp, name, lifetime, seconds, shared=False):
        self.a, self.tmp, self.name, self.seconds, self.shared = a, tmp, name, seconds, shared
        pf = os.path.join(tmp, "port")
        if os.path.exists(pf):
            os.remove(pf)
        self.emu = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "emulator.py"), "--port-file", pf,
                                     "--cert", os.path.join(tmp, "pki", "server.pem"),
                                     "--key", os.path.join(tmp, "pki", "server.key"),
                                     "--token-lifetime", str(lifetime), "--events", "--alerts", "10"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(pf) and open(pf).read().strip():
                break
            time.sleep(0.1)
        self.port = int(open(pf).read())

    def control(self, path, body=None):
        ctx = ssl.create_default_context(cafile=os.path.join(self.tmp, "pki", "ca.pem"))
        req = urllib.request.Request("https://localhost:%d/_emulator/%s" % (self.port, path),
                                     data=None if body is None else json.dumps(body).encode(),
                                     method="GET" if body is None else "POST")
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return json.loads(r.read())

    def go(self, mode, at=None):
        """Run the fleet; at: [(seconds after start, control path, body)]."""
        cmd = [os.path.join(self.a.build, "fleet"), str(self.port), os.path.join(self.tmp, "pki", "ca.pem"),
               str(self.a.devices), str(self.seconds), mode, "1000"] + (["shared"] if self.shared else [])
        self.t0 = time.time() + 0.5  # the fleet boots half a second after it starts
        fleet = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.marks = {}
            for when, path, body in at or []:
                time.sleep(max(0, self.t0 + when - time.time()))
                self.marks[path] = time.time()
                self.control(path, body)
            out, err = fleet.communicate(timeout=self.seconds + 120)
            if fleet.returncode != 0:
                sys.exit("fleet failed: %s%s" % (out, err))
            self.summary = out.strip()
            self.events = [e for e in self.control("events") if not e[2].startswith("/_emulator/")]
        finally:
            fleet.kill()
            self.emu.kill()
            self.emu.wait()
        return self

    # ---- figures ----------------------------------------------------------
    def logins(self):
        return [e for e in self.events if e[2] == "/api/authenticate"]

    def per_second(self, events, after=0.0):
        bins = collections.Counter(int(e[0] - self.t0) for e in events if e[0] - self.t0 >= after)
        span = max(1, int(self.seconds - after))
        return max(bins.values() or [0]), sum(bins.values()) / span

    def failures(self):
        failed = [e for e in self.logins() if e[3] == 401]
        per_ip = collections.Counter(e[1] for e in failed)
        locked = {e[1] for e in self.events if e[3] == 423}
        return len(failed), max(per_ip.values() or [0]), len(locked), sum(1 for e in self.events if e[3] == 423)

    def outage(self, start, end):
        during = [e for e in self.events if start <= e[0] <= end]
        first_ok = {}
        for e in self.events:
            if e[0] > end and e[3] == 200 and e[2] == "/api/account":
                first_ok.setdefault(e[1], e[0])
        devices = {e[1] for e in self.events}
        back = max(first_ok.values()) - end if len(first_ok) == len(devices) else None
        return len(during), back


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="shorter runs (a smoke test, not the README figures)")
    a = ap.parse_args()
    if not 1 <= a.devices <= 1000:
        sys.exit("fleet: --devices 1..1000")
    k = 0.5 if a.quick else 1.0
    tmp = tempfile.mkdtemp(prefix="utm-fleet.")
    rows = []
    try:
        subprocess.run(["sh", os.path.join(ROOT, "tests", "mkcerts.sh"), os.path.join(tmp, "pki")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t_all = time.time()
        n = a.devices
        for mode in ("before", "now"):
            # 1. boot together, run two token lifetimes
            r = Run(a, tmp, "boot", 20, 40 * k).go(mode)
            boot_peak, _ = r.per_second(r.logins())
            renew_peak, renew_mean = r.per_second(r.logins(), after=3)
            rows.append((1, mode, "login attempts/s at boot %d; in renewals peak %d, mean %.1f" %
                         (boot_peak, renew_peak, renew_mean)))
            # 2. the password changed on the server 3 s in (tokens last 10 s)
            for shared in (False, True):
                r = Run(a, tmp, "password", 10, 20 * k, shared).go(
                    mode, [(3, "password", {"user": "admin", "password": "changed-Passw0rd"})])
                failed, most, locked_ips, answers423 = r.failures()
                rows.append((3 if shared else 2, mode,
                             "failed logins %d (most from one address %d); addresses locked %d; 423 answers %d; "
                             "login attempts %d" % (failed, most, locked_ips, answers423, len(r.logins()))))
            # 3. 503 with Retry-After: 3 for 10 s, 4 s in
            r = Run(a, tmp, "outage", 86400, 22 * k)
            r.go(mode, [(4, "fault", {"fault": "unavailable", "seconds": 3, "for": 10 * k})])
            start = r.marks["fault"]
            during, back = r.outage(start, start + 10 * k)
            rows.append((4, mode, "requests during the outage %d (%.1f per device); every device back %s after" %
                         (during, during / n, "never" if back is None else "%.1f s" % back)))
        took = time.time() - t_all
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    names = {1: "boot together, tokens of 20 s, %d s" % (40 * k),
             2: "password changed on the server, own addresses",
             3: "password changed on the server, one NAT address",
             4: "503 + Retry-After: 3 for %d s" % (10 * k)}
    print("| %d devices | before (every call logs in again, fixed margin, 1 s retries) | now |" % n)
    print("|---|---|---|")
    for s in sorted(names):
        got = {m: t for (sc, m, t) in rows if sc == s}
        print("| %s | %s | %s |" % (names[s], got["before"], got["now"]))
    print("\nfleet: %d devices, 8 runs in %.0f s" % (n, took))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""`make bench`: utmstack.h against libcurl on the same nginx, in the same run.

Starts nginx on 127.0.0.1 (TLS, EC P-256 certificate from a throwaway CA,
keep-alive) serving UTMStack's login and search from static answers, runs
every client alternately several times per scenario, and reports medians as
utmstack/peer ratios (these machines are noisy: ratios hold, absolutes drift).
Writes bench/RESULTS.md. Peers: libcurl over OpenSSL (Debian's), libcurl
over mbedTLS 2.28 (built from Debian's curl source by build_curl_mbedtls.sh,
outside the tree) and the `curl` command run once per request.

  python3 bench/run.py [--runs R] [--quick] [--dir DIR]
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KEY = "bench-internal-key"


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, capture_output=True, text=True, **kw).stdout


class Bench:
    def __init__(self, a):
        self.a = a
        self.dir = a.dir
        self.port = a.port
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        self.nginx_pid = None

    # ---- setup -------------------------------------------------------------
    def setup(self):
        d = self.dir
        self.token = sh([sys.executable, os.path.join(HERE, "mkdata.py"), d]).strip()
        sh(["sh", os.path.join(ROOT, "tests", "mkcerts.sh"), os.path.join(d, "pki")])
        shutil.copy(os.path.join(d, "pki", "server.pem"), d)
        shutil.copy(os.path.join(d, "pki", "server.key"), d)
        self.ca = os.path.join(d, "pki", "ca.pem")
        conf = open(os.path.join(HERE, "nginx.conf.in")).read()
        for k, v in (("@DIR@", d), ("@PORT@", str(self.port)), ("@TOKEN@", self.token), ("@KEY@", KEY)):
            conf = conf.replace(k, v)
        # the same server again on the next port, TLS 1.2 only (4.0 against 1.2)
        block = conf[conf.index("    server {"):conf.rindex("}")]
        self.port12 = self.port + 1
        conf = conf[:conf.rindex("}")] + block.replace("127.0.0.1:%d " % self.port, "127.0.0.1:%d " % self.port12).replace(
            "ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1.2;") + "}\n"
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(conf)
        for k in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(d, "tmp", k), exist_ok=True)
        subprocess.run(["nginx", "-c", os.path.join(d, "nginx.conf"), "-p", d], check=True)
        for _ in range(50):
            if os.path.exists(os.path.join(d, "nginx.pid")):
                break
            time.sleep(0.1)
        self.nginx_pid = int(open(os.path.join(d, "nginx.pid")).read())
        self.clients = {"utmstack": [os.path.join(ROOT, "build", "utmstack_bench")],
                        "libcurl+openssl": [os.path.join(ROOT, "build", "curl_bench_openssl")]}
        mb = os.path.join(ROOT, "build", "curl_bench_mbedtls")
        if os.path.exists(mb):
            self.clients["libcurl+mbedtls"] = [mb]
        self.clients["curl command"] = ["sh", os.path.join(HERE, "curl_cmd_bench.sh")]
        # ours built on mbedTLS 4.0 (make bench builds it where the sources are)
        v4 = os.path.join(ROOT, "build", "utmstack_bench_mbedtls4")
        self.ours4 = {"utmstack on mbedTLS 4.0": [v4]} if os.path.exists(v4) else {}

    def stop(self):
        if self.nginx_pid:
            try:
                os.kill(self.nginx_pid, 15)
            except ProcessLookupError:
                pass

    # ---- one run -------------------------------------------------------------
    def args(self, mode="apikey", n=100, size=25, extra=()):
        return ["--host", "127.0.0.1", "--port", str(self.port), "--ca", self.ca, "--servername", "localhost",
                "--mode", mode, "--requests", str(n), "--size", str(size), "--api-key", KEY] + list(extra)

    def run(self, client, args, wrap=()):
        """(summary dict, cpu seconds, peak RSS KiB, nginx connections/reused) of one client run."""
        log = os.path.join(self.dir, "access.log")
        before = os.path.getsize(log) if os.path.exists(log) else 0
        rss_file = os.path.join(self.dir, "rss")
        cmd = ["/usr/bin/time", "-o", rss_file, "-f", "%M"] + list(wrap) + self.clients[client] + args
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError("%s %s failed: %s %s" % (client, " ".join(args), out, err[-500:]))
        line = out.strip().splitlines()[-1]
        summary = dict(kv.split("=", 1) for kv in line.split())
        rss = int(open(rss_file).read().split()[-1])
        conns, reused = self.nginx_connections(log, before)
        return summary, rss, conns, reused

    def nginx_connections(self, log, offset):
        time.sleep(0.05)
        seen = {}
        with open(log) as f:
            f.seek(offset)
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    seen[parts[0]] = parts[2] == "r"
        return len(seen), sum(seen.values())

    def cpu_run(self, client, args):
        """CPU seconds (user + system) of the client process itself."""
        p = subprocess.Popen(self.clients[client] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        out = p.stdout.read().decode()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("%s failed: %s" % (client, out))
        summary = dict(kv.split("=", 1) for kv in out.strip().split())
        return summary, ru.ru_utime + ru.ru_stime

    # ---- callgrind -----------------------------------------------------------
    # TLS entry points whose inclusive cost is "the TLS library" (so libc calls
    # made inside TLS count as TLS; the socket callbacks inside them too).
    TLS_ENTRY = re.compile(r":(mbedtls_ssl_(read|write|handshake|close_notify|session_reset|setup|get_session|"
                           r"set_session|set_hostname|config_defaults|free|config_free)|mbedtls_x509_crt_parse\w*|"
                           r"mbedtls_ctr_drbg_seed|mbedtls_pk_parse_key|mbedtls_x509_crt_free|"
                           r"SSL_(read|write|connect|do_handshake|shutdown|new|free|peek|pending|read_ex|write_ex)|"
                           r"SSL_CTX_(new|free|load_verify_locations|load_verify_file)|OPENSSL_init_ssl) ")

    def instructions(self, client, args):
        """(total Ir, Ir inside the TLS library's API calls) of one run under callgrind."""
        out = os.path.join(self.dir, "cg.out")
        prog = self.clients[client] if client in self.clients else self.ours4[client]
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + prog + args
        subprocess.run(cmd, check=True, capture_output=True)
        ann = sh(["callgrind_annotate", "--threshold=100", "--inclusive=yes", out])
        total = int(re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", ann).group(1).replace(",", ""))
        tls = 0
        for line in ann.splitlines():
            m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+ )", line)
            if m and self.TLS_ENTRY.search(m.group(2)):
                tls += int(m.group(1).replace(",", ""))
        return total, tls

    def per_request(self, client, mode, size, extra=(), n1=4, n2=24, port=None):
        def at(n):
            args = self.args(mode, n, size, extra)
            if port:
                args[args.index("--port") + 1] = str(port)
            return self.instructions(client, args)
        t1, s1 = at(n1)
        t2, s2 = at(n2)
        return (t2 - t1) / (n2 - n1), (s2 - s1) / (n2 - n1)

    def peak_heap(self, client, args):
        out = os.path.join(self.dir, "massif.out")
        subprocess.run(["valgrind", "--tool=massif", "--massif-out-file=" + out] + self.clients[client] + args,
                       check=True, capture_output=True)
        return max(int(m) for m in re.findall(r"mem_heap_B=(\d+)", open(out).read()))


def median(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="alternating runs per scenario (medians)")
    ap.add_argument("--quick", action="store_true", help="few requests, for a smoke test")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "utmstack-bench", "run"))
    ap.add_argument("--port", type=int, default=18443)
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    a = ap.parse_args()
    shutil.rmtree(a.dir, ignore_errors=True)
    b = Bench(a)
    b.setup()
    q = 0.2 if a.quick else 1.0
    lines = []
    say = lambda s="": (print(s), lines.append(s))  # noqa: E731
    try:
        peers = [c for c in b.clients if c not in ("utmstack", "curl command")]
        scen = [
            ("keep-alive, apikey, 25 docs", "apikey", 25, (), int(600 * q)),
            ("keep-alive, bearer, 25 docs", "bearer", 25, (), int(600 * q)),
            ("keep-alive, apikey, 1000 docs", "apikey", 1000, (), int(60 * q)),
            ("keep-alive, apikey, 1000 docs, chunked", "apikey", 1000, ("--chunked",), int(60 * q)),
            ("new connection each, resumed", "apikey", 25, ("--no-reuse",), int(150 * q)),
            ("new connection each, full handshakes", "apikey", 25, ("--no-reuse", "--no-resume"), int(60 * q)),
        ]
        say("# Benchmark results")
        say()
        say("Written by `make bench` (bench/run.py) on %s." % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
        say("Machine: %s, %d cores, %s; %s; %s; nginx %s." % (
            platform.machine(), os.cpu_count(), platform.platform(),
            sh("cc --version").splitlines()[0], sh(["curl", "--version"]).splitlines()[0].split(" (")[0],
            subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]))
        say("Clients: %s. Medians of %d alternating runs; ratios are utmstack / peer." % (", ".join(b.clients), a.runs))
        say()
        say("## Requests per second and client CPU per request")
        say()
        say("| scenario | requests | client | req/s | CPU µs/req | connects | TLS resumed | ours/peer req/s | ours/peer CPU |")
        say("|---|---|---|---|---|---|---|---|---|")
        for name, mode, size, extra, n in scen:
            res = {c: {"rps": [], "cpu": []} for c in b.clients if c != "curl command"}
            meta = {}
            for _ in range(a.runs):
                for c in res:
                    s, cpu = b.cpu_run(c, b.args(mode, n, size, extra))
                    if int(s["ok"]) != n:
                        raise RuntimeError("%s: %s" % (c, s))
                    res[c]["rps"].append(n / float(s["seconds"]))
                    res[c]["cpu"].append(cpu / n * 1e6)
            for c in res:
                s, rss, conns, reused = b.run(c, b.args(mode, n, size, extra))
                meta[c] = (s["connects"], reused, conns)
            ours_rps, ours_cpu = median(res["utmstack"]["rps"]), median(res["utmstack"]["cpu"])
            for c in res:
                rps, cpu = median(res[c]["rps"]), median(res[c]["cpu"])
                ratio = "" if c == "utmstack" else "%.2f" % (ours_rps / rps)
                cratio = "" if c == "utmstack" else "%.2f" % (ours_cpu / cpu)
                say("| %s | %d | %s | %.0f | %.0f | %s | %d of %d | %s | %s |" % (
                    name, n, c, rps, cpu, meta[c][0], meta[c][1], meta[c][2], ratio, cratio))
        # the curl command, once per request
        n = int(20 * q) or 5
        cmd_rps = median([n / float(b.run("curl command", b.args("apikey", n, 25))[0]["seconds"]) for _ in range(3)])
        ours = median([int(600 * q) / float(b.cpu_run("utmstack", b.args("apikey", int(600 * q), 25))[0]["seconds"])
                       for _ in range(3)])
        say()
        say("The `curl` command once per request (keep-alive impossible): %.1f req/s; utmstack.h kept alive: "
            "%.0f req/s, **%.0fx** (target: at least 50x)." % (cmd_rps, ours, ours / cmd_rps))
        # instructions
        say()
        say("## Instructions per request (callgrind, deterministic)")
        say()
        say("Keep-alive search, `apikey` mode; per request = (I(24 requests) - I(4 requests)) / 20. "
            "TLS = instructions in functions of the TLS library (mbedtls_*, libssl/libcrypto).")
        say()
        say("| page | client | instructions/req | of which TLS | outside TLS | ours/peer total | ours/peer outside TLS |")
        say("|---|---|---|---|---|---|---|")
        ir = {}
        for size in (25, 1000):
            for c in ["utmstack"] + peers:
                ir[(c, size)] = b.per_request(c, "apikey", size)
            for c in ["utmstack"] + peers:
                tot, tls = ir[(c, size)]
                o_tot, o_tls = ir[("utmstack", size)]
                r1 = "" if c == "utmstack" else "%.2f" % (o_tot / tot)
                r2 = "" if c == "utmstack" else "%.2f" % ((o_tot - o_tls) / max(1, tot - tls))
                say("| %d docs | %s | %.0f | %.0f (%.0f%%) | %.0f | %s | %s |" % (
                    size, c, tot, tls, 100.0 * tls / tot, tot - tls, r1, r2))
        # parsing
        say()
        say("## Parsing every document (utmstack `--parse`: splitter + jsmn per document)")
        say()
        say("| page | docs/s | parse instructions per body byte | mbedTLS decrypt instructions per body byte | ratio |")
        say("|---|---|---|---|---|")
        for size, n in ((25, int(600 * q)), (1000, int(60 * q))):
            dps = median([float(b.cpu_run("utmstack", b.args("apikey", n, size, ("--parse",)))[0]["docs_per_second"])
                          for _ in range(a.runs)])
            plain_tot, plain_tls = ir[("utmstack", size)]
            parse_tot, _ = b.per_request("utmstack", "apikey", size, ("--parse",))
            body = os.path.getsize(os.path.join(a.dir, "static", "search-%d.json" % size))
            per_byte = (parse_tot - plain_tot) / body
            tls_byte = plain_tls / body
            say("| %d docs | %.0f | %.1f | %.1f | %.2f |" % (size, dps, per_byte, tls_byte, per_byte / tls_byte))
        # handshakes
        say()
        say("## Full handshake, client cost (callgrind)")
        say()
        say("Per connection with `--no-reuse --no-resume` minus a keep-alive request.")
        say()
        say("| client | instructions per full handshake | ours/peer |")
        say("|---|---|---|")
        hs = {}
        for c in ["utmstack"] + peers:
            tot, _ = b.per_request(c, "apikey", 25, ("--no-reuse", "--no-resume"), 2, 6)
            hs[c] = tot - ir[(c, 25)][0]
        for c in hs:
            say("| %s | %.0f | %s |" % (c, hs[c], "" if c == "utmstack" else "%.2f" % (hs["utmstack"] / hs[c])))
        # ours on mbedTLS 4.0 against ours on 2.28, and 4.0's TLS 1.3 against its TLS 1.2
        say()
        say("## utmstack.h on mbedTLS 4.0 (callgrind)")
        say()
        if not b.ours4:
            say("NOT RUN: no build/utmstack_bench_mbedtls4 (no mbedTLS 4.0.0 sources).")
        else:
            say("The same client built on upstream mbedTLS 4.0.0 (TF-PSA-Crypto 1.0.0, default configuration) "
                "and on Debian's 2.28 (TLS 1.2 only). nginx offers TLS 1.3 on one port and only 1.2 on another. "
                "Per request as above; a handshake is the connection's cost minus a keep-alive request.")
            say()
            say("| instructions | ours on 2.28, TLS 1.2 | ours on 4.0, TLS 1.3 | 4.0 / 2.28 | ours on 4.0, TLS 1.2 | "
                "4.0: TLS 1.3 / 1.2 |")
            say("|---|---|---|---|---|---|")
            v4 = "utmstack on mbedTLS 4.0"
            cols = [("utmstack", None), (v4, None), (v4, b.port12)]
            keep = [b.per_request(c, "apikey", 25, port=p)[0] for c, p in cols]
            rows = [("per kept-alive search, 25 docs", keep)]
            for name, extra in (("per resumed reconnect", ("--no-reuse",)),
                                ("per full handshake", ("--no-reuse", "--no-resume"))):
                rows.append((name, [b.per_request(c, "apikey", 25, extra, 2, 6, port=p)[0] - k
                                    for (c, p), k in zip(cols, keep)]))
            for name, (a28, a40, a4012) in rows:
                say("| %s | %.0f | %.0f | %.2f | %.0f | %.2f |" % (name, a28, a40, a40 / a28, a4012, a40 / a4012))
        # memory
        say()
        say("## Memory")
        say()
        say("| client | peak heap, 25 docs | peak heap, 1000 docs | peak RSS, 1000 docs | ours/peer heap |")
        say("|---|---|---|---|---|")
        heaps = {}
        for c in ["utmstack"] + peers:
            h25 = b.peak_heap(c, b.args("apikey", 5, 25))
            h1k = b.peak_heap(c, b.args("apikey", 5, 1000))
            rss = b.run(c, b.args("apikey", 20, 1000))[1]
            heaps[c] = h1k
            say("| %s | %d KiB | %d KiB | %d KiB | %s |" % (c, h25 // 1024, h1k // 1024, rss,
                                                          "" if c == "utmstack" else "%.2f" % (heaps["utmstack"] / h1k)))
    finally:
        b.stop()
    with open(a.results, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\nwritten to %s" % a.results)


if __name__ == "__main__":
    main()

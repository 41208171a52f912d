#!/usr/bin/env python3
"""Writes the benchmark server's static answers into DIR: realistic alert
documents (the emulator's generator) for 25 and 1,000 document pages, and a
fixed login answer with a JWT that expires in a year."""
import base64
import importlib.util
import json
import os
import random
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("emulator", os.path.join(here, "..", "tests", "emulator.py"))
emu = importlib.util.module_from_spec(spec)
spec.loader.exec_module(emu)

out = sys.argv[1]
os.makedirs(os.path.join(out, "static"), exist_ok=True)
rng = random.Random(2026)
now = int(time.time())
alerts = [emu.make_alert(i, rng, now) for i in range(1000)]
for i, a in enumerate(alerts):  # what real alerts carry besides: about 1.6 KB each
    a["solution"] = ("Isolate host %s, reset the credentials of %s and review the authentication logs of the "
                     "last 24 hours for the same source address." % (a["source"]["host"], a["source"]["user"]))
    a["reference"] = ["https://attack.mitre.org/techniques/T1%03d/" % (i % 600),
                      "https://docs.utmstack.com/alerts/%d" % (i % 97)]
    a["impact"] = {"confidentiality": 2, "integrity": i % 3, "availability": 1}
    a["target"] = {"ip": a["destination"]["ip"], "host": a["destination"]["host"], "os": "Ubuntu 22.04",
                   "mac": "00:16:3e:%02x:%02x:%02x" % (i % 256, (i * 7) % 256, (i * 13) % 256)}
    a["adversary"] = {"ip": a["source"]["ip"], "country": a["source"]["country"], "asn": 64512 + i % 1000,
                      "reputation": "malicious" if i % 5 == 0 else "unknown"}
    a["dataSource"] = "wazuh-agent-%02d" % (i % 20)
    a["notes"] = ""
    a["tagRulesApplied"] = [i % 7, i % 11]
for n in (25, 1000):
    with open(os.path.join(out, "static", "search-%d.json" % n), "w") as f:
        json.dump(alerts[:n], f, ensure_ascii=False, separators=(",", ":"))


def b64(d):
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode()


claims = {"sub": "admin", "auth": "ROLE_ADMIN,ROLE_USER", "authenticated": True, "exp": now + 365 * 86400}
token = b64(b'{"alg":"HS512"}') + "." + b64(json.dumps(claims).encode()) + "." + b64(os.urandom(64))
with open(os.path.join(out, "token"), "w") as f:
    f.write(token)
print(token)

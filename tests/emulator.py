#!/usr/bin/env python3
"""A UTMStack server emulator for the tests and the demo (Python 3 standard library).

It implements UTMStack's REST API as a client sees it: login with HS512 JWTs
(24 h, 30 days with rememberMe, 5 min pre-verification), two-factor login, the
per-IP lock after 10 failures in 10 minutes, the internal key, v11 API keys as
Bearer credentials, Spring-shaped 401/403 bodies, X-UtmStack-error, and the search
endpoint with every operator, sort, paging, X-Total-Count and Link headers,
chunked answers for large results.

Test-only endpoints under /_emulator/ (no credentials):
  GET  /_emulator/stats          counters: connections, requests, resumed, ...
  POST /_emulator/reset          counters and login locks back to zero
  POST /_emulator/fault          {"fault": NAME, "count": N, "path": PREFIX, "seconds": S}
                                 ("for": S instead of "count": every request for S seconds;
                                 {"fault": "clear"} drops every fault still waiting)
  POST /_emulator/password       {"user": NAME, "password": NEW} (the admin changed it)
  GET  /_emulator/events         with --events: [[time, client address, path, status], ...]
Faults apply to the next N matching requests: truncate-status, truncate-headers,
truncate-body, truncate-chunk, reset, stall-before, stall-body, malformed-status,
oversized-headers, endless-headers, bad-chunk-size, overflow-chunk, cl-lies,
tls-alert (a fatal alert record mid-body), tls-close-notify (close_notify mid-body),
close-after (answer, then close the kept-alive connection without saying so),
unavailable (503 with Retry-After), raw-controls (control bytes in a document, an
error text and an error body). GET /api/emulator-echo answers with the request's headers.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import re
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OPERATORS = {
    "IS", "IS_NOT", "CONTAIN", "DOES_NOT_CONTAIN", "CONTAIN_ONE_OF", "DOES_NOT_CONTAIN_ONE_OF",
    "IS_ONE_OF", "IS_NOT_ONE_OF", "IS_ONE_OF_TERMS", "EXIST", "DOES_NOT_EXIST", "IS_BETWEEN",
    "IS_NOT_BETWEEN", "IS_IN_FIELDS", "IS_NOT_IN_FIELDS", "ENDS_WITH", "NOT_ENDS_WITH",
    "START_WITH", "NOT_START_WITH", "IS_GREATER_THAN", "IS_LESS_THAN_OR_EQUALS",
}
LIST_OPS = {"IS_ONE_OF", "IS_NOT_ONE_OF", "IS_ONE_OF_TERMS"}
RANGE_OPS = {"IS_BETWEEN", "IS_NOT_BETWEEN"}


class Settings:
    pass


S = Settings()
LOCK = threading.Lock()
STATS = {}
FAULTS = []
FAILURES = {}  # ip -> [timestamps]
EVENTS = []  # with --events: [time, ip, path, status] per answer
NOTES = {}


def save_stats():
    """With --stats-file, the counters also go to a file (for servers our
    client cannot talk to, such as a TLS 1.0-only one)."""
    if S.stats_file:
        with open(S.stats_file + ".tmp", "w") as f:
            json.dump(STATS, f)
        os.replace(S.stats_file + ".tmp", S.stats_file)


def reset_stats():
    STATS.clear()
    STATS.update(connections=0, requests=0, handshakes=0, resumed=0, tls13=0, tls13_resumed=0, logins=0, login_attempts=0,
                 login_failures=0, locked=0, searches=0, max_requests_per_connection=0)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def make_jwt(sub, authenticated, lifetime, pad=0):
    header = b64url(json.dumps({"alg": "HS512"}, separators=(",", ":")).encode())
    claims = {"sub": sub, "auth": "ROLE_ADMIN,ROLE_USER" if sub != "viewer" else "ROLE_USER",
              "authenticated": authenticated, "exp": int(time.time() + lifetime)}
    if pad:
        claims["pad"] = "p" * pad
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(S.secret, (header + "." + payload).encode(), hashlib.sha512).digest()
    return header + "." + payload + "." + b64url(sig)


def check_jwt(token):
    try:
        header, payload, sig = token.split(".")
        want = hmac.new(S.secret, (header + "." + payload).encode(), hashlib.sha512).digest()
        if not hmac.compare_digest(want, b64url_decode(sig)):
            return None
        claims = json.loads(b64url_decode(payload))
        if claims.get("exp", 0) < time.time():
            return None
        return claims
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def big_token_pad(user, target):
    """Pad length that makes this user's token as long as it can be, up to
    `target` bytes (base64 cannot hit every length)."""
    best = 0
    for pad in range(0, target):
        if len(make_jwt(user, True, 86400, pad)) <= target:
            best = pad
    return best


# ---- data ----------------------------------------------------------------

NAMES = ["Brute force attack", "Port scan detected", "Malware beacon", "Suspicious PowerShell",
         "Privilege escalation", "DNS tunneling", "Impossible travel", "Ransomware behaviour",
         "SSH login from TOR exit node", "Unusual outbound traffic"]
TACTICS = ["Credential Access", "Discovery", "Command and Control", "Execution", "Privilege Escalation",
           "Exfiltration", "Initial Access", "Impact"]
CATEGORIES = ["Authentication", "Network", "Malware", "Endpoint", "Cloud"]
STATUS_LABELS = {1: "Automatic review", 2: "Open", 3: "In review", 4: "Ignored", 5: "Completed"}
SEVERITY_LABELS = {1: "Low", 2: "Medium", 3: "High"}


def iso(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def make_alert(i, rng, now):
    sev = rng.choice([1, 1, 2, 2, 3])
    status = rng.choice([1, 2, 2, 3, 4, 5])
    ts = now - rng.randint(0, 30 * 86400)
    tags = rng.sample(["brute-force", "tor", "False positive", "linux", "windows", "critical-asset", "vpn"],
                      rng.randint(0, 3))
    name = NAMES[i % len(NAMES)]
    return {
        "id": "%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                               rng.getrandbits(12), rng.getrandbits(48)),
        "@timestamp": iso(ts),
        "name": name,
        "severity": sev,
        "severityLabel": SEVERITY_LABELS[sev],
        "status": status,
        "statusLabel": STATUS_LABELS[status],
        "category": CATEGORIES[i % len(CATEGORIES)],
        "tactic": TACTICS[i % len(TACTICS)],
        "tags": tags,
        "description": "%s on host srv-%02d. Details: \"quoted\" path C:\\Windows\\Temp, caf\u00e9 \u2713, "
                       "emoji \U0001F512." % (name, i % 40),
        "dataType": "alert",
        "isIncident": rng.random() < 0.1,
        "source": {"ip": "10.0.%d.%d" % (i % 8, rng.randint(1, 254)), "host": "srv-%02d" % (i % 40),
                   "user": rng.choice(["root", "admin", "svc-backup", "j.doe"]), "port": rng.randint(1024, 65535),
                   "country": rng.choice(["US", "DE", "CN", "BR", "RU"])},
        "destination": {"ip": "192.168.%d.%d" % (i % 4, rng.randint(1, 254)), "host": "gw-%d" % (i % 4),
                        "port": rng.choice([22, 80, 443, 3389, 53])},
        "logs": ["log-%d-%d" % (i, k) for k in range(rng.randint(1, 4))],
    }


def bulk_doc(i):
    """Documents of the bulk-* index: made on the fly, never kept."""
    return {"id": "bulk-%d" % i, "@timestamp": iso(1700000000 + i), "severity": 1 + i % 3,
            "name": NAMES[i % len(NAMES)], "message": "event %d \u00e9 \"q\" %s" % (i, "x" * (i % 200)),
            "source": {"ip": "10.1.%d.%d" % (i // 256 % 256, i % 256)}}


# ---- filters -------------------------------------------------------------

class FilterError(Exception):
    pass


def get_path(doc, field):
    cur = doc
    for part in field.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            # the whole name may be a key with dots (e.g. "@timestamp")
            return doc.get(field, None) if isinstance(doc, dict) else None
    return cur


DATE_MATH = re.compile(r"^now(?:([+-])(\d+)([smhdwMy]))?(?:/[smhdwMy])?$")


def to_time(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if not isinstance(v, str):
        raise FilterError("not a date")
    m = DATE_MATH.match(v)
    if m:
        t = time.time()
        if m.group(1):
            n = int(m.group(2)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000,
                                   "y": 31536000}[m.group(3)]
            t = t + n if m.group(1) == "+" else t - n
        return t
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
    except ValueError as e:
        raise FilterError("bad date %r" % v) from e


def comparable(a, b):
    """Numbers compare as numbers, dates as dates, the rest as strings."""
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        return float(a), float(b) if not isinstance(b, str) else to_time(b)
    if isinstance(a, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", a):
        return to_time(a), to_time(b)
    return str(a), str(b)


def values_of(v):
    return v if isinstance(v, list) else [v]


def eq(a, b):
    if isinstance(a, list):
        return any(eq(x, b) for x in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(b, str) and str(a).lower() == b.lower())
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return str(a) == str(b)


def contains(a, b):
    if isinstance(a, list):
        return any(contains(x, b) for x in a)
    return a is not None and str(b).lower() in str(a).lower()


def all_strings(doc):
    if isinstance(doc, dict):
        for v in doc.values():
            yield from all_strings(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from all_strings(v)
    elif doc is not None:
        yield str(doc)


def validate(f):
    if not isinstance(f, dict):
        raise FilterError("filter is not an object")
    op = f.get("operator")
    if op not in OPERATORS:
        raise FilterError("unknown operator %r" % op)
    field, has_value, value = f.get("field"), "value" in f and f["value"] is not None, f.get("value")
    if op in RANGE_OPS and (not field or not isinstance(value, list) or len(value) != 2):
        raise FilterError("%s needs a field and a list of two values" % op)
    if op in LIST_OPS and (not field or not isinstance(value, list)):
        raise FilterError("%s needs a field and a list" % op)
    if op in ("EXIST", "DOES_NOT_EXIST") and (not field or has_value):
        raise FilterError("%s needs a field and no value" % op)
    if op in ("IS_IN_FIELDS", "IS_NOT_IN_FIELDS") and not has_value:
        raise FilterError("%s needs a value" % op)
    if op not in RANGE_OPS | LIST_OPS | {"EXIST", "DOES_NOT_EXIST", "IS_IN_FIELDS", "IS_NOT_IN_FIELDS"}:
        if not field or not has_value:
            raise FilterError("%s needs a field and a value" % op)


def match(doc, f):
    op, field, value = f["operator"], f.get("field"), f.get("value")
    v = get_path(doc, field) if field else None
    if op == "IS":
        return v is not None and eq(v, value)
    if op == "IS_NOT":
        return not (v is not None and eq(v, value))
    if op == "CONTAIN":
        return any(contains(v, x) for x in values_of(value))
    if op == "DOES_NOT_CONTAIN":
        return not any(contains(v, x) for x in values_of(value))
    if op == "CONTAIN_ONE_OF":
        return any(contains(v, x) for x in values_of(value))
    if op == "DOES_NOT_CONTAIN_ONE_OF":
        return not any(contains(v, x) for x in values_of(value))
    if op in ("IS_ONE_OF", "IS_ONE_OF_TERMS"):
        return v is not None and any(eq(v, x) for x in value)
    if op == "IS_NOT_ONE_OF":
        return not (v is not None and any(eq(v, x) for x in value))
    if op == "EXIST":
        return v is not None
    if op == "DOES_NOT_EXIST":
        return v is None
    if op in RANGE_OPS:
        if v is None:
            return op == "IS_NOT_BETWEEN"
        lo_a, lo = comparable(v, value[0])
        hi_a, hi = comparable(v, value[1])
        inside = lo <= lo_a and hi_a <= hi
        return inside if op == "IS_BETWEEN" else not inside
    if op in ("IS_IN_FIELDS", "IS_NOT_IN_FIELDS"):
        found = any(str(x).lower() in s.lower() for s in all_strings(doc) for x in values_of(value))
        return found if op == "IS_IN_FIELDS" else not found
    if op == "ENDS_WITH":
        return v is not None and any(str(x) for x in values_of(value) if str(v).endswith(str(x)))
    if op == "NOT_ENDS_WITH":
        return not (v is not None and any(str(v).endswith(str(x)) for x in values_of(value)))
    if op == "START_WITH":
        return v is not None and any(str(v).startswith(str(x)) for x in values_of(value))
    if op == "NOT_START_WITH":
        return not (v is not None and any(str(v).startswith(str(x)) for x in values_of(value)))
    if op == "IS_GREATER_THAN":
        if v is None:
            return False
        a, b = comparable(v, value)
        return a > b
    if op == "IS_LESS_THAN_OR_EQUALS":
        if v is None:
            return False
        a, b = comparable(v, value)
        return a <= b
    raise FilterError("unknown operator")


# ---- the HTTP server -----------------------------------------------------

def take_fault(path):
    with LOCK:
        now = time.time()
        FAULTS[:] = [f for f in FAULTS if f.get("until", now) >= now]
        for f in FAULTS:
            if path.startswith(f.get("path", "/api/")) and f["count"] > 0:
                f["count"] -= 1
                if f["count"] == 0:
                    FAULTS.remove(f)
                return f
    return None


def client_ip(handler):
    fwd = handler.headers.get("X-Forwarded-For")
    if fwd:
        return fwd.split(",")[0].strip()
    return handler.client_address[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "UTMStackEmulator/1.0"
    requests_here = 0

    def setup(self):
        if S.tls:
            self.request.settimeout(10)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.handshake_failed = True
                with LOCK:
                    STATS["connections"] += 1
                    STATS["handshake_failures"] = STATS.get("handshake_failures", 0) + 1
                    save_stats()
                raise
            with LOCK:
                STATS["handshakes"] += 1
                if self.request.session_reused:
                    STATS["resumed"] += 1
                if self.request.version() == "TLSv1.3":
                    STATS["tls13"] += 1
                    if self.request.session_reused:
                        STATS["tls13_resumed"] += 1
        self.timeout = S.idle
        super().setup()
        with LOCK:
            STATS["connections"] += 1

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, socket.timeout, TimeoutError):
            pass

    def log_message(self, fmt, *args):
        if S.verbose:
            sys.stderr.write("emulator: %s\n" % (fmt % args))

    # -- plumbing --
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()

    def reply(self, status, body=b"", ctype="application/json", headers=(), chunk_threshold=8192):
        if isinstance(body, str):
            body = body.encode()
        fault = self.fault
        if S.events:
            with LOCK:
                EVENTS.append([time.time(), client_ip(self), self.path.split("?")[0],
                               503 if fault and fault["fault"] == "unavailable" else status])
        if fault and self.apply_fault(fault, status, body, ctype, headers):
            return
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body and ctype:
            self.send_header("Content-Type", ctype)
        chunked = len(body) > chunk_threshold
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.write_chunks([body])
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        if fault and fault["fault"] == "close-after":
            self.wfile.flush()
            self.close_connection = True
        if fault and fault["fault"] == "push-extra":  # a second answer nobody asked for, connection kept
            self.wfile.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"login":"evil"}')
            self.wfile.flush()

    def write_chunks(self, pieces):
        """Chunks of varying sizes, like a streaming Tomcat."""
        rng = random.Random(7)
        buf = b""
        for piece in pieces:
            buf += piece
            while len(buf) >= 16384:
                n = rng.randint(1000, 16384)
                self.wfile.write(b"%x\r\n%s\r\n" % (n, buf[:n]))
                buf = buf[n:]
        if buf:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(buf), buf))
        self.wfile.write(b"0\r\n\r\n")

    def apply_fault(self, f, status, body, ctype, headers):
        name = f["fault"]
        head = ("HTTP/1.1 %d OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (status, ctype, len(body))).encode()
        chead = ("HTTP/1.1 %d OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n" % (status, ctype)).encode()
        self.close_connection = True
        if name == "truncate-status":
            self.send_raw(b"HTTP/1.1 20")
        elif name == "truncate-headers":
            self.send_raw(head[: head.index(b"Content-Length")])
        elif name == "truncate-body":
            self.send_raw(head + body[: len(body) // 2])
        elif name == "truncate-chunk":
            self.send_raw(chead + b"%x\r\n%s" % (len(body), body[: len(body) // 2]))
        elif name == "cl-lies":
            self.send_raw(head.replace(b"Content-Length: %d" % len(body), b"Content-Length: %d" % (len(body) + 100)) + body)
        elif name == "reset":  # an RST before any answer byte
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.request.close()
        elif name == "stall-before":
            time.sleep(f.get("seconds", 5))
            return False if f.get("then-answer") else True
        elif name == "stall-body":
            self.send_raw(head + body[: len(body) // 3])
            time.sleep(f.get("seconds", 5))
        elif name == "malformed-status":
            self.send_raw(b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n")
        elif name == "oversized-headers":
            self.send_raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
        elif name == "endless-headers":
            try:
                self.send_raw(b"HTTP/1.1 200 OK\r\n")
                for i in range(100000):
                    self.wfile.write(b"X-Header-%d: value\r\n" % i)
            except OSError:
                pass
        elif name == "bad-chunk-size":
            self.send_raw(chead + b"zz\r\nhello\r\n0\r\n\r\n")
        elif name == "overflow-chunk":
            self.send_raw(chead + b"fffffffffffffffff1\r\nhello\r\n0\r\n\r\n")
        elif name == "tls-alert":  # half the body, then a plaintext fatal alert record
            self.send_raw(head + body[: len(body) // 2])
            os.write(self.request.fileno(), b"\x15\x03\x03\x00\x02\x02\x28")
        elif name == "tls-close-notify":  # half the body, then close_notify
            self.send_raw(head + body[: len(body) // 2])
            self.request.unwrap()
        elif name == "close-delimited":  # no length: the body ends with the connection (close_notify first)
            self.send_raw(("HTTP/1.1 %d OK\r\nContent-Type: %s\r\nConnection: close\r\n\r\n" % (status, ctype)).encode() + body)
            if S.tls:
                self.request.unwrap()
        elif name == "close-delimited-no-notify":  # the same, the TCP connection ends without close_notify
            self.send_raw(("HTTP/1.1 %d OK\r\nContent-Type: %s\r\nConnection: close\r\n\r\n" % (status, ctype)).encode() + body)
            self.request.shutdown(socket.SHUT_RDWR)
        elif name == "raw-controls":  # what a hostile server sends a terminal: DEL and C1 in a document, ESC in a message
            if self.path.startswith("/api/elasticsearch/search"):
                doc = b'[{"name":"a\x7fb\xc2\x9bc\xc3\xa9"}]'
                self.send_raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Total-Count: 1\r\n"
                              b"Content-Length: %d\r\n\r\n%s" % (len(doc), doc))
            else:
                self.send_raw(b"HTTP/1.1 400 Bad Request\r\nX-UtmStack-error: bad request\r\n"
                              b"Content-Length: 9\r\n\r\nbody\x1b[2J!\n")
        elif name == "raw-controls-header":  # an escape sequence in the error text itself
            self.send_raw(b"HTTP/1.1 400 Bad Request\r\nX-UtmStack-error: bad \x1b[31mred\x07\r\n"
                          b"Content-Length: 0\r\n\r\n")
        elif name == "unavailable":  # 503 with Retry-After, as a server under load says it
            self.send_raw(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: %d\r\nContent-Length: 0\r\n\r\n"
                          % f.get("seconds", 1))
        elif name == "close-after":
            self.close_connection = False
            return False
        else:
            self.close_connection = False
            return False
        return True

    def spring_error(self, status, error):
        self.reply(status, json.dumps({"timestamp": iso(time.time()), "status": status, "error": error,
                                       "path": self.path.split("?")[0]}))

    def utm_error(self, status, message):
        self.reply(status, b"", headers=[("X-UtmStack-error", message), ("X-UtmStack-params", "")])

    def principal(self):
        """(login, claims) for valid credentials, ('', None) for none, None for bad ones."""
        key = self.headers.get("Utm-Internal-Key")
        if key is not None:
            return ("admin", {"authenticated": True}) if S.internal_key and hmac.compare_digest(key, S.internal_key) else None
        auth = self.headers.get("Authorization")
        if not auth:
            return ("", None)
        if not auth.startswith("Bearer "):
            return None
        token = auth[7:]
        if S.api_key and hmac.compare_digest(token, S.api_key):
            return ("apikey", {"authenticated": True})
        claims = check_jwt(token)
        return (claims["sub"], claims) if claims else None

    # -- routing --
    def route(self):
        with LOCK:
            STATS["requests"] += 1
            STATS["last_client"] = self.client_address[0]
            self.requests_here += 1
            STATS["max_requests_per_connection"] = max(STATS["max_requests_per_connection"], self.requests_here)
            save_stats()
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True)
        self.fault = None
        if path.startswith("/_emulator/"):
            return self.control(path)
        self.fault = take_fault(path)
        raw = self.body() if self.command in ("POST", "PUT") else b""
        if path in ("/api/ping", "/api/healthcheck"):
            return self.reply(200, "pong" if path == "/api/ping" else '{"status":"UP"}',
                              "text/plain" if path == "/api/ping" else "application/json")
        if path == "/api/authenticate" and self.command == "POST":
            return self.login(raw)
        who = self.principal()
        if who is None or who[1] is None:
            return self.spring_error(401, "Unauthorized")
        login, claims = who
        if path == "/api/tfa/verifyCode" and self.command == "GET":
            return self.tfa(login, claims, query)
        if not claims.get("authenticated", False):
            return self.spring_error(403, "Forbidden")
        if path == "/api/authenticate" and self.command == "GET":
            return self.reply(200, login, "text/plain")
        if path == "/api/account" and self.command == "GET":
            return self.reply(200, json.dumps({"login": login, "firstName": login.capitalize(), "lastName": "Test",
                                               "email": login + "@example.com", "activated": True,
                                               "authorities": ["ROLE_ADMIN", "ROLE_USER"], "langKey": "en"}))
        if path == "/api/elasticsearch/search" and self.command == "POST":
            return self.search(query, raw)
        if path.startswith("/api/emulator-notes"):
            return self.notes(path, raw)
        if path == "/api/emulator-echo":  # the request's headers, as the server got them
            return self.reply(200, json.dumps({k.lower(): v for k, v in self.headers.items()}))
        return self.spring_error(404, "Not Found")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = route

    def control(self, path):
        if path == "/_emulator/stats":
            with LOCK:
                body = json.dumps(STATS)
            return self.reply(200, body)
        if path == "/_emulator/reset" and self.command == "POST":
            self.body()
            with LOCK:
                reset_stats()
                FAILURES.clear()
                FAULTS.clear()
                EVENTS.clear()
            return self.reply(200, "{}")
        if path == "/_emulator/events":
            with LOCK:
                body = json.dumps(EVENTS)
            return self.reply(200, body)
        if path == "/_emulator/password" and self.command == "POST":
            f = json.loads(self.body() or b"{}")
            with LOCK:
                S.users[f["user"]] = f["password"]
            return self.reply(200, "{}")
        if path == "/_emulator/fault" and self.command == "POST":
            f = json.loads(self.body() or b"{}")
            if f.get("fault") == "clear":  # every fault still waiting is dropped
                with LOCK:
                    FAULTS.clear()
                return self.reply(200, "{}")
            f.setdefault("count", 1)
            if "for" in f:
                f["until"], f["count"] = time.time() + float(f["for"]), 1 << 62
            with LOCK:
                FAULTS.append(f)
            return self.reply(200, "{}")
        return self.reply(404, "{}")

    def login(self, raw):
        ip = client_ip(self)
        now = time.time()
        with LOCK:
            STATS["login_attempts"] += 1
            recent = [t for t in FAILURES.get(ip, []) if now - t < 600]
            FAILURES[ip] = recent
            locked = len(recent) >= S.lock_threshold
            if locked:
                STATS["locked"] += 1
        if locked:
            return self.utm_error(423, "Too many failed login attempts, try again later")
        try:
            req = json.loads(raw.decode("utf-8"))
            user, password = req["username"], req["password"]
            remember = bool(req.get("rememberMe", False))
            if not isinstance(user, str) or not isinstance(password, str):
                raise ValueError
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return self.utm_error(400, "Invalid request body")
        if not 1 <= len(user) <= 50 or not 4 <= len(password) <= 100:
            return self.utm_error(400, "Validation failed: username 1-50, password 4-100 characters")
        if S.users.get(user) != password:
            with LOCK:
                FAILURES.setdefault(ip, []).append(now)
                STATS["login_failures"] += 1
            return self.utm_error(401, "Bad credentials")
        with LOCK:
            STATS["logins"] += 1
        tfa = user in S.tfa_users
        if tfa:
            token = make_jwt(user, False, S.pre_lifetime)
        else:
            lifetime = S.remember_lifetime if remember else S.token_lifetime
            token = make_jwt(user, True, lifetime, S.pads.get(user, 0))
        body = {"id_token": token, "authenticated": not tfa}
        if S.v11:  # newer servers add fields, and key order is not fixed
            body = {"tfaConfigured": tfa, "firstLogin": False, "tfaMethod": "EMAIL" if tfa else None,
                    "details": {"nested": [1, {"id_token": "not-this-one"}], "s": "x\"y"},
                    "authenticated": not tfa, "tfaExpiresInSeconds": 300 if tfa else 0, "id_token": token}
        self.reply(200, json.dumps(body), headers=[("Authorization", "Bearer " + token)])

    def tfa(self, login, claims, query):
        if claims.get("authenticated", True):
            return self.spring_error(403, "Forbidden")
        code = query.get("code", [""])[0]
        if not hmac.compare_digest(code, S.tfa_code):
            return self.utm_error(401, "Invalid verification code")
        token = make_jwt(login, True, S.token_lifetime)
        self.reply(200, json.dumps({"id_token": token, "authenticated": True}))

    def search(self, query, raw):
        with LOCK:
            STATS["searches"] += 1
        try:
            index = query["indexPattern"][0]
            top = int(query["top"][0])
            page = max(1, int(query.get("page", ["1"])[0] or 1))
            size = int(query.get("size", ["20"])[0] or 20)
            if size <= 0 or top < 0:
                raise ValueError
        except (KeyError, ValueError, IndexError):
            return self.utm_error(500, "indexPattern and top are required; page, size must be numbers")
        try:
            filters = json.loads(raw.decode("utf-8")) if raw.strip() else []
            if not isinstance(filters, list):
                raise FilterError("body must be a list of filters")
            for f in filters:
                validate(f)
        except (ValueError, UnicodeDecodeError) as e:
            return self.utm_error(500, "Bad filters: %s" % e)
        except FilterError as e:
            return self.utm_error(500, str(e))
        start, end = (page - 1) * size, min(page * size, top)
        if index.startswith("bulk-"):
            total = min(S.bulk, top)
            docs = (bulk_doc(i) for i in range(start, max(start, min(end, S.bulk))))
        else:
            data = S.alerts if index.startswith("alert") else S.logs if index.startswith("log") else []
            try:
                hits = [d for d in data if all(match(d, f) for f in filters)]
                for s in reversed(query.get("sort", [])):
                    field, _, order = s.partition(",")
                    hits.sort(key=lambda d, fl=field: str(get_path(d, fl)), reverse=order.lower() == "desc")
            except FilterError as e:
                return self.utm_error(500, str(e))
            total = min(len(hits), top)
            docs = iter(hits[start:max(start, end)])
        headers = [("X-Total-Count", str(total))]
        if total:
            last = max(1, (total + size - 1) // size)
            base = "/api/elasticsearch/search?indexPattern=%s&top=%d" % (urllib.parse.quote(index), top)
            links = []
            if page < last:
                links.append('<%s&page=%d&size=%d>; rel="next"' % (base, page + 1, size))
            if page > 1:
                links.append('<%s&page=%d&size=%d>; rel="prev"' % (base, page - 1, size))
            links.append('<%s&page=%d&size=%d>; rel="last"' % (base, last, size))
            links.append('<%s&page=%d&size=%d>; rel="first"' % (base, 1, size))
            headers.append(("Link", ",".join(links)))
        if self.fault or end - start <= 50:
            body = json.dumps(list(docs), ensure_ascii=False)
            return self.reply(200, body, headers=headers)
        # stream: Tomcat sends large arrays chunked
        self.send_response(200)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def pieces():
            first = True
            yield b"["
            for d in docs:
                yield (b"" if first else b",") + json.dumps(d, ensure_ascii=False).encode()
                first = False
            yield b"]"
        self.write_chunks(pieces())

    def notes(self, path, raw):
        parts = path.rstrip("/").split("/")
        if self.command == "POST" and len(parts) == 3:
            try:
                note = json.loads(raw)
            except ValueError:
                return self.utm_error(400, "Invalid JSON")
            with LOCK:
                note["id"] = len(NOTES) + 1
                NOTES[note["id"]] = note
            return self.reply(201, json.dumps(note))
        if self.command == "PUT" and len(parts) == 3:
            try:
                note = json.loads(raw)
                nid = int(note["id"])
            except (ValueError, KeyError, TypeError):
                return self.utm_error(400, "Invalid JSON or no id")
            if nid not in NOTES:
                return self.utm_error(404, "No such note")
            NOTES[nid] = note
            return self.reply(200, json.dumps(note))
        if len(parts) == 4 and parts[3].isdigit():
            nid = int(parts[3])
            if nid not in NOTES:
                return self.utm_error(404, "No such note")
            if self.command == "GET":
                return self.reply(200, json.dumps(NOTES[nid]))
            if self.command == "DELETE":
                del NOTES[nid]
                return self.reply(200, b"")
        return self.spring_error(405, "Method Not Allowed")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def get_request(self):
        sock, addr = super().get_request()
        if S.tls:
            sock = S.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass  # a client that went away, a refused certificate: both are tested on purpose


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: any free port (see --port-file)")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--cert", help="PEM certificate (chain); without it, plain HTTP")
    ap.add_argument("--key")
    ap.add_argument("--client-ca", help="require a client certificate signed by this CA")
    ap.add_argument("--tls-max", choices=["1.0", "1.1", "1.2", "1.3"], help="highest TLS version offered")
    ap.add_argument("--user", action="append", default=[], help="NAME:PASSWORD (repeatable)")
    ap.add_argument("--tfa-user", action="append", default=[], help="NAME:PASSWORD with two-factor login")
    ap.add_argument("--tfa-code", default="123456")
    ap.add_argument("--internal-key", default="")
    ap.add_argument("--api-key", default="", help="a v11 API key, accepted as a Bearer credential")
    ap.add_argument("--token-lifetime", type=float, default=86400)
    ap.add_argument("--remember-lifetime", type=float, default=30 * 86400)
    ap.add_argument("--pre-lifetime", type=float, default=300)
    ap.add_argument("--big-token-user", default="bigtoken", help="this user's token is --big-token-len bytes")
    ap.add_argument("--big-token-len", type=int, default=2048)
    ap.add_argument("--alerts", type=int, default=250)
    ap.add_argument("--bulk", type=int, default=100000, help="documents in the bulk-* index")
    ap.add_argument("--lock-threshold", type=int, default=10)
    ap.add_argument("--idle", type=float, default=30, help="seconds before an idle connection is closed")
    ap.add_argument("--v11", action="store_true", help="login answers with v11's extra fields, id_token last")
    ap.add_argument("--stats-file", help="keep the counters in this file too")
    ap.add_argument("--events", action="store_true", help="record every answer for /_emulator/events (make fleet)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    S.secret = os.urandom(64)
    S.users = {"admin": "s3cret-Passw0rd"}
    S.tfa_users = set()
    for spec in a.user + a.tfa_user:
        name, _, pw = spec.partition(":")
        S.users[name] = pw
    for spec in a.tfa_user:
        S.tfa_users.add(spec.partition(":")[0])
    S.tfa_code = a.tfa_code
    S.internal_key, S.api_key = a.internal_key, a.api_key
    S.token_lifetime, S.remember_lifetime, S.pre_lifetime = a.token_lifetime, a.remember_lifetime, a.pre_lifetime
    S.pads = {a.big_token_user: big_token_pad(a.big_token_user, a.big_token_len)}
    S.lock_threshold, S.idle, S.v11, S.verbose, S.bulk = a.lock_threshold, a.idle, a.v11, a.verbose, a.bulk
    S.stats_file, S.events = a.stats_file, a.events
    rng = random.Random(42)
    now = int(time.time())
    S.alerts = [make_alert(i, rng, now) for i in range(a.alerts)]
    S.logs = [dict(make_alert(i, rng, now), dataType="log") for i in range(a.alerts // 2)]
    S.tls = bool(a.cert)
    if S.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        if a.client_ca:
            ctx.load_verify_locations(a.client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
        if a.tls_max in ("1.0", "1.1"):
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1 if a.tls_max == "1.0" else ssl.TLSVersion.TLSv1_1
        elif a.tls_max == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        def sni(sock, name, _ctx):  # what the last two clients sent as server_name ("": none)
            with LOCK:
                STATS["sni"] = (STATS.get("sni", []) + [name or ""])[-2:]
        ctx.sni_callback = sni
        S.context = ctx
    reset_stats()
    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    Server.address_family = family
    srv = Server((a.host, a.port), Handler)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    sys.stderr.write("emulator: listening on %s port %d (%s)\n" % (a.host, port, "https" if S.tls else "http"))
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The `utmstack` tool's contract (docs/utmstack.1): options, environment variables,
output and exit codes, driven against the emulator that tests/run.sh started
(UTM_PORT, UTM_LOCK_PORT, UTM_PKI). Prints "cli: N passed, N failed"."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
import ssl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.environ.get("UTM_TOOL", os.path.join(ROOT, "build", "utmstack"))
RUNNER = os.environ.get("UTM_RUNNER", "").split()  # e.g. valgrind and its options
PKI = os.path.join(ROOT, os.environ.get("UTM_PKI", "build/pki"))
CA = os.path.join(PKI, "ca.pem")
PORT = os.environ.get("UTM_PORT")
LOCK_PORT = os.environ.get("UTM_LOCK_PORT")
URL = "https://localhost:%s" % PORT
KEY = "test-internal-key-0123456789"
TMP = tempfile.mkdtemp(prefix="utm-cli.")


def secret_file(name, content):
    path = os.path.join(TMP, name)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(content + "\n")
    return path


PASSWORD_FILE = secret_file("password", "s3cret-Passw0rd")
KEY_FILE = secret_file("key", KEY)


def run(args, env=None, stdin=None, url=URL, ca=CA, timeout=60):
    """(exit code, stdout, stderr, peak RSS in KiB)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("UTMSTACK_")}
    if url:
        e["UTMSTACK_URL"] = url
    if ca:
        e["UTMSTACK_CA"] = ca
    e.update(env or {})
    p = subprocess.Popen(RUNNER + [TOOL] + args, env=e, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out, err = p.communicate(stdin.encode() if stdin else None, timeout=timeout)
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), 0


def run_rss(args, env=None):
    """Like run, with the tool's peak RSS (KiB) as GNU time sees it (wait4 in
    Python would count the forked interpreter); stdout counted, not kept."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("UTMSTACK_")}
    e.update({"UTMSTACK_URL": URL, "UTMSTACK_CA": CA}, **(env or {}))
    rss_file = os.path.join(TMP, "rss")
    with open(os.path.join(TMP, "out.ndjson"), "wb") as out:
        p = subprocess.run(["/usr/bin/time", "-o", rss_file, "-f", "%M"] + RUNNER + [TOOL] + args, env=e, stdout=out,
                           stderr=subprocess.PIPE, timeout=300)
    lines = bad = 0
    with open(os.path.join(TMP, "out.ndjson"), "rb") as f:
        for line in f:
            lines += 1
            if lines % 997 == 0:  # a sample parses as JSON
                try:
                    json.loads(line)
                except ValueError:
                    bad += 1
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return p.returncode, lines, bad, p.stderr.decode(), rss


def stats(port=PORT):
    ctx = ssl.create_default_context(cafile=CA)
    with urllib.request.urlopen("https://localhost:%s/_emulator/stats" % port, context=ctx) as r:
        return json.loads(r.read())


def fault(spec, port=PORT):
    ctx = ssl.create_default_context(cafile=CA)
    req = urllib.request.Request("https://localhost:%s/_emulator/fault" % port, data=json.dumps(spec).encode(),
                                 method="POST")
    urllib.request.urlopen(req, context=ctx).read()


PASSWORD = {"UTMSTACK_USER": "admin", "UTMSTACK_PASSWORD": "s3cret-Passw0rd"}
APIKEY = {"UTMSTACK_API_KEY": KEY}


def ndjson(out):
    return [json.loads(line) for line in out.splitlines()]


# ---- the tests ---------------------------------------------------------------

def test_usage_errors():
    assert run([])[0] == 2
    assert run(["frobnicate"], APIKEY)[0] == 2
    assert run(["--no-such-option", "get", "/api/account"], APIKEY)[0] == 2
    rc, _, err, _ = run(["get", "/api/account"])
    assert rc == 2 and "credentials" in err, err
    assert run(["get", "/api/account"], APIKEY, url=None)[0] == 2
    assert run(["search"], APIKEY)[0] == 2                      # no --index
    assert run(["search", "--index", "alert-*", "--filter", "severity"], APIKEY)[0] == 2
    assert run(["search", "--index", "alert-*", "--filter", "severity:EQUALS:3"], APIKEY)[0] == 2
    assert run(["search", "--index", "alert-*", "--sort", "name"], APIKEY)[0] == 2
    assert run(["search", "--index", "alert-*", "--size", "ten"], APIKEY)[0] == 2
    assert run(["login"], {"UTMSTACK_USER": "admin"})[0] == 2   # no password
    assert run(["get", "account"], APIKEY)[0] == 2              # PATH must start with /
    assert run(["get", "/api/account"], APIKEY, url="ftp://x")[0] == 2
    rc, out, _, _ = run(["--help"])
    assert rc == 0 and "Exit status" in out
    # a filter the server's rules refuse is caught before sending
    before = stats()["requests"]
    rc, _, err, _ = run(["search", "--index", "alert-*", "--filter", "@timestamp:IS_BETWEEN:now-7d"], APIKEY)
    assert rc == 2 and "filter 1 (@timestamp IS_BETWEEN)" in err, err
    assert rc == 2 and run(["search", "--index", "alert-*", "--filter", "tags:EXIST:x"], APIKEY)[0] == 2
    assert stats()["requests"] == before + 1  # only our stats call


def test_login():
    rc, out, err, _ = run(["login"], PASSWORD)
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["authenticated"] is True and doc["user"] == "admin"
    assert abs(doc["expires"] - (time.time() + 86400)) < 120, doc
    rc, out, _, _ = run(["--remember-me", "--user", "admin", "--password-file", PASSWORD_FILE, "login"])
    assert rc == 0 and json.loads(out)["expires"] > time.time() + 29 * 86400
    assert out.count("\n") == 1


def test_wrong_password_is_3():
    rc, out, err, _ = run(["login"], {"UTMSTACK_USER": "admin", "UTMSTACK_PASSWORD": "nope-nope"})
    assert rc == 3 and out == "" and "Bad credentials" in err, (rc, err)
    rc, _, _, _ = run(["get", "/api/account"], {"UTMSTACK_API_KEY": "wrong"})
    assert rc == 3


def test_search_ndjson_and_filters():
    rc, out, err, _ = run(["search", "--index", "alert-*", "--filter", "severity:IS:3", "--filter",
                           "@timestamp:IS_BETWEEN:now-30d,now", "--size", "15", "--sort", "@timestamp,desc"], PASSWORD)
    assert rc == 0, err
    docs = ndjson(out)
    assert 0 < len(docs) <= 15 and all(d["severity"] == 3 for d in docs)
    stamps = [d["@timestamp"] for d in docs]
    assert stamps == sorted(stamps, reverse=True)
    total = int([l for l in err.splitlines() if l.startswith("total=")][0][6:])
    assert total >= len(docs)
    # list operators: comma lists (numbers stay numbers) and JSON lists
    rc, out, err, _ = run(["search", "--index", "alert-*", "--filter", "status:IS_ONE_OF:2,3", "--size", "50"], APIKEY)
    assert rc == 0 and out and all(d["status"] in (2, 3) for d in ndjson(out)), err
    rc, out, _, _ = run(["search", "--index", "alert-*", "--filter", "severity:IS_ONE_OF:[1,2]", "--size", "50"], APIKEY)
    assert rc == 0 and out and all(d["severity"] in (1, 2) for d in ndjson(out))
    rc, out, _, _ = run(["search", "--index", "alert-*", "--filter", "statusLabel:IS:\"Open\"",
                         "--filter", "tags:EXIST", "--filter", "source.host:START_WITH:srv-1"], APIKEY)
    assert rc == 0 and out
    assert all(d["statusLabel"] == "Open" and d["source"]["host"].startswith("srv-1") for d in ndjson(out))
    # a value that is not JSON is a string; text with a colon in it is kept whole
    rc, out, _, _ = run(["search", "--index", "alert-*", "--filter", "description:CONTAIN:path C:\\Windows",
                         "--size", "3"], APIKEY)
    assert rc == 0 and len(ndjson(out)) == 3
    # unicode and escapes come through intact
    d = ndjson(out)[0]
    assert "caf\u00e9 \u2713" in d["description"] and "\U0001F512" in d["description"] and '"quoted"' in d["description"]


def test_search_all_pages():
    rc, out, err, _ = run(["search", "--index", "alert-*", "--size", "7", "--top", "30", "--all",
                           "--sort", "@timestamp,desc"], APIKEY)
    assert rc == 0, err
    docs = ndjson(out)
    assert len(docs) == 30 and len({d["id"] for d in docs}) == 30
    assert "total=30" in err


def test_server_error_is_6():
    rc, _, err, _ = run(["search", "--index", "alert-*", "--filter", "@timestamp:IS_BETWEEN:yesterday,today"], APIKEY)
    assert rc == 6 and "bad date" in err, (rc, err)
    rc, out, err, _ = run(["get", "/api/no-such-thing"], APIKEY)
    assert rc == 6 and "404" in err and out == "", (rc, err)


def test_generic_calls():
    rc, out, err, _ = run(["get", "/api/account"], APIKEY)
    assert rc == 0 and json.loads(out)["login"] == "admin", err
    rc, out, err, _ = run(["post", "/api/emulator-notes", "--data", '{"text":"caf\u00e9 \\"q\\""}'], PASSWORD)
    assert rc == 0, err
    note = json.loads(out)
    assert note["text"] == 'caf\u00e9 "q"'
    body = secret_file("note.json", json.dumps({"id": note["id"], "text": "changed"}))
    rc, out, err, _ = run(["put", "/api/emulator-notes", "--data", "@" + body], PASSWORD)
    assert rc == 0 and json.loads(out)["text"] == "changed", err
    rc, out, _, _ = run(["post", "/api/emulator-notes", "--data", "@-"], PASSWORD, stdin='{"text":"from stdin"}')
    assert rc == 0 and json.loads(out)["text"] == "from stdin"
    rc, out, _, _ = run(["get", "/api/emulator-notes/%d" % note["id"]], APIKEY)
    assert rc == 0 and json.loads(out)["text"] == "changed"
    assert run(["delete", "/api/emulator-notes/%d" % note["id"]], APIKEY)[0] == 0
    assert run(["get", "/api/emulator-notes/%d" % note["id"]], APIKEY)[0] == 6
    assert run(["post", "/api/emulator-notes", "--data", "not json"], APIKEY)[0] == 6   # 400


def test_verbose_hides_secrets():
    rc, _, err, _ = run(["-v", "get", "/api/account"], APIKEY)
    assert rc == 0 and "Utm-Internal-Key: ***" in err and KEY not in err, err
    rc, out, err, _ = run(["-v", "login"], PASSWORD)
    assert rc == 0 and "s3cret-Passw0rd" not in err and "Authorization: ***" in err
    assert json.loads(out)["authenticated"] is True
    assert "> POST /api/authenticate HTTP/1.1" in err


def test_tls_failures_are_4():
    rc, _, err, _ = run(["get", "/api/account"], APIKEY, ca=os.path.join(PKI, "rogue-ca.pem"))
    assert rc == 4 and "certificate" in err, (rc, err)
    rc, _, err, _ = run(["--servername", "wrong.example", "get", "/api/account"], APIKEY)
    assert rc == 4, err
    rc, out, err, _ = run(["--insecure", "get", "/api/account"], APIKEY, ca=os.path.join(PKI, "rogue-ca.pem"))
    assert rc == 0 and "warning" in err and "insecure" in err, (rc, err)
    # by IP address, with the name to verify against
    rc, _, err, _ = run(["--servername", "localhost", "get", "/api/account"], APIKEY,
                        url="https://127.0.0.1:%s" % PORT)
    assert rc == 0, err


def test_network_failures_are_5():
    rc, _, err, _ = run(["get", "/api/account"], APIKEY, url="https://127.0.0.1:1")
    assert rc == 5, (rc, err)
    fault({"fault": "stall-before", "path": "/api/account", "seconds": 3})
    t0 = time.time()
    rc, _, err, _ = run(["--timeout", "800", "get", "/api/account"], APIKEY)
    assert rc == 5 and "timed out" in err and time.time() - t0 < 2.5, (rc, err)
    fault({"fault": "clear"})  # not taken when the handshake itself timed out (valgrind)
    fault({"fault": "truncate-body", "path": "/api/account"})
    assert run(["get", "/api/account"], APIKEY)[0] == 5


def test_locked_is_7():
    url = "https://localhost:%s" % LOCK_PORT
    bad = {"UTMSTACK_USER": "admin", "UTMSTACK_PASSWORD": "wrong-one"}
    codes = [run(["login"], bad, url=url)[0] for _ in range(10)]
    assert codes == [3] * 10, codes
    rc, _, err, _ = run(["login"], PASSWORD, url=url)
    assert rc == 7, (rc, err)
    assert stats(LOCK_PORT)["login_attempts"] == 11


def test_two_factor():
    tfa = {"UTMSTACK_USER": "tfauser", "UTMSTACK_PASSWORD": "tfa-Passw0rd"}
    rc, out, err, _ = run(["login"], tfa, stdin="123456\n")
    assert rc == 0 and json.loads(out)["user"] == "tfauser", err
    rc, out, err, _ = run(["login"], tfa, stdin="000000\n")
    assert rc == 3 and "Invalid verification code" in err, (rc, err)
    rc, _, err, _ = run(["get", "/api/account"], tfa, stdin="")  # no code to give
    assert rc == 3, (rc, err)


def cache_entries(path):
    """The cache's entries: (origin, user, expires, token) per line after its header."""
    lines = open(path).read().splitlines()
    assert lines[0] == "utmstack-token-cache 1", lines[:1]
    return [tuple(line.split(" ")) for line in lines[1:]]


def test_token_file():
    path = os.path.join(TMP, "session")
    rc, out, err, _ = run(["--token-file", path, "login"], PASSWORD)
    assert rc == 0, err
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, oct(mode)
    (origin, user, expires, token), = cache_entries(path)
    assert origin == "https://localhost:%s" % PORT and user == "admin", (origin, user)
    assert token.count(".") == 2 and int(expires) == json.loads(out)["expires"]
    logins = stats()["logins"]
    # a valid cached token: no login, with or without the password at hand
    rc, out, err, _ = run(["--token-file", path, "get", "/api/account"], {"UTMSTACK_USER": "admin"})
    assert rc == 0 and json.loads(out)["login"] == "admin", err
    rc, out, err, _ = run(["get", "/api/account"], dict(PASSWORD, UTMSTACK_TOKEN_FILE=path))
    assert rc == 0, err
    rc, out, err, _ = run(["--token-file", path, "search", "--index", "alert-*", "--size", "2"])
    assert rc == 0 and len(ndjson(out)) == 2, err
    assert stats()["logins"] == logins
    # a bad cached token: with a password the tool logs in again and stores the new one
    with open(path, "w") as f:
        f.write("utmstack-token-cache 1\nhttps://localhost:%s admin 4102444800 garbage\n" % PORT)
    rc, _, err, _ = run(["--token-file", path, "get", "/api/account"])
    assert rc == 2 and "run `utmstack login`" in err, (rc, err)  # nothing valid to use
    rc, out, err, _ = run(["--token-file", path, "get", "/api/account"], PASSWORD)
    assert rc == 0, err
    assert stats()["logins"] == logins + 1
    assert cache_entries(path)[0][3].count(".") == 2
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_token_cache_is_bound_to_origin_and_user():
    path = os.path.join(TMP, "bound")
    assert run(["--token-file", path, "login"], PASSWORD)[0] == 0
    # another server: the token is not sent there
    url = "https://localhost:%s" % LOCK_PORT
    before = stats(LOCK_PORT)["requests"]
    rc, _, err, _ = run(["--token-file", path, "get", "/api/account"], url=url)
    assert rc == 2 and "no cached session for %s" % url in err, (rc, err)
    assert stats(LOCK_PORT)["requests"] == before + 1  # only the stats reading itself
    # another user
    rc, _, err, _ = run(["--token-file", path, "get", "/api/account"], {"UTMSTACK_USER": "bob"})
    assert rc == 2 and "user bob" in err, (rc, err)
    # --insecure: only with the explicit flag
    rc, _, err, _ = run(["--insecure", "--token-file", path, "get", "/api/account"])
    assert rc == 2 and "--allow-insecure-token" in err, (rc, err)
    rc, out, err, _ = run(["--insecure", "--allow-insecure-token", "--token-file", path, "get", "/api/account"])
    assert rc == 0 and json.loads(out)["login"] == "admin", err
    # a second origin gets an entry of its own; the first one is kept
    other = "https://127.0.0.1:%s" % PORT
    assert run(["--token-file", path, "login"], PASSWORD, url=other)[0] == 0
    assert sorted(e[0] for e in cache_entries(path)) == sorted(["https://localhost:%s" % PORT, other])
    for u in (URL, other):
        rc, out, err, _ = run(["--token-file", path, "get", "/api/account"], url=u)
        assert rc == 0, (u, err)


def test_token_cache_files_are_checked():
    d = tempfile.mkdtemp(prefix="cache.", dir=TMP)
    good = os.path.join(d, "good")
    assert run(["--token-file", good, "login"], PASSWORD)[0] == 0
    # a symbolic link to another file: refused, not followed
    link = os.path.join(d, "link")
    os.symlink(good, link)
    rc, _, err, _ = run(["--token-file", link, "get", "/api/account"])
    assert rc == 8 and "symbolic link" in err, (rc, err)
    # a FIFO: refused at once, no hang
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo, 0o600)
    rc, _, err, _ = run(["--token-file", fifo, "get", "/api/account"], timeout=10)
    assert rc == 8 and "regular file" in err, (rc, err)
    # readable by others
    loose = os.path.join(d, "loose")
    with open(good) as f, open(loose, "w") as g:
        g.write(f.read())
    os.chmod(loose, 0o644)
    rc, _, err, _ = run(["--token-file", loose, "get", "/api/account"])
    assert rc == 8 and "chmod 600" in err, (rc, err)
    # someone else's file (checked where we can give a file away: as root)
    if os.geteuid() == 0:
        theirs = os.path.join(d, "theirs")
        with open(good) as f, open(theirs, "w") as g:
            g.write(f.read())
        os.chmod(theirs, 0o600)
        os.chown(theirs, 65534, 65534)
        rc, _, err, _ = run(["--token-file", theirs, "get", "/api/account"])
        assert rc == 8 and "another user" in err, (rc, err)
    # a save that cannot happen fails the command
    rc, out, err, _ = run(["--token-file", os.path.join(d, "missing", "cache"), "login"], PASSWORD)
    assert rc == 8 and "cannot write token cache" in err and out == "", (rc, out, err)
    # the temporary file is a new one: files planted where the old name
    # (FILE.PID.tmp) would be are left alone, and none is left behind
    plant = os.path.join(d, "planted")
    pid = os.getpid()
    planted = ["%s.%d.tmp" % (plant, n) for n in range(pid, pid + 400)]
    for name in planted:
        open(name, "w").close()
        os.chmod(name, 0o666)
    assert run(["--token-file", plant, "login"], PASSWORD)[0] == 0
    assert all(os.path.exists(n) and os.path.getsize(n) == 0 for n in planted)
    left = [n for n in os.listdir(d) if n.startswith("planted.") and not n.endswith(".tmp")]
    assert left == [], left
    # an expired session, no password: said so, with the way out
    exp = {"alg": "HS512"}, {"sub": "admin", "auth": "ROLE_ADMIN", "authenticated": True, "exp": 1000000000}
    import base64
    b64 = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).decode().rstrip("=")
    old = os.path.join(d, "old")
    with open(old, "w") as f:
        f.write("utmstack-token-cache 1\n%s admin 1000000000 %s.%s.c2ln\n" % (URL, b64(exp[0]), b64(exp[1])))
    os.chmod(old, 0o600)
    rc, _, err, _ = run(["--token-file", old, "get", "/api/account"])
    assert rc == 2 and "expired at 2001-09-09T01:46:40Z: run `utmstack login`" in err, (rc, err)


def test_refused_login_is_recorded():
    # cron with a password that the server no longer takes: one failed login, not one a run
    path = os.path.join(TMP, "refused")
    bad = {"UTMSTACK_USER": "admin", "UTMSTACK_PASSWORD": "changed-on-the-server"}
    before = stats()["login_failures"]
    rc, _, err, _ = run(["--token-file", path, "get", "/api/account"], bad)
    assert rc == 3, (rc, err)
    assert stats()["login_failures"] == before + 1
    (origin, user, until, token), = cache_entries(path)
    assert token == "refused:401" and int(until) > time.time() + 200, (token, until)
    rc, _, err, _ = run(["--token-file", path, "get", "/api/account"], bad)
    assert rc == 3 and "refused this login (HTTP 401): not tried again before" in err, (rc, err)
    assert stats()["login_failures"] == before + 1
    # `login` tries at once; with the right password the entry becomes a session
    rc, _, err, _ = run(["--token-file", path, "login"], PASSWORD)
    assert rc == 0, err
    assert cache_entries(path)[0][3].count(".") == 2
    rc, out, err, _ = run(["--token-file", path, "get", "/api/account"], PASSWORD)
    assert rc == 0, err


def test_write_errors_fail():
    # output that cannot be written is a failure (exit 8), not a success
    for args in (["get", "/api/account"], ["search", "--index", "alert-*", "--size", "50"]):
        e = {k: v for k, v in os.environ.items() if not k.startswith("UTMSTACK_")}
        e.update(APIKEY, UTMSTACK_URL=URL, UTMSTACK_CA=CA)
        with open("/dev/full", "w") as full:
            p = subprocess.run(RUNNER + [TOOL] + args, env=e, stdout=full, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode()
        assert p.returncode == 8 and "write error: No space left on device" in err, (args, p.returncode, err)


def test_retry_with_backoff():
    # 503 with Retry-After twice, then the answer: --retry waits as told and succeeds
    fault({"fault": "unavailable", "path": "/api/account", "count": 2, "seconds": 1})
    t0 = time.time()
    rc, out, err, _ = run(["--retry", "3", "get", "/api/account"], APIKEY)
    assert rc == 0 and json.loads(out)["login"] == "admin", (rc, err)
    # Retry-After: 1, spread over a quarter more
    assert re.search(r"retry 1 of 3 in 1\.[0-3] s", err) and re.search(r"retry 2 of 3 in 1\.[0-3] s", err), err
    assert time.time() - t0 >= 2.0
    # without --retry: the 503 is the answer (exit 6)
    fault({"fault": "unavailable", "path": "/api/account", "count": 1})
    rc, _, err, _ = run(["get", "/api/account"], APIKEY)
    assert rc == 6 and "retry" not in err, (rc, err)
    # a 4xx is never retried, nor a post
    rc, _, err, _ = run(["--retry", "3", "get", "/api/no-such-thing"], APIKEY)
    assert rc == 6 and "retry" not in err, (rc, err)
    fault({"fault": "unavailable", "path": "/api/emulator-notes", "count": 1})
    rc, _, err, _ = run(["--retry", "3", "post", "/api/emulator-notes", "--data", "{}"], APIKEY)
    assert rc == 6 and "retry" not in err, (rc, err)


def test_version_and_help():
    for args in (["--version"], ["version"], ["-V"]):
        rc, out, _, _ = run(args)
        assert rc == 0 and re.match(r"utmstack \d+\.\d+\.\d+ \(utmstack\.h .*, mbedTLS \d", out), (args, out)
    rc, out, _, _ = run(["help"])
    assert rc == 0 and "Exit status" in out and "help [COMMAND" in out
    rc, out, _, _ = run(["help", "search"])
    assert rc == 0 and "--all" in out and "Exit status" not in out
    rc, out, _, _ = run(["help", "filter"])
    ops = ["IS", "IS_NOT", "CONTAIN", "DOES_NOT_CONTAIN", "CONTAIN_ONE_OF", "DOES_NOT_CONTAIN_ONE_OF", "IS_ONE_OF",
           "IS_NOT_ONE_OF", "IS_ONE_OF_TERMS", "EXIST", "DOES_NOT_EXIST", "IS_BETWEEN", "IS_NOT_BETWEEN",
           "IS_IN_FIELDS", "IS_NOT_IN_FIELDS", "ENDS_WITH", "NOT_ENDS_WITH", "START_WITH", "NOT_START_WITH",
           "IS_GREATER_THAN", "IS_LESS_THAN_OR_EQUALS"]
    assert rc == 0 and all(re.search(r"^  %s$" % o, out, re.M) for o in ops), out
    assert run(["help", "frobnicate"])[0] == 2
    # a near miss of an operator: the nearest named
    rc, _, err, _ = run(["search", "--index", "alert-*", "--filter", "severity:is:3"], APIKEY)
    assert rc == 2 and "did you mean IS?" in err, err
    rc, _, err, _ = run(["search", "--index", "alert-*", "--filter", "name:CONTAINS:x"], APIKEY)
    assert rc == 2 and "did you mean CONTAIN?" in err, err


def test_options_that_do_not_apply():
    for args, what in ((["get", "/api/account", "--index", "alert-*"], "--index"),
                       (["get", "/api/account", "--all"], "--all"),
                       (["search", "--index", "alert-*", "-d", "{}"], "--data"),
                       (["login", "--filter", "a:IS:1"], "--filter"),
                       (["search", "--index", "alert-*", "-H", "X-A: 1"], "-H")):
        rc, _, err, _ = run(args, APIKEY)
        assert rc == 2 and what in err and "does not apply" in err, (args, err)
    for args, what in ((["--size", "0"], "--size"), (["--page", "0"], "--page"), (["--top", "0"], "--top"),
                       (["--page", "-1"], "--page"), (["--size", "1x"], "--size")):
        rc, _, err, _ = run(["search", "--index", "alert-*"] + args, APIKEY)
        assert rc == 2 and what in err, (args, err)


def test_timeout_units():
    for args in (["--timeout", "800ms"], ["--timeout", "0.8s"], ["--max-time", "0.8"], ["-m", "0.8"], ["--timeout", "800"]):
        fault({"fault": "stall-before", "path": "/api/account", "seconds": 3})
        t0 = time.time()
        rc, _, err, _ = run(args + ["get", "/api/account"], APIKEY)
        took = time.time() - t0
        assert rc == 5 and "timed out" in err and 0.6 < took < 2.5, (args, rc, err, took)
        # a slow run (valgrind) may time out in the handshake, before the request
        # that takes the fault: none may be left for the next run
        fault({"fault": "clear"})
        time.sleep(2.5)  # the stalled answer is over
    fault({"fault": "stall-before", "path": "/api/account", "seconds": 3})
    t0 = time.time()
    rc, _, err, _ = run(["get", "/api/account"], dict(APIKEY, UTMSTACK_TIMEOUT_MS="800"))  # still milliseconds
    assert rc == 5 and time.time() - t0 < 2.5, (rc, err)
    fault({"fault": "clear"})
    time.sleep(2.5)
    assert run(["--timeout", "2m", "get", "/api/account"], APIKEY)[0] == 0
    for bad in ("5x", "-1", "ms", "1e99s"):
        rc, _, err, _ = run(["--timeout", bad, "get", "/api/account"], APIKEY)
        assert rc == 2 and "--timeout" in err, (bad, err)


def test_password_prompt():
    """No password source and standard input a terminal: asked without echo."""
    rc, text = run_on_terminal(["login"], {"UTMSTACK_USER": "admin"}, b"Password for admin: ", b"s3cret-Passw0rd\n")
    assert rc == 0 and '"authenticated":true' in text, text
    assert "s3cret-Passw0rd" not in text, text  # not echoed
    # not a terminal: no prompt, a usage error as before
    assert run(["login"], {"UTMSTACK_USER": "admin"})[0] == 2


def run_on_terminal(args, env, prompt=None, answer=None):
    """The tool with stdin, stdout and stderr a pseudo-terminal, answering the
    prompt when it appears: (exit code, what it wrote)."""
    import pty
    import select
    import signal
    pid, fd = pty.fork()
    if pid == 0:
        e = {k: v for k, v in os.environ.items() if not k.startswith("UTMSTACK_")}
        e.update(env, UTMSTACK_URL=URL, UTMSTACK_CA=CA)
        os.execve(TOOL, [TOOL] + args, e)
    seen, answered = b"", not prompt
    deadline = time.time() + 30  # a tool that waits for ever fails the test, not the suite
    while True:
        if not answered and prompt in seen:
            os.write(fd, answer)
            answered = True
        left = deadline - time.time()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            os.kill(pid, signal.SIGKILL)
            seen += b"\n[killed: still running after 30 s]"
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the terminal's other end closed: the tool is done
            chunk = b""
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    return (os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1), seen.decode("utf-8", "replace")


def test_get_ends_its_line_on_a_terminal():
    rc, text = run_on_terminal(["get", "/api/account"], APIKEY)  # a JSON body without a final newline
    assert rc == 0 and text.endswith("}\r\n"), repr(text)
    rc, out, _, _ = run(["get", "/api/account"], APIKEY)  # not a terminal: the body as sent
    assert rc == 0 and out.endswith("}"), repr(out)


def test_extra_headers_and_bodies():
    rc, out, err, _ = run(["get", "/api/emulator-echo", "-H", "X-Trace: abc 1", "--header", "Accept:text/plain"], APIKEY)
    got = json.loads(out)
    assert rc == 0 and got["x-trace"] == "abc 1" and got["accept"] == "text/plain", (out, err)
    for bad in ("Authorization: Bearer x", "utm-internal-key: k", "Host: evil", "no colon", ": empty name"):
        rc, _, err, _ = run(["get", "/api/emulator-echo", "-H", bad], APIKEY)
        assert rc == 2 and "-H" in err, (bad, err)
    rc, _, err, _ = run(["get", "/api/emulator-echo", "-H", "X-A: a\r\nX-B: b"], APIKEY)
    assert rc == 2 and "line break" in err, err
    body = secret_file("note2.json", '{"text":"from a file"}')
    rc, out, err, _ = run(["post", "/api/emulator-notes", "-d", "@" + body], PASSWORD)
    assert rc == 0 and json.loads(out)["text"] == "from a file", err
    rc, out, err, _ = run(["post", "/api/emulator-notes", "-d", "@-"], PASSWORD, stdin='{"text":"piped"}')
    assert rc == 0 and json.loads(out)["text"] == "piped", err
    rc, _, err, _ = run(["post", "/api/emulator-notes", "-d", "@/no/such/file"], PASSWORD)
    assert rc == 2 and "/no/such/file" in err and "No such file" in err, err


def test_silent_and_whole_url_path():
    rc, out, err, _ = run(["search", "-s", "--index", "alert-*", "--size", "3"], APIKEY)
    assert rc == 0 and len(ndjson(out)) == 3 and "total=" not in err, err
    rc, out, err, _ = run(["get", URL + "/api/account"], APIKEY)
    assert rc == 0 and json.loads(out)["login"] == "admin", err
    rc, out, err, _ = run(["get", "HTTPS://LOCALHOST:%s/api/account?x=1" % PORT], APIKEY)
    assert rc == 0, err
    rc, _, err, _ = run(["get", "https://other.example:%s/api/account" % PORT], APIKEY)
    assert rc == 2 and "not on the --url server" in err, err
    rc, _, err, _ = run(["get", "https://localhost:1/api/account"], APIKEY)
    assert rc == 2 and "not on the --url server" in err, err


def spki_sha256(pem_path):
    pub = subprocess.run(["openssl", "x509", "-in", pem_path, "-pubkey", "-noout"], capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub, capture_output=True,
                         check=True).stdout
    import hashlib
    return hashlib.sha256(der).digest()


def test_pin_and_client_certificate():
    import base64
    pin = spki_sha256(os.path.join(PKI, "server.pem"))
    rc, out, err, _ = run(["--pin", pin.hex(), "get", "/api/account"], APIKEY)
    assert rc == 0, err
    rc, out, err, _ = run(["--pin", ":".join("%02X" % b for b in pin), "get", "/api/account"], APIKEY, ca=None)
    assert rc == 0, err  # the pin alone is the trust
    rc, out, err, _ = run(["--pin", "sha256//" + base64.b64encode(pin).decode(), "get", "/api/account"], APIKEY)
    assert rc == 0, err
    rc, _, err, _ = run(["--pin", "00" * 32, "get", "/api/account"], APIKEY)
    assert rc == 4 and "pin" in err, err
    for bad in ("abc", "zz" * 32, "00" * 33, "sha256//AAAA"):
        assert run(["--pin", bad, "get", "/api/account"], APIKEY)[0] == 2, bad
    # a client certificate (the server here does not ask for one: it is loaded and checked)
    cert, key = os.path.join(PKI, "client.pem"), os.path.join(PKI, "client.key")
    rc, _, err, _ = run(["--cert", cert, "--key", key, "get", "/api/account"], APIKEY)
    assert rc == 0, err
    rc, _, err, _ = run(["--cert", cert, "--key", os.path.join(PKI, "server.key"), "get", "/api/account"], APIKEY)
    assert rc == 4 and "client key" in err, err
    rc, _, err, _ = run(["--cert", cert, "get", "/api/account"], APIKEY)
    assert rc == 2 and "--key" in err, err
    # a server that asks for one (tests/run.sh's MTLS emulator): refused without, served with
    mtls = "https://localhost:%s" % os.environ["UTM_PORT_MTLS"]
    assert run(["get", "/api/account"], APIKEY, url=mtls)[0] in (4, 5)
    rc, out, err, _ = run(["--cert", cert, "--key", key, "get", "/api/account"], APIKEY, url=mtls)
    assert rc == 0 and json.loads(out)["login"] == "admin", err
    rc, _, err, _ = run(["--cert", "/no/such.pem", "--key", key, "get", "/api/account"], APIKEY)
    assert rc == 2 and "/no/such.pem" in err, err


def test_all_says_when_it_stops_at_top():
    before = stats()["searches"]
    rc, out, err, _ = run(["search", "--index", "alert-*", "--all"], APIKEY)
    assert rc == 0 and len(ndjson(out)) == 250 and "total=250" in err and "stopped" not in err, err
    assert stats()["searches"] - before == 1, "--all asks for large pages"
    rc, out, err, _ = run(["search", "--index", "alert-*", "--all", "--top", "30", "--size", "7"], APIKEY)
    assert rc == 0 and len(ndjson(out)) == 30, err
    assert "stopped at --top 30; there may be more" in err, err
    # X-Total-Count is capped at top: reaching top, the tool cannot know and says so
    rc, out, err, _ = run(["search", "--index", "alert-*", "--all", "--top", "250"], APIKEY)
    assert rc == 0 and len(ndjson(out)) == 250 and "there may be more" in err, err


def test_error_messages_say_what_to_fix():
    rc, _, err, _ = run(["get", "/api/account"], APIKEY, ca="/no/such/ca.pem")
    assert rc == 4 and "/no/such/ca.pem" in err and "No such file" in err, err
    rc, _, err, _ = run(["get", "/api/account"], APIKEY, url="https://127.0.0.1:1")
    assert rc == 5 and "127.0.0.1:1" in err and "refused" in err, err
    assert err.count("could not connect") == 1, err
    rc, _, err, _ = run(["--insecure", "get", "/api/account"], APIKEY, ca=os.path.join(PKI, "rogue-ca.pem"))
    assert rc == 0 and err.count("warning") == 1, err
    rc, _, err, _ = run(["search", "--index", "alert-*", "--page", "x"], APIKEY)
    assert rc == 2 and "--page" in err, err
    # by address, to a server whose certificate holds only a name: the --servername fix
    rc, _, err, _ = run(["get", "/api/account"], APIKEY, url="https://127.0.0.1:%s" % os.environ["UTM_PORT_WRONGHOST"])
    assert rc == 4 and "--servername" in err, err
    rc, _, err, _ = run(["--servername", "wrong.example", "get", "/api/account"], APIKEY,
                        url="https://127.0.0.1:%s" % os.environ["UTM_PORT_WRONGHOST"])
    assert rc == 0, err


def test_control_bytes_never_reach_the_terminal():
    fault({"fault": "raw-controls", "path": "/api/elasticsearch/search"})
    rc, out, err, _ = run(["search", "--index", "alert-*"], APIKEY)
    assert rc == 0 and "\x7f" not in out and "\u009b" not in out, repr(out)
    assert json.loads(out)["name"] == "a\x7fb\u009bc\u00e9" and "\\u007f" in out and "\\u009b" in out, repr(out)
    fault({"fault": "raw-controls", "path": "/api/account"})  # in the error body
    rc, out, err, _ = run(["get", "/api/account"], APIKEY)
    assert rc == 6 and "\x1b" not in err and "body\\x1b[2J!" in err and "bad request" in err, repr(err)
    fault({"fault": "raw-controls-header", "path": "/api/account"})  # in X-UtmStack-error: a malformed header
    rc, out, err, _ = run(["get", "/api/account"], APIKEY)
    assert rc == 5 and "\x1b" not in err and "\x07" not in err, repr(err)


def test_option_beats_environment():
    rc, out, err, _ = run(["--url", URL, "get", "/api/account"], APIKEY, url="https://127.0.0.1:1")
    assert rc == 0 and json.loads(out)["login"] == "admin", err
    rc, out, err, _ = run(["--api-key-file", KEY_FILE, "get", "/api/account"], {"UTMSTACK_API_KEY": "wrong"})
    assert rc == 0 and json.loads(out)["login"] == "admin", err


def test_quickstart_example():
    e = dict(os.environ, UTMSTACK_URL=URL, UTMSTACK_CA=CA, UTMSTACK_USER="admin", UTMSTACK_PASSWORD="s3cret-Passw0rd")
    p = subprocess.run(RUNNER + [os.path.join(os.path.dirname(TOOL), "quickstart")], env=e, capture_output=True,
                       text=True, timeout=60)
    lines = p.stdout.splitlines()
    assert p.returncode == 0, p.stderr
    assert len(lines) == 11 and lines[0].startswith(" 1  20") and lines[-1].endswith("alerts in all"), lines
    e["UTMSTACK_PASSWORD"] = "wrong-password"
    p = subprocess.run(RUNNER + [os.path.join(os.path.dirname(TOOL), "quickstart")], env=e, capture_output=True,
                       text=True)
    assert p.returncode == 1 and "Bad credentials" in p.stderr, p.stderr


def test_minimal_example():
    e = dict(os.environ, UTMSTACK_URL=URL, UTMSTACK_CA=CA, UTMSTACK_API_KEY=KEY)
    p = subprocess.run(RUNNER + [os.path.join(os.path.dirname(TOOL), "minimal")], env=e, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.startswith("200 {") and '"login": "admin"' in p.stdout, (p.stdout, p.stderr)


def test_bench_client_contract():
    """build/utmstack_bench: the benchmark's fixed command line and summary line."""
    bench = [os.path.join(os.path.dirname(TOOL), "utmstack_bench")]
    base = ["--host", "127.0.0.1", "--port", PORT, "--ca", CA, "--servername", "localhost", "--size", "25"]
    p = subprocess.run(RUNNER + bench + base + ["--mode", "apikey", "--requests", "5", "--api-key", KEY],
                       capture_output=True, text=True, timeout=60)
    line = p.stdout.strip()
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 1, (p.stdout, p.stderr)
    assert re.match(r"^requests=5 ok=5 connects=1 bytes=[1-9]\d* seconds=\d+\.\d+( \w+=\S+)*$", line), line
    p = subprocess.run(RUNNER + bench + base + ["--mode", "bearer", "--requests", "3", "--no-reuse", "--user", "admin",
                                                 "--password", "s3cret-Passw0rd"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("requests=3 ok=3 connects=4 "), (p.stdout, p.stderr)
    assert "handshakes_resumed=3" in p.stdout, p.stdout
    p = subprocess.run(RUNNER + bench + base + ["--mode", "apikey", "--requests", "2", "--api-key", "wrong"],
                       capture_output=True, text=True)
    assert p.returncode == 1 and p.stdout.startswith("requests=2 ok=0 "), p.stdout
    for bad in (["--mode", "nope", "--requests", "1"], ["--mode", "apikey"], ["--mode", "apikey", "--requests", "x"]):
        assert subprocess.run(bench + base + bad, capture_output=True).returncode == 2, bad


def test_constant_memory_stream():
    """50,000 documents in one answer: peak RSS as for 5,000."""
    base = ["search", "--index", "bulk-*"]
    rc_s, n_s, bad_s, err_s, rss_s = run_rss(base + ["--size", "5000", "--top", "5000"], APIKEY)
    rc_l, n_l, bad_l, err_l, rss_l = run_rss(base + ["--size", "50000", "--top", "50000"], APIKEY)
    print("  peak RSS: %d KiB for %d documents, %d KiB for %d documents" % (rss_s, n_s, rss_l, n_l))
    assert rc_s == 0 and rc_l == 0, (err_s, err_l)
    assert n_s == 5000 and n_l == 50000 and bad_s == 0 and bad_l == 0
    assert "total=50000" in err_l
    assert rss_l <= rss_s + 512, (rss_s, rss_l)   # within 512 KiB (noise): 50k documents would be ~12 MiB


def main():
    tests = [(k, v) for k, v in globals().items() if k.startswith("test_") and callable(v)]
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
            passed += 1
        except Exception:  # noqa: BLE001 - every failure is reported, none stops the others
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc(limit=3, file=sys.stdout)
    shutil.rmtree(TMP, ignore_errors=True)  # the password and key files too
    print("cli: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

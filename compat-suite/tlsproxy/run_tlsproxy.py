#!/usr/bin/env python3
"""compat area tlsproxy: posttls-finger(1), the reference's and ours, run
against the same scripted TLS servers with the same certificates. (The
tlsproxy(8) daemon itself is not built yet; its cases, smtp with
smtp_tls_connection_reuse = yes through each side's tlsproxy, belong here
once it is.)

The certificates are made once per run with openssl(1): a CA, a server
certificate it signed (CN=mail.example.com, subjectAltName localhost and
mail.example.com), a self-signed RSA certificate (CN=self.example) and a
self-signed ECDSA P-256 one (CN=ec.example). The servers (fingerserver.py)
listen on loopback ports chosen by the system, or on a UNIX-domain socket
for LMTP; each case names one of them (SERVERS below).

Cases are data: finger.cases, one per line, "NAME SERVER ARGUMENTS..."
(arguments split like a POSIX shell; placeholders {dest} "[127.0.0.1]:port"
of the case's server, {port}, {certs} the certificate folder, {unix} the
LMTP socket, {fp:FILE:DIGEST} and {pkfp:FILE:DIGEST} a certificate's or its
public key's fingerprint, {closed} a port nobody listens on). Each side runs
with MAIL_CONFIG set to its own configuration directory with the same
(empty unless the case's server says otherwise) main.cf. Compared: the
exit status, stdout, stderr and what the server received on each
connection. Ports, the certificate folder and the socket path are
normalised; nothing else.

Usage: run_tlsproxy.py --ours BUILD [--reference CACHE] [--case SUBSTRING]
                       [--show-diff] [--retries N] [--print-reference]
A case that differs is run again (once by default); when it then matches
it passes, and a line "FLAKY tlsproxy/NAME: identical on attempt K" on
stderr shows it.
Prints "tlsproxy: N cases, N identical, N known differences" and
"N passed, N failed"; exit 0 only when nothing failed.

Trusts: its own cases; the programs' output is compared, not interpreted.
"""

import argparse
import difflib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(COMPAT, "lib"))
sys.path.insert(0, HERE)
import pfinstance  # noqa: E402
from fingerserver import FingerServer  # noqa: E402

EHLO_PLAIN = ["PIPELINING", "SIZE 10240000", "8BITMIME"]

# name -> (script for FingerServer, listen on the UNIX socket)
SERVERS = {
    "ca": ({"cert": ("server.pem", "server.key")}, False),
    "self": ({"cert": ("self.pem", "self.key")}, False),
    "ec": ({"cert": ("ec.pem", "ec.key")}, False),
    "notls": ({"cert": ("server.pem", "server.key"), "starttls_offered": False}, False),
    "refuse": ({"cert": ("server.pem", "server.key"),
                "starttls": "454 4.7.0 TLS not available due to local problem"}, False),
    "noehlo": ({"cert": ("server.pem", "server.key"), "ehlo": None}, False),
    "down": ({"cert": ("server.pem", "server.key"),
              "greeting": "554 5.3.2 test.example Service currently unavailable"}, False),
    "wrapper": ({"cert": ("server.pem", "server.key"), "wrapper": True}, False),
    "broken": ({"cert": ("server.pem", "server.key"), "break_tls": True}, False),
    "resume": ({"cert": ("server.pem", "server.key"), "resume": True}, False),
    "plain": ({"cert": ("server.pem", "server.key"), "ehlo": EHLO_PLAIN}, False),
    "lmtp": ({"cert": ("server.pem", "server.key")}, True),
    "flood": ({"cert": ("self.pem", "self.key"), "greeting": "220 " + "g" * 5000,
               "ehlo": ["X%02d" % i + "y" * 3000 for i in range(40)]}, False),
    "silent": ({"cert": ("server.pem", "server.key"), "greeting": None}, False),
    "oddbytes": ({"cert": ("self.pem", "self.key"), "name": "te\x01st.example\tx",
                  "greeting": "220 odd\x7f\x02 greeting"}, False),
}


def make_certs(d):
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "3650", "-subj", "/CN=Test CA/O=Example")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=DNS:mail.example.com,DNS:localhost\n")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=mail.example.com")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "3650", "-extfile", "ext")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out", "self.pem",
        "-days", "3650", "-subj", "/CN=self.example")
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ec.key", "-out", "ec.pem", "-days", "3650", "-subj", "/CN=ec.example")
    with open(os.path.join(d, "chain.pem"), "w") as out:
        for name in ("self.key", "self.pem"):
            with open(os.path.join(d, name)) as f:
                out.write(f.read())
    os.makedirs(os.path.join(d, "capath"))
    shutil.copy(os.path.join(d, "ca.pem"), os.path.join(d, "capath", "ca.pem"))
    subprocess.run(["openssl", "rehash", os.path.join(d, "capath")], check=True, capture_output=True)
    for root, dirs, files in os.walk(d):
        for f in dirs:
            os.chmod(os.path.join(root, f), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)


def fingerprint(path, digest, pkey):
    if pkey:
        der = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-pubkey"], capture_output=True,
                             check=True).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=der, capture_output=True,
                             check=True).stdout
        out = subprocess.run(["openssl", "dgst", f"-{digest}", "-r"], input=der, capture_output=True,
                             check=True, text=False).stdout.decode().split()[0]
        return ":".join(out[i:i + 2] for i in range(0, len(out), 2)).upper()
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", f"-{digest}", "-in", path],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1]


def read_cases(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = shlex.split(line)
            if len(words) < 2 or words[1] not in SERVERS:
                raise SystemExit(f"{path}:{n}: bad case line: {line}")
            cases.append((words[0], words[1], words[2:]))
    return cases


def expand(arg, ctx):
    def sub(m):
        key = m.group(1)
        if key.startswith("fp:") or key.startswith("pkfp:"):
            kind, name, digest = key.split(":")
            return fingerprint(os.path.join(ctx["certs"], name), digest, kind == "pkfp")
        return str(ctx[key])
    return re.sub(r"\{([a-z]+(?::[^}]*)?)\}", sub, arg)


def run_side(program, env, config, args, server, timeout):
    server.reset()
    e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
         "MAIL_CONFIG": config, **env}
    try:
        p = subprocess.run(["posttls-finger", *args], executable=program, capture_output=True, env=e,
                           timeout=timeout, cwd=config)
        status, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        status, out, err = "timeout", b"", b""
    # The server's threads may still be reading the client's last bytes, or
    # a connection the client made and dropped may not be accepted yet:
    # wait until the server is idle twice in a row.
    pfinstance.wait_for(lambda: not server.busy() and not pfinstance.wait_for(server.busy, 0.05), 10)
    with server.lock:
        conns = [b"".join(t) for t in server.transcripts]
    return status, out, err, conns


def transcript(result, ctx):
    status, out, err, conns = result
    text = [f"exit {status}", "--- stdout", out.decode("utf-8", "backslashreplace"),
            "--- stderr", err.decode("utf-8", "backslashreplace")]
    for i, c in enumerate(conns):
        text += [f"--- connection {i + 1}", c.decode("latin-1")]
    s = "\n".join(text)
    s = s.replace(ctx["certs"], "{certs}").replace(ctx["tmp"], "{tmp}")
    for port in ctx["ports"]:
        s = re.sub(rf"(?<![0-9]){port}(?![0-9])", "{port}", s)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True, help="our build directory (bin/posttls-finger)")
    ap.add_argument("--reference", default=pfinstance.DEFAULT_REFERENCE)
    ap.add_argument("--case", action="append")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--print-reference", action="store_true")
    ap.add_argument("--retries", type=int, default=1,
                    help="run a differing case again this many times (timing); 0: never")
    opts = ap.parse_args()

    ref = pfinstance.reference_side(os.path.abspath(opts.reference))
    ours = pfinstance.ours_side(os.path.abspath(opts.ours))
    programs = [(ref, os.path.join(ref.command_dir, "posttls-finger")),
                (ours, os.path.join(ours.command_dir, "posttls-finger"))]
    for _, p in programs:
        if not os.access(p, os.X_OK):
            print(f"tlsproxy: missing {p}", file=sys.stderr)
            return 1
    if shutil.which("openssl") is None:
        print("tlsproxy: no openssl(1) to make the test certificates: skipped", file=sys.stderr)
        return 77

    tmp = tempfile.mkdtemp(prefix="pf-tlsproxy-compat-")
    os.chmod(tmp, 0o755)
    servers = []
    try:
        certs = os.path.join(tmp, "certs")
        os.makedirs(certs)
        make_certs(certs)
        ctx = {"certs": certs, "tmp": tmp, "ports": []}
        by_name = {}
        for name, (script, unix) in SERVERS.items():
            s = dict(script)
            s["cert"] = tuple(os.path.join(certs, f) for f in s["cert"])
            path = os.path.join(tmp, "lmtp.sock") if unix else None
            srv = FingerServer(s, unix_path=path)
            servers.append(srv)
            by_name[name] = srv
            if srv.port:
                ctx["ports"].append(srv.port)
        closed = pfinstance.free_port()
        ctx["ports"].append(closed)
        ctx["closed"] = closed
        ctx["unix"] = os.path.join(tmp, "lmtp.sock")
        configs = []
        for side, _ in programs:
            d = os.path.join(tmp, f"config-{side.label}")
            os.makedirs(d)
            os.chmod(d, 0o755)
            pfinstance.write_config(os.path.join(d, "main.cf"), "")
            configs.append(d)

        cases = read_cases(os.path.join(HERE, "finger.cases"))
        known = pfinstance.read_known("tlsproxy")
        selected = [c for c in cases if not opts.case or any(s in c[0] for s in opts.case)]
        identical, failed, known_seen = 0, [], 0
        for name, server, args in selected:
            srv = by_name[server]
            c = dict(ctx, dest=f"[127.0.0.1]:{srv.port}", port=srv.port)
            argv = [expand(a, c) for a in args]
            for attempt in range(1 + opts.retries):
                texts = []
                for (side, program), config in zip(programs, configs):
                    if opts.print_reference and side.label == "ours":
                        continue
                    texts.append(transcript(run_side(program, side.env, config, argv, srv, 60), ctx))
                if opts.print_reference or texts[0] == texts[1]:
                    break
                first = texts
            if opts.print_reference:
                print(f"=== {name}\n{texts[0]}")
                continue
            a, b = texts
            same = a == b
            if same and attempt > 0:
                print(f"FLAKY tlsproxy/{name}: identical on attempt {attempt + 1}", file=sys.stderr)
                if opts.show_diff:
                    sys.stderr.writelines(difflib.unified_diff(
                        first[0].splitlines(True), first[1].splitlines(True), "reference", "ours"))
            if same:
                identical += 1
            if same == (name in known):
                failed.append(name)
                what = "stale known difference" if same else "differs"
                print(f"FAIL tlsproxy/{name}: {what}")
                if not same and opts.show_diff:
                    sys.stdout.writelines(difflib.unified_diff(
                        a.splitlines(True), b.splitlines(True), "reference", "ours"))
            elif not same:
                known_seen += 1
        if opts.print_reference:
            return 0
        print(f"tlsproxy: {len(selected)} cases, {identical} identical, {known_seen} known differences")
        print(f"{len(selected) - len(failed)} passed, {len(failed)} failed")
        return 1 if failed else 0
    finally:
        for s in servers:
            s.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The smtp-tls area of the compat-suite: the smtp client's TLS levels.

compat-suite/smtp's machinery (run_smtp.py: one transport per case with -o
settings, the messages submitted with each side's sendmail, the server
transcripts and log lines compared after the pipeline area's
normalisation), with TLS-capable scripted servers (tlsserver.py) and the
cases below: smtp_tls_security_level none/may/encrypt/verify/secure/
fingerprint, smtp_tls_policy_maps, smtp_tls_CAfile, a client certificate,
smtp_tls_wrappermode, servers that do not offer or refuse STARTTLS.

The certificates are made once per run with openssl(1): a CA and a server
certificate for "localhost" it signed, a self-signed server certificate,
and a client pair.

Trusts: its own cases. Needs root (master runs as root).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(COMPAT, "smtp"))
import run_smtp  # noqa: E402
import tlsserver  # noqa: E402

CERTS = tempfile.mkdtemp(prefix="pf-smtp-tls-certs-")
os.chmod(CERTS, 0o755)


def make_certs(d):
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "3650", "-subj", "/CN=Test CA/O=Example")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,DNS:mx.c.test\n")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "3650", "-extfile", "ext")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out", "self.pem",
        "-days", "3650", "-subj", "/CN=self.example")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.pem",
        "-days", "3650", "-subj", "/CN=client.example")
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)


def fingerprint(path):
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", path],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1]


make_certs(CERTS)
SIGNED = (os.path.join(CERTS, "server.pem"), os.path.join(CERTS, "server.key"))
SELF = (os.path.join(CERTS, "self.pem"), os.path.join(CERTS, "self.key"))
CA = os.path.join(CERTS, "ca.pem")
LOG1 = "smtp_tls_loglevel=1"


def case(name, server=None, **kw):
    c = {"name": name, "server": dict({"cert": SIGNED}, **(server or {})), "opts": [], "rcpts": ["alice"],
         "args": [], "body": run_smtp.case_list.BODY, "lmtp": False, "nexthop": "[127.0.0.1]:{port}",
         "fallback": None}
    extra = kw.pop("opts_extra", False)
    c.update(kw)
    if extra:
        # The reference's smtp looks host names up in the DNS only.
        c["opts"] = c["opts"] + ["smtp_host_lookup=dns,native"]
    return c


# One recipient per delivery; the deliveries one after the other ("maxproc1":
# the transport's master.cf entry allows one process).
RESUME_MAIN = ["{t}_destination_recipient_limit = 1"]

CASES = [
    case("none-offered", opts=["smtp_tls_security_level=none"]),
    case("may-tls", opts=["smtp_tls_security_level=may", LOG1]),
    case("may-quiet", opts=["smtp_tls_security_level=may"]),
    case("may-not-offered", {"starttls_offered": False}, opts=["smtp_tls_security_level=may", LOG1]),
    case("may-refused", {"starttls": "454 4.7.0 TLS not available due to local problem"},
         opts=["smtp_tls_security_level=may", LOG1]),
    case("may-trusted", opts=["smtp_tls_security_level=may", LOG1, f"smtp_tls_CAfile={CA}"]),
    case("encrypt-tls", opts=["smtp_tls_security_level=encrypt", LOG1]),
    case("encrypt-not-offered", {"starttls_offered": False}, opts=["smtp_tls_security_level=encrypt", LOG1]),
    case("encrypt-refused", {"starttls": "454 4.7.0 TLS not available due to local problem"},
         opts=["smtp_tls_security_level=encrypt", LOG1]),
    case("encrypt-helo-only", {"ehlo": None}, opts=["smtp_tls_security_level=encrypt", LOG1]),
    case("verify-ok", opts=["smtp_tls_security_level=verify", LOG1, f"smtp_tls_CAfile={CA}"],
         nexthop="[localhost]:{port}", opts_extra=True),
    case("verify-untrusted", {"cert": SELF}, opts=["smtp_tls_security_level=verify", LOG1, f"smtp_tls_CAfile={CA}"],
         nexthop="[localhost]:{port}", opts_extra=True),
    case("secure-ok", opts=["smtp_tls_security_level=secure", LOG1, f"smtp_tls_CAfile={CA}",
                            "smtp_tls_secure_cert_match=localhost"], nexthop="[localhost]:{port}", opts_extra=True),
    case("fingerprint-ok", {"cert": SELF}, opts=["smtp_tls_security_level=fingerprint", LOG1,
                                                 f"smtp_tls_fingerprint_cert_match={fingerprint(SELF[0])}"]),
    case("fingerprint-wrong", {"cert": SELF}, opts=["smtp_tls_security_level=fingerprint", LOG1,
                                                    f"smtp_tls_fingerprint_cert_match={fingerprint(SIGNED[0])}"]),
    case("policy-encrypt", {"starttls_offered": False},
         opts=["smtp_tls_security_level=may", "smtp_tls_policy_maps=regexp:{instance}/etc/c{i}-policy", LOG1],
         files={"policy": b"/^\\[?127\\.0\\.0\\.1\\]?(:[0-9]+)?$/ encrypt\n"}),
    case("client-cert", {"ask_ccert": True}, opts=["smtp_tls_security_level=may", LOG1,
                                                   f"smtp_tls_cert_file={CERTS}/client.pem",
                                                   f"smtp_tls_key_file={CERTS}/client.key"]),
    # Opportunistic TLS whose handshake fails: a fresh message defers; an
    # address probe (or a message that waited minimal_backoff_time before
    # its first delivery) tries the same server again in plaintext; a
    # mandatory level defers.
    case("may-handshake-fails", {"break_tls": True}, opts=["smtp_tls_security_level=may", LOG1]),
    case("may-handshake-fails-probe", {"break_tls": True}, opts=["smtp_tls_security_level=may", LOG1],
         args=["-bv"]),
    case("encrypt-handshake-fails", {"break_tls": True}, opts=["smtp_tls_security_level=encrypt", LOG1]),
    # smtp_tls_policy_maps is keyed by the next hop as the transport gives
    # it, brackets and port included (not by the server's name).
    case("policy-nexthop-key", {"starttls_offered": False},
         opts=["smtp_tls_security_level=may", "smtp_tls_policy_maps=regexp:{instance}/etc/c{i}-policy", LOG1],
         files={"policy": b"/^\\[127\\.0\\.0\\.1\\]:[0-9]+$/ encrypt\n"}),
    case("policy-host-key-unused", {"starttls_offered": False},
         opts=["smtp_tls_security_level=may", "smtp_tls_policy_maps=regexp:{instance}/etc/c{i}-policy", LOG1],
         files={"policy": b"/^127\\.0\\.0\\.1$/ encrypt\n"}),
    case("wrapper", {"wrapper": True}, opts=["smtp_tls_wrappermode=yes", "smtp_tls_security_level=encrypt", LOG1]),
    # Session reuse through tlsmgr (smtp_tls_session_cache_database, in
    # main.cf for tlsmgr): two deliveries, one after the other, to a server
    # that can resume; the second offers the first one's session.
    case("resume-session", {"resume": True}, rcpts=["alice", "bob"], maxproc1=True,
         opts=["smtp_tls_security_level=may", "smtp_tls_loglevel=2"],
         main_extra=RESUME_MAIN),
    case("resume-session-wrapper", {"resume": True, "wrapper": True}, rcpts=["alice", "bob"], maxproc1=True,
         opts=["smtp_tls_wrappermode=yes", "smtp_tls_security_level=encrypt", "smtp_tls_loglevel=2"],
         main_extra=RESUME_MAIN),
]
# The client session cache tlsmgr keeps for the resume cases (a global
# setting: every case's sessions are cached, each under its own server).
MAIN_EXTRA = ["smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache"]

# The TLS lines of smtp (summary, certificate verification) carry no queue
# ID: they are matched to a case by its server's port ("...]:<port>:", or
# "...]:<port>&" in a session cache key).
PORTS = {}
_build = run_smtp.build


def build(cases, root):
    servers, cfg, msgs = _build(cases, root)
    for i, server in enumerate(servers):
        PORTS[i] = server.port
    extra = list(MAIN_EXTRA)
    for i, c in enumerate(cases):
        extra += [line.replace("{t}", f"t{i}") for line in c.get("main_extra", [])]
        if c.get("maxproc1"):
            program = "lmtp" if c["lmtp"] else "smtp"
            cfg["master"] = cfg["master"].replace(f"t{i} unix - - n - - {program}\n",
                                                  f"t{i} unix - - n - 1 {program}\n")
    cfg["main"] += "".join(line + "\n" for line in extra)
    return servers, cfg, msgs


_per_message = run_smtp.run_pipeline.per_message


def per_message(result, index):
    out = _per_message(result, index)
    port = PORTS.get(index)
    if port is None:
        return out
    tag = b"]:%d:" % port
    # The session cache lines name the server by their lookup key
    # ("t3&[127.0.0.1]:<port>&...").
    key_tag = b"]:%d&" % port
    lines = [ln for ln in result["log"].split(b"\n")
             if (tag in ln or key_tag in ln) and b"postfix/smtp[" in ln and b" to=<" not in ln]
    # The key's digest (of the server's EHLO name, the OpenSSL version, the
    # protocol and cipher lists) looks like a queue ID to the normaliser:
    # lower case keeps it compared.
    lines = [re.sub(rb"&&([0-9A-F]{64})\b", lambda m: b"&&" + m.group(1).lower(), ln) for ln in lines]
    if lines:
        out += b"tls:\n" + b"".join(run_smtp.run_pipeline.normalise(ln, result) + b"\n" for ln in lines)
    return out


run_smtp.build = build
run_smtp.run_pipeline.per_message = per_message
run_smtp.ScriptServer = tlsserver.TlsScriptServer
run_smtp.case_list.CASES = CASES
run_smtp.AREA = "smtp-tls"

if __name__ == "__main__":
    # run_smtp's retry runs the script its module's __file__ names again,
    # with the failing cases: this one, with this area's cases.
    run_smtp.__file__ = os.path.abspath(__file__)
    try:
        status = run_smtp.main()
    finally:
        shutil.rmtree(CERTS, ignore_errors=True)
    sys.exit(status)

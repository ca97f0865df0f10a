#!/usr/bin/env python3
"""The smtpd-tls area of the compat-suite: STARTTLS and port-465 dialogues.

The same machinery as compat-suite/smtpd (run_smtpd.py is imported: its
instances, case reader and player, with this area's steps through their
hooks, normalisation, queue-file and log comparison), with:

- a tlsmgr service in master.cf (both smtpds turn TLS off without one:
  "no entropy for TLS key generation"; master starts it on demand);
- test certificates made once per run with openssl(1) in a temporary
  folder ({certs} in a configuration's main.cf/master.cf/files): a server
  RSA pair (server.pem/server.key), an ECDSA pair (ec.pem/ec.key), a CA
  (ca.pem) and a client certificate it signed (client.pem/client.key),
  and a self-signed client certificate (self.pem/self.key);
- case directives for TLS (see README.md): "TLS" (handshake now, as Python
  ssl does it), "TLS: ccert" / "TLS: selfcert" (presenting a client
  certificate), "TLS: tls12" (at most TLSv1.2), "WRAPPER" (handshake right
  after connecting, before the greeting: the smtps port), "GARBAGE: text"
  (bytes sent where the handshake should be).

The handshake outcome is written into the transcript as
"(TLS <version> <cipher>)" (with " resumed" when the server took the
offered session) or "(TLS failed: <reason class>)".

Trusts: its own configs and cases. Needs root (master).
"""

import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "smtpd"))
import run_smtpd as R  # noqa: E402

R.HERE = HERE
R.AREA = "smtpd-tls"
R.MASTER_CF = R.MASTER_CF + "tlsmgr    unix  -       -       n       1000?   1       tlsmgr\n"

CERTS = None


def make_certs():
    d = tempfile.mkdtemp(prefix="pf-smtpd-tls-certs-")
    os.chmod(d, 0o755)

    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.pem",
        "-days", "3650", "-subj", "/CN=mail.example.com")
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ec.key", "-out", "ec.pem", "-days", "3650", "-subj", "/CN=mail.example.com")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "3650", "-subj", "/CN=Test CA/O=Example")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr",
        "-subj", "/CN=client.example.org")
    run("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "client.pem", "-days", "3650")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out", "self.pem",
        "-days", "3650", "-subj", "/CN=self.example.org")
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)
    return d


_read_config = R.read_config


def read_config(name):
    cfg = _read_config(name)
    cfg["main"] = cfg["main"].replace("{certs}", CERTS)
    cfg["master"] = cfg["master"].replace("{certs}", CERTS)
    cfg["files"] = {k: v.replace(b"{certs}", CERTS.encode()) for k, v in cfg["files"].items()}
    return cfg


_read_case = R.read_case


def read_case(path):
    """run_smtpd's format plus the TLS directives (TLS, TLS: ..., WRAPPER,
    GARBAGE: ...), each a step ("TLS", the line)."""
    def own(line, steps):
        s = line.strip()
        if s == "TLS" or s.startswith("TLS:") or s == "WRAPPER" or s.startswith("GARBAGE:"):
            steps.append(("TLS", s))
            return True
        return False
    return _read_case(path, own)


# "TLS: resume": the priming connection's contexts and sessions by the
# server's port and the directive's other words (a session resumes only
# with its own context; both sides run at once).
CONTEXTS = {}
SESSIONS = {}


def context_key(how, port):
    return (port, " ".join(w for w in how.replace("TLS:", " ").split() if w != "resume"))


def client_context(how, port=0):
    key = context_key(how, port)
    if "resume" in how and key in CONTEXTS:
        return CONTEXTS[key]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if "noticket" in how:
        ctx.options |= ssl.OP_NO_TICKET
    if "tls12" in how or "noticket" in how:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    CONTEXTS[key] = ctx
    if "selfcert" in how:
        ctx.load_cert_chain(os.path.join(CERTS, "self.pem"), os.path.join(CERTS, "self.key"))
    elif "ccert" in how:
        ctx.load_cert_chain(os.path.join(CERTS, "client.pem"), os.path.join(CERTS, "client.key"))
    return ctx


def handshake(conv, how, port=0):
    if conv.closed:
        conv.out.append("(TLS not started: closed)")
        return
    try:
        conv.sock.settimeout(R.REPLY_TIMEOUT)
        session = SESSIONS.get(context_key(how, port)) if "resume" in how else None
        tls = client_context(how, port).wrap_socket(conv.sock, server_hostname="mail.example.com", session=session)
        conv.sock = tls
        conv.out.append(f"(TLS {tls.version()} {tls.cipher()[0]}{' resumed' if tls.session_reused else ''})")
    except (ssl.SSLError, OSError) as e:
        conv.out.append(f"(TLS failed: {e.__class__.__name__})")
        conv.closed = True


def tls_step(conv, arg, port):
    """A "TLS:" step: garbage in place of a handshake, or the handshake."""
    if arg.startswith("GARBAGE:"):
        data = arg.split(":", 1)[1].strip().encode() + b"\r\n"
        conv.out.append("C> " + R.show(data))
        conv.send(data)
        return
    handshake(conv, arg, port)


def wrapper(conv, steps, port):
    """"TLS: WRAPPER" first: the handshake comes before the greeting."""
    if steps and steps[0] == ("TLS", "WRAPPER"):
        handshake(conv, "")
        return steps[1:]
    return steps


def prime(case, inst):
    """The priming connection of a "TLS: resume" case: EHLO, STARTTLS, a
    full handshake, EHLO (which also brings the TLSv1.3 ticket), QUIT;
    its session is kept for the case. Waits for its disconnect line so
    that the case's log window starts after it."""
    for kind, arg in case["steps"]:
        if kind == "TLS" and "resume" in arg:
            how = arg
            break
    else:
        return
    port = inst.port if case["port"] == 1 else inst.port2
    key = context_key(how, port)
    SESSIONS.pop(key, None)
    CONTEXTS.pop(key, None)
    ends = len(R.SESSION_END.findall(inst.log_text()))
    conv = R.Conversation(port)
    conv.read_reply()
    for line in (b"EHLO prime.example.org\r\n", b"STARTTLS\r\n"):
        conv.send(line)
        conv.read_reply()
    conv.sock.settimeout(R.REPLY_TIMEOUT)
    tls = client_context(how.replace("resume", ""), port).wrap_socket(conv.sock, server_hostname="mail.example.com")
    conv.sock = tls
    for line in (b"EHLO prime.example.org\r\n", b"QUIT\r\n"):
        conv.send(line)
        conv.read_reply()
    SESSIONS[key] = tls.session
    conv.read_to_close(R.END_TIMEOUT)
    conv.close()
    R.wait_for(lambda: len(R.SESSION_END.findall(inst.log_text())) > ends, R.LOG_TIMEOUT)


_run_case = R.run_case
_normalise = R.normalise


def normalise(data, inst, qids):
    """run_smtpd's normalisation, and the random TLS session IDs in the
    session cache lines."""
    data = re.sub(rb"(session )[0-9A-F]{2,64}(&s=)", rb"\1{sessionid}\2", data)
    return _normalise(data, inst, qids)



def run_case(case, inst, reference_postcat):
    prime(case, inst)
    return _run_case(case, inst, reference_postcat)


_fill = R.Conversation._fill


def fill(self, deadline):
    try:
        return _fill(self, deadline)
    except ssl.SSLError as e:
        self.out.append(f"!! {e.__class__.__name__}")
        self.closed = True
        return False


R.Conversation._fill = fill
R.read_config = read_config
R.read_case = read_case
R.EXTRA_STEPS["TLS"] = tls_step
R.BEFORE_GREETING = wrapper
R.run_case = run_case
R.normalise = normalise

if __name__ == "__main__":
    if os.geteuid() != 0:
        print("smtpd-tls: needs root (master runs as root)", file=sys.stderr)
        sys.exit(77)
    CERTS = make_certs()
    try:
        status = R.main()
    finally:
        shutil.rmtree(CERTS, ignore_errors=True)
    sys.exit(status)

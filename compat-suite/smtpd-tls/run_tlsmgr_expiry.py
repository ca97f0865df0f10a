#!/usr/bin/env python3
"""tlsmgr with the stock master.cf, and its session cache expiry scan.

Not part of CI (it waits for two expiry scans: about 4 minutes per side).
For each side (the reference, then ours) this starts a whole instance with
the distribution's master.cf (tlsmgr chrooted, as Debian ships it), smtpd
TLS at loglevel 2 with smtpd/smtp session caches and the smallest cache
timeout (120 s), makes two TLSv1.2 STARTTLS sessions without tickets (the
second resumes through tlsmgr's cache), waits for the scans that see the
entry and then delete it, and compares the normalised smtpd and tlsmgr
cache lines of both sides, and that no "fatal" or "panic" line was
logged.

    compat-suite/smtpd-tls/run_tlsmgr_expiry.py --ours <build> [--wait SECONDS]

Trusts: its own configuration. Needs root (master).
"""

import argparse
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(COMPAT, "pipeline"))
sys.path.insert(0, os.path.join(COMPAT, "lib"))
import pfinstance as I  # noqa: E402
import run_pipeline as P  # noqa: E402

INTERESTING = re.compile(r"postfix/(tlsmgr|smtpd)\[\d+\]: .*(cache|session|fatal|panic)|fatal:|panic:")


def normalise(line):
    line = re.sub(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ ", "", line)
    line = re.sub(r"\[\d+\]:", "[{pid}]:", line)
    line = re.sub(r"\b[0-9A-F]{16,128}&s=[^&\s]+&l=\d+", "{cache_id}", line)
    line = re.sub(r"time=\d+", "time={t}", line)
    line = re.sub(r"btree:\S+/data/", "btree:{data}/", line)
    return line


def session(port, ctx, sess):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO client.example.org\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    s.sendall(b"STARTTLS\r\n")
    f.readline()
    t = ctx.wrap_socket(s, server_hostname="mail.example.com", session=sess)
    g = t.makefile("rb")
    t.sendall(b"EHLO client.example.org\r\n")
    while not g.readline().startswith(b"250 "):
        pass
    t.sendall(b"QUIT\r\n")
    g.readline()
    reused, new = t.session_reused, t.session
    t.close()
    return reused, new


def run_side(side, root, certs, wait):
    cfg = {"main": f"""smtpd_tls_security_level = may
smtpd_tls_cert_file = {certs}/c.pem
smtpd_tls_key_file = {certs}/k.pem
smtpd_tls_loglevel = 2
smtpd_tls_session_cache_database = btree:${{data_directory}}/smtpd_scache
smtp_tls_session_cache_database = btree:${{data_directory}}/smtp_scache
smtpd_tls_session_cache_timeout = 120s
""", "master": "", "files": {}}
    P.make_setgid(side)
    inst = P.Instance(root, side, I.DEFAULT_REFERENCE, cfg)
    port = I.free_port()
    inst.set_port(port)
    status, _out, err = inst.start()
    if status != 0:
        return [f"start failed: {err!r}"]
    out = []
    try:
        if not I.wait_for(lambda: b"daemon started" in inst.log_text(), 15):
            return ["master did not start"]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.options |= ssl.OP_NO_TICKET
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        # The first smtpd starts tlsmgr (its policy request); the sessions
        # are made 10 s later, so that the scan 120 s after tlsmgr's start
        # sees a fresh entry and the one after that an expired one on both
        # sides (not an entry on the edge of its lifetime).
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.makefile("rb").readline()
        s.sendall(b"QUIT\r\n")
        s.recv(1000)
        s.close()
        I.wait_for(lambda: b"postfix/tlsmgr[" in inst.log_text() or b"tlsmgr" in inst.log_text(), 10)
        time.sleep(10)
        sess = None
        for _ in range(2):
            reused, sess = session(port, ctx, sess)
            out.append("(resumed)" if reused else "(full handshake)")
        # The scans run every 120 s from tlsmgr's start: the first later
        # one keeps the entry, the next deletes it.
        I.wait_for(lambda: inst.log_text().count(b"delete smtpd session") >= 1, wait, 1.0)
    finally:
        inst.stop()
    for ln in inst.log_text().decode(errors="replace").splitlines():
        if INTERESTING.search(ln):
            out.append(normalise(ln))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True)
    ap.add_argument("--reference", default=I.DEFAULT_REFERENCE)
    ap.add_argument("--wait", type=int, default=300, help="seconds to wait for the deleting scan")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("tlsmgr-expiry: needs root (master runs as root)", file=sys.stderr)
        return 77
    root = tempfile.mkdtemp(prefix="pf-tlsmgr-expiry-")
    os.chmod(root, 0o755)
    certs = os.path.join(root, "certs")
    os.makedirs(certs)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "k.pem", "-out", "c.pem",
                    "-days", "30", "-subj", "/CN=mail.example.com"], cwd=certs, check=True, capture_output=True)
    for f in os.listdir(certs):
        os.chmod(os.path.join(certs, f), 0o644)
    os.chmod(certs, 0o755)
    try:
        ref = run_side(I.reference_side(args.reference), root, certs, args.wait)
        ours = run_side(I.ours_side(os.path.abspath(args.ours)), root, certs, args.wait)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    # Order between processes is timing: compare each program's lines.
    def split(lines):
        return {k: [ln for ln in lines if f"/{k}[" in ln] for k in ("tlsmgr", "smtpd")}, \
               [ln for ln in lines if ln.startswith("(")]
    if split(ref) == split(ours) and not any("fatal" in ln or "panic" in ln for ln in ours):
        print("tlsmgr-expiry: identical")
        return 0
    import difflib
    print("\n".join(difflib.unified_diff(ref, ours, "reference", "ours", lineterm="")))
    print("tlsmgr-expiry: DIFFERENT")
    return 1


if __name__ == "__main__":
    sys.exit(main())

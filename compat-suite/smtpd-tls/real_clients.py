#!/usr/bin/env python3
"""Real TLS clients against both servers: swaks (--tls for STARTTLS,
--tlsc for the smtps port) and Python's smtplib (starttls(), SMTP_SSL),
each submitting one message. A client passes on a side when it exits 0 /
raises nothing and the side queued the message (a "queued as" reply);
both sides must pass. Uses run_smtpd_tls.py's instance set-up (the "may"
configuration with a wrapper-mode service on the second port).

Trusts: its own set-up. Needs root (master); swaks is optional (skipped
when absent).
"""

import os
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_smtpd_tls as T  # noqa: E402

R = T.R
MSG = "From: alice@example.org\r\nTo: bob@example.com\r\nSubject: real client\r\n\r\nHello.\r\n"


def context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def clients(inst):
    results = {}
    swaks = shutil.which("swaks")
    if swaks:
        for name, args in (("swaks-starttls", ["--server", f"127.0.0.1:{inst.port}", "--tls"]),
                           ("swaks-smtps", ["--server", f"127.0.0.1:{inst.port2}", "--tlsc"])):
            p = subprocess.run([swaks, *args, "--from", "alice@example.org", "--to", "bob@example.com",
                                "--timeout", "20"], capture_output=True, text=True, timeout=60)
            results[name] = p.returncode == 0 and "queued as" in p.stdout
    try:
        with smtplib.SMTP("127.0.0.1", inst.port, timeout=20) as s:
            s.ehlo("client.example.org")
            s.starttls(context=context())
            s.ehlo("client.example.org")
            s.sendmail("alice@example.org", ["bob@example.com"], MSG)
        results["smtplib-starttls"] = True
    except (OSError, smtplib.SMTPException) as e:
        results["smtplib-starttls"] = f"failed: {e!r}"
    try:
        with smtplib.SMTP_SSL("127.0.0.1", inst.port2, timeout=20, context=context()) as s:
            s.ehlo("client.example.org")
            s.sendmail("alice@example.org", ["bob@example.com"], MSG)
        results["smtplib-smtps"] = True
    except (OSError, smtplib.SMTPException) as e:
        results["smtplib-smtps"] = f"failed: {e!r}"
    return results


def main():
    if os.geteuid() != 0:
        return 77
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True)
    ap.add_argument("--reference", default=R.DEFAULT_REFERENCE)
    args = ap.parse_args()
    T.CERTS = T.make_certs()
    failed = 0
    try:
        cfg = T.read_config("wrapper")
        cfg["main"] += "smtpd_tls_security_level = may\n"
        for side in (R.reference_side(args.reference), R.ours_side(os.path.abspath(args.ours))):
            root = tempfile.mkdtemp(prefix="pf-smtpd-tls-real-")
            os.chmod(root, 0o755)
            inst = R.Instance(root, side, cfg)
            try:
                err = inst.start()
                res = {"start": err} if err else clients(inst)
            finally:
                inst.stop()
                shutil.rmtree(root, ignore_errors=True)
            for name, ok in sorted(res.items()):
                good = ok is True
                failed += not good
                print(f"{'ok  ' if good else 'FAIL'} {side.label} {name}{'' if good else ': ' + str(ok)}")
    finally:
        shutil.rmtree(T.CERTS, ignore_errors=True)
    print(f"real clients: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

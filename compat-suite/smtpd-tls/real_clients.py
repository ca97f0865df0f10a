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
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from retry import retry_units  # noqa: E402

AREA = "smtpd-tls-clients"
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


def run_side(side, cfg):
    """{client: True or why it failed} on one side's own instance."""
    root = tempfile.mkdtemp(prefix="pf-smtpd-tls-real-")
    os.chmod(root, 0o755)
    inst = R.Instance(root, side, cfg)
    try:
        err = inst.start()
        return {"start": err} if err else clients(inst)
    finally:
        inst.stop()
        shutil.rmtree(root, ignore_errors=True)


def bad(res):
    return [name for name, ok in sorted(res.items()) if ok is not True]


def main():
    if os.geteuid() != 0:
        return 77
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True)
    ap.add_argument("--reference", default=R.DEFAULT_REFERENCE)
    ap.add_argument("--retries", type=int, default=1,
                    help="run a side with a failing client again, once (0: never)")
    args = ap.parse_args()
    T.CERTS = T.make_certs()
    failed = 0
    try:
        cfg = T.read_config("wrapper")
        cfg["main"] += "smtpd_tls_security_level = may\n"
        sides = {s.label: s for s in (R.reference_side(args.reference), R.ours_side(os.path.abspath(args.ours)))}
        results = {}
        for label, side in sides.items():
            results[label] = res = run_side(side, cfg)
            for name, ok in sorted(res.items()):
                good = ok is True
                print(f"{'ok  ' if good else 'FAIL'} {label} {name}{'' if good else ': ' + str(ok)}")
        # A side with a failing client runs again (lib/retry.py): all its
        # clients passing then, it passes, reported FLAKY.

        def again(label):
            res = run_side(sides[label], cfg)
            return not bad(res), res

        def flaky_line(label, _res):
            return f"FLAKY {AREA}: {label} {', '.join(bad(results[label]))} passed on retry"
        retry = [label for label in sides if bad(results[label])]
        for label, (passed, res) in retry_units(retry, again, flaky_line, retries=args.retries).items():
            if not passed:
                for name in bad(res):
                    print(f"FAIL {label} {name}: {res[name]} (again on retry)")
            results[label] = res
        failed = sum(len(bad(res)) for res in results.values())
    finally:
        shutil.rmtree(T.CERTS, ignore_errors=True)
    print(f"real clients: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

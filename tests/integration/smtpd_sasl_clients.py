#!/usr/bin/env python3
"""SMTP AUTH with real clients: Python's smtplib and swaks against smtpd.

For each side (ours, and with --reference also the reference, which
checks the test itself) and each SASL set-up, one private instance is
started (compat-suite/smtpd-sasl's harness: master, smtpd, cleanup, ...;
no qmgr, queued mail stays in incoming/):

  cyrus-sasldb     Cyrus SASL, auxprop sasldb made with saslpasswd2
  cyrus-saslauthd  Cyrus SASL, pwcheck_method saslauthd: a saslauthd
                   (-a sasldb) started by the test in its own mount
                   namespace, where the test's sasldb is bound over
                   /etc/sasldb2 (nothing on the host changes)
  dovecot          smtpd_sasl_type = dovecot, the small Dovecot auth
                   server of tests/integration/fake_dovecot_auth.py

and the clients log in with every mechanism the set-up offers (PLAIN,
LOGIN, CRAM-MD5 where the back end has it), send one message to a
non-local domain (relaying needs permit_sasl_authenticated), and try a
wrong password (535). Each check is one line "ok ..." or "FAIL ...".

    tests/integration/smtpd_sasl_clients.py --ours <build> [--reference] [--only NAME]

Exit 0 when every check passed, 77 when a needed tool is missing (swaks,
saslpasswd2, saslauthd, unshare) or not root.

Trusts: nothing it reads from the servers beyond reply codes.
"""

import argparse
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "compat-suite", "smtpd-sasl"))

import run_smtpd_sasl  # noqa: E402  (installs the sasldb/dovecot hooks)

run_smtpd = run_smtpd_sasl.run_smtpd

USERS = "alice secret example.com\nbob b0b-pass example.com\n"
RELAY = ("smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination\n"
         "mynetworks = 10.0.0.0/8\nsmtpd_sasl_auth_enable = yes\n")

SETUPS = {
    "cyrus-sasldb": {
        "main": RELAY + "smtpd_sasl_local_domain = example.com\n",
        "files": {"smtpd.conf": b"pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                                b"sasldb_path: {config}/sasldb2\nmech_list: PLAIN LOGIN CRAM-MD5\n",
                  "sasl-users": USERS.encode()},
        "mechs": ["PLAIN", "LOGIN", "CRAM-MD5"],
    },
    "cyrus-saslauthd": {
        "main": RELAY + "smtpd_sasl_local_domain = example.com\n",
        "files": {"smtpd.conf": b"pwcheck_method: saslauthd\nsaslauthd_path: {instance}/saslauthd/mux\n"
                                b"mech_list: PLAIN LOGIN\n",
                  "sasl-users": USERS.encode()},
        "mechs": ["PLAIN", "LOGIN"],
        "saslauthd": True,
    },
    "dovecot": {
        "main": RELAY + "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = {instance}/dovecot-auth\n",
        "files": {"sasl-users": b"alice secret\nbob b0b-pass\n", "dovecot-auth": b"yes\n"},
        "mechs": ["PLAIN", "LOGIN"],
    },
}

MESSAGE = (b"From: Alice <alice@example.org>\r\nTo: Someone <someone@elsewhere.net>\r\n"
           b"Subject: sasl test\r\n\r\nHello.\r\n")


class Saslauthd:
    """saslauthd -a sasldb in a private mount namespace with db bound over
    /etc/sasldb2."""

    def __init__(self, rundir, db):
        os.makedirs(rundir, exist_ok=True)
        os.chmod(rundir, 0o755)
        script = f"mount --bind '{db}' /etc/sasldb2 && exec saslauthd -a sasldb -m '{rundir}' -n 0 -d"
        # Its own session: on SIGTERM saslauthd signals its whole process
        # group, which must not be ours.
        self.proc = subprocess.Popen(["unshare", "-m", "sh", "-c", script], start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ok = run_smtpd.wait_for(lambda: os.path.exists(os.path.join(rundir, "mux")), 10)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, text):
        print(("ok   " if ok else "FAIL ") + text, flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def smtplib_login(port, mech, user, password):
    """(auth reply code, message accepted) for one smtplib session."""
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.ehlo("client.example.org")
        s.user, s.password = user, password
        method = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login, "CRAM-MD5": s.auth_cram_md5}[mech]
        try:
            code, _ = s.auth(mech, method, initial_response_ok=(mech != "LOGIN"))
        except smtplib.SMTPAuthenticationError as e:
            return e.smtp_code, False
        refused = s.sendmail("alice@example.org", ["someone@elsewhere.net"], MESSAGE)
        return code, not refused


def swaks(port, mech, user, password):
    argv = ["swaks", "--server", f"127.0.0.1:{port}", "--helo", "client.example.org", "--from", "alice@example.org",
            "--to", "someone@elsewhere.net", "--auth", mech, "--auth-user", user, "--auth-password", password,
            "--timeout", "20"]
    p = subprocess.run(argv, capture_output=True, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    return p.returncode, "235 2.7.0 Authentication successful" in out, "queued as" in out


def run_setup(name, setup, side, root, checks):
    cfg = {"main": setup["main"], "master": "", "files": dict(setup["files"])}
    label = f"{side.label}/{name}"
    inst = run_smtpd.Instance(root, side, cfg)
    sad = None
    try:
        if setup.get("saslauthd"):
            run_smtpd_sasl._make_sasldb(inst)
            sad = Saslauthd(os.path.join(inst.dir, "saslauthd"), os.path.join(inst.etc, "sasldb2"))
            if not sad.ok:
                checks.check(False, f"{label}: saslauthd did not start")
                return
        error = inst.start()
        if error:
            checks.check(False, f"{label}: instance did not start: {error}")
            return
        for mech in setup["mechs"]:
            code, sent = smtplib_login(inst.port, mech, "alice", "secret")
            checks.check(code == 235 and sent, f"{label}: smtplib {mech} login and relay (auth {code}, sent {sent})")
            code, sent = smtplib_login(inst.port, mech, "alice", "wrong")
            checks.check(code == 535 and not sent, f"{label}: smtplib {mech} wrong password refused ({code})")
            rc, authed, queued = swaks(inst.port, mech, "bob", "b0b-pass")
            checks.check(rc == 0 and authed and queued, f"{label}: swaks {mech} (exit {rc}, 235 {authed}, queued {queued})")
            rc, authed, _ = swaks(inst.port, mech, "bob", "nope")
            checks.check(rc != 0 and not authed, f"{label}: swaks {mech} wrong password refused (exit {rc})")
        log = inst.log_text().decode("utf-8", "replace")
        checks.check("sasl_method=PLAIN, sasl_username=alice" in log,
                     f"{label}: client= line names the SASL login")
        checks.check("SASL PLAIN authentication failed" in log, f"{label}: failed login logged")
    finally:
        inst.stop()
        if sad:
            sad.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True, help="our build directory (bin/, libexec/)")
    ap.add_argument("--reference", action="store_true", help="also run against the reference")
    ap.add_argument("--reference-dir", default=run_smtpd.DEFAULT_REFERENCE)
    ap.add_argument("--only", action="append", help="only these set-ups")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root", file=sys.stderr)
        return 77
    for tool in ("swaks", "saslpasswd2", "saslauthd", "unshare"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            print(f"missing {tool} (Debian packages swaks, sasl2-bin)", file=sys.stderr)
            return 77
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    sides = [run_smtpd.ours_side(os.path.abspath(args.ours))]
    if args.reference:
        sides.insert(0, run_smtpd.reference_side(args.reference_dir))
    checks = Checks()
    for side in sides:
        for name, setup in SETUPS.items():
            if args.only and name not in args.only:
                continue
            root = tempfile.mkdtemp(prefix=f"pf-sasl-clients-{name}-")
            os.chmod(root, 0o755)
            try:
                run_setup(name, setup, side, root, checks)
            finally:
                shutil.rmtree(root, ignore_errors=True)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())

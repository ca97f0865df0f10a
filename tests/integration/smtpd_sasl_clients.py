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
  dovecot-real     smtpd_sasl_type = dovecot, a real Dovecot (Debian's
                   dovecot-core, `dovecot -F -c <file>`) with a private
                   configuration in the instance directory
                   (compat-suite/lib/dovecot.py: its own base_dir,
                   state_dir and log, no protocols, a passwd-file with
                   {PLAIN} passwords, mechanisms PLAIN LOGIN CRAM-MD5, the
                   auth service's unix_listener on {instance}/dovecot-auth);
                   the host's Dovecot and /etc/dovecot are not used

and the clients log in with every mechanism the set-up offers (PLAIN,
LOGIN, CRAM-MD5 where the back end has it), send one message to a
non-local domain (relaying needs permit_sasl_authenticated), and try a
wrong password (535); then they log in and relay again with each
mechanism after STARTTLS and on a wrapper-mode (port 465 style) smtpd of
the same instance (a self-signed certificate made with openssl for the
run; tlsmgr in master.cf). Each check is one line "ok ..." or "FAIL ...";
each set-up's time is printed after its checks. A set-up whose back end
is not installed (dovecot-real without dovecot-core) is skipped with a
"skip" line.

    tests/integration/smtpd_sasl_clients.py --ours <build> [--reference] [--only NAME]

Exit 0 when every check passed, 77 when a needed tool is missing (swaks,
saslpasswd2, saslauthd, unshare) or not root.

Trusts: nothing it reads from the servers beyond reply codes.
"""

import argparse
import os
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "compat-suite", "smtpd-sasl"))
sys.path.insert(0, os.path.join(REPO, "compat-suite", "lib"))

import dovecot as dovecotconf  # noqa: E402  (a private Dovecot: config and process)
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
    "dovecot-real": {
        "main": RELAY + "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = {instance}/dovecot-auth\n",
        "files": {},
        "mechs": ["PLAIN", "LOGIN", "CRAM-MD5"],
        "dovecot": [("alice", "secret"), ("bob", "b0b-pass")],
    },
}

# TLS for every set-up: STARTTLS on the first port, wrapper mode on the
# second ({cert}/{key}: the run's certificate).
TLS_MAIN = "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = {cert}\nsmtpd_tls_key_file = {key}\n"
TLS_MASTER = ("{{port2}} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n"
              "tlsmgr    unix  -       -       n       1000?   1       tlsmgr\n")
TLS_WAYS = (("STARTTLS", "starttls"), ("port 465", "wrapper"))

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


def start_real_dovecot(inst, side_label, users):
    """A real Dovecot for inst (its files under {instance}/dovecot, its
    auth socket {instance}/dovecot-auth): (process, None) once the socket
    answers, or (None, reason)."""
    d = os.path.join(inst.dir, "dovecot")
    for sub in ("run", "state"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    os.chmod(d, 0o755)
    passwd = os.path.join(d, "users")
    with open(passwd, "w") as f:
        for user, password in users:
            f.write(dovecotconf.passwd_line(user, password, 65534, 65534, "/nonexistent"))
    os.chmod(passwd, 0o644)
    conf = os.path.join(d, "dovecot.conf")
    sock = os.path.join(inst.dir, "dovecot-auth")
    # No protocols: no imap/pop3/lmtp and no inet listener; the auth
    # service's extra unix_listener is smtpd's socket.
    dovecotconf.write_config(conf, os.path.join(d, "run"), os.path.join(d, "state"),
                             f"pf-sasl-clients-{side_label}-{os.getpid()}", os.path.join(d, "dovecot.log"), "none",
                             passwd, settings=["ssl = no", "auth_mechanisms = plain login cram-md5",
                                               "disable_plaintext_auth = no",
                                               # failed logins answered at once (2 s each by default)
                                               "auth_failure_delay = 0"],
                             # anvil-auth-penalty unreachable: no growing
                             # delay for logins after a failed one
                             listeners={"auth": [(sock, "0666")], "anvil": [("anvil-auth-penalty", "0")]})
    proc = dovecotconf.Process(conf, os.path.join(d, "stdout.log"))
    error = proc.start(sock, 30)
    return (None, error) if error else (proc, None)


class Checks:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def check(self, ok, text):
        print(("ok   " if ok else "FAIL ") + text, flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def make_cert(folder):
    """A self-signed server certificate and key in folder: (cert, key)."""
    cert, key = os.path.join(folder, "server.pem"), os.path.join(folder, "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "30", "-subj", "/CN=mail.example.com"], check=True, capture_output=True, timeout=60)
    for f in (cert, key):
        os.chmod(f, 0o644)
    return cert, key


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def smtplib_login(port, mech, user, password, tls=None):
    """(auth reply code, message accepted) for one smtplib session; tls:
    None, "starttls" or "wrapper"."""
    if tls == "wrapper":
        session = smtplib.SMTP_SSL("127.0.0.1", port, timeout=20, context=tls_context())
    else:
        session = smtplib.SMTP("127.0.0.1", port, timeout=20)
    with session as s:
        s.ehlo("client.example.org")
        if tls == "starttls":
            s.starttls(context=tls_context())
            s.ehlo("client.example.org")
        s.user, s.password = user, password
        method = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login, "CRAM-MD5": s.auth_cram_md5}[mech]
        try:
            code, _ = s.auth(mech, method, initial_response_ok=(mech != "LOGIN"))
        except smtplib.SMTPAuthenticationError as e:
            return e.smtp_code, False
        refused = s.sendmail("alice@example.org", ["someone@elsewhere.net"], MESSAGE)
        return code, not refused


def swaks(port, mech, user, password, tls=None):
    argv = ["swaks", "--server", f"127.0.0.1:{port}", "--helo", "client.example.org", "--from", "alice@example.org",
            "--to", "someone@elsewhere.net", "--auth", mech, "--auth-user", user, "--auth-password", password,
            "--timeout", "20"]
    if tls:
        argv.append({"starttls": "--tls", "wrapper": "--tlsc"}[tls])
    p = subprocess.run(argv, capture_output=True, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    return p.returncode, "235 2.7.0 Authentication successful" in out, "queued as" in out


def run_setup(name, setup, side, root, checks, cert):
    cfg = {"main": setup["main"] + TLS_MAIN.format(cert=cert[0], key=cert[1]), "master": TLS_MASTER.format(),
           "files": dict(setup["files"])}
    label = f"{side.label}/{name}"
    inst = run_smtpd.Instance(root, side, cfg)
    sad = dv = None
    try:
        if setup.get("dovecot"):
            dv, error = start_real_dovecot(inst, side.label, setup["dovecot"])
            if error:
                checks.check(False, f"{label}: dovecot did not start: {error}")
                return
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
        for way, tls in TLS_WAYS:
            port = inst.port2 if tls == "wrapper" else inst.port
            for mech in setup["mechs"]:
                code, sent = smtplib_login(port, mech, "alice", "secret", tls)
                checks.check(code == 235 and sent,
                             f"{label}: smtplib {mech} over {way} login and relay (auth {code}, sent {sent})")
                rc, authed, queued = swaks(port, mech, "bob", "b0b-pass", tls)
                checks.check(rc == 0 and authed and queued,
                             f"{label}: swaks {mech} over {way} (exit {rc}, 235 {authed}, queued {queued})")
        log = inst.log_text().decode("utf-8", "replace")
        checks.check("sasl_method=PLAIN, sasl_username=alice" in log,
                     f"{label}: client= line names the SASL login")
        checks.check("SASL PLAIN authentication failed" in log, f"{label}: failed login logged")
    finally:
        inst.stop()
        if sad:
            sad.stop()
        if dv:
            dv.stop()


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
    certs = tempfile.mkdtemp(prefix="pf-sasl-clients-certs-")
    os.chmod(certs, 0o755)
    try:
        cert = make_cert(certs)
        run_all(args, sides, checks, cert)
    finally:
        shutil.rmtree(certs, ignore_errors=True)
    print(f"{checks.passed} passed, {checks.failed} failed" + (f", {checks.skipped} skipped" if checks.skipped else ""))
    return 1 if checks.failed else 0


def run_all(args, sides, checks, cert):
    for side in sides:
        for name, setup in SETUPS.items():
            if args.only and name not in args.only:
                continue
            if setup.get("dovecot") and not dovecotconf.available():
                print(f"skip {side.label}/{name}: no dovecot (Debian package dovecot-core)", flush=True)
                checks.skipped += 1
                continue
            started = time.monotonic()
            before = checks.passed
            root = tempfile.mkdtemp(prefix=f"pf-sasl-clients-{name}-")
            os.chmod(root, 0o755)
            try:
                run_setup(name, setup, side, root, checks, cert)
            finally:
                shutil.rmtree(root, ignore_errors=True)
            print(f"time {side.label}/{name}: {time.monotonic() - started:.1f} s, {checks.passed - before} ok",
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())

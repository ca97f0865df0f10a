#!/usr/bin/env python3
"""The smtpd-sasl area of the compat-suite: SMTP AUTH dialogues against both servers.

The same harness as compat-suite/smtpd (run_smtpd.py, imported: same case
format, same instances, same normalisation), with this area's own configs/
and cases/, and one addition when an instance starts: a configuration
folder holding a file `sasl-users` (lines "user password [realm]") gets a
Cyrus sasldb `sasldb2` in the instance's config directory, made with
Debian's saslpasswd2 and readable by the postfix user, so that
`sasldb_path: {config}/sasldb2` in the configuration's smtpd.conf finds the
same users on both sides; that smtpd.conf is installed where Debian's
Postfix looks for it, {config}/sasl/smtpd.conf. A configuration folder holding `dovecot-auth`
gets a small Dovecot auth protocol server (tests/integration/
fake_dovecot_auth.py) listening on {instance}/dovecot-auth, which smtpd
reaches through smtpd_sasl_path.

    compat-suite/smtpd-sasl/run_smtpd_sasl.py --ours <build> [--case NAME] [--show-diff]

Exit status as run_smtpd.py (77 without root or without saslpasswd2).

Trusts: its own configs and cases.
"""

import base64
import binascii
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
REPO = os.path.dirname(COMPAT)
sys.path.insert(0, os.path.join(COMPAT, "smtpd"))

import run_smtpd  # noqa: E402

run_smtpd.HERE = HERE
run_smtpd.AREA = "smtpd-sasl"

SASLPASSWD2 = shutil.which("saslpasswd2") or "/usr/sbin/saslpasswd2"
FAKE_DOVECOT = os.path.join(REPO, "tests", "integration", "fake_dovecot_auth.py")

_original_start = run_smtpd.Instance.start
_original_stop = run_smtpd.Instance.stop


def _users(inst):
    path = os.path.join(inst.etc, "sasl-users")
    out = []
    if os.path.exists(path):
        for line in open(path):
            words = line.split()
            if len(words) >= 2 and not line.startswith("#"):
                out.append(words)
    return out


def _make_sasldb(inst):
    db = os.path.join(inst.etc, "sasldb2")
    for words in _users(inst):
        user, password = words[0], words[1]
        argv = [SASLPASSWD2, "-f", db, "-c", "-p"]
        if len(words) > 2:
            argv += ["-u", words[2]]
        argv.append(user)
        subprocess.run(argv, input=password.encode(), check=True, timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if os.path.exists(db):
        shutil.chown(db, "root", "postfix")
        os.chmod(db, 0o640)


def _install_conf(inst):
    # Debian's Postfix reads the Cyrus application file from
    # $config_directory/sasl/<smtpd_sasl_path>.conf (cyrus_sasl_config_path
    # notwithstanding): the configuration's smtpd.conf goes there.
    conf = os.path.join(inst.etc, "smtpd.conf")
    if os.path.exists(conf):
        os.makedirs(os.path.join(inst.etc, "sasl"), exist_ok=True)
        shutil.copy(conf, os.path.join(inst.etc, "sasl", "smtpd.conf"))


def _start_dovecot(inst):
    if not os.path.exists(os.path.join(inst.etc, "dovecot-auth")):
        return
    sock = os.path.join(inst.dir, "dovecot-auth")
    users = os.path.join(inst.etc, "sasl-users")
    inst.dovecot = subprocess.Popen([sys.executable, FAKE_DOVECOT, "--socket", sock, "--users", users,
                                     "--mode", "0666",
                                     "--log", os.path.join(inst.dir, "dovecot-requests.log")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_smtpd.wait_for(lambda: os.path.exists(sock), 10)


def start(self):
    _make_sasldb(self)
    _install_conf(self)
    _start_dovecot(self)
    return _original_start(self)


def stop(self):
    _original_stop(self)
    proc = getattr(self, "dovecot", None)
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


_original_normalise = run_smtpd.normalise
CHALLENGE = re.compile(rb"(?m)^(S: 334 )([A-Za-z0-9+/=]+)")


def normalise(data, inst, qids):
    """A CRAM-MD5 challenge "<random.time@myhostname>" keeps only its
    host name; the rest is run_smtpd's normalisation."""
    def sub(m):
        try:
            text = base64.b64decode(m.group(2), validate=True)
        except (ValueError, binascii.Error):
            return m.group(0)
        cram = re.fullmatch(rb"<\d+\.\d+@(.*)>", text)
        if not cram:
            return m.group(0)
        return m.group(1) + b"{cram-md5 challenge for " + cram.group(1) + b"}"
    return _original_normalise(CHALLENGE.sub(sub, data), inst, qids)


run_smtpd.normalise = normalise
run_smtpd.Instance.start = start
run_smtpd.Instance.stop = stop

if __name__ == "__main__":
    if not os.path.exists(SASLPASSWD2):
        print("smtpd-sasl: saslpasswd2 missing (Debian package sasl2-bin)", file=sys.stderr)
        sys.exit(77)
    sys.exit(run_smtpd.main())

"""A private Dovecot for the tests: its configuration file and its process.

Debian's dovecot-core is started as `dovecot -F -c <file>` with a
configuration of the test's own, so that nothing of the host's Dovecot
(service, /etc/dovecot, /var/run/dovecot, /var/lib/dovecot) is read or
touched: base_dir, state_dir and log_path lie in the test's directory,
the users come from a passwd-file there, and the only client sockets are
the unix_listeners the caller names.

Used by compat-suite/company/services.py (Dovecot speaking LMTP) and
tests/integration/smtpd_sasl_clients.py (Dovecot's auth service as the
SASL back end of smtpd_sasl_type = dovecot).

Trusts: its arguments; it reads nothing from the running Dovecot but
whether a socket accepts connections and its exit status.
"""

import os
import shutil
import subprocess
import time

import pfinstance

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def available():
    """True when Debian's dovecot-core is installed."""
    return os.access(DOVECOT, os.X_OK)


def passwd_line(user, password, uid="", gid="", home="", scheme="PLAIN"):
    """One passwd-file line: user:{scheme}password:uid:gid::home::
    (PLAIN keeps the password usable by every mechanism, CRAM-MD5
    included)."""
    return f"{user}:{{{scheme}}}{password}:{uid}:{gid}::{home}::\n"


def config_text(base_dir, state_dir, instance_name, log_path, protocols, users, settings=(), listeners=None):
    """The text of a dovecot.conf: the instance's own directories and log,
    `protocols`, each of `settings` (whole lines, in order), a passwd-file
    passdb and userdb reading `users`, and `listeners`
    {service: [(unix_listener path or name, mode), ...]}."""
    out = [f"base_dir = {base_dir}",
           f"state_dir = {state_dir}",
           f"instance_name = {instance_name}",
           f"log_path = {log_path}",
           f"protocols = {protocols}"]
    out += list(settings)
    for db in ("passdb", "userdb"):
        out += [f"{db} {{", "  driver = passwd-file", f"  args = {users}", "}"]
    for service, socks in (listeners or {}).items():
        out.append(f"service {service} {{")
        for path, mode in socks:
            out += [f"  unix_listener {path} {{", f"    mode = {mode}", "  }"]
        out.append("}")
    return "\n".join(out) + "\n"


def write_config(path, *args, **kwargs):
    """Writes config_text(*args, **kwargs) to path."""
    with open(path, "w") as f:
        f.write(config_text(*args, **kwargs))


class Process:
    """`dovecot -F -c conf` as a child in its own session, output to log;
    start() waits (bounded) until `ready_socket` accepts a connection."""

    def __init__(self, conf, log):
        self.conf = conf
        self.log = log
        self.proc = None

    def start(self, ready_socket, timeout=30):
        """None once ready, else the reason (with the log's tail)."""
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf], stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if pfinstance.can_connect(ready_socket):
                return None
            time.sleep(0.05)
        why = "exited" if self.proc.poll() is not None else f"no {ready_socket} after {timeout} s"
        self.stop()
        try:
            tail = open(self.log, "rb").read()[-2000:].decode("utf-8", "replace")
        except OSError:
            tail = ""
        return f"dovecot {why}: {tail}"

    def stop(self, timeout=15):
        """SIGTERM to the master process (it stops its children), SIGKILL
        to its process group after the bound."""
        if self.proc is None:
            return
        pfinstance.stop_process(self.proc, timeout)
        self.proc = None

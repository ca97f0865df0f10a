"""The programs around the mail system in the company stack, each a private
instance in the test's directory on loopback, started from Debian's
packages: MariaDB (mariadbd), saslauthd with PAM and libpam-mysql, clamd
with a one-signature database (EICAR, nothing downloaded), clamsmtpd,
spamd (local rules only), Dovecot (LMTP only) and a capturing SMTP sink.

Every start waits for readiness with a bound (polling, never a fixed
sleep) and every stop kills the process it started, by its pid. Used by
run_company.py.

Trusts: its own arguments; the sink treats its peer's bytes as data only.
"""

import os
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import pfinstance  # noqa: E402
import testdns  # noqa: E402
import dovecot as dovecotconf  # noqa: E402

# libpam-mysql reads its settings from the PAM file: one uniquely named
# file under /etc/pam.d (PAM has no other place), removed at the end.
PAM_SERVICE = "pf-company-smtp"
PAM_FILE = os.path.join("/etc/pam.d", PAM_SERVICE)

EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def wait_for(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(step)
    return bool(predicate())


can_connect = pfinstance.can_connect


class Process:
    """A started program: its Popen, stopped by pid with a bound."""

    def __init__(self, name, argv, log, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.logf = open(log, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=cwd, start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=15):
        pfinstance.stop_process(self.proc, timeout)
        self.logf.close()


def killpidfile(path, timeout=15):
    """Stops a daemon that forked away from us, by the pid in its pidfile."""
    try:
        pid = int(open(path).read().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return

    def gone():
        try:
            os.kill(pid, 0)
            return False
        except OSError:
            return True
    if not wait_for(gone, timeout):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


class MariaDB:
    """A private mariadbd on a unix socket; the database "mail"."""

    def __init__(self, root):
        self.dir = os.path.join(root, "mariadb")
        self.sock = os.path.join(self.dir, "sock")
        self.proc = None
        os.makedirs(self.dir)

    def install(self):
        p = subprocess.run(["mariadb-install-db", "--no-defaults", "--user=root", f"--datadir={self.dir}/data",
                            "--auth-root-authentication-method=socket", "--skip-test-db"],
                           capture_output=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("mariadb-install-db: " + p.stdout.decode(errors="replace")[-2000:])

    def start(self):
        mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        self.proc = Process("mariadbd", [mariadbd, "--no-defaults", "--user=root", f"--datadir={self.dir}/data",
                                         f"--socket={self.sock}", "--skip-networking", f"--pid-file={self.dir}/pid",
                                         f"--log-error={self.dir}/err.log", "--skip-log-bin",
                                         "--innodb-buffer-pool-size=16M"], os.path.join(self.dir, "stdout.log"))
        ok = wait_for(lambda: subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={self.sock}", "-uroot",
                                              "ping"], capture_output=True, timeout=10).returncode == 0
                      or not self.proc.alive(), 60, 0.1)
        if not ok or not self.proc.alive():
            raise RuntimeError("mariadbd did not start: " + open(f"{self.dir}/err.log").read()[-2000:])

    def sql(self, text):
        p = subprocess.run(["mariadb", "--no-defaults", f"--socket={self.sock}", "-uroot"], input=text.encode(),
                           capture_output=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("mariadb: " + p.stderr.decode(errors="replace"))
        return p.stdout

    def stop(self):
        if self.proc:
            self.proc.stop(60)
            self.proc = None


class Saslauthd:
    """saslauthd -a pam on its own socket directory (-m)."""

    def __init__(self, root):
        self.dir = os.path.join(root, "saslauthd")
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.mux = os.path.join(self.dir, "mux")
        self.proc = None

    def start(self):
        # -d: foreground; -r: user@realm handed to PAM whole; -n 2 workers.
        self.proc = Process("saslauthd", ["/usr/sbin/saslauthd", "-a", "pam", "-m", self.dir, "-n", "2", "-r", "-d"],
                            os.path.join(self.dir, "saslauthd.log"))
        if not wait_for(lambda: can_connect(self.mux) or not self.proc.alive(), 20) or not self.proc.alive():
            raise RuntimeError("saslauthd did not start")

    def stop(self):
        if self.proc:
            self.proc.stop()
            self.proc = None


class Clamd:
    """clamd with only the test's signature database."""

    def __init__(self, root):
        self.dir = os.path.join(root, "clamav")
        self.db = os.path.join(self.dir, "db")
        self.sock = os.path.join(self.dir, "clamd.sock")
        os.makedirs(self.db)
        os.makedirs(os.path.join(self.dir, "tmp"))
        os.chmod(self.dir, 0o755)
        # An extended (.ndb) signature: the EICAR string anywhere in any file.
        with open(os.path.join(self.db, "company.ndb"), "w") as f:
            f.write("Company.Test.EICAR:0:*:%s\n" % b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE".hex())
        self.conf = os.path.join(self.dir, "clamd.conf")
        with open(self.conf, "w") as f:
            f.write(f"LocalSocket {self.sock}\nDatabaseDirectory {self.db}\nForeground yes\n"
                    f"LogFile {self.dir}/clamd.log\nTemporaryDirectory {self.dir}/tmp\nBytecode no\n"
                    "SelfCheck 0\n")
        self.proc = None

    def start(self):
        self.proc = Process("clamd", ["/usr/sbin/clamd", "-c", self.conf, "--foreground"],
                            os.path.join(self.dir, "stdout.log"))
        if not wait_for(lambda: can_connect(self.sock) or not self.proc.alive(), 90, 0.1) or not self.proc.alive():
            raise RuntimeError("clamd did not start: " + open(os.path.join(self.dir, "stdout.log")).read()[-2000:])

    def stop(self):
        if self.proc:
            self.proc.stop()
            self.proc = None


class Spamd:
    """spamd on 127.0.0.1, local tests only, the test's site config."""

    def __init__(self, root, port):
        self.dir = os.path.join(root, "spamassassin")
        self.site = os.path.join(self.dir, "site")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.site)
        os.makedirs(self.home)
        shutil.chown(self.home, "nobody", "nogroup")
        os.chmod(self.dir, 0o755)
        self.port = port
        # The plugin loaders (*.pre) of the installed SpamAssassin, then
        # the test's own local.cf.
        for name in os.listdir("/etc/spamassassin"):
            if name.endswith(".pre"):
                shutil.copy(os.path.join("/etc/spamassassin", name), self.site)
        with open(os.path.join(self.site, "local.cf"), "w") as f:
            f.write("report_safe 0\nrequired_score 5.0\nuse_bayes 0\nbayes_auto_learn 0\n"
                    "skip_rbl_checks 1\ndns_available no\n")
        self.proc = None

    def start(self):
        self.proc = Process("spamd", ["/usr/sbin/spamd", "-L", "-x", "-u", "nobody", "-i", "127.0.0.1",
                                      "-p", str(self.port), "-A", "127.0.0.1", "-m", "2",
                                      f"--siteconfigpath={self.site}", f"--helper-home-dir={self.home}",
                                      "-s", os.path.join(self.dir, "spamd.log"),
                                      "-r", os.path.join(self.dir, "pid")],
                            os.path.join(self.dir, "stdout.log"))

        def ready():
            return subprocess.run(["spamc", "-K", "-d", "127.0.0.1", "-p", str(self.port)],
                                  capture_output=True, timeout=10).returncode == 0
        if not wait_for(lambda: not self.proc.alive() or ready(), 120, 0.2) or not self.proc.alive():
            raise RuntimeError("spamd did not start: " + open(os.path.join(self.dir, "stdout.log")).read()[-2000:])

    def stop(self):
        if self.proc:
            self.proc.stop()
            self.proc = None


class Dovecot:
    """A private Dovecot speaking LMTP on <dir>/run/lmtp; users from a
    passwd-file, Maildirs under <dir>/mail/<domain>/<user>."""

    def __init__(self, root, name, users):
        self.dir = os.path.join(root, "dovecot")
        self.run = os.path.join(self.dir, "run")
        self.mail = os.path.join(self.dir, "mail")
        for d in (self.run, self.mail, os.path.join(self.dir, "state")):
            os.makedirs(d)
        os.chmod(self.dir, 0o755)
        shutil.chown(self.mail, "nobody", "nogroup")
        self.lmtp = os.path.join(self.run, "lmtp")
        self.users = users
        with open(os.path.join(self.dir, "users"), "w") as f:
            for u in users:
                local, domain = u.split("@")
                f.write(f"{u}:{{PLAIN}}unused:65534:65534::{self.mail}/{domain}/{local}::\n")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        # lib/dovecot.py writes the file (shared with tests/integration/smtpd_sasl_clients.py).
        dovecotconf.write_config(self.conf, self.run, f"{self.dir}/state", f"pf-company-{name}",
                                 f"{self.dir}/dovecot.log", "lmtp", f"{self.dir}/users",
                                 settings=["listen = 127.0.0.1", "ssl = no", "mail_location = maildir:~/Maildir",
                                           "postmaster_address = postmaster@example.com"],
                                 listeners={"lmtp": [("lmtp", "0666")]})
        self.proc = None

    def start(self):
        self.proc = Process("dovecot", ["/usr/sbin/dovecot", "-F", "-c", self.conf],
                            os.path.join(self.dir, "stdout.log"))
        if not wait_for(lambda: can_connect(self.lmtp) or not self.proc.alive(), 30) or not self.proc.alive():
            raise RuntimeError("dovecot did not start: " + open(os.path.join(self.dir, "stdout.log")).read()[-2000:])

    def stop(self):
        if self.proc:
            self.proc.stop()
            self.proc = None

    def files(self, user):
        """{unique name: path} of the messages in user's Maildir (new and
        cur; the name without the ":2,<flags>" suffix)."""
        local, domain = user.split("@")
        out = {}
        for sub in ("new", "cur"):
            d = os.path.join(self.mail, domain, local, "Maildir", sub)
            if os.path.isdir(d):
                for name in os.listdir(d):
                    out[name.split(":")[0]] = os.path.join(d, name)
        return out


class Clamsmtpd:
    """clamsmtpd between the scan transport and the re-injection smtpd."""

    def __init__(self, root, listen, out, clamd_sock):
        self.dir = os.path.join(root, "clamsmtp")
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        self.conf = os.path.join(self.dir, "clamsmtpd.conf")
        with open(self.conf, "w") as f:
            f.write(f"OutAddress: 127.0.0.1:{out}\nListen: 127.0.0.1:{listen}\nClamAddress: {clamd_sock}\n"
                    f"Header: X-Virus-Scanned: ClamAV using ClamSMTP\nTempDirectory: {self.dir}/tmp\n"
                    f"Action: drop\nTimeOut: 30\n")
        self.port = listen
        self.proc = None

    def start(self):
        # -d: stays in the foreground, logs to stderr.
        self.proc = Process("clamsmtpd", ["/usr/sbin/clamsmtpd", "-d", "1", "-f", self.conf,
                                          "-p", os.path.join(self.dir, "pid")],
                            os.path.join(self.dir, "clamsmtpd.log"))
        if not wait_for(lambda: can_connect(self.port) or not self.proc.alive(), 20) or not self.proc.alive():
            raise RuntimeError("clamsmtpd did not start")

    def stop(self):
        if self.proc:
            self.proc.stop()
            self.proc = None


class _SinkHandler(socketserver.StreamRequestHandler):
    timeout = 30

    def send(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        sink = self.server.sink
        tx = {"commands": [], "data": None}
        self.send("220 sink.partner.example ESMTP")
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.rstrip(b"\r\n")
            verb = cmd.split(b" ", 1)[0].upper()
            if verb == b"EHLO":
                tx["commands"].append(cmd)
                self.wfile.write(b"250-sink.partner.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10240000\r\n")
                self.wfile.flush()
            elif verb == b"HELO":
                tx["commands"].append(cmd)
                self.send("250 sink.partner.example")
            elif verb in (b"MAIL", b"RCPT"):
                tx["commands"].append(cmd)
                self.send("250 2.1.0 Ok")
            elif verb == b"DATA":
                self.send("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while True:
                    d = self.rfile.readline(1 << 16)
                    if not d or d == b".\r\n":
                        break
                    data.append(d[1:] if d.startswith(b"..") else d)
                tx["data"] = b"".join(data)
                with sink.lock:
                    sink.received.append(tx)
                tx = {"commands": [], "data": None}
                self.send("250 2.0.0 Ok: queued")
            elif verb == b"RSET":
                tx = {"commands": [], "data": None}
                self.send("250 2.0.0 Ok")
            elif verb == b"QUIT":
                self.send("221 2.0.0 Bye")
                return
            else:
                self.send("250 2.0.0 Ok")


class _ThreadingServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Sink:
    """A capturing SMTP server on 127.0.0.1: every transaction it was
    given (commands, data)."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        self.server = _ThreadingServer(("127.0.0.1", 0), _SinkHandler)
        self.server.sink = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeDns(testdns.Server):
    """lib/testdns.py's server on <address>:53 (UDP and TCP) with the zone
    text, and a switch for the DNS fault: mode "silent" answers nothing
    (the resolver times out), "answer" serves the zone."""

    def __init__(self, address, zone_text):
        self.address = address
        self.mode = "answer"
        zone = testdns.Zone(zone_text)
        answer = zone.resolve
        zone.resolve = lambda name, qtype: ("TIMEOUT", None) if self.mode == "silent" else answer(name, qtype)
        super().__init__(zone, address)
        self.start()

    def close(self):
        self.stop()

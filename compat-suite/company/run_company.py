#!/usr/bin/env python3
"""The company stack of the developers' guide, end to end, the reference
against ours (issue 8, point 6).

One run starts, on loopback and in one temporary directory, from Debian's
packages: a private MariaDB holding the virtual domains, mailboxes,
aliases and the users' passwords; saslauthd -a pam with a PAM service
that checks those passwords through libpam-mysql; clamd with one test
signature (EICAR; nothing downloaded) and spamd with local rules only
(GTUBE still scores). Then, for each side in turn (the reference, then
ours), a mail system under its own master with the SAME configuration
files (configs/: main.cf, master.cf, mysql_*.cf, header_checks,
transport, sasl/smtpd.conf; only ports and paths differ), its own
clamsmtpd (the after-queue content filter on 127.0.0.1, delivering back
to a re-injection smtpd with "-o content_filter="), its own Dovecot (LMTP
delivery into Maildirs) and a capturing SMTP sink for relayed mail.

Mail from outside goes: smtpd -> pipe "spamassassin" (spamc, re-injecting
with that side's sendmail) -> pickup -> scan (smtp) -> clamsmtpd ->
re-injection smtpd -> lmtp -> Dovecot. Each check (checks.py) is asserted
by its observable result on each side, and the two sides' outcomes (a
normalised text) must be equal. The faults (the filter, Dovecot and
MariaDB down) must defer mail, never bounce or lose it, and it flows once
the service is back and the queue is flushed.

    compat-suite/company/run_company.py --ours <build> [--check NAME]... [--keep] [--show-diff]

Exit 0 when every check passes on both sides with equal outcomes, 1
otherwise, 77 (skipped) without root or without the packages.

Trusts: its own configuration files; what the servers answer is data.
"""

import argparse
import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(COMPAT, "lib"))
import checks  # noqa: E402
import pfinstance  # noqa: E402
import services  # noqa: E402
from retry import rerun_script  # noqa: E402

AREA = "company"
PROGRAMS = ["/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db", "/usr/sbin/saslauthd", "/usr/sbin/clamd",
            "/usr/sbin/clamsmtpd", "/usr/sbin/spamd", "/usr/bin/spamc", "/usr/sbin/dovecot",
            "/usr/lib/dovecot/lmtp"]
PAM_MODULE_DIRS = ["/lib/x86_64-linux-gnu/security", "/usr/lib/x86_64-linux-gnu/security", "/lib/security"]

DB_USER = "pfmail"
DB_PASSWORD = "Db-s3cret"
# The users: address, SASL password, has a Dovecot mailbox.
USERS = [("alice@example.com", "Alice-pw1"), ("bob@example.com", "Bob-pw2")]


def schema(mariadb):
    hashes = {}
    for user, pw in USERS:
        hashes[user] = subprocess.run(["openssl", "passwd", "-6", "-salt", "pfcompany", pw], capture_output=True,
                                      check=True, timeout=30).stdout.decode().strip()
    rows = ",\n".join(f"('{u}', '{hashes[u]}', 'example.com/{u.split('@')[0]}/', 1)" for u, _ in USERS)
    mariadb.sql(f"""
CREATE DATABASE mail;
CREATE USER '{DB_USER}'@'localhost' IDENTIFIED BY '{DB_PASSWORD}';
GRANT SELECT ON mail.* TO '{DB_USER}'@'localhost';
USE mail;
CREATE TABLE domains (domain VARCHAR(255) PRIMARY KEY, active INT NOT NULL DEFAULT 1);
CREATE TABLE mailboxes (email VARCHAR(255) PRIMARY KEY, password VARCHAR(255), maildir VARCHAR(255),
                        active INT NOT NULL DEFAULT 1);
CREATE TABLE aliases (source VARCHAR(255), destination VARCHAR(255), active INT NOT NULL DEFAULT 1);
INSERT INTO domains VALUES ('example.com', 1);
INSERT INTO mailboxes VALUES {rows};
INSERT INTO aliases VALUES ('info@example.com', 'alice@example.com', 1),
  ('postmaster@example.com', 'alice@example.com', 1), ('team@example.com', 'alice@example.com,bob@example.com', 1);
""")


# The first line of the files the run writes outside its directory, with
# its process ID: a file left by a run that was killed is recognised.
MARKER = "# Written by pf-mail's compat-suite/company/run_company.py, process"


def left_by_dead_run(path):
    """Whether path is a file (or a directory holding main.cf) that a run
    wrote and whose process is gone."""
    f = os.path.join(path, "main.cf") if os.path.isdir(path) else path
    try:
        first = open(f).readline()
    except OSError:
        return False
    if not first.startswith(MARKER):
        return False
    try:
        os.kill(int(first[len(MARKER):].split(":")[0]), 0)
        return False
    except (ValueError, ProcessLookupError):
        return True
    except PermissionError:
        return False


def pam_text(sock):
    opts = (f"user={DB_USER} passwd={DB_PASSWORD} host={sock} db=mail table=mailboxes usercolumn=email "
            "passwdcolumn=password crypt=1 where=active=1")
    return (f"{MARKER} {os.getpid()}: for its private saslauthd; removed\n"
            f"# when the test ends.\nauth required pam_mysql.so {opts}\naccount required pam_mysql.so {opts}\n")


def make_certificate(root):
    d = os.path.join(root, "tls")
    os.makedirs(d)
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "30", "-subj", "/CN=mail.example.com"], capture_output=True, check=True, timeout=60)
    os.chmod(key, 0o600)
    return key, cert


# Mail submitted by a user other than root (spamc's sendmail runs as
# nobody) with a configuration directory of its own is refused by the
# set-gid postdrop unless the default main.cf lists that directory in
# alternate_config_directories. A machine without /etc/postfix gets one
# for the run, removed at the end.
DEFAULT_CONFIG_DIR = "/etc/postfix"

# What the test's DNS server knows: the partner's second domain, whose mail
# goes through an MX lookup (transport: smtp:slow.example:<sink port>).
DNS_ZONE = """\
slow.example      MX  10 mx.slow.example
mx.slow.example   A   127.0.0.1
"""


class Stack:
    """The shared services of one run (MariaDB, saslauthd, clamd, spamd)."""

    def __init__(self, root, config_dirs):
        self.root = root
        self.config_dirs = config_dirs
        self.made_default_config = False
        self.mariadb = services.MariaDB(root)
        self.saslauthd = services.Saslauthd(root)
        self.clamd = services.Clamd(root)
        self.spamd = services.Spamd(root, pfinstance.free_port())
        self.pam_written = False
        # The DNS fault: each mail system runs in a mount namespace of its
        # own where /etc/resolv.conf names the test's DNS server (one
        # second, one attempt). Without unshare(1) or the right to mount,
        # that check is skipped.
        self.dns = None
        self.resolv_conf = os.path.join(root, "resolv.conf")

    def start(self):
        os.mkdir(DEFAULT_CONFIG_DIR, 0o755)
        self.made_default_config = True
        pfinstance.write_config(os.path.join(DEFAULT_CONFIG_DIR, "main.cf"),
                                f"{MARKER} {os.getpid()}: for one run.\n"
                                f"alternate_config_directories = {' '.join(self.config_dirs)}\n")
        self.mariadb.install()
        self.mariadb.start()
        schema(self.mariadb)
        # It holds the database password: readable by root only.
        fd = os.open(services.PAM_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(pam_text(self.mariadb.sock))
        self.pam_written = True
        self.saslauthd.start()
        self.clamd.start()
        self.spamd.start()
        self.start_dns()

    def start_dns(self):
        with open(self.resolv_conf, "w") as f:
            f.write("# filled in below\n")
        probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind {self.resolv_conf} /etc/resolv.conf"],
                               capture_output=True, timeout=30) if shutil.which("unshare") else None
        if probe is None or probe.returncode != 0:
            print("company: no mount namespace (unshare -m): the DNS fault is skipped", file=sys.stderr)
            return
        for last in range(1, 20):
            try:
                self.dns = services.FakeDns(f"127.83.77.{last}", DNS_ZONE)
                break
            except OSError:
                continue
        if self.dns:
            with open(self.resolv_conf, "w") as f:
                f.write(f"nameserver {self.dns.address}\noptions timeout:1 attempts:1\n")

    def stop(self):
        if self.dns:
            self.dns.close()
        for s in (self.spamd, self.clamd, self.saslauthd, self.mariadb):
            try:
                s.stop()
            except Exception as e:  # noqa: BLE001 - every service is stopped whatever one did
                print(f"company: stopping {type(s).__name__}: {e}", file=sys.stderr)
        if self.pam_written:
            try:
                os.unlink(services.PAM_FILE)
            except OSError:
                pass
        if self.made_default_config:
            shutil.rmtree(DEFAULT_CONFIG_DIR, ignore_errors=True)


class Side:
    """One mail system of the run, with its clamsmtpd, Dovecot and sink."""

    def __init__(self, root, side, cache, stack, key, cert):
        self.side = side
        self.stack = stack
        self.dir = side_directory(root, side)
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "maillog")
        for d in (self.etc, self.spool, self.data):
            os.makedirs(d)
        os.chmod(self.dir, 0o755)
        shutil.chown(self.data, "postfix")
        self.ports = {k: pfinstance.free_port() for k in ("smtp", "submission", "smtps", "reinject", "clamsmtp")}
        self.seen = {}  # per user: the Maildir names checks.py has taken
        self.sink = services.Sink()
        self.ports["sink"] = self.sink.port
        self.ports["spamd"] = stack.spamd.port
        self.dovecot = services.Dovecot(self.dir, side.label, [u for u, _ in USERS])
        self.clamsmtpd = services.Clamsmtpd(self.dir, self.ports["clamsmtp"], self.ports["reinject"], stack.clamd.sock)
        extra_main = list(side.extra_main)
        if side.label.startswith("reference"):
            # The reference's dynamically loaded tables are listed in
            # $meta_directory/dynamicmaps.cf: a meta directory of its own.
            meta = os.path.join(self.dir, "meta")
            shutil.copytree(os.path.join(cache, "etc/postfix"), meta)
            lib = os.path.join(cache, "usr/lib/postfix")
            with open(os.path.join(meta, "dynamicmaps.cf"), "w") as f:
                for t in ("mysql", "pcre"):
                    f.write(f"{t}\t{lib}/postfix-{t}.so\tdict_{t}_open\n")
            os.utime(os.path.join(meta, "dynamicmaps.cf"), (pfinstance.OLD_MTIME, pfinstance.OLD_MTIME))
            extra_main = [f"meta_directory = {meta}" if x.startswith("meta_directory") else x for x in extra_main]
        values = {**{k: str(v) for k, v in self.ports.items()},
                  "etc": self.etc, "spool": self.spool, "data": self.data, "maillog": self.log,
                  "daemon_directory": side.daemon_dir, "command_directory": side.command_dir,
                  "sendmail": os.path.join(side.command_dir, "sendmail"),
                  "lmtp_socket": self.dovecot.lmtp, "mysql_socket": stack.mariadb.sock,
                  "saslauthd_mux": stack.saslauthd.mux, "key": key, "cert": cert,
                  "db_user": DB_USER, "db_password": DB_PASSWORD,
                  "side_main": "\n".join(extra_main)}

        def fill(text):
            return re.sub(r"(?<!\$)\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)
        confdir = os.path.join(HERE, "configs")
        for base, _dirs, files in os.walk(confdir):
            for fname in files:
                src = os.path.join(base, fname)
                rel = os.path.relpath(src, confdir)
                dst = os.path.join(self.etc, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                pfinstance.write_config(dst, fill(open(src).read()))
        self.values = values

    # -- the mail system
    def run(self, program, args, stdin=b"", timeout=30):
        return pfinstance.run_command(self.side, self.etc, program, args, stdin, timeout, cwd=self.dir)

    def start(self):
        pfinstance.make_setgid(self.side)
        self.dovecot.start()
        self.clamsmtpd.start()
        if self.stack.dns:
            # master and every daemon it starts see the test's resolv.conf.
            env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
                   "MAIL_CONFIG": self.etc, **self.side.env}
            p = subprocess.run(["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"',
                                self.stack.resolv_conf, os.path.join(self.side.command_dir, "postfix"),
                                "-c", self.etc, "start"], capture_output=True, env=env, timeout=60, cwd=self.dir)
            status, out, err = p.returncode, p.stdout, p.stderr
        else:
            status, out, err = self.run("postfix", ["-c", self.etc, "start"], timeout=60)
        if status != 0:
            raise RuntimeError(f"{self.side.label}: postfix start: {status} {out!r} {err!r}")
        ok = services.wait_for(lambda: os.path.exists(os.path.join(self.spool, "public", "pickup"))
                               and services.can_connect(self.ports["smtp"]), 20)
        if not ok:
            raise RuntimeError(f"{self.side.label}: the mail system did not come up")

    def stop(self):
        self.run("postfix", ["-c", self.etc, "stop"], timeout=60)
        pfinstance.wait_master_gone(self.spool)
        self.clamsmtpd.stop()
        self.dovecot.stop()
        self.sink.close()

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def queue_files(self, *queues):
        found = []
        for q in queues:
            for base, _dirs, files in os.walk(os.path.join(self.spool, q)):
                found += [os.path.join(base, f) for f in files]
        return found


def side_directory(root, side):
    # Same-length names on both sides: paths show up in what is compared.
    return os.path.join(root, side.label.ljust(10, "_"))


def missing_programs():
    missing = [p for p in PROGRAMS if not os.path.exists(p)]
    if not any(os.path.exists(os.path.join(d, "pam_mysql.so")) for d in PAM_MODULE_DIRS):
        missing.append("pam_mysql.so (libpam-mysql)")
    return missing


def run_side(side, cache, stack, root, key, cert, names):
    s = Side(root, side, cache, stack, key, cert)
    results = {}
    started = time.monotonic()
    try:
        s.start()
        for check in checks.CHECKS:
            if names and check.__name__ not in names:
                continue
            t0 = time.monotonic()
            try:
                outcome, problems = check(s)
            except Exception as e:  # noqa: BLE001 - a broken check is a failed check, the run goes on
                outcome, problems = f"exception: {type(e).__name__}: {e}\n", [f"exception {e}"]
            results[check.__name__] = (outcome, problems, time.monotonic() - t0)
    except RuntimeError as e:
        results["start"] = ("", [str(e)], 0.0)
    finally:
        # The log as the checks left it: the lines of the shutdown depend
        # on timing (postlogd may be gone before postfix-script logs).
        results["_log"] = s.log_text()
        s.stop()
    results["_elapsed"] = time.monotonic() - started
    results["_dir"] = s.dir
    return results


# The log of a side, for the "log" comparison: every distinct line with
# what differs from run to run replaced (time stamps, process IDs, queue
# IDs, delays, ports, the side's directory, Dovecot's session IDs, the
# times of anvil's statistics). Compared as sets: how often pickup retried
# a file while MariaDB was down, or a line repeated, depends on timing.
LOG_RULES = [
    (re.compile(rb"^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d "), b""),
    (re.compile(rb"\[\d+\]: "), b"[pid]: "),
    (re.compile(rb"(?<![0-9A-Za-z])[0-9A-F]{8,12}(?![0-9A-Za-z])"), b"{QID}"),
    (re.compile(rb"\b(delay=)[0-9.]+"), rb"\1D"),
    (re.compile(rb"\b(delays=)[0-9./]+"), rb"\1D"),
    (re.compile(rb"(?<=[:\]])\d{4,5}\b"), b"{port}"),
    (re.compile(rb" at [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d$"), b" at {time}"),
    (re.compile(rb"(<[^>]+> )[A-Za-z0-9+/]{22}( Saved)"), rb"\1{session}\2"),
    (re.compile(rb"(max connection rate )\d+(/60s)"), rb"\1N\2"),
    (re.compile(rb"(max cache size )\d+"), rb"\1N"),
]


# Lines whose presence depends on timing alone: postfix-script's note when
# master takes a moment to stop,
# anvil's statistics (peak counts within a period) too.
LOG_SKIP = re.compile(rb"postfix-script\[\d+\]: waiting for the Postfix mail system to terminate"
                      rb"|anvil\[\d+\]: statistics: ")


def normalised_log(text, side_dir):
    out = set()
    for line in text.split(b"\n"):
        if not line or LOG_SKIP.search(line):
            continue
        line = line.replace(side_dir.encode(), b"{side}")
        for pattern, repl in LOG_RULES:
            line = pattern.sub(repl, line)
        out.add(line)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True, help="our build directory (with bin/ and libexec/)")
    ap.add_argument("--reference", default=pfinstance.DEFAULT_REFERENCE)
    ap.add_argument("--check", action="append", help="only these checks (checks.py function names)")
    ap.add_argument("--side", choices=["both", "reference", "ours"], default="both")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--dump", action="store_true", help="print every outcome of both sides")
    ap.add_argument("--keep", action="store_true", help="keep the test directory")
    ap.add_argument("--reference-twice", action="store_true", help="run the reference as the second side too")
    ap.add_argument("--retries", type=int, default=1, help="run the whole stack again up to N times when a check fails")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("company: needs root (master, saslauthd, dovecot and clamd run as root)", file=sys.stderr)
        return 77
    missing = missing_programs()
    if missing:
        print("company: SKIP, not installed: " + ", ".join(missing) + " (scripts/install-deps.sh)")
        return 77
    if not os.path.exists(os.path.join(args.reference, "usr/sbin/postfix")):
        print(f"company: SKIP, no reference at {args.reference}")
        return 77
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the finally clauses stop every service
    for path in (services.PAM_FILE, DEFAULT_CONFIG_DIR):
        if left_by_dead_run(path):
            print(f"company: removing {path}, left by a run that was killed")
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        if os.path.exists(path):
            print(f"company: {path} exists: another run is going on (or left it behind), or this machine"
                  " has a mail system of its own")
            return 1
    sides = []
    if args.side in ("both", "reference"):
        sides.append(pfinstance.reference_side(args.reference))
    if args.side in ("both", "ours"):
        if args.reference_twice:
            r = pfinstance.reference_side(args.reference)
            sides.append(pfinstance.Side("reference2", r.command_dir, r.daemon_dir, r.extra_main, r.env))
        else:
            sides.append(pfinstance.ours_side(os.path.abspath(args.ours)))
    known = pfinstance.read_known(AREA)
    root = tempfile.mkdtemp(prefix="pf-company-")
    os.chmod(root, 0o755)
    key, cert = make_certificate(root)
    stack = Stack(root, [os.path.join(side_directory(root, s), "etc") for s in sides])
    t0 = time.monotonic()
    results = []
    try:
        stack.start()
        print(f"company: services up in {time.monotonic() - t0:.1f}s")
        for side in sides:
            r = run_side(side, args.reference, stack, root, key, cert, args.check)
            print(f"company: {side.label} side in {r['_elapsed']:.1f}s")
            results.append((side.label, r))
    finally:
        stack.stop()
    names = [c.__name__ for c in checks.CHECKS if not args.check or c.__name__ in args.check]
    if len(results) == 2 and not args.check:
        # The log lines of the whole run, side against side.
        # One comparison per program (postfix/<name>), so that a known
        # difference of one program does not hide the others.
        programs = set()
        for _, r in results:
            by_program = {}
            for line in normalised_log(r.get("_log", b""), r["_dir"]):
                m = re.search(rb" postfix/([\w/-]+)\[pid\]: ", line)
                prog = "log-" + (m.group(1).decode().replace("/", "-") if m else "other")
                by_program.setdefault(prog, []).append(line.decode(errors="replace") + "\n")
            for prog, lines in by_program.items():
                r[prog] = ("".join(sorted(lines)), [], 0.0)
            programs |= set(by_program)
        for _, r in results:
            for prog in programs:
                r.setdefault(prog, ("", [], 0.0))
        names += sorted(programs)
    if any("start" in r for _, r in results):
        names.insert(0, "start")
    total = passed = known_count = 0
    for name in names:
        total += 1
        per = [(label, r.get(name, ("(not run)\n", ["not run"], 0.0))) for label, r in results]
        problems = [f"{label}: {p}" for label, (_, probs, _) in per for p in probs]
        outcomes = [o for _, (o, _, _) in per]
        differ = len(outcomes) == 2 and outcomes[0] != outcomes[1]
        if args.dump:
            for label, (o, _, t) in per:
                print(f"=== {name} ({label}, {t:.1f}s)\n{o}")
        if not problems and not differ and name not in known:
            passed += 1
            continue
        if (problems or differ) and name in known:
            known_count += 1
            continue
        print(f"FAIL {AREA}/{name}" + (" (stale known difference)" if not problems and not differ else ""))
        for p in problems:
            print(f"    {p}")
        # The outcome of a check is short: its diff is always shown.
        if differ and (args.show_diff or not name.startswith("log-")):
            for line in difflib.unified_diff(outcomes[0].splitlines(), outcomes[1].splitlines(),
                                             per[0][0], per[1][0], lineterm=""):
                print("    " + line)
    failed = total - passed - known_count
    print(f"{AREA}: {total} checks, {passed} passed on every side with equal outcomes, "
          f"{known_count} known differences, {failed} failed ({time.monotonic() - t0:.0f}s)")
    if args.keep:
        print(f"kept {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    if failed and args.retries > 0:
        # The checks build on one another (one queue, one set of
        # mailboxes): a retry runs the whole stack again (lib/retry.py).
        options = ["--ours", args.ours, "--reference", args.reference, "--side", args.side]
        options += ["--show-diff"] if args.show_diff else []
        options += ["--reference-twice"] if args.reference_twice else []
        for name in args.check or []:
            options += ["--check", name]
        print(f"company: {failed} failed, running the stack again")
        if rerun_script(AREA, options, [AREA], retries=args.retries, flaky=f"FLAKY {AREA}: passed on retry"):
            return 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

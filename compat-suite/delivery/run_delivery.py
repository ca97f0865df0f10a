#!/usr/bin/env python3
"""The delivery area of the compat-suite: what lands in mailboxes.

Each case under cases/ (format: README.md) runs on the reference and on ours:
a private instance in a temporary directory (@DIR@) with the stock master.cf
(local, virtual, pipe, discard ... as Debian ships them, no SMTP listener),
the case's main.cf/master.cf lines, its files and home trees; the case's
messages are submitted with that side's sendmail one at a time, each waited
for until its deliveries are final in the log. Then the instance stops and
the harness collects every file and directory under @DIR@/mail, @DIR@/out
and (serial cases) the test users' homes (path, owner, group, mode, content)
and the log lines of each message and of the delivery agents.

A "case" in the figures is one recipient-message pair of a case directory:
it is identical when its log lines are, and when the case's file trees and
agent warnings are identical too.

Where the host allows private mount namespaces (unshare(1), root), each
instance's master runs in one of its own, with the test users' homes
(HOME_ROOT) bind-mounted from a directory of that instance: every case,
and both sides of a case, can then run at the same time, each seeing the
same home paths. Without them, cases that own the homes run one side
after the other under a machine-wide lock (the old way).

Waits are on conditions (queue files, log lines, the master's exit), each
bounded; nothing sleeps to synchronise. Trusts: its own cases. Runs as
root (master; the test users are created with useradd when missing).
"""

import argparse
import concurrent.futures
import contextlib
import fcntl
import grp
import os
import pwd
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
REPO = os.path.dirname(COMPAT)
sys.path.insert(0, os.path.join(COMPAT, "lib"))
import pfinstance  # noqa: E402
from pfinstance import (DEFAULT_REFERENCE, OLD_MTIME, free_port, make_setgid, ours_side,  # noqa: E402,F401
                        reference_side, wait_for)
AREA = "delivery"
USERS = [f"pfu{i}" for i in range(1, 7)]
HOME_ROOT = "/var/tmp/pf-delivery/home"
MESSAGE_TIMEOUT = 20    # seconds for one message's deliveries to become final
START_TIMEOUT = 15
STOP_TIMEOUT = 20       # seconds for the master to exit after SIGTERM
# `postfix start` returns once the master is up; on a machine loaded with
# other builds and tests it took over 30 seconds (a bound, not a wait).
START_COMMAND_TIMEOUT = 120
BIFF_PORT = 512         # biff/udp (comsat), where local(8) sends "user@offset"
AGENTS = ("local", "virtual", "pipe", "discard", "error", "retry", "bounce", "lmtp", "smtp")


def ensure_users():
    """pfu1..pfu6 with homes under HOME_ROOT (created when missing)."""
    os.makedirs(HOME_ROOT, exist_ok=True)
    os.chmod(os.path.dirname(HOME_ROOT), 0o755)
    os.chmod(HOME_ROOT, 0o755)
    for user in USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "-M", "-U", "-d", os.path.join(HOME_ROOT, user), "-s", "/bin/sh", user],
                           check=True, capture_output=True)


# Run in the new mount namespace made by unshare(1): bind the instance's
# homes over HOME_ROOT, then become `postfix start` (argv from the harness,
# never from a case).
BIND_HOMES_AND_EXEC = ("import os, subprocess, sys\n"
                       "subprocess.run(['mount', '--bind', sys.argv[1], sys.argv[2]], check=True)\n"
                       "os.execv(sys.argv[3], sys.argv[3:])\n")


def queue_layout(cache):
    """[(relative path, owner, group or None, mode)] of the queue directory
    tree as the reference's postfix-files lists it ("$queue_directory...:d:"
    lines; owner/group names after the stock mail_owner/setgid_group)."""
    names = {"$mail_owner": "postfix", "$setgid_group": "postdrop", "-": None}
    layout = []
    with open(os.path.join(cache, "etc/postfix/postfix-files")) as f:
        for line in f:
            fields = line.strip().split(":")
            if len(fields) < 5 or fields[1] != "d" or not re.fullmatch(r"\$queue_directory(/\w+)?", fields[0]):
                continue
            layout.append((fields[0][len("$queue_directory/"):], names.get(fields[2], fields[2]),
                           names.get(fields[3], fields[3]), int(fields[4], 8)))
    if not any(rel == "maildrop" for rel, *_ in layout):
        raise RuntimeError(f"delivery: no queue layout in {cache}/etc/postfix/postfix-files")
    return layout


def homes_isolation_works():
    """Whether a private mount namespace with a bind mount over HOME_ROOT
    can be made here (root, unshare(1), no seccomp/container refusal)."""
    probe = tempfile.mkdtemp(prefix="pf-delivery-probe-")
    try:
        p = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", sys.executable, "-c",
                            BIND_HOMES_AND_EXEC, probe, HOME_ROOT, "/bin/true", "true"],
                           capture_output=True, timeout=30)
        return p.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def user_substitutions():
    subs = {}
    for user in USERS:
        pw = pwd.getpwnam(user)
        subs[f"@UID_{user}@"] = str(pw.pw_uid)
        subs[f"@GID_{user}@"] = str(pw.pw_gid)
    return subs


def substitute(text, directory):
    text = text.replace("@DIR@", directory)
    for k, v in user_substitutions().items():
        text = text.replace(k, v)
    return text


class Case:
    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(HERE, "cases", name)
        self.main = self._read("main.cf")
        self.master = self._read("master.cf")
        self.messages = []
        for line in self._read("messages").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            # Optional 4th column: more sendmail options (DSN -N/-R/-V ...),
            # split on blanks, given before -f.
            sender, rcpts, fname, *more = line.split("\t")
            self.messages.append({"sender": "" if sender == "<>" else sender,
                                  "rcpts": [r.strip() for r in rcpts.split(",") if r.strip()],
                                  "file": os.path.join(self.dir, fname),
                                  "options": " ".join(more).split()})
        users = self._read("users").split()
        self.users = users or USERS
        self.homes = os.path.isdir(os.path.join(self.dir, "homes"))
        # A case that "owns the homes" has them reset before each side and
        # compared; without private homes it runs serially.
        self.serial = (self.homes or name.startswith("local-") or name.startswith("notice-")
                       or os.path.exists(os.path.join(self.dir, "biff")))
        # A case whose mbox gets several copies at once compares the
        # messages in any order (file "unordered-mbox" in the case).
        self.unordered_mbox = os.path.exists(os.path.join(self.dir, "unordered-mbox"))
        # A case with a file "biff" catches the comsat datagrams sent to
        # 127.0.0.1:512 (biff/udp) while its instance runs.
        self.biff = os.path.exists(os.path.join(self.dir, "biff"))

    def _read(self, fname):
        try:
            with open(os.path.join(self.dir, fname)) as f:
                return f.read()
        except OSError:
            return ""

    def pairs(self):
        return [(i, r) for i, m in enumerate(self.messages) for r in m["rcpts"]]


HOMES_LOCK_TIMEOUT = 3600    # seconds to wait for another run's serial cases


@contextlib.contextmanager
def homes_lock():
    """Holds an exclusive lock on the test users' homes (bounded wait)."""
    fd = os.open(os.path.join(os.path.dirname(HOME_ROOT), "homes.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + HOMES_LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError("delivery: the test users' homes stay locked by another run")
                time.sleep(0.5)
        yield
    finally:
        os.close(fd)


def reset_homes(case, home_root=HOME_ROOT):
    """Empties the test users' homes under home_root (HOME_ROOT or an
    instance's private copy) and fills them from the case's homes/."""
    os.makedirs(home_root, exist_ok=True)
    os.chmod(home_root, 0o755)
    for user in USERS:
        home = os.path.join(home_root, user)
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(home)
        pw = pwd.getpwnam(user)
        src = os.path.join(case.dir, "homes", user)
        if os.path.isdir(src):
            shutil.copytree(src, home, dirs_exist_ok=True, symlinks=True)
        for base, dirs, files in os.walk(home):
            for n in dirs + files:
                os.lchown(os.path.join(base, n), pw.pw_uid, pw.pw_gid)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        os.chmod(home, 0o755)


class Instance:
    def __init__(self, root, side, cache, case, private_homes=False, quick_start=True):
        self.side = side
        self.case = case
        # Directory names of equal length on both sides: paths inside
        # bounce notices then wrap at the same place.
        self.dir = os.path.join(root, {"reference": "ref", "ours": "our", "reference2": "rf2"}.get(side.label, side.label))
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "maillog")
        # Private homes: this directory is what the instance sees at
        # HOME_ROOT (mount namespace of its master).
        self.private_homes = private_homes
        self.home_root = os.path.join(self.dir, "homes") if private_homes else HOME_ROOT
        for d in (self.etc, self.spool, self.data, os.path.join(self.dir, "mail"), os.path.join(self.dir, "out")):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.dir, 0o755)
        for d in ("mail", "out"):
            os.chmod(os.path.join(self.dir, d), 0o1777)
        shutil.chown(self.data, "postfix")
        master_cf = open(os.path.join(cache, "usr/share/postfix/master.cf.dist")).read()
        master_cf = re.sub(r"(?m)^smtp\s+inet\s.*$", "", master_cf)
        master_cf += substitute(case.master, self.dir)
        case_main = substitute(case.main, self.dir)
        base = [
            "compatibility_level = 3.6",
            f"queue_directory = {self.spool}",
            f"data_directory = {self.data}",
            f"daemon_directory = {side.daemon_dir}",
            f"command_directory = {side.command_dir}",
            *side.extra_main,
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "inet_interfaces = loopback-only",
            "inet_protocols = ipv4",
            "myhostname = mx.example.test",
            "mydomain = example.test",
            "mydestination = $myhostname localhost.$mydomain localhost $mydomain",
            f"maillog_file = {self.log}",
            "maillog_file_prefixes = /tmp",
            "alias_maps =",
            "alias_database =",
            "biff = no",
        ]
        own = set(re.findall(r"(?m)^(\w+)\s*=", case_main))
        base = [ln for ln in base if re.match(r"^(\w+)", ln).group(1) not in own]
        self._write(os.path.join(self.etc, "master.cf"), master_cf)
        self._write(os.path.join(self.etc, "main.cf"), "\n".join(base) + "\n" + case_main)
        self.postmaps = []
        self.mounts = []
        self.cache = cache
        self.quick_start = quick_start
        files = os.path.join(case.dir, "files")
        if os.path.isdir(files):
            for base_dir, _dirs, fnames in os.walk(files):
                rel = os.path.relpath(base_dir, files)
                target_dir = os.path.normpath(os.path.join(self.dir, rel))
                os.makedirs(target_dir, exist_ok=True)
                for fname in fnames:
                    data = open(os.path.join(base_dir, fname), "rb").read()
                    try:
                        data = substitute(data.decode(), self.dir).encode()
                    except UnicodeDecodeError:
                        pass
                    target = os.path.join(target_dir, fname)
                    if fname.endswith(".postmap"):
                        target = target[:-len(".postmap")]
                        self.postmaps.append(("postmap", target))
                    elif fname.startswith("aliases"):
                        self.postmaps.append(("postalias", target))
                    self._write(target, data.decode(errors="surrogateescape"))

    def prepare(self):
        """The case's `prepare` lines (README.md): directories, files,
        FIFOs, links, owners and modes made before the instance starts. No
        shell: each line is one operation on paths under @DIR@ or ~user."""
        text = substitute(self.case._read("prepare"), self.dir)
        for line in text.splitlines():
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            op, args = words[0], [self._path(w) if w.startswith(("/", "~")) else w for w in words[1:]]
            if op == "mkdir":
                os.makedirs(args[0], exist_ok=True)
            elif op == "file":
                with open(args[0], "wb") as f:
                    if len(args) > 1:
                        f.write(open(os.path.join(self.case.dir, words[2]), "rb").read())
            elif op == "mkfifo":
                os.mkfifo(args[0])
            elif op == "symlink":
                os.symlink(words[1], args[1])
            elif op == "link":
                os.link(args[0], args[1])
            elif op == "chown":
                owner, _, group = args[0].partition(":")
                os.lchown(args[1], pwd.getpwnam(owner).pw_uid, grp.getgrnam(group or owner).gr_gid)
            elif op == "chmod":
                os.chmod(args[1], int(args[0], 8))
            elif op == "tmpfs":
                os.makedirs(args[0], exist_ok=True)
                subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={words[2]},mode=1777", "tmpfs", args[0]],
                               check=True, capture_output=True)
                self.mounts.append(args[0])
            elif op == "fill":
                with open(args[0], "wb") as f:
                    try:
                        f.write(b"x" * int(words[2]))
                    except OSError:
                        pass
            elif op == "touch-old":
                os.utime(args[0], (OLD_MTIME, OLD_MTIME))
            else:
                raise ValueError(f"{self.case.name}: unknown prepare operation {op}")

    def unmount(self):
        for path in reversed(self.mounts):
            subprocess.run(["umount", "-l", path], capture_output=True)
        self.mounts = []

    def _path(self, word):
        if word.startswith("~"):
            user, _, rest = word[1:].partition("/")
            return os.path.join(self.home_root, user, rest)
        if not word.startswith(self.dir):
            raise ValueError(f"{self.case.name}: prepare path outside the instance: {word}")
        return word

    @staticmethod
    def _write(path, text):
        with open(path, "w", errors="surrogateescape") as f:
            f.write(text)
        os.utime(path, (OLD_MTIME, OLD_MTIME))

    def run(self, program, args, stdin=b"", timeout=30, wrapper=()):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
               "MAIL_CONFIG": self.etc, **self.side.env}
        try:
            p = subprocess.run([*wrapper, os.path.join(self.side.command_dir, program), *args], input=stdin,
                               capture_output=True, env=env, timeout=timeout, cwd=self.dir)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            return "timeout", b"", b""
        except OSError as e:
            return "not found", b"", str(e).encode()

    def prepare_tables(self):
        out = []
        for program, path in self.postmaps:
            status, so, se = self.run(program, ["-c", self.etc, path])
            out.append(f"{program} {os.path.basename(path)}: {status}".encode() + so + se)
        return b"".join(out)

    def make_queue(self):
        """The queue directories as `postfix start`'s integrity check would
        create them (the reference's postfix-files), and the file
        quick-start that makes the next start skip that check: a hundred
        programs run by the reference's postfix-script per start, none of
        whose output this area compares (its "start" status still is)."""
        for rel, owner, group, mode in queue_layout(self.cache):
            path = os.path.join(self.spool, rel)
            os.makedirs(path, exist_ok=True)
            os.chown(path, pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid if group else 0)
            os.chmod(path, mode)
        with open(os.path.join(self.spool, "quick-start"), "wb"):
            pass

    def start(self):
        if self.quick_start:
            self.make_queue()
        wrapper = ()
        if self.private_homes:
            # The master (and so every daemon) in a mount namespace of its
            # own where HOME_ROOT is this instance's homes.
            wrapper = ("unshare", "--mount", "--propagation", "private", "--", sys.executable, "-c",
                       BIND_HOMES_AND_EXEC, self.home_root, HOME_ROOT)
        return self.run("postfix", ["-c", self.etc, "start"], timeout=START_COMMAND_TIMEOUT, wrapper=wrapper)

    def stop(self):
        """What "postfix stop" does (SIGTERM to the master), then waits for
        the master to exit (pidfd: no poll, no fixed sleep; the reference's
        postfix-script would sleep a whole second), SIGKILL to its process
        group after STOP_TIMEOUT. The stop's own log lines were never
        compared (STOP_LINES)."""
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            return    # not running
        try:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                return
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            if not poller.poll(STOP_TIMEOUT * 1000):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                poller.poll(5000)
        finally:
            os.close(pidfd)
        # The daemons master leaves (it signals its process group and
        # exits) may still be writing: wait for them too, bounded.
        wait_for(lambda: not process_group_alive(pid), 5)

    def queue_files(self, *queues):
        found = []
        for q in queues:
            for base, _dirs, files in os.walk(os.path.join(self.spool, q)):
                found += [os.path.join(base, f) for f in files]
        return found

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()
        except OSError:
            return b""


def process_group_alive(pgid):
    """Whether a process other than a zombie is in process group pgid."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid).encode() and fields[0] != b"Z":
            return True
    return False


QUEUE_ID = re.compile(rb"\b([0-9A-F]{8,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]+)"
                      rb"(?=[:;@\].,\s)]|$)")
PICKUP = re.compile(rb"postfix/pickup\[\d+\]: (\S+): uid=")


def message_final(log, qid):
    """True when the message was removed or every line about it since its
    last qmgr "queue active" line is final (deferred/bounced without removal:
    a deferral)."""
    q = re.escape(qid)
    if re.search(rb": " + q + rb": removed", log):
        return True
    return bool(re.search(rb": " + q + rb": .*status=deferred", log)) and not re.search(
        rb": " + q + rb": .*\(queue active\)(?![\s\S]*" + q + rb": .*status=)", log)


# Port 512 is one per machine: the biff cases' sides take turns.
BIFF_LOCK = threading.Lock()


def run_side(side, cache, case, root, private_homes=False, quick_start=True):
    make_setgid(side)
    began = time.monotonic()
    inst = Instance(root, side, cache, case, private_homes, quick_start)
    if private_homes:
        reset_homes(case, inst.home_root)
    try:
        with BIFF_LOCK if case.biff else contextlib.nullcontext():
            result = _run_side(inst, case)
    finally:
        inst.unmount()
    result["timings"]["total"] = time.monotonic() - began
    return result


def _run_side(inst, case):
    inst.prepare()
    result = {"dir": inst.dir, "qids": {}, "messages": {}, "log": b"", "tables": inst.prepare_tables(), "biff": [],
              "timings": {}}
    biff = None
    if case.biff:
        biff = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        biff.bind(("127.0.0.1", BIFF_PORT))
        biff.setblocking(False)
    try:
        return _deliver(inst, case, result)
    finally:
        if biff is not None:
            # Every datagram of this side is queued in the socket by now
            # (the instance has stopped).
            while True:
                try:
                    result["biff"].append(biff.recv(4096))
                except BlockingIOError:
                    break
            biff.close()


def _deliver(inst, case, result):
    t = time.monotonic()
    status, out, err = inst.start()
    result["start"] = (status, out, err)
    result["timings"]["start"] = time.monotonic() - t
    if status != 0 or not wait_for(lambda: os.path.exists(os.path.join(inst.spool, "public", "pickup")),
                                   START_TIMEOUT):
        result["log"] = inst.log_text()
        inst.stop()
        result["tree"] = collect(inst, case)
        return result
    t = time.monotonic()
    seen = 0
    for index, msg in enumerate(case.messages):
        data = open(msg["file"], "rb").read()
        args = [*msg["options"], "-f", msg["sender"], "--", *msg["rcpts"]]
        status, out, err = inst.run("sendmail", args, data)
        result["messages"][index] = (status, out, err)
        if status != 0:
            continue
        wait_for(lambda: len(PICKUP.findall(inst.log_text())) > seen, MESSAGE_TIMEOUT)
        pickups = PICKUP.findall(inst.log_text())
        if len(pickups) > seen:
            qid = pickups[seen]
            result["qids"][qid] = index
            wait_for(lambda: message_final(inst.log_text(), qid), MESSAGE_TIMEOUT)
        seen = len(pickups)
    # Notices the deliveries caused (bounces) settle too.
    wait_for(lambda: not inst.queue_files("maildrop", "incoming", "active"), MESSAGE_TIMEOUT)
    result["timings"]["messages"] = time.monotonic() - t
    t = time.monotonic()
    inst.stop()
    result["timings"]["stop"] = time.monotonic() - t
    result["log"] = inst.log_text()
    result["tree"] = collect(inst, case)
    return result


MAILDIR_NAME = re.compile(r"^\d+\.(V[0-9a-f]+I[0-9a-f]+M\d+|P\d+)\..*$")


def normalise_bytes(data, result):
    data = data.replace(result["dir"].encode(), b"@DIR@")
    data = re.sub(rb"(?m)^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ ", b"", data)
    data = re.sub(rb"(postfix(?:/[\w.-]+)+)\[\d+\]", rb"\1[{pid}]", data)
    data = re.sub(rb"\b\w{3}, [ \d]?\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}( \(\w+\))?", b"{date}", data)
    data = re.sub(rb"<\d{14}\.", b"<{datetime}.", data)
    data = re.sub(rb"(?m)^(>?From .+?  )\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$", rb"\1{ctime}", data)
    data = re.sub(rb"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+", b"delay={d}, delays={d}", data)
    data = re.sub(rb"(?m)(daemon started -- version \S+, configuration ).*$", rb"\1{etc}", data)
    data = re.sub(rb"\d+\.(V[0-9a-f]+I[0-9a-f]+M\d+|P\d+)\.[\w.-]+", b"{maildir-name}", data)
    # A Maildir file name's length varies (microseconds, inode): where a
    # notice folds the text after it varies too, so those continuation
    # lines are joined.
    data = re.sub(rb"(\{maildir-name\}[^\n]*)((?:\n    [^\n]+)+)",
                  lambda m: m.group(1) + m.group(2).replace(b"\n    ", b" "), data)
    qids = result.get("qids", {})

    def sub(m):
        q = m.group(1)
        return b"{Q%d}" % qids[q] if q in qids else b"{qid}"
    data = QUEUE_ID.sub(sub, data)
    data = re.sub(rb"(\{Q\d+\}|\{qid\})\.\d{9,}/", rb"\1.{time}/", data)
    return data


def collect(inst, case):
    """(path, kind, owner, group, mode, content) of every entry under the
    compared trees, Maildir file names normalised, sorted."""
    entries = []
    roots = [("@DIR@/mail", os.path.join(inst.dir, "mail")), ("@DIR@/out", os.path.join(inst.dir, "out"))]
    if case.serial:
        # Homes are shared by every case: only serial cases own them.
        roots += [(f"~{u}", os.path.join(inst.home_root, u)) for u in USERS]
    for label, top in roots:
        if not os.path.isdir(top):
            continue
        for base, dirs, files in os.walk(top):
            for n in sorted(dirs) + sorted(files):
                path = os.path.join(base, n)
                st = os.lstat(path)
                rel = os.path.relpath(path, top)
                rel = "/".join("{maildir-name}" if MAILDIR_NAME.match(p) else p for p in rel.split("/"))
                try:
                    owner = pwd.getpwuid(st.st_uid).pw_name
                except KeyError:
                    owner = str(st.st_uid)
                try:
                    group = grp.getgrgid(st.st_gid).gr_name
                except KeyError:
                    group = str(st.st_gid)
                kind = ("dir" if stat.S_ISDIR(st.st_mode) else "link" if stat.S_ISLNK(st.st_mode)
                        else "file" if stat.S_ISREG(st.st_mode) else "other")
                content = b""
                if kind == "file":
                    with open(path, "rb") as f:
                        content = f.read(1 << 20)
                elif kind == "link":
                    content = os.readlink(path).encode()
                entries.append((f"{label}/{rel}", kind, owner, group, "%04o" % stat.S_IMODE(st.st_mode), content))
    return entries


def unordered(content):
    """An mbox's messages in a canonical order: copies delivered at the
    same moment land in lock order. Ordered without the "From " line (its
    time differs) and without the blank line that ends each but the last;
    on normalised text (queue IDs and dates would decide the order)."""
    messages = [m.rstrip(b"\n") for m in re.split(rb"\n(?=From )", content)]
    messages.sort(key=lambda m: m.split(b"\n", 1)[-1])
    return b"\n\n".join(messages) + b"\n\n"


def tree_text(result, case=None):
    out = []
    for path, kind, owner, group, mode, content in result.get("tree", []):
        content = normalise_bytes(content, result)
        if case is not None and case.unordered_mbox and kind == "file" and content.startswith(b"From "):
            content = unordered(content)
        out.append((f"{path} {kind} {owner}:{group} {mode}\n").encode() + content)
    return b"\n".join(sorted(out))


def log_lines_for(result, index):
    qid = next((q for q, i in result["qids"].items() if i == index), None)
    if qid is None:
        return []
    pat = re.compile(rb"(?<![0-9A-Za-z])" + re.escape(qid) + rb"(?![0-9A-Za-z])")
    return [normalise_bytes(ln, result) for ln in result["log"].split(b"\n") if pat.search(ln)]


def pair_text(result, index, rcpt):
    """The log lines of one message that are about rcpt, plus its
    submission outcome."""
    m = result["messages"].get(index)
    if m is None:
        return b"(not submitted)\n"
    status, out, err = m
    text = [b"sendmail exit %s\n" % str(status).encode(), normalise_bytes(out + err, result)]
    r = rcpt.lower().encode()
    lines = log_lines_for(result, index)
    mine = [ln for ln in lines if b"to=<" + r + b">" in ln.lower() or b"orig_to=<" + r + b">" in ln.lower()]
    text += sorted(ln + b"\n" for ln in mine)
    return b"".join(text)


CLOCK_WARNINGS = re.compile(rb"warning: (file system clock is \d+ seconds? ahead of local clock"
                            rb"|resetting file time stamps - this hurts performance)")
STOP_LINES = re.compile(rb"postfix/postfix-script\[\d+\]: (stopping the Postfix mail system"
                        rb"|waiting for the Postfix mail system to terminate)$")


def general_text(result):
    """Message log lines not about one recipient, and the agents' lines
    without a message (warnings)."""
    out = set()
    known = set(result["qids"].keys())
    agents = re.compile(rb"postfix/(" + b"|".join(a.encode() for a in AGENTS) + rb")\[")
    for ln in result["log"].split(b"\n"):
        if not ln or CLOCK_WARNINGS.search(ln) or STOP_LINES.search(ln):
            continue
        ids = [m.group(1) for m in QUEUE_ID.finditer(ln)]
        if any(i in known for i in ids):
            if b" to=<" not in ln:
                out.add(normalise_bytes(ln, result))
            continue
        if agents.search(ln):
            out.add(normalise_bytes(ln, result))
    status, so, se = result.get("start", ("", b"", b""))
    head = b"start %s\n" % str(status).encode()
    # comsat datagrams in the order sent (a delivery's offset is the
    # mailbox size before it).
    head += b"".join(b"biff %r\n" % d for d in result.get("biff", []))
    head += normalise_bytes(result.get("tables", b""), result)
    return head + b"\n".join(sorted(out))


def read_known():
    return pfinstance.read_known(AREA)


def run_case(case, ref, ours, cache, keep, private_homes=False, quick_start=True):
    """Both sides of a case: at the same time with private homes, else one
    after the other (homes reset before each when the case owns them)."""
    root = tempfile.mkdtemp(prefix=f"pf-delivery-{case.name}-")
    os.chmod(root, 0o755)
    if private_homes:
        other = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            later = other.submit(run_side, ours, cache, case, root, True, quick_start)
            results = [run_side(ref, cache, case, root, True, quick_start), later.result()]
        finally:
            other.shutdown()
    else:
        results = []
        for side in (ref, ours):
            if case.serial:
                reset_homes(case)
            results.append(run_side(side, cache, case, root, False, quick_start))
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return root, results[0], results[1]


def diff(a, b):
    import difflib
    return ["    " + ln for ln in difflib.unified_diff(a.decode(errors="replace").splitlines(),
                                                     b.decode(errors="replace").splitlines(),
                                                     "reference", "ours", lineterm="")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", help="our build directory (with bin/ and libexec/)")
    ap.add_argument("--reference", default=DEFAULT_REFERENCE)
    ap.add_argument("--case", action="append", help="only these cases (prefix match)")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--reference-twice", action="store_true", help="the reference against itself")
    ap.add_argument("--keep", action="store_true", help="keep the instance directories")
    ap.add_argument("-j", "--jobs", type=int, default=3,
                    help="cases run at once (default 3; with private homes every case, its two sides at once too)")
    ap.add_argument("--shared-homes", action="store_true",
                    help="no private mount namespaces: cases owning the homes run serially")
    ap.add_argument("--full-start", action="store_true",
                    help="postfix start with its integrity checks (default: queue made by the harness, quick-start)")
    ap.add_argument("--timings", action="store_true", help="per case and side: seconds to start, deliver, stop")
    ap.add_argument("--retries", type=int, default=1,
                    help="run failing cases again up to N times (FLAKY when then identical)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("delivery: needs root (master runs as root)", file=sys.stderr)
        return 77
    ensure_users()
    ref = reference_side(args.reference)
    if args.reference_twice:
        ours = pfinstance.Side("reference2", ref.command_dir, ref.daemon_dir, ref.extra_main, ref.env)
    else:
        ours = ours_side(os.path.abspath(args.ours))
    names = sorted(n for n in os.listdir(os.path.join(HERE, "cases"))
                   if os.path.isdir(os.path.join(HERE, "cases", n)))
    if args.case:
        names = [n for n in names if any(n.startswith(c) for c in args.case)]
    cases = [Case(n) for n in names]
    private = not args.shared_homes and homes_isolation_works()
    if not private and not args.shared_homes:
        print("delivery: no private mount namespaces here: cases owning the homes run serially", file=sys.stderr)
    results = {}
    parallel = [c for c in cases if private or not c.serial]
    # Longest first (most messages; a side is a few seconds each), so the
    # pool does not end on one long case.
    parallel.sort(key=lambda c: -len(c.pairs()))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for c, r in zip(parallel, pool.map(lambda c: run_case(c, ref, ours, args.reference, args.keep, private,
                                                              not args.full_start), parallel)):
            results[c.name] = r
    serial = [c for c in cases if not private and c.serial]
    if serial:
        # The test users' homes are one set per machine: a second run of
        # this area (another build, another person) waits here instead of
        # emptying the homes under this one's cases.
        with homes_lock():
            for c in serial:
                results[c.name] = run_case(c, ref, ours, args.reference, args.keep, False, not args.full_start)
    known = read_known()
    total = identical = known_count = failed = 0
    failed_cases = []
    per_prefix = {}
    for c in cases:
        root, r_ref, r_ours = results[c.name]
        if args.timings:
            print(f"time {c.name}: " + "  ".join(
                f"{label} " + " ".join(f"{k}={v:.2f}" for k, v in r["timings"].items())
                for label, r in (("ref", r_ref), ("ours", r_ours))), file=sys.stderr)
        tree_a, tree_b = tree_text(r_ref, c), tree_text(r_ours, c)
        gen_a, gen_b = general_text(r_ref), general_text(r_ours)
        case_same = tree_a == tree_b and gen_a == gen_b
        pairs = c.pairs() or [(None, "(none)")]
        bad_pairs = []
        for index, rcpt in pairs:
            name = f"{c.name}/{index}-{rcpt}"
            a = pair_text(r_ref, index, rcpt) if index is not None else b""
            b = pair_text(r_ours, index, rcpt) if index is not None else b""
            same = case_same and a == b
            total += 1
            prefix = c.name.split("-")[0]
            stats = per_prefix.setdefault(prefix, [0, 0])
            stats[0] += 1
            if same and name not in known and c.name not in known:
                identical += 1
                stats[1] += 1
            elif not same and (name in known or c.name in known):
                known_count += 1
            else:
                failed += 1
                bad_pairs.append((name, a, b, same))
        if bad_pairs:
            failed_cases.append(c.name)
        for name, a, b, same in bad_pairs:
            print(f"FAIL {AREA}/{name}" + (" (stale known difference)" if same else ""))
            if args.show_diff and a != b:
                print("\n".join(diff(a, b)))
        if bad_pairs and args.show_diff:
            if tree_a != tree_b:
                print(f"  {c.name}: mailbox trees differ:")
                print("\n".join(diff(tree_a, tree_b)))
            if gen_a != gen_b:
                print(f"  {c.name}: general log lines differ:")
                print("\n".join(diff(gen_a, gen_b)))
        if args.keep:
            print(f"kept {root}")
    for prefix, (n, ok) in sorted(per_prefix.items()):
        print(f"{AREA}/{prefix}: {n} cases, {ok} identical")
    print(f"{AREA}: {total} cases, {identical} identical, {known_count} known differences")
    print(f"{total - failed} passed, {failed} failed")
    if failed and args.retries > 0:
        # Timing-dependent cases on a loaded machine: a case identical on a
        # second run passes but is reported FLAKY, as run.py --retries does.
        argv = [sys.executable, os.path.abspath(__file__), "--reference", args.reference, "--show-diff",
                "--retries", str(args.retries - 1)]
        argv += ["--reference-twice"] if args.reference_twice else ["--ours", args.ours]
        argv += ["--shared-homes"] if args.shared_homes else []
        argv += ["--full-start"] if args.full_start else []
        for name in failed_cases:
            argv += ["--case", name]
        if subprocess.run(argv).returncode == 0:
            print(f"FLAKY {AREA}: {', '.join(failed_cases)} identical on retry")
            failed = 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The rewrite area of the compat-suite: trivial-rewrite side by side.

For each configuration under configs/ this starts a private reference
instance (its master as root, a master.cf with just the rewrite and postlog
services, a queue directory of its own under /tmp/rewrite-compat-*) and our
trivial-rewrite stand-alone (`trivial-rewrite -S`, one client on
stdin/stdout; with --ours-instance, under our own master in the same
layout) on the same main.cf. Every address of `addresses` then goes
through both as the requests "rewrite" (rules local and remote), "resolve"
and "verify" (with each sender of the configuration's `senders` file, or the
null sender), and the answers are compared: flags (decoded to names; the
bit values are the same on both sides), transport, nexthop, recipient, the
rewritten address. Each configuration's warnings form one more case,
`<config>/warnings`, compared as a sorted list.

The reference speaks its own attribute protocol on private/rewrite: after a
greeting {protocol=trivial_rewrite_protocol}, each attribute is
"name\\0value\\0" and an empty name ends a list. A resolve reply carries
"flags" twice: the server's flags first, then the resolve flags. Ours
speaks src/ipc/attr.h ("name=value" lines, a blank line ends a list).

Case names: <config>/<request>[-<rule>][/<sender>]/<address>, with
non-printable bytes as \\xHH. Known differences: lines
"rewrite/<case><TAB><reason>" in ../known-differences.

Trusts: its own configurations and address list. Needs root (the
reference's master); exits 77 otherwise.
"""

import argparse
import difflib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
REPO = os.path.dirname(COMPAT)
sys.path.insert(0, os.path.join(COMPAT, "lib"))
import pfinstance  # noqa: E402
from pfinstance import OLD_MTIME, wait_for  # noqa: E402
DEFAULT_REFERENCE = os.path.join(COMPAT, ".cache", "reference")
AREA = "rewrite"
IO_TIMEOUT = 10
MARKER = "end-of-cases"

MASTER_CF = (
    "rewrite   unix  -       -       y       -       -       trivial-rewrite\n"
    "postlog   unix-dgram n  -       n       -       1       postlogd\n"
)

COMMON_MAIN = """\
compatibility_level = 3.6
queue_directory = {instance}/spool
data_directory = {instance}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mail.example.com
mydomain = example.com
maillog_file = {instance}/maillog
maillog_file_prefixes = /tmp
"""

FLAG_NAMES = [(1 << 0, "final"), (1 << 1, "routed"), (1 << 2, "error"), (1 << 3, "fail"),
              (1 << 8, "class-local"), (1 << 9, "class-alias"), (1 << 10, "class-virtual"),
              (1 << 11, "class-relay"), (1 << 12, "class-default")]


def flag_text(value):
    try:
        n = int(value)
    except (TypeError, ValueError):
        return "flags=%r" % (value,)
    names = [name for bit, name in FLAG_NAMES if n & bit]
    rest = n & ~sum(bit for bit, _ in FLAG_NAMES)
    if rest:
        names.append("0x%x" % rest)
    return "flags=" + (",".join(names) or "0")


def decode_escapes(text):
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", "surrogateescape")
    while i < len(raw):
        c = raw[i:i + 1]
        if c == b"\\" and i + 1 < len(raw):
            n = raw[i + 1:i + 2]
            if n == b"x" and i + 3 < len(raw):
                out += bytes([int(raw[i + 2:i + 4], 16)])
                i += 4
                continue
            if n == b"t":
                out += b"\t"
                i += 2
                continue
            if n == b"\\":
                out += b"\\"
                i += 2
                continue
        out += c
        i += 1
    return bytes(out)


def show(data):
    """Bytes as a printable case-name part."""
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif 0x21 <= b < 0x7F or b == 0x20:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out) if data else "{empty}"


def read_list(path):
    items = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.lstrip().startswith("#"):
                continue
            items.append(b"" if line == "{empty}" else decode_escapes(line))
    return items


def read_senders(folder):
    path = os.path.join(folder, "senders")
    if not os.path.exists(path):
        return [b""]
    with open(path, "rb") as f:
        return [line.rstrip(b"\n") for line in f]


# --- the reference's attribute protocol ------------------------------------

class ReferenceClient:
    def __init__(self, path, gave_up):
        """Connects and reads the greeting; gave_up() says when to stop
        waiting for it (the daemon died: master throttles its restarts)."""
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.sock.settimeout(0.1)
        deadline = time.monotonic() + IO_TIMEOUT
        while True:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                if gave_up() or time.monotonic() > deadline:
                    raise EOFError("no greeting")
                continue
            if not data:
                raise EOFError("no greeting")
            self.buf += data
            if b"\0\0" in self.buf:
                break
        self.sock.settimeout(IO_TIMEOUT)
        greeting = self.receive()
        if greeting != [(b"protocol", b"trivial_rewrite_protocol")]:
            raise RuntimeError("unexpected greeting %r" % greeting)

    def _field(self):
        while b"\0" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("reference closed the connection")
            self.buf += data
        field, self.buf = self.buf.split(b"\0", 1)
        return field

    def receive(self):
        attrs = []
        while True:
            name = self._field()
            if not name:
                return attrs
            attrs.append((name, self._field()))

    def request(self, attrs):
        self.sock.sendall(b"".join(k + b"\0" + v + b"\0" for k, v in attrs) + b"\0")
        return self.receive()

    def send_only(self, attrs):
        self.sock.sendall(b"".join(k + b"\0" + v + b"\0" for k, v in attrs) + b"\0")

    def close(self):
        self.sock.close()


# --- our attribute protocol (src/ipc/attr.h) --------------------------------

def our_escape(value):
    return value.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\0", b"\\0")


def our_unescape(value):
    out = bytearray()
    i = 0
    while i < len(value):
        c = value[i]
        if c == 0x5C and i + 1 < len(value):
            n = value[i + 1]
            out += {0x5C: b"\\", 0x6E: b"\n", 0x30: b"\0"}.get(n, bytes([c, n]))
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


class OurClient:
    """Our trivial-rewrite run stand-alone (-S): requests on its stdin,
    replies on its stdout, diagnostics on its stderr."""

    def __init__(self, program, etc, cwd, args=()):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
               "MAIL_CONFIG": etc}
        self.proc = subprocess.Popen([program, "-S", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, cwd=cwd)
        self.buf = b""
        self.err = b""

    def _line(self):
        while b"\n" not in self.buf:
            fds = [self.proc.stdout.fileno(), self.proc.stderr.fileno()]
            ready, _, _ = select.select(fds, [], [], IO_TIMEOUT)
            if not ready:
                raise TimeoutError("our trivial-rewrite did not answer")
            if self.proc.stderr.fileno() in ready:
                data = os.read(self.proc.stderr.fileno(), 65536)
                self.err += data
            if self.proc.stdout.fileno() in ready:
                data = os.read(self.proc.stdout.fileno(), 65536)
                if not data:
                    raise EOFError("our trivial-rewrite closed the connection")
                self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def request(self, attrs):
        self.send_only(attrs)
        out = []
        while True:
            line = self._line()
            if not line:
                return out
            name, _, value = line.partition(b"=")
            out.append((name, our_unescape(value)))

    def send_only(self, attrs):
        data = b"".join(k + b"=" + our_escape(v) + b"\n" for k, v in attrs) + b"\n"
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def finish(self):
        """Closes stdin, collects what is left of stderr, reaps."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        open_fds = [self.proc.stdout.fileno(), self.proc.stderr.fileno()]
        deadline = time.monotonic() + IO_TIMEOUT
        while open_fds and time.monotonic() < deadline:
            ready, _, _ = select.select(open_fds, [], [], max(0.0, deadline - time.monotonic()))
            for fd in ready:
                data = os.read(fd, 65536)
                if not data:
                    open_fds.remove(fd)
                elif fd == self.proc.stderr.fileno():
                    self.err += data
        try:
            self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.err


class OurSocketClient(OurClient):
    """Our trivial-rewrite under our own master: private/rewrite."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(IO_TIMEOUT)
        self.sock.connect(path)
        self.buf = b""
        self.err = b""

    def _line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("our trivial-rewrite closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def send_only(self, attrs):
        self.sock.sendall(b"".join(k + b"=" + our_escape(v) + b"\n" for k, v in attrs) + b"\n")

    def finish(self):
        self.sock.close()
        return b""


# --- instances ---------------------------------------------------------------

def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (OLD_MTIME, OLD_MTIME))


def setup_config(folder, instance, extra_main):
    """<instance>/etc with main.cf (common lines, side lines, the
    configuration's lines; {config} is this etc), master.cf and tables."""
    etc = os.path.join(instance, "etc")
    for d in ("etc", "spool", "data"):
        os.makedirs(os.path.join(instance, d))
    os.chmod(instance, 0o755)
    shutil.chown(os.path.join(instance, "data"), "postfix")
    # What `postfix start` would make before master runs.
    for d, owner, group, mode in (("pid", "root", "root", 0o755), ("private", "postfix", "root", 0o700),
                                  ("public", "postfix", "postdrop", 0o710)):
        path = os.path.join(instance, "spool", d)
        os.mkdir(path)
        shutil.chown(path, owner, group)
        os.chmod(path, mode)
    main = b""
    for fname in sorted(os.listdir(folder)):
        with open(os.path.join(folder, fname), "rb") as f:
            data = f.read().replace(b"{config}", etc.encode())
        if fname == "main.cf":
            main = data
        elif fname not in ("senders", "addresses", "rebuild", "master-lines") and not fname.endswith(".rebuilt"):
            write_file(os.path.join(etc, fname), data)
    # The common lines the configuration does not set itself (no
    # "overriding earlier entry" warnings), the configuration's lines, then
    # the side's own (directories), so line numbers agree on both sides.
    own = set(re.findall(rb"(?m)^([A-Za-z0-9_]+)\s*=", main))
    common = [line for line in COMMON_MAIN.format(instance=instance).splitlines()
              if line.split("=")[0].strip().encode() not in own]
    text = ("\n".join(common) + "\n").encode() + main
    if not text.endswith(b"\n"):
        text += b"\n"
    text += "".join(line + "\n" for line in extra_main).encode()
    write_file(os.path.join(etc, "main.cf"), text)
    if not os.path.exists(os.path.join(folder, "master.cf")):
        write_file(os.path.join(etc, "master.cf"), MASTER_CF.encode())
    return etc


class Instance:
    """A private instance of one side, its master started directly."""

    def __init__(self, folder, instance, daemon_dir, extra_main, env):
        self.dir = instance
        self.daemon_dir = daemon_dir
        self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC", **env}
        self.etc = setup_config(folder, instance, [f"daemon_directory = {daemon_dir}", *extra_main])
        self.socket = os.path.join(instance, "spool", "private", "rewrite")
        self.log = os.path.join(instance, "maillog")

    def start(self):
        env = dict(self.env, MAIL_CONFIG=self.etc)
        p = subprocess.run([os.path.join(self.daemon_dir, "master"), "-w"], env=env,
                           capture_output=True, timeout=30, cwd=self.dir)
        if p.returncode != 0:
            raise RuntimeError("master did not start: %s" % p.stderr.decode(errors="replace"))
        if not wait_for(lambda: os.path.exists(self.socket), 10):
            raise RuntimeError("private/rewrite did not appear")

    def master_pid(self):
        try:
            with open(os.path.join(self.dir, "spool", "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        """Asks master to stop; returns a function that waits until it has
        (master takes a second or so: the caller stops every instance
        first, then waits for them all)."""
        pid = self.master_pid()
        if pid is None:
            return lambda: None
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            return lambda: None

        def gone():
            try:
                os.kill(pid, 0)
                return False
            except OSError:
                return True

        def wait():
            if not wait_for(gone, 10):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        return wait

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()
        except OSError:
            return b""


def reference_instance(cache, folder, instance):
    lib = os.path.join(cache, "usr/lib/postfix")
    return Instance(folder, instance, f"{lib}/sbin", [
        f"command_directory = {cache}/usr/sbin",
        f"meta_directory = {cache}/etc/postfix",
        f"shlib_directory = {lib}",
    ], {"LD_LIBRARY_PATH": lib})


# --- requests and answers ------------------------------------------------------

def requests_for(addresses, senders):
    """(case suffix, attribute list) for every request of one configuration."""
    out = []
    for addr in addresses:
        for rule in (b"local", b"remote"):
            out.append((f"rewrite-{rule.decode()}/{show(addr)}",
                        [(b"request", b"rewrite"), (b"rule", rule), (b"address", addr)]))
        for req in (b"resolve", b"verify"):
            for sender in senders:
                part = f"{req.decode()}" + (f"/{show(sender)}" if senders != [b""] else "")
                out.append((f"{part}/{show(addr)}",
                            [(b"request", req), (b"sender", sender), (b"address", addr)]))
    return out


def reference_answer(attrs, reply):
    """The reference's reply as a transcript line."""
    kind = attrs[0][1]
    names = [n for n, _ in reply]
    values = dict(reply)
    if kind == b"rewrite":
        if names != [b"flags", b"address"]:
            return "malformed reply %r" % (reply,)
        return "%s address=%s" % (flag_text(values[b"flags"]), show(values[b"address"]))
    if names != [b"flags", b"transport", b"nexthop", b"recipient", b"flags"]:
        return "malformed reply %r" % (reply,)
    server_flags = int(reply[0][1])
    flags = int(reply[4][1])
    # The first flags are the server's (a resolve failure shows there);
    # ours carry every bit in one value.
    return "%s transport=%s nexthop=%s recipient=%s" % (
        flag_text(flags | server_flags), show(reply[1][1]), show(reply[2][1]), show(reply[3][1]))


def our_answer(attrs, reply):
    kind = attrs[0][1]
    names = [n for n, _ in reply]
    values = dict(reply)
    if kind == b"rewrite":
        if names != [b"flags", b"address"]:
            return "malformed reply %r" % (reply,)
        return "%s address=%s" % (flag_text(values[b"flags"]), show(values[b"address"]))
    if names != [b"flags", b"transport", b"nexthop", b"recipient"]:
        return "malformed reply %r" % (reply,)
    return "%s transport=%s nexthop=%s recipient=%s" % (
        flag_text(values[b"flags"]), show(values[b"transport"]), show(values[b"nexthop"]),
        show(values[b"recipient"]))


def ask_all(client, answer, requests):
    """Every request in turn; after the server goes away the rest are "no
    answer" (the same words on both sides)."""
    results = {}
    for name, attrs in requests:
        try:
            results[name] = answer(attrs, client.request(attrs))
        except (EOFError, OSError, TimeoutError, ValueError):
            break
    for name, _ in requests:
        results.setdefault(name, "no answer")
    return results


# A diagnostic of trivial-rewrite itself: "... postfix/trivial-rewrite[pid]: "
# in a maillog, "<argv0>: " on stderr (master's lines about the process are
# not its own).
WARNING_LINE = re.compile(rb"^(?:.* postfix/trivial-rewrite\[\d+\]|\S*trivial-rewrite): "
                          rb"((?:warning|fatal|panic|error): .*)$")


def warnings_of(text, instance):
    lines = []
    for line in text.split(b"\n"):
        m = WARNING_LINE.search(line)
        if m:
            lines.append(m.group(1).replace(instance.encode(), b"{instance}").decode(errors="replace"))
    return sorted(lines)


def rewrite_arguments(folder):
    """The words after the command of the rewrite service in the folder's
    own master.cf (given to ours run stand-alone as master would)."""
    path = os.path.join(folder, "master.cf")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 8 and fields[0] == "rewrite" and fields[1] == "unix":
                return fields[8:]
    return []


# master's own warnings (a daemon's exit status, throttling), the daemon's
# path shown by its file name.
MASTER_LINE = re.compile(rb"^.* postfix/master\[\d+\]: ((?:warning|fatal|panic|error): .*)$")


def master_lines(instance, daemon_dir):
    """Waits (bounded) until master has logged trivial-rewrite's exit, then
    master's warning lines in log order."""
    def text():
        return instance.log_text()
    wait_for(lambda: re.search(rb"postfix/master\[\d+\]: warning: process .*trivial-rewrite pid \d+ exit status",
                               text()) is not None, 10)
    lines = []
    for line in text().split(b"\n"):
        m = MASTER_LINE.search(line)
        if m:
            lines.append(m.group(1).replace(daemon_dir.encode() + b"/", b"{daemon_directory}/")
                         .replace(instance.dir.encode(), b"{instance}").decode(errors="replace"))
    return [re.sub(r" pid \d+ ", " pid {pid} ", line) for line in lines]


def run_config(cname, folder, cache, ours_program, root, addresses, stopping, instance_mode=False):
    """Runs one configuration on both sides; appends to stopping a function
    that waits for the reference instance to be gone. A configuration's own
    `addresses` file replaces the common list."""
    if os.path.exists(os.path.join(folder, "addresses")):
        addresses = read_list(os.path.join(folder, "addresses"))
    senders = read_senders(folder)
    requests = requests_for(addresses, senders)
    ref = reference_instance(cache, folder, os.path.join(root, cname, "reference"))
    ours_dir = os.path.join(root, cname, "ours")
    if instance_mode:
        ours_inst = Instance(folder, ours_dir, os.path.dirname(ours_program),
                             [f"meta_directory = {os.path.join(REPO, 'master.cf.d')}"], {})
        ours_etc = ours_inst.etc
    else:
        ours_etc = setup_config(folder, ours_dir, [f"daemon_directory = {os.path.dirname(ours_program)}"])
    rebuild = os.path.exists(os.path.join(folder, "rebuild")) and instance_mode
    # master's lines about the daemon are compared only where ours has a master.
    check_master = os.path.exists(os.path.join(folder, "master-lines")) and instance_mode
    if os.path.exists(os.path.join(folder, "rebuild")):
        with open(os.path.join(folder, "rebuild")) as f:
            for table in (line.strip() for line in f):
                if table and not table.startswith("#"):
                    postmap(cache, ref.etc, table, old=True)
                    postmap(cache, ours_etc, table, old=True)
    ref.start()
    died = re.compile(rb"trivial-rewrite\[\d+\]: (fatal|panic): ")
    try:
        try:
            client = ReferenceClient(ref.socket, lambda: died.search(ref.log_text()) is not None)
        except (EOFError, OSError):
            client = None
            r_ref = {name: "no answer" for name, _ in requests}
        if client is not None:
            r_ref = ask_all(client, reference_answer, requests)
            # A bad request ends the session and is logged: once that line
            # is in the log, every earlier warning is there too.
            try:
                client.send_only([(b"request", MARKER.encode())])
            except OSError:
                pass
            client.close()
            wait_for(lambda: MARKER.encode() in ref.log_text() or died.search(ref.log_text()), 10)
        if rebuild:
            rb_ref = rebuild_check(cache, folder, ref, lambda: ReferenceClient(ref.socket, lambda: False),
                                   reference_answer, ref.dir)
        if check_master:
            m_ref = master_lines(ref, ref.daemon_dir)
    finally:
        stopping.append(ref.stop())
    w_ref = [w for w in warnings_of(ref.log_text(), ref.dir) if MARKER not in w]

    if instance_mode:
        ours_inst.start()
        try:
            try:
                ours = OurSocketClient(ours_inst.socket)
                r_ours = ask_all(ours, our_answer, requests)
                try:
                    ours.send_only([(b"request", MARKER.encode())])
                except OSError:
                    pass
                ours.finish()
            except OSError:
                r_ours = {name: "no answer" for name, _ in requests}
            wait_for(lambda: MARKER.encode() in ours_inst.log_text() or died.search(ours_inst.log_text()), 10)
            if rebuild:
                rb_ours = rebuild_check(cache, folder, ours_inst, lambda: OurSocketClient(ours_inst.socket),
                                        our_answer, ours_dir)
            if check_master:
                m_ours = master_lines(ours_inst, ours_inst.daemon_dir)
        finally:
            stopping.append(ours_inst.stop())
        err = ours_inst.log_text()
    else:
        ours = OurClient(ours_program, ours_etc, ours_dir, rewrite_arguments(folder))
        r_ours = ask_all(ours, our_answer, requests)
        try:
            ours.send_only([(b"request", MARKER.encode())])
        except OSError:
            pass
        err = ours.finish()
    w_ours = [w for w in warnings_of(err, ours_dir) if MARKER not in w]

    cases = []
    for name, _ in requests:
        cases.append((f"{cname}/{name}", r_ref.get(name, "(not asked)"), r_ours.get(name, "(not asked)")))
    cases.append((f"{cname}/warnings", "\n".join(w_ref), "\n".join(w_ours)))
    if check_master:
        cases.append((f"{cname}/master", "\n".join(m_ref), "\n".join(m_ours)))
    if rebuild:
        cases.append((f"{cname}/rebuild/log", "\n".join(rb_ref[0]) or "(no restart)",
                      "\n".join(rb_ours[0]) or "(no restart)"))
        for addr in sorted(set(rb_ref[1]) | set(rb_ours[1])):
            cases.append((f"{cname}/rebuild/resolve/{addr}", rb_ref[1].get(addr, "no answer"),
                          rb_ours[1].get(addr, "no answer")))
    return cases


RESTART_LINE = re.compile(rb"postfix/trivial-rewrite\[\d+\]: (table .* has changed -- restarting)$", re.M)


def postmap(cache, etc, table, old=False):
    """Builds <etc>/<table>.db with the reference's postmap (both sides read
    the same file format); old: with an old time stamp."""
    lib = os.path.join(cache, "usr/lib/postfix")
    subprocess.run([os.path.join(cache, "usr/sbin/postmap"), "-c", etc, os.path.join(etc, table)],
                   env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LD_LIBRARY_PATH": lib, "MAIL_CONFIG": etc},
                   capture_output=True, timeout=30, check=True)
    # At set-up, an old time stamp: a rebuild within the same second must
    # still show as a change (the check compares whole seconds).
    if old:
        os.utime(os.path.join(etc, table + ".db"), (OLD_MTIME, OLD_MTIME))


def rebuild_check(cache, folder, inst, connect, answer, instance_dir):
    """The `rebuild` case: replaces each table named in the folder's
    `rebuild` file by its `.rebuilt` version, waits for trivial-rewrite to
    notice (it checks every 10 seconds and restarts), and asks again on a new
    connection. Returns (restart log lines, answers)."""
    with open(os.path.join(folder, "rebuild")) as f:
        tables = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    for table in tables:
        with open(os.path.join(folder, table + ".rebuilt"), "rb") as f:
            write_file(os.path.join(inst.etc, table), f.read())
        postmap(cache, inst.etc, table)
    wait_for(lambda: RESTART_LINE.search(inst.log_text()) is not None, 20, step=0.2)
    lines = [m.group(1).replace(instance_dir.encode(), b"{instance}").decode(errors="replace")
             for m in RESTART_LINE.finditer(inst.log_text())]
    answers = {}
    try:
        client = connect()
        for addr in (b"user@remote.org", b"user@example.com"):
            attrs = [(b"request", b"resolve"), (b"sender", b""), (b"address", addr)]
            answers[show(addr)] = answer(attrs, client.request(attrs))
    except (EOFError, OSError, TimeoutError, ValueError):
        pass
    return lines, answers


def read_known():
    return pfinstance.read_known(AREA)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True, help="our build directory (with libexec/trivial-rewrite)")
    ap.add_argument("--reference", default=DEFAULT_REFERENCE)
    ap.add_argument("--config", action="append", help="only these configurations")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the instance directories")
    ap.add_argument("--ours-instance", action="store_true",
                    help="run ours under our own master too (default: trivial-rewrite -S)")
    ap.add_argument("--print", action="store_true", help="print every case with the reference's answer")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("rewrite: needs root (the reference's master runs as root)", file=sys.stderr)
        return 77
    ours_program = os.path.join(os.path.abspath(args.ours), "libexec", "trivial-rewrite")
    if not os.path.exists(ours_program):
        print(f"rewrite: {ours_program} is missing", file=sys.stderr)
        return 1
    cache = os.path.abspath(args.reference)
    configs = sorted(os.listdir(os.path.join(HERE, "configs")))
    if args.config:
        configs = [c for c in configs if c in args.config]
    addresses = read_list(os.path.join(HERE, "addresses"))
    known = read_known()
    total = identical = known_count = failed = 0
    root = tempfile.mkdtemp(prefix="rewrite-compat-")
    os.chmod(root, 0o755)
    seen = set()
    stopping = []
    try:
        for cname in configs:
            for case, a, b in run_config(cname, os.path.join(HERE, "configs", cname), cache, ours_program,
                                         root, addresses, stopping, args.ours_instance):
                seen.add(case)
                if args.print:
                    print(f"{case}\n    {a}" if a == b else f"{case}\n    reference: {a}\n    ours:      {b}")
                total += 1
                same = a == b
                if same and case not in known:
                    identical += 1
                elif not same and case in known:
                    known_count += 1
                else:
                    failed += 1
                    print(f"FAIL {AREA}/{case}" + (" (stale known difference)" if same else ""))
                    if args.show_diff and not same:
                        for line in difflib.unified_diff(a.splitlines(), b.splitlines(), "reference", "ours",
                                                         lineterm=""):
                            print("    " + line)
    finally:
        for wait in stopping:
            wait()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if not args.config:
        for name in sorted(set(known) - seen):
            failed += 1
            print(f"FAIL {AREA}/{name} (listed in known-differences but no such case)")
    print(f"{AREA}: {total} cases, {identical} identical, {known_count} known differences")
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

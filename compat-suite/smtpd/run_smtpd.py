#!/usr/bin/env python3
"""The smtpd area of the compat-suite: SMTP dialogues against both servers.

For each configuration under configs/ this starts a private instance of the
reference and one of ours (master as root, smtpd on a free loopback port,
cleanup, trivial-rewrite, proxymap, postlogd; no qmgr, so queued mail stays
in incoming/), plays every case of cases/ that names the configuration on
one connection per case, and compares the normalised transcripts: the
dialogue, the session's smtpd and cleanup log lines, and the queue files it
left (printed by the reference's postcat for both sides). README.md
describes the case format. A configuration with a failing case is run a
second time; identical then, it passes as FLAKY (the first diff shown).

Waits are on conditions (the port listening, the disconnect line in the
log), each bounded; SLEEP in a case is the only sleep, and only where the
case is about time.

Trusts: its own configs and cases. The instances run as root (master),
daemons as the postfix user.
"""

import argparse
import concurrent.futures
import difflib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
DEFAULT_REFERENCE = os.path.join(COMPAT, ".cache", "reference")
sys.path.insert(0, os.path.join(COMPAT, "lib"))
import pfinstance  # noqa: E402
from pfinstance import free_port, ours_side, wait_for, wait_master_gone, write_config  # noqa: E402
from retry import retry_units  # noqa: E402

AREA = "smtpd"
TIMING = bool(os.environ.get("SMTPD_TIMING"))   # report cases slower than 1.5 s on stderr
REPLY_TIMEOUT = 10      # seconds for one reply
END_TIMEOUT = 3         # seconds to wait for the close after the last line
LOG_TIMEOUT = 10        # seconds for the session's last log line

BASE_MAIN = [
    "compatibility_level = 3.6",
    "mail_owner = postfix",
    "setgid_group = postdrop",
    "inet_interfaces = loopback-only",
    "inet_protocols = ipv4",
    "myhostname = mail.example.com",
    "mydomain = example.com",
    "mydestination = $myhostname, localhost.$mydomain, localhost, example.com",
    "mynetworks = 127.0.0.0/8",
    "smtpd_error_sleep_time = 0",
    "smtpd_client_event_limit_exceptions = 0.0.0.0/0",
    "alias_maps =",
    "local_recipient_maps =",
    "biff = no",
]

MASTER_CF = """\
{port} inet n - n - - smtpd
cleanup   unix  n       -       n       -       0       cleanup
rewrite   unix  -       -       n       -       -       trivial-rewrite
proxymap  unix  -       -       n       -       -       proxymap
postlog   unix-dgram n  -       n       -       1       postlogd
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
"""

CANNED = [
    b"From: Alice <alice@example.org>",
    b"To: Bob <bob@example.com>",
    b"Subject: test message",
    b"Message-ID: <test-1@example.org>",
    b"Date: Thu, 1 Jan 2026 00:00:00 +0000",
    b"",
    b"Hello Bob,",
    b"this is line two of the body.",
    b"..a line that starts with a dot",
    b"Bye.",
]


def reference_side(cache, label="reference"):
    """lib/pfinstance's reference side under a label of its own (the
    reference against itself: "reference2")."""
    side = pfinstance.reference_side(cache)
    side.label = label
    return side


def read_config(name):
    folder = os.path.join(HERE, "configs", name)
    cfg = {"main": "", "master": "", "files": {}}
    for fname in sorted(os.listdir(folder)):
        with open(os.path.join(folder, fname), "rb") as f:
            data = f.read()
        if fname == "main.cf":
            cfg["main"] = data.decode()
        elif fname == "master.cf":
            cfg["master"] = data.decode()
        else:
            cfg["files"][fname] = data
    return cfg


class Instance:
    """One private mail system in <root>/<side>."""

    def __init__(self, root, side, cfg):
        self.side = side
        self.dir = os.path.join(root, side.label)
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "maillog")
        for d in (self.etc, self.spool, self.data):
            os.makedirs(d)
        os.chmod(self.dir, 0o755)
        shutil.chown(self.data, "postfix")
        self.port = free_port()
        self.port2 = free_port()

        def fill(text):
            return (text.replace("{port}", str(self.port)).replace("{port2}", str(self.port2))
                    .replace("{instance}", self.dir).replace("{config}", self.etc))
        own_main = fill(cfg["main"])
        own = set(re.findall(r"(?m)^(\w+)\s*=", own_main))
        base = [
            f"queue_directory = {self.spool}",
            f"data_directory = {self.data}",
            f"daemon_directory = {side.daemon_dir}",
            f"command_directory = {side.command_dir}",
            *side.extra_main,
            f"maillog_file = {self.log}",
            "maillog_file_prefixes = /tmp",
            *BASE_MAIN,
        ]
        base = [ln for ln in base if re.match(r"^(\w+)", ln).group(1) not in own]
        self._write("main.cf", "\n".join(base) + "\n" + own_main)
        self._write("master.cf", fill(MASTER_CF) + fill(cfg["master"]))
        self.maps = []
        for fname, data in cfg["files"].items():
            self._write(fname, fill(data.decode()))
            if fname.endswith(".map"):
                self.maps.append(fname)

    def _write(self, fname, text):
        write_config(os.path.join(self.etc, fname), text)

    def run(self, program, args, stdin=b"", timeout=30, command_dir=None, env_extra=None):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
               "MAIL_CONFIG": self.etc, **self.side.env, **(env_extra or {})}
        argv = [os.path.join(command_dir or self.side.command_dir, program), *args]
        try:
            p = subprocess.run(argv, input=stdin, capture_output=True, env=env, timeout=timeout, cwd=self.dir)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            return "timeout", b"", b""
        except OSError as e:
            return "not found", b"", str(e).encode()

    def start(self):
        for m in self.maps:
            self.run("postmap", [os.path.join(self.etc, m)])
        status, out, err = self.run("postfix", ["-c", self.etc, "start"])
        if status != 0:
            return f"postfix start: {status} {out!r} {err!r}"

        def listening():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(5)
                    # A probe connection: say nothing, close; it shows in the
                    # log as a session of its own, dropped by offset below.
                    s.recv(1024)
                return True
            except OSError:
                return False
        if not wait_for(listening, 15, 0.1):
            return "smtpd port never listened"
        wait_for(lambda: self.log_text().count(b"disconnect from") >= 1, LOG_TIMEOUT)
        return None

    def stop(self):
        self.run("postfix", ["-c", self.etc, "stop"])
        wait_master_gone(self.spool)

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def queue_file(self, qid):
        for base, _dirs, files in os.walk(self.spool):
            if qid in files:
                return os.path.join(base, qid)
        return None


# ---------------------------------------------------------------- cases

def decode_escapes(text):
    out = bytearray()
    raw = text.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):
            n = chr(raw[i + 1])
            if n == "r":
                out += b"\r"; i += 2; continue
            if n == "n":
                out += b"\n"; i += 2; continue
            if n == "t":
                out += b"\t"; i += 2; continue
            if n == "\\":
                out += b"\\"; i += 2; continue
            if n == "x" and i + 3 < len(raw) + 0:
                out.append(int(raw[i + 2:i + 4], 16)); i += 4; continue
        out.append(c)
        i += 1
    return bytes(out)


def read_case(path, own=None):
    """The case file at path (README.md); own(line, steps) -> True takes a
    line of a harness built on this one (smtpd-tls's TLS steps, smtpd-dns's
    client:/zone:, smtpd-proxy's F:) before it is read as one of these."""
    steps = []
    config = "basic"
    port = 1
    hold = 0
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if own and own(line, steps):
                continue
            if line in ("CLOSE",):
                steps.append(("CLOSE", None))
                continue
            if ":" not in line:
                raise ValueError(f"{path}:{lineno}: no directive")
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "config":
                config = value.strip()
            elif key == "hold":
                hold = int(value)
            elif key == "port":
                port = int(value)
            elif key in ("C", "P"):
                steps.append((key, decode_escapes(value) + b"\r\n"))
            elif key == "S":
                steps.append(("S", decode_escapes(value)))
            elif key == "L":
                n, ch = value.split(" ", 1)
                steps.append(("S", decode_escapes(ch) * int(n)))
            elif key == "R":
                steps.append(("R", int(value or "1")))
            elif key == "W":
                steps.append(("W", float(value)))
            elif key in ("DATA", "DATA?"):
                n = int(value)
                body = b"".join(ln + b"\r\n" for ln in CANNED[:n]) + b".\r\n"
                steps.append(("S" if key == "DATA" else "S354", body))
            elif key == "SLEEP":
                steps.append(("SLEEP", float(value)))
            else:
                raise ValueError(f"{path}:{lineno}: unknown directive {key}")
    return {"config": config, "port": port, "hold": hold, "steps": steps}


def show(data):
    return data.decode("utf-8", "backslashreplace").replace("\r", "\\r")


class Conversation:
    def __init__(self, port, sock=None):
        """A connection to port on loopback, or sock when given (one made
        otherwise: master-pass hands its server end to private/smtpd)."""
        self.sock = sock or socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT)
        self.buf = b""
        self.closed = False
        self.out = []

    def _fill(self, deadline):
        if self.closed:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except OSError as e:
            self.out.append(f"!! {e.__class__.__name__}")
            self.closed = True
            return False
        if not data:
            self.closed = True
            return False
        self.buf += data
        return True

    def read_reply(self, timeout=REPLY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, _, self.buf = self.buf.partition(b"\n")
                self.out.append("S: " + show(line + b"\n").rstrip("\n"))
                if len(line) < 4 or line[3:4] != b"-":
                    return True
            if not self._fill(deadline):
                if self.buf:
                    self.out.append("S: " + show(self.buf) + " (partial)")
                    self.buf = b""
                if self.closed:
                    self.out.append("(closed by server)")
                else:
                    self.out.append("(no reply)")
                return False

    def read_to_close(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.closed:
            if not self._fill(deadline):
                break
        for line in self.buf.split(b"\n"):
            if line:
                self.out.append("S: " + show(line))
        self.buf = b""
        self.out.append("(closed by server)" if self.closed else "(still open)")

    def send(self, data):
        if self.closed:
            self.out.append("(not sent: closed)")
            return
        try:
            self.sock.sendall(data)
        except OSError as e:
            self.out.append(f"!! send {e.__class__.__name__}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# Hooks of the harnesses built on this one (smtpd-tls): steps of kinds of
# their own, {kind: function(conv, arg, port)}, and what comes before the
# greeting is read, function(conv, steps, port) -> the steps left.
EXTRA_STEPS = {}
BEFORE_GREETING = None


def play(case, inst, held_out=None):
    """Plays the case on one connection; its held connections (hold: N)
    go to held_out for the caller to close once the session has ended
    (closed here when held_out is None)."""
    port = inst.port if case["port"] == 1 else inst.port2
    # "hold: N": N connections opened (each greeting read) before the
    # case's own, kept open until it ends (connection count limits).
    held = []
    for i in range(case.get("hold", 0)):
        try:
            h = Conversation(port)
        except OSError as e:
            return [f"!! connect (held {i + 1}): {e}"]
        h.read_reply()
        held.append(h)
    try:
        conv = Conversation(port)
    except OSError as e:
        return [f"!! connect: {e}"]
    for i, h in enumerate(held):
        conv.out += [f"(held {i + 1}) {line}" for line in h.out]
    steps = case["steps"]
    if BEFORE_GREETING:
        steps = BEFORE_GREETING(conv, steps, port)
    conv.read_reply()
    ended = False
    burst = b""
    for kind, arg in steps:
        if burst and kind != "P":
            conv.send(burst)
            burst = b""
        if kind == "C":
            conv.out.append("C: " + show(arg).rstrip("\n"))
            conv.send(arg)
            conv.read_reply()
        elif kind == "P":
            # Consecutive P: lines go out in one write, as a real
            # pipelining client's burst does.
            conv.out.append("C: " + show(arg).rstrip("\n") + " (no wait)")
            burst += arg
            continue
        elif kind == "S":
            text = show(arg)
            if len(text) > 200:
                text = text[:100] + f"...({len(arg)} bytes)..." + text[-60:]
            conv.out.append("C> " + text)
            conv.send(arg)
        elif kind == "S354":
            # DATA?: the message and its reply only when the last reply
            # read was 354 (a rejected DATA leaves the client's text to
            # the command reader, whose close races with the client's
            # next writes).
            last = [ln for ln in conv.out if ln.startswith("S: ")]
            if last and last[-1].startswith("S: 354"):
                conv.out.append("C> " + show(arg))
                conv.send(arg)
                conv.read_reply()
            else:
                conv.out.append("(no message sent: DATA was not accepted)")
        elif kind == "R":
            for _ in range(arg):
                if not conv.read_reply():
                    break
        elif kind == "W":
            conv.read_to_close(arg)
            ended = True
        elif kind == "SLEEP":
            time.sleep(arg)
        elif kind == "CLOSE":
            conv.out.append("(client closes)")
            conv.close()
            ended = True
            break
        elif kind in EXTRA_STEPS:
            EXTRA_STEPS[kind](conv, arg, port)
    if burst:
        conv.send(burst)
    if not ended:
        conv.read_to_close(END_TIMEOUT)
    conv.close()
    if held_out is None:
        for h in held:
            h.close()
    else:
        held_out.extend(held)
    return conv.out


# cleanup's wakeup of qmgr fails: the harness runs no qmgr, on purpose.
HARNESS_NOISE = re.compile(rb"warning: unable to look up public/qmgr: |warning: connect to transport private/|"
                           rb"warning: (file system clock is \d+ seconds? ahead of local clock"
                           rb"|resetting file time stamps - this hurts performance)")
def after_session_end(transcript):
    """The first client line of a transcript's dialogue that follows a
    reply ending the session (421, 521, a 221 that does not answer QUIT),
    with that reply; None when there is none. Such a command races with
    the server's close (a reset on one run, a clean close on the next),
    on the reference too: README.md "Writing cases" wants W: there."""
    ending = last_client = None
    for line in transcript.split(b"\n"):
        if line in (b"log:", b"filter:"):
            break
        if line.startswith((b"C: ", b"C> ")):
            if ending:
                return ending, line
            last_client = line
        elif re.match(rb"S: (421|521) ", line) or (re.match(rb"S: 221 ", line) and not (
                last_client and re.match(rb"C: quit\b", last_client, re.I))):
            ending = line
    return None


# What a side's transcript is when the harness, not the server, failed.
HARNESS_FAILURE = re.compile(rb"(?m)^\((?:harness error|instance did not start): .*$")
SESSION_END = re.compile(rb"postfix/(?:[\w.-]+/)*smtpd\[\d+\]: disconnect from ")
QUEUE_ID = re.compile(rb"\b([0-9A-F]{8,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]+)(?=[:;@\].,\s)\\]|$)")


def run_case(case, inst, reference_postcat):
    """Plays one case; returns what finish_case() needs once the whole
    side has run (cleanup lines come by queue ID, and may be written after
    smtpd's disconnect line)."""
    before = inst.log_text()
    offset = len(before)
    ends = len(SESSION_END.findall(before))
    held = []
    dialogue = play(case, inst, held)
    wait_for(lambda: len(SESSION_END.findall(inst.log_text())) > ends, LOG_TIMEOUT)
    log = inst.log_text()[offset:]
    # The held sessions end only now: their "lost connection" and
    # "disconnect" lines come after the case's own disconnect line.
    for h in held:
        h.close()
    # smtpd's lines: those of this session's window (up to its disconnect).
    smtpd_lines = []
    for ln in log.split(b"\n"):
        if re.search(rb"postfix/(?:[\w.-]+/)*smtpd\[", ln) and not HARNESS_NOISE.search(ln):
            smtpd_lines.append(ln)
            if SESSION_END.search(ln):
                break
    qids = []
    for ln in smtpd_lines:
        m = re.search(rb"postfix/(?:[\w.-]+/)*smtpd\[\d+\]: (\w+): client=", ln)
        if m and m.group(1) not in qids:
            qids.append(m.group(1))
    queue = queued_files(inst, qids, "\n".join(dialogue), reference_postcat)
    return {"dialogue": dialogue, "smtpd": smtpd_lines, "qids": qids, "queue": queue}


def queued_files(inst, qids, text, reference_postcat):
    """{queue ID: lines}: where each of qids that text says was "queued as"
    lies, and the reference postcat's print of it. The others are judged at
    the end (finish_case), once cleanup has had its say."""
    queued = set(re.findall(rb"queued as (\w+)", text.encode("utf-8", "surrogateescape")))
    queue = {}
    for q in qids:
        if q not in queued:
            continue
        path = inst.queue_file(q.decode())
        if path is None:
            queue[q] = [f"queue file {q.decode()}: none".encode()]
            continue
        where = os.path.relpath(os.path.dirname(path), inst.spool)
        status, out, err = inst.run("postcat", ["-c", inst.etc, path], command_dir=reference_postcat[0],
                                    env_extra=reference_postcat[1])
        queue[q] = [f"queue file in {where.split('/')[0]}: postcat exit {status}".encode(), out + err]
    return queue


def finish_case(partial, inst, full_log):
    """The case's transcript: dialogue, smtpd lines, the cleanup lines of
    its queue IDs, and its queue files."""
    qids = partial["qids"]
    lines = list(partial["smtpd"])
    # Each message has a cleanup process of its own: the lines of two
    # messages of one session come in either order (a refused message's
    # cleanup may log after the next one's), so they are put in the order
    # of the session's queue IDs, each message's own lines kept in order.
    cleanup_lines = []
    for ln in full_log.split(b"\n"):
        if re.search(rb"postfix/(?:[\w.-]+/)*cleanup\[", ln) and not HARNESS_NOISE.search(ln):
            for i, q in enumerate(qids):
                if re.search(rb"(?<![0-9A-Za-z])" + re.escape(q) + rb"(?![0-9A-Za-z])", ln):
                    cleanup_lines.append((i, ln))
                    break
    lines += [ln for _i, ln in sorted(cleanup_lines, key=lambda item: item[0])]
    queue = []
    for q in qids:
        if q in partial["queue"]:
            queue += partial["queue"][q]
            continue
        # A transaction that was not acknowledged: its file must be gone.
        path = inst.queue_file(q.decode())
        queue.append(f"queue file {q.decode()}: ".encode() +
                     (b"none" if path is None else b"left in " + os.path.relpath(path, inst.spool).split("/")[0].encode()))
    by_prog = {}
    for ln in lines:
        m = re.search(rb"(postfix/(?:[\w.-]+/)*\w+)\[", ln)
        by_prog.setdefault(m.group(1), []).append(ln)
    text = "\n".join(partial["dialogue"]).encode("utf-8", "surrogateescape") + b"\nlog:\n"
    for prog in sorted(by_prog):
        text += b"".join(ln + b"\n" for ln in by_prog[prog])
    text += b"queue:\n" + b"\n".join(queue) + b"\n"
    return normalise(text, inst, qids)


def wait_quiet(inst, quiet=0.5, limit=5.0):
    """Waits until the log has not grown for `quiet` seconds (at most
    `limit`): the daemons have finished what the last sessions started."""
    deadline = time.monotonic() + limit
    size, since = len(inst.log_text()), time.monotonic()
    while time.monotonic() < deadline:
        now_size = len(inst.log_text())
        if now_size != size:
            size, since = now_size, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.05)


def normalise(data, inst, qids):
    data = data.replace(inst.dir.encode(), b"{instance}")
    data = data.replace(str(inst.port).encode(), b"{port}").replace(str(inst.port2).encode(), b"{port2}")
    data = re.sub(rb"(?m)^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ ", b"", data)
    data = re.sub(rb"(postfix(?:/[\w.-]+)+)\[\d+\]", rb"\1[{pid}]", data)
    data = re.sub(rb"\b\w{3}, [ \d]?\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}( \(\w+\))?", b"{date}", data)
    data = re.sub(rb"\b\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\b", b"{ctime}", data)
    data = re.sub(rb"<\d{14}\.", b"<{datetime}.", data)
    data = re.sub(rb"(client_port|port)=\d+", rb"\1={n}", data)
    # The data offset depends on the digits of the client port.
    data = re.sub(rb"(?m)^(message_size: +\d+) +\d+", rb"\1 {offset}", data)
    table = {q: i for i, q in enumerate(qids)}

    def sub(m):
        q = m.group(1)
        return b"{Q%d}" % table[q] if q in table else b"{qid}"
    data = QUEUE_ID.sub(sub, data)
    return data


# ---------------------------------------------------------------- main

def read_known():
    return pfinstance.read_known(AREA)


class SideHelper:
    """What a harness built on this one adds to each side (smtpd-proxy: its
    filter): attach() once the instance is written, before it starts; its
    own run_case(); finish() on each transcript; stop() after the instance."""

    def attach(self, inst):
        pass

    def run_case(self, case, inst, reference_postcat):
        return run_case(case, inst, reference_postcat)

    def finish(self, text):
        return text

    def stop(self):
        pass


def run_side(side, cfg, cases, root, reference_postcat, helper=None):
    helper = helper or SideHelper()
    inst = Instance(root, side, cfg)
    helper.attach(inst)
    error = inst.start()
    results = {}
    if error:
        for name in cases:
            results[name] = f"(instance did not start: {error})\n".encode()
        inst.stop()
        helper.stop()
        results["__log__"] = inst.log_text()
        return results
    partials = {}
    for name, case in cases.items():
        try:
            started = time.monotonic()
            partials[name] = helper.run_case(case, inst, reference_postcat)
            if TIMING and time.monotonic() - started > 1.5:
                print(f"slow: {side.label} {name} {time.monotonic() - started:.1f}s", file=sys.stderr)
        except Exception as e:  # noqa: BLE001  (a harness bug shows as a difference)
            results[name] = f"(harness error: {e!r})\n".encode()
    wait_quiet(inst)
    full_log = inst.log_text()
    for name, partial in partials.items():
        try:
            results[name] = helper.finish(finish_case(partial, inst, full_log))
        except Exception as e:  # noqa: BLE001
            results[name] = f"(harness error: {e!r})\n".encode()
    inst.stop()
    helper.stop()
    return results


def main(case_reader=None, side_runner=None, jobs=6):
    """The area's run; a harness built on this one (smtpd-proxy) passes its
    own case reader, run_side() and default number of configurations run
    at once."""
    case_reader = case_reader or read_case
    side_runner = side_runner or run_side
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", help="our build directory (with bin/ and libexec/)")
    ap.add_argument("--reference", default=DEFAULT_REFERENCE)
    ap.add_argument("--case", action="append", help="only cases whose name contains this")
    ap.add_argument("--config", action="append", help="only these configurations")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--print-reference", action="store_true", help="print the reference's transcripts only")
    ap.add_argument("--reference-twice", action="store_true", help="the reference against itself")
    ap.add_argument("--keep", action="store_true", help="keep the instance directories")
    ap.add_argument("-j", "--jobs", type=int, default=jobs, help=f"configurations run at once (default {jobs})")
    ap.add_argument("--retries", type=int, default=1,
                    help="run a configuration with a failing case again, once (0: never)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("smtpd: needs root (master runs as root)", file=sys.stderr)
        return 77
    ref = reference_side(args.reference)
    if args.reference_twice or args.print_reference:
        ours = reference_side(args.reference, "reference2")
    else:
        if not args.ours:
            ap.error("--ours is required")
        ours = ours_side(os.path.abspath(args.ours))
    reference_postcat = (ref.command_dir, ref.env)
    cases = {}
    bad = []
    for name in sorted(os.listdir(os.path.join(HERE, "cases"))):
        if args.case and not any(c in name for c in args.case):
            continue
        try:
            cases[name] = case_reader(os.path.join(HERE, "cases", name))
        except (ValueError, OSError) as e:
            bad.append((name, str(e)))
    by_config = {}
    for name, case in cases.items():
        by_config.setdefault(case["config"], {})[name] = case
    if args.config:
        by_config = {k: v for k, v in by_config.items() if k in args.config}
    known = read_known()
    total = identical = known_count = failed = 0
    for name, err in bad:
        total += 1
        failed += 1
        print(f"FAIL {AREA}/{name} (malformed case: {err})")
    def run_config(cname):
        group = by_config[cname]
        if not os.path.isdir(os.path.join(HERE, "configs", cname)):
            return None
        cfg = read_config(cname)
        started = time.monotonic()
        root = tempfile.mkdtemp(prefix=f"pf-{AREA}-{cname}-")
        os.chmod(root, 0o755)
        try:
            if args.print_reference:
                return side_runner(ref, cfg, group, root, reference_postcat), None
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                f_ref = pool.submit(side_runner, ref, cfg, group, root, reference_postcat)
                f_ours = pool.submit(side_runner, ours, cfg, group, root, reference_postcat)
                return f_ref.result(), f_ours.result()
        finally:
            if TIMING:
                print(f"config {cname}: {time.monotonic() - started:.1f}s", file=sys.stderr)
            if args.keep:
                print(f"kept {root}", file=sys.stderr)
            else:
                shutil.rmtree(root, ignore_errors=True)

    def judge(cname, result):
        """(name, verdict, diff lines) for each case of the configuration;
        verdict: identical, known, failed, stale, broken (the harness
        itself failed on a side: never a pass, even when both sides agree),
        racy (the case sends a command after the session ended)."""
        out = []
        group = by_config[cname]
        if result is None:
            return [(name, "noconfig", []) for name in group]
        r_ref, r_ours = result
        for name in group:
            a, b = r_ref[name], r_ours[name]
            same = a == b
            broken = [f"{label}: {m.group(0).decode('utf-8', 'backslashreplace')}"
                      for label, text in (("reference", a), ("ours", b)) for m in [HARNESS_FAILURE.search(text)] if m]
            racy = after_session_end(a)
            if broken:
                out.append((name, "broken", broken))
            elif racy:
                out.append((name, "racy", ["a command after the session-ending reply (end the case with W: N):",
                                           *(x.decode("utf-8", "backslashreplace") for x in racy)]))
            elif same and name not in known:
                out.append((name, "identical", []))
            elif not same and name in known:
                out.append((name, "known", []))
            else:
                diff = []
                if not same:
                    diff = list(difflib.unified_diff(a.decode("utf-8", "backslashreplace").splitlines(),
                                                     b.decode("utf-8", "backslashreplace").splitlines(),
                                                     "reference", "ours", lineterm=""))
                out.append((name, "stale" if same else "failed", diff))
        return out

    def report(verdicts, cname, note=""):
        for name, verdict, diff in verdicts:
            if verdict == "noconfig":
                print(f"FAIL {AREA}/{name} (no configuration {cname})")
            elif verdict in ("failed", "stale", "broken", "racy"):
                print(f"FAIL {AREA}/{name}" + {"stale": " (stale known difference)", "broken": " (harness failure)",
                                               "racy": " (racy case)"}.get(verdict, "") + note)
                if args.show_diff:
                    for line in diff:
                        print("    " + line)

    # Configurations are independent instances (own directories, ports):
    # a few run at once; most of their time is spent waiting.
    names = sorted(by_config)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = dict(zip(names, pool.map(run_config, names)))
    if args.print_reference:
        for cname in names:
            if results[cname] is None:
                continue
            for name in by_config[cname]:
                print(f"==== {name} ({cname})")
                sys.stdout.write(results[cname][0][name].decode("utf-8", "backslashreplace"))
        return 0
    verdicts = {}
    for cname in names:
        verdicts[cname] = judge(cname, results[cname])
        report(verdicts[cname], cname)
    # A configuration with a failing case is run once more (timing on a
    # loaded machine; lib/retry.py): when every case of it is then as
    # expected it passes, reported FLAKY; the first attempt's differences
    # were printed above.
    retry = [c for c in names if results[c] is not None
             and any(v in ("failed", "stale", "broken") for _n, v, _d in verdicts[c])]

    def again(cname):
        second = judge(cname, run_config(cname))
        return all(v in ("identical", "known") for _n, v, _d in second), second

    def flaky_line(cname, _second):
        bad_names = [n for n, v, _d in verdicts[cname] if v in ("failed", "stale", "broken")]
        return f"FLAKY {AREA}: configuration {cname} identical on retry ({', '.join(bad_names)})"
    for cname, (passed, second) in retry_units(retry, again, flaky_line, jobs=args.jobs,
                                               retries=args.retries).items():
        if not passed:
            report(second, cname, " (again on retry)")
        verdicts[cname] = second
    for cname in names:
        for _name, verdict, _diff in verdicts[cname]:
            total += 1
            if verdict == "identical":
                identical += 1
            elif verdict == "known":
                known_count += 1
            else:
                failed += 1
    print(f"{AREA}: {total} cases, {identical} identical, {known_count} known differences, "
          f"{len(names)} configurations")
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

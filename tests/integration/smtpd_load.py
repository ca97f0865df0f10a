#!/usr/bin/env python3
"""smtpd under load: 300 concurrent SMTP sessions, and anvil's limits.

    tests/integration/smtpd_load.py --ours BUILD_DIR [--reference [CACHE]]
        [--sessions 300] [--keep]

Starts a private instance of ours (BUILD_DIR/bin, BUILD_DIR/libexec; with
--reference also one of the reference, from the compat-suite cache, the
same checks run on it and the figures are compared): master as root,
default_process_limit = 300, smtpd on a free 127.0.0.1 port, cleanup,
trivial-rewrite, qmgr, bounce, anvil, postlogd (maillog_file) and a pipe
transport "record" that every address resolves to; it writes each message
it gets into a file of its own.

1. Load: --sessions clients (threads) connect at the same moment (a
   barrier), each sends one message with its own X-Load-Id header and
   QUITs. Every session must complete (220, 250s, "queued as", 221), and
   once the queue is empty every message must have been delivered exactly
   once.
2. Limits: the instance is reconfigured (smtpd_client_event_limit_exceptions
   empty, smtpd_client_connection_count_limit = 10,
   smtpd_client_connection_rate_limit = 40, anvil_rate_time_unit = 3600s,
   restarted: the start's probe is the first connection anvil counts); 25
   connections are opened and held at once: 10 must get the greeting and
   15 the 421 reply; once they are all gone, 25 more sessions one after
   another: the rate limit leaves 14 greeted and 11 refused. The warnings counted in the log, and anvil's statistics (the
   peak connection rate and cache size of its periodic report), must
   match too.

Waits are on conditions (the port listening, the log lines, the queue
empty, the recorder's files), each bounded; nothing sleeps to synchronise.
Prints one line per check and "smtpd_load: N checks, N passed"; exit 0
when all passed; 77 (skipped) when not root.

Trusts: its own configuration. The recorder is our own shell script; the
message text never reaches a shell command line.
"""
import argparse
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "compat-suite", "lib"))
import pfinstance  # noqa: E402

SESSION_TIMEOUT = 120    # seconds for one whole load session
QUEUE_TIMEOUT = 300      # seconds for the queue to drain
START_TIMEOUT = 30

RECORDER = """#!/bin/sh
# Records one delivery (smtpd_load.py): the message goes into a new file.
f=$(mktemp {outdir}/msg.XXXXXXXX) || exit 75
cat > "$f.tmp" || exit 75
mv "$f.tmp" "$f.rec" && rm -f "$f"
"""

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
postlog   unix-dgram n  -       n       -       1       postlogd
record    unix  -       n       n       -       -       pipe
  flags=R user=nobody argv={dir}/record
"""

LIMITS = [
    "smtpd_client_event_limit_exceptions =",
    "smtpd_client_connection_count_limit = 10",
    "smtpd_client_connection_rate_limit = 40",
    "anvil_rate_time_unit = 3600s",
    "anvil_status_update_time = 2s",
]


class Instance:
    def __init__(self, root, side, sessions):
        self.side = side
        self.dir = os.path.join(root, side.label)
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        self.rec = os.path.join(self.dir, "rec")
        self.log = os.path.join(self.dir, "maillog")
        for d in (self.etc, self.spool, self.data, self.rec):
            os.makedirs(d)
        os.chmod(self.dir, 0o755)
        os.chmod(self.rec, 0o1777)
        shutil.chown(self.data, "postfix")
        with open(os.path.join(self.dir, "record"), "w") as f:
            f.write(RECORDER.format(outdir=self.rec))
        os.chmod(os.path.join(self.dir, "record"), 0o755)
        self.port = pfinstance.free_port()
        self.main = [
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
            "myhostname = mail.example.com",
            "mydomain = example.com",
            "mydestination = $myhostname, localhost.$mydomain, localhost, example.com",
            "mynetworks = 127.0.0.0/8",
            f"maillog_file = {self.log}",
            "maillog_file_prefixes = /tmp",
            f"default_process_limit = {max(300, sessions)}",
            "local_transport = record",
            "default_transport = record",
            "relay_transport = record",
            "record_destination_recipient_limit = 1",
            "smtpd_peername_lookup = no",
            "alias_maps =",
            "local_recipient_maps =",
            "biff = no",
        ]
        self.write_main([])
        pfinstance.write_config(os.path.join(self.etc, "master.cf"),
                                MASTER_CF.format(port=self.port, dir=self.dir))

    def write_main(self, extra):
        names = {re.match(r"(\w+)", ln).group(1) for ln in extra}
        lines = [ln for ln in self.main if re.match(r"(\w+)", ln).group(1) not in names] + extra
        pfinstance.write_config(os.path.join(self.etc, "main.cf"), "\n".join(lines) + "\n")

    def run(self, program, args, timeout=60):
        return pfinstance.run_command(self.side, self.etc, program, args, timeout=timeout, cwd=self.dir)

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def start(self):
        status, out, err = self.run("postfix", ["-c", self.etc, "start"])
        if status != 0:
            return f"postfix start: {status} {out!r} {err!r}"

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        if not pfinstance.wait_for(listening, START_TIMEOUT, 0.1):
            return "smtpd never listened"
        # The probe session's end.
        pfinstance.wait_for(lambda: "disconnect from" in self.log_text(), START_TIMEOUT)
        return None

    def stop(self):
        self.run("postfix", ["-c", self.etc, "stop"])
        pfinstance.wait_master_gone(self.spool)

    def queue_empty(self):
        for q in ("maildrop", "incoming", "active", "deferred", "hold"):
            for _base, _dirs, files in os.walk(os.path.join(self.spool, q)):
                if files:
                    return False
        return True

    def recorded(self):
        return [f for f in os.listdir(self.rec) if f.endswith(".rec")]


class Client:
    """A minimal blocking SMTP client with bounded waits."""

    def __init__(self, port, timeout):
        self.deadline = time.monotonic() + timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def reply(self):
        """One complete reply: (code, text of the last line); code 0 when
        the server closed or the time ran out."""
        while True:
            while b"\n" in self.buf:
                line, _, self.buf = self.buf.partition(b"\n")
                if len(line) < 4 or line[3:4] != b"-":
                    try:
                        return int(line[:3]), line.decode("utf-8", "replace").rstrip("\r")
                    except ValueError:
                        return 0, line.decode("utf-8", "replace")
            left = self.deadline - time.monotonic()
            if left <= 0:
                return 0, "(timeout)"
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except OSError as e:
                return 0, f"({e.__class__.__name__})"
            if not data:
                return 0, "(closed)"
            self.buf += data

    def command(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def one_session(port, index, barrier, results):
    try:
        barrier.wait(timeout=60)
    except threading.BrokenBarrierError:
        pass
    steps = []
    try:
        c = Client(port, SESSION_TIMEOUT)
    except OSError as e:
        results[index] = f"connect: {e}"
        return
    try:
        expect = [(220, None), (250, "EHLO client.example.org"), (250, "MAIL FROM:<load@example.org>"),
                  (250, f"RCPT TO:<user{index}@example.com>"), (354, "DATA")]
        for code, cmd in expect:
            got, text = c.reply() if cmd is None else c.command(cmd)
            steps.append(text)
            if got != code:
                results[index] = f"{cmd or 'greeting'}: {text}"
                return
        body = (f"From: load@example.org\r\nTo: user{index}@example.com\r\nSubject: load {index}\r\n"
                f"X-Load-Id: {index}\r\n\r\nmessage {index}\r\n.\r\n")
        c.sock.sendall(body.encode())
        got, text = c.reply()
        if got != 250 or "queued as" not in text:
            results[index] = f"end of data: {text}"
            return
        got, text = c.command("QUIT")
        if got != 221:
            results[index] = f"QUIT: {text}"
            return
        results[index] = "ok"
    except OSError as e:
        results[index] = f"{e.__class__.__name__} after {steps[-1:] or 'connect'}"
    finally:
        c.close()


def load_phase(inst, sessions):
    """Figures of the load phase (a dict) and a list of problems."""
    results = [None] * sessions
    barrier = threading.Barrier(sessions)
    threads = [threading.Thread(target=one_session, args=(inst.port, i, barrier, results)) for i in range(sessions)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(SESSION_TIMEOUT + 70)
    elapsed = time.monotonic() - t0
    problems = [f"session {i}: {r}" for i, r in enumerate(results) if r != "ok"]
    completed = sum(1 for r in results if r == "ok")
    # Every accepted message is delivered: the queue drains and the
    # recorder has one file per message.
    pfinstance.wait_for(lambda: inst.queue_empty() and len(inst.recorded()) >= completed, QUEUE_TIMEOUT, 0.2)
    ids = []
    for name in inst.recorded():
        with open(os.path.join(inst.rec, name), "rb") as f:
            m = re.search(rb"(?m)^X-Load-Id: (\d+)\r?$", f.read())
        ids.append(int(m.group(1)) if m else -1)
    delivered = sorted(ids)
    dupes = sorted({i for i in delivered if delivered.count(i) > 1})
    missing = sorted(set(range(sessions)) - set(delivered))
    if dupes:
        problems.append(f"delivered more than once: {dupes[:20]}")
    if missing:
        problems.append(f"never delivered: {missing[:20]}{' ...' if len(missing) > 20 else ''}")
    if not inst.queue_empty():
        problems.append("queue not empty")
    figures = {"sessions completed": completed, "messages delivered": len(set(delivered) - {-1}),
               "duplicates": len(dupes)}
    print(f"  {inst.side.label}: {completed}/{sessions} sessions in {elapsed:.1f}s, "
          f"{len(delivered)} deliveries", flush=True)
    return figures, problems


def phase_log(inst):
    """The log since the limits phase began."""
    return inst.log_text().partition("--- limits phase ---\n")[2]


def limits_phase(inst):
    """Reconfigures with small limits; figures of the count and rate checks."""
    # A fresh start rather than a reload: no process of the old
    # configuration may take a connection. The start's probe connection
    # is the first one anvil counts.
    inst.stop()
    inst.write_main(LIMITS)
    with open(inst.log, "ab") as f:
        f.write(b"--- limits phase ---\n")
    error = inst.start()
    if error:
        return {}, [error]
    problems = []
    ends = phase_log(inst).count("disconnect from")

    # (a) 25 connections held at once.
    held, codes = [], []
    for _ in range(25):
        try:
            c = Client(inst.port, 60)
        except OSError as e:
            problems.append(f"connect: {e}")
            break
        code, _text = c.reply()
        codes.append(code)
        held.append(c)
    for c in held:
        c.close()
    count_ok, count_refused = codes.count(220), codes.count(421)
    # All 25 sessions are over before the next part.
    if not pfinstance.wait_for(lambda: phase_log(inst).count("disconnect from") >= ends + 25, 60):
        problems.append("the held sessions did not all end")

    # (b) 25 sessions, one after another.
    rate_ok = rate_refused = 0
    for _ in range(25):
        try:
            c = Client(inst.port, 60)
        except OSError as e:
            problems.append(f"connect: {e}")
            break
        code, _text = c.reply()
        if code == 220:
            rate_ok += 1
            c.command("QUIT")
        elif code == 421:
            rate_refused += 1
        c.close()
    pfinstance.wait_for(lambda: phase_log(inst).count("disconnect from") >= ends + 50, 60)
    # anvil reports its peaks every anvil_status_update_time: wait for a
    # report that shows the final connection rate.
    peak = re.compile(r"statistics: max connection rate (\d+)/3600s for \((.*?)\)")
    pfinstance.wait_for(lambda: any(int(m.group(1)) >= 51 for m in peak.finditer(phase_log(inst))), 30, 0.2)
    log = phase_log(inst)
    rates = [int(m.group(1)) for m in peak.finditer(log)]
    caches = [int(m) for m in re.findall(r"statistics: max cache size (\d+) at ", log)]
    figures = {
        "held: greeted": count_ok, "held: refused": count_refused,
        "sequential: greeted": rate_ok, "sequential: refused": rate_refused,
        "warnings: concurrency": log.count("warning: Connection concurrency limit exceeded"),
        "warnings: rate": log.count("warning: Connection rate limit exceeded"),
        "anvil: peak connection rate": max(rates, default=0),
        "anvil: peak cache size": max(caches, default=0),
    }
    return figures, problems


EXPECTED_LIMITS = {
    "held: greeted": 10, "held: refused": 15, "sequential: greeted": 14, "sequential: refused": 11,
    "warnings: concurrency": 15, "warnings: rate": 11,
    "anvil: peak connection rate": 51, "anvil: peak cache size": 1,
}


def run_side(side, root, sessions):
    inst = Instance(root, side, sessions)
    error = inst.start()
    if error:
        inst.stop()
        return None, [error], inst
    try:
        load, p1 = load_phase(inst, sessions)
        limits, p2 = limits_phase(inst)
    finally:
        inst.stop()
    return {**load, **limits}, p1 + p2, inst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", default=os.path.join(REPO, "build"), help="our build directory")
    ap.add_argument("--reference", nargs="?", const=pfinstance.DEFAULT_REFERENCE, default=None,
                    help="also run against the reference (its unpacked cache)")
    ap.add_argument("--sessions", type=int, default=300)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("smtpd_load: needs root (master runs as root)", file=sys.stderr)
        return 77
    sides = [pfinstance.ours_side(os.path.abspath(args.ours))]
    if args.reference:
        if not os.path.isdir(args.reference):
            print(f"smtpd_load: no reference at {args.reference}", file=sys.stderr)
            return 77
        sides.insert(0, pfinstance.reference_side(args.reference))
    root = tempfile.mkdtemp(prefix="pf-smtpd-load-")
    os.chmod(root, 0o755)
    checks = passed = 0
    figures = {}
    try:
        for side in sides:
            print(f"{side.label}:", flush=True)
            figs, problems, _inst = run_side(side, root, args.sessions)
            figures[side.label] = figs
            checks += 1
            if problems:
                print(f"FAIL {side.label}: load and limits")
                for p in problems[:40]:
                    print(f"    {p}")
            else:
                passed += 1
                print(f"ok   {side.label}: load and limits")
            if figs is None:
                continue
            want = {"sessions completed": args.sessions, "messages delivered": args.sessions, "duplicates": 0,
                    **EXPECTED_LIMITS}
            for name, value in want.items():
                checks += 1
                if figs.get(name) == value:
                    passed += 1
                    print(f"ok   {side.label}: {name} = {value}")
                else:
                    print(f"FAIL {side.label}: {name} = {figs.get(name)}, expected {value}")
        if len(figures) == 2 and all(figures.values()):
            checks += 1
            if figures["reference"] == figures["ours"]:
                passed += 1
                print("ok   ours and the reference: the same figures")
            else:
                print("FAIL ours and the reference differ:")
                for name in figures["reference"]:
                    a, b = figures["reference"][name], figures["ours"].get(name)
                    if a != b:
                        print(f"    {name}: reference {a}, ours {b}")
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"smtpd_load: {checks} checks, {passed} passed")
    return 0 if checks == passed else 1


if __name__ == "__main__":
    sys.exit(main())

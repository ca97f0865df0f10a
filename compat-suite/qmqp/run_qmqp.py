#!/usr/bin/env python3
"""The qmqp area of the compat-suite: qmqpd(8), qmqp-source(1), qmqp-sink(1).

Two parts, each comparing the reference with ours:

1. qmqpd (cases/, configs/): built on ../smtpd/run_smtpd.py (instances,
   transcripts, normalisation: ../smtpd/README.md). Each configuration
   starts a private instance per side whose master.cf runs qmqpd on a
   free loopback port (cleanup, trivial-rewrite, postlogd, no qmgr: the
   mail stays in incoming/). A case sends QMQP requests written as data
   (the message, sender and recipients, or raw bytes) on one connection,
   or runs the side's own qmqp-source against the side's qmqpd; the
   transcript is the reply bytes, qmqpd's log lines of the session(s),
   cleanup's lines of their queue IDs and the queue files (printed by the
   reference's postcat for both sides). Case format: README.md.

2. the tools (tool-cases/): no instance. A case starts the side's
   qmqp-sink, or a scripted QMQP server of this harness, on a free port,
   then runs the side's commands and/or sends raw bytes; the transcript
   is each command's exit status, stdout and stderr, the replies the raw
   client got, the sink's own output, and the request bytes the scripted
   server received. Dates, pids and ports are normalised.

Waits are on conditions (the port listening, the disconnect lines in the
log, the processes' exits), each bounded; no sleeps as synchronisation.
The whole run is in a network namespace of its own (own_network()).

Trusts: its own configs and cases. The instances run as root (master),
daemons as the postfix user.
"""

import argparse
import difflib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(COMPAT, "smtpd"))
import run_smtpd as rs  # noqa: E402

rs.HERE = HERE
rs.AREA = "qmqp"
rs.MASTER_CF = rs.MASTER_CF.replace("{port} inet n - n - - smtpd", "{port} inet n - n - - qmqpd")
rs.BASE_MAIN = rs.BASE_MAIN + ["qmqpd_error_delay = 0s", "qmqpd_authorized_clients = 127.0.0.1"]

QMQPD = rb"postfix/(?:[\w.-]+/)*qmqpd\["
SESSION_END = re.compile(QMQPD + rb"\d+\]: disconnect from ")
PICKUP = rb"postfix/(?:[\w.-]+/)*pickup\["
PICKUP_QUEUED = re.compile(PICKUP + rb"\d+\]: (\w+): uid=")
END_TIMEOUT = 5
START_TIMEOUT = 120    # seconds for "postfix start"
NETNS_MARK = "PF_QMQP_IN_NETNS"
LOG_TIMEOUT = 10


class QInstance(rs.Instance):
    """An instance whose port is qmqpd's: the probe connects and closes
    (qmqpd says nothing first), then waits for its disconnect line."""

    def start(self):
        for m in self.maps:
            self.run("postmap", [os.path.join(self.etc, m)])
        # The reference's start runs a hundred short processes (postfix-script,
        # post-install, postconf, find): on a loaded machine that takes
        # longer than run()'s usual 30 seconds.
        status, out, err = self.run("postfix", ["-c", self.etc, "start"], timeout=START_TIMEOUT)
        if status != 0:
            # postfix-script's messages go to the maillog only (stderr is
            # no terminal): its last lines say why.
            tail = [ln.decode("utf-8", "backslashreplace") for ln in self.log_text().splitlines()[-4:]]
            return f"postfix start: {status} {out!r} {err!r} log: {' | '.join(tail)}"

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        if not rs.wait_for(listening, 15, 0.1):
            return "qmqpd port never listened"
        rs.wait_for(lambda: len(SESSION_END.findall(self.log_text())) >= 1, LOG_TIMEOUT)
        return None


rs.Instance = QInstance


# ---------------------------------------------------------------- qmqpd cases

def netstring(data):
    return b"%d:%s," % (len(data), data)


def read_case(path):
    """A qmqpd case (README.md)."""
    case = {"config": "basic", "port": 1, "hold": 0, "steps": [], "sessions": 1}
    message, sender, rcpts = bytearray(), b"", []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            key = key.strip()
            if key == "config":
                case["config"] = value.strip()
            elif key == "sessions":
                case["sessions"] = int(value)
            elif key == "message":
                message += rs.decode_escapes(value) + b"\n"
            elif key == "message-raw":
                message += rs.decode_escapes(value)
            elif key == "message-fill":
                n = int(value)
                while n > 0:
                    piece = b"x" * min(n - 1, 70) + b"\n" if n > 1 else b"\n"
                    message += piece
                    n -= len(piece)
            elif key == "sender":
                sender = rs.decode_escapes(value)
            elif key == "rcpt":
                rcpts.append(rs.decode_escapes(value))
            elif key in ("send", "send-cut"):
                inner = netstring(bytes(message)) + netstring(sender) + b"".join(netstring(r) for r in rcpts)
                request = netstring(inner)
                if key == "send-cut":
                    request = request[:int(value)]
                case["steps"].append(("S", request))
                message, sender, rcpts = bytearray(), b"", []
            elif key == "raw":
                case["steps"].append(("S", rs.decode_escapes(value)))
            elif key == "close":
                case["steps"].append(("CLOSE", None))
            elif key == "wait":
                case["steps"].append(("W", float(value)))
            elif key == "tool":
                case["steps"].append(("TOOL", value))
            elif key == "sendmail":
                case["steps"].append(("SENDMAIL", (value, bytes(message))))
                message = bytearray()
            else:
                raise ValueError(f"{path}:{lineno}: unknown directive {key}")
    return case


def show(data):
    return data.decode("utf-8", "backslashreplace").replace("\r", "\\r").replace("\n", "\\n")


def play(case, inst):
    out = []
    sock = None
    closed = False

    def connect():
        nonlocal sock
        if sock is None:
            sock = socket.create_connection(("127.0.0.1", inst.port), timeout=10)

    def read_to_close(timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        gone = False
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                # qmqpd closes without reading what a refused client sent:
                # whether the reset or the close is seen first is timing.
                gone = True
                break
            except OSError as e:
                out.append(f"!! {e.__class__.__name__}")
                gone = True
                break
            if not data:
                gone = True
                break
            buf += data
        if buf:
            out.append("S: " + show(buf))
        out.append("(closed by server)" if gone else "(still open)")

    for kind, arg in case["steps"]:
        if kind == "S":
            connect()
            text = show(arg)
            if len(text) > 200:
                text = text[:100] + f"...({len(arg)} bytes)..." + text[-60:]
            out.append("C> " + text)
            try:
                sock.sendall(arg)
            except OSError as e:
                out.append(f"!! send {e.__class__.__name__}")
        elif kind == "W":
            connect()
            read_to_close(arg)
            closed = True
        elif kind == "CLOSE":
            connect()
            out.append("(client closes)")
            sock.close()
            closed = True
        elif kind == "SENDMAIL":
            # The side's sendmail, the message on its stdin; pickup takes
            # it from maildrop to cleanup (the configuration runs pickup).
            args, data = arg
            before = len(PICKUP_QUEUED.findall(inst.log_text()))
            status, stdout, stderr = inst.run("sendmail", shlex.split(args), stdin=data, timeout=60)
            out.append(f"$ sendmail {args}")
            out.append(f"exit {status}")
            out += ["stdout: " + show(ln) for ln in stdout.split(b"\n") if ln]
            out += ["stderr: " + show(ln) for ln in stderr.split(b"\n") if ln]
            # Done when pickup has logged it and removed the maildrop file
            # (which it does after cleanup's reply).
            maildrop = os.path.join(inst.spool, "maildrop")
            rs.wait_for(lambda: len(PICKUP_QUEUED.findall(inst.log_text())) > before
                        and not os.listdir(maildrop), LOG_TIMEOUT)
            closed = True
        elif kind == "TOOL":
            words = shlex.split(arg.replace("{port}", str(inst.port)))
            status, stdout, stderr = inst.run(words[0], words[1:], timeout=60)
            out.append(f"$ {' '.join(words)}")
            out.append(f"exit {status}")
            out += ["stdout: " + show(ln) for ln in stdout.split(b"\n") if ln]
            out += ["stderr: " + show(ln) for ln in stderr.split(b"\n") if ln]
            closed = True
    if sock is not None:
        if not closed:
            read_to_close(END_TIMEOUT)
        try:
            sock.close()
        except OSError:
            pass
    return out


def run_case(case, inst, reference_postcat):
    before = inst.log_text()
    offset = len(before)
    ends = len(SESSION_END.findall(before))
    dialogue = play(case, inst)
    rs.wait_for(lambda: len(SESSION_END.findall(inst.log_text())) >= ends + case["sessions"], LOG_TIMEOUT)
    log = inst.log_text()[offset:]
    lines, seen = [], 0
    for ln in log.split(b"\n"):
        if re.search(QMQPD, ln) and not rs.HARNESS_NOISE.search(ln):
            lines.append(ln)
            if SESSION_END.search(ln):
                seen += 1
                if seen >= case["sessions"]:
                    break
    # Messages a sendmail step submitted: pickup's lines and queue IDs.
    picked = []
    if any(k == "SENDMAIL" for k, _ in case["steps"]):
        for ln in log.split(b"\n"):
            if re.search(PICKUP, ln) and not rs.HARNESS_NOISE.search(ln):
                picked.append(ln)
    # Sessions of qmqp-source -s N run at once: their lines in a stable order.
    if case["sessions"] > 1:
        lines.sort(key=lambda ln: re.sub(rb"^.*?\]: (\w+: )?", b"", ln))
    qids = []
    for ln in lines:
        m = re.search(QMQPD + rb"\d+\]: (\w+): client=", ln)
        if m and m.group(1) not in qids:
            qids.append(m.group(1))
    for ln in picked:
        m = PICKUP_QUEUED.search(ln)
        if m and m.group(1) not in qids:
            qids.append(m.group(1))
    lines += picked
    # The K reply names the queue ID: the transcript has it, as smtpd's has.
    queue = rs.queued_files(inst, qids, "\n".join(dialogue) + "\n" + "\n".join(
        "queued as " + q.decode() for q in qids
        if case["sessions"] > 1 or any(k in ("TOOL", "SENDMAIL") for k, _ in case["steps"])),
        reference_postcat)
    return {"dialogue": dialogue, "smtpd": lines, "qids": qids, "queue": queue}


def normalise_more(text):
    text = re.sub(rb"\]:\d{2,5}\b", b"]:{cport}", text)
    text = re.sub(rb"<\d+@", b"<{pid}@", text)
    # qmqp-source makes a message of a fixed size whose Message-Id holds
    # its pid: one pid digit more or less moves where the generated text
    # ends (the domain of a short Message-Id, the last line of X's).
    text = re.sub(rb"(<\{pid\}@)[\w.]*", rb"\1{host}", text)
    text = re.sub(rb"\nX+\n(\*\*\* HEADER EXTRACTED)", rb"\nX...\n\1", text)
    # The loopback MSS (and the stream buffer of four times it) is the host's.
    text = re.sub(rb"TCP_MAXSEG \d+", b"TCP_MAXSEG {n}", text)
    text = re.sub(rb"(stream buffer size old=\d+ new=)\d+", rb"\1{n}", text)
    return text


class QmqpHelper(rs.SideHelper):
    def __init__(self, side):
        self.side = side

    def run_case(self, case, inst, reference_postcat):
        return run_case(case, inst, reference_postcat)

    def finish(self, text):
        # qmqp-source's messages start with its argv[0], the side's path.
        text = text.replace(self.side.command_dir.encode(), b"{command_directory}")
        return normalise_more(text)


def run_side(side, cfg, cases, root, reference_postcat, helper=None):
    return rs.run_side(side, cfg, cases, root, reference_postcat, helper or QmqpHelper(side))


# ---------------------------------------------------------------- tool cases

def read_tool_case(path):
    steps = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            key = key.strip()
            if key in ("sink", "run", "client", "server", "client-close"):
                steps.append((key, value))
            else:
                raise ValueError(f"{path}:{lineno}: unknown directive {key}")
    return steps


class FakeServer:
    """A scripted QMQP server: takes one connection, reads one request
    (the outer netstring, or up to the client's close), answers with the
    given bytes and closes."""

    def __init__(self, reply):
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(20)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(10)
        try:
            while True:
                m = re.match(rb"(\d+):", self.received)
                if m and len(self.received) >= len(m.group(0)) + int(m.group(1)) + 1:
                    break
                data = conn.recv(65536)
                if not data:
                    break
                self.received += data
            conn.sendall(self.reply)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.thread.join(25)
        self.sock.close()


def run_tool_case(side, steps):
    port = rs.free_port()
    out = []
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC", **side.env}
    sink = None
    server = None
    workdir = tempfile.mkdtemp(prefix="pf-qmqp-tool-")

    def fill(text):
        return text.replace("{port}", str(port)).replace("{dir}", workdir)
    try:
        for kind, arg in steps:
            if kind == "sink":
                words = shlex.split(fill(arg))
                sink = subprocess.Popen([os.path.join(side.command_dir, "qmqp-sink"), *words], executable=None,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                        start_new_session=True)
                sink.args_shown = words

                def listening():
                    if sink.poll() is not None:
                        return True
                    if any(w.startswith("unix:") for w in words):
                        path = [w for w in words if w.startswith("unix:")][0][5:]
                        return os.path.exists(path)
                    return _port_listening(port)
                rs.wait_for(listening, 10, 0.02)
            elif kind == "server":
                server = FakeServer(rs.decode_escapes(arg))
                port = server.port
            elif kind in ("client", "client-close"):
                data = rs.decode_escapes(arg)
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=10)
                    s.sendall(data)
                    out.append("C> " + show(data))
                    if kind == "client-close":
                        out.append("(client closes)")
                        s.close()
                        continue
                    buf = b""
                    while True:
                        d = s.recv(65536)
                        if not d:
                            break
                        buf += d
                    out.append("S: " + show(buf))
                    s.close()
                except OSError as e:
                    out.append(f"!! client {e.__class__.__name__}")
            elif kind == "run":
                words = shlex.split(fill(arg))
                argv = [os.path.join(side.command_dir, words[0]), *words[1:]]
                try:
                    p = subprocess.run(argv, capture_output=True, env=env, timeout=60, executable=argv[0])
                    status, stdout, stderr = p.returncode, p.stdout, p.stderr
                except subprocess.TimeoutExpired:
                    status, stdout, stderr = "timeout", b"", b""
                out.append("$ " + " ".join(words))
                out.append(f"exit {status}")
                out += ["stdout: " + show(ln) for ln in stdout.split(b"\n") if ln]
                out += ["stderr: " + show(ln) for ln in stderr.split(b"\n") if ln]
        if server:
            server.close()
            out.append("server received: " + show(server.received))
        if sink:
            # The sink's -x ends it; otherwise it is stopped here.
            try:
                so, se = sink.communicate(timeout=15)
                how = f"exit {sink.returncode}"
            except subprocess.TimeoutExpired:
                os.killpg(sink.pid, signal.SIGKILL)
                so, se = sink.communicate()
                how = "killed (no -x?)"
            out.append("sink " + " ".join(sink.args_shown) + ": " + how)
            out += ["sink stdout: " + show(ln) for ln in so.split(b"\n") if ln]
            out += ["sink stderr: " + show(ln) for ln in se.split(b"\n") if ln]
    finally:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    text = "\n".join(out).encode("utf-8", "surrogateescape") + b"\n"
    text = text.replace(side.command_dir.encode(), b"{command_directory}")
    text = text.replace(workdir.encode(), b"{dir}")
    text = text.replace(str(port).encode(), b"{port}")
    text = re.sub(rb"\b\w{3}, [ \d]?\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}( \(\w+\))?", b"{date}", text)
    text = normalise_more(text)
    # The request's outer and message lengths change with the date's digits.
    return text


def _port_listening(port):
    """Whether a TCP socket listens on port (from /proc/net/tcp*, so that
    no probe connection shows in the sink's output)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


def tool_main(args, ref, ours):
    folder = os.path.join(HERE, "tool-cases")
    names = sorted(n for n in os.listdir(folder) if not args.case or any(c in n for c in args.case))
    known = rs.pfinstance.read_known("qmqp")
    total = identical = known_count = failed = 0
    import concurrent.futures

    def one(name):
        steps = read_tool_case(os.path.join(folder, name))
        if args.print_reference:
            return name, run_tool_case(ref, steps), None
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            a = pool.submit(run_tool_case, ref, steps)
            b = pool.submit(run_tool_case, ours, steps)
            return name, a.result(), b.result()
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(one, names))
    for name, a, b in results:
        key = "tools-" + name
        if args.print_reference:
            print(f"==== tools/{name}")
            sys.stdout.write(a.decode("utf-8", "backslashreplace"))
            continue
        total += 1
        if a == b and key not in known:
            identical += 1
            continue
        if a != b and key in known:
            known_count += 1
            continue
        # One retry: a timing difference goes away, a real one does not.
        steps = read_tool_case(os.path.join(folder, name))
        a2, b2 = run_tool_case(ref, steps), run_tool_case(ours, steps)
        if a2 == b2 and key not in known:
            print(f"FLAKY qmqp/{key}: identical on retry")
            identical += 1
            continue
        failed += 1
        print(f"FAIL qmqp/{key}" + (" (stale known difference)" if a == b else ""))
        if args.show_diff:
            for line in difflib.unified_diff(a.decode("utf-8", "backslashreplace").splitlines(),
                                             b.decode("utf-8", "backslashreplace").splitlines(),
                                             "reference", "ours", lineterm=""):
                print("    " + line)
    if not args.print_reference:
        print(f"qmqp (tools): {total} cases, {identical} identical, {known_count} known differences")
        print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


def own_network():
    """Runs this script again in a network namespace of its own (unshare -n,
    loopback up): its instances, sinks and scripted servers pick free
    loopback ports, and a port is free only until someone binds it; in a
    namespace of its own no other test can take one meanwhile (nor can
    these take another test's). The status of that run, or None when this
    process should go on itself: already inside, or no unshare/ip (then
    in the machine's network, as before)."""
    if os.environ.get(NETNS_MARK) == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return None
    if not shutil.which("unshare") or not shutil.which("ip"):
        return None
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        return None
    env = dict(os.environ, **{NETNS_MARK: "1"})
    return subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), *sys.argv[1:]],
                          env=env).returncode


def main():
    if os.geteuid() == 0:
        status = own_network()
        if status is not None:
            return status
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--ours")
    ap.add_argument("--reference", default=rs.DEFAULT_REFERENCE)
    ap.add_argument("--case", action="append")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--print-reference", action="store_true")
    ap.add_argument("--reference-twice", action="store_true")
    ap.add_argument("--part", choices=["qmqpd", "tools", "all"], default="all")
    args, _rest = ap.parse_known_args()
    # run_smtpd's main() reads sys.argv itself: our own option goes.
    argv, skip = [], False
    for a in sys.argv:
        if skip:
            skip = False
        elif a == "--part":
            skip = True
        elif not a.startswith("--part="):
            argv.append(a)
    sys.argv = argv
    if os.geteuid() != 0:
        print("qmqp: needs root (master runs as root)", file=sys.stderr)
        return 77
    status = 0
    if args.part in ("qmqpd", "all"):
        status |= rs.main(case_reader=read_case, side_runner=run_side, jobs=3)
    if args.part in ("tools", "all"):
        ref = rs.reference_side(args.reference)
        if args.reference_twice or args.print_reference:
            ours = rs.reference_side(args.reference, "reference2")
        else:
            ours = rs.ours_side(os.path.abspath(args.ours))
        status |= tool_main(args, ref, ours)
    return status


if __name__ == "__main__":
    sys.exit(main())

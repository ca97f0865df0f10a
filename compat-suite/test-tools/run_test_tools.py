#!/usr/bin/env python3
"""compat area test-tools: smtp-sink(1) and smtp-source(1), ours beside the
reference's.

A case is a file cases/<name>.case of "key: value" lines (# comments):
  type: pair           smtp-source against smtp-sink, in all four pairings
                       (reference/ours x reference/ours), each compared with
                       reference-source x reference-sink
        sink-script    a scripted client against each side's smtp-sink
        source-server  each side's smtp-source against a scripted server
        usage          a program run without a peer (diagnostics, exit code)
  sink: ARGS           smtp-sink options (shell-like quoting; {dump} is a
                       fresh directory writable by the sink's user)
  listen: inet|inet6|unix   the sink's endpoint (default inet, 127.0.0.1;
                       inet6 is [::1])
  source: ARGS         smtp-source options (the target is appended)
  connections: N       sessions the sink will see (waits for "sess=N" of -c)
  counters: all|last   compare every -c counter line or the last only
                       (sessions in parallel interleave at random)
  program: sink|source and  args: ARGS   for type usage
  send: TEXT [replies N]   sink-script: bytes to send (\\r \\n \\t \\xHH
                       escapes), then N replies to read (default 1)
  reply: VERB TEXT     source-server: the reply to VERB (CONNECT for the
                       greeting, "." for end of data); default 2xx/354
The sink always runs with -c (added when missing) and, as root, -u nobody.
Transcripts hold exit codes, stdout, stderr (program path, pids, fd numbers,
dates, random ids normalised), dump files and dialogue lines; they must be
equal. Exit 77 (skipped) when not root.

Usage: run_test_tools.py --ours BUILD [--reference CACHE] [--case SUBSTR]
                         [--show-diff] [--print-reference]
Trusts: the case files and the programs under test (each run bounded).
"""

import argparse
import difflib
import os
import re
import select
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
SUITE = os.path.dirname(HERE)
RUN_TIMEOUT = 20


class CaseError(Exception):
    pass


def decode(text):
    out = bytearray()
    raw = text.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):
            n = chr(raw[i + 1])
            if n == "x":
                out.append(int(raw[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"n": b"\n", "r": b"\r", "t": b"\t", "0": b"\0", "\\": b"\\"}.get(n, b"\\" + n.encode())
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def parse_case(path):
    case = {"type": None, "sink": "", "source": "", "listen": "inet", "connections": 1,
            "program": None, "args": "", "send": [], "reply": {}, "counters": "all"}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise CaseError(f"bad line: {line}")
            key, value = key.strip(), value[1:] if value.startswith(" ") else value
            if key == "send":
                m = re.match(r"^(.*?)(?: replies (\d+))?$", value)
                case["send"].append((decode(m.group(1)), int(m.group(2) or 1)))
            elif key == "reply":
                verb, _, text = value.partition(" ")
                case["reply"][verb.upper()] = decode(text)
            elif key == "connections":
                case["connections"] = int(value)
            elif key in case:
                case[key] = value
            else:
                raise CaseError(f"unknown key {key}")
    if case["type"] not in ("pair", "sink-script", "source-server", "usage"):
        raise CaseError("missing or bad type")
    return case


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port):
    want = f":{port:04X}"
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[1].endswith(want) and fields[3] == "0A":
                        return True
        except OSError:
            pass
    return False


def wait_until(cond, limit=10.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


class Normaliser:
    def __init__(self, programs):
        self.programs = sorted(programs, key=len, reverse=True)

    def text(self, data):
        if isinstance(data, bytes):
            data = data.decode("utf-8", "surrogateescape")
        for p in self.programs:
            data = data.replace(p, "PROG")
        data = re.sub(r"fd=\d+: stream buffer size old=0 new=\d+", "fd=N: stream buffer size old=0 new=N", data)
        data = re.sub(r"TCP_MAXSEG \d+", "TCP_MAXSEG N", data)
        data = re.sub(r"(trying\.\.\. \[[^]]*\]:|127\.0\.0\.1:|\[::1\]:)\d+", r"\1PORT", data)
        data = re.sub(r"/[^ ]*/pf-test-tools-[^/ ]*/[^/ ]*/", "WORK/", data)
        data = re.sub(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ \d]\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\w+\)", "DATE", data)
        data = re.sub(r"Message-Id: <[0-9a-f]{4,}\.", "Message-Id: <PID.", data)
        data = re.sub(r" id [0-9a-f]{8};", " id ID;", data)
        return data


def dump_listing(top, norm):
    out = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        entries = []
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                body = norm.text(f.read())
            rel = os.path.relpath(path, top)
            rel = re.sub(r"[0-9a-f]{8}$", "ID", rel)
            rel = re.sub(r"\d{4,}", "N", rel)
            st = os.stat(path)
            entries.append(f"--- dump {rel} mode {st.st_mode & 0o7777:o}\n{body}")
        out.extend(sorted(entries))
    return "".join(out)


def sink_argv(sink, case, work, endpoint):
    args = ["-c"] + shlex.split(case["sink"].replace("{dump}", os.path.join(work, "dump")))
    if os.geteuid() == 0:
        args = ["-u", "nobody"] + args
    return [sink] + args + [endpoint, "10"]


def start_sink(sink, case, work):
    dump = os.path.join(work, "dump")
    os.makedirs(dump, exist_ok=True)
    os.chmod(work, 0o777)
    os.chmod(dump, 0o777)
    if case["listen"] == "unix":
        sock = os.path.join(work, "sink.sock")
        endpoint, target, ready = "unix:" + sock, "unix:" + sock, lambda: os.path.exists(sock)
    elif case["listen"] == "inet6":
        port = free_port()
        endpoint, target, ready = f"[::1]:{port}", f"[::1]:{port}", lambda: listening(port)
    else:
        port = free_port()
        endpoint, target, ready = f"127.0.0.1:{port}", f"127.0.0.1:{port}", lambda: listening(port)
    out = open(os.path.join(work, "sink.out"), "wb+")
    err = open(os.path.join(work, "sink.err"), "wb+")
    proc = subprocess.Popen(sink_argv(sink, case, work, endpoint), stdout=out, stderr=err,
                            stdin=subprocess.DEVNULL, cwd=work)
    if not wait_until(lambda: ready() or proc.poll() is not None):
        raise CaseError("sink did not start")
    if case["listen"] == "unix":
        wait_until(lambda: proc.poll() is not None or unix_listening(sock), 5)
    return proc, target, out, err


def unix_listening(path):
    try:
        with open("/proc/net/unix") as f:
            return any(line.rstrip().endswith(" " + path) and line.split()[5] == "01" for line in f)
    except OSError:
        return True


def idle(pid):
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return "epoll" in f.read()
    except OSError:
        return True


def stop_sink(proc, out, err, connections, norm, counters="all"):
    def sessions_done():
        out.seek(0)
        counts = re.findall(rb"sess=(\d+)", out.read())
        return bool(counts) and int(counts[-1]) >= connections
    wait_until(lambda: proc.poll() is not None or sessions_done(), 10)
    # The counters come out before the session is torn down: wait until the
    # sink sleeps in its event loop again.
    wait_until(lambda: proc.poll() is not None or idle(proc.pid), 5)
    exited = proc.poll()
    if exited is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(5)
    out.seek(0)
    err.seek(0)
    text = ""
    if exited is not None:
        text += f"sink exit {exited}\n"
    shown = norm.text(out.read())
    if counters == "last":
        shown = shown.rstrip("\r").split("\r")[-1]
    text += "sink stdout: " + shown.replace("\r", "\\r") + "\n"
    text += "sink stderr:\n" + norm.text(err.read())
    out.close()
    err.close()
    return text


def run_source(source, case, target, work, norm):
    args = shlex.split(case["source"].replace("{work}", work).replace("{here}", HERE))
    try:
        r = subprocess.run([source] + args + [target], capture_output=True, timeout=RUN_TIMEOUT,
                           stdin=subprocess.DEVNULL, cwd=work)
        code, so, se = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        code, so, se = "timeout", e.stdout or b"", e.stderr or b""
    return (f"source exit {code}\nsource stdout: " + norm.text(so).replace("\r", "\\r") +
            "\nsource stderr:\n" + norm.text(se))


def run_pair(sink, source, case, work, norm):
    proc, target, out, err = start_sink(sink, case, work)
    text = run_source(source, case, target, work, norm)
    text += stop_sink(proc, out, err, case["connections"], norm, case["counters"])
    text += dump_listing(os.path.join(work, "dump"), norm)
    return text


def read_replies(sock, buf, count):
    lines = []
    replies = 0
    while replies < count:
        while b"\n" not in buf:
            r, _, _ = select.select([sock], [], [], 5)
            if not r:
                lines.append("S: <timeout>")
                return lines, buf, False
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                if buf:
                    lines.append("S: <partial> " + buf.decode("latin-1"))
                lines.append("S: <eof>")
                return lines, b"", False
            buf += data
        line, _, buf = buf.partition(b"\n")
        lines.append("S: " + line.decode("latin-1").replace("\r", "\\r"))
        if len(line) < 4 or line[3:4] != b"-":
            replies += 1
    return lines, buf, True


def run_sink_script(sink, case, work, norm):
    proc, target, out, err = start_sink(sink, case, work)
    if target.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(target[5:])
    else:
        host, port = target.rsplit(":", 1)
        s = socket.create_connection((host.strip("[]"), int(port)))
    lines, buf, alive = read_replies(s, b"", 1)
    for data, count in case["send"]:
        if not alive:
            break
        lines.append("C: " + data.decode("latin-1").replace("\r", "\\r").replace("\n", "\\n"))
        try:
            s.sendall(data)
        except OSError as e:
            lines.append(f"C: <send failed: {e.strerror}>")
            break
        got, buf, alive = read_replies(s, buf, count)
        lines.extend(got)
    s.close()
    text = "\n".join(lines) + "\n"
    text += stop_sink(proc, out, err, case["connections"], norm, case["counters"])
    text += dump_listing(os.path.join(work, "dump"), norm)
    return text


DEFAULT_REPLIES = {"CONNECT": b"220 fake ESMTP", "HELO": b"250 fake", "LHLO": b"250 fake", "MAIL": b"250 ok",
                   "RCPT": b"250 ok", "DATA": b"354 go", ".": b"250 queued", "RSET": b"250 ok", "QUIT": b"221 bye"}


def fake_server(listener, case, record, stop):
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        conn.settimeout(10)
        f = conn.makefile("rb")

        def send(verb):
            text = case["reply"].get(verb, DEFAULT_REPLIES.get(verb, b"502 what"))
            conn.sendall(text.replace(b"\n", b"\r\n") + b"\r\n")
            return text

        try:
            record.append("S: " + send("CONNECT").decode("latin-1"))
            in_data = False
            while True:
                line = f.readline()
                if not line:
                    record.append("C: <eof>")
                    break
                text = line.decode("latin-1").rstrip("\r\n")
                if in_data:
                    if text == ".":
                        in_data = False
                        record.append("C: .")
                        reply = send(".")
                        record.append("S: " + reply.decode("latin-1"))
                    else:
                        record.append("D: " + text)
                    continue
                record.append("C: " + text)
                verb = text.split(" ", 1)[0].upper()
                reply = send(verb)
                record.append("S: " + reply.decode("latin-1"))
                if verb == "DATA" and reply.startswith(b"354"):
                    in_data = True
                if verb == "QUIT" or reply[:3] in (b"421", b"521"):
                    break
        except OSError as e:
            record.append(f"<{e.__class__.__name__}>")
        finally:
            f.close()
            conn.close()


def run_source_server(source, case, work, norm):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    target = "127.0.0.1:%d" % listener.getsockname()[1]
    record, stop = [], threading.Event()
    t = threading.Thread(target=fake_server, args=(listener, case, record, stop), daemon=True)
    t.start()
    text = run_source(source, case, target, work, norm)
    stop.set()
    t.join(5)
    listener.close()
    return text + norm.text("\n".join(record)) + "\n"


def run_usage(program, case, work, norm):
    args = shlex.split(case["args"].replace("{work}", work).replace("{closed}", f"127.0.0.1:{free_port()}"))
    try:
        r = subprocess.run([program] + args, capture_output=True, timeout=RUN_TIMEOUT,
                           stdin=subprocess.DEVNULL, cwd=work)
        code, so, se = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        code, so, se = "timeout", e.stdout or b"", e.stderr or b""
    return f"exit {code}\nstdout: {norm.text(so)}\nstderr:\n{norm.text(se)}"


def find_program(build, name):
    for sub in ("bin", ""):
        p = os.path.abspath(os.path.join(build, sub, name))
        if os.access(p, os.X_OK) and os.path.isfile(p):
            return p
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--reference")
    ap.add_argument("--case", action="append")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--print-reference", action="store_true")
    opts = ap.parse_args()
    if os.geteuid() != 0:
        print("test-tools: skipped: needs root (smtp-sink -u)", file=sys.stderr)
        return 77
    cache = opts.reference or os.path.join(SUITE, ".cache", "reference")
    ref = {n: find_program(os.path.join(cache, "usr", "sbin"), n) for n in ("smtp-sink", "smtp-source")}
    ours = {n: find_program(opts.ours, n) for n in ("smtp-sink", "smtp-source")}
    for side in (ref, ours):
        for n, p in side.items():
            if p is None:
                print(f"test-tools: missing program {n}", file=sys.stderr)
                return 1
    norm = Normaliser(list(ref.values()) + list(ours.values()))
    names = sorted(n[:-5] for n in os.listdir(os.path.join(HERE, "cases")) if n.endswith(".case"))
    if opts.case:
        names = [n for n in names if any(s in n for s in opts.case)]
    total = identical = failed = 0
    top = tempfile.mkdtemp(prefix="pf-test-tools-")
    os.chmod(top, 0o755)
    try:
        for name in names:
            try:
                case = parse_case(os.path.join(HERE, "cases", name + ".case"))
            except (CaseError, ValueError) as e:
                print(f"  FAIL test-tools/{name}: {e}")
                total += 1
                failed += 1
                continue
            if case["type"] == "pair":
                variants = [("ref-source/ref-sink", ref["smtp-source"], ref["smtp-sink"]),
                            ("ref-source/our-sink", ref["smtp-source"], ours["smtp-sink"]),
                            ("our-source/ref-sink", ours["smtp-source"], ref["smtp-sink"]),
                            ("our-source/our-sink", ours["smtp-source"], ours["smtp-sink"])]
            elif case["type"] == "sink-script":
                variants = [("ref", ref["smtp-sink"], None), ("ours", ours["smtp-sink"], None)]
            elif case["type"] == "source-server":
                variants = [("ref", ref["smtp-source"], None), ("ours", ours["smtp-source"], None)]
            else:
                prog = "smtp-" + (case["program"] or "sink")
                variants = [("ref", ref[prog], None), ("ours", ours[prog], None)]
            transcripts = []
            for label, a, b in variants:
                work = tempfile.mkdtemp(dir=top)
                try:
                    if case["type"] == "pair":
                        t = run_pair(b, a, case, work, norm)
                    elif case["type"] == "sink-script":
                        t = run_sink_script(a, case, work, norm)
                    elif case["type"] == "source-server":
                        t = run_source_server(a, case, work, norm)
                    else:
                        t = run_usage(a, case, work, norm)
                except (CaseError, OSError, subprocess.SubprocessError) as e:
                    t = f"harness error: {e}\n"
                finally:
                    shutil.rmtree(work, ignore_errors=True)
                transcripts.append((label, t))
            base_label, base = transcripts[0]
            if opts.print_reference:
                print(f"=== test-tools/{name}\n{base}", end="")
            for label, t in transcripts[1:]:
                total += 1
                cname = f"{name}[{label}]" if case["type"] == "pair" else name
                if t == base:
                    identical += 1
                else:
                    failed += 1
                    print(f"  FAIL test-tools/{cname}: differs from the reference")
                    if opts.show_diff:
                        sys.stdout.writelines(difflib.unified_diff(
                            base.splitlines(True), t.splitlines(True),
                            f"reference/{name}[{base_label}]", f"ours/{cname}"))
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print(f"test-tools: {total} cases, {identical} identical, 0 known differences")
    print(f"{identical} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

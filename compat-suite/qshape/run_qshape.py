#!/usr/bin/env python3
"""compat area qshape: the reference's qshape (the Perl script of Postfix
3.7.11) and ours on the same queue directories, every case compared on
exit status, stdout byte for byte and stderr as sorted lines.

The queues are made here, before the cases run:
  - a synthetic queue (incoming, active, deferred with hashed
    subdirectories, hold, maildrop) of messages written in the record
    format of src/queue/FORMAT.md, with arrival times (T record, or the
    mtime for files starting with S or F) set to chosen ages before now;
  - the queue files the live reference left in queue-fixtures/files (with
    their T record moved to a chosen age, damaged ones included), less the
    two pointer loops the reference never leaves;
  - a configuration directory per side whose main.cf points
    queue_directory at the synthetic queue (for relative queue names and
    -c), plus broken ones.
Ages are whole minutes plus 15 seconds, so no message sits within 15
seconds of a bucket limit (limits are multiples of 30 seconds in every
case here), and the queues are made again whenever they are more than 3
seconds old: the buckets do not depend on the second the programs run.

Where the reference's order is its hash's (rows with the same total and
the same name length), rows are compared sorted. The path of each side's
program and configuration directory is normalised.

Usage: run_qshape.py --ours BUILD [--reference CACHE] [--case SUBSTRING]
                     [--show-diff] [--keep]
BUILD/bin holds our qshape and postconf. Prints
"qshape: N cases, N identical, N known differences" and
"N passed, N failed"; exit 0 only when nothing failed.
"""

import argparse
import difflib
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import pfinstance  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "queue-fixtures", "files")
# The reference loops forever on these (a pointer back to itself).
FIXTURES_SKIPPED = {"damaged-pointer-loop", "damaged-pointer-malformed"}
TIMEOUT = 60


# ---------------------------------------------------------------- records

def record(rtype, data=b""):
    if isinstance(data, str):
        data = data.encode("latin-1")
    out = bytearray(rtype.encode())
    n = len(data)
    while True:
        byte = n & 0x7f
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            break
    return bytes(out) + data


def queue_file(arrival, sender, rcpts=(), done=(), extracted=(), body=("hello",),
               first="C", size_record_ok=True, fullname=None):
    """A queue file as cleanup writes it (first="C"), or starting with S or F
    (maildrop style: the time is then the file's mtime), or with T (what
    postdrop writes)."""
    env = b""
    if first in ("C", "T"):
        env += record("T", f"{int(arrival)} 123456")
        env += record("A", f"create_time={int(arrival)}")
        env += record("A", "rewrite_context=local")
    if first == "F" or fullname is not None:
        env += record("F", fullname or "Someone")
    env += record("S", sender)
    for r in rcpts:
        env += record("A", f"dsn_orig_rcpt=rfc822;{r}")
        env += record("O", r)
        env += record("R", r)
    for d in done:
        env += record("O", d)
        env += record("D", d)
    env += record("M")
    content = b"".join(record("N", line) for line in ("Subject: test", "") + tuple(body))
    tail = record("X")
    for r in extracted:
        tail += record("O", r) + record("R", r)
    tail += record("E")
    if first != "C":
        return env + content + tail
    size_len = len(record("C", "%15d %15d %15d %15d %15d %15d" % (0, 0, 0, 0, 0, 0)))
    data_offset = size_len + len(env)
    csize = len(content) if size_record_ok else len(content) + 7
    size = record("C", "%15d %15d %15d %15d %15d %15d" % (csize, data_offset, len(rcpts), 0, csize, 0))
    return size + env + content + tail


def set_arrival(data, arrival):
    """Moves the T record of a fixture to a new time, same length."""
    pos = 0
    while pos < len(data):
        rtype = data[pos:pos + 1]
        length, shift, p = 0, 0, pos + 1
        while p < len(data):
            b = data[p]
            p += 1
            length |= (b & 0x7f) << shift
            if not b & 0x80:
                break
            shift += 7
        if rtype == b"T":
            old = data[p:p + length]
            secs = old.split(b" ")[0]
            new = str(int(arrival)).encode()
            if len(new) == len(secs):
                return data[:p] + new + old[len(secs):] + data[p + length:]
            return data
        if rtype in (b"C", b"A", b"F", b"S"):
            pos = p + length
            continue
        return data
    return data


# ---------------------------------------------------------------- queues

class QueueMaker:
    def __init__(self, root, now):
        self.root = root
        self.now = now
        self.serial = 0

    def name(self):
        self.serial += 1
        return "%05X%05X" % (0xA1B2C + self.serial, 0x3D4E5 + self.serial * 7)

    def put(self, queue, data, minutes=None, mode=0o700, name=None, hashed=False, mtime_minutes=None):
        name = name or self.name()
        folder = os.path.join(self.root, queue)
        if hashed:
            folder = os.path.join(folder, name[0])
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        if mtime_minutes is not None:
            t = self.now - mtime_minutes * 60 - 15
            os.utime(path, (t, t))
        return path

    def age(self, minutes):
        return self.now - minutes * 60 - 15


def make_synthetic(root, now):
    q = QueueMaker(root, now)
    for d in ("incoming", "active", "deferred", "hold", "maildrop", "corrupt", "empty"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    # Ages in minutes: spread over every bucket of the cases below.
    ages = [0, 1, 3, 4, 6, 8, 11, 14, 17, 23, 31, 44, 52, 70, 95, 130, 170, 250, 330, 500,
            700, 1000, 1400, 2000, 2900, 4400, 7000, 12000, 30000, 90000]
    domains = ["example.com", "example.com", "example.com", "example.net", "sub.example.com",
               "a.sub.example.com", "b.sub.example.com", "c.sub.example.com", "d.sub.example.com",
               "e.sub.example.com", "x.y.z.example.org", "mx.example.org", "EXAMPLE.COM",
               "very-long-subdomain-name.department.example.com", "dept.example.com"]
    for i, minutes in enumerate(ages):
        rcpts = [f"user{i}@{domains[(i + k) % len(domains)]}" for k in range(1 + i % 4)]
        sender = ["alice@example.com", "", "bob@Sender.Example.NET", "carol@mail.example.com",
                  "MAILER-DAEMON", "dave@x.y.z.example.org"][i % 6]
        queue = ["deferred", "deferred", "active", "incoming", "hold", "deferred"][i % 6]
        q.put(queue, queue_file(q.age(minutes), sender, rcpts), hashed=(queue == "deferred" and i % 2 == 0))
    # Done recipients do not count; a message with none left is not counted.
    q.put("deferred", queue_file(q.age(45), "x@example.com", ["left@example.com"],
                                 done=["gone@example.com", "gone2@example.net"]), hashed=True)
    q.put("deferred", queue_file(q.age(45), "x@example.com", [], done=["gone@example.com"]), hashed=True)
    # Recipients added after the content (extracted section).
    q.put("active", queue_file(q.age(2), "y@example.net", ["first@example.com"],
                               extracted=["late@later.example", "late2@later.example"]))
    # Odd addresses: no domain, trailing dots, doubled dots, several @.
    q.put("deferred", queue_file(q.age(60), "odd@example.com",
                                 ["postmaster", "user@host.example.", "a@b@c.example", "user@..dots..example",
                                  "user@", "@", "x@.lead.example", "UPPER@Mixed.Case.EXAMPLE"]))
    # Parent domains with exactly 2 and 3 subdomains, for -m.
    q.put("deferred", queue_file(q.age(3), "p@example.com",
                                 ["a@one.two.example", "b@three.two.example",
                                  "c@a.b.four.example", "d@c.b.four.example", "e@d.b.four.example"]))
    # Files the reference does not count: wrong mode, short name, bad
    # name, no E record, no recipient; the mode 0744 one counts.
    q.put("deferred", queue_file(q.age(7), "m@example.com", ["mode600@example.com"]), mode=0o600)
    q.put("deferred", queue_file(q.age(7), "m@example.com", ["mode755@example.com"]), mode=0o755)
    q.put("deferred", queue_file(q.age(7), "m@example.com", ["mode744@example.com"]), mode=0o744)
    q.put("deferred", queue_file(q.age(7), "m@example.com", ["short@example.com"]), name="A1B2C")
    q.put("deferred", queue_file(q.age(7), "m@example.com", ["dash@example.com"]), name="A1B2C-3D4E5")
    q.put("deferred", queue_file(q.age(7), "m@example.com", ["noend@example.com"])[:-2])
    q.put("deferred", queue_file(q.age(7), "m@example.com", []))
    q.put("deferred", queue_file(q.age(7), "m@example.com", ["badsize@example.com"], size_record_ok=False))
    # Maildrop-style files: S or F first (time from the mtime), T first
    # (what postdrop writes: undefined to the reference).
    q.put("maildrop", queue_file(0, "md1@example.com", ["r1@example.com"], first="S"), mtime_minutes=9)
    q.put("maildrop", queue_file(0, "md2@example.com", ["r2@example.net"], first="F"), mtime_minutes=33)
    q.put("maildrop", queue_file(q.age(3), "md3@example.com", ["r3@example.org"], first="T"))
    q.put("maildrop", b"", mtime_minutes=1)
    # A symbolic link and a subdirectory with a queue-ID name are skipped.
    os.symlink("/dev/null", os.path.join(root, "hold", "ABCDEF0123"))
    os.makedirs(os.path.join(root, "hold", "ABCDEF4567"), exist_ok=True)
    # A queue for the terminal cases (intermediate reports, top N).
    for i in range(12):
        for k in range(i + 1):
            # Names of distinct lengths: no ties the reference would
            # break by its hash order, even in intermediate reports.
            q.put("corrupt", queue_file(q.age(ages[(i * 3 + k) % len(ages)]),
                                        f"s{k}@{'s' * (k % 3 + 1)}.example",
                                        [f"u{k}@{'d' * (i + 1)}.example"]))
    return root


def make_fixture_queue(root, now):
    folder = os.path.join(root, "deferred", "F")
    os.makedirs(folder)
    ages = [2, 7, 13, 27, 55, 100, 200, 400, 900, 3000]
    for i, name in enumerate(sorted(os.listdir(FIXTURES))):
        if name.endswith(".txt") or name in FIXTURES_SKIPPED:
            continue
        with open(os.path.join(FIXTURES, name), "rb") as f:
            data = f.read()
        data = set_arrival(data, now - ages[i % len(ages)] * 60 - 15)
        path = os.path.join(folder, "F%09d" % i)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o700)
        if name.startswith("maildrop-"):
            t = now - 8 * 60 - 15
            os.utime(path, (t, t))
    return root


def make_queues(tmp):
    """(Re)makes both queues with ages counted from now; returns the
    synthetic one."""
    now = int(time.time())
    for name in ("queue", "fixtures"):
        shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)
    queue = make_synthetic(os.path.join(tmp, "queue"), now)
    make_fixture_queue(os.path.join(tmp, "fixtures"), now)
    return queue


# ---------------------------------------------------------------- cases

# (name, argv after the program, flags); {Q} the synthetic queue, {F} the
# fixture queue, {C} the side's configuration directory, {D} one whose
# queue_directory has a "$", {M} one whose queue_directory is missing.
CASES = [
    ("default-absolute", ["{Q}/incoming", "{Q}/active"]),
    ("deferred", ["{Q}/deferred"]),
    ("all-queues", ["{Q}/incoming", "{Q}/active", "{Q}/deferred", "{Q}/hold", "{Q}/maildrop"]),
    ("sender", ["-s", "{Q}/deferred", "{Q}/hold"]),
    ("sender-maildrop", ["-s", "{Q}/maildrop"]),
    ("maildrop", ["{Q}/maildrop"]),
    ("parents", ["-p", "{Q}/deferred", "{Q}/active"]),
    ("parents-m1", ["-p", "-m", "1", "{Q}/deferred", "{Q}/active", "{Q}/incoming"]),
    ("parents-m2-sender", ["-p", "-m2", "-s", "{Q}/deferred", "{Q}/active"]),
    ("parents-m3", ["-pm", "3", "{Q}/deferred"]),
    ("linear", ["-l", "{Q}/deferred", "{Q}/active"]),
    ("linear-b6", ["-l", "-b", "6", "{Q}/deferred"]),
    ("linear-t10-b15", ["-l", "-t", "10", "-b", "15", "{Q}/deferred", "{Q}/hold"]),
    ("tick-3", ["-t", "3", "{Q}/deferred"]),
    ("tick-2.5", ["-t", "2.5", "-b", "12", "{Q}/deferred", "{Q}/incoming"]),
    ("tick-1-b20", ["-t", "1", "-b", "20", "{Q}/deferred"]),
    ("tick-60", ["-t", "60", "{Q}/deferred"]),
    ("buckets-1", ["-b", "1", "{Q}/deferred"]),
    ("buckets-2", ["-b", "2", "{Q}/deferred"]),
    ("buckets-3.5", ["-b", "3.5", "{Q}/deferred"]),
    ("buckets-30", ["-b", "30", "{Q}/deferred"]),
    ("buckets-0", ["-b", "0", "{Q}/deferred"]),
    ("width-100", ["-w", "100", "{Q}/deferred"]),
    ("width-60", ["-w", "60", "{Q}/deferred"]),
    ("width-81", ["-w", "81", "-p", "-m", "1", "{Q}/deferred"]),
    ("width-200", ["-w", "200", "-b", "14", "{Q}/deferred"]),
    ("width-inf", ["-w", "inf", "{Q}/active"]),
    ("width-1e300", ["-w", "1e300", "{Q}/active"]),
    ("width-90.7", ["-w", "90.7", "-b", "12", "-p", "-m", "1", "{Q}/deferred"]),
    ("narrow-truncated", ["-b", "16", "-p", "-m", "1", "{Q}/deferred"]),
    ("bundled", ["-spl", "-b4", "-t7", "{Q}/deferred"]),
    ("double-dash", ["-s", "--", "{Q}/deferred"]),
    ("single-file", ["{Q}/deferred/dummy"]),
    ("empty-queue", ["{Q}/empty"]),
    ("missing-queue", ["{Q}/deferred", "{Q}/nonexistent", "{Q}/active/"]),
    ("config-default", ["-c", "{C}"]),
    ("config-relative", ["-c", "{C}", "deferred", "hold"]),
    ("config-mixed", ["-c", "{C}", "-s", "{Q}/active", "maildrop", "./incoming"]),
    ("config-missing-queue", ["-c", "{C}", "nonexistent"]),
    ("config-absent", ["-c", "{Q}/no-such-config"]),
    ("config-dollar", ["-c", "{D}"]),
    ("config-chdir-fails", ["-c", "{M}", "deferred"]),
    ("fixtures", ["{F}/deferred"]),
    ("fixtures-sender", ["-s", "{F}/deferred"]),
    ("fixtures-parents", ["-p", "-m", "1", "-s", "{F}/deferred"]),
    ("fixtures-linear", ["-l", "-t", "20", "{F}/deferred"]),
    ("usage-unknown", ["-x", "{Q}/deferred"]),
    ("usage-unknown-bundled", ["-sx", "{Q}/deferred"]),
    ("usage-h", ["-h"]),
    ("usage-h-late", ["-s", "-h", "{Q}/deferred"]),
    ("help", ["--help", "{Q}/incoming"]),
    ("version", ["--version", "{Q}/incoming"]),
    ("missing-value", ["{Q}/incoming", "-b"]),
    ("missing-value-last", ["-b"]),
    ("not-numeric", ["-w", "100x", "-b", "abc", "-t", " 4 ", "-m", "1_0", "-p", "{Q}/deferred"]),
    ("negative", ["-b", "-3", "-t", "-1", "-w", "-100", "{Q}/deferred"]),
    ("colon-flag", ["-:", "{Q}/incoming"]),
    ("no-postconf", ["-c", "{C}", "deferred"], "nopath"),
    ("no-postconf-absolute", ["{Q}/deferred"], "nopath"),
    ("huge-headings", ["-b", "70", "{Q}/incoming"]),
    ("huge-headings-float", ["-b", "70", "-t", "2.5", "{Q}/incoming"]),
    ("linear-fractional", ["-b", "30", "-t", "7.5", "-l", "{Q}/deferred"]),
    ("tiny-buckets", ["-b", "0.5", "{Q}/deferred"]),
    ("terminal", ["{Q}/corrupt"], "tty"),
    ("terminal-batches", ["-N", "7", "-n", "4", "{Q}/corrupt"], "tty"),
    ("terminal-no-batches", ["-N", "0", "-n", "3", "-s", "{Q}/corrupt"], "tty"),
    ("terminal-top-0", ["-N", "50", "-n", "0", "{Q}/corrupt"], "tty"),
    ("terminal-fractions", ["-N", "20.7", "-n", "2.5", "-p", "{Q}/corrupt"], "tty"),
    ("terminal-top-half", ["-N", "0", "-n", "0.5", "{Q}/corrupt"], "tty"),
    ("not-terminal-ignores-N", ["-N", "3", "-n", "2", "{Q}/corrupt"]),
    ("counts-wide", ["-b", "4", "{Q}/corrupt", "{Q}/deferred", "{Q}/active"]),
]


def normalise(text, side_paths):
    for path, label in side_paths:
        text = text.replace(path, label)
    return text


def untie(stdout):
    """Sorts runs of rows with equal total and equal name length: the
    reference leaves their order to Perl's hash."""
    lines = stdout.split("\n")
    out, run, key = [], [], None

    def row_key(line):
        m = re.match(r"^( *)(\S+)\s+(\d+)", line)
        if not m or not line.strip() or line.lstrip().startswith("T "):
            return None
        return (m.group(3), len(m.group(1)) + len(m.group(2)))

    for line in lines:
        k = row_key(line)
        if k is not None and k == key:
            run.append(line)
            continue
        out.extend(sorted(run))
        run, key = [line], k
    out.extend(sorted(run))
    return "\n".join(out)


def run_plain(argv, env, cwd):
    try:
        p = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", b"", b""


def run_tty(argv, env, cwd):
    master, slave = pty.openpty()
    import fcntl
    import termios
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=subprocess.PIPE, start_new_session=True)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 1)
        if not r:
            if p.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    try:
        err = p.stderr.read()
        rc = p.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        p.kill()
        return "timeout", b"".join(chunks), b""
    return rc, b"".join(chunks), err


def transcript(side, case, tmp):
    name, args = case[0], case[1]
    tty = len(case) > 2 and case[2] == "tty"
    subst = {"{Q}": os.path.join(tmp, "queue"), "{F}": os.path.join(tmp, "fixtures"),
             "{C}": side["config"], "{D}": side["config"] + "-dollar", "{M}": side["config"] + "-missing"}
    argv = [side["program"]]
    for a in args:
        for k, v in subst.items():
            a = a.replace(k, v)
        argv.append(a)
    if name == "single-file":
        argv[-1] = side["single_file"]
    env = {"PATH": side["bin"] + ":/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
           "TERM": "xterm", "MAIL_CONFIG": side["config"]}
    env.update(side["env"])
    if len(case) > 2 and case[2] == "nopath":
        env["PATH"] = "/nonexistent"
    cwd = tmp
    rc, out, err = (run_tty if tty else run_plain)(argv, env, cwd)
    paths = [(side["program"], "QSHAPE"), (side["config"], "CONFIG")]
    out = normalise(out.decode("latin-1"), paths)
    err = normalise(err.decode("latin-1"), paths)
    lines = sorted(err.splitlines())
    return f"argv: {' '.join(args)}\nexit {rc}\n--- stdout\n{untie(out)}\n--- stderr (sorted)\n" + \
        "\n".join(lines) + "\n"


def make_config(path, extra, queue_directory):
    os.makedirs(path)
    pfinstance.write_config(os.path.join(path, "main.cf"),
                            f"queue_directory = {queue_directory}\ncompatibility_level = 3.6\n" +
                            "".join(line + "\n" for line in extra))
    pfinstance.write_config(os.path.join(path, "master.cf"), "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True, help="our build directory (bin/qshape, bin/postconf)")
    ap.add_argument("--reference", default=pfinstance.DEFAULT_REFERENCE)
    ap.add_argument("--case", action="append")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--keep", action="store_true")
    opts = ap.parse_args()

    ref_bin = os.path.join(os.path.abspath(opts.reference), "usr", "sbin")
    ours_bin = os.path.join(os.path.abspath(opts.ours), "bin")
    for path in (os.path.join(ref_bin, "qshape"), os.path.join(ours_bin, "qshape")):
        if not os.access(path, os.X_OK):
            print(f"qshape: missing {path}", file=sys.stderr)
            return 1
    if shutil.which("perl") is None or subprocess.run(
            ["perl", "-MFile::Find", "-MGetopt::Std", "-e", "1"], capture_output=True).returncode != 0:
        print("qshape: no perl (Debian package perl) to run the reference's qshape: skipped", file=sys.stderr)
        return 77

    tmp = tempfile.mkdtemp(prefix="qshape-compat-")
    try:
        queue = make_queues(tmp)
        single_file = os.path.join(queue, "incoming", sorted(
            n for n in os.listdir(os.path.join(queue, "incoming")))[0])
        ref = pfinstance.reference_side(opts.reference)
        ours = pfinstance.ours_side(opts.ours)
        sides = []
        for label, side, bin_dir in (("reference", ref, ref_bin), ("ours", ours, ours_bin)):
            config = os.path.join(tmp, f"config-{label}")
            make_config(config, side.extra_main, queue)
            make_config(config + "-dollar", side.extra_main, "$data_directory/queue")
            make_config(config + "-missing", side.extra_main, os.path.join(tmp, "no-such-queue"))
            sides.append({"program": os.path.join(bin_dir, "qshape"), "bin": bin_dir, "config": config,
                          "env": side.env, "single_file": single_file})

        known = pfinstance.read_known("qshape")
        selected = [c for c in CASES if not opts.case or any(s in c[0] for s in opts.case)]
        identical, failed, known_seen = 0, [], 0
        made = time.monotonic()
        for case in selected:
            # Ages are counted from when the queues were made: make them
            # again once they are a few seconds old (the margin is 15).
            if time.monotonic() - made > 3:
                make_queues(tmp)
                made = time.monotonic()
            a = transcript(sides[0], case, tmp)
            b = transcript(sides[1], case, tmp)
            same = a == b
            if same:
                identical += 1
            if same == (case[0] in known):
                failed.append(case[0])
                what = "stale known difference" if same else "differs"
                print(f"FAIL qshape/{case[0]}: {what}")
                if not same and opts.show_diff:
                    sys.stdout.writelines(difflib.unified_diff(
                        a.splitlines(True), b.splitlines(True), "reference", "ours"))
            elif not same:
                known_seen += 1
        print(f"qshape: {len(selected)} cases, {identical} identical, {known_seen} known differences")
        print(f"{len(selected) - len(failed)} passed, {len(failed)} failed")
        return 1 if failed else 0
    finally:
        if opts.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""postsuper(1) while mail flows, on a running private instance of ours.

Phase "requeue": MESSAGES messages are submitted with sendmail by four
submitters while `postsuper -r ALL` runs again and again. Afterwards, once
the queue has drained, every message sendmail accepted must have been
delivered at least once (a requeue may deliver twice, never zero times),
with its body intact, and nothing may sit in the corrupt queue.

Phase "delete": the same with `postsuper -v -d ALL` running again and
again. A message may now be gone, but only if postsuper removed a file
for it: the number of accepted messages never delivered must not exceed
the number of message files postsuper reports removing ("removed file
maildrop|incoming|active|deferred|hold/..."). Every delivered message is
intact, every file left in the queue reads back with postcat, and nothing
is in corrupt/.

Usage: postsuper_concurrency.py --build BUILD [--postsuper PROGRAM]
                                [--messages N]
BUILD provides the daemons and commands of the instance (its bin/ and
libexec/); --postsuper the program under test (default BUILD/bin/postsuper).
Needs root: exit 77 without it.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "compat-suite", "lib"))
import pfinstance  # noqa: E402

MESSAGE_QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")
RECORDER = """#!/bin/sh
# One delivery: stdin to <dir>/<queue id>-<recipient>.
case "$2$3" in */*) exit 65 ;; esac
cat > "$1/$2-$3.tmp" && mv "$1/$2-$3.tmp" "$1/$2-$3"
"""


class Instance:
    def __init__(self, root, build):
        self.root = root
        self.build = build
        self.etc = os.path.join(root, "etc")
        self.spool = os.path.join(root, "spool")
        self.rec = os.path.join(root, "rec")
        self.log = os.path.join(root, "maillog")
        data = os.path.join(root, "data")
        for d in (self.etc, self.spool, self.rec, data):
            os.makedirs(d)
        os.chmod(root, 0o755)
        os.chmod(self.rec, 0o1777)
        shutil.chown(data, "postfix")
        recorder = os.path.join(root, "record")
        with open(recorder, "w") as f:
            f.write(RECORDER)
        os.chmod(recorder, 0o755)
        side = pfinstance.ours_side(build)
        self.side = side
        master = open(os.path.join(REPO, "master.cf.d", "master.cf")).read()
        master = re.sub(r"(?m)^smtp\s+inet\s.*$", "", master)
        master += ("record    unix  -       n       n       -       -       pipe\n"
                   f"  flags=R user=nobody argv={recorder} {self.rec} ${{queue_id}} ${{recipient}}\n")
        main = "\n".join([
            "compatibility_level = 3.6", f"queue_directory = {self.spool}", f"data_directory = {data}",
            f"daemon_directory = {side.daemon_dir}", f"command_directory = {side.command_dir}",
            *side.extra_main, "mail_owner = postfix", "setgid_group = postdrop",
            "inet_interfaces = loopback-only", "inet_protocols = ipv4", "myhostname = mail.example.com",
            "mydomain = example.com", "mydestination = $myhostname, localhost, example.com",
            f"maillog_file = {self.log}", "maillog_file_prefixes = /tmp", "local_transport = record",
            "default_transport = record", "relay_transport = record", "biff = no", "alias_maps =",
            "alias_database =", ""])
        pfinstance.write_config(os.path.join(self.etc, "master.cf"), master)
        pfinstance.write_config(os.path.join(self.etc, "main.cf"), main)

    def run(self, program, args, stdin=b"", timeout=60):
        return pfinstance.run_command(self.side, self.etc, program, args, stdin, timeout, cwd=self.root)

    def queue_files(self, *queues):
        out = []
        for q in queues:
            for base, _dirs, files in os.walk(os.path.join(self.spool, q)):
                out += [os.path.join(base, f) for f in files]
        return out

    def start(self):
        status, out, err = self.run("postfix", ["-c", self.etc, "start"])
        if status != 0:
            sys.exit(f"postfix start: {status} {out!r} {err!r}")
        if not pfinstance.wait_for(lambda: os.path.exists(os.path.join(self.spool, "public", "pickup")), 20):
            sys.exit("the instance did not come up")

    def stop(self):
        self.run("postfix", ["-c", self.etc, "stop"])
        pfinstance.wait_master_gone(self.spool)


def ready_files(paths):
    """The queue files that are complete (owner execute bit): a file that a
    writer abandoned after postsuper moved it away stays incomplete, as with
    the reference, until postsuper -p removes it."""
    out = []
    for p in paths:
        try:
            if os.lstat(p).st_mode & 0o100:
                out.append(p)
        except OSError:
            pass
    return out


def message(phase, index):
    body = "".join(f"line {n} of message {phase}-{index}\n" for n in range(40))
    digest = hashlib.sha256(body.encode()).hexdigest()
    text = (f"From: sender@example.com\nTo: user{index}@example.com\nSubject: {phase} {index}\n"
            f"Message-ID: <{phase}-{index}@postsuper.test>\nX-Digest: {digest}\n\n{body}")
    return text.encode()


def submit_all(inst, phase, count, accepted, lock):
    def worker(start):
        for i in range(start, count, 4):
            status, _out, err = inst.run("sendmail", ["-f", "sender@example.com", f"user{i}@example.com"],
                                         message(phase, i))
            if status == 0:
                with lock:
                    accepted.add(i)
            else:
                print(f"sendmail {phase}-{i}: {status} {err.decode(errors='replace').strip()}", file=sys.stderr)
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    return threads


def deliveries(inst, phase, bounces):
    """{index: [intact?, ...]} of every recorded delivery of phase; the
    names of notices to the sender go to bounces."""
    out = {}
    for name in os.listdir(inst.rec):
        if name.endswith(".tmp"):
            continue
        data = open(os.path.join(inst.rec, name), "rb").read()
        if data.startswith(b"Return-Path: <MAILER-DAEMON>"):
            # A notice, e.g. "no recipients specified" for a message that
            # was requeued after its last recipient was done (as with the
            # reference); it quotes the message, it is no delivery of it.
            bounces.append(name)
            continue
        m = re.search(rb"^Message-ID: <([a-z]+)-(\d+)@postsuper.test>$", data, re.M)
        if not m or m.group(1).decode() != phase:
            continue
        d = re.search(rb"^X-Digest: (\w+)$", data, re.M)
        body = data.split(b"\n\n", 1)[1] if b"\n\n" in data else b""
        intact = d is not None and hashlib.sha256(body).hexdigest().encode() == d.group(1)
        out.setdefault(int(m.group(2)), []).append(intact)
    return out


def run_phase(inst, postsuper, phase, args, count, interval=0.05):
    accepted, lock = set(), threading.Lock()
    removed = []
    runs = 0
    errors = []
    threads = submit_all(inst, phase, count, accepted, lock)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C"}
    def alive():
        return any(t.is_alive() for t in threads)
    extra = 3
    while alive() or extra > 0:
        if not alive():
            extra -= 1
        p = subprocess.run([postsuper, "-c", inst.etc, *args], capture_output=True, env=env, timeout=120)
        runs += 1
        text = p.stderr.decode(errors="replace")
        if p.returncode != 0 or "fatal" in text or "panic" in text:
            errors.append(f"postsuper {' '.join(args)}: exit {p.returncode}: {text[-500:]}")
        removed += re.findall(r"removed file ((?:%s)/\S+)" % "|".join(MESSAGE_QUEUES), text)
        time.sleep(interval)
    for t in threads:
        t.join()
    # Drain: mail that postsuper left alone is delivered.
    # Settled: the queue empty and the log quiet for a second, twice over.
    last = {"size": -1, "since": time.monotonic()}
    def settled():
        size = os.path.getsize(inst.log) if os.path.exists(inst.log) else 0
        if size != last["size"] or ready_files(inst.queue_files("maildrop", "incoming", "active", "deferred")):
            last["size"], last["since"] = size, time.monotonic()
            return False
        return time.monotonic() - last["since"] > 1.0
    pfinstance.wait_for(settled, 180, 0.2)
    pfinstance.wait_for(lambda: not any(n.endswith(".tmp") for n in os.listdir(inst.rec)), 30, 0.1)
    bounces = []
    got = deliveries(inst, phase, bounces)
    for name in bounces:
        os.rename(os.path.join(inst.rec, name), os.path.join(inst.rec, "..", f"notice-{phase}-{name}"))
    failures = list(errors)
    never = sorted(i for i in accepted if i not in got)
    corrupt_copies = sum(1 for copies in got.values() for ok in copies if not ok)
    twice = sum(1 for copies in got.values() if len(copies) > 1)
    left = inst.queue_files(*MESSAGE_QUEUES)
    incomplete = len(left) - len(ready_files(left))
    for path in left:
        status, _out, err = inst.run("postcat", ["-c", inst.etc, path])
        if status != 0:
            failures.append(f"{path}: postcat exit {status}: {err.decode(errors='replace')[-200:]}")
    corrupt = inst.queue_files("corrupt")
    if corrupt:
        failures.append(f"{len(corrupt)} files in corrupt/: {corrupt[:5]}")
    if corrupt_copies:
        failures.append(f"{corrupt_copies} deliveries with a damaged body")
    if phase == "requeue" and never:
        failures.append(f"{len(never)} accepted messages never delivered: {never[:10]}")
    if phase == "delete" and len(never) > len(set(removed)):
        failures.append(f"{len(never)} accepted messages never delivered, but only {len(set(removed))} "
                        f"message files removed")
    print(f"{phase}: {len(accepted)}/{count} accepted, {len(got)} delivered ({twice} twice), "
          f"{len(never)} never delivered, {runs} postsuper runs, {len(set(removed))} message files removed, "
          f"{len(left)} left in the queue ({incomplete} incomplete) {sorted(set(os.path.relpath(p, inst.spool).split('/')[0] for p in left))}, "
          f"{len(bounces)} notices to the sender")
    return failures


def print_log_summary(text):
    """What the maillog says, for a failure seen only in CI: how often each
    kind of line occurs, queue IDs and numbers taken out."""
    kinds = {}
    for line in text.splitlines():
        m = re.search(r" postfix/([\w/-]+)\[\d+\]: (.*)$", line)
        if not m:
            continue
        what = re.sub(r"\b[0-9A-F]{6,}\b|\d+", "N", m.group(2))
        what = re.sub(r"<[^>]*>", "<A>", what)
        key = f"{m.group(1)}: {what[:160]}"
        kinds[key] = kinds.get(key, 0) + 1
    print("maillog summary (count, program: line with numbers as N):")
    for key, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:60]:
        print(f"  {n:6d} {key}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--postsuper")
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--interval", type=float, default=0.05, help="seconds between postsuper runs")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("postsuper_concurrency: needs root; skipped", file=sys.stderr)
        return 77
    build = os.path.abspath(args.build)
    postsuper = os.path.abspath(args.postsuper or os.path.join(build, "bin", "postsuper"))
    root = tempfile.mkdtemp(prefix="postsuper-conc-", dir="/tmp")
    inst = Instance(root, build)
    failures = []
    log_text = ""
    try:
        inst.start()
        failures += run_phase(inst, postsuper, "requeue", ["-r", "ALL"], args.messages, args.interval)
        requeue_log = open(inst.log, errors="replace").read()
        failures += run_phase(inst, postsuper, "delete", ["-v", "-d", "ALL"], args.messages, args.interval)
        delete_log = open(inst.log, errors="replace").read()[len(requeue_log):]
        for line in requeue_log.splitlines():
            if re.search(r"(fatal|panic):", line):
                failures.append("maillog: " + line)
        # -d ALL also removes the temporary file postdrop is writing: its
        # submission fails (sendmail exits non-zero, nothing was accepted).
        for line in delete_log.splitlines():
            if re.search(r"(fatal|panic):", line) and not re.search(r"postfix/(sendmail|postdrop)\[", line):
                failures.append("maillog: " + line)
    finally:
        inst.stop()
        if os.path.exists(inst.log):
            log_text = open(inst.log, errors="replace").read()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    for f in failures:
        print("FAIL " + f)
    if failures:
        print_log_summary(log_text)
    print("postsuper_concurrency: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Builds the queue the queue-ops area compares on, by driving real mail
through the reference, and caches it in compat-suite/.cache/queue-ops.

A private reference instance (master as root, see pipeline/run_pipeline.py)
runs with delivery that cannot finish: pipe transports that exit 75 with
different texts (and one without text), a transport in defer_transports,
header_checks that HOLD, and a transport that delivers, so that some
recipients are done. Messages have varied senders (the null sender, quoted
and long local parts, UTF-8), from one to many recipients and sizes up to
about 100 kB. Then:
  1. the instance delivers what it can and defers or holds the rest;
  2. it restarts without qmgr and more mail stays in incoming/;
  3. with no instance running, sendmail leaves a few files in maildrop/;
  4. part of the deferred mail moves to active/ with its defer log, as a
     queue manager that stopped in the middle of a scan leaves it.
The spool (without sockets and pid files) is saved as a tar file with a
stamp naming the builder version; a later run with that stamp reuses it.

Waits are on conditions, each bounded. Trusts: its own inputs only.
"""

import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(COMPAT, "pipeline"))
import run_pipeline as rp  # noqa: E402

VERSION = 5
CACHE_DIR = os.path.join(COMPAT, ".cache", "queue-ops")
TAR_NAME = "queue.tar"
STAMP = ".built-%d" % VERSION

# Pipe transports that defer, with the text their command prints.
DEFER_TEXTS = {
    "tf1": "mailbox is locked, try again later",
    "tf2": "the remote side said: 451 4.7.1 greylisted for 300 seconds; please retry from the same "
           "address and do not change your sending host between attempts, thank you",
    "tf3": "",
    "tf4": "Zustellung verzögert: Überlastung",
}
DOMAINS = ["tf1.test", "tf2.test", "tf3.test", "tf4.test", "slow.test", "ok.test", "example.com"]


def main_cf():
    transports = ", ".join(f"{t}.test={t}:" for t in DEFER_TEXTS) + ", slow.test=slow:, ok.test=record:"
    return "\n".join([
        f"transport_maps = inline:{{ {transports} }}",
        "defer_transports = slow",
        "header_checks = regexp:{instance}/etc/header_checks",
        "smtputf8_enable = yes",
        "maximal_queue_lifetime = 30d",
        "bounce_queue_lifetime = 30d",
        "queue_run_delay = 3600s",
        "minimal_backoff_time = 3600s",
        "maximal_backoff_time = 7200s",
        "",
    ])


def master_cf():
    lines = []
    for t, text in DEFER_TEXTS.items():
        script = f"printf '%s' '{text}'; exit 75" if text else "exit 75"
        lines.append(f"{t}      unix  -       n       n       -       -       pipe\n"
                     f"  flags=R user=nobody argv=/bin/sh -c {{{script}}}\n")
    lines.append("slow      unix  -       n       n       -       -       pipe\n"
                 "  flags=R user=nobody argv=/bin/true\n")
    return "".join(lines)


def messages(rng):
    """(sender, recipients, body, hold) for every message, deterministic."""
    senders = ["alice@example.org", "", "bob.smith@sub.example.net", '"john doe"@example.org',
               "x" * 180 + "@long-sender.example.org", "jörg@exämple.org", "bounce+abc=def@lists.example.com",
               "MAILER-DAEMON@example.org", "user@[192.0.2.7]", "a.b.c.d.e@example.org"]
    out = []
    for i in range(330):
        sender = senders[i % len(senders)] if i % 7 else rng.choice(senders)
        n = rng.choice([1, 1, 1, 2, 2, 3, 5, 8, 20, 60]) if i % 50 else 120
        rcpts = []
        for k in range(n):
            dom = rng.choice(DOMAINS)
            local = rng.choice(["user%d" % k, "info", "very.long.recipient.name.%d.%s" % (k, "y" * rng.randint(0, 150)),
                                '"quoted user %d"' % k, "ü%d" % k, "list-%d+tag" % k])
            rcpts.append(f"{local}@{dom}")
        # Every message keeps at least one recipient that cannot be delivered.
        rcpts.append(f"keep{i}@{rng.choice(DOMAINS[:5])}")
        hold = i % 5 == 3
        size = rng.choice([50, 200, 1000, 5000, 20000, 100000]) if i % 3 else 100
        lines = []
        while len("".join(lines)) < size:
            lines.append("Line %d of message %d with some padding text to fill it.\n" % (len(lines), i))
        subject = ("HOLDME " if hold else "") + "message %d" % i
        body = f"From: {sender or 'nobody'}\nSubject: {subject}\n\n" + "".join(lines)
        out.append((sender, rcpts, body, hold))
    return out


def submit(inst, sender, rcpts, body):
    status, _out, err = inst.run("sendmail", ["-f", sender, "--", *rcpts], stdin=body.encode())
    if status != 0:
        raise SystemExit(f"build_queue: sendmail failed ({status}): {err.decode(errors='replace')}")


def count(inst, *queues):
    return len(inst.queue_files(*queues))


def wait_quiet(inst, timeout):
    """Until maildrop, incoming and active stay empty for a moment."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        if count(inst, "maildrop", "incoming", "active") == 0:
            if quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 1.0:
                return True
        else:
            quiet_since = None
        time.sleep(0.1)
    return False


def set_master_without(inst, services):
    path = os.path.join(inst.etc, "master.cf")
    text = open(path).read()
    for s in services:
        text = re.sub(rf"(?m)^({s}\s+\S+\s.*)$", r"#\1", text)
    inst._write("master.cf", text)


def build(cache, out_dir):
    rng = random.Random(20261128)
    msgs = messages(rng)
    side = rp.reference_side(cache)
    rp.make_setgid(side)
    root = tempfile.mkdtemp(prefix="queue-ops-build-")
    os.chmod(root, 0o755)
    try:
        cfg = {"main": main_cf(), "master": master_cf(),
               "files": {"header_checks": b"/^Subject: HOLDME/ HOLD\n"}}
        inst = rp.Instance(root, side, cache, cfg)
        inst.set_port(rp.free_port())
        status, _o, err = inst.start()
        if status != 0:
            raise SystemExit(f"build_queue: postfix start failed: {err.decode(errors='replace')}")
        # Phase 1: deferred and held mail.
        phase1 = msgs[:265]
        for sender, rcpts, body, _hold in phase1:
            submit(inst, sender, rcpts, body)
        if not wait_quiet(inst, 180):
            raise SystemExit("build_queue: the queue did not settle")
        inst.stop()
        # Phase 2: no qmgr, mail stays in incoming.
        set_master_without(inst, ["qmgr"])
        inst.start()
        for sender, rcpts, body, _hold in msgs[265:325]:
            submit(inst, sender, rcpts, body)
        rp.wait_for(lambda: count(inst, "maildrop") == 0 and count(inst, "incoming", "hold") >= 60 + 53, 60)
        inst.stop()
        # Phase 3: nothing runs, sendmail leaves files in maildrop.
        for sender, rcpts, body, _hold in msgs[325:328]:
            submit(inst, sender, rcpts, body)
        # Phase 4: a stopped queue manager's active queue.
        deferred = sorted(inst.queue_files("deferred"))
        for path in deferred[::6]:
            # active/ is not hashed (the default hash_queue_names).
            os.rename(path, os.path.join(inst.spool, "active", os.path.basename(path)))
        counts = {q: count(inst, q) for q in ("maildrop", "incoming", "active", "deferred", "hold")}
        os.makedirs(out_dir, exist_ok=True)
        tmp = os.path.join(out_dir, TAR_NAME + ".tmp")
        with tarfile.open(tmp, "w") as tar:
            for q in ("maildrop", "incoming", "active", "deferred", "hold", "defer", "bounce", "trace", "corrupt",
                      "saved", "flush", "public", "private", "pid"):
                path = os.path.join(inst.spool, q)
                if os.path.isdir(path):
                    tar.add(path, arcname=q, recursive=True,
                            filter=lambda ti: None if not (ti.isfile() or ti.isdir()) else ti)
        os.rename(tmp, os.path.join(out_dir, TAR_NAME))
        with open(os.path.join(out_dir, STAMP), "w") as f:
            f.write(" ".join(f"{q}={n}" for q, n in counts.items()) + "\n")
        return counts
    finally:
        try:
            inst.stop()
        except Exception:
            pass
        shutil.rmtree(root, ignore_errors=True)


def ensure(cache=rp.DEFAULT_REFERENCE, out_dir=CACHE_DIR):
    """The path of the cached queue tar file, built when missing."""
    if not os.path.exists(os.path.join(out_dir, STAMP)):
        for name in os.listdir(out_dir) if os.path.isdir(out_dir) else []:
            if name.startswith(".built-"):
                os.unlink(os.path.join(out_dir, name))
        counts = build(cache, out_dir)
        print("queue-ops: built the queue:", " ".join(f"{q}={n}" for q, n in counts.items()), flush=True)
    return os.path.join(out_dir, TAR_NAME)


if __name__ == "__main__":
    print(ensure())

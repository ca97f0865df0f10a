#!/usr/bin/env python3
"""Parallel deliveries into one mbox lose nothing and interleave nothing.

    tests/integration/mbox_concurrency.py BUILD_DIR [--messages 20] [--lock "fcntl, dotlock"]
                                          [--agent virtual|local] [--keep]

Starts a private instance of ours (BUILD_DIR/bin, BUILD_DIR/libexec; the
instance layout of compat-suite/delivery/run_delivery.py) whose delivery
agent serves one mbox for one recipient, with enough agent processes for
every message at once: virtual(8) with virtual_mailbox_lock (box@v1.test),
and local(8) with mailbox_delivery_lock (the spool mailbox of pfu1). Submits N messages (default 20) from N threads at the same
time while the agent's transport is in defer_transports (so that none is
delivered yet), then lifts that (postfix reload) and flushes the queue
(postqueue -f): the N deliveries start together. Each message has a token of its own on every body line (some body lines
start with "From ", so the mbox quoting is exercised), waits (bounded) until
the log shows N deliveries, and parses the mbox back: it must hold exactly N
messages, each one whole (its header block, then its body lines in order,
every line carrying its own token), no token twice, none missing, and no
lock file left behind. Runs once per agent and lock style given (default:
both agents, each with the stock "fcntl, dotlock", then "flock", then
"dotlock").

Exit 0 on success, 1 on a failure (with the reason), 77 when not root
(ctest: skipped). Trusts: its own messages; the mbox is parsed strictly.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "compat-suite", "delivery"))
import run_delivery as rd  # noqa: E402

BODY_LINES = 40
TIMEOUT = 120


class FakeCase:
    """The parts of a delivery case the Instance reads."""

    def __init__(self, main):
        self.name = "mbox-concurrency"
        self.dir = HERE
        self.main = main
        self.master = ""
        self.serial = False

    def _read(self, fname):
        return ""


def message(token):
    lines = [f"Subject: concurrency {token}", f"X-Token: {token}", ""]
    for i in range(BODY_LINES):
        if i % 10 == 3:
            lines.append(f"From the middle {token} {i:03d}")
        else:
            lines.append(f"line {token} {i:03d} " + "x" * (i % 50))
    return ("\n".join(lines) + "\n").encode()


AGENTS = {
    "virtual": {
        "rcpt": "box@v1.test",
        "mbox": "shared.mbox",
        "main": lambda lock, count: [
            "virtual_mailbox_domains = v1.test",
            "virtual_mailbox_base = @DIR@/mail",
            "virtual_mailbox_maps = inline:{box@v1.test=shared.mbox}",
            "virtual_uid_maps = static:@UID_pfu1@",
            "virtual_gid_maps = static:@GID_pfu1@",
            f"virtual_mailbox_lock = {lock}",
            f"virtual_destination_concurrency_limit = {count}",
            "virtual_destination_recipient_limit = 1",
        ],
    },
    "local": {
        "rcpt": "pfu1@mx.example.test",
        "mbox": "pfu1",
        "main": lambda lock, count: [
            "mail_spool_directory = @DIR@/mail",
            f"mailbox_delivery_lock = {lock}",
            f"local_destination_concurrency_limit = {count}",
            "local_destination_recipient_limit = 1",
        ],
    },
}


def parse_mbox(data, expected, rcpt="box@v1.test"):
    """Returns a list of problems (empty: all good)."""
    problems = []
    text = data.decode(errors="replace")
    if not text.startswith("From "):
        return ["the mbox does not start with a From_ line"]
    chunks = re.split(r"(?m)^(?=From \S+  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$)", text)
    chunks = [c for c in chunks if c]
    if len(chunks) != len(expected):
        problems.append(f"{len(chunks)} messages in the mbox, {len(expected)} sent")
    seen = set()
    for n, chunk in enumerate(chunks):
        if not chunk.endswith("\n\n"):
            problems.append(f"message {n}: no blank line at its end")
        head, sep, body = chunk.partition("\n\n")
        if not sep:
            problems.append(f"message {n}: no header/body separator")
            continue
        m = re.search(r"(?m)^X-Token: (\S+)$", head)
        if not m:
            problems.append(f"message {n}: no X-Token header")
            continue
        token = m.group(1)
        if token in seen:
            problems.append(f"token {token} delivered twice")
        seen.add(token)
        if not re.search(r"(?m)^Delivered-To: " + re.escape(rcpt) + "$", head):
            problems.append(f"message {n}: no Delivered-To header")
        lines = body.rstrip("\n").split("\n")
        want = message(token).decode().split("\n\n", 1)[1].rstrip("\n").split("\n")
        want = [(">" + ln) if ln.startswith("From ") else ln for ln in want]
        if lines != want:
            problems.append(f"message {n} ({token}): body differs from what was sent "
                            f"({len(lines)} lines, {len(want)} expected)")
    missing = set(expected) - seen
    if missing:
        problems.append(f"missing: {sorted(missing)}")
    return problems


def run_once(build, cache, agent, lock, count, keep):
    root = tempfile.mkdtemp(prefix="pf-mbox-concurrency-")
    os.chmod(root, 0o755)
    spec = AGENTS[agent]
    rcpt = spec["rcpt"]
    main = "\n".join(spec["main"](lock, count) + [
        f"initial_destination_concurrency = {count}",
        f"default_process_limit = {count + 10}",
        "deliver_lock_attempts = 100",
        "",
    ])
    held = main + f"defer_transports = {agent}\n"
    side = rd.ours_side(build)
    inst = rd.Instance(root, side, cache, FakeCase(held))
    rd.make_setgid(side)
    status, out, err = inst.start()
    problems = []
    try:
        if status != 0 or not rd.wait_for(lambda: os.path.exists(os.path.join(inst.spool, "public", "pickup")), 15):
            return [f"instance did not start: {status} {out!r} {err!r}"]
        tokens = [f"T{n:03d}q{os.getpid()}" for n in range(count)]
        barrier = threading.Barrier(count)
        results = {}

        def submit(token):
            barrier.wait()
            results[token] = inst.run("sendmail", ["-f", "sender@sink.test", "--", rcpt], message(token))

        threads = [threading.Thread(target=submit, args=(t,)) for t in tokens]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for token, (st, so, se) in results.items():
            if st != 0:
                problems.append(f"sendmail for {token}: exit {st} {so!r} {se!r}")
        # Held: every message deferred by qmgr, none delivered yet.
        held_line = re.compile(rb"\S+: to=<" + re.escape(rcpt.encode()) + rb">.*status=deferred")
        if not rd.wait_for(lambda: len(held_line.findall(inst.log_text())) >= count, TIMEOUT, step=0.1):
            problems.append(f"{len(held_line.findall(inst.log_text()))} messages held, {count} expected")
        released = open(os.path.join(inst.etc, "main.cf")).read().replace(f"defer_transports = {agent}\n", "")
        rd.Instance._write(os.path.join(inst.etc, "main.cf"), released)
        for cmd, args in (("postfix", ["-c", inst.etc, "reload"]), ("postqueue", ["-c", inst.etc, "-f"])):
            st, so, se = inst.run(cmd, args)
            if st != 0:
                problems.append(f"{cmd} {' '.join(args)}: exit {st} {so!r} {se!r}")
        sent = re.compile(rb"postfix/" + agent.encode() + rb"\[\d+\]: \S+: to=<" + re.escape(rcpt.encode())
                          + rb">.*status=sent")
        rd.wait_for(lambda: len(sent.findall(inst.log_text())) >= count, TIMEOUT, step=0.1)
        rd.wait_for(lambda: not inst.queue_files("maildrop", "incoming", "active"), 20, step=0.1)
        log = inst.log_text()
        got = len(sent.findall(log))
        if got != count:
            problems.append(f"{got} deliveries logged, {count} expected")
            problems += [ln.decode(errors="replace") for ln in log.split(b"\n") if agent.encode() + b"[" in ln][:20]
        path = os.path.join(inst.dir, "mail", spec["mbox"])
        try:
            data = open(path, "rb").read()
        except OSError as e:
            return problems + [f"no mbox: {e}"]
        problems += parse_mbox(data, tokens, rcpt)
        if os.path.exists(path + ".lock"):
            problems.append("a dot-lock file was left behind")
        parallel = len(set(re.findall(rb"postfix/" + agent.encode() + rb"\[(\d+)\]", log)))
        print(f"mbox_concurrency: {agent}, lock \"{lock}\": {count} messages, {got} delivered by {parallel} "
              f"{agent} processes, {len(data)} bytes")
    finally:
        inst.stop()
        if keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--reference", default=rd.DEFAULT_REFERENCE,
                    help="the reference cache (only its stock master.cf is used)")
    ap.add_argument("--messages", type=int, default=20)
    ap.add_argument("--lock", action="append")
    ap.add_argument("--agent", action="append", choices=sorted(AGENTS))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("mbox_concurrency: needs root (master runs as root)", file=sys.stderr)
        return 77
    if not os.path.exists(os.path.join(args.reference, "usr/share/postfix/master.cf.dist")):
        print("mbox_concurrency: no reference cache for the stock master.cf", file=sys.stderr)
        return 77
    rd.ensure_users()
    failed = False
    for agent in args.agent or ["virtual", "local"]:
        for lock in args.lock or ["fcntl, dotlock", "flock", "dotlock"]:
            problems = run_once(os.path.abspath(args.build), args.reference, agent, lock, args.messages, args.keep)
            for p in problems:
                print(f"FAIL mbox_concurrency ({agent}, {lock}): {p}")
            failed |= bool(problems)
    print("mbox_concurrency: " + ("FAILED" if failed else "all messages whole and in one piece"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Crash test of the mail pipeline: kill -9 everything, restart, lose nothing.

Each round starts a private instance (compat-suite/pipeline/run_pipeline.py's
Instance: master as root, its own queue, maillog_file), whose every
transport is a tiny recording pipe command that appends the message's
X-Crash-Id header to a file. N messages, each with a unique X-Crash-Id, are
submitted by the side's sendmail from several parallel workers. At a moment
drawn from the round's seed (after K messages were accepted, plus 0-200
ms), master and every daemon get SIGKILL at once (their process group, the
session master leads, then any straggler whose parent was killed), and
`postfix start` restarts the system; --kills repeats that at several
moments of one round. Once every sendmail has returned and
the queue has drained, the round checks that:
  - every message sendmail accepted (exit 0) was delivered at least once
    (duplicates are allowed: a crash between delivery and the queue update
    repeats a delivery, never loses one);
  - nothing is left in active/, and no complete queue file is left in
    maildrop/, incoming/ or deferred/;
  - every file left in incoming/, active/, deferred/ or hold/ is a queue
    file postcat(1) reads (exit 0, nothing on stderr); incomplete files
    (without the owner-execute "ready" bit, from a cleanup killed while
    writing) are counted and reported, as the reference also leaves them
    for postsuper -p.

Usage: crash.py --build <dir> [--rounds 3] [--messages 200] [--seed S] [--kills 1]
The issue's full figure is --rounds 20 --messages 1000. --reference runs
the same rounds on the reference (to calibrate). Needs root (exit 77
otherwise). Prints each round's seed and kill moment, then
"crash: R rounds, M messages accepted, M delivered, D duplicates, L lost".

Trusts: its own instance; the programs under test are only observed.
"""

import argparse
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "compat-suite", "pipeline"))
import run_pipeline as rp  # noqa: E402

RECORDER = """#!/bin/sh
# Records one delivery's X-Crash-Id (written by tests/crash/crash.py).
id=$(sed -n 's/^X-Crash-Id: //p')
echo "$id" >> {rec}/ids
"""

MAIN_CF = """\
local_transport = crashrec
default_transport = crashrec
relay_transport = crashrec
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""

MASTER_CF = """\
crashrec  unix  -       n       n       -       -       pipe
  user=nobody argv={instance}/crashrec
"""

SUBMIT_TIMEOUT = 120      # seconds for one sendmail
DRAIN_BASE = 120          # seconds for the queue to drain, plus DRAIN_PER_MESSAGE each
DRAIN_PER_MESSAGE = 0.2


def message(round_no, n):
    cid = f"r{round_no}-m{n}"
    body = "".join(f"line {i} of message {cid}\n" for i in range(n % 40))
    data = (f"From: crash@example.com\nTo: bob@example.com\nSubject: crash {cid}\n"
            f"X-Crash-Id: {cid}\n\n{body}")
    return cid, data.encode()


def process_table():
    """{pid: (ppid, pgid, exe)} of every process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            exe = os.readlink(f"/proc/{name}/exe")
        except OSError:
            continue
        table[int(name)] = (int(fields[1]), int(fields[2]), exe)
    return table


def kill_instance(inst, daemon_dir):
    """SIGKILL to master's process group and to every descendant of master
    still alive; returns how many processes were killed."""
    try:
        master = int(open(os.path.join(inst.spool, "pid", "master.pid")).read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    before = process_table()
    group = {pid for pid, (_pp, pgid, _e) in before.items() if pgid == master}
    # Descendants of master (a daemon that left master's group).
    family = {master}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _g, _e) in before.items():
            if ppid in family and pid not in family:
                family.add(pid)
                changed = True
    try:
        os.killpg(master, signal.SIGKILL)
    except OSError:
        pass
    killed = group | family
    for pid in family - group:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    # Daemons of this instance only ever run from daemon_dir with master as
    # parent; anything so left over (e.g. forked in the instant between the
    # table and the kill) is caught by a second pass on the same criteria.
    after = process_table()
    for pid, (ppid, pgid, exe) in after.items():
        if pid in killed:
            continue
        if pgid == master or ppid in killed and exe.startswith(daemon_dir):
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError:
                pass
    # Wait until master is dead (a zombie until its parent reaps it): its
    # locks are released then.
    rp.wait_for(lambda: all(not alive(pid) for pid in killed), 10, step=0.005)
    return len(killed)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def structure_check(inst, cache):
    """The reference's `postsuper -s` on the stopped instance's queue: exit 0,
    nothing on stderr, and nothing renamed, moved or warned about in the log."""
    ref = rp.reference_side(cache)
    etc = os.path.join(inst.dir, "etc-ref")
    os.makedirs(etc, exist_ok=True)
    own = dict(line.split(" = ", 1) for line in ref.extra_main)
    own["daemon_directory"], own["command_directory"] = ref.daemon_dir, ref.command_dir
    lines = [line for line in open(os.path.join(inst.etc, "main.cf")).read().split("\n")
             if not re.match(r"^(\w+)\s*=", line) or re.match(r"^(\w+)", line).group(1) not in own]
    lines += [f"{k} = {v}" for k, v in own.items()]
    for name, text in (("main.cf", "\n".join(lines) + "\n"),
                       ("master.cf", open(os.path.join(inst.etc, "master.cf")).read())):
        with open(os.path.join(etc, name), "w") as f:
            f.write(text)
        os.utime(os.path.join(etc, name), (rp.OLD_MTIME, rp.OLD_MTIME))
    before = len(inst.log_text())
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", **ref.env}
    p = subprocess.run([os.path.join(ref.command_dir, "postsuper"), "-c", etc, "-s"], capture_output=True,
                       env=env, timeout=60)
    found = []
    if p.returncode != 0 or p.stderr:
        found.append(f"reference postsuper -s: exit {p.returncode}: {p.stderr.decode(errors='replace').strip()}")
    for line in inst.log_text()[before:].decode(errors="replace").splitlines():
        if "postsuper" in line:
            found.append(f"reference postsuper -s: {line}")
    return found


def is_ready(path):
    try:
        return bool(os.stat(path).st_mode & stat.S_IXUSR)
    except OSError:
        return False


def run_round(round_no, seed, side, cache, args, root):
    rng = random.Random(seed)
    n = args.messages
    moments = sorted((rng.randint(0, n), rng.uniform(0, 0.2)) for _ in range(args.kills))
    print(f"round {round_no}: seed {seed}, kill after "
          + ", ".join(f"{k} accepted + {d * 1000:.0f} ms" for k, d in moments), flush=True)
    cfg = {"main": MAIN_CF, "master": MASTER_CF, "files": {}}
    inst = rp.Instance(root, side, cache, cfg)
    inst.set_port(rp.free_port())
    recorder = os.path.join(inst.dir, "crashrec")
    with open(recorder, "w") as f:
        f.write(RECORDER.format(rec=inst.rec))
    os.chmod(recorder, 0o755)
    problems = []
    status, out, err = inst.start()
    if status != 0:
        return {"problems": [f"postfix start: exit {status}: {(out + err).decode(errors='replace')}"],
                "accepted": 0, "delivered": 0, "duplicates": 0, "lost": 0, "dir": inst.dir}

    lock = threading.Lock()
    accepted = set()
    refused = {}
    queue = list(range(n))

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                i = queue.pop(0)
            cid, data = message(round_no, i)
            st, o, e = inst.run("sendmail", ["-f", "crash@example.com", "bob@example.com"], data,
                                timeout=SUBMIT_TIMEOUT)
            with lock:
                if st == 0:
                    accepted.add(cid)
                else:
                    refused[cid] = (st, (o + e).decode(errors="replace").strip())

    workers = [threading.Thread(target=worker) for _ in range(args.parallel)]
    for t in workers:
        t.start()
    started = time.monotonic()
    count, at_kill = 0, []
    for kill_after, kill_delay in moments:
        rp.wait_for(lambda: len(accepted) >= kill_after or not any(t.is_alive() for t in workers),
                    SUBMIT_TIMEOUT * 2)
        time.sleep(kill_delay)  # the drawn moment itself, not a synchronisation
        with lock:
            at_kill.append(len(accepted))
        count += kill_instance(inst, side.daemon_dir)
        status, out, err = inst.start()
        if status != 0:
            problems.append(f"restart: postfix start: exit {status}: "
                            f"{(out + err).decode(errors='replace').strip()}")
    for t in workers:
        t.join()
    submitted_in = time.monotonic() - started

    ids_file = os.path.join(inst.rec, "ids")

    def delivered_ids():
        try:
            with open(ids_file) as f:
                return [line.strip() for line in f if line.strip()]
        except OSError:
            return []

    def complete_files():
        files = inst.queue_files("maildrop", "active")
        files += [p for p in inst.queue_files("incoming", "deferred") if is_ready(p)]
        return files

    def drained():
        return not complete_files() and accepted <= set(delivered_ids())

    deadline = DRAIN_BASE + DRAIN_PER_MESSAGE * n
    ok = rp.wait_for(drained, deadline / 2, step=0.1)
    if not ok:
        # Not drained on its own yet: ask as postqueue -f would, then wait on.
        problems.append(f"not drained after {deadline / 2:.0f} s: flushed")
        inst.run("postkick", ["-c", inst.etc, "public", "qmgr", "FADI"])
        inst.run("postkick", ["-c", inst.etc, "public", "pickup", "W"])
        ok = rp.wait_for(drained, deadline / 2, step=0.1)
    # Let deliveries in progress finish (nothing left active), bounded.
    rp.wait_for(lambda: not inst.queue_files("active"), 10, step=0.1)
    drained_in = time.monotonic() - started
    ids = delivered_ids()
    got = set(ids)
    lost = sorted(accepted - got)
    duplicates = len(ids) - len(got)
    if lost:
        problems.append(f"LOST {len(lost)} accepted messages: {' '.join(lost[:20])}"
                        + (" ..." if len(lost) > 20 else ""))
    unknown = got - accepted - set(refused)
    if unknown:
        problems.append(f"delivered {len(unknown)} ids never submitted: {sorted(unknown)[:5]}")
    # Queue consistency.
    incomplete = []
    for q in ("maildrop", "incoming", "active", "deferred", "hold"):
        for path in sorted(inst.queue_files(q)):
            rel = os.path.relpath(path, inst.spool)
            if q == "active":
                problems.append(f"left in active: {rel}")
            if q == "maildrop":
                problems.append(f"left in maildrop: {rel}")
                continue
            if not is_ready(path) and q in ("incoming",):
                incomplete.append(rel)
                continue
            st, o, e = inst.run("postcat", ["-c", inst.etc, path])
            if st != 0 or e:
                problems.append(f"postcat {rel}: exit {st}: {e.decode(errors='replace').strip()[:200]}")
            elif q in ("incoming", "deferred"):
                problems.append(f"complete file left in {rel}")
    if refused:
        sample = next(iter(refused.items()))
        problems.append(f"note: sendmail refused {len(refused)} (e.g. {sample[0]}: exit {sample[1][0]}: "
                        f"{sample[1][1][:160]})")
    inst.stop()
    # Stragglers after the stop (a master that ignored it) end here.
    kill_instance(inst, side.daemon_dir)
    # The reference's own structure check on the queue left behind.
    if args.reference_cache:
        problems += structure_check(inst, args.reference_cache)
    print(f"  killed {count} processes at {'/'.join(map(str, at_kill))} accepted; accepted {len(accepted)}, refused {len(refused)}, "
          f"delivered {len(got)} ({duplicates} duplicates), lost {len(lost)}, incomplete files left "
          f"{len(incomplete)}; submitted in {submitted_in:.1f} s, drained in {drained_in:.1f} s", flush=True)
    for p in problems:
        print(f"  {p}", flush=True)
    return {"problems": [p for p in problems if not p.startswith("note:")],
            "accepted": len(accepted), "delivered": len(got & accepted), "duplicates": duplicates,
            "lost": len(lost), "dir": inst.dir, "log": inst.log}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", help="our build directory (bin/ and libexec/)")
    ap.add_argument("--reference", nargs="?", const=rp.DEFAULT_REFERENCE,
                    help="run the reference (unpacked at this path) instead of ours")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--kills", type=int, default=1, help="kill -9 and restart this many times per round")
    ap.add_argument("--parallel", type=int, default=8, help="concurrent sendmail processes")
    ap.add_argument("--seed", type=int, help="the first round's seed (default: from the clock)")
    ap.add_argument("--keep", action="store_true", help="keep the instance directories")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("crash: needs root (master runs as root)", file=sys.stderr)
        return 77
    root = tempfile.mkdtemp(prefix="pf-crash-")
    os.chmod(root, 0o755)
    # Instance takes master.cf from <cache>/usr/share/postfix/master.cf.dist:
    # ours is the same file (master.cf.d/master.cf).
    cache = os.path.join(root, "cache")
    os.makedirs(os.path.join(cache, "usr/share/postfix"))
    shutil.copy(os.path.join(REPO, "master.cf.d", "master.cf"),
                os.path.join(cache, "usr/share/postfix/master.cf.dist"))
    if args.reference:
        side = rp.reference_side(os.path.abspath(args.reference))
    else:
        if not args.build:
            ap.error("--build is required (or --reference)")
        side = rp.ours_side(os.path.abspath(args.build))
    rp.make_setgid(side)
    reference = os.path.abspath(args.reference or rp.DEFAULT_REFERENCE)
    args.reference_cache = reference if os.path.exists(os.path.join(reference, "usr/sbin/postsuper")) else None
    seed = args.seed if args.seed is not None else int(time.time()) % 1000000
    print(f"crash: {side.label}, {args.rounds} rounds x {args.messages} messages, {args.parallel} parallel "
          f"submitters, seed {seed}", flush=True)
    totals = {"accepted": 0, "delivered": 0, "duplicates": 0, "lost": 0}
    failed_rounds = 0
    for r in range(args.rounds):
        folder = os.path.join(root, f"round{r}")
        os.makedirs(folder)
        os.chmod(folder, 0o755)
        result = run_round(r, seed + r, side, cache, args, folder)
        for k in totals:
            totals[k] += result[k]
        if result["problems"]:
            failed_rounds += 1
        elif not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"crash: {args.rounds} rounds, {totals['accepted']} messages accepted, {totals['delivered']} delivered, "
          f"{totals['duplicates']} duplicates, {totals['lost']} lost; {failed_rounds} rounds with problems")
    if failed_rounds or args.keep:
        print(f"kept {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed_rounds else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""master with a maillog_file outside maillog_file_prefixes, side by side
with the reference: every program that logs stops on it with a fatal error
(ipc/maillog_client.h), master included, at start-up and at a reload.

Before, our master and postlogd hung, both blocked sending to a postlog
socket that no postlogd read; every step here is bounded, so a hang shows
as "timeout" and fails.

  A. `master -w` with such a maillog_file: its exit status, its stderr,
     whether a process of the instance is left, how long it took (at most
     a few seconds: the reference sleeps a second after a fatal error).
  B. master started with a good maillog_file (under /tmp), then main.cf
     changed to a bad one and master sent SIGHUP: whether master exits and
     leaves no process behind. The lines logged from the reload on are
     shown, not compared: the reference's postlogd leaves at a reload and
     master, dying, starts no other, so its fatal line is lost; ours
     reaches the old file.

Usage: maillog_prefix.py --ours <build dir> [--reference CACHE]; needs root
(exit 77 otherwise). Exit 0 when both sides agree on everything.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "compat-suite", "lib"))
import pfinstance  # noqa: E402
from pfinstance import wait_for  # noqa: E402

BAD_FILE = "/nonexistent-pf-dir/maillog"
MASTER_CF = (
    "rewrite   unix  -       -       y       -       -       trivial-rewrite\n"
    "postlog   unix-dgram n  -       n       -       1       postlogd\n"
)


def make_instance(side, root, maillog_file):
    """<root>/{etc,spool,data} for one side; returns (etc, spool)."""
    etc, spool, data = (os.path.join(root, d) for d in ("etc", "spool", "data"))
    for d in (etc, spool, data):
        os.makedirs(d)
    os.chmod(root, 0o755)
    shutil.chown(data, "postfix")
    for d, owner, group, mode in (("pid", "root", "root", 0o755), ("private", "postfix", "root", 0o700),
                                  ("public", "postfix", "postdrop", 0o710)):
        path = os.path.join(spool, d)
        os.mkdir(path)
        shutil.chown(path, owner, group)
        os.chmod(path, mode)
    write_main(side, root, maillog_file)
    pfinstance.write_config(os.path.join(etc, "master.cf"), MASTER_CF)
    return etc, spool


def write_main(side, root, maillog_file):
    lines = [
        "compatibility_level = 3.6",
        f"queue_directory = {root}/spool",
        f"data_directory = {root}/data",
        f"daemon_directory = {side.daemon_dir}",
        f"command_directory = {side.command_dir}",
        "mail_owner = postfix",
        "setgid_group = postdrop",
        "inet_interfaces = loopback-only",
        "inet_protocols = ipv4",
        "myhostname = mail.example.com",
        f"maillog_file = {maillog_file}",
        "maillog_file_prefixes = /tmp",
        *side.extra_main,
    ]
    pfinstance.write_config(os.path.join(root, "etc", "main.cf"), "\n".join(lines) + "\n")


def instance_processes(root):
    """Pids of processes whose working directory is inside root (master and
    its daemons work in the queue directory)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + "/"):
            pids.append(int(entry))
    return pids


def master_env(side, etc):
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
            "MAIL_CONFIG": etc, **side.env}


def kill_left(root):
    for pid in instance_processes(root):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def scenario_start(side, root):
    return scenario_start_compared(side, root), []


def scenario_start_compared(side, root):
    etc, _ = make_instance(side, root, BAD_FILE)
    started = time.monotonic()
    try:
        p = subprocess.run([os.path.join(side.daemon_dir, "master"), "-w"], env=master_env(side, etc),
                           capture_output=True, timeout=30, cwd=root)
        status = f"exit {p.returncode}"
        stderr = p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        status, stderr = "timeout (30 s)", ""
    took = time.monotonic() - started
    left = wait_for(lambda: not instance_processes(root), 10)
    kill_left(root)
    return [status, "stderr: " + stderr.replace(side.daemon_dir, "{daemon_directory}").strip(),
            "processes left: " + ("none" if left else "some"),
            "took: " + ("under 10 s" if took < 10 else "10 s or more"),
            "maillog files: " + ("none" if not os.path.exists(BAD_FILE) else BAD_FILE)]


LINE = re.compile(r"^\w{3} [ 0-9]\d \d\d:\d\d:\d\d \S+ (\S+?)\[\d+\]: (.*)$")


def scenario_reload(side, root):
    log = os.path.join(root, "maillog")
    etc, spool = make_instance(side, root, log)
    out = []
    try:
        p = subprocess.run([os.path.join(side.daemon_dir, "master"), "-w"], env=master_env(side, etc),
                           capture_output=True, timeout=30, cwd=root)
    except subprocess.TimeoutExpired:
        kill_left(root)
        return ["master -w: timeout"], []
    out.append(f"master -w: exit {p.returncode}")

    def log_text():
        try:
            with open(log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""
    out.append("started: %s" % wait_for(lambda: "daemon started" in log_text(), 10))
    try:
        with open(os.path.join(spool, "pid", "master.pid")) as f:
            pid = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        kill_left(root)
        return out + ["no master.pid"], []
    write_main(side, root, BAD_FILE)
    os.kill(pid, signal.SIGHUP)

    def gone():
        try:
            os.kill(pid, 0)
            return False
        except OSError:
            return True
    out.append("master exits: %s" % wait_for(gone, 20))
    out.append("processes left: %s" % ("none" if wait_for(lambda: not instance_processes(root), 10) else "some"))
    kill_left(root)
    text = log_text()
    start = text.find("reload -- ")
    start = text.rfind("\n", 0, start) + 1 if start >= 0 else len(text)
    shown = []
    for line in text[start:].splitlines():
        m = LINE.match(line)
        line = f"{m.group(1)}: {m.group(2)}" if m else line
        shown.append(line.replace(side.daemon_dir, "{daemon_directory}").replace(root, "{instance}"))
    return out, shown


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True, help="our build directory (bin/, libexec/)")
    ap.add_argument("--reference", default=pfinstance.DEFAULT_REFERENCE)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("maillog_prefix: needs root (master runs as root)", file=sys.stderr)
        return 77
    sides = [pfinstance.reference_side(os.path.abspath(args.reference)),
             pfinstance.ours_side(os.path.abspath(args.ours))]
    base = tempfile.mkdtemp(prefix="pf-maillog-prefix-", dir="/tmp")
    os.chmod(base, 0o755)
    results = {}
    try:
        for name, scenario in (("start", scenario_start), ("reload", scenario_reload)):
            for side in sides:
                results[(name, side.label)] = scenario(side, os.path.join(base, name, side.label))
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    failed = 0
    for name in ("start", "reload"):
        (ref, ref_log), (ours, ours_log) = results[(name, "reference")], results[(name, "ours")]
        same = ref == ours
        failed += not same
        print(f"{'ok  ' if same else 'FAIL'} {name}")
        for line in (ref if same else ["reference:", *ref, "ours:", *ours]):
            print("    " + line)
        for label, log in (("reference", ref_log), ("ours", ours_log)):
            for line in log:
                print(f"    (not compared) {label} log: {line}")
    print(f"maillog-prefix: 2 cases, {2 - failed} identical")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
